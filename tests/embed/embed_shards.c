/*
 * Proof that every callback of a session runs on the shard that owns it
 * (DESIGN.md rule 2, cay/session.h): Cay with SHARDS shards answers the
 * calls SIPp makes to udp:127.0.0.1:PORT through cay_server_on_session,
 * and a supplement records the thread of every hook call per Call-ID. At
 * the end, for every call, each hook ran on the thread that got the
 * session's incoming callback, and more than one thread took calls.
 *
 *   embed_shards PORT SHARDS RUN_MS
 *
 * Runs for RUN_MS, then gathers the live counters of every shard
 * (cay_server_stats_gather()), gathers again and closes Cay at once (the
 * second gather races the close), and closes. Prints "embed_shards:
 * calls=N threads=T hooks=H wrong_thread=W gathered_calls=G
 * shards_with_calls=S gather_errors=E" and exits 0 when calls > 0,
 * W == 0, every call's hooks were seen, T > 1, and the gathers agree:
 * G == N == the final calls_in, S > 1, each gather's total is the sum of
 * its shards, the racing gather and one that joined it (asked while it
 * was in flight) each answered once before the close callback, and a
 * gather asked before start or after the close was refused (E == 0).
 * Each call answered here leaves a call detail record
 * (cay_server_on_cdr()) on its owner's thread: "records=R
 * bad_records=B" after those, and R == N, B == 0 are asked too (a record
 * is bad on another thread, or unless it is of a call answered, ended by
 * the caller's BYE, no B leg named).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cay/cay.h>

#define MAX_CALLS 4096

static struct {
  pthread_mutex_t lock;
  struct call {
    char call_id[128];
    pthread_t owner; /* thread of the incoming callback */
    int owned;
    unsigned hooks;
  } calls[MAX_CALLS];
  unsigned n;
  unsigned long hooks, wrong;
  unsigned records, bad_records;
  pthread_t threads[64];
  unsigned nthreads;
  cay_server_t *srv;
  uv_timer_t stop;
  /* Live gathers (shard 0's thread only). */
  uint64_t gathered_calls; /* total calls_in of the first gather */
  unsigned shards_with_calls, gathers, gather_errors;
  int closed;
} app = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The record of @p call_id (created when new). Call with the lock. */
static struct call *
call_of(const char *call_id)
{
  for (unsigned i = 0; i < app.n; i++)
    if (strcmp(app.calls[i].call_id, call_id) == 0)
      return &app.calls[i];
  if (app.n == MAX_CALLS)
    return NULL;
  struct call *c = &app.calls[app.n++];
  snprintf(c->call_id, sizeof c->call_id, "%s", call_id);
  return c;
}

/* A hook ran for @p call_id on this thread: it must be the owner's. */
static void
saw_hook(const sip_t *sip)
{
  if (sip == NULL || sip->sip_call_id == NULL)
    return;
  pthread_mutex_lock(&app.lock);
  struct call *c = call_of(sip->sip_call_id->i_id);
  if (c) {
    c->hooks++;
    app.hooks++;
    /* The session is made after the INVITE's incoming hook; that first
     * hook is checked at the end against the owner. */
    if (c->owned && !pthread_equal(c->owner, pthread_self()))
      app.wrong++;
    if (!c->owned) {
      c->owner = pthread_self();
      c->owned = 2; /* provisional: the hook's thread */
    }
  }
  pthread_mutex_unlock(&app.lock);
}

static int
in_request(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)arg;
  saw_hook(sip);
  return 0;
}

static void
out_response(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)arg;
  saw_hook(sip);
}

static void
on_incoming(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  (void)in;
  (void)arg;
  pthread_mutex_lock(&app.lock);
  struct call *c = call_of(cay_session_call_id(s));
  if (c) {
    if (c->owned == 2 && !pthread_equal(c->owner, pthread_self()))
      app.wrong++; /* the INVITE's hook ran elsewhere */
    c->owner = pthread_self();
    c->owned = 1;
  }
  unsigned i;
  for (i = 0; i < app.nthreads; i++)
    if (pthread_equal(app.threads[i], pthread_self()))
      break;
  if (i == app.nthreads && app.nthreads < 64)
    app.threads[app.nthreads++] = pthread_self();
  pthread_mutex_unlock(&app.lock);
  cay_session_answer(s, NULL);
}

/* A call's record (cay/cdr.h): on its owner's thread, answered by us
 * and ended by SIPp's BYE, no B leg. */
static void
on_cdr(const cay_cdr_t *r, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&app.lock);
  struct call *c = call_of(r->call_id);
  app.records++;
  if (c == NULL || c->owned != 1 || !pthread_equal(c->owner, pthread_self())
      || r->status != 200 || r->answer_ms < r->start_ms
      || r->ended_by != CAY_CDR_CALLER || r->attempts != 0 || r->target
      || r->b_call_id || r->b_status != 0)
    app.bad_records++;
  pthread_mutex_unlock(&app.lock);
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  cay_stats_t total;

  (void)arg;
  app.closed = 1;
  /* The racing gather and its joiner have answered by now, once each. */
  if (app.gathers != 3)
    app.gather_errors++;
  if (cay_server_stats_gather(srv, NULL, NULL) != CAY_ESTATE)
    app.gather_errors++;
  cay_server_stats(srv, &total);
  if (total.calls_in != app.gathered_calls)
    app.gather_errors++;
  uv_close((uv_handle_t *)&app.stop, NULL);
}

/* Each gather's total must be the sum of its shards' counters. */
static int
sum_ok(const cay_stats_t *shards, unsigned n, const cay_stats_t *total)
{
  uint64_t calls = 0, msgs = 0;

  for (unsigned k = 0; k < n; k++) {
    calls += shards[k].calls_in;
    msgs += shards[k].msgs_in;
  }
  return calls == total->calls_in && msgs == total->msgs_in;
}

static void
on_second_gather(cay_server_t *srv, const cay_stats_t *shards, unsigned n,
                 const cay_stats_t *total, void *arg)
{
  (void)srv;
  (void)arg;
  app.gathers++;
  if (app.closed || !sum_ok(shards, n, total)
      || total->calls_in != app.gathered_calls)
    app.gather_errors++;
}

static void
on_first_gather(cay_server_t *srv, const cay_stats_t *shards, unsigned n,
                const cay_stats_t *total, void *arg)
{
  (void)arg;
  app.gathers++;
  app.gathered_calls = total->calls_in;
  for (unsigned k = 0; k < n; k++)
    app.shards_with_calls += shards[k].calls_in > 0;
  if (n != cay_server_shards(srv) || !sum_ok(shards, n, total))
    app.gather_errors++;
  /* The next gather races the close: it must still answer, once, before
   * the close callback; a third one meanwhile joins it (with several
   * shards; with one, the second has answered already and this is a
   * gather of its own) and is answered too. */
  if (cay_server_stats_gather(srv, on_second_gather, NULL) != 0)
    app.gather_errors++;
  if (cay_server_stats_gather(srv, on_second_gather, NULL) != 0)
    app.gather_errors++;
  cay_server_close(srv, 2000, on_closed, NULL);
}

static void
on_stop(uv_timer_t *t)
{
  (void)t;
  if (cay_server_stats_gather(app.srv, on_first_gather, NULL) != 0) {
    app.gather_errors++;
    cay_server_close(app.srv, 2000, on_closed, NULL);
  }
}

int
main(int argc, char **argv)
{
  uv_loop_t loop;
  cay_config_t cfg;
  char text[256];
  int err;

  if (argc != 4) {
    fprintf(stderr, "usage: embed_shards PORT SHARDS RUN_MS\n");
    return 2;
  }
  uv_loop_init(&loop);
  cay_config_init(&cfg);
  cfg.shards = (unsigned)atoi(argv[2]);
  cfg.log_level = CAY_LOG_WARN;
  cfg.n_listen = 1;
  snprintf(text, sizeof text, "udp:127.0.0.1:%s", argv[1]);
  if (cay_config_parse_listen(text, &cfg.listen[0], text, sizeof text)) {
    fprintf(stderr, "embed_shards: %s\n", text);
    return 2;
  }
  err = cay_server_create(&app.srv, &loop, &cfg);
  if (err == 0) {
    cay_supp_t rec = { .name = "thread-recorder",
                       .priority = CAY_SUPP_PRIO_APP,
                       .incoming_request = in_request,
                       .outgoing_response = out_response };
    err = cay_supp_register(app.srv, &rec);
  }
  if (err == 0)
    err = cay_server_on_session(app.srv, on_incoming, NULL);
  if (err == 0)
    err = cay_server_on_cdr(app.srv, on_cdr, NULL);
  if (err == 0
      && cay_server_stats_gather(app.srv, on_first_gather, NULL) != CAY_ESTATE)
    app.gather_errors++; /* not started yet */
  if (err == 0)
    err = cay_server_start(app.srv);
  if (err) {
    fprintf(stderr, "embed_shards: cay: %s\n", cay_strerror(err));
    return 1;
  }
  uv_timer_init(&loop, &app.stop);
  uv_timer_start(&app.stop, on_stop, (uint64_t)atoi(argv[3]), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  unsigned owned = 0;
  for (unsigned i = 0; i < app.n; i++)
    owned += app.calls[i].owned == 1 && app.calls[i].hooks >= 3;
  printf("embed_shards: calls=%u owned_with_hooks=%u threads=%u hooks=%lu "
         "wrong_thread=%lu gathered_calls=%llu shards_with_calls=%u "
         "gathers=%u gather_errors=%u records=%u bad_records=%u\n",
         app.n, owned, app.nthreads, app.hooks, app.wrong,
         (unsigned long long)app.gathered_calls, app.shards_with_calls,
         app.gathers, app.gather_errors, app.records, app.bad_records);
  return app.n > 0 && owned == app.n && app.wrong == 0 && app.nthreads > 1
                 && app.gathered_calls == app.n && app.shards_with_calls > 1
                 && app.gathers == 3 && app.gather_errors == 0
                 && app.records == app.n && app.bad_records == 0
             ? 0
             : 1;
}
