/*
 * dirwatch.c - inotify on log directories (see dirwatch.h).
 *
 * A small table maps watch descriptors to the directory names they were
 * added with; an event's name is reported with that directory.  The mask
 * has IN_CREATE and IN_MOVED_TO (new names, reported) plus IN_MODIFY,
 * IN_CLOSE_WRITE, IN_ATTRIB, IN_MOVED_FROM and IN_DELETE, which are only
 * there to wake the idle wait when a log in the directory grows or is
 * rotated.  IN_IGNORED (the directory is gone) drops the entry, so the
 * next dirwatch_add watches whatever directory has the name then.
 *
 * Rejected: watching each log file (one watch per file, and the directory
 * events are needed anyway for new files), fanotify (needs
 * CAP_SYS_ADMIN), reporting every event to the caller (a busy log would
 * cost a callback per write).
 */
#include "exporter/input/dirwatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MASK                                                                                       \
	(IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM |        \
	 IN_DELETE | IN_ONLYDIR)
#define NEW_NAME (IN_CREATE | IN_MOVED_TO)
#define LOST (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT)

struct watched {
	int wd;
	char *dir;
};

struct dirwatch {
	int fd;
	struct watched dirs[DIRWATCH_MAX_DIRS];
	size_t n_dirs;
};

int dirwatch_create(struct dirwatch **ret_watch)
{
	struct dirwatch *w = calloc(1, sizeof(*w));

	if (!w) {
		return -ENOMEM;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int err = errno;
		free(w);
		return -err;
	}
	*ret_watch = w;
	return 0;
}

void dirwatch_destroy(struct dirwatch *w)
{
	if (!w) {
		return;
	}
	for (size_t i = 0; i < w->n_dirs; i++) {
		free(w->dirs[i].dir);
	}
	close(w->fd);
	free(w);
}

int dirwatch_fd(const struct dirwatch *w)
{
	return w->fd;
}

static struct watched *by_wd(struct dirwatch *w, int wd)
{
	for (size_t i = 0; i < w->n_dirs; i++) {
		if (w->dirs[i].wd == wd) {
			return &w->dirs[i];
		}
	}
	return NULL;
}

int dirwatch_add(struct dirwatch *w, const char *dir)
{
	int wd;
	char *copy;

	for (size_t i = 0; i < w->n_dirs; i++) {
		if (strcmp(w->dirs[i].dir, dir) == 0) {
			return 0;
		}
	}
	if (w->n_dirs >= DIRWATCH_MAX_DIRS) {
		return -ENOSPC;
	}
	wd = inotify_add_watch(w->fd, dir, MASK);
	if (wd < 0) {
		return -errno;
	}
	if (by_wd(w, wd)) {
		return 0; /* the same directory by another name: reported under the first */
	}
	copy = strdup(dir);
	if (!copy) {
		(void)inotify_rm_watch(w->fd, wd);
		return -ENOMEM;
	}
	w->dirs[w->n_dirs++] = (struct watched){wd, copy};
	return 0;
}

static void forget(struct dirwatch *w, struct watched *d)
{
	free(d->dir);
	*d = w->dirs[--w->n_dirs];
}

int dirwatch_read(struct dirwatch *w, void (*fn)(void *ud, const char *dir, const char *name),
                  void *ud)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int lost = 0;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			struct watched *d = by_wd(w, ev->wd);
			p += sizeof(*ev) + ev->len;
			if (ev->mask & LOST) {
				lost = 1;
				if (d && (ev->mask & IN_IGNORED)) {
					forget(w, d);
				}
				continue;
			}
			if (d && (ev->mask & NEW_NAME) && !(ev->mask & IN_ISDIR) && ev->len &&
			    ev->name[0]) {
				fn(ud, d->dir, ev->name);
			}
		}
	}
	return lost;
}
