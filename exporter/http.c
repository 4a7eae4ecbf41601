/*
 * http.c - libmicrohttpd front end (see http.h).
 *
 * MHD runs in internal-polling-thread mode with explicit limits on
 * connections, per-IP connections, timeouts and memory, so a misbehaving
 * client cannot starve scrapes.  Responses are built in a capped strbuf and
 * handed to MHD with MHD_RESPMEM_MUST_FREE (no copy).
 *
 * Rejected: thread-per-connection (unbounded threads), external select in
 * the tailer's loop (a slow render would delay ingestion).
 */
#include "exporter/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "build_config.h"
#include "exporter/compress.h"
#include "exporter/log.h"
#include "exporter/negotiate.h"
#include "exporter/procstat.h"

#define RESPONSE_CAP (64u * 1024u * 1024u)

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_options opts;
	char *telemetry_path;
	char *sources_text;
	uint16_t port;
};

int http_parse_listen_address(const char *addr, char *host, size_t host_size, uint16_t *ret_port)
{
	const char *colon, *h = addr;
	size_t hlen;
	unsigned port = 0;

	if (!addr || host_size < 64) {
		return -EINVAL;
	}
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':') {
			return -EINVAL;
		}
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon) {
			return -EINVAL;
		}
		hlen = (size_t)(colon - addr);
	}
	if (hlen >= host_size || !colon[1] || strlen(colon + 1) > 5) {
		return -EINVAL;
	}
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9') {
			return -EINVAL;
		}
		port = port * 10 + (unsigned)(*p - '0');
	}
	if (port > 65535) {
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*ret_port = (uint16_t)port;
	return 0;
}

static enum MHD_Result queue_buf(struct MHD_Connection *c, unsigned status, char *data,
				 size_t len, const char *ctype)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(data);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result queue_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *copy = strdup(text);
	if (!copy) {
		return MHD_NO;
	}
	return queue_buf(c, status, copy, strlen(copy), "text/plain; charset=utf-8");
}

/* Queue a rendered scrape (data is taken over): Content-Type for the
 * negotiated format, Content-Encoding when gzipped, and always Vary so caches
 * keep the encodings apart.  MHD itself leaves the body out for HEAD. */
static enum MHD_Result queue_metrics(struct MHD_Connection *c, char *data, size_t len,
				     enum expo_format f, bool gzipped)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(data);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, expo_content_type(f));
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (gzipped) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The whole document: registry, process metrics, end marker. */
static int render_document(struct metrics *m, enum expo_format f, struct strbuf *b)
{
	struct procstat ps;

	(void)metrics_render(m, f, b);
	if (procstat_read(&ps) == 0) {
		procstat_render(&ps, f, b);
	}
	expo_end(b, f);
	return b->error;
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *enc =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum expo_format f = negotiate_format(accept);
	bool gzip = negotiate_gzip(enc);
	struct strbuf b;
	char *data, *z;
	size_t len, zlen;

	strbuf_init(&b, RESPONSE_CAP);
	if (render_document(s->opts.metrics, f, &b) < 0) {
		strbuf_finish(&b);
		log_error("rendering metrics failed");
		return queue_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering metrics failed\n");
	}
	if (gzip && compress_gzip(b.data, b.len, COMPRESS_DEFAULT_LEVEL, &z, &zlen) == 0) {
		strbuf_finish(&b);
		return queue_metrics(c, z, zlen, f, true);
	}
	/* Not accepted, or compression failed: plain is always acceptable. */
	data = strbuf_steal(&b, &len);
	if (!data) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	return queue_metrics(c, data, len, f, false);
}

static enum MHD_Result serve_landing(struct http_server *s, struct MHD_Connection *c)
{
	struct strbuf b;
	char *data;
	size_t len;

	strbuf_init(&b, 1024 * 1024);
	(void)strbuf_printf(&b,
			    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			    "<title>accesslog_exporter</title></head><body>\n"
			    "<h1>accesslog_exporter</h1>\n<p>Version %s (%s)</p>\n"
			    "<p><a href=\"",
			    ACCESSLOG_VERSION, ACCESSLOG_REVISION);
	expo_escape_value(&b, s->telemetry_path, strlen(s->telemetry_path));
	(void)strbuf_puts(&b, "\">Metrics</a></p>\n<h2>Sources</h2>\n<pre>");
	for (const char *p = s->sources_text; p && *p; p++) {
		/* Minimal HTML escaping for paths and names. */
		switch (*p) {
		case '<':
			(void)strbuf_puts(&b, "&lt;");
			break;
		case '>':
			(void)strbuf_puts(&b, "&gt;");
			break;
		case '&':
			(void)strbuf_puts(&b, "&amp;");
			break;
		default:
			(void)strbuf_putc(&b, *p);
		}
	}
	(void)strbuf_puts(&b, "</pre>\n</body></html>\n");
	data = strbuf_steal(&b, &len);
	if (!data) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	return queue_buf(c, MHD_HTTP_OK, data, len, "text/html; charset=utf-8");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool known = strcmp(url, s->telemetry_path) == 0 || strcmp(url, "/") == 0 ||
		     strcmp(url, "/-/healthy") == 0 || strcmp(url, "/-/ready") == 0;

	if (!known) {
		return queue_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	}
	if (!get) {
		return queue_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n");
	}
	if (strcmp(url, s->telemetry_path) == 0) {
		return serve_metrics(s, c);
	}
	if (strcmp(url, "/") == 0) {
		return serve_landing(s, c);
	}
	return queue_text(c, MHD_HTTP_OK, "OK\n");
}

static int make_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss,
			 bool *ret_v6)
{
	memset(ss, 0, sizeof(*ss));
	if (!*host || strcmp(host, "0.0.0.0") == 0 || strchr(host, '.') ||
	    strcmp(host, "localhost") == 0) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		if (!*host || strcmp(host, "0.0.0.0") == 0) {
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		} else if (strcmp(host, "localhost") == 0) {
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		} else if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
			return -EINVAL;
		}
		*ret_v6 = false;
		return 0;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
		return -EINVAL;
	}
	*ret_v6 = true;
	return 0;
}

int http_server_start(const struct http_options *o, struct http_server **ret_server)
{
	char host[256];
	uint16_t port;
	struct sockaddr_storage ss;
	bool v6;
	struct http_server *s;
	const union MHD_DaemonInfo *info;

	if (http_parse_listen_address(o->listen_address, host, sizeof(host), &port) < 0 ||
	    make_sockaddr(host, port, &ss, &v6) < 0) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	s->opts = *o;
	s->telemetry_path = strdup(o->telemetry_path);
	s->sources_text = strdup(o->sources_text ? o->sources_text : "");
	if (!s->telemetry_path || !s->sources_text) {
		http_server_stop(s);
		return -ENOMEM;
	}
	s->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
			(v6 ? MHD_USE_IPv6 : 0),
		port, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)32, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (!s->daemon) {
		http_server_stop(s);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	*ret_server = s;
	return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s)
{
	if (!s) {
		return;
	}
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
	}
	free(s->telemetry_path);
	free(s->sources_text);
	free(s);
}
