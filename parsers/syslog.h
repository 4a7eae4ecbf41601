/*
 * syslog.h - syslog messages (RFC 3164, RFC 5424) and TCP framing
 * (RFC 6587: octet counting and newline) turned into the log line they
 * carry.  No I/O: the receiver (exporter/input/syslogin.c) hands bytes in,
 * this hands views back, so both can be unit-tested and fuzzed alone.
 *
 * Forms accepted (what nginx, Apache's piped loggers, rsyslog and
 * util-linux logger write):
 *   RFC 5424  <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]
 *             (SD "-" or [id k="v" ...]...; a UTF-8 BOM before MSG is dropped)
 *   RFC 3164  <PRI>Mmm dd hh:mm:ss HOST TAG: MSG     (nginx with hostname)
 *             <PRI>Mmm dd hh:mm:ss TAG: MSG          (nginx nohostname, local logger)
 *             <PRI>Mmm dd hh:mm:ss HOST MSG          (no tag: tag filter never matches)
 *             <PRI>TAG: MSG                          (no timestamp)
 * TAG may end in "[pid]".  Trailing "\n", "\r" and NUL bytes of MSG are
 * dropped (some senders terminate datagrams).  A message without "<PRI>"
 * (PRI 0..191, 1 to 3 digits, no leading zero) or a 5424 header that does
 * not parse is invalid.  Rejected: guessing a message without PRI is a raw
 * line (a stray packet would be counted as a request).
 */
#ifndef PARSERS_SYSLOG_H
#define PARSERS_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum syslog_proto {
	SYSLOG_RFC3164,
	SYSLOG_RFC5424,
};

/* Views into the parsed buffer (borrowed from it). */
struct syslog_msg {
	enum syslog_proto proto;
	unsigned pri; /* facility * 8 + severity */
	const char *host;
	size_t host_len; /* 0: none */
	const char *tag; /* 3164 TAG without "[pid]" / 5424 APP-NAME ("-": none) */
	size_t tag_len;  /* 0: none */
	const char *msg; /* the log line */
	size_t msg_len;
};

/* Parse one message buf[0..len).  0 and *ret_msg, or -EINVAL (nothing
 * written). */
int syslog_parse(const char *buf, size_t len, struct syslog_msg *ret_msg);

/* Whether m's tag is tag[0..tag_len). */
bool syslog_tag_is(const struct syslog_msg *m, const char *tag, size_t tag_len);

/* ---- TCP framing (RFC 6587) ---------------------------------------------
 * Each frame picks its framing by its first byte: a digit is octet
 * counting ("LEN SP MSG"), anything else runs to the next "\n" (a "\r"
 * before it is dropped; empty frames and stray "\r" or NUL bytes between
 * frames are skipped).  Frames whose message is
 * over cap bytes are skipped whole and reported once each; the state kept
 * between calls is how much of such a frame is still to skip. */
struct syslog_framer {
	uint64_t discard; /* octet-counted bytes still to skip */
	bool skip_line;   /* skipping an over-long newline frame up to its "\n" */
};

enum syslog_frame_result {
	SYSLOG_FRAME_MSG,      /* a message at *ret_msg, *ret_len */
	SYSLOG_FRAME_MORE,     /* no complete frame in the bytes given: read more */
	SYSLOG_FRAME_TOO_LONG, /* a frame over cap starts here: it is being skipped */
	SYSLOG_FRAME_BAD,      /* a broken octet count: the stream cannot be resynchronised */
};

/* Find the next frame in buf[0..n).  *ret_used: bytes consumed (for MORE
 * too: skipped bytes of an over-long frame); the caller drops them and
 * calls again with the rest (more bytes appended).  A buffer that holds
 * cap + SYSLOG_FRAME_SLACK bytes always gives progress.  Every result but
 * BAD leaves f ready for the next call. */
#define SYSLOG_FRAME_SLACK 16u
enum syslog_frame_result syslog_frame_next(struct syslog_framer *f, const char *buf, size_t n,
                                           size_t cap, size_t *ret_used, const char **ret_msg,
                                           size_t *ret_len);

#endif
