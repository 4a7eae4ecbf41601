/*
 * container.c - unwrap CRI and Docker json-file lines (see container.h).
 *
 * One pass over each wrapped line, no allocation on the common path: a
 * CRI "F" line, or a Docker line whose "log" value has no escape but its
 * final "\n", is delivered as a view into the line itself.  Everything
 * else (pieces, JSON escapes -- every Docker line of the combined format,
 * whose quotes are escaped) is decoded into the stream's buffer, which
 * never grows past the line cap: a line that would is reported once and
 * the rest of its pieces are skipped, as tail.c does with an over-long
 * line.  Pieces are kept per stream because the runtime interleaves the
 * pieces of stdout and stderr lines.
 *
 * The Docker object is scanned, not parsed into a tree: keys "log" and
 * "stream" are found in any order, other values (time, attrs) skipped by
 * bracket counting over strings.  A piece left over at a restart (the
 * checkpoint is the end of a wrapped line, the start of the line is in
 * memory only) is lost; its final piece then counts as a line of its own,
 * usually a parse error.
 *
 * Rejected: decoding with a general JSON parser (the jsonline parser
 * builds records, not strings; a tree per line is slow), one buffer
 * shared by all files (pieces of several files are in flight at once),
 * treating the CRI timestamp as the line's time (the access-log line has
 * its own), checking every byte of the CRI timestamp (a per-byte loop cost
 * 9% of the whole pipeline; the shape, the stream and the tag tell a CRI
 * line from anything else), a byte loop over Docker strings (memchr to
 * each quote is 3x fewer instructions per line).
 */
#include "exporter/input/container.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define N_STREAMS 2
#define BUF_MIN 512u

struct part {
	char *buf;
	size_t len;    /* bytes of the line so far */
	size_t size;   /* allocated (at most cap + 1) */
	bool skipping; /* inside a line already reported too long */
};

struct container_unwrap {
	enum config_container format; /* AUTO until decided, then CRI, DOCKER or NONE */
	unsigned streams;
	size_t cap;
	struct part part[N_STREAMS];
};

/* One wrapped line taken apart. */
struct piece {
	unsigned stream; /* 0 stdout, 1 stderr */
	bool partial;    /* more pieces of this line follow */
	bool escaped;    /* data holds JSON escapes */
	const char *data;
	size_t len;
};

static const char *const stream_names[N_STREAMS] = {"stdout", "stderr"};

size_t container_wrapped_cap(size_t line_cap)
{
	size_t cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;

	if (cap > (TAIL_MAX_LINE_CAP - 1024u) / 2u) {
		return TAIL_MAX_LINE_CAP;
	}
	return 2u * cap + 1024u;
}

/* Both names are 6 bytes: one length check, then memcmp. */
#define STREAM_NAME_LEN 6u

static int stream_index(const char *s, size_t len, unsigned *ret_index)
{
	if (len != STREAM_NAME_LEN) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < N_STREAMS; i++) {
		if (memcmp(s, stream_names[i], STREAM_NAME_LEN) == 0) {
			*ret_index = i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The shape of an RFC 3339 time as runtimes write it,
 * "YYYY-MM-DDThh:mm:ss" then fraction and zone ("Z", "+00:00"): the
 * separators where they belong, digits at both ends of the fields around
 * them, a zone at the end.  Not every byte is checked: this runs once per
 * line, and the stream and tag that follow are checked exactly. */
static bool is_cri_time(const char *s, size_t len)
{
	if (len < 20) {
		return false;
	}
	char last = s[len - 1];
	return s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
	       is_digit(s[0]) && is_digit(s[3]) && is_digit(s[9]) && is_digit(s[11]) &&
	       is_digit(s[18]) && (last == 'Z' || is_digit(last));
}

/* "TIME STREAM TAG[:TAG...] CONTENT": 0 and *ret, or -EINVAL. */
static int parse_cri(const char *line, size_t len, struct piece *ret)
{
	const char *end = line + len, *p, *sp;
	unsigned stream;

	sp = memchr(line, ' ', len);
	if (!sp || !is_cri_time(line, (size_t)(sp - line))) {
		return -EINVAL;
	}
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || stream_index(p, (size_t)(sp - p), &stream) < 0) {
		return -EINVAL;
	}
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp) {
		sp = end; /* an empty line: "TIME stdout F" */
	}
	if (sp == p || (*p != 'P' && *p != 'F') || (sp - p > 1 && p[1] != ':')) {
		return -EINVAL;
	}
	ret->stream = stream;
	ret->partial = *p == 'P';
	ret->escaped = false;
	ret->data = sp < end ? sp + 1 : end;
	ret->len = (size_t)(end - ret->data);
	return 0;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t')) {
		p++;
	}
	return p;
}

/* p just after an opening quote: returns just after the closing one, or
 * NULL; *escaped is set when a backslash was seen.  memchr to each quote,
 * then the backslashes before it say whether it is escaped (an odd run):
 * a log value is hundreds of bytes with a handful of escaped quotes. */
static const char *skip_string(const char *p, const char *end, bool *escaped)
{
	const char *start = p;

	while (p < end) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		size_t run = 0;
		if (!q) {
			return NULL;
		}
		while (q - run > start && q[-1 - (ptrdiff_t)run] == '\\') {
			run++;
		}
		if (run % 2 == 0) {
			if (!*escaped && memchr(start, '\\', (size_t)(q - start))) {
				*escaped = true;
			}
			return q + 1;
		}
		p = q + 1;
	}
	return NULL;
}

/* Skip any JSON value (strings, objects and arrays by bracket counting,
 * numbers and literals as a run of their characters); NULL if malformed. */
static const char *skip_value(const char *p, const char *end)
{
	bool esc = false;
	size_t depth = 0;

	if (p >= end) {
		return NULL;
	}
	if (*p == '"') {
		return skip_string(p + 1, end, &esc);
	}
	if (*p == '{' || *p == '[') {
		while (p < end) {
			if (*p == '"') {
				p = skip_string(p + 1, end, &esc);
				if (!p) {
					return NULL;
				}
				continue;
			}
			if (*p == '{' || *p == '[') {
				depth++;
			} else if ((*p == '}' || *p == ']') && --depth == 0) {
				return p + 1;
			}
			p++;
		}
		return NULL;
	}
	const char *start = p;
	while (p < end && (is_digit(*p) || (*p && strchr("+-.eEtruefalsn", *p)))) {
		p++;
	}
	return p > start ? p : NULL;
}

/* Whether the raw JSON string s[0..n) ends with the escape "\n" (and not
 * with an escaped backslash followed by 'n'). */
static bool ends_with_newline(const char *s, size_t n)
{
	size_t run = 0;

	if (n < 2 || s[n - 1] != 'n') {
		return false;
	}
	while (run < n - 1 && s[n - 2 - run] == '\\') {
		run++;
	}
	return run % 2 == 1;
}

struct docker_fields {
	const char *log, *stream;
	size_t log_len, stream_len;
	bool log_escaped, stream_escaped;
};

/* One "key": value member at p; fills f for log and stream.  Returns the
 * position after the value, or NULL. */
static const char *docker_member(const char *p, const char *end, struct docker_fields *f)
{
	bool esc = false;
	const char *key, *q;
	size_t key_len;

	if (p >= end || *p != '"') {
		return NULL;
	}
	key = p + 1;
	p = skip_string(key, end, &esc);
	if (!p) {
		return NULL;
	}
	key_len = (size_t)(p - 1 - key);
	p = skip_ws(p, end);
	if (p >= end || *p != ':') {
		return NULL;
	}
	p = skip_ws(p + 1, end);
	bool is_log = !esc && key_len == 3 && memcmp(key, "log", 3) == 0;
	bool is_stream = !esc && key_len == 6 && memcmp(key, "stream", 6) == 0;
	if (!is_log && !is_stream) {
		return skip_value(p, end);
	}
	if (p >= end || *p != '"') {
		return NULL;
	}
	esc = false;
	q = skip_string(p + 1, end, &esc);
	if (!q) {
		return NULL;
	}
	if (is_log) {
		f->log = p + 1;
		f->log_len = (size_t)(q - 1 - f->log);
		f->log_escaped = esc;
	} else {
		f->stream = p + 1;
		f->stream_len = (size_t)(q - 1 - f->stream);
		f->stream_escaped = esc;
	}
	return q;
}

/* {"log":"...","stream":"stdout",...}: 0 and *ret, or -EINVAL. */
static int parse_docker(const char *line, size_t len, struct piece *ret)
{
	const char *p = line, *end = line + len;
	struct docker_fields f = {0};

	p = skip_ws(p, end);
	if (p >= end || *p != '{') {
		return -EINVAL;
	}
	p = skip_ws(p + 1, end);
	while (p < end && *p != '}') {
		p = docker_member(p, end, &f);
		if (!p) {
			return -EINVAL;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
		} else if (p >= end || *p != '}') {
			return -EINVAL;
		}
	}
	if (p >= end || skip_ws(p + 1, end) != end || !f.log) {
		return -EINVAL;
	}
	ret->stream = 0; /* no "stream": stdout */
	if (f.stream &&
	    (f.stream_escaped || stream_index(f.stream, f.stream_len, &ret->stream) < 0)) {
		return -EINVAL;
	}
	ret->partial = !ends_with_newline(f.log, f.log_len);
	ret->data = f.log;
	ret->len = ret->partial ? f.log_len : f.log_len - 2;
	ret->escaped = f.log_escaped && memchr(ret->data, '\\', ret->len) != NULL;
	return 0;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d = is_digit(c)              ? (unsigned)(c - '0')
		             : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
		             : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
		                                      : 16u;
		if (d == 16u) {
			return -EINVAL;
		}
		v = v * 16u + d;
	}
	*ret = v;
	return 0;
}

static size_t put_utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at s (s[0] == 'u'), with a following low surrogate: the code
 * point and how many bytes after the backslash it took; -EINVAL. */
static int unicode_escape(const char *s, const char *end, unsigned *ret_cp, size_t *ret_used)
{
	unsigned cp, lo;

	if (end - s < 5 || hex4(s + 1, &cp) < 0) {
		return -EINVAL;
	}
	*ret_used = 5;
	if (cp >= 0xd800 && cp < 0xdc00 && end - s >= 11 && s[5] == '\\' && s[6] == 'u' &&
	    hex4(s + 7, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*ret_used = 11;
	} else if (cp >= 0xd800 && cp < 0xe000) {
		cp = 0xfffd; /* a lone surrogate */
	}
	*ret_cp = cp;
	return 0;
}

/* Decode the JSON string body s[0..n) into out[0..room): 0 and
 * *ret_len, -E2BIG when it does not fit, -EINVAL for a bad escape. */
static int json_decode(const char *s, size_t n, char *out, size_t room, size_t *ret_len)
{
	static const char simple[256] = {
	    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
	    ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t',
	};
	const char *end = s + n;
	size_t o = 0;

	while (s < end) {
		const char *bs = memchr(s, '\\', (size_t)(end - s));
		size_t run = bs ? (size_t)(bs - s) : (size_t)(end - s);
		if (run > room - o) {
			return -E2BIG;
		}
		memcpy(out + o, s, run);
		o += run;
		if (!bs) {
			break;
		}
		if (end - bs < 2) {
			return -EINVAL;
		}
		unsigned char c = (unsigned char)bs[1];
		if (simple[c]) {
			if (o == room) {
				return -E2BIG;
			}
			out[o++] = simple[c];
			s = bs + 2;
			continue;
		}
		unsigned cp;
		size_t used;
		char u8[4];
		if (c != 'u' || unicode_escape(bs + 1, end, &cp, &used) < 0) {
			return -EINVAL;
		}
		size_t k = put_utf8(cp, u8);
		if (k > room - o) {
			return -E2BIG;
		}
		memcpy(out + o, u8, k);
		o += k;
		s = bs + 1 + used;
	}
	*ret_len = o;
	return 0;
}

/* Room for want bytes in p's buffer (want <= cap + 1): 0 or -ENOMEM. */
static int reserve(struct part *p, size_t want)
{
	size_t size = p->size ? p->size : BUF_MIN;
	char *b;

	if (want <= p->size) {
		return 0;
	}
	while (size < want) {
		size *= 2;
	}
	b = realloc(p->buf, size);
	if (!b) {
		return -ENOMEM;
	}
	p->buf = b;
	p->size = size;
	return 0;
}

static enum container_result too_long(struct part *p, bool partial)
{
	p->len = 0;
	p->skipping = partial; /* skip the rest of this line's pieces */
	return CONTAINER_TOO_LONG;
}

/* Append a piece to its stream's line; the line when it is complete. */
static enum container_result assemble(struct container_unwrap *u, const struct piece *pc,
                                      const char **ret_line, size_t *ret_len)
{
	struct part *p = &u->part[pc->stream];
	size_t limit = u->cap + 1; /* a line of cap bytes and its '\r' */
	size_t n = pc->len;

	if (!(u->streams & (1u << pc->stream))) {
		return CONTAINER_FILTERED;
	}
	if (p->skipping) {
		p->skipping = pc->partial;
		return CONTAINER_PENDING;
	}
	if (!pc->partial && p->len == 0 && !pc->escaped) {
		/* The common case: a whole line, delivered in place. */
		if (n && pc->data[n - 1] == '\r') {
			n--;
		}
		if (n > u->cap) {
			return CONTAINER_TOO_LONG;
		}
		*ret_line = pc->data;
		*ret_len = n;
		return CONTAINER_LINE;
	}
	if (!pc->escaped && n > limit - p->len) {
		return too_long(p, pc->partial);
	}
	size_t want = n < limit - p->len ? p->len + n : limit;
	if (reserve(p, want) < 0) {
		return too_long(p, pc->partial); /* out of memory: the line is lost, counted */
	}
	if (pc->escaped) {
		int r = json_decode(pc->data, pc->len, p->buf + p->len, want - p->len, &n);
		if (r == -E2BIG) {
			return too_long(p, pc->partial);
		}
		if (r < 0) {
			p->len = 0;
			p->skipping = pc->partial;
			return CONTAINER_INVALID;
		}
	} else {
		memcpy(p->buf + p->len, pc->data, n);
	}
	p->len += n;
	if (pc->partial) {
		return CONTAINER_PENDING;
	}
	n = p->len;
	p->len = 0;
	if (n && p->buf[n - 1] == '\r') {
		n--;
	}
	if (n > u->cap) {
		return CONTAINER_TOO_LONG;
	}
	*ret_line = p->buf;
	*ret_len = n;
	return CONTAINER_LINE;
}

/* AUTO: what the first non-empty line shows. */
static enum config_container detect(const char *line, size_t len)
{
	struct piece pc;

	if (line[0] == '{') {
		return parse_docker(line, len, &pc) == 0 ? CONFIG_CONTAINER_DOCKER
		                                         : CONFIG_CONTAINER_NONE;
	}
	return parse_cri(line, len, &pc) == 0 ? CONFIG_CONTAINER_CRI : CONFIG_CONTAINER_NONE;
}

struct container_unwrap *container_unwrap_create(enum config_container format, unsigned streams,
                                                 size_t line_cap)
{
	struct container_unwrap *u;

	if (format == CONFIG_CONTAINER_NONE) {
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		return NULL;
	}
	u->format = format;
	u->streams = streams ? streams : CONFIG_STREAM_STDOUT;
	u->cap = line_cap ? line_cap : TAIL_DEFAULT_LINE_CAP;
	if (u->cap > TAIL_MAX_LINE_CAP) {
		u->cap = TAIL_MAX_LINE_CAP;
	}
	return u;
}

void container_unwrap_destroy(struct container_unwrap *u)
{
	if (!u) {
		return;
	}
	for (unsigned i = 0; i < N_STREAMS; i++) {
		free(u->part[i].buf);
	}
	free(u);
}

enum config_container container_unwrap_format(const struct container_unwrap *u)
{
	return u->format;
}

enum container_result container_unwrap_line(struct container_unwrap *u, const char *line,
                                            size_t len, const char **ret_line, size_t *ret_len)
{
	struct piece pc;
	int r;

	if (u->format == CONFIG_CONTAINER_AUTO && len) {
		u->format = detect(line, len);
	}
	switch (u->format) {
	case CONFIG_CONTAINER_CRI:
		r = parse_cri(line, len, &pc);
		break;
	case CONFIG_CONTAINER_DOCKER:
		r = parse_docker(line, len, &pc);
		break;
	case CONFIG_CONTAINER_NONE:
		*ret_line = line;
		*ret_len = len;
		return CONTAINER_LINE;
	default:
		r = -EINVAL; /* AUTO: an empty first line */
		break;
	}
	if (r < 0) {
		return CONTAINER_INVALID;
	}
	return assemble(u, &pc, ret_line, ret_len);
}

/* ---- tap --------------------------------------------------------------------- */

struct container_tap {
	struct container_unwrap *u;
	struct tail_callbacks down;
	struct tail_callbacks self;
};

static void tap_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct container_tap *t = ud;

	if (t->down.event) {
		t->down.event(t->down.userdata, ev, n);
	}
}

static void tap_file(void *ud, const char *path, bool open)
{
	struct container_tap *t = ud;

	if (t->down.file) {
		t->down.file(t->down.userdata, path, open);
	}
}

static void tap_from(void *ud, const char *path)
{
	struct container_tap *t = ud;

	t->down.from(t->down.userdata, path);
}

static void tap_line(void *ud, const char *line, size_t len)
{
	/* Results that are events; the others say nothing. */
	static const enum tail_event events[] = {
	    [CONTAINER_INVALID] = TAIL_EV_INVALID,
	    [CONTAINER_TOO_LONG] = TAIL_EV_TOO_LONG,
	};
	struct container_tap *t = ud;
	const char *out;
	size_t n;
	enum container_result r = container_unwrap_line(t->u, line, len, &out, &n);

	if (r == CONTAINER_LINE) {
		t->down.line(t->down.userdata, out, n);
	} else if (r == CONTAINER_INVALID || r == CONTAINER_TOO_LONG) {
		tap_event(t, events[r], 1);
	}
}

int container_tap_create(enum config_container format, unsigned streams, size_t line_cap,
                         const struct tail_callbacks *down, struct container_tap **ret_tap)
{
	struct container_tap *t;

	if (format == CONFIG_CONTAINER_NONE) {
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		return -ENOMEM;
	}
	t->u = container_unwrap_create(format, streams, line_cap);
	if (!t->u) {
		free(t);
		return -ENOMEM;
	}
	t->down = *down;
	/* No block: the tap needs each line (a reader hands runs of lines to
	 * block when it is set), and hands them on one by one. */
	t->self = (struct tail_callbacks){.line = tap_line,
	                                  .event = tap_event,
	                                  .file = down->file ? tap_file : NULL,
	                                  .userdata = t,
	                                  .block = NULL,
	                                  .from = down->from ? tap_from : NULL};
	*ret_tap = t;
	return 0;
}

void container_tap_destroy(struct container_tap *tap)
{
	if (!tap) {
		return;
	}
	container_unwrap_destroy(tap->u);
	free(tap);
}

const struct tail_callbacks *container_tap_callbacks(const struct container_tap *tap)
{
	return &tap->self;
}
