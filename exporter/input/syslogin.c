/*
 * syslogin.c - syslog listeners (see syslogin.h).
 *
 * Datagrams (UDP, unixgram): recvmmsg fills SYSLOGIN_BATCH fixed buffers
 * per system call, non-blocking, until the queue is empty or the poll's
 * budget is spent; each buffer is one message.  A datagram longer than its
 * buffer arrives with MSG_TRUNC and is an over-long line.  Drops: the
 * kernel counts datagrams it dropped on this socket (receive queue full,
 * sk_drops); SO_RXQ_OVFL attaches that count to each datagram received,
 * and SO_MEMINFO reads it at the end of every poll (so drops after the
 * last datagram of a burst are counted too, without waiting for the next
 * one); the growth since the last value seen is counted.  The receive buffer asked for is
 * SYSLOGIN_RCVBUF; the kernel caps it at net.core.rmem_max (the effective
 * size is logged at start-up, since it decides how long a burst may be).
 *
 * TCP: one epoll set holds the listener and the connections (its fd is the
 * wait fd).  Each connection has one buffer of cap + SYSLOG_FRAME_SLACK
 * bytes; frames are cut by syslog_frame_next, which also skips over-long
 * frames without buffering them.  A broken octet count cannot be
 * resynchronised: the connection is counted invalid and closed (the sender
 * reconnects).  Over max_conns, a connection is accepted and closed at
 * once, so the kernel's backlog does not fill with connections we will
 * never read.  A connection that sends nothing for idle_ms is closed and
 * counted: checked once a second (at most 64 connections to look at), so
 * the timeout holds to about a second; production senders reconnect, and
 * a dead peer (no FIN, no RST) no longer holds a slot of the cap forever.
 *
 * Reload: a changed source's datagram listener with the same text shares
 * the old one's socket (a dup made at build time, so a failed reload
 * undoes nothing); at the commit it takes over the socket file and the
 * drop count.  Nothing queued is lost and a unixgram path, which cannot be
 * bound twice, keeps working.  TCP listeners bind anew (SO_REUSEPORT):
 * connections belong to the old listener and close with it.
 *
 * Counts are added up per poll and handed over once (no per-message
 * callback besides the line itself).  Rejected: a receiver thread (the
 * ingest loop already runs one thread per source set and the registry
 * relies on one writer per source), SO_REUSEPORT groups for scaling (one
 * core reaches the goal; see bench/) -- SO_REUSEPORT is set only so that a
 * changed source can bind its address while the one it replaces still
 * holds it during a reload.
 */
#include "exporter/input/syslogin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "exporter/clock.h"
#include "exporter/log.h"
#include "parsers/syslog.h"

#define POLL_MAX_MESSAGES 16384u      /* per datagram poll */
#define POLL_MAX_TCP_BYTES (4u << 20) /* per connection per poll */
#define TCP_BACKLOG 64
#define LISTENER_ID UINT32_MAX
#define DROPS_READ_MS 100u  /* SO_MEMINFO at least this often during a flood */
#define IDLE_CHECK_MS 1000u /* TCP idle connections looked for this often */

struct conn {
	int fd;           /* -1: free slot */
	uint64_t last_ms; /* accepted, or last bytes read (clock_mono_ms) */
	char *buf;
	size_t have;
	struct syslog_framer fr;
};

/* Counts of one poll, handed over at its end. */
struct tally {
	uint64_t n[INPUT_COUNTER_COUNT];
	uint64_t bytes, too_long;
};

struct syslogin {
	char *name;
	struct inputspec spec;
	struct input_callbacks cb;
	size_t cap;   /* longest line delivered */
	size_t bufsz; /* one datagram buffer / one connection buffer */
	char *tag;
	size_t tag_len;
	int fd;
	uint16_t port;
	bool unlink_path; /* we own the unixgram socket file (created or taken over) */
	bool adopted;     /* fd is a dup of another listener's socket */
	dev_t sock_dev;
	ino_t sock_ino;
	/* datagrams */
	char *dbuf;
	struct mmsghdr *msgs;
	struct iovec *iov;
	char *ctrl;
	size_t ctrl_len;
	uint32_t drops_seen;
	uint64_t drops_read_ms; /* last SO_MEMINFO read */
	unsigned n_used;        /* msgs[] entries the last recvmmsg filled */
	/* TCP */
	int ep;
	struct conn *conns;
	unsigned max_conns, n_conns;
	uint64_t idle_ms;       /* 0: never close an idle connection */
	uint64_t idle_check_ms; /* next look for idle connections */
};

/* One message: parse, filter, hand its line on. */
static void deliver(struct syslogin *sl, struct tally *t, const char *buf, size_t len)
{
	struct syslog_msg m;

	t->n[INPUT_SYSLOG_MESSAGES]++;
	t->bytes += len;
	if (syslog_parse(buf, len, &m) < 0) {
		t->n[INPUT_SYSLOG_INVALID]++;
		return;
	}
	if (sl->tag && !syslog_tag_is(&m, sl->tag, sl->tag_len)) {
		t->n[INPUT_SYSLOG_FILTERED]++;
		return;
	}
	if (m.msg_len > sl->cap) {
		t->too_long++;
		return;
	}
	sl->cb.lines.line(sl->cb.lines.userdata, m.msg, m.msg_len);
}

static void hand_over(struct syslogin *sl, const struct tally *t)
{
	void *ud = sl->cb.lines.userdata;

	if (sl->cb.count) {
		for (unsigned c = 0; c < INPUT_COUNTER_COUNT; c++) {
			if (t->n[c]) {
				sl->cb.count(ud, (enum input_counter)c, t->n[c]);
			}
		}
	}
	if (sl->cb.lines.event) {
		if (t->bytes) {
			sl->cb.lines.event(ud, TAIL_EV_BYTES, t->bytes);
		}
		if (t->too_long) {
			sl->cb.lines.event(ud, TAIL_EV_TOO_LONG, t->too_long);
		}
	}
}

/* ---- setup ---------------------------------------------------------------- */

static int fail(char *err, size_t err_size, const char *name, const char *what, int r)
{
	(void)snprintf(err, err_size, "%s: %s: %s", name, what, strerror(-r));
	return r;
}

static socklen_t inet_addr_of(const struct config_listen *l, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (l->family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(l->port);
		memcpy(&a->sin6_addr, l->addr, 16);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(l->port);
	memcpy(&a->sin_addr, l->addr, 4);
	return sizeof(*a);
}

/* A unixgram path that exists: remove it only when it is a socket nobody
 * listens on (left by a crash); anything else is someone else's. */
static int clear_stale_socket(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	if (r == 0) {
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

static int bind_socket(struct syslogin *sl, char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, type = sl->spec.kind == INPUTSPEC_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int family = sl->spec.kind == INPUTSPEC_UNIXGRAM ? AF_UNIX : sl->spec.addr.family;

	sl->fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sl->fd < 0) {
		return fail(err, err_size, sl->name, "socket", -errno);
	}
	if (sl->spec.kind == INPUTSPEC_UNIXGRAM) {
		struct sockaddr_un *a = (struct sockaddr_un *)&ss;
		int r = clear_stale_socket(sl->spec.path);
		if (r < 0) {
			return fail(err, err_size, sl->name,
			            r == -EEXIST ? "the path exists and is not a socket" : "path",
			            r);
		}
		memset(&ss, 0, sizeof(ss));
		a->sun_family = AF_UNIX;
		memcpy(a->sun_path, sl->spec.path, strlen(sl->spec.path) + 1);
		len = sizeof(*a);
	} else {
		len = inet_addr_of(&sl->spec.addr, &ss);
		(void)setsockopt(sl->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		(void)setsockopt(sl->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	}
	if (bind(sl->fd, (struct sockaddr *)&ss, len) < 0) {
		return fail(err, err_size, sl->name, "bind", -errno);
	}
	if (sl->spec.kind == INPUTSPEC_UNIXGRAM) {
		struct stat st;
		if (stat(sl->spec.path, &st) == 0) {
			sl->unlink_path = true;
			sl->sock_dev = st.st_dev;
			sl->sock_ino = st.st_ino;
		}
	} else {
		len = sizeof(ss);
		if (getsockname(sl->fd, (struct sockaddr *)&ss, &len) == 0) {
			sl->port =
			    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			                                   : ((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	return 0;
}

static int adopt_socket(struct syslogin *sl, const struct syslogin *prev, char *err,
                        size_t err_size)
{
	if (!syslogin_can_adopt(prev, sl->name, sl->spec.kind)) {
		return fail(err, err_size, sl->name, "adopt", -EINVAL);
	}
	sl->fd = fcntl(prev->fd, F_DUPFD_CLOEXEC, 0);
	if (sl->fd < 0) {
		return fail(err, err_size, sl->name, "dup", -errno);
	}
	sl->port = prev->port;
	sl->drops_seen = prev->drops_seen;
	sl->adopted = true;
	return 0;
}

static int setup_datagrams(struct syslogin *sl, char *err, size_t err_size)
{
	int one = 1, rcvbuf = (int)SYSLOGIN_RCVBUF;
	char size[24];
	socklen_t len = sizeof(rcvbuf);

	sl->ctrl_len = CMSG_SPACE(sizeof(uint32_t));
	sl->dbuf = malloc(SYSLOGIN_BATCH * sl->bufsz);
	sl->msgs = calloc(SYSLOGIN_BATCH, sizeof(*sl->msgs));
	sl->iov = calloc(SYSLOGIN_BATCH, sizeof(*sl->iov));
	sl->ctrl = calloc(SYSLOGIN_BATCH, sl->ctrl_len);
	if (!sl->dbuf || !sl->msgs || !sl->iov || !sl->ctrl) {
		return fail(err, err_size, sl->name, "buffers", -ENOMEM);
	}
	for (unsigned i = 0; i < SYSLOGIN_BATCH; i++) {
		sl->iov[i] = (struct iovec){sl->dbuf + i * sl->bufsz, sl->bufsz};
		sl->msgs[i].msg_hdr = (struct msghdr){
		    .msg_iov = &sl->iov[i],
		    .msg_iovlen = 1,
		    .msg_control = sl->ctrl + i * sl->ctrl_len,
		    .msg_controllen = sl->ctrl_len,
		};
	}
	(void)setsockopt(sl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (sl->spec.kind == INPUTSPEC_UDP &&
	    setsockopt(sl->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0) {
		log_warn("kernel drops cannot be counted on this socket (SO_RXQ_OVFL)", "input",
		         sl->name, "error", strerror(errno));
	}
	if (getsockopt(sl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0) {
		(void)snprintf(size, sizeof(size), "%d", rcvbuf);
		log_info("syslog receive buffer (raise net.core.rmem_max for longer bursts)",
		         "input", sl->name, "bytes", size);
	}
	return 0;
}

static int setup_tcp(struct syslogin *sl, char *err, size_t err_size)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LISTENER_ID};

	sl->conns = calloc(sl->max_conns, sizeof(*sl->conns));
	if (!sl->conns) {
		return fail(err, err_size, sl->name, "connections", -ENOMEM);
	}
	for (unsigned i = 0; i < sl->max_conns; i++) {
		sl->conns[i].fd = -1;
	}
	if (listen(sl->fd, TCP_BACKLOG) < 0) {
		return fail(err, err_size, sl->name, "listen", -errno);
	}
	sl->ep = epoll_create1(EPOLL_CLOEXEC);
	if (sl->ep < 0 || epoll_ctl(sl->ep, EPOLL_CTL_ADD, sl->fd, &ev) < 0) {
		return fail(err, err_size, sl->name, "epoll", -errno);
	}
	return 0;
}

int syslogin_create(const struct syslogin_options *o, const struct input_callbacks *cb,
                    struct syslogin **ret_listener, char *err, size_t err_size)
{
	struct syslogin *sl = calloc(1, sizeof(*sl));
	int r;

	if (!sl) {
		return -ENOMEM;
	}
	sl->fd = -1;
	sl->ep = -1;
	sl->spec = *o->spec;
	sl->cb = *cb;
	sl->cap = o->line_cap ? o->line_cap : TAIL_DEFAULT_LINE_CAP;
	if (sl->cap > TAIL_MAX_LINE_CAP) {
		sl->cap = TAIL_MAX_LINE_CAP;
	}
	sl->max_conns = o->max_conns ? o->max_conns : SYSLOGIN_DEFAULT_MAX_CONNS;
	sl->idle_ms = o->idle_ms;
	sl->name = strdup(o->text);
	sl->tag = o->tag ? strdup(o->tag) : NULL;
	if (!sl->name || (o->tag && !sl->tag)) {
		r = -ENOMEM;
		goto fail;
	}
	sl->tag_len = sl->tag ? strlen(sl->tag) : 0;
	/* Datagrams: a line of cap bytes with its header, plus one byte to see
	 * truncation.  TCP: what syslog_frame_next needs for progress. */
	sl->bufsz = sl->spec.kind == INPUTSPEC_TCP
	                ? sl->cap + SYSLOGIN_HEADER_ROOM + SYSLOG_FRAME_SLACK
	                : sl->cap + SYSLOGIN_HEADER_ROOM + 1;
	r = o->adopt ? adopt_socket(sl, o->adopt, err, err_size) : bind_socket(sl, err, err_size);
	if (r == 0) {
		r = sl->spec.kind == INPUTSPEC_TCP ? setup_tcp(sl, err, err_size)
		                                   : setup_datagrams(sl, err, err_size);
	}
	if (r < 0) {
		goto fail;
	}
	*ret_listener = sl;
	return 0;
fail:
	syslogin_destroy(sl);
	return r;
}

static void close_conn(struct syslogin *sl, struct conn *c)
{
	(void)epoll_ctl(sl->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->buf);
	*c = (struct conn){.fd = -1};
	sl->n_conns--;
}

void syslogin_destroy(struct syslogin *sl)
{
	struct stat st;

	if (!sl) {
		return;
	}
	for (unsigned i = 0; sl->conns && i < sl->max_conns; i++) {
		if (sl->conns[i].fd >= 0) {
			close_conn(sl, &sl->conns[i]);
		}
	}
	if (sl->unlink_path && stat(sl->spec.path, &st) == 0 && st.st_dev == sl->sock_dev &&
	    st.st_ino == sl->sock_ino) {
		(void)unlink(sl->spec.path); /* ours, not a successor's */
	}
	if (sl->ep >= 0) {
		close(sl->ep);
	}
	if (sl->fd >= 0) {
		close(sl->fd);
	}
	free(sl->conns);
	free(sl->ctrl);
	free(sl->iov);
	free(sl->msgs);
	free(sl->dbuf);
	free(sl->tag);
	free(sl->name);
	free(sl);
}

/* ---- datagrams ------------------------------------------------------------- */

/* The kernel's drop count of the socket is v now: count its growth.  A
 * value older than one seen (a datagram queued before the last SO_MEMINFO)
 * is not growth. */
static void drops_at(struct syslogin *sl, struct tally *t, uint32_t v)
{
	uint32_t d = v - sl->drops_seen;

	if (d != 0 && d < (1u << 31)) {
		t->n[INPUT_SYSLOG_DROPPED] += d;
		sl->drops_seen = v;
	}
}

static void note_drops(struct syslogin *sl, struct tally *t, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			drops_at(sl, t, v);
		}
	}
}

static void read_drops(struct syslogin *sl, struct tally *t)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(sl->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
		drops_at(sl, t, mem[SK_MEMINFO_DROPS]);
	}
}

/* Receive queued datagrams in batches until the queue is empty (a short
 * batch) or the poll's budget is spent.  Returns the bytes received when
 * more may be queued, else 0: the caller then waits on the socket, and
 * the ingest loop's pause after that wake-up (SYSLOGIN_GATHER_US) lets
 * the next burst queue up, so that a busy socket is read in full batches
 * instead of one system call per datagram or two. */
static int64_t poll_datagrams(struct syslogin *sl, struct tally *t)
{
	uint64_t got = 0, now;

	while (got < POLL_MAX_MESSAGES) {
		/* the kernel rewrote only these (the iovecs and buffers stay) */
		for (unsigned i = 0; i < sl->n_used; i++) {
			sl->msgs[i].msg_hdr.msg_controllen = sl->ctrl_len;
		}
		int n = recvmmsg(sl->fd, sl->msgs, SYSLOGIN_BATCH, MSG_DONTWAIT, NULL);
		sl->n_used = n > 0 ? (unsigned)n : 0;
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR && sl->cb.lines.event) {
				sl->cb.lines.event(sl->cb.lines.userdata, TAIL_EV_READ_ERROR,
				                   (uint64_t)errno);
			}
			break;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *mh = &sl->msgs[i].msg_hdr;
			note_drops(sl, t, mh);
			if (mh->msg_flags & MSG_TRUNC) {
				t->n[INPUT_SYSLOG_MESSAGES]++;
				t->bytes += sl->msgs[i].msg_len;
				t->too_long++;
				continue;
			}
			deliver(sl, t, sl->iov[i].iov_base, sl->msgs[i].msg_len);
		}
		got += (uint64_t)n;
		if ((unsigned)n < SYSLOGIN_BATCH) {
			break;
		}
	}
	/* SO_MEMINFO is a system call: at the end of a burst (a poll that found
	 * the queue empty, as the idle loop's polls do) or every
	 * DROPS_READ_MS while datagrams keep coming. */
	now = clock_mono_ms();
	if (got == 0 || now - sl->drops_read_ms >= DROPS_READ_MS) {
		read_drops(sl, t);
		sl->drops_read_ms = now;
	}
	return got >= POLL_MAX_MESSAGES ? (int64_t)t->bytes : 0;
}

/* ---- TCP ------------------------------------------------------------------- */

static void accept_all(struct syslogin *sl, struct tally *t)
{
	for (;;) {
		int fd = accept4(sl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;
		if (fd < 0) {
			return; /* EAGAIN, or an aborted connection: nothing to keep */
		}
		for (unsigned i = 0; i < sl->max_conns && !c; i++) {
			c = sl->conns[i].fd < 0 ? &sl->conns[i] : NULL;
		}
		char *buf = c ? malloc(sl->bufsz) : NULL;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
		                         .data.u32 = c ? (uint32_t)(c - sl->conns) : 0};
		if (!c || !buf || epoll_ctl(sl->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			free(buf);
			close(fd);
			t->n[INPUT_SYSLOG_CONN_REFUSED]++;
			continue;
		}
		*c = (struct conn){.fd = fd, .buf = buf, .last_ms = clock_mono_ms()};
		sl->n_conns++;
		t->n[INPUT_SYSLOG_CONNECTIONS]++;
	}
}

/* Cut the frames in c's buffer; false when the stream is broken. */
static bool frames(struct syslogin *sl, struct tally *t, struct conn *c)
{
	size_t off = 0;

	for (;;) {
		size_t used = 0, len = 0;
		const char *msg = NULL;
		enum syslog_frame_result r =
		    syslog_frame_next(&c->fr, c->buf + off, c->have - off,
		                      sl->cap + SYSLOGIN_HEADER_ROOM, &used, &msg, &len);
		off += used;
		if (r == SYSLOG_FRAME_MSG) {
			deliver(sl, t, msg, len);
		} else if (r == SYSLOG_FRAME_TOO_LONG) {
			t->n[INPUT_SYSLOG_MESSAGES]++;
			t->too_long++;
		} else if (r == SYSLOG_FRAME_BAD) {
			t->n[INPUT_SYSLOG_MESSAGES]++;
			t->n[INPUT_SYSLOG_INVALID]++;
			return false;
		} else {
			break;
		}
	}
	c->have -= off;
	if (c->have && off) {
		memmove(c->buf, c->buf + off, c->have);
	}
	return true;
}

/* Read what c has (bounded); false when it is to be closed. */
static bool read_conn(struct syslogin *sl, struct tally *t, struct conn *c)
{
	size_t total = 0;

	while (total < POLL_MAX_TCP_BYTES) {
		ssize_t r = read(c->fd, c->buf + c->have, sl->bufsz - c->have);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0 && errno == EAGAIN) {
			return true;
		}
		if (r <= 0) {
			return false; /* closed by the sender, or reset */
		}
		c->have += (size_t)r;
		total += (size_t)r;
		c->last_ms = clock_mono_ms();
		if (!frames(sl, t, c)) {
			return false;
		}
	}
	return true;
}

/* Close the connections that sent nothing for idle_ms (once a second). */
static void close_idle(struct syslogin *sl, struct tally *t)
{
	uint64_t now = clock_mono_ms();

	if (!sl->idle_ms || sl->n_conns == 0 || now < sl->idle_check_ms) {
		return;
	}
	sl->idle_check_ms = now + (sl->idle_ms < IDLE_CHECK_MS ? sl->idle_ms : IDLE_CHECK_MS);
	for (unsigned i = 0; i < sl->max_conns; i++) {
		struct conn *c = &sl->conns[i];
		if (c->fd >= 0 && now - c->last_ms >= sl->idle_ms) {
			close_conn(sl, c);
			t->n[INPUT_SYSLOG_CONN_IDLE]++;
		}
	}
}

static int64_t poll_tcp(struct syslogin *sl, struct tally *t)
{
	struct epoll_event ev[32];
	int n = epoll_wait(sl->ep, ev, 32, 0);

	for (int i = 0; i < n; i++) {
		if (ev[i].data.u32 == LISTENER_ID) {
			accept_all(sl, t);
			continue;
		}
		struct conn *c = &sl->conns[ev[i].data.u32];
		if (c->fd >= 0 && !read_conn(sl, t, c)) {
			close_conn(sl, c);
		}
	}
	close_idle(sl, t);
	return (int64_t)t->bytes + (n > 0 ? 1 : 0);
}

int64_t syslogin_poll(struct syslogin *sl)
{
	struct tally t = {.bytes = 0};
	int64_t got = sl->spec.kind == INPUTSPEC_TCP ? poll_tcp(sl, &t) : poll_datagrams(sl, &t);

	hand_over(sl, &t);
	return got;
}

int syslogin_wait_fd(const struct syslogin *sl)
{
	return sl->spec.kind == INPUTSPEC_TCP ? sl->ep : sl->fd;
}

bool syslogin_can_adopt(const struct syslogin *prev, const char *text, enum inputspec_kind kind)
{
	return prev && prev->spec.kind == kind && kind != INPUTSPEC_TCP && prev->fd >= 0 &&
	       strcmp(prev->name, text) == 0;
}

void syslogin_take_over(struct syslogin *sl, struct syslogin *prev)
{
	if (!sl->adopted || !syslogin_can_adopt(prev, sl->name, sl->spec.kind)) {
		return;
	}
	sl->unlink_path = prev->unlink_path;
	sl->sock_dev = prev->sock_dev;
	sl->sock_ino = prev->sock_ino;
	sl->drops_seen = prev->drops_seen;
	prev->unlink_path = false;
}

const char *syslogin_name(const struct syslogin *sl)
{
	return sl->name;
}

uint16_t syslogin_port(const struct syslogin *sl)
{
	return sl->port;
}

unsigned syslogin_connections(const struct syslogin *sl)
{
	return sl->n_conns;
}
