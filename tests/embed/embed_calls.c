/*
 * An embedder: Cay on the program's own uv_loop_t, next to the program's
 * own timer and TCP server, single-threaded (shards = 1). It places
 * NCALLS outgoing calls to TARGET (CONCURRENCY at a time), hangs each up
 * once answered, and meanwhile answers the calls that come to
 * udp:127.0.0.1:PORT itself through cay_server_on_session(): 180, then
 * 200 with Cay's built-in SDP answer.
 *
 *   embed_calls PORT TARGET_URI NCALLS CONCURRENCY MIN_RUN_MS [MODE]
 *
 * MODE "plain" (default): BYE as soon as a call is answered. MODE
 * "modify": once answered, change the session with a re-INVITE carrying a
 * new offer (cay_session_modify), and BYE once it got its 200 (RFC 3261
 * section 14.1, glare retries included). MODE "hold": keep the call until
 * the callee sends BYE (session timer tests). MODE "auth": as plain, but
 * each call is placed with cay_session_invite_with() and the credentials
 * cay / s3cret for a callee that challenges (RFC 3261 section 22.2).
 *
 * It closes Cay (drain, then exit) once its own calls are done and at
 * least MIN_RUN_MS have passed, so that incoming calls get answered too.
 *
 * Each call leaves a detail record (cay_server_on_cdr()): the placed
 * ones without a source, answered (status 200) and ended by the caller
 * (this program), by the callee in hold mode; the answered incoming ones
 * with their source.
 *
 * Prints "embed: calls=N answered=A ended=E failed=F ... records_placed=P
 * records_placed_ok=Q records_incoming=I" and exits 0 when every call was
 * answered and ended with a 200 to its BYE, and P == Q == N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cay/cay.h>

static const char offer[] = "v=0\r\n"
                            "o=embed 1 1 IN IP4 127.0.0.1\r\n"
                            "s=-\r\n"
                            "c=IN IP4 127.0.0.1\r\n"
                            "t=0 0\r\n"
                            "m=audio 6000 RTP/AVP 0 8\r\n";

static struct {
  cay_server_t *srv;
  uv_timer_t tick;
  uv_tcp_t tcp; /* the program's own server, next to Cay */
  const char *target;
  int total, concurrency, started, in_flight;
  int answered, ended, failed, modified, incoming;
  int mode; /* 0 plain, 1 modify, 2 hold, 3 auth */
  unsigned long ticks;
  int closing;
  uint64_t close_after; /* loop time in ms */
  uv_loop_t *loop;
  int records_placed, records_placed_ok, records_incoming;
} app;

static void place_calls(void);
static void finish_if_done(void);

static void
on_closed(cay_server_t *srv, void *arg)
{
  (void)srv;
  (void)arg;
  uv_close((uv_handle_t *)&app.tick, NULL);
  uv_close((uv_handle_t *)&app.tcp, NULL);
}

static void
finish_if_done(void)
{
  /* Close only after the program's own timer ticked at least once: the
   * calls can all be done within its first 10 ms, and the exit status
   * checks that both ran side by side on the loop. */
  if (app.closing || app.started < app.total || app.in_flight > 0
      || uv_now(app.loop) < app.close_after || app.ticks == 0)
    return;
  app.closing = 1;
  cay_server_close(app.srv, 2000, on_closed, NULL);
}

static void
on_session(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  int *answered = arg;
  cay_session_state_t state = ev->state;
  int status = ev->status;

  if (ev->kind == CAY_SESSION_EV_MODIFIED) {
    if (ev->status == 200 && ev->body != NULL)
      app.modified++;
    else
      fprintf(stderr, "embed: re-INVITE got %d\n", ev->status);
    cay_session_hangup(s);
  } else if (ev->kind == CAY_SESSION_EV_STATE
             && state == CAY_SESSION_CONFIRMED) {
    *answered = 1;
    app.answered++;
    if (app.mode == 1) {
      int err = cay_session_modify(s, NULL, 0);
      if (err) {
        fprintf(stderr, "embed: modify: %s\n", cay_strerror(err));
        cay_session_hangup(s);
      }
    } else if (app.mode == 0 || app.mode == 3) {
      cay_session_hangup(s); /* BYE at once */
    }
  } else if (state == CAY_SESSION_TERMINATED) {
    if (*answered && status == 200)
      app.ended++;
    else
      app.failed++;
    free(answered);
    app.in_flight--;
    place_calls();
    finish_if_done();
  }
}

static void
place_calls(void)
{
  while (!app.closing && app.started < app.total
         && app.in_flight < app.concurrency) {
    int *answered = calloc(1, sizeof *answered);
    cay_invite_opts_t o
        = { .uri = app.target, .from = "<sip:embed@127.0.0.1>", .sdp = offer };
    int err;

    if (app.mode == 3) {
      o.auth_username = "cay";
      o.auth_password = "s3cret";
    }
    err = cay_session_invite_with(app.srv, &o, on_session, answered, NULL);
    app.started++;
    if (err) {
      fprintf(stderr, "embed: invite: %s\n", cay_strerror(err));
      free(answered);
      app.failed++;
      continue;
    }
    app.in_flight++;
  }
}

static void
on_tick(uv_timer_t *t)
{
  (void)t;
  app.ticks++; /* the program's own work goes on beside Cay's */
  finish_if_done();
}

/* A call's detail record, on this loop (shards = 1). */
static void
on_cdr(const cay_cdr_t *r, void *arg)
{
  cay_cdr_end_t by = app.mode == 2 ? CAY_CDR_CALLEE : CAY_CDR_CALLER;

  (void)arg;
  if (r->source != NULL) {
    app.records_incoming++;
    return;
  }
  app.records_placed++;
  if (r->status == 200 && r->answer_ms >= r->start_ms && r->ended_by == by
      && r->target == NULL && r->attempts == 0
      && strcmp(r->from, "sip:embed@127.0.0.1") == 0
      && strcmp(r->ruri, app.target) == 0)
    app.records_placed_ok++;
  else
    fprintf(stderr, "embed: record not as placed: %s", r->json);
}

/* Events of the calls we answer: nothing to do but count the ends. */
static void
on_incoming_event(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  (void)s;
  (void)arg;
  if (ev->kind == CAY_SESSION_EV_STATE && ev->state == CAY_SESSION_CONFIRMED)
    app.incoming++;
}

/* A call for us: ring, then answer with Cay's own SDP answer. */
static void
on_incoming(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  int err;

  (void)arg;
  cay_session_set_cb(s, on_incoming_event, NULL);
  err = cay_session_progress(s, 180, NULL);
  if (err == 0)
    err = cay_session_answer(s, NULL);
  if (err) {
    fprintf(stderr, "embed: answering %s: %s\n", in->from, cay_strerror(err));
    cay_session_reject(s, 488, NULL, NULL);
  }
}

static void
on_connection(uv_stream_t *server, int status)
{
  (void)server;
  (void)status; /* nobody connects in the test; accepting is not needed */
}

int
main(int argc, char **argv)
{
  uv_loop_t loop;
  cay_config_t cfg;
  struct sockaddr_in any;
  char err_text[256];
  int err;

  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: embed_calls PORT TARGET NCALLS CONCURRENCY "
                    "MIN_RUN_MS [plain|modify|hold|auth]\n");
    return 2;
  }
  if (argc == 7)
    app.mode = strcmp(argv[6], "modify") == 0 ? 1
               : strcmp(argv[6], "hold") == 0 ? 2
               : strcmp(argv[6], "auth") == 0 ? 3
                                              : 0;
  app.target = argv[2];
  app.total = atoi(argv[3]);
  app.concurrency = atoi(argv[4]);
  uv_loop_init(&loop);
  app.loop = &loop;
  app.close_after = uv_now(&loop) + (uint64_t)atoi(argv[5]);
  uv_timer_init(&loop, &app.tick);
  uv_timer_start(&app.tick, on_tick, 10, 10);
  uv_tcp_init(&loop, &app.tcp);
  uv_ip4_addr("127.0.0.1", 0, &any);
  uv_tcp_bind(&app.tcp, (const struct sockaddr *)&any, 0);
  uv_listen((uv_stream_t *)&app.tcp, 16, on_connection);

  cay_config_init(&cfg);
  cfg.shards = 1; /* everything on this one loop and thread */
  cfg.log_level = CAY_LOG_WARN;
  snprintf(err_text, sizeof err_text, "udp:127.0.0.1:%s", argv[1]);
  cfg.n_listen = 1;
  if (cay_config_parse_listen(err_text, &cfg.listen[0], err_text,
                              sizeof err_text)
      != 0) {
    fprintf(stderr, "embed: %s\n", err_text);
    return 2;
  }
  err = cay_server_create(&app.srv, &loop, &cfg);
  if (err == 0) {
    /* A supplement on every INVITE we send; the SIPp callee checks it. */
    cay_supp_t pai = cay_supp_caller_id("<sip:embed-id@example.com>");
    err = cay_supp_register(app.srv, &pai);
  }
  if (err == 0)
    err = cay_server_on_session(app.srv, on_incoming, NULL);
  if (err == 0)
    err = cay_server_on_cdr(app.srv, on_cdr, NULL);
  if (err == 0)
    err = cay_server_start(app.srv);
  if (err) {
    fprintf(stderr, "embed: cay: %s\n", cay_strerror(err));
    return 1;
  }
  place_calls();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  printf("embed: calls=%d answered=%d ended=%d failed=%d modified=%d "
         "incoming_answered=%d ticks=%lu records_placed=%d "
         "records_placed_ok=%d records_incoming=%d\n",
         app.total, app.answered, app.ended, app.failed, app.modified,
         app.incoming, app.ticks, app.records_placed, app.records_placed_ok,
         app.records_incoming);
  return app.ended == app.total && app.failed == 0 && app.ticks > 0
                 && (app.mode != 1 || app.modified == app.total)
                 && app.records_placed == app.total
                 && app.records_placed_ok == app.total
             ? 0
             : 1;
}
