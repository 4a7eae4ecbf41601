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

#include <stdint.h>

#include "exporter/metrics.h"

struct http_options {
	const char *listen_address; /* "host:port", ":port", "[v6]:port" */
	const char *telemetry_path; /* "/metrics" */
	struct metrics *metrics;    /* borrowed; must outlive the server */
	const char *sources_text;   /* one line per source for the landing page (borrowed) */
};

struct http_server;

/* Parse a listen address into host (may be empty) and port.
 * Returns 0 or -EINVAL.  host_size must be >= 64. */
int http_parse_listen_address(const char *addr, char *host, size_t host_size, uint16_t *ret_port);

/* Start serving.  0, -EINVAL (bad address), -EADDRINUSE, -ENOMEM, -EIO. */
int http_server_start(const struct http_options *o, struct http_server **ret_server);

/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);

/* Stop and free; NULL-safe. */
void http_server_stop(struct http_server *s);

#endif
