/*
 * parsefail.c - sampled parse failures with diagnoses (see parsefail.h).
 *
 * Sampling keeps the cost of failing lines flat: the hot path compares the
 * poll's clock with next_ms and only the sampled lines pay for a diagnosis
 * (a second match with auto-callouts, tens of microseconds) and a mutex.
 * At most PARSEFAIL_RING lines per PARSEFAIL_BURST_MS are diagnosed, so a
 * source whose every line fails costs one comparison per line more than
 * counting it (bench/failsample).  Each line is cut to PARSEFAIL_LINE_MAX
 * bytes: memory per source is fixed (about 5 x 1 KiB).
 *
 * The board is a fixed array of ring pointers under one mutex; the page
 * holds it while rendering, a source's destroy takes it to detach, so a
 * page never reads a freed ring.  Lock order: board, then ring.
 *
 * Rejected: keeping the first failures only (an old problem would hide a
 * new one: the ring keeps the newest) and diagnosing every failing line
 * (a wrong format would cost a second match on every line).
 */
#include "exporter/parsefail.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct parsefail_ring {
	char *name;
	char *format;
	pthread_mutex_t lock;
	struct parsefail_sample samples[PARSEFAIL_RING];
	size_t next; /* slot the next sample goes to */
	size_t count;
	size_t burst; /* samples taken in the current window */
	uint64_t lines, errors;
	struct parsefail_board *board; /* under the board's lock */
};

struct parsefail_board {
	pthread_mutex_t lock;
	struct parsefail_ring *rings[PARSEFAIL_MAX_SOURCES];
	size_t n;
};

struct parsefail_ring *parsefail_ring_create(const char *name, const char *format)
{
	struct parsefail_ring *r = calloc(1, sizeof(*r));

	if (!r) {
		return NULL;
	}
	r->name = strdup(name ? name : "");
	r->format = strdup(format ? format : "");
	if (!r->name || !r->format || pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r->name);
		free(r->format);
		free(r);
		return NULL;
	}
	return r;
}

static void detach(struct parsefail_ring *r)
{
	struct parsefail_board *b = r->board;

	if (!b) {
		return;
	}
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n; i++) {
		if (b->rings[i] == r) {
			b->rings[i] = b->rings[--b->n];
			break;
		}
	}
	r->board = NULL;
	pthread_mutex_unlock(&b->lock);
}

void parsefail_ring_destroy(struct parsefail_ring *r)
{
	if (!r) {
		return;
	}
	detach(r);
	pthread_mutex_destroy(&r->lock);
	free(r->name);
	free(r->format);
	free(r);
}

uint64_t parsefail_sample(struct parsefail_ring *r, struct log_parser *p, const char *line,
                          size_t len, uint64_t now_ms, double unix_time)
{
	struct parsefail_sample s;
	uint64_t next = now_ms;

	memset(&s.diag, 0, sizeof(s.diag));
	if (logparse_diagnose(p, line, len, &s.diag) < 0) {
		(void)snprintf(s.diag.message, sizeof(s.diag.message),
		               "the line does not match (no diagnosis: out of memory)");
	}
	s.unix_time = unix_time;
	s.line_len = len;
	s.kept = len < PARSEFAIL_LINE_MAX ? len : PARSEFAIL_LINE_MAX;
	memcpy(s.line, line, s.kept);
	pthread_mutex_lock(&r->lock);
	r->samples[r->next] = s;
	r->next = (r->next + 1) % PARSEFAIL_RING;
	if (r->count < PARSEFAIL_RING) {
		r->count++;
	}
	if (++r->burst >= PARSEFAIL_RING) {
		r->burst = 0;
		next = now_ms + PARSEFAIL_BURST_MS;
	}
	pthread_mutex_unlock(&r->lock);
	return next;
}

bool parsefail_latest(struct parsefail_ring *r, struct parsefail_sample *ret)
{
	bool any;

	pthread_mutex_lock(&r->lock);
	any = r->count > 0;
	if (any) {
		*ret = r->samples[(r->next + PARSEFAIL_RING - 1) % PARSEFAIL_RING];
	}
	pthread_mutex_unlock(&r->lock);
	return any;
}

size_t parsefail_copy(struct parsefail_ring *r, struct parsefail_sample *out)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->count;
	for (size_t i = 0; i < n; i++) {
		out[i] = r->samples[(r->next + PARSEFAIL_RING - n + i) % PARSEFAIL_RING];
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

void parsefail_set_totals(struct parsefail_ring *r, uint64_t lines, uint64_t errors)
{
	pthread_mutex_lock(&r->lock);
	r->lines = lines;
	r->errors = errors;
	pthread_mutex_unlock(&r->lock);
}

struct parsefail_board *parsefail_board_create(void)
{
	struct parsefail_board *b = calloc(1, sizeof(*b));

	if (b && pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

void parsefail_board_destroy(struct parsefail_board *b)
{
	if (!b) {
		return;
	}
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n; i++) {
		b->rings[i]->board = NULL;
	}
	b->n = 0;
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

int parsefail_attach(struct parsefail_board *b, struct parsefail_ring *r)
{
	int ret = 0;

	if (!b || !r) {
		return 0;
	}
	pthread_mutex_lock(&b->lock);
	if (r->board != b) {
		if (b->n >= PARSEFAIL_MAX_SOURCES) {
			ret = -ENOSPC;
		} else {
			b->rings[b->n++] = r;
			r->board = b;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

int parsefail_put_line(struct strbuf *out, const char *line, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
			(void)strbuf_append(out, e, 4);
		} else {
			(void)strbuf_putc(out, (char)c);
		}
	}
	return out->error;
}

static void put_time(struct strbuf *out, double t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&secs, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) {
		(void)strbuf_puts(out, buf);
	}
}

int parsefail_ring_render(struct parsefail_ring *r, struct strbuf *out)
{
	struct parsefail_sample *s = malloc(PARSEFAIL_RING * sizeof(*s));
	size_t n;
	uint64_t lines, errors;

	if (!s) {
		out->error = out->error ? out->error : -ENOMEM;
		return out->error;
	}
	n = parsefail_copy(r, s);
	pthread_mutex_lock(&r->lock);
	lines = r->lines;
	errors = r->errors;
	pthread_mutex_unlock(&r->lock);
	(void)strbuf_printf(out, "source %s (format %s): %llu lines, %llu parse errors\n", r->name,
	                    r->format, (unsigned long long)lines, (unsigned long long)errors);
	if (n == 0) {
		(void)strbuf_puts(out, "  no failing line sampled\n");
	}
	for (size_t i = n; i-- > 0;) {
		(void)strbuf_puts(out, "  ");
		put_time(out, s[i].unix_time);
		(void)strbuf_printf(out, " %s\n    line: ", s[i].diag.message);
		(void)parsefail_put_line(out, s[i].line, s[i].kept);
		if (s[i].kept < s[i].line_len) {
			(void)strbuf_printf(out, " ... (%zu bytes in all)", s[i].line_len);
		}
		(void)strbuf_putc(out, '\n');
	}
	free(s);
	return out->error;
}

int parsefail_board_render(struct parsefail_board *b, struct strbuf *out)
{
	(void)strbuf_puts(out, "# accesslog_exporter: lines that did not match their source's "
	                       "format, newest first\n# (at most 5 per source, each cut to 512 "
	                       "bytes; sampled: at most 5 every 10 s)\n\n");
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n; i++) {
		(void)parsefail_ring_render(b->rings[i], out);
		(void)strbuf_putc(out, '\n');
	}
	pthread_mutex_unlock(&b->lock);
	return out->error;
}
