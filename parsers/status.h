/*
 * status.h - the HTTP status-code catalogue.
 *
 * Every status code the exporter can count maps to a "slot": 100..599 become
 * slots 0..499 and anything else (000, 600+, "-", non-digits, empty) becomes
 * STATUS_SLOT_INVALID.  The code label therefore has at most STATUS_SLOTS
 * values whatever the log contains, and counters can live in a flat array
 * indexed by slot with no hashing on the hot path.
 *
 * Codes in the static catalogue carry a reason phrase, an origin (who
 * defined them: "iana" or a vendor such as "nginx", "microsoft",
 * "cloudflare") and a one-line description.  Codes in 100..599 that the
 * catalogue does not list get their class and the reason "Unassigned".
 */
#ifndef PARSERS_STATUS_H
#define PARSERS_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#define STATUS_CODE_MIN 100u
#define STATUS_CODE_MAX 599u
#define STATUS_SLOT_INVALID 500u
#define STATUS_SLOTS 501u

struct status_info {
	unsigned code;           /* 100..599 */
	const char *reason;      /* reason phrase, e.g. "Not Found" */
	const char *origin;      /* "iana" or the vendor that defined it, lower case */
	const char *reference;   /* where it is defined, e.g. "RFC 9110", "RFC 4918 (WebDAV)" */
	const char *description; /* one sentence in our own words */
};

/* Number of rows in the catalogue; rows are sorted by code. */
size_t status_catalog_size(void);

/* Row i of the catalogue (i < status_catalog_size()), else NULL. */
const struct status_info *status_catalog_row(size_t i);

/* Catalogue row for a code, or NULL when the code is not catalogued. */
const struct status_info *status_lookup(unsigned code);

/* Slot of a status given as text: exactly three ASCII digits in 100..599
 * give code - 100; anything else gives STATUS_SLOT_INVALID. */
unsigned status_slot_from_text(const char *s, size_t len);

/* Slot of a numeric code; outside 100..599 gives STATUS_SLOT_INVALID. */
unsigned status_slot_from_code(unsigned code);

/* Label values of a slot (slot >= STATUS_SLOTS is treated as invalid).
 * All return static strings. */
const char *status_slot_code(unsigned slot);   /* "404" or "invalid" */
const char *status_slot_class(unsigned slot);  /* "1xx".."5xx" or "invalid" */
const char *status_slot_reason(unsigned slot); /* reason, "Unassigned" or "Invalid" */
const char *status_slot_origin(unsigned slot); /* origin, or "unassigned" / "invalid" */

/* One-sentence description of a slot for HELP text and dashboards: the
 * catalogue row's description, or a generic sentence for unassigned codes
 * and for the invalid slot.  Never NULL, never empty; a static string. */
const char *status_slot_description(unsigned slot);

#endif
