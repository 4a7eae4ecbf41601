/*
 * test_fdlimit.c - the descriptor plan (a table of limits) and the open
 * that refuses a descriptor inside the reserve, under a real lowered
 * RLIMIT_NOFILE.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/input/fdlimit.h"

static void t_plan(void **state)
{
	static const struct {
		uint64_t limit;
		unsigned conns;
		uint64_t ceiling;
	} rows[] = {
	    {0, 4, 0},             /* nothing: no log file at all */
	    {20, 4, 0},            /* below the base reserve */
	    {40, 4, 12},           /* ulimit -n 40 */
	    {1024, 250, 750},      /* the usual shell default */
	    {4096, 256, 3816},     /* connections capped */
	    {524288, 256, 524008}, /* systemd's hard default */
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fdlimit_plan p;
		fdlimit_plan(rows[i].limit, &p);
		assert_int_equal(p.limit, rows[i].limit);
		assert_int_equal(p.http_connections, rows[i].conns);
		assert_int_equal(p.files_ceiling, rows[i].ceiling);
		assert_int_equal(p.reserve, FDLIMIT_BASE_RESERVE + rows[i].conns);
	}
}

/* With a soft limit of 40 the 13th descriptor is refused (12 are below the
 * ceiling) and nothing leaks; raised again, opens work. */
static void t_open_refuses_reserve(void **state)
{
	struct rlimit old, low;
	int fds[64];
	size_t n = 0;
	int fd;
	(void)state;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 40;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while ((fd = fdlimit_open(AT_FDCWD, "/dev/null")) >= 0 && n < 64) {
		assert_true(fd < 12);
		fds[n++] = fd;
	}
	assert_int_equal(fd, -EMFILE);
	assert_true(n < 12);
	/* the refused descriptor was closed: a plain open still works, above the ceiling */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 12);
	close(fd);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	fd = fdlimit_open(AT_FDCWD, "/dev/null");
	assert_true(fd >= 12);
	close(fd);
	while (n) {
		close(fds[--n]);
	}
	assert_int_equal(fdlimit_open(AT_FDCWD, "/nonexistent/x"), -ENOENT);
}

static void t_raise(void **state)
{
	uint64_t before, after;
	struct rlimit rl;
	(void)state;

	assert_int_equal(fdlimit_raise(&before, &after), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(after, rl.rlim_cur);
	assert_true(after >= before);
	assert_true(rl.rlim_cur == rl.rlim_max || rl.rlim_cur == FDLIMIT_MAX_SOFT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_plan),
	    cmocka_unit_test(t_open_refuses_reserve),
	    cmocka_unit_test(t_raise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
