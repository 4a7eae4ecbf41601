/*
 * syslog.c - syslog message headers and TCP framing (see syslog.h).
 *
 * A message is read left to right once, every step bounded by len: PRI,
 * then the RFC 5424 header (version "1" and six space-separated fields,
 * structured data with its quoted, escaped values) or the RFC 3164 one
 * (an optional "Mmm dd hh:mm:ss", then HOST and/or TAG told apart by the
 * colon that ends a tag).  What remains is the log line, handed on as a
 * view: nothing is copied or allocated.
 *
 * RFC 5424 field lengths are the RFC's (HOSTNAME 255, APP-NAME 48, PROCID
 * 128, MSGID 32); a longer field makes the message invalid, because a
 * header that long is not a header.  Rejected: a regex per form (the
 * receiver runs this at a million messages per second, and the 3164 rules
 * about optional parts read more plainly as code), and checking the
 * timestamp's calendar (the exporter counts responses, not syslog times).
 */
#include "parsers/syslog.h"

#include <errno.h>
#include <string.h>

#define RFC5424_HOST_MAX 255u
#define RFC5424_APP_MAX 48u
#define RFC5424_PROCID_MAX 128u
#define RFC5424_MSGID_MAX 32u
#define RFC5424_SDID_MAX 32u
#define RFC3164_TAG_MAX 48u
#define RFC3164_HOST_MAX 255u
#define OCTET_COUNT_DIGITS 10u /* up to 9999999999: beyond any cap */

struct cursor {
	const char *p;
	size_t n; /* bytes left at p */
};

static bool is_print(unsigned char c)
{
	return c >= 33 && c <= 126;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* "<PRI>": 1-3 digits, no leading zero but "0", at most 191. */
static int read_pri(struct cursor *c, unsigned *ret_pri)
{
	unsigned v = 0;
	size_t i = 1;

	if (c->n < 3 || c->p[0] != '<') {
		return -EINVAL;
	}
	while (i < c->n && i <= 4 && is_digit((unsigned char)c->p[i])) {
		v = v * 10 + (unsigned)(c->p[i] - '0');
		i++;
	}
	if (i == 1 || i > 4 || i >= c->n || c->p[i] != '>' || v > 191 ||
	    (c->p[1] == '0' && i > 2)) {
		return -EINVAL;
	}
	c->p += i + 1;
	c->n -= i + 1;
	*ret_pri = v;
	return 0;
}

/* A run of printable non-space bytes, 1..max long, followed by a space or
 * the end (end allowed when at_end_ok).  The space is consumed. */
static int read_field(struct cursor *c, size_t max, bool at_end_ok, const char **ret_p,
                      size_t *ret_len)
{
	size_t i = 0;

	while (i < c->n && is_print((unsigned char)c->p[i])) {
		i++;
	}
	if (i == 0 || i > max || (i == c->n ? !at_end_ok : c->p[i] != ' ')) {
		return -EINVAL;
	}
	*ret_p = c->p;
	*ret_len = i;
	c->p += i < c->n ? i + 1 : i;
	c->n -= i < c->n ? i + 1 : i;
	return 0;
}

/* One "[id name="value" ...]" (the '[' at c->p). */
static int read_sd_element(struct cursor *c)
{
	size_t i = 1, id = 0;
	bool in_value = false;

	while (i < c->n && is_print((unsigned char)c->p[i]) && c->p[i] != '=' && c->p[i] != ']' &&
	       c->p[i] != '"') {
		i++;
		id++;
	}
	if (id == 0 || id > RFC5424_SDID_MAX) {
		return -EINVAL;
	}
	for (; i < c->n; i++) {
		char ch = c->p[i];
		if (in_value) {
			if (ch == '\\') {
				i++; /* the escaped byte, whatever it is */
			} else if (ch == '"') {
				in_value = false;
			}
		} else if (ch == '"') {
			in_value = true;
		} else if (ch == ']') {
			c->p += i + 1;
			c->n -= i + 1;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_sd(struct cursor *c)
{
	if (c->n >= 1 && c->p[0] == '-') {
		c->p++;
		c->n--;
		return 0;
	}
	if (c->n == 0 || c->p[0] != '[') {
		return -EINVAL;
	}
	while (c->n > 0 && c->p[0] == '[') {
		int r = read_sd_element(c);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int parse_5424(struct cursor *c, struct syslog_msg *m)
{
	const char *f;
	size_t len;
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};

	c->p += 2; /* "1 " */
	c->n -= 2;
	if (read_field(c, 64, false, &f, &len) < 0 ||                             /* TIMESTAMP */
	    read_field(c, RFC5424_HOST_MAX, false, &m->host, &m->host_len) < 0 || /* HOSTNAME */
	    read_field(c, RFC5424_APP_MAX, false, &m->tag, &m->tag_len) < 0 ||    /* APP-NAME */
	    read_field(c, RFC5424_PROCID_MAX, false, &f, &len) < 0 ||             /* PROCID */
	    read_field(c, RFC5424_MSGID_MAX, false, &f, &len) < 0 || read_sd(c) < 0) { /* MSGID */
		return -EINVAL;
	}
	if (c->n > 0) {
		if (c->p[0] != ' ') {
			return -EINVAL;
		}
		c->p++;
		c->n--;
	}
	if (c->n >= 3 && memcmp(c->p, bom, 3) == 0) {
		c->p += 3;
		c->n -= 3;
	}
	if (m->host_len == 1 && m->host[0] == '-') {
		m->host_len = 0;
	}
	if (m->tag_len == 1 && m->tag[0] == '-') {
		m->tag_len = 0;
	}
	m->proto = SYSLOG_RFC5424;
	return 0;
}

/* "Mmm dd hh:mm:ss " (day space-padded or two digits). */
static bool read_3164_time(struct cursor *c)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char shape[] = "Aaa dd dd:dd:dd ";
	const char *p = c->p;
	bool month = false;

	if (c->n < sizeof(shape) - 1) {
		return false;
	}
	for (size_t i = 0; i + 3 <= sizeof(months) - 1 && !month; i += 3) {
		month = memcmp(p, months + i, 3) == 0;
	}
	if (!month) {
		return false;
	}
	for (size_t i = 3; i < sizeof(shape) - 1; i++) {
		unsigned char ch = (unsigned char)p[i];
		bool ok = shape[i] == 'd' ? is_digit(ch) || (i == 4 && ch == ' ') : ch == shape[i];
		if (!ok) {
			return false;
		}
	}
	c->p += sizeof(shape) - 1;
	c->n -= sizeof(shape) - 1;
	return true;
}

/* A TAG token at c->p: "name:" or "name[pid]:" followed by a space or the
 * end.  On success *ret_name_len is the name's length and *ret_len the
 * token's (with the colon). */
static bool is_tag(const struct cursor *c, size_t *ret_len, size_t *ret_name_len)
{
	size_t i = 0, name = 0;

	while (i < c->n && i <= RFC3164_TAG_MAX + 130 && is_print((unsigned char)c->p[i]) &&
	       c->p[i] != ':') {
		i++;
	}
	if (i == 0 || i >= c->n || c->p[i] != ':' || (i + 1 < c->n && c->p[i + 1] != ' ')) {
		return false;
	}
	const char *open = memchr(c->p, '[', i);
	name = open ? (size_t)(open - c->p) : i;
	if (name == 0 || name > RFC3164_TAG_MAX || (open && c->p[i - 1] != ']')) {
		return false;
	}
	*ret_len = i + 1;
	*ret_name_len = name;
	return true;
}

static void skip(struct cursor *c, size_t k)
{
	c->p += k;
	c->n -= k;
	if (c->n > 0 && c->p[0] == ' ') {
		c->p++;
		c->n--;
	}
}

static int parse_3164(struct cursor *c, struct syslog_msg *m)
{
	bool has_time = read_3164_time(c);
	size_t len, name;

	m->proto = SYSLOG_RFC3164;
	if (is_tag(c, &len, &name)) {
		m->tag = c->p;
		m->tag_len = name;
		skip(c, len);
		return 0;
	}
	if (!has_time) {
		return 0; /* "<PRI>MSG": all of it is the message */
	}
	size_t h = 0;
	while (h < c->n && is_print((unsigned char)c->p[h])) {
		h++;
	}
	if (h == 0 || h > RFC3164_HOST_MAX) {
		return -EINVAL;
	}
	m->host = c->p;
	m->host_len = h;
	skip(c, h);
	if (is_tag(c, &len, &name)) {
		m->tag = c->p;
		m->tag_len = name;
		skip(c, len);
	}
	return 0;
}

int syslog_parse(const char *buf, size_t len, struct syslog_msg *ret_msg)
{
	struct cursor c = {buf, len};
	struct syslog_msg m = {.proto = SYSLOG_RFC3164};
	int r;

	r = read_pri(&c, &m.pri);
	if (r < 0) {
		return r;
	}
	if (c.n >= 2 && c.p[0] == '1' && c.p[1] == ' ') {
		r = parse_5424(&c, &m);
	} else {
		r = parse_3164(&c, &m);
	}
	if (r < 0) {
		return r;
	}
	while (c.n > 0 && (c.p[c.n - 1] == '\n' || c.p[c.n - 1] == '\r' || c.p[c.n - 1] == '\0')) {
		c.n--;
	}
	m.msg = c.p;
	m.msg_len = c.n;
	*ret_msg = m;
	return 0;
}

bool syslog_tag_is(const struct syslog_msg *m, const char *tag, size_t tag_len)
{
	return m->tag_len == tag_len && (tag_len == 0 || memcmp(m->tag, tag, tag_len) == 0);
}

/* ---- framing ------------------------------------------------------------- */

static bool is_delim(char ch)
{
	return ch == '\n' || ch == '\0' || ch == '\r';
}

/* "LEN SP" at buf[0..n): 1 and the count, 0 when more bytes are needed,
 * -EINVAL when it is not a count. */
static int read_count(const char *buf, size_t n, uint64_t *ret_len, size_t *ret_hdr)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < n && is_digit((unsigned char)buf[i])) {
		if (i == OCTET_COUNT_DIGITS) {
			return -EINVAL;
		}
		v = v * 10 + (uint64_t)(buf[i] - '0');
		i++;
	}
	if (i == n) {
		return 0;
	}
	if (buf[i] != ' ' || buf[0] == '0') {
		return -EINVAL;
	}
	*ret_len = v;
	*ret_hdr = i + 1;
	return 1;
}

static enum syslog_frame_result octet_frame(struct syslog_framer *f, const char *buf, size_t n,
                                            size_t off, size_t cap, size_t *ret_used,
                                            const char **ret_msg, size_t *ret_len)
{
	uint64_t len;
	size_t hdr, avail;
	int r = read_count(buf + off, n - off, &len, &hdr);

	if (r < 0) {
		*ret_used = off;
		return SYSLOG_FRAME_BAD;
	}
	if (r == 0) {
		*ret_used = off;
		return SYSLOG_FRAME_MORE;
	}
	avail = n - off - hdr;
	if (len > cap) {
		uint64_t k = len < avail ? len : avail;
		f->discard = len - k;
		*ret_used = off + hdr + (size_t)k;
		return SYSLOG_FRAME_TOO_LONG;
	}
	if (avail < len) {
		*ret_used = off;
		return SYSLOG_FRAME_MORE;
	}
	*ret_msg = buf + off + hdr;
	*ret_len = (size_t)len;
	*ret_used = off + hdr + (size_t)len;
	return SYSLOG_FRAME_MSG;
}

static enum syslog_frame_result line_frame(struct syslog_framer *f, const char *buf, size_t n,
                                           size_t off, size_t cap, size_t *ret_used,
                                           const char **ret_msg, size_t *ret_len)
{
	const char *end = memchr(buf + off, '\n', n - off);
	size_t len;

	if (!end) {
		if (n - off > cap + 1) { /* cap bytes and a '\r' may still be a line */
			f->skip_line = true;
			*ret_used = n;
			return SYSLOG_FRAME_TOO_LONG;
		}
		*ret_used = off;
		return SYSLOG_FRAME_MORE;
	}
	len = (size_t)(end - (buf + off));
	*ret_used = (size_t)(end - buf) + 1;
	if (len > 0 && buf[off + len - 1] == '\r') {
		len--;
	}
	if (len > cap) {
		return SYSLOG_FRAME_TOO_LONG;
	}
	*ret_msg = buf + off;
	*ret_len = len;
	return SYSLOG_FRAME_MSG;
}

enum syslog_frame_result syslog_frame_next(struct syslog_framer *f, const char *buf, size_t n,
                                           size_t cap, size_t *ret_used, const char **ret_msg,
                                           size_t *ret_len)
{
	size_t off = 0;

	if (f->discard) {
		uint64_t k = f->discard < n ? f->discard : n;
		f->discard -= k;
		off = (size_t)k;
	}
	if (f->discard == 0 && f->skip_line) {
		const char *nl = memchr(buf + off, '\n', n - off);
		off = nl ? (size_t)(nl - buf) + 1 : n;
		f->skip_line = !nl;
	}
	if (f->discard || f->skip_line) {
		*ret_used = off;
		return SYSLOG_FRAME_MORE;
	}
	while (off < n && is_delim(buf[off])) {
		off++; /* empty frames between messages */
	}
	if (off == n) {
		*ret_used = off;
		return SYSLOG_FRAME_MORE;
	}
	if (is_digit((unsigned char)buf[off])) {
		return octet_frame(f, buf, n, off, cap, ret_used, ret_msg, ret_len);
	}
	return line_frame(f, buf, n, off, cap, ret_used, ret_msg, ret_len);
}
