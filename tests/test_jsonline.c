/*
 * test_jsonline.c - JSON-lines parsing through logparse (kind "json").
 *
 * Lines have the shapes of nginx escape=json templates quoted in
 * VARIANTS.md 2.8/2.9 (goaccess issues #1747, #2338, #603) and of Traefik's
 * JSON access log, rewritten with documentation addresses; plus invalid
 * JSON that must count as a parse error.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/logparse.h"
#include "parsers/status.h"

struct json_case {
	const char *name;
	const char *keymap;
	const char *line;
	int rc;
	unsigned status; /* 0 = invalid slot */
	const char *method, *path, *protocol, *vhost;
	long long bytes;
	double request_time, upstream_time;
	unsigned attempts;
	int upstream_status;
};

/* VARIANTS.md 2.8 directive (goaccess#1747) */
#define ACCESS_PRO_JSON                                                                            \
	"log_format access-pro_json escape=json '{\"@timestamp\":\"$time_iso8601\",' "             \
	"'\"server_addr\":\"$server_addr\",' '\"remote_addr\":\"$remote_addr\",' "                 \
	"'\"http_x_forwarded_for\":\"$http_x_forwarded_for\",' '\"size\":\"$body_bytes_sent\",' "  \
	"'\"http_status\":\"$status\",' '\"domain_http_host\":\"$host\",' "                        \
	"'\"request\":\"$request\",' '\"uri\":\"$uri\",' '\"referer\":\"$http_referer\",' "        \
	"'\"responsetime\":\"$request_time\",' '\"http_user_agent\":\"$http_user_agent\",' "       \
	"'\"upstream_response_time\":\"$upstream_response_time\",' "                               \
	"'\"upstreamhost\":\"$upstream_addr\",' '\"upstreamstatus\":\"$upstream_status\"}';"

/* VARIANTS.md 2.9 directive (goaccess#603) */
#define GOACCESS_603_JSON                                                                          \
	"log_format json '{ \"timestamp\": \"$time_iso8601\", ' '\"@nginx_fields\":{' "            \
	"'\"url\":\"$uri\",' '\"clientip\": \"$remote_addr\", ' '\"domain\": \"$host\", ' "        \
	"'\"size\": $body_bytes_sent, ' '\"host\":\"$server_addr\",' "                             \
	"'\"upstreamtime\":\"$upstream_response_time\",' '\"upstreamaddr\":\"$upstream_addr\",' "  \
	"'\"responsetime\": $request_time, ' '\"status\": $status, ' '\"request\": \"$request\", " \
	"' "                                                                                       \
	"'\"request_method\": \"$request_method\", ' '\"referer\": \"$http_referer\", ' "          \
	"'\"agent\": \"$http_user_agent\" }}';"

static const struct json_case cases[] = {
    {"2.8 goaccess#2338 shape (all strings)", NULL,
     "{\"@timestamp\":\"2022-06-15T12:47:10+08:00\",\"clientRealIp\":\"192.0.2.123\","
     "\"remote_addr\":\"192.0.2.123\",\"remote_user\":\"-\",\"time_local\":\"-\","
     "\"request\":\"POST /x/y/z HTTP/1.1\",\"status\":\"200\",\"body_bytes_sent\":\"53\","
     "\"http_referer\":\"-\",\"http_host\":\"x.example.com\",\"http_user_agent\":\"Jakarta "
     "Commons-HttpClient/3.1\",\"http_x_forwarded_for\":\"-\",\"upstream_addr\":\"172.0.0.1:8081\","
     "\"upstream_status\":\"200\",\"upstream_response_time\":\"0.010\",\"request_time\":\"0.011\","
     "\"server_name\":\"xxx\",\"request_method\":\"POST\",\"uri\":\"/x/y/z\",\"scheme\":\"https\","
     "\"server_port\":\"443\",\"request_length\":\"755\"}",
     0, 200, "POST", "/x/y/z", "HTTP/1.1", "x.example.com", 53, 0.011, 0.010, 1, 200},
    {"2.8 access-pro_json template (goaccess#1747 shape)", NULL,
     "{\"@timestamp\":\"2020-04-28T00:00:41+08:00\",\"server_addr\":\"10.0.0.5\","
     "\"remote_addr\":\"10.252.253.113\",\"http_x_forwarded_for\":\"2001:db8:e43b:d10:953:4116:"
     "ecc1:f563, 10.252.253.113\",\"size\":\"5120\",\"http_status\":\"206\","
     "\"domain_http_host\":\"cdn.example.com\",\"request\":\"GET /v/a.mp4 HTTP/1.1\","
     "\"uri\":\"/v/"
     "a.mp4\",\"referer\":\"-\",\"responsetime\":\"0.250\",\"http_user_agent\":\"AppleCoreMedia/"
     "1.0\","
     "\"upstream_response_time\":\"0.100, 0.148\",\"upstreamhost\":\"10.0.0.7:80, 10.0.0.8:80\","
     "\"upstreamstatus\":\"502, 206\"}",
     0, 206, "GET", "/v/a.mp4", "HTTP/1.1", "cdn.example.com", 5120, 0.25, 0.248, 2, 206},
    {"2.9 goaccess#603 shape (nested, numbers, upstreamtime -)", NULL,
     "{ \"timestamp\": \"2016-12-27T14:43:27+08:00\", \"@nginx_fields\":{\"url\":\"/Main\","
     "\"clientip\": \"192.0.2.93\", \"domain\": \"www.example.com\", \"size\": 0, "
     "\"host\":\"10.20.3.32\",\"upstreamtime\":\"-\",\"upstreamaddr\":\"10.20.3.82:10001\","
     "\"responsetime\": 0.009, \"status\": 499, \"request\": \"GET /Main HTTP/1.1\", "
     "\"request_method\": \"GET\", \"referer\": \"http://www.example.com/Profile\", "
     "\"http_x_forwarded_for\": \"198.51.100.225\", \"agent\": \"Mozilla/5.0\" }}",
     0, 499, "GET", "/Main", "HTTP/1.1", "www.example.com", 0, 0.009, -1, 0, -1},
    {"Traefik JSON", NULL,
     "{\"ClientHost\":\"192.0.2.1\",\"DownstreamContentSize\":19,\"DownstreamStatus\":404,"
     "\"Duration\":1234567,\"RequestHost\":\"example.com\",\"RequestMethod\":\"GET\","
     "\"RequestPath\":\"/x\",\"RequestProtocol\":\"HTTP/1.1\",\"level\":\"info\","
     "\"time\":\"2024-01-01T00:00:00Z\",\"tags\":[1,2.5e3,true,false,null,{\"k\":[]}]}",
     0, 404, "GET", "/x", "HTTP/1.1", "example.com", 19, -1, -1, 0, -1},
    {"escapes decoded", NULL,
     "{\"status\":301,\"request\":\"GET \\/a\\u0022b\\\\c\\ud83d\\ude00 HTTP\\/1.0\"}", 0, 301,
     "GET", "/a\"b\\c\xf0\x9f\x98\x80", "HTTP/1.0", NULL, -1, -1, -1, 0, -1},
    {"raw non-UTF-8 bytes pass", NULL, "{\"status\":200,\"uri\":\"/\xff\xfe\xc3\x28\"}", 0, 200,
     NULL, "/\xff\xfe\xc3\x28", NULL, NULL, -1, -1, -1, 0, -1},
    {"status -", NULL, "{\"status\":\"-\",\"request_time\":\"0.5\"}", 0, 0, NULL, NULL, NULL, NULL,
     -1, 0.5, -1, 0, -1},
    {"status null", NULL, "{\"status\":null}", 0, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    {"status 000", NULL, "{\"status\":\"000\"}", 0, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    {"first key wins", NULL, "{\"status\":200,\"http_status\":500}", 0, 200, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"key map", "status=code,request_time_ms=took|elapsed_ms,vhost=site",
     "{\"status\":500,\"code\":201,\"elapsed_ms\":15,\"site\":\"a.example\"}", 0, 201, NULL, NULL,
     NULL, "a.example", -1, 0.015, -1, 0, -1},
    {"key map keeps other defaults", "request_time_us=dur",
     "{\"status\":200,\"dur\":2500,\"body_bytes_sent\":7}", 0, 200, NULL, NULL, NULL, NULL, 7,
     0.0025, -1, 0, -1},
    /* key map derived from the nginx escape=json log_format (VARIANTS 2.8) */
    {"2.8 template as key map", ACCESS_PRO_JSON,
     "{\"upstreamstatus\":\"502, 201\",\"upstream_response_time\":\"0.100, 0.148\","
     "\"responsetime\":\"0.250\",\"http_status\":\"201\",\"status\":\"500\",\"size\":\"12\","
     "\"domain_http_host\":\"cdn.example.com\",\"host\":\"wrong.example\",\"uri\":\"/u\","
     "\"request\":\"PUT /r HTTP/2.0\"}",
     0, 201, "PUT", "/u", "HTTP/2.0", "cdn.example.com", 12, 0.25, 0.248, 2, 201},
    /* 2.9 template: "host" holds $server_addr there, so it is not the vhost */
    {"2.9 template as key map", GOACCESS_603_JSON,
     "{ \"timestamp\": \"2016-12-27T14:43:27+08:00\", \"@nginx_fields\":{\"url\":\"/Main\","
     "\"clientip\": \"192.0.2.93\", \"size\": 0, \"host\":\"10.20.3.32\",\"upstreamtime\":\"-\","
     "\"responsetime\": 0.009, \"status\": 499, \"request\": \"GET /Main HTTP/1.1\"}}",
     0, 499, "GET", "/Main", "HTTP/1.1", "", 0, 0.009, -1, 0, -1},
    {"whitespace and CRLF", NULL, "  {\"status\" : 204 }  \r", 0, 204, NULL, NULL, NULL, NULL, -1,
     -1, -1, 0, -1},
    /* invalid lines */
    {"unquoted list (invalid JSON)", NULL,
     "{\"status\":200,\"upstream_response_time\":0.001, 0.002}", -EINVAL, 0, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"unquoted -", NULL, "{\"status\":200,\"request_time\":-}", -EINVAL, 0, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"missing status", NULL, "{\"request\":\"GET / HTTP/1.1\"}", -EINVAL, 0, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"status too deep", NULL, "{\"a\":{\"b\":{\"status\":200}}}", -EINVAL, 0, NULL, NULL, NULL,
     NULL, -1, -1, -1, 0, -1},
    {"trailing garbage", NULL, "{\"status\":200} x", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1,
     0, -1},
    {"unterminated", NULL, "{\"status\":200", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0,
     -1},
    {"bad escape", NULL, "{\"status\":200,\"uri\":\"\\x41\"}", -EINVAL, 0, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"short \\u", NULL, "{\"status\":200,\"uri\":\"\\u00\"}", -EINVAL, 0, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"control byte in string", NULL, "{\"status\":200,\"uri\":\"a\x01\"}", -EINVAL, 0, NULL, NULL,
     NULL, NULL, -1, -1, -1, 0, -1},
    {"bad number", NULL, "{\"status\":0200}", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0,
     -1},
    {"bad literal", NULL, "{\"status\":200,\"x\":tru}", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1,
     -1, 0, -1},
    {"missing comma", NULL, "{\"status\":200 \"x\":1}", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1,
     -1, 0, -1},
    {"trailing comma", NULL, "{\"status\":200,}", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0,
     -1},
    {"top-level array", NULL, "[{\"status\":200}]", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1,
     0, -1},
    {"empty", NULL, "", -EINVAL, 0, NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    {"too deep", NULL, "{\"status\":200,\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", -E2BIG, 0,
     NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void check_view(const struct json_case *c, const char *what, const char *want,
                       struct str_view got)
{
	if (want != NULL &&
	    (got.len != strlen(want) || (got.len && memcmp(got.ptr, want, got.len) != 0))) {
		print_error("%s: %s want \"%s\" got \"%.*s\"\n", c->name, what, want, (int)got.len,
		            got.ptr ? got.ptr : "");
		fail();
	}
}

static void check_num(const struct json_case *c, const char *what, double want, bool has,
                      double got)
{
	if ((want < 0) == has || (has && fabs(got - want) > 1e-9)) {
		print_error("%s: %s want %g got %s%g\n", c->name, what, want, has ? "" : "unset ",
		            got);
		fail();
	}
}

static void t_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct json_case *c = &cases[i];
		struct log_parser *p = NULL;
		struct logparse_error err;
		struct log_record r;
		if (logparse_create(LOGPARSE_JSON, c->keymap, &p, &err) < 0) {
			print_error("%s: %s\n", c->name, err.message);
			fail();
		}
		assert_null(logparse_pattern(p));
		int rc = logparse_line(p, c->line, strlen(c->line), &r);
		if (rc != c->rc) {
			print_error("%s: rc want %d got %d\n", c->name, c->rc, rc);
			fail();
		}
		if (rc == 0) {
			assert_int_equal(r.status_slot,
			                 c->status ? c->status - 100 : STATUS_SLOT_INVALID);
			check_view(c, "method", c->method, r.method);
			check_view(c, "path", c->path, r.path);
			check_view(c, "protocol", c->protocol, r.protocol);
			check_view(c, "vhost", c->vhost, r.vhost);
			check_num(c, "bytes", (double)c->bytes, r.has_bytes, (double)r.bytes_sent);
			check_num(c, "request_time", c->request_time, r.has_request_time,
			          r.request_time);
			check_num(c, "upstream_time", c->upstream_time, r.has_upstream_time,
			          r.upstream_time);
			assert_int_equal(r.upstream_attempts, c->attempts);
			if (c->upstream_status < 0) {
				assert_false(r.has_upstream_status);
			} else {
				assert_int_equal(r.upstream_status_slot,
				                 (unsigned)c->upstream_status - 100);
			}
		}
		logparse_destroy(p);
	}
}

static void t_keymap_errors(void **state)
{
	static const struct {
		const char *map;
		const char *needle;
		size_t column;
	} rows[] = {
	    {"bogus=x", "bogus", 1},
	    {"'{\"s\":\"$status\",\"x\":\"$nope\"}'", "$nope", 22},
	    {"'{\"t\":\"$request_time\"}'", "$status", 0},
	    {"status", "field=key", 1},
	    {"status=code,request_time=", "request_time", 26},
	    {"status=a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|0|1|2|3|4|5|6|7|8|9|"
	     "A|B|C|D|E|F|G|H|I|J|K|L|M|N|O|P|Q|R|S|T|U|V|W|X|Y|Z|aa|bb",
	     "more than", 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_parser *p = NULL;
		struct logparse_error err;
		assert_int_equal(logparse_create(LOGPARSE_JSON, rows[i].map, &p, &err), -EINVAL);
		if (strstr(err.message, rows[i].needle) == NULL ||
		    (rows[i].column && err.column != rows[i].column)) {
			print_error("map \"%s\": \"%s\" col %zu\n", rows[i].map, err.message,
			            err.column);
			fail();
		}
		assert_null(p);
	}
}

/* A line of 150k escaped characters decodes into scratch without overflow. */
static void t_long_escaped_line(void **state)
{
	size_t n = 150000; /* 900 KB, under the 1 MiB cap */
	char *line = malloc(n * 6 + 64);
	struct log_parser *p = NULL;
	struct log_record r;
	size_t len = 0;
	(void)state;
	assert_non_null(line);
	len += (size_t)snprintf(line, 64, "{\"status\":200,\"uri\":\"");
	for (size_t i = 0; i < n; i++) {
		memcpy(line + len, "\\u00e9", 6);
		len += 6;
	}
	memcpy(line + len, "\"}", 2);
	len += 2;
	assert_int_equal(logparse_create(LOGPARSE_JSON, NULL, &p, NULL), 0);
	assert_int_equal(logparse_line(p, line, len, &r), 0);
	assert_int_equal(r.path.len, 2 * n);
	assert_memory_equal(r.path.ptr, "\xc3\xa9", 2);
	logparse_destroy(p);
	free(line);
}

/* The string scanner looks at 16 bytes at a time from the opening quote,
 * the line's last 16 bytes again at its end, and byte by byte in lines
 * under 16 bytes: a quote, a backslash or a control byte must be found at
 * every offset inside and across blocks. */
static void t_string_scan_offsets(void **state)
{
	struct log_parser *p = NULL;
	struct log_record r;
	char line[160];
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_JSON, NULL, &p, NULL), 0);
	/* under 16 bytes: the byte-wise scan */
	assert_int_equal(logparse_line(p, "{\"status\":200}", 14, &r), 0);
	assert_int_equal(logparse_line(p, "{\"st\x01\":200}", 12, &r), -EINVAL);
	assert_int_equal(logparse_line(p, "{\"st\\q\":200}", 13, &r), -EINVAL);
	for (size_t n = 0; n < 72; n++) {
		/* {"uri":"aaaa...","status":200} parses with a path of n bytes */
		size_t len = (size_t)snprintf(line, sizeof(line), "{\"uri\":\"");
		memset(line + len, 'a', n);
		len += n;
		len += (size_t)snprintf(line + len, sizeof(line) - len, "\",\"status\":200}");
		assert_int_equal(logparse_line(p, line, len, &r), 0);
		assert_int_equal(r.path.len, n);
		for (size_t k = 0; k < n; k++) {
			char saved = line[8 + k];
			/* a raw control byte anywhere in the string is invalid JSON */
			line[8 + k] = '\x1f';
			assert_int_equal(logparse_line(p, line, len, &r), -EINVAL);
			/* a lone backslash before 'a' is an invalid escape */
			line[8 + k] = '\\';
			assert_int_equal(logparse_line(p, line, len, &r), -EINVAL);
			/* bytes >= 0x80 are plain */
			line[8 + k] = '\xe9';
			assert_int_equal(logparse_line(p, line, len, &r), 0);
			assert_int_equal(r.path.len, n);
			line[8 + k] = saved;
		}
	}
	logparse_destroy(p);
}

/* Keys are predicted from the line before, with the colon when that line
 * had it right after the key: one parser reads lines whose key order,
 * spacing and key lengths (up to the 17-32 byte compare with '":') change
 * from line to line, and every line must read as it does alone. */
static void t_key_prediction(void **state)
{
	static const struct {
		const char *line;
		int rc;
		unsigned status; /* when rc == 0 */
		size_t bytes;    /* body_bytes_sent, when rc == 0 */
	} rows[] = {
	    {"{\"status\":200,\"body_bytes_sent\":12}", 0, 200, 12},
	    {"{\"status\":201,\"body_bytes_sent\":13}", 0, 201, 13},
	    {"{\"status\" :202,\"body_bytes_sent\" : 14}", 0, 202, 14},
	    {"{\"status\":203,\"body_bytes_sent\":15}", 0, 203, 15},
	    {"{\"status2\":1,\"status\":204,\"body_bytes_sent\":16}", 0, 204, 16},
	    {"{\"statu\":1,\"status\":205,\"body_bytes_sent\":17}", 0, 205, 17},
	    {"{\"status\":206,\"body_bytes_sent\":18}", 0, 206, 18},
	    {"{\"status\":207,\"body_bytes_sen\":19}", 0, 207, 0},
	    {"{\"status\":208,\"body_bytes_sent\":20}", 0, 208, 20},
	    {"{\"status\"", -EINVAL, 0, 0},
	    {"{\"status\":", -EINVAL, 0, 0},
	    {"{\"status\";209}", -EINVAL, 0, 0},
	    {"{\"status\":210}", 0, 210, 0},
	    {"{\"status\"\t:\t211}", 0, 211, 0},
	    {"{\"status\":212}", 0, 212, 0},
	};
	struct log_parser *p = NULL;
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_JSON, NULL, &p, NULL), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct log_record r;
		int rc = logparse_line(p, rows[i].line, strlen(rows[i].line), &r);
		if (rc != rows[i].rc) {
			fail_msg("line %zu (%s): rc %d, want %d", i, rows[i].line, rc, rows[i].rc);
		}
		if (rc == 0) {
			assert_int_equal(r.status_slot, status_slot_from_code(rows[i].status));
			assert_int_equal(r.has_bytes, rows[i].bytes != 0);
			assert_int_equal(r.bytes_sent, rows[i].bytes);
		}
	}
	logparse_destroy(p);
}

/* Two fields mapped to the same key name: the one listed first wins. */
static void t_shared_key_name(void **state)
{
	struct log_parser *p = NULL;
	struct log_record r;
	static const char line[] = "{\"host\":\"201\",\"code\":500}";
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_JSON, "status=host|code", &p, NULL), 0);
	assert_int_equal(logparse_line(p, line, strlen(line), &r), 0);
	assert_int_equal(r.status_slot, 101);
	assert_int_equal(r.vhost.len, 0);
	logparse_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_cases),
	    cmocka_unit_test(t_keymap_errors),
	    cmocka_unit_test(t_long_escaped_line),
	    cmocka_unit_test(t_string_scan_offsets),
	    cmocka_unit_test(t_key_prediction),
	    cmocka_unit_test(t_shared_key_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
