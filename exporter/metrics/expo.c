/*
 * expo.c - exposition writer (see expo.h).
 *
 * Everything appends to a capped strbuf; errors stick in the buffer and
 * the caller checks once.  Values are formatted without printf on the hot
 * path (integers) because a scrape of 10k series must take milliseconds.
 * UTF-8 validation follows RFC 3629 (no overlongs, no surrogates, max
 * U+10FFFF); each invalid byte becomes U+FFFD.
 */
#include "exporter/metrics/expo.h"

#include "exporter/metrics/expo_protobuf.h"

#include "parsers/utf8.h"

#include <stdbool.h>
#include <string.h>

const char *expo_content_type(enum expo_format f)
{
	static const char *const types[] = {
	    [EXPO_TEXT] = "text/plain; version=0.0.4; charset=utf-8",
	    [EXPO_OPENMETRICS] = "application/openmetrics-text; version=1.0.0; charset=utf-8",
	    [EXPO_PROTOBUF] = "application/vnd.google.protobuf; "
	                      "proto=io.prometheus.client.MetricFamily; encoding=delimited",
	};
	return types[f];
}

static const char *type_name(enum expo_format f, enum expo_type t)
{
	static const char *const names[] = {
	    [EXPO_COUNTER] = "counter",
	    [EXPO_GAUGE] = "gauge",
	    [EXPO_HISTOGRAM] = "histogram",
	    [EXPO_INFO] = "gauge",
	};
	if (t == EXPO_INFO && f == EXPO_OPENMETRICS) {
		return "info";
	}
	return names[t];
}

/* No byte of the 8 at p needs escaping or UTF-8 validation: none is
 * >= 0x80, '\\', '"' or '\n' (a zero byte in x ^ c is a byte equal to c). */
static inline bool plain_word(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t x, hit;

	memcpy(&x, p, 8);
	hit = x & highs;
	for (unsigned k = 0; k < 3; k++) {
		static const uint64_t c[3] = {'\\' * 0x0101010101010101ull,
		                              '"' * 0x0101010101010101ull,
		                              '\n' * 0x0101010101010101ull};
		uint64_t y = x ^ c[k];
		hit |= (y - ones) & ~y & highs;
	}
	return hit == 0;
}

void expo_escape_value(struct strbuf *b, const char *value, size_t len)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t start = 0, i = 0;

	while (i < len) {
		unsigned char c;
		size_t n;
		const char *rep = NULL;

		/* Fastest path: eight bytes of plain ASCII at a time. */
		while (len - i >= 8 && plain_word(p + i)) {
			i += 8;
		}
		if (i == len) {
			break;
		}
		c = p[i];
		/* Fast path: plain ASCII needs neither escaping nor validation. */
		if (c < 0x80 && c != '\\' && c != '"' && c != '\n') {
			i++;
			continue;
		}
		if (c == '\\') {
			rep = "\\\\";
		} else if (c == '"') {
			rep = "\\\"";
		} else if (c == '\n') {
			rep = "\\n";
		}
		n = rep ? 1 : utf8_seq_len(p + i, len - i);
		if (!rep && n) {
			i += n;
			continue;
		}
		(void)strbuf_append(b, value + start, i - start);
		(void)strbuf_puts(b, rep ? rep : "\xef\xbf\xbd");
		i++;
		start = i;
	}
	(void)strbuf_append(b, value + start, len - start);
}

static const char *family_name(enum expo_format f, const char *name, enum expo_type t,
                               size_t *ret_len)
{
	size_t len = strlen(name);

	/* OpenMetrics names the family without the sample suffix. */
	if (f == EXPO_OPENMETRICS && t == EXPO_COUNTER && len > 6 &&
	    strcmp(name + len - 6, "_total") == 0) {
		len -= 6;
	} else if (f == EXPO_OPENMETRICS && t == EXPO_INFO && len > 5 &&
	           strcmp(name + len - 5, "_info") == 0) {
		len -= 5;
	}
	*ret_len = len;
	return name;
}

void expo_family(struct strbuf *b, enum expo_format f, const char *name, enum expo_type type,
                 const char *help)
{
	size_t len;
	const char *fam = family_name(f, name, type, &len);

	(void)strbuf_puts(b, "# HELP ");
	(void)strbuf_append(b, fam, len);
	(void)strbuf_putc(b, ' ');
	(void)strbuf_puts(b, help);
	(void)strbuf_puts(b, "\n# TYPE ");
	(void)strbuf_append(b, fam, len);
	(void)strbuf_putc(b, ' ');
	(void)strbuf_puts(b, type_name(f, type));
	(void)strbuf_putc(b, '\n');
}

static void put_label(struct strbuf *b, const struct expo_label *l, bool first)
{
	if (!first) {
		(void)strbuf_putc(b, ',');
	}
	if (!l->name) {
		/* A fragment rendered by expo_labels_fragment: copied as is. */
		(void)strbuf_append(b, l->value, l->value_len);
		return;
	}
	(void)strbuf_puts(b, l->name);
	(void)strbuf_append(b, "=\"", 2);
	expo_escape_value(b, l->value, l->value_len ? l->value_len : strlen(l->value));
	(void)strbuf_putc(b, '"');
}

void expo_sample_head(struct strbuf *b, const char *name, const char *suffix,
                      const struct expo_label *labels, size_t n_labels,
                      const struct expo_label *extra)
{
	(void)strbuf_puts(b, name);
	if (suffix) {
		(void)strbuf_puts(b, suffix);
	}
	if (n_labels || extra) {
		(void)strbuf_putc(b, '{');
		for (size_t i = 0; i < n_labels; i++) {
			put_label(b, &labels[i], i == 0);
		}
		if (extra) {
			put_label(b, extra, n_labels == 0);
		}
		(void)strbuf_putc(b, '}');
	}
	(void)strbuf_putc(b, ' ');
}

void expo_sample_u64(struct strbuf *b, const char *name, const char *suffix,
                     const struct expo_label *labels, size_t n_labels,
                     const struct expo_label *extra, uint64_t value)
{
	expo_sample_head(b, name, suffix, labels, n_labels, extra);
	(void)strbuf_put_u64(b, value);
	(void)strbuf_putc(b, '\n');
}

void expo_sample_double(struct strbuf *b, const char *name, const char *suffix,
                        const struct expo_label *labels, size_t n_labels,
                        const struct expo_label *extra, double value)
{
	expo_sample_head(b, name, suffix, labels, n_labels, extra);
	(void)strbuf_put_double(b, value);
	(void)strbuf_putc(b, '\n');
}

void expo_sample_created(struct strbuf *b, const char *name, const struct expo_label *labels,
                         size_t n_labels, int64_t unix_ms)
{
	size_t len = strlen(name);
	uint64_t ms = unix_ms > 0 ? (uint64_t)unix_ms : 0;
	char frac[5] = {'.', (char)('0' + ms % 1000 / 100), (char)('0' + ms % 100 / 10),
	                (char)('0' + ms % 10), '\n'};

	if (len > 6 && strcmp(name + len - 6, "_total") == 0) {
		len -= 6;
	}
	(void)strbuf_append(b, name, len);
	expo_sample_head(b, "_created", NULL, labels, n_labels, NULL);
	/* Exact decimal milliseconds (a double would print 1764780000.1229999). */
	(void)strbuf_put_u64(b, ms / 1000);
	(void)strbuf_append(b, frac, sizeof(frac));
}

void expo_labels_fragment(struct strbuf *b, const struct expo_label *labels, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++) {
		put_label(b, &labels[i], i == 0);
	}
}

void expo_end(struct strbuf *b, enum expo_format f)
{
	if (f == EXPO_OPENMETRICS) {
		(void)strbuf_puts(b, "# EOF\n");
	}
}

/* The text formats as an expo_writer: one line per sample, as always. */
static void text_family(struct expo_writer *w, const char *name, enum expo_type type,
                        const char *help)
{
	w->name = name;
	w->type = type;
	expo_family(w->b, w->f, name, type, help);
}

/* " # {label="id"} value timestamp" after an OpenMetrics sample (no newline). */
static void put_exemplar(struct strbuf *b, const struct expo_exemplar *ex)
{
	uint64_t ms = ex->ts_ms > 0 ? (uint64_t)ex->ts_ms : 0;
	char frac[4] = {'.', (char)('0' + ms % 1000 / 100), (char)('0' + ms % 100 / 10),
	                (char)('0' + ms % 10)};

	(void)strbuf_append(b, " # {", 4);
	(void)strbuf_puts(b, ex->label);
	(void)strbuf_append(b, "=\"", 2);
	expo_escape_value(b, ex->id, ex->id_len);
	(void)strbuf_append(b, "\"} ", 3);
	(void)strbuf_put_double(b, ex->value);
	if (ms) {
		(void)strbuf_putc(b, ' ');
		(void)strbuf_put_u64(b, ms / 1000);
		(void)strbuf_append(b, frac, sizeof(frac));
	}
}

/* Whether a sample line of w carries ex (OpenMetrics only: 0.0.4 has none). */
static bool has_exemplar(const struct expo_writer *w, const struct expo_exemplar *ex)
{
	return w->f == EXPO_OPENMETRICS && ex && ex->label;
}

static void text_sample(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
                        bool is_double, uint64_t u, double d, int64_t created_ms,
                        const struct expo_exemplar *ex)
{
	if (is_double) {
		expo_sample_double(w->b, w->name, NULL, labels, n_labels, NULL, d);
	} else if (has_exemplar(w, ex) && w->type == EXPO_COUNTER) {
		expo_sample_head(w->b, w->name, NULL, labels, n_labels, NULL);
		(void)strbuf_put_u64(w->b, u);
		put_exemplar(w->b, ex);
		(void)strbuf_putc(w->b, '\n');
	} else {
		expo_sample_u64(w->b, w->name, NULL, labels, n_labels, NULL, u);
	}
	if (w->created && created_ms > 0 && w->type == EXPO_COUNTER) {
		expo_sample_created(w->b, w->name, labels, n_labels, created_ms);
	}
}

static void text_histogram(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
                           const struct expo_histogram *h, int64_t created_ms)
{
	for (size_t k = 0; k <= h->n_bounds; k++) {
		struct expo_label lel = {"le", h->le[k], h->le_len[k], NULL, 0};
		const struct expo_exemplar *ex = h->exemplars ? &h->exemplars[k] : NULL;
		if (has_exemplar(w, ex)) {
			expo_sample_head(w->b, w->name, "_bucket", labels, n_labels, &lel);
			(void)strbuf_put_u64(w->b, h->cumulative[k]);
			put_exemplar(w->b, ex);
			(void)strbuf_putc(w->b, '\n');
			continue;
		}
		expo_sample_u64(w->b, w->name, "_bucket", labels, n_labels, &lel, h->cumulative[k]);
	}
	expo_sample_double(w->b, w->name, "_sum", labels, n_labels, NULL, h->sum);
	expo_sample_u64(w->b, w->name, "_count", labels, n_labels, NULL,
	                h->cumulative[h->n_bounds]);
	if (w->created && created_ms > 0) {
		expo_sample_created(w->b, w->name, labels, n_labels, created_ms);
	}
}

static void text_finish(struct expo_writer *w)
{
	(void)w;
}

static const struct expo_writer_ops text_ops = {
    .family = text_family,
    .sample = text_sample,
    .histogram = text_histogram,
    .finish = text_finish,
};

void expo_writer_init(struct expo_writer *w, enum expo_format f, struct strbuf *b, bool created)
{
	static const struct expo_writer_ops *const ops[] = {
	    [EXPO_TEXT] = &text_ops,
	    [EXPO_OPENMETRICS] = &text_ops,
	    [EXPO_PROTOBUF] = &expo_protobuf_ops,
	};

	*w = (struct expo_writer){.ops = ops[f], .b = b, .f = f, .type = EXPO_GAUGE};
	/* Text 0.0.4 has no _created samples; protobuf always has the field. */
	w->created = f == EXPO_PROTOBUF || (f == EXPO_OPENMETRICS && created);
}
