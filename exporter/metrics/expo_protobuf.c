/*
 * expo_protobuf.c - MetricFamily protobuf writer (see expo_protobuf.h).
 *
 * The schema is prometheus/client_model io/prometheus/client/metrics.proto
 * (proto2); only the fields we produce are written, by number:
 *   MetricFamily: name 1, help 2, type 3 (COUNTER 0, GAUGE 1, HISTOGRAM 4),
 *                 metric 4
 *   Metric:       label 1 (LabelPair: name 1, value 2), gauge 2, counter 3,
 *                 histogram 7
 *   Gauge/Counter: value 1 (double); Counter created_timestamp 3
 *   Histogram:    sample_count 1, sample_sum 2, bucket 3 (Bucket:
 *                 cumulative_count 1, upper_bound 2), created_timestamp 15,
 *                 native: schema 5 (sint32), zero_threshold 6, zero_count 7,
 *                 positive_span 12 (BucketSpan: offset 1 sint32, length 2),
 *                 positive_delta 13 (sint64, unpacked as client_golang
 *                 writes it)
 *   google.protobuf.Timestamp: seconds 1, nanos 2
 * Info families are gauges ending in _info (protobuf has no info type), as
 * in the text format.  A histogram's +Inf bucket is left out: it is optional
 * and equal to sample_count, as client_golang writes it.  Families without a
 * series are left out (they carry no sample; Prometheus skips them anyway).
 * A native histogram shares sample_count and sample_sum with the classic
 * buckets in the same message, as client_golang writes both: the count is
 * the native one (zero bucket + buckets), classic cumulative counts are
 * capped at it (a scrape racing the writer sees a consistent message).
 * Spans follow client_golang: gaps of one or two empty buckets are
 * written as zero deltas (cheaper than a new span); a histogram without
 * buckets gets one empty span so newer servers still see it as native.
 * Label values are raw (no escaping) but always valid UTF-8: invalid bytes
 * become U+FFFD as in the text formats.  Label order is the text order.
 *
 * Rejected: protobuf-c (a generated struct per message filled per series,
 * then packed: an allocation-heavy second copy of the registry for a dozen
 * fields, and a new dependency); the hand encoder is pbwire.c.
 */
#include "exporter/metrics/expo_protobuf.h"

#include "exporter/metrics/expo.h"
#include "exporter/metrics/nhist.h"
#include "exporter/metrics/pbwire.h"
#include "parsers/utf8.h"

#include <math.h>
#include <string.h>

enum {
	MF_NAME = 1,
	MF_HELP = 2,
	MF_TYPE = 3,
	MF_METRIC = 4,
	M_LABEL = 1,
	M_GAUGE = 2,
	M_COUNTER = 3,
	M_HISTOGRAM = 7,
	LP_NAME = 1,
	LP_VALUE = 2,
	VALUE = 1,
	COUNTER_CREATED = 3,
	H_COUNT = 1,
	H_SUM = 2,
	H_BUCKET = 3,
	H_CREATED = 15,
	B_CUMULATIVE = 1,
	B_UPPER = 2,
	B_EXEMPLAR = 3,
	COUNTER_EXEMPLAR = 2,
	EX_LABEL = 1,
	EX_VALUE = 2,
	EX_TIMESTAMP = 3,
	H_SCHEMA = 5,
	H_ZERO_THRESHOLD = 6,
	H_ZERO_COUNT = 7,
	H_POS_SPAN = 12,
	H_POS_DELTA = 13,
	SPAN_OFFSET = 1,
	SPAN_LENGTH = 2,
	TS_SECONDS = 1,
	TS_NANOS = 2,
};

/* MetricType enum values per expo_type. */
static const unsigned metric_type[] = {
    [EXPO_COUNTER] = 0,
    [EXPO_GAUGE] = 1,
    [EXPO_HISTOGRAM] = 4,
    [EXPO_INFO] = 1,
};

/* Copy the few dozen bytes of a label fragment or a value message without
 * a call: 16-byte blocks, the last one overlapping.  A flat series' Metric
 * is four such pieces, and library calls for them took as long as the
 * rest of its encoding. */
static inline void copy_short(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n > 128) {
		memcpy(d, s, n);
	} else if (n >= 16) {
		for (size_t i = 0; i + 16 < n; i += 16) {
			memcpy(d + i, s + i, 16);
		}
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else {
		for (size_t i = 0; i < n; i++) {
			d[i] = s[i];
		}
	}
}

/* Length of value once invalid UTF-8 bytes become U+FFFD (3 bytes each). */
static size_t clean_len(const unsigned char *p, size_t len, bool *ret_valid)
{
	size_t out = 0, i = 0;
	bool valid = true;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		if (!n) {
			valid = false;
			out += 3;
			i++;
			continue;
		}
		out += n;
		i += n;
	}
	*ret_valid = valid;
	return out;
}

static void put_string(struct strbuf *b, uint32_t field, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	bool valid;
	size_t out = clean_len(p, len, &valid);

	if (valid) {
		pbwire_bytes(b, field, s, len);
		return;
	}
	pbwire_tag(b, field, PBWIRE_LEN);
	pbwire_varint(b, out);
	for (size_t i = 0; i < len;) {
		size_t n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, len - i);
		if (n) {
			(void)strbuf_append(b, s + i, n);
			i += n;
		} else {
			(void)strbuf_append(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

static void put_label(struct strbuf *b, const struct expo_label *l)
{
	size_t mark;

	if (!l->name) {
		/* A fragment: its LabelPairs were encoded once (expo_labels_fragment_pb). */
		(void)strbuf_append(b, l->pb, l->pb_len);
		return;
	}
	mark = pbwire_begin(b, M_LABEL);
	pbwire_bytes(b, LP_NAME, l->name, strlen(l->name));
	put_string(b, LP_VALUE, l->value, l->value_len ? l->value_len : strlen(l->value));
	pbwire_end(b, mark);
}

void expo_labels_fragment_pb(struct strbuf *b, const struct expo_label *labels, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++) {
		put_label(b, &labels[i]);
	}
}

/* The body of the Timestamp message for unix_ms (> 0) in w->ts, encoded
 * once for all the series created in the same millisecond. */
static size_t timestamp(struct expo_writer *w, int64_t unix_ms)
{
	if (w->ts_ms != unix_ms) {
		int64_t ns = unix_ms % 1000 * 1000000;
		size_t n = 0;
		w->ts[n++] = TS_SECONDS << 3 | PBWIRE_VARINT;
		n += pbwire_put_varint(w->ts + n, (uint64_t)(unix_ms / 1000));
		if (ns) {
			w->ts[n++] = TS_NANOS << 3 | PBWIRE_VARINT;
			n += pbwire_put_varint(w->ts + n, (uint64_t)ns);
		}
		w->ts_ms = unix_ms;
		w->ts_len = n;
	}
	return w->ts_len;
}

/* A Timestamp field (tag, length, the body from timestamp()) at p. */
static size_t put_timestamp(unsigned char *p, const struct expo_writer *w, uint32_t field)
{
	size_t n = 0;

	p[n++] = (unsigned char)(field << 3 | PBWIRE_LEN); /* fields 3 and 15: one byte */
	p[n++] = (unsigned char)w->ts_len;                 /* at most 22 */
	copy_short(p + n, w->ts, w->ts_len);
	return n + w->ts_len;
}

/* Write the current family out, or drop it when it has no series. */
static void end_family(struct expo_writer *w)
{
	if (!w->name) {
		return;
	}
	if (w->family_series) {
		pbwire_end_large(w->b, w->family_mark);
	} else if (!w->b->error) {
		w->b->len = w->family_mark;
		w->b->data[w->b->len] = '\0';
	}
	w->name = NULL;
}

static void pb_family(struct expo_writer *w, const char *name, enum expo_type type,
                      const char *help)
{
	end_family(w);
	w->name = name;
	w->type = type;
	w->family_series = 0;
	w->family_mark = pbwire_begin_large(w->b, 0);
	pbwire_bytes(w->b, MF_NAME, name, strlen(name));
	pbwire_bytes(w->b, MF_HELP, help, strlen(help));
	pbwire_uint64(w->b, MF_TYPE, metric_type[type]);
}

/* A Metric's labels are measured first (fragments know their encoded
 * size; plain labels need their UTF-8-clean value length), so that the
 * Metric's length is written before its body and nothing is moved. */
#define MAX_METRIC_LABELS 64

struct plain_label {
	size_t name_len;
	size_t value_len; /* raw */
	size_t clean_len; /* once invalid bytes are U+FFFD */
	size_t pair_len;  /* LabelPair body */
	bool valid;
};

static size_t measure_labels(const struct expo_label *labels, size_t n, struct plain_label *pl,
                             bool *ret_valid)
{
	size_t size = 0;
	bool valid = true;

	for (size_t i = 0; i < n; i++) {
		const struct expo_label *l = &labels[i];
		struct plain_label *p = &pl[i];
		if (!l->name) {
			size += l->pb_len;
			continue;
		}
		p->name_len = strlen(l->name);
		p->value_len = l->value_len ? l->value_len : strlen(l->value);
		p->clean_len = clean_len((const unsigned char *)l->value, p->value_len, &p->valid);
		p->pair_len = 2 + pbwire_varint_len(p->name_len) + p->name_len +
		              pbwire_varint_len(p->clean_len) + p->clean_len;
		size += 1 + pbwire_varint_len(p->pair_len) + p->pair_len;
		valid = valid && p->valid;
	}
	*ret_valid = valid;
	return size;
}

/* The labels straight into out (room checked by the caller; values valid UTF-8). */
static unsigned char *copy_labels(unsigned char *out, const struct expo_label *labels, size_t n,
                                  const struct plain_label *pl)
{
	for (size_t i = 0; i < n; i++) {
		const struct expo_label *l = &labels[i];
		const struct plain_label *p = &pl[i];
		if (!l->name) {
			copy_short(out, (const unsigned char *)l->pb, l->pb_len);
			out += l->pb_len;
			continue;
		}
		*out++ = M_LABEL << 3 | PBWIRE_LEN;
		out += pbwire_put_varint(out, p->pair_len);
		*out++ = LP_NAME << 3 | PBWIRE_LEN;
		out += pbwire_put_varint(out, p->name_len);
		memcpy(out, l->name, p->name_len);
		out += p->name_len;
		*out++ = LP_VALUE << 3 | PBWIRE_LEN;
		out += pbwire_put_varint(out, p->value_len);
		memcpy(out, l->value, p->value_len);
		out += p->value_len;
	}
	return out;
}

static void write_labels(struct strbuf *b, const struct expo_label *labels, size_t n,
                         const struct plain_label *pl)
{
	for (size_t i = 0; i < n; i++) {
		const struct expo_label *l = &labels[i];
		const struct plain_label *p = &pl[i];
		unsigned char head[24];
		size_t h = 0;
		if (!l->name) {
			(void)strbuf_append(b, l->pb, l->pb_len);
			continue;
		}
		head[h++] = M_LABEL << 3 | PBWIRE_LEN;
		h += pbwire_put_varint(head + h, p->pair_len);
		head[h++] = LP_NAME << 3 | PBWIRE_LEN;
		h += pbwire_put_varint(head + h, p->name_len);
		(void)strbuf_append(b, head, h);
		(void)strbuf_append(b, l->name, p->name_len);
		if (p->valid) {
			h = 0;
			head[h++] = LP_VALUE << 3 | PBWIRE_LEN;
			h += pbwire_put_varint(head + h, p->clean_len);
			(void)strbuf_append(b, head, h);
			(void)strbuf_append(b, l->value, p->value_len);
		} else {
			put_string(b, LP_VALUE, l->value, p->value_len);
		}
	}
}

/* One Metric: its labels, then tail (the value message, tail_len bytes,
 * already encoded) and more (more_len bytes, the value message's end).
 * The common case - room in the buffer, valid UTF-8 - writes the whole
 * message in place with no per-piece checks. */
static void put_metric(struct expo_writer *w, const struct expo_label *labels, size_t n,
                       const unsigned char *tail, size_t tail_len, const unsigned char *more,
                       size_t more_len)
{
	struct plain_label pl[MAX_METRIC_LABELS];
	struct strbuf *b = w->b;
	unsigned char head[12];
	size_t h, size, total;
	bool valid;

	w->family_series++;
	if (n > MAX_METRIC_LABELS) {
		size_t mark = pbwire_begin(b, MF_METRIC);
		for (size_t i = 0; i < n; i++) {
			put_label(b, &labels[i]);
		}
		(void)strbuf_append(b, tail, tail_len);
		if (more_len) {
			(void)strbuf_append(b, more, more_len);
		}
		pbwire_end(b, mark);
		return;
	}
	size = measure_labels(labels, n, pl, &valid);
	h = pbwire_put_varint(head, MF_METRIC << 3 | PBWIRE_LEN);
	h += pbwire_put_varint(head + h, size + tail_len + more_len);
	total = h + size + tail_len + more_len;
	if (valid && !b->error && total < b->alloc - b->len && total <= b->cap - b->len) {
		unsigned char *out = (unsigned char *)b->data + b->len;
		for (size_t i = 0; i < h; i++) {
			out[i] = head[i];
		}
		out = copy_labels(out + h, labels, n, pl);
		copy_short(out, tail, tail_len);
		if (more_len) {
			memcpy(out + tail_len, more, more_len);
		}
		b->len += total;
		b->data[b->len] = '\0';
		return;
	}
	(void)strbuf_append(b, head, h);
	write_labels(b, labels, n, pl);
	(void)strbuf_append(b, tail, tail_len);
	if (more_len) {
		(void)strbuf_append(b, more, more_len);
	}
}

/* Room for an Exemplar field: tag and length, the LabelPair (label name,
 * id), value and Timestamp. */
#define EXEMPLAR_ROOM (4 + 4 + 2 + 16 + 2 + EXPO_EXEMPLAR_ID_MAX + 9 + 2 + 22)

/* An Exemplar field (label, value, timestamp) at p; returns the bytes written. */
static size_t put_exemplar(unsigned char *p, uint32_t field, const struct expo_exemplar *ex)
{
	size_t name_len = strlen(ex->label), id_len = ex->id_len, n = 0, ts = 0;
	size_t pair = 2 + name_len + 1 + pbwire_varint_len(id_len) + id_len;
	size_t body = 1 + pbwire_varint_len(pair) + pair + 9;
	unsigned char tsb[24];
	uint64_t ms = ex->ts_ms > 0 ? (uint64_t)ex->ts_ms : 0;

	if (ms) {
		tsb[ts++] = TS_SECONDS << 3 | PBWIRE_VARINT;
		ts += pbwire_put_varint(tsb + ts, ms / 1000);
		if (ms % 1000) {
			tsb[ts++] = TS_NANOS << 3 | PBWIRE_VARINT;
			ts += pbwire_put_varint(tsb + ts, ms % 1000 * 1000000);
		}
		body += 2 + ts;
	}
	n += pbwire_put_varint(p + n, (uint64_t)field << 3 | PBWIRE_LEN);
	n += pbwire_put_varint(p + n, body);
	p[n++] = EX_LABEL << 3 | PBWIRE_LEN;
	n += pbwire_put_varint(p + n, pair);
	p[n++] = LP_NAME << 3 | PBWIRE_LEN;
	p[n++] = (unsigned char)name_len; /* "request_id", "trace_id" */
	memcpy(p + n, ex->label, name_len);
	n += name_len;
	p[n++] = LP_VALUE << 3 | PBWIRE_LEN;
	n += pbwire_put_varint(p + n, id_len);
	memcpy(p + n, ex->id, id_len);
	n += id_len;
	n += pbwire_put_double(p + n, EX_VALUE, ex->value);
	if (ts) {
		p[n++] = EX_TIMESTAMP << 3 | PBWIRE_LEN;
		p[n++] = (unsigned char)ts;
		memcpy(p + n, tsb, ts);
		n += ts;
	}
	return n;
}

static bool has_exemplar(const struct expo_exemplar *ex)
{
	return ex && ex->label;
}

static void pb_sample(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
                      bool is_double, uint64_t u, double d, int64_t created_ms,
                      const struct expo_exemplar *ex)
{
	unsigned char tail[64 + EXEMPLAR_ROOM], exb[EXEMPLAR_ROOM];
	bool counter = w->type == EXPO_COUNTER;
	bool created = counter && created_ms > 0;
	size_t exn = counter && has_exemplar(ex) ? put_exemplar(exb, COUNTER_EXEMPLAR, ex) : 0;
	size_t body = 9 + exn + (created ? 2 + timestamp(w, created_ms) : 0);
	size_t n =
	    pbwire_put_varint(tail, (uint64_t)(counter ? M_COUNTER : M_GAUGE) << 3 | PBWIRE_LEN);

	n += pbwire_put_varint(tail + n, body);
	n += pbwire_put_double(tail + n, VALUE, is_double ? d : (double)u);
	if (exn) {
		memcpy(tail + n, exb, exn); /* field 2, between value 1 and created 3 */
		n += exn;
	}
	if (created) {
		n += put_timestamp(tail + n, w, COUNTER_CREATED);
	}
	put_metric(w, labels, n_labels, tail, n, NULL, 0);
}

/* Classic cumulative count k, capped at the message's count. */
static uint64_t cum_at(const struct expo_histogram *h, size_t k, uint64_t count)
{
	return h->cumulative[k] < count ? h->cumulative[k] : count;
}

/* Bytes of one classic bucket (cumulative count, upper bound) as a field. */
static size_t bucket_len(uint64_t cum)
{
	return 2 + 1 + pbwire_varint_len(cum) + 9;
}

static uint64_t zigzag(int64_t v)
{
	return v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
}

/* A BucketSpan field (offset, length) at p; returns the bytes written. */
static size_t put_span(unsigned char *p, int64_t offset, uint64_t length)
{
	size_t body = 2 + pbwire_varint_len(zigzag(offset)) + pbwire_varint_len(length), n = 0;

	p[n++] = H_POS_SPAN << 3 | PBWIRE_LEN;
	n += pbwire_put_varint(p + n, body);
	p[n++] = SPAN_OFFSET << 3 | PBWIRE_VARINT;
	n += pbwire_put_varint(p + n, zigzag(offset));
	p[n++] = SPAN_LENGTH << 3 | PBWIRE_VARINT;
	n += pbwire_put_varint(p + n, length);
	return n;
}

/* Room for the native fields: per bucket a delta (tag + 10), per span (at
 * most one per 3 buckets, + 1) 24 bytes, schema, threshold, zero count. */
#define NATIVE_ROOM (NHIST_MAX_BUCKETS * 11 + (NHIST_MAX_BUCKETS / 3 + 2) * 24 + 48)

/* The native fields of a Histogram at p; returns the bytes written. */
static size_t put_native(unsigned char *p, const struct nhist_snapshot *nh)
{
	size_t n = 0, k = 0, spans = 0;
	int64_t prev_end = 0; /* index after the last span */
	uint64_t prev = 0;
	unsigned char deltas[NHIST_MAX_BUCKETS * 11];
	size_t nd = 0;

	p[n++] = H_SCHEMA << 3 | PBWIRE_VARINT;
	n += pbwire_put_varint(p + n, zigzag(nh->schema));
	n += pbwire_put_double(p + n, H_ZERO_THRESHOLD, nh->zero_threshold);
	p[n++] = H_ZERO_COUNT << 3 | PBWIRE_VARINT;
	n += pbwire_put_varint(p + n, nh->zero);
	while (k < nh->n) {
		size_t start, end;
		while (k < nh->n && !nh->counts[k]) {
			k++;
		}
		if (k == nh->n) {
			break;
		}
		start = k;
		end = k + 1; /* extend over gaps of at most two empty buckets */
		while (end < nh->n) {
			size_t next = end;
			while (next < nh->n && !nh->counts[next] && next - end < 3) {
				next++;
			}
			if (next == nh->n || next - end >= 3) {
				break;
			}
			end = next + 1;
		}
		int64_t idx = (int64_t)nh->first + (int64_t)start;
		n += put_span(p + n, spans ? idx - prev_end : idx, end - start);
		for (size_t i = start; i < end; i++) {
			deltas[nd++] = H_POS_DELTA << 3 | PBWIRE_VARINT;
			nd +=
			    pbwire_put_varint(deltas + nd, zigzag((int64_t)(nh->counts[i] - prev)));
			prev = nh->counts[i];
		}
		prev_end = (int64_t)nh->first + (int64_t)end;
		spans++;
		k = end;
	}
	if (!spans) {
		n += put_span(p + n, 0, 0);
	}
	/* Fields in number order (spans 12, then deltas 13), as protobuf
	 * encoders write them: the tests compare with a re-encoding. */
	memcpy(p + n, deltas, nd);
	return n + nd;
}

static void pb_histogram(struct expo_writer *w, const struct expo_label *labels, size_t n_labels,
                         const struct expo_histogram *h, int64_t created_ms)
{
	/* The header, count and sum, then up to 65 buckets of 22 bytes and an
	 * exemplar each, encoded first like the native fields after them (their
	 * sizes make the message's). */
	unsigned char tail[32 + 65 * (22 + EXEMPLAR_ROOM)];
	unsigned char buckets[65 * (22 + EXEMPLAR_ROOM)];
	unsigned char more[NATIVE_ROOM + 32]; /* native fields (5-13), created (15) */
	size_t more_len = h->native ? put_native(more, h->native) : 0;
	uint64_t count = h->native ? h->native->count : h->cumulative[h->n_bounds];
	size_t nb = 0, body, n;

	if (h->n_bounds > 64) {
		return; /* the registry caps buckets at 64 (MAX_BUCKETS) */
	}
	for (size_t k = 0; k <= h->n_bounds; k++) {
		const struct expo_exemplar *ex = h->exemplars ? &h->exemplars[k] : NULL;
		unsigned char exb[EXEMPLAR_ROOM];
		size_t exn = has_exemplar(ex) ? put_exemplar(exb, B_EXEMPLAR, ex) : 0;
		uint64_t cum = k < h->n_bounds ? cum_at(h, k, count) : count;
		if (k == h->n_bounds && !exn) {
			break; /* +Inf is implied by the count, unless it has an exemplar */
		}
		nb += pbwire_put_varint(buckets + nb, H_BUCKET << 3 | PBWIRE_LEN);
		nb += pbwire_put_varint(buckets + nb, bucket_len(cum) - 2 + exn);
		nb += pbwire_put_varint(buckets + nb, B_CUMULATIVE << 3 | PBWIRE_VARINT);
		nb += pbwire_put_varint(buckets + nb, cum);
		nb += pbwire_put_double(buckets + nb, B_UPPER,
		                        k < h->n_bounds ? h->bounds[k] : (double)INFINITY);
		memcpy(buckets + nb, exb, exn);
		nb += exn;
	}
	body = 1 + pbwire_varint_len(count) + 9 + nb + more_len;
	if (created_ms > 0) {
		body += 2 + timestamp(w, created_ms);
	}
	n = pbwire_put_varint(tail, M_HISTOGRAM << 3 | PBWIRE_LEN);
	n += pbwire_put_varint(tail + n, body);
	n += pbwire_put_varint(tail + n, H_COUNT << 3 | PBWIRE_VARINT);
	n += pbwire_put_varint(tail + n, count);
	n += pbwire_put_double(tail + n, H_SUM, h->sum);
	memcpy(tail + n, buckets, nb);
	n += nb;
	if (created_ms > 0) {
		more_len += put_timestamp(more + more_len, w, H_CREATED);
	}
	put_metric(w, labels, n_labels, tail, n, more, more_len);
}

const struct expo_writer_ops expo_protobuf_ops = {
    .family = pb_family,
    .sample = pb_sample,
    .histogram = pb_histogram,
    .finish = end_family,
};
