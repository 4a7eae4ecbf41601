/*
 * webconfig.c - exporter-toolkit web config reader (see webconfig.h).
 *
 * Same machinery as the main config (yamldoc: capped size and depth,
 * unknown keys are errors, FILE:LINE:COLUMN in every message).  Beyond the
 * schema, the checks exporter-toolkit makes are repeated here: cert and key
 * come together (each from a file or inline, not both), a client CA needs a
 * verifying client_auth_type and the verifying types need a CA, every
 * password is a bcrypt hash.  The PEM contents are handed to the HTTP layer,
 * which is the one that parses them with GnuTLS (config/ does not link a TLS
 * library).  As in exporter-toolkit, an empty (or comment-only) file means
 * plain HTTP without auth.  Toolkit keys that tune Go's crypto/tls or its
 * HTTP server (cipher_suites, curve_preferences, prefer_server_cipher_suites,
 * http2: true, rate_limit) are type-checked, then listed in w->ignored for
 * the caller to warn about: config/ does not log.
 *
 * Rejected: plain-text passwords (exporter-toolkit refuses them too) and
 * other hash schemes (crypt_r would accept them, but bcrypt is the format);
 * ignoring client_allowed_sans (it restricts access, so silently dropping it
 * would let in clients the file keeps out: it is an error instead); mapping
 * Go cipher names onto GnuTLS priorities (two vocabularies, easy to get
 * subtly wrong, and the GnuTLS defaults are sound).
 */
#include "config/webconfig.h"

#include <errno.h>
#include <stdint.h>
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

/* PEM text given inline (cert, key, client_ca): must look like PEM. */
static int inline_pem(struct reader *r, yaml_node_t *n, const char *key, char **ret_pem)
{
	const char *text;
	int e = yamldoc_string(&r->d, n, key, &text);

	if (e < 0) {
		return e;
	}
	if (!strstr(text, "-----BEGIN ")) {
		return yamldoc_fail(&r->d, n, key, "not PEM text");
	}
	*ret_pem = strdup(text);
	return *ret_pem ? 0 : -ENOMEM;
}

enum {
	T_CERT_FILE,
	T_KEY_FILE,
	T_CA_FILE,
	T_CERT,
	T_KEY,
	T_CA,
	T_AUTH,
	T_MIN,
	T_MAX,
	T_SANS,
	T_CIPHERS,
	T_PREFER,
	T_CURVES,
	T_COUNT
};
static const char *const tls_keys[T_COUNT] = {
    "cert_file",
    "key_file",
    "client_ca_file",
    "cert",
    "key",
    "client_ca",
    "client_auth_type",
    "min_version",
    "max_version",
    "client_allowed_sans",
    "cipher_suites",
    "prefer_server_cipher_suites",
    "curve_preferences",
};

/* One piece of PEM material, from a file (T_*_FILE) or inline (T_*), the
 * two being mutually exclusive as in exporter-toolkit.  *ret_pem stays NULL
 * when neither is given. */
static int read_material(struct reader *r, yaml_node_t *const *v, int file_key, char **ret_pem)
{
	int inline_key = file_key + (T_CERT - T_CERT_FILE);
	char kp[YAMLDOC_PATH_MAX];

	yamldoc_path_key(kp, sizeof(kp), "tls_server_config", tls_keys[file_key]);
	if (v[file_key] && v[inline_key]) {
		return yamldoc_fail(&r->d, v[inline_key], kp, "mutually exclusive with '%s'",
		                    tls_keys[inline_key]);
	}
	if (v[file_key]) {
		return read_pem(r, v[file_key], kp, ret_pem);
	}
	if (v[inline_key]) {
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", tls_keys[inline_key]);
		return inline_pem(r, v[inline_key], kp, ret_pem);
	}
	return 0;
}

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

/* Note a key that was accepted but has no effect (the caller warns). */
static void note_ignored(struct reader *r, const char *key)
{
	if (r->w->n_ignored < WEBCONFIG_MAX_IGNORED) {
		r->w->ignored[r->w->n_ignored++] = key;
	}
}

/* cipher_suites and curve_preferences: lists of non-empty strings. */
static int read_name_list(struct reader *r, yaml_node_t *n, const char *key)
{
	yaml_node_item_t *items;
	char kp[YAMLDOC_PATH_MAX];
	const char *name;
	size_t count;
	int e = yamldoc_seq(&r->d, n, key, &items, &count);

	for (size_t i = 0; e == 0 && i < count; i++) {
		yaml_node_t *item = yamldoc_node(&r->d, items[i]);
		yamldoc_path_index(kp, sizeof(kp), key, i);
		e = yamldoc_string(&r->d, item, kp, &name);
		if (e == 0 && !name[0]) {
			e = yamldoc_fail(&r->d, item, kp, "empty name");
		}
	}
	return e;
}

/* exporter-toolkit's Go crypto/tls tuning: checked for type, then ignored
 * (GnuTLS priorities decide ciphers, curves and their order). */
static int read_tls_tuning(struct reader *r, yaml_node_t *const *v)
{
	static const char ciphers[] = "tls_server_config.cipher_suites";
	static const char prefer[] = "tls_server_config.prefer_server_cipher_suites";
	static const char curves[] = "tls_server_config.curve_preferences";
	bool b;
	int e = 0;

	if (v[T_CIPHERS]) {
		e = read_name_list(r, v[T_CIPHERS], ciphers);
		note_ignored(r, ciphers);
	}
	if (e == 0 && v[T_PREFER]) {
		e = yamldoc_bool(&r->d, v[T_PREFER], prefer, &b);
		note_ignored(r, prefer);
	}
	if (e == 0 && v[T_CURVES]) {
		e = read_name_list(r, v[T_CURVES], curves);
		note_ignored(r, curves);
	}
	return e;
}

static int read_client_auth(struct reader *r, yaml_node_t *n)
{
	char kp[YAMLDOC_PATH_MAX];
	const char *s;
	int e, i;

	yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "client_auth_type");
	e = yamldoc_string(&r->d, n, kp, &s);
	if (e < 0) {
		return e;
	}
	i = index_of(s, client_auth_names, 5);
	if (i < 0) {
		return yamldoc_fail(&r->d, n, kp, "unknown client_auth_type '%s'", s);
	}
	r->w->client_auth = (enum webconfig_client_auth)i;
	return 0;
}

static int read_versions(struct reader *r, yaml_node_t *const *v)
{
	struct webconfig *w = r->w;
	char kp[YAMLDOC_PATH_MAX];
	int e = 0;

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
	return e;
}

static int read_tls(struct reader *r, yaml_node_t *n)
{
	struct webconfig *w = r->w;
	yaml_node_t *v[T_COUNT];
	char kp[YAMLDOC_PATH_MAX];
	bool has_ca;
	int e;

	e = yamldoc_map(&r->d, n, "tls_server_config", tls_keys, T_COUNT, v);
	if (e < 0) {
		return e;
	}
	w->tls = true;
	w->min_version = WEBCONFIG_TLS12;
	w->max_version = WEBCONFIG_TLS13;
	if ((!v[T_CERT_FILE] && !v[T_CERT]) || (!v[T_KEY_FILE] && !v[T_KEY])) {
		bool cert = v[T_CERT_FILE] || v[T_CERT];
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config",
		                 cert ? "key_file" : "cert_file");
		return yamldoc_fail(&r->d, n, kp, "missing (%s is required)",
		                    cert ? "key_file or key" : "cert_file or cert");
	}
	if (v[T_SANS]) {
		/* Ignoring it would let in clients the file means to keep out. */
		yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "client_allowed_sans");
		return yamldoc_fail(&r->d, v[T_SANS], kp,
		                    "not supported (client certificates are checked against "
		                    "client_ca only)");
	}
	if (v[T_AUTH]) {
		e = read_client_auth(r, v[T_AUTH]);
	}
	if (e == 0) {
		e = read_versions(r, v);
	}
	has_ca = v[T_CA_FILE] || v[T_CA];
	yamldoc_path_key(kp, sizeof(kp), "tls_server_config", "client_ca_file");
	if (e == 0 && has_ca && !webconfig_wants_client_cert(w)) {
		return yamldoc_fail(&r->d, v[T_CA_FILE] ? v[T_CA_FILE] : v[T_CA], kp,
		                    "client CAs configured without a client_auth_type that "
		                    "requests client certificates");
	}
	if (e == 0 && !has_ca && webconfig_wants_client_cert(w)) {
		/* libmicrohttpd asks for client certificates only with a trust store. */
		return yamldoc_fail(&r->d, v[T_AUTH], kp,
		                    "required by client_auth_type %s (client certificates are "
		                    "requested only with a client CA)",
		                    client_auth_names[w->client_auth]);
	}
	if (e == 0) {
		e = read_tls_tuning(r, v);
	}
	if (e == 0) {
		e = read_material(r, v, T_CA_FILE, &w->client_ca_pem);
	}
	if (e == 0) {
		e = read_material(r, v, T_CERT_FILE, &w->cert_pem);
	}
	if (e == 0) {
		e = read_material(r, v, T_KEY_FILE, &w->key_pem);
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
		static const char key[] = "http_server_config.http2";
		e = yamldoc_bool(&r->d, v[H_HTTP2], key, &http2);
		if (e == 0 && http2) {
			note_ignored(r, key); /* HTTP/1.1 only; false is what we do anyway */
		}
	}
	if (e == 0 && v[H_HEADERS]) {
		e = read_pairs(r, v[H_HEADERS], "http_server_config.headers", r->w->headers,
		               WEBCONFIG_MAX_HEADERS, &r->w->n_headers, false);
	}
	return e;
}

enum { R_INTERVAL, R_BURST, R_COUNT };
static const char *const rate_keys[R_COUNT] = {"interval", "burst"};

/* rate_limit: checked for shape, then ignored (the per-IP connection limit
 * and the request deadline are what bound a client here). */
static int read_rate_limit(struct reader *r, yaml_node_t *n)
{
	yaml_node_t *v[R_COUNT];
	const char *interval;
	uint64_t burst;
	int e = yamldoc_map(&r->d, n, "rate_limit", rate_keys, R_COUNT, v);

	if (e == 0 && v[R_INTERVAL]) {
		e = yamldoc_string(&r->d, v[R_INTERVAL], "rate_limit.interval", &interval);
	}
	if (e == 0 && v[R_BURST]) {
		e = yamldoc_uint(&r->d, v[R_BURST], "rate_limit.burst", 0, UINT32_MAX, &burst);
	}
	if (e == 0) {
		note_ignored(r, "rate_limit");
	}
	return e;
}

enum { W_TLS, W_USERS, W_HTTP, W_RATE, W_COUNT };
static const char *const top_keys[W_COUNT] = {"tls_server_config", "basic_auth_users",
                                              "http_server_config", "rate_limit"};

/* After a failed yamldoc_load: whether the text held no document at all
 * (empty, only comments, or a lone null), which exporter-toolkit reads as
 * "no TLS, no auth".  yamldoc refuses such files for the main config. */
static bool is_empty_document(struct reader *r)
{
	return r->d.loaded && (!yamldoc_root(&r->d) || yamldoc_is_null(yamldoc_root(&r->d)));
}

int webconfig_load_buffer(const char *name, const char *data, size_t len,
                          struct webconfig **ret_config, char *err, size_t err_size)
{
	struct reader *r = calloc(1, sizeof(*r));
	yaml_node_t *v[W_COUNT] = {NULL};
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
	if (e == -EINVAL && is_empty_document(r)) {
		err[0] = '\0';
		e = 0; /* nothing configured: plain HTTP, no auth */
	} else if (e == 0) {
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
	if (e == 0 && v[W_RATE]) {
		e = read_rate_limit(r, v[W_RATE]);
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
