/*
 * fdkeeper.h - the keeper process: a small child that holds copies of the
 * exporter's open log-file descriptors so that they outlive a kill -9 of
 * the exporter (see fdstore.h, which is what the rest of the exporter
 * uses; this header is the keeper's process and wire format).
 *
 * Wire: a SOCK_SEQPACKET unix socket (message boundaries, an end-of-file
 * when the peer dies, SCM_RIGHTS), one struct fdkeeper_msg per message,
 * at most one descriptor attached.
 *   exporter -> keeper: HELLO (then the keeper sends GIVE for every
 *     descriptor it holds, with the descriptor, and END), HOLD (with the
 *     descriptor of (dev, ino): kept, replacing one of the same file),
 *     RELEASE (dev, ino: closed), BYE (clean stop: the keeper closes all and
 *     exits).
 * The keeper serves one exporter at a time; a second one is refused while
 * the first is alive.  With no exporter connected for linger_ms (none came
 * back after a crash) it closes everything and exits, so deleted files do
 * not pin disk space for ever; it exits as well once its socket file is
 * removed or replaced (nobody can reach it).  It removes the socket file
 * when it exits.  It holds at most max_fds descriptors.
 */
#ifndef EXPORTER_INPUT_FDKEEPER_H
#define EXPORTER_INPUT_FDKEEPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define FDKEEPER_MAGIC 0x6b786c61u /* "alxk" */

enum fdkeeper_op {
	FDKEEPER_HELLO = 1,
	FDKEEPER_HOLD,
	FDKEEPER_RELEASE,
	FDKEEPER_BYE,
	FDKEEPER_GIVE,
	FDKEEPER_END,
	FDKEEPER_OP_MAX,
};

struct fdkeeper_msg {
	uint32_t magic;
	uint32_t op; /* enum fdkeeper_op */
	uint64_t dev;
	uint64_t ino;
};

/* sendmsg(2) of mh with fd attached as SCM_RIGHTS (fd < 0: none; mh's
 * control fields are set and cleared here), retried on EINTR, MSG_NOSIGNAL
 * added: the bytes sent or -errno. */
ssize_t fdkeeper_sendmsg(int sock, struct msghdr *mh, int fd, int flags);

/* Send m with fd attached (fd < 0: none); flags as send(2) (MSG_NOSIGNAL
 * is added).  0, or -errno (-EAGAIN with MSG_DONTWAIT on a full socket). */
int fdkeeper_send(int sock, const struct fdkeeper_msg *m, int fd, int flags);

/* Receive one message: 0 with *ret_msg and *ret_fd (-1: none; close-on-exec)
 * written, -EPIPE at end of file (the peer is gone), -EAGAIN, -EPROTO for
 * a malformed message (any descriptor in it closed), or another -errno. */
int fdkeeper_recv(int sock, int flags, struct fdkeeper_msg *ret_msg, int *ret_fd);

/* Start a keeper listening on path (a socket file, mode 0600; a stale
 * socket of ours there is replaced, anything else is -EEXIST): the socket
 * is bound here, then a grandchild (no zombie; its own session; standard
 * streams on /dev/null; every other descriptor closed) serves it.  Call
 * before any thread starts.  0 or -errno (-ENAMETOOLONG: path does not fit
 * a unix socket address). */
int fdkeeper_spawn(const char *path, size_t max_fds, uint64_t linger_ms);

/* Connect to the keeper at path and check it runs as our user
 * (SO_PEERCRED).  *ret_sock (close-on-exec, blocking) on success; -ENOENT or
 * -ECONNREFUSED when no keeper serves path, -EPERM for another user's. */
int fdkeeper_connect(const char *path, int *ret_sock);

#endif
