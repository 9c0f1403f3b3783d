/*
 * Call detail records handed to an embedder (cay/cdr.h): Cay embedded on
 * this program's loop with the config file CONFIG (its shards, routes and
 * cdr.file), and cay_server_on_cdr() writing each record it gets, field
 * by field, to OUT as one line of JSON of its own, and the record's json
 * to OUT.json. run_embed_cdr.py compares them with cdr.file.
 *
 *   embed_cdr CONFIG RUN_MS GRACE_MS OUT
 *
 * Runs for RUN_MS, closes Cay with GRACE_MS of grace (0: the calls still
 * up are cut at once, after their BYEs), and prints "embed_cdr:
 * records=N shards_seen=S wrong_thread=W bad_json=B cdrs=C". Exits 0
 * when N > 0, N == C (the summary's cdrs, the records of the calls cut
 * included), every record of one shard came
 * on one thread and the shards' threads differ (W == 0), and every json
 * is one line of json_len bytes (B == 0).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cay/cay.h>

#define MAX_SHARDS 64 /* shards: at most 64 (cay.yaml.sample) */

static struct {
  pthread_mutex_t lock;
  FILE *out, *out_json;
  unsigned long records, wrong, bad_json;
  pthread_t thread[MAX_SHARDS];
  int seen[MAX_SHARDS];
  cay_server_t *srv;
  uv_timer_t stop;
  uint64_t grace_ms;
  uint64_t cdrs;
} app = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* "key":"value" (escaped), or "key":null for NULL, after a comma. */
static void
put_str(FILE *f, const char *key, const char *v)
{
  fprintf(f, ",\"%s\":", key);
  if (v == NULL) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (; *v; v++) {
    if (*v == '"' || *v == '\\')
      fputc('\\', f);
    if ((unsigned char)*v < 0x20)
      fprintf(f, "\\u%04x", (unsigned char)*v);
    else
      fputc(*v, f);
  }
  fputc('"', f);
}

/* The record's thread: every record of one shard on one thread. Call
 * with the lock. */
static void
check_thread(unsigned shard)
{
  if (shard >= MAX_SHARDS) {
    app.wrong++;
    return;
  }
  if (!app.seen[shard]) {
    for (unsigned k = 0; k < MAX_SHARDS; k++)
      if (app.seen[k] && pthread_equal(app.thread[k], pthread_self()))
        app.wrong++; /* another shard's thread */
    app.thread[shard] = pthread_self();
    app.seen[shard] = 1;
  } else if (!pthread_equal(app.thread[shard], pthread_self())) {
    app.wrong++;
  }
}

static void
on_cdr(const cay_cdr_t *c, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&app.lock);
  app.records++;
  check_thread(c->shard);
  if (c->json == NULL || strlen(c->json) != c->json_len || c->json_len < 2
      || c->json[c->json_len - 1] != '\n'
      || memchr(c->json, '\n', c->json_len - 1) != NULL)
    app.bad_json++;
  else
    fwrite(c->json, 1, c->json_len, app.out_json);
  fprintf(app.out,
          "{\"start_ms\":%" PRId64 ",\"progress_ms\":%" PRId64
          ",\"answer_ms\":%" PRId64 ",\"end_ms\":%" PRId64
          ",\"setup_ms\":%" PRId64 ",\"duration_ms\":%" PRId64,
          c->start_ms, c->progress_ms, c->answer_ms, c->end_ms, c->setup_ms,
          c->duration_ms);
  put_str(app.out, "call_id", c->call_id);
  put_str(app.out, "from", c->from);
  put_str(app.out, "to", c->to);
  put_str(app.out, "ruri", c->ruri);
  put_str(app.out, "source", c->source);
  put_str(app.out, "target", c->target);
  put_str(app.out, "b_call_id", c->b_call_id);
  fprintf(app.out,
          ",\"attempts\":%u,\"status\":%d,\"b_status\":%d,"
          "\"ended_by\":\"%s\"",
          c->attempts, c->status, c->b_status, cay_cdr_end_name(c->ended_by));
  put_str(app.out, "reason", c->reason);
  if (c->q850)
    fprintf(app.out, ",\"q850\":%d", c->q850);
  else
    fputs(",\"q850\":null", app.out);
  fprintf(app.out, ",\"shard\":%u}\n", c->shard);
  pthread_mutex_unlock(&app.lock);
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  cay_stats_t total;

  (void)arg;
  cay_server_stats(srv, &total);
  app.cdrs = total.cdrs;
  uv_close((uv_handle_t *)&app.stop, NULL);
}

static void
on_stop(uv_timer_t *t)
{
  (void)t;
  cay_server_close(app.srv, app.grace_ms, on_closed, NULL);
}

int
main(int argc, char **argv)
{
  uv_loop_t loop;
  cay_config_t cfg;
  char err_text[512], path[4096];
  unsigned shards = 0;
  int err;

  if (argc != 5) {
    fprintf(stderr, "usage: embed_cdr CONFIG RUN_MS GRACE_MS OUT\n");
    return 2;
  }
  app.grace_ms = strtoull(argv[3], NULL, 10);
  cay_config_init(&cfg);
  if (cay_config_load(&cfg, argv[1], err_text, sizeof err_text) != 0) {
    fprintf(stderr, "embed_cdr: %s\n", err_text);
    return 2;
  }
  snprintf(path, sizeof path, "%s.json", argv[4]);
  app.out = fopen(argv[4], "w");
  app.out_json = fopen(path, "w");
  if (app.out == NULL || app.out_json == NULL) {
    perror("embed_cdr: OUT");
    return 2;
  }
  uv_loop_init(&loop);
  err = cay_server_create(&app.srv, &loop, &cfg);
  if (err == 0)
    err = cay_server_on_cdr(app.srv, on_cdr, NULL);
  if (err == 0)
    err = cay_server_start(app.srv);
  if (err == 0 && cay_server_on_cdr(app.srv, on_cdr, NULL) != CAY_ESTATE)
    err = CAY_ESTATE; /* too late once started */
  if (err) {
    fprintf(stderr, "embed_cdr: cay: %s\n", cay_strerror(err));
    return 1;
  }
  uv_timer_init(&loop, &app.stop);
  uv_timer_start(&app.stop, on_stop, (uint64_t)atoi(argv[2]), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  fclose(app.out);
  fclose(app.out_json);
  for (unsigned k = 0; k < MAX_SHARDS; k++)
    shards += (unsigned)app.seen[k];
  printf("embed_cdr: records=%lu shards_seen=%u wrong_thread=%lu "
         "bad_json=%lu cdrs=%" PRIu64 "\n",
         app.records, shards, app.wrong, app.bad_json, app.cdrs);
  return app.records > 0 && app.records == app.cdrs && app.wrong == 0
                 && app.bad_json == 0
             ? 0
             : 1;
}
