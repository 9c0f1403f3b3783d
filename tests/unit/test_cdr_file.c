/*
 * The call detail record file (server/cdr_file.h) the shards append
 * their records to: batching, rotation by reopen, a failing disk
 * counted, memory bounded, the flush at close.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "server/cdr_file.h"
#include "shard/shard.h"
#include "support/run.h"

typedef struct file_fx {
  uv_loop_t loop;
  cay__shard_t shard;
  char dir[64], path[96];
  long alloc_start;
} file_fx_t;

static void
fx_init(file_fx_t *fx)
{
  fx->alloc_start = cay__alloc_live();
  ck_assert_int_eq(uv_loop_init(&fx->loop), 0);
  ck_assert_int_eq(cay__shard_init(&fx->shard, &fx->loop, 0, 1), 0);
  snprintf(fx->dir, sizeof fx->dir, "/tmp/cay-cdr-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(fx->dir));
  snprintf(fx->path, sizeof fx->path, "%s/cdr.json", fx->dir);
}

/* The whole content of @p path (free()), "" when absent. */
static char *
slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  char *buf = calloc(1, 1 << 20);
  size_t n = f ? fread(buf, 1, (1 << 20) - 1, f) : 0;

  buf[n] = '\0';
  if (f)
    fclose(f);
  return buf;
}

static void
fx_fini(file_fx_t *fx)
{
  char cmd[96];

  cay__shard_fini(&fx->shard, NULL, NULL);
  ck_assert_int_eq(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&fx->loop), 0);
  ck_assert_int_eq(cay__alloc_live(), fx->alloc_start);
  snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
  ck_assert_int_eq(system(cmd), 0);
}

static int closed;

static void
on_closed(void *arg)
{
  (*(int *)arg)++;
}

/* Lines wait 200 ms to share a write; lines appended while a write runs
 * wait and go in a later one, in order; close writes what waits before
 * it closes. */
START_TEST(cdr_file_appends_in_order_and_flushes_at_close)
{
  file_fx_t fx;
  cay__cdr_file_t *f;
  char line[64], *got, want[4096] = "";

  fx_init(&fx);
  ck_assert_int_eq(cay__cdr_file_open(&fx.shard, fx.path, &f), 0);
  for (int i = 0; i < 50; i++) {
    snprintf(line, sizeof line, "{\"n\":%d}\n", i);
    cay__cdr_file_append(f, line, strlen(line));
    strcat(want, line);
    if (i == 20) {
      cay__shard_advance(&fx.shard, 199);
      uv_run(&fx.loop, UV_RUN_NOWAIT);
      got = slurp(fx.path);
      ck_assert_str_eq(got, ""); /* still waiting */
      free(got);
      cay__shard_advance(&fx.shard, 1); /* the write of 21 lines goes */
    }
  }
  closed = 0;
  cay__cdr_file_close(f, on_closed, &closed);
  ck_assert_int_eq(closed, 0); /* a write is in flight */
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  got = slurp(fx.path);
  ck_assert_str_eq(got, want);
  free(got);
  ck_assert_uint_eq(fx.shard.stats.cdrs_lost, 0);
  fx_fini(&fx);
}
END_TEST

/* Rotation: the file renamed, reopen: what was appended before stays in
 * the old file, what comes after goes to the new one, also when the
 * reopen comes while a write to the old file runs. */
START_TEST(cdr_file_reopen_after_a_rename)
{
  file_fx_t fx;
  cay__cdr_file_t *f;
  char old[128], *got;

  fx_init(&fx);
  snprintf(old, sizeof old, "%s.1", fx.path);
  ck_assert_int_eq(cay__cdr_file_open(&fx.shard, fx.path, &f), 0);
  cay__cdr_file_append(f, "a\n", 2);
  cay__shard_advance(&fx.shard, 200); /* its write in flight */
  cay__cdr_file_append(f, "b\n", 2);  /* waits */
  ck_assert_int_eq(rename(fx.path, old), 0);
  ck_assert_int_eq(cay__cdr_file_reopen(f, fx.path), 0);
  cay__cdr_file_append(f, "c\n", 2);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  cay__shard_advance(&fx.shard, 200);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  got = slurp(old);
  ck_assert_str_eq(got, "a\n");
  free(got);
  got = slurp(fx.path);
  ck_assert_str_eq(got, "b\nc\n");
  free(got);
  /* Another reopen with nothing in flight; a path that cannot be opened
   * keeps the file. */
  ck_assert_int_eq(rename(fx.path, old), 0);
  ck_assert_int_eq(cay__cdr_file_reopen(f, fx.path), 0);
  ck_assert_int_lt(cay__cdr_file_reopen(f, "/nonexistent/dir/cdr.json"), 0);
  cay__cdr_file_append(f, "d\n", 2);
  cay__cdr_file_close(f, NULL, NULL);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  got = slurp(fx.path);
  ck_assert_str_eq(got, "d\n");
  free(got);
  fx_fini(&fx);
}
END_TEST

/* A disk that refuses the write (/dev/full: ENOSPC): the lines are
 * counted lost, and the file goes on with the next ones. A path that
 * cannot be opened is an error at open. */
START_TEST(cdr_file_failed_writes_counted_lost)
{
  file_fx_t fx;
  cay__cdr_file_t *f;

  fx_init(&fx);
  ck_assert_int_lt(cay__cdr_file_open(&fx.shard, "/nonexistent/dir/x", &f), 0);
  ck_assert_int_eq(cay__cdr_file_open(&fx.shard, "/dev/full", &f), 0);
  cay__cdr_file_append(f, "a\n", 2);
  cay__cdr_file_append(f, "b\n", 2);
  cay__cdr_file_append(f, "c\n", 2);
  cay__shard_advance(&fx.shard, 200);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  ck_assert_uint_eq(fx.shard.stats.cdrs_lost, 3);
  cay__cdr_file_append(f, "d\n", 2); /* tried again */
  cay__shard_advance(&fx.shard, 200);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  ck_assert_uint_eq(fx.shard.stats.cdrs_lost, 4);
  cay__cdr_file_close(f, NULL, NULL);
  fx_fini(&fx);
}
END_TEST

/* 64 KiB waiting go at once, without the 200 ms; more than 4 MiB
 * waiting behind that write: the records past it are lost (memory stays
 * bounded), the ones before are written. */
START_TEST(cdr_file_bounded_in_memory)
{
  file_fx_t fx;
  cay__cdr_file_t *f;
  static char line[1024];
  struct stat st;

  fx_init(&fx);
  memset(line, 'x', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  ck_assert_int_eq(cay__cdr_file_open(&fx.shard, fx.path, &f), 0);
  /* The first 64 go out at once; 4096 wait (4 MiB); the rest are lost. */
  for (int i = 0; i < 64 + 4096 + 10; i++)
    cay__cdr_file_append(f, line, sizeof line);
  ck_assert_uint_eq(fx.shard.stats.cdrs_lost, 10);
  uv_run(&fx.loop, UV_RUN_DEFAULT); /* 64 written, then 4 MiB */
  ck_assert_int_eq(stat(fx.path, &st), 0);
  ck_assert_int_eq(st.st_size, (64 + 4096) * sizeof line);
  cay__cdr_file_close(f, NULL, NULL);
  uv_run(&fx.loop, UV_RUN_DEFAULT);
  fx_fini(&fx);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("cdr_file");
  TCase *tf = tcase_create("file");

  tcase_add_test(tf, cdr_file_appends_in_order_and_flushes_at_close);
  tcase_add_test(tf, cdr_file_reopen_after_a_rename);
  tcase_add_test(tf, cdr_file_failed_writes_counted_lost);
  tcase_add_test(tf, cdr_file_bounded_in_memory);
  suite_add_tcase(s, tf);
  return cay_test_run(s);
}
