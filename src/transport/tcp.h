/*
 * TCP transport of one shard (RFC 3261 section 18): a listener bound with
 * SO_REUSEPORT (every shard listens on the same address and owns the
 * connections it accepts or opens), stream framing, CRLF keep-alives
 * (RFC 5626 section 3.5.1), bounds on message size, header count and
 * connections, an idle timeout. A connection is named across time and
 * shards by a cay_id_t from its shard's id table (its shard is
 * cay__id_shard(id)); only the owner shard touches it.
 */
#ifndef CAY_TRANSPORT_TCP_H
#define CAY_TRANSPORT_TCP_H

#include <stddef.h>
#include <uv.h>

#include "shard/shard.h"
#include "transport/addr.h"
#include "transport/tls.h"

typedef struct cay__tcp cay__tcp_t;

typedef struct cay__tcp_opts {
  size_t max_msg_bytes;        /* default 65535 */
  unsigned max_headers;        /* default 256 */
  unsigned idle_timeout_ms;    /* no byte either way for this long: close;
                                  default 300000 */
  unsigned max_conns;          /* per shard, default 10000; beyond it new
                                  connections are closed at once */
  unsigned connect_timeout_ms; /* a connection Cay opens that is not up by
                                  then fails as a refused one does
                                  (CAY_ECONNECT); default 5000 */
  size_t backlog_bytes;        /* a connection with this many bytes still
                                  unread after a full read is backlogged
                                  (cay__tcp_backlogged()); 0 = never, the
                                  default */
  cay__tls_ctx_t *tls;         /* non-NULL: a TLS transport (RFC 3261
                                  section 26.2): every connection is a TLS
                                  session of this context (the transport
                                  holds a reference; cay__tcp_set_tls()
                                  changes it); a connection
                                  Cay opens counts as up, for the connect
                                  timeout, once its handshake is done.
                                  NULL: plain TCP, the default */
  int ws;                      /* 1: a WebSocket transport (RFC 7118),
                                  over TLS too with @p tls (WSS): Cay
                                  accepts connections and answers their
                                  upgrade, each message is one WebSocket
                                  message; Cay opens none (a request to a
                                  peer without a live connection fails
                                  with CAY_ECONNECT); an idle connection
                                  is pinged and only closed when the
                                  ping gets nothing back within
                                  CAY__WS_PONG_MS (or idle_timeout_ms
                                  when shorter). 0: the default */
} cay__tcp_opts_t;

/* How long a pinged idle WebSocket connection has to answer. */
#define CAY__WS_PONG_MS 30000

/**
 * One framed message from connection @p conn, or a framing error.
 *
 * For a TLS transport @p data is the plaintext.
 *
 * @param status  0 (a message), or CAY_EPARSE (no Content-Length; @p data
 *                is the header section; the connection closes once what
 *                the callback sends has been written, so a 400 can go
 *                out first), or CAY_ECONNECT (a connection Cay opened to
 *                @p from failed; @p data is NULL and what was queued on
 *                it is lost; also when it is not up within
 *                connect_timeout_ms, a SYN dropped on the way, and for
 *                TLS when the handshake fails or is not done by then).
 * @param data    Valid during the call only.
 */
typedef void (*cay__tcp_recv_cb)(cay__tcp_t *tcp, cay_id_t conn, int status,
                                 const char *data, size_t len,
                                 const cay__addr_t *from, void *arg);

/**
 * Connection @p conn to @p peer, marked by cay__tcp_mark_flow(), closed:
 * the peer closed it or reset it, a write failed, the idle timeout or a
 * framing error closed it. Not for those cay__tcp_close() closes. Runs
 * from the loop once the handle has closed; @p peer is valid during the
 * call only.
 */
typedef void (*cay__tcp_closed_cb)(cay__tcp_t *tcp, cay_id_t conn,
                                   const cay__addr_t *peer, void *arg);

/**
 * Whether the connection just accepted from @p peer is refused: nonzero
 * closes it at once, before a byte is read or written. @p arg is the
 * receive callback's; @p peer is valid during the call only. Runs on the
 * owner's thread.
 */
typedef int (*cay__tcp_refuse_cb)(const cay__addr_t *peer, void *arg);

void cay__tcp_opts_init(cay__tcp_opts_t *o);

/**
 * Create the listener socket by hand (socket, SO_REUSEADDR, SO_REUSEPORT,
 * bind, listen) and hand it to libuv with uv_tcp_open(). Does not accept
 * yet.
 * @return 0, -ENOMEM, or the failing step's error (UV_EADDRINUSE, ...).
 * @thread owner
 */
int cay__tcp_create(cay__tcp_t **out, cay__shard_t *shard,
                    const cay__addr_t *bind, const cay__tcp_opts_t *opts,
                    cay__tcp_recv_cb cb, void *arg);

/**
 * Be told of every marked connection that closes (cay__tcp_closed_cb),
 * with the receive callback's arg; NULL: nobody (the default). Used for
 * RFC 5626 flows: a binding whose calls take a connection loses it with
 * the connection.
 * @thread owner
 */
void cay__tcp_set_closed_cb(cay__tcp_t *tcp, cay__tcp_closed_cb cb);

/**
 * Mark live connection @p conn as one that may carry a flow (a REGISTER
 * came on it): its close is told to the closed callback. Unmarked
 * connections close without a word, so that a connection per call costs
 * nothing more.
 * @return 0, or CAY_ENOTFOUND (no such live connection of @p tcp).
 * @thread owner
 */
int cay__tcp_mark_flow(cay__tcp_t *tcp, cay_id_t conn);

/**
 * Ask @p cb about every connection accepted from now on (a blocked
 * source's are refused); NULL: none is refused (the default).
 * @thread owner
 */
void cay__tcp_set_refuse_cb(cay__tcp_t *tcp, cay__tcp_refuse_cb cb);

/**
 * Close at once every live connection @p tcp accepted from the IP address
 * of @p ip, whatever its port (and whatever the port of @p ip): what is
 * queued on them is lost. A connection marked by cay__tcp_mark_flow() is
 * told closed as any other close is; those Cay opened stay. Safe from the
 * receive callback, for the connection it reads too (nothing more is
 * handed out from it).
 * @return how many were closed (0: none).
 * @thread owner
 */
unsigned cay__tcp_close_from(cay__tcp_t *tcp, const cay__addr_t *ip);

/** Start accepting. @return 0 or a libuv error. */
int cay__tcp_start(cay__tcp_t *tcp);
/** Stop accepting (connections stay). */
void cay__tcp_stop(cay__tcp_t *tcp);
/** The listener's bound address (real port when bound to port 0). */
int cay__tcp_local(const cay__tcp_t *tcp, cay__addr_t *out);

/**
 * Write @p data (copied) on connection @p conn, which must belong to this
 * shard.
 * @return 0, CAY_ENOTFOUND (no such live connection), -ENOMEM, or a write
 *         error.
 * @thread owner
 */
int cay__tcp_send(cay__tcp_t *tcp, cay_id_t conn, const char *data, size_t len);

/**
 * Send to @p dst: on a live connection of this shard to that address
 * (accepted or opened), else on a new connection (connect, and for TLS
 * the handshake; the data waits for it). @p conn_out receives the
 * connection used, or NULL.
 * @param name  TLS: the host the certificate of a new connection must
 *              name (RFC 5922 section 7.2; see cay__tls_new()); NULL =
 *              the chain only. Ignored for plain TCP.
 * @return 0, CAY_ELIMIT (connection limit), -ENOMEM, CAY_ECONFIG (a name
 *         OpenSSL refuses), CAY_ECONNECT (a WebSocket transport without a
 *         live connection to @p dst: it opens none), or a libuv error. A TLS
 * handshake that fails later is told to the receive callback as CAY_ECONNECT.
 * @thread owner
 */
int cay__tcp_send_to(cay__tcp_t *tcp, const cay__addr_t *dst, const char *name,
                     const char *data, size_t len, cay_id_t *conn_out);

/** 1 when @p tcp has a live connection to @p dst (accepted or opened),
 * which cay__tcp_send_to() would use. @thread owner */
int cay__tcp_has_conn_to(const cay__tcp_t *tcp, const cay__addr_t *dst);

/** The transport's protocol: CAY__TCP, CAY__TLS, CAY__WS or CAY__WSS
 * (opts.tls, opts.ws). @thread any (fixed at creation) */
int cay__tcp_proto(const cay__tcp_t *tcp);

/**
 * New connections of TLS transport @p tcp take @p ctx (a reload's
 * certificate, key, CAs and checks); live ones keep their session. The
 * transport takes a reference to @p ctx and drops the one it had.
 * @return 0, or CAY_ESTATE (@p tcp is not a TLS transport, or @p ctx is
 *         NULL: a transport does not change kind).
 * @thread owner
 */
int cay__tcp_set_tls(cay__tcp_t *tcp, cay__tls_ctx_t *ctx);

/**
 * The origins (RFC 6454 serializations, "https://app.example.com") whose
 * pages may open a WebSocket on WebSocket transport @p tcp: an upgrade
 * from another, or without an Origin, gets 403 Forbidden (RFC 6455
 * section 4.2.2 item 4, section 10.2); compared without regard to case.
 * @p n 0: any upgrade is taken (the default). Copied; upgrades from now on
 * are checked against it, open WebSockets stay.
 * @return 0, -ENOMEM (the list before stays), or CAY_ESTATE (@p tcp is
 *         not a WebSocket transport).
 * @thread owner
 */
int cay__tcp_set_origins(cay__tcp_t *tcp, const char *const *origins,
                         unsigned n);

/**
 * 1 when an upgrade from @p origin (NULL: the request had none) is taken
 * by @p tcp's origins (cay__tcp_set_origins()), else 0.
 * @thread owner
 */
int cay__tcp_origin_allowed(const cay__tcp_t *tcp, const char *origin);

/** Live connections of this shard. */
unsigned cay__tcp_conns(const cay__tcp_t *tcp);

/**
 * Set opts.backlog_bytes (0 = off) for the connections' next reads (a
 * reload of limits.tcp_overload_kib).
 * @thread owner
 */
void cay__tcp_set_backlog_bytes(cay__tcp_t *tcp, size_t bytes);

/**
 * 1 while the message being handed to the receive callback comes from a
 * backlogged connection: a read that filled the whole read buffer left
 * opts.backlog_bytes or more still unread on it (FIONREAD), and no read
 * since found it drained (read less than the buffer). Entering is logged
 * as a warning, at most once per 10 s. Asked from the callback only:
 * the owner refuses new INVITEs then (DESIGN.md section 7).
 * @thread owner
 */
int cay__tcp_backlogged(const cay__tcp_t *tcp);

/**
 * Close the listener and every connection; @p cb runs once all handles are
 * closed, after which @p tcp is freed.
 * @thread owner
 */
void cay__tcp_close(cay__tcp_t *tcp, void (*cb)(void *arg), void *arg);

#endif
