/* Logging: one write(2) per line to stderr, or to a test sink. */
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int cay__log_level = CAY_LOG_INFO;

static cay__log_sink_fn log_sink;
static void *log_sink_arg;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };

void
cay__log_set_level(int level)
{
  if (level < CAY_LOG_ERROR)
    level = CAY_LOG_ERROR;
  if (level > CAY_LOG_DEBUG)
    level = CAY_LOG_DEBUG;
  __atomic_store_n(&cay__log_level, level, __ATOMIC_RELAXED);
}

int
cay__log_level_parse(const char *name)
{
  for (int i = 0; i <= CAY_LOG_DEBUG; i++)
    if (strcasecmp(name, level_names[i]) == 0)
      return i;
  return -1;
}

const char *
cay__log_level_name(int level)
{
  if (level < CAY_LOG_ERROR || level > CAY_LOG_DEBUG)
    return "unknown";
  return level_names[level];
}

void
cay__log_set_sink(cay__log_sink_fn fn, void *arg)
{
  log_sink = fn;
  log_sink_arg = arg;
}

void
cay__log_write(int level, int shard, const char *fmt, ...)
{
  char line[1024];
  struct timeval tv;
  struct tm tm;
  size_t n;
  va_list ap;

  if (level < CAY_LOG_ERROR || level > CAY_LOG_DEBUG)
    level = CAY_LOG_ERROR;
  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
  if (shard >= 0)
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s shard=%d ",
                          (long)(tv.tv_usec / 1000), level_tags[level], shard);
  else
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s shard=- ",
                          (long)(tv.tv_usec / 1000), level_tags[level]);
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  if (m < 0)
    m = 0;
  n += (size_t)m;
  if (n > sizeof line - 2)
    n = sizeof line - 2; /* truncated: keep the newline */
  line[n++] = '\n';
  line[n] = '\0';
  if (log_sink) {
    log_sink(level, line, log_sink_arg);
    return;
  }
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w; /* nowhere to report a failed log write */
}

void
cay__errmsg(char *buf, size_t len, const char *fmt, ...)
{
  va_list ap;

  if (buf == NULL || len == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(buf, len, fmt, ap);
  va_end(ap);
}
