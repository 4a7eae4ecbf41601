/*
 * procstat.c - process_* metrics from /proc/self (see procstat.h).
 *
 * /proc/self/stat gives CPU ticks, start time (ticks since boot), virtual
 * size and resident pages; /proc/stat's btime turns the start time into
 * Unix time; /proc/self/fd is counted for open descriptors and getrlimit
 * gives the limit.  Everything is read on each scrape (a few syscalls,
 * microseconds) so there is no background thread and no stale value.
 *
 * The comm field in /proc/self/stat may contain spaces and parentheses, so
 * fields are counted from the last ')'.
 */
#include "exporter/http/procstat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define READ_CAP 4096

/* Read a small /proc file into buf (NUL-terminated). */
static int read_small(const char *path, char *buf, size_t size, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0) {
		return -errno;
	}
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

/* Parse the unsigned decimal at *p, advance past it and one separator. */
static bool next_u64(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s >= end || *s < '0' || *s > '9') {
		return false;
	}
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s < end ? s + 1 : s;
	*ret = v;
	return true;
}

/* Skip n space-separated fields. */
static const char *skip_fields(const char *p, const char *end, unsigned n)
{
	while (n && p < end) {
		if (*p++ == ' ') {
			n--;
		}
	}
	return p;
}

/* btime from /proc/stat, read in READ_CAP pieces: the file has a line per
 * CPU and an interrupt line that can run to hundreds of kB, and a buffer
 * for all of it (malloc'd per scrape, as before) raised glibc's mmap
 * threshold, which kept every later multi-MiB block in the arenas. */
static int boot_time(uint64_t *ret)
{
	static const char key[] = "\nbtime ";
	const size_t klen = sizeof(key) - 1;
	char buf[READ_CAP];
	size_t have = 1, keep;
	int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
	int r = -EIO;

	if (fd < 0) {
		return -errno;
	}
	buf[0] = '\n'; /* a first line "btime ..." starts a line too */
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			break;
		}
		have += (size_t)n;
		const char *p = memmem(buf, have, key, klen);
		if (p != NULL) {
			const char *v = p + klen, *end = memchr(v, '\n', (size_t)(buf + have - v));
			if (end != NULL || n == 0) {
				r = next_u64(&v, end != NULL ? end : buf + have, ret) ? 0 : -EIO;
				break;
			}
			keep = have - (size_t)(p - buf); /* the line goes on: keep it */
		} else {
			keep = have < klen ? have : klen - 1; /* a key cut by the read */
		}
		if (n == 0 || keep == sizeof(buf) - 1) {
			break; /* no btime, or a btime line longer than the buffer */
		}
		memmove(buf, buf + have - keep, keep);
		have = keep;
	}
	(void)close(fd);
	return r;
}

static int count_fds(uint64_t *ret)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!d) {
		return -errno;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	(void)closedir(d);
	*ret = n ? n - 1 : 0; /* the directory stream's own descriptor */
	return 0;
}

int procstat_read(struct procstat *ret)
{
	char buf[READ_CAP];
	size_t len = 0;
	uint64_t utime, stime, start, vsize, rss, btime = 0;
	struct procstat p;
	struct rlimit rl;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	const char *s, *end;
	int r;

	r = read_small("/proc/self/stat", buf, sizeof(buf), &len);
	if (r < 0) {
		return r;
	}
	end = buf + len;
	s = strrchr(buf, ')');
	if (!s || tick <= 0 || page <= 0) {
		return -EIO;
	}
	/* After ") ": state is field 3; utime is field 14. */
	s = skip_fields(s + 2, end, 11);
	if (!next_u64(&s, end, &utime) || !next_u64(&s, end, &stime)) {
		return -EIO;
	}
	s = skip_fields(s, end, 6); /* cutime .. itrealvalue */
	if (!next_u64(&s, end, &start) || !next_u64(&s, end, &vsize) || !next_u64(&s, end, &rss)) {
		return -EIO;
	}
	r = boot_time(&btime);
	if (r < 0) {
		return r;
	}
	p.cpu_seconds = (double)(utime + stime) / (double)tick;
	p.virtual_bytes = vsize;
	p.resident_bytes = rss * (uint64_t)page;
	p.start_time = (double)btime + (double)start / (double)tick;
	r = count_fds(&p.open_fds);
	if (r < 0) {
		return r;
	}
	p.max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
	                ? (uint64_t)rl.rlim_cur
	                : 0;
	*ret = p;
	return 0;
}

void procstat_render(const struct procstat *p, enum expo_format f, struct strbuf *out)
{
	struct expo_writer w;

	/* No creation times: the CPU counter starts with the process, whose start
	 * time is a gauge of its own. */
	expo_writer_init(&w, f, out, false);
	expo_writer_family(&w, "process_cpu_seconds_total", EXPO_COUNTER,
	                   "Total user and system CPU time spent in seconds.");
	expo_writer_double(&w, NULL, 0, p->cpu_seconds, 0);
	expo_writer_family(&w, "process_resident_memory_bytes", EXPO_GAUGE,
	                   "Resident memory size in bytes.");
	expo_writer_u64(&w, NULL, 0, p->resident_bytes, 0);
	expo_writer_family(&w, "process_virtual_memory_bytes", EXPO_GAUGE,
	                   "Virtual memory size in bytes.");
	expo_writer_u64(&w, NULL, 0, p->virtual_bytes, 0);
	expo_writer_family(&w, "process_open_fds", EXPO_GAUGE, "Number of open file descriptors.");
	expo_writer_u64(&w, NULL, 0, p->open_fds, 0);
	expo_writer_family(&w, "process_max_fds", EXPO_GAUGE,
	                   "Maximum number of open file descriptors.");
	expo_writer_u64(&w, NULL, 0, p->max_fds, 0);
	expo_writer_family(&w, "process_start_time_seconds", EXPO_GAUGE,
	                   "Start time of the process since unix epoch in seconds.");
	expo_writer_double(&w, NULL, 0, p->start_time, 0);
	expo_writer_finish(&w);
}
