/*
 * http.h - the HTTP endpoint (libmicrohttpd, its own polling thread).
 *
 * Serves the telemetry path (GET/HEAD), a landing page at "/", and the
 * health endpoints; unknown paths get 404 and wrong methods 405 with an
 * Allow header.  Rendering happens on the HTTP thread against the lock-free
 * registry, so a slow scraper never stalls ingestion.
 */
#ifndef EXPORTER_HTTP_H
#define EXPORTER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/metrics/expo.h"
#include "exporter/http/snapshot.h"
#include "exporter/strbuf.h"

/* POST /-/reload handler: runs on an HTTP thread, may block (bounded);
 * 0 on success, -EINVAL with the message in err for a bad configuration,
 * another -errno (e.g. -ETIMEDOUT) otherwise. */
struct http_reloader {
	int (*reload)(void *userdata, char *err, size_t err_size);
	void *userdata;
};

/* An extra GET/HEAD page (plain text) served behind the same TLS and basic
 * auth as the metrics, e.g. the parse-failure debug page.  render runs on
 * an HTTP thread: it must lock what it reads.  0 or -errno (500). */
struct http_page {
	const char *path;
	int (*render)(void *userdata, struct strbuf *out);
	void *userdata;
};

#define HTTP_MAX_PAGES 4

/* The registry's part of a scrape: appends the families in format f to
 * out (strbuf error semantics).  Runs on an HTTP thread, concurrently with
 * ingestion and other scrapes.  The front end knows nothing else of the
 * registry. */
struct http_renderer {
	int (*render)(void *userdata, enum expo_format f, struct strbuf *out);
	void *userdata; /* borrowed; must outlive the server */
};

struct http_options {
	const char *listen_address;   /* see config_parse_listen_address */
	const char *telemetry_path;   /* "/metrics" */
	struct http_renderer metrics; /* what /metrics serves before process_* */
	struct snapshot_board
	    *status;                 /* landing page's sources and files (borrowed; may be NULL) */
	const char *web_config_file; /* exporter-toolkit web config (TLS, auth) or NULL */
	bool enable_lifecycle;       /* allow POST /-/reload (403 otherwise) */
	bool no_process_metrics;     /* leave out process_* (--web.disable-exporter-metrics) */
	unsigned connection_timeout; /* idle seconds before a connection is closed; 0: 10 */
	unsigned max_connections;    /* 0 or over HTTP_MAX_CONNECTIONS: HTTP_MAX_CONNECTIONS (the
	                              * daemon lowers it to fit the descriptor limit) */
	struct http_reloader reloader;          /* reload == NULL: /-/reload answers 503 */
	struct http_page pages[HTTP_MAX_PAGES]; /* extra pages (path NULL: none) */
};

/* Limits set explicitly on libmicrohttpd (documented in the man page). */
#define HTTP_MAX_CONNECTIONS 256
/* Per client address: max_connections / 16 (16 of 256), at least 2; the last
 * max_connections / 8 connections (32 of 256) only for addresses holding fewer
 * than 2, so a scraper always gets in (see admit() in http.c). */
#define HTTP_CONNECTION_MEMORY (64u * 1024u) /* per connection: request headers + buffers */
#define HTTP_MAX_QUERY_ARGS 64u              /* more: 414 (no route reads the query) */
#define HTTP_THREADS 4                       /* scrapes and a waiting reload run side by side */

struct http_server;

/* Load and check a web config file as http_server_start would (TLS
 * material parsed by GnuTLS): 0, or -EINVAL/-errno with the message in err. */
int http_check_web_config(const char *path, char *err, size_t err_size);

/* Start serving.  0, -EINVAL (bad address or web config: logged), or the
 * reason the socket or the server could not be set up: -EADDRINUSE, -EACCES
 * (a privileged port), -EADDRNOTAVAIL (an address not on this host),
 * -EMFILE (no descriptor left), -EAGAIN (no thread), -ENOMEM, -EIO;
 * -ENOENT or -ELIBBAD (logged) when libmicrohttpd or GnuTLS cannot be
 * loaded: they are dlopened here, not at exec (mhdlib.h). */
int http_server_start(const struct http_options *o, struct http_server **ret_server);

/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);

/* Stop and free; NULL-safe. */
void http_server_stop(struct http_server *s);

#endif
