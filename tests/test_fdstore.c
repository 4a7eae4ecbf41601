/*
 * test_fdstore.c - descriptors kept outside the process: the keeper's wire
 * format, a real keeper process (crash, give back, settle, budget, clean
 * stop, a foreign file at its path), and systemd's notify protocol against
 * a datagram socket standing in for the manager (the messages and
 * descriptors it gets; LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID taken back
 * in a child that has them at 3, 4, 5 as the manager execs it).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "exporter/input/fdkeeper.h"
#include "exporter/input/fdstore.h"

struct tmp {
	char dir[64];
	char state[128];
	char sock[160];
	char files[3][128];
	uint64_t dev[3], ino[3];
	int fd[3];
};

static void tmp_setup(struct tmp *t)
{
	struct stat st;

	(void)snprintf(t->dir, sizeof(t->dir), "/tmp/test_fdstore.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	(void)snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
	(void)snprintf(t->sock, sizeof(t->sock), "%s.fds", t->state);
	for (int i = 0; i < 3; i++) {
		(void)snprintf(t->files[i], sizeof(t->files[i]), "%s/f%d.log", t->dir, i);
		t->fd[i] = open(t->files[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		assert_true(t->fd[i] >= 0);
		assert_int_equal(fstat(t->fd[i], &st), 0);
		t->dev[i] = (uint64_t)st.st_dev;
		t->ino[i] = (uint64_t)st.st_ino;
	}
}

static void tmp_teardown(struct tmp *t)
{
	for (int i = 0; i < 3; i++) {
		(void)close(t->fd[i]);
		(void)unlink(t->files[i]);
	}
	(void)unlink(t->sock);
	(void)unlink(t->state);
	(void)rmdir(t->dir);
}

static bool same_file(int fd, uint64_t dev, uint64_t ino)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* ---- wire ------------------------------------------------------------------- */

static void t_wire(void **state)
{
	struct tmp t;
	int sp[2];
	struct fdkeeper_msg m = {.magic = FDKEEPER_MAGIC, .op = FDKEEPER_HOLD};
	struct fdkeeper_msg got;
	int fd;
	(void)state;

	tmp_setup(&t);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	m.dev = t.dev[0];
	m.ino = t.ino[0];
	assert_int_equal(fdkeeper_send(sp[0], &m, t.fd[0], 0), 0);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), 0);
	assert_int_equal(got.op, FDKEEPER_HOLD);
	assert_true(fd >= 0 && fd != t.fd[0] && same_file(fd, t.dev[0], t.ino[0]));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	(void)close(fd);
	/* without a descriptor */
	assert_int_equal(fdkeeper_send(sp[0], &m, -1, 0), 0);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), 0);
	assert_int_equal(fd, -1);
	/* malformed: wrong magic, an unknown op, a short message */
	m.magic = 1;
	assert_int_equal(fdkeeper_send(sp[0], &m, t.fd[1], 0), 0);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), -EPROTO);
	m.magic = FDKEEPER_MAGIC;
	m.op = FDKEEPER_OP_MAX;
	assert_int_equal(fdkeeper_send(sp[0], &m, -1, 0), 0);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), -EPROTO);
	assert_int_equal(send(sp[0], "abc", 3, 0), 3);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), -EPROTO);
	assert_int_equal(fdkeeper_recv(sp[1], MSG_DONTWAIT, &got, &fd), -EAGAIN);
	(void)close(sp[0]);
	assert_int_equal(fdkeeper_recv(sp[1], 0, &got, &fd), -EPIPE);
	(void)close(sp[1]);
	tmp_teardown(&t);
}

/* ---- the keeper ------------------------------------------------------------- */

static struct fdstore *open_keeper(const struct tmp *t, size_t max_fds)
{
	struct fdstore_options o = {.mode = CONFIG_FD_STORE_KEEPER,
	                            .state_path = t->state,
	                            .max_fds = max_fds,
	                            .linger_ms = 5000};
	struct fdstore *s = NULL;
	char err[256];

	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	assert_string_equal(fdstore_kind(s), "keeper");
	return s;
}

static void wait_gone(const char *path)
{
	for (int i = 0; i < 200 && access(path, F_OK) == 0; i++) {
		nap_ms(10);
	}
	assert_int_not_equal(access(path, F_OK), 0);
}

static void t_keeper_round_trip(void **state)
{
	struct tmp t;
	struct stat st;
	struct fdstore *s;
	size_t wanted, held;
	(void)state;

	tmp_setup(&t);
	s = open_keeper(&t, 64);
	assert_int_equal(lstat(t.sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fdstore_returned(s), 0);
	for (int i = 0; i < 3; i++) {
		fdstore_add(s, t.fd[i], t.dev[i], t.ino[i]);
	}
	fdstore_add(s, t.fd[0], t.dev[0], t.ino[0]); /* a second source on f0 */
	fdstore_remove(s, t.dev[0], t.ino[0]);       /* still followed by the first */
	fdstore_remove(s, t.dev[2], t.ino[2]);       /* done with f2 */
	fdstore_counts(s, &wanted, &held);
	assert_int_equal(wanted, 2);
	assert_int_equal(held, 2);
	fdstore_destroy(s, false); /* kill -9 */

	/* f0 is deleted while we are down: only the keeper has it now */
	(void)close(t.fd[0]);
	(void)unlink(t.files[0]);
	s = open_keeper(&t, 64);
	assert_int_equal(fdstore_returned(s), 2);
	int fd = fdstore_take(s, t.dev[0], t.ino[0]);
	assert_true(fd >= 0 && same_file(fd, t.dev[0], t.ino[0]));
	assert_int_equal(fdstore_take(s, t.dev[0], t.ino[0]), -ENOENT); /* taken once */
	assert_int_equal(fdstore_take(s, t.dev[2], t.ino[2]), -ENOENT); /* released */
	fdstore_add(s, fd, t.dev[0], t.ino[0]); /* followed again: no new copy needed */
	fdstore_settle(s);                      /* f1 nobody took: let go */
	assert_int_equal(fdstore_returned(s), 0);
	assert_int_equal(fdstore_take(s, t.dev[1], t.ino[1]), -ENOENT);
	fdstore_destroy(s, false);

	s = open_keeper(&t, 64);
	assert_int_equal(fdstore_returned(s), 1); /* f0 only */
	(void)close(fd);
	fd = fdstore_take(s, t.dev[0], t.ino[0]);
	assert_true(fd >= 0);
	(void)close(fd);
	t.fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC); /* for the teardown */
	fdstore_destroy(s, true); /* clean stop: the keeper exits, its socket goes */
	wait_gone(t.sock);
	tmp_teardown(&t);
}

static void t_keeper_budget(void **state)
{
	struct tmp t;
	struct fdstore *s;
	(void)state;

	tmp_setup(&t);
	s = open_keeper(&t, 2);
	for (int i = 0; i < 3; i++) {
		fdstore_add(s, t.fd[i], t.dev[i], t.ino[i]); /* the third is over the budget */
	}
	fdstore_destroy(s, false);
	s = open_keeper(&t, 2);
	assert_int_equal(fdstore_returned(s), 2);
	int fd = fdstore_take(s, t.dev[2], t.ino[2]);
	assert_int_equal(fd, -ENOENT);
	fdstore_destroy(s, true);
	wait_gone(t.sock);
	tmp_teardown(&t);
}

static void t_keeper_foreign_path(void **state)
{
	struct tmp t;
	struct fdstore_options o = {
	    .mode = CONFIG_FD_STORE_KEEPER, .max_fds = 8, .linger_ms = 1000};
	struct fdstore *s = (struct fdstore *)&o;
	char err[256];
	struct stat st;
	(void)state;

	tmp_setup(&t);
	o.state_path = t.state;
	int fd = open(t.sock, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), -EEXIST);
	assert_null(s);
	assert_non_null(strstr(err, "not our socket"));
	assert_int_equal(lstat(t.sock, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* left alone */
	/* off, or no state file: no store, no error */
	o.mode = CONFIG_FD_STORE_OFF;
	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), 0);
	assert_null(s);
	o.mode = CONFIG_FD_STORE_AUTO;
	o.state_path = NULL;
	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), 0);
	assert_null(s);
	/* NULL-safe */
	fdstore_add(NULL, 0, 1, 2);
	fdstore_remove(NULL, 1, 2);
	assert_int_equal(fdstore_take(NULL, 1, 2), -ENOENT);
	fdstore_settle(NULL);
	fdstore_tick(NULL);
	fdstore_destroy(NULL, true);
	assert_string_equal(fdstore_kind(NULL), "off");
	tmp_teardown(&t);
}

/* ---- systemd ------------------------------------------------------------------ */

/* The manager's notify socket: a datagram socket bound at path ('@':
 * abstract).  Returns it; NOTIFY_SOCKET is set to text. */
static int manager_socket(const char *text)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(text);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, text, len);
	if (text[0] == '@') {
		sa.sun_path[0] = '\0';
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	                      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
	                 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", text, 1), 0);
	return fd;
}

/* One notify datagram: its text (NUL-terminated in buf) and descriptor
 * (-1: none); -EAGAIN when there is none. */
static int manager_recv(int sock, char *buf, size_t size, int *ret_fd)
{
	union {
		char c[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof(u.c)};
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0) {
		return -errno;
	}
	buf[n] = '\0';
	*ret_fd = -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS) {
		memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
	}
	return 0;
}

static struct fdstore *open_systemd(void)
{
	struct fdstore_options o = {.mode = CONFIG_FD_STORE_AUTO, .max_fds = 16};
	struct fdstore *s = NULL;
	char err[256];

	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	assert_string_equal(fdstore_kind(s), "systemd");
	return s;
}

static void check_messages(const struct tmp *t, int msock)
{
	struct fdstore *s = open_systemd();
	char buf[256], want[256];
	int fd;

	fdstore_add(s, t->fd[0], t->dev[0], t->ino[0]);
	assert_int_equal(manager_recv(msock, buf, sizeof(buf), &fd), 0);
	(void)snprintf(want, sizeof(want), "FDSTORE=1\nFDNAME=alx-%llu-%llu",
	               (unsigned long long)t->dev[0], (unsigned long long)t->ino[0]);
	assert_string_equal(buf, want);
	assert_true(fd >= 0 && same_file(fd, t->dev[0], t->ino[0]));
	(void)close(fd);
	fdstore_add(s, t->fd[0], t->dev[0], t->ino[0]); /* a second source: sent once */
	fdstore_remove(s, t->dev[0], t->ino[0]);
	assert_int_equal(manager_recv(msock, buf, sizeof(buf), &fd), -EAGAIN);
	fdstore_remove(s, t->dev[0], t->ino[0]);
	assert_int_equal(manager_recv(msock, buf, sizeof(buf), &fd), 0);
	(void)snprintf(want, sizeof(want), "FDSTOREREMOVE=1\nFDNAME=alx-%llu-%llu",
	               (unsigned long long)t->dev[0], (unsigned long long)t->ino[0]);
	assert_string_equal(buf, want);
	assert_int_equal(fd, -1);
	fdstore_destroy(s, true); /* the manager's store is left as it is */
	assert_int_equal(manager_recv(msock, buf, sizeof(buf), &fd), -EAGAIN);
}

static void t_systemd_messages(void **state)
{
	struct tmp t;
	char path[200], abstract[64];
	(void)state;

	tmp_setup(&t);
	(void)snprintf(path, sizeof(path), "%s/notify", t.dir);
	assert_int_equal(setenv("FDSTORE", "16", 1), 0); /* systemd 254+: the unit has a store */
	int msock = manager_socket(path);
	check_messages(&t, msock);
	(void)close(msock);
	(void)unlink(path);
	(void)snprintf(abstract, sizeof(abstract), "@test_fdstore/%d", (int)getpid());
	msock = manager_socket(abstract);
	check_messages(&t, msock);
	(void)close(msock);
	/* without $FDSTORE, auto means the keeper (no state file here: none) */
	assert_int_equal(unsetenv("FDSTORE"), 0);
	struct fdstore_options o = {.mode = CONFIG_FD_STORE_AUTO, .max_fds = 16};
	struct fdstore *s = NULL;
	char err[256];
	assert_int_equal(fdstore_open(&o, &s, err, sizeof(err)), 0);
	assert_null(s);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	tmp_teardown(&t);
}

/* In a child laid out as the manager execs a service: f0 and f1 at 3 and 4
 * under our names, f2 at 5 under another name, at 6 a name that claims
 * another file.  Returns 0 when everything holds, else the failed step. */
static int child_take_back(const struct tmp *t, int msock, const char *names)
{
	char pid[24], buf[256];
	int fd, f[3];

	/* Out of the way of 3..6 first (the test's own descriptors may be there). */
	msock = fcntl(msock, F_DUPFD_CLOEXEC, 100);
	for (int i = 0; i < 3; i++) {
		f[i] = fcntl(t->fd[i], F_DUPFD_CLOEXEC, 100);
	}
	if (msock < 0 || f[2] < 0 || dup2(f[0], 3) < 0 || dup2(f[1], 4) < 0 || dup2(f[2], 5) < 0 ||
	    dup2(f[2], 6) < 0) {
		return 1;
	}
	(void)snprintf(pid, sizeof(pid), "%d", (int)getpid());
	(void)setenv("LISTEN_PID", pid, 1);
	(void)setenv("LISTEN_FDS", "4", 1);
	(void)setenv("LISTEN_FDNAMES", names, 1);
	struct fdstore_options o = {.mode = CONFIG_FD_STORE_SYSTEMD, .max_fds = 16};
	struct fdstore *s = NULL;
	char err[256];
	if (fdstore_open(&o, &s, err, sizeof(err)) < 0 || !s || fdstore_returned(s) != 2) {
		return 2;
	}
	if (getenv("LISTEN_FDS") || getenv("LISTEN_PID") || getenv("LISTEN_FDNAMES")) {
		return 3; /* unset, as sd_listen_fds(1) does */
	}
	if (fdstore_take(s, t->dev[0], t->ino[0]) != 3 || fcntl(5, F_GETFD) < 0 ||
	    fcntl(6, F_GETFD) >= 0) {
		return 4; /* f0 given; "other" left alone; the lying name closed */
	}
	fdstore_add(s, 3, t->dev[0], t->ino[0]); /* followed: stays in the store, not re-sent */
	fdstore_settle(s);                       /* f1 untaken: removed from the store */
	if (manager_recv(msock, buf, sizeof(buf), &fd) < 0 || !strstr(buf, "FDSTOREREMOVE=1") ||
	    manager_recv(msock, buf, sizeof(buf), &fd) != -EAGAIN) {
		return 5;
	}
	fdstore_destroy(s, false);
	/* not ours: LISTEN_PID of another process */
	(void)setenv("LISTEN_PID", "1", 1);
	(void)setenv("LISTEN_FDS", "4", 1);
	s = NULL;
	if (fdstore_open(&o, &s, err, sizeof(err)) < 0 || fdstore_returned(s) != 0) {
		return 6;
	}
	fdstore_destroy(s, false);
	return 0;
}

static void t_systemd_take_back(void **state)
{
	struct tmp t;
	char path[200], names[256];
	int status = -1;
	(void)state;

	tmp_setup(&t);
	(void)snprintf(path, sizeof(path), "%s/notify", t.dir);
	int msock = manager_socket(path);
	(void)snprintf(names, sizeof(names), "alx-%llu-%llu:alx-%llu-%llu:other:alx-%llu-%llu",
	               (unsigned long long)t.dev[0], (unsigned long long)t.ino[0],
	               (unsigned long long)t.dev[1], (unsigned long long)t.ino[1],
	               (unsigned long long)t.dev[0], (unsigned long long)t.ino[1] + 7);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(child_take_back(&t, msock, names));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(unsetenv("NOTIFY_SOCKET"), 0);
	(void)close(msock);
	(void)unlink(path);
	tmp_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_wire),
	    cmocka_unit_test(t_keeper_round_trip),
	    cmocka_unit_test(t_keeper_budget),
	    cmocka_unit_test(t_keeper_foreign_path),
	    cmocka_unit_test(t_systemd_messages),
	    cmocka_unit_test(t_systemd_take_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
