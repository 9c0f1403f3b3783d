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
#include "transport/tcp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "transport/framing.h"

/* One read buffer per transport; reads are framed synchronously, so the
 * same buffer serves every connection. */
#define TCP_READ_SIZE (64 * 1024)
#define TCP_BACKLOG   1024
/* Initial buckets of the address table; it grows with the connections. */
#define TCP_ADDR_BUCKETS 64

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_DRAINING, CONN_CLOSING };

/* A write: the request, then a copy of the bytes, freed by on_write(). */
struct wreq {
  uv_write_t req;
  struct wreq *next; /* queue of a connecting connection */
  size_t len;
  char data[];
};

struct conn {
  /* First member, so that checking it is safe on whatever object kind an
   * id of the shard's shared table resolves to. */
  cay__tcp_t *tcp;
  uv_tcp_t handle;
  cay_id_t id;
  enum conn_state state;
  int live; /* in the id table and the address table, counted */
  cay__framer_t framer;
  cay__addr_t peer;
  cay__hnode_t by_addr;
  cay__timer_t idle;
  struct conn *prev, *next;        /* every connection whose handle is open */
  struct wreq *queue, *queue_tail; /* written once connected */
  uv_connect_t connect_req;
  uv_shutdown_t shutdown_req;
};

struct cay__tcp {
  cay__shard_t *shard;
  uv_tcp_t *listener; /* NULL once stopped */
  int listening;
  cay__addr_t local;
  cay__tcp_opts_t opts;
  cay__tcp_recv_cb cb;
  void *arg;
  char *rbuf;
  struct conn *conns;
  unsigned nconns;  /* live connections */
  unsigned handles; /* open handles: listener(s), connections, spare */
  cay__htab_t by_addr;
  int limit_warned; /* a burst over max_conns was logged */
  /* When even a connection struct cannot be allocated, a pending
   * connection is accepted into this handle and closed, since libuv stops
   * polling a listener whose connection was not accepted. */
  uv_tcp_t spare;
  int spare_busy;
  int accept_stalled;
  int closing;
  void (*close_cb)(void *arg);
  void *close_arg;
};

static void close_conn(struct conn *c);
static void accept_one(cay__tcp_t *tcp);

void
cay__tcp_opts_init(cay__tcp_opts_t *o)
{
  o->max_msg_bytes = 65535;
  o->max_headers = 256;
  o->idle_timeout_ms = 300000;
  o->max_conns = 10000;
}

static uint64_t
hash_addr(const cay__addr_t *a)
{
  if (cay__addr_family(a) == AF_INET6)
    return cay__hash_mix(cay__hash(&a->u.sin6.sin6_addr, 16),
                         a->u.sin6.sin6_port);
  return cay__hash_mix(cay__hash(&a->u.sin.sin_addr, 4), a->u.sin.sin_port);
}

static void
set_addr(cay__addr_t *out, const struct sockaddr_storage *ss)
{
  memset(out, 0, sizeof *out);
  if (ss->ss_family == AF_INET6)
    memcpy(&out->u.sin6, ss, sizeof out->u.sin6);
  else
    memcpy(&out->u.sin, ss, sizeof out->u.sin);
}

/* The connection named by @p id, if it is a live one of @p tcp. The id
 * table is shared with other object kinds, hence the back pointer check. */
static struct conn *
find_conn(const cay__tcp_t *tcp, cay_id_t id)
{
  struct conn *c = cay__idtab_get(&tcp->shard->ids, id);

  if (c == NULL || c->tcp != tcp || !c->live)
    return NULL;
  return c;
}

static struct conn *
find_conn_by_addr(const cay__tcp_t *tcp, const cay__addr_t *a)
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

static void
touch_idle(struct conn *c)
{
  cay__tcp_t *tcp = c->tcp;

  /* The heap only fails to grow here; the connection then lives without
   * an idle bound until the next read or write re-arms it. */
  if (cay__shard_timer_start(tcp->shard, &c->idle, tcp->opts.idle_timeout_ms)
      != 0)
    CAY_DEBUG(tcp->shard->index, "tcp: cannot arm the idle timer");
}

static void
finish_close(cay__tcp_t *tcp)
{
  void (*cb)(void *arg) = tcp->close_cb;
  void *arg = tcp->close_arg;

  /* tcp.h: the callback runs, after which @p tcp is freed. */
  if (cb != NULL)
    cb(arg);
  cay__htab_fini(&tcp->by_addr);
  cay__free(tcp->rbuf);
  cay__free(tcp);
}

static void
handle_closed(cay__tcp_t *tcp)
{
  tcp->handles--;
  if (tcp->closing && tcp->handles == 0)
    finish_close(tcp);
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

  free_queue(c);
  cay__framer_fini(&c->framer);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    tcp->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  cay__free(c);
  handle_closed(tcp);
}

/* Close at once; pending writes are cancelled (their copies are freed by
 * on_write before on_conn_closed runs). Idempotent. */
static void
close_conn(struct conn *c)
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
  char name[64];

  if (cay__addr_format(&c->peer, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_DEBUG(c->tcp->shard->index, "tcp: %s idle for %u ms, closing", name,
            c->tcp->opts.idle_timeout_ms);
  close_conn(c);
}

/* A new connection struct with an initialised handle, on the list of open
 * handles but not yet live. */
static struct conn *
new_conn(cay__tcp_t *tcp)
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
static int
make_live(struct conn *c)
{
  cay__tcp_t *tcp = c->tcp;
  int err = cay__idtab_add(&tcp->shard->ids, c, &c->id);

  if (err)
    return err;
  cay__htab_insert(&tcp->by_addr, &c->by_addr, hash_addr(&c->peer));
  c->live = 1;
  tcp->nconns++;
  touch_idle(c);
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
    close_conn(c);
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

static int
submit_wreq(struct conn *c, struct wreq *w)
{
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);

  return uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_write);
}

/* Write on an open (or draining, for the 400 before close) connection, or
 * queue on a connecting one. On a write error the connection is closed. */
static int
write_conn(struct conn *c, const char *data, size_t len)
{
  struct wreq *w;
  uv_buf_t buf;
  int n, err;

  if (len > UINT32_MAX)
    return -EINVAL;
  if (c->state == CONN_CONNECTING) {
    w = new_wreq(data, len);
    if (w == NULL)
      return -ENOMEM;
    if (c->queue_tail != NULL)
      c->queue_tail->next = w;
    else
      c->queue = w;
    c->queue_tail = w;
    return 0;
  }

  touch_idle(c);
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
      close_conn(c);
      return n;
    }
  }
  w = new_wreq(data, len);
  if (w == NULL) {
    /* Part of the message may be on the wire: the stream is broken. */
    close_conn(c);
    return -ENOMEM;
  }
  err = submit_wreq(c, w);
  if (err) {
    cay__free(w);
    close_conn(c);
    return err;
  }
  return 0;
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
  struct conn *c = req->handle->data;

  (void)status;
  /* Everything queued has been written (or the close got there first):
   * nothing more to wait for. */
  close_conn(c);
}

/* RFC 3261 section 18.3: after a framing error, close once what the
 * callback sent (the 400) has been written. The idle timer stays armed,
 * bounding how long a peer that does not read can hold the connection. */
static void
drain_conn(struct conn *c)
{
  int err;

  retire_conn(c);
  if (c->state != CONN_OPEN)
    return;
  c->state = CONN_DRAINING;
  uv_read_stop((uv_stream_t *)&c->handle);
  err = uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->handle, on_shutdown);
  if (err)
    close_conn(c);
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

  r = cay__framer_push(&c->framer, data, len);
  if (r) {
    CAY_DEBUG(shard, "tcp: cannot buffer %zu bytes: %s", len, cay_strerror(r));
    close_conn(c);
    return r;
  }
  for (;;) {
    r = cay__framer_next(&c->framer, &msg, &mlen);
    switch (r) {
    case CAY__FRAME_NONE:
      return 0;
    case CAY__FRAME_KEEPALIVE:
      /* RFC 5626 section 3.5.1: answer a CRLFCRLF ping with a CRLF pong. */
      r = write_conn(c, "\r\n", 2);
      if (r)
        return r;
      break;
    case CAY__FRAME_MESSAGE:
      tcp->cb(tcp, id, 0, msg, mlen, &c->peer, tcp->arg);
      /* The callback may have closed the connection (a failed send) or
       * the whole transport: re-resolve before touching the framer. */
      if (find_conn(tcp, id) != c)
        return 1;
      break;
    case CAY_EPARSE:
      /* RFC 3261 section 18.3: no usable Content-Length on a stream. The
       * callback may answer 400; then the connection closes. */
      tcp->cb(tcp, id, CAY_EPARSE, msg, mlen, &c->peer, tcp->arg);
      if (find_conn(tcp, id) == c)
        drain_conn(c);
      return 1;
    default:
      CAY_DEBUG(shard, "tcp: framing failed: %s, closing", cay_strerror(r));
      close_conn(c);
      return r;
    }
  }
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
  struct conn *c = stream->data;
  cay__shard_t *shard = c->tcp->shard;

  if (nread < 0) {
    if (nread != UV_EOF)
      CAY_DEBUG(shard->index, "tcp: read failed: %s", uv_strerror((int)nread));
    close_conn(c);
  } else if (nread > 0 && c->state == CONN_OPEN) {
    touch_idle(c);
    deliver(c, buf->base, (size_t)nread);
  }
  /* A top-level event ends with a flush (shard.h). */
  cay__shard_flush(shard);
}

static int
start_reading(struct conn *c)
{
  /* SIP messages are small and latency matters more than segment count;
   * best effort. */
  (void)uv_tcp_nodelay(&c->handle, 1);
  return uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
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
  handle_closed(tcp);
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

  c = new_conn(tcp);
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
  set_addr(&c->peer, &ss);
  err = make_live(c);
  if (err)
    goto drop;
  err = start_reading(c);
  if (err)
    goto drop;
  if (cay__log_level >= CAY_LOG_DEBUG
      && cay__addr_format(&c->peer, name, sizeof name) == 0)
    CAY_DEBUG(tcp->shard->index, "tcp: accepted %s", name);
  return;

drop:
  if (err)
    CAY_DEBUG(tcp->shard->index, "tcp: accept failed: %s", cay_strerror(err));
  close_conn(c);
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
  handle_closed(tcp);
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
  set_addr(&tcp->local, &ss);
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
  tcp->rbuf = cay__malloc(TCP_READ_SIZE);
  if (tcp->rbuf == NULL) {
    cay__free(tcp);
    return -ENOMEM;
  }
  err = cay__htab_init(&tcp->by_addr, TCP_ADDR_BUCKETS);
  if (err) {
    cay__free(tcp->rbuf);
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
      finish_close(tcp);
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
  struct conn *c = find_conn(tcp, conn);

  if (c == NULL)
    return CAY_ENOTFOUND;
  return write_conn(c, data, len);
}

static void
on_connect(uv_connect_t *req, int status)
{
  struct conn *c = req->handle->data;
  unsigned shard = c->tcp->shard->index;
  struct wreq *w;
  char name[64];
  int err;

  /* UV_ECANCELED: closed while connecting, by close or the idle timer. */
  if (status == UV_ECANCELED || c->state != CONN_CONNECTING)
    return;
  if (status < 0) {
    if (cay__addr_format(&c->peer, name, sizeof name) != 0)
      strcpy(name, "?");
    CAY_DEBUG(shard, "tcp: connect to %s failed: %s, queued data dropped", name,
              uv_strerror(status));
    close_conn(c);
    return;
  }
  c->state = CONN_OPEN;
  err = start_reading(c);
  if (err) {
    CAY_DEBUG(shard, "tcp: cannot read: %s", uv_strerror(err));
    close_conn(c);
    return;
  }
  touch_idle(c);
  /* The queued copies become the write requests, in order. */
  while ((w = c->queue) != NULL) {
    c->queue = w->next;
    if (c->queue == NULL)
      c->queue_tail = NULL;
    err = submit_wreq(c, w);
    if (err) {
      cay__free(w);
      CAY_DEBUG(shard, "tcp: write failed: %s", uv_strerror(err));
      close_conn(c);
      return;
    }
  }
}

int
cay__tcp_send_to(cay__tcp_t *tcp, const cay__addr_t *dst, const char *data,
                 size_t len, cay_id_t *conn_out)
{
  struct conn *c;
  int err;

  if (conn_out != NULL)
    *conn_out = CAY_ID_NONE;
  if (tcp->closing)
    return UV_EINVAL;
  c = find_conn_by_addr(tcp, dst);
  if (c == NULL) {
    if (tcp->nconns >= tcp->opts.max_conns)
      return CAY_ELIMIT;
    c = new_conn(tcp);
    if (c == NULL)
      return -ENOMEM;
    c->peer = *dst;
    c->state = CONN_CONNECTING;
    err = uv_tcp_connect(&c->connect_req, &c->handle, &dst->u.sa, on_connect);
    if (err == 0)
      err = make_live(c);
    if (err) {
      close_conn(c);
      return err;
    }
  }
  err = write_conn(c, data, len);
  if (err)
    return err;
  if (conn_out != NULL)
    *conn_out = c->id;
  return 0;
}

unsigned
cay__tcp_conns(const cay__tcp_t *tcp)
{
  return tcp->nconns;
}

void
cay__tcp_close(cay__tcp_t *tcp, void (*cb)(void *arg), void *arg)
{
  tcp->closing = 1;
  tcp->close_cb = cb;
  tcp->close_arg = arg;
  cay__tcp_stop(tcp);
  for (struct conn *c = tcp->conns; c != NULL; c = c->next)
    close_conn(c);
  /* Every handle closes asynchronously, so handles > 0 here unless there
   * was none at all. */
  if (tcp->handles == 0)
    finish_close(tcp);
}
