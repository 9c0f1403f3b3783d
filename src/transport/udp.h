/*
 * UDP transport on libuv: one socket bound with SO_REUSEPORT (so every
 * shard can bind the same address), batched receive (UV_UDP_RECVMMSG),
 * direct send (uv_udp_try_send) with a queued copy as fallback.
 */
#ifndef CAY_TRANSPORT_UDP_H
#define CAY_TRANSPORT_UDP_H

#include <stddef.h>
#include <uv.h>

#include "transport/addr.h"

typedef struct cay__udp cay__udp_t;

/**
 * Called once per datagram received. @p data is valid only during the
 * call. Never called with len 0.
 */
typedef void (*cay__udp_recv_cb)(cay__udp_t *u, const char *data, size_t len,
                                 const cay__addr_t *from, void *arg);

/**
 * Create a socket by hand (socket, SO_REUSEPORT, SO_REUSEADDR, SO_RCVBUF
 * 4 MiB best effort, bind), hand it to libuv (uv_udp_init_ex with
 * UV_UDP_RECVMMSG, uv_udp_open). Does not start reading.
 *
 * @return 0, or -errno / UV_E* of the failed step (UV_EADDRINUSE, ...),
 *         -ENOMEM.
 * @thread owner
 */
int cay__udp_create(cay__udp_t **out, uv_loop_t *loop, const cay__addr_t *bind,
                    cay__udp_recv_cb cb, void *arg);
/** Start reading. @return 0 or a libuv error. */
int cay__udp_start(cay__udp_t *u);
/** Stop reading (sends still work). */
void cay__udp_stop(cay__udp_t *u);
/** The bound address (with the real port when bound to port 0). */
int cay__udp_local(const cay__udp_t *u, cay__addr_t *out);
/**
 * Send one datagram. Tries an immediate send; if the socket would block,
 * queues a copy. @p data is borrowed: free to reuse on return.
 * @return 0, -ENOMEM, or the libuv error of the send.
 */
int cay__udp_send(cay__udp_t *u, const cay__addr_t *to, const void *data,
                  size_t len);
/**
 * Refuse-new-work threshold (DESIGN.md section 7): after a receive batch
 * that filled every slot, if the socket's receive queue holds at least
 * @p percent % of its receive buffer (SO_MEMINFO), the socket is
 * backlogged until a read finds the queue empty. Entering is logged as a
 * warning (at most once per 10 s, with the count of episodes since).
 * @p percent 0 turns it off (and ends a backlog); above 100 is 100.
 * Default 0. @p shard_no is the shard named in those lines (-1: none).
 * @thread owner
 */
void cay__udp_set_backlog_percent(cay__udp_t *u, unsigned percent,
                                  int shard_no);
/**
 * 1 while @p u is backlogged (see cay__udp_set_backlog_percent()): asked
 * from the receive callback, it tells whether the datagram in hand was
 * read from a queue over the threshold. 0 otherwise.
 * @thread owner
 */
int cay__udp_backlogged(const cay__udp_t *u);
/**
 * The kernel's view of the receive side (SO_MEMINFO, Linux 4.6+): bytes
 * now in the receive queue (with the kernel's per-datagram overhead),
 * the receive buffer's size in the same unit (twice what SO_RCVBUF was
 * given), and datagrams dropped since the socket was made because the
 * queue was full. Any out pointer may be NULL.
 * @return 0, a libuv error (socket not open), or -errno of getsockopt.
 * @thread owner
 */
int cay__udp_meminfo(const cay__udp_t *u, unsigned *queued, unsigned *rcvbuf,
                     unsigned *drops);
/** The socket's file descriptor (owned by @p u), or a negative libuv error. */
int cay__udp_fd(const cay__udp_t *u);
/** Close the socket; @p cb runs after libuv closed it; @p u is then freed. */
void cay__udp_close(cay__udp_t *u, void (*cb)(void *arg), void *arg);

#endif
