/*
 * pagebuf.h - a scrape document's memory, in whole pages it can give back.
 */
#ifndef EXPORTER_HTTP_PAGEBUF_H
#define EXPORTER_HTTP_PAGEBUF_H

#include <stdbool.h>
#include <stddef.h>

struct pagebuf;

/* An empty buffer (nothing mapped yet).  give_back: pagebuf_release hands
 * the pages back to the kernel (see pagebuf.c); otherwise they stay
 * resident for the next document.  NULL when out of memory. */
struct pagebuf *pagebuf_create(bool give_back);

/* Unmaps.  NULL-safe. */
void pagebuf_destroy(struct pagebuf *pb);

/* At least size bytes of storage (rounded up to 2 MiB).  The content is not
 * kept when the buffer has to grow.  0, -ENOMEM. */
int pagebuf_reserve(struct pagebuf *pb, size_t size);

/* The storage and its size (NULL and 0 before the first pagebuf_reserve). */
char *pagebuf_data(const struct pagebuf *pb);
size_t pagebuf_size(const struct pagebuf *pb);

/* Done with the content: with give_back, its pages go back to the kernel
 * (the mapping stays; the next use faults them in again, zeroed). */
void pagebuf_release(struct pagebuf *pb);

/* Whether transparent huge pages can back a pagebuf (the kernel's setting
 * is "always" or "madvise"): then giving pages back and faulting them in
 * again costs one fault per 2 MiB instead of one per 4 KiB. */
bool pagebuf_huge_pages(void);

#endif
