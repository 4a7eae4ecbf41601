/*
 * fieldconv.h - turn captured field text into struct log_record members.
 *
 * Shared by the regex path (logparse.c) and the JSON path (jsonline.c) so
 * both apply the same rules: "-" means absent, status through
 * status_slot_from_text, numbers through numparse, the request line split
 * only when it looks like "METHOD target [HTTP/x]".
 *
 * Plausibility bounds: a value no server can have written is corruption
 * (a 400-digit time, a timestamp in the duration field) and one such value
 * would poison a histogram sum or a byte counter for good, checkpoint
 * included.  So a request or upstream time that is not a finite number of
 * at most FIELDCONV_TIME_MAX seconds (after unit scaling: %D, ms, us), and
 * a byte count above FIELDCONV_BYTES_MAX, are treated as absent: the line
 * still counts, the value is observed nowhere.  Values exactly at a bound
 * are kept.
 */
#ifndef PARSERS_FIELDCONV_H
#define PARSERS_FIELDCONV_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/logformat.h"
#include "parsers/numparse.h"
#include "parsers/record.h"
#include "parsers/status.h"

/* 10^7 s (about 115 days): far above any request a server lets live (proxy
 * and keep-alive timeouts are minutes, a long-poll or WebSocket days), and
 * below every Unix timestamp after April 1970, so a format that maps $msec
 * or a timestamp to the duration field is refused instead of filling +Inf.
 * Sums stay finite and exact enough: 2^64 observations of 10^7 s are
 * 1.8e26, far below DBL_MAX. */
#define FIELDCONV_TIME_MAX 1e7

/* 2^53 bytes (8 PiB): the largest count a float64 sample (what Prometheus
 * stores) still holds exactly; no single response body comes near it. */
#define FIELDCONV_BYTES_MAX (UINT64_C(1) << 53)
/* Longest request/trace id kept for exemplars (OpenMetrics allows 128
 * characters of exemplar labels; ids are 16-36 bytes).  A longer id, one
 * with blanks, control or non-ASCII bytes, or "-" is no id. */
#define FIELDCONV_TRACE_MAX 64u

/* Reset *r: everything empty/unset, both status slots STATUS_SLOT_INVALID. */
void fieldconv_init(struct log_record *r);

/* Store field f with text s[0..n) into *r.  A REQUEST field is only
 * remembered in *request (split by fieldconv_finish).  The first value of a
 * request time wins when several time fields are present (an absent or
 * out-of-bounds one does not count as a value); views keep pointing into
 * s.  Times and bytes outside the bounds above leave the has_* flag unset. */
void fieldconv_apply(struct log_record *r, enum logformat_field f, const char *s, size_t n,
                     struct str_view *request);

/* Every field but the five fieldconv_apply_inline writes itself (for those
 * it does nothing): called by it, not meant to be called directly. */
void fieldconv_apply_rest(struct log_record *r, enum logformat_field f, const char *s, size_t n,
                          struct str_view *request);

/* fieldconv_apply for the hot path: the five fields of a combined line
 * (status, request, remote address, bytes, its [time]) are written here,
 * the call kept for the others (fieldconv_apply_rest): a call for each was
 * 8% of a combined line's instructions.  fieldconv_apply is this function
 * out of line, so the two cannot differ. */
static inline void fieldconv_apply_inline(struct log_record *r, enum logformat_field f,
                                          const char *s, size_t n, struct str_view *request)
{
	switch (f) {
	case LOGFORMAT_FIELD_STATUS:
		r->status_slot = status_slot_from_text(s, n);
		return;
	case LOGFORMAT_FIELD_REQUEST:
		*request = (struct str_view){s, n};
		return;
	case LOGFORMAT_FIELD_REMOTE_ADDR:
		r->remote_addr = (struct str_view){s, n};
		return;
	case LOGFORMAT_FIELD_BYTES: {
		uint64_t u;
		if (numparse_u64(s, n, &u) == 0 && u <= FIELDCONV_BYTES_MAX) {
			r->bytes_sent = u;
			r->has_bytes = true;
		}
		return;
	}
	case LOGFORMAT_FIELD_LOGTIME_CLF: /* [$time_local], %t */
		if (r->log_time_form == 0 && n != 0 && !(n == 1 && s[0] == '-')) {
			r->log_time = (struct str_view){s, n};
			r->log_time_form = (uint8_t)logformat_time_form(f);
		}
		return;
	default:
		fieldconv_apply_rest(r, f, s, n, request);
		return;
	}
}

/* Split the remembered request line into method / path / protocol where the
 * record has no dedicated value for them. */
void fieldconv_finish(struct log_record *r, struct str_view request);

/* Split "METHOD SP target [SP HTTP/x]" (extra blanks tolerated).  Leaves the
 * outputs untouched when the text does not look like a request line. */
void fieldconv_split_request(const char *s, size_t n, struct str_view *method,
                             struct str_view *path, struct str_view *protocol);

#endif
