/*
 * snapshot.c - snapshots of sources and files for the landing page (see
 * snapshot.h).
 *
 * A snapshot is built by one thread, then only read.  A board holds the
 * current one plus a reference count per snapshot: the board's own
 * reference and one per reader.  The count lives in a wrapper around the
 * public record, so readers get a plain const struct snapshot.
 */
#include "exporter/http/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct held {
	struct snapshot snap; /* first: a snapshot pointer is a held pointer */
	atomic_uint refs;
	size_t cap_sources;
	size_t cap_files; /* of the last source */
};

struct snapshot_board {
	pthread_mutex_t lock; /* guards current */
	struct held *current;
};

struct snapshot *snapshot_create(double taken)
{
	struct held *h = calloc(1, sizeof(*h));

	if (!h) {
		return NULL;
	}
	h->snap.taken = taken;
	atomic_init(&h->refs, 1);
	return &h->snap;
}

void snapshot_destroy(struct snapshot *snap)
{
	if (!snap) {
		return;
	}
	for (size_t i = 0; i < snap->n_sources; i++) {
		struct snapshot_source *s = &snap->sources[i];
		for (size_t k = 0; k < s->n_files; k++) {
			free((char *)s->files[k].path);
		}
		free(s->files);
		free(s->name);
		free(s->format);
	}
	free(snap->sources);
	free((struct held *)snap);
}

/* Grow *arr (n used, *cap allocated, elements of size) for one more. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap) {
		return 0;
	}
	ncap = *cap ? *cap * 2 : 4;
	p = realloc(*arr, ncap * size);
	if (!p) {
		return -ENOMEM;
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

int snapshot_add_source(struct snapshot *snap, const char *name, const char *format, uint64_t lines,
                        uint64_t parse_errors, double last_read)
{
	struct held *h = (struct held *)snap;
	struct snapshot_source s = {
	    .lines = lines, .parse_errors = parse_errors, .last_read = last_read};

	if (grow((void **)&snap->sources, snap->n_sources, &h->cap_sources,
	         sizeof(snap->sources[0])) < 0) {
		return -ENOMEM;
	}
	s.name = strdup(name ? name : "");
	s.format = strdup(format ? format : "");
	if (!s.name || !s.format) {
		free(s.name);
		free(s.format);
		return -ENOMEM;
	}
	snap->sources[snap->n_sources++] = s;
	h->cap_files = 0;
	return 0;
}

int snapshot_add_file(struct snapshot *snap, const struct snapshot_file *f)
{
	struct held *h = (struct held *)snap;
	struct snapshot_source *s;
	struct snapshot_file copy = *f;

	if (snap->n_sources == 0) {
		return -EINVAL;
	}
	s = &snap->sources[snap->n_sources - 1];
	if (s->n_files >= SNAPSHOT_MAX_FILES_PER_SOURCE) {
		s->n_more++;
		return 0;
	}
	if (grow((void **)&s->files, s->n_files, &h->cap_files, sizeof(s->files[0])) < 0) {
		return -ENOMEM;
	}
	copy.path = strdup(f->path ? f->path : "");
	if (!copy.path) {
		return -ENOMEM;
	}
	s->files[s->n_files++] = copy;
	return 0;
}

struct snapshot_board *snapshot_board_create(void)
{
	struct snapshot_board *b = calloc(1, sizeof(*b));

	if (!b) {
		return NULL;
	}
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b);
		return NULL;
	}
	return b;
}

static void drop(struct held *h)
{
	if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
		snapshot_destroy(&h->snap);
	}
}

void snapshot_board_destroy(struct snapshot_board *b)
{
	if (!b) {
		return;
	}
	drop(b->current);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void snapshot_board_publish(struct snapshot_board *b, struct snapshot *snap)
{
	struct held *old;

	pthread_mutex_lock(&b->lock);
	old = b->current;
	b->current = (struct held *)snap;
	pthread_mutex_unlock(&b->lock);
	drop(old);
}

const struct snapshot *snapshot_board_acquire(struct snapshot_board *b)
{
	struct held *h;

	pthread_mutex_lock(&b->lock);
	h = b->current;
	if (h) {
		atomic_fetch_add(&h->refs, 1);
	}
	pthread_mutex_unlock(&b->lock);
	return h ? &h->snap : NULL;
}

void snapshot_board_release(struct snapshot_board *b, const struct snapshot *snap)
{
	(void)b;
	drop((struct held *)snap);
}
