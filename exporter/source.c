/*
 * source.c - pipeline glue for one source (see source.h).
 *
 * The line callback is the hot path of the whole exporter: count the line,
 * parse it, count the record.  Nothing here allocates or logs per line;
 * a line that does not parse is one increment of parse_errors.  The lines
 * counter is added once per poll, not per line.
 *
 * Lines come through the input layer's door (exporter/input/input.h): files,
 * standard input and syslog listeners alike; the source does not know
 * which.  The files' first scan happens either in source_restore (resuming
 * from a checkpoint) or at the first poll.
 *
 * A source remembers its registry, so source_destroy unregisters it and a
 * creation failing half-way leaves no series behind (the name stays free).
 *
 * Config reload (source_set_replace) is all or nothing.  Prepare: each new
 * or changed source is built completely in a scratch registry with the
 * running one's options, so every check that can reject it (format, label
 * names, field-label patterns, series tables, files) is the production
 * code; a failure destroys the scratch, nothing running was touched.
 * Commit: names are unique in a registry, so a changed source's old metrics
 * are moved (with counters, source_move) to a parking registry, then the
 * prepared ones into the running registry.  Only allocation can fail now
 * (or a name held outside the set, in tests); undoing moves the new ones
 * out and the old ones back, counters exact (no line is read meanwhile).
 * Last, new sources start where the replaced ones were (source_start_from)
 * and replaced and removed ones are destroyed.  Rejected: destroying the
 * old source before its replacement exists (counters lost on failure), and
 * copies of the registry's checks (they drift).  Without an allocation-free
 * "replace" call in the registry, a second allocation failure while undoing
 * can still lose a source (logged), and a scrape during the commit may miss
 * a changed source for that instant.
 */
#include "exporter/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter/clock.h"
#include "exporter/countpool.h"
#include "exporter/filter.h"
#include "exporter/pathlabels.h"
#include "exporter/input/input.h"
#include "exporter/log.h"
#include "exporter/parsepool.h"
#include "exporter/parsefail.h"
#include "exporter/strbuf.h"
#include "exporter/input/tail.h"
#include "parsers/logformat.h"
#include "parsers/logparse.h"

struct source {
	char *name;
	char *format; /* for the landing page: preset name or kind */
	struct log_parser *parser;
	struct metrics *m;         /* registry of ms */
	struct metrics_source *ms; /* NULL until registered */
	double last_read;          /* last-read gauge, carried by source_move */
	struct input *in;
	bool from_start;
	bool started;
	bool file_gauge_logged; /* a file gauge could not be set (logged once) */
	bool checkpoint_wanted; /* a rotation or truncation since source_checkpoint_due */
	uint64_t lines_this_poll;
	struct countpool *cpool;            /* --once on several cores (source_set_threads) */
	struct parsepool *pool;             /* the same for sources with field labels */
	struct filter_set *filters;         /* NULL: the source has none */
	struct pathlabels *path_labels;     /* NULL: the source has none */
	const struct str_view *file_labels; /* values for the file being read */
	/* Parse failures: counted here too (the registry's counters may be
	 * restored from a checkpoint), sampled with diagnoses into fails. */
	enum logparse_kind kind;
	char *format_text; /* the preset name or the format as configured */
	struct parsefail_ring *fails;
	uint64_t now_ms;         /* clock of the poll in progress */
	uint64_t sample_next_ms; /* no failing line is sampled before this */
	uint64_t lines, errors;  /* read and failed by this source object */
	uint64_t errors_at_warn; /* errors at the last warning */
	uint64_t next_warn_ms;
	struct line_batch *batch; /* field labels, a format whose records need no scratch */
};

/* Parsed lines of one block (or one parse-pool batch) counted together:
 * metrics_observe_batch overlaps the cache misses of their series lookups.
 * Records point into the block, so the batch is flushed before the block
 * goes away (end of on_block, the pool's flush callback) and before the
 * file, whose path labels the records point to, changes (on_from). */
struct line_batch {
	bool on; /* inside on_block: on_line may hold records */
	size_t n;
	const struct log_record *rec[METRICS_BATCH_MAX];
	struct log_record own[METRICS_BATCH_MAX];
};

#define WARN_EVERY_MS 60000u

/* A line that does not parse: counted, and sampled with its diagnosis when
 * the window allows (parsefail.c); one comparison otherwise.  Ingest thread
 * (also for lines parsed by the pool: it delivers on the pushing thread). */
static void count_failure(struct source *s, const char *line, size_t len)
{
	metrics_count(s->ms, METRICS_PARSE_ERRORS, 1);
	s->errors++;
	if (s->now_ms >= s->sample_next_ms) {
		s->sample_next_ms = parsefail_sample(s->fails, s->parser, line, len, s->now_ms,
		                                     clock_unix_seconds());
	}
}

/* The labels of the file rec's line came from (path_labels). */
static inline void label_record(const struct source *s, struct log_record *rec)
{
	rec->file_labels = s->file_labels;
	rec->n_file_labels = (unsigned)pathlabels_count(s->path_labels);
}

static void batch_flush(struct source *s)
{
	struct line_batch *b = s->batch;

	if (b && b->n) {
		metrics_observe_batch(s->ms, b->rec, b->n);
		b->n = 0;
	}
}

/* A parsed line: dropped by a filter, or counted (or held in the batch,
 * which must then keep rec alive until batch_flush). */
static inline void count_record(struct source *s, const struct log_record *rec, bool hold)
{
	if (s->filters && filter_set_drops(s->filters, rec)) {
		metrics_count(s->ms, METRICS_LINES_DROPPED, 1);
		return;
	}
	if (hold) {
		s->batch->rec[s->batch->n++] = rec;
		if (s->batch->n == METRICS_BATCH_MAX) {
			batch_flush(s);
		}
		return;
	}
	metrics_observe(s->ms, rec);
}

/* The lines that follow come from path: its path labels.  Lines still in
 * the parse pool came from the previous file: delivered first. */
static void on_from(void *ud, const char *path)
{
	struct source *s = ud;

	if (!s->path_labels) {
		return;
	}
	if (s->pool) {
		/* pooled records of the last file must see its values, which
		 * pathlabels_values may overwrite */
		parsepool_flush(s->pool);
	}
	batch_flush(s);
	s->file_labels = pathlabels_values(s->path_labels, path);
}

/* Count one parsed (rc 0) or unparsable line. */
static void count_line(void *ud, const struct parsepool_line *pl)
{
	struct source *s = ud;
	struct line_batch *b = s->batch;

	if (pl->rc == 0 && s->path_labels) {
		/* the pool's record is const: a copy, in the batch when there is one */
		struct log_record one, *rec = b ? &b->own[b->n] : &one;
		*rec = *pl->rec;
		label_record(s, rec);
		count_record(s, rec, b != NULL);
	} else if (pl->rc == 0) {
		/* the pool keeps the record until its flush callback */
		count_record(s, pl->rec, b != NULL);
	} else {
		count_failure(s, pl->line, pl->len);
	}
}

static void on_line(void *ud, const char *line, size_t len)
{
	struct source *s = ud;
	struct log_record rec;

	if (s->cpool) {
		countpool_push_line(s->cpool, line, len); /* counted when delivered */
		return;
	}
	s->lines_this_poll++;
	if (s->pool) {
		parsepool_push(s->pool, line, len);
		return;
	}
	if (s->batch && s->batch->on) {
		struct log_record *br = &s->batch->own[s->batch->n];
		if (logparse_line(s->parser, line, len, br) == 0) {
			if (s->path_labels) {
				label_record(s, br);
			}
			count_record(s, br, true);
		} else {
			count_failure(s, line, len);
		}
		return;
	}
	if (logparse_line(s->parser, line, len, &rec) == 0) {
		if (s->path_labels) {
			label_record(s, &rec);
		}
		count_record(s, &rec, false);
	} else {
		count_failure(s, line, len);
	}
}

static void on_event(void *ud, enum tail_event ev, uint64_t n);

/* Whole lines from the tail: to the count pool, else split here. */
static void on_block(void *ud, char *buf, size_t n, size_t cap)
{
	struct source *s = ud;
	struct tail_callbacks cb = {.line = on_line, .event = on_event, .userdata = s};
	bool skipping = false;

	if (s->cpool) {
		countpool_push_block(s->cpool, buf, n, cap);
		return;
	}
	if (s->batch && !s->pool) {
		s->batch->on = true;
	}
	(void)tail_split(&cb, &skipping, buf, n, cap);
	if (s->batch) {
		batch_flush(s);
		s->batch->on = false;
	}
}

/* The pool is about to reuse the lines it handed back. */
static void on_pool_delivered(void *ud)
{
	batch_flush(ud);
}

/* Whole files read straight into the count pool's batches (no copy). */
static char *on_lend(void *ud, size_t want, size_t *ret_size)
{
	struct source *s = ud;

	return s->cpool ? countpool_lend(s->cpool, want, ret_size) : NULL;
}

/* A batch counted by the pool, in file order: its counts into ours. */
static void on_counted(void *ud, const struct countpool_result *r)
{
	struct source *s = ud;

	(void)metrics_source_merge(s->ms, r->ms); /* checked in source_set_threads */
	s->lines_this_poll += r->lines;
	if (r->too_long) {
		on_event(s, TAIL_EV_TOO_LONG, r->too_long);
	}
	s->errors += r->failed;
	for (size_t i = 0; i < r->n_samples && s->now_ms >= s->sample_next_ms; i++) {
		s->sample_next_ms =
		    parsefail_sample(s->fails, s->parser, r->sample[i], r->sample_len[i], s->now_ms,
		                     clock_unix_seconds());
	}
}

int source_set_threads(struct source *s, const struct config_source *cs,
                       const struct metrics_options *mo, unsigned threads)
{
	int r;

	if (threads < 2 || s->pool || s->cpool) {
		return 0;
	}
	r = countpool_create(threads, cs, mo, on_counted, s, &s->cpool);
	if (r == 0 && countpool_can_merge_into(s->cpool, s->ms) < 0) {
		countpool_destroy(s->cpool);
		s->cpool = NULL;
		r = -ENOTSUP;
	}
	if (r != -ENOTSUP) {
		return r;
	}
	if (!parsepool_supports(cs->kind)) {
		return 0;
	}
	const char *names[CONFIG_MAX_CAPTURES];
	struct logparse_opts po;

	config_source_parse_opts(cs, names, &po);
	r = parsepool_create(threads, cs->kind, cs->format, &po, count_line, s, &s->pool);
	if (r == 0) {
		parsepool_set_delivered_fn(s->pool, on_pool_delivered);
	}
	return r;
}

static const char *kind_name(enum logparse_kind kind)
{
	static const char *const names[] = {
	    [LOGPARSE_PRESET] = "preset", [LOGPARSE_NGINX] = "nginx", [LOGPARSE_APACHE] = "apache",
	    [LOGPARSE_JSON] = "json",     [LOGPARSE_REGEX] = "regex",
	};
	return (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* "combined", or the kind of a custom format ("nginx"). */
static const char *source_format_name(const struct config_source *cs)
{
	return cs->kind == LOGPARSE_PRESET && cs->format ? cs->format : kind_name(cs->kind);
}

static const char *source_format_name_of(const struct source *s)
{
	return s->kind == LOGPARSE_PRESET ? s->format_text : kind_name(s->kind);
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct source *s = ud;

	switch (ev) {
	case TAIL_EV_BYTES:
		metrics_count(s->ms, METRICS_BYTES_READ, n);
		break;
	case TAIL_EV_ROTATED:
		metrics_count(s->ms, METRICS_ROTATIONS, n);
		s->checkpoint_wanted = true;
		break;
	case TAIL_EV_TRUNCATED:
		metrics_count(s->ms, METRICS_TRUNCATIONS, n);
		s->checkpoint_wanted = true;
		log_debug("file truncated or rewritten below the read offset; reading it from the "
		          "start",
		          "source", s->name);
		break;
	case TAIL_EV_SKIPPED:
		metrics_count(s->ms, METRICS_FILES_SKIPPED, n);
		break;
	case TAIL_EV_TOO_LONG:
		metrics_count(s->ms, METRICS_LINES_TOO_LONG, n);
		break;
	case TAIL_EV_READ_ERROR:
		metrics_count(s->ms, METRICS_READ_ERRORS, 1);
		break;
	case TAIL_EV_INVALID:
		/* Lines the format cannot match: their container wrapper is wrong. */
		s->lines_this_poll += n;
		s->errors += n;
		metrics_count(s->ms, METRICS_PARSE_ERRORS, n);
		break;
	}
}

/* During a reload the old and the new sources are on the debug page at once. */
_Static_assert(PARSEFAIL_MAX_SOURCES >= 2 * CONFIG_MAX_SOURCES,
               "the debug page must list every source, old and new, during a reload");

/* The fileset's file cap plus one per configured path never fills the gauge table. */
_Static_assert(METRICS_MAX_FILES >= FILESET_DEFAULT_MAX_FILES + CONFIG_MAX_PATHS,
               "file gauges must cover every file a fileset can follow");

static void on_file(void *ud, const char *path, bool open)
{
	struct source *s = ud;
	int r = metrics_set_file_open(s->ms, path, open);

	if (r < 0 && !s->file_gauge_logged) {
		s->file_gauge_logged = true;
		log_warn("cannot show accesslog_log_file_open for a path (logged once)", "source",
		         s->name, "path", path, "error", strerror(-r));
	}
}

/* Counts only some inputs keep (syslog), as self-metrics. */
static void on_count(void *ud, enum input_counter c, uint64_t n)
{
	static const enum metrics_counter to_metric[INPUT_COUNTER_COUNT] = {
	    [INPUT_SYSLOG_MESSAGES] = METRICS_SYSLOG_MESSAGES,
	    [INPUT_SYSLOG_INVALID] = METRICS_SYSLOG_INVALID,
	    [INPUT_SYSLOG_FILTERED] = METRICS_SYSLOG_FILTERED,
	    [INPUT_SYSLOG_DROPPED] = METRICS_SYSLOG_DROPPED,
	    [INPUT_SYSLOG_CONNECTIONS] = METRICS_SYSLOG_CONNECTIONS,
	    [INPUT_SYSLOG_CONN_REFUSED] = METRICS_SYSLOG_CONN_REFUSED,
	    [INPUT_SYSLOG_CONN_IDLE] = METRICS_SYSLOG_CONN_IDLE,
	};
	struct source *s = ud;

	if ((unsigned)c < INPUT_COUNTER_COUNT) {
		metrics_count(s->ms, to_metric[c], n);
	}
}

static void on_file_gone(void *ud, const char *path)
{
	struct source *s = ud;

	(void)metrics_remove_file(s->ms, path); /* -ENOENT: it had none */
}

/* What the landing page calls a source's format: the preset's name, or
 * the kind of format text it was given. */
static const char *format_label(const struct config_source *cs)
{
	static const char *const kinds[] = {
	    [LOGPARSE_NGINX] = "nginx log_format",
	    [LOGPARSE_APACHE] = "Apache LogFormat",
	    [LOGPARSE_JSON] = "JSON lines",
	    [LOGPARSE_REGEX] = "regex",
	};

	if (cs->kind == LOGPARSE_PRESET || (size_t)cs->kind >= sizeof(kinds) / sizeof(kinds[0]) ||
	    !kinds[cs->kind]) {
		return cs->format ? cs->format : "";
	}
	return kinds[cs->kind];
}

/* Register name + cs's labels in m: 0 and *ret_ms, or -errno with err. */
static int register_metrics(struct metrics *m, const char *name, const struct config_source *cs,
                            const struct log_parser *p, struct metrics_source **ret_ms, char *err,
                            size_t err_size)
{
	char merr[256] = "";
	int r = metrics_add_source(m, name, cs->labels, cs->n_labels, cs->field_labels,
	                           cs->n_field_labels, ret_ms, merr, sizeof(merr));

	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: %s", name,
		               r == -EEXIST ? "duplicate source name"
		               : merr[0]    ? merr
		                            : strerror(-r));
		return r;
	}
	metrics_source_set_filtered(*ret_ms, cs->n_filters > 0);
	metrics_source_set_captures(*ret_ms, metrics_captures_of(p));
	r = metrics_source_set_idle_timeout(*ret_ms, cs->series_idle_ms);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: series_idle_timeout: %s", name,
		               strerror(-r));
		metrics_remove_source(m, *ret_ms);
		return r;
	}
	return 0;
}

/* Once per source start: the format's variables the exporter does not know
 * are read as opaque fields; say which, and where, so a typo ($reqeust_time)
 * is seen at once rather than as a missing histogram. */
static void warn_variables(const struct log_parser *p, const char *name)
{
	char list[2048];
	size_t o = 0, n = logparse_extra_count(p);

	list[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(list); i++) {
		if (!logparse_extra_is_opaque(p, i)) {
			continue;
		}
		int k =
		    snprintf(list + o, sizeof(list) - o, "%s$%s (column %u of the format)",
		             o ? ", " : "", logparse_extra_name(p, i), logparse_extra_column(p, i));
		if (k < 0) {
			break;
		}
		o += (size_t)k;
	}
	if (o == 0) {
		return;
	}
	log_warn("log format uses variables the exporter does not know; they are read as opaque "
	         "fields (a run of non-blank bytes, or the quoted string)",
	         "source", name, "variables", list);
}

/* Every field a label or filter names must be one the format has, at the
 * index the config reader gave it (the same format and capture list
 * compile the same way). */
static int check_one_variable(const struct log_parser *p, const struct config_source *cs,
                              const char *what, const char *variable, size_t want_index, char *err,
                              size_t err_size)
{
	size_t index;

	if (!variable || logparse_extra_find(p, variable, &index) < 0 || index != want_index) {
		(void)snprintf(err, err_size,
		               "source %s: %s: the log format does not capture the field '%s'",
		               cs->name, what, variable ? variable : "");
		return -EINVAL;
	}
	return 0;
}

static int check_variables(const struct log_parser *p, const struct config_source *cs, char *err,
                           size_t err_size)
{
	char what[128];

	for (size_t i = 0; i < cs->n_field_labels; i++) {
		const struct config_field_label *f = &cs->field_labels[i];
		(void)snprintf(what, sizeof(what), "field label %s", f->name);
		if (f->field == CONFIG_FIELD_VARIABLE &&
		    check_one_variable(p, cs, what, f->variable, f->variable_index, err, err_size) <
		        0) {
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < cs->n_filters; i++) {
		const struct config_filter *f = &cs->filters[i];
		(void)snprintf(what, sizeof(what), "filter %zu", i);
		if (f->field == CONFIG_FIELD_VARIABLE &&
		    check_one_variable(p, cs, what, f->variable, f->variable_index, err, err_size) <
		        0) {
			return -EINVAL;
		}
	}
	return 0;
}

/* source_create; prev: the source a reload replaces (its datagram
 * listeners are shared, see input_options.adopt_from), or NULL. */
static int create(const struct config_source *cs, struct metrics *m, bool from_start,
                  const struct source *prev, struct source **ret_source, char *err, size_t err_size)
{
	struct logparse_error perr = {.message = {0}};
	struct input_callbacks cb = {.lines = {.line = on_line,
	                                       .event = on_event,
	                                       .file = on_file,
	                                       .block = on_block,
	                                       .lend = on_lend,
	                                       .from = on_from},
	                             .count = on_count};
	struct source *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		return -ENOMEM;
	}
	cb.lines.userdata = s;
	s->name = strdup(cs->name);
	s->format = strdup(format_label(cs));
	if (!s->name || !s->format) {
		r = -ENOMEM;
		goto fail;
	}
	const char *names[CONFIG_MAX_CAPTURES];
	struct logparse_opts po;
	config_source_parse_opts(cs, names, &po);
	r = logparse_create_opts(cs->kind, cs->format, &po, &s->parser, &perr);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: bad format: %s", cs->name,
		               r == -EINVAL ? perr.message : strerror(-r));
		goto fail;
	}
	r = check_variables(s->parser, cs, err, err_size);
	if (r < 0) {
		goto fail;
	}
	if (cs->path_labels) {
		char perr2[256] = "";
		r = pathlabels_create(cs->path_labels, &s->path_labels, perr2, sizeof(perr2));
		if (r < 0) {
			(void)snprintf(err, err_size, "source %s: %s", cs->name,
			               perr2[0] ? perr2 : strerror(-r));
			goto fail;
		}
		s->file_labels = pathlabels_values(s->path_labels, "");
	}
	if (cs->n_filters > 0) {
		char ferr[256] = "";
		r = filter_set_create(cs->filters, cs->n_filters, &s->filters, ferr, sizeof(ferr));
		if (r < 0) {
			(void)snprintf(err, err_size, "source %s: %s", cs->name,
			               ferr[0] ? ferr : strerror(-r));
			goto fail;
		}
	}
	warn_variables(s->parser, cs->name);
	/* Batches pay off for field labels only; a JSON record points into the
	 * parser's scratch, which the next line overwrites. */
	if (cs->n_field_labels > 0 && parsepool_supports(cs->kind)) {
		s->batch = calloc(1, sizeof(*s->batch));
		if (!s->batch) {
			r = -ENOMEM;
			goto fail;
		}
	}
	s->kind = cs->kind;
	s->format_text = strdup(cs->format ? cs->format : "");
	s->fails = parsefail_ring_create(cs->name, source_format_name(cs));
	if (!s->format_text || !s->fails) {
		r = -ENOMEM;
		goto fail;
	}
	r = register_metrics(m, cs->name, cs, s->parser, &s->ms, err, err_size);
	if (r < 0) {
		goto fail;
	}
	s->m = m;
	s->from_start = from_start;
	struct input_options io = {
	    .name = cs->name,
	    .specs = (const char *const *)cs->paths,
	    .n_specs = cs->n_paths,
	    .syslog_tag = cs->syslog_tag,
	    .syslog_idle_ms = config_source_syslog_idle_ms(cs),
	    .file_gone = on_file_gone,
	    .container = cs->container,
	    .container_streams = cs->container_streams,
	    .adopt_from = prev ? prev->in : NULL,
	};
	r = input_create(&io, &cb, &s->in, err, err_size);
	if (r < 0) {
		char why[512];
		(void)snprintf(why, sizeof(why), "%s", err);
		(void)snprintf(err, err_size, "source %s: %s", cs->name,
		               why[0] ? why : strerror(-r));
		goto fail;
	}
	metrics_source_show_syslog(s->ms, input_has_syslog(s->in));
	*ret_source = s;
	return 0;
fail:
	source_destroy(s);
	return r;
}

void source_set_fdstore(struct source *s, struct fdstore *store)
{
	input_set_fdstore(s->in, store);
}

int source_create(const struct config_source *cs, struct metrics *m, bool from_start,
                  struct source **ret_source, char *err, size_t err_size)
{
	return create(cs, m, from_start, NULL, ret_source, err, err_size);
}

void source_destroy(struct source *s)
{
	if (!s) {
		return;
	}
	parsepool_destroy(s->pool);
	countpool_destroy(s->cpool);
	input_destroy(s->in);
	if (s->ms) {
		metrics_remove_source(s->m, s->ms);
	}
	parsefail_ring_destroy(s->fails);
	filter_set_destroy(s->filters);
	pathlabels_destroy(s->path_labels);
	logparse_destroy(s->parser);
	free(s->batch);
	free(s->format);
	free(s->name);
	free(s->format_text);
	free(s);
}

int source_restore(struct source *s, const struct state_source *saved, uint64_t catchup_max_bytes)
{
	struct fileset_saved fsv;
	int r = 0;

	if (s->started) {
		return -EBUSY;
	}
	if (saved->counters_len &&
	    metrics_source_restore(s->ms, saved->counters, saved->counters_len) < 0) {
		/* Counters without their offsets would double count: drop both. */
		saved = NULL;
		r = -EINVAL;
	}
	if (saved) {
		fsv = (struct fileset_saved){saved->patterns, saved->n_patterns, saved->files,
		                             saved->n_files, saved->saved_at_ns};
	}
	input_set_catchup_limit(s->in, catchup_max_bytes);
	input_start(s->in, s->from_start, saved ? &fsv : NULL, clock_mono_ms());
	s->started = true;
	return r;
}

struct collect {
	struct fileset_saved_file *files;
	size_t n, max;
};

static void collect_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	struct collect *c = ud;

	if (c->n < c->max) {
		/* Borrowed: prev outlives the fileset_start that reads it. */
		c->files[c->n++] = (struct fileset_saved_file){(char *)path, *pos, retired};
	}
}

int source_start_from(struct source *s, const struct source *prev)
{
	struct collect c = {.max = input_file_count(prev->in)};
	const char *const *patterns;
	struct fileset_saved ss = {.n_patterns = input_file_patterns(prev->in, &patterns)};

	if (s->started) {
		return -EBUSY;
	}
	c.files = calloc(c.max ? c.max : 1, sizeof(*c.files));
	if (!c.files) {
		return -ENOMEM;
	}
	input_foreach_position(prev->in, collect_file, &c);
	ss.patterns = (char *const *)patterns;
	ss.files = c.files;
	ss.n_files = c.n;
	input_start(s->in, false, &ss, clock_mono_ms());
	s->started = true;
	free(c.files);
	return 0;
}

/* At most one warning per source per minute while lines fail, with the
 * count since the last one and the newest sample's diagnosis.  --once
 * reports at the end instead (source_parse_report). */
static void warn_parse_errors(struct source *s, uint64_t now)
{
	struct parsefail_sample *smp;
	char n[24];

	if (s->from_start || s->errors == s->errors_at_warn || now < s->next_warn_ms) {
		return;
	}
	smp = malloc(sizeof(*smp));
	if (!smp) {
		return;
	}
	(void)snprintf(n, sizeof(n), "%llu", (unsigned long long)(s->errors - s->errors_at_warn));
	s->errors_at_warn = s->errors;
	s->next_warn_ms = now + WARN_EVERY_MS;
	if (parsefail_latest(s->fails, smp)) {
		log_warn("lines do not match the source's format (counted in "
		         "accesslog_log_parse_errors_total; samples on /debug/parse-errors)",
		         "source", s->name, "format", source_format_name_of(s), "errors_since_last",
		         n, "diagnosis", smp->diag.message);
	}
	free(smp);
}

int64_t source_poll(struct source *s, bool at_eof_is_line)
{
	uint64_t now = clock_mono_ms();
	int64_t total;

	s->lines_this_poll = 0;
	s->now_ms = now;
	if (!s->started) {
		input_start(s->in, s->from_start, NULL, now);
		s->started = true;
	}
	total = input_poll(s->in, now, at_eof_is_line);
	if (s->pool) {
		parsepool_flush(s->pool);
	}
	if (s->cpool) {
		countpool_flush(s->cpool);
	}
	if (s->lines_this_poll) {
		metrics_count(s->ms, METRICS_LINES, s->lines_this_poll);
		s->last_read = clock_unix_seconds();
		metrics_set_last_read(s->ms, s->last_read);
		s->lines += s->lines_this_poll;
		parsefail_set_totals(s->fails, s->lines, s->errors);
		warn_parse_errors(s, now);
	}
	if (!s->from_start) {
		/* series_idle_timeout (a no-op without): --once counts everything
		 * it reads, however long that takes */
		(void)metrics_source_sweep(s->ms);
	}
	return total;
}

static void add_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	state_add_file(ud, path, pos, retired);
}

int source_checkpoint(struct source *s, struct strbuf *b)
{
	struct strbuf counters;
	const char *const *patterns;
	size_t n = input_file_patterns(s->in, &patterns);

	state_add_source(b, s->name);
	for (size_t i = 0; i < n; i++) {
		state_add_pattern(b, patterns[i]);
	}
	input_foreach_position(s->in, add_file, b);
	strbuf_init(&counters, STATE_MAX_BYTES);
	if (metrics_source_save(s->ms, &counters) < 0) {
		b->error = b->error ? b->error : counters.error;
	} else {
		state_end_source(b, counters.data ? counters.data : "", counters.len);
	}
	strbuf_finish(&counters);
	return b->error;
}

bool source_checkpoint_due(struct source *s)
{
	bool due = s->checkpoint_wanted;

	s->checkpoint_wanted = false;
	return due;
}

size_t source_report(const struct source *s)
{
	return input_report(s->in);
}

int source_wait_fd(const struct source *s)
{
	return input_wait_fd(s->in);
}

unsigned source_wait_gather_us(const struct source *s)
{
	return input_wait_gather_us(s->in);
}

const char *source_name(const struct source *s)
{
	return s->name;
}

struct metrics_source *source_metrics(struct source *s)
{
	return s->ms;
}

static bool same_strings(char *const *a, char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i], b[i]) != 0) {
			return false;
		}
	}
	return true;
}

static bool same_opt(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool source_config_equal(const struct config_source *a, const struct config_source *b)
{
	if (strcmp(a->name, b->name) != 0 || a->kind != b->kind ||
	    !same_opt(a->format, b->format) || !same_opt(a->syslog_tag, b->syslog_tag) ||
	    a->n_paths != b->n_paths || !same_strings(a->paths, b->paths, a->n_paths) ||
	    a->n_labels != b->n_labels || a->n_field_labels != b->n_field_labels ||
	    a->n_filters != b->n_filters || !same_opt(a->path_labels, b->path_labels) ||
	    a->container != b->container || a->container_streams != b->container_streams ||
	    config_source_syslog_idle_ms(a) != config_source_syslog_idle_ms(b) ||
	    a->series_idle_ms != b->series_idle_ms) {
		return false;
	}
	for (size_t i = 0; i < a->n_filters; i++) {
		if (!config_filter_equal(&a->filters[i], &b->filters[i])) {
			return false;
		}
	}
	for (size_t i = 0; i < a->n_labels; i++) {
		if (strcmp(a->labels[i].name, b->labels[i].name) != 0 ||
		    strcmp(a->labels[i].value, b->labels[i].value) != 0) {
			return false;
		}
	}
	for (size_t i = 0; i < a->n_field_labels; i++) {
		if (!config_field_label_equal(&a->field_labels[i], &b->field_labels[i])) {
			return false;
		}
	}
	return true;
}

int source_move(struct source *s, struct metrics *dst, const struct config_source *cs, char *err,
                size_t err_size)
{
	struct metrics_source *ms = NULL;
	struct strbuf saved;
	int r;

	strbuf_init(&saved, STATE_MAX_BYTES);
	r = metrics_source_save(s->ms, &saved);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: %s", s->name, strerror(-r));
		goto out;
	}
	r = register_metrics(dst, s->name, cs, s->parser, &ms, err, err_size);
	if (r < 0) {
		goto out;
	}
	r = metrics_source_restore(ms, saved.data ? saved.data : "", saved.len);
	if (r < 0) {
		(void)snprintf(err, err_size, "source %s: cannot carry its counters", s->name);
		metrics_remove_source(dst, ms);
		goto out;
	}
	metrics_remove_source(s->m, s->ms);
	metrics_source_show_syslog(ms, input_has_syslog(s->in));
	s->m = dst;
	s->ms = ms;
	if (s->last_read > 0) {
		metrics_set_last_read(ms, s->last_read);
	}
	input_announce(s->in);
out:
	strbuf_finish(&saved);
	return r;
}

/* ---- config reload: all or nothing (design at the top of this file) ---- */

struct swap {
	const struct config_source *next;
	size_t n_next;
	struct metrics *scratch; /* where new sources are built */
	struct metrics *parking; /* where replaced sources' metrics wait for the commit */
	struct source *built[CONFIG_MAX_SOURCES]; /* per next[i]: new source, NULL: kept */
	int keep[CONFIG_MAX_SOURCES];             /* per next[i]: kept set index, or -1 */
	int prev[CONFIG_MAX_SOURCES];             /* per next[i]: replaced set index, or -1 */
	bool old_used[CONFIG_MAX_SOURCES];        /* per set index: kept or replaced */
	bool old_parked[CONFIG_MAX_SOURCES];      /* per next[i]: prev's metrics are parked */
	bool new_moved[CONFIG_MAX_SOURCES];       /* per next[i]: built[i] is in the registry */
};

static int find_old(const struct source_set *set, struct swap *sw, const struct config_source *cs,
                    bool exact)
{
	for (size_t k = 0; k < set->n; k++) {
		if (!sw->old_used[k] && (exact ? source_config_equal(set->cfg[k], cs)
		                               : strcmp(set->cfg[k]->name, cs->name) == 0)) {
			sw->old_used[k] = true;
			return (int)k;
		}
	}
	return -1;
}

/* Which running source each next[i] keeps or replaces. */
static void swap_match(struct swap *sw, const struct source_set *set)
{
	for (size_t i = 0; i < sw->n_next; i++) {
		sw->keep[i] = find_old(set, sw, &sw->next[i], true);
	}
	for (size_t i = 0; i < sw->n_next; i++) {
		sw->prev[i] = sw->keep[i] < 0 ? find_old(set, sw, &sw->next[i], false) : -1;
	}
}

/* Prepare: build every new or changed source in the scratch registry. */
static int swap_build(struct swap *sw, const struct source_set *set,
                      const struct metrics_options *mo, char *err, size_t err_size)
{
	sw->scratch = metrics_create(mo);
	sw->parking = metrics_create(mo);
	if (!sw->scratch || !sw->parking) {
		(void)snprintf(err, err_size, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < sw->n_next; i++) {
		if (sw->keep[i] < 0) {
			const struct source *prev =
			    sw->prev[i] >= 0 ? set->sources[sw->prev[i]] : NULL;
			int r = create(&sw->next[i], sw->scratch, false, prev, &sw->built[i], err,
			               err_size);
			if (r < 0) {
				sw->built[i] = NULL;
				return r;
			}
			source_set_fdstore(sw->built[i], set->fdstore);
		}
	}
	return 0;
}

/* Undo a commit in progress: new sources out, replaced ones back in m. */
static void swap_undo(struct swap *sw, struct source_set *set, struct metrics *m)
{
	char err[256];

	for (size_t i = 0; i < sw->n_next; i++) {
		if (sw->new_moved[i]) {
			source_destroy(sw->built[i]);
			sw->built[i] = NULL;
			sw->new_moved[i] = false;
		}
	}
	for (size_t i = 0; i < sw->n_next; i++) {
		int k = sw->prev[i];
		if (!sw->old_parked[i]) {
			continue;
		}
		sw->old_parked[i] = false;
		if (source_move(set->sources[k], m, set->cfg[k], err, sizeof(err)) < 0) {
			/* The double allocation failure of the design comment. */
			log_error("reload rollback: source lost", "source", set->cfg[k]->name,
			          "error", err);
			source_destroy(set->sources[k]);
			set->sources[k] = NULL;
		}
	}
	size_t n = 0;
	for (size_t k = 0; k < set->n; k++) {
		if (set->sources[k]) {
			set->cfg[n] = set->cfg[k];
			set->sources[n++] = set->sources[k];
		}
	}
	set->n = n;
}

/* Commit: park replaced sources' metrics, move the built ones into m. */
static int swap_commit(struct swap *sw, struct source_set *set, struct metrics *m, char *err,
                       size_t err_size)
{
	int r;

	for (size_t i = 0; i < sw->n_next; i++) {
		int k = sw->prev[i];
		if (k >= 0) {
			r = source_move(set->sources[k], sw->parking, set->cfg[k], err, err_size);
			if (r < 0) {
				return r;
			}
			sw->old_parked[i] = true;
		}
	}
	for (size_t i = 0; i < sw->n_next; i++) {
		if (sw->built[i]) {
			r = source_move(sw->built[i], m, &sw->next[i], err, err_size);
			if (r < 0) {
				return r;
			}
			sw->new_moved[i] = true;
		}
	}
	return 0;
}

static uint64_t lines_of(const struct source *s)
{
	return metrics_get(s->ms, METRICS_LINES);
}

/* After the commit: start next[i]'s source s; a changed one continues
 * from the positions of the source it replaces, a new one (or a failed
 * handover, -ENOMEM) starts at the end of its files as at start-up. */
static void swap_start(struct swap *sw, struct source_set *set, size_t i, struct source *s)
{
	struct source *prev = sw->prev[i] >= 0 ? set->sources[sw->prev[i]] : NULL;

	if (prev) {
		input_take_over(s->in, prev->in); /* shared sockets, before prev goes */
	}
	if (prev && source_start_from(s, prev) == 0) {
		/* The old counters go away: say what they had reached. */
		char n[24];
		(void)snprintf(n, sizeof(n), "%llu", (unsigned long long)lines_of(prev));
		log_info("source changed; continuing from its file positions", "source",
		         sw->next[i].name, "lines_before", n);
		source_log_summary(s);
		return;
	}
	(void)source_poll(s, false);
	log_info("source added", "source", sw->next[i].name);
	source_log_summary(s);
}

/* After the commit: start the new sources, drop the old ones, adopt next. */
static void swap_finish(struct swap *sw, struct source_set *set)
{
	struct source_set out = {.n = 0};

	for (size_t i = 0; i < sw->n_next; i++) {
		struct source *s = sw->keep[i] >= 0 ? set->sources[sw->keep[i]] : sw->built[i];
		if (sw->keep[i] < 0) {
			swap_start(sw, set, i, s);
		}
		sw->built[i] = NULL;
		out.cfg[out.n] = &sw->next[i];
		out.sources[out.n++] = s;
	}
	for (size_t k = 0; k < set->n; k++) {
		bool kept = false;
		for (size_t i = 0; i < sw->n_next; i++) {
			kept = kept || sw->keep[i] == (int)k;
		}
		if (!kept) {
			if (!sw->old_used[k]) {
				log_info("source removed", "source", set->cfg[k]->name);
			}
			source_destroy(set->sources[k]);
		}
	}
	*set = out;
}

int source_set_replace(struct source_set *set, struct metrics *m, const struct metrics_options *mo,
                       const struct config_source *next, size_t n_next, char *err, size_t err_size)
{
	struct swap sw = {.next = next, .n_next = n_next};
	int r;

	if (n_next > CONFIG_MAX_SOURCES) {
		(void)snprintf(err, err_size, "too many sources");
		return -EINVAL;
	}
	swap_match(&sw, set);
	r = swap_build(&sw, set, mo, err, err_size);
	if (r == 0) {
		r = swap_commit(&sw, set, m, err, err_size);
		if (r < 0) {
			swap_undo(&sw, set, m);
		}
	}
	if (r == 0) {
		swap_finish(&sw, set);
	}
	for (size_t i = 0; i < n_next; i++) {
		source_destroy(sw.built[i]); /* built but not committed */
	}
	metrics_destroy(sw.parking);
	metrics_destroy(sw.scratch);
	return r;
}

struct status_ctx {
	struct snapshot *snap;
	int error;
};

/* The input layer's file states as the status page names them. */
static const enum snapshot_file_state status_state[] = {
    [FILESET_FILE_OPEN] = SNAPSHOT_FILE_OPEN,
    [FILESET_FILE_ROTATED] = SNAPSHOT_FILE_ROTATED,
    [FILESET_FILE_MISSING] = SNAPSHOT_FILE_MISSING,
    [FILESET_FILE_NO_MATCH] = SNAPSHOT_FILE_NO_MATCH,
};

static void add_status_file(void *ud, const struct fileset_file_status *f)
{
	struct status_ctx *cx = ud;
	struct snapshot_file sf = {
	    .path = f->path,
	    .state = status_state[f->state],
	    .error = f->error,
	    .offset = f->offset,
	    .size = f->size,
	    .last_data = f->last_data,
	};
	int r = snapshot_add_file(cx->snap, &sf);

	if (r < 0) {
		cx->error = r;
	}
}

int source_snapshot(const struct source *s, struct snapshot *snap, uint64_t now_ms, double now_unix)
{
	struct status_ctx cx = {.snap = snap};
	int r = snapshot_add_source(snap, s->name, s->format, metrics_get(s->ms, METRICS_LINES),
	                            metrics_get(s->ms, METRICS_PARSE_ERRORS), s->last_read);

	if (r < 0) {
		return r;
	}
	input_snapshot(s->in, now_ms, now_unix, add_status_file, &cx);
	return cx.error;
}

void source_attach_debug(struct source *s, struct parsefail_board *board)
{
	if (parsefail_attach(board, s->fails) < 0) {
		log_warn("debug page full: this source's parse failures are not shown", "source",
		         s->name);
	}
}

int source_parse_report(const struct source *s)
{
	struct parsefail_sample *smp = malloc(PARSEFAIL_RING * sizeof(*smp));
	char lines[24], errors[24];
	size_t n;

	(void)snprintf(lines, sizeof(lines), "%llu", (unsigned long long)s->lines);
	(void)snprintf(errors, sizeof(errors), "%llu", (unsigned long long)s->errors);
	if (s->errors == 0) {
		log_info("--once: source read", "source", s->name, "format",
		         source_format_name_of(s), "lines", lines, "parse_errors", errors);
		free(smp);
		return 0;
	}
	log_warn("--once: lines did not match the source's format", "source", s->name, "format",
	         source_format_name_of(s), "lines", lines, "parse_errors", errors);
	n = smp ? parsefail_copy(s->fails, smp) : 0;
	for (size_t i = 0; i < n; i++) {
		struct strbuf b;
		strbuf_init(&b, 4 * PARSEFAIL_LINE_MAX + 64);
		(void)parsefail_put_line(&b, smp[i].line, smp[i].kept);
		if (smp[i].kept < smp[i].line_len) {
			(void)strbuf_puts(&b, "...");
		}
		log_warn("--once: parse failure", "source", s->name, "diagnosis",
		         smp[i].diag.message, "line", b.data ? b.data : "");
		strbuf_finish(&b);
	}
	free(smp);
	if (s->lines > 0 && s->errors == s->lines) {
		log_error("--once: no line of the source matched its format; find the right one "
		          "with --detect FILE (exit status 3)",
		          "source", s->name, "format", source_format_name_of(s));
		return 1;
	}
	return 0;
}

/* Which server setting adds a request time to lines of this source. */
static const char *request_time_hint(const struct source *s)
{
	static const struct {
		const char *format; /* preset name, or NULL for a kind */
		enum logparse_kind kind;
		const char *hint;
	} hints[] = {
	    {"main", LOGPARSE_PRESET, "$request_time to the nginx log_format"},
	    {"ingress", LOGPARSE_PRESET, "$request_time to the nginx log_format"},
	    {"vhost_combined", LOGPARSE_PRESET, "%D to the Apache LogFormat"},
	    {NULL, LOGPARSE_NGINX, "$request_time (and $upstream_response_time) to the log_format"},
	    {NULL, LOGPARSE_APACHE, "%D (microseconds) to the LogFormat"},
	    {NULL, LOGPARSE_REGEX, "a (?<request_time>...) group (seconds) to the regex"},
	    {NULL, LOGPARSE_JSON, "a request_time key (seconds) to the JSON lines"},
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		if (hints[i].kind == s->kind &&
		    (!hints[i].format || strcmp(hints[i].format, s->format_text) == 0)) {
			return hints[i].hint;
		}
	}
	return "$request_time to the nginx log_format, or %D to the Apache LogFormat";
}

struct file_list {
	struct strbuf b;
	size_t n;
};

static void list_file(void *ud, const char *path, const struct tail_position *pos, bool retired)
{
	struct file_list *l = ud;

	(void)pos;
	if (retired) {
		return;
	}
	if (l->n < 8) {
		(void)strbuf_printf(&l->b, "%s%s", l->n ? "," : "", path);
	} else if (l->n == 8) {
		(void)strbuf_puts(&l->b, ",...");
	}
	l->n++;
}

static void list_missing(void *ud, const char *pattern, int err)
{
	struct file_list *l = ud;

	if (l->n < 8) {
		(void)strbuf_printf(&l->b, "%s%s (%s)", l->n ? "," : "", pattern,
		                    err == ENOENT ? "missing or matching nothing" : strerror(err));
	}
	l->n++;
}

void source_log_summary(const struct source *s)
{
	struct file_list files = {.n = 0}, missing = {.n = 0};
	struct strbuf fields;
	char nfiles[24];

	strbuf_init(&fields, 512);
	strbuf_init(&files.b, 8192);
	strbuf_init(&missing.b, 8192);
	bool has[LOGFORMAT_FIELD_COUNT];
	for (unsigned f = 0; f < LOGFORMAT_FIELD_COUNT; f++) {
		has[f] = logparse_has_field(s->parser, f);
	}
	/* "$request" / "%r" yields these three */
	has[LOGFORMAT_FIELD_METHOD] |= has[LOGFORMAT_FIELD_REQUEST];
	has[LOGFORMAT_FIELD_PATH] |= has[LOGFORMAT_FIELD_REQUEST];
	has[LOGFORMAT_FIELD_PROTOCOL] |= has[LOGFORMAT_FIELD_REQUEST];
	has[LOGFORMAT_FIELD_REQUEST] = false;
	for (unsigned f = 1; f < LOGFORMAT_FIELD_COUNT; f++) {
		if (has[f]) {
			(void)strbuf_printf(&fields, "%s%s", fields.len ? "," : "",
			                    logformat_field_name((enum logformat_field)f));
		}
	}
	input_foreach_position(s->in, list_file, &files);
	input_foreach_missing(s->in, list_missing, &missing);
	(void)snprintf(nfiles, sizeof(nfiles), "%zu", files.n);
	log_info("source", "source", s->name, "format", source_format_name_of(s), "fields",
	         fields.data ? fields.data : "", "files", nfiles, "following",
	         files.b.data ? files.b.data : "", "missing", missing.b.data ? missing.b.data : "");
	if (s->kind != LOGPARSE_PRESET) {
		log_info("source format", "source", s->name, "log_format", s->format_text);
	}
	if (!logparse_has_field(s->parser, LOGFORMAT_FIELD_TIME_S) &&
	    !logparse_has_field(s->parser, LOGFORMAT_FIELD_TIME_MS) &&
	    !logparse_has_field(s->parser, LOGFORMAT_FIELD_TIME_US)) {
		char hint[160];
		(void)snprintf(hint, sizeof(hint), "add %s", request_time_hint(s));
		log_info("the format has no request time: "
		         "accesslog_http_request_duration_seconds stays empty",
		         "source", s->name, "fix", hint);
	}
	strbuf_finish(&missing.b);
	strbuf_finish(&files.b);
	strbuf_finish(&fields);
}
