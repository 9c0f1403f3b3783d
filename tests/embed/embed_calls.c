/*
 * An embedder: Cay on the program's own uv_loop_t, next to the program's
 * own timer and TCP server, single-threaded (shards = 1). It places
 * NCALLS outgoing calls to TARGET (CONCURRENCY at a time), hangs each up
 * once answered, and meanwhile answers whatever calls come to
 * udp:127.0.0.1:PORT with Cay's default behaviour.
 *
 *   embed_calls PORT TARGET_URI NCALLS CONCURRENCY MIN_RUN_MS
 *
 * It closes Cay (drain, then exit) once its own calls are done and at
 * least MIN_RUN_MS have passed, so that incoming calls get answered too.
 *
 * Prints "embed: calls=N answered=A ended=E failed=F ticks=T" and exits 0
 * when every call was answered and ended with a 200 to its BYE.
 */
#include <stdio.h>
#include <stdlib.h>

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
  int answered, ended, failed;
  unsigned long ticks;
  int closing;
  uint64_t close_after; /* loop time in ms */
  uv_loop_t *loop;
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
  if (app.closing || app.started < app.total || app.in_flight > 0
      || uv_now(app.loop) < app.close_after)
    return;
  app.closing = 1;
  cay_server_close(app.srv, 2000, on_closed, NULL);
}

static void
on_session(cay_session_t *s, cay_session_state_t state, int status, void *arg)
{
  int *answered = arg;

  if (state == CAY_SESSION_CONFIRMED) {
    *answered = 1;
    app.answered++;
    cay_session_hangup(s); /* BYE at once */
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
    int err = cay_session_invite(app.srv, app.target, "<sip:embed@127.0.0.1>",
                                 offer, on_session, answered, NULL);
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

  if (argc != 6) {
    fprintf(stderr,
            "usage: embed_calls PORT TARGET NCALLS CONCURRENCY MIN_RUN_MS\n");
    return 2;
  }
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
    err = cay_server_start(app.srv);
  if (err) {
    fprintf(stderr, "embed: cay: %s\n", cay_strerror(err));
    return 1;
  }
  place_calls();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  printf("embed: calls=%d answered=%d ended=%d failed=%d ticks=%lu\n",
         app.total, app.answered, app.ended, app.failed, app.ticks);
  return app.ended == app.total && app.failed == 0 && app.ticks > 0 ? 0 : 1;
}
