/*
 * Tests of the TCP transport (src/transport/tcp.c) on a real libuv loop
 * over loopback, with a shard on the loop's real clock. The peers are
 * plain libuv TCP handles on the same loop. Every wait is bounded by a
 * uv_timer guard; nothing sleeps.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "shard/shard.h"
#include "transport/addr.h"
#include "transport/tcp.h"

#define WAIT_MS 5000
#define MAX_RX  16

#define MSG_A                                                                  \
  "OPTIONS sip:alice@example.com SIP/2.0\r\n"                                  \
  "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-a\r\n"                       \
  "Call-ID: a@192.0.2.1\r\n"                                                   \
  "CSeq: 1 OPTIONS\r\n"                                                        \
  "Content-Length: 4\r\n"                                                      \
  "\r\n"                                                                       \
  "body"
#define MSG_B                                                                  \
  "SIP/2.0 200 OK\r\n"                                                         \
  "Call-ID: b@192.0.2.1\r\n"                                                   \
  "Content-Length: 0\r\n"                                                      \
  "\r\n"
#define REPLY_400 "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"

static uv_loop_t loop;
static cay__shard_t shard;
static long live_at_start;

/* What the transport handed to the receive callback. */
struct srv {
  int count;
  int status[MAX_RX];
  char data[MAX_RX][512];
  size_t len[MAX_RX];
  cay_id_t conn[MAX_RX];
  cay__addr_t from[MAX_RX];
  const char *reply; /* sent back on the same connection from the callback */
  int reply_err;
  int close_in_cb; /* close the transport from the first callback */
  int closed;      /* close callbacks seen */
};

/* A plain libuv TCP peer. */
struct client {
  uv_tcp_t h;
  uv_connect_t creq;
  int connected; /* 1, or the connect error */
  char rx[8192];
  size_t rxlen;
  size_t total;        /* bytes read, also those past rx */
  char scratch[65536]; /* where bytes go once rx is full */
  int eof;             /* EOF or read error seen */
  int closed;
  uv_timer_t pinger; /* client_ping_every() */
  int pings_left;
};

struct guard {
  uv_timer_t t;
  int fired;
};

static void
on_guard(uv_timer_t *t)
{
  ((struct guard *)t->data)->fired = 1;
}

static void
guard_start(struct guard *g, uint64_t ms)
{
  g->fired = 0;
  ck_assert_int_eq(uv_timer_init(&loop, &g->t), 0);
  g->t.data = g;
  ck_assert_int_eq(uv_timer_start(&g->t, on_guard, ms, 0), 0);
}

static void
guard_stop(struct guard *g)
{
  uv_close((uv_handle_t *)&g->t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* Run the loop until @p cond holds or @p ms pass. */
#define RUN_UNTIL(cond, ms)                                                    \
  do {                                                                         \
    struct guard g_;                                                           \
    guard_start(&g_, (ms));                                                    \
    while (!(cond) && !g_.fired)                                               \
      uv_run(&loop, UV_RUN_ONCE);                                              \
    guard_stop(&g_);                                                           \
  } while (0)

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(cay__shard_init(&shard, &loop, 0, 0), 0);
}

static void
teardown(void)
{
  /* The shard's uv_timer closes asynchronously. */
  ck_assert_int_eq(cay__shard_fini(&shard, NULL, NULL), 1);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static void
on_tcp_closed(void *arg)
{
  ((struct srv *)arg)->closed++;
}

static void
on_msg(cay__tcp_t *tcp, cay_id_t conn, int status, const char *data, size_t len,
       const cay__addr_t *from, void *arg)
{
  struct srv *s = arg;
  int i = s->count;

  ck_assert_int_lt(i, MAX_RX);
  ck_assert_uint_lt(len, sizeof s->data[i]);
  ck_assert(data != NULL || status == CAY_ECONNECT);
  if (len)
    memcpy(s->data[i], data, len);
  s->data[i][len] = '\0';
  s->len[i] = len;
  s->status[i] = status;
  s->conn[i] = conn;
  s->from[i] = *from;
  s->count++;
  if (s->reply != NULL)
    s->reply_err = cay__tcp_send(tcp, conn, s->reply, strlen(s->reply));
  if (s->close_in_cb && s->count == 1)
    cay__tcp_close(tcp, on_tcp_closed, s);
}

static cay__tcp_t *
open_tcp(const char *ip, unsigned port, const cay__tcp_opts_t *opts,
         struct srv *s, cay__addr_t *local)
{
  cay__tcp_t *tcp = NULL;
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  ck_assert_int_eq(cay__tcp_create(&tcp, &shard, &a, opts, on_msg, s), 0);
  ck_assert_ptr_nonnull(tcp);
  ck_assert_int_eq(cay__tcp_start(tcp), 0);
  ck_assert_int_eq(cay__tcp_local(tcp, local), 0);
  ck_assert_uint_ne(cay__addr_port(local), 0);
  return tcp;
}

static void
close_tcp(cay__tcp_t *tcp, struct srv *s)
{
  int before = s->closed;

  cay__tcp_close(tcp, on_tcp_closed, s);
  RUN_UNTIL(s->closed > before, WAIT_MS);
  ck_assert_int_eq(s->closed, before + 1);
}

static void
on_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct client *c = h->data;

  (void)suggested;
  if (c->rxlen + 1 < sizeof c->rx) {
    buf->base = c->rx + c->rxlen;
    buf->len = sizeof c->rx - c->rxlen - 1;
  } else {
    buf->base = c->scratch;
    buf->len = sizeof c->scratch;
  }
}

static void
on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  struct client *c = s->data;

  if (nread > 0) {
    c->total += (size_t)nread;
    if (buf->base != c->scratch) {
      c->rxlen += (size_t)nread;
      c->rx[c->rxlen] = '\0';
    }
  } else if (nread < 0) {
    c->eof = 1;
    uv_read_stop(s);
  }
}

static void
on_client_connect(uv_connect_t *req, int status)
{
  struct client *c = req->handle->data;

  c->connected = status == 0 ? 1 : status;
  if (status == 0)
    ck_assert_int_eq(
        uv_read_start((uv_stream_t *)&c->h, on_client_alloc, on_client_read),
        0);
}

static void
client_start(struct client *c, const cay__addr_t *to)
{
  memset(c, 0, sizeof *c);
  ck_assert_int_eq(uv_tcp_init(&loop, &c->h), 0);
  c->h.data = c;
  ck_assert_int_eq(
      uv_tcp_connect(&c->creq, &c->h, &to->u.sa, on_client_connect), 0);
}

static void
client_connect(struct client *c, const cay__addr_t *to)
{
  client_start(c, to);
  RUN_UNTIL(c->connected != 0, WAIT_MS);
  ck_assert_int_eq(c->connected, 1);
}

struct cwrite {
  uv_write_t req;
  char data[];
};

static void
on_client_write(uv_write_t *req, int status)
{
  (void)status;
  free(req);
}

static void
client_write(struct client *c, const char *data, size_t len)
{
  struct cwrite *w = malloc(sizeof *w + len);
  uv_buf_t buf;

  ck_assert_ptr_nonnull(w);
  memcpy(w->data, data, len);
  buf = uv_buf_init(w->data, (unsigned)len);
  ck_assert_int_eq(
      uv_write(&w->req, (uv_stream_t *)&c->h, &buf, 1, on_client_write), 0);
}

static void
client_write_str(struct client *c, const char *s)
{
  client_write(c, s, strlen(s));
}

static void
on_client_closed(uv_handle_t *h)
{
  ((struct client *)h->data)->closed = 1;
}

static void
client_close(struct client *c)
{
  uv_close((uv_handle_t *)&c->h, on_client_closed);
  RUN_UNTIL(c->closed, WAIT_MS);
  ck_assert_int_eq(c->closed, 1);
}

static void
client_local(struct client *c, cay__addr_t *out)
{
  int len = (int)sizeof out->u;

  memset(out, 0, sizeof *out);
  ck_assert_int_eq(uv_tcp_getsockname(&c->h, &out->u.sa, &len), 0);
}

START_TEST(tcp_18_3_two_messages_in_one_write)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local, client_addr;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  client_connect(&c, &local);
  client_local(&c, &client_addr);
  client_write_str(&c, MSG_A MSG_B);
  RUN_UNTIL(s.count >= 2, WAIT_MS);
  ck_assert_int_eq(s.count, 2);
  ck_assert_int_eq(s.status[0], 0);
  ck_assert_int_eq(s.status[1], 0);
  ck_assert_str_eq(s.data[0], MSG_A);
  ck_assert_str_eq(s.data[1], MSG_B);
  /* One connection, named by one id, from the client's own address. */
  ck_assert_uint_ne(s.conn[0], CAY_ID_NONE);
  ck_assert_uint_eq(s.conn[0], s.conn[1]);
  ck_assert_uint_eq(cay__id_shard(s.conn[0]), 0);
  ck_assert(cay__addr_eq(&s.from[0], &client_addr));
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* RFC 3261 section 18.2.2: the response goes back on the connection the
   * request came on. */
  ck_assert_int_eq(cay__tcp_send(tcp, s.conn[0], MSG_B, strlen(MSG_B)), 0);
  RUN_UNTIL(c.rxlen >= strlen(MSG_B), WAIT_MS);
  ck_assert_str_eq(c.rx, MSG_B);

  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_18_3_message_split_over_writes)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  const char *m = MSG_A;
  size_t n = strlen(m);

  client_connect(&c, &local);
  /* Each piece lands in its own read: the loop runs until the bytes are
   * written before the next piece goes. */
  for (size_t at = 0; at < n; at += 37) {
    size_t piece = n - at < 37 ? n - at : 37;
    client_write(&c, m + at, piece);
    RUN_UNTIL(uv_stream_get_write_queue_size((uv_stream_t *)&c.h) == 0, 100);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_str_eq(s.data[0], MSG_A);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_5626_3_5_1_keepalive_gets_pong)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  client_connect(&c, &local);
  client_write_str(&c, "\r\n\r\n");
  RUN_UNTIL(c.rxlen >= 2, WAIT_MS);
  ck_assert_str_eq(c.rx, "\r\n");
  ck_assert_int_eq(s.count, 0);
  /* The connection carries on. */
  client_write_str(&c, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_str_eq(s.data[0], MSG_B);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_18_3_missing_content_length_400_then_close)
{
  struct srv s = { .reply = REPLY_400 };
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  const char *hdr = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n";

  client_connect(&c, &local);
  client_write_str(&c, hdr);
  RUN_UNTIL(c.eof, WAIT_MS);
  /* RFC 3261 section 18.3: the callback saw the header section, its 400
   * was written, then the connection closed. */
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.status[0], CAY_EPARSE);
  ck_assert_str_eq(s.data[0], hdr);
  ck_assert_int_eq(s.reply_err, 0);
  ck_assert_str_eq(c.rx, REPLY_400);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  /* The id went stale with the connection. */
  ck_assert_int_eq(cay__tcp_send(tcp, s.conn[0], "x", 1), CAY_ENOTFOUND);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_18_3_large_400_is_written_whole_before_close)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  size_t big = 8u << 20;
  char *reply = malloc(big + 1);

  /* Far more than the socket takes at once: most of it waits in libuv's
   * write queue, and the close waits for it (uv_shutdown). */
  ck_assert_ptr_nonnull(reply);
  memset(reply, 'r', big);
  reply[big] = '\0';
  s.reply = reply;
  client_connect(&c, &local);
  client_write_str(&c, "OPTIONS sip:a@b SIP/2.0\r\n\r\n");
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.reply_err, 0);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_uint_eq(c.total, big);
  free(reply);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_drain_after_400_bounded_by_idle_timeout)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;
  size_t big = 8u << 20;
  char *reply = malloc(big + 1);

  cay__tcp_opts_init(&o);
  o.idle_timeout_ms = 50;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  ck_assert_ptr_nonnull(reply);
  memset(reply, 'r', big);
  reply[big] = '\0';
  s.reply = reply;
  client_connect(&c, &local);
  /* A peer that never reads cannot hold the closing connection (and its
   * queued bytes) forever: the idle timer still runs while draining. */
  uv_read_stop((uv_stream_t *)&c.h);
  client_write_str(&c, "OPTIONS sip:a@b SIP/2.0\r\n\r\n");
  RUN_UNTIL(0, 300);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(
      uv_read_start((uv_stream_t *)&c.h, on_client_alloc, on_client_read), 0);
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_uint_lt(c.total, big);
  free(reply);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_oversize_message_closes)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;

  cay__tcp_opts_init(&o);
  o.max_msg_bytes = 1000;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  client_connect(&c, &local);
  client_write_str(&c, "INFO sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_int_eq(s.count, 0);
  ck_assert_uint_eq(c.rxlen, 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_endless_headers_close)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;
  char junk[3000];

  cay__tcp_opts_init(&o);
  o.max_msg_bytes = 1000;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  client_connect(&c, &local);
  memset(junk, 'x', sizeof junk);
  client_write(&c, junk, sizeof junk);
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_int_eq(s.count, 0);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_idle_timeout_closes)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;
  uint64_t t0;

  cay__tcp_opts_init(&o);
  o.idle_timeout_ms = 50;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  uv_update_time(&loop);
  t0 = uv_now(&loop);
  client_connect(&c, &local);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_uint_ge(uv_now(&loop) - t0, 50);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

static void
on_ping(uv_timer_t *t)
{
  struct client *c = t->data;

  client_write_str(c, "\r\n\r\n");
  if (--c->pings_left == 0)
    uv_timer_stop(t);
}

START_TEST(tcp_idle_timer_restarts_on_traffic)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;
  uint64_t t0;

  cay__tcp_opts_init(&o);
  o.idle_timeout_ms = 150;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  client_connect(&c, &local);
  uv_update_time(&loop);
  t0 = uv_now(&loop);
  /* A ping every 40 ms for 200 ms keeps the 150 ms idle bound away. */
  ck_assert_int_eq(uv_timer_init(&loop, &c.pinger), 0);
  c.pinger.data = &c;
  c.pings_left = 5;
  ck_assert_int_eq(uv_timer_start(&c.pinger, on_ping, 40, 40), 0);
  RUN_UNTIL(c.eof || c.pings_left == 0, WAIT_MS);
  ck_assert_int_eq(c.eof, 0);
  ck_assert_uint_ge(uv_now(&loop) - t0, 200);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  /* Then silence: closed. */
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_uint_eq(c.rxlen, 10); /* five pongs */
  uv_close((uv_handle_t *)&c.pinger, NULL);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_max_conns_closes_extra)
{
  struct srv s = { 0 };
  struct client a, b;
  cay__addr_t local;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;

  cay__tcp_opts_init(&o);
  o.max_conns = 1;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  client_connect(&a, &local);
  client_write_str(&a, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* The kernel completes the handshake; Cay accepts and closes. */
  client_start(&b, &local);
  RUN_UNTIL(b.eof || b.connected < 0, WAIT_MS);
  ck_assert(b.eof || b.connected < 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* The first connection is unharmed. */
  client_write_str(&a, "\r\n\r\n");
  RUN_UNTIL(a.rxlen >= 2, WAIT_MS);
  ck_assert_str_eq(a.rx, "\r\n");
  ck_assert_int_eq(a.eof, 0);
  client_close(&a);
  client_close(&b);
  close_tcp(tcp, &s);
}
END_TEST

/* A plain libuv server standing in for a remote SIP peer. */
struct peer {
  uv_tcp_t listener;
  struct client conn; /* the first connection accepted */
  int accepted;
  cay__addr_t addr;
};

static void
free_handle(uv_handle_t *h)
{
  free(h);
}

static void
on_peer_connection(uv_stream_t *server, int status)
{
  struct peer *p = server->data;
  uv_tcp_t *extra;

  ck_assert_int_eq(status, 0);
  p->accepted++;
  if (p->accepted > 1) {
    /* Counted, then dropped; the test fails on the count. */
    extra = malloc(sizeof *extra);
    ck_assert_ptr_nonnull(extra);
    uv_tcp_init(&loop, extra);
    uv_accept(server, (uv_stream_t *)extra);
    uv_close((uv_handle_t *)extra, free_handle);
    return;
  }
  ck_assert_int_eq(uv_tcp_init(&loop, &p->conn.h), 0);
  p->conn.h.data = &p->conn;
  ck_assert_int_eq(uv_accept(server, (uv_stream_t *)&p->conn.h), 0);
  ck_assert_int_eq(
      uv_read_start((uv_stream_t *)&p->conn.h, on_client_alloc, on_client_read),
      0);
}

static void
peer_listen(struct peer *p)
{
  int len = (int)sizeof p->addr.u;

  memset(p, 0, sizeof *p);
  ck_assert_int_eq(cay__addr_set(&p->addr, "127.0.0.1", 0), 0);
  ck_assert_int_eq(uv_tcp_init(&loop, &p->listener), 0);
  p->listener.data = p;
  ck_assert_int_eq(uv_tcp_bind(&p->listener, &p->addr.u.sa, 0), 0);
  ck_assert_int_eq(
      uv_listen((uv_stream_t *)&p->listener, 16, on_peer_connection), 0);
  ck_assert_int_eq(uv_tcp_getsockname(&p->listener, &p->addr.u.sa, &len), 0);
}

static void
peer_close(struct peer *p)
{
  uv_close((uv_handle_t *)&p->listener, NULL);
  if (p->accepted > 0)
    client_close(&p->conn);
  uv_run(&loop, UV_RUN_NOWAIT);
}

START_TEST(tcp_18_1_send_to_opens_then_reuses)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  cay_id_t c1 = CAY_ID_NONE, c2 = CAY_ID_NONE;

  peer_listen(&p);
  /* The first send opens a connection; the data waits for it. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "hello ", 6, &c1), 0);
  ck_assert_uint_ne(c1, CAY_ID_NONE);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  /* The second, even before the connect completed, reuses it. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "world ", 6, &c2), 0);
  ck_assert_uint_eq(c2, c1);
  RUN_UNTIL(p.conn.rxlen >= 12, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "hello world ");
  /* And once connected, too. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "again", 5, &c2), 0);
  ck_assert_uint_eq(c2, c1);
  RUN_UNTIL(p.conn.rxlen >= 17, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "hello world again");
  ck_assert_int_eq(p.accepted, 1);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* The connection is two-way: what the peer sends arrives under the same
   * id, from the peer's address. */
  client_write_str(&p.conn, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_uint_eq(s.conn[0], c1);
  ck_assert(cay__addr_eq(&s.from[0], &p.addr));

  peer_close(&p);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_refused_drops_the_data)
{
  struct srv s = { 0 };
  cay__addr_t local, dst;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  socklen_t alen = sizeof dst.u;
  cay_id_t id = CAY_ID_NONE;
  int fd;

  /* A bound port that does not listen refuses connections. */
  ck_assert_int_eq(cay__addr_set(&dst, "127.0.0.1", 0), 0);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, &dst.u.sa, cay__addr_len(&dst)), 0);
  ck_assert_int_eq(getsockname(fd, &dst.u.sa, &alen), 0);

  ck_assert_int_eq(cay__tcp_send_to(tcp, &dst, "lost", 4, &id), 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  ck_assert_int_eq(cay__tcp_send(tcp, id, "x", 1), CAY_ENOTFOUND);
  /* The owner was told, with the address (RFC 3261 section 17.1.4). */
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.status[0], CAY_ECONNECT);
  ck_assert_int_eq(cay__addr_eq(&s.from[0], &dst), 1);
  close(fd);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_over_max_conns_is_elimit)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local, other;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;

  cay__tcp_opts_init(&o);
  o.max_conns = 1;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  peer_listen(&p);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "a", 1, NULL), 0);
  other = p.addr;
  cay__addr_set_port(&other, cay__addr_port(&p.addr) == 65535 ? 1 : 65535);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &other, "b", 1, NULL), CAY_ELIMIT);
  RUN_UNTIL(p.conn.rxlen >= 1, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "a");
  peer_close(&p);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_unknown_id_is_enotfound)
{
  struct srv s = { 0 };
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  struct {
    void *first;
    char rest[64];
  } other = { 0 };
  cay_id_t foreign;

  ck_assert_int_eq(cay__tcp_send(tcp, CAY_ID_NONE, "x", 1), CAY_ENOTFOUND);
  /* An id of another object kind in the shard's shared table is not a
   * connection. */
  ck_assert_int_eq(cay__idtab_add(&shard.ids, &other, &foreign), 0);
  ck_assert_int_eq(cay__tcp_send(tcp, foreign, "x", 1), CAY_ENOTFOUND);
  cay__idtab_remove(&shard.ids, foreign);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_reuseport_two_listeners_share_the_port)
{
  struct srv sa = { 0 }, sb = { 0 };
  struct client c;
  cay__addr_t la, lb;
  cay__tcp_t *a = open_tcp("127.0.0.1", 0, NULL, &sa, &la);
  cay__tcp_t *b;

  /* SO_REUSEPORT: every shard listens on the same address and port
   * (DESIGN.md section 3). */
  b = open_tcp("127.0.0.1", cay__addr_port(&la), NULL, &sb, &lb);
  ck_assert(cay__addr_eq(&la, &lb));
  /* The kernel hands a connection to exactly one of them. */
  client_connect(&c, &la);
  client_write_str(&c, MSG_B);
  RUN_UNTIL(sa.count + sb.count >= 1, WAIT_MS);
  ck_assert_int_eq(sa.count + sb.count, 1);
  client_close(&c);
  close_tcp(a, &sa);
  close_tcp(b, &sb);
}
END_TEST

START_TEST(tcp_port_held_without_reuseport_is_eaddrinuse)
{
  struct srv s = { 0 };
  cay__addr_t a;
  socklen_t alen = sizeof a.u;
  cay__tcp_t *tcp = NULL;
  int fd;

  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, &a.u.sa, cay__addr_len(&a)), 0);
  ck_assert_int_eq(listen(fd, 1), 0);
  ck_assert_int_eq(getsockname(fd, &a.u.sa, &alen), 0);
  ck_assert_int_eq(cay__tcp_create(&tcp, &shard, &a, NULL, on_msg, &s),
                   UV_EADDRINUSE);
  ck_assert_ptr_null(tcp);
  close(fd);
}
END_TEST

START_TEST(tcp_ipv6_loopback)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t a, local, client_addr;
  cay__tcp_t *tcp = NULL;
  int err;

  ck_assert_int_eq(cay__addr_set(&a, "::1", 0), 0);
  err = cay__tcp_create(&tcp, &shard, &a, NULL, on_msg, &s);
  if (err == UV_EADDRNOTAVAIL || err == UV_EAFNOSUPPORT) {
    fprintf(stderr, "tcp_ipv6_loopback: skipped, no ::1 (%s)\n",
            uv_strerror(err));
    return;
  }
  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__tcp_start(tcp), 0);
  ck_assert_int_eq(cay__tcp_local(tcp, &local), 0);
  ck_assert_int_eq(cay__addr_family(&local), AF_INET6);
  client_connect(&c, &local);
  client_local(&c, &client_addr);
  client_write_str(&c, MSG_A);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_str_eq(s.data[0], MSG_A);
  ck_assert_int_eq(cay__addr_family(&s.from[0]), AF_INET6);
  ck_assert(cay__addr_eq(&s.from[0], &client_addr));
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_stop_refuses_then_start_accepts)
{
  struct srv s = { 0 };
  struct client c;
  cay__addr_t local, again;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  cay__tcp_stop(tcp);
  client_start(&c, &local);
  RUN_UNTIL(c.connected != 0, WAIT_MS);
  ck_assert_int_eq(c.connected, UV_ECONNREFUSED);
  client_close(&c);

  /* Listening again on the same address, real port included. */
  ck_assert_int_eq(cay__tcp_start(tcp), 0);
  ck_assert_int_eq(cay__tcp_local(tcp, &again), 0);
  ck_assert(cay__addr_eq(&again, &local));
  client_connect(&c, &local);
  client_write_str(&c, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_close_in_callback_stops_delivery)
{
  struct srv s = { .close_in_cb = 1 };
  struct client c;
  cay__addr_t local;
  cay__addr_t a;
  cay__tcp_t *tcp;

  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  ck_assert_int_eq(cay__tcp_create(&tcp, &shard, &a, NULL, on_msg, &s), 0);
  ck_assert_int_eq(cay__tcp_start(tcp), 0);
  ck_assert_int_eq(cay__tcp_local(tcp, &local), 0);
  client_connect(&c, &local);
  /* Three messages in one read; the first callback closes the transport,
   * so the other two are never handed out (and nothing is touched after
   * it is freed: ASan). */
  client_write_str(&c, MSG_B MSG_B MSG_B);
  RUN_UNTIL(s.closed == 1, WAIT_MS);
  ck_assert_int_eq(s.closed, 1);
  ck_assert_int_eq(s.count, 1);
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  client_close(&c);
}
END_TEST

START_TEST(tcp_close_with_live_connections_frees_everything)
{
  struct srv s = { 0 };
  struct client a, b;
  struct peer p;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  peer_listen(&p);
  client_connect(&a, &local);
  client_connect(&b, &local);
  /* Half a message buffered on one, a connection opened to the peer with
   * data queued, and the listener: all go. */
  client_write_str(&a, "INVITE sip:a@b SIP/2.0\r\nContent-Le");
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "queued", 6, NULL), 0);
  RUN_UNTIL(cay__tcp_conns(tcp) == 3 && p.accepted == 1, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 3);
  close_tcp(tcp, &s);
  RUN_UNTIL(a.eof && b.eof, WAIT_MS);
  ck_assert_int_eq(a.eof, 1);
  ck_assert_int_eq(b.eof, 1);
  ck_assert_int_eq(s.count, 0);
  client_close(&a);
  client_close(&b);
  peer_close(&p);
}
END_TEST

START_TEST(tcp_close_while_connecting)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  peer_listen(&p);
  /* Closed before the loop ever ran the connect: the queued copy is
   * freed, the connect cancelled. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, "never", 5, NULL), 0);
  close_tcp(tcp, &s);
  uv_run(&loop, UV_RUN_NOWAIT);
  peer_close(&p);
}
END_TEST

START_TEST(tcp_create_out_of_memory)
{
  struct srv s = { 0 };
  cay__addr_t a;
  cay__tcp_t *tcp = NULL;
  int err = -ENOMEM, n;

  /* Every allocation of create fails in turn, cleanly, until it needs no
   * more. */
  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  for (n = 1; err == -ENOMEM && n < 20; n++) {
    cay__alloc_fail_nth(n);
    err = cay__tcp_create(&tcp, &shard, &a, NULL, on_msg, &s);
    cay__alloc_fail_nth(0);
    if (err)
      ck_assert_ptr_null(tcp);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  ck_assert_int_eq(err, 0);
  ck_assert_int_gt(n, 3);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_accept_out_of_memory_drops_one_connection)
{
  struct srv s = { 0 };
  struct client a, b;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  /* No memory for the connection: it is accepted and closed, and the
   * listener goes on accepting. */
  cay__alloc_fail_nth(1);
  client_start(&a, &local);
  RUN_UNTIL(a.eof, WAIT_MS);
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(a.eof, 1);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);

  client_connect(&b, &local);
  client_write_str(&b, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  client_close(&a);
  client_close(&b);
  close_tcp(tcp, &s);
}
END_TEST

static Suite *
tcp_suite(void)
{
  Suite *s = suite_create("tcp");
  TCase *tc = tcase_create("loopback");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, tcp_18_3_two_messages_in_one_write);
  tcase_add_test(tc, tcp_18_3_message_split_over_writes);
  tcase_add_test(tc, tcp_5626_3_5_1_keepalive_gets_pong);
  tcase_add_test(tc, tcp_18_3_missing_content_length_400_then_close);
  tcase_add_test(tc, tcp_18_3_large_400_is_written_whole_before_close);
  tcase_add_test(tc, tcp_drain_after_400_bounded_by_idle_timeout);
  tcase_add_test(tc, tcp_oversize_message_closes);
  tcase_add_test(tc, tcp_endless_headers_close);
  tcase_add_test(tc, tcp_idle_timeout_closes);
  tcase_add_test(tc, tcp_idle_timer_restarts_on_traffic);
  tcase_add_test(tc, tcp_max_conns_closes_extra);
  tcase_add_test(tc, tcp_18_1_send_to_opens_then_reuses);
  tcase_add_test(tc, tcp_send_to_refused_drops_the_data);
  tcase_add_test(tc, tcp_send_to_over_max_conns_is_elimit);
  tcase_add_test(tc, tcp_send_to_unknown_id_is_enotfound);
  tcase_add_test(tc, tcp_reuseport_two_listeners_share_the_port);
  tcase_add_test(tc, tcp_port_held_without_reuseport_is_eaddrinuse);
  tcase_add_test(tc, tcp_ipv6_loopback);
  tcase_add_test(tc, tcp_stop_refuses_then_start_accepts);
  tcase_add_test(tc, tcp_close_in_callback_stops_delivery);
  tcase_add_test(tc, tcp_close_with_live_connections_frees_everything);
  tcase_add_test(tc, tcp_close_while_connecting);
  tcase_add_test(tc, tcp_create_out_of_memory);
  tcase_add_test(tc, tcp_accept_out_of_memory_drops_one_connection);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(tcp_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
