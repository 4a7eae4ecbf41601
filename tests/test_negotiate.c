/*
 * test_negotiate.c - Accept / Accept-Encoding negotiation, table-driven,
 * with the exact headers Prometheus 2.x and 3.x send (from their scrape
 * code: scrapeAcceptHeader in 2.x, ScrapeProtocolsHeaders with descending
 * q-values in 3.x).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "exporter/http/negotiate.h"

#define PROM2                                                                                      \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"   \
	"q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define PROM3                                                                                      \
	"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"                   \
	"application/openmetrics-text;version=0.0.1;q=0.4,"                                        \
	"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,"      \
	"*/*;q=0.1"
/* Prometheus 3 with scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]. */
#define PROM3_TEXT_FIRST                                                                           \
	"text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;"               \
	"escaping=allow-utf-8;q=0.4,*/*;q=0.3"

/* Prometheus 2.x with --enable-feature=native-histograms (acceptHeaderWithProtobuf). */
#define PROM2_PROTO                                                                                \
	"application/"                                                                             \
	"vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"          \
	"application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;"           \
	"version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
/* Prometheus 3 with scrape_protocols starting with PrometheusProto. */
#define PROM3_PROTO                                                                                \
	"application/"                                                                             \
	"vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"          \
	"q=0.5,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,"             \
	"application/openmetrics-text;version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/"       \
	"*;q=0.1"
#define PB "application/vnd.google.protobuf"
#define PB_MF "proto=io.prometheus.client.MetricFamily"

struct format_case {
	const char *accept;
	enum expo_format want;
};

static void t_format(void **state)
{
	static const struct format_case cases[] = {
	    {NULL, EXPO_TEXT},
	    {"", EXPO_TEXT},
	    {"*/*", EXPO_TEXT},
	    {PROM2, EXPO_OPENMETRICS},
	    {PROM3, EXPO_OPENMETRICS},
	    {PROM3_TEXT_FIRST, EXPO_TEXT},
	    {"application/openmetrics-text", EXPO_OPENMETRICS},
	    {"application/openmetrics-text; version=1.0.0; charset=utf-8", EXPO_OPENMETRICS},
	    {"Application/OpenMetrics-Text;Version=\"1.0.0\"", EXPO_OPENMETRICS},
	    {"application/openmetrics-text;version=0.0.1", EXPO_TEXT}, /* not produced */
	    {"application/openmetrics-text;version=2.0.0", EXPO_TEXT},
	    {"application/openmetrics-text;q=0", EXPO_TEXT},
	    {"application/openmetrics-text;q=0.5,text/plain;q=0.6", EXPO_TEXT},
	    {"application/openmetrics-text;q=0.7,text/plain;q=0.6", EXPO_OPENMETRICS},
	    {"application/openmetrics-text,text/plain", EXPO_TEXT}, /* tie: text */
	    {"application/*", EXPO_OPENMETRICS},
	    {"application/*;q=0.9,text/*;q=0.8", EXPO_OPENMETRICS},
	    {"text/plain;q=0,*/*", EXPO_OPENMETRICS}, /* text explicitly refused */
	    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", EXPO_TEXT},
	    {"application/openmetrics-text;q=bogus,text/plain;q=0.1", EXPO_TEXT},
	    {"application/openmetrics-text;q=1.5", EXPO_TEXT},
	    {"application/openmetrics-text;q=0.0001", EXPO_TEXT},
	    {" application/openmetrics-text ; q=0.9 , text/plain ; q=0.2", EXPO_OPENMETRICS},
	    {",,,;;;", EXPO_TEXT},
	    {"nonsense", EXPO_TEXT},
	    /* Protobuf: only by name, with our message and the delimited framing. */
	    {PROM2_PROTO, EXPO_PROTOBUF},
	    {PROM3_PROTO, EXPO_PROTOBUF},
	    {PB ";" PB_MF ";encoding=delimited", EXPO_PROTOBUF},
	    {PB "; " PB_MF "; encoding=\"delimited\"", EXPO_PROTOBUF},
	    {"Application/Vnd.Google.Protobuf;" PB_MF ";encoding=delimited", EXPO_PROTOBUF},
	    {PB, EXPO_TEXT},                                    /* which message? */
	    {PB ";" PB_MF, EXPO_TEXT},                          /* which framing? */
	    {PB ";" PB_MF ";encoding=text", EXPO_TEXT},         /* not produced */
	    {PB ";" PB_MF ";encoding=compact-text", EXPO_TEXT}, /* not produced */
	    {PB ";proto=io.prometheus.client.Other;encoding=delimited", EXPO_TEXT},
	    {PB ";" PB_MF ";encoding=delimited;q=0", EXPO_TEXT},
	    {PB ";" PB_MF ";encoding=delimited;q=0.5,text/plain;q=0.5", EXPO_TEXT}, /* tie */
	    {PB ";" PB_MF ";encoding=delimited;q=0.6,text/plain;q=0.5", EXPO_PROTOBUF},
	    {PB ";" PB_MF ";encoding=delimited;q=0.5,application/openmetrics-text;q=0.5,"
	        "text/plain;q=0.1",
	     EXPO_OPENMETRICS},                  /* tie: OpenMetrics before protobuf */
	    {"application/*", EXPO_OPENMETRICS}, /* a wildcard never means protobuf */
	    {"text/plain;q=0,application/openmetrics-text;q=0,*/*", EXPO_TEXT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (negotiate_format(cases[i].accept) != cases[i].want) {
			fail_msg("case %zu: %s", i, cases[i].accept ? cases[i].accept : "(null)");
		}
	}
}

static void t_format_too_long(void **state)
{
	static char big[NEGOTIATE_MAX_HEADER + 64];
	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big + sizeof(big) - 40, "application/openmetrics-text", 28);
	assert_int_equal(negotiate_format(big), EXPO_TEXT);
}

struct gzip_case {
	const char *header;
	bool want;
};

static void t_gzip(void **state)
{
	static const struct gzip_case cases[] = {
	    {NULL, false},
	    {"", false},
	    {"gzip", true},
	    {"GZIP", true},
	    {"x-gzip", true},
	    {"gzip, deflate, br", true},
	    {"deflate, br", false},
	    {"gzip;q=0", false},
	    {"gzip;q=0.000", false},
	    {"gzip;q=0.001", true},
	    {"*", true},
	    {"*;q=0", false},
	    {"gzip;q=0, *", false}, /* explicitly refused beats the wildcard */
	    {"identity", false},
	    {"identity;q=1, gzip;q=0.5", true},
	    {"gzip;q=bogus", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (negotiate_gzip(cases[i].header) != cases[i].want) {
			fail_msg("case %zu: %s", i, cases[i].header ? cases[i].header : "(null)");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_format),
	    cmocka_unit_test(t_format_too_long),
	    cmocka_unit_test(t_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
