/*
 * The counters over HTTP (metrics.listen, src/server/metrics.c): the
 * exposition text, gathers that share (cay_server_stats_gather()), and a
 * real server on loopback answering a client
 * thread that speaks HTTP over blocking sockets while the test's loop
 * (shard 0's) runs. The client records what it got; the assertions run
 * on the test's thread after the server has closed, and the allocation
 * count proves that nothing of the endpoint is left.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cay/cay.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/metrics.h"
#include "server/server_int.h"
#include "support/run.h"

/* ---- the text ---- */

/* The sample line of counter @p name for shard @p k is in @p text with
 * value @p v. */
static int
has_sample(const char *text, const char *name, unsigned k, unsigned long v)
{
  char line[160];

  snprintf(line, sizeof line, "\n%s{shard=\"%u\"} %lu\n", name, k, v);
  return strstr(text, line) != NULL;
}

START_TEST(render_every_counter_of_every_shard)
{
  cay_stats_t st[3];
  char *text, name[80], line[200];
  size_t len;
  long live = cay__alloc_live();

  /* Counter k of shard i is 1000 * i + k: a value in the wrong place
   * shows. */
  for (unsigned i = 0; i < 3; i++)
    for (unsigned k = 0; k < cay__n_stat_fields; k++)
      *cay__stat_at(&st[i], &cay__stat_fields[k]) = 1000u * i + k;
  ck_assert_int_eq(cay__metrics_render(st, 3, &text, &len), 0);
  ck_assert_uint_eq(strlen(text), len);
  ck_assert_ptr_nonnull(strstr(text, "# TYPE cay_build_info gauge\n"
                                     "cay_build_info{version=\"" CAY_VERSION
                                     "\"} 1\n"));
  for (unsigned k = 0; k < cay__n_stat_fields; k++) {
    const cay__stat_field_t *f = &cay__stat_fields[k];

    if (f->hist) { /* render_srd_histogram */
      snprintf(name, sizeof name, "cay_%s", f->name);
      ck_assert_ptr_null(strstr(text, name));
      continue;
    }
    if (f->method) { /* cay_requests_total, labelled by method */
      for (unsigned i = 0; i < 3; i++) {
        snprintf(line, sizeof line,
                 "\ncay_requests_total{shard=\"%u\",method=\"%s\"} %u\n", i,
                 f->method, 1000u * i + k);
        ck_assert_msg(strstr(text, line) != NULL, "%s shard %u", f->name, i);
      }
      snprintf(name, sizeof name, "cay_%s_total", f->name);
      ck_assert_ptr_null(strstr(text, name));
      continue;
    }
    snprintf(name, sizeof name, "cay_%s%s", f->name, f->gauge ? "" : "_total");
    snprintf(line, sizeof line, "\n# TYPE %s %s\n", name,
             f->gauge ? "gauge" : "counter");
    ck_assert_msg(strstr(text, line) != NULL, "no TYPE of %s", name);
    snprintf(line, sizeof line, "\n# HELP %s %s\n", name, f->help);
    ck_assert_msg(strstr(text, line) != NULL, "no HELP of %s", name);
    for (unsigned i = 0; i < 3; i++)
      ck_assert_msg(has_sample(text, name, i, 1000u * i + k), "%s shard %u",
                    name, i);
  }
  /* The gauges are the three "now" counters, and only they. */
  ck_assert_ptr_nonnull(strstr(text, "\ncay_dialogs_live{shard=\"0\"}"));
  ck_assert_ptr_nonnull(strstr(text, "\ncay_bindings_live{shard=\"2\"}"));
  ck_assert_ptr_null(strstr(text, "cay_dialogs_live_total"));
  ck_assert_ptr_nonnull(strstr(text, "\ncay_calls_in_total{shard=\"1\"}"));
  /* One family for the 15 methods: its HELP and TYPE once, before its 45
   * samples, which come together. */
  const char *fam = strstr(text, "\n# HELP cay_requests_total ");
  ck_assert_ptr_nonnull(fam);
  ck_assert_ptr_null(strstr(fam + 2, "# HELP cay_requests_total "));
  fam = strstr(fam, "\n# TYPE cay_requests_total counter\n");
  ck_assert_ptr_nonnull(fam);
  ck_assert_ptr_null(strstr(fam + 2, "# TYPE cay_requests_total"));
  fam = strchr(fam + 1, '\n');
  for (unsigned s = 0; s < 45; s++) {
    ck_assert_int_eq(strncmp(fam, "\ncay_requests_total{", 20), 0);
    fam = strchr(fam + 1, '\n');
  }
  ck_assert_int_eq(text[len - 1], '\n');
  cay__free(text);
  /* Out of memory at the first or a later allocation: an error, no text,
   * nothing left. */
  for (long nth = 1; nth <= 3; nth++) {
    cay__alloc_fail_nth(nth);
    ck_assert_int_eq(cay__metrics_render(st, 3, &text, &len), -ENOMEM);
    cay__alloc_fail_nth(0);
  }
  ck_assert_int_eq(cay__alloc_live(), live);
}
END_TEST

/* The session request delays counted (cay__stats_srd()) make one
 * histogram family: cumulative buckets in seconds, +Inf, the sum in
 * seconds and the count, each shard's samples together. */
START_TEST(render_srd_histogram)
{
  cay_stats_t st[2];
  char *text;
  size_t len;

  memset(st, 0, sizeof st);
  cay__stats_srd(&st[0], 30);
  cay__stats_srd(&st[0], 300);
  cay__stats_srd(&st[0], 20000); /* past every bound */
  cay__stats_srd(&st[1], 100);   /* a bound is within */
  ck_assert_uint_eq(st[0].srd_le_250ms, 1);
  ck_assert_uint_eq(st[0].srd_le_500ms, 2);
  ck_assert_uint_eq(st[0].srd_le_10s, 2);
  ck_assert_uint_eq(st[0].srd_count, 3);
  ck_assert_uint_eq(st[0].srd_ms_sum, 20330);
  ck_assert_int_eq(cay__metrics_render(st, 2, &text, &len), 0);
  ck_assert_ptr_nonnull(strstr(
      text,
      "\n# HELP cay_session_request_delay_seconds Session request delay of "
      "bridged calls (RFC 6076 section 4.2.1): from the caller's INVITE to "
      "the first response above 100 sent to it.\n"
      "# TYPE cay_session_request_delay_seconds histogram\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"0.05\"} 1\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"0.1\"} 1\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"0.25\"} 1\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"0.5\"} 2\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"1\"} 2\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"2.5\"} 2\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"5\"} 2\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"10\"} 2\n"
      "cay_session_request_delay_seconds_bucket{shard=\"0\",le=\"+Inf\"} 3\n"
      "cay_session_request_delay_seconds_sum{shard=\"0\"} 20.330\n"
      "cay_session_request_delay_seconds_count{shard=\"0\"} 3\n"
      "cay_session_request_delay_seconds_bucket{shard=\"1\",le=\"0.05\"} 0\n"
      "cay_session_request_delay_seconds_bucket{shard=\"1\",le=\"0.1\"} 1\n"));
  ck_assert_ptr_nonnull(strstr(
      text,
      "cay_session_request_delay_seconds_bucket{shard=\"1\",le=\"+Inf\"} 1\n"
      "cay_session_request_delay_seconds_sum{shard=\"1\"} 0.100\n"
      "cay_session_request_delay_seconds_count{shard=\"1\"} 1\n"));
  ck_assert_int_eq(text[len - 1], '\n');
  cay__free(text);
}
END_TEST

/* ---- a real server ---- */

enum { MAX_ANSWERS = 24 };

static struct {
  cay_server_t *srv;
  uv_loop_t loop;
  uv_async_t done;
  unsigned port, sip_port;
  int closed;
  /* Written by the client thread, read after it is joined. */
  char answers[MAX_ANSWERS][16384];
  int lens[MAX_ANSWERS];
  unsigned n;
  char url[160]; /* from the log line */
} t;

static void
keep_line(int level, const char *line, void *arg)
{
  const char *u = strstr(line, "metrics: serving the counters at ");

  (void)level;
  (void)arg;
  if (u)
    snprintf(t.url, sizeof t.url, "%s", u + 33);
}

static int
connect_to(unsigned port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  struct timeval tv = { .tv_sec = 5 };
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Read until the server closes @p fd (or 5 s pass) into the next answer
 * slot; -1 is recorded for a read error or timeout. */
static void
read_answer(int fd)
{
  unsigned i = t.n++;
  int len = 0, r;

  while (len < (int)sizeof t.answers[i] - 1
         && (r = (int)recv(fd, t.answers[i] + len,
                           sizeof t.answers[i] - 1 - (size_t)len, 0))
                > 0)
    len += r;
  t.lens[i] = r < 0 ? -1 : len;
  t.answers[i][len] = '\0';
  close(fd);
}

/* One request, sent in one piece, and its answer. */
static void
ask(const char *request)
{
  int fd = connect_to(t.port);

  if (fd >= 0 && send(fd, request, strlen(request), 0) >= 0)
    read_answer(fd);
  else
    t.lens[t.n++] = -2;
}

/* An OPTIONS to Cay's SIP port from a UDP socket, its 200 awaited: the
 * counters must have moved. */
static void
sip_options(void)
{
  struct sockaddr_in a
      = { .sin_family = AF_INET, .sin_port = htons(t.sip_port) };
  struct timeval tv = { .tv_sec = 2 };
  char req[512], resp[2048];
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int n = snprintf(req, sizeof req,
                   "OPTIONS sip:cay@127.0.0.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-m1;rport\r\n"
                   "Max-Forwards: 70\r\nTo: <sip:cay@127.0.0.1>\r\n"
                   "From: <sip:t@127.0.0.1>;tag=m1\r\nCall-ID: metrics-1\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n");

  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&a, sizeof a);
  (void)recv(fd, resp, sizeof resp, 0);
  close(fd);
}

static void *
client(void *arg)
{
  static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  int idle[CAY__METRICS_MAX_CONNS + 1], fd;
  char big[CAY__METRICS_MAX_REQUEST + 600];

  (void)arg;
  ask(get); /* 0 */
  sip_options();
  ask(get);                                         /* 1: after OPTIONS */
  ask("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");        /* 2 */
  ask("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); /* 3 */
  ask("GET /metric HTTP/1.1\r\nHost: x\r\n\r\n");   /* 4 */
  ask("HELLO WORLD\r\n\r\n");                       /* 5 */
  memset(big, 'a', sizeof big);                     /* 6: too long */
  memcpy(big, "GET /metrics HTTP/1.1\r\nX-Long: ", 31);
  big[sizeof big - 1] = '\0';
  ask(big);
  /* 7: one request in three pieces, 50 ms apart. */
  if ((fd = connect_to(t.port)) >= 0) {
    send(fd, "GE", 2, 0);
    usleep(50000);
    send(fd, "T /metrics HTTP/1.1\r\nHo", 23, 0);
    usleep(50000);
    send(fd, "st: x\r\n\r\n", 9, 0);
    read_answer(fd);
  }
  /* 8: all the connections there may be, idle; one more gets 503. */
  for (unsigned i = 0; i < CAY__METRICS_MAX_CONNS; i++)
    idle[i] = connect_to(t.port);
  usleep(100000); /* every one accepted before the last */
  if ((idle[CAY__METRICS_MAX_CONNS] = connect_to(t.port)) >= 0)
    read_answer(idle[CAY__METRICS_MAX_CONNS]);
  /* 9: an idle one is closed, without an answer, at the timeout. */
  read_answer(idle[0]);
  for (unsigned i = 1; i < CAY__METRICS_MAX_CONNS; i++)
    if (idle[i] >= 0)
      close(idle[i]);
  /* 10-13: four at once share the gathers. */
  int many[4];
  for (unsigned i = 0; i < 4; i++)
    if ((many[i] = connect_to(t.port)) >= 0)
      send(many[i], get, sizeof get - 1, 0);
  for (unsigned i = 0; i < 4; i++)
    if (many[i] >= 0)
      read_answer(many[i]);
  uv_async_send(&t.done);
  return NULL;
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  (void)srv;
  (void)arg;
  t.closed = 1;
}

static void
on_done(uv_async_t *a)
{
  uv_close((uv_handle_t *)a, NULL);
  cay_server_close(t.srv, 0, on_closed, NULL);
}

/* Close @p srv, run @p loop to its end: the close callback ran, and no
 * allocation is left beyond the @p live there were before. */
static void
close_all(cay_server_t *srv, uv_loop_t *loop, long live)
{
  cay_server_close(srv, 0, on_closed, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(t.closed, 1);
  ck_assert_int_eq(uv_loop_close(loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live);
}

/* The body of answer @p i (after the blank line), or "". */
static const char *
body_of(unsigned i)
{
  const char *b = strstr(t.answers[i], "\r\n\r\n");
  return b ? b + 4 : "";
}

/* The value of sample @p name{shard="@p k"} in answer @p i, or -1. */
static long
sample(unsigned i, const char *name, unsigned k)
{
  char line[160];
  const char *at;

  snprintf(line, sizeof line, "\n%s{shard=\"%u\"} ", name, k);
  at = strstr(body_of(i), line);
  return at ? strtol(at + strlen(line), NULL, 10) : -1;
}

static void
assert_status(unsigned i, const char *status_line)
{
  ck_assert_msg(strncmp(t.answers[i], status_line, strlen(status_line)) == 0,
                "answer %u: %.60s", i, t.answers[i]);
}

/* Answer @p i says Content-Length: @p len. */
static int
has_length(unsigned i, size_t len)
{
  char h[64];

  snprintf(h, sizeof h, "\r\nContent-Length: %zu\r\n", len);
  return strstr(t.answers[i], h) != NULL;
}

/* A server's config: @p shards shards on udp:127.0.0.1:0, log @p level,
 * and with @p metrics the endpoint on 127.0.0.1:0. */
static void
config_for(cay_config_t *cfg, unsigned shards, int metrics, int level)
{
  char err[80];

  cay_config_init(cfg);
  cfg->shards = shards;
  cfg->log_level = (cay_log_level_t)level;
  ck_assert_int_eq(cay_config_parse_listen("udp:127.0.0.1:0", &cfg->listen[0],
                                           err, sizeof err),
                   0);
  cfg->n_listen = 1;
  if (metrics)
    snprintf(cfg->metrics_listen, sizeof cfg->metrics_listen, "127.0.0.1:0");
}

START_TEST(http_endpoint_answers_and_refuses)
{
  cay_config_t cfg;
  pthread_t th;
  char addr[80];
  long live = cay__alloc_live();

  memset(&t, 0, sizeof t);
  cay__metrics_timeout_ms = 400;
  ck_assert_int_eq(uv_loop_init(&t.loop), 0);
  config_for(&cfg, 2, 1, CAY_LOG_INFO);
  cay__log_set_sink(keep_line, NULL);
  ck_assert_int_eq(cay_server_create(&t.srv, &t.loop, &cfg), 0);
  /* Port 0: the log line names the port the kernel picked. */
  ck_assert_msg(sscanf(t.url, "http://127.0.0.1:%u/metrics", &t.port) == 1,
                "log: %s", t.url);
  ck_assert_int_eq(cay_server_listen_addr(t.srv, 0, addr, sizeof addr), 0);
  ck_assert_int_eq(sscanf(addr, "udp:127.0.0.1:%u", &t.sip_port), 1);
  ck_assert_int_eq(cay_server_start(t.srv), 0);
  uv_async_init(&t.loop, &t.done, on_done);
  ck_assert_int_eq(pthread_create(&th, NULL, client, NULL), 0);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  pthread_join(th, NULL);
  cay__log_set_sink(NULL, NULL);
  ck_assert_int_eq(t.closed, 1);
  ck_assert_int_eq(uv_loop_close(&t.loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live);
  cay__metrics_timeout_ms = 10000;

  ck_assert_uint_eq(t.n, 14);
  /* 0, 1: the counters, each shard's; the OPTIONS between them shows. */
  for (unsigned i = 0; i < 2; i++) {
    assert_status(i, "HTTP/1.1 200 OK\r\n");
    ck_assert_ptr_nonnull(strstr(t.answers[i],
                                 "\r\nContent-Type: text/plain; "
                                 "version=0.0.4; charset=utf-8\r\n"));
    ck_assert(has_length(i, strlen(body_of(i))));
    ck_assert_ptr_nonnull(strstr(t.answers[i], "\r\nConnection: close\r\n"));
    ck_assert_int_ge(sample(i, "cay_txns_live", 1), 0);
  }
  ck_assert_int_eq(
      sample(0, "cay_msgs_in_total", 0) + sample(0, "cay_msgs_in_total", 1), 0);
  ck_assert_int_eq(
      sample(1, "cay_msgs_in_total", 0) + sample(1, "cay_msgs_in_total", 1), 1);
  ck_assert_int_eq(sample(1, "cay_msgs_out_total", 0)
                       + sample(1, "cay_msgs_out_total", 1),
                   1);
  /* 2: HEAD (a query after the path is fine): the length, no body. */
  assert_status(2, "HTTP/1.1 200 OK\r\n");
  ck_assert_str_eq(body_of(2), "");
  ck_assert(has_length(2, strlen(body_of(1))));
  /* 3-6: what is not a scrape. */
  assert_status(3, "HTTP/1.1 405 Method Not Allowed\r\n");
  ck_assert_ptr_nonnull(strstr(t.answers[3], "\r\nAllow: GET, HEAD\r\n"));
  assert_status(4, "HTTP/1.1 404 Not Found\r\n");
  ck_assert_str_eq(body_of(4), "Not Found: the counters are at /metrics\n");
  assert_status(5, "HTTP/1.1 400 Bad Request\r\n");
  assert_status(6, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
  /* 7: pieces make one request. */
  assert_status(7, "HTTP/1.1 200 OK\r\n");
  /* 8: one connection too many. */
  assert_status(8, "HTTP/1.1 503 Service Unavailable\r\n");
  ck_assert_ptr_nonnull(strstr(body_of(8), "too many connections"));
  /* 9: idle past the timeout: closed with nothing said. */
  ck_assert_int_eq(t.lens[9], 0);
  /* 10-13: at once. */
  for (unsigned i = 10; i < 14; i++)
    assert_status(i, "HTTP/1.1 200 OK\r\n");
}
END_TEST

/* An endpoint whose server is not started answers 503; one whose
 * address is taken fails the create with a clear error. */
START_TEST(http_endpoint_before_start_and_address_in_use)
{
  cay_config_t cfg;
  cay_server_t *srv, *srv2;
  uv_loop_t loop;
  int fd;
  long live = cay__alloc_live();

  memset(&t, 0, sizeof t);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  config_for(&cfg, 1, 1, CAY_LOG_INFO);
  cay__log_set_sink(keep_line, NULL);
  ck_assert_int_eq(cay_server_create(&srv, &loop, &cfg), 0);
  ck_assert_int_eq(sscanf(t.url, "http://127.0.0.1:%u/metrics", &t.port), 1);
  /* The same port again: taken. */
  snprintf(cfg.metrics_listen, sizeof cfg.metrics_listen, "127.0.0.1:%u",
           t.port);
  ck_assert_int_eq(cay_server_create(&srv2, &loop, &cfg), UV_EADDRINUSE);
  fd = connect_to(t.port);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_gt(send(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25, 0), 0);
  /* This thread runs the loop too: read what comes until the close. */
  for (int len = 0, r, spins = 0; spins < 2000; spins++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    r = (int)recv(fd, t.answers[0] + len, sizeof t.answers[0] - 1 - (size_t)len,
                  MSG_DONTWAIT);
    if (r == 0)
      break;
    if (r > 0)
      t.answers[0][len += r] = '\0';
    else
      usleep(1000);
  }
  close(fd);
  cay__log_set_sink(NULL, NULL);
  assert_status(0, "HTTP/1.1 503 Service Unavailable\r\n");
  ck_assert_str_eq(body_of(0), "the server is not running\n");
  ck_assert_int_eq(cay_server_start(srv), 0);
  close_all(srv, &loop, live);
}
END_TEST

/* ---- gathers that share (cay_server_stats_gather()) ---- */

static struct {
  unsigned order[CAY__GATHER_WAITERS + 1], n;
  uint64_t msgs[CAY__GATHER_WAITERS + 1];
} g;

static void
on_gathered(cay_server_t *srv, const cay_stats_t *shards, unsigned n,
            const cay_stats_t *total, void *arg)
{
  (void)srv;
  (void)shards;
  (void)n;
  g.msgs[g.n] = total->msgs_in;
  g.order[g.n++] = (unsigned)(uintptr_t)arg;
}

/* With 2 shards a gather is out until shard 1 answers: the callers
 * meanwhile join it, are answered in call order with the same counters,
 * and one past CAY__GATHER_WAITERS is refused. */
START_TEST(gathers_in_flight_are_joined)
{
  cay_config_t cfg;
  cay_server_t *srv;
  uv_loop_t loop;
  long live = cay__alloc_live();

  memset(&g, 0, sizeof g);
  memset(&t, 0, sizeof t);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  config_for(&cfg, 2, 0, CAY_LOG_WARN);
  ck_assert_int_eq(cay_server_create(&srv, &loop, &cfg), 0);
  ck_assert_int_eq(cay_server_stats_gather(srv, on_gathered, NULL),
                   CAY_ESTATE); /* not started */
  ck_assert_int_eq(cay_server_start(srv), 0);
  for (uintptr_t i = 0; i < CAY__GATHER_WAITERS; i++)
    ck_assert_int_eq(cay_server_stats_gather(srv, on_gathered, (void *)i), 0);
  ck_assert_int_eq(cay_server_stats_gather(srv, on_gathered, NULL), CAY_ELIMIT);
  ck_assert_uint_eq(g.n, 0); /* shard 1 has not answered yet */
  while (g.n < CAY__GATHER_WAITERS)
    uv_run(&loop, UV_RUN_ONCE);
  for (unsigned i = 0; i < CAY__GATHER_WAITERS; i++) {
    ck_assert_uint_eq(g.order[i], i);
    ck_assert_uint_eq(g.msgs[i], g.msgs[0]);
  }
  /* Over: the next call starts a gather of its own. */
  ck_assert_int_eq(cay_server_stats_gather(srv, on_gathered, (void *)99), 0);
  while (g.n < CAY__GATHER_WAITERS + 1)
    uv_run(&loop, UV_RUN_ONCE);
  ck_assert_uint_eq(g.order[CAY__GATHER_WAITERS], 99);
  close_all(srv, &loop, live);
}
END_TEST

static Suite *
metrics_suite(void)
{
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("core");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, render_every_counter_of_every_shard);
  tcase_add_test(tc, render_srd_histogram);
  tcase_add_test(tc, http_endpoint_answers_and_refuses);
  tcase_add_test(tc, http_endpoint_before_start_and_address_in_use);
  tcase_add_test(tc, gathers_in_flight_are_joined);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(metrics_suite());
}
