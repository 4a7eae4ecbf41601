/*
 * fdstore.c - log-file descriptors kept outside the process (see
 * fdstore.h): one table of files, two holders behind a vtable.
 *
 * The table has a slot per (dev, ino): refs (sources following the file),
 * fd (one of theirs, borrowed), returned_fd (the copy given back at start,
 * owned until taken or settled), held (the holder has a copy), pinned
 * (given back: not released before fdstore_settle).  Every call brings the
 * holder in line with the table -- HOLD what is followed and not held,
 * RELEASE what is held and no longer followed -- with non-blocking sends;
 * what does not go out stays pending (dirty) for the next call or
 * fdstore_tick.  A holder that fails for another reason than a full socket
 * (the keeper was killed, the manager's socket is gone) is logged once and
 * given up: the exporter runs on as it did without.
 *
 * systemd's protocol is implemented directly (sd_notify(3), sd_listen_fds(3),
 * "File Descriptor Store" in systemd.service(5)): a datagram with the
 * assignments to $NOTIFY_SOCKET ('@' is the abstract namespace), the
 * descriptor as SCM_RIGHTS; at start LISTEN_PID must be ours, LISTEN_FDS
 * descriptors from 3 on, named by LISTEN_FDNAMES (':'-separated).  The
 * manager drops a second FDSTORE of the same open file itself, and
 * FDSTOREREMOVE drops every descriptor of the name: so a file is sent once
 * and removed once, whatever number of opens it had.
 *
 * Rejected: libsystemd (sd_pid_notify_with_fds is three system calls of
 * code; the dependency would be for this alone and the keeper path needs
 * the same SCM_RIGHTS code anyway), a dup of every descriptor kept in the
 * table (it would double the exporter's descriptors; the fileset's own is
 * borrowed instead), and blocking sends (a stuck keeper must never stall
 * the ingest loop).
 */
#include "exporter/input/fdstore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "exporter/input/fdkeeper.h"
#include "exporter/log.h"
#include "parsers/numparse.h"

#define HELLO_TIMEOUT_MS 2000
#define BYE_TIMEOUT_MS 200
#define NAME_PREFIX "alx-"
#define SD_LISTEN_FDS_START 3
#define MAX_RETURNED 65536u

struct slot {
	uint64_t dev, ino;
	int fd;          /* a follower's descriptor (borrowed), -1: none known */
	int returned_fd; /* given back at start (owned), -1: none */
	unsigned refs;   /* sources following the file */
	bool held;       /* the holder has a copy */
	bool pinned;     /* given back: kept until fdstore_settle */
};

struct holder_ops {
	const char *kind;
	int (*hold)(struct fdstore *s, const struct slot *sl);
	int (*release)(struct fdstore *s, const struct slot *sl);
	void (*finish)(struct fdstore *s, bool clean);
};

struct fdstore {
	const struct holder_ops *ops;
	pthread_mutex_t lock;
	struct slot *slots;
	size_t n, cap, max;
	size_t n_returned; /* slots with a returned_fd */
	bool dirty;        /* the holder is behind the table */
	bool broken;       /* the holder failed: given up */
	int sock;
	struct sockaddr_un addr; /* systemd: $NOTIFY_SOCKET */
	socklen_t addr_len;
};

static struct slot *find_slot(struct fdstore *s, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->slots[i].dev == dev && s->slots[i].ino == ino) {
			return &s->slots[i];
		}
	}
	return NULL;
}

static struct slot *new_slot(struct fdstore *s, uint64_t dev, uint64_t ino)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		if (cap > s->max) {
			cap = s->max;
		}
		struct slot *n = s->n < cap ? realloc(s->slots, cap * sizeof(*n)) : NULL;
		if (!n) {
			return NULL; /* over the budget: this file is not kept */
		}
		s->slots = n;
		s->cap = cap;
	}
	s->slots[s->n] = (struct slot){.dev = dev, .ino = ino, .fd = -1, .returned_fd = -1};
	return &s->slots[s->n++];
}

static void give_up(struct fdstore *s, int err)
{
	if (!s->broken) {
		log_warn(
		    "file descriptor holder failed; deleted log files will not survive a crash",
		    "holder", s->ops->kind, "error", strerror(-err));
	}
	s->broken = true;
	s->dirty = false;
}

/* Bring one slot in line; false when the socket is full (stop for now). */
static bool sync_slot(struct fdstore *s, struct slot *sl)
{
	int r = 0;

	if (sl->refs > 0 && !sl->held && sl->fd >= 0) {
		r = s->ops->hold(s, sl);
		sl->held = r == 0;
	} else if (sl->refs == 0 && sl->held && !sl->pinned) {
		r = s->ops->release(s, sl);
		sl->held = r != 0;
	}
	if (r < 0 && r != -EAGAIN) {
		give_up(s, r);
	}
	return r != -EAGAIN;
}

/* Send what the holder lacks; drop slots nobody needs. */
static void sync_all(struct fdstore *s)
{
	size_t w = 0;
	bool full = false;

	if (!s->dirty || s->broken) {
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		if (!full && !s->broken) {
			full = !sync_slot(s, sl);
		}
		if (sl->refs == 0 && !sl->pinned && (!sl->held || s->broken)) {
			continue; /* done with (returned_fd is -1 once unpinned) */
		}
		s->slots[w++] = *sl;
	}
	s->n = w;
	s->dirty = full && !s->broken;
}

/* ---- the keeper ------------------------------------------------------------ */

static int keeper_send(struct fdstore *s, enum fdkeeper_op op, const struct slot *sl, int fd)
{
	struct fdkeeper_msg m = {.magic = FDKEEPER_MAGIC, .op = op, .dev = sl->dev, .ino = sl->ino};

	return fdkeeper_send(s->sock, &m, fd, MSG_DONTWAIT);
}

static int keeper_hold(struct fdstore *s, const struct slot *sl)
{
	return keeper_send(s, FDKEEPER_HOLD, sl, sl->fd);
}

static int keeper_release(struct fdstore *s, const struct slot *sl)
{
	return keeper_send(s, FDKEEPER_RELEASE, sl, -1);
}

static void keeper_finish(struct fdstore *s, bool clean)
{
	struct fdkeeper_msg m = {.magic = FDKEEPER_MAGIC, .op = FDKEEPER_BYE};
	struct pollfd p = {.fd = s->sock, .events = POLLOUT};

	if (clean && !s->broken && fdkeeper_send(s->sock, &m, -1, MSG_DONTWAIT) == -EAGAIN &&
	    poll(&p, 1, BYE_TIMEOUT_MS) == 1) {
		(void)fdkeeper_send(s->sock, &m, -1, MSG_DONTWAIT);
	}
}

static const struct holder_ops keeper_ops = {"keeper", keeper_hold, keeper_release, keeper_finish};

/* Keep a descriptor given back (by the keeper or the manager) for (dev,
 * ino), checked with fstat; closed when it is not that regular file. */
static void keep_returned(struct fdstore *s, int fd, uint64_t dev, uint64_t ino)
{
	struct stat st;
	struct slot *sl = NULL;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_dev == dev &&
	    (uint64_t)st.st_ino == ino && s->n_returned < MAX_RETURNED && !find_slot(s, dev, ino)) {
		sl = new_slot(s, dev, ino);
	}
	if (!sl) {
		(void)close(fd);
		return;
	}
	sl->returned_fd = fd;
	sl->held = true;
	sl->pinned = true;
	s->n_returned++;
}

/* HELLO, then GIVE... END, waiting at most HELLO_TIMEOUT_MS in all. */
static int keeper_take_back(struct fdstore *s)
{
	struct fdkeeper_msg m = {.magic = FDKEEPER_MAGIC, .op = FDKEEPER_HELLO};
	int r = fdkeeper_send(s->sock, &m, -1, 0);

	while (r == 0) {
		struct pollfd p = {.fd = s->sock, .events = POLLIN};
		int fd;
		if (poll(&p, 1, HELLO_TIMEOUT_MS) != 1) {
			return -ETIMEDOUT;
		}
		r = fdkeeper_recv(s->sock, MSG_DONTWAIT, &m, &fd);
		if (r == 0 && m.op == FDKEEPER_END) {
			break;
		}
		if (r == 0 && fd >= 0 && m.op == FDKEEPER_GIVE) {
			keep_returned(s, fd, m.dev, m.ino);
		} else if (r == 0 && fd >= 0) {
			(void)close(fd);
		}
		r = r == -EAGAIN ? 0 : r;
	}
	return r;
}

static int open_keeper(struct fdstore *s, const struct fdstore_options *o, char *err,
                       size_t err_size)
{
	char path[sizeof(s->addr.sun_path)];
	int n = snprintf(path, sizeof(path), "%s.fds", o->state_path);
	int r;

	if (n < 0 || (size_t)n >= sizeof(path)) {
		(void)snprintf(err, err_size, "the socket path %s.fds is too long (max %zu bytes)",
		               o->state_path, sizeof(path) - 1);
		return -ENAMETOOLONG;
	}
	s->ops = &keeper_ops;
	r = fdkeeper_connect(path, &s->sock);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		/* None, or a stale socket of a keeper that exited: start one. */
		r = fdkeeper_spawn(path, s->max, o->linger_ms);
		r = r < 0 ? r : fdkeeper_connect(path, &s->sock);
	}
	if (r == 0) {
		r = keeper_take_back(s);
	}
	if (r < 0) {
		(void)snprintf(err, err_size, "keeper at %s: %s", path,
		               r == -EEXIST ? "the path exists and is not our socket"
		                            : strerror(-r));
	}
	return r;
}

/* ---- systemd's file descriptor store ------------------------------------ */

static int notify(struct fdstore *s, const char *text, int fd)
{
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr mh = {
	    .msg_name = &s->addr, .msg_namelen = s->addr_len, .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = fdkeeper_sendmsg(s->sock, &mh, fd, MSG_DONTWAIT);

	return n < 0 ? (int)n : 0;
}

static int sd_hold(struct fdstore *s, const struct slot *sl)
{
	char text[128];

	(void)snprintf(text, sizeof(text), "FDSTORE=1\nFDNAME=" NAME_PREFIX "%" PRIu64 "-%" PRIu64,
	               sl->dev, sl->ino);
	return notify(s, text, sl->fd);
}

static int sd_release(struct fdstore *s, const struct slot *sl)
{
	char text[128];

	(void)snprintf(text, sizeof(text),
	               "FDSTOREREMOVE=1\nFDNAME=" NAME_PREFIX "%" PRIu64 "-%" PRIu64, sl->dev,
	               sl->ino);
	return notify(s, text, -1);
}

static void sd_finish(struct fdstore *s, bool clean)
{
	(void)s;
	(void)clean; /* the manager flushes the store when the unit stops for good */
}

static const struct holder_ops systemd_ops = {"systemd", sd_hold, sd_release, sd_finish};

/* "alx-DEV-INO" (len bytes): 0 with *ret_dev and *ret_ino, or -EINVAL. */
static int parse_name(const char *name, size_t len, uint64_t *ret_dev, uint64_t *ret_ino)
{
	const size_t plen = sizeof(NAME_PREFIX) - 1;
	const char *dash;
	uint64_t dev, ino;

	if (len <= plen || memcmp(name, NAME_PREFIX, plen) != 0) {
		return -EINVAL;
	}
	name += plen;
	len -= plen;
	dash = memchr(name, '-', len);
	if (!dash || numparse_u64(name, (size_t)(dash - name), &dev) < 0 ||
	    numparse_u64(dash + 1, len - (size_t)(dash - name) - 1, &ino) < 0) {
		return -EINVAL;
	}
	*ret_dev = dev;
	*ret_ino = ino;
	return 0;
}

static bool env_u64(const char *name, uint64_t *ret)
{
	const char *v = getenv(name);

	return v && numparse_u64(v, strlen(v), ret) == 0;
}

/* LISTEN_FDS of ours (LISTEN_PID) named alx-DEV-INO become returned
 * descriptors; others are left alone.  The variables are unset. */
static void sd_take_back(struct fdstore *s)
{
	uint64_t pid = 0, n = 0;
	const char *names = getenv("LISTEN_FDNAMES");

	if (!env_u64("LISTEN_PID", &pid) || pid != (uint64_t)getpid() ||
	    !env_u64("LISTEN_FDS", &n) || n > MAX_RETURNED) {
		return;
	}
	for (uint64_t i = 0; i < n && names; i++) {
		const char *end = strchr(names, ':');
		size_t len = end ? (size_t)(end - names) : strlen(names);
		int fd = SD_LISTEN_FDS_START + (int)i;
		uint64_t dev, ino;
		if (parse_name(names, len, &dev, &ino) == 0) {
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
			keep_returned(s, fd, dev, ino);
		}
		names = end ? end + 1 : NULL;
	}
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

static int notify_addr(struct fdstore *s, const char *ns)
{
	size_t len = ns ? strlen(ns) : 0;

	if (len < 2 || len >= sizeof(s->addr.sun_path) || (ns[0] != '/' && ns[0] != '@')) {
		return -EINVAL;
	}
	s->addr.sun_family = AF_UNIX;
	memcpy(s->addr.sun_path, ns, len);
	if (ns[0] == '@') {
		s->addr.sun_path[0] = '\0'; /* abstract: the length says where it ends */
	}
	s->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	return 0;
}

static int open_systemd(struct fdstore *s, char *err, size_t err_size)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	int r = notify_addr(s, ns);

	s->ops = &systemd_ops;
	if (r < 0) {
		(void)snprintf(err, err_size, "NOTIFY_SOCKET is %s",
		               ns ? "not a socket path" : "unset");
		return r;
	}
	s->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->sock < 0) {
		r = -errno;
		(void)snprintf(err, err_size, "notify socket: %s", strerror(-r));
		return r;
	}
	sd_take_back(s);
	return 0;
}

/* Whether the service manager keeps descriptors for us. */
static bool systemd_store_on(void)
{
	uint64_t max = 0;
	const char *names = getenv("LISTEN_FDNAMES");

	if (!getenv("NOTIFY_SOCKET")) {
		return false;
	}
	return (env_u64("FDSTORE", &max) && max > 0) || (names && strstr(names, NAME_PREFIX));
}

/* ---- the interface ----------------------------------------------------------- */

int fdstore_open(const struct fdstore_options *o, struct fdstore **ret_store, char *err,
                 size_t err_size)
{
	bool systemd = o->mode == CONFIG_FD_STORE_SYSTEMD ||
	               (o->mode == CONFIG_FD_STORE_AUTO && systemd_store_on());
	struct fdstore *s;
	int r;

	*ret_store = NULL;
	err[0] = '\0';
	if (o->mode == CONFIG_FD_STORE_OFF || (!systemd && !o->state_path)) {
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->sock = -1;
	s->max = o->max_fds ? o->max_fds : 1;
	r = systemd ? open_systemd(s, err, err_size) : open_keeper(s, o, err, err_size);
	if (r < 0) {
		fdstore_destroy(s, false);
		return r;
	}
	*ret_store = s;
	return 0;
}

void fdstore_destroy(struct fdstore *s, bool clean)
{
	if (!s) {
		return;
	}
	if (s->sock >= 0) {
		s->ops->finish(s, clean);
		(void)close(s->sock);
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->slots[i].returned_fd >= 0) {
			(void)close(s->slots[i].returned_fd);
		}
	}
	free(s->slots);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *fdstore_kind(const struct fdstore *s)
{
	return s ? s->ops->kind : "off";
}

size_t fdstore_returned(const struct fdstore *s)
{
	return s ? s->n_returned : 0;
}

void fdstore_add(struct fdstore *s, int fd, uint64_t dev, uint64_t ino)
{
	if (!s) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	struct slot *sl = find_slot(s, dev, ino);
	if (!sl) {
		sl = new_slot(s, dev, ino);
	}
	if (sl) {
		sl->refs++;
		if (sl->fd < 0 || sl->refs == 1) {
			sl->fd = fd;
		}
		s->dirty = true;
		sync_all(s);
	}
	pthread_mutex_unlock(&s->lock);
}

void fdstore_remove(struct fdstore *s, uint64_t dev, uint64_t ino)
{
	if (!s) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	struct slot *sl = find_slot(s, dev, ino);
	if (sl && sl->refs > 0) {
		sl->refs--;
		/* The descriptor may be the one closed now: a second follower's is
		 * unknown, so one not sent yet will not be (rare: two sources on
		 * one file and a full socket). */
		sl->fd = -1;
		s->dirty = true;
		sync_all(s);
	}
	pthread_mutex_unlock(&s->lock);
}

int fdstore_take(struct fdstore *s, uint64_t dev, uint64_t ino)
{
	int fd = -ENOENT;

	if (!s) {
		return fd;
	}
	pthread_mutex_lock(&s->lock);
	struct slot *sl = find_slot(s, dev, ino);
	if (sl && sl->returned_fd >= 0) {
		fd = sl->returned_fd;
		sl->returned_fd = -1;
		s->n_returned--;
	}
	pthread_mutex_unlock(&s->lock);
	return fd;
}

void fdstore_settle(struct fdstore *s)
{
	if (!s) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		if (sl->returned_fd >= 0) {
			(void)close(sl->returned_fd);
			sl->returned_fd = -1;
		}
		sl->pinned = false;
	}
	s->n_returned = 0;
	s->dirty = true;
	sync_all(s);
	pthread_mutex_unlock(&s->lock);
}

void fdstore_tick(struct fdstore *s)
{
	if (!s) {
		return;
	}
	pthread_mutex_lock(&s->lock);
	sync_all(s);
	pthread_mutex_unlock(&s->lock);
}

void fdstore_counts(const struct fdstore *s, size_t *ret_wanted, size_t *ret_held)
{
	size_t wanted = 0, held = 0;

	if (s) {
		struct fdstore *w = (struct fdstore *)s; /* the lock only */
		pthread_mutex_lock(&w->lock);
		for (size_t i = 0; i < s->n; i++) {
			wanted += s->slots[i].refs > 0;
			held += s->slots[i].held;
		}
		pthread_mutex_unlock(&w->lock);
	}
	*ret_wanted = wanted;
	*ret_held = held;
}
