/*
 * backfill.c - --backfill: old logs to timestamped OpenMetrics (see backfill.h).
 *
 * Steps: log time is cut into steps of step_ms aligned to the Unix epoch;
 * the sample of step s carries the count of every line whose time is
 * before the end of s, at the end of s (clamped to --backfill.until).
 * Lines are read in file order, which is not quite time order (nginx logs
 * a request when it ends), so a ring of per-step registries keeps the last
 * few steps open: a line goes into the registry of its own step; a step
 * closes when a line BACKFILL_WINDOW_MS past it arrives, and is then added
 * into the source's cumulative registry (metrics_source_save/restore: the
 * checkpoint path, exact for every counter) and rendered.  A line older
 * than every open step is counted in the oldest open one (reported).  A
 * line without a readable time is a parse error counted in the newest
 * step.  So the last step equals --once for every counter; histogram _sum
 * values are sums of per-step sums, equal up to float rounding, and never
 * decrease.
 *
 * Output: OpenMetrics wants each family in one piece, and promtool wants
 * each series' samples in time order, so every step's render goes through
 * stepwriter.c, which stamps it and files it by family into unlinked
 * temporary files beside the output; at the end the families are
 * concatenated into OUT.tmp.XXXXXX, synced and renamed over OUT (or
 * copied to standard output).  Any write error (a full disk)
 * removes the temporary file: no half-written output is ever left.  A
 * series gets a 0 sample at the start of the step it first appears in, so
 * increase() over the imported range counts its first lines (rate() and
 * increase() use the difference to an earlier sample).
 *
 * Process-level families (open files, last read, checkpoint, reload,
 * build and status-code info) describe this run, not the log: left out.
 * Bytes read have no log time: a file's count at its end (per read poll,
 * the step would depend on the read sizes, so on --threads).
 * Steps without lines are rendered for up to BACKFILL_IDLE_MS after the
 * last line (counters stay visible across short quiet periods); longer
 * gaps are left empty, so one absurd time cannot make millions of steps.
 * Lines stamped more than a day after now are unreadable times.
 *
 * Per line on one thread: route() returns the newest step's slot after
 * two compares while lines stay in that step (the ring's checks and a
 * division otherwise), and filters are asked only when the source has
 * some.
 *
 * Rejected: sorting lines by time (memory grows with the traffic of the
 * window: a busy server writes millions of lines in minutes; the ring grows
 * only with the number of series) and one render per family per step
 * (the registry's walk is the one other code tests: stepwriter.c is a
 * writer of that walk, not a second walk).
 */
#include "exporter/backfill.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/clock.h"
#include "exporter/daemon.h"
#include "exporter/filter.h"
#include "exporter/pathlabels.h"
#include "exporter/log.h"
#include "exporter/metrics/metrics.h"
#include "exporter/parsepool.h"
#include "exporter/steppool.h"
#include "exporter/stepwriter.h"
#include "exporter/strbuf.h"
#include "exporter/input/container.h"
#include "exporter/input/tail.h"
#include "exporter/input/zfile.h"
#include "parsers/logparse.h"
#include "parsers/logtime.h"

#define BACKFILL_WINDOW_MS (5u * 60u * 1000u) /* out-of-order tolerance */
#define BACKFILL_IDLE_MS (60u * 60u * 1000u)  /* quiet time still rendered */
#define BACKFILL_FUTURE_MS (24 * 3600 * 1000) /* later than now + this: unreadable */
#define MAX_SLOTS 400u
#define MAX_FILES 65536u
#define RENDER_CAP (256u * 1024u * 1024u)
#define PROGRESS_MS 5000u

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- files ------------------------------------------------------------ */

struct input {
	char *path;
	struct stat st;
};

struct inputs {
	struct input *v;
	size_t n, cap;
};

static int add_input(struct inputs *in, const char *path, const struct stat *st)
{
	for (size_t i = 0; i < in->n; i++) {
		if (in->v[i].st.st_dev == st->st_dev && in->v[i].st.st_ino == st->st_ino) {
			return 0; /* the same file by two names */
		}
	}
	if (in->n >= MAX_FILES) {
		return -E2BIG;
	}
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		struct input *v = realloc(in->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		in->v = v;
		in->cap = cap;
	}
	in->v[in->n].path = strdup(path);
	if (!in->v[in->n].path) {
		return -ENOMEM;
	}
	in->v[in->n].st = *st;
	in->n++;
	return 0;
}

static void inputs_finish(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].path);
	}
	free(in->v);
	memset(in, 0, sizeof(*in));
}

/* Oldest first: modification time, then name. */
static int by_mtime(const void *a, const void *b)
{
	const struct input *x = a, *y = b;

	if (x->st.st_mtim.tv_sec != y->st.st_mtim.tv_sec) {
		return x->st.st_mtim.tv_sec < y->st.st_mtim.tv_sec ? -1 : 1;
	}
	if (x->st.st_mtim.tv_nsec != y->st.st_mtim.tv_nsec) {
		return x->st.st_mtim.tv_nsec < y->st.st_mtim.tv_nsec ? -1 : 1;
	}
	return strcmp(x->path, y->path);
}

static bool is_gz(const char *path)
{
	size_t n = strlen(path);
	return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

/* Expand one pattern into in; errors are logged.  0 or -errno. */
static int expand(const char *source, const char *pattern, struct inputs *in)
{
	struct stat st;
	glob_t g;
	int r = 0;

	if (strpbrk(pattern, "*?[") == NULL) {
		int sr = stat(pattern, &st), e = errno;
		if (sr < 0 || !S_ISREG(st.st_mode)) {
			log_error("--backfill: cannot read a log file", "source", source, "path",
			          pattern, "error", sr < 0 ? strerror(e) : "not a regular file");
			return -ENOENT;
		}
		return add_input(in, pattern, &st);
	}
	memset(&g, 0, sizeof(g));
	if (glob(pattern, 0, NULL, &g) != 0) {
		log_warn("--backfill: a glob matches no file", "source", source, "pattern",
		         pattern);
		globfree(&g);
		return 0;
	}
	for (size_t i = 0; i < g.gl_pathc && r == 0; i++) {
		const char *p = g.gl_pathv[i];
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			continue;
		}
		r = add_input(in, p, &st);
	}
	globfree(&g);
	return r;
}

/* ---- one source --------------------------------------------------------- */

struct slot {
	struct metrics *m;
	struct metrics_source *s;
	bool used;
};

struct run {
	const struct config_source *cs;
	const struct backfill_options *o;
	struct metrics_options mo;
	struct log_parser *parser;
	struct metrics *cum;
	struct metrics_source *cum_s;
	struct slot slots[MAX_SLOTS];
	struct slot *hot; /* the slot of step hi, once routed (NULL: none yet) */
	size_t k;
	bool open;
	int64_t lo, hi, last_active;
	uint64_t pending[METRICS_COUNTER_COUNT]; /* counted before the first step opened */
	uint64_t file_bytes; /* bytes read of the current file, counted at its end */
	struct stepwriter *w;
	struct strbuf save;
	int64_t future_ms;
	/* report */
	uint64_t lines, time_errors, late, after_until, steps;
	int64_t first_ms, last_ms;
	char first_bad[160];
	uint64_t next_progress;
	struct steppool *spool;  /* several cores, counted in per-step registries */
	struct parsepool *pool;  /* several cores, counted here (field labels...) */
	struct logtime_cache tc; /* this thread's last time text */
	struct filter_set *filters;
	struct pathlabels *path_labels; /* NULL: none */
	const struct str_view *file_labels;
	const char *file;
	int error;
};

static int slot_reset(struct run *r, struct slot *sl)
{
	char err[256] = "";
	const struct config_source *cs = r->cs;

	if (sl->s) {
		metrics_remove_source(sl->m, sl->s);
		sl->s = NULL;
	}
	sl->used = false;
	int ret = metrics_add_source(sl->m, cs->name, cs->labels, cs->n_labels, cs->field_labels,
	                             cs->n_field_labels, &sl->s, err, sizeof(err));
	if (ret == 0) {
		metrics_source_set_filtered(sl->s, cs->n_filters > 0);
		metrics_source_set_captures(sl->s, metrics_captures_of(r->parser));
	}
	return ret;
}

static struct slot *slot_of(struct run *r, int64_t step)
{
	return &r->slots[(uint64_t)step % r->k];
}

static void render_step(struct run *r, int64_t step)
{
	int64_t ts = (step + 1) * (int64_t)r->o->step_ms;

	if (r->o->until_ms && ts > r->o->until_ms) {
		ts = r->o->until_ms;
	}
	if (stepwriter_add(r->w, r->cum, ts, ts - (int64_t)r->o->step_ms) < 0) {
		return; /* stops the reading (stepwriter_error) */
	}
	r->steps++;
}

/* Add step's lines into the cumulative registry and render it. */
static void close_step(struct run *r, int64_t step)
{
	struct slot *sl = slot_of(r, step);

	if (sl->used && metrics_source_merge(r->cum_s, sl->s) == 0) {
		/* flat source: added in place, the slot is zero again */
		sl->used = false;
		r->last_active = step;
	} else if (sl->used) {
		strbuf_reset(&r->save);
		if (metrics_source_save(sl->s, &r->save) < 0 ||
		    metrics_source_restore(r->cum_s, r->save.data ? r->save.data : "",
		                           r->save.len) < 0 ||
		    slot_reset(r, sl) < 0) {
			r->error = -ENOMEM;
			return;
		}
		r->last_active = step;
	}
	if ((step - r->last_active) * (int64_t)r->o->step_ms <= (int64_t)BACKFILL_IDLE_MS) {
		render_step(r, step);
	}
}

/* The slot for a line of step (opening and closing steps as needed). */
static struct slot *route_slow(struct run *r, int64_t step)
{
	if (!r->open) {
		r->open = true;
		r->lo = r->hi = r->last_active = step;
	}
	if (step > r->hi) {
		while (step - r->lo >= (int64_t)r->k && !r->error) {
			close_step(r, r->lo++);
		}
		r->hi = step;
	}
	if (step < r->lo) {
		r->late++;
		step = r->lo;
	}
	struct slot *sl = slot_of(r, step);
	if (!sl->used) {
		sl->used = true;
		for (unsigned c = 0; c < METRICS_COUNTER_COUNT; c++) {
			if (r->pending[c]) {
				metrics_count(sl->s, (enum metrics_counter)c, r->pending[c]);
				r->pending[c] = 0;
			}
		}
	}
	if (step == r->hi) {
		r->hot = sl; /* route's fast path, while the newest step stays it */
	}
	return sl;
}

/* route_slow for a line of the newest open step whose slot is in use
 * (nearly every line: logs are nearly in time order) without its checks
 * and the division of slot_of. */
static inline struct slot *route(struct run *r, int64_t step)
{
	struct slot *sl = r->hot;

	if (sl && step == r->hi && sl->used) {
		return sl;
	}
	return route_slow(r, step);
}

/* Counters without a time of their own go to the newest open step. */
static void count_now(struct run *r, enum metrics_counter c, uint64_t n)
{
	if (!r->open) {
		r->pending[c] += n;
		return;
	}
	metrics_count(route(r, r->hi)->s, c, n);
}

static void time_error(struct run *r, const char *line, size_t len)
{
	if (!r->time_errors++) {
		(void)snprintf(r->first_bad, sizeof(r->first_bad), "%.*s",
		               (int)(len > 120 ? 120 : len), line);
	}
	count_now(r, METRICS_PARSE_ERRORS, 1);
	count_now(r, METRICS_LINES, 1);
}

/* One line with its parse result: into the step of its time. */
static void count_line(void *ud, const struct parsepool_line *pl)
{
	struct run *r = ud;
	int64_t ms = pl->time_ms;

	if (pl->rc < 0) {
		count_now(r, METRICS_PARSE_ERRORS, 1);
		count_now(r, METRICS_LINES, 1);
		return;
	}
	if (pl->time_rc < 0 || ms > r->future_ms) {
		time_error(r, pl->line, pl->len);
		return;
	}
	if (r->o->until_ms && ms >= r->o->until_ms) {
		r->after_until++;
		return;
	}
	if (!r->first_ms || ms < r->first_ms) {
		r->first_ms = ms;
	}
	r->last_ms = ms > r->last_ms ? ms : r->last_ms;
	struct slot *sl = route(r, ms / (int64_t)r->o->step_ms);
	struct log_record labelled;
	const struct log_record *rec = pl->rec;
	if (r->path_labels) {
		labelled = *pl->rec;
		labelled.file_labels = r->file_labels;
		labelled.n_file_labels = (unsigned)pathlabels_count(r->path_labels);
		rec = &labelled;
	}
	if (r->cs->n_filters > 0 && filter_set_drops(r->filters, rec)) {
		metrics_count(sl->s, METRICS_LINES_DROPPED, 1);
	} else {
		metrics_observe(sl->s, rec);
	}
	metrics_count(sl->s, METRICS_LINES, 1);
}

/* One line parsed and counted on this thread. */
static void count_here(void *ud, const char *line, size_t len)
{
	struct run *r = ud;
	struct log_record rec;

	r->lines++;
	struct parsepool_line pl = {line, len, 0, NULL, -ENOENT, 0};
	pl.rc = logparse_line(r->parser, line, len, &rec);
	if (pl.rc == 0) {
		pl.rec = &rec;
		pl.time_rc = logtime_of_record_cached(&rec, &r->tc, &pl.time_ms);
	}
	count_line(r, &pl);
}

static void count_event(void *ud, int event, uint64_t n);

static void on_line(void *ud, const char *line, size_t len)
{
	struct run *r = ud;

	if (r->spool) {
		steppool_push_line(r->spool, line, len);
	} else if (r->pool) {
		r->lines++;
		parsepool_push(r->pool, line, len);
	} else {
		count_here(r, line, len);
	}
}

/* Whole lines (only with the step pool). */
static void on_block(void *ud, char *buf, size_t n, size_t cap)
{
	struct run *r = ud;

	steppool_push_block(r->spool, buf, n, cap);
}

/* Whole files read straight into the step pool's batches. */
static char *on_lend(void *ud, size_t want, size_t *ret_size)
{
	struct run *r = ud;

	return steppool_lend(r->spool, want, ret_size);
}

static void recount_event(void *ud, enum tail_event ev, uint64_t n)
{
	count_event(ud, (int)ev, n);
}

/* Would a line of this batch be older than every open step at its turn
 * (counted in the oldest open step, not its own)?  route() without
 * changing anything. */
static bool would_be_late(const struct run *r, const struct steppool_batch *b)
{
	bool open = r->open;
	int64_t lo = r->lo, hi = r->hi;

	for (size_t i = 0; i < b->n; i++) {
		if (b->item[i].kind != STEPPOOL_TIMED) {
			continue;
		}
		int64_t step = b->step[b->item[i].step];
		if (!open) {
			open = true;
			lo = hi = step;
		}
		if (step > hi) {
			lo = step - lo >= (int64_t)r->k ? step - (int64_t)r->k + 1 : lo;
			hi = step;
		}
		if (step < lo) {
			return true;
		}
	}
	return false;
}

/* A batch counted by the step pool: its notes through the steps, in file
 * order, each step registry merged into its slot at the step's first line
 * (no line of the step comes after its slot closes: would_be_late). */
static bool on_counted(void *ud, const struct steppool_batch *b)
{
	struct run *r = ud;
	bool merged[STEPPOOL_MAX_STEPS] = {false};

	if (would_be_late(r, b)) {
		return false; /* recounted line by line (count_here) */
	}
	for (size_t i = 0; i < b->n && !r->error; i++) {
		const struct steppool_item *it = &b->item[i];
		switch ((enum steppool_kind)it->kind) {
		case STEPPOOL_TIMED: {
			/* a run of lines of one step: routing its first routes the rest */
			struct slot *sl = route(r, b->step[it->step]);
			r->lines += it->n;
			if (!r->first_ms || it->value < r->first_ms) {
				r->first_ms = it->value;
			}
			r->last_ms = it->latest > r->last_ms ? it->latest : r->last_ms;
			if (!merged[it->step]) {
				merged[it->step] = true;
				(void)metrics_source_merge(sl->s, b->ms[it->step]); /* checked */
			}
			break;
		}
		case STEPPOOL_PARSE_ERROR:
			r->lines++;
			count_now(r, METRICS_PARSE_ERRORS, 1);
			count_now(r, METRICS_LINES, 1);
			break;
		case STEPPOOL_TIME_ERROR:
			r->lines++;
			time_error(r, it->line, it->len);
			break;
		case STEPPOOL_AFTER_UNTIL:
			r->lines++;
			r->after_until++;
			break;
		case STEPPOOL_TOO_LONG:
			count_now(r, METRICS_LINES_TOO_LONG, 1);
			break;
		case STEPPOOL_EVENT:
			count_event(r, it->event, (uint64_t)it->value);
			break;
		}
	}
	return true;
}

/* The lines that follow come from path (path_labels; pooled lines of the
 * previous file are delivered first). */
static void on_from(void *ud, const char *path)
{
	struct run *r = ud;

	if (!r->path_labels) {
		return;
	}
	if (r->pool) {
		parsepool_flush(r->pool);
	}
	r->file_labels = pathlabels_values(r->path_labels, path);
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct run *r = ud;

	if (r->spool) {
		steppool_push_event(r->spool, (int)ev, n);
		return;
	}
	if (r->pool) {
		/* counted in the newest step: in order with the lines around it */
		parsepool_push_event(r->pool, (int)ev, n);
		return;
	}
	count_event(r, (int)ev, n);
}

static void count_event(void *ud, int event, uint64_t n)
{
	struct run *r = ud;

	switch ((enum tail_event)event) {
	case TAIL_EV_BYTES:
		/* A read's bytes are reported per poll of up to 64 MiB, and where a
		 * poll ends depends on the read sizes (lent batches or the scratch
		 * buffer): counted at the file's end, the step they land in is the
		 * same for every --threads. */
		r->file_bytes += n;
		break;
	case TAIL_EV_TOO_LONG:
		count_now(r, METRICS_LINES_TOO_LONG, n);
		break;
	case TAIL_EV_SKIPPED:
		count_now(r, METRICS_FILES_SKIPPED, n);
		break;
	case TAIL_EV_READ_ERROR:
		count_now(r, METRICS_READ_ERRORS, 1);
		break;
	case TAIL_EV_INVALID:
		count_now(r, METRICS_LINES, n);
		count_now(r, METRICS_PARSE_ERRORS, n);
		break;
	case TAIL_EV_ROTATED:
	case TAIL_EV_TRUNCATED:
		break;
	}
}

static void fmt_time(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000, days = s / 86400, z = days + 719468;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	(void)snprintf(buf, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, m, d,
	               (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60),
	               (long long)(s % 60));
}

static void progress(struct run *r, bool force)
{
	uint64_t now = clock_mono_ms();
	char lines[32], upto[40];

	if (!force && now < r->next_progress) {
		return;
	}
	r->next_progress = now + PROGRESS_MS;
	(void)snprintf(lines, sizeof(lines), "%llu", (unsigned long long)r->lines);
	fmt_time(r->last_ms, upto, sizeof(upto));
	log_info("--backfill: reading", "source", r->cs->name, "file", r->file, "lines", lines,
	         "log_time", r->last_ms ? upto : "-");
}

/* The cap of the lines read: wrapped container lines are longer. */
static size_t wrapped_cap(const struct config_source *cs)
{
	return cs->container != CONFIG_CONTAINER_NONE ? container_wrapped_cap(0) : 0;
}

/* The pools delivered every line and event of a file: its bytes read go to
 * the newest step (see count_event). */
static void file_done(struct run *r)
{
	if (r->pool) {
		parsepool_flush(r->pool);
	}
	if (r->spool) {
		steppool_flush(r->spool);
	}
	if (r->file_bytes) {
		count_now(r, METRICS_BYTES_READ, r->file_bytes);
		r->file_bytes = 0;
	}
}

/* A gzip-compressed rotation, through zlib (fd is taken; so is tap). */
static int read_gz(struct run *r, const char *path, int fd, const struct stat *st,
                   const struct tail_callbacks *cb, struct container_tap *tap)
{
	struct zfile *z = NULL;
	int e = zfile_open(path, fd, st, 0, false, wrapped_cap(r->cs), cb, &z);

	if (e < 0) {
		container_tap_destroy(tap);
		(void)close(fd);
		log_error("--backfill: cannot read a compressed log file (only gzip is read)",
		          "source", r->cs->name, "path", path, "error", strerror(-e));
		return e;
	}
	zfile_set_tap(z, tap);
	while (!interrupted && !r->error && !stepwriter_error(r->w) &&
	       zfile_poll(z, 64u * TAIL_CHUNK) > 0) {
		progress(r, false);
	}
	file_done(r);
	e = zfile_error(z);
	zfile_destroy(z);
	if (e < 0) {
		log_error("--backfill: read error in a compressed file", "source", r->cs->name,
		          "path", path, "error", strerror(-e));
	}
	return e;
}

/* Read one file to its end. 0 or -errno (logged). */
static int read_file(struct run *r, struct tail_scratch *sc, const struct input *in)
{
	struct tail_callbacks cb = {.line = on_line,
	                            .event = on_event,
	                            .userdata = r,
	                            .from = on_from,
	                            .block = r->spool ? on_block : NULL,
	                            .lend = r->spool ? on_lend : NULL};
	struct container_tap *tap = NULL;
	struct tail_file *tf = NULL;
	struct stat st;
	int fd = open(in->path, O_RDONLY | O_CLOEXEC), e;

	/* Container logs: unwrapped as the daemon does (fileset.c). */
	if (fd >= 0 && r->cs->container != CONFIG_CONTAINER_NONE &&
	    container_tap_create(r->cs->container, r->cs->container_streams, 0, &cb, &tap) < 0) {
		(void)close(fd);
		return -ENOMEM;
	}

	r->file = in->path;
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0) {
			(void)close(fd);
		}
		container_tap_destroy(tap);
		log_error("--backfill: cannot read a log file", "source", r->cs->name, "path",
		          in->path, "error", strerror(e));
		return -e;
	}
	if (is_gz(in->path)) {
		return read_gz(r, in->path, fd, &st, &cb, tap);
	}
	e = tail_file_open(in->path, fd, &st, 0, false, &cb, &tf);
	if (e < 0) {
		container_tap_destroy(tap);
		(void)close(fd);
		return e;
	}
	tail_file_set_tap(tf, tap);
	while (!interrupted && !r->error && !stepwriter_error(r->w) &&
	       tail_file_poll(tf, sc, clock_mono_ms(), true) > 0) {
		progress(r, false);
	}
	file_done(r);
	e = tail_file_error(tf);
	tail_file_destroy(tf);
	if (e) {
		log_error("--backfill: read error", "source", r->cs->name, "path", in->path,
		          "error", strerror(e));
		return -e;
	}
	return 0;
}

/* --threads: the step pool (lines counted on every core into per-step
 * registries) where those merge into the slots; else the parse pool
 * (parsed on every core, counted here: field labels, path labels,
 * filters); else one thread. */
static void start_threads(struct run *r, const struct config_source *cs,
                          const struct metrics_options *mo, const struct logparse_opts *po)
{
	struct steppool_steps steps = {
	    .step_ms = r->o->step_ms, .until_ms = r->o->until_ms, .future_ms = r->future_ms};
	struct tail_callbacks recount = {.line = count_here, .event = recount_event, .userdata = r};
	int e;

	if (r->o->threads < 2) {
		return;
	}
	e = steppool_create(r->o->threads, cs, mo, &steps, &recount, on_counted, r, &r->spool);
	if (e == 0 && steppool_can_merge_into(r->spool, r->slots[0].s) < 0) {
		steppool_destroy(r->spool);
		r->spool = NULL;
		e = -ENOTSUP;
	}
	if (e == 0) {
		return;
	}
	if (e != -ENOTSUP) {
		log_warn("--backfill: cannot start counting threads", "source", cs->name, "error",
		         strerror(-e));
	}
	if (!parsepool_supports(cs->kind)) {
		return;
	}
	if (parsepool_create(r->o->threads, cs->kind, cs->format, po, count_line, r, &r->pool) <
	    0) {
		log_warn("--backfill: cannot start parser threads; parsing on one", "source",
		         cs->name);
		return;
	}
	parsepool_set_event_fn(r->pool, count_event);
	parsepool_set_with_time(r->pool, true);
}

static int run_init(struct run *r, const struct config_source *cs, const struct backfill_options *o,
                    const struct metrics_options *mo, struct stepwriter *w)
{
	struct logparse_error perr = {.message = {0}};
	char err[256] = "";
	int ret;

	memset(r, 0, sizeof(*r));
	r->cs = cs;
	r->o = o;
	r->mo = *mo;
	r->w = w;
	r->future_ms = (int64_t)(clock_unix_seconds() * 1000.0) + BACKFILL_FUTURE_MS;
	r->next_progress = clock_mono_ms() + PROGRESS_MS;
	r->k = (size_t)((BACKFILL_WINDOW_MS + o->step_ms - 1) / o->step_ms) + 1;
	r->k = r->k < 2 ? 2 : r->k > MAX_SLOTS ? MAX_SLOTS : r->k;
	strbuf_init(&r->save, RENDER_CAP);
	const char *names[CONFIG_MAX_CAPTURES];
	struct logparse_opts po;
	config_source_parse_opts(cs, names, &po);
	ret = logparse_create_opts(cs->kind, cs->format, &po, &r->parser, &perr);
	if (ret < 0) {
		log_error("--backfill: bad format", "source", cs->name, "error", perr.message);
		return ret;
	}
	if (cs->path_labels) {
		ret = pathlabels_create(cs->path_labels, &r->path_labels, err, sizeof(err));
		if (ret < 0) {
			log_error("--backfill: bad path_labels", "source", cs->name, "error",
			          err[0] ? err : strerror(-ret));
			return ret;
		}
		r->file_labels = pathlabels_values(r->path_labels, "");
	}
	ret = filter_set_create(cs->filters, cs->n_filters, &r->filters, err, sizeof(err));
	if (ret < 0) {
		log_error("--backfill: bad filter", "source", cs->name, "error",
		          err[0] ? err : strerror(-ret));
		return ret;
	}
	r->cum = metrics_create(mo);
	if (!r->cum) {
		return -ENOMEM;
	}
	ret = metrics_add_source(r->cum, cs->name, cs->labels, cs->n_labels, cs->field_labels,
	                         cs->n_field_labels, &r->cum_s, err, sizeof(err));
	if (ret == 0) {
		metrics_source_set_filtered(r->cum_s, cs->n_filters > 0);
		metrics_source_set_captures(r->cum_s, metrics_captures_of(r->parser));
	}
	for (size_t i = 0; i < r->k && ret == 0; i++) {
		r->slots[i].m = metrics_create(mo);
		ret = r->slots[i].m ? slot_reset(r, &r->slots[i]) : -ENOMEM;
	}
	if (ret == 0) {
		start_threads(r, cs, mo, &po);
	}
	if (ret < 0) {
		log_error("--backfill: cannot set up the source", "source", cs->name, "error",
		          err[0] ? err : strerror(-ret));
	}
	return ret;
}

static void run_finish(struct run *r)
{
	for (size_t i = 0; i < r->k; i++) {
		metrics_destroy(r->slots[i].m);
	}
	steppool_destroy(r->spool);
	parsepool_destroy(r->pool);
	filter_set_destroy(r->filters);
	pathlabels_destroy(r->path_labels);
	metrics_destroy(r->cum);
	logparse_destroy(r->parser);
	strbuf_finish(&r->save);
}

static void report(const struct run *r)
{
	char n[6][32], first[40], last[40];

	(void)snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)r->lines);
	(void)snprintf(n[1], sizeof(n[1]), "%llu", (unsigned long long)r->steps);
	(void)snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)r->time_errors);
	(void)snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)r->late);
	(void)snprintf(n[4], sizeof(n[4]), "%llu", (unsigned long long)r->after_until);
	fmt_time(r->first_ms, first, sizeof(first));
	fmt_time(r->last_ms, last, sizeof(last));
	log_info("--backfill: source done", "source", r->cs->name, "lines", n[0], "steps", n[1],
	         "first", r->first_ms ? first : "-", "last", r->last_ms ? last : "-");
	if (r->time_errors) {
		log_warn("--backfill: lines without a readable time, counted in "
		         "accesslog_log_parse_errors_total",
		         "source", r->cs->name, "lines", n[2], "first", r->first_bad);
	}
	if (r->late) {
		log_warn("--backfill: lines more than 5m older than lines before them, counted "
		         "in the oldest open step",
		         "source", r->cs->name, "lines", n[3]);
	}
	if (r->after_until) {
		log_info("--backfill: lines at or after --backfill.until left out", "source",
		         r->cs->name, "lines", n[4]);
	}
}

/* One source: its files oldest first, every step rendered into w. */
static int backfill_source(const struct config_source *cs, const struct backfill_options *o,
                           const struct metrics_options *mo, struct stepwriter *w,
                           bool *ret_any_time)
{
	struct inputs in = {0};
	struct tail_scratch *sc = NULL;
	struct run r;
	int ret = 0;

	for (size_t i = 0; i < cs->n_paths && ret == 0; i++) {
		ret = expand(cs->name, cs->paths[i], &in);
	}
	if (ret < 0) {
		if (ret == -E2BIG) {
			log_error("--backfill: too many files", "source", cs->name);
		}
		inputs_finish(&in);
		return ret;
	}
	qsort(in.v, in.n, sizeof(*in.v), by_mtime);
	stepwriter_begin_source(w);
	ret = run_init(&r, cs, o, mo, w);
	sc = tail_scratch_create(wrapped_cap(cs));
	if (ret == 0 && !sc) {
		ret = -ENOMEM;
	}
	for (size_t i = 0; i < in.n && ret == 0 && !interrupted; i++) {
		ret = read_file(&r, sc, &in.v[i]);
	}
	if (ret == 0 && r.open) {
		while (r.lo <= r.hi && !r.error) {
			close_step(&r, r.lo++);
		}
	}
	ret = ret < 0 ? ret : r.error;
	if (ret == 0) {
		progress(&r, true);
		report(&r);
		*ret_any_time = *ret_any_time || r.open;
	}
	tail_scratch_destroy(sc);
	run_finish(&r);
	inputs_finish(&in);
	return ret;
}

/* ---- the whole run ------------------------------------------------------ */

static void dir_of(const char *out, char *dir, size_t size)
{
	const char *slash = strrchr(out, '/');
	const char *tmp = getenv("TMPDIR");

	if (strcmp(out, "-") == 0) {
		(void)snprintf(dir, size, "%s", tmp && tmp[0] ? tmp : "/tmp");
	} else if (!slash) {
		(void)snprintf(dir, size, ".");
	} else if (slash == out) {
		(void)snprintf(dir, size, "/");
	} else {
		(void)snprintf(dir, size, "%.*s", (int)(slash - out), out);
	}
}

/* Write w to o->out: a temporary file renamed over it, or standard output. */
static int publish(struct stepwriter *w, const char *out_path)
{
	char tmp[PATH_MAX + 32];
	FILE *f;
	int fd, r;

	if (strcmp(out_path, "-") == 0) {
		return stepwriter_emit(w, stdout);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out_path) >= (int)sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		return -errno;
	}
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		(void)close(fd);
		(void)unlink(tmp);
		return r;
	}
	r = stepwriter_emit(w, f);
	if (r == 0 && fsync(fileno(f)) < 0) {
		r = -errno;
	}
	if (fclose(f) != 0 && r == 0) {
		r = -errno;
	}
	if (r == 0 && rename(tmp, out_path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		(void)unlink(tmp);
	}
	return r;
}

static int check_formats(const struct config *c)
{
	for (size_t i = 0; i < c->n_sources; i++) {
		struct log_parser *p = NULL;
		if (logparse_create(c->sources[i].kind, c->sources[i].format, &p, NULL) == 0 &&
		    logparse_time_form(p) == LOGTIME_NONE) {
			log_error("--backfill: the source's format has no log time ($time_local, "
			          "$time_iso8601, $msec, %t, %{sec}t, %{msec}t, %{usec}t, "
			          "%{FORMAT}t with a date, a JSON time key or a regex group named "
			          "time)",
			          "source", c->sources[i].name);
			logparse_destroy(p);
			return -EINVAL;
		}
		logparse_destroy(p);
	}
	return 0;
}

int backfill_run(const struct config *c, const struct backfill_options *opts)
{
	struct backfill_options o = *opts;
	struct metrics_options mo = daemon_metrics_options(c);
	struct stepwriter *w;
	struct sigaction sa;
	char dir[PATH_MAX];
	bool any_time = false;
	char samples[32];
	int r = 0;

	o.step_ms = o.step_ms ? o.step_ms : BACKFILL_DEFAULT_STEP_MS;
	o.threads = o.threads ? o.threads : parsepool_default_threads();
	mo.new_series_hold_ms = 0;
	mo.created_timestamps = false;
	mo.no_exemplars = true; /* none reach the output (a merge leaves them) */
	if (check_formats(c) < 0) {
		return 2;
	}
	dir_of(o.out, dir, sizeof(dir));
	w = stepwriter_create(dir);
	if (!w) {
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	for (size_t i = 0; i < c->n_sources && r == 0 && !interrupted; i++) {
		r = backfill_source(&c->sources[i], &o, &mo, w, &any_time);
	}
	if (r == 0 && interrupted) {
		log_error("--backfill: interrupted; nothing written");
		r = -EINTR;
	}
	if (r == 0 && !any_time) {
		log_error("--backfill: no line with a readable time; nothing written");
		r = -ENODATA;
	}
	if (r == 0) {
		r = stepwriter_error(w) ? stepwriter_error(w) : publish(w, o.out);
		if (r < 0) {
			log_error("--backfill: cannot write the output; nothing left behind",
			          "path", strcmp(o.out, "-") == 0 ? "standard output" : o.out,
			          "error", strerror(-r));
		}
	}
	if (r == 0) {
		(void)snprintf(samples, sizeof(samples), "%llu",
		               (unsigned long long)stepwriter_samples(w));
		log_info("--backfill: done", "path", o.out, "samples", samples);
	}
	stepwriter_destroy(w);
	return r == 0 ? 0 : 1;
}
