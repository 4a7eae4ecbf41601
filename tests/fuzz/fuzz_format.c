/*
 * fuzz_format.c - libFuzzer target for the format compilers.
 *
 * Byte 0 picks the kind (nginx, apache, regex, json key map), the rest is
 * the format text.  A format that compiles must then parse a few fixed
 * lines (and its own text) through the default path (the one-pass program
 * of generated formats, linematch.c, or the JIT) and through the pcre2
 * interpreter with identical return codes and matched lengths (unless one
 * of them hit the work limit); any crash, sanitizer report or mismatch is a
 * finding.  A third parser keeps a few fields as extra captures (what field
 * labels and filters ask for): it must accept and refuse the same lines,
 * with the same status and matched length.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/logparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const probe_lines[] = {
    "192.0.2.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"",
    "{\"status\":200,\"request\":\"GET / HTTP/1.1\"}",
    "200",
    "",
};

static void probe(struct log_parser *a, struct log_parser *b, const char *line, size_t len)
{
	struct log_record ra, rb;
	int rca = logparse_line(a, line, len, &ra);
	int rcb = logparse_line(b, line, len, &rb);
	/* JIT and interpreter count work differently: near the limit one may
	 * give up (-E2BIG) where the other finishes; both are parse errors */
	if (rca == -E2BIG || rcb == -E2BIG) {
		return;
	}
	if (rca != rcb ||
	    (rca == 0 && (ra.status_slot != rb.status_slot || ra.has_bytes != rb.has_bytes ||
	                  logparse_matched_len(a) != logparse_matched_len(b) ||
	                  ra.method.len != rb.method.len || ra.n_extra != rb.n_extra))) {
		abort();
	}
	for (unsigned k = 0; rca == 0 && k < ra.n_extra; k++) {
		if (ra.extra[k].len != rb.extra[k].len) {
			abort();
		}
	}
}

/* Capturing fields changes no match. */
static void probe_captures(struct log_parser *a, struct log_parser *c, const char *line, size_t len)
{
	struct log_record ra, rc;
	int rca = logparse_line(a, line, len, &ra);
	int rcc = logparse_line(c, line, len, &rc);

	if (rca == -E2BIG || rcc == -E2BIG) {
		return;
	}
	if (rca != rcc || (rca == 0 && (ra.status_slot != rc.status_slot ||
	                                logparse_matched_len(a) != logparse_matched_len(c)))) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const wanted[] = {"host",           "ssl_protocol", "status", "%v",
	                                     "%{User-Agent}i", "%>s",          "tls",    "vhost"};
	struct logparse_opts capture = {.capture = wanted, .n_capture = 8};
	struct log_parser *c = NULL;
	static const enum logparse_kind kinds[] = {LOGPARSE_NGINX, LOGPARSE_APACHE, LOGPARSE_REGEX,
	                                           LOGPARSE_JSON};
	struct logparse_opts interp = {.no_jit = true};
	struct log_parser *a = NULL, *b = NULL;
	struct logparse_error err;
	char *text;

	if (size == 0 || size > 4096) {
		return 0;
	}
	text = malloc(size);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	enum logparse_kind kind = kinds[data[0] % 4];
	int ra = logparse_create(kind, text, &a, &err);
	int rb = logparse_create_opts(kind, text, &interp, &b, &err);
	if ((ra == 0) != (rb == 0)) {
		abort();
	}
	if (ra == 0) {
		for (size_t i = 0; i < sizeof(probe_lines) / sizeof(probe_lines[0]); i++) {
			probe(a, b, probe_lines[i], strlen(probe_lines[i]));
		}
		probe(a, b, text, size - 1);
		/* more groups may not fit: then it is refused, which is fine */
		if (logparse_create_opts(kind, text, &capture, &c, &err) == 0) {
			for (size_t i = 0; i < sizeof(probe_lines) / sizeof(probe_lines[0]); i++) {
				probe_captures(a, c, probe_lines[i], strlen(probe_lines[i]));
			}
			probe_captures(a, c, text, size - 1);
		}
	} else if (strlen(err.message) == 0) {
		abort(); /* every error must explain itself */
	}
	logparse_destroy(a);
	logparse_destroy(b);
	logparse_destroy(c);
	free(text);
	return 0;
}
