/*
 * fdstore.h - log-file descriptors that outlive a kill -9.
 *
 * A log file deleted by rotation lives on only while someone holds it
 * open.  If the exporter dies and the writer then closes the deleted file,
 * the lines written after the exporter's last read are gone for good: the
 * checkpoint has an offset into a file nobody can open any more.  So every
 * log file the exporter opens is also handed (SCM_RIGHTS) to a holder
 * outside the process, and a restarted exporter takes them back and reads
 * the deleted ones from their checkpointed offset.  Two holders behind one
 * interface (a vtable):
 *   systemd  the service manager's file descriptor store (sd_notify
 *            "FDSTORE=1", "FDNAME=alx-DEV-INO"; "FDSTOREREMOVE=1" when done;
 *            given back through LISTEN_FDS / LISTEN_FDNAMES, LISTEN_PID
 *            checked).  Needs FileDescriptorStoreMax= in the unit.
 *   keeper   a child process (fdkeeper.h) on a unix socket next to the
 *            state file (STATE.fds, mode 0600), for everything else.
 * Descriptors are matched by (dev, ino), the checkpoint's identity.
 *
 * Exactly once: a descriptor given back is only a way to open the
 * checkpointed file; the fileset reads it from the checkpoint's offset like
 * any resumed file (fdstore_take), and fdstore_settle drops those nobody
 * took (the file was found at a path, or is no longer checkpointed).
 *
 * Never blocks the exporter: messages are sent with MSG_DONTWAIT; what does
 * not fit stays pending in the table (which holds at most max_fds files)
 * and goes out at the next call.  All functions are NULL-safe (a NULL
 * store: nothing is kept) and take a lock (several sources may share it).
 */
#ifndef EXPORTER_INPUT_FDSTORE_H
#define EXPORTER_INPUT_FDSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct fdstore_options {
	enum config_fd_store mode; /* AUTO: systemd when its store is on, else the keeper */
	const char *state_path;    /* the keeper's socket is state_path + ".fds"; NULL: no keeper */
	size_t max_fds;            /* files held at most (fdlimit's budget for log files) */
	uint64_t linger_ms;        /* keeper: exits after this long without an exporter */
};

struct fdstore;

/* Pick the holder (o->mode; AUTO: systemd when NOTIFY_SOCKET is set and the
 * unit has a store ($FDSTORE > 0, systemd 254+, or descriptors of ours in
 * LISTEN_FDNAMES), else the keeper when there is a state file) and take
 * back what it holds: the keeper is connected to, or started (before any
 * thread: it forks) when none serves the socket.  *ret_store is NULL when
 * no holder is used (OFF, no state file, or it failed: err then says why,
 * and the exporter runs on without).  0 or -errno. */
int fdstore_open(const struct fdstore_options *o, struct fdstore **ret_store, char *err,
                 size_t err_size);

/* NULL-safe.  clean: the exporter stops for good, the keeper is told to
 * close everything and exit (the systemd store is the manager's to flush:
 * it keeps it across a restart).  !clean: like a crash (for tests). */
void fdstore_destroy(struct fdstore *s, bool clean);

/* "systemd" or "keeper"; "off" for NULL. */
const char *fdstore_kind(const struct fdstore *s);

/* Descriptors given back at open, and those still not taken or settled. */
size_t fdstore_returned(const struct fdstore *s);

/* The fileset opened fd, the file (dev, ino): hand a copy to the holder.
 * fd is borrowed until fdstore_remove of the same file; a file added
 * twice (two sources) is counted and kept once. */
void fdstore_add(struct fdstore *s, int fd, uint64_t dev, uint64_t ino);

/* The fileset closed (dev, ino): the holder lets go of it once no source
 * follows it. */
void fdstore_remove(struct fdstore *s, uint64_t dev, uint64_t ino);

/* The descriptor given back for (dev, ino), now the caller's to close (it
 * is still held by the holder until fdstore_remove); -ENOENT when none. */
int fdstore_take(struct fdstore *s, uint64_t dev, uint64_t ino);

/* Start-up is over (every source has scanned its files): descriptors given
 * back that no fileset took are closed, and released from the holder
 * unless a source follows the file. */
void fdstore_settle(struct fdstore *s);

/* Send what is pending (a full socket earlier).  Cheap when nothing is. */
void fdstore_tick(struct fdstore *s);

/* Files the holder should have, and how many it has been sent. */
void fdstore_counts(const struct fdstore *s, size_t *ret_wanted, size_t *ret_held);

#endif
