/*
 * The WebSocket side of a stream connection (RFC 7118): the glue between
 * a connection of tcp_conn.c and its session of ws.c (the bytes each
 * way, whole messages out, the origin check), an idle WebSocket pinged,
 * and the transport's list of origins. See ws.h and tcp.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "transport/tcp_int.h"

/* WebSocket connection @p c (peer @p name) is idle: one not upgraded in
 * time closes; an open one is pinged first (RFC 6455 section 5.5.2),
 * since a browser keeps its WebSocket to a SIP server open without
 * sending anything, and closes only when the pong does not come.
 * @return 1 when this handled the timeout. */
int
cay__tcp_ws_idle(struct conn *c, const char *name)
{
  unsigned shard = c->tcp->shard->index;
  unsigned pong_ms = c->tcp->opts.idle_timeout_ms < CAY__WS_PONG_MS
                         ? c->tcp->opts.idle_timeout_ms
                         : CAY__WS_PONG_MS;

  if (!cay__ws_open(c->ws)) {
    CAY_INFO(shard, "ws: %s did not upgrade in %u ms, closing", name,
             c->tcp->opts.connect_timeout_ms);
    cay__tcp_close_conn(c);
    return 1;
  }
  if (c->ws_pinged) {
    CAY_INFO(shard, "ws: %s did not answer a ping in %u ms, closing", name,
             pong_ms);
    cay__tcp_close_conn(c);
    return 1;
  }
  if (cay__ws_ping(c->ws) != 0)
    return 0; /* closed by the write, or closing: the caller closes */
  c->ws_pinged = 1;
  if (cay__shard_timer_start(c->tcp->shard, &c->idle, pong_ms) != 0)
    CAY_DEBUG(shard, "tcp: cannot arm the idle timer");
  return 1;
}

/* cay__ws_io_t.send: the WebSocket's bytes. */
static int
ws_out(void *arg, const char *data, size_t len)
{
  struct conn *c = arg;

  if (c->state == CONN_CLOSING)
    return -EPIPE;
  return cay__tcp_write_up(c, data, len);
}

/* cay__ws_io_t.message: a whole SIP message, handed out as a framed one
 * is. @return nonzero when the callback closed the connection. */
static int
ws_message(void *arg, const char *data, size_t len)
{
  struct conn *c = arg;
  cay__tcp_t *tcp = c->tcp;
  cay_id_t id = c->id;

  /* RFC 5626 section 3.5.1 keep-alive over WebSocket (SIP.js sends its
   * CRLFCRLF as a message): a CRLF message answers it. */
  if (len == 4 && memcmp(data, "\r\n\r\n", 4) == 0) {
    (void)cay__ws_send(c->ws, "\r\n", 2);
    return 0;
  }
  tcp->cb(tcp, id, 0, data, len, &c->peer, tcp->arg);
  return cay__tcp_find_conn(tcp, id) != c;
}

/* cay__ws_io_t.origin: the transport's allow-list (RFC 6455 section
 * 10.2), its refusals logged. */
static int
ws_origin(void *arg, const char *origin)
{
  struct conn *c = arg;
  char name[64];

  if (cay__tcp_origin_allowed(c->tcp, origin))
    return 1;
  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_INFO(c->tcp->shard->index,
           "ws: %s: Origin %s%.*s%s is not in websocket.origins, refusing "
           "the upgrade (403)",
           name, origin ? "'" : "", 80, origin ? origin : "(none)",
           origin ? "'" : "");
  return 0;
}

int
cay__tcp_ws_new(struct conn *c)
{
  static const cay__ws_io_t io
      = { .send = ws_out, .message = ws_message, .origin = ws_origin };

  return cay__ws_new(&c->ws, c->tcp->opts.max_msg_bytes, &io, c);
}

/* WebSocket bytes read on @p c (see deliver()). */
int
cay__tcp_ws_in(struct conn *c, const char *data, size_t len)
{
  int r = cay__ws_feed(c->ws, data, len);
  char name[64];

  if (r == CAY__WS_GO_ON || r == CAY__WS_STOP)
    return r;
  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_DEBUG(c->tcp->shard->index, "ws: %s: %s, closing", name,
            r == CAY__WS_DONE ? cay__ws_why(c->ws) : cay_strerror(r));
  if (r == CAY__WS_DONE)
    cay__tcp_drain_conn(c); /* once the HTTP error or the close frame is out */
  else
    cay__tcp_close_conn(c);
  return 1;
}

int
cay__tcp_set_origins(cay__tcp_t *tcp, const char *const *origins, unsigned n)
{
  size_t len = 1;
  char *list = NULL, *p;

  if (!tcp->opts.ws)
    return CAY_ESTATE;
  for (unsigned i = 0; i < n; i++)
    len += strlen(origins[i]) + 1;
  if (n > 0 && (list = cay__malloc(len)) == NULL)
    return -ENOMEM;
  p = list;
  for (unsigned i = 0; i < n; i++) {
    size_t l = strlen(origins[i]) + 1;
    memcpy(p, origins[i], l);
    p += l;
  }
  if (list != NULL)
    *p = '\0';
  cay__free(tcp->origins);
  tcp->origins = list;
  return 0;
}

int
cay__tcp_origin_allowed(const cay__tcp_t *tcp, const char *origin)
{
  if (tcp->origins == NULL)
    return 1;
  if (origin == NULL)
    return 0;
  for (const char *p = tcp->origins; *p != '\0'; p += strlen(p) + 1)
    if (strcasecmp(p, origin) == 0)
      return 1;
  return 0;
}
