/*
 * test_format_apache.c - Apache LogFormat compilation: specifiers, units,
 * config quoting, error columns.
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

#include "parsers/format_apache.h"
#include "tests/formatcheck.h"

static void t_groups(void **state)
{
	static const struct formatcheck_groups rows[] = {
	    {"%h %l %u %t \"%r\" %>s %b", "remote_addr,time_local,request,status,bytes"},
	    {"%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"",
	     "vhost,remote_addr,time_local,request,status,bytes"},
	    /* log times: units, begin:/end:, strftime formats it can read back;
	     * the first one is captured */
	    {"%{sec}t %>s", "time_epoch,status"},
	    {"%{begin:msec}t %>s %t", "time_epoch_ms,status"},
	    {"%{end:usec}t %>s", "time_epoch_us,status"},
	    {"%{msec_frac}t %{%Y-%m-%dT%H:%M:%S%z}t %>s", "time_format,status"},
	    {"[%{%d/%b/%Y:%H:%M:%S %z}t] %>s", "time_format,status"},
	    {"%{%Q}t %>s", "status"},
	    {"%>s %D", "status,request_time_us"},
	    /* %>s (final status) wins over %s (original request) in any order */
	    {"%s %>s", "status"},
	    {"%s %<s %{x}i %>s", "status"},
	    {"%>s %T", "status,request_time"},
	    {"%>s %{ms}T", "status,request_time_ms"},
	    {"%>s %{us}T", "status,request_time_us"},
	    {"%>s %{s}T", "status,request_time"},
	    {"%m %U%q %H %s %>s", "method,path,protocol,status"},
	    {"%{Host}i %>s", "vhost,status"},
	    {"%>s %400,501{User-agent}i %!200,304,302{Referer}i %{X-Forwarded-For}^ti %%",
	     "status"},
	    {"%a %{c}a %A %B %{Cookie}C %{VAR}e %f %{c}h %k %L %{Foo}n %{Location}o %{remote}p %P "
	     "%{tid}P %R %<s %S %I %X %{%d/%b/%Y %T}t %{msec}t %{Foo}^to",
	     "remote_addr,bytes,request_id,status,request_length,time_format"},
	};
	(void)state;
	formatcheck_groups(format_apache_compile, rows, ARRAY_SIZE(rows));
}

static void t_config_quoting(void **state)
{
	static const char body[] = "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"";
	static const char *const pasted[] = {
	    "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" "
	    "\\\"%{User-Agent}i\\\"\" combined",
	    "  LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" "
	    "\\\"%{User-Agent}i\\\"\"\n",
	    "%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"",
	    "\"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined",
	};
	(void)state;
	formatcheck_quoting(format_apache_compile, body, pasted, ARRAY_SIZE(pasted));
}

static void t_errors(void **state)
{
	static const struct formatcheck_error rows[] = {
	    {"%h %>s %Z", "unknown Apache format specifier %Z", 8},
	    {"%h %>s %{x}Z", "%Z", 8},
	    {"%h %>s %{hours}T", "hours", 8},
	    {"%h %>s %i", "needs a {name}", 8},
	    {"%h %>s %{Referer", "unterminated", 8},
	    {"%h %>s %", "incomplete", 8},
	    {"%h %>s %400", "incomplete", 8},
	    {"LogFormat \"%h %Q %>s\" x", "%Q", 15},
	    {"LogFormat \"%h %>s", "unterminated", 11},
	    {"%h %b %D", "no status", 0},
	};
	(void)state;
	formatcheck_errors(format_apache_compile, rows, ARRAY_SIZE(rows));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_groups),
	    cmocka_unit_test(t_config_quoting),
	    cmocka_unit_test(t_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
