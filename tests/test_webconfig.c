/*
 * test_webconfig.c - the exporter-toolkit web config reader and the checks
 * built on it (webauth: bcrypt passwords with their cache, TLS priorities).
 *
 * Bad fixtures: tests/data/config/web/bad/NAME.yml start with
 * "# expect: TEXT"; loading must fail with "web/bad/NAME.yml:TEXT...".
 * Good fixtures include an empty and a comment-only file (no TLS, no auth,
 * as in exporter-toolkit) and the toolkit keys that load as "ignored".
 * TLS handshakes and client certificates are covered by
 * tests/integration/test_tls_auth.py with certificates made at run time.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/webconfig.h"
#include "exporter/http/webauth.h"
#include "tests/badconfig.h"

#define WEB_DIR "data/config/web"

static void check_bad_file(const char *name)
{
	char path[512], want[1024], err[1024] = "";
	struct webconfig *w = NULL;
	int r;

	(void)snprintf(path, sizeof(path), "%s/bad/%s", WEB_DIR, name);
	badconfig_expected(path, want, sizeof(want));
	r = webconfig_load_file(path, &w, err, sizeof(err));
	if (r != -EINVAL || strncmp(err, want, strlen(want)) != 0) {
		fail_msg("%s: got %d '%s', want -EINVAL '%s...'", name, r, err, want);
	}
	assert_null(w);
}

static void test_bad_fixtures(void **state)
{
	DIR *d = opendir(WEB_DIR "/bad");
	struct dirent *e;
	unsigned n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".yml") == 0) {
			check_bad_file(e->d_name);
			n++;
		}
	}
	(void)closedir(d);
	assert_true(n >= 26);
}

static struct webconfig *load_good(const char *path)
{
	struct webconfig *w = NULL;
	char err[1024] = "";
	int r = webconfig_load_file(path, &w, err, sizeof(err));

	if (r != 0) {
		fail_msg("%s: %d %s", path, r, err);
	}
	return w;
}

static void test_auth_only(void **state)
{
	struct webconfig *w = load_good(WEB_DIR "/good/auth_only.yml");

	(void)state;
	assert_false(w->tls);
	assert_false(webconfig_wants_client_cert(w));
	assert_int_equal(w->n_users, 2);
	assert_string_equal(w->users[0].name, "alice");
	assert_int_equal(strlen(w->users[0].value), 60);
	assert_int_equal(w->n_headers, 2);
	assert_string_equal(w->headers[0].name, "X-Frame-Options");
	assert_string_equal(w->headers[0].value, "deny");
	webconfig_destroy(w);
	webconfig_destroy(NULL);
}

/* exporter-toolkit reads a file with no document as "no TLS, no auth". */
static void test_empty_documents(void **state)
{
	static const char *const texts[] = {
	    "",    "\n",    "# only a comment\n", "  # indented\n\n", "---\n", "--- # start\n...\n",
	    "~\n", "null\n"};
	static const char *const files[] = {WEB_DIR "/good/empty.yml",
	                                    WEB_DIR "/good/comments_only.yml"};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct webconfig *w = NULL;
		struct webauth *a = NULL;
		char err[256] = "x";
		int r = webconfig_load_buffer("web.yml", texts[i], strlen(texts[i]), &w, err,
		                              sizeof(err));
		if (r != 0) {
			fail_msg("text %zu: %d %s", i, r, err);
		}
		assert_string_equal(err, "");
		assert_false(w->tls);
		assert_int_equal(w->n_users, 0);
		assert_int_equal(w->n_headers, 0);
		assert_int_equal(w->n_ignored, 0);
		assert_int_equal(webauth_create(w, &a, err, sizeof(err)), 0);
		assert_false(webauth_has_users(a));
		assert_int_equal(webauth_check_client_cert(a, NULL), 0);
		webauth_destroy(a);
		webconfig_destroy(w);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct webconfig *w = load_good(files[i]);
		assert_false(w->tls);
		assert_int_equal(w->n_users + w->n_headers + w->n_ignored, 0);
		webconfig_destroy(w);
	}
}

/* Not every failure to load a document is an empty file: syntax errors and
 * a second (empty) document stay errors, with their position. */
static void test_empty_lookalikes(void **state)
{
	static const struct {
		const char *text, *want;
	} rows[] = {
	    {"[\n", "web.yml:2:1: "},
	    {"---\n---\n", "web.yml:2:1: only one YAML document is allowed"},
	    {"\"\"\n", "web.yml:1:1: expected a mapping"},
	    {"[]\n", "web.yml:1:1: expected a mapping"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct webconfig *w = NULL;
		char err[256] = "";
		int r = webconfig_load_buffer("web.yml", rows[i].text, strlen(rows[i].text), &w,
		                              err, sizeof(err));
		if (r != -EINVAL || strncmp(err, rows[i].want, strlen(rows[i].want)) != 0) {
			fail_msg("row %zu: got %d '%s', want -EINVAL '%s...'", i, r, err,
			         rows[i].want);
		}
		assert_null(w);
	}
}

/* Toolkit keys we cannot honour load, and come back as ignored[] (in file
 * order within each section) for the HTTP layer to warn about; inline cert
 * and key are taken as the PEM text. */
static void test_toolkit_keys(void **state)
{
	static const char *const want[] = {
	    "tls_server_config.cipher_suites",
	    "tls_server_config.prefer_server_cipher_suites",
	    "tls_server_config.curve_preferences",
	    "http_server_config.http2",
	    "rate_limit",
	};
	struct webconfig *w = load_good(WEB_DIR "/good/toolkit_keys.yml");

	(void)state;
	assert_true(w->tls);
	assert_non_null(strstr(w->cert_pem, "-----BEGIN CERTIFICATE-----\nMIIB\n"));
	assert_non_null(strstr(w->key_pem, "-----BEGIN PRIVATE KEY-----\nMIIE\n"));
	assert_null(w->client_ca_pem);
	assert_int_equal(w->min_version, WEBCONFIG_TLS12);
	assert_int_equal(w->max_version, WEBCONFIG_TLS13);
	assert_int_equal(w->n_ignored, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < w->n_ignored; i++) {
		assert_string_equal(w->ignored[i], want[i]);
	}
	webconfig_destroy(w);
	/* http2: false is what we do anyway: nothing ignored. */
	w = load_good(WEB_DIR "/good/auth_only.yml");
	assert_int_equal(w->n_ignored, 0);
	webconfig_destroy(w);
}

static void test_passwords_and_cache(void **state)
{
	struct webconfig *w = load_good(WEB_DIR "/good/auth_only.yml");
	struct webauth *a = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(webauth_create(w, &a, err, sizeof(err)), 0);
	assert_true(webauth_has_users(a));
	assert_int_equal(webauth_check_password(a, "bob", "hunter2"), 0);
	assert_int_equal(webauth_bcrypt_runs(a), 1);
	/* Cached: the same pair again costs no bcrypt run. */
	assert_int_equal(webauth_check_password(a, "bob", "hunter2"), 0);
	assert_int_equal(webauth_bcrypt_runs(a), 1);
	/* The cache is keyed on the password too: a wrong one is checked (and
	 * fails) every time, failures are never cached. */
	assert_int_equal(webauth_check_password(a, "bob", "hunter3"), -EACCES);
	assert_int_equal(webauth_check_password(a, "bob", "hunter3"), -EACCES);
	assert_int_equal(webauth_bcrypt_runs(a), 3);
	assert_int_equal(webauth_check_password(a, "bob", ""), -EACCES);
	/* Another user's password does not pass. */
	assert_int_equal(webauth_check_password(a, "alice", "hunter2"), -EACCES);
	assert_int_equal(webauth_check_password(a, "alice", "secret"), 0);
	/* Unknown users still pay one bcrypt run (no user enumeration by timing). */
	unsigned long before = webauth_bcrypt_runs(a);
	assert_int_equal(webauth_check_password(a, "mallory", "hunter2"), -EACCES);
	assert_int_equal(webauth_bcrypt_runs(a), before + 1);
	/* Missing credentials. */
	assert_int_equal(webauth_check_password(a, NULL, NULL), -EACCES);
	assert_int_equal(webauth_check_password(a, "bob", NULL), -EACCES);
	/* Without TLS every session passes the client-certificate check. */
	assert_int_equal(webauth_check_client_cert(a, NULL), 0);
	webauth_destroy(a);
	webauth_destroy(NULL);
	webconfig_destroy(w);
}

static void test_tls_priorities(void **state)
{
	static const struct {
		enum webconfig_tls_version min, max;
		const char *want;
	} rows[] = {
	    {WEBCONFIG_TLS12, WEBCONFIG_TLS13, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
	    {WEBCONFIG_TLS13, WEBCONFIG_TLS13, "NORMAL:-VERS-ALL:+VERS-TLS1.3"},
	    {WEBCONFIG_TLS12, WEBCONFIG_TLS12, "NORMAL:-VERS-ALL:+VERS-TLS1.2"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct webconfig w = {.min_version = rows[i].min, .max_version = rows[i].max};
		struct webauth *a = NULL;
		char err[64];
		assert_int_equal(webauth_create(&w, &a, err, sizeof(err)), 0);
		assert_string_equal(webauth_tls_priorities(a), rows[i].want);
		assert_false(webauth_has_users(a));
		webauth_destroy(a);
	}
}

static void test_bad_pem_material(void **state)
{
	static const char text[] = "tls_server_config:\n"
	                           "  cert_file: bad_cert.pem\n"
	                           "  key_file: bad_cert.pem\n";
	char dir[] = "/tmp/test_webconfig.XXXXXX", pem[64], name[64];
	struct webconfig *w = NULL;
	struct webauth *a = NULL;
	char err[1024] = "";
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(pem, sizeof(pem), "%s/bad_cert.pem", dir);
	(void)snprintf(name, sizeof(name), "%s/web.yml", dir);
	f = fopen(pem, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
	(void)fclose(f);
	assert_int_equal(webconfig_load_buffer(name, text, strlen(text), &w, err, sizeof(err)), 0);
	/* The schema is fine; GnuTLS rejects the material. */
	assert_int_equal(webauth_create(w, &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tls_server_config: cert_file/key_file: "));
	assert_null(a);
	webconfig_destroy(w);
	(void)remove(pem);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_fixtures),        cmocka_unit_test(test_auth_only),
	    cmocka_unit_test(test_passwords_and_cache), cmocka_unit_test(test_tls_priorities),
	    cmocka_unit_test(test_bad_pem_material),    cmocka_unit_test(test_empty_documents),
	    cmocka_unit_test(test_empty_lookalikes),    cmocka_unit_test(test_toolkit_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
