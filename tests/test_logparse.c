/*
 * test_logparse.c - the line parser against real and synthetic lines.
 *
 * Every row is parsed twice, through the JIT and through the pcre2
 * interpreter (logparse_opts.no_jit), and both results must equal the
 * expectation and each other.  Real lines come from permissively licensed
 * test data (see tests/data/ATTRIBUTION.md; the source is the first column
 * of each row); rows marked "synthetic" have the shape of a line quoted in
 * a GitHub issue or a GPL data set, rewritten with documentation addresses.
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
#include <time.h>
#include <cmocka.h>

#include "parsers/logformat.h"
#include "parsers/logparse.h"
#include "parsers/status.h"

struct line_case {
	const char *source;
	enum logparse_kind kind;
	const char *format;
	const char *line;
	int rc;          /* expected return */
	unsigned status; /* expected code, 0 = invalid slot */
	const char *method, *path, *protocol, *vhost, *remote_addr; /* NULL: not checked */
	long long bytes;                                            /* -1: has_bytes false */
	double request_time;  /* seconds, -1: has_request_time false */
	double upstream_time; /* -1: has_upstream_time false */
	unsigned upstream_attempts;
	int upstream_status; /* -1: has_upstream_status false */
};

/* nielsbasjes/logparser apache_logEverything_logformat.conf: every directive. */
#define AP_LOG_EVERYTHING                                                                          \
	"LogFormat \"\\\"%%\\\" \\\"%a\\\" \\\"%{c}a\\\" \\\"%A\\\" \\\"%B\\\" "                   \
	"\\\"%b\\\" \\\"%D\\\" \\\"%f\\\" \\\"%h\\\" \\\"%H\\\" \\\"%k\\\" \\\"%l\\\" "            \
	"\\\"%L\\\" \\\"%m\\\" \\\"%p\\\" \\\"%{canonical}p\\\" \\\"%{local}p\\\" "                \
	"\\\"%{remote}p\\\" \\\"%P\\\" \\\"%{pid}P\\\" \\\"%{tid}P\\\" "                           \
	"\\\"%{hextid}P\\\" \\\"%q\\\" \\\"%r\\\" \\\"%R\\\" \\\"%s\\\" \\\"%>s\\\" "              \
	"\\\"%t\\\" \\\"%{msec}t\\\" \\\"%{begin:msec}t\\\" \\\"%{end:msec}t\\\" "                 \
	"\\\"%{usec}t\\\" \\\"%{begin:usec}t\\\" \\\"%{end:usec}t\\\" "                            \
	"\\\"%{msec_frac}t\\\" \\\"%{begin:msec_frac}t\\\" \\\"%{end:msec_frac}t\\\" "             \
	"\\\"%{usec_frac}t\\\" \\\"%{begin:usec_frac}t\\\" \\\"%{end:usec_frac}t\\\" "             \
	"\\\"%T\\\" \\\"%u\\\" \\\"%U\\\" \\\"%v\\\" \\\"%V\\\" \\\"%X\\\" \\\"%I\\\" "            \
	"\\\"%O\\\" \\\"%{cookie}i\\\" \\\"%{set-cookie}o\\\" \\\"%{user-agent}i\\\" "             \
	"\\\"%{referer}i\\\"\" logEverything"

/* Real lines (VARIANTS.md sections 2.1-2.25 where a permissive source exists). */
static const struct line_case real_cases[] = {
    {"elastic/examples apache_logs:1", LOGPARSE_PRESET, "combined",
     "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET "
     "/presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1\" 200 203023 "
     "\"http://semicomplete.com/presentations/logstash-monitorama-2013/\" \"Mozilla/5.0 "
     "(Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/32.0.1700.77 Safari/537.36\"",
     0, 200, "GET", "/presentations/logstash-monitorama-2013/images/kibana-search.png", "HTTP/1.1",
     NULL, "83.149.9.216", 203023, -1.0, -1.0, 0, -1},
    {"elastic/examples apache_logs:3029 (1363 bytes)", LOGPARSE_PRESET, "combined",
     "94.153.9.168 - - [18/May/2015:11:05:47 +0000] \"GET "
     "/presentations/vim/"
     "+++++++++++++++++++++++++++++++++++Result:+%E8%F1%EF%EE%EB%FC%E7%EE%E2%E0%ED+%ED%E8%EA%ED%E5%"
     "E9%EC+%22newkoversjup%22;+ReCaptcha+%E4%E5%F8%E8%F4%F0%EE%E2%E0%ED%E0;+%28JS%29;+%E7%E0%F0%"
     "E5%E3%E8%F1%F2%F0%E8%F0%EE%E2%E0%EB%E8%F1%FC;+%ED%E5+%ED%E0%F8%EB%EE%F1%FC+%F4%EE%F0%EC%FB+%"
     "E4%EB%FF+%EE%F2%EF%F0%E0%E2%EA%E8;+Result:+%EE%F8%E8%E1%EA%E0:+%22i+never+really+liked+c%27s+"
     "assert%28%29+feature.+if+an+assertion+is+violated,+it%27lltell+you+what+assertion+failed+but+"
     "completely+lacks+any+context:%22;+%ED%E5+%ED%E0%F8%EB%EE%F1%FC+%F4%EE%F0%EC%FB+%E4%EB%FF+%EE%"
     "F2%EF%F0%E0%E2%EA%E8; HTTP/1.0\" 403 676 "
     "\"http://www.semicomplete.com/presentations/vim/"
     "+++++++++++++++++++++++++++++++++++Result:+%E8%F1%EF%EE%EB%FC%E7%EE%E2%E0%ED+%ED%E8%EA%ED%E5%"
     "E9%EC+%22newkoversjup%22;+ReCaptcha+%E4%E5%F8%E8%F4%F0%EE%E2%E0%ED%E0;+%28JS%29;+%E7%E0%F0%"
     "E5%E3%E8%F1%F2%F0%E8%F0%EE%E2%E0%EB%E8%F1%FC;+%ED%E5+%ED%E0%F8%EB%EE%F1%FC+%F4%EE%F0%EC%FB+%"
     "E4%EB%FF+%EE%F2%EF%F0%E0%E2%EA%E8;+Result:+%EE%F8%E8%E1%EA%E0:+%22i+never+really+liked+c%27s+"
     "assert%28%29+feature.+if+an+assertion+is+violated,+it%27lltell+you+what+assertion+failed+but+"
     "completely+lacks+any+context:%22;+%ED%E5+%ED%E0%F8%EB%EE%F1%FC+%F4%EE%F0%EC%FB+%E4%EB%FF+%EE%"
     "F2%EF%F0%E0%E2%EA%E8;\" \"Opera/9.80 (Windows NT 6.1; WOW64; U; ru) Presto/2.10.289 "
     "Version/12.01\"",
     0, 403, "GET", NULL, "HTTP/1.0", NULL, "94.153.9.168", 676, -1.0, -1.0, 0, -1},
    {"elastic/examples apache_logs:8899 (truncated)", LOGPARSE_PRESET, "combined",
     "46.118.127.106 - - [20/May/2015:12:05:17 +0000] \"GET /scripts/grok-py-test/configlib.py "
     "HTTP/1.1\" 200 235 \"-\" \"Mozilla/5.0 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html",
     -22, 0, NULL, NULL, NULL, NULL, NULL, -1, -1.0, -1.0, 0, -1},
    {"elastic/examples apache_logs:5851", LOGPARSE_PRESET, "combined",
     "201.242.142.135 - - [19/May/2015:11:05:10 +0000] \"GET /files/logstash/ HTTP/1.0\" 200 13316 "
     "\"http://\\xe4\\xe5\\xe3\\xf2\\xff\\xf0\\xed\\xee\\xe5-\\xec\\xfb\\xeb\\xee.\\xf0\\xf4/\" "
     "\"Mozilla/5.0 (Windows NT 6.1; rv:11.0) Gecko/20100101 Firefox/11.0\"",
     0, 200, "GET", "/files/logstash/", "HTTP/1.0", NULL, "201.242.142.135", 13316, -1.0, -1.0, 0,
     -1},
    {"lnav logfile_access_log.1:1", LOGPARSE_PRESET, "combined",
     "10.112.81.15 - - [15/Feb/2013:06:00:31 +0000] \"-\" 400 0 \"-\" \"-\"", 0, 400, "", "", "",
     NULL, "10.112.81.15", 0, -1.0, -1.0, 0, -1},
    {"elastic/beats apache_access_darwin-2.4.23.log:3", LOGPARSE_PRESET, "common",
     "::1 - - [26/Dec/2016:16:16:48 +0200] \"-\" 408 -", 0, 408, "", "", "", NULL, "::1", -1, -1.0,
     -1.0, 0, -1},
    {"elastic/beats nginx_access_test.log:7", LOGPARSE_PRESET, "combined",
     "127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] \"\" 400 0 \"-\" \"-\"", 0, 400, "", "", "", NULL,
     "127.0.0.1", 0, -1.0, -1.0, 0, -1},
    {"elastic/beats apache_access_darwin-2.4.23.log:1", LOGPARSE_PRESET, "common",
     "::1 - - [26/Dec/2016:16:16:28 +0200] \"GET / HTTP/1.1\" 200 45", 0, 200, "GET", "/",
     "HTTP/1.1", NULL, "::1", 45, -1.0, -1.0, 0, -1},
    {"elastic/beats nginx_ingress_controller_test.log:23", LOGPARSE_PRESET, "ingress",
     "192.168.64.14 - - [07/Feb/2020:12:02:42 +0000] \"GET /v2/some HTTP/1.1\" 200 61 \"-\" "
     "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0\" 348 "
     "0.001 [default-web2-8080] [] 172.17.0.6:8080, 172.17.0.7:8080 61, 100 0.100, 0.004 200, 203 "
     "835136ae24486dbb4156dcbe21f5d402",
     0, 200, "GET", "/v2/some", "HTTP/1.1", NULL, "192.168.64.14", 61, 0.001, 0.104, 2, 203},
    {"elastic/beats nginx_ingress_controller_test.log:29", LOGPARSE_PRESET, "ingress",
     "192.168.64.14 - - [07/Feb/2020:12:02:42 +0000] \"GET /test/test.mp4 HTTP/1.1\" 200 61 \"-\" "
     "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:72.0) Gecko/20100101 Firefox/72.0\" 348 "
     "0.001 [default-web2-8080] [] 172.17.0.6:8080, 172.17.0.7:8080 - 0.100, - 200, - "
     "835136ae24486dbb4156dcbe21f5d402",
     0, 200, "GET", "/test/test.mp4", "HTTP/1.1", NULL, "192.168.64.14", 61, 0.001, 0.1, 1, 200},
    {"elastic/beats nginx_ingress_controller_test.log:26", LOGPARSE_PRESET, "ingress",
     "2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] \"GET /favicon.ico HTTP/2.0\" 502 552 "
     "\"https://localhost:8080/\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36\" 27 0.000 "
     "[localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 0 0.000, 0.000 502, 502 "
     "3db73c6c673c4256ade033a6ce08c2ab",
     0, 502, "GET", "/favicon.ico", "HTTP/2.0", NULL, "2a02:cf40::4e36", 552, 0.0, 0.0, 2, 502},
    {"elastic/beats nginx_ingress_controller_test.log:27 (malformed upstream addr)",
     LOGPARSE_PRESET, "ingress",
     "2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] \"GET /favicon.ico HTTP/2.0\" 502 552 "
     "\"https://localhost:8080/\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/104.0.0.0 Safari/537.36\" 27 0.000 "
     "[localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::::::::4e36]:500000000 0, 0 0.000, 0.000 "
     "502, 502 3db73c6c673c4256ade033a6ce08c2ab",
     0, 502, "GET", "/favicon.ico", "HTTP/2.0", NULL, "2a02:cf40::4e36", 552, 0.0, 0.0, 2, 502},
    {"crowdsecurity/hub nginx-proxy-manager-logs.log:3", LOGPARSE_NGINX,
     "[$time_local] $status - $request_method $scheme $host \"$request_uri\" [Client $remote_addr] "
     "[Length $body_bytes_sent] [Gzip $gzip_ratio] \"$http_user_agent\" \"$http_referer\"",
     "[24/Jan/2022:13:40:19 +0000] 444 - GET https 4.3.2.1 \"/.env\" [Client 207.32.219.89] "
     "[Length 0] [Gzip -] \"Mozilla/5.0 (Linux; U; Android 4.4.2; en-US; HM NOTE 1W Build/KOT49H) "
     "AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 UCBrowser/11.0.5.850 U3/0.8.0 Mobile "
     "Safari/534.30\" \"-\"",
     0, 444, "GET", "/.env", "", "4.3.2.1", "207.32.219.89", 0, -1.0, -1.0, 0, -1},
    {"crowdsecurity/hub apache2-logs.log:7", LOGPARSE_PRESET, "vhost_combined",
     "website.com:443 1.2.3.4 - - [25/Oct/2021:11:05:52 +0200] \"GET /web/.well-known HTTP/1.1\" "
     "403 6963 \"abc.com\" \"User-agent-string\"",
     0, 403, "GET", "/web/.well-known", "HTTP/1.1", "website.com", "1.2.3.4", 6963, -1.0, -1.0, 0,
     -1},
    {"elastic/beats apache_access_test-vhost.log:1 (port-less %v)", LOGPARSE_APACHE,
     "%v %h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"",
     "vhost1.domaine.fr 123.123.123.123 - - [04/Jul/2019:09:20:46 +0200] \"GET / HTTP/1.1\" 200 "
     "32953 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/75.0.  3770.100 Safari/537.36\"",
     0, 200, "GET", "/", "HTTP/1.1", "vhost1.domaine.fr", "123.123.123.123", 32953, -1.0, -1.0, 0,
     -1},
    {"google/mtail apache-common.log:1", LOGPARSE_APACHE,
     "%h %l %u %t \\\"%r\\\" %>s %b %D \\\"%{Referer}i\\\" \\\"%{User-agent}i\\\"",
     "192.168.74.9 - - [04/Apr/2018:10:28:24 +0000] \"GET /prefix HTTP/1.1\" 304 - 3551 \"-\" "
     "\"Mozilla/5.0\"",
     0, 304, "GET", "/prefix", "HTTP/1.1", NULL, "192.168.74.9", -1, 0.003551, -1.0, 0, -1},
    {"google/mtail apache-combined.log:5", LOGPARSE_PRESET, "combined",
     "2001:db8::1 - - [23/Mar/2018:12:31:05 +0000] \"GET /index.html HTTP/1.1\" 304 - "
     "\"https://fubarservice.example.com/\" \"libcurl\"",
     0, 304, "GET", "/index.html", "HTTP/1.1", NULL, "2001:db8::1", -1, -1.0, -1.0, 0, -1},
    {"crowdsecurity/hub overseerr-whitelist.log:1", LOGPARSE_PRESET, "combined",
     "2001:db8:1:2:3:4:5:6 - - [25/Jul/2025:10:25:21 -0400] \"GET /api/v1/request/440 HTTP/3.0\" "
     "304 0 \"\" \"\"",
     0, 304, "GET", "/api/v1/request/440", "HTTP/3.0", NULL, "2001:db8:1:2:3:4:5:6", 0, -1.0, -1.0,
     0, -1},
    {"crowdsecurity/hub overseerr-whitelist.log:3 (nginx combined)", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\"",
     "2001:db8:1:2:3:4:5:6 - - [25/Jul/2025:10:25:21 -0400] \"GET /api/v1/request/438 HTTP/3.0\" "
     "200 3226 \"\" \"\"",
     0, 200, "GET", "/api/v1/request/438", "HTTP/3.0", NULL, "2001:db8:1:2:3:4:5:6", 3226, -1.0,
     -1.0, 0, -1},
    {"crowdsecurity/hub apache-http-probing.log:45", LOGPARSE_PRESET, "common",
     "172.17.0.1 - - [29/Sep/2021:12:37:05 +0000] \"GET "
     "/sys/code/box.inc.php?config[\\\\\\\"sipssys\\\\\\\"]=http://cirt.net/rfiinc.txt? HTTP/1.1\" "
     "404 196",
     0, 404, "GET",
     "/sys/code/box.inc.php?config[\\\\\\\"sipssys\\\\\\\"]=http://cirt.net/rfiinc.txt?",
     "HTTP/1.1", NULL, "172.17.0.1", 196, -1.0, -1.0, 0, -1},
    {"crowdsecurity/hub nextcloud-whitelist.log:8", LOGPARSE_PRESET, "combined",
     "192.168.1.1 - - [06/Aug/2024:21:01:59 +0200] \"GET /apps/mail/api/messages/12345/itineraries "
     " HTTP/2.0\" 403 39 \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) "
     "Gecko/20100101 Firefox/128.0\"",
     0, 403, "GET", "/apps/mail/api/messages/12345/itineraries", "HTTP/2.0", NULL, "192.168.1.1",
     39, -1.0, -1.0, 0, -1},
    {"crowdsecurity/hub apache2-malformed.log:6", LOGPARSE_PRESET, "combined",
     "1.2.3.4 - - [17/Oct/2023:05:57:56 +1100] \"\\x16\\x03\\x01\" 400 226 \"-\" \"-\"", 0, 400, "",
     "", "", NULL, "1.2.3.4", 226, -1.0, -1.0, 0, -1},
    {"crowdsecurity/hub nginx-http-malformed.log:8", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\"",
     "1.2.3.4 - - [29/Jul/2023:10:26:07 -0700] "
     "\"\\x16\\x03\\x01\\x00t\\x01\\x00\\x00p\\x03\\x01YF}\\xF6\\x7F3\\xD3\\xA2'"
     "O\\xAE\\xB6\\x041p\\x87F\\xE5\\xA6\\xA2\\x18\\xD1\\x0B}\\x0C\\x9FO)"
     "u\\xFE\\xB1\\xD9\\x00\\x00\\x18\\xC0\\x14\\xC0\\x13\\x005\\x00/\\xC0\" 400 157 \"-\" \"-\"",
     0, 400, "", "", "", NULL, "1.2.3.4", 157, -1.0, -1.0, 0, -1},
    {"elastic/beats nginx_access_test.log:1", LOGPARSE_PRESET, "combined",
     "10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] \"GET /ocelot HTTP/1.1\" 200 "
     "571 \"-\" \"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:49.0) Gecko/20100101 "
     "Firefox/49.0\"",
     0, 200, "GET", "/ocelot", "HTTP/1.1", NULL, "10.0.0.2, 10.0.0.1, 127.0.0.1", 571, -1.0, -1.0,
     0, -1},
    {"elastic/beats nginx_access_test-with-host.log:8", LOGPARSE_NGINX,
     "$host:$server_port $remote_addr - $remote_user [$time_local] \"$request\" $status "
     "$body_bytes_sent \"$http_referer\" \"$http_user_agent\"",
     "example.com:80 unix: - - [26/Feb/2019:15:39:42 +0100] \"hello\" 400 173 \"-\" \"-\"", 0, 400,
     "", "", "", "example.com", "unix:", 173, -1.0, -1.0, 0, -1},
    {"nielsbasjes/logparser apache_logEverything_logformat.conf:24", LOGPARSE_APACHE,
     AP_LOG_EVERYTHING,
     "\"%\" \"172.17.42.1\" \"172.17.42.1\" \"172.17.0.2\" \"4880\" \"4880\" \"652\" "
     "\"/usr/share/httpd/noindex/index.html\" \"172.17.42.1\" \"HTTP/1.1\" \"0\" \"-\" "
     "\"VG9exZ0MX@uqta4OldejvQAAAAA\" \"GET\" \"80\" \"80\" \"80\" \"43417\" \"126\" \"126\" "
     "\"140597540726848\" \"140597540726848\" \"\" \"GET / HTTP/1.1\" \"httpd/unix-directory\" "
     "\"403\" \"403\" \"[21/Nov/2014:15:48:21 +0000]\" \"1416584901018\" \"1416584901018\" "
     "\"1416584901018\" \"1416584901018010\" \"1416584901018010\" \"1416584901018670\" \"018\" "
     "\"018\" \"018\" \"018010\" \"018010\" \"018670\" \"0\" \"-\" \"/\" \"172.17.0.2\" "
     "\"172.17.0.2\" \"+\" \"367\" \"5188\" \"-\" \"-\" \"Mozilla/5.0 (X11; Linux x86_64) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/38.0.2125.122 Safari/537.36\" \"-\"",
     0, 403, "GET", "/", "HTTP/1.1", "172.17.0.2", "172.17.42.1", 4880, 0.000652, -1.0, 0, -1},
    {"nielsbasjes/logparser apache_logEverything_logformat.conf:25", LOGPARSE_APACHE,
     AP_LOG_EVERYTHING,
     "\"%\" \"172.17.42.1\" \"172.17.42.1\" \"172.17.0.2\" \"0\" \"-\" \"302\" "
     "\"/usr/share/httpd/noindex/css/bootstrap.min.css\" \"172.17.42.1\" \"HTTP/1.1\" \"1\" \"-\" "
     "\"-\" \"GET\" \"80\" \"80\" \"80\" \"43417\" \"126\" \"126\" \"140597540726848\" "
     "\"140597540726848\" \"\" \"GET /css/bootstrap.min.css HTTP/1.1\" \"-\" \"304\" \"304\" "
     "\"[21/Nov/2014:15:48:21 +0000]\" \"1416584901087\" \"1416584901087\" \"1416584901087\" "
     "\"1416584901087115\" \"1416584901087115\" \"1416584901087417\" \"087\" \"087\" \"087\" "
     "\"087115\" \"087115\" \"087417\" \"0\" \"-\" \"/css/bootstrap.min.css\" \"172.17.0.2\" "
     "\"172.17.0.2\" \"+\" \"448\" \"180\" \"-\" \"-\" \"Mozilla/5.0 (X11; Linux x86_64) "
     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/38.0.2125.122 Safari/537.36\" "
     "\"http://172.17.0.2/\"",
     0, 304, "GET", "/css/bootstrap.min.css", "HTTP/1.1", "172.17.0.2", "172.17.42.1", 0, 0.000302,
     -1.0, 0, -1},
    {"elastic/examples nginx_logs (VARIANTS 2.1)", LOGPARSE_NGINX,
     "log_format combined '$remote_addr - $remote_user [$time_local] '\x0a"
     "                    '\"$request\" $status $body_bytes_sent '\x0a"
     "                    '\"$http_referer\" \"$http_user_agent\"';",
     "204.77.168.241 - - [17/May/2015:20:05:16 +0000] \"GET /downloads/product_2 HTTP/1.1\" 404 "
     "325 \"-\" \"Debian APT-HTTP/1.3 (0.8.16~exp12ubuntu10.7)\"",
     0, 404, "GET", "/downloads/product_2", "HTTP/1.1", NULL, "204.77.168.241", 325, -1.0, -1.0, 0,
     -1},
    {"tstack/lnav logfile_shop_access_log.0:1 (VARIANTS 2.2)", LOGPARSE_PRESET, "main",
     "54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] \"GET "
     "/filter/"
     "27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,27|%DA%A9%D9%85%D8%AA%D8%B1%20%D8%"
     "A7%D8%B2%205%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53 HTTP/1.1\" 200 30577 "
     "\"-\" \"Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)\" \"-\"",
     0, 200, "GET",
     "/filter/"
     "27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,27|%DA%A9%D9%85%D8%AA%D8%B1%20%D8%"
     "A7%D8%B2%205%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53",
     "HTTP/1.1", NULL, "54.36.149.41", 30577, -1.0, -1.0, 0, -1},
    {"tstack/lnav logfile_shop_access_log.0:1 read as combined", LOGPARSE_PRESET, "combined",
     "54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] \"GET "
     "/filter/"
     "27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,27|%DA%A9%D9%85%D8%AA%D8%B1%20%D8%"
     "A7%D8%B2%205%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53 HTTP/1.1\" 200 30577 "
     "\"-\" \"Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)\" \"-\"",
     0, 200, "GET", NULL, "HTTP/1.1", NULL, "54.36.149.41", 30577, -1.0, -1.0, 0, -1},
    {"elastic/examples apache_logs:1 + CRLF", LOGPARSE_PRESET, "combined",
     "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET "
     "/presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1\" 200 203023 "
     "\"http://semicomplete.com/presentations/logstash-monitorama-2013/\" \"Mozilla/5.0 "
     "(Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/32.0.1700.77 Safari/537.36\"\x0d"
     "",
     0, 200, "GET", "/presentations/logstash-monitorama-2013/images/kibana-search.png", "HTTP/1.1",
     NULL, "83.149.9.216", 203023, -1.0, -1.0, 0, -1},
    {"elastic/integrations apache test-access-basic.log:17", LOGPARSE_APACHE,
     "%h %l %u %t \\\"%r\\\" %>s %b %D",
     "127.0.0.1 - - [22/May/2024:08:21:14 +0300] \"\\n\" 400 226 98", 0, 400, "", "", "", NULL,
     "127.0.0.1", 226, 9.8e-05, -1.0, 0, -1},
};

#define NG_COMBINED                                                                                \
	"$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "         \
	"\"$http_referer\" \"$http_user_agent\""

/* Synthetic lines: shapes from VARIANTS.md whose only source is an issue
 * thread or GPL data, plus edge cases (status "-", "000", junk). */
static const struct line_case synthetic_cases[] = {
    /* 2.3 fail2ban nginx-wplogin shape: "$http_x_forwarded_for"PORT:... */
    {"synthetic 2.3", LOGPARSE_NGINX,
     "log_format main '$remote_addr - $remote_user [$time_local] \"$request\" $status "
     "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$http_x_forwarded_for\"PORT:"
     "$server_port $request_time $upstream_response_time $pipe \"GZIP:$gzip_ratio\"';",
     "203.0.113.130 - - [09/Jan/2017:10:50:27 +0200] \"POST /wp-login.php HTTP/1.1\" 500 4332 "
     "\"https://www.example.com/wp-login.php\" \"Opera/9.80 (Windows NT 6.2; Win64; x64) "
     "Presto/2.12.388 Version/12.17\" \"-\"PORT:443 0.271 0.271 . \"GZIP:-\"",
     0, 500, "POST", "/wp-login.php", "HTTP/1.1", NULL, "203.0.113.130", 4332, 0.271, 0.271, 1, -1},
    /* 2.4 netdata#6125 shape: unquoted list with a space inside */
    {"synthetic 2.4", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "$request_length $request_time $upstream_response_time \"$http_referer\" "
     "\"$http_user_agent\"",
     "2001:db8:abc:abcd:abcd:abcd:abc:abc - - [26/May/2019:03:50:04 +0200] \"GET "
     "/:/websockets/notifications?X-Plex-Token=redacted HTTP/1.1\" 502 166 261 0.002 0.000, "
     "0.004 \"-\" \"okhttp/2.6.0\"",
     0, 502, "GET", "/:/websockets/notifications?X-Plex-Token=redacted", "HTTP/1.1", NULL,
     "2001:db8:abc:abcd:abcd:abcd:abc:abc", 166, 0.002, 0.004, 2, -1},
    /* 2.5 heka#1343 shape: quoted "-, 1.394" */
    {"synthetic 2.5", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" \"$request_time\" \"$http_x_forwarded_for\" "
     "\"$upstream_response_time\"",
     "192.0.2.2 - - [17/Feb/2015:04:00:55 +0000] \"GET /_status HTTP/1.1\" 200 1979380 "
     "\"http://driver:9211\" \"Mozilla/5.0 (Windows NT 6.1; WOW64)\" \"1.394\" \"-\" \"-, 1.394\"",
     0, 200, "GET", "/_status", "HTTP/1.1", NULL, "192.0.2.2", 1979380, 1.394, 1.394, 1, -1},
    /* 2.5 as pasted in the issue: a stray ';' the directive cannot produce */
    {"synthetic 2.5 with the pasted ';'", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" \"$request_time\" \"$http_x_forwarded_for\" "
     "\"$upstream_response_time\"",
     "192.0.2.2 - - [17/Feb/2015:04:00:55 +0000] \"GET /_status HTTP/1.1\" 200 1979380 "
     "\"http://driver:9211\"; \"Mozilla/5.0 (Windows NT 6.1; WOW64)\" \"1.394\" \"-\" \"-, 1.394\"",
     -EINVAL, 0, NULL, NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    /* 2.7 groups after an internal redirect */
    {"synthetic 2.7", LOGPARSE_PRESET, "ingress",
     "192.0.2.14 - - [07/Feb/2020:12:02:42 +0000] \"GET /x HTTP/1.1\" 200 61 \"-\" \"curl/8.0\" "
     "348 0.007 [default-web-8080] [] 192.0.2.1:80, 192.0.2.2:80, unix:/tmp/sock : "
     "192.0.2.10:80 0, 0 : 61 0.001, 0.002 : 0.003 502, 504 : 200 835136ae24486dbb",
     0, 200, "GET", "/x", "HTTP/1.1", NULL, "192.0.2.14", 61, 0.007, 0.006, 3, 200},
    /* 2.9 goaccess#603 shape: escape=json template compiled as an nginx format */
    {"synthetic 2.9", LOGPARSE_NGINX,
     "log_format json '{ \"timestamp\": \"$time_iso8601\", ' '\"@nginx_fields\":{' "
     "'\"url\":\"$uri\",' '\"clientip\": \"$remote_addr\", ' '\"domain\": \"$host\", ' "
     "'\"size\": $body_bytes_sent, ' '\"host\":\"$server_addr\",' "
     "'\"upstreamtime\":\"$upstream_response_time\",' '\"upstreamaddr\":\"$upstream_addr\",' "
     "'\"responsetime\": $request_time, ' '\"status\": $status, ' '\"request\": \"$request\", ' "
     "'\"request_method\": \"$request_method\", ' '\"referer\": \"$http_referer\", ' "
     "'\"http_x_forwarded_for\": \"$http_x_forwarded_for\", ' '\"agent\": \"$http_user_agent\" "
     "}}';",
     "{ \"timestamp\": \"2016-12-27T14:43:27+08:00\", \"@nginx_fields\":{\"url\":\"/Main\","
     "\"clientip\": \"192.0.2.93\", \"domain\": \"www.example.com\", \"size\": 0, "
     "\"host\":\"10.20.3.32\",\"upstreamtime\":\"-\",\"upstreamaddr\":\"10.20.3.82:10001\","
     "\"responsetime\": 0.009, \"status\": 499, \"request\": \"GET /Main HTTP/1.1\", "
     "\"request_method\": \"GET\", \"referer\": \"http://www.example.com/Profile\", "
     "\"http_x_forwarded_for\": \"198.51.100.225\", \"agent\": \"Mozilla/5.0 (Windows NT 6.1; "
     "WOW64; rv:50.0) Gecko/20100101 Firefox/50.0\" }}",
     0, 499, "GET", "/Main", "HTTP/1.1", "www.example.com", "192.0.2.93", 0, 0.009, -1, 0, -1},
    /* 2.15 hosting flavour "(%T s)", matomo gandi.log shape */
    {"synthetic 2.15", LOGPARSE_APACHE,
     "%v %h %l %u %t (%T s) \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"",
     "www.example.com 198.51.100.125 - - [10/Feb/2012:16:42:07 -0500] (2 s) \"GET / HTTP/1.1\" "
     "200 1124 \"https://www.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
     0, 200, "GET", "/", "HTTP/1.1", "www.example.com", "198.51.100.125", 1124, 2.0, -1, 0, -1},
    /* %{ms}T and %{us}T */
    {"synthetic %{ms}T", LOGPARSE_APACHE, "%h %l %u %t \"%r\" %>s %b %{ms}T",
     "192.0.2.1 - - [10/Feb/2012:16:42:07 -0500] \"GET / HTTP/1.1\" 200 5 1534", 0, 200, "GET", "/",
     "HTTP/1.1", NULL, "192.0.2.1", 5, 1.534, -1, 0, -1},
    {"synthetic %{us}T", LOGPARSE_APACHE, "%h %l %u %t \"%r\" %>s %b %{us}T",
     "192.0.2.1 - - [10/Feb/2012:16:42:07 -0500] \"GET / HTTP/1.1\" 200 5 1534", 0, 200, "GET", "/",
     "HTTP/1.1", NULL, "192.0.2.1", 5, 0.001534, -1, 0, -1},
    /* 2.17 Apache \" inside the User-Agent (fluent-bit#566 shape) */
    {"synthetic 2.17 apache", LOGPARSE_PRESET, "combined",
     "192.0.2.10 - - [16/Apr/2018:16:19:20 +0000] \"POST /myURL HTTP/1.1\" 200 8073 \"-\" "
     "\"Dalvik/2.1.0 (Linux; U; Android 5.1; Alba 10\\\" Build/LMY47I)\"",
     0, 200, "POST", "/myURL", "HTTP/1.1", NULL, "192.0.2.10", 8073, -1, -1, 0, -1},
    /* 2.17 nginx \x22 (goaccess#270 shape), one trailing field more than the format */
    {"synthetic 2.17 nginx", LOGPARSE_NGINX,
     "$server_name $remote_addr - $remote_user [$time_local] \"$request\" $status "
     "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$http_cookie\" "
     "\"$http_x_forwarded_for\" \"$upstream_addr\" \"$upstream_status\" \"$request_time\" "
     "\"$upstream_response_time\" \"$http_x_app_version\" \"$http_x_device\" \"$http_x_count\"",
     "www.example.com 192.0.2.111 - - [15/Jul/2015:00:00:12 +0800] \"POST /api/items HTTP/1.1\" "
     "200 79 \"-\" \"ASIHTTPRequest\" \"sid=abc; SESSIONID=1234567\" \"-\" \"192.168.1.12:8080\" "
     "\"200\" \"0.023\" \"0.010\" \"3.0\" \"dev-1\" \"3\" \"{\\x22Id\\x22:123456}\"",
     0, 200, "POST", "/api/items", "HTTP/1.1", "www.example.com", "192.0.2.111", 79, 0.023, 0.010,
     1, 200},
    /* 2.18 NASA Aug95 shapes: blanks before the protocol, HTTP/0.9 style */
    {"synthetic 2.18 blanks", LOGPARSE_PRESET, "common",
     "macip-dialup-060.example.com - - [01/Aug/1995:03:58:23 -0400] \"GET "
     "/facts/internet/bdgtti-1.01.html   HTTP/1.0\" 200 344064",
     0, 200, "GET", "/facts/internet/bdgtti-1.01.html", "HTTP/1.0", NULL,
     "macip-dialup-060.example.com", 344064, -1, -1, 0, -1},
    {"synthetic 2.18 http/0.9", LOGPARSE_PRESET, "common",
     "pipe1.example.com - - [01/Aug/1995:00:12:37 -0400] \"GET "
     "/history/apollo/apollo-13/apollo-13-patch-small.gif\" 200 12859",
     0, 200, "GET", "/history/apollo/apollo-13/apollo-13-patch-small.gif", "", NULL,
     "pipe1.example.com", 12859, -1, -1, 0, -1},
    /* 2.21 HTTP/2 without ".0" */
    {"synthetic 2.21 HTTP/2", LOGPARSE_PRESET, "combined",
     "192.0.2.1 - - [14/Dec/2024:07:40:37 +0000] \"GET /BPS.pdf HTTP/2\" 200 85394 \"-\" "
     "\"curl/8.11.2-DEV\"",
     0, 200, "GET", "/BPS.pdf", "HTTP/2", NULL, "192.0.2.1", 85394, -1, -1, 0, -1},
    /* 2.24 nginx#389 shape (format reconstructed from the line) */
    {"synthetic 2.24", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$server_protocol\" \"$request\" $status "
     "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$http3\" "
     "\"$http_x_forwarded_for\"\"$request_method $scheme://$host$request_uri $request_id "
     "$request_length $msec $request_time $upstream_addr $upstream_status "
     "$upstream_response_time \"$request_filename\" $ssl_protocol/$ssl_cipher  Proxy: "
     "\"$proxy_host\" \"$upstream_http_x_cache\"",
     "192.0.2.1 - - [14/Dec/2024:07:40:37 +0000] \"HTTP/3.0\" \"GET /BPS.pdf HTTP/3.0\" 200 85394 "
     "\"-\" \"curl/8.11.2-DEV\" \"h3\" \"-\"\"GET https://192.0.2.4/BPS.pdf "
     "32e63de5f1b6b45b29855b448650c220 302899 1734162037.389 5.808 - - - \"/var/www/html/BPS.pdf\" "
     "TLSv1.3/TLS_AES_256_GCM_SHA384  Proxy: \"-\" \"-\"",
     0, 200, "GET", NULL, "HTTP/3.0", "192.0.2.4", "192.0.2.1", 85394, 5.808, -1, 0, -1},
    /* 2.25 timestamp without zone (fail2ban apache-pass shape) */
    {"synthetic 2.25 no zone", LOGPARSE_PRESET, "combined",
     "192.0.2.12 - user1 [27/Jun/2013:11:55:44] \"GET /knocking/ HTTP/1.1\" 200 266 "
     "\"http://example.net/hello-world/\" \"Mozilla/5.0\"",
     0, 200, "GET", "/knocking/", "HTTP/1.1", NULL, "192.0.2.12", 266, -1, -1, 0, -1},
    {"synthetic 2.25 no zone, nginx $time_local", LOGPARSE_NGINX, NG_COMBINED,
     "192.0.2.12 - user1 [27/Jun/2013:11:55:44] \"GET /knocking/ HTTP/1.1\" 200 266 "
     "\"http://example.net/hello-world/\" \"Mozilla/5.0\"",
     0, 200, "GET", "/knocking/", "HTTP/1.1", NULL, "192.0.2.12", 266, -1, -1, 0, -1},
    /* items glued together: free text before an item is matched lazily */
    {"glued items", LOGPARSE_NGINX,
     "\"$http_x_a$http_x_b\" $remote_user$request_id $status $request_time",
     "\"a b\" bob42 201 0.5", 0, 201, "", "", "", NULL, NULL, -1, 0.5, -1, 0, -1},
    /* %>s is the final status after internal redirects, %s the original one */
    {"%s before %>s", LOGPARSE_APACHE, "%h %s %>s", "192.0.2.1 302 200", 0, 200, NULL, NULL, NULL,
     NULL, "192.0.2.1", -1, -1, -1, 0, -1},
    /* 2.19 RDP cookie probe on the HTTP port (fail2ban nginx-bad-request shape), main format */
    {"synthetic 2.19 rdp", LOGPARSE_PRESET, "main",
     "192.0.2.78 - - [20/Jan/2015:19:53:28 +0100] "
     "\"\\x03\\x00\\x00/*\\xE0\\x00\\x00\\x00\\x00\\x00Cookie: mstshash=Administr\" 400 47 \"-\" "
     "\"-\" \"-\"",
     0, 400, "", "", "", NULL, "192.0.2.78", 47, -1, -1, 0, -1},
    /* 2.25 $request_time-$upstream_response_time glued with '-' */
    {"synthetic 2.25 glued times", LOGPARSE_NGINX,
     NG_COMBINED " $request_time-$upstream_response_time",
     "192.0.2.1 - - [01/Aug/2020:00:12:37 +0000] \"GET /a HTTP/1.1\" 200 9 \"-\" \"curl\" "
     "0.002-0.003",
     0, 200, "GET", "/a", "HTTP/1.1", NULL, "192.0.2.1", 9, 0.002, 0.003, 1, -1},
    /* 2.25 extra trailing field after combined */
    {"synthetic 2.25 trailing field", LOGPARSE_PRESET, "combined",
     "192.0.2.1 - - [01/Aug/2020:00:12:37 +0000] \"GET /a HTTP/1.1\" 200 9 \"-\" \"curl\" "
     "X-Forwarded-For=\"198.51.100.1, 203.0.113.9\"",
     0, 200, "GET", "/a", "HTTP/1.1", NULL, "192.0.2.1", 9, -1, -1, 0, -1},
    /* 2.25 comment line inside a log */
    {"comment line", LOGPARSE_PRESET, "combined", "# Fields: date time c-ip", -EINVAL, 0, NULL,
     NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    /* status that is not a code */
    {"status -", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" - 0", 0, 0, "GET", "/",
     "HTTP/1.0", NULL, "192.0.2.1", 0, -1, -1, 0, -1},
    {"status 000", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" 000 0", 0, 0, "GET", "/",
     "HTTP/1.0", NULL, "192.0.2.1", 0, -1, -1, 0, -1},
    {"status 600", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" 600 0", 0, 0, "GET", "/",
     "HTTP/1.0", NULL, "192.0.2.1", 0, -1, -1, 0, -1},
    {"status 599", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" 599 0", 0, 599, "GET", "/",
     "HTTP/1.0", NULL, "192.0.2.1", 0, -1, -1, 0, -1},
    /* invalid UTF-8 and raw control bytes never fail a line */
    {"raw bytes", LOGPARSE_PRESET, "combined",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET /\xff\xfe\xa4\xa4\x01 HTTP/1.1\" 200 1 "
     "\"\xc3\x28\" \"\xed\xa0\x80\"",
     0, 200, "GET", "/\xff\xfe\xa4\xa4\x01", "HTTP/1.1", NULL, "192.0.2.1", 1, -1, -1, 0, -1},
    /* malformed structure */
    {"empty line", LOGPARSE_PRESET, "combined", "", -EINVAL, 0, NULL, NULL, NULL, NULL, NULL, -1,
     -1, -1, 0, -1},
    {"junk", LOGPARSE_PRESET, "combined", "hello world", -EINVAL, 0, NULL, NULL, NULL, NULL, NULL,
     -1, -1, -1, 0, -1},
    {"cut before status", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\"", -EINVAL, 0, NULL, NULL, NULL,
     NULL, NULL, -1, -1, -1, 0, -1},
    {"status not numeric", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" abc 0", -EINVAL, 0, NULL, NULL,
     NULL, NULL, NULL, -1, -1, -1, 0, -1},
    {"glued trailing junk", LOGPARSE_PRESET, "common",
     "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"GET / HTTP/1.0\" 200 0xyz", -EINVAL, 0, NULL,
     NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
    {"syslog prefix", LOGPARSE_PRESET, "combined",
     "Sep 15 16:13:46 host nginx[2869]: 192.0.2.1 - - [15/Sep/2021:16:13:46 +0000] \"POST / "
     "HTTP/1.1\" 200 5 \"-\" \"-\"",
     -EINVAL, 0, NULL, NULL, NULL, NULL, NULL, -1, -1, -1, 0, -1},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void check_view(const char *what, const struct line_case *c, const char *want,
                       struct str_view got)
{
	if (want == NULL) {
		return;
	}
	if (got.len != strlen(want) || (got.len > 0 && memcmp(got.ptr, want, got.len) != 0)) {
		print_error("%s: %s: want \"%s\" got \"%.*s\"\n", c->source, what, want,
		            (int)got.len, got.ptr != NULL ? got.ptr : "");
		fail();
	}
}

static void check_time(const char *what, const struct line_case *c, double want, bool has,
                       double got)
{
	if (want < 0) {
		if (has) {
			print_error("%s: %s: want unset, got %g\n", c->source, what, got);
			fail();
		}
		return;
	}
	if (!has || fabs(got - want) > 1e-9) {
		print_error("%s: %s: want %g got %s%g\n", c->source, what, want,
		            has ? "" : "unset ", got);
		fail();
	}
}

static void check_case(const struct line_case *c, const struct log_record *r)
{
	unsigned want_slot = c->status ? c->status - 100 : STATUS_SLOT_INVALID;
	if (r->status_slot != want_slot) {
		print_error("%s: status slot want %u got %u\n", c->source, want_slot,
		            r->status_slot);
		fail();
	}
	check_view("method", c, c->method, r->method);
	check_view("path", c, c->path, r->path);
	check_view("protocol", c, c->protocol, r->protocol);
	check_view("vhost", c, c->vhost, r->vhost);
	check_view("remote_addr", c, c->remote_addr, r->remote_addr);
	if (c->bytes < 0) {
		assert_false(r->has_bytes);
	} else {
		assert_true(r->has_bytes);
		assert_int_equal(r->bytes_sent, (uint64_t)c->bytes);
	}
	check_time("request_time", c, c->request_time, r->has_request_time, r->request_time);
	check_time("upstream_time", c, c->upstream_time, r->has_upstream_time, r->upstream_time);
	assert_int_equal(r->upstream_attempts, c->upstream_attempts);
	if (c->upstream_status < 0) {
		assert_false(r->has_upstream_status);
	} else {
		assert_true(r->has_upstream_status);
		assert_int_equal(r->upstream_status_slot, (unsigned)c->upstream_status - 100);
	}
}

static bool views_equal(struct str_view a, struct str_view b)
{
	return a.len == b.len && (a.len == 0 || a.ptr == b.ptr);
}

/* JIT and interpreter must produce the same record, field by field. */
static void assert_same_record(const struct log_record *a, const struct log_record *b)
{
	assert_int_equal(a->status_slot, b->status_slot);
	assert_true(views_equal(a->method, b->method));
	assert_true(views_equal(a->path, b->path));
	assert_true(views_equal(a->protocol, b->protocol));
	assert_true(views_equal(a->vhost, b->vhost));
	assert_true(views_equal(a->remote_addr, b->remote_addr));
	assert_int_equal(a->has_bytes, b->has_bytes);
	assert_int_equal(a->bytes_sent, b->bytes_sent);
	assert_int_equal(a->has_request_time, b->has_request_time);
	assert_true(a->request_time == b->request_time);
	assert_int_equal(a->has_upstream_time, b->has_upstream_time);
	assert_true(a->upstream_time == b->upstream_time);
	assert_int_equal(a->upstream_attempts, b->upstream_attempts);
	assert_int_equal(a->has_request_length, b->has_request_length);
	assert_int_equal(a->request_length, b->request_length);
	assert_int_equal(a->has_upstream_connect_time, b->has_upstream_connect_time);
	assert_true(a->upstream_connect_time == b->upstream_connect_time);
	assert_int_equal(a->has_upstream_header_time, b->has_upstream_header_time);
	assert_true(a->upstream_header_time == b->upstream_header_time);
	assert_int_equal(a->has_upstream_status, b->has_upstream_status);
	assert_int_equal(a->upstream_status_slot, b->upstream_status_slot);
}

static void run_table(const struct line_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct line_case *c = &cases[i];
		struct log_record rec[2];
		int rc[2];
		for (int mode = 0; mode < 2; mode++) {
			struct logparse_opts opts = {.no_jit = mode == 1};
			struct logparse_error err;
			struct log_parser *p = NULL;
			int r = logparse_create_opts(c->kind, c->format, &opts, &p, &err);
			if (r < 0) {
				print_error("%s: format error: %s\n", c->source, err.message);
				fail();
			}
			if (mode == 1) {
				assert_false(logparse_is_jit(p));
			}
			memset(&rec[mode], 0xa5, sizeof(rec[mode]));
			rc[mode] = logparse_line(p, c->line, strlen(c->line), &rec[mode]);
			if (rc[mode] != c->rc) {
				print_error("%s (%s): rc want %d got %d\n", c->source,
				            mode ? "interpreter" : "jit", c->rc, rc[mode]);
				fail();
			}
			if (rc[mode] == 0) {
				check_case(c, &rec[mode]);
			}
			logparse_destroy(p);
		}
		if (rc[0] == 0) {
			assert_same_record(&rec[0], &rec[1]);
		}
	}
}

static void t_real_lines(void **state)
{
	(void)state;
	run_table(real_cases, ARRAY_SIZE(real_cases));
}

static void t_synthetic_lines(void **state)
{
	(void)state;
	run_table(synthetic_cases, ARRAY_SIZE(synthetic_cases));
}

/* A failed parse may leave a partial record (logparse.h), but nothing of it
 * survives into the next line: a record reused after every kind of failure
 * equals one parsed fresh, for a generated format and for JSON. */
static void t_record_reused_after_error(void **state)
{
	static const struct {
		const char *format, *bad, *good;
	} rows[] = {
	    {"combined", "junk",
	     "1.2.3.4 - - [03/Dec/2026:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 5 \"-\" \"ua\""},
	    {"json",
	     "{\"status\":404,\"request\":\"POST /x?y HTTP/2.0\",\"body_bytes_sent\":77,"
	     "\"remote_addr\":\"9.9.9.9\",\"request_time\":1.5,\"host\":\"h\" oops",
	     "{\"status\":200}"},
	    {"json", "{\"request\":\"GET /only HTTP/1.1\",\"bytes_sent\":12}",
	     "{\"status\":\"503\"}"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_parser *p = NULL;
		struct log_record fresh, reused;
		enum logparse_kind kind;
		assert_int_equal(logparse_kind_from_name(rows[i].format, &kind), 0);
		assert_int_equal(
		    logparse_create(kind, kind == LOGPARSE_JSON ? NULL : rows[i].format, &p, NULL),
		    0);
		memset(&fresh, 0x5a, sizeof(fresh)); /* padding alike in both */
		assert_int_equal(logparse_line(p, rows[i].good, strlen(rows[i].good), &fresh), 0);
		memset(&reused, 0x5a, sizeof(reused));
		assert_true(logparse_line(p, rows[i].bad, strlen(rows[i].bad), &reused) < 0);
		assert_int_equal(logparse_line(p, rows[i].good, strlen(rows[i].good), &reused), 0);
		assert_memory_equal(&fresh, &reused, offsetof(struct log_record, extra));
		logparse_destroy(p);
	}
	logparse_destroy(NULL);
}

struct kind_row {
	const char *name;
	int rc;
	enum logparse_kind kind;
};

static void t_kind_from_name(void **state)
{
	static const struct kind_row rows[] = {
	    {"combined", 0, LOGPARSE_PRESET},
	    {"common", 0, LOGPARSE_PRESET},
	    {"vhost_combined", 0, LOGPARSE_PRESET},
	    {"main", 0, LOGPARSE_PRESET},
	    {"ingress", 0, LOGPARSE_PRESET},
	    {"nginx", 0, LOGPARSE_NGINX},
	    {"apache", 0, LOGPARSE_APACHE},
	    {"json", 0, LOGPARSE_JSON},
	    {"regex", 0, LOGPARSE_REGEX},
	    {"Combined", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"clf", -EINVAL, 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		enum logparse_kind k = (enum logparse_kind)99;
		assert_int_equal(logparse_kind_from_name(rows[i].name, &k), rows[i].rc);
		if (rows[i].rc == 0) {
			assert_int_equal(k, rows[i].kind);
		} else {
			assert_int_equal(k, 99);
		}
	}
	assert_int_equal(logparse_kind_from_name(NULL, NULL), -EINVAL);
}

struct bad_format {
	enum logparse_kind kind;
	const char *text;
	const char *needle; /* must appear in the message */
	size_t column;
};

static void t_format_errors(void **state)
{
	static const struct bad_format rows[] = {
	    {LOGPARSE_NGINX, "$remote_addr $ $status", "bad variable", 14},
	    {LOGPARSE_NGINX, "log_format x '$status ${bogus_var';", "bad variable", 23},
	    {LOGPARSE_NGINX, "log_format x escape=xml '$status';", "xml", 0},
	    {LOGPARSE_NGINX, "$remote_addr $request", "$status", 0},
	    {LOGPARSE_NGINX, "$status ${unterminated", "column 9", 9},
	    {LOGPARSE_NGINX, "log_format x '$status", "unterminated", 14},
	    {LOGPARSE_NGINX, "", "empty", 0},
	    {LOGPARSE_APACHE, "%h %l %u %t \"%r\" %>s %Z", "%Z", 22},
	    {LOGPARSE_APACHE, "%h %>s %{fortnights}T", "fortnights", 8},
	    {LOGPARSE_APACHE, "%h %>s %i", "%i", 8},
	    {LOGPARSE_APACHE, "%h %>s %{Referer", "%{", 8},
	    {LOGPARSE_APACHE, "%h %b", "%>s", 0},
	    {LOGPARSE_APACHE, "%>s %", "column 5", 5},
	    {LOGPARSE_PRESET, "combinedd", "combinedd", 0},
	    {LOGPARSE_REGEX, "^(?<code>\\d+)", "status", 0},
	    {LOGPARSE_REGEX, "^(?<status>\\d+", "missing closing parenthesis", 0},
	    {LOGPARSE_REGEX, "", "empty", 0},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_parser *p = (struct log_parser *)0x1;
		struct logparse_error err;
		int r = logparse_create(rows[i].kind, rows[i].text, &p, &err);
		if (r != -EINVAL || strstr(err.message, rows[i].needle) == NULL ||
		    (rows[i].column != 0 && err.column != rows[i].column)) {
			print_error("format \"%s\": rc %d message \"%s\" column %zu\n",
			            rows[i].text, r, err.message, err.column);
			fail();
		}
		assert_ptr_equal(p, (struct log_parser *)0x1);
	}
}

/* A format with two user-defined variables (map / set / a module's): the
 * parser reads them as opaque fields and hands them out by index. */
static void t_user_variables(void **state)
{
	static const char fmt[] = "$remote_addr [$time_local] \"$request\" $status "
	                          "$process_time \"$geo_city\" ${process_time}";
	struct log_parser *p = NULL;
	struct logparse_error err;
	struct log_record r;
	size_t k = 99;
	static const char line[] = "10.0.0.1 [17/May/2015:20:05:16 +0000] \"GET /a HTTP/1.1\" 404 "
	                           "0.25 \"Sankt Gallen \\x22CH\\x22\" 0.25";
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_NGINX, fmt, &p, &err), 0);
	assert_int_equal(logparse_extra_count(p), 2);
	assert_string_equal(logparse_extra_name(p, 0), "process_time");
	assert_string_equal(logparse_extra_name(p, 1), "geo_city");
	assert_null(logparse_extra_name(p, 2));
	assert_int_equal(logparse_extra_column(p, 0), 47);
	assert_int_equal(logparse_extra_column(p, 1), 62);
	assert_int_equal(logparse_extra_find(p, "geo_city", &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(logparse_extra_find(p, "city", &k), -ENOENT);
	assert_int_equal(logparse_line(p, line, strlen(line), &r), 0);
	assert_string_equal(status_slot_code(r.status_slot), "404");
	assert_int_equal(r.n_extra, 2);
	assert_int_equal(r.extra[0].len, 4);
	assert_memory_equal(r.extra[0].ptr, "0.25", 4);
	assert_int_equal(r.extra[1].len, strlen("Sankt Gallen \\x22CH\\x22"));
	assert_memory_equal(r.extra[1].ptr, "Sankt Gallen", 12);
	/* "-" is a value like any other for an opaque field */
	static const char dash[] = "10.0.0.1 [17/May/2015:20:05:16 +0000] \"GET / HTTP/1.1\" 200 "
	                           "- \"-\" -";
	assert_int_equal(logparse_line(p, dash, strlen(dash), &r), 0);
	assert_int_equal(r.extra[0].len, 1);
	assert_int_equal(r.extra[1].len, 1);
	/* an unquoted opaque value holding a blank fails the line, never shifts fields */
	static const char blank[] = "10.0.0.1 [17/May/2015:20:05:16 +0000] \"GET / HTTP/1.1\" "
	                            "200 0 1 \"x\" 0";
	assert_int_equal(logparse_line(p, blank, strlen(blank), &r), -EINVAL);
	logparse_destroy(p);
	/* formats without extras report none, and records say so */
	assert_int_equal(logparse_create(LOGPARSE_PRESET, "combined", &p, &err), 0);
	assert_int_equal(logparse_extra_count(p), 0);
	assert_int_equal(logparse_extra_find(p, "geo_city", &k), -ENOENT);
	static const char comb[] = "1.2.3.4 - - [17/May/2015:20:05:16 +0000] \"GET / HTTP/1.1\" "
	                           "200 5 \"-\" \"ua\"";
	assert_int_equal(logparse_line(p, comb, strlen(comb), &r), 0);
	assert_int_equal(r.n_extra, 0);
	logparse_destroy(p);
	assert_int_equal(logparse_extra_count(NULL), 0);
	assert_null(logparse_extra_name(NULL, 0));
}

/* Real variable families and specifiers that are not extracted still compile. */
static void t_known_items_compile(void **state)
{
	static const struct {
		enum logparse_kind kind;
		const char *text;
	} rows[] = {
	    {LOGPARSE_NGINX, "$status $http_x_real_ip $sent_http_content_type $cookie_session "
	                     "$arg_q $upstream_http_location $upstream_cache_status "
	                     "$ssl_protocol $ssl_cipher $request_id $connection "
	                     "$connection_requests $pipe $msec $time_iso8601 ${host}"},
	    {LOGPARSE_NGINX, "escape=json '{\"s\":\"$status\"}'"},
	    {LOGPARSE_NGINX, "log_format x escape=none '$status';"},
	    {LOGPARSE_APACHE,
	     "%a %{c}a %A %B %{Cookie}C %{VAR}e %f %H %k %L %m %{Foo}n "
	     "%{Location}o %p %{remote}p %P %{tid}P %q %R %>s %<s %S %I %O %X "
	     "%{Host}i %{%Y-%m-%d %H:%M:%S}t %{X-Forwarded-For}^ti %% %400,501{User-agent}i "
	     "%!200,304{Referer}i"},
	    {LOGPARSE_APACHE, "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common"},
	    {LOGPARSE_REGEX, "^(?<remote_addr>\\S+) .* (?<status>\\d{3}) (?<bytes>\\d+)$"},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct log_parser *p = NULL;
		struct logparse_error err;
		int r = logparse_create(rows[i].kind, rows[i].text, &p, &err);
		if (r != 0) {
			print_error("format \"%s\": %s\n", rows[i].text, err.message);
			fail();
		}
		assert_non_null(logparse_pattern(p));
		logparse_destroy(p);
	}
}

/* Named groups for the size and upstream phase fields: values, lists summed,
 * "-" absent; the parser says the format has them (their families shown). */
static void t_regex_sizes_and_phases(void **state)
{
	static const char re[] = "^(?<status>\\d{3}) (?<request_length>\\S+) "
	                         "c=(?<upstream_connect_time>.+) h=(?<upstream_header_time>.+)$";
	struct log_parser *p = NULL;
	struct log_record r;
	const char *l1 = "200 512 c=0.010, 0.020 : 0.005 h=-";
	const char *l2 = "502 - c=- h=0.250";
	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_REGEX, re, &p, NULL), 0);
	assert_true(logparse_has_field(p, LOGFORMAT_FIELD_REQUEST_LENGTH));
	assert_true(logparse_has_field(p, LOGFORMAT_FIELD_UPSTREAM_CONNECT_TIME));
	assert_true(logparse_has_field(p, LOGFORMAT_FIELD_UPSTREAM_HEADER_TIME));
	assert_false(logparse_has_field(p, LOGFORMAT_FIELD_BYTES));
	assert_int_equal(logparse_line(p, l1, strlen(l1), &r), 0);
	assert_true(r.has_request_length);
	assert_int_equal(r.request_length, 512);
	assert_true(r.has_upstream_connect_time);
	assert_true(fabs(r.upstream_connect_time - 0.035) < 1e-12);
	assert_false(r.has_upstream_header_time);
	assert_int_equal(logparse_line(p, l2, strlen(l2), &r), 0);
	assert_false(r.has_request_length);
	assert_false(r.has_upstream_connect_time);
	assert_true(r.has_upstream_header_time);
	assert_true(r.upstream_header_time == 0.25);
	logparse_destroy(p);
}

/* Raw regex with named groups, including optional groups left unset. */
static void t_raw_regex(void **state)
{
	static const char re[] = "^(?<remote_addr>\\S+) (?<vhost>\\S+) \"(?<method>[A-Z]+) "
	                         "(?<path>\\S+)\" (?<status>\\d{3}|-)(?: (?<request_time_ms>\\d+))?"
	                         "(?: up=(?<upstream_time>.+))?$";
	struct log_parser *p = NULL;
	struct log_record r;
	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		struct logparse_opts opts = {.no_jit = mode == 1};
		assert_int_equal(logparse_create_opts(LOGPARSE_REGEX, re, &opts, &p, NULL), 0);
		const char *l1 = "192.0.2.1 example.org \"GET /a\" 404 250 up=0.1,";
		assert_int_equal(logparse_line(p, l1, strlen(l1), &r), 0);
		assert_int_equal(r.status_slot, 304);
		assert_int_equal(r.method.len, 3);
		assert_memory_equal(r.vhost.ptr, "example.org", 11);
		assert_true(r.has_request_time);
		assert_true(fabs(r.request_time - 0.25) < 1e-12);
		assert_false(r.has_upstream_time); /* "0.1," is not a list */
		const char *l2 = "192.0.2.1 example.org \"GET /a\" - up=0.1, 0.2";
		assert_int_equal(logparse_line(p, l2, strlen(l2), &r), 0);
		assert_int_equal(r.status_slot, STATUS_SLOT_INVALID);
		assert_false(r.has_request_time);
		assert_true(r.has_upstream_time);
		assert_int_equal(r.upstream_attempts, 2);
		assert_int_equal(logparse_line(p, "x", 1, &r), -EINVAL);
		logparse_destroy(p);
	}
}

static double elapsed(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Catastrophic backtracking is cut by the match limit: -E2BIG, quickly,
 * through both the JIT and the interpreter. */
static void t_catastrophic_bounded(void **state)
{
	static const char re[] = "^(?<status>\\d{3}) (a|aa|a?a)+$";
	char line[4 + 64 + 2];
	(void)state;
	memcpy(line, "200 ", 4);
	memset(line + 4, 'a', 64);
	line[68] = 'b';
	line[69] = '\0';
	for (int mode = 0; mode < 2; mode++) {
		struct logparse_opts opts = {.no_jit = mode == 1};
		struct log_parser *p = NULL;
		struct log_record r;
		struct timespec t0;
		assert_int_equal(logparse_create_opts(LOGPARSE_REGEX, re, &opts, &p, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < 10; i++) {
			assert_int_equal(logparse_line(p, line, strlen(line), &r), -E2BIG);
		}
		assert_true(elapsed(&t0) < 2.0);
		/* the same parser still works afterwards */
		assert_int_equal(logparse_line(p, "200 aaaa", 8, &r), 0);
		assert_int_equal(r.status_slot, 100);
		logparse_destroy(p);
	}
}

/* Generated patterns stay linear: a 64 KiB line of escapes and spaces in
 * the quoted fields parses (or fails) within the limits, not with -E2BIG. */
static void t_long_hostile_lines(void **state)
{
	static const char head[] = "192.0.2.1 - - [01/Aug/1995:00:12:37 -0400] \"";
	static const char tail[] = "\" 400 0 \"-\" \"-\"";
	size_t n = 65536;
	char *line = malloc(n + sizeof(head) + sizeof(tail));
	(void)state;
	assert_non_null(line);
	for (int variant = 0; variant < 3; variant++) {
		size_t len = 0;
		memcpy(line, head, sizeof(head) - 1);
		len = sizeof(head) - 1;
		for (size_t i = 0; i < n; i++) {
			static const char *fill[] = {"\\x16", "\\\"", " a"};
			line[len++] = fill[variant][i % strlen(fill[variant])];
		}
		memcpy(line + len, tail, sizeof(tail) - 1);
		len += sizeof(tail) - 1;
		for (int mode = 0; mode < 2; mode++) {
			struct logparse_opts opts = {.no_jit = mode == 1};
			struct log_parser *p = NULL;
			struct log_record r;
			assert_int_equal(
			    logparse_create_opts(LOGPARSE_PRESET, "combined", &opts, &p, NULL), 0);
			int rc = logparse_line(p, line, len, &r);
			if (rc != 0) {
				print_error("variant %d mode %d rc %d\n", variant, mode, rc);
				fail();
			}
			assert_int_equal(r.status_slot, 300);
			logparse_destroy(p);
		}
	}
	free(line);
}

/* Golden files: tests/data/parser/NAME.log parsed with the format in
 * NAME.fmt (line 1: kind name, line 2: format text for nginx/apache/regex/
 * json) must give NAME.golden, one line of fields per input line, through
 * both the JIT and the interpreter.  LOGPARSE_UPDATE_GOLDEN=1 rewrites the
 * golden files (review the diff before committing). */
static const char *const golden_names[] = {
    "beats_nginx_ingress", "beats_nginx_access",       "beats_nginx_with_host",
    "beats_apache_darwin", "crowdsec_nginx_malformed", "crowdsec_apache_malformed",
    "crowdsec_npm",        "crowdsec_npm_proxy",       "crowdsec_npm_malformed",
    "mtail_apache_d",      "lnav_bad_access",          "examples_apache_crlf",
};

#define GOLDEN_MAX (256 * 1024)

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(GOLDEN_MAX + 1);
	size_t n = 0;
	if (fp == NULL || buf == NULL) {
		print_error("cannot read %s\n", path);
		fail();
	}
	n = fread(buf, 1, GOLDEN_MAX, fp);
	fclose(fp);
	assert_true(n < GOLDEN_MAX);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

static void put_view(char **o, char *end, const char *name, struct str_view v)
{
	*o += snprintf(*o, (size_t)(end - *o), " %s=", name);
	if (v.len == 0) {
		*o += snprintf(*o, (size_t)(end - *o), "-");
	}
	for (size_t i = 0; i < v.len && *o + 8 < end; i++) {
		unsigned char c = (unsigned char)v.ptr[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			*o += snprintf(*o, (size_t)(end - *o), "\\x%02x", c);
		} else {
			*(*o)++ = (char)c;
			**o = '\0';
		}
	}
}

/* One golden line for one parse result. */
static void format_result(char *buf, size_t size, int rc, const struct log_record *r)
{
	char *o = buf, *end = buf + size;
	o += snprintf(o, size, "rc=%d", rc);
	if (rc == 0) {
		o += snprintf(o, (size_t)(end - o), " status=%s", status_slot_code(r->status_slot));
		put_view(&o, end, "method", r->method);
		put_view(&o, end, "path", r->path);
		put_view(&o, end, "proto", r->protocol);
		put_view(&o, end, "vhost", r->vhost);
		put_view(&o, end, "addr", r->remote_addr);
		if (r->has_bytes) {
			o += snprintf(o, (size_t)(end - o), " bytes=%llu",
			              (unsigned long long)r->bytes_sent);
		}
		if (r->has_request_time) {
			o += snprintf(o, (size_t)(end - o), " time=%.6f", r->request_time);
		}
		if (r->has_upstream_time) {
			o += snprintf(o, (size_t)(end - o), " upstream=%.6f/%u", r->upstream_time,
			              r->upstream_attempts);
		}
		if (r->has_upstream_status) {
			o += snprintf(o, (size_t)(end - o), " upstream_status=%s",
			              status_slot_code(r->upstream_status_slot));
		}
	}
	(void)snprintf(o, (size_t)(end - o), "\n");
}

/* Fields a label or filter may capture, in each dialect's names: most of
 * them are items of the golden formats, some are not (they read empty). */
static const char *const every_field[] = {
    "host",    "remote_addr", "status", "request",        "http_user_agent",
    "$msec",   "%h",          "%>s",    "%{User-Agent}i", "%v",
    "%r",      "%t",          "%b",     "%{Referer}i",    "upstream_addr",
    "nothere",
};

static struct log_parser *golden_parser(const char *name, bool no_jit, bool capture)
{
	char path[256], *fmt, *nl;
	size_t len;
	enum logparse_kind kind;
	struct logparse_opts opts = {.no_jit = no_jit};

	if (capture) {
		opts.capture = every_field;
		opts.n_capture = ARRAY_SIZE(every_field);
	}
	struct logparse_error err;
	struct log_parser *p = NULL;

	(void)snprintf(path, sizeof(path), "data/parser/%s.fmt", name);
	fmt = read_file(path, &len);
	nl = strchr(fmt, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_int_equal(logparse_kind_from_name(fmt, &kind), 0);
	const char *text = fmt;
	if (kind != LOGPARSE_PRESET) {
		text = nl + 1;
		char *nl2 = strchr(nl + 1, '\n');
		if (nl2 != NULL) {
			*nl2 = '\0';
		}
	}
	if (logparse_create_opts(kind, text, &opts, &p, &err) < 0) {
		print_error("%s: %s\n", name, err.message);
		fail();
	}
	free(fmt);
	return p;
}

/* Any field of a format as an extra capture, by the name a user gives it. */
struct capture_row {
	enum logparse_kind kind;
	const char *format;
	const char *names[4]; /* NULL-terminated */
	const char *line;
	const char *want[4]; /* values of extra[0..], NULL: not in the format (-ENOENT) */
	const char *vhost;   /* record field still filled */
};

static const struct capture_row capture_rows[] = {
    /* a known variable that feeds a field ($host -> vhost) and one that feeds none */
    {LOGPARSE_NGINX,
     "$host $remote_addr \"$request\" $status $ssl_protocol",
     {"host", "$ssl_protocol", "nothere", NULL},
     "a.example 1.2.3.4 \"GET / HTTP/1.1\" 200 TLSv1.3",
     {"a.example", "TLSv1.3", NULL, NULL},
     "a.example"},
    /* an unknown variable asked for keeps the asked index; the first $host is captured */
    {LOGPARSE_NGINX,
     "$my_tier ${host} $status $host",
     {"my_tier", "host", NULL, NULL},
     "gold a.example 404 b.example",
     {"gold", "a.example", NULL, NULL},
     "a.example"},
    /* Apache: header names without case, modifiers ignored */
    {LOGPARSE_APACHE,
     "%v %h %>s \"%{X-Forwarded-Proto}i\"",
     {"%{x-forwarded-proto}i", "%s", "%v", "%H"},
     "a.example 1.2.3.4 503 \"https\"",
     {"https", "503", "a.example", NULL},
     "a.example"},
    /* JSON: any key, one level down too, escapes decoded, null empty */
    {LOGPARSE_JSON,
     NULL,
     {"tls", "host", "k", "x"},
     "{\"status\":200,\"host\":\"a\\/b\",\"tls\":\"TLSv1.2\",\"n\":{\"k\":7},\"x\":null}",
     {"TLSv1.2", "a/b", "7", ""},
     "a/b"},
    /* regex: a group that is a field and one that is not */
    {LOGPARSE_REGEX,
     "^(?<status>\\d+) (?<vhost>\\S+) (?<color>\\S+)$",
     {"color", "vhost", "status", "other"},
     "200 a.example red",
     {"red", "a.example", "200", NULL},
     "a.example"},
};

static void t_capture_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(capture_rows); i++) {
		const struct capture_row *row = &capture_rows[i];
		struct logparse_opts o = {.capture = row->names};
		struct logparse_error err;
		struct log_parser *p = NULL;
		struct log_record r;
		while (o.n_capture < 4 && row->names[o.n_capture]) {
			o.n_capture++;
		}
		if (logparse_create_opts(row->kind, row->format, &o, &p, &err) < 0) {
			print_error("row %zu: %s\n", i, err.message);
			fail();
		}
		assert_int_equal(logparse_line(p, row->line, strlen(row->line), &r), 0);
		assert_int_equal(r.n_extra, logparse_extra_count(p));
		for (size_t k = 0; k < o.n_capture; k++) {
			size_t index = 99;
			int found = logparse_extra_find(p, row->names[k], &index);
			if (row->want[k] == NULL) {
				assert_int_equal(found, -ENOENT);
				assert_int_equal(r.extra[k].len, 0);
				continue;
			}
			assert_int_equal(found, 0);
			assert_int_equal(index, k);
			if (r.extra[k].len != strlen(row->want[k]) ||
			    memcmp(r.extra[k].ptr, row->want[k], r.extra[k].len) != 0) {
				print_error("row %zu extra %zu: '%.*s', want '%s'\n", i, k,
				            (int)r.extra[k].len, r.extra[k].ptr, row->want[k]);
				fail();
			}
		}
		assert_int_equal(r.vhost.len, strlen(row->vhost));
		assert_memory_equal(r.vhost.ptr, row->vhost, r.vhost.len);
		logparse_destroy(p);
	}
}

/* Asked-for fields are not "unknown variables" (no start-up warning);
 * an unknown one asked for still is. */
static void t_capture_opaque(void **state)
{
	static const char *const names[] = {"host", "my_tier"};
	struct logparse_opts o = {.capture = names, .n_capture = 2};
	struct log_parser *p = NULL;
	size_t k;
	(void)state;
	assert_int_equal(
	    logparse_create_opts(LOGPARSE_NGINX, "$host $status $my_tier $other", &o, &p, NULL), 0);
	assert_int_equal(logparse_extra_count(p), 3);
	assert_false(logparse_extra_is_opaque(p, 0));
	assert_true(logparse_extra_is_opaque(p, 1));
	assert_true(logparse_extra_is_opaque(p, 2));
	assert_int_equal(logparse_extra_column(p, 1), 15);
	assert_int_equal(logparse_extra_find(p, "$other", &k), 0);
	assert_int_equal(k, 2);
	logparse_destroy(p);
}

static void t_golden(void **state)
{
	const char *update = getenv("LOGPARSE_UPDATE_GOLDEN");
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(golden_names); i++) {
		char path[256];
		size_t len;
		(void)snprintf(path, sizeof(path), "data/parser/%s.log", golden_names[i]);
		char *log = read_file(path, &len);
		char *out[3];
		/* 0: JIT, 1: interpreter, 2: JIT capturing every field a label or
		 * filter could name: the same lines parse, into the same fields */
		for (int mode = 0; mode < 3; mode++) {
			struct log_parser *p = golden_parser(golden_names[i], mode == 1, mode == 2);
			size_t cap = GOLDEN_MAX, o = 0, pos = 0;
			out[mode] = malloc(cap);
			assert_non_null(out[mode]);
			out[mode][0] = '\0';
			while (pos < len) {
				const char *nl = memchr(log + pos, '\n', len - pos);
				size_t end = nl != NULL ? (size_t)(nl - log) : len;
				struct log_record r;
				int rc = logparse_line(p, log + pos, end - pos, &r);
				format_result(out[mode] + o, cap - o, rc, &r);
				o += strlen(out[mode] + o);
				assert_true(o + 4096 < cap);
				pos = end + 1;
			}
			logparse_destroy(p);
		}
		assert_string_equal(out[0], out[1]);
		assert_string_equal(out[0], out[2]);
		(void)snprintf(path, sizeof(path), "data/parser/%s.golden", golden_names[i]);
		if (update != NULL && strcmp(update, "1") == 0) {
			FILE *fp = fopen(path, "wb");
			assert_non_null(fp);
			assert_int_equal(fwrite(out[0], 1, strlen(out[0]), fp), strlen(out[0]));
			assert_int_equal(fclose(fp), 0);
		}
		char *want = read_file(path, &len);
		if (strcmp(want, out[0]) != 0) {
			print_error("%s: output differs from %s:\n%s\n", golden_names[i], path,
			            out[0]);
			fail();
		}
		free(want);
		free(out[0]);
		free(out[1]);
		free(out[2]);
		free(log);
	}
}

/* logparse_diagnose: where matching stopped, named in the user's format. */
static void t_diagnose(void **state)
{
	static const char clf[] = "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET "
	                          "/apache_pb.gif HTTP/1.0\" 200 2326";
	static const struct {
		enum logparse_kind kind;
		const char *format;
		const char *line;
		size_t column;
		const char *piece;
		const char *found;
	} rows[] = {
	    /* Common Log Format lines read as combined: stops before the referer */
	    {LOGPARSE_PRESET, "combined", clf, 86, "' \"' before %{Referer}i", "end of line"},
	    {LOGPARSE_PRESET, "combined",
	     "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" abc 1", 61, "%>s",
	     "\"abc 1\""},
	    {LOGPARSE_PRESET, "common",
	     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5x", 64,
	     "end of the format, after %b", "\"x\""},
	    {LOGPARSE_PRESET, "common", "1.2.3.4 - - 10/Oct/2000:13:55:36 \"GET / HTTP/1.1\" 200 5",
	     13, "%t", "\"10/Oct/2000:13:55:36 \\x22GE\"..."},
	    {LOGPARSE_NGINX,
	     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
	     "\"$http_referer\" \"$http_user_agent\" $request_time",
	     "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"", 75,
	     "'\" ' before $request_time", "end of line"},
	    {LOGPARSE_NGINX, "$remote_addr [$time_local] $status",
	     "1.2.3.4 [10/Oct/2000:13:55:36 +0000] OK", 38, "$status", "\"OK\""},
	    {LOGPARSE_REGEX, "^(?<remote_addr>\\S+) (?<status>\\d{3}) (?<bytes>\\d+)$",
	     "1.2.3.4 200 abc", 13, "group (?<bytes>...)", "\"abc\""},
	    {LOGPARSE_JSON, NULL, "{\"status\":1,}", 13, "JSON line", "\"}\""},
	    {LOGPARSE_JSON, NULL, "1.2.3.4 - -", 1, "JSON line", "\"1.2.3.4 - -\""},
	    {LOGPARSE_JSON, NULL, "{\"a\":1}", 0, "JSON key for the status", "none"},
	    {LOGPARSE_PRESET, "combined", "", 1, "the whole format", "an empty line"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct log_parser *p = NULL;
		struct logparse_diag d;
		struct logparse_error err;
		assert_int_equal(logparse_create(rows[i].kind, rows[i].format, &p, &err), 0);
		int r = logparse_diagnose(p, rows[i].line, strlen(rows[i].line), &d);
		if (r != 0 || d.column != rows[i].column || strcmp(d.piece, rows[i].piece) != 0 ||
		    strcmp(d.found, rows[i].found) != 0) {
			fail_msg("row %zu: r=%d column %zu piece [%s] found [%s]: %s", i, r,
			         d.column, d.piece, d.found, d.message);
		}
		if (d.column > 0 && rows[i].line[0] != '\0') {
			assert_non_null(strstr(d.message, rows[i].piece));
		}
		logparse_destroy(p);
	}
}

/* A line that parses has nothing to explain; a parser that diagnosed still
 * parses the same (the diagnosis pattern is separate). */
static void t_diagnose_parsing_line(void **state)
{
	static const char line[] =
	    "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 404 5 \"-\" \"curl\"";
	struct log_parser *p = NULL;
	struct logparse_diag d;
	struct log_record rec;

	(void)state;
	assert_int_equal(logparse_create(LOGPARSE_PRESET, "combined", &p, NULL), 0);
	assert_int_equal(logparse_diagnose(p, "x", 1, &d), 0);
	assert_int_equal(logparse_diagnose(p, line, strlen(line), &d), -ENOMSG);
	assert_int_equal(logparse_line(p, line, strlen(line), &rec), 0);
	assert_true(logparse_has_field(p, LOGFORMAT_FIELD_STATUS));
	assert_true(logparse_has_field(p, LOGFORMAT_FIELD_BYTES));
	assert_false(logparse_has_field(p, LOGFORMAT_FIELD_TIME_S));
	assert_int_equal(logparse_item_count(p), 9);
	logparse_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_real_lines),
	    cmocka_unit_test(t_synthetic_lines),
	    cmocka_unit_test(t_record_reused_after_error),
	    cmocka_unit_test(t_kind_from_name),
	    cmocka_unit_test(t_format_errors),
	    cmocka_unit_test(t_known_items_compile),
	    cmocka_unit_test(t_user_variables),
	    cmocka_unit_test(t_capture_fields),
	    cmocka_unit_test(t_capture_opaque),
	    cmocka_unit_test(t_raw_regex),
	    cmocka_unit_test(t_regex_sizes_and_phases),
	    cmocka_unit_test(t_catastrophic_bounded),
	    cmocka_unit_test(t_long_hostile_lines),
	    cmocka_unit_test(t_golden),
	    cmocka_unit_test(t_diagnose),
	    cmocka_unit_test(t_diagnose_parsing_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
