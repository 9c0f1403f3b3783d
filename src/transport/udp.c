/*
 * UDP transport on libuv (DESIGN.md section 3, step 1).
 *
 * libuv 1.44 cannot set SO_REUSEPORT, so the socket is made and bound by
 * hand and then handed to libuv with uv_udp_open(). Every shard binds the
 * same address this way and the kernel spreads datagrams over the shards'
 * sockets.
 *
 * Receive uses recvmmsg (UV_UDP_RECVMMSG): libuv splits the buffer the
 * alloc callback hands out into 64 KiB slots, one datagram each, and
 * delivers every slot of a batch synchronously before it asks for a buffer
 * again. One buffer per socket, allocated at create and reused for every
 * batch, therefore never holds a datagram that is still in use, and nothing
 * is ever freed per batch.
 *
 * Overload (DESIGN.md section 7): a full batch means more datagrams may be
 * waiting, so the socket's receive queue is read then (SO_MEMINFO, one
 * getsockopt per full batch, none at light load). At or above the owner's
 * percentage of the receive buffer the socket is backlogged until a read
 * finds the queue empty (a short batch, or EAGAIN): past that point the
 * kernel starts dropping datagrams, and every drop comes back as a
 * retransmission 500 ms later, so the owner refuses new work while the
 * queue drains instead.
 */
#include "transport/udp.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"

/* libuv's recvmmsg slot size (UV__UDP_DGRAM_MAXSIZE, not exported). */
#define UDP_SLOT_SIZE (64 * 1024)
/* Datagrams read per recvmmsg call; libuv caps a batch at 20. */
#define UDP_BATCH 16
/* Kernel socket buffers asked for; the kernel may grant less. */
#define UDP_SOCKBUF (4 * 1024 * 1024)
/* Backlogged episodes logged at most once per this many ms. */
#define UDP_BACKLOG_LOG_MS 10000

struct cay__udp {
  uv_udp_t handle;
  cay__udp_recv_cb cb;
  void *arg;
  char *rbuf; /* UDP_BATCH * UDP_SLOT_SIZE bytes, reused for every batch */
  size_t rbuf_len;
  unsigned batch_n;     /* datagrams of the batch being delivered so far */
  unsigned backlog_pct; /* owner's threshold, % of the receive buffer; 0 off */
  int backlogged;       /* see the top of this file */
  uint64_t backlog_logged_ms; /* uv_now() of the last episode logged */
  unsigned backlog_unlogged;  /* episodes since then */
  char name[64];              /* bound address, for logs */
  int shard_no;               /* for logs: the owner's shard, -1 none */
  int closing;
  void (*close_cb)(void *arg);
  void *close_arg;
};

/* A datagram queued because the socket would block. */
struct udp_send {
  uv_udp_send_t req;
  size_t len;
  char data[];
};

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  cay__udp_t *u = h->data;

  (void)suggested;
  buf->base = u->rbuf;
  buf->len = u->rbuf_len;
}

int
cay__udp_meminfo(const cay__udp_t *u, unsigned *queued, unsigned *rcvbuf,
                 unsigned *drops)
{
  uint32_t mi[SK_MEMINFO_VARS];
  socklen_t len = sizeof mi;
  int fd = cay__udp_fd(u);

  if (fd < 0)
    return fd;
  memset(mi, 0, sizeof mi);
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) != 0)
    return -errno;
  if (queued)
    *queued = mi[SK_MEMINFO_RMEM_ALLOC];
  if (rcvbuf)
    *rcvbuf = mi[SK_MEMINFO_RCVBUF];
  if (drops)
    *drops = mi[SK_MEMINFO_DROPS];
  return 0;
}

/* A full batch was read: is the queue behind it over the threshold? */
static void
check_backlog(cay__udp_t *u)
{
  unsigned queued, rcvbuf, dropped;
  char more[64] = "";
  uint64_t now;

  if (u->backlogged || u->backlog_pct == 0
      || cay__udp_meminfo(u, &queued, &rcvbuf, &dropped) != 0 || rcvbuf == 0
      || (uint64_t)queued * 100 < (uint64_t)rcvbuf * u->backlog_pct)
    return;
  u->backlogged = 1;
  now = uv_now(u->handle.loop);
  if (u->backlog_logged_ms && now - u->backlog_logged_ms < UDP_BACKLOG_LOG_MS) {
    u->backlog_unlogged++;
    return;
  }
  if (u->backlog_unlogged)
    snprintf(more, sizeof more, "; %u more times since the last such line",
             u->backlog_unlogged);
  CAY_WARN(u->shard_no,
           "udp %s: receive queue %u%% full (%u of %u KiB; "
           "limits.udp_overload_percent %u; %u datagrams dropped by the "
           "kernel so far): new INVITEs get 503 until it has drained%s",
           u->name, (unsigned)((uint64_t)queued * 100 / rcvbuf), queued / 1024,
           rcvbuf / 1024, u->backlog_pct, dropped, more);
  u->backlog_logged_ms = now;
  u->backlog_unlogged = 0;
}

/* A read found the queue empty: whatever was waiting has been read. */
static void
end_backlog(cay__udp_t *u)
{
  if (!u->backlogged)
    return;
  u->backlogged = 0;
  CAY_DEBUG(u->shard_no,
            "udp %s: receive queue drained: new INVITEs accepted again",
            u->name);
}

static void
on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
        const struct sockaddr *addr, unsigned flags)
{
  cay__udp_t *u = h->data;
  cay__addr_t from;

  /* libuv keeps delivering the rest of a batch after uv_close(); the
   * owner asked for no more, so none is passed on. */
  if (u->closing)
    return;
  if (nread < 0) {
    CAY_WARN(-1, "udp: receive failed: %s", uv_strerror((int)nread));
    return;
  }
  /* nread 0 with no address: nothing more to read (EAGAIN), or the end of
   * a recvmmsg batch (UV_UDP_MMSG_FREE). The buffer is ours and reused,
   * so there is nothing to free either way. Either way but a full batch,
   * the queue was empty when it was read. */
  if (addr == NULL) {
    if (!(flags & UV_UDP_MMSG_FREE) || u->batch_n < UDP_BATCH)
      end_backlog(u);
    u->batch_n = 0;
    return;
  }
  /* libuv hands out slot k of the buffer for the k-th datagram of a
   * batch; the last slot filled means the batch was full. */
  u->batch_n = (unsigned)((size_t)(buf->base - u->rbuf) / UDP_SLOT_SIZE) + 1;
  if (u->batch_n == UDP_BATCH)
    check_backlog(u);
  /* An empty datagram carries no SIP message, and the callback's
   * contract is never to see one. */
  if (nread == 0)
    return;
  /* The remainder of a truncated datagram is lost; a part of a SIP
   * message cannot be handled correctly, so none of it is. */
  if (flags & UV_UDP_PARTIAL) {
    CAY_DEBUG(-1, "udp: dropped a truncated datagram (%zd bytes kept)", nread);
    return;
  }

  memset(&from, 0, sizeof from);
  if (addr->sa_family == AF_INET6)
    memcpy(&from.u.sin6, addr, sizeof from.u.sin6);
  else if (addr->sa_family == AF_INET)
    memcpy(&from.u.sin, addr, sizeof from.u.sin);
  else
    return;
  u->cb(u, buf->base, (size_t)nread, &from, u->arg);
}

static int
make_socket(const cay__addr_t *bind_addr)
{
  return cay__socket_bound(bind_addr, SOCK_DGRAM, UDP_SOCKBUF);
}

static void
free_udp(cay__udp_t *u)
{
  cay__free(u->rbuf);
  cay__free(u);
}

static void
on_failed_close(uv_handle_t *h)
{
  free_udp(h->data);
}

int
cay__udp_create(cay__udp_t **out, uv_loop_t *loop, const cay__addr_t *bind,
                cay__udp_recv_cb cb, void *arg)
{
  cay__udp_t *u;
  cay__addr_t bound;
  char name[64];
  int fd, err;

  *out = NULL;
  u = cay__calloc(1, sizeof *u);
  if (u == NULL)
    return -ENOMEM;
  u->rbuf_len = (size_t)UDP_BATCH * UDP_SLOT_SIZE;
  u->rbuf = cay__malloc(u->rbuf_len);
  if (u->rbuf == NULL) {
    cay__free(u);
    return -ENOMEM;
  }
  u->cb = cb;
  u->arg = arg;
  u->shard_no = -1;

  if (cay__addr_format(bind, name, sizeof name) != 0)
    strcpy(name, "?");
  memcpy(u->name, name, sizeof u->name);
  fd = make_socket(bind);
  if (fd < 0) {
    /* Returned to the caller, who reports it; debug only here. */
    CAY_DEBUG(-1, "udp: cannot bind %s: %s", name, uv_strerror(fd));
    free_udp(u);
    return fd;
  }

  /* AF_UNSPEC: libuv makes no socket of its own; the one above is opened
   * into the handle instead. */
  err = uv_udp_init_ex(loop, &u->handle, AF_UNSPEC | UV_UDP_RECVMMSG);
  if (err) {
    close(fd);
    free_udp(u);
    return err;
  }
  u->handle.data = u;
  err = uv_udp_open(&u->handle, fd);
  if (err) {
    /* The handle is on the loop now and must be closed through it; the
     * memory goes when the loop runs the close callback. */
    CAY_DEBUG(-1, "udp: cannot open %s: %s", name, uv_strerror(err));
    close(fd);
    u->closing = 1;
    uv_close((uv_handle_t *)&u->handle, on_failed_close);
    return err;
  }
  CAY_DEBUG(-1, "udp: bound %s", name);
  if (cay__udp_local(u, &bound) == 0)
    (void)cay__addr_format(&bound, u->name, sizeof u->name);
  *out = u;
  return 0;
}

void
cay__udp_set_backlog_percent(cay__udp_t *u, unsigned percent, int shard_no)
{
  u->shard_no = shard_no;
  u->backlog_pct = percent > 100 ? 100 : percent;
  if (u->backlog_pct == 0)
    u->backlogged = 0;
}

int
cay__udp_backlogged(const cay__udp_t *u)
{
  return u->backlogged;
}

int
cay__udp_start(cay__udp_t *u)
{
  return uv_udp_recv_start(&u->handle, on_alloc, on_recv);
}

void
cay__udp_stop(cay__udp_t *u)
{
  uv_udp_recv_stop(&u->handle);
}

int
cay__udp_local(const cay__udp_t *u, cay__addr_t *out)
{
  int len = (int)sizeof out->u;

  memset(out, 0, sizeof *out);
  return uv_udp_getsockname(&u->handle, &out->u.sa, &len);
}

static void
on_sent(uv_udp_send_t *req, int status)
{
  struct udp_send *s = (struct udp_send *)req;

  if (status == UV_ECANCELED)
    CAY_DEBUG(-1, "udp: queued send of %zu bytes cancelled by close", s->len);
  else if (status < 0)
    CAY_WARN(-1, "udp: queued send of %zu bytes failed: %s", s->len,
             uv_strerror(status));
  cay__free(s);
}

int
cay__udp_send(cay__udp_t *u, const cay__addr_t *to, const void *data,
              size_t len)
{
  struct udp_send *s;
  uv_buf_t buf;
  int err;

  /* No datagram is larger than a 64 KiB slot (IPv4 and IPv6 without
   * jumbograms); this also keeps len within uv_buf_t's unsigned length. */
  if (len > UDP_SLOT_SIZE)
    return UV_EMSGSIZE;

  /* The direct path costs no allocation and no copy. libuv answers
   * UV_EAGAIN also while earlier datagrams wait in its queue, which keeps
   * datagrams in the order they were sent. */
  buf = uv_buf_init((char *)data, (unsigned)len);
  err = uv_udp_try_send(&u->handle, &buf, 1, &to->u.sa);
  if (err >= 0)
    return 0;
  if (err != UV_EAGAIN && err != UV_ENOBUFS)
    return err;

  /* The socket would block: queue a copy, since @p data is borrowed. */
  s = cay__malloc(sizeof *s + len);
  if (s == NULL)
    return -ENOMEM;
  s->len = len;
  memcpy(s->data, data, len);
  buf = uv_buf_init(s->data, (unsigned)len);
  err = uv_udp_send(&s->req, &u->handle, &buf, 1, &to->u.sa, on_sent);
  if (err) {
    cay__free(s);
    return err;
  }
  return 0;
}

int
cay__udp_fd(const cay__udp_t *u)
{
  uv_os_fd_t fd;
  int err = uv_fileno((const uv_handle_t *)&u->handle, &fd);

  return err ? err : fd;
}

static void
on_close(uv_handle_t *h)
{
  cay__udp_t *u = h->data;

  if (u->close_cb != NULL)
    u->close_cb(u->close_arg);
  free_udp(u);
}

void
cay__udp_close(cay__udp_t *u, void (*cb)(void *arg), void *arg)
{
  /* Queued sends complete with UV_ECANCELED before on_close runs, so
   * their copies are freed by then. */
  u->closing = 1;
  u->close_cb = cb;
  u->close_arg = arg;
  uv_close((uv_handle_t *)&u->handle, on_close);
}
