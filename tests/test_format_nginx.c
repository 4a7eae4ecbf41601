/*
 * test_format_nginx.c - nginx log_format compilation: which variables are
 * captured into which fields, config-file quoting, error columns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parsers/format_nginx.h"
#include "tests/formatcheck.h"

static void t_groups(void **state)
{
	static const struct formatcheck_groups rows[] = {
	    {"$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
	     "\"$http_referer\" \"$http_user_agent\"",
	     "remote_addr,time_local,request,status,bytes"},
	    {"$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
	     "\"$http_referer\" \"$http_user_agent\" $request_length $request_time "
	     "[$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr "
	     "$upstream_response_length $upstream_response_time $upstream_status $req_id",
	     "remote_addr,time_local,request,status,bytes,request_length,request_time,"
	     "upstream_time,upstream_status"},
	    /* a field captured once: the second $status, $bytes_sent are not groups */
	    {"$status $status $body_bytes_sent $bytes_sent", "status,bytes"},
	    {"$host $server_name $http_host $status", "vhost,status"},
	    {"$request_method $request_uri $server_protocol $status",
	     "method,path,protocol,status"},
	    {"${status}${request_time}", "status,request_time"},
	    /* variables that are not extracted are matched, not captured */
	    {"$status $msec $time_iso8601 $http_x_forwarded_for $cookie_a $arg_b $sent_http_x "
	     "$upstream_http_x $upstream_queue_time $connection $pid",
	     "status,time_epoch"},
	    /* sizes and upstream phases (their histograms) */
	    {"$status $request_length $upstream_connect_time $upstream_header_time",
	     "status,request_length,upstream_connect_time,upstream_header_time"},
	    /* request and trace ids (exemplars), from variables and request headers */
	    {"$status $request_id \"$http_traceparent\" $otel_trace_id \"$http_x_request_id\"",
	     "status,request_id,traceparent,trace_id"},
	    /* only the first log time is captured */
	    {"$time_iso8601 $status $time_local", "time_iso8601,status"},
	};
	(void)state;
	formatcheck_groups(format_nginx_compile, rows, ARRAY_SIZE(rows));
}

/* Pasting the directive from nginx.conf gives the same pattern as the body. */
static void t_config_quoting(void **state)
{
	static const char body[] =
	    "$remote_addr - $remote_user [$time_local] \"$request\" "
	    "$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"";
	static const char *const pasted[] = {
	    "log_format combined '$remote_addr - $remote_user [$time_local] '\n"
	    "                    '\"$request\" $status $body_bytes_sent '\n"
	    "                    '\"$http_referer\" \"$http_user_agent\"';",
	    "  log_format   x   escape=default '$remote_addr - $remote_user [$time_local] "
	    "\"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"' ;\n",
	    "'$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
	    "\"$http_referer\" \"$http_user_agent\"'",
	    "log_format x \"$remote_addr - $remote_user [$time_local] \\\"$request\\\" $status "
	    "$body_bytes_sent \\\"$http_referer\\\" \\\"$http_user_agent\\\"\";",
	    "escape=json '$remote_addr - $remote_user [$time_local] ' '\"$request\" $status "
	    "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"'",
	};
	(void)state;
	formatcheck_quoting(format_nginx_compile, body, pasted, ARRAY_SIZE(pasted));
}

/* The combined pattern, spelled out: possessive pieces, 5 captures, the
 * trailing-fields lookahead.  A change here is a deliberate change. */
static void t_combined_pattern(void **state)
{
	struct logformat *f = malloc(sizeof(*f));
	(void)state;
	assert_non_null(f);
	assert_int_equal(format_nginx_compile("$remote_addr - $remote_user [$time_local] "
	                                      "\"$request\" $status $body_bytes_sent",
	                                      f, NULL),
	                 0);
	assert_string_equal(f->pattern,
	                    "^([^ ,]*+(?:(?:, | : )[^ ,]*+)*+) \\- (?:[^ ]*+) \\[([^\\]]*+)\\] "
	                    "\"([^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+)\" ((?:[0-9]++|-)) "
	                    "((?:[0-9]++|-))(?![^ \\t])");
	free(f);
}

static void t_errors(void **state)
{
	static const struct formatcheck_error rows[] = {
	    /* column counts in the pasted text, across config quoting */
	    {"log_format x '$status '\n  '$nope$';", "bad variable", 33},
	    {"log_format x escape=yaml '$status';", "yaml", 14},
	    /* 17 distinct unknown variables: the 17th is named by its column */
	    {"$status $a $b $c $d $e $f $g $h $i $j $k $l $m $n $o $p $q", "more than 16", 57},
	    {"$status $x01234567890123456789012345678901234567890123456789012345678901234",
	     "longer than 63", 9},
	    {"$status ${status", "bad variable", 9},
	    {"$status $", "bad variable", 9},
	    {"log_format x '$status' trailing", "unexpected text", 24},
	    {"$request_time", "no $status", 0},
	};
	(void)state;
	formatcheck_errors(format_nginx_compile, rows, ARRAY_SIZE(rows));
}

/* Variables the table does not know become opaque extra captures, named
 * and numbered by first appearance; one used twice is one capture; known
 * fields keep their groups. */
static void t_unknown_variables(void **state)
{
	static const char fmt[] =
	    "log_format x '$remote_addr [$time_local] \"$request\" $status '\n"
	    "  '$process_time \"$geo_city\" ${process_time} [$tier]';";
	struct logformat *f = malloc(sizeof(*f));
	struct logparse_error err;
	char buf[512];
	(void)state;
	assert_non_null(f);
	assert_int_equal(format_nginx_compile(fmt, f, &err), 0);
	assert_int_equal(f->n_extra, 3);
	assert_string_equal(f->extra_name[0], "process_time");
	assert_string_equal(f->extra_name[1], "geo_city");
	assert_string_equal(f->extra_name[2], "tier");
	/* columns of the '$' in the pasted text */
	assert_int_equal(f->extra_col[0], 66);
	assert_int_equal(f->extra_col[1], 81);
	assert_int_equal(f->extra_col[2], 109);
	formatcheck_groups_string(f, buf, sizeof(buf));
	/* extras print as "" (no record field): 3 of them */
	assert_string_equal(buf, "remote_addr,time_local,request,status,,,");
	assert_int_equal(f->group_field[5], LOGFORMAT_FIELD_EXTRA + 0);
	assert_int_equal(f->group_field[6], LOGFORMAT_FIELD_EXTRA + 1);
	assert_int_equal(f->group_field[7], LOGFORMAT_FIELD_EXTRA + 2);
	/* a token outside quotes, the quoted-string piece inside, "anything but ]" in [] */
	assert_non_null(strstr(f->pattern, " ([^ ]*+) \"([^\"\\\\]*+"));
	assert_non_null(strstr(f->pattern, "\\[([^\\]]*+)\\]"));
	/* $status stays required even with extras */
	assert_int_equal(format_nginx_compile("$process_time $tier", f, &err), -EINVAL);
	assert_non_null(strstr(err.message, "no $status"));
	free(f);
}

static void t_too_long(void **state)
{
	size_t n = LOGFORMAT_MAX_TEXT + 10;
	char *text = malloc(n + 1);
	struct logformat *f = malloc(sizeof(*f));
	struct logparse_error err;
	(void)state;
	assert_non_null(text);
	assert_non_null(f);
	memset(text, 'x', n);
	memcpy(text, "$status ", 8);
	text[n] = '\0';
	assert_int_equal(format_nginx_compile(text, f, &err), -E2BIG);
	/* many variables overflow the pattern buffer, not memory */
	size_t o = 0;
	while (o + 40 < LOGFORMAT_MAX_TEXT) {
		memcpy(text + o, "\"$http_user_agent\" ", 19);
		o += 19;
	}
	memcpy(text + o, "$status", 8);
	assert_int_equal(format_nginx_compile(text, f, &err), -E2BIG);
	free(f);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_groups),
	    cmocka_unit_test(t_config_quoting),
	    cmocka_unit_test(t_combined_pattern),
	    cmocka_unit_test(t_errors),
	    cmocka_unit_test(t_unknown_variables),
	    cmocka_unit_test(t_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
