/*
 * One TCP connection of a shard's transport (RFC 3261 section 18): its
 * life, the idle timer, reading into the framer and delivering messages,
 * writing, draining after a 400, closing. See tcp.c for the states.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "transport/tcp_int.h"

static uint64_t
hash_addr(const cay__addr_t *a)
{
  if (cay__addr_family(a) == AF_INET6)
    return cay__hash_mix(cay__hash(&a->u.sin6.sin6_addr, 16),
                         a->u.sin6.sin6_port);
  return cay__hash_mix(cay__hash(&a->u.sin.sin_addr, 4), a->u.sin.sin_port);
}

void
cay__tcp_set_addr(cay__addr_t *out, const struct sockaddr_storage *ss)
{
  memset(out, 0, sizeof *out);
  if (ss->ss_family == AF_INET6)
    memcpy(&out->u.sin6, ss, sizeof out->u.sin6);
  else
    memcpy(&out->u.sin, ss, sizeof out->u.sin);
}

/* The connection named by @p id, if it is a live one of @p tcp. The id
 * table is shared with other object kinds, hence the back pointer check. */
struct conn *
cay__tcp_find_conn(const cay__tcp_t *tcp, cay_id_t id)
{
  struct conn *c = cay__idtab_get(&tcp->shard->ids, id);

  if (c == NULL || c->tcp != tcp || !c->live)
    return NULL;
  return c;
}

struct conn *
cay__tcp_find_conn_by_addr(const cay__tcp_t *tcp, const cay__addr_t *a)
{
  cay__hnode_t *n = cay__htab_first(&tcp->by_addr, hash_addr(a));
  struct conn *c;

  for (; n != NULL; n = cay__htab_next(n)) {
    c = (struct conn *)((char *)n - offsetof(struct conn, by_addr));
    if (cay__addr_eq(&c->peer, a))
      return c;
  }
  return NULL;
}

void
cay__tcp_touch_idle(struct conn *c)
{
  cay__tcp_t *tcp = c->tcp;
  /* A TLS handshake and a WebSocket upgrade are bounded as a connect
   * is. */
  unsigned ms = c->state == CONN_CONNECTING || (c->tls && !c->tls_up)
                        || (c->ws && !cay__ws_open(c->ws))
                    ? tcp->opts.connect_timeout_ms
                    : tcp->opts.idle_timeout_ms;

  /* A pinged WebSocket keeps its deadline for the pong: only a read
   * (on_read() clears ws_pinged) moves it. */
  if (c->ws_pinged)
    return;

  /* The heap only fails to grow here; the connection then lives without
   * an idle bound until the next read or write re-arms it. */
  if (cay__shard_timer_start(tcp->shard, &c->idle, ms) != 0)
    CAY_DEBUG(tcp->shard->index, "tcp: cannot arm the idle timer");
}

void
cay__tcp_connect_failed(struct conn *c, const char *why)
{
  char name[64];

  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_INFO(c->tcp->shard->index,
           "%s: connect to %s failed: %s, queued data dropped",
           c->tls ? "tls" : "tcp", name, why);
  /* Tell the owner, so that transactions waiting on this connection end
   * now (RFC 3261 section 17.1.4) instead of at their timeout. */
  c->tcp->cb(c->tcp, c->id, CAY_ECONNECT, NULL, 0, &c->peer, c->tcp->arg);
  cay__tcp_close_conn(c);
}

void
cay__tcp_finish_close(cay__tcp_t *tcp)
{
  void (*cb)(void *arg) = tcp->close_cb;
  void *arg = tcp->close_arg;

  /* tcp.h: the callback runs, after which @p tcp is freed. */
  if (cb != NULL)
    cb(arg);
  cay__htab_fini(&tcp->by_addr);
  cay__free(tcp->rbuf);
  cay__free(tcp->pbuf);
  cay__tls_ctx_unref(tcp->opts.tls);
  cay__free(tcp->origins);
  cay__free(tcp);
}

void
cay__tcp_handle_closed(cay__tcp_t *tcp)
{
  tcp->handles--;
  if (tcp->closing && tcp->handles == 0)
    cay__tcp_finish_close(tcp);
}

/* Take the connection out of the id table, the address table and the
 * count: from here on no send finds it. */
static void
retire_conn(struct conn *c)
{
  cay__tcp_t *tcp = c->tcp;

  if (!c->live)
    return;
  c->live = 0;
  cay__idtab_remove(&tcp->shard->ids, c->id);
  cay__htab_remove(&tcp->by_addr, &c->by_addr);
  tcp->nconns--;
  /* Below the limit again: the next burst is logged afresh. */
  if (tcp->nconns < tcp->opts.max_conns)
    tcp->limit_warned = 0;
}

static void
free_queue(struct conn *c)
{
  struct wreq *w;

  while ((w = c->queue) != NULL) {
    c->queue = w->next;
    cay__free(w);
  }
  c->queue_tail = NULL;
}

static void
on_conn_closed(uv_handle_t *h)
{
  struct conn *c = h->data;
  cay__tcp_t *tcp = c->tcp;

  if (c->flow && !tcp->closing && tcp->closed_cb != NULL)
    tcp->closed_cb(tcp, c->id, &c->peer, tcp->arg);
  free_queue(c);
  cay__tls_free(c->tls);
  cay__ws_free(c->ws);
  cay__framer_fini(&c->framer);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    tcp->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  cay__free(c);
  cay__tcp_handle_closed(tcp);
}

/* Close at once; pending writes are cancelled (their copies are freed by
 * on_write before on_conn_closed runs). Idempotent. */
void
cay__tcp_close_conn(struct conn *c)
{
  retire_conn(c);
  if (c->state == CONN_CLOSING)
    return;
  c->state = CONN_CLOSING;
  cay__shard_timer_stop(c->tcp->shard, &c->idle);
  uv_close((uv_handle_t *)&c->handle, on_conn_closed);
}

static void
on_idle(cay__timer_t *t)
{
  struct conn *c = t->data;
  char name[64], why[64];

  if (c->state == CONN_CONNECTING || (c->opened && c->tls && !c->tls_up)) {
    /* A SYN (or its answer) lost for good, or a TLS server that does not
     * answer the handshake: fail as a refusal does. */
    snprintf(why, sizeof why, "not %s after %u ms",
             c->state == CONN_CONNECTING ? "connected" : "through TLS",
             c->tcp->opts.connect_timeout_ms);
    cay__tcp_connect_failed(c, why);
    return;
  }
  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  if (c->tls && !c->tls_up) {
    CAY_INFO(c->tcp->shard->index,
             "tls: %s did not finish the handshake in %u ms, closing", name,
             c->tcp->opts.connect_timeout_ms);
    cay__tcp_close_conn(c);
    return;
  }
  if (c->ws && cay__tcp_ws_idle(c, name))
    return;
  CAY_DEBUG(c->tcp->shard->index, "tcp: %s idle for %u ms, closing", name,
            c->tcp->opts.idle_timeout_ms);
  cay__tcp_close_conn(c);
}

/* A new connection struct with an initialised handle, on the list of open
 * handles but not yet live. */
struct conn *
cay__tcp_new_conn(cay__tcp_t *tcp)
{
  struct conn *c = cay__calloc(1, sizeof *c);

  if (c == NULL)
    return NULL;
  c->tcp = tcp;
  if (uv_tcp_init(tcp->shard->loop, &c->handle) != 0) {
    cay__free(c);
    return NULL;
  }
  c->handle.data = c;
  c->state = CONN_OPEN;
  cay__framer_init(&c->framer, tcp->opts.max_msg_bytes, tcp->opts.max_headers);
  cay__timer_init(&c->idle, on_idle, c);
  c->next = tcp->conns;
  if (tcp->conns != NULL)
    tcp->conns->prev = c;
  tcp->conns = c;
  tcp->handles++;
  return c;
}

/* Enter the id table, the address table and the count. */
int
cay__tcp_make_live(struct conn *c)
{
  cay__tcp_t *tcp = c->tcp;
  int err = cay__idtab_add(&tcp->shard->ids, c, &c->id);

  if (err)
    return err;
  cay__htab_insert(&tcp->by_addr, &c->by_addr, hash_addr(&c->peer));
  c->live = 1;
  tcp->nconns++;
  cay__tcp_touch_idle(c);
  return 0;
}

static void
on_write(uv_write_t *req, int status)
{
  struct wreq *w = (struct wreq *)req;
  struct conn *c = req->handle->data;

  /* UV_ECANCELED: the connection is closing and knows it. */
  if (status < 0 && status != UV_ECANCELED) {
    CAY_DEBUG(c->tcp->shard->index, "tcp: write of %zu bytes failed: %s",
              w->len, uv_strerror(status));
    cay__tcp_close_conn(c);
  }
  cay__free(w);
}

static struct wreq *
new_wreq(const char *data, size_t len)
{
  struct wreq *w = cay__malloc(sizeof *w + len);

  if (w == NULL)
    return NULL;
  w->next = NULL;
  w->len = len;
  memcpy(w->data, data, len);
  return w;
}

int
cay__tcp_submit_wreq(struct conn *c, struct wreq *w)
{
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);

  return uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_write);
}

/* Keep a copy of @p data until the connection is up. */
static int
queue_write(struct conn *c, const char *data, size_t len)
{
  struct wreq *w = new_wreq(data, len);

  if (w == NULL)
    return -ENOMEM;
  if (c->queue_tail != NULL)
    c->queue_tail->next = w;
  else
    c->queue = w;
  c->queue_tail = w;
  return 0;
}

/* Bytes for the socket, in order. On a write error the connection is
 * closed. */
static int
write_raw(struct conn *c, const char *data, size_t len)
{
  struct wreq *w;
  uv_buf_t buf;
  int n, err;

  cay__tcp_touch_idle(c);
  /* The direct path costs no allocation and no copy. Only when nothing
   * is queued in libuv, to keep the bytes in order. */
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->handle) == 0) {
    buf = uv_buf_init((char *)data, (unsigned)len);
    n = uv_try_write((uv_stream_t *)&c->handle, &buf, 1);
    if (n == (int)len)
      return 0;
    if (n >= 0) {
      data += n;
      len -= (size_t)n;
    } else if (n != UV_EAGAIN) {
      cay__tcp_close_conn(c);
      return n;
    }
  }
  w = new_wreq(data, len);
  if (w == NULL) {
    /* Part of the message may be on the wire: the stream is broken. */
    cay__tcp_close_conn(c);
    return -ENOMEM;
  }
  err = cay__tcp_submit_wreq(c, w);
  if (err) {
    cay__free(w);
    cay__tcp_close_conn(c);
    return err;
  }
  return 0;
}

/* TLS: write what the session has for the peer (records, handshake
 * messages, alerts). */
static int
flush_tls(struct conn *c)
{
  const char *out;
  size_t n = cay__tls_output(c->tls, &out);
  int err = 0;

  if (n > 0 && c->state != CONN_CLOSING)
    err = write_raw(c, out, n);
  cay__tls_output_done(c->tls);
  return err;
}

/* TLS: plaintext into records (cay__tls_output()); a session that
 * cannot take it closes the connection. */
static int
encrypt(struct conn *c, const char *data, size_t len)
{
  int err = cay__tls_write(c->tls, data, len);

  if (err) {
    CAY_DEBUG(c->tcp->shard->index, "tls: cannot write: %s",
              cay__tls_why(c->tls));
    cay__tcp_close_conn(c);
  }
  return err;
}

/* Bytes for the peer of a connection that is up (through TLS when it is
 * a TLS connection). On a write error the connection is closed. */
int
cay__tcp_write_up(struct conn *c, const char *data, size_t len)
{
  int err;

  if (c->tls == NULL)
    return write_raw(c, data, len);
  err = encrypt(c, data, len);
  return err ? err : flush_tls(c);
}

/* Write on an open (or draining, for the 400 before close) connection, or
 * queue on a connecting one (or one whose TLS handshake is not done); on
 * a WebSocket connection, as one WebSocket message. On a write error the
 * connection is closed. */
int
cay__tcp_write_conn(struct conn *c, const char *data, size_t len)
{
  if (len > UINT32_MAX)
    return -EINVAL;
  if (c->state == CONN_CONNECTING || (c->tls && !c->tls_up))
    return queue_write(c, data, len);
  if (c->ws != NULL)
    return cay__ws_send(c->ws, data, len);
  return cay__tcp_write_up(c, data, len);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
  struct conn *c = req->handle->data;

  (void)status;
  /* Everything queued has been written (or the close got there first):
   * nothing more to wait for. */
  cay__tcp_close_conn(c);
}

/* RFC 3261 section 18.3: after a framing error, close once what the
 * callback sent (the 400) has been written. The idle timer stays armed,
 * bounding how long a peer that does not read can hold the connection. */
void
cay__tcp_drain_conn(struct conn *c)
{
  int err;

  retire_conn(c);
  if (c->state != CONN_OPEN)
    return;
  c->state = CONN_DRAINING;
  uv_read_stop((uv_stream_t *)&c->handle);
  if (c->tls) {
    cay__tls_shutdown(c->tls);
    if (flush_tls(c) != 0)
      return; /* closed */
  }
  err = uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->handle, on_shutdown);
  if (err)
    cay__tcp_close_conn(c);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct conn *c = h->data;

  (void)suggested;
  buf->base = c->tcp->rbuf;
  buf->len = TCP_READ_SIZE;
}

/* Frame what was read and hand each message out. @return 0 to go on, or
 * nonzero when the connection is no longer open for reading. */
static int
deliver(struct conn *c, const char *data, size_t len)
{
  cay__tcp_t *tcp = c->tcp;
  unsigned shard = tcp->shard->index;
  cay_id_t id = c->id;
  const char *msg;
  size_t mlen;
  int r;

  if (c->ws != NULL)
    return cay__tcp_ws_in(c, data, len);

  r = cay__framer_push(&c->framer, data, len);
  if (r) {
    CAY_DEBUG(shard, "tcp: cannot buffer %zu bytes: %s", len, cay_strerror(r));
    cay__tcp_close_conn(c);
    return r;
  }
  for (;;) {
    r = cay__framer_next(&c->framer, &msg, &mlen);
    switch (r) {
    case CAY__FRAME_NONE:
      return 0;
    case CAY__FRAME_KEEPALIVE:
      /* RFC 5626 section 3.5.1: answer a CRLFCRLF ping with a CRLF pong. */
      r = cay__tcp_write_conn(c, "\r\n", 2);
      if (r)
        return r;
      break;
    case CAY__FRAME_MESSAGE:
      tcp->cb(tcp, id, 0, msg, mlen, &c->peer, tcp->arg);
      /* The callback may have closed the connection (a failed send) or
       * the whole transport: re-resolve before touching the framer. */
      if (cay__tcp_find_conn(tcp, id) != c)
        return 1;
      break;
    case CAY_EPARSE:
      /* RFC 3261 section 18.3: no usable Content-Length on a stream. The
       * callback may answer 400; then the connection closes. */
      tcp->cb(tcp, id, CAY_EPARSE, msg, mlen, &c->peer, tcp->arg);
      if (cay__tcp_find_conn(tcp, id) == c)
        cay__tcp_drain_conn(c);
      return 1;
    default:
      CAY_DEBUG(shard, "tcp: framing failed: %s, closing", cay_strerror(r));
      cay__tcp_close_conn(c);
      return r;
    }
  }
}

/* A read of @p nread bytes from @p c: a full read buffer with
 * opts.backlog_bytes or more still unread makes @p c backlogged, a shorter
 * read (its queue drained) ends it. */
static void
check_backlog(struct conn *c, size_t nread)
{
  cay__tcp_t *tcp = c->tcp;
  uv_os_fd_t fd;
  int unread = 0;
  uint64_t now;
  char peer[64];

  if (nread < TCP_READ_SIZE || tcp->opts.backlog_bytes == 0) {
    c->backlogged = 0;
    return;
  }
  if (c->backlogged || uv_fileno((uv_handle_t *)&c->handle, &fd) != 0
      || ioctl(fd, FIONREAD, &unread) != 0
      || (size_t)unread < tcp->opts.backlog_bytes)
    return;
  c->backlogged = 1;
  now = uv_now(tcp->shard->loop);
  if (tcp->backlog_logged_ms && now - tcp->backlog_logged_ms < 10000) {
    tcp->backlog_unlogged++;
    return;
  }
  cay__addr_format(&c->peer, peer, sizeof peer);
  CAY_WARN((int)tcp->shard->index,
           "tcp connection from %s: %d KiB unread after a full read "
           "(limits.tcp_overload_kib %zu; %u more times since the last "
           "line): new INVITEs on it get 503 until it has drained",
           peer, unread / 1024, tcp->opts.backlog_bytes / 1024,
           tcp->backlog_unlogged);
  tcp->backlog_logged_ms = now;
  tcp->backlog_unlogged = 0;
}

/* The handshake of @p c failed: a connection Cay opened fails as a
 * refused one does (the owner's transactions end now), one it accepted
 * closes. */
static void
tls_failed(struct conn *c)
{
  char name[64];

  /* The alert (when OpenSSL made one) goes out first, best effort. */
  (void)flush_tls(c);
  if (c->opened) {
    cay__tcp_connect_failed(c, cay__tls_why(c->tls));
    return;
  }
  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_INFO(c->tcp->shard->index, "tls: handshake with %s failed: %s", name,
           cay__tls_why(c->tls));
  cay__tcp_close_conn(c);
}

/* The handshake is done: what waited for it is encrypted, in order. */
static int
tls_established(struct conn *c)
{
  struct wreq *w;
  int err = 0;

  c->tls_up = 1;
  cay__tcp_touch_idle(c);
  while (err == 0 && (w = c->queue) != NULL) {
    c->queue = w->next;
    if (c->queue == NULL)
      c->queue_tail = NULL;
    err = encrypt(c, w->data, w->len);
    cay__free(w);
  }
  return err ? err : flush_tls(c);
}

void
cay__tcp_tls_start(struct conn *c)
{
  if (cay__tls_handshake(c->tls) < 0)
    tls_failed(c);
  else
    (void)flush_tls(c);
}

/* TLS: ciphertext read on @p c; its plaintext is framed and delivered
 * as a plain connection's bytes are. */
static void
tls_in(struct conn *c, const char *data, size_t len)
{
  cay__tcp_t *tcp = c->tcp;
  long n;
  int r;

  if (cay__tls_feed(c->tls, data, len) != 0) {
    cay__tcp_close_conn(c);
    return;
  }
  if (!c->tls_up) {
    r = cay__tls_handshake(c->tls);
    if (r < 0) {
      tls_failed(c);
      return;
    }
    if (r == 0 || tls_established(c) != 0) {
      (void)flush_tls(c);
      return;
    }
  }
  while ((n = cay__tls_read(c->tls, tcp->pbuf, TCP_READ_SIZE)) > 0)
    if (deliver(c, tcp->pbuf, (size_t)n) != 0)
      return; /* closed or draining */
  if (n < 0) {
    CAY_DEBUG(tcp->shard->index, "tls: %s, closing",
              n == UV_EOF ? "close_notify" : cay__tls_why(c->tls));
    cay__tcp_close_conn(c);
    return;
  }
  /* What reading made (a key update, tickets) goes out. */
  (void)flush_tls(c);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct conn *c = stream->data;
  cay__tcp_t *tcp = c->tcp;
  cay__shard_t *shard = tcp->shard;

  if (nread < 0) {
    if (nread != UV_EOF)
      CAY_DEBUG(shard->index, "tcp: read failed: %s", uv_strerror((int)nread));
    cay__tcp_close_conn(c);
  } else if (nread > 0 && c->state == CONN_OPEN) {
    c->ws_pinged = 0;
    cay__tcp_touch_idle(c);
    check_backlog(c, (size_t)nread);
    /* The transport outlives the callbacks of this read (closing it only
     * starts closing its handles). */
    tcp->delivering_backlogged = c->backlogged;
    if (c->tls)
      tls_in(c, buf->base, (size_t)nread);
    else
      deliver(c, buf->base, (size_t)nread);
    tcp->delivering_backlogged = 0;
  }
  /* A top-level event ends with a flush (shard.h). */
  cay__shard_flush(shard);
}

int
cay__tcp_start_reading(struct conn *c)
{
  /* SIP messages are small and latency matters more than segment count;
   * best effort. */
  (void)uv_tcp_nodelay(&c->handle, 1);
  return uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}
