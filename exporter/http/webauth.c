/*
 * webauth.c - basic auth, client certificates, TLS versions (see webauth.h).
 *
 * Passwords: bcrypt is deliberately slow (~50-250 ms at cost 10-12), and
 * Prometheus sends the credentials with every scrape, so successful
 * checks are remembered: the key is SHA-256 over user, a NUL, the supplied
 * password and the stored hash, so a different password for the same user
 * never hits the cache and a changed hash invalidates old entries.  Only
 * successes are cached (a failure must cost the attacker a bcrypt run every
 * time); the table is a fixed ring of WEBAUTH_CACHE_SIZE digests under one
 * mutex.  Digests are compared in constant time.
 *
 * Client certificates: libmicrohttpd requests a client certificate when a
 * trust store is set and leaves the decision to us; the verifying modes
 * call gnutls_certificate_verify_peers2 against client_ca_file.  GnuTLS is
 * called through mhdlib's table (loaded by webauth_create), so a process
 * that never reads a web config never loads it.
 *
 * Rejected: caching by user name only (any password would pass after one
 * good login), and hashing passwords ourselves (libxcrypt is the system's
 * audited bcrypt).
 */
#include "exporter/http/webauth.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/http/mhdlib.h"

#define DIGEST_LEN 32
#define MAX_SECRET_LEN 1024 /* longer user names or passwords are refused unhashed */

/* A valid bcrypt hash of a random password: unknown users are checked
 * against it so that they take as long as known ones. */
static const char dummy_hash[] = "$2b$10$1XOX7X2XT2bY50VOg0dU6.2fSl2yovMQM3UKr7vTRFEcZxpoDjbPu";

struct user {
	char *name;
	char *hash;
};

struct webauth {
	const struct mhdlib *lib; /* GnuTLS's functions (mhdlib.h) */
	struct user users[WEBCONFIG_MAX_USERS];
	size_t n_users;
	enum webconfig_client_auth client_auth;
	bool tls;
	char priorities[128];
	pthread_mutex_t lock; /* guards cache and next */
	unsigned char cache[WEBAUTH_CACHE_SIZE][DIGEST_LEN];
	bool used[WEBAUTH_CACHE_SIZE];
	size_t next;
	atomic_ulong bcrypt_runs;
};

static int check_tls_material(const struct mhdlib *lib, const struct webconfig *w, char *err,
                              size_t err_size)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t cert = {(unsigned char *)w->cert_pem, (unsigned)strlen(w->cert_pem)};
	gnutls_datum_t key = {(unsigned char *)w->key_pem, (unsigned)strlen(w->key_pem)};
	int r;

	if (lib->tls_cert_allocate_credentials(&cred) < 0) {
		return -ENOMEM;
	}
	r = lib->tls_cert_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		(void)snprintf(err, err_size, "tls_server_config: cert_file/key_file: %s",
		               lib->tls_strerror(r));
		r = -EINVAL;
		goto out;
	}
	if (w->client_ca_pem) {
		gnutls_datum_t ca = {(unsigned char *)w->client_ca_pem,
		                     (unsigned)strlen(w->client_ca_pem)};
		r = lib->tls_cert_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			(void)snprintf(err, err_size, "tls_server_config: client_ca_file: %s",
			               r < 0 ? lib->tls_strerror(r) : "no certificate found");
			r = -EINVAL;
			goto out;
		}
	}
	r = 0;
out:
	lib->tls_cert_free_credentials(cred);
	return r;
}

static void set_priorities(struct webauth *a, const struct webconfig *w)
{
	/* NORMAL minus every protocol version, plus the allowed range. */
	(void)snprintf(a->priorities, sizeof(a->priorities), "NORMAL:-VERS-ALL%s%s",
	               w->max_version >= WEBCONFIG_TLS13 ? ":+VERS-TLS1.3" : "",
	               w->min_version <= WEBCONFIG_TLS12 ? ":+VERS-TLS1.2" : "");
}

int webauth_create(const struct webconfig *w, struct webauth **ret_auth, char *err, size_t err_size)
{
	const struct mhdlib *lib;
	struct webauth *a;
	int r;

	r = mhdlib_load(&lib, err, err_size);
	if (r < 0) {
		return r;
	}
	if (w->tls) {
		r = check_tls_material(lib, w, err, err_size);
		if (r < 0) {
			return r;
		}
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&a->lock, NULL) != 0) {
		free(a);
		return -ENOMEM;
	}
	a->lib = lib;
	a->tls = w->tls;
	a->client_auth = w->client_auth;
	set_priorities(a, w);
	for (size_t i = 0; i < w->n_users; i++) {
		a->users[i].name = strdup(w->users[i].name);
		a->users[i].hash = strdup(w->users[i].value);
		a->n_users++;
		if (!a->users[i].name || !a->users[i].hash) {
			webauth_destroy(a);
			return -ENOMEM;
		}
	}
	*ret_auth = a;
	return 0;
}

void webauth_destroy(struct webauth *a)
{
	if (!a) {
		return;
	}
	for (size_t i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	explicit_bzero(a->cache, sizeof(a->cache));
	pthread_mutex_destroy(&a->lock);
	free(a);
}

bool webauth_has_users(const struct webauth *a)
{
	return a && a->n_users > 0;
}

const char *webauth_tls_priorities(const struct webauth *a)
{
	return a->priorities;
}

unsigned long webauth_bcrypt_runs(const struct webauth *a)
{
	return atomic_load(&a->bcrypt_runs);
}

static bool equal_ct(const unsigned char *x, const unsigned char *y, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++) {
		d |= (unsigned char)(x[i] ^ y[i]);
	}
	return d == 0;
}

static int digest(const struct webauth *a, const char *user, const char *password, const char *hash,
                  unsigned char out[DIGEST_LEN])
{
	size_t ul = strlen(user), pl = strlen(password), hl = strlen(hash);
	char buf[3 * MAX_SECRET_LEN + 3];
	int r;

	if (ul > MAX_SECRET_LEN || pl > MAX_SECRET_LEN || hl > MAX_SECRET_LEN) {
		return -E2BIG;
	}
	memcpy(buf, user, ul + 1);
	memcpy(buf + ul + 1, password, pl + 1);
	memcpy(buf + ul + pl + 2, hash, hl + 1);
	r = a->lib->tls_hash_fast(GNUTLS_DIG_SHA256, buf, ul + pl + hl + 3, out);
	explicit_bzero(buf, sizeof(buf));
	return r < 0 ? -EIO : 0;
}

static bool cache_has(struct webauth *a, const unsigned char d[DIGEST_LEN])
{
	bool hit = false;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < WEBAUTH_CACHE_SIZE; i++) {
		/* No early exit: the time does not depend on where the entry is. */
		hit |= a->used[i] && equal_ct(a->cache[i], d, DIGEST_LEN);
	}
	pthread_mutex_unlock(&a->lock);
	return hit;
}

static void cache_add(struct webauth *a, const unsigned char d[DIGEST_LEN])
{
	pthread_mutex_lock(&a->lock);
	memcpy(a->cache[a->next], d, DIGEST_LEN);
	a->used[a->next] = true;
	a->next = (a->next + 1) % WEBAUTH_CACHE_SIZE;
	pthread_mutex_unlock(&a->lock);
}

static bool bcrypt_ok(struct webauth *a, const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	bool ok = false;

	if (!cd) {
		return false;
	}
	atomic_fetch_add(&a->bcrypt_runs, 1);
	/* crypt_rn is libxcrypt's crypt_r that returns NULL instead of a failure
	 * token; it also sidesteps ASan's crypt_r interceptor, which crashes when
	 * the linker drops libcrypt as "not needed". */
	out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	if (out && out[0] == '$' && strlen(out) == strlen(hash)) {
		ok =
		    equal_ct((const unsigned char *)out, (const unsigned char *)hash, strlen(hash));
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int webauth_check_password(struct webauth *a, const char *user, const char *password)
{
	const struct user *u = NULL;
	unsigned char d[DIGEST_LEN];

	if (!user || !password) {
		return -EACCES;
	}
	for (size_t i = 0; i < a->n_users; i++) {
		if (strcmp(a->users[i].name, user) == 0) {
			u = &a->users[i];
		}
	}
	if (!u) {
		(void)bcrypt_ok(a, password, dummy_hash);
		return -EACCES;
	}
	if (digest(a, user, password, u->hash, d) < 0) {
		return -EACCES;
	}
	if (cache_has(a, d)) {
		return 0;
	}
	if (!bcrypt_ok(a, password, u->hash)) {
		return -EACCES;
	}
	cache_add(a, d);
	return 0;
}

int webauth_check_client_cert(const struct webauth *a, gnutls_session_t session)
{
	unsigned n = 0, status = 0;
	bool verify, require;

	if (!a->tls || a->client_auth == WEBCONFIG_NO_CLIENT_CERT) {
		return 0;
	}
	verify = a->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
	         a->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
	require = a->client_auth == WEBCONFIG_REQUIRE_ANY_CLIENT_CERT ||
	          a->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT;
	if (!session) {
		return -EACCES;
	}
	if (!a->lib->tls_cert_get_peers(session, &n) || n == 0) {
		return require ? -EACCES : 0;
	}
	if (!verify) {
		return 0;
	}
	if (a->lib->tls_cert_verify_peers2(session, &status) < 0 || status != 0) {
		return -EACCES;
	}
	return 0;
}
