/*
 * test_rotchain.c - rotated names (rotchain_is_member), codecs by name and
 * by magic bytes, the name a rotated copy belongs to, rotation order,
 * listing a real directory, and the
 * catch-up plan: anchor, older and newer members, weak (empty) matches,
 * the checkpointed file gone (mtime rule), compressed copies, unreadable
 * codecs and the byte limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/input/rotchain.h"

static void t_members(void **state)
{
	static const struct {
		const char *name;
		bool member;
		enum rotchain_codec codec;
		bool numbered;
		uint64_t number;
		const char *suffix;
	} cases[] = {
	    {"access.log.1", true, ROTCHAIN_PLAIN, true, 1, "1"},
	    {"access.log.12.gz", true, ROTCHAIN_GZIP, true, 12, "12"},
	    {"access.log.3.bz2", true, ROTCHAIN_BZIP2, true, 3, "3"},
	    {"access.log.4.xz", true, ROTCHAIN_XZ, true, 4, "4"},
	    {"access.log.5.zst", true, ROTCHAIN_ZSTD, true, 5, "5"},
	    {"access.log-20261203", true, ROTCHAIN_PLAIN, false, 0, "20261203"},
	    {"access.log-20261203.gz", true, ROTCHAIN_GZIP, false, 0, "20261203"},
	    {"access.log-20261203-1764720000", true, ROTCHAIN_PLAIN, false, 0,
	     "20261203-1764720000"},
	    {"access.log.2026-12-03", true, ROTCHAIN_PLAIN, false, 0, "2026-12-03"},
	    {"access.log.20261203", true, ROTCHAIN_PLAIN, false, 0, "20261203"},
	    {"access.log", false, 0, false, 0, NULL},
	    {"access.log.", false, 0, false, 0, NULL},
	    {"access.log.gz", false, 0, false, 0, NULL},
	    {"access.log.old", false, 0, false, 0, NULL},
	    {"access.log.1.bak", false, 0, false, 0, NULL},
	    {"access.logx.1", false, 0, false, 0, NULL},
	    {"error.log.1", false, 0, false, 0, NULL},
	    {"access.log.-1", false, 0, false, 0, NULL},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rotchain_key k;
		bool m = rotchain_is_member("access.log", cases[i].name, &k);
		if (m != cases[i].member) {
			fail_msg("%s: member %d", cases[i].name, m);
		}
		if (!m) {
			continue;
		}
		assert_int_equal(k.codec, cases[i].codec);
		assert_int_equal(k.numbered, cases[i].numbered);
		assert_int_equal(k.number, cases[i].number);
		assert_string_equal(k.suffix, cases[i].suffix);
	}
}

static void t_codecs(void **state)
{
	static const unsigned char gz[] = {0x1f, 0x8b, 8, 0};
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
	static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const char text[] = "127.0.0.1 - - [03/Dec/2026";
	(void)state;

	assert_int_equal(rotchain_codec_by_name("/var/log/a.log.2.gz"), ROTCHAIN_GZIP);
	assert_int_equal(rotchain_codec_by_name("a.log.bz2"), ROTCHAIN_BZIP2);
	assert_int_equal(rotchain_codec_by_name("a.log"), ROTCHAIN_PLAIN);
	assert_int_equal(rotchain_codec_by_name(".gz"), ROTCHAIN_PLAIN);
	assert_int_equal(rotchain_codec_by_magic(gz, sizeof(gz)), ROTCHAIN_GZIP);
	assert_int_equal(rotchain_codec_by_magic(gz, 1), ROTCHAIN_PLAIN); /* too short */
	assert_int_equal(rotchain_codec_by_magic("BZh91AY", 7), ROTCHAIN_BZIP2);
	assert_int_equal(rotchain_codec_by_magic(xz, sizeof(xz)), ROTCHAIN_XZ);
	assert_int_equal(rotchain_codec_by_magic(zst, sizeof(zst)), ROTCHAIN_ZSTD);
	assert_int_equal(rotchain_codec_by_magic(text, strlen(text)), ROTCHAIN_PLAIN);
	assert_string_equal(rotchain_codec_name(ROTCHAIN_GZIP), "gzip");
	assert_string_equal(rotchain_action_name(ROTCHAIN_SKIP_LIMIT), "limit");
}

static void t_root(void **state)
{
	static const struct {
		const char *path;
		const char *root; /* NULL: not a rotated name */
	} rows[] = {
	    {"/var/log/nginx/access.log.1", "/var/log/nginx/access.log"},
	    {"/var/log/nginx/access.log.2.gz", "/var/log/nginx/access.log"},
	    {"access.log-20261203-1764720000.gz", "access.log"},
	    {"logs/site-2.log.3", "logs/site-2.log"},
	    {"/var/log/nginx/access.log", NULL},
	    {"/var/log/app-2026.log", NULL},
	    {"/var/log/x.gz", NULL},
	};
	char buf[512], small[8];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool ok = rotchain_root(rows[i].path, buf, sizeof(buf));
		if (ok != (rows[i].root != NULL) || (ok && strcmp(buf, rows[i].root) != 0)) {
			fail_msg("%s: %d '%s'", rows[i].path, ok, ok ? buf : "");
		}
	}
	assert_false(rotchain_root("/var/log/nginx/access.log.1", small, sizeof(small)));
}

static struct rotchain_key key(const char *name)
{
	struct rotchain_key k;
	assert_true(rotchain_is_member("a.log", name, &k));
	return k;
}

static void t_order(void **state)
{
	struct rotchain_key k1 = key("a.log.1"), k2 = key("a.log.2.gz"), k10 = key("a.log.10");
	struct rotchain_key d1 = key("a.log-20261202"), d2 = key("a.log-20261203.gz");
	struct rotchain_key p1 = key("a.log.1"), g1 = key("a.log.1.gz");
	(void)state;

	assert_true(rotchain_compare(&k2, 0, &k1, 0) < 0); /* .2 is older than .1 */
	assert_true(rotchain_compare(&k10, 0, &k2, 0) < 0);
	assert_true(rotchain_compare(&d1, 0, &d2, 0) < 0); /* earlier date is older */
	assert_true(rotchain_compare(&k1, 5, &d1, 9) < 0); /* mixed: by mtime */
	assert_true(rotchain_compare(&d1, 9, &k1, 5) > 0);
	assert_true(rotchain_compare(&p1, 5, &g1, 5) < 0); /* same key: plain first */
	assert_int_equal(rotchain_compare(&k1, 5, &p1, 5), 0);
}

/* A chain for the planner, oldest first: "name:saved:mtime:content" specs. */
struct spec {
	const char *name;
	long saved;
	int64_t mtime;
	uint64_t content;
	uint64_t offset;
	bool weak;
};

static void plan(const struct spec *sp, size_t n, const struct rotchain_plan_options *o,
                 const enum rotchain_action *want, uint64_t want_bytes)
{
	struct rotchain_member m[16];

	assert_true(n <= 16);
	memset(m, 0, sizeof(m));
	for (size_t i = 0; i < n; i++) {
		m[i].key = key(sp[i].name);
		m[i].saved = sp[i].saved;
		m[i].mtime_ns = sp[i].mtime;
		m[i].content = sp[i].content;
		m[i].size = sp[i].content;
		m[i].offset = sp[i].offset;
		m[i].weak = sp[i].weak;
	}
	assert_int_equal(rotchain_plan(m, n, o), want_bytes);
	for (size_t i = 0; i < n; i++) {
		if (m[i].action != want[i]) {
			fail_msg("%s: %s, want %s", sp[i].name, rotchain_action_name(m[i].action),
			         rotchain_action_name(want[i]));
		}
	}
}

#define NO_LIMIT UINT64_MAX

static void t_plan_anchor(void **state)
{
	/* The case: A (checkpointed) -> .2, B -> .1, C live. */
	const struct spec a[] = {{"a.log.3", -1, 1, 100, 0, false},
	                         {"a.log.2", 0, 2, 100, 10, false},
	                         {"a.log.1", -1, 3, 50, 0, false}};
	const enum rotchain_action wa[] = {ROTCHAIN_SKIP_OLDER, ROTCHAIN_RESUME, ROTCHAIN_READ};
	struct rotchain_plan_options o = {.max_bytes = NO_LIMIT, .saved_at_ns = 1};
	(void)state;

	plan(a, 3, &o, wa, 90 + 50);
	/* The live file is the checkpointed one: every member is older. */
	const enum rotchain_action all_old[] = {ROTCHAIN_SKIP_OLDER, ROTCHAIN_SKIP_OLDER,
	                                        ROTCHAIN_SKIP_OLDER};
	const struct spec b[] = {{"a.log.3", -1, 1, 100, 0, false},
	                         {"a.log.2", -1, 2, 100, 0, false},
	                         {"a.log.1", -1, 3, 50, 0, false}};
	o.current_saved = true;
	plan(b, 3, &o, all_old, 0);
}

static void t_plan_no_anchor(void **state)
{
	/* The checkpointed file is gone (or was empty): by mtime against the
	 * checkpoint's time; a weak match reads from 0 but anchors nothing. */
	const struct spec a[] = {{"a.log.4.gz", -1, 50, 100, 0, false},
	                         {"a.log.3.gz", 0, 150, 100, 0, true},
	                         {"a.log.2.gz", -1, 160, 100, 0, false},
	                         {"a.log.1", -1, 170, 100, 0, false}};
	const enum rotchain_action wa[] = {ROTCHAIN_SKIP_OLDER, ROTCHAIN_RESUME, ROTCHAIN_READ,
	                                   ROTCHAIN_READ};
	struct rotchain_plan_options o = {.max_bytes = NO_LIMIT, .saved_at_ns = 100};
	(void)state;

	plan(a, 4, &o, wa, 300);
	/* Checkpoint time unknown (a reload): nothing is guessed. */
	const enum rotchain_action wb[] = {ROTCHAIN_SKIP_OLDER, ROTCHAIN_RESUME,
	                                   ROTCHAIN_SKIP_OLDER, ROTCHAIN_SKIP_OLDER};
	o.saved_at_ns = 0;
	plan(a, 4, &o, wb, 100);
}

static void t_plan_skips(void **state)
{
	/* Checkpointed .4; .3 bzip2 (cannot read); .2 plain and its half-written
	 * .2.gz copy; .1 gzip; limit keeps the newest. */
	const struct spec a[] = {{"a.log.4", 0, 1, 1000, 400, false},
	                         {"a.log.3.bz2", -1, 2, 500, 0, false},
	                         {"a.log.2", -1, 3, 300, 0, false},
	                         {"a.log.2.gz", -1, 3, 300, 0, false},
	                         {"a.log.1.gz", -1, 4, 200, 0, false}};
	const enum rotchain_action wa[] = {ROTCHAIN_RESUME, ROTCHAIN_SKIP_CODEC, ROTCHAIN_READ,
	                                   ROTCHAIN_SKIP_COPY, ROTCHAIN_READ};
	const enum rotchain_action wb[] = {ROTCHAIN_SKIP_LIMIT, ROTCHAIN_SKIP_CODEC, ROTCHAIN_READ,
	                                   ROTCHAIN_SKIP_COPY, ROTCHAIN_READ};
	const enum rotchain_action wc[] = {ROTCHAIN_SKIP_LIMIT, ROTCHAIN_SKIP_CODEC,
	                                   ROTCHAIN_SKIP_LIMIT, ROTCHAIN_SKIP_COPY,
	                                   ROTCHAIN_SKIP_LIMIT};
	struct rotchain_plan_options o = {.max_bytes = NO_LIMIT, .saved_at_ns = 1};
	(void)state;

	plan(a, 5, &o, wa, 600 + 300 + 200);
	o.max_bytes = 1099; /* .1 and .2 fit (500), the rest of .4 (600) does not */
	plan(a, 5, &o, wb, 500);
	o.max_bytes = 0;
	plan(a, 5, &o, wc, 0);
}

/* ---- listing a real directory ------------------------------------------ */

static char dir[256];

static void touch(const char *name, const char *text, time_t mtime)
{
	char p[512];
	struct timeval tv[2] = {{mtime, 0}, {mtime, 0}};
	int fd;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(utimes(p, tv), 0);
}

static void t_list(void **state)
{
	struct rotchain_member *m = NULL;
	size_t n = 0;
	char base[512], sub[512];
	static const char *const want[] = {"access.log.10.gz", "access.log.3.gz", "access.log.2",
	                                   "access.log.1"};
	(void)state;

	(void)snprintf(dir, sizeof(dir), "/tmp/test_rotchain.XXXXXX");
	assert_non_null(mkdtemp(dir));
	touch("access.log", "live\n", 5000);
	touch("access.log.1", "one\n", 4000);
	touch("access.log.2", "two\n", 3000);
	touch("access.log.3.gz", "not really gzip\n", 2000);
	touch("access.log.10.gz", "x\n", 1000);
	touch("access.log.old", "?\n", 1000);
	touch("error.log.1", "?\n", 1000);
	(void)snprintf(sub, sizeof(sub), "%s/access.log.4", dir);
	assert_int_equal(mkdir(sub, 0755), 0); /* not a regular file */
	(void)snprintf(base, sizeof(base), "%s/access.log", dir);
	assert_int_equal(rotchain_list(base, &m, &n), 0);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(strstr(m[i].path, want[i]));
		assert_int_equal(m[i].saved, -1);
	}
	assert_int_equal(m[3].size, 4);
	assert_int_equal(m[3].content, 4);
	assert_int_equal(m[3].mtime_ns, 4000ll * 1000000000);
	assert_int_equal(m[1].key.codec, ROTCHAIN_GZIP);
	rotchain_free(m, n);
	(void)snprintf(base, sizeof(base), "%s/nodir/access.log", dir);
	assert_int_equal(rotchain_list(base, &m, &n), -ENOENT);
	(void)snprintf(base, sizeof(base), "%s/", dir);
	assert_int_equal(rotchain_list(base, &m, &n), -EINVAL);
	rotchain_free(NULL, 0);
	(void)snprintf(base, sizeof(base), "rm -rf '%s'", dir);
	assert_int_equal(system(base), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_members),        cmocka_unit_test(t_codecs),
	    cmocka_unit_test(t_order),          cmocka_unit_test(t_plan_anchor),
	    cmocka_unit_test(t_plan_no_anchor), cmocka_unit_test(t_plan_skips),
	    cmocka_unit_test(t_list),           cmocka_unit_test(t_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
