/*
 * input.h - the door of the input layer: where one source's lines come
 * from.  A source hands its configured inputs over as text and gets
 * complete lines back through callbacks; it does not know whether they
 * came from files, standard input or syslog sockets.
 *
 * Inputs, by the shape of their text (inputspec.h):
 *   /var/log/nginx/access.log, access-*.log    files and globs (fileset.h:
 *                                                rotation, checkpoints)
 *   -                                            standard input (stream.h)
 *   udp://HOST:PORT, tcp://HOST:PORT,            syslog listeners (syslogin.h)
 *   unixgram:///path
 * Lines go to cb->lines.line one by one, with the file rules (newline and a
 * "\r" before it stripped, over-long lines skipped and reported).  Events
 * (bytes, rotations, truncations, read errors, over-long lines) go to
 * cb->lines.event, for every kind of input; counts only syslog has
 * (invalid messages, kernel drops...) go to cb->count.  Positions exist
 * for files only: input_foreach_position and input_start's saved state
 * cover files; standard input and sockets start with what arrives.
 *
 * Threading: everything here runs on the source's ingest thread; the
 * input owns its descriptors and buffers (all capped).
 */
#ifndef EXPORTER_INPUT_H
#define EXPORTER_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exporter/input/fileset.h"
#include "exporter/input/tail.h"

/* Counts of inputs that are not files (the source turns them into
 * self-metrics). */
enum input_counter {
	INPUT_SYSLOG_MESSAGES,     /* syslog messages received (valid or not) */
	INPUT_SYSLOG_INVALID,      /* malformed: no <PRI>, bad header, broken TCP framing */
	INPUT_SYSLOG_FILTERED,     /* valid, but another tag than the source's syslog_tag */
	INPUT_SYSLOG_DROPPED,      /* lost in the kernel: receive queue full (sk_drops) */
	INPUT_SYSLOG_CONNECTIONS,  /* TCP connections accepted */
	INPUT_SYSLOG_CONN_REFUSED, /* TCP connections closed at once: over the cap */
	INPUT_SYSLOG_CONN_IDLE,    /* TCP connections closed: nothing received for the timeout */
	INPUT_COUNTER_COUNT,
};

struct input_callbacks {
	struct tail_callbacks lines; /* line, event, file (open/closed paths); userdata */
	/* n more of counter c; may be NULL.  Called with lines.userdata. */
	void (*count)(void *userdata, enum input_counter c, uint64_t n);
};

struct input_options {
	const char *name; /* the source's name, for log messages */
	const char *const *specs;
	size_t n_specs;
	size_t line_cap;         /* 0: TAIL_DEFAULT_LINE_CAP; also the syslog message cap */
	const char *syslog_tag;  /* keep only syslog messages with this tag; NULL: all */
	uint64_t syslog_idle_ms; /* close TCP connections idle this long; 0: never */
	/* A file path's open-file gauge is no longer wanted (fileset.h). */
	void (*file_gone)(void *userdata, const char *path);
	/* Files and standard input are container logs, unwrapped before
	 * lines.line (container.h); not syslog messages. */
	enum config_container container;
	unsigned container_streams; /* CONFIG_STREAM_* (0: stdout) */
	/* The inputs of the source a reload replaces, or NULL: its datagram
	 * listeners are shared, not bound again (syslogin.h; borrowed until
	 * input_take_over or input_destroy of the new input). */
	const struct input *adopt_from;
};

struct input;

/* Set up every input of o (copied): files are not opened yet (input_start
 * does), sockets are bound and listening now, so an address in use is an
 * error at start-up and on reload.  -EINVAL (no inputs, a bad spec, "-"
 * twice), -EADDRINUSE, -EACCES, -ENOMEM or another -errno, with a message
 * naming the input in err. */
int input_create(const struct input_options *o, const struct input_callbacks *cb,
                 struct input **ret_input, char *err, size_t err_size);

/* NULL-safe; closes files and sockets (a unixgram socket file is removed). */
void input_destroy(struct input *in);

/* A reload committed: in (created with adopt_from = prev) takes over the
 * sockets it shares with prev (syslogin_take_over). */
void input_take_over(struct input *in, struct input *prev);

/* The first scan of the files (fileset_start: from_start, saved) and the
 * catch-up limit (fileset_set_catchup_limit).  Standard input and the
 * listeners are announced open (cb->lines.file: "-" and each address, so
 * accesslog_log_file_open shows them like files; "-" goes to 0 at its end). */
void input_start(struct input *in, bool from_start, const struct fileset_saved *saved,
                 uint64_t now_ms);
void input_set_catchup_limit(struct input *in, uint64_t max_bytes);

/* Keep the descriptors of the files in store (fileset_set_fdstore; call
 * before input_start; borrowed, may be NULL). */
void input_set_fdstore(struct input *in, struct fdstore *store);

/* Read what is new from every input; at_eof_is_line: --once (standard
 * input is read to its end, blocking).  Bytes consumed (> 0 while there
 * is more to do). */
int64_t input_poll(struct input *in, uint64_t now_ms, bool at_eof_is_line);

/* The file patterns among the specs, in order (for checkpoints: the
 * patterns a saved position belongs to).  *ret_patterns borrowed. */
size_t input_file_patterns(const struct input *in, const char *const **ret_patterns);

/* Files: fileset_foreach, fileset_foreach_missing, fileset_count (0 when
 * the source has no file patterns). */
void input_foreach_position(const struct input *in,
                            void (*fn)(void *ud, const char *path, const struct tail_position *pos,
                                       bool retired),
                            void *ud);
void input_foreach_missing(const struct input *in,
                           void (*fn)(void *ud, const char *pattern, int err), void *ud);
size_t input_file_count(const struct input *in);

/* The landing page's view: files as fileset_snapshot; standard input as
 * "-" (open, offset = bytes read; missing with the errno once a read
 * failed; rotated once it ended) and each listener by its address (open). */
void input_snapshot(const struct input *in, uint64_t now_ms, double now_unix,
                    void (*fn)(void *ud, const struct fileset_file_status *f), void *ud);

/* One descriptor that becomes readable when any input may have something
 * new (files' inotify, standard input, sockets); -1 when there is none.
 * A hint for the idle wait: input_poll is what reads. */
int input_wait_fd(const struct input *in);

/* Announce again (cb->lines.file, open) every input that is open now --
 * files, standard input before its end, listeners -- after the source's
 * metrics moved to another registry. */
void input_announce(const struct input *in);

#define INPUT_GATHER_FILES_US 10000u /* see input_wait_gather_us */

/* How long a wake-up of input_wait_fd may pause to gather more before the
 * next poll, in microseconds: INPUT_GATHER_FILES_US with files only
 * (writers are not slowed by it); 0 with standard input (its writer blocks
 * on a full pipe); SYSLOGIN_GATHER_US with a listener (short: a full
 * socket queue drops datagrams; long enough to read in full batches). */
unsigned input_wait_gather_us(const struct input *in);

/* Whether some input receives syslog (its counters mean something). */
bool input_has_syslog(const struct input *in);

/* For --once: log every reason the counts miss data (fileset_report, a
 * read error on standard input).  Returns the number of errors logged. */
size_t input_report(const struct input *in);

#endif
