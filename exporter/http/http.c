/*
 * http.c - libmicrohttpd front end (see http.h).
 *
 * MHD runs a small pool of internal polling threads (HTTP_THREADS) with
 * explicit limits on connections, per-IP connections, timeouts and memory,
 * plus a request deadline against slowloris clients, so a misbehaving client
 * cannot starve scrapes.  Requests go through a route table (404 for unknown
 * paths, 405 with Allow for wrong methods); with a web config, TLS (GnuTLS
 * priorities, client certificates) and basic auth are checked before routing
 * (webauth.c).  Connections are kept alive (HTTP/1.1): every answer is queued
 * on a later handler call, never the first (see handler()).  POST /-/reload
 * blocks one pool thread until the ingest loop answers, which is why there is
 * a pool.  Responses are built in a capped strbuf and handed to MHD with
 * MHD_RESPMEM_MUST_FREE (no copy) by one function, reply(), which adds the
 * headers every response needs (/metrics renders into pages it gives back
 * once sent: see serve_metrics and pagebuf.c); the server is passed along explicitly (no
 * thread-local "current server").  The listen address is parsed by
 * config_parse_listen_address (the same parser --config.check uses); this
 * file only fills in the sockaddr.  The landing page (landing.c) renders a
 * status snapshot the ingest thread publishes (snapshot.h), never the live
 * files, and HTML-escapes everything it prints.  libmicrohttpd is called
 * through mhdlib's table (s->mhd), loaded when the server starts, so the
 * modes that never serve do not load it (mhdlib.h).
 *
 * Rejected: thread-per-connection (unbounded threads), external select in
 * the tailer's loop (a slow render would delay ingestion), answering on the
 * handler's first call (libmicrohttpd then closes every connection).
 */
#include "exporter/http/http.h"

#include <arpa/inet.h>
#include <errno.h>
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
#include "exporter/clock.h"
#include "exporter/http/compress.h"
#include "config/config.h"
#include "config/webconfig.h"
#include "exporter/http/landing.h"
#include "exporter/http/mhdlib.h"
#include "exporter/log.h"
#include "exporter/http/snapshot.h"
#include "exporter/strbuf.h"
#include "exporter/http/webauth.h"
#include "exporter/http/negotiate.h"
#include "exporter/http/pagebuf.h"
#include "exporter/http/procstat.h"

#define RESPONSE_CAP (64u * 1024u * 1024u)
#define LANDING_CAP (16u * 1024u * 1024u)

/* A client address (IPv4 as v4-mapped IPv6), compared as bytes. */
struct peer {
	unsigned char addr[16];
};

/* One open connection, for the request deadline: since when it has been
 * waiting for a complete request head (waiting), and its socket. */
struct conn_slot {
	bool used;
	bool waiting;
	int fd;
	uint64_t since_ms;
	struct peer peer; /* client address, for the per-address caps */
};

struct http_server {
	const struct mhdlib *mhd; /* libmicrohttpd and GnuTLS, loaded at start */
	struct MHD_Daemon *daemon;
	struct http_options opts;
	char *telemetry_path;
	struct webconfig *web; /* NULL: plain HTTP, no auth */
	struct webauth *auth;  /* NULL when web is NULL */
	uint16_t port;
	unsigned max_connections; /* MHD's limit (opts.max_connections or the default) */
	unsigned per_address;     /* connections one client address may hold */
	unsigned reserve;         /* the last ones: only for addresses with < 2 */
	/* Request deadlines (see "slow clients" below). */
	pthread_mutex_t conn_lock; /* guards conns */
	struct conn_slot conns[HTTP_MAX_CONNECTIONS + HTTP_THREADS];
	uint64_t request_deadline_ms;
	pthread_t sweeper;
	bool sweeper_started;
	atomic_bool stopping;
	_Atomic size_t render_hint; /* bytes of the last /metrics document */
	/* The buffer of the last document MHD finished sending, kept for the
	 * next scrape (see serve_metrics); NULL while one is in use. */
	_Atomic(struct docbuf *) spare;
	bool give_back; /* documents give their pages back (pagebuf_huge_pages) */
};

/* A /metrics body handed to MHD; given back through doc_done. */
struct docbuf {
	struct http_server *server;
	struct pagebuf *pages;
};

/* ---- responses ----------------------------------------------------------
 *
 * Every response goes through reply(): the body is taken over (MUST_FREE,
 * no copy), Content-Type is always set, the web config's
 * http_server_config.headers go on every response, and the optional fields
 * add what a status needs: Allow on 405, WWW-Authenticate on 401 (queued by
 * MHD's basic-auth helper), Vary and Content-Encoding on negotiated scrapes.
 * The server is passed in: nothing per-request lives in a global.
 */
struct reply {
	unsigned status;
	const char *content_type;
	const char *allow;    /* Allow header (405) or NULL */
	const char *encoding; /* Content-Encoding or NULL */
	bool vary;            /* Vary: Accept, Accept-Encoding (negotiated body) */
	bool auth_challenge;  /* 401 with WWW-Authenticate: Basic realm=... */
};

static const char text_plain[] = "text/plain; charset=utf-8";

/* Add the headers rp and the web config ask for, queue r and drop our
 * reference. */
static enum MHD_Result queue(const struct http_server *s, struct MHD_Connection *c,
                             const struct reply *rp, struct MHD_Response *r)
{
	enum MHD_Result ret;

	(void)s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rp->content_type);
	if (rp->allow) {
		(void)s->mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, rp->allow);
	}
	if (rp->vary) {
		(void)s->mhd->add_response_header(r, MHD_HTTP_HEADER_VARY,
		                                  "Accept, Accept-Encoding");
	}
	if (rp->encoding) {
		(void)s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
		                                  rp->encoding);
	}
	for (size_t i = 0; s->web && i < s->web->n_headers; i++) {
		(void)s->mhd->add_response_header(r, s->web->headers[i].name,
		                                  s->web->headers[i].value);
	}
	if (rp->auth_challenge) {
		ret = s->mhd->queue_basic_auth_fail_response(c, WEBAUTH_REALM, r);
	} else {
		ret = s->mhd->queue_response(c, rp->status, r);
	}
	s->mhd->destroy_response(r);
	return ret;
}

static enum MHD_Result reply(const struct http_server *s, struct MHD_Connection *c,
                             const struct reply *rp, char *data, size_t len)
{
	struct MHD_Response *r =
	    s->mhd->create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(data);
		return MHD_NO;
	}
	return queue(s, c, rp, r);
}

/* A short plain-text response (text copied); allow: Allow header or NULL. */
static enum MHD_Result reply_text(const struct http_server *s, struct MHD_Connection *c,
                                  unsigned status, const char *text, const char *allow)
{
	struct reply rp = {.status = status, .content_type = text_plain, .allow = allow};
	char *copy = strdup(text);

	if (!copy) {
		return MHD_NO;
	}
	return reply(s, c, &rp, copy, strlen(copy));
}

/* The whole document: registry, process metrics (unless disabled), end marker. */
static int render_document(const struct http_options *o, enum expo_format f, struct strbuf *b)
{
	struct procstat ps;

	(void)o->metrics.render(o->metrics.userdata, f, b);
	if (!o->no_process_metrics && procstat_read(&ps) == 0) {
		procstat_render(&ps, f, b);
	}
	expo_end(b, f);
	return b->error;
}

/* MHD is done with a document: its pages go back (pagebuf_release), and
 * the buffer is kept for the next scrape when the spare slot is empty,
 * else unmapped.  Any MHD thread. */
static void doc_done(void *cls)
{
	struct docbuf *d = cls;
	struct docbuf *none = NULL;

	pagebuf_release(d->pages);
	if (!atomic_compare_exchange_strong(&d->server->spare, &none, d)) {
		pagebuf_destroy(d->pages);
		free(d);
	}
}

/* Queue a rendered document whose storage is the docbuf's. */
static enum MHD_Result reply_doc(struct http_server *s, struct MHD_Connection *c,
                                 const struct reply *rp, struct docbuf *d, size_t len)
{
	struct MHD_Response *r = s->mhd->create_response_from_buffer_with_free_callback_cls(
	    len, pagebuf_data(d->pages), doc_done, d);

	if (!r) {
		doc_done(d);
		return MHD_NO;
	}
	return queue(s, c, rp, r);
}

/* The spare docbuf, or a new one.  NULL when out of memory. */
static struct docbuf *doc_take(struct http_server *s)
{
	struct docbuf *d = atomic_exchange(&s->spare, NULL);

	if (d != NULL) {
		return d;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		return NULL;
	}
	d->server = s;
	d->pages = pagebuf_create(s->give_back);
	if (d->pages == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/* Render the document into d's pages, sized from the last document; when
 * it does not fit (-ENOSPC), grow them and render again.  0 and *ret_len,
 * or the render's error (-E2BIG past RESPONSE_CAP). */
static int render_into(struct http_server *s, enum expo_format f, struct docbuf *d, size_t *ret_len)
{
	size_t want = atomic_load_explicit(&s->render_hint, memory_order_relaxed);
	struct strbuf b;
	int r;

	want += want / 8 + 4096;
	for (;;) {
		r = pagebuf_reserve(d->pages, want);
		if (r < 0) {
			return r;
		}
		strbuf_init_borrowed(&b, pagebuf_data(d->pages), pagebuf_size(d->pages),
		                     RESPONSE_CAP);
		r = render_document(&s->opts, f, &b);
		if (r != -ENOSPC) {
			break;
		}
		want = pagebuf_size(d->pages) * 2;
	}
	if (r == 0) {
		*ret_len = b.len;
	}
	return r;
}

/*
 * /metrics renders into the pages of an earlier scrape's buffer when one is
 * spare (sequential scrapes: always): no allocation, no growth by doubling
 * and no multi-MiB block freed into a pool thread's malloc arena per
 * scrape.  Once MHD has sent the document its pages go back to the kernel
 * (pagebuf.c: transparent huge pages make faulting them in again cheap),
 * so between scrapes the process keeps no document at all; without huge
 * pages it keeps one.  At most one spare is kept; concurrent scrapes map
 * their own and unmap them.  gzip bodies are small and go through reply()
 * as before; the rendered text is released at once.
 * Rejected: see pagebuf.c (malloc'd documents, malloc_trim, 4 KiB faults).
 */
static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
{
	const char *accept =
	    s->mhd->lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *enc =
	    s->mhd->lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum expo_format f = negotiate_format(accept);
	bool gzip = negotiate_gzip(enc);
	/* Content-Type for the negotiated format, and always Vary so caches keep
	 * the formats and encodings apart.  MHD leaves the body out for HEAD. */
	struct reply rp = {
	    .status = MHD_HTTP_OK, .content_type = expo_content_type(f), .vary = true};
	char *z;
	size_t len = 0, zlen;
	struct docbuf *d = doc_take(s);

	if (d == NULL) {
		return MHD_NO;
	}
	int r = render_into(s, f, d, &len);
	if (r < 0) {
		doc_done(d);
		log_error("rendering metrics failed");
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "rendering metrics failed\n", NULL);
	}
	atomic_store_explicit(&s->render_hint, len, memory_order_relaxed);
	if (gzip &&
	    compress_gzip(pagebuf_data(d->pages), len, COMPRESS_DEFAULT_LEVEL, &z, &zlen) == 0) {
		doc_done(d);
		rp.encoding = "gzip";
		return reply(s, c, &rp, z, zlen);
	}
	/* Not accepted, or compression failed: plain is always acceptable. */
	return reply_doc(s, c, &rp, d, len);
}

static enum MHD_Result serve_landing(struct http_server *s, struct MHD_Connection *c)
{
	struct reply rp = {.status = MHD_HTTP_OK, .content_type = "text/html; charset=utf-8"};
	struct landing_info li = {
	    .version = ACCESSLOG_VERSION,
	    .revision = ACCESSLOG_REVISION,
	    .telemetry_path = s->telemetry_path,
	    .lifecycle = s->opts.enable_lifecycle,
	};
	const struct snapshot *snap =
	    s->opts.status ? snapshot_board_acquire(s->opts.status) : NULL;
	struct strbuf b;
	char *data;
	size_t len;
	int r;

	strbuf_init(&b, LANDING_CAP);
	r = landing_render(&li, snap, &b);
	snapshot_board_release(s->opts.status, snap);
	if (r < 0) {
		strbuf_finish(&b);
		log_error("rendering the landing page failed");
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "rendering the landing page failed\n", NULL);
	}
	data = strbuf_steal(&b, &len);
	if (!data) {
		strbuf_finish(&b);
		return MHD_NO;
	}
	return reply(s, c, &rp, data, len);
}

/* ---- slow clients ----------------------------------------------------------
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends
 * one header byte every few seconds (slowloris) would keep its connection
 * forever.  So every connection also gets a deadline for its request (head
 * and body): it must arrive completely within the timeout after the
 * connection opened or after the previous response on a kept-alive
 * connection (so an idle keep-alive connection is closed after the timeout
 * too).  A sweeper thread shuts down the sockets
 * of connections past the deadline; libmicrohttpd then sees the connection
 * fail and closes it.  Slots are released in the CLOSED notification, which
 * libmicrohttpd sends before it closes the socket, and both sides hold
 * conn_lock, so the sweeper never touches a reused descriptor.
 */
#define SWEEP_INTERVAL_MS 200

static void peer_of(const struct sockaddr *sa, struct peer *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (sa->sa_family == AF_INET) {
		ret->addr[10] = ret->addr[11] = 0xff;
		memcpy(ret->addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		       4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ret->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

/*
 * Admission (libmicrohttpd's accept policy, before a connection is set up):
 * one client address holds at most per_address connections, and the last
 * `reserve` slots go only to addresses holding fewer than two, so clients
 * that open many slow connections from a few addresses (256 from 8 fill
 * MHD's own limits of 256 and 32 per address) never leave a scraper
 * without a connection.  Refused connections are closed at once (the
 * client sees a reset, not a wait).  Counted under conn_lock from the
 * slots; a connection accepted by another pool thread but not yet
 * registered is not seen, so a cap can be passed by one per thread.
 */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *s = cls;
	struct peer peer;
	unsigned total = 0, mine = 0;

	(void)addrlen;
	peer_of(addr, &peer);
	pthread_mutex_lock(&s->conn_lock);
	for (size_t i = 0; i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
		if (s->conns[i].used) {
			total++;
			mine += memcmp(&s->conns[i].peer, &peer, sizeof(peer)) == 0;
		}
	}
	pthread_mutex_unlock(&s->conn_lock);
	if (mine >= s->per_address || (total + s->reserve >= s->max_connections && mine >= 2)) {
		return MHD_NO;
	}
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct conn_slot *slot = *socket_context;

	pthread_mutex_lock(&s->conn_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    s->mhd->get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai =
		    s->mhd->get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		struct peer peer = {{0}};
		if (ai) {
			peer_of(ai->client_addr, &peer);
		}
		for (size_t i = 0; ci && i < sizeof(s->conns) / sizeof(s->conns[0]); i++) {
			if (!s->conns[i].used) {
				s->conns[i] = (struct conn_slot){true, true, ci->connect_fd,
				                                 clock_mono_ms(), peer};
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
	    s->mhd->get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *slot = ci ? ci->socket_context : NULL;

	if (!slot) {
		return;
	}
	pthread_mutex_lock(&s->conn_lock);
	slot->waiting = waiting;
	slot->since_ms = clock_mono_ms();
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
		uint64_t now = clock_mono_ms();
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

/* Basic auth per exporter-toolkit: every path needs valid credentials.
 * *ret_ok false: the 401 has been queued (the return value is MHD's). */
static enum MHD_Result check_auth(struct http_server *s, struct MHD_Connection *c, bool *ret_ok)
{
	static const char msg[] = "401 Unauthorized\n";
	struct reply rp = {
	    .status = MHD_HTTP_UNAUTHORIZED, .content_type = text_plain, .auth_challenge = true};
	char *pass = NULL;
	char *user = s->mhd->basic_auth_get_username_password(c, &pass);
	char *copy;

	*ret_ok = webauth_check_password(s->auth, user, pass) == 0;
	if (pass) {
		explicit_bzero(pass, strlen(pass));
	}
	s->mhd->free_mem(user);
	s->mhd->free_mem(pass);
	if (*ret_ok) {
		return MHD_YES;
	}
	copy = strdup(msg);
	if (!copy) {
		return MHD_NO;
	}
	return reply(s, c, &rp, copy, sizeof(msg) - 1);
}

static enum MHD_Result serve_reload(struct http_server *s, struct MHD_Connection *c)
{
	char err[1024] = "", body[1100];
	int r;

	if (!s->opts.enable_lifecycle) {
		return reply_text(s, c, MHD_HTTP_FORBIDDEN,
		                  "Lifecycle API is not enabled (--web.enable-lifecycle).\n", NULL);
	}
	if (!s->opts.reloader.reload) {
		return reply_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "reload not available\n",
		                  NULL);
	}
	r = s->opts.reloader.reload(s->opts.reloader.userdata, err, sizeof(err));
	if (r == 0) {
		return reply_text(s, c, MHD_HTTP_OK, "configuration reloaded\n", NULL);
	}
	(void)snprintf(body, sizeof(body), "failed to reload config: %s\n",
	               err[0] ? err : strerror(-r));
	return reply_text(
	    s, c, r == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR, body, NULL);
}

/* Routes: path, allowed methods (Allow header), whether POST is the method. */
enum route {
	ROUTE_METRICS,
	ROUTE_LANDING,
	ROUTE_HEALTHY,
	ROUTE_READY,
	ROUTE_RELOAD,
	ROUTE_NONE,
	ROUTE_PAGE, /* + index into opts.pages */
};

/* An extra page (http_options.pages): rendered as plain text. */
static enum MHD_Result serve_page(struct http_server *s, struct MHD_Connection *c,
                                  const struct http_page *pg)
{
	struct reply rp = {.status = MHD_HTTP_OK, .content_type = text_plain};
	struct strbuf b;
	char *data;
	size_t len;

	strbuf_init(&b, RESPONSE_CAP);
	if (pg->render(pg->userdata, &b) < 0) {
		strbuf_finish(&b);
		return reply_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                  "500 cannot render the page\n", NULL);
	}
	data = strbuf_steal(&b, &len);
	strbuf_finish(&b);
	if (!data) {
		return reply_text(s, c, MHD_HTTP_OK, "", NULL);
	}
	return reply(s, c, &rp, data, len);
}

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
	for (size_t i = 0; i < HTTP_MAX_PAGES; i++) {
		if (s->opts.pages[i].path && strcmp(url, s->opts.pages[i].path) == 0) {
			return (enum route)(ROUTE_PAGE + i);
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
		return reply_text(s, c, MHD_HTTP_NOT_FOUND, "404 page not found\n", NULL);
	}
	if (route == ROUTE_RELOAD) {
		if (!post) {
			return reply_text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                  "405 method not allowed\n", "POST");
		}
		return serve_reload(s, c);
	}
	if (!get) {
		return reply_text(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
		                  "GET, HEAD");
	}
	switch (route) {
	case ROUTE_METRICS:
		return serve_metrics(s, c);
	case ROUTE_LANDING:
		return serve_landing(s, c);
	case ROUTE_HEALTHY:
		return reply_text(s, c, MHD_HTTP_OK, "Healthy.\n", NULL);
	case ROUTE_READY:
		return reply_text(s, c, MHD_HTTP_OK, "Ready.\n", NULL);
	default:
		return serve_page(s, c, &s->opts.pages[route - ROUTE_PAGE]);
	}
}

/* ---- query arguments ------------------------------------------------------
 *
 * libmicrohttpd (0.9.75) stores every query argument of the request line in
 * the connection's memory pool; when the pool runs out (about 800 arguments
 * in HTTP_CONNECTION_MEMORY) it queues a 431 but then carries on as if the
 * line had been parsed, and the connection hangs until the timeout with no
 * answer.  No route reads a query, so the URI callback, which runs after
 * MHD found the '?' and before it parses what follows, counts the
 * arguments and, over HTTP_MAX_QUERY_ARGS, ends the query right after the
 * '?' (MHD then parses none) and marks the request, which is answered 414
 * on the handler's next call.  The buffer written is MHD's own read buffer
 * of this request line (the const is its API's, not the memory's).
 * Rejected: a larger pool (moves the limit, the request line can hold more
 * arguments than any pool allows); ignoring such requests silently (a
 * client should learn why).
 */
static int uri_plain, uri_cut, seen_marker, seen_cut;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	char *q = strchr(uri, '?');
	size_t args = 1;

	(void)cls;
	(void)c;
	if (!q) {
		return &uri_plain;
	}
	for (const char *p = q + 1; *p; p++) {
		args += *p == '&';
	}
	if (args <= HTTP_MAX_QUERY_ARGS) {
		return &uri_plain;
	}
	q[1] = '\0';
	return &uri_cut;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	enum MHD_Result ret;
	bool ok = true;

	/* First call: the request head only; never answer here.  libmicrohttpd
	 * (0.9.75) closes the connection after a response queued on the first
	 * call, since the request body (if any) was not read: no keep-alive.
	 * So every method waits for a later call; request bodies are read and
	 * discarded, and the answer comes on the call with no more data.  The
	 * request deadline stays armed until then, so a body trickled byte by
	 * byte is cut off like a slow request head. */
	if (!*con_cls || *con_cls == &uri_plain || *con_cls == &uri_cut) {
		*con_cls = *con_cls == &uri_cut ? &seen_cut : &seen_marker;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	mark_waiting(s, c, false);
	if (*con_cls == &seen_cut) {
		char msg[80];
		(void)snprintf(msg, sizeof(msg), "414 too many query arguments (at most %u)\n",
		               (unsigned)HTTP_MAX_QUERY_ARGS);
		return reply_text(s, c, MHD_HTTP_URI_TOO_LONG, msg, NULL);
	}
	if (s->auth && s->web->tls) {
		const union MHD_ConnectionInfo *ci =
		    s->mhd->get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (webauth_check_client_cert(s->auth, ci ? ci->tls_session : NULL) < 0) {
			log_debug("client certificate rejected");
			return MHD_NO; /* closes the connection */
		}
	}
	if (webauth_has_users(s->auth)) {
		ret = check_auth(s, c, &ok);
		if (!ok) {
			return ret;
		}
	}
	return dispatch(s, c, url, method);
}

/* The sockaddr for a parsed listen address.  A v4-mapped IPv6 address
 * ("[::ffff:127.0.0.1]") can only be bound with IPV6_V6ONLY off, so it asks
 * for a dual-stack socket. */
static void make_sockaddr(const struct config_listen *l, struct sockaddr_storage *ss,
                          unsigned *ret_flags)
{
	memset(ss, 0, sizeof(*ss));
	if (l->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(l->port);
		memcpy(&in->sin_addr, l->addr, sizeof(in->sin_addr));
		*ret_flags = 0;
		return;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(l->port);
	memcpy(&in6->sin6_addr, l->addr, sizeof(in6->sin6_addr));
	*ret_flags = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
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
	/* exporter-toolkit keys we accept for compatibility but cannot honour. */
	for (size_t i = 0; i < s->web->n_ignored; i++) {
		log_warn("web config key ignored (not supported by this exporter)", "file", path,
		         "key", s->web->ignored[i]);
	}
	return 0;
}

/* MHD options common to plain and TLS serving; returns the count. */
static size_t mhd_options(const struct http_server *s, int listen_fd, struct MHD_OptionItem *opt)
{
	size_t n = 0;
	unsigned timeout = s->opts.connection_timeout ? s->opts.connection_timeout : 10;

	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL};
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
	                                   (intptr_t)s->max_connections, NULL};
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
	opt[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL};
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

/*
 * The listening socket is made here, not by libmicrohttpd: MHD_start_daemon
 * says only that it failed, and the exporter used to report every failure
 * as "address already in use".  Each step's errno is the reason given
 * (EADDRINUSE, EACCES for a privileged port, EADDRNOTAVAIL, EMFILE...).
 * MHD's defaults are kept: SO_REUSEADDR, IPV6_V6ONLY except for a
 * v4-mapped (dual-stack) address, a SOMAXCONN backlog.
 */
static int listen_on(const struct sockaddr_storage *ss, unsigned family_flags, int *ret_fd)
{
	socklen_t len =
	    ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int one = 1, v6only = (family_flags & MHD_USE_DUAL_STACK) != MHD_USE_DUAL_STACK;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		return -errno;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* The port fd is bound to (the kernel's choice for port 0). */
static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		return 0;
	}
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int http_server_start(const struct http_options *o, struct http_server **ret_server)
{
	char err[512];
	struct config_listen listen;
	struct sockaddr_storage ss;
	unsigned family_flags;
	struct http_server *s;
	struct MHD_OptionItem opt[16];
	int listen_fd = -1;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY;
	int r;

	if (config_parse_listen_address(o->listen_address, &listen, err, sizeof(err)) < 0) {
		log_error("bad listen address", "error", err);
		return -EINVAL;
	}
	make_sockaddr(&listen, &ss, &family_flags);
	s = calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	if (pthread_mutex_init(&s->conn_lock, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->request_deadline_ms = 1000u * (o->connection_timeout ? o->connection_timeout : 10);
	s->max_connections = o->max_connections && o->max_connections < HTTP_MAX_CONNECTIONS
	                         ? o->max_connections
	                         : HTTP_MAX_CONNECTIONS;
	s->per_address = s->max_connections / 16 > 2 ? s->max_connections / 16 : 2;
	s->reserve = s->max_connections / 8 > 1 ? s->max_connections / 8 : 1;
	s->opts = *o;
	s->give_back = pagebuf_huge_pages();
	s->opts.web_config_file = NULL; /* borrowed pointers are not kept */
	r = mhdlib_load(&s->mhd, err, sizeof(err));
	if (r < 0) {
		log_error("cannot serve HTTP", "error", err);
		http_server_stop(s);
		return r;
	}
	s->telemetry_path = strdup(o->telemetry_path);
	if (!s->telemetry_path) {
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
	r = listen_on(&ss, family_flags, &listen_fd);
	if (r < 0) {
		http_server_stop(s);
		return r;
	}
	s->port = bound_port(listen_fd);
	(void)mhd_options(s, listen_fd, opt);
	flags |= s->web && s->web->tls ? MHD_USE_TLS : 0;
	errno = 0;
	s->daemon = s->mhd->start_daemon(flags, listen.port, admit, s, handler, s, MHD_OPTION_ARRAY,
	                                 opt, MHD_OPTION_END);
	if (!s->daemon) {
		/* Threads, epoll or wake-up pipes: errno is the last failure's
		 * (EMFILE, EAGAIN...).  listen_fd is not closed here: MHD 0.9.75
		 * closes it on most of its failure paths (a double close could hit
		 * a reused number), and the caller exits. */
		r = errno ? -errno : -EIO;
		http_server_stop(s);
		return r;
	}
	if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
		http_server_stop(s);
		return -ENOMEM;
	}
	s->sweeper_started = true;
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
	if (s->sweeper_started) {
		atomic_store(&s->stopping, true);
		(void)pthread_join(s->sweeper, NULL);
	}
	if (s->daemon) {
		s->mhd->stop_daemon(s->daemon);
	}
	/* MHD has released every response: the spare is ours alone */
	struct docbuf *d = atomic_exchange(&s->spare, NULL);
	if (d != NULL) {
		pagebuf_destroy(d->pages);
		free(d);
	}
	pthread_mutex_destroy(&s->conn_lock);
	webauth_destroy(s->auth);
	webconfig_destroy(s->web);
	free(s->telemetry_path);
	free(s);
}
