/*
 * fuzz_syslog.c - libFuzzer target for syslog headers and TCP framing.
 *
 * The input is parsed as one message: every view must lie inside it and a
 * second parse must agree.  Then it is framed as a TCP stream twice, all
 * at once into a large buffer and in small pieces through a buffer of
 * cap + SYSLOG_FRAME_SLACK bytes, as the receiver does: both must see the
 * same messages, too-long frames and broken counts in the same order, and
 * every call must consume no more than it was given and make progress
 * whenever the buffer is full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/syslog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 48u

static bool inside(const char *base, size_t n, const char *p, size_t len)
{
	return len == 0 || (p >= base && p + len <= base + n);
}

static void check_parse(const char *s, size_t n)
{
	struct syslog_msg a, b;

	if (syslog_parse(s, n, &a) != 0) {
		return;
	}
	if (!inside(s, n, a.msg, a.msg_len) || !inside(s, n, a.tag, a.tag_len) ||
	    !inside(s, n, a.host, a.host_len) || a.pri > 191 || syslog_parse(s, n, &b) != 0 ||
	    a.msg != b.msg || a.msg_len != b.msg_len || !syslog_tag_is(&b, a.tag, a.tag_len)) {
		abort();
	}
}

/* Hash of the frame results: messages by content, too-long and bad as markers. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 1099511628211ull;
	}
	return h;
}

static uint64_t frame_all(const char *s, size_t n, size_t step, size_t bufsz)
{
	struct syslog_framer f = {0};
	char *buf = malloc(bufsz);
	size_t have = 0, pos = 0;
	uint64_t h = 14695981039346656037ull;

	if (!buf) {
		abort();
	}
	while (pos < n) {
		size_t k = n - pos < step ? n - pos : step;
		if (k > bufsz - have) {
			k = bufsz - have;
		}
		memcpy(buf + have, s + pos, k);
		have += k;
		pos += k;
		for (;;) {
			size_t used = 0, len = 0;
			const char *msg = NULL;
			enum syslog_frame_result r =
			    syslog_frame_next(&f, buf, have, CAP, &used, &msg, &len);
			if (used > have || (r == SYSLOG_FRAME_MSG &&
			                    (!inside(buf, have, msg, len) || len > CAP))) {
				abort();
			}
			if (r == SYSLOG_FRAME_MSG) {
				h = mix(mix(h, "m", 1), msg, len);
			} else if (r == SYSLOG_FRAME_TOO_LONG) {
				h = mix(h, "#", 1);
			} else if (r == SYSLOG_FRAME_BAD) {
				free(buf);
				return mix(h, "!", 1);
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			if (r == SYSLOG_FRAME_MORE) {
				if (have == bufsz) {
					abort(); /* a full buffer must always give progress */
				}
				break;
			}
		}
	}
	free(buf);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	check_parse(s, size);
	uint64_t whole = frame_all(s, size, size ? size : 1, size + CAP + SYSLOG_FRAME_SLACK);
	uint64_t pieces = frame_all(s, size, 7, CAP + SYSLOG_FRAME_SLACK);
	if (whole != pieces) {
		abort();
	}
	return 0;
}
