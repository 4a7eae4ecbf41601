/*
 * logparse.c - the line parser: one compiled pattern, one pass per line.
 *
 * Presets, nginx and Apache formats all become one anchored, possessive
 * pcre2 pattern (format_nginx.c / format_apache.c / logformat.c) whose
 * numbered groups map to record fields through a small table; raw regexes
 * map their named groups into the same table.  The pattern is compiled
 * without UTF (bytes: invalid UTF-8 never fails a line), JIT-compiled when
 * the platform allows (the interpreter gives identical results, tested),
 * and matched with a reused match_data and a match context carrying match
 * and depth limits and a private JIT stack, so a hostile line costs a
 * bounded amount of work and comes back as -E2BIG.
 *
 * Generated formats without a lazy piece do not run pcre2 per line at all:
 * logformat_build also writes the pattern as a one-pass program
 * (linematch.c) that reaches the same positions and captures, about 1.3x
 * faster per line than the JIT (bench/run-parse); pcre2 still compiles the
 * pattern for diagnoses, for opts.no_jit and for opts.no_linematch, and
 * tests/test_linematch.c and the fuzzers hold the two to identical results.
 *
 * After the match, fields are converted by hand: status through
 * status_slot_from_text, numbers with numparse (no strtod), the request
 * line split into method / target / protocol only when it looks like one.
 * The per-line loop visits only the groups that feed something (a list
 * kept at create) and writes status, request and address without a call
 * (fieldconv_apply_inline).  JSON lines go to jsonline.c instead of pcre2.
 *
 * Rejected: pcre2_substring_* and named lookups per line (allocation and a
 * name search per field) and a hand-written combined parser (fast, but a
 * second implementation of every rule the format compiler already has; the
 * linematch program is instead emitted by the format compiler from the
 * same decision as each pattern piece, for every generated format) and
 * link time optimisation (-flto: 1.7% fewer instructions per combined
 * line, a build change for little).
 */
#include "parsers/logparse.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "parsers/format_apache.h"
#include "parsers/format_nginx.h"
#include "parsers/jsonline.h"
#include "parsers/linematch.h"
#include "parsers/logformat.h"
#include "parsers/fieldconv.h"
#include "parsers/logtime.h"

#define JIT_STACK_MIN (32u * 1024u)
#define JIT_STACK_MAX (1024u * 1024u)
#define HEAP_LIMIT_KIB 20000u
#define MAX_REGEX_GROUPS 255u

struct log_parser {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	bool jit;
	struct linematch *prog; /* generated formats without lazy pieces; NULL: pcre2 */
	size_t *prog_ov;        /* [2 * (ngroups + 1)]: the program's captures */
	unsigned ngroups;
	uint8_t *group_field; /* [ngroups + 1], enum logformat_field or FIELD_EXTRA + k */
	char *pattern;
	struct jsonline *json;
	uint8_t time_form;                    /* enum logtime_form */
	char time_format[LOGTIME_MAX_FORMAT]; /* for LOGTIME_STRFTIME */
	size_t n_extra;
	char (*extra_name)[LOGFORMAT_EXTRA_NAME_MAX]; /* [n_extra] */
	unsigned extra_col[LOGFORMAT_MAX_EXTRA];
	bool extra_present[LOGFORMAT_MAX_EXTRA]; /* the format has it */
	bool extra_opaque[LOGFORMAT_MAX_EXTRA];
	/* groups that feed a record field and an extra capture too */
	uint8_t dual_group[LOGFORMAT_MAX_EXTRA], dual_extra[LOGFORMAT_MAX_EXTRA];
	size_t n_dual;
	bool has_field[LOGFORMAT_FIELD_COUNT];
	/* groups that feed something (group_field not NONE), in group order:
	 * the per-line loop visits only these */
	struct group_act *act;
	size_t n_act;
	size_t nitems;
	size_t json_len; /* JSON: length of the last line (logparse_matched_len) */
	/* Diagnosis only (logparse_diagnose), never touched per line: */
	struct logformat_span *spans; /* generated formats: pieces in pattern order */
	size_t nspans;
	char *ftext;               /* the unwrapped format text spans point into */
	uint32_t end_off;          /* pattern offset of the end-of-line check */
	struct named_group *named; /* raw regex: named groups by pattern range */
	size_t nnamed;
	pcre2_code *diag_code; /* the pattern with auto-callouts, compiled on first use */
	pcre2_match_data *diag_md;
	pcre2_match_context *diag_mctx;
};

struct group_act {
	uint8_t group; /* 1..MAX_REGEX_GROUPS */
	uint8_t field; /* group_field[group] */
};

struct named_group {
	uint32_t start, end; /* pattern offsets of "(" and one past ")" */
	char name[32];
};

#define MAX_NAMED_GROUPS 64

struct preset {
	const char *name;
	enum logparse_kind kind;
	const char *format;
};

/* combined and common are written as Apache formats: the same lines as
 * nginx's predefined combined, but %l also accepts an identd value where
 * nginx prints a literal "-".  main and ingress are nginx's own. */
static const struct preset presets[] = {
    {"combined", LOGPARSE_APACHE, "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""},
    {"common", LOGPARSE_APACHE, "%h %l %u %t \"%r\" %>s %b"},
    {"vhost_combined", LOGPARSE_APACHE,
     "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\""},
    {"main", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" \"$http_x_forwarded_for\""},
    {"ingress", LOGPARSE_NGINX,
     "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
     "\"$http_referer\" \"$http_user_agent\" $request_length $request_time "
     "[$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr "
     "$upstream_response_length $upstream_response_time $upstream_status $req_id"},
};

struct kind_name {
	const char *name;
	enum logparse_kind kind;
};

static const struct kind_name kind_names[] = {
    {"nginx", LOGPARSE_NGINX},
    {"apache", LOGPARSE_APACHE},
    {"json", LOGPARSE_JSON},
    {"regex", LOGPARSE_REGEX},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int logparse_kind_from_name(const char *name, enum logparse_kind *ret_kind)
{
	if (name == NULL) {
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
		if (strcmp(presets[i].name, name) == 0) {
			*ret_kind = LOGPARSE_PRESET;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++) {
		if (strcmp(kind_names[i].name, name) == 0) {
			*ret_kind = kind_names[i].kind;
			return 0;
		}
	}
	return -EINVAL;
}

void logparse_destroy(struct log_parser *p)
{
	if (p == NULL) {
		return;
	}
	jsonline_destroy(p->json);
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	pcre2_jit_stack_free(p->jit_stack);
	pcre2_code_free(p->code);
	pcre2_match_data_free(p->diag_md);
	pcre2_match_context_free(p->diag_mctx);
	pcre2_code_free(p->diag_code);
	free(p->spans);
	free(p->ftext);
	free(p->named);
	free(p->group_field);
	free(p->act);
	free(p->prog);
	free(p->prog_ov);
	free(p->pattern);
	free(p->extra_name);
	free(p);
}

bool logparse_is_jit(const struct log_parser *p)
{
	return p != NULL && p->jit;
}

bool logparse_is_linematch(const struct log_parser *p)
{
	return p != NULL && p->prog != NULL;
}

const char *logparse_pattern(const struct log_parser *p)
{
	return p != NULL ? p->pattern : NULL;
}

size_t logparse_extra_count(const struct log_parser *p)
{
	return p != NULL ? p->n_extra : 0;
}

const char *logparse_extra_name(const struct log_parser *p, size_t i)
{
	return p != NULL && i < p->n_extra ? p->extra_name[i] : NULL;
}

unsigned logparse_extra_column(const struct log_parser *p, size_t i)
{
	return p != NULL && i < p->n_extra ? p->extra_col[i] : 0;
}

bool logparse_extra_is_opaque(const struct log_parser *p, size_t i)
{
	return p != NULL && i < p->n_extra && p->extra_opaque[i];
}

int logparse_extra_find(const struct log_parser *p, const char *name, size_t *ret_index)
{
	if (name != NULL && name[0] == '$') {
		name++;
	}
	for (size_t i = 0; p != NULL && name != NULL && i < p->n_extra; i++) {
		if (p->extra_present[i] && strcmp(p->extra_name[i], name) == 0) {
			*ret_index = i;
			return 0;
		}
	}
	return -ENOENT;
}

static enum logformat_field field_from_name(const char *name)
{
	for (unsigned f = 1; f < LOGFORMAT_FIELD_COUNT; f++) {
		/* a strftime time needs its format: only Apache's %{FORMAT}t gives one */
		if (f != LOGFORMAT_FIELD_LOGTIME_STRFTIME &&
		    strcmp(logformat_field_name((enum logformat_field)f), name) == 0) {
			return (enum logformat_field)f;
		}
	}
	return LOGFORMAT_FIELD_NONE;
}

/* Name the wanted captures extra 0..n-1 (not present until found). */
static int want_extras(struct log_parser *p, const struct logparse_opts *opts,
                       struct logparse_error *err)
{
	if (opts->n_capture == 0) {
		return 0;
	}
	if (opts->n_capture > LOGFORMAT_MAX_EXTRA) {
		logformat_set_error(err, 0, "more than %d fields to capture", LOGFORMAT_MAX_EXTRA);
		return -EINVAL;
	}
	p->extra_name = calloc(opts->n_capture, sizeof(*p->extra_name));
	if (p->extra_name == NULL) {
		return -ENOMEM;
	}
	for (size_t k = 0; k < opts->n_capture; k++) {
		const char *w =
		    opts->capture[k][0] == '$' ? opts->capture[k] + 1 : opts->capture[k];
		if (strlen(w) >= LOGFORMAT_EXTRA_NAME_MAX) {
			logformat_set_error(err, 0, "field name longer than %d bytes",
			                    LOGFORMAT_EXTRA_NAME_MAX - 1);
			return -EINVAL;
		}
		memcpy(p->extra_name[k], w, strlen(w) + 1);
	}
	p->n_extra = opts->n_capture;
	return 0;
}

/* Raw regex: map named groups onto fields (and wanted names onto extra
 * captures); a status group is required. */
static int map_named_groups(struct log_parser *p, struct logparse_error *err)
{
	uint32_t count = 0, entry = 0, caps = 0;
	PCRE2_SPTR table;
	bool has_status = false;

	(void)pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &caps);
	(void)pcre2_pattern_info(p->code, PCRE2_INFO_NAMECOUNT, &count);
	(void)pcre2_pattern_info(p->code, PCRE2_INFO_NAMEENTRYSIZE, &entry);
	(void)pcre2_pattern_info(p->code, PCRE2_INFO_NAMETABLE, &table);
	if (caps > MAX_REGEX_GROUPS) {
		logformat_set_error(err, 0, "regex has %u capture groups, at most %u allowed", caps,
		                    MAX_REGEX_GROUPS);
		return -EINVAL;
	}
	p->ngroups = caps;
	p->group_field = calloc(caps + 1, 1);
	if (p->group_field == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *e = table + (size_t)i * entry;
		unsigned group = ((unsigned)e[0] << 8) | e[1];
		enum logformat_field f = field_from_name((const char *)e + 2);
		size_t k;
		bool wanted = false;
		for (k = 0; k < p->n_extra; k++) {
			if (strcmp(p->extra_name[k], (const char *)e + 2) == 0) {
				wanted = group <= caps;
				break;
			}
		}
		if (group <= caps) {
			p->group_field[group] = (uint8_t)f;
		}
		if (wanted && f == LOGFORMAT_FIELD_NONE) {
			p->group_field[group] = (uint8_t)(LOGFORMAT_FIELD_EXTRA + k);
		} else if (wanted && p->n_dual < LOGFORMAT_MAX_EXTRA) {
			p->dual_group[p->n_dual] = (uint8_t)group;
			p->dual_extra[p->n_dual++] = (uint8_t)k;
		}
		if (wanted) {
			p->extra_present[k] = true;
		}
		if (logformat_is_time_field(f) && !p->time_form) {
			p->time_form = (uint8_t)logformat_time_form(f);
		}
		p->has_field[f] = true;
		has_status |= f == LOGFORMAT_FIELD_STATUS;
	}
	if (!has_status) {
		logformat_set_error(err, 0, "regex has no (?<status>...) group");
		return -EINVAL;
	}
	p->nitems = count;
	return 0;
}

/* Length of a group name at s ("name>" / "name'"), 0 if none. */
static size_t group_name_len(const char *s, char close)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != close && n < 32) {
		n++;
	}
	return s[n] == close ? n : 0;
}

/* Raw regex: the pattern ranges of its named groups, for naming where a
 * diagnosis stopped.  A small scanner that knows escapes, classes and
 * \Q..\E; a pattern it misreads only gives a vaguer diagnosis. */
static int find_named_groups(struct log_parser *p, const char *pat)
{
	uint32_t stack[64];
	int open_named[64];
	size_t depth = 0, len = strlen(pat);
	bool in_class = false;

	p->named = calloc(MAX_NAMED_GROUPS, sizeof(*p->named));
	if (p->named == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < len; i++) {
		char c = pat[i];
		if (c == '\\') {
			i++;
			continue;
		}
		if (in_class) {
			in_class = c != ']';
			continue;
		}
		if (c == '[') {
			in_class = true;
			if (pat[i + 1] == '^') {
				i++;
			}
			if (pat[i + 1] == ']') {
				i++;
			}
			continue;
		}
		if (c == '(' && depth < 64) {
			const char *q = pat + i + 1;
			size_t n = 0, skip = 0;
			if (strncmp(q, "?<", 2) == 0 && q[2] != '=' && q[2] != '!') {
				n = group_name_len(q + 2, '>'), skip = 2;
			} else if (strncmp(q, "?P<", 3) == 0) {
				n = group_name_len(q + 3, '>'), skip = 3;
			} else if (strncmp(q, "?'", 2) == 0) {
				n = group_name_len(q + 2, '\''), skip = 2;
			}
			open_named[depth] = -1;
			if (n > 0 && p->nnamed < MAX_NAMED_GROUPS) {
				struct named_group *g = &p->named[p->nnamed];
				g->start = (uint32_t)i;
				g->end = (uint32_t)len;
				memcpy(g->name, q + skip, n);
				g->name[n] = '\0';
				open_named[depth] = (int)p->nnamed++;
			}
			stack[depth++] = (uint32_t)i;
		} else if (c == ')' && depth > 0) {
			depth--;
			if (open_named[depth] >= 0) {
				p->named[open_named[depth]].end = (uint32_t)i + 1;
			}
		}
	}
	(void)stack;
	return 0;
}

static int compile_pattern(struct log_parser *p, const char *pattern, bool generated,
                           const struct logparse_opts *opts, struct logparse_error *err)
{
	int ec;
	PCRE2_SIZE eoff;
	uint32_t flags = PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C | (generated ? PCRE2_DOTALL : 0);

	p->pattern = strdup(pattern);
	if (p->pattern == NULL) {
		return -ENOMEM;
	}
	p->code =
	    pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &ec, &eoff, NULL);
	if (p->code == NULL) {
		char msg[160];
		if (pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof(msg)) < 0) {
			msg[0] = '\0';
		}
		logformat_set_error(err, (size_t)eoff + 1, "%sregex error at column %zu: %s",
		                    generated ? "internal " : "", (size_t)eoff + 1, msg);
		return ec == PCRE2_ERROR_HEAPLIMIT ? -ENOMEM : -EINVAL;
	}
	p->jit = !opts->no_jit && pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0;
	p->md = pcre2_match_data_create_from_pattern(p->code, NULL);
	p->mctx = pcre2_match_context_create(NULL);
	if (p->md == NULL || p->mctx == NULL) {
		return -ENOMEM;
	}
	(void)pcre2_set_match_limit(p->mctx, opts->match_limit ? opts->match_limit
	                                                       : LOGPARSE_DEFAULT_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(p->mctx, opts->depth_limit ? opts->depth_limit
	                                                       : LOGPARSE_DEFAULT_DEPTH_LIMIT);
	(void)pcre2_set_heap_limit(p->mctx, HEAP_LIMIT_KIB);
	if (p->jit) {
		p->jit_stack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
		if (p->jit_stack == NULL) {
			return -ENOMEM;
		}
		pcre2_jit_stack_assign(p->mctx, NULL, p->jit_stack);
	}
	return 0;
}

/* Keep what a diagnosis needs to name pieces (small: the format text and
 * one span per piece). */
static int keep_spans(struct log_parser *p, const struct logformat *f)
{
	p->spans = malloc((f->nspans ? f->nspans : 1) * sizeof(*p->spans));
	p->ftext = malloc(f->text_len + 1);
	if (p->spans == NULL || p->ftext == NULL) {
		return -ENOMEM;
	}
	memcpy(p->spans, f->spans, f->nspans * sizeof(*p->spans));
	p->nspans = f->nspans;
	memcpy(p->ftext, f->text, f->text_len);
	p->ftext[f->text_len] = '\0';
	p->end_off = f->end_off;
	for (size_t i = 0; i < f->nspans; i++) {
		p->nitems += f->spans[i].is_item;
	}
	return 0;
}

/* Keep the one-pass program: the ops it uses and its literal bytes. */
static int keep_program(struct log_parser *p, const struct linematch *prog)
{
	size_t ops_end = offsetof(struct linematch, ops) + prog->nops * sizeof(prog->ops[0]);

	p->prog = malloc(sizeof(*p->prog));
	p->prog_ov = calloc(2 * (prog->ngroups + 1), sizeof(*p->prog_ov));
	if (p->prog == NULL || p->prog_ov == NULL) {
		return -ENOMEM;
	}
	memcpy(p->prog, prog, ops_end);
	memcpy(p->prog->lit, prog->lit, prog->lit_len);
	return 0;
}

static int compile_format(struct log_parser *p, enum logparse_kind kind, const char *text,
                          const struct logparse_opts *opts, struct logparse_error *err)
{
	struct logformat *f = malloc(sizeof(*f));
	int r;

	if (f == NULL) {
		return -ENOMEM;
	}
	r = kind == LOGPARSE_NGINX
	        ? format_nginx_compile_want(text, opts->capture, opts->n_capture, f, err)
	        : format_apache_compile_want(text, opts->capture, opts->n_capture, f, err);
	if (r < 0) {
		goto out;
	}
	p->ngroups = f->ngroups;
	p->group_field = malloc(f->ngroups + 1);
	if (p->group_field == NULL) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(p->group_field, f->group_field, f->ngroups + 1);
	p->time_form = (uint8_t)logformat_time_form((enum logformat_field)f->time_field);
	memcpy(p->time_format, f->time_format, sizeof(p->time_format));
	if (f->n_extra > 0) {
		p->extra_name = calloc(f->n_extra, sizeof(*p->extra_name));
		if (p->extra_name == NULL) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(p->extra_name, f->extra_name, f->n_extra * sizeof(*p->extra_name));
		memcpy(p->extra_col, f->extra_col, f->n_extra * sizeof(*p->extra_col));
		memcpy(p->extra_present, f->has_extra, f->n_extra * sizeof(*p->extra_present));
		memcpy(p->extra_opaque, f->extra_opaque, f->n_extra * sizeof(*p->extra_opaque));
		p->n_extra = f->n_extra;
	}
	for (unsigned g = 1; g <= f->ngroups; g++) {
		if (f->group_extra[g] && p->n_dual < LOGFORMAT_MAX_EXTRA) {
			p->dual_group[p->n_dual] = (uint8_t)g;
			p->dual_extra[p->n_dual++] = (uint8_t)(f->group_extra[g] - 1);
		}
	}
	memcpy(p->has_field, f->has_field, sizeof(p->has_field));
	r = keep_spans(p, f);
	if (r < 0) {
		goto out;
	}
	r = compile_pattern(p, f->pattern, true, opts, err);
	if (r == 0 && f->prog.ok && f->prog.ngroups == f->ngroups && !opts->no_jit &&
	    !opts->no_linematch) {
		r = keep_program(p, &f->prog);
	}
out:
	free(f);
	return r;
}

static int build(struct log_parser *p, enum logparse_kind kind, const char *text,
                 const struct logparse_opts *opts, struct logparse_error *err)
{
	switch (kind) {
	case LOGPARSE_PRESET:
		for (size_t i = 0; i < ARRAY_SIZE(presets); i++) {
			if (text != NULL && strcmp(presets[i].name, text) == 0) {
				return compile_format(p, presets[i].kind, presets[i].format, opts,
				                      err);
			}
		}
		logformat_set_error(err, 0,
		                    "unknown preset \"%.64s\" (combined, common, vhost_combined, "
		                    "main, ingress)",
		                    text != NULL ? text : "");
		return -EINVAL;
	case LOGPARSE_NGINX:
	case LOGPARSE_APACHE:
		if (text == NULL || text[0] == '\0') {
			logformat_set_error(err, 0, "empty log format");
			return -EINVAL;
		}
		return compile_format(p, kind, text, opts, err);
	case LOGPARSE_JSON: {
		p->time_form = LOGTIME_AUTO; /* default keys; a key map may add more */
		int r = want_extras(p, opts, err);
		r = r < 0
		        ? r
		        : jsonline_create_want(text, opts->capture, opts->n_capture, &p->json, err);
		for (size_t k = 0; r == 0 && k < p->n_extra; k++) {
			p->extra_present[k] = true; /* any key may appear in a line */
		}
		for (unsigned f = 1; r == 0 && f < LOGFORMAT_FIELD_COUNT; f++) {
			p->has_field[f] = jsonline_has_field(p->json, f);
			p->nitems += p->has_field[f];
		}
		return r;
	}
	case LOGPARSE_REGEX:
		if (text == NULL || text[0] == '\0') {
			logformat_set_error(err, 0, "empty regex");
			return -EINVAL;
		}
		int r = want_extras(p, opts, err);
		r = r < 0 ? r : compile_pattern(p, text, false, opts, err);
		r = r < 0 ? r : map_named_groups(p, err);
		return r < 0 ? r : find_named_groups(p, text);
	}
	logformat_set_error(err, 0, "unknown format kind %d", (int)kind);
	return -EINVAL;
}

/* The groups that feed a field or an extra capture, for logparse_line. */
static int keep_actions(struct log_parser *p)
{
	size_t n = 0;

	for (unsigned g = 1; p->group_field != NULL && g <= p->ngroups; g++) {
		n += p->group_field[g] != LOGFORMAT_FIELD_NONE;
	}
	if (n == 0) {
		return 0;
	}
	p->act = calloc(n, sizeof(*p->act));
	if (p->act == NULL) {
		return -ENOMEM;
	}
	for (unsigned g = 1; g <= p->ngroups; g++) {
		if (p->group_field[g] != LOGFORMAT_FIELD_NONE) {
			p->act[p->n_act++] = (struct group_act){(uint8_t)g, p->group_field[g]};
		}
	}
	return 0;
}

int logparse_create_opts(enum logparse_kind kind, const char *text,
                         const struct logparse_opts *opts, struct log_parser **ret_parser,
                         struct logparse_error *err)
{
	static const struct logparse_opts defaults = {0};
	struct log_parser *p;
	int r;

	if (err != NULL) {
		err->message[0] = '\0';
		err->column = 0;
	}
	if (ret_parser == NULL) {
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	r = build(p, kind, text, opts != NULL ? opts : &defaults, err);
	r = r < 0 ? r : keep_actions(p);
	if (r < 0) {
		if (r == -ENOMEM) {
			logformat_set_error(err, 0, "out of memory");
		}
		logparse_destroy(p);
		return r;
	}
	*ret_parser = p;
	return 0;
}

int logparse_create(enum logparse_kind kind, const char *text, struct log_parser **ret_parser,
                    struct logparse_error *err)
{
	return logparse_create_opts(kind, text, NULL, ret_parser, err);
}

/* One group's text into *ret: an extra capture or a field. */
static inline void apply_group(struct log_record *ret, unsigned f, const char *s, size_t n,
                               struct str_view *request)
{
	if (f >= LOGFORMAT_FIELD_EXTRA) {
		ret->extra[f - LOGFORMAT_FIELD_EXTRA] = (struct str_view){s, n};
	} else {
		fieldconv_apply_inline(ret, (enum logformat_field)f, s, n, request);
	}
}

int logparse_line(struct log_parser *p, const char *line, size_t len, struct log_record *ret)
{
	struct str_view request = {NULL, 0};
	int rc;

	if (p == NULL || (line == NULL && len > 0) || ret == NULL) {
		return -EINVAL;
	}
	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	if (p->json != NULL) {
		p->json_len = len;
		return jsonline_parse(p->json, line, len, ret);
	}
	if (line == NULL) {
		line = "";
	}
	const PCRE2_SIZE *ov;
	if (p->prog != NULL) {
		if (linematch_run(p->prog, line, len, p->prog_ov) < 0) {
			return -EINVAL;
		}
		ov = p->prog_ov;
		rc = (int)p->ngroups + 1;
	} else if (p->jit) {
		rc = pcre2_jit_match(p->code, (PCRE2_SPTR)line, len, 0, 0, p->md, p->mctx);
		ov = pcre2_get_ovector_pointer(p->md);
	} else {
		rc = pcre2_match(p->code, (PCRE2_SPTR)line, len, 0, 0, p->md, p->mctx);
		ov = pcre2_get_ovector_pointer(p->md);
	}
	if (rc < 0) {
		switch (rc) {
		case PCRE2_ERROR_MATCHLIMIT:
		case PCRE2_ERROR_DEPTHLIMIT:
		case PCRE2_ERROR_HEAPLIMIT:
		case PCRE2_ERROR_JIT_STACKLIMIT:
			return -E2BIG;
		case PCRE2_ERROR_NOMEMORY:
			return -ENOMEM;
		default:
			return -EINVAL;
		}
	}
	/* the match succeeded, so the line parses: fill *ret in place */
	fieldconv_init(ret);
	ret->n_extra = (unsigned)p->n_extra;
	for (size_t k = 0; k < p->n_extra; k++) {
		ret->extra[k] = (struct str_view){line, 0};
	}
	unsigned top = (unsigned)rc - 1 < p->ngroups ? (unsigned)rc - 1 : p->ngroups;
	if (p->prog != NULL) {
		/* the program sets every group of a line it matches */
		for (size_t k = 0; k < p->n_act; k++) {
			unsigned g = p->act[k].group;
			apply_group(ret, p->act[k].field, line + ov[2 * g],
			            ov[2 * g + 1] - ov[2 * g], &request);
		}
	}
	for (size_t k = 0; p->prog == NULL && k < p->n_act && p->act[k].group <= top; k++) {
		unsigned g = p->act[k].group;
		PCRE2_SIZE a = ov[2 * g], b = ov[2 * g + 1];
		if (a != PCRE2_UNSET) {
			apply_group(ret, p->act[k].field, line + a, b - a, &request);
		}
	}
	for (size_t i = 0; i < p->n_dual; i++) {
		unsigned g = p->dual_group[i];
		if (g <= top && ov[2 * g] != PCRE2_UNSET) {
			ret->extra[p->dual_extra[i]] =
			    (struct str_view){line + ov[2 * g], ov[2 * g + 1] - ov[2 * g]};
		}
	}
	fieldconv_finish(ret, request);
	ret->log_time_fmt = p->time_format;
	return 0;
}

enum logtime_form logparse_time_form(const struct log_parser *p)
{
	return p != NULL ? (enum logtime_form)p->time_form : LOGTIME_NONE;
}

bool logparse_has_field(const struct log_parser *p, unsigned field)
{
	return p != NULL && field < LOGFORMAT_FIELD_COUNT && p->has_field[field];
}

size_t logparse_matched_len(const struct log_parser *p)
{
	if (p == NULL || p->md == NULL) {
		return p != NULL ? p->json_len : 0;
	}
	if (p->prog != NULL) {
		return p->prog_ov[1];
	}
	return (size_t)pcre2_get_ovector_pointer(p->md)[1];
}

size_t logparse_item_count(const struct log_parser *p)
{
	return p != NULL ? p->nitems : 0;
}

/* ---- diagnosis: never on the hot path ------------------------------------ */

struct furthest {
	size_t pos;   /* furthest subject offset any pattern item was tried at */
	size_t pat;   /* the largest pattern offset tried there */
	size_t limit; /* items past this offset (inside the end-of-line check) don't count */
	bool any;
};

static int on_callout(pcre2_callout_block *cb, void *data)
{
	struct furthest *f = data;

	if (cb->pattern_position > f->limit) {
		return 0; /* a lookahead for a blank reads the byte, it does not move on */
	}
	if (!f->any || cb->current_position > f->pos ||
	    (cb->current_position == f->pos && cb->pattern_position > f->pat)) {
		f->pos = cb->current_position;
		f->pat = cb->pattern_position;
		f->any = true;
	}
	return 0;
}

/* The pattern again, with a callout before every item and without the
 * start-up optimisations that reject a line before any item runs (a line
 * shorter than the pattern's minimum length must still be walked). */
static int diag_compile(struct log_parser *p)
{
	int ec;
	PCRE2_SIZE eoff;
	uint32_t flags = PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_AUTO_CALLOUT |
	                 PCRE2_NO_START_OPTIMIZE | (p->spans != NULL ? PCRE2_DOTALL : 0);

	if (p->diag_code != NULL) {
		return 0;
	}
	p->diag_code =
	    pcre2_compile((PCRE2_SPTR)p->pattern, PCRE2_ZERO_TERMINATED, flags, &ec, &eoff, NULL);
	p->diag_md = pcre2_match_data_create(1, NULL);
	p->diag_mctx = pcre2_match_context_create(NULL);
	if (p->diag_code == NULL || p->diag_md == NULL || p->diag_mctx == NULL) {
		pcre2_code_free(p->diag_code);
		p->diag_code = NULL;
		return -ENOMEM;
	}
	(void)pcre2_set_match_limit(p->diag_mctx, LOGPARSE_DEFAULT_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(p->diag_mctx, LOGPARSE_DEFAULT_DEPTH_LIMIT);
	(void)pcre2_set_heap_limit(p->diag_mctx, HEAP_LIMIT_KIB);
	return 0;
}

static const char *span_text(const struct log_parser *p, const struct logformat_span *sp,
                             int *ret_len)
{
	*ret_len = sp->text_len > 64 ? 64 : (int)sp->text_len;
	return p->ftext + sp->text_start;
}

/* Name the piece of a generated format the match stopped in. */
static void name_span(const struct log_parser *p, int idx, struct logparse_diag *d)
{
	int n;
	const char *t;

	if (idx < 0) {
		/* every piece matched; the line goes on where the format ends */
		int last = (int)p->nspans - 1;
		while (last >= 0 && !p->spans[last].is_item) {
			last--;
		}
		t = last >= 0 ? span_text(p, &p->spans[last], &n) : "";
		n = last >= 0 ? n : 0;
		(void)snprintf(d->piece, sizeof(d->piece), "end of the format, after %.*s", n, t);
		(void)snprintf(d->expected, sizeof(d->expected),
		               "end of line or a space before extra fields");
		return;
	}
	const struct logformat_span *sp = &p->spans[idx];
	t = span_text(p, sp, &n);
	if (sp->is_item) {
		(void)snprintf(d->piece, sizeof(d->piece), "%.*s", n, t);
		(void)snprintf(d->expected, sizeof(d->expected), "%s",
		               logformat_class_text((enum logformat_class)sp->cls));
		return;
	}
	(void)snprintf(d->expected, sizeof(d->expected), "'%.*s'", n, t);
	for (size_t k = (size_t)idx + 1; k < p->nspans; k++) {
		if (p->spans[k].is_item) {
			int m;
			const char *u = span_text(p, &p->spans[k], &m);
			(void)snprintf(d->piece, sizeof(d->piece), "'%.*s' before %.*s", n, t, m,
			               u);
			return;
		}
	}
	for (int k = idx - 1; k >= 0; k--) {
		if (p->spans[k].is_item) {
			int m;
			const char *u = span_text(p, &p->spans[k], &m);
			(void)snprintf(d->piece, sizeof(d->piece), "'%.*s' after %.*s", n, t, m, u);
			return;
		}
	}
	(void)snprintf(d->piece, sizeof(d->piece), "'%.*s'", n, t);
}

/* Name the group of a raw regex the match stopped in (innermost). */
static void name_group(const struct log_parser *p, size_t pat, struct logparse_diag *d)
{
	const struct named_group *best = NULL;

	for (size_t i = 0; i < p->nnamed; i++) {
		const struct named_group *g = &p->named[i];
		if (g->start <= pat && pat < g->end && (!best || g->start >= best->start)) {
			best = g;
		}
	}
	if (best) {
		(void)snprintf(d->piece, sizeof(d->piece), "group (?<%s>...)", best->name);
	} else {
		(void)snprintf(d->piece, sizeof(d->piece), "the regex at its column %zu", pat + 1);
	}
	(void)snprintf(d->expected, sizeof(d->expected), "what the regex describes there");
}

int logparse_diagnose(struct log_parser *p, const char *line, size_t len, struct logparse_diag *ret)
{
	struct log_record rec;
	struct furthest f = {0, 0, SIZE_MAX, false};
	struct logparse_diag d;
	int rc;

	if (p == NULL || ret == NULL || (line == NULL && len > 0)) {
		return -EINVAL;
	}
	if (line == NULL) {
		line = "";
	}
	rc = logparse_line(p, line, len, &rec);
	if (rc == 0) {
		return -ENOMSG;
	}
	if (len > 0 && line[len - 1] == '\r') {
		len--;
	}
	memset(&d, 0, sizeof(d));
	if (p->json != NULL) {
		rc = jsonline_diagnose(p->json, line, len, &d);
		if (rc == 0) {
			*ret = d;
		}
		return rc;
	}
	if (len == 0) {
		(void)snprintf(d.piece, sizeof(d.piece), "the whole format");
		(void)snprintf(d.expected, sizeof(d.expected), "a log line");
		(void)snprintf(d.found, sizeof(d.found), "an empty line");
		(void)snprintf(d.message, sizeof(d.message), "the line is empty");
		d.column = 1;
		*ret = d;
		return 0;
	}
	if (diag_compile(p) < 0) {
		return -ENOMEM;
	}
	if (p->spans != NULL) {
		f.limit = p->end_off;
	}
	(void)pcre2_set_callout(p->diag_mctx, on_callout, &f);
	(void)pcre2_match(p->diag_code, (PCRE2_SPTR)line, len, 0, 0, p->diag_md, p->diag_mctx);
	(void)pcre2_set_callout(p->diag_mctx, NULL, NULL);
	d.column = f.pos + 1;
	d.piece_index = -1;
	if (p->spans != NULL) {
		if (f.pat < p->end_off) {
			d.piece_index = 0;
			for (size_t i = 0; i < p->nspans; i++) {
				if (p->spans[i].pat_off <= f.pat) {
					d.piece_index = (int)i;
				}
			}
		}
		name_span(p, d.piece_index, &d);
	} else {
		name_group(p, f.pat, &d);
	}
	logformat_found_text(line, len, f.pos, d.found, sizeof(d.found));
	(void)snprintf(d.message, sizeof(d.message), "at column %zu (%s): expected %s, found %s%s",
	               d.column, d.piece, d.expected, d.found,
	               rc == -E2BIG ? " (the line hit the match limit)" : "");
	*ret = d;
	return 0;
}
