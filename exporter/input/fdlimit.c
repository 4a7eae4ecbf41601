/*
 * fdlimit.c - descriptor limit and reserve (see fdlimit.h).
 *
 * The plan is a pure function of the soft limit, read again at every log
 * file open (one getrlimit: opens are rare, and a limit changed with
 * prlimit(1) while running is honoured).  Rejected: a counter of open log
 * files shared by all sources (every open and close in every input would
 * have to keep it right, and it would not see descriptors others hold),
 * and probing with dup() before each open (two syscalls for the same
 * answer).
 */
#include "exporter/input/fdlimit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

int fdlimit_raise(uint64_t *ret_before, uint64_t *ret_after)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		return -errno;
	}
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FDLIMIT_MAX_SOFT ? FDLIMIT_MAX_SOFT
	                                                                      : rl.rlim_max;
	*ret_before = (uint64_t)rl.rlim_cur;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			return -errno;
		}
	}
	*ret_after = (uint64_t)rl.rlim_cur;
	return 0;
}

void fdlimit_plan(uint64_t limit, struct fdlimit_plan *ret)
{
	uint64_t above = limit > FDLIMIT_BASE_RESERVE ? limit - FDLIMIT_BASE_RESERVE : 0;
	uint64_t conns = above / 4;

	if (conns < 4) {
		conns = 4;
	}
	if (conns > FDLIMIT_MAX_HTTP_CONNECTIONS) {
		conns = FDLIMIT_MAX_HTTP_CONNECTIONS;
	}
	ret->limit = limit;
	ret->http_connections = (unsigned)conns;
	ret->reserve = FDLIMIT_BASE_RESERVE + conns;
	ret->files_ceiling = limit > ret->reserve ? limit - ret->reserve : 0;
}

void fdlimit_plan_now(struct fdlimit_plan *ret)
{
	struct rlimit rl;
	uint64_t limit = FDLIMIT_MAX_SOFT;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		limit = (uint64_t)rl.rlim_cur;
	}
	fdlimit_plan(limit, ret);
}

int fdlimit_open(int dirfd, const char *path)
{
	struct fdlimit_plan plan;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		return -errno;
	}
	fdlimit_plan_now(&plan);
	if ((uint64_t)fd >= plan.files_ceiling) {
		close(fd);
		return -EMFILE;
	}
	return fd;
}
