/*
 * fieldconv.h - turn captured field text into struct log_record members.
 *
 * Shared by the regex path (logparse.c) and the JSON path (jsonline.c) so
 * both apply the same rules: "-" means absent, status through
 * status_slot_from_text, numbers through numparse, the request line split
 * only when it looks like "METHOD target [HTTP/x]".
 */
#ifndef PARSERS_FIELDCONV_H
#define PARSERS_FIELDCONV_H

#include <stddef.h>

#include "parsers/logformat.h"
#include "parsers/record.h"

/* Reset *r: everything empty/unset, both status slots STATUS_SLOT_INVALID. */
void fieldconv_init(struct log_record *r);

/* Store field f with text s[0..n) into *r.  A REQUEST field is only
 * remembered in *request (split by fieldconv_finish).  The first value of a
 * request time wins when several time fields are present; views keep
 * pointing into s. */
void fieldconv_apply(struct log_record *r, enum logformat_field f, const char *s, size_t n,
                     struct str_view *request);

/* Split the remembered request line into method / path / protocol where the
 * record has no dedicated value for them. */
void fieldconv_finish(struct log_record *r, struct str_view request);

/* Split "METHOD SP target [SP HTTP/x]" (extra blanks tolerated).  Leaves the
 * outputs untouched when the text does not look like a request line. */
void fieldconv_split_request(const char *s, size_t n, struct str_view *method,
                             struct str_view *path, struct str_view *protocol);

#endif
