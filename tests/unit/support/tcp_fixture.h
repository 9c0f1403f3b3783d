/*
 * The fixture of the TCP transport tests (test_tcp.c, test_tcp_client.c):
 * a real libuv loop over loopback with a shard on its real clock, what the
 * transport hands to its receive callback, plain libuv clients and a plain
 * libuv server standing in for a remote SIP peer. Every wait is bounded by
 * a uv_timer guard; nothing sleeps. Each test program includes it once.
 */
#ifndef CAY_TEST_TCP_FIXTURE_H
#define CAY_TEST_TCP_FIXTURE_H

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
#include "support/guard.h" /* RUN_UNTIL on this loop */
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
  /* Connections told closed (cay__tcp_closed_cb), and the last one. */
  int gone;
  cay_id_t gone_conn;
  cay__addr_t gone_peer;
  /* Count only, past MAX_RX: messages, those handed out while
   * cay__tcp_backlogged() said 1, and what it said for the last one. */
  int count_only;
  int flagged;
  int last_flagged;
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

static inline void
on_tcp_closed(void *arg)
{
  ((struct srv *)arg)->closed++;
}

static inline void
on_msg(cay__tcp_t *tcp, cay_id_t conn, int status, const char *data, size_t len,
       const cay__addr_t *from, void *arg)
{
  struct srv *s = arg;
  int i = s->count;

  if (s->count_only) {
    s->count++;
    s->last_flagged = cay__tcp_backlogged(tcp);
    s->flagged += s->last_flagged;
    return;
  }
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

static inline void
on_conn_gone(cay__tcp_t *tcp, cay_id_t conn, const cay__addr_t *peer, void *arg)
{
  struct srv *s = arg;

  (void)tcp;
  s->gone++;
  s->gone_conn = conn;
  s->gone_peer = *peer;
}

static inline cay__tcp_t *
open_tcp(const char *ip, unsigned port, const cay__tcp_opts_t *opts,
         struct srv *s, cay__addr_t *local)
{
  cay__tcp_t *tcp = NULL;
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  ck_assert_int_eq(cay__tcp_create(&tcp, &shard, &a, opts, on_msg, s), 0);
  ck_assert_ptr_nonnull(tcp);
  cay__tcp_set_closed_cb(tcp, on_conn_gone);
  ck_assert_int_eq(cay__tcp_start(tcp), 0);
  ck_assert_int_eq(cay__tcp_local(tcp, local), 0);
  ck_assert_uint_ne(cay__addr_port(local), 0);
  return tcp;
}

static inline void
close_tcp(cay__tcp_t *tcp, struct srv *s)
{
  int before = s->closed;

  cay__tcp_close(tcp, on_tcp_closed, s);
  RUN_UNTIL(s->closed > before, WAIT_MS);
  ck_assert_int_eq(s->closed, before + 1);
}

static inline void
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

static inline void
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

static inline void
on_client_connect(uv_connect_t *req, int status)
{
  struct client *c = req->handle->data;

  c->connected = status == 0 ? 1 : status;
  if (status == 0)
    ck_assert_int_eq(
        uv_read_start((uv_stream_t *)&c->h, on_client_alloc, on_client_read),
        0);
}

static inline void
client_start(struct client *c, const cay__addr_t *to)
{
  memset(c, 0, sizeof *c);
  ck_assert_int_eq(uv_tcp_init(&loop, &c->h), 0);
  c->h.data = c;
  ck_assert_int_eq(
      uv_tcp_connect(&c->creq, &c->h, &to->u.sa, on_client_connect), 0);
}

static inline void
client_connect(struct client *c, const cay__addr_t *to)
{
  client_start(c, to);
  RUN_UNTIL(c->connected != 0, WAIT_MS);
  ck_assert_int_eq(c->connected, 1);
}

/* client_start() from source address @p ip (another loopback address:
 * "127.0.0.2"), an ephemeral port. */
static inline void
client_start_from(struct client *c, const cay__addr_t *to, const char *ip)
{
  cay__addr_t from;

  memset(c, 0, sizeof *c);
  ck_assert_int_eq(cay__addr_set(&from, ip, 0), 0);
  ck_assert_int_eq(uv_tcp_init(&loop, &c->h), 0);
  c->h.data = c;
  ck_assert_int_eq(uv_tcp_bind(&c->h, &from.u.sa, 0), 0);
  ck_assert_int_eq(
      uv_tcp_connect(&c->creq, &c->h, &to->u.sa, on_client_connect), 0);
}

struct cwrite {
  uv_write_t req;
  char data[];
};

static inline void
on_client_write(uv_write_t *req, int status)
{
  (void)status;
  free(req);
}

static inline void
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

static inline void
client_write_str(struct client *c, const char *s)
{
  client_write(c, s, strlen(s));
}

static inline void
on_client_closed(uv_handle_t *h)
{
  ((struct client *)h->data)->closed = 1;
}

static inline void
client_close(struct client *c)
{
  uv_close((uv_handle_t *)&c->h, on_client_closed);
  RUN_UNTIL(c->closed, WAIT_MS);
  ck_assert_int_eq(c->closed, 1);
}

static inline void
client_local(struct client *c, cay__addr_t *out)
{
  int len = (int)sizeof out->u;

  memset(out, 0, sizeof *out);
  ck_assert_int_eq(uv_tcp_getsockname(&c->h, &out->u.sa, &len), 0);
}

/* A plain libuv server standing in for a remote SIP peer. */
struct peer {
  uv_tcp_t listener;
  struct client conn; /* the first connection accepted */
  int accepted;
  cay__addr_t addr;
};

static inline void
free_handle(uv_handle_t *h)
{
  free(h);
}

static inline void
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

static inline void
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

static inline void
peer_close(struct peer *p)
{
  uv_close((uv_handle_t *)&p->listener, NULL);
  if (p->accepted > 0)
    client_close(&p->conn);
  uv_run(&loop, UV_RUN_NOWAIT);
}

#endif
