/*
 * stepwriter.c - --backfill's stamped, family-filed output (see stepwriter.h).
 *
 * The registry walk (metrics_render_with) calls this file's expo_writer
 * ops directly: no text of the whole registry is rendered and parsed
 * again per step.  A cumulative registry renders the same series in the
 * same order at every step, new ones inserted where they belong (series
 * never go away), so each family remembers, in render order, which series
 * stood at each place and the labels it was made from.  A series whose
 * labels (names by pointer, values by content, a histogram's bounds)
 * equal the remembered ones at its place is that series again; any other
 * (a new one, and every later one of its family in that step) has its
 * heads ("name{labels} ", one per sample line) rendered by
 * expo_sample_head and looked up among the family's series by their text.
 *
 * A family's file holds values, not text: per step its stamps and, per
 * series, the series' number and its values' bits (8 bytes a sample line
 * instead of about 120 of text).  The text is made once, at the end,
 * straight into the output: the series' heads, each value (the same
 * formatting as expo.c), the stamp; the first time a series is written,
 * each of its lines comes with a 0 sample at the start of its step first.
 * Any write error (a full disk) sticks: the caller leaves nothing
 * half-written behind.
 *
 * Rejected: rendering the registry as text and splitting it per step into
 * text files (what this replaced: every step's text was formatted,
 * searched for families and lines, written to the family files and copied
 * again into the output; 1,800 instructions and 240 bytes of writes per
 * sample); keeping the text in memory (58 MB of fresh pages for 2M lines
 * cost more page faults on a VM than the writes, and a year of steps would
 * not fit); 256 KiB stdio buffers for the family files (2,000 system calls
 * of 4 KiB down to 30 for 2M lines, but 13 fresh buffers are 800 page
 * faults: no CPU time saved, 0.436 s against 0.436 s median); the values
 * in memory (a year of one-minute steps of a busy
 * server is gigabytes: the files keep memory to the series).
 */
#include "exporter/stepwriter.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporter/strbuf.h"

#define MAX_FAMILIES 64u
#define MAX_SERIES (4u * 1024u * 1024u)
/* heads of every series of a family (offsets are 32 bits) */
#define HEADS_CAP (1024u * 1024u * 1024u)
/* labels remembered per place, all families: past it, heads are rendered */
#define MEMO_CAP (64u * 1024u * 1024u)
#define OUT_CAP (256u * 1024u * 1024u)
#define OUT_FLUSH (256u * 1024u)
/* a step record's series entry: the number, and this bit when the value
 * of the single line is a double (histograms know their _sum) */
#define SID_DOUBLE 0x80000000u
/* sample lines of one series: a histogram's buckets (the registry keeps at
 * most 64 bounds, plus +Inf), _sum and _count */
#define MAX_LINES 128u

/* Families that describe the running process, not the log. */
static const char *const skipped_families[] = {
    "accesslog_log_file_open",
    "accesslog_log_last_read_timestamp_seconds",
    "accesslog_checkpoint_last_success_timestamp_seconds",
    "accesslog_config_last_reload_successful",
    "accesslog_config_last_reload_success_timestamp_seconds",
    "accesslog_http_status",
    "accesslog_build",
};

/* One series of a family: its heads in the family's heads, one per sample
 * line, each ending in '\n'. */
struct series {
	uint32_t head_off, head_len;
	uint32_t n_lines;
	int32_t sum_line; /* a histogram's _sum line (a double); -1: none */
	bool written;     /* its 0 samples are out */
};

/* The series at one place of the last render and the labels it came from. */
struct memo {
	uint32_t sid;
	uint32_t id_off, id_len;
};

struct family {
	const char *key; /* the walk's name for it (static) */
	char *name;      /* the OpenMetrics family name */
	char *header;    /* "# HELP ...\n# TYPE ...\n" */
	FILE *tmp;       /* NULL: skipped family */
	struct series *ser;
	size_t n_ser, ser_cap;
	uint32_t *index; /* open addressing by heads, series number + 1 (0: free) */
	size_t index_cap;
	struct strbuf heads;
	struct memo *memo;
	size_t n_memo, memo_cap;
	struct strbuf ids;
};

struct stepwriter {
	struct expo_writer ew; /* first: the ops get &ew */
	char dir[PATH_MAX];    /* where temporary files go */
	struct family fam[MAX_FAMILIES];
	size_t n_fam;
	struct family *cur; /* the family being rendered (NULL: none or skipped) */
	const char *cur_name;
	size_t pos;          /* series of cur rendered in this step */
	uint32_t n_in_step;  /* series in rec */
	size_t memo_len;     /* bytes of labels remembered, all families */
	size_t total_series; /* all families */
	int error;           /* first -errno */
	uint64_t samples;
	int64_t ts_ms, prev_ms;
	struct strbuf rec;     /* cur's record of this step */
	struct strbuf id;      /* the labels of the series at hand */
	struct strbuf scratch; /* heads being rendered; the walk's own buffer */
};

static void fail(struct stepwriter *w, int err)
{
	if (!w->error) {
		w->error = err ? err : -EIO;
	}
}

/* An unlinked temporary file in w->dir. */
static FILE *temp_file(struct stepwriter *w)
{
	char path[PATH_MAX + 32];
	int fd;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/.accesslog-backfill.XXXXXX", w->dir) >=
	    (int)sizeof(path)) {
		fail(w, -ENAMETOOLONG);
		return NULL;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		fail(w, -errno);
		return NULL;
	}
	(void)unlink(path);
	f = fdopen(fd, "w+");
	if (!f) {
		fail(w, -errno);
		(void)close(fd);
	}
	return f;
}

static bool is_skipped(const char *name)
{
	for (size_t i = 0; i < sizeof(skipped_families) / sizeof(skipped_families[0]); i++) {
		if (strcmp(skipped_families[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* A family's name and header as expo_family spells them; 0 or -ENOMEM. */
static int family_init(struct family *f, const char *key, enum expo_type type, const char *help)
{
	struct strbuf h;

	strbuf_init(&h, OUT_CAP);
	expo_family(&h, EXPO_OPENMETRICS, key, type, help);
	/* "# HELP name help...": the family name */
	const char *name = h.data && !h.error ? h.data + 7 : NULL;
	const char *sp = name ? strchr(name, ' ') : NULL;
	f->name = sp ? strndup(name, (size_t)(sp - name)) : NULL;
	f->header = f->name ? strbuf_steal(&h, NULL) : NULL;
	strbuf_finish(&h);
	if (!f->name || !f->header) {
		free(f->name);
		free(f->header);
		f->name = f->header = NULL;
		return -ENOMEM;
	}
	f->key = key;
	strbuf_init(&f->heads, HEADS_CAP);
	strbuf_init(&f->ids, MEMO_CAP);
	return 0;
}

/* The family the walk calls key, created on first sight with its header. */
static struct family *family_of(struct stepwriter *w, const char *key, enum expo_type type,
                                const char *help)
{
	for (size_t i = 0; i < w->n_fam; i++) {
		if (w->fam[i].key == key) {
			return &w->fam[i]; /* the walk's names are static strings */
		}
	}
	for (size_t i = 0; i < w->n_fam; i++) {
		if (strcmp(w->fam[i].key, key) == 0) {
			return &w->fam[i];
		}
	}
	if (w->n_fam >= MAX_FAMILIES) {
		fail(w, -E2BIG);
		return NULL;
	}
	struct family *f = &w->fam[w->n_fam];
	if (family_init(f, key, type, help) < 0) {
		fail(w, -ENOMEM);
		return NULL;
	}
	f->tmp = is_skipped(f->name) ? NULL : temp_file(w);
	w->n_fam++;
	return f;
}

/* A step record's head in a family's file: the stamps, the series in it
 * and the bytes that follow (per series its number and its values). */
struct rec_head {
	int64_t ts_ms, prev_ms;
	uint32_t n, bytes;
};

/* The current family's record of this step into its file. */
static void flush_family(struct stepwriter *w)
{
	struct family *f = w->cur;
	struct rec_head h = {w->ts_ms, w->prev_ms, w->n_in_step, (uint32_t)w->rec.len};

	w->cur = NULL;
	if (!f || !h.n) {
		return;
	}
	if (w->rec.error || w->rec.len > UINT32_MAX) {
		fail(w, w->rec.error ? w->rec.error : -E2BIG);
	} else if (fwrite(&h, sizeof(h), 1, f->tmp) != 1 ||
	           fwrite(w->rec.data, 1, w->rec.len, f->tmp) != w->rec.len) {
		fail(w, -errno); /* ENOSPC: the disk is full */
	}
}

/* expo_writer_ops.family */
static void op_family(struct expo_writer *ew, const char *name, enum expo_type type,
                      const char *help)
{
	struct stepwriter *w = (struct stepwriter *)ew;
	struct family *f;

	flush_family(w);
	f = w->error ? NULL : family_of(w, name, type, help);
	w->cur = f && f->tmp ? f : NULL;
	w->cur_name = name;
	w->pos = 0;
	w->n_in_step = 0;
	strbuf_reset(&w->rec);
}

/* The labels of a series as they are compared with the remembered ones:
 * per label the name pointer, the value's length and bytes; then extra. */
static void put_id(struct strbuf *b, const struct expo_label *l, size_t n, const void *extra,
                   size_t extra_len)
{
	strbuf_reset(b);
	for (size_t i = 0; i < n; i++) {
		/* a named label's length 0 means strlen (expo_label) */
		uint64_t len = l[i].value_len || !l[i].name ? l[i].value_len : strlen(l[i].value);
		(void)strbuf_append(b, &l[i].name, sizeof(l[i].name));
		(void)strbuf_append(b, &len, sizeof(len));
		(void)strbuf_append(b, l[i].value, (size_t)len);
	}
	if (extra_len) {
		(void)strbuf_append(b, extra, extra_len); /* never memcpy from NULL */
	}
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	}
	return h;
}

static int index_grow(struct family *f)
{
	size_t cap = f->index_cap ? f->index_cap * 2 : 1024;
	uint32_t *v = calloc(cap, sizeof(*v));

	if (!v) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->index_cap; i++) {
		if (f->index[i]) {
			const struct series *s = &f->ser[f->index[i] - 1];
			size_t j = hash_bytes(f->heads.data + s->head_off, s->head_len) & (cap - 1);
			while (v[j]) {
				j = (j + 1) & (cap - 1);
			}
			v[j] = f->index[i];
		}
	}
	free(f->index);
	f->index = v;
	f->index_cap = cap;
	return 0;
}

/* The number of the series whose heads are heads[0..len) with n_lines
 * lines, added on first sight; -errno (-E2BIG: too many series). */
static int64_t series_of(struct stepwriter *w, struct family *f, const char *heads, size_t len,
                         uint32_t n_lines, int32_t sum_line)
{
	if ((f->n_ser + 1) * 2 > f->index_cap && index_grow(f) < 0) {
		return -ENOMEM;
	}
	size_t j = hash_bytes(heads, len) & (f->index_cap - 1);
	for (; f->index[j]; j = (j + 1) & (f->index_cap - 1)) {
		const struct series *s = &f->ser[f->index[j] - 1];
		if (s->head_len == len && memcmp(f->heads.data + s->head_off, heads, len) == 0) {
			return f->index[j] - 1;
		}
	}
	if (w->total_series >= MAX_SERIES) {
		return -E2BIG;
	}
	if (f->n_ser == f->ser_cap) {
		size_t cap = f->ser_cap ? f->ser_cap * 2 : 256;
		struct series *v = realloc(f->ser, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		f->ser = v;
		f->ser_cap = cap;
	}
	size_t off = f->heads.len;
	if (strbuf_append(&f->heads, heads, len) < 0) {
		return f->heads.error == -ENOMEM ? -ENOMEM : -E2BIG;
	}
	f->ser[f->n_ser] = (struct series){(uint32_t)off, (uint32_t)len, n_lines, sum_line, false};
	f->index[j] = (uint32_t)++f->n_ser;
	w->total_series++;
	return (int64_t)f->n_ser - 1;
}

/* The series remembered at the current place when its labels are w->id. */
static int64_t memo_hit(const struct stepwriter *w)
{
	const struct family *f = w->cur;
	const struct memo *m = w->pos < f->n_memo ? &f->memo[w->pos] : NULL;

	if (m && m->id_len == w->id.len &&
	    memcmp(f->ids.data + m->id_off, w->id.data, w->id.len) == 0) {
		return m->sid;
	}
	return -1;
}

/* Forget the current family's places from the current one on, then
 * remember series sid there (unless over the cap: then it is looked up
 * by its heads each time). */
static void memo_put(struct stepwriter *w, uint32_t sid)
{
	struct family *f = w->cur;

	if (w->pos < f->n_memo) {
		w->memo_len -= f->ids.len - f->memo[w->pos].id_off;
		f->ids.len = f->memo[w->pos].id_off;
		f->n_memo = w->pos;
	}
	if (f->n_memo != w->pos || w->memo_len + w->id.len > MEMO_CAP || f->ids.error) {
		return;
	}
	if (f->n_memo == f->memo_cap) {
		size_t cap = f->memo_cap ? f->memo_cap * 2 : 256;
		struct memo *v = realloc(f->memo, cap * sizeof(*v));
		if (!v) {
			return;
		}
		f->memo = v;
		f->memo_cap = cap;
	}
	struct memo m = {sid, (uint32_t)f->ids.len, (uint32_t)w->id.len};
	if (strbuf_append(&f->ids, w->id.data, w->id.len) < 0) {
		return;
	}
	f->memo[f->n_memo++] = m;
	w->memo_len += w->id.len;
}

/* Render a series' heads into a buffer (when it is not remembered). */
typedef void head_fn(struct strbuf *b, const char *name, const struct expo_label *l, size_t n,
                     const void *arg);

/* Note the series whose labels are in w->id and whose values are
 * vals[0..n_lines) in this step's record; flag: SID_DOUBLE or 0. */
static void series(struct stepwriter *w, const struct expo_label *l, size_t n, head_fn *heads,
                   const void *arg, uint32_t n_lines, int32_t sum_line, const uint64_t *vals,
                   uint32_t flag)
{
	int64_t sid = memo_hit(w);

	if (sid < 0) {
		strbuf_reset(&w->scratch);
		heads(&w->scratch, w->cur_name, l, n, arg);
		sid = w->scratch.error ? w->scratch.error
		                       : series_of(w, w->cur, w->scratch.data, w->scratch.len,
		                                   n_lines, sum_line);
		if (sid < 0) {
			fail(w, (int)sid);
			return;
		}
		memo_put(w, (uint32_t)sid);
	}
	uint32_t e = (uint32_t)sid | flag;
	(void)strbuf_append(&w->rec, &e, sizeof(e));
	(void)strbuf_append(&w->rec, vals, n_lines * sizeof(*vals));
	w->n_in_step++;
	w->pos++;
}

static void sample_heads(struct strbuf *b, const char *name, const struct expo_label *l, size_t n,
                         const void *arg)
{
	(void)arg;
	expo_sample_head(b, name, NULL, l, n, NULL);
	(void)strbuf_putc(b, '\n');
}

/* expo_writer_ops.sample: backfill registries have no exemplars and no
 * creation times (stepwriter.h), so those are not written. */
static void op_sample(struct expo_writer *ew, const struct expo_label *l, size_t n, bool is_double,
                      uint64_t u, double d, int64_t created_ms, const struct expo_exemplar *ex)
{
	struct stepwriter *w = (struct stepwriter *)ew;
	uint64_t v = u;

	(void)created_ms;
	(void)ex;
	if (!w->cur) {
		return;
	}
	if (is_double) {
		memcpy(&v, &d, sizeof(v));
	}
	put_id(&w->id, l, n, NULL, 0);
	series(w, l, n, sample_heads, NULL, 1, -1, &v, is_double ? SID_DOUBLE : 0);
}

static void hist_heads(struct strbuf *b, const char *name, const struct expo_label *l, size_t n,
                       const void *arg)
{
	const struct expo_histogram *h = arg;

	for (size_t k = 0; k <= h->n_bounds; k++) {
		struct expo_label lel = {"le", h->le[k], h->le_len[k], NULL, 0};
		expo_sample_head(b, name, "_bucket", l, n, &lel);
		(void)strbuf_putc(b, '\n');
	}
	expo_sample_head(b, name, "_sum", l, n, NULL);
	(void)strbuf_putc(b, '\n');
	expo_sample_head(b, name, "_count", l, n, NULL);
	(void)strbuf_putc(b, '\n');
}

/* expo_writer_ops.histogram: buckets, _sum, _count (no exemplars). */
static void op_histogram(struct expo_writer *ew, const struct expo_label *l, size_t n,
                         const struct expo_histogram *h, int64_t created_ms)
{
	struct stepwriter *w = (struct stepwriter *)ew;
	uint64_t vals[MAX_LINES];
	/* the bounds: their number and their le texts */
	const void *bounds[2] = {(const void *)(uintptr_t)h->n_bounds, h->le};

	(void)created_ms;
	if (!w->cur) {
		return;
	}
	if (h->n_bounds + 3 > MAX_LINES) {
		fail(w, -E2BIG);
		return;
	}
	put_id(&w->id, l, n, bounds, sizeof(bounds));
	memcpy(vals, h->cumulative, (h->n_bounds + 1) * sizeof(*vals));
	memcpy(&vals[h->n_bounds + 1], &h->sum, sizeof(vals[0]));
	vals[h->n_bounds + 2] = h->cumulative[h->n_bounds];
	series(w, l, n, hist_heads, h, (uint32_t)h->n_bounds + 3, (int32_t)h->n_bounds + 1, vals,
	       0);
}

static void op_finish(struct expo_writer *ew)
{
	flush_family((struct stepwriter *)ew);
}

static const struct expo_writer_ops step_ops = {
    .family = op_family,
    .sample = op_sample,
    .histogram = op_histogram,
    .finish = op_finish,
};

int stepwriter_add(struct stepwriter *w, struct metrics *m, int64_t ts_ms, int64_t prev_ms)
{
	if (w->error) {
		return w->error;
	}
	w->ts_ms = ts_ms;
	w->prev_ms = prev_ms > 0 ? prev_ms : 0;
	/* the walk's buffer is the heads' scratch: the walk writes nothing itself */
	expo_writer_init(&w->ew, EXPO_OPENMETRICS, &w->scratch, false);
	w->ew.ops = &step_ops;
	w->cur = NULL;
	int r = metrics_render_with(m, &w->ew);
	if (r < 0) {
		fail(w, r);
	}
	return w->error;
}

void stepwriter_begin_source(struct stepwriter *w)
{
	for (size_t i = 0; i < w->n_fam; i++) {
		struct family *f = &w->fam[i];
		w->memo_len -= f->ids.len;
		f->n_memo = 0;
		strbuf_reset(&f->ids);
	}
}

int stepwriter_error(const struct stepwriter *w)
{
	return w->error;
}

uint64_t stepwriter_samples(const struct stepwriter *w)
{
	return w->samples;
}

/* ---- the document ------------------------------------------------------- */

/* Unix ms as an OpenMetrics timestamp (seconds) after a space, with the
 * line's newline. */
static size_t format_ts(int64_t ms, char *buf, size_t size)
{
	int n = ms % 1000 ? snprintf(buf, size, " %lld.%03lld\n", (long long)(ms / 1000),
	                             (long long)(ms % 1000))
	                  : snprintf(buf, size, " %lld\n", (long long)(ms / 1000));
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* One step's stamps, as text. */
struct stamps {
	char ts[40], prev[40];
	size_t ts_len, prev_len;
};

static int flush_out(struct strbuf *b, FILE *out)
{
	if (b->error) {
		return b->error;
	}
	if (b->len && fwrite(b->data, 1, b->len, out) != b->len) {
		return -errno;
	}
	strbuf_reset(b);
	return 0;
}

/* One series of a step record: every line's head, value and stamp; the
 * first time, each line's 0 sample at the start of the step before it. */
static void put_series(struct stepwriter *w, struct series *s, const char *heads,
                       const uint64_t *vals, bool is_double, const struct stamps *st,
                       struct strbuf *b)
{
	const char *h = heads, *end = heads + s->head_len;
	bool first = !s->written;

	s->written = true;
	for (uint32_t k = 0; k < s->n_lines && h < end; k++) {
		const char *nl = memchr(h, '\n', (size_t)(end - h));
		size_t len = nl ? (size_t)(nl - h) : (size_t)(end - h);
		if (first) {
			(void)strbuf_append(b, h, len);
			(void)strbuf_append(b, "0", 1);
			(void)strbuf_append(b, st->prev, st->prev_len);
			w->samples++;
		}
		(void)strbuf_append(b, h, len);
		if (is_double || (int32_t)k == s->sum_line) {
			double d;
			memcpy(&d, &vals[k], sizeof(d));
			(void)strbuf_put_double(b, d);
		} else {
			(void)strbuf_put_u64(b, vals[k]);
		}
		(void)strbuf_append(b, st->ts, st->ts_len);
		w->samples++;
		h += len + 1;
	}
}

/* One step record of f, p[0..len) after its head, into b: 0 or -errno. */
static int put_record(struct stepwriter *w, struct family *f, const struct stamps *st, uint32_t n,
                      const char *p, size_t len, struct strbuf *b, FILE *out)
{
	uint64_t vals[MAX_LINES];
	const char *end = p + len;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t e;
		if ((size_t)(end - p) < sizeof(e)) {
			return -EIO;
		}
		memcpy(&e, p, sizeof(e));
		p += sizeof(e);
		uint32_t sid = e & ~SID_DOUBLE;
		if (sid >= f->n_ser || f->ser[sid].n_lines > MAX_LINES ||
		    (size_t)(end - p) < f->ser[sid].n_lines * sizeof(*vals)) {
			return -EIO;
		}
		struct series *s = &f->ser[sid];
		memcpy(vals, p, s->n_lines * sizeof(*vals));
		p += s->n_lines * sizeof(*vals);
		put_series(w, s, f->heads.data + s->head_off, vals, e & SID_DOUBLE, st, b);
		if (b->len >= OUT_FLUSH) {
			int r = flush_out(b, out);
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

/* A family's samples, every step in order, as text into out. */
static int emit_family(struct stepwriter *w, struct family *f, struct strbuf *b, FILE *out)
{
	struct strbuf rec;
	struct rec_head h;
	int r = 0;

	if (fflush(f->tmp) != 0 || fseek(f->tmp, 0, SEEK_SET) != 0) {
		return -errno;
	}
	strbuf_init(&rec, OUT_CAP);
	while (r == 0 && fread(&h, sizeof(h), 1, f->tmp) == 1) {
		struct stamps st;
		st.ts_len = format_ts(h.ts_ms, st.ts, sizeof(st.ts));
		st.prev_len = format_ts(h.prev_ms, st.prev, sizeof(st.prev));
		strbuf_reset(&rec);
		r = strbuf_reserve(&rec, h.bytes);
		if (r == 0 && fread(rec.data, 1, h.bytes, f->tmp) != h.bytes) {
			r = -EIO;
		}
		if (r == 0) {
			r = put_record(w, f, &st, h.n, rec.data, h.bytes, b, out);
		}
	}
	strbuf_finish(&rec);
	if (r == 0 && ferror(f->tmp)) {
		r = -EIO;
	}
	return r < 0 ? r : flush_out(b, out);
}

int stepwriter_emit(struct stepwriter *w, FILE *out)
{
	struct strbuf b;
	int r = w->error;

	strbuf_init(&b, OUT_CAP);
	for (size_t i = 0; i < w->n_fam && r == 0; i++) {
		struct family *f = &w->fam[i];
		if (!f->tmp) {
			continue;
		}
		if (fputs(f->header, out) < 0) {
			r = -errno;
			break;
		}
		r = emit_family(w, f, &b, out);
	}
	strbuf_finish(&b);
	if (r == 0 && (fputs("# EOF\n", out) < 0 || fflush(out) != 0)) {
		r = -errno;
	}
	return r;
}

struct stepwriter *stepwriter_create(const char *dir)
{
	struct stepwriter *w = calloc(1, sizeof(*w));

	if (!w) {
		return NULL;
	}
	(void)snprintf(w->dir, sizeof(w->dir), "%s", dir);
	strbuf_init(&w->rec, OUT_CAP);
	strbuf_init(&w->id, OUT_CAP);
	strbuf_init(&w->scratch, OUT_CAP);
	return w;
}

void stepwriter_destroy(struct stepwriter *w)
{
	if (!w) {
		return;
	}
	for (size_t i = 0; i < w->n_fam; i++) {
		struct family *f = &w->fam[i];
		if (f->tmp) {
			(void)fclose(f->tmp);
		}
		free(f->name);
		free(f->header);
		free(f->ser);
		free(f->index);
		free(f->memo);
		strbuf_finish(&f->heads);
		strbuf_finish(&f->ids);
	}
	strbuf_finish(&w->rec);
	strbuf_finish(&w->id);
	strbuf_finish(&w->scratch);
	free(w);
}
