/*
 * daemon.c - the process's main loops.
 *
 * Threads: the main thread is the ingest loop (polls every source, sleeps
 * briefly when nothing was new) and handles signals through flags;
 * libmicrohttpd runs its own polling thread for scrapes.  The registry is
 * the only shared state (see metrics.h).
 *
 * --once reuses exactly the same source/tail/parse path as follow mode, so
 * the golden tests exercise the production code.
 */
#include "exporter/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/http.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/source.h"
#include "exporter/strbuf.h"

#define POLL_IDLE_MS 100
#define RENDER_CAP (256u * 1024u * 1024u)

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct pipeline {
	struct metrics *metrics;
	struct source *sources[CONFIG_MAX_SOURCES];
	size_t n_sources;
};

static void pipeline_finish(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_sources; i++) {
		source_destroy(p->sources[i]);
	}
	metrics_destroy(p->metrics);
	memset(p, 0, sizeof(*p));
}

static int pipeline_init(struct pipeline *p, const struct config *c, bool from_start)
{
	struct metrics_options mo = {
		.request_buckets = c->request_buckets,
		.n_request_buckets = c->n_request_buckets,
		.upstream_buckets = c->upstream_buckets,
		.n_upstream_buckets = c->n_upstream_buckets,
		.no_class_label = c->no_class_label,
		.no_reason_label = c->no_reason_label,
		.series_limit = c->series_limit,
	};
	char err[512];

	memset(p, 0, sizeof(*p));
	p->metrics = metrics_create(&mo);
	if (!p->metrics) {
		log_error("cannot create the metrics registry");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_sources; i++) {
		err[0] = '\0';
		int r = source_create(&c->sources[i], p->metrics, from_start, &p->sources[i], err,
				      sizeof(err));
		if (r < 0) {
			log_error("cannot set up source", "error", err[0] ? err : strerror(-r));
			pipeline_finish(p);
			return r;
		}
		p->n_sources++;
	}
	return 0;
}

int daemon_run_once(const struct config *c, FILE *out)
{
	struct pipeline p;
	struct strbuf b;
	int r, rc = 0;

	r = pipeline_init(&p, c, true);
	if (r < 0) {
		return r == -EINVAL ? 2 : 1;
	}
	for (size_t i = 0; i < p.n_sources; i++) {
		(void)source_poll(p.sources[i], true);
	}
	strbuf_init(&b, RENDER_CAP);
	if (metrics_render(p.metrics, EXPO_TEXT, &b) < 0 ||
	    fwrite(b.data, 1, b.len, out) != b.len || fflush(out) != 0) {
		log_error("cannot write the metrics");
		rc = 1;
	}
	strbuf_finish(&b);
	pipeline_finish(&p);
	return rc;
}

static char *sources_text(const struct config *c)
{
	struct strbuf b;

	strbuf_init(&b, 1024 * 1024);
	for (size_t i = 0; i < c->n_sources; i++) {
		const struct config_source *s = &c->sources[i];
		(void)strbuf_printf(&b, "%s (%s):", s->name, s->format ? s->format : "json");
		for (size_t k = 0; k < s->n_paths; k++) {
			(void)strbuf_printf(&b, " %s", s->paths[k]);
		}
		(void)strbuf_putc(&b, '\n');
	}
	char *t = strbuf_steal(&b, NULL);
	strbuf_finish(&b);
	return t;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	(void)nanosleep(&ts, NULL);
}

int daemon_run(const struct config *c)
{
	struct pipeline p;
	struct http_server *http = NULL;
	struct sigaction sa;
	char *text;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	r = pipeline_init(&p, c, false);
	if (r < 0) {
		return r == -EINVAL ? 2 : 1;
	}
	/* Position every file (at EOF) before serving, so the first scrape is meaningful. */
	for (size_t i = 0; i < p.n_sources; i++) {
		(void)source_poll(p.sources[i], false);
	}
	text = sources_text(c);
	struct http_options ho = {
		.listen_address = c->listen_address,
		.telemetry_path = c->telemetry_path,
		.metrics = p.metrics,
		.sources_text = text,
	};
	r = http_server_start(&ho, &http);
	if (r < 0) {
		log_error("cannot listen", "address", c->listen_address, "error", strerror(-r));
		free(text);
		pipeline_finish(&p);
		return 1;
	}
	char port[8];
	(void)snprintf(port, sizeof(port), "%u", (unsigned)http_server_port(http));
	log_info("listening", "address", c->listen_address, "port", port, "path",
		 c->telemetry_path);
	while (!stop_requested) {
		int64_t got = 0;
		for (size_t i = 0; i < p.n_sources; i++) {
			got += source_poll(p.sources[i], false);
		}
		if (!got) {
			sleep_ms(POLL_IDLE_MS);
		}
	}
	log_info("shutting down");
	http_server_stop(http);
	free(text);
	pipeline_finish(&p);
	return 0;
}
