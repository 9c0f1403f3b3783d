/*
 * Tests of SIP over WebSocket (RFC 7118, RFC 6455): the sessions of
 * src/transport/ws.c on their own (the upgrade, refused upgrades, frames
 * in every shape a client sends, what Cay sends), and the TCP transport
 * with opts.ws on a real libuv loop over loopback: a message each way,
 * a message with the upgrade in one write, a refused upgrade closing the
 * connection, an upgrade that never comes, an idle connection pinged and
 * kept, one that does not answer closed, and no connection opened by Cay.
 */
#define _GNU_SOURCE /* memmem() */
#include <uv.h>

#include "support/tcp_fixture.h"
#include "transport/ws.h"

/* RFC 6455 section 1.3's example key and the accept value it gives. */
#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define UPGRADE_WITH(proto, version)                                           \
  "GET / HTTP/1.1\r\n"                                                         \
  "Host: cay.example.com\r\n"                                                  \
  "Upgrade: websocket\r\n"                                                     \
  "Connection: keep-alive, Upgrade\r\n"                                        \
  "Sec-WebSocket-Key: " KEY "\r\n"                                             \
  "Origin: https://www.example.com\r\n"                                        \
  "Sec-WebSocket-Protocol: " proto "\r\n"                                      \
  "Sec-WebSocket-Version: " version "\r\n"                                     \
  "\r\n"
#define UPGRADE UPGRADE_WITH("chat, sip", "13")

/* What a session gave its connection. */
struct io_log {
  char out[16384]; /* bytes sent */
  size_t out_len;
  int sends; /* io.send calls */
  int msgs;
  char msg[4][512];
  size_t msg_len[4];
  int stop_after;   /* io.message returns 1 from this message on (0: never) */
  cay__ws_t *reply; /* io.message sends "pong-reply" on it */
  size_t out_at_msg;
};

static int
log_send(void *arg, const char *data, size_t len)
{
  struct io_log *l = arg;

  ck_assert_uint_le(l->out_len + len, sizeof l->out);
  memcpy(l->out + l->out_len, data, len);
  l->out_len += len;
  l->sends++;
  return 0;
}

static int
log_message(void *arg, const char *data, size_t len)
{
  struct io_log *l = arg;

  if (l->msgs < 4) {
    ck_assert_uint_lt(len, sizeof l->msg[0]);
    memcpy(l->msg[l->msgs], data, len);
    l->msg_len[l->msgs] = len;
  }
  l->msgs++;
  l->out_at_msg = l->out_len;
  if (l->reply != NULL)
    ck_assert_int_eq(cay__ws_send(l->reply, "reply", 5), 0);
  return l->stop_after && l->msgs >= l->stop_after;
}

static const cay__ws_io_t log_io = { .send = log_send, .message = log_message };

/* A client frame: FIN @p fin, @p opcode, masked with a fixed key unless
 * @p unmasked. @return its length in @p out. */
static size_t
client_frame(uint8_t *out, int fin, int opcode, const char *payload, size_t len,
             int unmasked)
{
  static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  size_t n = 0;

  out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
  if (len < 126) {
    out[n++] = (uint8_t)((unmasked ? 0 : 0x80) | len);
  } else {
    out[n++] = (uint8_t)((unmasked ? 0 : 0x80) | 126);
    out[n++] = (uint8_t)(len >> 8);
    out[n++] = (uint8_t)len;
  }
  if (!unmasked) {
    memcpy(out + n, mask, 4);
    n += 4;
  }
  for (size_t i = 0; i < len; i++)
    out[n + i] = (uint8_t)(unmasked ? payload[i] : payload[i] ^ mask[i % 4]);
  return n + len;
}

static cay__ws_t *
open_session(struct io_log *l, size_t max)
{
  cay__ws_t *ws = NULL;

  memset(l, 0, sizeof *l);
  ck_assert_int_eq(cay__ws_new(&ws, max, &log_io, l), 0);
  return ws;
}

/* The upgrade, fed one byte at a time, and a message in the same bytes
 * as the request's end. */
START_TEST(ws_upgrade_byte_by_byte)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, 65535);
  uint8_t buf[sizeof UPGRADE + 64];
  size_t n = strlen(UPGRADE);

  memcpy(buf, UPGRADE, n);
  n += client_frame(buf + n, 1, 1, "OPTIONS", 7, 0);
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(cay__ws_feed(ws, (const char *)buf + i, 1), CAY__WS_GO_ON);
    ck_assert_int_eq(cay__ws_open(ws), i >= strlen(UPGRADE) - 1);
  }
  l.out[l.out_len] = '\0';
  ck_assert_msg(strncmp(l.out, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0,
                "%s", l.out);
  ck_assert_ptr_nonnull(strstr(l.out, "Sec-WebSocket-Accept: " ACCEPT "\r\n"));
  ck_assert_ptr_nonnull(strstr(l.out, "Sec-WebSocket-Protocol: sip\r\n"));
  ck_assert_int_eq(l.msgs, 1);
  ck_assert_uint_eq(l.msg_len[0], 7);
  ck_assert_int_eq(memcmp(l.msg[0], "OPTIONS", 7), 0);
  cay__ws_free(ws);
}
END_TEST

/* Each refused upgrade: the HTTP status, the reason, and the end. */
static void
expect_refused(const char *req, const char *status, const char *why)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, 65535);

  ck_assert_int_eq(cay__ws_feed(ws, req, strlen(req)), CAY__WS_DONE);
  l.out[l.out_len] = '\0';
  ck_assert_msg(strncmp(l.out, status, strlen(status)) == 0, "%s", l.out);
  ck_assert_msg(strstr(l.out, why) != NULL, "%s", l.out);
  ck_assert_str_eq(cay__ws_why(ws), why);
  ck_assert_int_eq(cay__ws_open(ws), 0);
  ck_assert_int_eq(cay__ws_send(ws, "x", 1), -ENOTCONN);
  /* Nothing more is read. */
  ck_assert_int_eq(cay__ws_feed(ws, "GET", 3), CAY__WS_DONE);
  cay__ws_free(ws);
}

START_TEST(ws_upgrades_refused)
{
  char big[9000];

  expect_refused(UPGRADE_WITH("chat", "13"), "HTTP/1.1 400 Bad Request",
                 "the sip subprotocol is not asked for (RFC 7118 section 4.1)");
  expect_refused(UPGRADE_WITH("sip", "8"), "HTTP/1.1 426 Upgrade Required",
                 "Sec-WebSocket-Version must be 13");
  expect_refused("POST / HTTP/1.1\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n",
                 "HTTP/1.1 400", "the upgrade must be a GET");
  expect_refused("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400",
                 "no Upgrade: websocket");
  expect_refused("GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: c2hvcnQ=\r\n"
                 "Sec-WebSocket-Protocol: sip\r\n\r\n",
                 "HTTP/1.1 400", "no valid Sec-WebSocket-Key");
  expect_refused("INVITE sip:bob@example.com SIP/2.0\r\n\r\n", "HTTP/1.1 400",
                 "not an HTTP request");
  memset(big, 'a', sizeof big - 1);
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  big[sizeof big - 1] = '\0';
  expect_refused(big, "HTTP/1.1 400", "the upgrade request is over 8 KiB");
}
END_TEST

/* io.origin sees the handshake's Origin (NULL without one) once the
 * request is valid; its 0 refuses with 403. */
static char seen_origin[64];
static int origin_calls;

static int
origin_only_example(void *arg, const char *origin)
{
  (void)arg;
  origin_calls++;
  snprintf(seen_origin, sizeof seen_origin, "%s", origin ? origin : "(null)");
  return origin != NULL && strcmp(origin, "https://www.example.com") == 0;
}

static int
feed_with_origin_check(const char *req, struct io_log *l)
{
  cay__ws_io_t io = log_io;
  cay__ws_t *ws = NULL;
  int rc;

  io.origin = origin_only_example;
  memset(l, 0, sizeof *l);
  ck_assert_int_eq(cay__ws_new(&ws, 65535, &io, l), 0);
  rc = cay__ws_feed(ws, req, strlen(req));
  l->out[l->out_len] = '\0';
  cay__ws_free(ws);
  return rc;
}

START_TEST(ws_origin_is_asked)
{
  struct io_log l;
  char other[sizeof UPGRADE + 16];
  const char *o = strstr(UPGRADE, "www.example.com");

  origin_calls = 0;
  ck_assert_int_eq(feed_with_origin_check(UPGRADE, &l), CAY__WS_GO_ON);
  ck_assert_str_eq(seen_origin, "https://www.example.com");
  ck_assert_int_eq(strncmp(l.out, "HTTP/1.1 101 ", 13), 0);
  /* Another page: 403 with the reason, the session done. */
  snprintf(other, sizeof other, "%.*sevil.example%s", (int)(o - UPGRADE),
           UPGRADE, o + strlen("www.example.com"));
  ck_assert_int_eq(feed_with_origin_check(other, &l), CAY__WS_DONE);
  ck_assert_str_eq(seen_origin, "https://evil.example");
  ck_assert_int_eq(strncmp(l.out, "HTTP/1.1 403 Forbidden\r\n", 24), 0);
  ck_assert_ptr_nonnull(strstr(l.out, "the Origin is not one this server"));
  /* No Origin at all: asked with NULL. */
  ck_assert_int_eq(feed_with_origin_check(
                       "GET / HTTP/1.1\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: " KEY "\r\n"
                       "Sec-WebSocket-Protocol: sip\r\n\r\n",
                       &l),
                   CAY__WS_DONE);
  ck_assert_str_eq(seen_origin, "(null)");
  ck_assert_ptr_nonnull(strstr(l.out, "an Origin is required"));
  /* A request refused for its form is refused before the origin is
   * asked. */
  ck_assert_int_eq(origin_calls, 3);
  ck_assert_int_eq(feed_with_origin_check(UPGRADE_WITH("chat", "13"), &l),
                   CAY__WS_DONE);
  ck_assert_int_eq(origin_calls, 3);
  ck_assert_int_eq(strncmp(l.out, "HTTP/1.1 400 ", 13), 0);
}
END_TEST

/* Frames: two messages in one read, a fragmented message, a ping
 * answered between fragments, a binary message; what Cay sends from
 * inside io.message goes out after it, as one text frame. */
START_TEST(ws_frames_in)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, 65535);
  uint8_t buf[512];
  size_t n = 0, before;
  int sends;

  ck_assert_int_eq(cay__ws_feed(ws, UPGRADE, strlen(UPGRADE)), CAY__WS_GO_ON);
  before = l.out_len;
  sends = l.sends;
  l.reply = ws;
  n += client_frame(buf + n, 1, 1, "one", 3, 0);
  n += client_frame(buf + n, 1, 1, "two", 3, 0);
  n += client_frame(buf + n, 0, 1, "thr", 3, 0);
  n += client_frame(buf + n, 1, 9, "hi", 2, 0); /* ping */
  n += client_frame(buf + n, 1, 0, "ee", 2, 0);
  n += client_frame(buf + n, 1, 2, "\xff\x01", 2, 0);
  ck_assert_int_eq(cay__ws_feed(ws, (const char *)buf, n), CAY__WS_GO_ON);
  ck_assert_int_eq(l.msgs, 4);
  ck_assert_int_eq(memcmp(l.msg[0], "one", 3), 0);
  ck_assert_int_eq(memcmp(l.msg[1], "two", 3), 0);
  ck_assert_uint_eq(l.msg_len[2], 5);
  ck_assert_int_eq(memcmp(l.msg[2], "three", 5), 0);
  ck_assert_int_eq(memcmp(l.msg[3], "\xff\x01", 2), 0);
  /* Nothing was written while the frames were read... */
  ck_assert_uint_eq(l.out_at_msg, before);
  /* ...then the pong and the four replies (unmasked, section 5.1), in
   * one io.send. */
  ck_assert_uint_eq(l.out_len - before, 4 + 4 * 7);
  ck_assert_int_eq(l.sends, sends + 1);
  ck_assert_ptr_nonnull(
      memmem(l.out + before, l.out_len - before, "\x8a\x02hi", 4));
  ck_assert_ptr_nonnull(
      memmem(l.out + before, l.out_len - before, "\x81\x05reply", 7));
  cay__ws_free(ws);
}
END_TEST

/* What Cay sends: ASCII in a text frame, anything else in a binary one;
 * a ping; nothing before the upgrade. */
START_TEST(ws_frames_out)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, 65535);
  size_t before;
  int sends;

  ck_assert_int_eq(cay__ws_send(ws, "early", 5), -ENOTCONN);
  ck_assert_int_eq(cay__ws_ping(ws), -ENOTCONN);
  ck_assert_uint_eq(l.out_len, 0);
  ck_assert_int_eq(cay__ws_feed(ws, UPGRADE, strlen(UPGRADE)), CAY__WS_GO_ON);
  before = l.out_len;
  /* Each frame, header and payload, is one io.send: one write, one TCP
   * segment per message. */
  sends = l.sends;
  ck_assert_int_eq(cay__ws_send(ws, "SIP/2.0 200 OK", 14), 0);
  ck_assert_int_eq(l.sends, sends + 1);
  ck_assert_int_eq(cay__ws_send(ws, "caf\xc3\xa9", 5), 0);
  ck_assert_int_eq(cay__ws_ping(ws), 0);
  ck_assert_int_eq(l.sends, sends + 3);
  ck_assert_uint_eq(l.out_len - before, 16 + 7 + 2);
  ck_assert_int_eq(memcmp(l.out + before, "\x81\x0eSIP/2.0 200 OK", 16), 0);
  ck_assert_int_eq(memcmp(l.out + before + 16,
                          "\x82\x05"
                          "caf\xc3\xa9",
                          7),
                   0);
  ck_assert_int_eq(memcmp(l.out + before + 23, "\x89\x00", 2), 0);
  cay__ws_free(ws);
}
END_TEST

/* The end of a session: the peer's close answered; an unmasked frame
 * (section 5.1), a message over the limit (1009) and a control frame
 * with FIN clear fail it with a close frame. */
static void
expect_failed(const uint8_t *frame, size_t n, uint16_t code, size_t max)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, max);
  size_t before;

  ck_assert_int_eq(cay__ws_feed(ws, UPGRADE, strlen(UPGRADE)), CAY__WS_GO_ON);
  before = l.out_len;
  ck_assert_int_eq(cay__ws_feed(ws, (const char *)frame, n), CAY__WS_DONE);
  ck_assert_int_eq(l.msgs, 0);
  ck_assert_uint_eq((uint8_t)l.out[before], 0x88);
  if (code == 0) { /* a close frame without a status code */
    ck_assert_uint_eq(l.out_len - before, 2);
  } else {
    ck_assert_uint_eq(l.out_len - before, 4);
    ck_assert_uint_eq(
        ((uint8_t)l.out[before + 2] << 8) | (uint8_t)l.out[before + 3], code);
  }
  ck_assert_int_eq(cay__ws_open(ws), 0);
  ck_assert_int_eq(cay__ws_send(ws, "x", 1), -ENOTCONN);
  cay__ws_free(ws);
}

START_TEST(ws_session_ends)
{
  uint8_t buf[512];
  char big[300];

  expect_failed(buf, client_frame(buf, 1, 8, "\x03\xe8", 2, 0), 1000, 65535);
  expect_failed(buf, client_frame(buf, 1, 1, "OPTIONS", 7, 1), 1002, 65535);
  memset(big, 'x', sizeof big);
  expect_failed(buf, client_frame(buf, 1, 1, big, sizeof big, 0), 1009, 200);
  expect_failed(buf, client_frame(buf, 0, 9, "", 0, 0), 0, 65535);
}
END_TEST

/* io.message says the connection is gone: what follows in the same read
 * is not handed out. */
START_TEST(ws_stop_drops_the_rest)
{
  struct io_log l;
  cay__ws_t *ws = open_session(&l, 65535);
  uint8_t buf[128];
  size_t n = 0;

  ck_assert_int_eq(cay__ws_feed(ws, UPGRADE, strlen(UPGRADE)), CAY__WS_GO_ON);
  l.stop_after = 1;
  n += client_frame(buf + n, 1, 1, "one", 3, 0);
  n += client_frame(buf + n, 1, 1, "two", 3, 0);
  ck_assert_int_eq(cay__ws_feed(ws, (const char *)buf, n), CAY__WS_STOP);
  ck_assert_int_eq(l.msgs, 1);
  cay__ws_free(ws);
}
END_TEST

/* ---- over loopback, through the TCP transport ---- */

static cay__tcp_t *
open_ws(struct srv *s, cay__addr_t *local, unsigned idle_ms)
{
  cay__tcp_opts_t o;

  cay__tcp_opts_init(&o);
  o.ws = 1;
  o.connect_timeout_ms = 300;
  if (idle_ms)
    o.idle_timeout_ms = idle_ms;
  memset(s, 0, sizeof *s);
  return open_tcp("127.0.0.1", 0, &o, s, local);
}

/* The server's frame at @p at of the client's bytes: its opcode, and its
 * payload (short frames only) in @p payload. @return the frame's length,
 * or 0 when it is not all there. */
static size_t
server_frame(const struct client *c, size_t at, int *opcode, char *payload)
{
  size_t len;

  if (c->rxlen < at + 2)
    return 0;
  ck_assert_uint_eq((uint8_t)c->rx[at + 1] & 0x80, 0); /* unmasked */
  len = (uint8_t)c->rx[at + 1];
  ck_assert_uint_lt(len, 126);
  if (c->rxlen < at + 2 + len)
    return 0;
  *opcode = (uint8_t)c->rx[at] & 0x0f;
  memcpy(payload, c->rx + at + 2, len);
  payload[len] = '\0';
  return 2 + len;
}

START_TEST(ws_7118_message_each_way)
{
  struct srv s;
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_ws(&s, &local, 0);
  uint8_t buf[sizeof UPGRADE + 600];
  size_t n = strlen(UPGRADE), hs;
  char payload[128];
  int op;
  const char *end = NULL;

  ck_assert_int_eq(cay__tcp_proto(tcp), CAY__WS);
  s.reply = REPLY_400;
  client_connect(&c, &local);
  /* The upgrade and the first message in one write (a message without
   * Content-Length: RFC 7118 section 5.2 frames by the WebSocket). */
  memcpy(buf, UPGRADE, n);
  n += client_frame(buf + n, 1, 1, "OPTIONS sip:a@b SIP/2.0\r\n\r\n", 27, 0);
  client_write(&c, (const char *)buf, n);
  RUN_UNTIL(s.count == 1 && (end = strstr(c.rx, "\r\n\r\n")) != NULL
                && server_frame(&c, (size_t)(end + 4 - c.rx), &op, payload),
            WAIT_MS);
  ck_assert_int_eq(s.status[0], 0);
  ck_assert_uint_eq(s.len[0], 27);
  ck_assert_int_eq(memcmp(s.data[0], "OPTIONS sip:a@b SIP/2.0\r\n\r\n", 27), 0);
  ck_assert_int_eq(strncmp(c.rx, "HTTP/1.1 101 ", 13), 0);
  hs = (size_t)(end + 4 - c.rx);
  ck_assert_uint_eq(server_frame(&c, hs, &op, payload), 2 + strlen(REPLY_400));
  ck_assert_int_eq(op, 1);
  ck_assert_str_eq(payload, REPLY_400);
  /* Cay's own send on that connection: one more frame. */
  ck_assert_int_eq(cay__tcp_send(tcp, s.conn[0], MSG_B, strlen(MSG_B)), 0);
  hs += 2 + strlen(REPLY_400);
  RUN_UNTIL(server_frame(&c, hs, &op, payload), WAIT_MS);
  ck_assert_str_eq(payload, MSG_B);
  /* A CRLFCRLF keep-alive message (RFC 5626 section 3.5.1, as SIP.js
   * sends it) gets a CRLF message, and is no SIP message. */
  hs += 2 + strlen(MSG_B);
  client_write(&c, (const char *)buf,
               client_frame(buf, 1, 1, "\r\n\r\n", 4, 0));
  RUN_UNTIL(server_frame(&c, hs, &op, payload), WAIT_MS);
  ck_assert_int_eq(op, 1);
  ck_assert_str_eq(payload, "\r\n");
  ck_assert_int_eq(s.count, 1);
  /* Cay opens no WebSocket connection; to this peer's address it uses
   * the live one. */
  {
    cay__addr_t other, mine;
    cay_id_t used = 0;

    ck_assert_int_eq(cay__addr_set(&other, "127.0.0.1", 9), 0);
    ck_assert_int_eq(cay__tcp_send_to(tcp, &other, NULL, "x", 1, NULL),
                     CAY_ECONNECT);
    client_local(&c, &mine);
    ck_assert_int_eq(cay__tcp_send_to(tcp, &mine, NULL, "y", 1, &used), 0);
    ck_assert_uint_eq(used, s.conn[0]);
  }
  client_close(&c);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  close_tcp(tcp, &s);
}
END_TEST

/* A refused upgrade: the 400 is written, then the connection closes;
 * a connection that never upgrades closes at the connect timeout. */
START_TEST(ws_refused_and_silent_connections_close)
{
  struct srv s;
  struct client c, quiet;
  cay__addr_t local;
  cay__tcp_t *tcp = open_ws(&s, &local, 0);

  client_connect(&c, &local);
  client_write_str(&c, UPGRADE_WITH("chat", "13"));
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(strncmp(c.rx, "HTTP/1.1 400 Bad Request\r\n", 26), 0);
  client_close(&c);
  client_connect(&quiet, &local);
  client_write_str(&quiet, "GET / HTTP/1.1\r\n");
  RUN_UNTIL(quiet.eof, WAIT_MS);
  ck_assert_uint_eq(quiet.rxlen, 0);
  client_close(&quiet);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_int_eq(s.count, 0);
  close_tcp(tcp, &s);
}
END_TEST

/* websocket.origins on the transport: a listed origin (in another case)
 * upgrades, another gets 403 and the close, an empty list takes any
 * again; a transport that is not WebSocket has no list. */
static void
expect_upgrade(const cay__addr_t *local, const char *status)
{
  struct client c;

  client_connect(&c, local);
  client_write_str(&c, UPGRADE);
  RUN_UNTIL(strstr(c.rx, "\r\n\r\n") != NULL, WAIT_MS);
  ck_assert_msg(strncmp(c.rx, status, strlen(status)) == 0, "%s", c.rx);
  if (strncmp(status, "HTTP/1.1 403", 12) == 0)
    RUN_UNTIL(c.eof, WAIT_MS);
  client_close(&c);
}

START_TEST(ws_origin_allow_list)
{
  static const char *const listed[]
      = { "https://phone.test", "https://WWW.Example.com" };
  struct srv s, plain;
  cay__addr_t local, plain_local;
  cay__tcp_t *tcp = open_ws(&s, &local, 0);
  cay__tcp_t *tcp_plain = open_tcp("127.0.0.1", 0, NULL, &plain, &plain_local);

  ck_assert_int_eq(cay__tcp_set_origins(tcp_plain, listed, 2), CAY_ESTATE);
  ck_assert_int_eq(cay__tcp_origin_allowed(tcp, NULL), 1);
  ck_assert_int_eq(cay__tcp_set_origins(tcp, listed, 2), 0);
  ck_assert_int_eq(cay__tcp_origin_allowed(tcp, NULL), 0);
  ck_assert_int_eq(cay__tcp_origin_allowed(tcp, "https://phone.test.evil"), 0);
  expect_upgrade(&local, "HTTP/1.1 101 ");
  ck_assert_int_eq(cay__tcp_set_origins(tcp, listed, 1), 0);
  expect_upgrade(&local, "HTTP/1.1 403 Forbidden\r\n");
  ck_assert_int_eq(cay__tcp_set_origins(tcp, NULL, 0), 0);
  expect_upgrade(&local, "HTTP/1.1 101 ");
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_int_eq(s.count, 0);
  close_tcp(tcp, &s);
  close_tcp(tcp_plain, &plain);
}
END_TEST

/* Idle: a ping; the peer's pong keeps the connection. */
START_TEST(ws_idle_connection_is_pinged)
{
  struct srv s;
  struct client c;
  cay__addr_t local;
  cay__tcp_t *tcp = open_ws(&s, &local, 200);
  uint8_t pong[16];
  const char *end = NULL;
  char payload[16];
  int op = -1;
  size_t hs;

  client_connect(&c, &local);
  client_write_str(&c, UPGRADE);
  RUN_UNTIL((end = strstr(c.rx, "\r\n\r\n")) != NULL, WAIT_MS);
  hs = (size_t)(end + 4 - c.rx);
  RUN_UNTIL(server_frame(&c, hs, &op, payload), WAIT_MS);
  ck_assert_int_eq(op, 9);
  client_write(&c, (const char *)pong, client_frame(pong, 1, 10, "", 0, 0));
  /* Another idle period: another ping, the connection still there. */
  RUN_UNTIL(server_frame(&c, hs + 2, &op, payload), WAIT_MS);
  ck_assert_int_eq(op, 9);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  ck_assert_int_eq(c.eof, 0);
  /* No pong this time: closed once the wait for it (the idle timeout
   * here) is over. */
  RUN_UNTIL(c.eof, WAIT_MS);
  ck_assert_int_eq(c.eof, 1);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  client_close(&c);
  close_tcp(tcp, &s);
}
END_TEST

static Suite *
ws_suite(void)
{
  Suite *s = suite_create("ws");
  TCase *mem = tcase_create("sessions");
  TCase *tc = tcase_create("loopback");

  tcase_add_test(mem, ws_upgrade_byte_by_byte);
  tcase_add_test(mem, ws_upgrades_refused);
  tcase_add_test(mem, ws_origin_is_asked);
  tcase_add_test(mem, ws_frames_in);
  tcase_add_test(mem, ws_frames_out);
  tcase_add_test(mem, ws_session_ends);
  tcase_add_test(mem, ws_stop_drops_the_rest);
  suite_add_tcase(s, mem);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, ws_7118_message_each_way);
  tcase_add_test(tc, ws_refused_and_silent_connections_close);
  tcase_add_test(tc, ws_origin_allow_list);
  tcase_add_test(tc, ws_idle_connection_is_pinged);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(ws_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
