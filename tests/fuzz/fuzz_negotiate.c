/*
 * fuzz_negotiate.c - libFuzzer target for Accept / Accept-Encoding parsing.
 *
 * The input (up to the first NUL, capped) is used as both headers.  Both
 * functions must return without reading out of bounds, and the answers
 * must be consistent with what the header can name: OpenMetrics can only
 * be chosen when the header mentions a type that covers it, protobuf only
 * when the header names it with its message and delimited framing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exporter/http/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool mentions(const char *h, const char *what)
{
	size_t n = strlen(what);

	for (const char *p = h; *p; p++) {
		if (strncasecmp(p, what, n) == 0) {
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h;

	if (size > 2 * NEGOTIATE_MAX_HEADER) {
		return 0;
	}
	h = malloc(size + 1);
	if (!h) {
		return 0;
	}
	memcpy(h, data, size);
	h[size] = '\0';
	enum expo_format f = negotiate_format(h);
	bool gz = negotiate_gzip(h);
	if (f != EXPO_TEXT && f != EXPO_OPENMETRICS && f != EXPO_PROTOBUF) {
		abort();
	}
	/* Protobuf only when named, with both of its parameters. */
	if (f == EXPO_PROTOBUF &&
	    (!mentions(h, "application/vnd.google.protobuf") ||
	     !mentions(h, "io.prometheus.client.MetricFamily") || !mentions(h, "delimited"))) {
		abort();
	}
	if (f == EXPO_OPENMETRICS && !mentions(h, "application/openmetrics-text") &&
	    !mentions(h, "application/*") && !mentions(h, "*/*")) {
		abort();
	}
	if (gz && !mentions(h, "gzip") && !mentions(h, "*")) {
		abort();
	}
	/* Deterministic: the same header gives the same answer. */
	if (negotiate_format(h) != f || negotiate_gzip(h) != gz) {
		abort();
	}
	free(h);
	return 0;
}
