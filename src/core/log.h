/*
 * Logging to stderr: one line per call, written with a single write(2) so
 * lines from several shards never interleave.
 *
 *   2026-11-21T13:25:17.123Z INFO  shard=0 dialog 3f2a... confirmed
 *
 * shard -1 prints "shard=-" (main thread, setup).
 */
#ifndef CAY_CORE_LOG_H
#define CAY_CORE_LOG_H

#include <stdarg.h>

#include "cay/config.h"

extern int cay__log_level; /* a cay_log_level_t; use cay__log_on() */

/** True when lines of @p level are written. A relaxed atomic read: the
 * level may change on another thread (a reload) while shards log.
 * @thread any */
static inline int
cay__log_on(int level)
{
  return level <= __atomic_load_n(&cay__log_level, __ATOMIC_RELAXED);
}

/** Set the process's log level (clamped to error..debug). @thread any */
void cay__log_set_level(int level);
/** Parse "error", "warn", "info", "debug"; -1 for anything else. */
int cay__log_level_parse(const char *name);
const char *cay__log_level_name(int level);
/**
 * Format an error message into @p buf (when @p buf is not NULL and
 * @p len > 0), truncating as snprintf does. For "what was expected"
 * messages of parsers and checks.
 * @thread any
 */
void cay__errmsg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void cay__log_write(int level, int shard, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Test hook: send lines to @p fn instead of stderr (NULL restores). */
typedef void (*cay__log_sink_fn)(int level, const char *line, void *arg);
void cay__log_set_sink(cay__log_sink_fn fn, void *arg);

#define CAY_LOG(level, shard, ...)                                             \
  do {                                                                         \
    if (cay__log_on(level))                                                    \
      cay__log_write((level), (shard), __VA_ARGS__);                           \
  } while (0)
#define CAY_ERROR(shard, ...) CAY_LOG(CAY_LOG_ERROR, shard, __VA_ARGS__)
#define CAY_WARN(shard, ...)  CAY_LOG(CAY_LOG_WARN, shard, __VA_ARGS__)
#define CAY_INFO(shard, ...)  CAY_LOG(CAY_LOG_INFO, shard, __VA_ARGS__)
#define CAY_DEBUG(shard, ...) CAY_LOG(CAY_LOG_DEBUG, shard, __VA_ARGS__)

#endif
