/*
 * fieldvalue.c - record field -> label or filter text (see fieldvalue.h).
 *
 * A switch over the four kinds of field, no allocation: the hot path of
 * every field-labelled or filtered line runs through here once per label
 * and filter.  Rejected: a per-kind function table (one more indirect call
 * per value for four cases).
 */
#include "exporter/metrics/fieldvalue.h"

#include <string.h>

#include "exporter/metrics/keyload.h"
#include "parsers/status.h"

size_t fieldvalue_utf8_cut(const char *p, size_t len, size_t cap)
{
	if (len <= cap) {
		return len;
	}
	len = cap;
	while (len && ((unsigned char)p[len] & 0xc0) == 0x80) {
		len--;
	}
	return len;
}

struct str_view fieldvalue_get(const struct log_record *r, enum config_field field,
                               size_t extra_index)
{
	struct str_view v = {"", 0};
	const char *q;

	switch (field) {
	case CONFIG_FIELD_VHOST:
		v = r->vhost;
		break;
	case CONFIG_FIELD_PATH:
		v = r->path;
		if (v.len <= KEYLOAD_MAX) {
			/* no loop whose exit moves with the path's length */
			struct keyload k;
			size_t at;
			keyload(&k, v.ptr, v.len);
			at = keyload_find(&k, '?');
			v.len = at < v.len ? at : v.len;
			break;
		}
		q = memchr(v.ptr, '?', v.len);
		if (q) {
			v.len = (size_t)(q - v.ptr);
		}
		break;
	case CONFIG_FIELD_UPSTREAM_STATUS:
		if (r->has_upstream_status) {
			v.ptr = status_slot_code(r->upstream_status_slot);
			v.len = strlen(v.ptr);
		}
		break;
	case CONFIG_FIELD_VARIABLE:
		/* a record from another parser (none should reach here) reads as empty */
		if (extra_index < r->n_extra) {
			v = r->extra[extra_index];
		}
		break;
	case CONFIG_FIELD_PATH_LABEL:
		if (extra_index < r->n_file_labels) {
			v = r->file_labels[extra_index];
		}
		break;
	}
	if (!v.ptr) {
		v = (struct str_view){"", 0};
	}
	v.len = fieldvalue_utf8_cut(v.ptr, v.len, FIELDVALUE_CAP);
	return v;
}
