/*
 * config_yaml.h - read the YAML configuration file into a struct config.
 *
 * Schema (README "Configuration" and the man page document it):
 *   global:  listen_address, telemetry_path, state_file, log_level,
 *            log_format, web_config_file
 *   metrics: request_duration_buckets, upstream_duration_buckets,
 *            request_size_buckets, response_size_buckets,
 *            upstream_connect_duration_buckets, upstream_header_duration_buckets,
 *            status_labels, series_limit
 *   sources: list of {name, format, log_format, paths, labels, field_labels}
 * Everything is validated before the call returns: unknown keys, wrong
 * types, duplicate source names, reserved label names, bucket order, and
 * formats and match patterns are compiled.  Relative paths (state_file,
 * web_config_file, source paths) are taken relative to the file's directory.
 */
#ifndef CONFIG_CONFIG_YAML_H
#define CONFIG_CONFIG_YAML_H

#include <stddef.h>

#include "config/config.h"

/* Maximum series_limit accepted. */
#define CONFIG_YAML_MAX_SERIES_LIMIT 10000000u

/* Load the file at path into c (from config_create: keys absent from the
 * file keep their defaults; c must have no sources yet).  Sets
 * c->config_file.  Returns 0; -EINVAL with "FILE:LINE:COLUMN: key 'k': msg"
 * in err; -errno/-EFBIG when the file cannot be read; -ENOMEM.  On failure c
 * is partly filled and should be destroyed. */
int config_yaml_load_file(struct config *c, const char *path, char *err, size_t err_size);

/* As config_yaml_load_file for text already in memory; name is used in
 * messages and its directory for relative paths. */
int config_yaml_load_buffer(struct config *c, const char *name, const char *data, size_t len,
                            char *err, size_t err_size);

#endif
