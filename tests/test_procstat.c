/*
 * test_procstat.c - process_* metrics read from this test process's /proc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cmocka.h>

#include "exporter/http/procstat.h"

static void t_read_plausible(void **state)
{
	struct procstat a, b;
	struct timespec now;
	int fds[8];
	(void)state;

	assert_int_equal(procstat_read(&a), 0);
	(void)clock_gettime(CLOCK_REALTIME, &now);
	assert_true(a.start_time <= (double)now.tv_sec + 1);
	assert_true(a.start_time > (double)now.tv_sec - 3600);
	assert_true(a.resident_bytes > 0);
	assert_true(a.virtual_bytes >= a.resident_bytes);
	assert_true(a.cpu_seconds >= 0);
	assert_true(a.open_fds >= 3);
	assert_true(a.max_fds == 0 || a.max_fds >= a.open_fds);
	/* Opening descriptors shows up exactly. */
	for (int i = 0; i < 8; i++) {
		fds[i] = open("/dev/null", O_RDONLY);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(procstat_read(&b), 0);
	assert_int_equal(b.open_fds, a.open_fds + 8);
	for (int i = 0; i < 8; i++) {
		(void)close(fds[i]);
	}
	/* CPU time only goes up. */
	volatile double x = 0;
	for (long i = 0; i < 30000000; i++) {
		x += (double)i;
	}
	assert_int_equal(procstat_read(&b), 0);
	assert_true(b.cpu_seconds >= a.cpu_seconds);
	assert_true(b.start_time == a.start_time);
}

static void t_render(void **state)
{
	struct procstat p = {1.5, 4096, 8192, 7, 1024, 1700000000.25};
	struct strbuf b;
	(void)state;

	strbuf_init(&b, 1 << 16);
	procstat_render(&p, EXPO_TEXT, &b);
	assert_int_equal(b.error, 0);
	assert_non_null(strstr(b.data, "# TYPE process_cpu_seconds_total counter\n"
	                               "process_cpu_seconds_total 1.5\n"));
	assert_non_null(strstr(b.data, "\nprocess_resident_memory_bytes 4096\n"));
	assert_non_null(strstr(b.data, "\nprocess_virtual_memory_bytes 8192\n"));
	assert_non_null(strstr(b.data, "\nprocess_open_fds 7\n"));
	assert_non_null(strstr(b.data, "\nprocess_max_fds 1024\n"));
	assert_non_null(strstr(b.data, "\nprocess_start_time_seconds 1700000000.25\n"));
	strbuf_reset(&b);
	procstat_render(&p, EXPO_OPENMETRICS, &b);
	assert_non_null(strstr(b.data, "# TYPE process_cpu_seconds counter\n"
	                               "process_cpu_seconds_total 1.5\n"));
	strbuf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_read_plausible),
	    cmocka_unit_test(t_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
