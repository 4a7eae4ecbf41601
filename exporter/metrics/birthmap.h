/*
 * birthmap.h - creation times of a source's flat series.
 *
 * A source without field labels keeps its counters in fixed arrays (17
 * methods x 501 status slots, plus bytes and histogram rows) of which a
 * handful ever count anything.  When one of them first becomes non-zero
 * the writer records its creation time here, keyed by the cell's index;
 * renders look it up to hold a young series at zero, checkpoints save it.
 * Memory: a bit and a half per id of the key space (1.6 kB for a source's
 * ~8,800 ids) and 8 bytes per series that exists.
 *
 * Concurrency: one writer (the source's ingest thread) puts, any number of
 * readers get; a mutex guards the table (a render may hold it for its walk
 * over one source, see birthmap_lock).  Puts happen once per series
 * (at most the key space per source), gets only while some series is young
 * or when created timestamps are rendered or saved.
 */
#ifndef EXPORTER_BIRTHMAP_H
#define EXPORTER_BIRTHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct birthmap;

/* A map for ids 0..max_ids-1.  NULL on OOM. */
struct birthmap *birthmap_create(uint32_t max_ids);

/* NULL-safe. */
void birthmap_destroy(struct birthmap *m);

/* Record that id was created at unix_ms (> 0); the first time wins.
 * 0, -EEXIST (already recorded, unchanged), -EINVAL (id out of range or
 * unix_ms <= 0), -ENOMEM (not recorded: the series is then simply not held). */
int birthmap_put(struct birthmap *m, uint32_t id, int64_t unix_ms);

/* The creation time of id, or 0 when none was recorded. */
int64_t birthmap_get(struct birthmap *m, uint32_t id);

/* Many lookups under one lock (a render's walk over one source):
 * birthmap_lock, any number of birthmap_get_locked, birthmap_unlock.  A
 * put waits meanwhile, so the walk must be short and must not put. */
void birthmap_lock(struct birthmap *m);
int64_t birthmap_get_locked(struct birthmap *m, uint32_t id);
void birthmap_unlock(struct birthmap *m);

/* Number of ids recorded. */
size_t birthmap_count(struct birthmap *m);

#endif
