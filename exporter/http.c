/*
 * http.c - libmicrohttpd front end (see http.h).
 *
 * MHD runs a small pool of internal polling threads (HTTP_THREADS) with
 * explicit limits on connections, per-IP connections, timeouts and memory,
 * plus a request-head deadline against slowloris clients, so a misbehaving
 * client cannot starve scrapes.  Requests go through a route table (404 for
 * unknown paths, 405 with Allow for wrong methods); with a web config, TLS
 * (GnuTLS priorities, client certificates) and basic auth are checked before
 * routing (webauth.c).  POST /-/reload blocks one pool thread until the
 * ingest loop answers, which is why there is a pool.  Responses are built in
 * a capped strbuf and handed to MHD with MHD_RESPMEM_MUST_FREE (no copy).
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
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "build_config.h"
#include "exporter/compress.h"
#include "config/webconfig.h"
#include "exporter/log.h"
#include "exporter/webauth.h"
#include "exporter/negotiate.h"
#include "exporter/procstat.h"

#define RESPONSE_CAP (64u * 1024u * 1024u)

/* One open connection, for the request deadline: since when it has been
 * waiting for a complete request head (waiting), and its socket. */
struct conn_slot {
	bool used;
	bool waiting;
	int fd;
	uint64_t since_ms;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_options opts;
	char *telemetry_path;
	pthread_mutex_t text_lock; /* guards sources_text (replaced on reload) */
	char *sources_text;
	struct webconfig *web; /* NULL: plain HTTP, no auth */
	struct webauth *auth;  /* NULL when web is NULL */
	uint16_t port;
	/* Request deadlines (see "slow clients" below). */
	pthread_mutex_t conn_lock; /* guards conns */
	struct conn_slot conns[HTTP_MAX_CONNECTIONS + HTTP_THREADS];
	uint64_t request_deadline_ms;
	pthread_t sweeper;
	bool sweeper_started;
	atomic_bool stopping;
};

/* Set by the handler for the response of the request being served: extra
 * headers from http_server_config.headers go on every response. */
static _Thread_local const struct http_server *current_server;

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

/* Headers from the web config's http_server_config.headers, on every
 * response of the current request. */
static void http_add_config_headers(struct MHD_Response *r)
{
	const struct http_server *s = current_server;

	for (size_t i = 0; s && s->web && i < s->web->n_headers; i++) {
		(void)MHD_add_response_header(r, s->web->headers[i].name, s->web->headers[i].value);
	}
}

static enum MHD_Result queue_buf(struct MHD_Connection *c, unsigned status, char *data, size_t len,
                                 const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(data);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	http_add_config_headers(r);
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
 * keep the formats and encodings apart.  MHD itself leaves the body out for HEAD. */
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
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gzipped) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	}
	http_add_config_headers(r);
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
	pthread_mutex_lock(&s->text_lock);
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
	pthread_mutex_unlock(&s->text_lock);
	(void)strbuf_puts(&b, "</pre>\n</body></html>\n");
	data = strbuf_steal(&b, &len);
	if (!data) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	return queue_buf(c, MHD_HTTP_OK, data, len, "text/html; charset=utf-8");
}

/* ---- slow clients ----------------------------------------------------------
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends
 * one header byte every few seconds (slowloris) would keep its connection
 * forever.  So every connection also gets a deadline for its request head:
 * it must arrive completely within the timeout after the connection opened
 * or after the previous response.  A sweeper thread shuts down the sockets
 * of connections past the deadline; libmicrohttpd then sees the connection
 * fail and closes it.  Slots are released in the CLOSED notification, which
 * libmicrohttpd sends before it closes the socket, and both sides hold
 * conn_lock, so the sweeper never touches a reused descriptor.
 */
#define SWEEP_INTERVAL_MS 200

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct conn_slot *slot = *socket_context;

	pthread_mutex_lock(&s->conn_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		for (size_t i = 0; ci && i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
			if (!s->conns[i].used) {
				s->conns[i] =
				    (struct conn_slot){true, true, ci->connect_fd, now_ms()};
				*socket_context = &s->conns[i];
				break;
			}
		}
	} else if (slot) {
		slot->used = false;
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&s->conn_lock);
}

/* waiting: the connection now waits for a request head (true) or has one. */
static void mark_waiting(struct http_server *s, struct MHD_Connection *c, bool waiting)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *slot = ci ? ci->socket_context : NULL;

	if (!slot) {
		return;
	}
	pthread_mutex_lock(&s->conn_lock);
	slot->waiting = waiting;
	slot->since_ms = now_ms();
	pthread_mutex_unlock(&s->conn_lock);
}

static void on_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
	(void)con_cls;
	(void)toe;
	mark_waiting(cls, c, true);
}

static void *sweeper_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec pause = {0, SWEEP_INTERVAL_MS * 1000000L};

	while (!atomic_load(&s->stopping)) {
		uint64_t now = now_ms();
		pthread_mutex_lock(&s->conn_lock);
		for (size_t i = 0; i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
			struct conn_slot *slot = &s->conns[i];
			if (slot->used && slot->waiting &&
			    now - slot->since_ms > s->request_deadline_ms) {
				(void)shutdown(slot->fd, SHUT_RDWR);
				slot->waiting = false;
			}
		}
		pthread_mutex_unlock(&s->conn_lock);
		(void)nanosleep(&pause, NULL);
	}
	return NULL;
}

static enum MHD_Result queue_status(struct MHD_Connection *c, unsigned status, const char *text,
                                    const char *allow)
{
	char *copy = strdup(text);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!copy) {
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(copy);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	}
	http_add_config_headers(r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Basic auth per exporter-toolkit: every path needs valid credentials. */
static enum MHD_Result check_auth(struct http_server *s, struct MHD_Connection *c, bool *ret_ok)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	struct MHD_Response *r;
	enum MHD_Result ret;
	static const char msg[] = "401 Unauthorized\n";

	*ret_ok = webauth_check_password(s->auth, user, pass) == 0;
	if (pass) {
		explicit_bzero(pass, strlen(pass));
	}
	MHD_free(user);
	MHD_free(pass);
	if (*ret_ok) {
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	http_add_config_headers(r);
	ret = MHD_queue_basic_auth_fail_response(c, WEBAUTH_REALM, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve_reload(struct http_server *s, struct MHD_Connection *c)
{
	char err[1024] = "", body[1100];
	int r;

	if (!s->opts.enable_lifecycle) {
		return queue_status(c, MHD_HTTP_FORBIDDEN,
		                    "Lifecycle API is not enabled (--web.enable-lifecycle).\n",
		                    NULL);
	}
	if (!s->opts.reloader.reload) {
		return queue_status(c, MHD_HTTP_SERVICE_UNAVAILABLE, "reload not available\n",
		                    NULL);
	}
	r = s->opts.reloader.reload(s->opts.reloader.userdata, err, sizeof(err));
	if (r == 0) {
		return queue_status(c, MHD_HTTP_OK, "configuration reloaded\n", NULL);
	}
	(void)snprintf(body, sizeof(body), "failed to reload config: %s\n",
	               err[0] ? err : strerror(-r));
	return queue_status(c, r == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
	                    body, NULL);
}

/* Routes: path, allowed methods (Allow header), whether POST is the method. */
enum route { ROUTE_METRICS, ROUTE_LANDING, ROUTE_HEALTHY, ROUTE_READY, ROUTE_RELOAD, ROUTE_NONE };

static enum route find_route(const struct http_server *s, const char *url)
{
	static const struct {
		const char *path;
		enum route route;
	} routes[] = {
	    {"/", ROUTE_LANDING},
	    {"/-/healthy", ROUTE_HEALTHY},
	    {"/-/ready", ROUTE_READY},
	    {"/-/reload", ROUTE_RELOAD},
	};

	if (strcmp(url, s->telemetry_path) == 0) {
		return ROUTE_METRICS;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(url, routes[i].path) == 0) {
			return routes[i].route;
		}
	}
	return ROUTE_NONE;
}

static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *c, const char *url,
                                const char *method)
{
	bool get =
	    strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	enum route route = find_route(s, url);

	if (route == ROUTE_NONE) {
		return queue_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	}
	if (route == ROUTE_RELOAD) {
		if (!post) {
			return queue_status(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                    "405 method not allowed\n", "POST");
		}
		return serve_reload(s, c);
	}
	if (!get) {
		return queue_status(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
		                    "GET, HEAD");
	}
	switch (route) {
	case ROUTE_METRICS:
		return serve_metrics(s, c);
	case ROUTE_LANDING:
		return serve_landing(s, c);
	case ROUTE_HEALTHY:
		return queue_text(c, MHD_HTTP_OK, "Healthy.\n");
	default:
		return queue_text(c, MHD_HTTP_OK, "Ready.\n");
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
	static int seen_marker;
	struct http_server *s = cls;
	enum MHD_Result ret;
	bool ok = true;

	/* First call: headers only.  Request bodies (e.g. on POST) are read
	 * and discarded; the answer comes on the last call. */
	if (!*con_cls) {
		*con_cls = &seen_marker;
		mark_waiting(s, c, false);
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 ||
		    strcmp(method, MHD_HTTP_METHOD_PUT) == 0) {
			return MHD_YES;
		}
	} else if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (s->auth && s->web->tls) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (webauth_check_client_cert(s->auth, ci ? ci->tls_session : NULL) < 0) {
			log_debug("client certificate rejected");
			return MHD_NO; /* closes the connection */
		}
	}
	current_server = s;
	if (webauth_has_users(s->auth)) {
		ret = check_auth(s, c, &ok);
		if (!ok) {
			current_server = NULL;
			return ret;
		}
	}
	ret = dispatch(s, c, url, method);
	current_server = NULL;
	return ret;
}

static int make_sockaddr(const char *host, uint16_t port, struct sockaddr_storage *ss, bool *ret_v6)
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

int http_check_web_config(const char *path, char *err, size_t err_size)
{
	struct webconfig *w = NULL;
	struct webauth *a = NULL;
	int r = webconfig_load_file(path, &w, err, err_size);

	if (r == 0) {
		r = webauth_create(w, &a, err, err_size);
	}
	webauth_destroy(a);
	webconfig_destroy(w);
	return r;
}

/* Load the web config into s (TLS material and users). */
static int load_web(struct http_server *s, const char *path)
{
	char err[1024] = "";
	int r = webconfig_load_file(path, &s->web, err, sizeof(err));

	if (r == 0) {
		r = webauth_create(s->web, &s->auth, err, sizeof(err));
	}
	if (r < 0) {
		log_error("bad web config", "file", path, "error", err[0] ? err : strerror(-r));
		return r == -ENOMEM ? r : -EINVAL;
	}
	return 0;
}

/* MHD options common to plain and TLS serving; returns the count. */
static size_t mhd_options(const struct http_server *s, const struct sockaddr_storage *ss,
                          struct MHD_OptionItem *opt)
{
	size_t n = 0;
	unsigned timeout = s->opts.connection_timeout ? s->opts.connection_timeout : 10;

	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)ss};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	                                   HTTP_MAX_CONNECTIONS_PER_IP, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)timeout, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                                   (intptr_t)HTTP_CONNECTION_MEMORY, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, HTTP_THREADS, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection,
	                                   (void *)s};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_request_done,
	                                   (void *)s};
	/* Strict HTTP/1.1 parsing: e.g. a request without Host is a 400. */
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
	if (s->web && s->web->tls) {
		opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->web->key_pem};
		opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->web->cert_pem};
		opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
		                                   (void *)webauth_tls_priorities(s->auth)};
		if (s->web->client_ca_pem) {
			opt[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
			                                   s->web->client_ca_pem};
		}
	}
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return n;
}

int http_server_start(const struct http_options *o, struct http_server **ret_server)
{
	char host[256];
	uint16_t port;
	struct sockaddr_storage ss;
	bool v6;
	struct http_server *s;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem opt[16];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY;
	int r;

	if (http_parse_listen_address(o->listen_address, host, sizeof(host), &port) < 0 ||
	    make_sockaddr(host, port, &ss, &v6) < 0) {
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&s->text_lock, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&s->conn_lock, NULL) != 0) {
		pthread_mutex_destroy(&s->text_lock);
		free(s);
		return -ENOMEM;
	}
	s->request_deadline_ms = 1000u * (o->connection_timeout ? o->connection_timeout : 10);
	s->opts = *o;
	s->opts.web_config_file = NULL; /* borrowed pointers are not kept */
	s->opts.sources_text = NULL;
	s->telemetry_path = strdup(o->telemetry_path);
	s->sources_text = strdup(o->sources_text ? o->sources_text : "");
	if (!s->telemetry_path || !s->sources_text) {
		http_server_stop(s);
		return -ENOMEM;
	}
	if (o->web_config_file) {
		r = load_web(s, o->web_config_file);
		if (r < 0) {
			http_server_stop(s);
			return r;
		}
	}
	(void)mhd_options(s, &ss, opt);
	flags |= (v6 ? MHD_USE_IPv6 : 0) | (s->web && s->web->tls ? MHD_USE_TLS : 0);
	s->daemon = MHD_start_daemon(flags, port, NULL, NULL, handler, s, MHD_OPTION_ARRAY, opt,
	                             MHD_OPTION_END);
	if (!s->daemon) {
		http_server_stop(s);
		return -EADDRINUSE;
	}
	if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
		http_server_stop(s);
		return -ENOMEM;
	}
	s->sweeper_started = true;
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	*ret_server = s;
	return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
	return s->port;
}

int http_server_set_sources_text(struct http_server *s, const char *text)
{
	char *copy = strdup(text ? text : "");
	char *old;

	if (!copy) {
		return -ENOMEM;
	}
	pthread_mutex_lock(&s->text_lock);
	old = s->sources_text;
	s->sources_text = copy;
	pthread_mutex_unlock(&s->text_lock);
	free(old);
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s) {
		return;
	}
	if (s->sweeper_started) {
		atomic_store(&s->stopping, true);
		(void)pthread_join(s->sweeper, NULL);
	}
	if (s->daemon) {
		MHD_stop_daemon(s->daemon);
	}
	pthread_mutex_destroy(&s->conn_lock);
	webauth_destroy(s->auth);
	webconfig_destroy(s->web);
	pthread_mutex_destroy(&s->text_lock);
	free(s->telemetry_path);
	free(s->sources_text);
	free(s);
}
