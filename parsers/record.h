/*
 * record.h - one parsed access-log line.
 *
 * A plain value record filled by a line parser.  String fields are views
 * into the caller's line buffer (or into the parser's scratch space for
 * unescaped values): borrowed until the next parse call on the same parser.
 * has_* flags tell which optional fields the format provided; a field the
 * format provides but the line shows as "-" stays unset.
 *
 * extra[] holds the parser's extra captures: values of format items that
 * feed none of the named fields but that the parser was built to keep
 * (today the nginx variables it does not know, read as opaque text).  They
 * are addressed by index; the parser names them (logparse_extra_name).
 * Only extra[0..n_extra) is written per line, so the array costs nothing
 * for formats without extras.
 */
#ifndef PARSERS_RECORD_H
#define PARSERS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct str_view {
	const char *ptr;
	size_t len;
};

/* What the record's trace_id is: it names the exemplar label. */
enum log_trace_kind {
	LOG_TRACE_NONE = 0,
	LOG_TRACE_REQUEST_ID, /* exemplar label request_id */
	LOG_TRACE_TRACE_ID,   /* exemplar label trace_id */
};

/* Extra captures a parser can keep per line (see extra[] below). */
#define LOG_RECORD_MAX_EXTRA 16

struct log_record {
	unsigned status_slot;     /* see status.h; always set on success */
	struct str_view method;   /* "GET"; empty when the request is "-" or garbage */
	struct str_view path;     /* request target, undecoded */
	struct str_view protocol; /* "HTTP/1.1"; empty for HTTP/0.9-style requests */
	struct str_view vhost;    /* $host / %v, empty when absent */
	struct str_view remote_addr;
	uint64_t bytes_sent;        /* $body_bytes_sent / $bytes_sent / %b / %B / %O */
	uint64_t request_length;    /* $request_length / %I: request bytes, headers included */
	double request_time;        /* seconds: $request_time, %D, %T, %{ms}T ... */
	double upstream_time;       /* seconds, sum over all upstream attempts */
	unsigned upstream_attempts; /* entries in $upstream_response_time that were numbers */
	/* seconds, each summed over the attempts like upstream_time */
	double upstream_connect_time; /* $upstream_connect_time */
	double upstream_header_time;  /* $upstream_header_time */
	/* slot of the last $upstream_status entry other than "-"
	 * ("200, -" gives 200), STATUS_SLOT_INVALID if none */
	unsigned upstream_status_slot;
	/* The line's own time as written (see logtime.h): empty when the format
	 * has none or the line shows "-"; read it with logtime_of_record. */
	struct str_view log_time;
	const char *log_time_fmt; /* strftime format (parser-owned) for LOGTIME_STRFTIME */
	uint8_t log_time_form;    /* enum logtime_form, 0: no time */
	/* The request's id for exemplars (empty: none, "-" included): a request
	 * id or a trace id (from a traceparent header: its 32 hex digits). */
	struct str_view trace_id;
	uint8_t trace_kind; /* enum log_trace_kind */
	bool has_bytes;
	bool has_request_time;
	bool has_upstream_time;
	bool has_upstream_status;
	bool has_request_length;
	bool has_upstream_connect_time;
	bool has_upstream_header_time;
	/* Labels of the file the line came from (a source's path_labels): set
	 * by the exporter after parsing; parsers leave them empty. */
	const struct str_view *file_labels;
	unsigned n_file_labels;
	unsigned n_extra;                            /* extra[] entries set by this line */
	struct str_view extra[LOG_RECORD_MAX_EXTRA]; /* keep last: not zeroed per line */
};

#endif
