/*
 * webauth.h - the checks behind --web.config.file: basic-auth passwords
 * against bcrypt hashes (libxcrypt crypt_r, with a bounded cache of
 * successful logins), client certificates (GnuTLS), and the TLS priority
 * string for libmicrohttpd.
 */
#ifndef EXPORTER_WEBAUTH_H
#define EXPORTER_WEBAUTH_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/webconfig.h"

#define WEBAUTH_CACHE_SIZE 64 /* successful (user, password) pairs remembered */
#define WEBAUTH_REALM "accesslog_exporter"

struct webauth;

/* Build the checker for w (borrowed for the call; what is needed is
 * copied).  The TLS material is parsed with GnuTLS here so a bad key or
 * certificate is reported before serving.  0; -EINVAL with a message in
 * err; -ENOENT/-ELIBBAD when libmicrohttpd or GnuTLS cannot be loaded
 * (mhdlib.h; message in err); -ENOMEM. */
int webauth_create(const struct webconfig *w, struct webauth **ret_auth, char *err,
                   size_t err_size);

/* NULL-safe. */
void webauth_destroy(struct webauth *a);

/* Whether basic auth is on (basic_auth_users not empty). */
bool webauth_has_users(const struct webauth *a);

/* Check a user/password pair (either may be NULL: missing credentials).
 * 0 when valid; -EACCES otherwise.  Thread-safe.  Unknown users cost one
 * bcrypt run too, so timing does not reveal which users exist. */
int webauth_check_password(struct webauth *a, const char *user, const char *password);

/* Apply client_auth_type to a TLS session whose handshake is done:
 * 0 to serve, -EACCES to drop the connection. */
int webauth_check_client_cert(const struct webauth *a, gnutls_session_t session);

/* GnuTLS priority string for the configured min/max TLS version. */
const char *webauth_tls_priorities(const struct webauth *a);

/* How many bcrypt computations ran (for tests of the cache). */
unsigned long webauth_bcrypt_runs(const struct webauth *a);

#endif
