/*
 * negotiate.c - Accept / Accept-Encoding parsing (see negotiate.h).
 *
 * Each header is a comma-separated list of elements "token;param=value;...".
 * An element is parsed into its token, the parameters we care about
 * (version) and its q-value (thousandths, RFC 9110 qvalue syntax; a bad
 * q-value makes the element ignored).  For Accept, every element is
 * matched against the two formats we produce with a specificity (exact
 * type and version 3, exact type without version 2, "type/ *" 1, "* / *" 0);
 * per format the most specific match wins and its q-value counts, as
 * RFC 9110 12.5.1 prescribes.
 *
 * Only versions we really produce match: OpenMetrics 1.0.0 and text 0.0.4
 * (or unversioned).  Text 1.0.0 and OpenMetrics 0.0.1 are not claimed, so
 * Prometheus 3's header still picks OpenMetrics 1.0.0 (q=0.5 > text's 0.2).
 * Protobuf matches only when asked for by name with both parameters
 * proto=io.prometheus.client.MetricFamily and encoding=delimited (as
 * Prometheus asks with native histograms on); no wildcard ever selects it,
 * since a binary body is useless to whoever did not ask for it.
 * The highest q-value wins; ties go to text, then OpenMetrics: the older,
 * more widely understood format.
 *
 * Rejected: a general media-type library (we need two types), and strcasestr
 * heuristics ("openmetrics" anywhere) that ignore q=0.
 */
#include "exporter/http/negotiate.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define Q_ONE 1000
#define NO_MATCH (-1)

struct element {
	const char *token; /* type/subtype or coding */
	size_t token_len;
	const char *version; /* NULL when absent */
	size_t version_len;
	const char *proto; /* protobuf parameters, NULL when absent */
	size_t proto_len;
	const char *encoding;
	size_t encoding_len;
	int q; /* 0..1000, or NO_MATCH when unparsable */
};

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *len)
{
	while (*len && is_ows(**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len && is_ows((*p)[*len - 1])) {
		(*len)--;
	}
}

/* RFC 9110 qvalue: "0" ["." 0-3 digits] / "1" ["." 0-3 zeros]. */
static int parse_q(const char *p, size_t len)
{
	int v, scale = 100;

	if (!len || (p[0] != '0' && p[0] != '1') || (len > 1 && p[1] != '.') || len > 5) {
		return NO_MATCH;
	}
	v = (p[0] - '0') * Q_ONE;
	for (size_t i = 2; i < len; i++, scale /= 10) {
		if (p[i] < '0' || p[i] > '9') {
			return NO_MATCH;
		}
		v += (p[i] - '0') * scale;
	}
	return v > Q_ONE ? NO_MATCH : v;
}

static bool eq_ci(const char *p, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

/* Parse one parameter "name=value" into e. */
static void parse_param(const char *p, size_t len, struct element *e)
{
	const char *eq = memchr(p, '=', len);
	const char *name = p, *val;
	size_t nlen, vlen;

	if (!eq) {
		return;
	}
	nlen = (size_t)(eq - p);
	val = eq + 1;
	vlen = len - nlen - 1;
	trim(&name, &nlen);
	trim(&val, &vlen);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val++;
		vlen -= 2;
	}
	if (eq_ci(name, nlen, "q")) {
		e->q = parse_q(val, vlen);
	} else if (eq_ci(name, nlen, "version")) {
		e->version = val;
		e->version_len = vlen;
	} else if (eq_ci(name, nlen, "proto")) {
		e->proto = val;
		e->proto_len = vlen;
	} else if (eq_ci(name, nlen, "encoding")) {
		e->encoding = val;
		e->encoding_len = vlen;
	}
}

static void parse_element(const char *p, size_t len, struct element *e)
{
	const char *semi = memchr(p, ';', len);
	size_t tlen = semi ? (size_t)(semi - p) : len;

	e->token = p;
	e->token_len = tlen;
	e->version = NULL;
	e->version_len = 0;
	e->proto = NULL;
	e->proto_len = 0;
	e->encoding = NULL;
	e->encoding_len = 0;
	e->q = Q_ONE;
	trim(&e->token, &e->token_len);
	while (semi) {
		const char *start = semi + 1;
		size_t rest = len - (size_t)(start - p);
		semi = memchr(start, ';', rest);
		parse_param(start, semi ? (size_t)(semi - start) : rest, e);
	}
}

/* Call fn for every element of a list header; stops at NEGOTIATE_MAX_HEADER. */
static void for_each_element(const char *h, void (*fn)(const struct element *, void *), void *ud)
{
	size_t len = h ? strnlen(h, NEGOTIATE_MAX_HEADER + 1) : 0;
	size_t i = 0;

	if (len > NEGOTIATE_MAX_HEADER) {
		return;
	}
	while (i < len) {
		const char *comma = memchr(h + i, ',', len - i);
		size_t end = comma ? (size_t)(comma - h) : len;
		struct element e;
		parse_element(h + i, end - i, &e);
		if (e.token_len && e.q != NO_MATCH) {
			fn(&e, ud);
		}
		i = end + 1;
	}
}

/* The formats we produce, as a table, in order of preference on equal q:
 * type, the version we speak, the type wildcard (NULL: a wildcard never
 * selects it), the protobuf message and encoding it must name (NULL: none). */
struct produced {
	const char *type;
	const char *version;
	const char *wildcard;
	const char *proto;
	const char *encoding;
	enum expo_format format;
};

static const struct produced produced[] = {
    {"text/plain", "0.0.4", "text/*", NULL, NULL, EXPO_TEXT},
    {"application/openmetrics-text", "1.0.0", "application/*", NULL, NULL, EXPO_OPENMETRICS},
    {"application/vnd.google.protobuf", NULL, NULL, "io.prometheus.client.MetricFamily",
     "delimited", EXPO_PROTOBUF},
};

#define N_PRODUCED (sizeof(produced) / sizeof(produced[0]))

struct accept_state {
	int spec[N_PRODUCED];
	int q[N_PRODUCED];
};

static bool param_is(const char *p, size_t len, const char *want)
{
	return p && len == strlen(want) && memcmp(p, want, len) == 0;
}

static int specificity(const struct produced *f, const struct element *e)
{
	if (eq_ci(e->token, e->token_len, f->type)) {
		if (f->proto) {
			/* Protobuf: the message and its framing must be ours. */
			return param_is(e->proto, e->proto_len, f->proto) &&
			               param_is(e->encoding, e->encoding_len, f->encoding)
			           ? 3
			           : NO_MATCH;
		}
		if (!e->version) {
			return 2;
		}
		return param_is(e->version, e->version_len, f->version) ? 3 : NO_MATCH;
	}
	if (!f->wildcard) {
		return NO_MATCH;
	}
	if (eq_ci(e->token, e->token_len, f->wildcard)) {
		return 1;
	}
	return eq_ci(e->token, e->token_len, "*/*") ? 0 : NO_MATCH;
}

static void on_accept(const struct element *e, void *ud)
{
	struct accept_state *st = ud;

	for (size_t i = 0; i < N_PRODUCED; i++) {
		int s = specificity(&produced[i], e);
		if (s == NO_MATCH || s < st->spec[i]) {
			continue;
		}
		/* Same specificity twice: keep the better q. */
		if (s > st->spec[i] || e->q > st->q[i]) {
			st->q[i] = e->q;
		}
		st->spec[i] = s;
	}
}

enum expo_format negotiate_format(const char *accept)
{
	struct accept_state st;

	for (size_t i = 0; i < N_PRODUCED; i++) {
		st.spec[i] = NO_MATCH;
		st.q[i] = 0;
	}
	for_each_element(accept, on_accept, &st);
	/* Strictly higher q to leave a more preferred format; q 0 never wins. */
	size_t best = 0;
	for (size_t i = 1; i < N_PRODUCED; i++) {
		if (st.q[i] > st.q[best]) {
			best = i;
		}
	}
	return produced[best].format;
}

struct encoding_state {
	int gzip_q; /* NO_MATCH: not listed */
	int star_q;
};

static void on_encoding(const struct element *e, void *ud)
{
	struct encoding_state *st = ud;

	if (eq_ci(e->token, e->token_len, "gzip") || eq_ci(e->token, e->token_len, "x-gzip")) {
		st->gzip_q = e->q > st->gzip_q ? e->q : st->gzip_q;
	} else if (eq_ci(e->token, e->token_len, "*")) {
		st->star_q = e->q > st->star_q ? e->q : st->star_q;
	}
}

bool negotiate_gzip(const char *accept_encoding)
{
	struct encoding_state st = {NO_MATCH, NO_MATCH};

	for_each_element(accept_encoding, on_encoding, &st);
	if (st.gzip_q != NO_MATCH) {
		return st.gzip_q > 0;
	}
	return st.star_q > 0;
}
