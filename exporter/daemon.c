/*
 * daemon.c - the process's main loops.
 *
 * Threads: the main thread is the ingest loop (polls every source, sleeps
 * briefly when nothing was new) and handles signals through flags;
 * libmicrohttpd runs its own polling thread for scrapes.  The registry is
 * the only shared state (see metrics.h).
 *
 * --once reuses exactly the same source/tail/parse path as follow mode, so
 * the golden tests exercise the production code.  It prints the metrics of
 * whatever it could read and exits 1 when a named file was missing or
 * unreadable or files were left out by the per-source cap (source_report).
 */
#include "exporter/daemon.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "exporter/clock.h"
#include "exporter/http/http.h"
#include "exporter/input/fdlimit.h"
#include "exporter/input/fdstore.h"
#include "exporter/log.h"
#include "exporter/metrics/metrics.h"
#include "exporter/parsepool.h"
#include "exporter/parsefail.h"
#include "exporter/source.h"
#include "exporter/state.h"
#include "exporter/http/snapshot.h"
#include "exporter/strbuf.h"

#define POLL_IDLE_MS 100
#define RENDER_CAP (256u * 1024u * 1024u)
#define ONCE_CHUNK (64u * 1024u)
#define CHECKPOINT_INTERVAL_MS 5000u
#define CHECKPOINT_LOG_EVERY_MS 60000u

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct pipeline {
	struct metrics *metrics;
	struct parsefail_board *board; /* the debug page's view of the sources */
	struct source *sources[CONFIG_MAX_SOURCES];
	size_t n_sources;
	struct fdstore *fdstore; /* borrowed: where the sources keep their files */
};

static void pipeline_finish(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_sources; i++) {
		source_destroy(p->sources[i]);
	}
	parsefail_board_destroy(p->board);
	metrics_destroy(p->metrics);
	memset(p, 0, sizeof(*p));
}

struct metrics_options daemon_metrics_options(const struct config *c)
{
	return (struct metrics_options){
	    .request_buckets = c->request_buckets,
	    .n_request_buckets = c->n_request_buckets,
	    .upstream_buckets = c->upstream_buckets,
	    .n_upstream_buckets = c->n_upstream_buckets,
	    .request_size_buckets = c->opt_buckets[CONFIG_HIST_REQUEST_SIZE],
	    .n_request_size_buckets = c->n_opt_buckets[CONFIG_HIST_REQUEST_SIZE],
	    .response_size_buckets = c->opt_buckets[CONFIG_HIST_RESPONSE_SIZE],
	    .n_response_size_buckets = c->n_opt_buckets[CONFIG_HIST_RESPONSE_SIZE],
	    .upstream_connect_buckets = c->opt_buckets[CONFIG_HIST_UPSTREAM_CONNECT],
	    .n_upstream_connect_buckets = c->n_opt_buckets[CONFIG_HIST_UPSTREAM_CONNECT],
	    .upstream_header_buckets = c->opt_buckets[CONFIG_HIST_UPSTREAM_HEADER],
	    .n_upstream_header_buckets = c->n_opt_buckets[CONFIG_HIST_UPSTREAM_HEADER],
	    .no_class_label = c->no_class_label,
	    .no_reason_label = c->no_reason_label,
	    .series_limit = c->series_limit,
	    .no_histograms = c->no_histograms,
	    /* --once and --backfill print what they read: there is no next
	     * scrape to hold for. */
	    .new_series_hold_ms = c->once || c->backfill ? 0 : c->new_series_hold_ms,
	    .created_timestamps = c->created_timestamps,
	    .no_exemplars = c->no_exemplars,
	    .native_histograms = c->native_histograms,
	    .native_schema = c->native_schema,
	    .native_max_buckets = c->native_max_buckets,
	    .native_zero_threshold = c->native_zero_threshold,
	};
}

static int pipeline_init(struct pipeline *p, const struct config *c, bool from_start,
                         struct fdstore *store)
{
	struct metrics_options mo = daemon_metrics_options(c);
	char err[512];

	memset(p, 0, sizeof(*p));
	p->fdstore = store;
	p->metrics = metrics_create(&mo);
	p->board = parsefail_board_create();
	if (!p->metrics || !p->board) {
		log_error("cannot create the metrics registry");
		pipeline_finish(p);
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
		source_set_fdstore(p->sources[i], store);
		source_attach_debug(p->sources[i], p->board);
	}
	return 0;
}

/* --once's render goes to its output as it is made (strbuf_init_sink). */
static int write_out(void *ctx, const char *data, size_t len)
{
	return fwrite(data, 1, len, ctx) == len ? 0 : -EIO;
}

int daemon_run_once(const struct config *c, FILE *out)
{
	struct pipeline p;
	struct strbuf b;
	size_t incomplete = 0, none_parsed = 0;
	int r, rc = 0;

	r = pipeline_init(&p, c, true, NULL);
	if (r < 0) {
		return r == -EINVAL ? 2 : 1;
	}
	struct metrics_options mo = daemon_metrics_options(c);
	for (size_t i = 0; i < p.n_sources; i++) {
		unsigned threads = c->threads ? c->threads : parsepool_default_threads();
		r = source_set_threads(p.sources[i], &c->sources[i], &mo, threads);
		if (r < 0) {
			log_warn("cannot start parser threads; parsing on one", "source",
			         source_name(p.sources[i]), "error", strerror(-r));
		}
	}
	/* A poll reads a bounded number of bytes: repeat until every file is at EOF. */
	for (size_t i = 0; i < p.n_sources; i++) {
		while (source_poll(p.sources[i], true) > 0) {
		}
	}
	/* Print what was read, then fail if something named was not (scripts
	 * see both the counts and the exit status). */
	/* Streamed in pieces of ONCE_CHUNK: 100,000 field-label series render
	 * 15 MB, which built whole took 3,700 page faults (on this kind of VM
	 * about as much CPU as counting 300,000 lines); a chunk stays in cache. */
	strbuf_init_sink(&b, ONCE_CHUNK, RENDER_CAP, write_out, out);
	if (metrics_render(p.metrics, EXPO_TEXT, &b) < 0 || strbuf_flush(&b) < 0 ||
	    fflush(out) != 0) {
		log_error("cannot write the metrics");
		rc = 1;
	}
	strbuf_finish(&b);
	for (size_t i = 0; i < p.n_sources; i++) {
		incomplete += source_report(p.sources[i]);
		none_parsed += (size_t)source_parse_report(p.sources[i]);
	}
	if (incomplete) {
		log_error("--once: some files were not read completely; the metrics above miss "
		          "their lines (exit status 1)");
		rc = 1;
	} else if (none_parsed && rc == 0) {
		rc = DAEMON_EXIT_NONE_PARSED;
	}
	pipeline_finish(&p);
	return rc;
}

/* ---- checkpoints -----------------------------------------------------------
 *
 * Taken on the ingest thread between two poll rounds, so the offsets and
 * the counters in the file are one consistent snapshot: after a crash,
 * counters restart from the snapshot and reading resumes at its offsets,
 * and every line after it is counted exactly once more.
 */
struct checkpointer {
	const char *path;     /* NULL: checkpoints off */
	uint64_t interval_ms; /* between timed checkpoints */
	uint64_t next_ms;
	uint64_t next_log_ms;
};

static int checkpoint_write(struct pipeline *p, struct checkpointer *ck)
{
	struct strbuf b;
	int r;

	uint64_t start = clock_mono_ms();

	strbuf_init(&b, STATE_MAX_BYTES);
	state_begin(&b);
	for (size_t i = 0; i < p->n_sources; i++) {
		(void)source_checkpoint(p->sources[i], &b);
	}
	size_t len;
	r = state_finish(&b);
	len = b.len;
	if (r == 0) {
		r = state_write_atomic(ck->path, b.data, b.len);
	}
	strbuf_finish(&b);
	if (r < 0) {
		uint64_t now = clock_mono_ms();
		if (now >= ck->next_log_ms) {
			ck->next_log_ms = now + CHECKPOINT_LOG_EVERY_MS;
			log_error("cannot write the state file (retrying)", "path", ck->path,
			          "error", strerror(-r));
		}
		return r;
	}
	metrics_set_checkpoint_time(p->metrics, clock_unix_seconds());
	char bytes[24], ms[24];
	(void)snprintf(bytes, sizeof(bytes), "%zu", len);
	(void)snprintf(ms, sizeof(ms), "%llu", (unsigned long long)(clock_mono_ms() - start));
	log_debug("checkpoint written", "path", ck->path, "bytes", bytes, "ms", ms);
	return 0;
}

/* Restore every source found in the state file; a missing file is a first
 * start, a corrupt one is reported and ignored (fresh start). */
static void checkpoint_restore(struct pipeline *p, const char *path, uint64_t catchup_max_bytes)
{
	struct state *st = NULL;
	int r = state_load(path, &st);

	if (r == -ENOENT) {
		log_info("no state file yet, starting fresh", "path", path);
		return;
	}
	if (r < 0) {
		char why[256];
		if (r == -ENOMEM || state_explain(path, why, sizeof(why)) < 0) {
			(void)snprintf(why, sizeof(why), "%s", strerror(-r));
		}
		log_warn("ignoring unreadable or corrupt state file, starting fresh", "path", path,
		         "reason", why);
		return;
	}
	for (size_t i = 0; i < p->n_sources; i++) {
		const struct state_source *ss = state_find_source(st, source_name(p->sources[i]));
		if (ss && source_restore(p->sources[i], ss, catchup_max_bytes) < 0) {
			log_warn("ignoring corrupt saved counters of a source", "source",
			         source_name(p->sources[i]), "path", path);
		}
	}
	log_info("resumed from the state file", "path", path);
	state_destroy(st);
}

/* Write a checkpoint when one is due: on the timer, or as soon as a file
 * was rotated or truncated, so a crash right after a rotation resumes
 * with both files in the checkpoint. */
static void checkpoint_tick(struct pipeline *p, struct checkpointer *ck)
{
	uint64_t now;
	bool rotated = false;

	if (!ck->path) {
		return;
	}
	for (size_t i = 0; i < p->n_sources; i++) {
		rotated = source_checkpoint_due(p->sources[i]) || rotated;
	}
	now = clock_mono_ms();
	if (now >= ck->next_ms || rotated) {
		(void)checkpoint_write(p, ck);
		ck->next_ms = now + ck->interval_ms;
	}
}

/* ---- landing page status ---------------------------------------------------
 *
 * The ingest thread owns the files; the landing page gets a snapshot of
 * them (snapshot.h) published about once a second and right after a reload,
 * so the page is at most a second behind and a page view costs the ingest
 * loop nothing.  A snapshot that cannot be built (out of memory) is
 * dropped; the previous one stays.
 */
#define STATUS_INTERVAL_MS 1000u

struct status_pub {
	struct snapshot_board *board;
	uint64_t next_ms;
};

static void status_publish(struct status_pub *sp, const struct pipeline *p)
{
	uint64_t now_ms = clock_mono_ms();
	double now = clock_unix_seconds();
	struct snapshot *snap = snapshot_create(now);
	int r = snap ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < p->n_sources; i++) {
		r = source_snapshot(p->sources[i], snap, now_ms, now);
	}
	if (r < 0) {
		snapshot_destroy(snap);
		return;
	}
	snapshot_board_publish(sp->board, snap);
	sp->next_ms = now_ms + STATUS_INTERVAL_MS;
}

static void status_tick(struct status_pub *sp, const struct pipeline *p)
{
	if (clock_mono_ms() >= sp->next_ms) {
		status_publish(sp, p);
	}
}

/* http_page render of the debug page (HTTP thread; the board locks). */
/* The HTTP front end's view of the registry (struct http_renderer). */
static int render_metrics(void *userdata, enum expo_format f, struct strbuf *out)
{
	return metrics_render(userdata, f, out);
}

static int render_debug_page(void *userdata, struct strbuf *out)
{
	return parsefail_board_render(userdata, out);
}

static void sleep_us(unsigned long us)
{
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000),
	                      .tv_nsec = (long)(us % 1000000) * 1000L};
	(void)nanosleep(&ts, NULL);
}

/* The idle wait of the ingest loop: until a watched log directory changes
 * (inotify, see fileset.c), standard input or a syslog socket has data, or
 * ms pass.  After a wake-up, a short pause gathers a burst into one poll:
 * 10 ms for files, 0.2 ms for a syslog socket (so that recvmmsg returns
 * full batches at high rates instead of paying a system call and a
 * wake-up per datagram or two: measured in bench/run-syslog), none for
 * standard input (its writer blocks on a full pipe); the shortest pause of
 * the descriptors that woke us wins.  Polling stays the correctness path;
 * this only lowers the latency from 100 ms to about 10. */
static void idle_wait(const struct pipeline *p, long ms)
{
	struct pollfd fds[CONFIG_MAX_SOURCES];
	unsigned gather_us[CONFIG_MAX_SOURCES];
	unsigned pause = UINT_MAX;
	nfds_t n = 0;

	for (size_t i = 0; i < p->n_sources && n < CONFIG_MAX_SOURCES; i++) {
		int fd = source_wait_fd(p->sources[i]);
		if (fd >= 0) {
			gather_us[n] = source_wait_gather_us(p->sources[i]);
			fds[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
	}
	if (n == 0) {
		sleep_us((unsigned long)ms * 1000u);
		return;
	}
	if (poll(fds, n, (int)ms) <= 0) {
		return;
	}
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].revents && gather_us[i] < pause) {
			pause = gather_us[i];
		}
	}
	if (pause > 0 && pause != UINT_MAX) {
		sleep_us(pause);
	}
}

/* ---- configuration reload --------------------------------------------------
 *
 * SIGHUP sets a flag; POST /-/reload (HTTP thread) bumps a request
 * generation and waits, bounded, on a condition variable for the main loop
 * to publish the result of that generation.  The main loop does the whole
 * reload between two poll rounds, all or nothing:
 * 1. the loader reads and validates the new config (formats compiled);
 * 2. source_set_replace builds every new or changed source in a scratch
 *    registry (the registry's own checks: label names, field-label
 *    patterns) and only then swaps them in, undoing the swap if the swap
 *    itself fails (design at the top of source.c);
 * 3. only when both succeeded does the new config become the running one.
 * On any failure the old sources keep running with their counters, the old
 * config stays, and accesslog_config_last_reload_successful is 0.  On
 * success sources whose name, format, paths and labels are unchanged are
 * kept as they are (counters, open files, offsets); a changed one (same
 * name) gets new counters but continues from the old one's file positions
 * (source_start_from), so lines written around the reload are counted
 * exactly once; new ones start at the end of their files.  Listen address,
 * telemetry path, web config, state file and the metrics section need a
 * restart (a warning says so).
 */
#define RELOAD_WAIT_S 10

static volatile sig_atomic_t reload_signalled;

static void on_reload_signal(int sig)
{
	(void)sig;
	reload_signalled = 1;
}

struct reloader {
	const struct daemon_loader *loader;
	struct metrics_options mo;    /* the registry's (from the start-up config) */
	const struct config *running; /* what the pipeline was built from */
	/* cfg_of[k]: the config of p->sources[k] (in running); set up at the
	 * first reload, when the pipeline still mirrors the start-up config. */
	const struct config_source *cfg_of[CONFIG_MAX_SOURCES];
	bool mapped;
	struct config *owned; /* running, when a reload created it */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool http_pending;
	uint64_t requested; /* generation asked for by HTTP (under lock) */
	uint64_t done;      /* generation finished (under lock) */
	bool closed;        /* shutting down: no more reloads (under lock) */
	int result;
	char err[1024];
};

static bool same_opt(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void reload_warn_restart(const struct config *o, const struct config *n)
{
	bool buckets = o->n_request_buckets != n->n_request_buckets ||
	               o->n_upstream_buckets != n->n_upstream_buckets ||
	               memcmp(o->request_buckets, n->request_buckets,
	                      o->n_request_buckets * sizeof(double)) != 0 ||
	               memcmp(o->upstream_buckets, n->upstream_buckets,
	                      o->n_upstream_buckets * sizeof(double)) != 0 ||
	               memcmp(o->n_opt_buckets, n->n_opt_buckets, sizeof(o->n_opt_buckets)) != 0 ||
	               memcmp(o->opt_buckets, n->opt_buckets, sizeof(o->opt_buckets)) != 0;
	const struct {
		bool changed;
		const char *what;
	} checks[] = {
	    {!same_opt(o->listen_address, n->listen_address), "listen_address"},
	    {!same_opt(o->telemetry_path, n->telemetry_path), "telemetry_path"},
	    {!same_opt(o->web_config_file, n->web_config_file), "web_config_file"},
	    {!same_opt(o->state_file, n->state_file), "state_file"},
	    {!same_opt(o->log_level, n->log_level) || !same_opt(o->log_format, n->log_format),
	     "log_level/log_format"},
	    {buckets || o->no_class_label != n->no_class_label ||
	         o->no_reason_label != n->no_reason_label || o->series_limit != n->series_limit ||
	         o->no_histograms != n->no_histograms ||
	         o->new_series_hold_ms != n->new_series_hold_ms ||
	         o->created_timestamps != n->created_timestamps ||
	         o->native_histograms != n->native_histograms ||
	         o->no_exemplars != n->no_exemplars || o->native_schema != n->native_schema ||
	         o->native_max_buckets != n->native_max_buckets ||
	         o->native_zero_threshold != n->native_zero_threshold,
	     "metrics"},
	};

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].changed) {
			log_warn("setting changed; it takes effect after a restart", "setting",
			         checks[i].what);
		}
	}
}

/* Swap the pipeline's sources to those of n, all or nothing: 0, or -errno
 * with err filled and the pipeline unchanged. */
static int reload_swap_sources(struct reloader *rl, struct pipeline *p, const struct config *n,
                               char *err, size_t err_size)
{
	struct source_set set = {.n = p->n_sources, .fdstore = p->fdstore};
	int r;

	if (!rl->mapped) {
		/* The pipeline still mirrors the start-up config. */
		for (size_t k = 0; k < p->n_sources; k++) {
			rl->cfg_of[k] = &rl->running->sources[k];
		}
		rl->mapped = true;
	}
	memcpy(set.sources, p->sources, p->n_sources * sizeof(set.sources[0]));
	memcpy(set.cfg, rl->cfg_of, p->n_sources * sizeof(set.cfg[0]));
	r = source_set_replace(&set, p->metrics, &rl->mo, n->sources, n->n_sources, err, err_size);
	/* On failure set is unchanged but for a source lost while undoing. */
	memcpy(p->sources, set.sources, set.n * sizeof(set.sources[0]));
	memcpy(rl->cfg_of, set.cfg, set.n * sizeof(set.cfg[0]));
	p->n_sources = set.n;
	return r;
}

/* One reload attempt on the main thread: 0, or -errno with err filled. */
static int reload_run(struct reloader *rl, struct pipeline *p, struct status_pub *sp, char *err,
                      size_t err_size)
{
	struct config *n = NULL;
	int r;

	err[0] = '\0';
	if (!rl->loader || !rl->loader->load) {
		(void)snprintf(err, err_size, "no reloadable configuration");
		return -ENOTSUP;
	}
	log_debug("reload: reading the configuration");
	r = rl->loader->load(rl->loader->userdata, &n, err, err_size);
	if (r < 0) {
		metrics_set_reload_result(p->metrics, false, 0);
		log_error("reload failed; keeping the running configuration", "error",
		          err[0] ? err : strerror(-r));
		return r;
	}
	log_debug("reload: new configuration loaded and validated", "sources",
	          n->config_file ? n->config_file : "flags");
	r = reload_swap_sources(rl, p, n, err, err_size);
	for (size_t i = 0; i < p->n_sources; i++) {
		source_attach_debug(p->sources[i], p->board);
	}
	if (r < 0) {
		config_destroy(n);
		metrics_set_reload_result(p->metrics, false, 0);
		log_error("reload failed; keeping the running configuration", "error",
		          err[0] ? err : strerror(-r));
		return r;
	}
	log_debug("reload: sources swapped", "sources", n->config_file ? n->config_file : "flags");
	reload_warn_restart(rl->running, n);
	config_destroy(rl->owned);
	rl->owned = n;
	rl->running = n;
	status_publish(sp, p);
	metrics_set_reload_result(p->metrics, true, clock_unix_seconds());
	log_info("configuration reloaded", "sources", n->config_file ? n->config_file : "flags");
	return 0;
}

/* Called by the main loop every round. */
static void reload_tick(struct reloader *rl, struct pipeline *p, struct status_pub *sp)
{
	uint64_t gen;
	char err[1024];
	int r;

	if (!reload_signalled && !atomic_load(&rl->http_pending)) {
		return;
	}
	reload_signalled = 0;
	atomic_store(&rl->http_pending, false);
	pthread_mutex_lock(&rl->lock);
	gen = rl->requested;
	pthread_mutex_unlock(&rl->lock);
	r = reload_run(rl, p, sp, err, sizeof(err));
	pthread_mutex_lock(&rl->lock);
	rl->done = gen;
	rl->result = r;
	(void)snprintf(rl->err, sizeof(rl->err), "%s", err);
	pthread_cond_broadcast(&rl->cond);
	pthread_mutex_unlock(&rl->lock);
}

/* http_reloader callback (HTTP thread): ask and wait for the result. */
static int reload_from_http(void *userdata, char *err, size_t err_size)
{
	struct reloader *rl = userdata;
	struct timespec deadline;
	uint64_t gen;
	int r = 0;

	(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += RELOAD_WAIT_S;
	pthread_mutex_lock(&rl->lock);
	if (rl->closed) {
		pthread_mutex_unlock(&rl->lock);
		(void)snprintf(err, err_size, "shutting down");
		return -ECANCELED;
	}
	gen = ++rl->requested;
	atomic_store(&rl->http_pending, true);
	while (rl->done < gen && r == 0) {
		r = pthread_cond_timedwait(&rl->cond, &rl->lock, &deadline);
	}
	if (rl->done >= gen) {
		r = rl->result;
		(void)snprintf(err, err_size, "%s", rl->err);
	} else {
		r = -ETIMEDOUT;
		(void)snprintf(err, err_size, "no answer from the ingest loop within %d s",
		               RELOAD_WAIT_S);
	}
	pthread_mutex_unlock(&rl->lock);
	return r;
}

static int reloader_init(struct reloader *rl, const struct config *c,
                         const struct daemon_loader *loader)
{
	pthread_condattr_t ca;

	memset(rl, 0, sizeof(*rl));
	rl->loader = loader;
	rl->mo = daemon_metrics_options(c);
	rl->running = c;
	if (pthread_condattr_init(&ca) != 0) {
		return -ENOMEM;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&rl->lock, NULL) != 0) {
		pthread_condattr_destroy(&ca);
		return -ENOMEM;
	}
	if (pthread_cond_init(&rl->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&rl->lock);
		return -ENOMEM;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

/* Shutting down: answer any HTTP reload still waiting, so stopping the
 * HTTP server does not wait for its timeout. */
static void reload_cancel(struct reloader *rl)
{
	pthread_mutex_lock(&rl->lock);
	rl->closed = true;
	if (rl->done < rl->requested) {
		rl->done = rl->requested;
		rl->result = -ECANCELED;
		(void)snprintf(rl->err, sizeof(rl->err), "shutting down");
		pthread_cond_broadcast(&rl->cond);
	}
	pthread_mutex_unlock(&rl->lock);
}

static void reloader_finish(struct reloader *rl)
{
	pthread_cond_destroy(&rl->cond);
	pthread_mutex_destroy(&rl->lock);
	config_destroy(rl->owned);
}

/* Raise the soft descriptor limit to the hard one and plan it (fdlimit.h):
 * log files never take the reserve the server and the state file need. */
static void raise_fd_limit(struct fdlimit_plan *ret_plan)
{
	uint64_t before = 0, after = 0;
	char b[24], a[24], files[24], conns[24];
	int r = fdlimit_raise(&before, &after);

	fdlimit_plan_now(ret_plan);
	(void)snprintf(b, sizeof(b), "%llu", (unsigned long long)before);
	(void)snprintf(a, sizeof(a), "%llu", (unsigned long long)ret_plan->limit);
	(void)snprintf(files, sizeof(files), "%llu", (unsigned long long)ret_plan->files_ceiling);
	(void)snprintf(conns, sizeof(conns), "%u", ret_plan->http_connections);
	if (r < 0) {
		log_warn("cannot raise the file descriptor limit", "limit", b, "error",
		         strerror(-r));
	}
	log_debug("file descriptors", "limit_before", b, "limit", a, "log_files_below", files,
	          "http_connections", conns);
	if (ret_plan->http_connections < HTTP_MAX_CONNECTIONS) {
		log_warn("low file descriptor limit: fewer HTTP connections and log files", "limit",
		         a, "http_connections", conns, "log_files_below", files);
	}
}

/* Where open log files are kept across a crash (fdstore.h): NULL when
 * nowhere (logged). */
static struct fdstore *open_fdstore(const struct config *c, const struct fdlimit_plan *fdp)
{
	struct fdstore_options o = {
	    .mode = c->fd_store,
	    .state_path = c->state_file,
	    .max_fds = (size_t)fdp->files_ceiling,
	    .linger_ms = c->fd_keeper_linger_ms,
	};
	struct fdstore *store = NULL;
	char err[512], n[24];
	int r = fdstore_open(&o, &store, err, sizeof(err));

	if (r < 0) {
		log_warn("cannot keep log file descriptors across a crash; deleted files the "
		         "writer closes while the exporter is down will lose their last lines",
		         "error", err[0] ? err : strerror(-r));
		return NULL;
	}
	if (!store) {
		log_debug("log file descriptors are not kept across a crash", "fd_store",
		          c->fd_store == CONFIG_FD_STORE_OFF ? "off" : "no state file");
		return NULL;
	}
	(void)snprintf(n, sizeof(n), "%zu", fdstore_returned(store));
	log_info("keeping log file descriptors across a crash", "holder", fdstore_kind(store),
	         "given_back", n);
	return store;
}

int daemon_run(const struct config *c, const struct daemon_loader *loader)
{
	struct reloader rl;
	struct pipeline p;
	struct http_server *http = NULL;
	struct sigaction sa;
	/* A --state.interval flag would set interval_ms (config.h has no field yet). */
	struct checkpointer ck = {.path = c->state_file, .interval_ms = CHECKPOINT_INTERVAL_MS};
	struct status_pub sp = {.board = snapshot_board_create()};
	char why[256];
	struct fdlimit_plan fdp;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload_signal;
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);

	if (!sp.board || reloader_init(&rl, c, loader) < 0) {
		snapshot_board_destroy(sp.board);
		return 1;
	}
	if (geteuid() == 0) {
		log_warn("running as root: the exporter needs only read access to the logs (run it "
		         "as an unprivileged user in the group that owns them, e.g. adm; the "
		         "systemd unit does)");
	}
	raise_fd_limit(&fdp);
	if (ck.path && state_check_path(ck.path, why, sizeof(why)) < 0) {
		/* A FIFO would block the start, and the checkpoint's rename would
		 * replace whatever is there: refuse before anything runs. */
		log_error("cannot use the state file", "path", ck.path, "reason", why);
		reloader_finish(&rl);
		snapshot_board_destroy(sp.board);
		return 2;
	}
	/* Before any thread: the keeper is forked. */
	struct fdstore *store = open_fdstore(c, &fdp);
	r = pipeline_init(&p, c, false, store);
	if (r < 0) {
		fdstore_destroy(store, false);
		reloader_finish(&rl);
		snapshot_board_destroy(sp.board);
		return r == -EINVAL ? 2 : 1;
	}
	metrics_set_reload_result(p.metrics, true, clock_unix_seconds());
	if (ck.path) {
		checkpoint_restore(&p, ck.path, c->catchup_max_bytes);
	}
	/* Position every file (at EOF) before serving, so the first scrape is meaningful. */
	log_info("starting accesslog_exporter", "version", ACCESSLOG_VERSION, "revision",
	         ACCESSLOG_REVISION, "config", c->config_file ? c->config_file : "command line");
	for (size_t i = 0; i < p.n_sources; i++) {
		(void)source_poll(p.sources[i], false);
		source_log_summary(p.sources[i]);
	}
	/* Every source has scanned: kept descriptors nobody took are let go. */
	fdstore_settle(store);
	/* A checkpoint right away: a crash before the first timer still resumes here. */
	checkpoint_tick(&p, &ck);
	status_publish(&sp, &p);
	struct http_options ho = {
	    .listen_address = c->listen_address,
	    .telemetry_path = c->telemetry_path,
	    .metrics = {render_metrics, p.metrics},
	    .status = sp.board,
	    .web_config_file = c->web_config_file,
	    .enable_lifecycle = c->enable_lifecycle,
	    .no_process_metrics = c->disable_exporter_metrics,
	    .connection_timeout = c->connection_timeout,
	    .max_connections = fdp.http_connections,
	    .reloader = {reload_from_http, &rl},
	    .pages = {{DAEMON_DEBUG_PAGE, render_debug_page, p.board}},
	};
	r = http_server_start(&ho, &http);
	if (r < 0) {
		log_error("cannot listen", "address", c->listen_address, "error", strerror(-r));
		pipeline_finish(&p);
		fdstore_destroy(store, false); /* a restart may still want them */
		reloader_finish(&rl);
		snapshot_board_destroy(sp.board);
		return r == -EINVAL ? 2 : 1;
	}
	char port[8];
	(void)snprintf(port, sizeof(port), "%u", (unsigned)http_server_port(http));
	log_info("listening", "address", c->listen_address, "port", port, "path", c->telemetry_path,
	         "debug_page", DAEMON_DEBUG_PAGE);
	while (!stop_requested) {
		int64_t got = 0;
		for (size_t i = 0; i < p.n_sources; i++) {
			got += source_poll(p.sources[i], false);
		}
		checkpoint_tick(&p, &ck);
		fdstore_tick(store);
		reload_tick(&rl, &p, &sp);
		status_tick(&sp, &p);
		if (!got) {
			idle_wait(&p, POLL_IDLE_MS);
		}
	}
	log_info("shutting down");
	if (ck.path) {
		(void)checkpoint_write(&p, &ck);
	}
	reload_cancel(&rl);
	http_server_stop(http);
	pipeline_finish(&p);
	fdstore_destroy(store, true); /* a clean stop: the keeper exits */
	reloader_finish(&rl);
	snapshot_board_destroy(sp.board);
	return 0;
}
