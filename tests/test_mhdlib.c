/*
 * test_mhdlib.c - libmicrohttpd and GnuTLS loaded by soname on first use:
 * every function resolved, one table per process, and clear errors for a
 * missing library or one without the functions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "build_config.h"
#include "exporter/http/mhdlib.h"

static void t_load(void **state)
{
	const struct mhdlib *a = NULL, *b = NULL;
	char err[512] = "";
	(void)state;

	assert_int_equal(mhdlib_load(&a, err, sizeof(err)), 0);
	assert_non_null(a);
	/* every pointer of the table is set */
	const unsigned char *p = (const unsigned char *)a;
	for (size_t off = 0; off + sizeof(void *) <= sizeof(*a); off += sizeof(void *)) {
		void *fn;
		memcpy(&fn, p + off, sizeof(fn));
		assert_non_null(fn);
	}
	/* the functions work: SHA-256 of "abc" */
	unsigned char d[32];
	assert_int_equal(a->tls_hash_fast(GNUTLS_DIG_SHA256, "abc", 3, d), 0);
	assert_int_equal(d[0], 0xba);
	assert_int_equal(d[31], 0xad);
	assert_non_null(strstr(a->tls_strerror(GNUTLS_E_MEMORY_ERROR), "memory"));
	/* once per process: the same table */
	assert_int_equal(mhdlib_load(&b, err, sizeof(err)), 0);
	assert_ptr_equal(a, b);
}

static void t_missing_library(void **state)
{
	struct mhdlib lib;
	char err[512] = "";
	(void)state;

	assert_int_equal(mhdlib_load_from("libmicrohttpd.so.999", ACCESSLOG_GNUTLS_SONAME, &lib,
	                                  err, sizeof(err)),
	                 -ENOENT);
	assert_non_null(strstr(err, "cannot load libmicrohttpd.so.999"));
	assert_non_null(strstr(err, "libmicrohttpd12")); /* what to install */
	assert_int_equal(
	    mhdlib_load_from(ACCESSLOG_MHD_SONAME, "libgnutls.so.999", &lib, err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "cannot load libgnutls.so.999"));
}

static void t_missing_function(void **state)
{
	struct mhdlib lib;
	char err[512] = "";
	(void)state;

	/* zlib loads but has none of libmicrohttpd's functions */
	assert_int_equal(
	    mhdlib_load_from("libz.so.1", ACCESSLOG_GNUTLS_SONAME, &lib, err, sizeof(err)),
	    -ELIBBAD);
	assert_string_equal(err, "libz.so.1 has no MHD_start_daemon (too old a version?)");
	assert_int_equal(
	    mhdlib_load_from(ACCESSLOG_MHD_SONAME, "libz.so.1", &lib, err, sizeof(err)), -ELIBBAD);
	assert_non_null(strstr(err, "libz.so.1 has no gnutls_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_load),
	    cmocka_unit_test(t_missing_library),
	    cmocka_unit_test(t_missing_function),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
