/*
 * metrics_impl.h - the registry's private data, shared by its files:
 * metrics.c (sources, the hot path, gauges), metrics_render.c (exposition),
 * metrics_checkpoint.c (save and restore) and metrics_idle.c (idle series
 * removed).  Nothing outside these files
 * includes it; everyone else sees the opaque types of metrics.h.
 */
#ifndef EXPORTER_METRICS_IMPL_H
#define EXPORTER_METRICS_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "exporter/metrics/birthmap.h"
#include "exporter/metrics/exemplar.h"
#include "exporter/metrics/metrics.h"
#include "exporter/metrics/nhist.h"
#include "exporter/metrics/routecache.h"
#include "exporter/metrics/series.h"
#include "parsers/status.h"

#define METRICS_MAX_SOURCES 1024
#define N_METHODS 17u
#define METHOD_OTHER 16u
#define N_CLASSES 6u
#define CLASS_INVALID 5u
#define MAX_BUCKETS 64u

/* The histograms of a source, in family order.  The first two (request
 * and upstream duration) are always there (unless metrics.histograms is
 * false) and carry native histograms and exemplars; the others are classic
 * only, exist when their buckets are configured (metrics_options) and are
 * shown by a source whose format captures their field
 * (metrics_source_set_captures). */
enum hist_kind {
	HIST_REQUEST,
	HIST_UPSTREAM,
	HIST_REQUEST_SIZE,
	HIST_RESPONSE_SIZE,
	HIST_UPSTREAM_CONNECT,
	HIST_UPSTREAM_HEADER,
	N_HIST,
};
#define HIST_FIRST_OPTIONAL HIST_REQUEST_SIZE

/* Ids of the flat series of a source in its birthmap: one per response cell,
 * then one per (method, class) for bytes and each histogram. */
#define ID_RESPONSES 0u
#define ID_BYTES (N_METHODS * STATUS_SLOTS)
#define ID_REQUEST (ID_BYTES + N_METHODS * N_CLASSES)
#define ID_HIST(h) (ID_REQUEST + (unsigned)(h)*N_METHODS * N_CLASSES)
#define ID_UPSTREAM ID_HIST(HIST_UPSTREAM)
#define ID_COUNT ID_HIST(N_HIST)

/* Label values of the method and class dimensions (metrics.c). */
extern const char *const metrics_method_names[N_METHODS];
extern const char *const metrics_class_names[N_CLASSES];

struct histogram {
	bool on;         /* counts allocated: the registry has this histogram */
	size_t n_bounds; /* finite bounds; bucket n_bounds is +Inf */
	double bounds[MAX_BUCKETS];
	_Atomic uint64_t *counts;                        /* [N_METHODS][N_CLASSES][n_bounds + 1] */
	_Atomic uint64_t sum_bits[N_METHODS][N_CLASSES]; /* double stored as bits */
	char le[MAX_BUCKETS + 1][32];                    /* le label values, "+Inf" last */
	size_t le_len[MAX_BUCKETS + 1];
	/* Native histograms: the registry's layout (NULL: off), and per row a
	 * struct nhist * as bits (0 until the row's first observation).  A
	 * field-label series keeps its pointer in the value after the sum. */
	const struct nhist_layout *native;
	_Atomic uint64_t nh[N_METHODS][N_CLASSES];
	/* Exemplars: per row a struct exemplar[n_bounds + 1] as bits (0 until
	 * the row's first line with an id); a field-label series keeps its
	 * pointer in value ex_cell (after the sum and the native pointer). */
	_Atomic uint64_t ex[N_METHODS][N_CLASSES];
	size_t ex_cell;
};

/* The struct exemplar * (an array for histograms) stored in a value cell. */
static inline struct exemplar *ex_get(const _Atomic uint64_t *cell)
{
	return (struct exemplar *)(uintptr_t)atomic_load_explicit(cell, memory_order_acquire);
}

/* The struct nhist * stored in a value cell (writer publishes with release). */
_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "a pointer fits a value cell");
static inline struct nhist *nh_get(const _Atomic uint64_t *cell)
{
	return (struct nhist *)(uintptr_t)atomic_load_explicit(cell, memory_order_acquire);
}

/* Series-table families of a source with field labels. */
enum family {
	FAM_RESPONSES,
	FAM_BYTES,
	FAM_REQUEST,
	FAM_UPSTREAM,
	FAM_REQUEST_SIZE,
	FAM_RESPONSE_SIZE,
	FAM_UPSTREAM_CONNECT,
	FAM_UPSTREAM_HEADER,
	FAM_COUNT,
};
#define FAM_HIST(h) (FAM_REQUEST + (unsigned)(h))
_Static_assert(FAM_HIST(N_HIST) == FAM_COUNT, "one family per histogram");
/* Routes cache the cells of the first four families; the optional
 * histograms' series are found in their tables (series_family_get). */
_Static_assert(FAM_HIST(HIST_FIRST_OPTIONAL) <= ROUTECACHE_CELLS, "a route has their cells");

struct file_gauge {
	char *path;
	atomic_bool open;
};

struct metrics_source {
	char *name;
	struct config_label *labels;
	size_t n_labels;
	char *base_frag; /* 'source="x",static="y"' escaped once, reused by every sample */
	size_t base_frag_len;
	char *base_pb; /* the same as protobuf LabelPairs */
	size_t base_pb_len;
	_Atomic uint64_t counters[METRICS_COUNTER_COUNT];
	_Atomic uint64_t last_read_bits;
	_Atomic uint64_t responses[N_METHODS][STATUS_SLOTS];
	_Atomic uint64_t bytes[N_METHODS][N_CLASSES];
	struct histogram hist[N_HIST];
	unsigned captures;            /* METRICS_CAPTURES_*: optional histograms shown */
	struct series_tuples *tuples; /* NULL: no field labels, flat arrays */
	bool no_hist;                 /* copy of the registry's, next to the hot data */
	bool no_ex;                   /* the same for exemplars */
	bool opt_on;                  /* some optional histogram is on */
	/* Exemplars of the flat response counters: an array of
	 * [N_METHODS * STATUS_SLOTS] cells (each a struct exemplar * as bits),
	 * allocated at the first line with an id; 0 until then. */
	_Atomic uint64_t ex_resp;
	/* The last line time parsed for an exemplar and its value (writer
	 * only): a log's time text changes once a second, so most lines with
	 * an id compare it instead of parsing it again. */
	char ex_time_text[48];
	size_t ex_time_len;
	int64_t ex_time_ms;
	struct series_family *fam[FAM_COUNT]; /* with field labels */
	struct routecache *routes;            /* with field labels: raw values -> cells */
	pthread_mutex_t files_lock;           /* guards changing files[] */
	pthread_mutex_t *render_lock;         /* the registry's lock: held to remove from files[] */
	struct file_gauge files[METRICS_MAX_FILES];
	atomic_size_t n_files;
	const struct clock_wall *clock; /* the registry's */
	struct birthmap *births;        /* creation times of the flat series */
	_Atomic int64_t last_birth_ms;  /* newest of them: none young when older than the hold */
	_Atomic int64_t created_ms;  /* the source's creation (per-source families); 0: unknown */
	atomic_bool show_syslog;     /* render the METRICS_SYSLOG_* counters */
	struct sum_journal *journal; /* metrics_source_journal_sums, else NULL */
	bool filtered;               /* has filters: exposes lines_dropped */
	/* series_idle_timeout (metrics_source_set_idle_timeout): each series of
	 * a family keeps, in value idle_cell[f], when it last counted a line
	 * (idle_now, the idle clock read per batch and per sweep); a sweep
	 * removes the ones older than idle_ms.  0: off, no stamps. */
	_Atomic int64_t idle_ms;
	bool idle_on; /* idle_ms > 0, for the writer's hot path */
	int64_t idle_now;
	uint32_t idle_lines; /* lines counted one by one (metrics_observe) */
	int64_t idle_next;   /* no sweep before this (idle clock) */
	size_t idle_cell[FAM_COUNT];
};

/* Histogram values in observation order (metrics_source_journal_sums). */
struct sum_entry {
	double v;
	uint32_t cell; /* enum hist_kind << 16 | method << 8 | class */
};
struct sum_journal {
	struct sum_entry *e;
	size_t n, cap;
	bool failed; /* out of memory: sums added in place from then on */
};

/* One label set rendered once for every sample that has it: text
 * ('method="GET"', escaped) and protobuf (LabelPair fields). */
struct label_frag {
	char *text;
	size_t text_len;
	char *pb;
	size_t pb_len;
};

struct metrics {
	pthread_mutex_t lock; /* guards the source list */
	struct metrics_source **sources;
	size_t n_sources;
	double bucket[N_HIST][MAX_BUCKETS];
	size_t n_bucket[N_HIST]; /* 0: no such histogram (optional ones only) */
	_Atomic uint64_t checkpoint_bits;
	_Atomic uint64_t reload_ok;      /* 0/1, last configuration reload */
	_Atomic uint64_t reload_ok_bits; /* unix time of the last successful load */
	bool no_class;
	bool no_reason;
	bool no_hist;
	bool no_ex; /* no exemplars */
	size_t series_limit;
	int64_t hold_ms; /* new-series hold, 0: off */
	bool created;    /* OpenMetrics _created samples */
	struct clock_wall clock;
	struct nhist_layout native; /* native histograms, when has_native */
	bool has_native;
	char *slot_frag[STATUS_SLOTS]; /* 'code="404",class="4xx",reason="Not Found"' */
	size_t slot_frag_len[STATUS_SLOTS];
	char *slot_pb[STATUS_SLOTS]; /* the same as protobuf LabelPairs */
	size_t slot_pb_len[STATUS_SLOTS];
	struct label_frag method_frag[N_METHODS]; /* method="GET" */
	struct label_frag class_frag[N_CLASSES];  /* class="2xx" */
	bool has_frags; /* the fragments above are made (metrics_make_fragments) */
};

/* Make the label fragments of m on its first render (under m->lock): a
 * registry that is only counted and merged never pays for them.  0 or
 * -ENOMEM (none kept; the next call tries again). */
int metrics_make_fragments(struct metrics *m);

static inline void inc(_Atomic uint64_t *c, uint64_t d)
{
	/* Single writer: a relaxed load + store is enough and avoids a locked RMW. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
	                      memory_order_relaxed);
}

/* The same, stopping at UINT64_MAX instead of wrapping (a counter that goes
 * backwards would read as a reset): for adds of values from the log. */
static inline void inc_sat(_Atomic uint64_t *c, uint64_t d)
{
	uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
	atomic_store_explicit(c, v > UINT64_MAX - d ? UINT64_MAX : v + d, memory_order_relaxed);
}

static inline uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static inline double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static inline unsigned class_of_slot(unsigned slot)
{
	return slot >= STATUS_SLOT_INVALID ? CLASS_INVALID : slot / 100u;
}

/* Record that flat series id of s was created at unix_ms (> 0; the first
 * record wins) and keep last_birth_ms the newest such time, so renders know
 * when no series of s can be young.  Writer only (ingestion or restore),
 * before the series' first count is stored. */
void metrics_source_birth(struct metrics_source *s, uint32_t id, int64_t unix_ms);

/* Whether s shows family fam: responses, bytes and the duration
 * histograms always (the render skips histograms with metrics.histograms
 * false), an optional histogram when the registry has it and the source's
 * format captures its field. */
static inline bool fam_shown(const struct metrics_source *s, unsigned fam)
{
	unsigned h = fam - FAM_REQUEST;

	return fam < FAM_HIST(HIST_FIRST_OPTIONAL) ||
	       (s->hist[h].on && (s->captures & (1u << (h - HIST_FIRST_OPTIONAL))));
}

/* Writer: leave the idle clock on the series v of family f that a line counts in
 * (series_idle_timeout): a store into a line the count writes anyway
 * (metrics_idle.c). */
static inline void idle_touch(const struct metrics_source *s, _Atomic uint64_t *v, unsigned f)
{
	if (__builtin_expect(s->idle_on, 0) && v) {
		atomic_store_explicit(&v[s->idle_cell[f]], (uint64_t)s->idle_now,
		                      memory_order_relaxed);
	}
}

/* The clock of series_idle_timeout in ms: the registry's injected clock
 * (tests), else the monotonic one (metrics_idle.c). */
int64_t metrics_idle_clock(const struct metrics_source *s);

/* Whether a row has a count: four cells per test (the cell-by-cell loop was
 * most of a merge, which checks every row of every histogram). */
static inline bool row_any(const _Atomic uint64_t *row, size_t n)
{
	uint64_t v = 0;
	size_t k = 0;

	for (; k + 4 <= n; k += 4) {
		v = get(&row[k]) | get(&row[k + 1]) | get(&row[k + 2]) | get(&row[k + 3]);
		if (v) {
			return true;
		}
	}
	for (; k < n; k++) {
		v |= get(&row[k]);
	}
	return v != 0;
}

static inline _Atomic uint64_t *hist_row(const struct histogram *h, unsigned method, unsigned cls)
{
	return h->counts + ((size_t)method * N_CLASSES + cls) * (h->n_bounds + 1);
}

#endif
