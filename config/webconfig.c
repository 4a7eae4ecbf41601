/*
 * webconfig.c - exporter-toolkit web config reader (see webconfig.h).
 *
 * Same machinery as the main config (yamldoc: capped size and depth,
 * unknown keys are errors, FILE:LINE:COLUMN in every message).  Beyond the
 * schema, the checks exporter-toolkit makes are repeated here: cert and key
 * come together, a client CA needs a verifying client_auth_type and the
 * verifying types need a CA, every password is a bcrypt hash.  The PEM
 * contents are handed to the HTTP layer, which is the one that parses them
 * with GnuTLS (config/ does not link a TLS library).
 *
 * Rejected: plain-text passwords (exporter-toolkit refuses them too) and
 * other hash schemes (crypt_r would accept them, but bcrypt is the format).
 */
#include "config/webconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/yamldoc.h"

#define DIR_MAX 4096

struct reader {
	struct yamldoc d;
	struct webconfig *w;
	char dir[DIR_MAX];
};

static const char *const client_auth_names[] = {
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
};
static const char *const version_names[] = {"TLS12", "TLS13"};

static int index_of(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/* Read a file named at node n (relative to the web config's directory). */
static int read_pem(struct reader *r, yaml_node_t *n, const char *key, char **ret_pem)
{
	char path[DIR_MAX * 2], msg[512];
	const char *name;
	size_t len;
	int e, l;

	e = yamldoc_string(&r->d, n, key, &name);
	if (e < 0) {
		return e;
	}
	if (name[0] == '/' || !r->dir[0]) {
		l = snprintf(path, sizeof(path), "%s", name);
	} else {
		l = snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	}
	if (l < 0 || (size_t)l >= sizeof(path)) {
		return yamldoc_fail(&r->d, n, key, "path too long");
	}
	e = yamldoc_read_file(path, ret_pem, &len, msg, sizeof(msg));
	if (e < 0) {
		return yamldoc_fail(&r->d, n, key, "%s", msg);
	}
	if (!strstr(*ret_pem, "-----BEGIN ")) {
		return yamldoc_fail(&r->d, n, key, "%s is not a PEM file", path);
	}
	return 0;
}

enum { T_CERT, T_KEY, T_AUTH, T_CA, T_MIN, T_MAX, T_COUNT };
static const char *const tls_keys[T_COUNT] = {
    "cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
};

static int read_version(struct reader *r, yaml_node_t *n, const char *key,
                        enum webconfig_tls_version *ret)
{
	const char *s;
	int e = yamldoc_string(&r->d, n, key, &s), i;

	if (e < 0) {
		return e;
	}
	i = index_of(s, version_names, 2);
	if (i < 0) {
		return yamldoc_fail(&r->d, n, key,
		                    "unsupported TLS version '%s' (TLS12, TLS13; older versions "
		                    "are not offered)",
		                    s);
	}
	*ret = (enum webconfig_tls_version)i;
	return 0;
}

static int read_tls(struct reader *r, yaml_node_t *n)
{
	struct webconfig *w = r->w;
	yaml_node_t *v[T_COUNT];
	char kp[YAMLDOC_PATH_MAX];
	const char *s;
	int e;

	e = yamldoc_map(&r->d, n, "tls_server_config", tls_keys, T_COUNT, v);
	if (e < 0) {
		return e;
	}
	w->tls = true;
	w->min_version = WEBCONFIG_TLS12;
	w->max_version = WEBCONFIG_TLS13;
	if (!v[T_CERT] || !v[T_KEY]) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config",
		                 v[T_CERT] ? "key_file" : "cert_file");
		return yamldoc_fail(&r->d, n, kp, "missing (cert_file and key_file are required)");
	}
	if (v[T_AUTH]) {
		int i;
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "client_auth_type");
		e = yamldoc_string(&r->d, v[T_AUTH], kp, &s);
		if (e < 0) {
			return e;
		}
		i = index_of(s, client_auth_names, 5);
		if (i < 0) {
			return yamldoc_fail(&r->d, v[T_AUTH], kp, "unknown client_auth_type '%s'",
			                    s);
		}
		w->client_auth = (enum webconfig_client_auth)i;
	}
	if (v[T_MIN]) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "min_version");
		e = read_version(r, v[T_MIN], kp, &w->min_version);
	}
	if (e == 0 && v[T_MAX]) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "max_version");
		e = read_version(r, v[T_MAX], kp, &w->max_version);
		if (e == 0 && w->max_version < w->min_version) {
			return yamldoc_fail(&r->d, v[T_MAX], kp, "below min_version");
		}
	}
	yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "client_ca_file");
	if (e == 0 && v[T_CA] && !webconfig_wants_client_cert(w)) {
		return yamldoc_fail(&r->d, v[T_CA], kp,
		                    "client CAs configured without a client_auth_type that "
		                    "requests client certificates");
	}
	if (e == 0 && !v[T_CA] && webconfig_wants_client_cert(w)) {
		/* libmicrohttpd asks for client certificates only with a trust store. */
		return yamldoc_fail(&r->d, v[T_AUTH], kp,
		                    "required by client_auth_type %s (client certificates are "
		                    "requested only with a client CA)",
		                    client_auth_names[w->client_auth]);
	}
	if (e == 0 && v[T_CA]) {
		e = read_pem(r, v[T_CA], kp, &w->client_ca_pem);
	}
	if (e == 0) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "cert_file");
		e = read_pem(r, v[T_CERT], kp, &w->cert_pem);
	}
	if (e == 0) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "key_file");
		e = read_pem(r, v[T_KEY], kp, &w->key_pem);
	}
	return e;
}

static bool is_bcrypt(const char *h)
{
	/* $2a$, $2b$ or $2y$, two-digit cost 04..31, then 53 chars of bcrypt base64. */
	static const char b64[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned cost;

	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$') {
		return false;
	}
	cost = (unsigned)(h[4] - '0') * 10 + (unsigned)(h[5] - '0');
	if (cost < 4 || cost > 31) {
		return false;
	}
	for (size_t i = 7; i < 60; i++) {
		if (!strchr(b64, h[i])) {
			return false;
		}
	}
	return true;
}

static bool is_header_token(const char *s)
{
	if (!*s) {
		return false;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c)) {
			return false;
		}
	}
	return true;
}

/* A mapping of names to strings into pairs; check(name, value) validates. */
static int read_pairs(struct reader *r, yaml_node_t *n, const char *path,
                      struct webconfig_pair *pairs, size_t max, size_t *ret_n, bool users)
{
	static const char *const reserved[] = {"content-type",
	                                       "content-length",
	                                       "content-encoding",
	                                       "www-authenticate",
	                                       "transfer-encoding",
	                                       "connection",
	                                       "allow"};
	char kp[YAMLDOC_PATH_MAX];
	size_t count = 0;

	if (yamldoc_is_null(n)) {
		*ret_n = 0;
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE) {
		return yamldoc_fail(&r->d, n, path, "expected a mapping");
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yamldoc_node(&r->d, p->key), *v = yamldoc_node(&r->d, p->value);
		const char *name, *value;
		int e = yamldoc_string(&r->d, k, path, &name);
		if (e < 0) {
			return e;
		}
		yamldoc_path_key(kp, sizeof(kp), path, name);
		e = yamldoc_string(&r->d, v, kp, &value);
		if (e < 0) {
			return e;
		}
		if (count >= max) {
			return yamldoc_fail(&r->d, k, kp, "at most %zu entries", max);
		}
		for (size_t i = 0; i < count; i++) {
			if ((users ? strcmp(pairs[i].name, name)
			           : strcasecmp(pairs[i].name, name)) == 0) {
				return yamldoc_fail(&r->d, k, kp, "duplicate entry");
			}
		}
		if (users && (!name[0] || strchr(name, ':'))) {
			return yamldoc_fail(&r->d, k, kp,
			                    "user names must be non-empty without ':'");
		}
		if (users && !is_bcrypt(value)) {
			return yamldoc_fail(
			    &r->d, v, kp, "not a bcrypt hash ($2y$, $2b$ or $2a$, 60 characters)");
		}
		if (!users && !is_header_token(name)) {
			return yamldoc_fail(&r->d, k, kp, "not a valid header name");
		}
		if (!users && strpbrk(value, "\r\n")) {
			return yamldoc_fail(&r->d, v, kp, "header values must be one line");
		}
		for (size_t i = 0; !users && i < sizeof(reserved) / sizeof(reserved[0]); i++) {
			if (strcasecmp(name, reserved[i]) == 0) {
				return yamldoc_fail(&r->d, k, kp, "header is set by the exporter");
			}
		}
		pairs[count].name = strdup(name);
		pairs[count].value = strdup(value);
		count++;
		*ret_n = count;
		if (!pairs[count - 1].name || !pairs[count - 1].value) {
			return -ENOMEM;
		}
	}
	*ret_n = count;
	return 0;
}

enum { H_HEADERS, H_HTTP2, H_COUNT };
static const char *const http_keys[H_COUNT] = {"headers", "http2"};

static int read_http(struct reader *r, yaml_node_t *n)
{
	yaml_node_t *v[H_COUNT];
	bool http2;
	int e = yamldoc_map(&r->d, n, "http_server_config", http_keys, H_COUNT, v);

	if (e == 0 && v[H_HTTP2]) {
		e = yamldoc_bool(&r->d, v[H_HTTP2], "http_server_config.http2", &http2);
	}
	if (e == 0 && v[H_HEADERS]) {
		e = read_pairs(r, v[H_HEADERS], "http_server_config.headers", r->w->headers,
		               WEBCONFIG_MAX_HEADERS, &r->w->n_headers, false);
	}
	return e;
}

enum { W_TLS, W_USERS, W_HTTP, W_COUNT };
static const char *const top_keys[W_COUNT] = {"tls_server_config", "basic_auth_users",
                                              "http_server_config"};

int webconfig_load_buffer(const char *name, const char *data, size_t len,
                          struct webconfig **ret_config, char *err, size_t err_size)
{
	struct reader *r = calloc(1, sizeof(*r));
	yaml_node_t *v[W_COUNT];
	const char *slash = strrchr(name, '/');
	int e = -ENOMEM;

	if (!r || !(r->w = calloc(1, sizeof(*r->w)))) {
		goto out;
	}
	err[0] = '\0';
	if (slash && (size_t)(slash - name) < sizeof(r->dir)) {
		memcpy(r->dir, name, (size_t)(slash - name));
		r->dir[slash - name] = '\0';
		if (slash == name) {
			r->dir[0] = '/';
			r->dir[1] = '\0';
		}
	}
	e = yamldoc_load(&r->d, name, data, len, err, err_size);
	if (e == 0) {
		e = yamldoc_map(&r->d, yamldoc_root(&r->d), "", top_keys, W_COUNT, v);
	}
	if (e == 0 && v[W_TLS] && !yamldoc_is_null(v[W_TLS])) {
		e = read_tls(r, v[W_TLS]);
	}
	if (e == 0 && v[W_USERS]) {
		e = read_pairs(r, v[W_USERS], "basic_auth_users", r->w->users, WEBCONFIG_MAX_USERS,
		               &r->w->n_users, true);
	}
	if (e == 0 && v[W_HTTP]) {
		e = read_http(r, v[W_HTTP]);
	}
	if (e == 0) {
		*ret_config = r->w;
		r->w = NULL;
	}
out:
	if (e == -ENOMEM && !err[0]) {
		(void)snprintf(err, err_size, "%s: out of memory", name);
	}
	if (r) {
		yamldoc_finish(&r->d);
		webconfig_destroy(r->w);
		free(r);
	}
	return e;
}

int webconfig_load_file(const char *path, struct webconfig **ret_config, char *err, size_t err_size)
{
	char *data = NULL;
	size_t len = 0;
	int e = yamldoc_read_file(path, &data, &len, err, err_size);

	if (e < 0) {
		return e;
	}
	e = webconfig_load_buffer(path, data, len, ret_config, err, err_size);
	free(data);
	return e;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void webconfig_destroy(struct webconfig *w)
{
	if (!w) {
		return;
	}
	free(w->cert_pem);
	free_secret(w->key_pem);
	free(w->client_ca_pem);
	for (size_t i = 0; i < w->n_users; i++) {
		free(w->users[i].name);
		free(w->users[i].value);
	}
	for (size_t i = 0; i < w->n_headers; i++) {
		free(w->headers[i].name);
		free(w->headers[i].value);
	}
	free(w);
}

bool webconfig_wants_client_cert(const struct webconfig *w)
{
	return w->tls && w->client_auth != WEBCONFIG_NO_CLIENT_CERT;
}

bool webconfig_verifies_client_cert(const struct webconfig *w)
{
	return w->tls && (w->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
	                  w->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT);
}

bool webconfig_requires_client_cert(const struct webconfig *w)
{
	return w->tls && (w->client_auth == WEBCONFIG_REQUIRE_ANY_CLIENT_CERT ||
	                  w->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT);
}
