/*
 * Private to the TCP transport: tcp.c (listener, accept, the public
 * functions) and tcp_conn.c (one connection: reading, framing, writing,
 * idle timeout, closing).
 */
#ifndef CAY_TRANSPORT_TCP_INT_H
#define CAY_TRANSPORT_TCP_INT_H

#include "transport/tcp.h"
#include "transport/framing.h"
#include "transport/tls.h"
#include "transport/ws.h"

#include <sys/socket.h>

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
  int live;        /* in the id table and the address table, counted */
  int backlogged;  /* see cay__tcp_backlogged() */
  int flow;        /* cay__tcp_mark_flow(): its close is told */
  int opened;      /* Cay opened it (cay__tcp_send_to()) */
  cay__tls_t *tls; /* a TLS transport's session, else NULL */
  int tls_up;      /* its handshake is done: plaintext flows */
  cay__ws_t *ws;   /* a WebSocket transport's session, else NULL */
  int ws_pinged;   /* idle: a ping went out, no byte came since */
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
  cay__tcp_closed_cb closed_cb;
  cay__tcp_refuse_cb refuse_cb;
  void *arg;
  char *rbuf;
  char *pbuf; /* TLS: the plaintext of a read */
  struct conn *conns;
  unsigned nconns;  /* live connections */
  unsigned handles; /* open handles: listener(s), connections, spare */
  cay__htab_t by_addr;
  int limit_warned;           /* a burst over max_conns was logged */
  int delivering_backlogged;  /* a backlogged connection's message is being
                                 handed out now */
  uint64_t backlog_logged_ms; /* uv_now() of the last episode logged */
  unsigned backlog_unlogged;  /* episodes since then */
  /* When even a connection struct cannot be allocated, a pending
   * connection is accepted into this handle and closed, since libuv stops
   * polling a listener whose connection was not accepted. */
  uv_tcp_t spare;
  int spare_busy;
  int accept_stalled;
  int closing;
  void (*close_cb)(void *arg);
  void *close_arg;
  /* WebSocket: the origins an upgrade may come from (cay__tcp_set_origins),
   * each NUL-terminated, an empty one last; NULL: any. */
  char *origins;
};

void cay__tcp_close_conn(struct conn *c);
struct conn *cay__tcp_find_conn(const cay__tcp_t *tcp, cay_id_t id);
struct conn *cay__tcp_find_conn_by_addr(const cay__tcp_t *tcp,
                                        const cay__addr_t *a);
void cay__tcp_finish_close(cay__tcp_t *tcp);
void cay__tcp_handle_closed(cay__tcp_t *tcp);
int cay__tcp_make_live(struct conn *c);
struct conn *cay__tcp_new_conn(cay__tcp_t *tcp);
void cay__tcp_set_addr(cay__addr_t *out, const struct sockaddr_storage *ss);
int cay__tcp_start_reading(struct conn *c);
int cay__tcp_submit_wreq(struct conn *c, struct wreq *w);
void cay__tcp_touch_idle(struct conn *c);
/* A connection Cay opened did not come up (@p why: the error, or the
 * connect timeout): log, tell the owner (CAY_ECONNECT), close. */
void cay__tcp_connect_failed(struct conn *c, const char *why);
int cay__tcp_write_conn(struct conn *c, const char *data, size_t len);
/* TLS: a connection Cay opened is connected; start the handshake. */
void cay__tcp_tls_start(struct conn *c);
/* Bytes for the peer of a connection that is up (through TLS when it is
 * a TLS connection); a write error closes it. @return 0 or the error. */
int cay__tcp_write_up(struct conn *c, const char *data, size_t len);
/* Close @p c once what is queued for it is written (after a 400 or a
 * WebSocket's last words). */
void cay__tcp_drain_conn(struct conn *c);

/* tcp_ws.c. WebSocket: give accepted connection @p c its session.
 * @return 0 or -ENOMEM. */
int cay__tcp_ws_new(struct conn *c);
/* WebSocket bytes read on @p c. @return 0 to go on, nonzero when @p c is
 * no longer open for reading. */
int cay__tcp_ws_in(struct conn *c, const char *data, size_t len);
/* WebSocket @p c (peer @p name) is idle: not upgraded in time, it closes;
 * open, it is pinged (closed when no pong came since the last ping).
 * @return 1 when this handled the timeout. */
int cay__tcp_ws_idle(struct conn *c, const char *name);

#endif
