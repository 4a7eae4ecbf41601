/*
 * metrics_checkpoint.c - counter values to and from checkpoint text (see
 * metrics.h: metrics_source_save, metrics_source_restore).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "exporter/metrics/metrics_impl.h"
#include "parsers/numparse.h"

/* Checkpoint keys of the families ("d" lines). */
static const char *const family_keys[FAM_COUNT] = {
    [FAM_RESPONSES] = "responses",
    [FAM_BYTES] = "bytes",
    [FAM_REQUEST] = "req",
    [FAM_UPSTREAM] = "up",
    [FAM_REQUEST_SIZE] = "reqsize",
    [FAM_RESPONSE_SIZE] = "respsize",
    [FAM_UPSTREAM_CONNECT] = "upconnect",
    [FAM_UPSTREAM_HEADER] = "upheader",
};

/*
 * One record per line, fields separated by one space:
 *   c <counter> <value>                 self-metric (by short name)
 *   r <method> <code> <value>           response counter ("invalid" code allowed)
 *   b <method> <class> <value>          response bytes
 *   h <hist> <method> <class> <i|inf> <bound-bits-hex> <value>   histogram bucket
 *   s <hist> <method> <class> <sum-bits-hex>                     histogram sum
 *      <hist>: req, up (durations), reqsize, respsize, upconnect, upheader;
 *      a histogram the registry does not have (no buckets) skips its lines
 *   n <req|up> <method> <class> <schema> <index|z> <value>  native histogram bucket
 *      (z: the zero bucket); schema -4..8, index a signed decimal within
 *      +-NHIST_MAX_INDEX
 *   l <=name> <field> - -                          field-label schema: no rewrite
 *   l <=name> <field> <=match> <=replacement>... [<=default>]   ordered rules
 *   R, B, H, S, N: the same for a field-label series, followed by one token per
 *      field label: "=" and the value with bytes outside '!'..'~' and '%'
 *      written as %XX (so "=" alone is the empty value)
 *   e r <method> <code> <kind> <ts-ms> <value-bits-hex> <=id>     the exemplar of a
 *      response counter; kind "request_id" or "trace_id", ts-ms a signed
 *      decimal (the line's time), the id one token escaped as values are
 *   e h <req|up> <method> <class> <i|inf> <bound-bits-hex> <kind> <ts-ms>
 *      <value-bits-hex> <=id>          the exemplar of a histogram bucket
 *   E r ..., E h ...: the same for a field-label series, followed by its values
 *   d <family key> <value>              series dropped by the limit
 *   t <unix-ms>                         when the source was created
 * Doubles travel as their IEEE bits in hex so they round-trip exactly.
 * A series line may carry "@<unix-ms>", the series' creation time, right
 * after its value (r b R B h H n N) or sum bits (s S), before any "=" token;
 * checkpoints written before creation times existed have none, and their
 * series restore with an unknown creation time (never held at 0, no
 * _created sample).  Restored series are not new: they keep their saved
 * creation time, so only a series still inside its hold is held again.
 *
 * The "l" lines (one per field label, in label order, before the series)
 * say what each value position of R/B/H/S meant when it was saved: name,
 * record field ("vhost", "path", "upstream_status", "$NAME" for a field
 * of the log format, "^NAME" for a path_labels group), then "- -" for no rewrite or the rules in
 * order as match/replacement token pairs, then the default value as one
 * more token when it is not "other" (tokens start with "=", so an odd count
 * means a default), escaped like the values.  One rule with the "other"
 * default is exactly the line older versions wrote for match/replacement.
 * Restore maps a running label to the saved position with the same name
 * when field, rules (all of them, in order) and default are unchanged; a
 * label that is new, or whose field or rewrite changed, gets the empty
 * value, and a saved label
 * that no longer exists is dropped (its series merge).  Every restored value
 * is still added somewhere, so totals stay exact; the overflow label set
 * (all "__overflow__") stays the overflow set.  A checkpoint without "l"
 * lines (older versions) cannot say which position was which: all its
 * field-label series get empty values (totals kept) rather than risk
 * putting counts under the wrong label.
 *
 * Exemplars ("e"/"E" lines, after every series line so that their series
 * exist when they are restored) keep their id, value and time exactly; a
 * registry with exemplars off skips them, and a bucket whose bound changed
 * loses its exemplar as it loses its count.  Checkpoints without them
 * (older versions) restore with no exemplars; a version before them refuses
 * a checkpoint that has them (an unknown line), so a downgrade starts the
 * sources that had exemplars afresh.
 *
 * Native histogram buckets are saved with the schema they had, so a
 * restart with the same settings restores them exactly (schema, every
 * bucket, the zero bucket); a lower configured schema or bucket cap
 * merges them the way ingestion would, and a registry without native
 * histograms checks the lines and skips them.  Rejected: a hash of the schema
 * (could only say "changed", not map by name; the full text is small and
 * bounded by the config caps); re-running the new rewrite on saved values
 * (they are already rewritten and capped, the raw value is gone).
 */
static const char *const counter_keys[METRICS_COUNTER_COUNT] = {
    [METRICS_LINES] = "lines",
    [METRICS_PARSE_ERRORS] = "parse_errors",
    [METRICS_BYTES_READ] = "bytes_read",
    [METRICS_ROTATIONS] = "rotations",
    [METRICS_TRUNCATIONS] = "truncations",
    [METRICS_LINES_TOO_LONG] = "lines_too_long",
    [METRICS_READ_ERRORS] = "read_errors",
    [METRICS_FILES_SKIPPED] = "files_skipped",
    [METRICS_LINES_DROPPED] = "lines_dropped",
    [METRICS_SYSLOG_MESSAGES] = "syslog_messages",
    [METRICS_SYSLOG_INVALID] = "syslog_invalid",
    [METRICS_SYSLOG_FILTERED] = "syslog_filtered",
    [METRICS_SYSLOG_DROPPED] = "syslog_dropped",
    [METRICS_SYSLOG_CONNECTIONS] = "syslog_connections",
    [METRICS_SYSLOG_CONN_REFUSED] = "syslog_connections_refused",
    [METRICS_SYSLOG_CONN_IDLE] = "syslog_connections_idle_closed",
    [METRICS_SERIES_REMOVED] = "series_removed",
};

/* Record fields by checkpoint name (enum config_field order). */
static const char *const field_keys[] = {
    [CONFIG_FIELD_VHOST] = "vhost",
    [CONFIG_FIELD_PATH] = "path",
    [CONFIG_FIELD_UPSTREAM_STATUS] = "upstream_status",
};
#define N_FIELD_KEYS ((unsigned)(sizeof(field_keys) / sizeof(field_keys[0])))

static bool needs_escape(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '%';
}

/* " =" and the bytes, with needs_escape bytes as %XX: one space-free token. */
static void put_token(struct strbuf *out, const char *p, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	(void)strbuf_append(out, " =", 2);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (!needs_escape(c)) {
			(void)strbuf_putc(out, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			(void)strbuf_append(out, e, 3);
		}
	}
}

static void save_values(const struct metrics_source *s, uint32_t tuple, struct strbuf *out)
{
	struct str_view v[CONFIG_MAX_FIELD_LABELS];
	size_t w = series_tuples_width(s->tuples);

	series_tuples_values(s->tuples, tuple, v);
	for (size_t i = 0; i < w; i++) {
		put_token(out, v[i].ptr, v[i].len);
	}
	(void)strbuf_putc(out, '\n');
}

/* The "l" lines: what each value position of the series lines means. */
static void save_schema(const struct metrics_source *s, struct strbuf *out)
{
	size_t w = series_tuples_width(s->tuples);

	for (size_t i = 0; i < w; i++) {
		struct series_label_def d;
		series_tuples_def(s->tuples, i, &d);
		(void)strbuf_putc(out, 'l');
		put_token(out, d.name, strlen(d.name));
		if (d.field == CONFIG_FIELD_VARIABLE) {
			(void)strbuf_printf(out, " $%s", d.variable);
		} else if (d.field == CONFIG_FIELD_PATH_LABEL) {
			(void)strbuf_printf(out, " ^%s", d.variable);
		} else {
			(void)strbuf_printf(out, " %s", field_keys[d.field]);
		}
		if (!d.n_rules) {
			(void)strbuf_puts(out, " - -\n");
			continue;
		}
		for (size_t k = 0; k < d.n_rules; k++) {
			const char *match, *rep;
			series_tuples_rule(s->tuples, i, k, &match, &rep);
			put_token(out, match, strlen(match));
			put_token(out, rep, strlen(rep));
		}
		if (strcmp(d.default_value, "other") != 0) {
			put_token(out, d.default_value, strlen(d.default_value));
		}
		(void)strbuf_putc(out, '\n');
	}
}

/* " @<ms>" when the creation time is known. */
static void put_created(struct strbuf *out, int64_t ms)
{
	if (ms > 0) {
		(void)strbuf_printf(out, " @%lld", (long long)ms);
	}
}

static void save_bucket(struct strbuf *out, char tag, const char *hname, unsigned me, unsigned c,
                        const struct histogram *h, size_t k, uint64_t v)
{
	(void)strbuf_printf(
	    out, "%c %s %s %s %s %016llx %llu", tag, hname, metrics_method_names[me],
	    metrics_class_names[c], k < h->n_bounds ? "i" : "inf",
	    (unsigned long long)(k < h->n_bounds ? dbits(h->bounds[k]) : 0), (unsigned long long)v);
}

/* The "n"/"N" lines of a native histogram (NULL: none yet); values
 * (tuple) only for "N".  Skipped when a re-layout could not be read around. */
static void save_native(const struct metrics_source *s, char tag, const char *hname, unsigned me,
                        unsigned c, const _Atomic uint64_t *cell, int64_t born, uint32_t tuple,
                        struct strbuf *out)
{
	struct nhist *n = nh_get(cell);
	struct nhist_snapshot *snap = n ? malloc(sizeof(*snap)) : NULL;

	if (!snap || nhist_read(n, snap) < 0) {
		free(snap);
		return;
	}
	for (size_t k = 0; k <= snap->n; k++) {
		uint64_t v = k < snap->n ? snap->counts[k] : snap->zero;
		if (!v) {
			continue;
		}
		(void)strbuf_printf(out, "%c %s %s %s %d ", tag, hname, metrics_method_names[me],
		                    metrics_class_names[c], snap->schema);
		if (k < snap->n) {
			(void)strbuf_printf(out, "%ld", (long)snap->first + (long)k);
		} else {
			(void)strbuf_putc(out, 'z');
		}
		(void)strbuf_printf(out, " %llu", (unsigned long long)v);
		put_created(out, born);
		if (tag == 'N') {
			save_values(s, tuple, out);
		} else {
			(void)strbuf_putc(out, '\n');
		}
	}
	free(snap);
}

/* Exemplar records, after every series line.  Returns whether e held one;
 * the line then still needs its values (E) or its newline (e). */
static bool save_exemplar(struct strbuf *out, const char *head, const struct exemplar *e)
{
	struct expo_exemplar x;

	if (!e || !exemplar_load(e, &x)) {
		return false;
	}
	(void)strbuf_printf(out, "%s %s %lld %016llx", head, x.label, (long long)x.ts_ms,
	                    (unsigned long long)dbits(x.value));
	put_token(out, x.id, x.id_len);
	return true;
}

/* The exemplars of one histogram row: ex an array of n_bounds + 1 (NULL:
 * none yet); tag 'e' (flat) or 'E' (then the series' values follow). */
static void save_row_exemplars(const struct metrics_source *s, const struct histogram *h,
                               const struct exemplar *ex, char tag, const char *hname, unsigned me,
                               unsigned c, uint32_t tuple, struct strbuf *out)
{
	char head[96];

	for (size_t k = 0; ex && k <= h->n_bounds; k++) {
		int n = snprintf(head, sizeof(head), "%c h %s %s %s %s %016llx", tag, hname,
		                 metrics_method_names[me], metrics_class_names[c],
		                 k < h->n_bounds ? "i" : "inf",
		                 (unsigned long long)(k < h->n_bounds ? dbits(h->bounds[k]) : 0));
		if (n < 0 || (size_t)n >= sizeof(head) || !save_exemplar(out, head, &ex[k])) {
			continue;
		}
		if (tag == 'E') {
			save_values(s, tuple, out);
		} else {
			(void)strbuf_putc(out, '\n');
		}
	}
}

static void save_exemplars(const struct metrics_source *s, struct strbuf *out)
{
	const _Atomic uint64_t *cells = (const _Atomic uint64_t *)(uintptr_t)atomic_load_explicit(
	    &s->ex_resp, memory_order_acquire);
	const struct histogram *hs[2] = {&s->hist[HIST_REQUEST], &s->hist[HIST_UPSTREAM]};
	char head[64];

	for (size_t i = 0; cells && i < (size_t)N_METHODS * STATUS_SLOTS; i++) {
		unsigned me = (unsigned)(i / STATUS_SLOTS), slot = (unsigned)(i % STATUS_SLOTS);
		(void)snprintf(head, sizeof(head), "e r %s %s", metrics_method_names[me],
		               status_slot_code(slot));
		if (save_exemplar(out, head, ex_get(&cells[i]))) {
			(void)strbuf_putc(out, '\n');
		}
	}
	for (unsigned u = 0; u < 2 && !s->no_hist; u++) {
		for (unsigned me = 0; me < N_METHODS; me++) {
			for (unsigned c = 0; c < N_CLASSES; c++) {
				save_row_exemplars(s, hs[u], ex_get(&hs[u]->ex[me][c]), 'e',
				                   family_keys[FAM_REQUEST + u], me, c, 0, out);
			}
		}
	}
	/* the optional histograms have no exemplars */
	for (unsigned fam = 0; s->tuples && fam < FAM_HIST(HIST_FIRST_OPTIONAL); fam++) {
		const struct series_family *fa = s->fam[fam];
		const struct histogram *h =
		    &s->hist[fam == FAM_UPSTREAM ? HIST_UPSTREAM : HIST_REQUEST];
		size_t cnt = fam == FAM_BYTES || (fam != FAM_RESPONSES && s->no_hist)
		                 ? 0
		                 : series_family_count(fa);
		for (size_t e = 0; e < cnt; e++) {
			struct series_key key;
			_Atomic uint64_t *v;
			series_family_entry(fa, e, &key, &v);
			if (fam != FAM_RESPONSES) {
				save_row_exemplars(s, h, ex_get(&v[h->ex_cell]), 'E',
				                   family_keys[fam], key.method, key.slot,
				                   key.tuple, out);
				continue;
			}
			(void)snprintf(head, sizeof(head), "E r %s %s",
			               metrics_method_names[key.method],
			               status_slot_code(key.slot));
			if (save_exemplar(out, head, ex_get(&v[1]))) {
				save_values(s, key.tuple, out);
			}
		}
	}
}

static void save_hist(const struct metrics_source *s, const struct histogram *h, const char *tag,
                      uint32_t id0, struct strbuf *out)
{
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned c = 0; c < N_CLASSES; c++) {
			_Atomic uint64_t *row = hist_row(h, me, c);
			int64_t born = 0;
			if (row_any(row, h->n_bounds + 1)) {
				born = birthmap_get(s->births, id0 + me * N_CLASSES + c);
			}
			for (size_t k = 0; k <= h->n_bounds; k++) {
				uint64_t v = get(&row[k]);
				if (v) {
					save_bucket(out, 'h', tag, me, c, h, k, v);
					put_created(out, born);
					(void)strbuf_putc(out, '\n');
				}
			}
			uint64_t sb = get(&h->sum_bits[me][c]);
			if (sb) {
				(void)strbuf_printf(out, "s %s %s %s %016llx", tag,
				                    metrics_method_names[me],
				                    metrics_class_names[c], (unsigned long long)sb);
				put_created(out, born);
				(void)strbuf_putc(out, '\n');
			}
			if (h->native) {
				save_native(s, 'n', tag, me, c, &h->nh[me][c], born, 0, out);
			}
		}
	}
}

static void save_dyn_hist(const struct metrics_source *s, unsigned kind, struct strbuf *out)
{
	const struct histogram *h = &s->hist[kind];
	const struct series_family *fa = s->fam[FAM_HIST(kind)];
	const char *tag = family_keys[FAM_HIST(kind)];
	size_t cnt = fa ? series_family_count(fa) : 0;

	for (size_t e = 0; e < cnt; e++) {
		struct series_key key;
		_Atomic uint64_t *row;
		series_family_entry(fa, e, &key, &row);
		for (size_t k = 0; k <= h->n_bounds; k++) {
			uint64_t v = get(&row[k]);
			if (v) {
				save_bucket(out, 'H', tag, key.method, key.slot, h, k, v);
				put_created(out, key.created_ms);
				save_values(s, key.tuple, out);
			}
		}
		uint64_t sb = get(&row[h->n_bounds + 1]);
		if (sb) {
			(void)strbuf_printf(out, "S %s %s %s %016llx", tag,
			                    metrics_method_names[key.method],
			                    metrics_class_names[key.slot], (unsigned long long)sb);
			put_created(out, key.created_ms);
			save_values(s, key.tuple, out);
		}
		if (h->native) {
			save_native(s, 'N', tag, key.method, key.slot, &row[h->n_bounds + 2],
			            key.created_ms, key.tuple, out);
		}
	}
}

static void save_dyn(const struct metrics_source *s, struct strbuf *out)
{
	save_schema(s, out);
	for (unsigned fam = FAM_RESPONSES; fam <= FAM_BYTES; fam++) {
		const struct series_family *fa = s->fam[fam];
		size_t cnt = series_family_count(fa);
		for (size_t e = 0; e < cnt; e++) {
			struct series_key key;
			_Atomic uint64_t *v;
			series_family_entry(fa, e, &key, &v);
			if (!get(v)) {
				continue;
			}
			(void)strbuf_printf(out, "%c %s %s %llu", fam == FAM_RESPONSES ? 'R' : 'B',
			                    metrics_method_names[key.method],
			                    fam == FAM_RESPONSES ? status_slot_code(key.slot)
			                                         : metrics_class_names[key.slot],
			                    (unsigned long long)get(v));
			put_created(out, key.created_ms);
			save_values(s, key.tuple, out);
		}
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		save_dyn_hist(s, h, out);
	}
	for (unsigned fam = 0; fam < FAM_COUNT; fam++) {
		uint64_t d = s->fam[fam] ? series_family_dropped(s->fam[fam]) : 0;
		if (d) {
			(void)strbuf_printf(out, "d %s %llu\n", family_keys[fam],
			                    (unsigned long long)d);
		}
	}
}

int metrics_source_save(const struct metrics_source *s, struct strbuf *out)
{
	int64_t created = atomic_load_explicit(&s->created_ms, memory_order_relaxed);

	if (created > 0) {
		(void)strbuf_printf(out, "t %lld\n", (long long)created);
	}
	for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
		uint64_t v = get(&s->counters[c]);
		/* file sources' checkpoints unchanged: lines_dropped (sources with
		 * filters) and the syslog counts are saved when not 0 */
		if ((c < METRICS_FIRST_SYSLOG && c != METRICS_LINES_DROPPED) || v) {
			(void)strbuf_printf(out, "c %s %llu\n", counter_keys[c],
			                    (unsigned long long)v);
		}
	}
	for (unsigned me = 0; me < N_METHODS; me++) {
		for (unsigned slot = 0; slot < STATUS_SLOTS; slot++) {
			uint64_t v = get(&s->responses[me][slot]);
			if (v) {
				(void)strbuf_printf(out, "r %s %s %llu", metrics_method_names[me],
				                    status_slot_code(slot), (unsigned long long)v);
				put_created(out,
				            birthmap_get(s->births,
				                         ID_RESPONSES + me * STATUS_SLOTS + slot));
				(void)strbuf_putc(out, '\n');
			}
		}
		for (unsigned c = 0; c < N_CLASSES; c++) {
			uint64_t v = get(&s->bytes[me][c]);
			if (v) {
				(void)strbuf_printf(out, "b %s %s %llu", metrics_method_names[me],
				                    metrics_class_names[c], (unsigned long long)v);
				put_created(out,
				            birthmap_get(s->births, ID_BYTES + me * N_CLASSES + c));
				(void)strbuf_putc(out, '\n');
			}
		}
	}
	for (unsigned h = 0; h < N_HIST; h++) {
		if (s->hist[h].on) {
			save_hist(s, &s->hist[h], family_keys[FAM_HIST(h)], ID_HIST(h), out);
		}
	}
	if (s->tuples) {
		save_dyn(s, out);
	}
	if (!s->no_ex) {
		save_exemplars(s, out);
	}
	return out->error;
}

/* series lines: 7 + one value per field label; "l" lines: 3 + two tokens
 * per rule + the default */
#define MAX_FIELDS (4 + 2 * CONFIG_MAX_RULES)
_Static_assert(MAX_FIELDS >= 7 + CONFIG_MAX_FIELD_LABELS, "series lines fit");

struct fields {
	const char *p[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	size_t n;
	int64_t created; /* the "@<ms>" token, taken out of p[]; 0: none */
};

/* "@<ms>": a positive Unix time in ms that fits int64. */
static int parse_created(const char *p, size_t len, int64_t *ret)
{
	uint64_t v;

	if (len < 2 || numparse_u64(p + 1, len - 1, &v) < 0 || v == 0 || v > INT64_MAX) {
		return -EINVAL;
	}
	*ret = (int64_t)v;
	return 0;
}

static int split_fields(const char *line, size_t len, struct fields *f)
{
	size_t i = 0;

	f->n = 0;
	f->created = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && line[i] != ' ') {
			i++;
		}
		if (i == start) {
			return -EINVAL;
		}
		if (f->n && line[start] == '@') {
			if (f->created || parse_created(line + start, i - start, &f->created) < 0) {
				return -EINVAL;
			}
		} else if (f->n == MAX_FIELDS) {
			return -EINVAL;
		} else {
			f->p[f->n] = line + start;
			f->len[f->n++] = i - start;
		}
		if (i < len) {
			i++;
		}
	}
	return f->n ? 0 : -EINVAL;
}

static int parse_u64(const char *p, size_t len, unsigned base, uint64_t *ret)
{
	return base == 16 ? numparse_hex_u64(p, len, ret) : numparse_u64(p, len, ret);
}

static bool field_is(const struct fields *f, size_t i, const char *s)
{
	return strlen(s) == f->len[i] && memcmp(f->p[i], s, f->len[i]) == 0;
}

static int lookup_name(const struct fields *f, size_t i, const char *const *names, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (names[k] && field_is(f, i, names[k])) {
			return (int)k;
		}
	}
	return -1;
}

static int lookup_code(const struct fields *f, size_t i)
{
	if (field_is(f, i, "invalid")) {
		return (int)STATUS_SLOT_INVALID;
	}
	unsigned slot = status_slot_from_text(f->p[i], f->len[i]);
	return slot == STATUS_SLOT_INVALID ? -1 : (int)slot;
}

/* Decoded field-label values of a line (fields base..n-1). */
struct line_values {
	char buf[CONFIG_MAX_FIELD_LABELS][SERIES_RAW_CAP];
	struct str_view v[CONFIG_MAX_FIELD_LABELS];
	size_t n;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	                              : -1;
}

static int decode_values(const struct fields *f, size_t base, struct line_values *lv)
{
	lv->n = 0;
	for (size_t i = base; i < f->n; i++) {
		const char *p = f->p[i];
		size_t len = f->len[i], o = 0;
		if (p[0] != '=' || lv->n == CONFIG_MAX_FIELD_LABELS) {
			return -EINVAL;
		}
		for (size_t k = 1; k < len; k++) {
			int c = (unsigned char)p[k];
			if (c == '%') {
				int hi = k + 2 < len ? hexval(p[k + 1]) : -1;
				int lo = hi >= 0 ? hexval(p[k + 2]) : -1;
				if (lo < 0) {
					return -EINVAL;
				}
				c = hi * 16 + lo;
				k += 2;
			}
			if (o == SERIES_RAW_CAP) {
				return -EINVAL;
			}
			lv->buf[lv->n][o++] = (char)c;
		}
		lv->v[lv->n] = (struct str_view){lv->buf[lv->n], o};
		lv->n++;
	}
	return 0;
}

/* The checkpoint's field-label schema ("l" lines, in order), gathered by the
 * validating pass; schema_map turns it into map[] for the adding pass. */
struct restore_schema {
	struct fields def[CONFIG_MAX_FIELD_LABELS]; /* the "l" lines (views into the text) */
	size_t n;                                   /* 0: no schema (older checkpoint) */
	unsigned widths;                            /* bit w: a series line had w values */
	int map[CONFIG_MAX_FIELD_LABELS];           /* running label -> saved position, -1 */
	bool identity;                              /* map[j] == j for every label */
};

/* A "=" token exactly as put_token writes it (so equal text is equal bytes). */
static bool token_canonical(const char *p, size_t len)
{
	if (len == 0 || p[0] != '=') {
		return false;
	}
	for (size_t k = 1; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		if (c == '%') {
			int hi = k + 2 < len ? hexval(p[k + 1]) : -1;
			int lo = hi >= 0 ? hexval(p[k + 2]) : -1;
			if (lo < 0 || (p[k + 1] >= 'a' && p[k + 1] <= 'f') ||
			    (p[k + 2] >= 'a' && p[k + 2] <= 'f') ||
			    !needs_escape((unsigned char)(hi * 16 + lo))) {
				return false;
			}
			k += 2;
		} else if (needs_escape(c)) {
			return false;
		}
	}
	return true;
}

/* Whether a canonical token, or "-", stands for plain (NULL: "-"). */
static bool token_is(const char *p, size_t len, const char *plain)
{
	size_t o = 0, n;

	if (!plain) {
		return len == 1 && p[0] == '-';
	}
	if (p[0] != '=') {
		return false;
	}
	n = strlen(plain);
	for (size_t k = 1; k < len; k++) {
		int c = (unsigned char)p[k];
		if (c == '%') {
			c = hexval(p[k + 1]) * 16 + hexval(p[k + 2]);
			k += 2;
		}
		if (o == n || (unsigned char)plain[o] != c) {
			return false;
		}
		o++;
	}
	return o == n;
}

static bool token_none(const struct fields *f, size_t i)
{
	return f->len[i] == 1 && f->p[i][0] == '-';
}

/* An "l" line's field token: a record field's name, "$NAME" (a field of
 * the log format by its name: "host", "%{X-Forwarded-Proto}i", a JSON key;
 * printable, no blanks) or "^NAME" (a path_labels group: name characters;
 * "@" starts a creation time). */
static bool field_token_ok(const struct fields *f)
{
	char sigil = f->len[2] >= 2 ? f->p[2][0] : 0;

	if (sigil != '$' && sigil != '^') {
		return lookup_name(f, 2, field_keys, N_FIELD_KEYS) >= 0;
	}
	for (size_t k = 1; k < f->len[2]; k++) {
		char c = f->p[2][k];
		bool name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '_';
		if (!(name || (sigil == '$' && c > ' ' && c < 0x7f))) {
			return false;
		}
	}
	return true;
}

/* Rules on an "l" line: "- -", or canonical tokens: pairs and an optional default. */
static bool rule_tokens_ok(const struct fields *f)
{
	if (f->n == 5 && token_none(f, 3) && token_none(f, 4)) {
		return true;
	}
	for (size_t k = 3; k < f->n; k++) {
		if (!token_canonical(f->p[k], f->len[k])) {
			return false;
		}
	}
	return true;
}

/* Check an "l" line; the validating pass records it (in order). */
static int restore_schema_line(struct restore_schema *sc, const struct fields *f, bool dry)
{
	if (f->n < 5 || !token_canonical(f->p[1], f->len[1]) || !field_token_ok(f) ||
	    !rule_tokens_ok(f)) {
		return -EINVAL;
	}
	if (!dry) {
		return 0;
	}
	if (sc->n == CONFIG_MAX_FIELD_LABELS) {
		return -EINVAL;
	}
	for (size_t i = 0; i < sc->n; i++) {
		const struct fields *o = &sc->def[i];
		if (o->len[1] == f->len[1] && memcmp(o->p[1], f->p[1], f->len[1]) == 0) {
			return -EINVAL; /* a name twice: positions would be ambiguous */
		}
	}
	sc->def[sc->n++] = *f;
	return 0;
}

/* Whether a saved "l" line defines running label j exactly (field, every
 * rule in order, default). */
static bool same_def(const struct metrics_source *s, size_t j, const struct series_label_def *d,
                     const struct fields *l)
{
	size_t tokens = l->n - 3;

	if (d->field == CONFIG_FIELD_VARIABLE || d->field == CONFIG_FIELD_PATH_LABEL) {
		char sigil = d->field == CONFIG_FIELD_VARIABLE ? '$' : '^';
		if (l->p[2][0] != sigil || l->len[2] != strlen(d->variable) + 1 ||
		    memcmp(l->p[2] + 1, d->variable, l->len[2] - 1) != 0) {
			return false;
		}
	} else if (lookup_name(l, 2, field_keys, N_FIELD_KEYS) != (int)d->field) {
		return false;
	}
	if (!d->n_rules) {
		return token_none(l, 3);
	}
	if (token_none(l, 3) || tokens / 2 != d->n_rules) {
		return false;
	}
	for (size_t k = 0; k < d->n_rules; k++) {
		const char *match, *rep;
		series_tuples_rule(s->tuples, j, k, &match, &rep);
		if (!token_is(l->p[3 + 2 * k], l->len[3 + 2 * k], match) ||
		    !token_is(l->p[4 + 2 * k], l->len[4 + 2 * k], rep)) {
			return false;
		}
	}
	/* no default token: "other" */
	return tokens % 2 ? token_is(l->p[l->n - 1], l->len[l->n - 1], d->default_value)
	                  : strcmp(d->default_value, "other") == 0;
}

/* After the validating pass: every series line must have one value per
 * saved label; then map each running label to its saved position. */
static int schema_map(const struct metrics_source *s, struct restore_schema *sc)
{
	size_t w = s->tuples ? series_tuples_width(s->tuples) : 0;

	if (sc->n && (sc->widths & ~(1u << sc->n))) {
		return -EINVAL;
	}
	sc->identity = sc->n == w;
	for (size_t j = 0; j < w; j++) {
		struct series_label_def d;
		series_tuples_def(s->tuples, j, &d);
		sc->map[j] = -1;
		for (size_t i = 0; i < sc->n; i++) {
			const struct fields *l = &sc->def[i];
			if (!token_is(l->p[1], l->len[1], d.name)) {
				continue;
			}
			if (same_def(s, j, &d, l)) {
				sc->map[j] = (int)i;
			}
			break;
		}
		sc->identity = sc->identity && sc->map[j] == (int)j;
	}
	return 0;
}

static bool all_overflow(const struct line_values *lv)
{
	static const size_t olen = sizeof(SERIES_OVERFLOW_VALUE) - 1;

	for (size_t i = 0; i < lv->n; i++) {
		if (lv->v[i].len != olen ||
		    memcmp(lv->v[i].ptr, SERIES_OVERFLOW_VALUE, olen) != 0) {
			return false;
		}
	}
	return lv->n > 0;
}

/* The tuple a restored line belongs to: its values placed by the schema map;
 * the empty value for a label the checkpoint cannot vouch for (no schema,
 * new label, changed rewrite, a flat line); the overflow set stays itself. */
static uint32_t line_tuple(struct metrics_source *s, const struct restore_schema *sc,
                           const struct line_values *lv)
{
	size_t w = series_tuples_width(s->tuples);
	bool mapped = sc->n && lv->n == sc->n;
	bool over = all_overflow(lv);
	struct str_view e[CONFIG_MAX_FIELD_LABELS];

	if (mapped && sc->identity) {
		return series_tuples_intern(s->tuples, lv->v, w);
	}
	for (size_t j = 0; j < w; j++) {
		if (over) {
			e[j] = (struct str_view){SERIES_OVERFLOW_VALUE,
			                         sizeof(SERIES_OVERFLOW_VALUE) - 1};
		} else if (mapped && sc->map[j] >= 0) {
			e[j] = lv->v[sc->map[j]];
		} else {
			e[j] = (struct str_view){"", 0};
		}
	}
	return series_tuples_intern(s->tuples, e, w);
}

/* Where a restored value goes: flat cell (whose birthmap id is flat_id),
 * or a series of the family; either keeps the saved creation time. */
static _Atomic uint64_t *restore_target(struct metrics_source *s, const struct restore_schema *sc,
                                        enum family fam, const struct line_values *lv, unsigned me,
                                        unsigned k, _Atomic uint64_t *flat, uint32_t flat_id,
                                        int64_t created)
{
	if (!s->tuples) {
		if (created > 0) {
			/* A series restored inside its hold stays held until it ends. */
			metrics_source_birth(s, flat_id, created);
		}
		return flat;
	}
	return series_family_restore(s->fam[fam], line_tuple(s, sc, lv), me, k, created);
}

static void add_double(_Atomic uint64_t *bits, double d)
{
	atomic_store_explicit(bits, dbits(bitsd(get(bits)) + d), memory_order_relaxed);
}

static int restore_hist(struct metrics_source *s, struct restore_schema *sc, const struct fields *f,
                        bool dry)
{
	int kind = lookup_name(f, 1, family_keys + FAM_REQUEST, N_HIST);
	struct histogram *h = kind >= 0 ? &s->hist[kind] : NULL;
	int me = lookup_name(f, 2, metrics_method_names, N_METHODS);
	int c = lookup_name(f, 3, metrics_class_names, N_CLASSES);
	bool sum = f->p[0][0] == 's' || f->p[0][0] == 'S';
	bool dyn = f->p[0][0] == 'S' || f->p[0][0] == 'H';
	size_t base = sum ? 5 : 7;
	struct line_values lv;
	uint64_t bits, v = 0;

	if (!h || me < 0 || c < 0 || f->n < base || (!dyn && f->n != base) ||
	    decode_values(f, base, &lv) < 0) {
		return -EINVAL;
	}
	if (parse_u64(f->p[sum ? 4 : 5], f->len[sum ? 4 : 5], 16, &bits) < 0 ||
	    (!sum && parse_u64(f->p[6], f->len[6], 10, &v) < 0)) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	if (!h->on) {
		return 0; /* this registry has no such histogram */
	}
	_Atomic uint64_t *row =
	    restore_target(s, sc, FAM_HIST(kind), &lv, (unsigned)me, (unsigned)c,
	                   hist_row(h, (unsigned)me, (unsigned)c),
	                   ID_HIST(kind) + (unsigned)me * N_CLASSES + (unsigned)c, f->created);
	if (!row) {
		return 0; /* out of memory in the series table: dropped */
	}
	if (sum) {
		add_double(s->tuples ? &row[h->n_bounds + 1] : &h->sum_bits[me][c], bitsd(bits));
		return 0;
	}
	/* Buckets changed since the checkpoint: drop the bucket rather than misplace it. */
	size_t k = h->n_bounds;
	if (field_is(f, 4, "i")) {
		for (k = 0; k < h->n_bounds && dbits(h->bounds[k]) != bits; k++) {
		}
		if (k == h->n_bounds) {
			return 0;
		}
	}
	inc(&row[k], v);
	return 0;
}

/* A signed decimal int32 (the native bucket index). */
static int parse_i32(const char *p, size_t len, int32_t *ret)
{
	bool neg = len > 1 && p[0] == '-';
	uint64_t v;

	if (numparse_u64(p + neg, len - neg, &v) < 0 || v > (neg ? 2147483648u : 2147483647u)) {
		return -EINVAL;
	}
	*ret = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
	return 0;
}

/* "n"/"N": one native bucket.  A registry without native histograms checks
 * and skips it. */
static int restore_native(struct metrics_source *s, struct restore_schema *sc,
                          const struct fields *f, bool dry)
{
	int kind = lookup_name(f, 1, family_keys + FAM_REQUEST, HIST_FIRST_OPTIONAL);
	struct histogram *h = kind >= 0 ? &s->hist[kind] : NULL;
	int me = lookup_name(f, 2, metrics_method_names, N_METHODS);
	int c = lookup_name(f, 3, metrics_class_names, N_CLASSES);
	bool dyn = f->p[0][0] == 'N', zero = field_is(f, 5, "z");
	struct line_values lv;
	int32_t schema, index = 0;
	uint64_t v;

	if (!h || me < 0 || c < 0 || f->n < 7 || (!dyn && f->n != 7) ||
	    decode_values(f, 7, &lv) < 0 || parse_i32(f->p[4], f->len[4], &schema) < 0 ||
	    schema < NHIST_MIN_SCHEMA || schema > NHIST_MAX_SCHEMA ||
	    (!zero && (parse_i32(f->p[5], f->len[5], &index) < 0 || index > NHIST_MAX_INDEX ||
	               index < -NHIST_MAX_INDEX)) ||
	    parse_u64(f->p[6], f->len[6], 10, &v) < 0) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	if (!h->native) {
		return 0;
	}
	_Atomic uint64_t *row =
	    restore_target(s, sc, FAM_HIST(kind), &lv, (unsigned)me, (unsigned)c,
	                   hist_row(h, (unsigned)me, (unsigned)c),
	                   ID_HIST(kind) + (unsigned)me * N_CLASSES + (unsigned)c, f->created);
	if (!row) {
		return 0; /* out of memory in the series table: dropped */
	}
	_Atomic uint64_t *cell = s->tuples ? &row[h->n_bounds + 2] : &h->nh[me][c];
	struct nhist *n = nh_get(cell);
	if (!n) {
		n = nhist_create(h->native);
		if (!n) {
			return 0;
		}
		atomic_store_explicit(cell, (uint64_t)(uintptr_t)n, memory_order_release);
	}
	/* A zero-bucket line still says the schema (lowers it when lower). */
	(void)nhist_add(n, schema, index, zero ? 0 : v);
	if (zero) {
		nhist_add_zero(n, v);
	}
	return 0;
}

static int restore_counter(struct metrics_source *s, struct restore_schema *sc,
                           const struct fields *f, bool dry)
{
	bool resp = f->p[0][0] == 'r' || f->p[0][0] == 'R';
	bool dyn = f->p[0][0] == 'R' || f->p[0][0] == 'B';
	struct line_values lv;
	uint64_t v;
	int a = lookup_name(f, 1, metrics_method_names, N_METHODS);
	int b = f->n < 3 ? -1
	        : resp   ? lookup_code(f, 2)
	                 : lookup_name(f, 2, metrics_class_names, N_CLASSES);

	if (f->n < 4 || (!dyn && f->n != 4) || a < 0 || b < 0 ||
	    parse_u64(f->p[3], f->len[3], 10, &v) < 0 || decode_values(f, 4, &lv) < 0) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	uint32_t id = resp ? ID_RESPONSES + (unsigned)a * STATUS_SLOTS + (unsigned)b
	                   : ID_BYTES + (unsigned)a * N_CLASSES + (unsigned)b;
	_Atomic uint64_t *t =
	    restore_target(s, sc, resp ? FAM_RESPONSES : FAM_BYTES, &lv, (unsigned)a, (unsigned)b,
	                   resp ? &s->responses[a][b] : &s->bytes[a][b], id, f->created);
	if (t) {
		inc(t, v);
	}
	return 0;
}

/* A signed decimal int64 (an exemplar's time). */
static int parse_i64(const char *p, size_t len, int64_t *ret)
{
	bool neg = len > 1 && p[0] == '-';
	uint64_t v;

	if (numparse_u64(p + neg, len - neg, &v) < 0 || v > (uint64_t)INT64_MAX) {
		return -EINVAL;
	}
	*ret = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Slot k of the n-slot exemplar array in cell (made when missing). */
static struct exemplar *ex_slot(_Atomic uint64_t *cell, size_t n, size_t k)
{
	struct exemplar *e = ex_get(cell);

	if (!e) {
		e = calloc(n, sizeof(*e));
		if (!e) {
			return NULL;
		}
		atomic_store_explicit(cell, (uint64_t)(uintptr_t)e, memory_order_release);
	}
	return &e[k];
}

/* The flat response exemplar cell of (me, slot) (NULL: out of memory). */
static _Atomic uint64_t *resp_ex_cells(struct metrics_source *s)
{
	_Atomic uint64_t *cells =
	    (_Atomic uint64_t *)(uintptr_t)atomic_load_explicit(&s->ex_resp, memory_order_relaxed);

	if (!cells) {
		cells = calloc((size_t)N_METHODS * STATUS_SLOTS, sizeof(*cells));
		if (cells) {
			atomic_store_explicit(&s->ex_resp, (uint64_t)(uintptr_t)cells,
			                      memory_order_release);
		}
	}
	return cells;
}

/* "e"/"E": one exemplar, put where its series is (never creating a count). */
static int restore_exemplar(struct metrics_source *s, struct restore_schema *sc,
                            const struct fields *f, bool dry)
{
	bool dyn = f->p[0][0] == 'E', hist = f->n > 1 && field_is(f, 1, "h");
	size_t at = hist ? 7 : 4; /* kind, ts, value bits, id, then the values */
	bool up = hist && field_is(f, 2, "up");
	struct histogram *h = !hist                   ? NULL
	                      : field_is(f, 2, "req") ? &s->hist[HIST_REQUEST]
	                      : up                    ? &s->hist[HIST_UPSTREAM]
	                                              : NULL;
	int me = f->n > 5 ? lookup_name(f, hist ? 3 : 2, metrics_method_names, N_METHODS) : -1;
	int b = me < 0 ? -1
	        : hist ? lookup_name(f, 4, metrics_class_names, N_CLASSES)
	               : lookup_code(f, 3);
	struct line_values id, lv;
	struct fields one;
	uint64_t bits, bound = 0;
	int64_t ts;

	if (me < 0 || b < 0 || (!hist && !field_is(f, 1, "r")) || (hist && !h) || f->n < at + 4 ||
	    (!dyn && f->n != at + 4) ||
	    (!field_is(f, at, "request_id") && !field_is(f, at, "trace_id")) ||
	    parse_i64(f->p[at + 1], f->len[at + 1], &ts) < 0 ||
	    parse_u64(f->p[at + 2], f->len[at + 2], 16, &bits) < 0 ||
	    (hist && ((!field_is(f, 5, "i") && !field_is(f, 5, "inf")) ||
	              parse_u64(f->p[6], f->len[6], 16, &bound) < 0))) {
		return -EINVAL;
	}
	one = (struct fields){.p = {f->p[at + 3]}, .len = {f->len[at + 3]}, .n = 1};
	if (decode_values(&one, 0, &id) < 0 || id.v[0].len == 0 ||
	    id.v[0].len > EXPO_EXEMPLAR_ID_MAX || decode_values(f, at + 4, &lv) < 0) {
		return -EINVAL;
	}
	if (dry) {
		sc->widths |= dyn ? 1u << lv.n : 0;
		return 0;
	}
	if (s->no_ex || (hist && s->no_hist)) {
		return 0;
	}
	/* The bucket by its bound, as for counts: dropped when the bounds changed. */
	size_t k = hist ? h->n_bounds : 0; /* "inf" */
	if (hist && field_is(f, 5, "i")) {
		for (k = 0; k < h->n_bounds && dbits(h->bounds[k]) != bound; k++) {
		}
		if (k == h->n_bounds) {
			return 0;
		}
	}
	enum family fam = !hist ? FAM_RESPONSES : up ? FAM_UPSTREAM : FAM_REQUEST;
	_Atomic uint64_t *cell;
	if (!s->tuples) {
		_Atomic uint64_t *cells = hist ? NULL : resp_ex_cells(s);
		cell = hist ? &h->ex[me][b] : cells ? &cells[me * STATUS_SLOTS + b] : NULL;
	} else {
		_Atomic uint64_t *row =
		    restore_target(s, sc, fam, &lv, (unsigned)me, (unsigned)b, NULL, 0, 0);
		cell = !row ? NULL : hist ? &row[h->ex_cell] : &row[1];
	}
	struct exemplar *e = cell ? ex_slot(cell, hist ? h->n_bounds + 1 : 1, k) : NULL;
	if (e) {
		exemplar_store(
		    e, field_is(f, at, "request_id") ? LOG_TRACE_REQUEST_ID : LOG_TRACE_TRACE_ID,
		    id.v[0].ptr, id.v[0].len, bitsd(bits), ts);
	}
	return 0;
}

static int restore_line(struct metrics_source *s, struct restore_schema *sc, const char *line,
                        size_t len, bool dry)
{
	struct fields f;
	uint64_t v;
	int a;

	if (split_fields(line, len, &f) < 0 || f.len[0] != 1 ||
	    (f.created && !strchr("rbhsnRBHSN", f.p[0][0]))) {
		return -EINVAL;
	}
	switch (f.p[0][0]) {
	case 't':
		if (f.n != 2 || parse_u64(f.p[1], f.len[1], 10, &v) < 0 || v == 0 ||
		    v > INT64_MAX) {
			return -EINVAL;
		}
		if (!dry) {
			atomic_store_explicit(&s->created_ms, (int64_t)v, memory_order_relaxed);
		}
		return 0;
	case 'h':
	case 'H':
	case 's':
	case 'S':
		return f.n >= 5 ? restore_hist(s, sc, &f, dry) : -EINVAL;
	case 'r':
	case 'R':
	case 'b':
	case 'B':
		return restore_counter(s, sc, &f, dry);
	case 'n':
	case 'N':
		return restore_native(s, sc, &f, dry);
	case 'l':
		return restore_schema_line(sc, &f, dry);
	case 'e':
	case 'E':
		return restore_exemplar(s, sc, &f, dry);
	case 'c':
	case 'd':
		if (f.n != 3 || parse_u64(f.p[2], f.len[2], 10, &v) < 0) {
			return -EINVAL;
		}
		a = f.p[0][0] == 'c' ? lookup_name(&f, 1, counter_keys, METRICS_COUNTER_COUNT)
		                     : lookup_name(&f, 1, family_keys, FAM_COUNT);
		if (a < 0) {
			return -EINVAL;
		}
		if (!dry && f.p[0][0] == 'c') {
			inc(&s->counters[a], v);
		} else if (!dry && s->tuples && s->fam[a]) {
			series_family_add_dropped(s->fam[a], v);
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int metrics_source_restore(struct metrics_source *s, const char *text, size_t len)
{
	struct restore_schema sc;

	memset(&sc, 0, sizeof(sc));
	/* Restored series are not new: without a "t" line (an older checkpoint)
	 * the source's own creation time is unknown, not now. */
	/* Two passes: validate everything (and read the schema) first, so a bad
	 * file restores nothing and the schema may stand anywhere in the text. */
	for (int pass = 0; pass < 2; pass++) {
		size_t i = 0;
		while (i < len) {
			const char *nl = memchr(text + i, '\n', len - i);
			size_t end = nl ? (size_t)(nl - text) : len;
			if (end > i && restore_line(s, &sc, text + i, end - i, pass == 0) < 0) {
				return -EINVAL;
			}
			i = end + 1;
		}
		if (pass == 0 && schema_map(s, &sc) < 0) {
			return -EINVAL;
		}
		if (pass == 0) {
			atomic_store_explicit(&s->created_ms, 0, memory_order_relaxed);
		}
	}
	/* Restored series fill the limit: a route that counted drops may now
	 * be wrong, and new ones are found the slow way once. */
	if (s->routes) {
		routecache_clear(s->routes);
	}
	return 0;
}
