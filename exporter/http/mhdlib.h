/*
 * mhdlib.h - libmicrohttpd and GnuTLS, loaded when the HTTP side starts.
 *
 * The daemon does not link either library: `--once`, `--backfill` and the
 * config checks never serve HTTP, and loading libmicrohttpd with its TLS
 * stack (GnuTLS, p11-kit, nettle, gmp, libtasn1, libidn2...) and running
 * their constructors was about half of a one-line `--once` (see the README's
 * benchmarks).  The HTTP front end and the web-config checks call through
 * this table instead; mhdlib_load() dlopens both by soname the first time
 * and fills it.  The Debian package keeps depending on both libraries
 * (packaging/meson.build builds a probe that dpkg-shlibdeps reads).
 */
#ifndef EXPORTER_HTTP_MHDLIB_H
#define EXPORTER_HTTP_MHDLIB_H

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stddef.h>

/* Every function the exporter calls: the library (MHD or TLS), the field
 * of struct mhdlib, the function.  One list for the table, the loader and
 * packaging/dlopen_deps.c, so the three cannot drift apart. */
#define MHDLIB_FUNCTIONS(X)                                                                        \
	X(MHD, start_daemon, MHD_start_daemon)                                                     \
	X(MHD, stop_daemon, MHD_stop_daemon)                                                       \
	X(MHD, add_response_header, MHD_add_response_header)                                       \
	X(MHD, queue_response, MHD_queue_response)                                                 \
	X(MHD, queue_basic_auth_fail_response, MHD_queue_basic_auth_fail_response)                 \
	X(MHD, destroy_response, MHD_destroy_response)                                             \
	X(MHD, create_response_from_buffer, MHD_create_response_from_buffer)                       \
	X(MHD, create_response_from_buffer_with_free_callback_cls,                                 \
	  MHD_create_response_from_buffer_with_free_callback_cls)                                  \
	X(MHD, lookup_connection_value, MHD_lookup_connection_value)                               \
	X(MHD, get_connection_info, MHD_get_connection_info)                                       \
	X(MHD, basic_auth_get_username_password, MHD_basic_auth_get_username_password)             \
	X(MHD, free_mem, MHD_free)                                                                 \
	X(TLS, tls_cert_allocate_credentials, gnutls_certificate_allocate_credentials)             \
	X(TLS, tls_cert_set_x509_key_mem, gnutls_certificate_set_x509_key_mem)                     \
	X(TLS, tls_cert_set_x509_trust_mem, gnutls_certificate_set_x509_trust_mem)                 \
	X(TLS, tls_cert_free_credentials, gnutls_certificate_free_credentials)                     \
	X(TLS, tls_cert_get_peers, gnutls_certificate_get_peers)                                   \
	X(TLS, tls_cert_verify_peers2, gnutls_certificate_verify_peers2)                           \
	X(TLS, tls_strerror, gnutls_strerror)                                                      \
	X(TLS, tls_hash_fast, gnutls_hash_fast)

#define MHDLIB_FIELD(lib, field, fn) __typeof__(&fn) field;

/* One pointer per function, typed from the headers the exporter was built
 * with (a prototype change is a compile error here, not a crash). */
struct mhdlib {
	MHDLIB_FUNCTIONS(MHDLIB_FIELD)
};

/* Load both libraries (once per process; thread-safe) and return the
 * table in *ret_lib, valid until exit (never unloaded).  -ENOENT when a
 * library is missing, -ELIBBAD when it lacks a function; err then names
 * the library and what to install.  A failure is remembered: later calls
 * return it again with the same message. */
int mhdlib_load(const struct mhdlib **ret_lib, char *err, size_t err_size);

/* As mhdlib_load but from the given sonames into caller storage, without
 * the once-only cache (for tests of the error paths). */
int mhdlib_load_from(const char *mhd_soname, const char *tls_soname, struct mhdlib *ret_lib,
                     char *err, size_t err_size);

#endif
