/*
 * test_syslogin.c - syslog listeners on loopback and in a temp dir:
 * datagrams and TCP frames become lines, counts per kind (messages,
 * invalid, filtered, connections, refused over the cap), over-long TCP
 * frames, unixgram socket files (stale ones replaced, live ones and other
 * files refused, ours removed at the end), TCP connections closed after
 * the idle timeout (a busy one kept), a reload's listener sharing
 * the old one's socket (the socket file follows the owner).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporter/input/syslogin.h"

struct got {
	unsigned lines, too_long;
	uint64_t n[INPUT_COUNTER_COUNT];
	char last[256];
};

static void on_line(void *ud, const char *line, size_t len)
{
	struct got *g = ud;
	g->lines++;
	(void)snprintf(g->last, sizeof(g->last), "%.*s", (int)len, line);
}

static void on_event(void *ud, enum tail_event ev, uint64_t n)
{
	struct got *g = ud;
	if (ev == TAIL_EV_TOO_LONG) {
		g->too_long += (unsigned)n;
	}
}

static void on_count(void *ud, enum input_counter c, uint64_t n)
{
	struct got *g = ud;
	g->n[c] += n;
}

static struct syslogin *make(const char *text, struct got *g, const char *tag, unsigned conns)
{
	struct inputspec spec;
	char err[256];
	struct input_callbacks cb = {.lines = {.line = on_line, .event = on_event, .userdata = g},
	                             .count = on_count};
	struct syslogin_options o = {.text = text, .spec = &spec, .tag = tag, .max_conns = conns};
	struct syslogin *sl = NULL;

	assert_int_equal(inputspec_parse(text, &spec, err, sizeof(err)), 0);
	if (syslogin_create(&o, &cb, &sl, err, sizeof(err)) < 0) {
		fail_msg("%s: %s", text, err);
	}
	return sl;
}

/* Poll until pred holds (bounded: 2 s). */
static void drain(struct syslogin *sl, const struct got *g, unsigned want_msgs)
{
	for (int i = 0; i < 400 && g->n[INPUT_SYSLOG_MESSAGES] < want_msgs; i++) {
		struct pollfd p = {.fd = syslogin_wait_fd(sl), .events = POLLIN};
		(void)poll(&p, 1, 5);
		(void)syslogin_poll(sl);
	}
	assert_int_equal(g->n[INPUT_SYSLOG_MESSAGES], want_msgs);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void t_udp(void **state)
{
	static const char *const msgs[] = {
	    "<190>Dec  3 10:00:00 h nginx: GET / 200",
	    "<13>1 2026-12-03T10:00:00Z h nginx - - - GET /a 404",
	    "<190>Dec  3 10:00:00 h other: GET /b 200", /* filtered */
	    "not syslog",                               /* invalid */
	    "<13>1 bad",                                /* invalid */
	};
	struct got g = {.lines = 0};
	struct syslogin *sl = make("udp://127.0.0.1:0", &g, "nginx", 0);
	struct sockaddr_in a = loopback(syslogin_port(sl));
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(syslogin_port(sl) != 0);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		assert_true(
		    sendto(fd, msgs[i], strlen(msgs[i]), 0, (struct sockaddr *)&a, sizeof(a)) > 0);
	}
	drain(sl, &g, 5);
	assert_int_equal(g.lines, 2);
	assert_string_equal(g.last, "GET /a 404");
	assert_int_equal(g.n[INPUT_SYSLOG_INVALID], 2);
	assert_int_equal(g.n[INPUT_SYSLOG_FILTERED], 1);
	assert_int_equal(g.n[INPUT_SYSLOG_DROPPED], 0);
	close(fd);
	syslogin_destroy(sl);
	syslogin_destroy(NULL);
}

/* A receive queue that overflows: every datagram is a line or a drop. */
static void t_udp_drops(void **state)
{
	struct got g = {.lines = 0};
	struct syslogin *sl = make("udp://127.0.0.1:0", &g, NULL, 0);
	struct sockaddr_in a = loopback(syslogin_port(sl));
	int fd = socket(AF_INET, SOCK_DGRAM, 0), small = 4096;
	const char *m = "<14>x: a line of a few bytes";

	(void)state;
	/* the test's lever: a tiny queue (the listener asks for 8 MiB) */
	assert_int_equal(
	    setsockopt(syslogin_wait_fd(sl), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	for (int i = 0; i < 500; i++) {
		assert_true(sendto(fd, m, strlen(m), 0, (struct sockaddr *)&a, sizeof(a)) > 0);
	}
	(void)syslogin_poll(sl);
	(void)syslogin_poll(sl);
	assert_true(g.n[INPUT_SYSLOG_DROPPED] > 0);
	assert_int_equal(g.lines + g.n[INPUT_SYSLOG_DROPPED], 500);
	assert_int_equal(g.n[INPUT_SYSLOG_MESSAGES], g.lines);
	close(fd);
	syslogin_destroy(sl);
}

static void t_tcp(void **state)
{
	struct got g = {.lines = 0};
	struct syslogin *sl = make("tcp://127.0.0.1:0", &g, NULL, 2);
	struct sockaddr_in a = loopback(syslogin_port(sl));
	int c[3];
	char *huge = malloc(80000);

	(void)state;
	for (int i = 0; i < 3; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(c[i], (struct sockaddr *)&a, sizeof(a)), 0);
	}
	memset(huge, 'x', 80000);
	memcpy(huge, "<13>t: ", 7);
	huge[79999] = '\n';
	const char *one = "10 <13>t: abc<13>t: def\n";
	assert_int_equal(write(c[0], one, strlen(one)), (ssize_t)strlen(one));
	assert_int_equal(write(c[0], huge, 80000), 80000);
	assert_int_equal(write(c[1], "<13>t: ghi\n12x <13>t: no\n", 25), 25);
	drain(sl, &g, 5);
	assert_int_equal(g.lines, 3);
	assert_int_equal(g.too_long, 1);
	assert_int_equal(g.n[INPUT_SYSLOG_INVALID], 1); /* the broken count; c[1] closed */
	assert_int_equal(g.n[INPUT_SYSLOG_CONNECTIONS], 2);
	assert_int_equal(g.n[INPUT_SYSLOG_CONN_REFUSED], 1);
	assert_int_equal(syslogin_connections(sl), 1);
	for (int i = 0; i < 3; i++) {
		close(c[i]);
	}
	free(huge);
	syslogin_destroy(sl);
}

static void poll_for(struct syslogin *sl, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		struct pollfd p = {.fd = syslogin_wait_fd(sl), .events = POLLIN};
		(void)poll(&p, 1, 10);
		(void)syslogin_poll(sl);
	}
}

/* idle_ms 200: a connection that sends nothing is closed (the sender sees
 * the end), one that sends every 50 ms is not. */
static void t_tcp_idle(void **state)
{
	struct got g = {.lines = 0};
	struct inputspec spec;
	char err[256], b;
	struct input_callbacks cb = {.lines = {.line = on_line, .userdata = &g}, .count = on_count};
	struct syslogin_options o = {.text = "tcp://127.0.0.1:0", .spec = &spec, .idle_ms = 200};
	struct syslogin *sl = NULL;

	(void)state;
	assert_int_equal(inputspec_parse(o.text, &spec, err, sizeof(err)), 0);
	assert_int_equal(syslogin_create(&o, &cb, &sl, err, sizeof(err)), 0);
	struct sockaddr_in a = loopback(syslogin_port(sl));
	int quiet = socket(AF_INET, SOCK_STREAM, 0), busy = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(quiet, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(connect(busy, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(quiet, "<13>t: a\n", 9), 9);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(write(busy, "<13>t: b\n", 9), 9);
		poll_for(sl, 50);
	}
	assert_int_equal(g.lines, 11);
	assert_int_equal(g.n[INPUT_SYSLOG_CONNECTIONS], 2);
	assert_int_equal(g.n[INPUT_SYSLOG_CONN_IDLE], 1);
	assert_int_equal(syslogin_connections(sl), 1);
	assert_int_equal(read(quiet, &b, 1), 0); /* closed by the listener */
	close(busy);
	close(quiet);
	syslogin_destroy(sl);
}

static void t_unixgram(void **state)
{
	char dir[] = "/tmp/test_syslogin.XXXXXX", path[256], text[300], err[256];
	struct got g = {.lines = 0};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/s.sock", dir);
	(void)snprintf(text, sizeof(text), "unixgram://%s", path);
	/* a stale socket file (nobody bound to it) is replaced */
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	struct syslogin *sl = make(text, &g, NULL, 0);
	/* a live one is not */
	struct inputspec spec;
	struct input_callbacks cb = {.lines = {.line = on_line, .userdata = &g}};
	struct syslogin_options o = {.text = text, .spec = &spec};
	struct syslogin *second = NULL;
	assert_int_equal(inputspec_parse(text, &spec, err, sizeof(err)), 0);
	assert_int_equal(syslogin_create(&o, &cb, &second, err, sizeof(err)), -EADDRINUSE);
	assert_null(second);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(sendto(fd, "<14>x: hello", 12, 0, (struct sockaddr *)&a, sizeof(a)) == 12);
	close(fd);
	drain(sl, &g, 1);
	assert_string_equal(g.last, "hello");
	syslogin_destroy(sl);
	struct stat st;
	assert_int_equal(stat(path, &st), -1); /* removed */
	/* a path that is not a socket is never removed */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(syslogin_create(&o, &cb, &second, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	rmdir(dir);
}

/* A listener built adopting another's socket: no bind, the same queue; the
 * socket file is the old one's until syslogin_take_over, then the new
 * one's (a failed reload destroys the new one and keeps the file). */
static void t_adopt(void **state)
{
	char dir[] = "/tmp/test_syslogin.XXXXXX", path[256], text[300], err[256];
	struct got g = {.lines = 0}, g2 = {.lines = 0};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct inputspec spec;
	struct input_callbacks cb = {.lines = {.line = on_line, .userdata = &g2},
	                             .count = on_count};
	struct syslogin_options o = {.text = text, .spec = &spec};
	struct syslogin *next = NULL;
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/s.sock", dir);
	(void)snprintf(text, sizeof(text), "unixgram://%s", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(inputspec_parse(text, &spec, err, sizeof(err)), 0);
	struct syslogin *sl = make(text, &g, NULL, 0);
	assert_false(syslogin_can_adopt(sl, "unixgram:///elsewhere", INPUTSPEC_UNIXGRAM));
	/* a failed reload: built, then destroyed without the take-over */
	o.adopt = sl;
	assert_int_equal(syslogin_create(&o, &cb, &next, err, sizeof(err)), 0);
	syslogin_destroy(next);
	assert_int_equal(stat(path, &st), 0);
	assert_true(sendto(fd, "<14>x: one", 10, 0, (struct sockaddr *)&a, sizeof(a)) == 10);
	drain(sl, &g, 1);
	/* a committed one: queued datagrams are the new listener's */
	assert_int_equal(syslogin_create(&o, &cb, &next, err, sizeof(err)), 0);
	assert_true(sendto(fd, "<14>x: two", 10, 0, (struct sockaddr *)&a, sizeof(a)) == 10);
	syslogin_take_over(next, sl);
	syslogin_destroy(sl);
	assert_int_equal(stat(path, &st), 0);
	drain(next, &g2, 1);
	assert_string_equal(g2.last, "two");
	syslogin_destroy(next);
	assert_int_equal(stat(path, &st), -1); /* removed by the owner */
	close(fd);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_udp),      cmocka_unit_test(t_udp_drops), cmocka_unit_test(t_tcp),
	    cmocka_unit_test(t_tcp_idle), cmocka_unit_test(t_unixgram),  cmocka_unit_test(t_adopt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
