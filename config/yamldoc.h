/*
 * yamldoc.h - a capped libyaml document plus the checked accessors the
 * config readers share (config_yaml.c, webconfig.c).
 *
 * Every accessor names the offending key in its error, as
 * "FILE:LINE:COLUMN: key 'sources[1].format': message", with LINE and
 * COLUMN 1-based from libyaml's marks.  Accessors return 0 or -EINVAL
 * (message in the error buffer given to yamldoc_load).
 */
#ifndef CONFIG_YAMLDOC_H
#define CONFIG_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define YAMLDOC_MAX_BYTES (1024u * 1024u) /* config files larger than this are refused */
#define YAMLDOC_MAX_DEPTH 16              /* nesting of mappings and sequences */
#define YAMLDOC_PATH_MAX 256              /* key path buffer ("sources[3].labels.env") */

struct yamldoc {
	yaml_document_t doc;
	bool loaded;
	const char *name; /* file name for messages (borrowed) */
	char *err;        /* caller's error buffer (borrowed) */
	size_t err_size;
};

/* Read a whole file of at most YAMLDOC_MAX_BYTES into a NUL-terminated
 * malloc'd buffer.  0, or -errno / -EFBIG with a message "FILE: ..." in err. */
int yamldoc_read_file(const char *path, char **ret_data, size_t *ret_len, char *err,
                      size_t err_size);

/* Parse one YAML document from data.  Checks nesting depth and that there
 * is exactly one document.  An empty document is an error.  0, -EINVAL
 * (message in err), -ENOMEM.  d must be finished with yamldoc_finish even on
 * failure. */
int yamldoc_load(struct yamldoc *d, const char *name, const char *data, size_t len, char *err,
                 size_t err_size);

/* NULL-safe, idempotent. */
void yamldoc_finish(struct yamldoc *d);

/* Root node of a loaded document (never NULL after a successful load). */
yaml_node_t *yamldoc_root(struct yamldoc *d);

/* Format an error at node n for key path key (may be "" for the root);
 * always returns -EINVAL. */
int yamldoc_fail(struct yamldoc *d, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Walk mapping n at path: every key must be a scalar naming one of keys[]
 * (unknown and duplicate keys are errors); ret_vals[i] is the value node
 * of keys[i] or NULL when absent.  A null/empty value for n itself counts as
 * an empty mapping. */
int yamldoc_map(struct yamldoc *d, yaml_node_t *n, const char *path, const char *const *keys,
                size_t n_keys, yaml_node_t **ret_vals);

/* The sequence items of n (must be a sequence; null means empty). */
int yamldoc_seq(struct yamldoc *d, yaml_node_t *n, const char *path, yaml_node_item_t **ret_items,
                size_t *ret_n);

/* The node with id (from a sequence item or mapping pair). */
yaml_node_t *yamldoc_node(struct yamldoc *d, int id);

/* Whether n is a plain null scalar ("", "~", "null"). */
bool yamldoc_is_null(const yaml_node_t *n);

/* A scalar string value (not null, no NUL bytes); borrowed from d. */
int yamldoc_string(struct yamldoc *d, yaml_node_t *n, const char *path, const char **ret_value);

/* A plain scalar that is a finite decimal number. */
int yamldoc_number(struct yamldoc *d, yaml_node_t *n, const char *path, double *ret_value);

/* A plain scalar that is an unsigned decimal integer in [min, max]. */
int yamldoc_uint(struct yamldoc *d, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                 uint64_t *ret_value);

/* A plain scalar true/false. */
int yamldoc_bool(struct yamldoc *d, yaml_node_t *n, const char *path, bool *ret_value);

/* Join key paths: "parent.key" (or "key" for an empty parent) and
 * "parent[i]"; truncates at size. */
void yamldoc_path_key(char *buf, size_t size, const char *parent, const char *key);
void yamldoc_path_index(char *buf, size_t size, const char *parent, size_t index);

#endif
