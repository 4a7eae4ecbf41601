/*
 * dirwatch.h - learn at once which files appear in watched directories.
 *
 * A glob's directory is rescanned every few seconds; a file created,
 * written and removed between two rescans would never be read.  A
 * dirwatch holds one inotify instance watching directories and reports
 * every name created in or moved into one of them, so the fileset can open
 * the file right away; every other change (writes, renames, deletions)
 * only makes the descriptor readable, which wakes the idle wait.  inotify
 * is a hint, never the source of truth: when the kernel drops events, a
 * watched directory goes away, or a directory cannot be watched (watch
 * limit, a filesystem without inotify), the caller falls back to its
 * rescan.
 */
#ifndef EXPORTER_INPUT_DIRWATCH_H
#define EXPORTER_INPUT_DIRWATCH_H

#include <stddef.h>

/* Directories one dirwatch watches at most (a source has at most
 * CONFIG_MAX_PATHS patterns, each with one directory). */
#define DIRWATCH_MAX_DIRS 256u

struct dirwatch;

/* An inotify instance (non-blocking, close-on-exec).  0, -ENOMEM, or the
 * errno of inotify_init1 (EMFILE: fs.inotify.max_user_instances reached,
 * ENOSYS). */
int dirwatch_create(struct dirwatch **ret_watch);

/* NULL-safe; closes the descriptor. */
void dirwatch_destroy(struct dirwatch *w);

/* Watch dir (again: no-op while it is watched).  0; -ENOSPC when the
 * kernel's watch limit (fs.inotify.max_user_watches) or DIRWATCH_MAX_DIRS
 * is reached; -ENOMEM; another -errno of inotify_add_watch (ENOENT: no
 * such directory yet, EACCES...). */
int dirwatch_add(struct dirwatch *w, const char *dir);

/* The descriptor to wait on for readability. */
int dirwatch_fd(const struct dirwatch *w);

/* Read every pending event; call fn(ud, dir, name) for each name created
 * in or moved into a watched directory (dir as given to dirwatch_add,
 * borrowed for the call).  Returns 1 when events may have been missed (the
 * queue overflowed, a watched directory was removed or unmounted: rescan
 * everything), else 0. */
int dirwatch_read(struct dirwatch *w, void (*fn)(void *ud, const char *dir, const char *name),
                  void *ud);

#endif
