/*
 * A shard's call detail record file: lines batched in memory, one
 * uv_fs_write() at a time on the thread pool, O_APPEND so that the
 * shards' writes land whole (cdr_file.h).
 */
#include "server/cdr_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "core/alloc.h"
#include "core/log.h"

#define PENDING_MAX   (4u << 20) /* bytes waiting, at most */
#define PENDING_FIRST 4096u
#define WARN_EVERY_MS 10000u
/* Lines wait this long for others to share their write (a write costs a
 * thread-pool round trip, two thread wake-ups: one per call cost 35 us,
 * a third of what relaying the call costs), unless BATCH_BYTES are
 * waiting. */
#define FLUSH_MS    200u
#define BATCH_BYTES (64u << 10)

struct cay__cdr_file {
  cay__shard_t *shard;
  uv_fs_t req;
  int fd;               /* the file written now */
  int old_fd;           /* reopened while a write to it ran: closed after
                           that write, -1 when none */
  unsigned writing : 1; /* req in flight */
  unsigned closing : 1;
  char *batch; /* the lines being written (batch_off done) */
  size_t batch_len, batch_off, batch_cap;
  unsigned batch_lines;
  char *pend; /* the lines waiting */
  size_t pend_len, pend_cap;
  unsigned pend_lines;
  cay__timer_t t_flush; /* FLUSH_MS after the first line waiting */
  uint64_t warn_next;   /* shard clock: the next "lost" line may go */
  uint64_t lost_quiet;  /* lost since the last such line */
  void (*closed_cb)(void *arg);
  void *closed_arg;
  char path[256];
};

#define SHARD_OF(f) ((int)(f)->shard->index)

static void on_flush(cay__timer_t *t);

static int
open_append(const cay__cdr_file_t *f, const char *path)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

  if (fd < 0) {
    int err = -errno;
    CAY_ERROR(SHARD_OF(f), "cdr: cannot open %s: %s", path, strerror(-err));
    return err;
  }
  return fd;
}

int
cay__cdr_file_open(cay__shard_t *shard, const char *path, cay__cdr_file_t **out)
{
  cay__cdr_file_t *f = cay__calloc(1, sizeof *f);
  int fd;

  if (f == NULL)
    return -ENOMEM;
  f->shard = shard;
  f->old_fd = -1;
  cay__timer_init(&f->t_flush, on_flush, f);
  snprintf(f->path, sizeof f->path, "%s", path);
  if ((fd = open_append(f, path)) < 0) {
    cay__free(f);
    return fd;
  }
  f->fd = fd;
  *out = f;
  return 0;
}

/* @p n records lost, for @p why: counted, and said at most every
 * WARN_EVERY_MS. */
static void
lost(cay__cdr_file_t *f, unsigned n, const char *why)
{
  uint64_t now = cay__shard_now(f->shard);

  f->shard->stats.cdrs_lost += n;
  f->lost_quiet += n;
  if (now < f->warn_next)
    return;
  CAY_ERROR(SHARD_OF(f), "cdr: lost %llu record%s for %s: %s",
            (unsigned long long)f->lost_quiet, f->lost_quiet == 1 ? "" : "s",
            f->path, why);
  f->lost_quiet = 0;
  f->warn_next = now + WARN_EVERY_MS;
}

static void on_written(uv_fs_t *req);

/* Write what is left of the batch, or make the waiting lines the batch
 * and write them; with nothing to write, a closing file is closed. */
static void
write_next(cay__cdr_file_t *f)
{
  uv_buf_t buf;
  int err;

  cay__shard_timer_stop(f->shard, &f->t_flush);
  if (f->batch_off == f->batch_len) {
    char *b = f->batch;
    size_t cap = f->batch_cap;

    f->batch = f->pend;
    f->batch_cap = f->pend_cap;
    f->batch_len = f->pend_len;
    f->batch_lines = f->pend_lines;
    f->batch_off = 0;
    f->pend = b;
    f->pend_cap = cap;
    f->pend_len = 0;
    f->pend_lines = 0;
  }
  if (f->batch_len == 0) {
    if (f->closing) {
      void (*cb)(void *) = f->closed_cb;
      void *arg = f->closed_arg;

      close(f->fd);
      cay__free(f->batch);
      cay__free(f->pend);
      cay__free(f);
      if (cb)
        cb(arg);
    }
    return;
  }
  buf = uv_buf_init(f->batch + f->batch_off,
                    (unsigned)(f->batch_len - f->batch_off));
  /* Offset -1: write(2), at the end of the file (O_APPEND). */
  err = uv_fs_write(f->shard->loop, &f->req, f->fd, &buf, 1, -1, on_written);
  if (err) {
    uv_fs_req_cleanup(&f->req);
    lost(f, f->batch_lines, uv_strerror(err));
    f->batch_len = f->batch_off = 0;
    f->batch_lines = 0;
    write_next(f); /* the lines waiting, if any; closes if closing */
    return;
  }
  f->req.data = f;
  f->writing = 1;
}

/* No write runs: the lines waiting go now when they fill a batch or the
 * file is closing (which an empty batch closes), else within FLUSH_MS. */
static void
write_later(cay__cdr_file_t *f)
{
  if (f->closing || f->pend_len >= BATCH_BYTES
      || (f->pend_len > 0
          && cay__shard_timer_start(f->shard, &f->t_flush, FLUSH_MS) != 0))
    write_next(f);
}

/* Armed only while no write runs (write_next() stops it). */
static void
on_flush(cay__timer_t *t)
{
  write_next(t->data);
}

static void
on_written(uv_fs_t *req)
{
  cay__cdr_file_t *f = req->data;
  ssize_t n = req->result;

  uv_fs_req_cleanup(req);
  f->writing = 0;
  if (f->old_fd >= 0) { /* rotated: that write was the old file's last */
    close(f->old_fd);
    f->old_fd = -1;
  }
  if (n < 0) {
    lost(f, f->batch_lines, uv_strerror((int)n));
    f->batch_off = f->batch_len;
  } else {
    /* A short write (a full disk, a signal) goes on from where it
     * stopped. */
    f->batch_off += (size_t)n;
    if (n == 0 && f->batch_off < f->batch_len) {
      lost(f, f->batch_lines, "nothing written");
      f->batch_off = f->batch_len;
    }
  }
  if (f->batch_off < f->batch_len) {
    write_next(f); /* the rest of the batch */
    return;
  }
  f->batch_lines = 0;
  write_later(f);
}

void
cay__cdr_file_append(cay__cdr_file_t *f, const char *line, size_t len)
{
  if (f->pend_len + len > PENDING_MAX) {
    lost(f, 1, "more than 4 MiB waiting for the disk");
    return;
  }
  if (f->pend_len + len > f->pend_cap) {
    size_t cap = f->pend_cap ? f->pend_cap : PENDING_FIRST;
    char *p;

    while (cap < f->pend_len + len)
      cap *= 2;
    if ((p = cay__realloc(f->pend, cap)) == NULL) {
      lost(f, 1, "no memory");
      return;
    }
    f->pend = p;
    f->pend_cap = cap;
  }
  memcpy(f->pend + f->pend_len, line, len);
  f->pend_len += len;
  f->pend_lines++;
  if (!f->writing && (f->pend_lines == 1 || f->pend_len >= BATCH_BYTES))
    write_later(f); /* else a write or the timer is on its way */
}

int
cay__cdr_file_reopen(cay__cdr_file_t *f, const char *path)
{
  int fd = open_append(f, path);

  if (fd < 0)
    return fd;
  if (f->writing) {
    if (f->old_fd >= 0) /* two reopens during one write */
      close(f->fd);
    else
      f->old_fd = f->fd;
  } else {
    close(f->fd);
  }
  f->fd = fd;
  snprintf(f->path, sizeof f->path, "%s", path);
  CAY_INFO(SHARD_OF(f), "cdr: writing to %s", path);
  return 0;
}

void
cay__cdr_file_close(cay__cdr_file_t *f, void (*cb)(void *arg), void *arg)
{
  f->closing = 1;
  f->closed_cb = cb;
  f->closed_arg = arg;
  cay__shard_timer_stop(f->shard, &f->t_flush);
  if (!f->writing)
    write_next(f);
}
