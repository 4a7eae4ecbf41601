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
 * Ties go to text: it is the older, universally understood format.
 *
 * Rejected: a general media-type library (we need two types), and strcasestr
 * heuristics ("openmetrics" anywhere) that ignore q=0.
 */
#include "exporter/negotiate.h"

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

/* The formats we produce, as a table: type, the version we speak, the type wildcard. */
struct produced {
	const char *type;
	const char *version;
	const char *wildcard;
	enum expo_format format;
};

static const struct produced produced[] = {
    {"application/openmetrics-text", "1.0.0", "application/*", EXPO_OPENMETRICS},
    {"text/plain", "0.0.4", "text/*", EXPO_TEXT},
};

#define N_PRODUCED (sizeof(produced) / sizeof(produced[0]))

struct accept_state {
	int spec[N_PRODUCED];
	int q[N_PRODUCED];
};

static int specificity(const struct produced *f, const struct element *e)
{
	if (eq_ci(e->token, e->token_len, f->type)) {
		if (!e->version) {
			return 2;
		}
		return e->version_len == strlen(f->version) &&
		               memcmp(e->version, f->version, e->version_len) == 0
		           ? 3
		           : NO_MATCH;
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
	/* produced[0] is OpenMetrics, produced[1] text. */
	return st.q[0] > st.q[1] ? EXPO_OPENMETRICS : EXPO_TEXT;
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
