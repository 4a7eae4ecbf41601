/*
 * fuzz_line.c - libFuzzer target for the line parser.
 *
 * The input is parsed as one line by every preset, by a JSON parser and by
 * two custom formats, each three times: through the generated formats'
 * one-pass program (linematch), the pcre2 interpreter and the pcre2 JIT.
 * Return codes, matched lengths and every record field must agree (views
 * are compared by offset into the line), and views must lie inside the line.
 * The JSON parser sees every input too (its views may point into its
 * scratch, so only lengths are checked); a line it parses must also get
 * no diagnosis (parsing and diagnosing walk the object differently).
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

#define NMODES 3 /* the program (default), the interpreter, the JIT alone */

static struct log_parser *parsers[NFORMATS][NMODES];
static struct log_parser *json;

static void setup(void)
{
	for (size_t i = 0; i < NFORMATS; i++) {
		for (int m = 0; m < NMODES; m++) {
			struct logparse_opts o = {.no_jit = m == 1, .no_linematch = m == 2};
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
	struct logparse_diag jd;

	if (!ready) {
		setup();
		ready = true;
	}
	const char *line = (const char *)data;
	for (size_t i = 0; i < NFORMATS; i++) {
		struct log_record r[NMODES];
		int rc[NMODES];
		size_t ml[NMODES] = {0};
		for (int m = 0; m < NMODES; m++) {
			rc[m] = logparse_line(parsers[i][m], line, size, &r[m]);
			ml[m] = rc[m] == 0 ? logparse_matched_len(parsers[i][m]) : 0;
		}
		for (int m = 1; m < NMODES; m++) {
			if (rc[0] != rc[m] && rc[0] != -E2BIG && rc[m] != -E2BIG) {
				abort();
			}
		}
		if (rc[0] != 0) {
			check_diagnosis(parsers[i][0], line, size);
			continue;
		}
		check_view(r[0].method, line, size);
		check_view(r[0].path, line, size);
		check_view(r[0].vhost, line, size);
		for (int m = 1; m < NMODES; m++) {
			if (rc[m] != 0) {
				continue;
			}
			same_view(r[0].method, r[m].method);
			same_view(r[0].path, r[m].path);
			same_view(r[0].protocol, r[m].protocol);
			same_view(r[0].vhost, r[m].vhost);
			same_view(r[0].remote_addr, r[m].remote_addr);
			same_view(r[0].log_time, r[m].log_time);
			if (r[0].status_slot != r[m].status_slot ||
			    r[0].bytes_sent != r[m].bytes_sent ||
			    r[0].has_request_time != r[m].has_request_time ||
			    r[0].request_time != r[m].request_time ||
			    r[0].upstream_attempts != r[m].upstream_attempts ||
			    r[0].upstream_status_slot != r[m].upstream_status_slot ||
			    ml[0] != ml[m]) {
				abort();
			}
		}
	}
	if (logparse_line(json, line, size, &jr) != 0) {
		check_diagnosis(json, line, size);
	} else if (logparse_diagnose(json, line, size, &jd) != -ENOMSG) {
		/* parsing takes a fast walk, diagnosing the general one: they agree */
		abort();
	} else {
		/* views may point into the JSON parser's scratch (decoded escapes) */
		if (jr.status_slot > 500 || jr.method.len > size || jr.path.len > size) {
			abort();
		}
	}
	return 0;
}
