/*
 * fuzz_line.c - libFuzzer target for the line parser.
 *
 * The input is parsed as one line by every preset, by a JSON parser and by
 * two custom formats, each twice: through the JIT and through the pcre2
 * interpreter.  Return codes and every record field must agree (views are
 * compared by offset into the line), and views must lie inside the line.
 * The JSON parser sees every input too (its views may point into its
 * scratch, so only lengths are checked).
 */
#include <stdbool.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/logparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fmt {
	enum logparse_kind kind;
	const char *text;
};

static const struct fmt formats[] = {
    {LOGPARSE_PRESET, "combined"},
    {LOGPARSE_PRESET, "common"},
    {LOGPARSE_PRESET, "vhost_combined"},
    {LOGPARSE_PRESET, "main"},
    {LOGPARSE_PRESET, "ingress"},
    {LOGPARSE_NGINX, "$remote_addr - $remote_user [$time_local] \"$request\" $status "
                     "$body_bytes_sent $request_length $request_time $upstream_response_time "
                     "\"$http_referer\" $http_user_agent"},
    {LOGPARSE_APACHE, "%v %h %l %u %t (%{ms}T ms) \"%r\" %>s %b %D"},
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static struct log_parser *parsers[NFORMATS][2];
static struct log_parser *json;

static void setup(void)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		for (int m = 0; m < 2; m++) {
			struct logparse_opts o = {.no_jit = m == 1};
			if (logparse_create_opts(formats[i].kind, formats[i].text, &o,
			                         &parsers[i][m], NULL) < 0) {
				abort();
			}
		}
	}
	if (logparse_create(LOGPARSE_JSON, NULL, &json, NULL) < 0) {
		abort();
	}
}

static void check_view(struct str_view v, const char *line, size_t size)
{
	if (v.len > 0 && (v.ptr < line || v.ptr + v.len > line + size)) {
		abort();
	}
}

static void same_view(struct str_view a, struct str_view b)
{
	if (a.len != b.len || (a.len > 0 && a.ptr != b.ptr)) {
		abort();
	}
}

/* A failing line always gets a diagnosis whose column lies within the
 * line (or just past it) and whose strings are terminated. */
static void check_diagnosis(struct log_parser *p, const char *line, size_t size)
{
	struct logparse_diag d;
	int r = logparse_diagnose(p, line, size, &d);

	if (r == -ENOMSG || r == -ENOMEM) {
		return;
	}
	if (r != 0 || d.column > size + 1 || memchr(d.message, 0, sizeof(d.message)) == NULL ||
	    memchr(d.found, 0, sizeof(d.found)) == NULL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct log_record jr;

	if (!ready) {
		setup();
		ready = true;
	}
	const char *line = (const char *)data;
	for (size_t i = 0; i < NFORMATS; i++) {
		struct log_record r[2];
		int rc[2];
		for (int m = 0; m < 2; m++) {
			rc[m] = logparse_line(parsers[i][m], line, size, &r[m]);
		}
		if (rc[0] != rc[1] && rc[0] != -E2BIG && rc[1] != -E2BIG) {
			abort();
		}
		if (rc[0] != 0) {
			check_diagnosis(parsers[i][0], line, size);
			continue;
		}
		check_view(r[0].method, line, size);
		check_view(r[0].path, line, size);
		check_view(r[0].vhost, line, size);
		same_view(r[0].method, r[1].method);
		same_view(r[0].path, r[1].path);
		same_view(r[0].protocol, r[1].protocol);
		same_view(r[0].vhost, r[1].vhost);
		same_view(r[0].remote_addr, r[1].remote_addr);
		if (r[0].status_slot != r[1].status_slot || r[0].bytes_sent != r[1].bytes_sent ||
		    r[0].has_request_time != r[1].has_request_time ||
		    r[0].request_time != r[1].request_time ||
		    r[0].upstream_attempts != r[1].upstream_attempts ||
		    r[0].upstream_status_slot != r[1].upstream_status_slot) {
			abort();
		}
	}
	if (logparse_line(json, line, size, &jr) != 0) {
		check_diagnosis(json, line, size);
	} else {
		/* views may point into the JSON parser's scratch (decoded escapes) */
		if (jr.status_slot > 500 || jr.method.len > size || jr.path.len > size) {
			abort();
		}
	}
	return 0;
}
