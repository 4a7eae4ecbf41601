/*
 * syslogin.h - one syslog listener: a UDP, TCP or unix datagram socket
 * whose messages' log lines are handed to a source (see input.h).
 *
 * Each message is parsed by parsers/syslog.c; its MSG part is the line.
 * Counted, never logged one by one: every message received, invalid ones
 * (no <PRI>, a broken header, a broken TCP octet count: that connection is
 * closed), messages of another tag when a tag filter is set, and what the
 * kernel dropped because the receive queue was full (SO_RXQ_OVFL and SO_MEMINFO, UDP).
 * A message over the line cap is an over-long line (TAIL_EV_TOO_LONG).
 *
 * Memory is fixed when the listener is created and when a connection is
 * accepted: a datagram batch (SYSLOGIN_BATCH buffers of cap plus header
 * room) and, per TCP connection, one frame buffer; at most max_conns
 * connections (more are accepted and closed at once, counted); a TCP
 * connection that sends nothing for idle_ms is closed (counted).  A flood
 * costs messages (kernel drops, counted), never memory.
 */
#ifndef EXPORTER_SYSLOGIN_H
#define EXPORTER_SYSLOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/inputspec.h"
#include "exporter/input/input.h"

#define SYSLOGIN_BATCH 64u             /* datagrams per recvmmsg */
#define SYSLOGIN_HEADER_ROOM 1024u     /* header bytes allowed beside a line of cap bytes */
#define SYSLOGIN_DEFAULT_MAX_CONNS 64u /* TCP connections per listener */
#define SYSLOGIN_RCVBUF (8u << 20)     /* asked for; the kernel caps it (rmem_max) */
/* The pause between a datagram socket's wake-up and its read: at 1M
 * datagrams/s 200 of them queue up (3 full batches; about 250 KB of queue,
 * inside the kernel's default limit), at low rates a line waits 0.2 ms. */
#define SYSLOGIN_GATHER_US 200u

struct syslogin_options {
	const char *text;             /* the spec as written (name for logs, landing page) */
	const struct inputspec *spec; /* copied */
	size_t line_cap;              /* 0: TAIL_DEFAULT_LINE_CAP */
	const char *tag;              /* keep only this tag; NULL: all (copied) */
	unsigned max_conns;           /* 0: SYSLOGIN_DEFAULT_MAX_CONNS */
	uint64_t idle_ms;             /* TCP: close a connection idle this long; 0: never */
	/* A datagram listener (UDP, unixgram) of the same text being replaced
	 * by a reload: share its socket (a dup) instead of binding; borrowed,
	 * it must outlive syslogin_take_over or this listener.  NULL: bind. */
	const struct syslogin *adopt;
};

struct syslogin;

/* Bind and (TCP) listen now.  0, or -errno with a message in err
 * (-EADDRINUSE: another socket has the address; a unixgram path that
 * exists and is not a dead socket is never removed). */
int syslogin_create(const struct syslogin_options *o, const struct input_callbacks *cb,
                    struct syslogin **ret_listener, char *err, size_t err_size);

/* NULL-safe; closes connections and the socket, removes the unixgram
 * socket file it owns (created, or taken over). */
void syslogin_destroy(struct syslogin *sl);

/* Receive what is queued, up to a budget so other inputs get their turn.
 * Returns > 0 when more may be queued (call again soon): for TCP whenever
 * something was read, for datagrams only when the budget ran out -- a
 * datagram socket found empty returns 0 even if it received, so the
 * caller waits on syslogin_wait_fd and pauses SYSLOGIN_GATHER_US after
 * the wake-up: the next read then gets a full batch at high rates. */
int64_t syslogin_poll(struct syslogin *sl);

/* A descriptor readable when something is queued (the socket, or for TCP
 * an epoll set of the listener and its connections). */
int syslogin_wait_fd(const struct syslogin *sl);

/* Whether sl can share prev's socket (syslogin_options.adopt): both
 * datagram listeners with the same text. */
bool syslogin_can_adopt(const struct syslogin *prev, const char *text, enum inputspec_kind kind);

/* A reload committed: sl, created adopting prev's socket, now owns what
 * prev owned (the unixgram socket file, removed when sl is destroyed, not
 * prev) and continues prev's drop count.  No-op when sl did not adopt
 * prev's socket. */
void syslogin_take_over(struct syslogin *sl, struct syslogin *prev);

/* The spec as written (borrowed). */
const char *syslogin_name(const struct syslogin *sl);

/* The port bound (UDP, TCP; useful with port 0), else 0. */
uint16_t syslogin_port(const struct syslogin *sl);

/* Open TCP connections now. */
unsigned syslogin_connections(const struct syslogin *sl);

#endif
