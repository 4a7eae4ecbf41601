/*
 * inputspec.h - what one input of a source is, from its text: a file path
 * or glob, "-" (standard input), or a syslog listener address
 * (udp://HOST:PORT, tcp://HOST:PORT, unixgram:///path).
 *
 * The one reader of that text: the command line and YAML readers check
 * with it (so --config.check names a bad address), the input layer opens
 * what it says.  HOST:PORT is config_parse_listen_address's (no name
 * resolution).  A text that looks like a URL ("letters://") with another
 * scheme is refused rather than taken as a relative file name: "upd://..."
 * is a typo, not a log file.
 */
#ifndef CONFIG_INPUTSPEC_H
#define CONFIG_INPUTSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define INPUTSPEC_UNIX_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path), with NUL */

enum inputspec_kind {
	INPUTSPEC_FILE,     /* a path or a glob */
	INPUTSPEC_STDIN,    /* "-" */
	INPUTSPEC_UDP,      /* syslog over UDP */
	INPUTSPEC_TCP,      /* syslog over TCP (octet counting or newline framing) */
	INPUTSPEC_UNIXGRAM, /* syslog over a unix datagram socket */
};

/* Plain value record. */
struct inputspec {
	enum inputspec_kind kind;
	struct config_listen addr;          /* UDP, TCP */
	char path[INPUTSPEC_UNIX_PATH_MAX]; /* UNIXGRAM: absolute socket path */
};

/* Classify and check text.  0 and *ret_spec, or -EINVAL with the reason
 * ("'udp://x' is not ...") in err. */
int inputspec_parse(const char *text, struct inputspec *ret_spec, char *err, size_t err_size);

/* The inputs of a whole configuration: each parses, "-" appears once in
 * all, no listener address twice, no listener with --once or --backfill
 * (they read to an end; a socket has none), a syslog_tag only on a source
 * with a listener.  0, or -EINVAL with the source and input in err. */
int inputspec_check_config(const struct config *c, char *err, size_t err_size);

/* Whether kind receives syslog messages. */
bool inputspec_is_syslog(enum inputspec_kind kind);

/* "udp" ... for messages; "file", "stdin". */
const char *inputspec_kind_name(enum inputspec_kind kind);

#endif
