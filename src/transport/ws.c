/*
 * SIP over WebSocket, the server side (RFC 7118, RFC 6455): the upgrade
 * handshake and the frames. See ws.h.
 */
#define _GNU_SOURCE /* memmem() */
#include "transport/ws.h"

#include "core/alloc.h"

#include <errno.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

/* The HTTP request of the upgrade, at most (RFC 6455 leaves it open;
 * browsers send well under 2 KiB). */
#define WS_HANDSHAKE_MAX 8192
/* Each header the handshake looks at, at most (repeats joined by ", "). */
#define WS_HEADER_MAX 256

enum {
  H_UPGRADE,
  H_CONNECTION,
  H_KEY,
  H_VERSION,
  H_PROTOCOL,
  H_ORIGIN,
  H_COUNT
};

static const char *const header_names[H_COUNT] = { "upgrade",
                                                   "connection",
                                                   "sec-websocket-key",
                                                   "sec-websocket-version",
                                                   "sec-websocket-protocol",
                                                   "origin" };

/* The parse of the handshake request. */
struct hs_parse {
  char field[32];
  size_t field_len;
  int field_too_long;
  int current; /* index into values, or -1: a header not looked at */
  int in_value;
  char values[H_COUNT][WS_HEADER_MAX];
  size_t lens[H_COUNT];
};

struct cay__ws {
  wslay_event_context_ptr ev;
  cay__ws_io_t io;
  void *arg;
  int open;        /* the 101 is sent */
  int done;        /* the session ended (CAY__WS_DONE given) */
  int stopped;     /* io.message returned nonzero */
  int feeding;     /* inside wslay_event_recv(): sends wait for its end */
  int send_failed; /* io.send failed: the connection is gone */
  const char *why;
  const char *in; /* the bytes of the current feed, for recv_cb */
  size_t in_len;
  char *hs; /* the handshake request so far */
  size_t hs_len;
  /* The frames of one wslay_event_send(), written in one io.send (wslay
   * hands a frame's header and payload over separately: two writes, two
   * TCP segments per message otherwise). */
  char *out;
  size_t out_len, out_cap;
};

/* Keep at most this much of the output buffer between sends. */
#define WS_OUT_KEEP 4096

/* wslay's recv callback: the bytes of the current feed. */
static ssize_t
recv_cb(wslay_event_context_ptr ev, uint8_t *buf, size_t len, int flags,
        void *user)
{
  cay__ws_t *ws = user;
  size_t n = ws->in_len < len ? ws->in_len : len;

  (void)flags;
  if (n == 0) {
    wslay_event_set_error(ev, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  memcpy(buf, ws->in, n);
  ws->in += n;
  ws->in_len -= n;
  return (ssize_t)n;
}

/* wslay's send callback: the bytes join the output of this send, which
 * flush() hands to the connection. */
static ssize_t
send_cb(wslay_event_context_ptr ev, const uint8_t *data, size_t len, int flags,
        void *user)
{
  cay__ws_t *ws = user;

  (void)flags;
  if (ws->out_len + len > ws->out_cap) {
    size_t cap = ws->out_cap ? ws->out_cap : 1024;
    char *p;

    while (cap < ws->out_len + len)
      cap *= 2;
    if ((p = cay__realloc(ws->out, cap)) == NULL) {
      wslay_event_set_error(ev, WSLAY_ERR_NOMEM);
      return -1;
    }
    ws->out = p;
    ws->out_cap = cap;
  }
  memcpy(ws->out + ws->out_len, data, len);
  ws->out_len += len;
  return (ssize_t)len;
}

/* wslay_event_send(), and what it made in one io.send. @return its
 * result, or WSLAY_ERR_CALLBACK_FAILURE when the connection failed
 * (send_failed set). */
static int
send_now(cay__ws_t *ws)
{
  int r = wslay_event_send(ws->ev);

  if (ws->out_len > 0) {
    int e = ws->io.send(ws->arg, ws->out, ws->out_len);

    ws->out_len = 0;
    if (e != 0) {
      ws->why = "the connection failed";
      ws->send_failed = 1;
      r = WSLAY_ERR_CALLBACK_FAILURE;
    }
  }
  if (ws->out_cap > WS_OUT_KEEP) {
    cay__free(ws->out);
    ws->out = NULL;
    ws->out_cap = 0;
  }
  return r;
}

static void
on_msg(wslay_event_context_ptr ev, const struct wslay_event_on_msg_recv_arg *a,
       void *user)
{
  cay__ws_t *ws = user;

  (void)ev;
  if (a->opcode == WSLAY_CONNECTION_CLOSE) {
    ws->why = "the peer closed the WebSocket";
    return;
  }
  if (a->opcode != WSLAY_TEXT_FRAME && a->opcode != WSLAY_BINARY_FRAME)
    return; /* ping (wslay answers it), pong */
  /* Frames wslay already holds after the connection went away. */
  if (ws->stopped)
    return;
  if (ws->io.message(ws->arg, (const char *)a->msg, a->msg_length) != 0)
    ws->stopped = 1;
}

int
cay__ws_new(cay__ws_t **out, size_t max_msg_bytes, const cay__ws_io_t *io,
            void *arg)
{
  static const struct wslay_event_callbacks cbs
      = { .recv_callback = recv_cb,
          .send_callback = send_cb,
          .on_msg_recv_callback = on_msg };
  cay__ws_t *ws = cay__calloc(1, sizeof *ws);

  *out = NULL;
  if (ws == NULL)
    return -ENOMEM;
  if (wslay_event_context_server_init(&ws->ev, &cbs, ws) != 0) {
    cay__free(ws);
    return -ENOMEM;
  }
  wslay_event_config_set_max_recv_msg_length(ws->ev, max_msg_bytes);
  ws->io = *io;
  ws->arg = arg;
  *out = ws;
  return 0;
}

void
cay__ws_free(cay__ws_t *ws)
{
  if (ws == NULL)
    return;
  wslay_event_context_free(ws->ev);
  cay__free(ws->hs);
  cay__free(ws->out);
  cay__free(ws);
}

/* ---- the handshake (RFC 6455 section 4.2) ---- */

static void
end_header(struct hs_parse *hp)
{
  hp->current = -1;
  if (hp->field_too_long)
    return;
  hp->field[hp->field_len] = '\0';
  for (int i = 0; i < H_COUNT; i++)
    if (strcasecmp(hp->field, header_names[i]) == 0) {
      hp->current = i;
      /* A repeated header is one list (RFC 9110 section 5.3). */
      if (hp->lens[i] > 0 && hp->lens[i] + 2 < WS_HEADER_MAX) {
        memcpy(hp->values[i] + hp->lens[i], ", ", 2);
        hp->lens[i] += 2;
      }
    }
}

static int
on_field(http_parser *p, const char *at, size_t len)
{
  struct hs_parse *hp = p->data;

  if (hp->in_value) {
    hp->in_value = 0;
    hp->field_len = 0;
    hp->field_too_long = 0;
  }
  if (hp->field_len + len >= sizeof hp->field)
    hp->field_too_long = 1;
  else {
    memcpy(hp->field + hp->field_len, at, len);
    hp->field_len += len;
  }
  return 0;
}

static int
on_value(http_parser *p, const char *at, size_t len)
{
  struct hs_parse *hp = p->data;
  size_t *n;

  if (!hp->in_value) {
    hp->in_value = 1;
    end_header(hp);
  }
  if (hp->current < 0)
    return 0;
  n = &hp->lens[hp->current];
  if (*n + len >= WS_HEADER_MAX)
    return 1; /* no header of the handshake is this long */
  memcpy(hp->values[hp->current] + *n, at, len);
  *n += len;
  hp->values[hp->current][*n] = '\0';
  return 0;
}

/* 1 when comma-separated list @p list has token @p tok (any case). */
static int
has_token(const char *list, const char *tok)
{
  size_t tl = strlen(tok);

  while (*list != '\0') {
    size_t n;

    list += strspn(list, " \t,");
    n = strcspn(list, ",");
    while (n > 0 && (list[n - 1] == ' ' || list[n - 1] == '\t'))
      n--;
    if (n == tl && strncasecmp(list, tok, tl) == 0)
      return 1;
    list += strcspn(list, ",");
  }
  return 0;
}

/* Sec-WebSocket-Accept for @p key (section 4.2.2 item 5.4) into @p out
 * (29 bytes). */
static int
accept_value(const char *key, char out[29])
{
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  char buf[WS_HEADER_MAX + sizeof guid];
  int n = snprintf(buf, sizeof buf, "%s%s", key, guid);

  if (n < 0 || (size_t)n >= sizeof buf
      || EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1
      || mdlen != 20)
    return -ENOMEM;
  EVP_EncodeBlock((unsigned char *)out, md, 20);
  return 0;
}

/* A Sec-WebSocket-Key is 16 bytes in base64 (section 4.1 item 7). */
static int
key_valid(const char *key)
{
  unsigned char raw[24];

  return strlen(key) == 24 && strcmp(key + 22, "==") == 0
         && EVP_DecodeBlock(raw, (const unsigned char *)key, 24) == 18;
}

/* What is wrong with request @p hp (parsed by @p p), or NULL. */
static const char *
check_request(const http_parser *p, const struct hs_parse *hp)
{
  if (p->method != HTTP_GET)
    return "the upgrade must be a GET";
  if (p->http_major != 1 || p->http_minor < 1)
    return "the upgrade needs HTTP/1.1";
  if (!p->upgrade || !has_token(hp->values[H_UPGRADE], "websocket"))
    return "no Upgrade: websocket";
  if (!has_token(hp->values[H_CONNECTION], "upgrade"))
    return "no Connection: Upgrade";
  if (strcmp(hp->values[H_VERSION], "13") != 0)
    return "Sec-WebSocket-Version must be 13";
  if (!key_valid(hp->values[H_KEY]))
    return "no valid Sec-WebSocket-Key";
  if (!has_token(hp->values[H_PROTOCOL], "sip"))
    return "the sip subprotocol is not asked for (RFC 7118 section 4.1)";
  return NULL;
}

/* Refuse the upgrade with @p status ("400 Bad Request") and @p why. */
static int
refuse_with(cay__ws_t *ws, const char *status, const char *why)
{
  char buf[512];
  int v = strncmp(status, "426", 3) == 0;
  int n = snprintf(buf, sizeof buf,
                   "HTTP/1.1 %s\r\n%sContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                   status, v ? "Sec-WebSocket-Version: 13\r\n" : "",
                   strlen(why) + 1, why);

  ws->why = why;
  ws->done = 1;
  if (ws->io.send(ws->arg, buf, (size_t)n) != 0)
    return -EPIPE;
  return CAY__WS_DONE;
}

/* Refuse a malformed upgrade: 400, or 426 for another version (RFC 6455
 * section 4.4). */
static int
refuse(cay__ws_t *ws, const char *why)
{
  return refuse_with(ws,
                     strncmp(why, "Sec-WebSocket-Version", 21) == 0
                         ? "426 Upgrade Required"
                         : "400 Bad Request",
                     why);
}

/* The request is whole in ws->hs[0..@p len): answer it. */
static int
upgrade(cay__ws_t *ws, size_t len)
{
  static const http_parser_settings settings
      = { .on_header_field = on_field, .on_header_value = on_value };
  http_parser p;
  struct hs_parse hp;
  const char *why;
  char acc[29], buf[256];
  int n;

  memset(&hp, 0, sizeof hp);
  hp.current = -1;
  http_parser_init(&p, HTTP_REQUEST);
  p.data = &hp;
  (void)http_parser_execute(&p, &settings, ws->hs, len);
  if (HTTP_PARSER_ERRNO(&p) != HPE_OK && !p.upgrade)
    return refuse(ws, "not an HTTP request");
  why = check_request(&p, &hp);
  if (why != NULL)
    return refuse(ws, why);
  if (ws->io.origin != NULL
      && !ws->io.origin(ws->arg,
                        hp.lens[H_ORIGIN] > 0 ? hp.values[H_ORIGIN] : NULL))
    return refuse_with(ws, "403 Forbidden",
                       hp.lens[H_ORIGIN] > 0
                           ? "the Origin is not one this server serves"
                           : "an Origin is required");
  if (accept_value(hp.values[H_KEY], acc) != 0)
    return -ENOMEM;
  n = snprintf(buf, sizeof buf,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
               "Sec-WebSocket-Protocol: sip\r\n\r\n",
               acc);
  if (ws->io.send(ws->arg, buf, (size_t)n) != 0)
    return -EPIPE;
  ws->open = 1;
  return CAY__WS_GO_ON;
}

/* Handshake bytes: kept until the blank line. @return as cay__ws_feed();
 * *@p used: how many of @p len were the request's. */
static int
handshake_in(cay__ws_t *ws, const char *data, size_t len, size_t *used)
{
  size_t old = ws->hs_len, take = len;
  char *end;

  *used = len;
  if (old + take > WS_HANDSHAKE_MAX)
    take = WS_HANDSHAKE_MAX - old;
  if (ws->hs == NULL && (ws->hs = cay__malloc(WS_HANDSHAKE_MAX + 1)) == NULL)
    return -ENOMEM;
  memcpy(ws->hs + old, data, take);
  ws->hs_len += take;
  ws->hs[ws->hs_len] = '\0';
  end = memmem(ws->hs, ws->hs_len, "\r\n\r\n", 4);
  if (end == NULL)
    return ws->hs_len >= WS_HANDSHAKE_MAX
               ? refuse(ws, "the upgrade request is over 8 KiB")
               : CAY__WS_GO_ON;
  *used = (size_t)(end + 4 - ws->hs) - old;
  return upgrade(ws, (size_t)(end + 4 - ws->hs));
}

/* wslay's state after a recv or a send: the session goes on or ended. */
static int
after_io(cay__ws_t *ws, int rv)
{
  if (rv == WSLAY_ERR_NOMEM)
    return -ENOMEM;
  if (ws->send_failed)
    return -EPIPE;
  if (rv != 0) {
    /* A frame against RFC 6455 that wslay refused (it says
     * WSLAY_ERR_CALLBACK_FAILURE for some of them too): its close frame,
     * when it queued one, goes out, and the session ends. */
    (void)send_now(ws);
    if (ws->send_failed)
      return -EPIPE;
    ws->why = "a WebSocket protocol error";
    ws->done = 1;
    return CAY__WS_DONE;
  }
  if (!wslay_event_want_read(ws->ev) && !wslay_event_want_write(ws->ev)) {
    if (ws->why == NULL)
      ws->why = "a WebSocket protocol error";
    ws->done = 1;
    return CAY__WS_DONE;
  }
  return CAY__WS_GO_ON;
}

int
cay__ws_feed(cay__ws_t *ws, const char *data, size_t len)
{
  size_t used;
  int r;

  if (ws->done)
    return CAY__WS_DONE;
  if (!ws->open) {
    r = handshake_in(ws, data, len, &used);
    if (r != CAY__WS_GO_ON || !ws->open)
      return r;
    cay__free(ws->hs);
    ws->hs = NULL;
    data += used;
    len -= used;
    if (len == 0)
      return CAY__WS_GO_ON;
  }
  ws->in = data;
  ws->in_len = len;
  ws->feeding = 1;
  r = wslay_event_recv(ws->ev);
  ws->feeding = 0;
  ws->in_len = 0;
  if (ws->stopped)
    return CAY__WS_STOP;
  if (r == 0)
    r = send_now(ws); /* what the messages' callbacks sent, pongs, the
                         close */
  return after_io(ws, r);
}

static int
queue(cay__ws_t *ws, uint8_t opcode, const char *data, size_t len)
{
  struct wslay_event_msg m
      = { .opcode = opcode, .msg = (const uint8_t *)data, .msg_length = len };
  int r;

  if (!ws->open || ws->done)
    return -ENOTCONN;
  r = wslay_event_queue_msg(ws->ev, &m);
  if (r == WSLAY_ERR_NOMEM)
    return -ENOMEM;
  if (r != 0)
    return -ENOTCONN; /* the close is queued or sent */
  if (ws->feeding)
    return 0;
  r = send_now(ws);
  return r == 0 ? 0 : r == WSLAY_ERR_NOMEM ? -ENOMEM : -EPIPE;
}

int
cay__ws_send(cay__ws_t *ws, const char *data, size_t len)
{
  uint8_t op = WSLAY_TEXT_FRAME;

  for (size_t i = 0; i < len; i++)
    if ((unsigned char)data[i] >= 0x80) {
      op = WSLAY_BINARY_FRAME;
      break;
    }
  return queue(ws, op, data, len);
}

int
cay__ws_ping(cay__ws_t *ws)
{
  return queue(ws, WSLAY_PING, "", 0);
}

int
cay__ws_open(const cay__ws_t *ws)
{
  return ws->open && !ws->done;
}

const char *
cay__ws_why(const cay__ws_t *ws)
{
  return ws->why != NULL ? ws->why : "";
}
