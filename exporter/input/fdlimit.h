/*
 * fdlimit.h - file descriptors: the process limit, and the share of it log
 * files may take.
 *
 * At start the daemon raises the soft RLIMIT_NOFILE to the hard one
 * (fdlimit_raise) and plans the limit (fdlimit_plan): a reserve stays free
 * for the HTTP server (its connections, epoll and wake-up descriptors) and
 * for short-lived ones (the state file and its directory, /proc reads,
 * config reloads, glob directories), and log files may only take what is
 * below it.  Log files are opened through fdlimit_open, which refuses
 * (-EMFILE) a descriptor that lands inside the reserve: Linux hands out the
 * lowest free number, so a descriptor at or above the ceiling means that
 * every number below it is in use.  The rule needs no shared counter, so
 * every source (and every input kind) obeys the same per-process budget.
 */
#ifndef EXPORTER_INPUT_FDLIMIT_H
#define EXPORTER_INPUT_FDLIMIT_H

#include <stdint.h>

/* Descriptors kept for everything but log files and HTTP connections. */
#define FDLIMIT_BASE_RESERVE 24u
/* HTTP connections planned for at most (http.h's HTTP_MAX_CONNECTIONS). */
#define FDLIMIT_MAX_HTTP_CONNECTIONS 256u
/* The soft limit is raised at most this far (a huge hard limit would only
 * make per-descriptor tables of libraries bigger). */
#define FDLIMIT_MAX_SOFT (1u << 20)

struct fdlimit_plan {
	uint64_t limit;            /* the soft RLIMIT_NOFILE */
	unsigned http_connections; /* connections the HTTP server may hold */
	uint64_t reserve;          /* descriptors log files never take */
	uint64_t files_ceiling;    /* limit - reserve: log files only below it */
};

/* Raise the soft descriptor limit to the hard one (at most
 * FDLIMIT_MAX_SOFT).  *ret_before and *ret_after (the soft limit before
 * and after) are written on success.  0 or -errno. */
int fdlimit_raise(uint64_t *ret_before, uint64_t *ret_after);

/* The plan for a soft limit of limit descriptors: HTTP connections are a
 * quarter of what is above the base reserve, at least 4, at most
 * FDLIMIT_MAX_HTTP_CONNECTIONS. */
void fdlimit_plan(uint64_t limit, struct fdlimit_plan *ret);

/* The plan for the current soft limit (unlimited: FDLIMIT_MAX_SOFT). */
void fdlimit_plan_now(struct fdlimit_plan *ret);

/* openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) for a log file,
 * refused with -EMFILE when the descriptor would be inside the reserve of
 * the current soft limit.  The descriptor, or -errno. */
int fdlimit_open(int dirfd, const char *path);

#endif
