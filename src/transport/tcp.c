/*
 * TCP transport of one shard on libuv (RFC 3261 section 18, DESIGN.md
 * section 3).
 *
 * libuv 1.44 cannot set SO_REUSEPORT, so the listening socket is made,
 * bound and put to listen by hand and handed to libuv with uv_tcp_open().
 * Every shard listens on the same address this way; the kernel spreads
 * incoming connections over the shards' sockets, and each shard owns the
 * connections it accepts or opens.
 *
 * A connection moves through these states:
 *
 *   connecting --connect ok--> open --EPARSE--> draining --shutdown--+
 *       |                       |                  |                 |
 *       +-- connect failed -----+-- EOF, error, ---+-- idle timeout -+
 *                                   ELIMIT, idle,                    |
 *                                   close                            v
 *                                                                 closing
 *
 * A live connection (connecting or open) is in the shard's id table, in
 * the address table and counted by cay__tcp_conns(). Leaving those states
 * ("retiring") removes it from all three at once, so its id goes stale and
 * no send reaches it. Its memory is freed by the handle's close callback,
 * which libuv runs on a later loop iteration: a pointer to it stays valid
 * for the rest of the callback that retired it (DESIGN.md rule 5).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "transport/tcp_int.h"

static void accept_one(cay__tcp_t *tcp);

void
cay__tcp_opts_init(cay__tcp_opts_t *o)
{
  o->max_msg_bytes = 65535;
  o->max_headers = 256;
  o->idle_timeout_ms = 300000;
  o->max_conns = 10000;
  /* Two SYN retransmissions (after 1 s and 3 s); the kernel alone would
   * try for about 127 s, past every transaction timeout. */
  o->connect_timeout_ms = 5000;
  o->backlog_bytes = 0;
  o->tls = NULL;
  o->ws = 0;
}

static void
on_spare_closed(uv_handle_t *h)
{
  cay__tcp_t *tcp = h->data;

  tcp->spare_busy = 0;
  /* A connection left pending while the spare was busy keeps libuv from
   * polling the listener: take it now. */
  if (tcp->accept_stalled && tcp->listener != NULL && !tcp->closing) {
    tcp->accept_stalled = 0;
    accept_one(tcp);
  }
  cay__tcp_handle_closed(tcp);
}

/* Accept and drop a connection without a struct for it (out of memory). */
static void
reject_with_spare(cay__tcp_t *tcp)
{
  if (tcp->spare_busy) {
    tcp->accept_stalled = 1;
    return;
  }
  if (uv_tcp_init(tcp->shard->loop, &tcp->spare) != 0) {
    tcp->accept_stalled = 1;
    return;
  }
  tcp->spare.data = tcp;
  tcp->spare_busy = 1;
  tcp->handles++;
  (void)uv_accept((uv_stream_t *)tcp->listener, (uv_stream_t *)&tcp->spare);
  uv_close((uv_handle_t *)&tcp->spare, on_spare_closed);
}

static void
accept_one(cay__tcp_t *tcp)
{
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  struct conn *c;
  char name[64];
  int err;

  c = cay__tcp_new_conn(tcp);
  if (c == NULL) {
    CAY_ERROR(tcp->shard->index, "tcp: out of memory, dropping a connection");
    reject_with_spare(tcp);
    return;
  }
  c->state = CONN_OPEN;
  err = uv_accept((uv_stream_t *)tcp->listener, (uv_stream_t *)&c->handle);
  if (err)
    goto drop;
  /* Accept, then close at once: the peer learns at once, instead of
   * waiting in the backlog for a timeout. */
  if (tcp->nconns >= tcp->opts.max_conns) {
    if (!tcp->limit_warned)
      CAY_WARN(tcp->shard->index,
               "tcp: connection limit (%u) reached, closing new ones",
               tcp->opts.max_conns);
    tcp->limit_warned = 1;
    goto drop;
  }
  memset(&ss, 0, sizeof ss);
  err = uv_tcp_getpeername(&c->handle, (struct sockaddr *)&ss, &len);
  if (err)
    goto drop;
  cay__tcp_set_addr(&c->peer, &ss);
  if (tcp->refuse_cb != NULL && tcp->refuse_cb(&c->peer, tcp->arg)) {
    if (cay__log_on(CAY_LOG_DEBUG)
        && cay__addr_format(&c->peer, name, sizeof name) == 0)
      CAY_DEBUG(tcp->shard->index, "tcp: refused a connection from %s", name);
    goto drop;
  }
  if (tcp->opts.tls != NULL
      && (err = cay__tls_new(&c->tls, tcp->opts.tls, 0, NULL)) != 0)
    goto drop;
  if (tcp->opts.ws && (err = cay__tcp_ws_new(c)) != 0)
    goto drop;
  err = cay__tcp_make_live(c);
  if (err)
    goto drop;
  err = cay__tcp_start_reading(c);
  if (err)
    goto drop;
  if (cay__log_on(CAY_LOG_DEBUG)
      && cay__addr_format(&c->peer, name, sizeof name) == 0)
    CAY_DEBUG(tcp->shard->index, "tcp: accepted %s", name);
  return;

drop:
  if (err)
    CAY_DEBUG(tcp->shard->index, "tcp: accept failed: %s", cay_strerror(err));
  cay__tcp_close_conn(c);
}

static void
on_connection(uv_stream_t *server, int status)
{
  cay__tcp_t *tcp = server->data;

  if (status < 0) {
    CAY_WARN(tcp->shard->index, "tcp: accept failed: %s", uv_strerror(status));
    return;
  }
  accept_one(tcp);
}

static int
make_socket(const cay__addr_t *bind_addr)
{
  int fd = cay__socket_bound(bind_addr, SOCK_STREAM, 0);
  int err;

  if (fd < 0)
    return fd;
  if (listen(fd, TCP_BACKLOG) != 0) {
    err = -errno;
    close(fd);
    return err;
  }
  return fd;
}

static void
on_listener_closed(uv_handle_t *h)
{
  cay__tcp_t *tcp = h->data;

  cay__free(h);
  cay__tcp_handle_closed(tcp);
}

/* Make the listening socket and its libuv handle. */
static int
open_listener(cay__tcp_t *tcp, const cay__addr_t *bind_addr)
{
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  uv_tcp_t *h;
  int fd, err;

  h = cay__malloc(sizeof *h);
  if (h == NULL)
    return -ENOMEM;
  fd = make_socket(bind_addr);
  if (fd < 0) {
    cay__free(h);
    return fd;
  }
  err = uv_tcp_init(tcp->shard->loop, h);
  if (err) {
    close(fd);
    cay__free(h);
    return err;
  }
  h->data = tcp;
  tcp->handles++;
  err = uv_tcp_open(h, fd);
  if (err == 0) {
    memset(&ss, 0, sizeof ss);
    err = uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len);
  }
  if (err) {
    /* The handle is on the loop now and must be closed through it. When
     * uv_tcp_open failed, the fd is not the handle's and closes here. */
    if (uv_fileno((uv_handle_t *)h, &(uv_os_fd_t){ 0 }) != 0)
      close(fd);
    uv_close((uv_handle_t *)h, on_listener_closed);
    return err;
  }
  cay__tcp_set_addr(&tcp->local, &ss);
  tcp->listener = h;
  return 0;
}

static void
on_failed_create(void *arg)
{
  (void)arg;
}

int
cay__tcp_create(cay__tcp_t **out, cay__shard_t *shard, const cay__addr_t *bind,
                const cay__tcp_opts_t *opts, cay__tcp_recv_cb cb, void *arg)
{
  cay__tcp_t *tcp;
  char name[64];
  int err;

  *out = NULL;
  tcp = cay__calloc(1, sizeof *tcp);
  if (tcp == NULL)
    return -ENOMEM;
  tcp->shard = shard;
  tcp->cb = cb;
  tcp->arg = arg;
  if (opts != NULL)
    tcp->opts = *opts;
  else
    cay__tcp_opts_init(&tcp->opts);
  if (tcp->opts.tls != NULL)
    cay__tls_ctx_ref(tcp->opts.tls);
  tcp->rbuf = cay__malloc(TCP_READ_SIZE);
  if (tcp->opts.tls != NULL)
    tcp->pbuf = cay__malloc(TCP_READ_SIZE);
  err = tcp->rbuf == NULL || (tcp->opts.tls && tcp->pbuf == NULL)
            ? -ENOMEM
            : cay__htab_init(&tcp->by_addr, TCP_ADDR_BUCKETS);
  if (err) {
    cay__free(tcp->rbuf);
    cay__free(tcp->pbuf);
    cay__tls_ctx_unref(tcp->opts.tls);
    cay__free(tcp);
    return err;
  }

  if (cay__addr_format(bind, name, sizeof name) != 0)
    strcpy(name, "?");
  err = open_listener(tcp, bind);
  if (err) {
    /* Returned to the caller, who reports it; debug only here. */
    CAY_DEBUG(shard->index, "tcp: cannot listen on %s: %s", name,
              uv_strerror(err));
    if (tcp->handles == 0) {
      cay__tcp_finish_close(tcp);
    } else {
      /* A handle is closing: free once libuv is done with it. */
      tcp->closing = 1;
      tcp->close_cb = on_failed_create;
    }
    return err;
  }
  CAY_DEBUG(shard->index, "tcp: listening on %s", name);
  *out = tcp;
  return 0;
}

int
cay__tcp_start(cay__tcp_t *tcp)
{
  int err;

  if (tcp->closing)
    return UV_EINVAL;
  if (tcp->listening)
    return 0;
  /* After a stop the socket was closed; listen again on the address it
   * had, real port included. */
  if (tcp->listener == NULL) {
    err = open_listener(tcp, &tcp->local);
    if (err)
      return err;
  }
  err = uv_listen((uv_stream_t *)tcp->listener, TCP_BACKLOG, on_connection);
  if (err)
    return err;
  tcp->listening = 1;
  return 0;
}

void
cay__tcp_stop(cay__tcp_t *tcp)
{
  /* libuv cannot stop listening on a socket, so it is closed: the kernel
   * then hands new connections to the other shards' listeners (or
   * refuses them), instead of queueing them here unanswered. */
  if (tcp->listener == NULL)
    return;
  uv_close((uv_handle_t *)tcp->listener, on_listener_closed);
  tcp->listener = NULL;
  tcp->listening = 0;
  tcp->accept_stalled = 0;
}

int
cay__tcp_local(const cay__tcp_t *tcp, cay__addr_t *out)
{
  *out = tcp->local;
  return 0;
}

int
cay__tcp_send(cay__tcp_t *tcp, cay_id_t conn, const char *data, size_t len)
{
  struct conn *c = cay__tcp_find_conn(tcp, conn);

  if (c == NULL)
    return CAY_ENOTFOUND;
  return cay__tcp_write_conn(c, data, len);
}

static void
on_connect(uv_connect_t *req, int status)
{
  struct conn *c = req->handle->data;
  unsigned shard = c->tcp->shard->index;
  struct wreq *w;
  int err;

  /* UV_ECANCELED: closed while connecting, by close or the idle timer. */
  if (status == UV_ECANCELED || c->state != CONN_CONNECTING)
    return;
  if (status < 0) {
    cay__tcp_connect_failed(c, uv_strerror(status));
    return;
  }
  c->state = CONN_OPEN;
  err = cay__tcp_start_reading(c);
  if (err) {
    CAY_DEBUG(shard, "tcp: cannot read: %s", uv_strerror(err));
    cay__tcp_close_conn(c);
    return;
  }
  cay__tcp_touch_idle(c);
  /* TLS: the queue waits for the handshake (tcp_conn.c). */
  if (c->tls) {
    cay__tcp_tls_start(c);
    return;
  }
  /* The queued copies become the write requests, in order. */
  while ((w = c->queue) != NULL) {
    c->queue = w->next;
    if (c->queue == NULL)
      c->queue_tail = NULL;
    err = cay__tcp_submit_wreq(c, w);
    if (err) {
      cay__free(w);
      CAY_DEBUG(shard, "tcp: write failed: %s", uv_strerror(err));
      cay__tcp_close_conn(c);
      return;
    }
  }
}

int
cay__tcp_send_to(cay__tcp_t *tcp, const cay__addr_t *dst, const char *name,
                 const char *data, size_t len, cay_id_t *conn_out)
{
  struct conn *c;
  int err;

  if (conn_out != NULL)
    *conn_out = CAY_ID_NONE;
  if (tcp->closing)
    return UV_EINVAL;
  c = cay__tcp_find_conn_by_addr(tcp, dst);
  if (c == NULL && tcp->opts.ws)
    return CAY_ECONNECT; /* a WebSocket server opens no connections */
  if (c == NULL) {
    if (tcp->nconns >= tcp->opts.max_conns)
      return CAY_ELIMIT;
    c = cay__tcp_new_conn(tcp);
    if (c == NULL)
      return -ENOMEM;
    c->peer = *dst;
    c->state = CONN_CONNECTING;
    c->opened = 1;
    err = tcp->opts.tls ? cay__tls_new(&c->tls, tcp->opts.tls, 1, name) : 0;
    if (err == 0)
      err = uv_tcp_connect(&c->connect_req, &c->handle, &dst->u.sa, on_connect);
    if (err == 0)
      err = cay__tcp_make_live(c);
    if (err) {
      cay__tcp_close_conn(c);
      return err;
    }
  }
  err = cay__tcp_write_conn(c, data, len);
  if (err)
    return err;
  if (conn_out != NULL)
    *conn_out = c->id;
  return 0;
}

int
cay__tcp_has_conn_to(const cay__tcp_t *tcp, const cay__addr_t *dst)
{
  return cay__tcp_find_conn_by_addr(tcp, dst) != NULL;
}

int
cay__tcp_proto(const cay__tcp_t *tcp)
{
  if (tcp->opts.ws)
    return tcp->opts.tls != NULL ? CAY__WSS : CAY__WS;
  return tcp->opts.tls != NULL ? CAY__TLS : CAY__TCP;
}

int
cay__tcp_set_tls(cay__tcp_t *tcp, cay__tls_ctx_t *ctx)
{
  if (tcp->opts.tls == NULL || ctx == NULL)
    return CAY_ESTATE;
  cay__tls_ctx_ref(ctx);
  cay__tls_ctx_unref(tcp->opts.tls);
  tcp->opts.tls = ctx;
  return 0;
}

unsigned
cay__tcp_conns(const cay__tcp_t *tcp)
{
  return tcp->nconns;
}

void
cay__tcp_set_closed_cb(cay__tcp_t *tcp, cay__tcp_closed_cb cb)
{
  tcp->closed_cb = cb;
}

int
cay__tcp_mark_flow(cay__tcp_t *tcp, cay_id_t conn)
{
  struct conn *c = cay__tcp_find_conn(tcp, conn);

  if (c == NULL)
    return CAY_ENOTFOUND;
  c->flow = 1;
  return 0;
}

void
cay__tcp_set_refuse_cb(cay__tcp_t *tcp, cay__tcp_refuse_cb cb)
{
  tcp->refuse_cb = cb;
}

unsigned
cay__tcp_close_from(cay__tcp_t *tcp, const cay__addr_t *ip)
{
  unsigned n = 0;

  /* A closed connection leaves the list only once its handle has closed,
   * so the walk goes on safely. */
  for (struct conn *c = tcp->conns; c != NULL; c = c->next)
    if (c->live && !c->opened && cay__addr_same_ip(&c->peer, ip)) {
      cay__tcp_close_conn(c);
      n++;
    }
  return n;
}

void
cay__tcp_set_backlog_bytes(cay__tcp_t *tcp, size_t bytes)
{
  tcp->opts.backlog_bytes = bytes;
}

int
cay__tcp_backlogged(const cay__tcp_t *tcp)
{
  return tcp->delivering_backlogged;
}

void
cay__tcp_close(cay__tcp_t *tcp, void (*cb)(void *arg), void *arg)
{
  tcp->closing = 1;
  tcp->close_cb = cb;
  tcp->close_arg = arg;
  cay__tcp_stop(tcp);
  for (struct conn *c = tcp->conns; c != NULL; c = c->next)
    cay__tcp_close_conn(c);
  /* Every handle closes asynchronously, so handles > 0 here unless there
   * was none at all. */
  if (tcp->handles == 0)
    cay__tcp_finish_close(tcp);
}
