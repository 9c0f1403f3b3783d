/*
 * The counters over HTTP (config metrics.listen): shard 0 answers
 * `GET /metrics` with the live counters of every shard in Prometheus's
 * text exposition format 0.0.4, one sample per shard (label shard="K").
 * Private to the server layer.
 */
#ifndef CAY_SERVER_METRICS_H
#define CAY_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cay/server.h"

typedef struct cay__metrics cay__metrics_t;

/* How long a client has to send its request (ms; tests lower it). The
 * connection is closed without an answer after that. */
extern uint64_t cay__metrics_timeout_ms;

/* At most this many HTTP connections at once; one more is answered 503
 * and closed. */
#define CAY__METRICS_MAX_CONNS 16

/* A request (line and headers) longer than this gets 431. */
#define CAY__METRICS_MAX_REQUEST 8192

/**
 * Listen on @p addr ("IP:PORT" or "[IPv6]:PORT", checked by the config;
 * port 0: one the kernel picks) on @p loop (shard 0's) and serve @p srv's
 * counters there, gathered by cay_server_stats_gather() at each request.
 * Logs the URL served, with the port bound.
 *
 * @param out  Receives the endpoint, owned by the caller until
 *             cay__metrics_close().
 * @return 0; -EINVAL (not an address); a libuv error (bind, listen:
 *         UV_EADDRINUSE, UV_EACCES); -ENOMEM. Logs the address served.
 * @thread shard 0's
 */
int cay__metrics_open(cay__metrics_t **out, cay_server_t *srv, uv_loop_t *loop,
                      const char *addr);

/**
 * Stop listening, close every connection (an answer being written is
 * cut), and free the endpoint once every handle is closed and a gather
 * it asked for has answered (cay_server_stats_gather() answers before
 * the server's close callback); then @p cb(@p arg), if not NULL.
 * @thread shard 0's
 */
void cay__metrics_close(cay__metrics_t *m, void (*cb)(void *arg), void *arg);

/**
 * The exposition text of @p n shards' counters @p shards: first
 * `cay_build_info{version="CAY_VERSION"} 1`, then for each counter of
 * cay_stats_t a HELP and a TYPE line and one sample per shard,
 * `cay_<key>_total{shard="K"} V` (a gauge: `cay_<key>{shard="K"} V`).
 *
 * @param out  Receives the text (NUL-terminated, *@p len bytes without
 *             the NUL); the caller frees it with cay__free().
 * @return 0 or -ENOMEM.
 * @thread any
 */
int cay__metrics_render(const cay_stats_t *shards, unsigned n, char **out,
                        size_t *len);

#endif
