/*
 * fdkeeper.c - the keeper process and its wire format (see fdkeeper.h).
 *
 * The keeper is forked twice at start-up, before any thread exists: the
 * child exits at once and the exporter reaps it, so the grandchild is
 * nobody's zombie and is not killed with the exporter (a kill -9 reaches
 * one process).  It calls setsid (a Ctrl-C on the terminal is for the
 * exporter), names itself alx-fdkeeper (the command name ps -e shows), points its standard streams
 * at /dev/null (a test harness reading the exporter's stderr must see its end) and closes every
 * descriptor but its listening socket.  Then one poll loop: accept an
 * exporter (same user only, SO_PEERCRED), read its messages, answer HELLO
 * with every descriptor held.  It never writes to the exporter except in
 * answer to HELLO, so the exporter never waits on it; its own sends are
 * blocking with a timeout (a stuck exporter costs the keeper a second).
 *
 * Identity: a HOLD's descriptor is checked with fstat against the (dev,
 * ino) it claims; a mismatch is closed.  At most max_fds are held (a HOLD
 * over it is closed: that file is simply not kept).
 *
 * Rejected: an abstract socket (no file permissions; any local user could
 * connect and read the logs through the descriptors), exec'ing a separate
 * binary (one more thing to install and find; a fork before threads is
 * as clean), and a keeper that adopts the exporter's counters too (the
 * checkpoint already has them; only the descriptors cannot be saved).
 */
#include "exporter/input/fdkeeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GIVE_TIMEOUT_MS 1000
#define LISTEN_BACKLOG 4
#define REACH_CHECK_MS 1000u

ssize_t fdkeeper_sendmsg(int sock, struct msghdr *mh, int fd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh->msg_control = u.buf;
		mh->msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, mh, flags | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	mh->msg_control = NULL; /* u is gone */
	mh->msg_controllen = 0;
	return n < 0 ? -errno : n;
}

int fdkeeper_send(int sock, const struct fdkeeper_msg *m, int fd, int flags)
{
	struct iovec iov = {.iov_base = (void *)m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = fdkeeper_sendmsg(sock, &mh, fd, flags);

	return n == (ssize_t)sizeof(*m) ? 0 : n < 0 ? (int)n : -EIO;
}

/* Close every descriptor that came with mh. */
static void close_rights(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			(void)close(fd);
		}
	}
}

int fdkeeper_recv(int sock, int flags, struct fdkeeper_msg *ret_msg, int *ret_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct fdkeeper_msg m;
	struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	int fd = -1;

	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	do {
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	if (n == 0) {
		return -EPIPE;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	bool one_fd = c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	              c->cmsg_len == CMSG_LEN(sizeof(int)) && !CMSG_NXTHDR(&mh, c);
	if ((size_t)n != sizeof(m) || m.magic != FDKEEPER_MAGIC || m.op == 0 ||
	    m.op >= FDKEEPER_OP_MAX || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (c && !one_fd)) {
		close_rights(&mh);
		return -EPROTO;
	}
	if (one_fd) {
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	}
	*ret_msg = m;
	*ret_fd = fd;
	return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *ret)
{
	size_t len = strlen(path);

	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(ret->sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(ret->sun_path, path, len);
	return 0;
}

/* ---- the keeper's loop ---------------------------------------------------- */

struct held {
	uint64_t dev, ino;
	int fd;
};

struct keeper {
	struct held *held;
	size_t n, cap, max;
	int lfd, cfd;
	uint64_t linger_ms;
	const char *path; /* the socket file */
	uint64_t sock_dev, sock_ino;
};

/* Whether the socket file is still ours: removed or replaced (its
 * directory deleted, another keeper started), no exporter can reach us. */
static bool still_reachable(const struct keeper *k)
{
	struct stat st;

	return lstat(k->path, &st) == 0 && (uint64_t)st.st_dev == k->sock_dev &&
	       (uint64_t)st.st_ino == k->sock_ino;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drop_all(struct keeper *k)
{
	for (size_t i = 0; i < k->n; i++) {
		(void)close(k->held[i].fd);
	}
	k->n = 0;
}

static struct held *find_held(struct keeper *k, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < k->n; i++) {
		if (k->held[i].dev == dev && k->held[i].ino == ino) {
			return &k->held[i];
		}
	}
	return NULL;
}

static void hold(struct keeper *k, const struct fdkeeper_msg *m, int fd)
{
	struct stat st;
	struct held *h;

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_dev != m->dev ||
	    (uint64_t)st.st_ino != m->ino) {
		goto drop; /* not the file it claims to be */
	}
	h = find_held(k, m->dev, m->ino);
	if (h) {
		(void)close(h->fd);
		h->fd = fd;
		return;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		if (cap > k->max) {
			cap = k->max;
		}
		struct held *n = k->n < cap ? realloc(k->held, cap * sizeof(*n)) : NULL;
		if (!n) {
			goto drop; /* over the budget, or out of memory */
		}
		k->held = n;
		k->cap = cap;
	}
	k->held[k->n++] = (struct held){m->dev, m->ino, fd};
	return;
drop:
	if (fd >= 0) {
		(void)close(fd);
	}
}

static void release(struct keeper *k, const struct fdkeeper_msg *m)
{
	struct held *h = find_held(k, m->dev, m->ino);

	if (h) {
		(void)close(h->fd);
		*h = k->held[--k->n];
	}
}

/* Send with a bounded wait: the exporter reads the answer to its HELLO. */
static int send_waiting(int sock, const struct fdkeeper_msg *m, int fd)
{
	for (;;) {
		int r = fdkeeper_send(sock, m, fd, MSG_DONTWAIT);
		struct pollfd p = {.fd = sock, .events = POLLOUT};
		if (r != -EAGAIN) {
			return r;
		}
		if (poll(&p, 1, GIVE_TIMEOUT_MS) <= 0) {
			return -ETIMEDOUT;
		}
	}
}

static void give_all(struct keeper *k)
{
	struct fdkeeper_msg m = {.magic = FDKEEPER_MAGIC, .op = FDKEEPER_GIVE};

	for (size_t i = 0; i < k->n; i++) {
		m.dev = k->held[i].dev;
		m.ino = k->held[i].ino;
		if (send_waiting(k->cfd, &m, k->held[i].fd) < 0) {
			return; /* the exporter ends up without END and goes on without them */
		}
	}
	m.op = FDKEEPER_END;
	m.dev = m.ino = 0;
	(void)send_waiting(k->cfd, &m, -1);
}

/* Read what the exporter sent.  False when it is gone (end of file, a
 * protocol error) or said BYE (then *ret_bye). */
static bool serve(struct keeper *k, bool *ret_bye)
{
	for (;;) {
		struct fdkeeper_msg m;
		int fd;
		int r = fdkeeper_recv(k->cfd, MSG_DONTWAIT, &m, &fd);
		if (r == -EAGAIN) {
			return true;
		}
		if (r < 0) {
			return false;
		}
		switch (m.op) {
		case FDKEEPER_HOLD:
			hold(k, &m, fd);
			continue;
		case FDKEEPER_RELEASE:
			release(k, &m);
			break;
		case FDKEEPER_HELLO:
			give_all(k);
			break;
		case FDKEEPER_BYE:
			*ret_bye = true;
			break;
		default:
			break;
		}
		if (fd >= 0) {
			(void)close(fd);
		}
		if (*ret_bye) {
			return false;
		}
	}
}

static bool same_user(int sock)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 && cr.uid == getuid();
}

static void accept_one(struct keeper *k, bool *ret_bye)
{
	int fd = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		return;
	}
	if (!same_user(fd)) {
		(void)close(fd);
		return;
	}
	/* The previous exporter's messages may still be queued after its
	 * death: read them all before serving the next one. */
	if (k->cfd >= 0 && !serve(k, ret_bye)) {
		(void)close(k->cfd);
		k->cfd = -1;
	}
	if (k->cfd >= 0 || *ret_bye) {
		(void)close(fd); /* one exporter at a time */
		return;
	}
	k->cfd = fd;
}

static void keeper_loop(struct keeper *k)
{
	uint64_t deadline = mono_ms() + k->linger_ms;
	bool bye = false;

	while (!bye) {
		struct pollfd p[2] = {{.fd = k->lfd, .events = POLLIN},
		                      {.fd = k->cfd, .events = POLLIN}};
		int timeout = -1;
		if (k->cfd < 0) {
			uint64_t now = mono_ms();
			if (now >= deadline || !still_reachable(k)) {
				return; /* nobody came back, or nobody can */
			}
			timeout = (int)(deadline - now > REACH_CHECK_MS ? REACH_CHECK_MS
			                                                : deadline - now);
		}
		if (poll(p, k->cfd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			return;
		}
		if (k->cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !serve(k, &bye)) {
			(void)close(k->cfd);
			k->cfd = -1;
			deadline = mono_ms() + k->linger_ms;
		}
		if (!bye && (p[0].revents & POLLIN)) {
			accept_one(k, &bye);
		}
	}
}

/* The grandchild: detach, keep only the listening socket (as descriptor 3). */
static void keeper_main(const char *path, int lfd, size_t max_fds, uint64_t linger_ms)
{
	struct keeper k = {.lfd = 3,
	                   .cfd = -1,
	                   .max = max_fds ? max_fds : 1,
	                   .linger_ms = linger_ms,
	                   .path = path};
	struct sigaction sa;
	struct stat st;

	if (lstat(path, &st) < 0) {
		_exit(1);
	}
	k.sock_dev = (uint64_t)st.st_dev;
	k.sock_ino = (uint64_t)st.st_ino;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)setsid();
	(void)prctl(PR_SET_NAME, "alx-fdkeeper", 0, 0, 0); /* ps -e, top: not a second exporter */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; null >= 0 && i < 3; i++) {
		(void)dup2(null, i);
	}
	if (lfd != 3 && dup3(lfd, 3, O_CLOEXEC) < 0) {
		_exit(1);
	}
	/* Everything else: the exporter's log files, sockets, the state file. */
	if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0) {
		for (int fd = 4; fd < 65536; fd++) {
			(void)close(fd);
		}
	}
	keeper_loop(&k);
	if (still_reachable(&k)) {
		(void)unlink(path); /* no stale socket left behind */
	}
	drop_all(&k);
	free(k.held);
	_exit(0);
}

/* Bind and listen on path, mode 0600, replacing a stale socket of ours. */
static int listen_at(const char *path, int *ret_fd)
{
	struct sockaddr_un sa;
	struct stat st;
	int r = fill_addr(path, &sa);
	int fd;

	if (r < 0) {
		return r;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || st.st_uid != getuid()) {
			return -EEXIST; /* not ours to remove */
		}
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	(void)umask(old);
	if (r == 0 && (chmod(path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0)) {
		r = -errno;
	}
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int fdkeeper_spawn(const char *path, size_t max_fds, uint64_t linger_ms)
{
	int lfd = -1;
	int r = listen_at(path, &lfd);
	pid_t pid;
	int status;

	if (r < 0) {
		return r;
	}
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			keeper_main(path, lfd, max_fds, linger_ms);
		}
		_exit(0);
	}
	r = pid < 0 ? -errno : 0;
	(void)close(lfd);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return r;
}

int fdkeeper_connect(const char *path, int *ret_sock)
{
	struct sockaddr_un sa;
	int r = fill_addr(path, &sa);
	int fd;

	if (r < 0) {
		return r;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
	} else if (!same_user(fd)) {
		r = -EPERM;
	}
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	*ret_sock = fd;
	return 0;
}
