/*
 * log.h - the exporter's own diagnostics (never one line per log line).
 *
 * Messages go to stderr as logfmt (default) or JSON, filtered by level.
 * Only exporter/ logs; parsers and config return errors as values.
 */
#ifndef EXPORTER_LOG_H
#define EXPORTER_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_LOGFMT, LOG_FORMAT_JSON };

/* Set the threshold and format (call before threads start). */
void log_setup(enum log_level level, enum log_format format);

/* Parse "debug|info|warn|error" and "logfmt|json"; 0 or -EINVAL. */
int log_level_from_name(const char *name, enum log_level *ret_level);
int log_format_from_name(const char *name, enum log_format *ret_format);

/* Log a message followed by key/value pairs (const char *key, const char *value,
 * ..., NULL).  Values are quoted/escaped as the format needs. */
void log_msg(enum log_level level, const char *msg, ...);

#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__, (const char *)NULL)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__, (const char *)NULL)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__, (const char *)NULL)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__, (const char *)NULL)

#endif
