/*
 * test_expo.c - exposition writer: escaping, UTF-8 repair, family lines,
 * and the capped buffer underneath.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/metrics/expo.h"
#include "exporter/strbuf.h"

struct escape_case {
	const char *in;
	size_t len;
	const char *want;
};

static void t_escape_table(void **state)
{
	static const struct escape_case cases[] = {
	    {"plain", 5, "plain"},
	    {"a\"b", 3, "a\\\"b"},
	    {"back\\slash", 10, "back\\\\slash"},
	    {"new\nline", 8, "new\\nline"},
	    {"caf\xc3\xa9", 5, "caf\xc3\xa9"},                           /* valid 2-byte */
	    {"\xe2\x82\xac", 3, "\xe2\x82\xac"},                         /* valid 3-byte */
	    {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},                 /* valid 4-byte */
	    {"\xff", 1, "\xef\xbf\xbd"},                                 /* invalid byte */
	    {"a\xc3", 2, "a\xef\xbf\xbd"},                               /* truncated sequence */
	    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong */
	    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	    {"\xf4\x90\x80\x80", 4,
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
	    {"nul\0byte", 8, "nul\0byte"},
	    {"", 0, ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf b;
		strbuf_init(&b, 1024);
		expo_escape_value(&b, cases[i].in, cases[i].len);
		size_t wl = cases[i].len == 8 && cases[i].in[3] == '\0' ? 8 : strlen(cases[i].want);
		assert_int_equal(b.error, 0);
		assert_int_equal(b.len, wl);
		assert_memory_equal(b.data ? b.data : "", cases[i].want, wl);
		strbuf_finish(&b);
	}
}

/* Long values go eight bytes at a time until a byte needs a look: each
 * special byte at every position of a 27-byte value (whole words, the
 * last partial word) comes out escaped exactly where it was. */
static void t_escape_long(void **state)
{
	static const struct {
		const char *in, *want;
	} specials[] = {{"\"", "\\\""},           {"\\", "\\\\"},           {"\n", "\\n"},
	                {"\xff", "\xef\xbf\xbd"}, {"\xc3\xa9", "\xc3\xa9"}, {"\x7f", "\x7f"}};
	(void)state;
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		size_t sl = strlen(specials[k].in);
		for (size_t pos = 0; pos + sl <= 27; pos++) {
			char in[32], want[64];
			struct strbuf b;
			memset(in, 'a', 27);
			memcpy(in + pos, specials[k].in, sl);
			memset(want, 'a', pos);
			size_t wl = pos;
			memcpy(want + wl, specials[k].want, strlen(specials[k].want));
			wl += strlen(specials[k].want);
			memset(want + wl, 'a', 27 - pos - sl);
			wl += 27 - pos - sl;
			strbuf_init(&b, 1024);
			expo_escape_value(&b, in, 27);
			assert_int_equal(b.len, wl);
			assert_memory_equal(b.data, want, wl);
			strbuf_finish(&b);
		}
	}
}

static void t_family_and_samples(void **state)
{
	struct strbuf b;
	struct expo_label l[] = {{"source", "web", 0, NULL, 0}, {"code", "404", 0, NULL, 0}};
	struct expo_label le = {"le", "0.5", 0, NULL, 0};
	(void)state;

	strbuf_init(&b, 4096);
	expo_family(&b, EXPO_TEXT, "x_total", EXPO_COUNTER, "Help text.");
	expo_sample_u64(&b, "x_total", NULL, l, 2, NULL, 18446744073709551615ull);
	expo_sample_double(&b, "h", "_bucket", l, 1, &le, 3);
	expo_sample_double(&b, "g", NULL, NULL, 0, NULL, 0.25);
	expo_end(&b, EXPO_TEXT);
	assert_string_equal(b.data, "# HELP x_total Help text.\n"
	                            "# TYPE x_total counter\n"
	                            "x_total{source=\"web\",code=\"404\"} 18446744073709551615\n"
	                            "h_bucket{source=\"web\",le=\"0.5\"} 3\n"
	                            "g 0.25\n");
	strbuf_reset(&b);
	expo_family(&b, EXPO_OPENMETRICS, "x_total", EXPO_COUNTER, "Help.");
	expo_family(&b, EXPO_OPENMETRICS, "y_info", EXPO_INFO, "Info.");
	expo_end(&b, EXPO_OPENMETRICS);
	assert_string_equal(b.data, "# HELP x Help.\n# TYPE x counter\n"
	                            "# HELP y Info.\n# TYPE y info\n# EOF\n");
	strbuf_finish(&b);
}

static void t_strbuf_cap(void **state)
{
	struct strbuf b;
	(void)state;

	strbuf_init(&b, 8);
	assert_int_equal(strbuf_puts(&b, "12345678"), 0);
	assert_int_equal(strbuf_putc(&b, '9'), -E2BIG);
	/* the error sticks: later appends fail too and nothing is added */
	assert_int_equal(strbuf_puts(&b, ""), -E2BIG);
	assert_int_equal(b.len, 8);
	assert_null(strbuf_steal(&b, NULL));
	strbuf_reset(&b);
	assert_int_equal(strbuf_put_u64(&b, 0), 0);
	assert_int_equal(strbuf_put_double(&b, 1.5), 0);
	assert_string_equal(b.data, "01.5");
	strbuf_finish(&b);
	strbuf_finish(NULL);
}

static void t_doubles(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {{0, "0"},
	             {1, "1"},
	             {-2, "-2"},
	             {0.1, "0.1"},
	             {1e-9, "1e-09"},
	             {0.005, "0.005"},
	             {123456.789, "123456.789"},
	             {1.0 / 0.0, "+Inf"},
	             {-1.0 / 0.0, "-Inf"}};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf b;
		strbuf_init(&b, 64);
		assert_int_equal(strbuf_put_double(&b, cases[i].v), 0);
		assert_string_equal(b.data, cases[i].want);
		strbuf_finish(&b);
	}
}

static void t_fragment(void **state)
{
	struct expo_label l[2] = {{"source", "a\"b", 0, NULL, 0}, {"env", "x\xff", 0, NULL, 0}};
	struct strbuf frag, out;
	(void)state;

	strbuf_init(&frag, 1024);
	strbuf_init(&out, 1024);
	expo_labels_fragment(&frag, l, 2);
	assert_string_equal(frag.data, "source=\"a\\\"b\",env=\"x\xef\xbf\xbd\"");
	/* A fragment used as one label equals the labels written one by one. */
	struct expo_label pre[2] = {{NULL, frag.data, frag.len, NULL, 0},
	                            {"code", "200", 0, NULL, 0}};
	struct expo_label all[3] = {l[0], l[1], {"code", "200", 0, NULL, 0}};
	expo_sample_u64(&out, "m_total", NULL, pre, 2, NULL, 7);
	size_t n = out.len;
	expo_sample_u64(&out, "m_total", NULL, all, 3, NULL, 7);
	assert_int_equal(out.len, 2 * n);
	assert_memory_equal(out.data, out.data + n, n);
	/* The inline append respects the cap exactly. */
	struct strbuf small;
	strbuf_init(&small, 4);
	assert_int_equal(strbuf_append(&small, "abcd", 4), 0);
	assert_int_equal(strbuf_append(&small, "e", 1), -E2BIG);
	assert_int_equal(small.len, 4);
	strbuf_finish(&small);
	strbuf_finish(&frag);
	strbuf_finish(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_escape_table),
	    cmocka_unit_test(t_escape_long),
	    cmocka_unit_test(t_family_and_samples),
	    cmocka_unit_test(t_strbuf_cap),
	    cmocka_unit_test(t_doubles),
	    cmocka_unit_test(t_fragment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
