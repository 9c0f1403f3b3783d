/*
 * Tests of the TCP transport (src/transport/tcp.c) as a server, on a real
 * libuv loop over loopback: stream framing (RFC 3261 section 18.3),
 * keep-alives (RFC 5626), limits, idle timeout, SO_REUSEPORT, closing.
 * Connections Cay opens are in test_tcp_client.c.
 */
#include "support/tcp_fixture.h"

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

/* A connection marked as a flow (cay__tcp_mark_flow()) is told closed
 * once, whoever closed it (the peer, the idle timeout), with its id and
 * the peer's address; an unmarked one is not, nor are those
 * cay__tcp_close() closes (RFC 5626 section 7 flows). */
START_TEST(tcp_closed_flow_told_once)
{
  struct srv s = { 0 };
  struct client a, b, c, d;
  cay__addr_t local, a_addr, b_addr;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;

  cay__tcp_opts_init(&o);
  o.idle_timeout_ms = 300;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  ck_assert_int_eq(cay__tcp_mark_flow(tcp, 12345), CAY_ENOTFOUND);
  client_connect(&d, &local); /* never marked */
  client_write_str(&d, MSG_A);
  RUN_UNTIL(s.count == 1, WAIT_MS);
  client_close(&d);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);

  client_connect(&a, &local);
  client_local(&a, &a_addr);
  client_write_str(&a, MSG_A);
  RUN_UNTIL(s.count == 2, WAIT_MS);
  ck_assert_int_eq(cay__tcp_mark_flow(tcp, s.conn[1]), 0);
  client_close(&a);
  RUN_UNTIL(s.gone == 1, WAIT_MS);
  ck_assert_int_eq(s.gone, 1); /* a's, not d's */
  ck_assert_uint_eq(s.gone_conn, s.conn[1]);
  ck_assert(cay__addr_eq(&s.gone_peer, &a_addr));
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);

  client_connect(&b, &local);
  client_local(&b, &b_addr);
  client_write_str(&b, MSG_A);
  RUN_UNTIL(s.count == 3, WAIT_MS);
  ck_assert_int_eq(cay__tcp_mark_flow(tcp, s.conn[2]), 0);
  RUN_UNTIL(b.eof, WAIT_MS); /* the idle timeout */
  RUN_UNTIL(s.gone == 2, WAIT_MS);
  ck_assert_int_eq(s.gone, 2);
  ck_assert_uint_eq(s.gone_conn, s.conn[2]);
  ck_assert(cay__addr_eq(&s.gone_peer, &b_addr));
  client_close(&b);

  client_connect(&c, &local);
  client_write_str(&c, MSG_A);
  RUN_UNTIL(s.count == 4, WAIT_MS);
  ck_assert_int_eq(cay__tcp_mark_flow(tcp, s.conn[3]), 0);
  close_tcp(tcp, &s);
  ck_assert_int_eq(s.gone, 2);
  client_close(&c);
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

/* cay__tcp_close_from() (a blocked source, limits.source_requests):
 * every connection accepted from that IP closes, whatever its port, a
 * flow's close is told; one from another address, and one Cay opened to
 * the same IP, stay. */
START_TEST(tcp_close_from_closes_that_address_only)
{
  struct srv s = { 0 };
  struct client a, b, c;
  struct peer p;
  cay__addr_t local, blocked;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  peer_listen(&p);
  client_connect(&a, &local);
  client_connect(&b, &local);
  client_start_from(&c, &local, "127.0.0.2");
  RUN_UNTIL(c.connected != 0, WAIT_MS);
  ck_assert_int_eq(c.connected, 1);
  client_write_str(&a, MSG_A);
  RUN_UNTIL(s.count == 1, WAIT_MS);
  ck_assert_int_eq(cay__tcp_mark_flow(tcp, s.conn[0]), 0);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "one ", 4, NULL), 0);
  RUN_UNTIL(cay__tcp_conns(tcp) == 4 && p.conn.rxlen == 4, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 4);

  ck_assert_int_eq(cay__addr_set(&blocked, "127.0.0.1", 9), 0);
  ck_assert_uint_eq(cay__tcp_close_from(tcp, &blocked), 2);
  RUN_UNTIL(a.eof && b.eof && s.gone == 1, WAIT_MS);
  ck_assert_int_eq(a.eof, 1);
  ck_assert_int_eq(b.eof, 1);
  ck_assert_int_eq(s.gone, 1);
  ck_assert_uint_eq(s.gone_conn, s.conn[0]);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 2);
  ck_assert_uint_eq(cay__tcp_close_from(tcp, &blocked), 0);

  /* 127.0.0.2's connection still answers a ping; the one Cay opened
   * still carries what it sends (no second connection). */
  client_write_str(&c, "\r\n\r\n");
  RUN_UNTIL(c.rxlen >= 2, WAIT_MS);
  ck_assert_str_eq(c.rx, "\r\n");
  ck_assert_int_eq(c.eof, 0);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "two", 3, NULL), 0);
  RUN_UNTIL(p.conn.rxlen == 7, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "one two");
  ck_assert_int_eq(p.accepted, 1);
  client_close(&a);
  client_close(&b);
  client_close(&c);
  close_tcp(tcp, &s);
  peer_close(&p);
}
END_TEST

static int refuse_asked;

/* Refuses 127.0.0.2 (and counts what it is asked). */
static int
refuse_127_0_0_2(const cay__addr_t *peer, void *arg)
{
  cay__addr_t two;

  ck_assert_ptr_nonnull(arg);
  ck_assert_int_eq(cay__addr_set(&two, "127.0.0.2", 0), 0);
  refuse_asked++;
  return cay__addr_same_ip(peer, &two);
}

/* A connection the refuse callback refuses closes at once, before
 * anything is read from it; the others are taken as usual. */
START_TEST(tcp_refuse_cb_closes_at_accept)
{
  struct srv s = { 0 };
  struct client a, c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  refuse_asked = 0;
  cay__tcp_set_refuse_cb(tcp, refuse_127_0_0_2);
  client_start_from(&c, &local, "127.0.0.2");
  RUN_UNTIL(c.connected != 0, WAIT_MS);
  client_write_str(&c, MSG_A);
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  ck_assert_int_eq(refuse_asked, 1);
  ck_assert_int_eq(s.count, 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);

  client_connect(&a, &local);
  client_write_str(&a, MSG_A);
  RUN_UNTIL(s.count == 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(refuse_asked, 2);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* NULL: nobody is asked any more. */
  cay__tcp_set_refuse_cb(tcp, NULL);
  client_close(&c);
  client_start_from(&c, &local, "127.0.0.2");
  client_write_str(&c, MSG_A);
  RUN_UNTIL(s.count == 2, WAIT_MS);
  ck_assert_int_eq(s.count, 2);
  ck_assert_int_eq(refuse_asked, 2);
  client_close(&a);
  client_close(&c);
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
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "queued", 6, NULL), 0);
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

/* DESIGN.md section 7: a burst far larger than one read buffer (64 KiB)
 * written at once. With opts.backlog_bytes 8 KiB, the messages of the
 * reads that left that much unread are handed out backlogged, and those
 * of the last read, which drained the connection, are not; with 0, none
 * is. */
START_TEST(tcp_backlogged_from_a_full_read_until_drained)
{
  enum { N = 2000 };
  size_t one = strlen(MSG_A);
  char *burst = malloc(N * one);

  ck_assert_ptr_nonnull(burst);
  for (size_t i = 0; i < N; i++)
    memcpy(burst + i * one, MSG_A, one);
  for (int on = 1; on >= 0; on--) {
    struct srv s = { .count_only = 1 };
    struct client c;
    cay__addr_t local;
    cay__tcp_opts_t o;

    cay__tcp_opts_init(&o);
    o.backlog_bytes = on ? 8 * 1024 : 0;
    cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
    client_connect(&c, &local);
    client_write(&c, burst, N * one);
    RUN_UNTIL(s.count >= N, WAIT_MS);
    ck_assert_int_eq(s.count, N);
    if (on)
      ck_assert_int_gt(s.flagged, 0);
    else
      ck_assert_int_eq(s.flagged, 0);
    ck_assert_int_eq(s.last_flagged, 0);
    ck_assert_int_eq(cay__tcp_backlogged(tcp), 0); /* outside a callback */
    client_close(&c);
    close_tcp(tcp, &s);
  }
  free(burst);
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
  tcase_add_test(tc, tcp_closed_flow_told_once);
  tcase_add_test(tc, tcp_max_conns_closes_extra);
  tcase_add_test(tc, tcp_close_from_closes_that_address_only);
  tcase_add_test(tc, tcp_refuse_cb_closes_at_accept);
  tcase_add_test(tc, tcp_backlogged_from_a_full_read_until_drained);
  tcase_add_test(tc, tcp_reuseport_two_listeners_share_the_port);
  tcase_add_test(tc, tcp_port_held_without_reuseport_is_eaddrinuse);
  tcase_add_test(tc, tcp_ipv6_loopback);
  tcase_add_test(tc, tcp_stop_refuses_then_start_accepts);
  tcase_add_test(tc, tcp_close_in_callback_stops_delivery);
  tcase_add_test(tc, tcp_close_with_live_connections_frees_everything);
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
