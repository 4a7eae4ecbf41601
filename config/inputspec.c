/*
 * inputspec.c - an input's text classified (see inputspec.h).
 *
 * The scheme table is the whole list of socket inputs; adding one is a row
 * (and its opener in exporter/input/).  Rejected: "syslog://" with a
 * transport parameter (two spellings of one thing) and resolving host
 * names (see config.c).
 */
#include "config/inputspec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *prefix;
	enum inputspec_kind kind;
} schemes[] = {
    {"udp://", INPUTSPEC_UDP},
    {"tcp://", INPUTSPEC_TCP},
    {"unixgram://", INPUTSPEC_UNIXGRAM},
};

static const char *const kind_names[] = {
    [INPUTSPEC_FILE] = "file", [INPUTSPEC_STDIN] = "stdin",       [INPUTSPEC_UDP] = "udp",
    [INPUTSPEC_TCP] = "tcp",   [INPUTSPEC_UNIXGRAM] = "unixgram",
};

const char *inputspec_kind_name(enum inputspec_kind kind)
{
	return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

bool inputspec_is_syslog(enum inputspec_kind kind)
{
	return kind == INPUTSPEC_UDP || kind == INPUTSPEC_TCP || kind == INPUTSPEC_UNIXGRAM;
}

/* "letters://" at the start: meant as a URL. */
static bool looks_like_url(const char *t)
{
	size_t i = 0;

	while ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')) {
		i++;
	}
	return i > 0 && strncmp(t + i, "://", 3) == 0;
}

static int parse_unix(const char *text, const char *rest, struct inputspec *s, char *err,
                      size_t err_size)
{
	size_t len = strlen(rest);

	if (rest[0] != '/') {
		(void)snprintf(err, err_size,
		               "'%s' is not unixgram:///absolute/path (three slashes: the path "
		               "must be absolute)",
		               text);
		return -EINVAL;
	}
	if (len >= sizeof(s->path)) {
		(void)snprintf(err, err_size, "'%s': a unix socket path has at most %zu bytes",
		               text, sizeof(s->path) - 1);
		return -EINVAL;
	}
	memcpy(s->path, rest, len + 1);
	return 0;
}

int inputspec_parse(const char *text, struct inputspec *ret_spec, char *err, size_t err_size)
{
	struct inputspec s;
	char why[256];

	memset(&s, 0, sizeof(s));
	if (!text || !text[0]) {
		(void)snprintf(err, err_size, "empty input");
		return -EINVAL;
	}
	if (strcmp(text, "-") == 0) {
		s.kind = INPUTSPEC_STDIN;
		*ret_spec = s;
		return 0;
	}
	if (!looks_like_url(text)) {
		s.kind = INPUTSPEC_FILE;
		*ret_spec = s;
		return 0;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].prefix);
		if (strncmp(text, schemes[i].prefix, n) != 0) {
			continue;
		}
		s.kind = schemes[i].kind;
		if (s.kind == INPUTSPEC_UNIXGRAM) {
			if (parse_unix(text, text + n, &s, err, err_size) < 0) {
				return -EINVAL;
			}
		} else if (config_parse_listen_address(text + n, &s.addr, why, sizeof(why)) < 0) {
			(void)snprintf(err, err_size, "'%s': %s", text, why);
			return -EINVAL;
		}
		*ret_spec = s;
		return 0;
	}
	(void)snprintf(err, err_size,
	               "'%s': unknown input scheme (udp://HOST:PORT, tcp://HOST:PORT, "
	               "unixgram:///path, a file path, or - for standard input)",
	               text);
	return -EINVAL;
}

static bool same_address(const struct inputspec *a, const struct inputspec *b)
{
	if (a->kind != b->kind || !inputspec_is_syslog(a->kind)) {
		return false;
	}
	if (a->kind == INPUTSPEC_UNIXGRAM) {
		return strcmp(a->path, b->path) == 0;
	}
	return a->addr.port != 0 && a->addr.port == b->addr.port &&
	       a->addr.family == b->addr.family && memcmp(a->addr.addr, b->addr.addr, 16) == 0;
}

/* Input k of source i against every input before it. */
static int check_unique(const struct config *c, size_t i, size_t k, const struct inputspec *sp,
                        char *err, size_t err_size)
{
	const struct config_source *s = &c->sources[i];

	for (size_t j = 0; j <= i; j++) {
		const struct config_source *t = &c->sources[j];
		for (size_t m = 0; m < (j == i ? k : t->n_paths); m++) {
			struct inputspec o;
			char why[256];
			if (inputspec_parse(t->paths[m], &o, why, sizeof(why)) < 0) {
				continue;
			}
			if ((sp->kind == INPUTSPEC_STDIN && o.kind == INPUTSPEC_STDIN) ||
			    same_address(sp, &o)) {
				(void)snprintf(
				    err, err_size,
				    "source %s: input '%s' is also an input of source %s "
				    "(standard input and a listen address can be read by "
				    "one source only)",
				    s->name, s->paths[k], t->name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int inputspec_check_config(const struct config *c, char *err, size_t err_size)
{
	for (size_t i = 0; i < c->n_sources; i++) {
		const struct config_source *s = &c->sources[i];
		bool listens = false;
		for (size_t k = 0; k < s->n_paths; k++) {
			struct inputspec sp;
			char why[384];
			if (inputspec_parse(s->paths[k], &sp, why, sizeof(why)) < 0) {
				(void)snprintf(err, err_size, "source %s: %s", s->name, why);
				return -EINVAL;
			}
			if (check_unique(c, i, k, &sp, err, err_size) < 0) {
				return -EINVAL;
			}
			listens = listens || inputspec_is_syslog(sp.kind);
			if (sp.kind == INPUTSPEC_STDIN && c->backfill) {
				(void)snprintf(
				    err, err_size,
				    "source %s: --backfill reads log files (it sorts them by "
				    "time); standard input (-) is not one: use --once -, or "
				    "save it to a file",
				    s->name);
				return -EINVAL;
			}
			if (inputspec_is_syslog(sp.kind) && (c->once || c->backfill)) {
				(void)snprintf(
				    err, err_size,
				    "source %s: %s: --once and --backfill read inputs to "
				    "their end; a syslog listener has none",
				    s->name, s->paths[k]);
				return -EINVAL;
			}
		}
		if ((s->syslog_tag || s->syslog_idle_set) && !listens) {
			(void)snprintf(err, err_size,
			               "source %s: %s needs a syslog listener (udp://, tcp:// "
			               "or unixgram:// input)",
			               s->name,
			               s->syslog_tag ? "syslog_tag" : "syslog_idle_timeout");
			return -EINVAL;
		}
	}
	return 0;
}
