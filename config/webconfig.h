/*
 * webconfig.h - the Prometheus exporter-toolkit web configuration file
 * (--web.config.file): TLS, client certificates, basic auth, headers.
 *
 *   tls_server_config:
 *     cert_file, key_file            PEM files (required together)
 *     cert, key                      the same as inline PEM text (instead of
 *                                    the *_file key, not beside it)
 *     client_auth_type               NoClientCert (default), RequestClientCert,
 *                                    RequireAnyClientCert, VerifyClientCertIfGiven,
 *                                    RequireAndVerifyClientCert
 *     client_ca_file, client_ca      PEM bundle (required by the Verify* modes)
 *     min_version, max_version       TLS12 (default min), TLS13
 *     cipher_suites, curve_preferences: [name], prefer_server_cipher_suites: bool
 *                                    accepted and ignored (listed in ignored[])
 *     client_allowed_sans            refused (not supported)
 *   basic_auth_users: {user: bcrypt hash}
 *   http_server_config: {headers: {Name: value}, http2: bool (true is ignored)}
 *   rate_limit: {interval: duration, burst: int}   accepted and ignored
 *
 * An empty or comment-only file is a valid config: no TLS, no auth.
 * Relative file names are relative to the web config file's directory,
 * as in exporter-toolkit.  The certificate files are read at load time so
 * a reload or --config.check sees exactly what the server will use.
 */
#ifndef CONFIG_WEBCONFIG_H
#define CONFIG_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define WEBCONFIG_MAX_USERS 64
#define WEBCONFIG_MAX_HEADERS 16
#define WEBCONFIG_MAX_IGNORED 8

enum webconfig_client_auth {
	WEBCONFIG_NO_CLIENT_CERT,
	WEBCONFIG_REQUEST_CLIENT_CERT,
	WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,
	WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN,
	WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

enum webconfig_tls_version {
	WEBCONFIG_TLS12,
	WEBCONFIG_TLS13,
};

struct webconfig_pair {
	char *name;
	char *value; /* users: bcrypt hash; headers: header value */
};

struct webconfig {
	bool tls;            /* tls_server_config present */
	char *cert_pem;      /* contents of cert_file */
	char *key_pem;       /* contents of key_file */
	char *client_ca_pem; /* contents of client_ca_file or NULL */
	enum webconfig_client_auth client_auth;
	enum webconfig_tls_version min_version;
	enum webconfig_tls_version max_version;
	struct webconfig_pair users[WEBCONFIG_MAX_USERS];
	size_t n_users;
	struct webconfig_pair headers[WEBCONFIG_MAX_HEADERS];
	size_t n_headers;
	/* Keys that were accepted but have no effect, as key paths
	 * ("tls_server_config.cipher_suites"); static strings, in file order
	 * by section.  The caller should warn about each. */
	const char *ignored[WEBCONFIG_MAX_IGNORED];
	size_t n_ignored;
};

/* Load and validate the file.  0 and *ret_config; -EINVAL with
 * "FILE:LINE:COLUMN: key 'k': msg" in err; -errno when a file cannot be
 * read (message names it); -ENOMEM. */
int webconfig_load_file(const char *path, struct webconfig **ret_config, char *err,
                        size_t err_size);

/* As webconfig_load_file with the text in memory; name is used in messages
 * and its directory for relative file names. */
int webconfig_load_buffer(const char *name, const char *data, size_t len,
                          struct webconfig **ret_config, char *err, size_t err_size);

/* NULL-safe; wipes the key material before freeing. */
void webconfig_destroy(struct webconfig *w);

/* Whether a client certificate is requested / must be verified against
 * client_ca / is mandatory, for the configured client_auth. */
bool webconfig_wants_client_cert(const struct webconfig *w);
bool webconfig_verifies_client_cert(const struct webconfig *w);
bool webconfig_requires_client_cert(const struct webconfig *w);

#endif
