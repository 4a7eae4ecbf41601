/*
 * format_nginx.c - nginx log_format -> anchored pcre2 pattern.
 *
 * Step 1 removes what nginx.conf adds around a format ("log_format NAME",
 * "escape=...", '...' '...' string concatenation, ';') keeping the column of
 * every byte in the original text.  Step 2 splits the result into literals
 * and $variables ($name or ${name}) and looks every variable up in a table
 * of nginx's core and module variables (plus the prefix families $http_*,
 * $sent_http_*, $cookie_*, $arg_*, $upstream_http_* ...); each row gives
 * the value class (what text the variable can produce) and the record
 * field it feeds.  logformat_build() then turns the pieces into the regex.
 *
 * escape=json and escape=none need no special pattern: a JSON-escaped
 * value inside quotes ("\"", "\u0022") fits the same quoted-string piece as
 * nginx's default \x22 escaping.
 *
 * Variables a config defines itself (map, set, $process_time ...) or that
 * third-party modules add are not in the table.  They are read as opaque
 * fields: a run of non-blank bytes, or the quoted string when the format
 * quotes them (logformat's token class), and captured as the parser's
 * extra captures, numbered by first appearance, so they can become labels
 * and the exporter can name them (and their columns) in a warning at start.
 * An unquoted one whose value holds a blank makes the line fail to match:
 * counted as a parse error, never mis-assigned.  Rejected: refusing them
 * (the old behaviour: a user of map/set could not use the exporter at all)
 * and guessing a class from the name (a wrong guess fails every line; a
 * token is right for nearly all such variables and the quotes say the rest).
 */
#include "parsers/format_nginx.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct nginx_var {
	const char *name;
	enum logformat_class cls;
	enum logformat_field field;
};

#define V(n, c, f)                                                                                 \
	{                                                                                          \
		n, LOGFORMAT_##c, LOGFORMAT_FIELD_##f                                              \
	}

/* Exact names.  Sorted by area, looked up linearly at compile time only. */
static const struct nginx_var nginx_vars[] = {
    /* fields the exporter extracts */
    V("status", INT, STATUS),
    V("request", REQUEST, REQUEST),
    V("request_method", TOKEN, METHOD),
    V("request_uri", TEXT, PATH),
    V("uri", TEXT, PATH),
    V("document_uri", TEXT, PATH),
    V("server_protocol", TOKEN, PROTOCOL),
    V("host", HOST, VHOST),
    V("server_name", HOST, VHOST),
    V("http_host", HOST, VHOST),
    V("remote_addr", ADDR_LIST, REMOTE_ADDR),
    V("body_bytes_sent", INT, BYTES),
    V("bytes_sent", INT, BYTES),
    V("request_time", DEC, TIME_S),
    V("upstream_response_time", DEC_LIST, UPSTREAM_TIME),
    V("upstream_status", INT_LIST, UPSTREAM_STATUS),
    /* core http */
    V("remote_user", TOKEN, NONE),
    V("remote_port", INT, NONE),
    V("binary_remote_addr", TOKEN, NONE),
    V("time_local", TIME_LOCAL, LOGTIME_CLF),
    V("time_iso8601", TOKEN, LOGTIME_ISO8601),
    V("msec", DEC, LOGTIME_EPOCH_S),
    V("request_length", INT, REQUEST_LENGTH),
    V("request_id", TOKEN, REQUEST_ID),
    /* request headers that carry a request or trace id (exemplars) */
    V("http_traceparent", TEXT, TRACEPARENT),
    V("http_x_request_id", TEXT, REQUEST_ID),
    V("http_x_correlation_id", TEXT, REQUEST_ID),
    V("http_x_trace_id", TEXT, TRACE_ID),
    V("http_x_b3_traceid", TEXT, TRACE_ID),
    V("request_body", TEXT, NONE),
    V("request_body_file", TEXT, NONE),
    V("request_completion", TOKEN, NONE),
    V("request_filename", TEXT, NONE),
    V("args", TEXT, NONE),
    V("query_string", TEXT, NONE),
    V("is_args", TOKEN, NONE),
    V("scheme", TOKEN, NONE),
    V("https", TOKEN, NONE),
    V("hostname", HOST, NONE),
    V("server_addr", TOKEN, NONE),
    V("server_port", INT, NONE),
    V("content_type", TEXT, NONE),
    V("content_length", INT, NONE),
    V("document_root", TEXT, NONE),
    V("realpath_root", TEXT, NONE),
    V("limit_rate", INT, NONE),
    V("nginx_version", TOKEN, NONE),
    V("pid", INT, NONE),
    V("pipe", TOKEN, NONE),
    V("connection", INT, NONE),
    V("connection_requests", INT, NONE),
    V("connection_time", DEC, NONE),
    V("tcpinfo_rtt", INT, NONE),
    V("tcpinfo_rttvar", INT, NONE),
    V("tcpinfo_snd_cwnd", INT, NONE),
    V("tcpinfo_rcv_space", INT, NONE),
    V("http2", TOKEN, NONE),
    V("http3", TOKEN, NONE),
    V("quic", TOKEN, NONE),
    V("date_local", TEXT, NONE),
    V("date_gmt", TEXT, NONE),
    V("bytes_received", INT, NONE),
    V("session_time", DEC, NONE),
    V("protocol", TOKEN, NONE),
    /* proxy / realip / upstream */
    V("proxy_add_x_forwarded_for", ADDR_LIST, NONE),
    V("proxy_host", TOKEN, NONE),
    V("proxy_port", INT, NONE),
    V("proxy_protocol_addr", TOKEN, NONE),
    V("proxy_protocol_port", INT, NONE),
    V("proxy_protocol_server_addr", TOKEN, NONE),
    V("proxy_protocol_server_port", INT, NONE),
    V("realip_remote_addr", ADDR_LIST, NONE),
    V("realip_remote_port", INT, NONE),
    V("upstream_addr", ADDR_LIST, NONE),
    V("upstream_bytes_received", INT_LIST, NONE),
    V("upstream_bytes_sent", INT_LIST, NONE),
    V("upstream_response_length", INT_LIST, NONE),
    V("upstream_connect_time", DEC_LIST, UPSTREAM_CONNECT_TIME),
    V("upstream_header_time", DEC_LIST, UPSTREAM_HEADER_TIME),
    V("upstream_queue_time", DEC_LIST, NONE),
    V("upstream_first_byte_time", DEC_LIST, NONE),
    V("upstream_session_time", DEC_LIST, NONE),
    V("upstream_cache_status", TOKEN, NONE),
    V("upstream_cache_key", TEXT, NONE),
    V("upstream_last_server_name", TOKEN, NONE),
    /* modules */
    V("gzip_ratio", DEC, NONE),
    V("ssl_protocol", TOKEN, NONE),
    V("ssl_cipher", TOKEN, NONE),
    V("ssl_ciphers", TOKEN, NONE),
    V("ssl_curve", TOKEN, NONE),
    V("ssl_curves", TOKEN, NONE),
    V("ssl_session_id", TOKEN, NONE),
    V("ssl_session_reused", TOKEN, NONE),
    V("ssl_server_name", TOKEN, NONE),
    V("ssl_alpn_protocol", TOKEN, NONE),
    V("ssl_early_data", TOKEN, NONE),
    V("ssl_client_verify", TEXT, NONE),
    V("ssl_client_serial", TOKEN, NONE),
    V("ssl_client_fingerprint", TOKEN, NONE),
    V("ssl_client_s_dn", TEXT, NONE),
    V("ssl_client_i_dn", TEXT, NONE),
    V("ssl_client_s_dn_legacy", TEXT, NONE),
    V("ssl_client_i_dn_legacy", TEXT, NONE),
    V("ssl_client_v_start", TEXT, NONE),
    V("ssl_client_v_end", TEXT, NONE),
    V("ssl_client_v_remain", TOKEN, NONE),
    V("ssl_client_cert", TEXT, NONE),
    V("ssl_client_raw_cert", TEXT, NONE),
    V("ssl_client_escaped_cert", TOKEN, NONE),
    V("ssl_preread_server_name", TOKEN, NONE),
    V("ssl_preread_alpn_protocols", TOKEN, NONE),
    V("ssl_preread_protocol", TOKEN, NONE),
    V("limit_req_status", TOKEN, NONE),
    V("limit_conn_status", TOKEN, NONE),
    V("invalid_referer", TOKEN, NONE),
    V("secure_link", TOKEN, NONE),
    V("secure_link_expires", TOKEN, NONE),
    V("uid_got", TOKEN, NONE),
    V("uid_set", TOKEN, NONE),
    V("uid_reset", TOKEN, NONE),
    V("ancient_browser", TOKEN, NONE),
    V("modern_browser", TOKEN, NONE),
    V("msie", TOKEN, NONE),
    V("fastcgi_script_name", TEXT, NONE),
    V("fastcgi_path_info", TEXT, NONE),
    V("memcached_key", TEXT, NONE),
    V("slice_range", TOKEN, NONE),
    V("jwt_payload", TOKEN, NONE),
    V("otel_trace_id", TOKEN, TRACE_ID),
    V("otel_span_id", TOKEN, NONE),
    V("otel_parent_id", TOKEN, NONE),
    V("otel_parent_sampled", TOKEN, NONE),
    /* ingress-nginx defines these with "set" in every server block */
    V("proxy_upstream_name", TOKEN, NONE),
    V("proxy_alternative_upstream_name", TOKEN, NONE),
    V("req_id", TOKEN, NONE),
    V("namespace", TOKEN, NONE),
    V("ingress_name", TOKEN, NONE),
    V("service_name", TOKEN, NONE),
    V("service_port", TOKEN, NONE),
    V("location_path", TEXT, NONE),
    /* Nginx Proxy Manager's "proxy" log format uses these "set" variables */
    V("server", TOKEN, NONE),
    V("forward_scheme", TOKEN, NONE),
    V("port", INT, NONE),
};

/* Prefix families: any name after the prefix is valid. */
static const struct nginx_var nginx_prefixes[] = {
    V("http_", TEXT, NONE),
    V("sent_http_", TEXT, NONE),
    V("sent_trailer_", TEXT, NONE),
    V("upstream_http_", TEXT, NONE),
    V("upstream_cookie_", TEXT, NONE),
    V("upstream_trailer_", TEXT, NONE),
    V("cookie_", TEXT, NONE),
    V("arg_", TEXT, NONE),
    V("jwt_claim_", TEXT, NONE),
    V("jwt_header_", TEXT, NONE),
    V("proxy_protocol_tlv_", TEXT, NONE),
    V("geoip_", TEXT, NONE),
    V("geoip2_", TEXT, NONE),
};

#undef V

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct nginx_var *lookup_var(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(nginx_vars); i++) {
		if (strlen(nginx_vars[i].name) == len &&
		    memcmp(nginx_vars[i].name, name, len) == 0) {
			return &nginx_vars[i];
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(nginx_prefixes); i++) {
		size_t pl = strlen(nginx_prefixes[i].name);
		if (len > pl && memcmp(nginx_prefixes[i].name, name, pl) == 0) {
			return &nginx_prefixes[i];
		}
	}
	return NULL;
}

int format_nginx_variable(const char *name, size_t len, enum logformat_field *ret_field)
{
	const struct nginx_var *v = lookup_var(name, len);
	if (v == NULL) {
		return -ENOENT;
	}
	*ret_field = v->field;
	return 0;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Length of a word (run of non-blanks) at s. */
static size_t word_len(const char *s)
{
	size_t n = 0;
	while (s[n] != '\0' && !logformat_is_space(s[n])) {
		n++;
	}
	return n;
}

/* Parse one nginx.conf quoted string starting at s[*i] (a quote). */
static int unquote_one(const char *s, size_t *i, struct logformat_text *t,
                       struct logparse_error *err)
{
	char q = s[*i];
	size_t j = *i + 1;

	for (;;) {
		char c = s[j];
		if (c == '\0') {
			logformat_set_error(err, *i + 1,
			                    "unterminated %c string starting at column %zu", q,
			                    *i + 1);
			return -EINVAL;
		}
		if (c == q) {
			break;
		}
		size_t col = j + 1;
		if (c == '\\' && s[j + 1] != '\0') {
			/* nginx's config parser: \" \' \\ \t \r \n */
			char e = s[j + 1];
			c = e == 't' ? '\t' : e == 'r' ? '\r' : e == 'n' ? '\n' : e;
			if (e != '"' && e != '\'' && e != '\\' && e != 't' && e != 'r' &&
			    e != 'n') {
				if (logformat_text_put(t, '\\', col) < 0) {
					goto too_long;
				}
			}
			j++;
		}
		if (logformat_text_put(t, c, col) < 0) {
			goto too_long;
		}
		j++;
	}
	*i = j + 1;
	return 0;
too_long:
	logformat_set_error(err, 0, "log format longer than %d bytes", LOGFORMAT_MAX_TEXT);
	return -E2BIG;
}

/* Strip log_format NAME / escape= / quoting; see the header. */
int format_nginx_unwrap(const char *s, struct logformat_text *t, struct logparse_error *err)
{
	size_t i = 0;
	bool keyword = false;

	t->len = 0;
	while (logformat_is_space(s[i])) {
		i++;
	}
	if (strncmp(s + i, "log_format", 10) == 0 && logformat_is_space(s[i + 10])) {
		keyword = true;
		i += 10;
		while (logformat_is_space(s[i])) {
			i++;
		}
		i += word_len(s + i); /* the format's name */
		while (logformat_is_space(s[i])) {
			i++;
		}
	}
	if (strncmp(s + i, "escape=", 7) == 0) {
		size_t n = word_len(s + i + 7);
		const char *v = s + i + 7;
		if (!((n == 7 && memcmp(v, "default", 7) == 0) ||
		      (n == 4 && memcmp(v, "json", 4) == 0) ||
		      (n == 4 && memcmp(v, "none", 4) == 0))) {
			logformat_set_error(err, i + 1,
			                    "unknown nginx escape \"%.*s\" at column %zu "
			                    "(expected default, json or none)",
			                    (int)(n > 32 ? 32 : n), v, i + 8);
			return -EINVAL;
		}
		i += 7 + n;
		while (logformat_is_space(s[i])) {
			i++;
		}
	}
	if (s[i] == '\'' || (keyword && s[i] == '"')) {
		while (s[i] == '\'' || s[i] == '"') {
			int r = unquote_one(s, &i, t, err);
			if (r < 0) {
				return r;
			}
			while (logformat_is_space(s[i])) {
				i++;
			}
		}
		if (s[i] == ';') {
			i++;
		}
		while (logformat_is_space(s[i])) {
			i++;
		}
		if (s[i] != '\0') {
			logformat_set_error(
			    err, i + 1, "unexpected text after the format at column %zu", i + 1);
			return -EINVAL;
		}
		return 0;
	}
	/* bare format body: taken verbatim up to a trailing newline */
	size_t end = strlen(s);
	while (end > i && (s[end - 1] == '\n' || s[end - 1] == '\r')) {
		end--;
	}
	for (; i < end; i++) {
		if (logformat_text_put(t, s[i], i + 1) < 0) {
			logformat_set_error(err, 0, "log format longer than %d bytes",
			                    LOGFORMAT_MAX_TEXT);
			return -E2BIG;
		}
	}
	return 0;
}

static int tokenize(const struct logformat_text *t, struct logformat_piece *pieces, size_t *ret_n,
                    struct logparse_error *err)
{
	size_t n = 0, lit = 0, i = 0;
	int r;

	while (i < t->len) {
		if (t->text[i] != '$') {
			i++;
			continue;
		}
		size_t name = i + 1, end;
		bool braced = name < t->len && t->text[name] == '{';
		if (braced) {
			name++;
		}
		end = name;
		while (end < t->len && is_name_char(t->text[end])) {
			end++;
		}
		if (end == name || (braced && (end >= t->len || t->text[end] != '}'))) {
			logformat_set_error(err, t->col[i], "bad variable reference at column %u",
			                    t->col[i]);
			return -EINVAL;
		}
		const struct nginx_var *v = lookup_var(t->text + name, end - name);
		struct logformat_piece litpc = {
		    (unsigned)lit, (unsigned)(i - lit), false, 0, 0, 0, 0};
		size_t stop = braced ? end + 1 : end;
		struct logformat_piece item = {(unsigned)i,
		                               0,
		                               true,
		                               LOGFORMAT_TOKEN,
		                               LOGFORMAT_FIELD_EXTRA,
		                               (unsigned)i,
		                               (unsigned)(stop - i)};
		if (v != NULL) {
			item.cls = (uint8_t)v->cls;
			item.field = (uint8_t)v->field;
		} else {
			/* unknown: an opaque extra capture named by its text */
			item.start = (unsigned)name;
			item.len = (unsigned)(end - name);
		}
		if ((r = logformat_add_piece(pieces, &n, litpc, err)) < 0 ||
		    (r = logformat_add_piece(pieces, &n, item, err)) < 0) {
			return r;
		}
		i = stop;
		lit = i;
	}
	struct logformat_piece tail = {(unsigned)lit, (unsigned)(t->len - lit), false, 0, 0, 0, 0};
	if ((r = logformat_add_piece(pieces, &n, tail, err)) < 0) {
		return r;
	}
	*ret_n = n;
	return 0;
}

int format_nginx_compile_want(const char *text, const char *const *want, size_t n_want,
                              struct logformat *f, struct logparse_error *err)
{
	static const struct logformat_dialect dialect = {
	    .no_status = "nginx log format has no $status variable",
	    .too_long = "nginx log format too long for the pattern buffer",
	    .unwrap = format_nginx_unwrap,
	    .tokenize = tokenize,
	};

	return logformat_compile(&dialect, text, want, n_want, f, err);
}

int format_nginx_compile(const char *text, struct logformat *f, struct logparse_error *err)
{
	return format_nginx_compile_want(text, NULL, 0, f, err);
}
