/*
 * test_syslog.c - syslog headers (RFC 3164 as nginx and logger write it,
 * RFC 5424 as logger writes it) and TCP framing (octet counting, newline).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/syslog.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LINE "127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\""

static void t_parse(void **state)
{
	static const struct {
		const char *in;
		int rc;
		enum syslog_proto proto;
		unsigned pri;
		const char *host, *tag, *msg;
	} rows[] = {
	    /* nginx: access_log syslog:server=...,tag=nginx */
	    {"<190>Dec  3 10:00:00 web1 nginx: " LINE, 0, SYSLOG_RFC3164, 190, "web1", "nginx",
	     LINE},
	    /* nginx with nohostname */
	    {"<190>Dec 13 10:00:00 nginx: " LINE, 0, SYSLOG_RFC3164, 190, "", "nginx", LINE},
	    /* logger --rfc3164 -t web --id=42 */
	    {"<13>Dec  3 10:00:00 host web[42]: " LINE, 0, SYSLOG_RFC3164, 13, "host", "web", LINE},
	    /* no tag */
	    {"<13>Dec  3 10:00:00 host " LINE, 0, SYSLOG_RFC3164, 13, "host", "", LINE},
	    /* no timestamp */
	    {"<13>web: " LINE "\n", 0, SYSLOG_RFC3164, 13, "", "web", LINE},
	    {"<0>" LINE, 0, SYSLOG_RFC3164, 0, "", "", LINE},
	    /* logger --rfc5424 (default) */
	    {"<13>1 2026-12-03T10:00:00.123456+00:00 host web 42 - [timeQuality tzKnown=\"1\" "
	     "isSynced=\"0\"] " LINE,
	     0, SYSLOG_RFC5424, 13, "host", "web", LINE},
	    {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
	     "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"l\\]\"][b x=\"\"] "
	     "\xef\xbb\xbf" LINE,
	     0, SYSLOG_RFC5424, 165, "mymachine.example.com", "evntslog", LINE},
	    {"<14>1 - - - - - -", 0, SYSLOG_RFC5424, 14, "", "", ""},
	    {"<14>1 - h a p m - x\r\n\0", 0, SYSLOG_RFC5424, 14, "h", "a", "x"},
	    /* invalid */
	    {"", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {LINE, -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<>x", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<192>x", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<013>x", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<1234>x", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13>1 2026-12-03T10:00:00Z host", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13>1 - h a p m [x a=\"b] y", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13>1 - h a p m [] y", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13>1 - h a p m -y", -EINVAL, 0, 0, NULL, NULL, NULL},
	    {"<13>1 - h a p 012345678901234567890123456789xyz - y", -EINVAL, 0, 0, NULL, NULL,
	     NULL},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct syslog_msg m = {.pri = 999};
		size_t len = strlen(rows[i].in);
		if (i == 9) {
			len += 1; /* the trailing NUL is part of the datagram */
		}
		int rc = syslog_parse(rows[i].in, len, &m);
		assert_int_equal(rc, rows[i].rc);
		if (rc < 0) {
			assert_int_equal(m.pri, 999);
			continue;
		}
		assert_int_equal(m.proto, rows[i].proto);
		assert_int_equal(m.pri, rows[i].pri);
		assert_int_equal(m.host_len, strlen(rows[i].host));
		assert_memory_equal(m.host ? m.host : "", rows[i].host, m.host_len);
		assert_true(syslog_tag_is(&m, rows[i].tag, strlen(rows[i].tag)));
		assert_int_equal(m.msg_len, strlen(rows[i].msg));
		assert_memory_equal(m.msg, rows[i].msg, m.msg_len);
	}
}

/* Feed s in pieces of step bytes through a buffer of bufsz, as the TCP
 * receiver does; collect messages joined by '|', too-long as '#', bad as '!'. */
static void run_frames(const char *s, size_t total, size_t step, size_t cap, char *out,
                       size_t out_size)
{
	struct syslog_framer f = {0};
	char buf[64];
	size_t have = 0, pos = 0, o = 0;

	out[0] = '\0';
	while (pos < total || have > 0) {
		size_t k = total - pos < step ? total - pos : step;
		if (k > sizeof(buf) - have) {
			k = sizeof(buf) - have;
		}
		memcpy(buf + have, s + pos, k);
		have += k;
		pos += k;
		for (;;) {
			size_t used = 0, len = 0;
			const char *msg = NULL;
			enum syslog_frame_result r =
			    syslog_frame_next(&f, buf, have, cap, &used, &msg, &len);
			assert_true(used <= have);
			if (r == SYSLOG_FRAME_MSG) {
				assert_true(o + len + 2 < out_size);
				memcpy(out + o, msg, len);
				o += len;
				out[o++] = '|';
			} else if (r == SYSLOG_FRAME_TOO_LONG) {
				out[o++] = '#';
			} else if (r == SYSLOG_FRAME_BAD) {
				out[o++] = '!';
				out[o] = '\0';
				return;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			if (r == SYSLOG_FRAME_MORE) {
				break;
			}
		}
		out[o] = '\0';
		if (pos == total) {
			break;
		}
	}
}

static void t_frames(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		const char *out;
	} rows[] = {
	    {"<1>a\n<1>b\r\n\n<1>c\n", 40, "<1>a|<1>b|<1>c|"},
	    {"4 <1>a5 <1>bc\n3 <1>", 40, "<1>a|<1>bc|<1>|"},
	    {"3 <1>6 <1>a\nb", 40, "<1>|<1>a\nb|"},
	    /* mixed framing per frame */
	    {"4 <1>a<1>b\n", 40, "<1>a|<1>b|"},
	    /* over the cap: skipped whole, once each, then in step again */
	    {"<1>0123456789abcdef\n<1>ok\n", 10, "#<1>ok|"},
	    {"100 <1>0123456789012345678901234567890123456789012345678901234567890123456789"
	     "012345678901234567890123456<1>ok\n",
	     40, "#<1>ok|"},
	    {"<1>0123456789012345678901234567890123456789012345678901234567890123456789\n<1>ok\n",
	     40, "#<1>ok|"},
	    /* exactly cap, with \r\n */
	    {"<1>4567890\r\n", 10, "<1>4567890|"},
	    /* broken counts */
	    {"04 <1>a", 40, "!"},
	    {"12x <1>a", 40, "!"},
	    {"12345678901 x", 40, "!"},
	};
	char out[512];
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		for (size_t step = 1; step <= 64; step *= 2) {
			run_frames(rows[i].in, strlen(rows[i].in), step, rows[i].cap, out,
			           sizeof(out));
			if (strcmp(out, rows[i].out) != 0) {
				fail_msg("row %zu step %zu: got '%s' want '%s'", i, step, out,
				         rows[i].out);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_parse),
	    cmocka_unit_test(t_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
