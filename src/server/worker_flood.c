/*
 * Request floods (limits.source_requests): the shard that reads a
 * request counts it against its source IP address, in a table of
 * registrar/ban.h (so many within a window, then blocked for a while,
 * the quietest evicted by a flood of new addresses). A blocked source's
 * requests are dropped before anything parses them, unanswered: an
 * answer would feed the flood. The shard that blocks a source tells the
 * others (MAIL_BLOCK), which drop it from then on too, since a flood
 * spread over the shards (steered by Call-ID) counts on each only its
 * share. A blocked source holds no connection either: each shard closes
 * those it accepted from the address when it learns of the block, and
 * refuses new ones until the block ends (a flood over TCP would
 * otherwise keep its connections, up to limits.tcp_max_connections, and
 * their reads).
 *
 *   read (any shard) -> cay__worker_flooded() -> dropped, or routed
 *   blocked here -> MAIL_BLOCK to every other shard -> blocked there too
 *   blocked (either way) -> this shard's connections from it closed
 *   accepted -> cay__worker_refuse_conn() -> closed at once while blocked
 *
 * Every function runs on the worker's own thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/rand.h"
#include "registrar/ban.h"
#include "server/server_int.h"

#define SHARD_NO(w) ((int)(w)->index)

/* @p w's table, made at its first use; NULL: no memory (logged once:
 * no flood limit on this shard then). */
static cay__ban_t *
flood_table(cay__worker_t *w)
{
  uint8_t key[CAY__HASH_KEYBYTES];

  if (w->flood != NULL || w->flood_no_memory)
    return w->flood;
  cay__rand_bytes(&w->shard.rand, key, sizeof key);
  if ((w->flood = cay__ban_new(key)) == NULL) {
    w->flood_no_memory = 1;
    CAY_WARN(SHARD_NO(w), "flood: no memory for the table of sources: no "
                          "limits.source_requests on this shard");
  }
  return w->flood;
}

/* Close every connection this shard accepted from blocked address
 * @p addr, on each stream listener; counted in source_conns_closed. */
static void
close_connections(cay__worker_t *w, const cay__addr_t *addr)
{
  unsigned n = 0;
  char name[64];

  for (unsigned i = 0; i < w->n_tcp; i++)
    n += cay__tcp_close_from(w->tcp[i], addr);
  if (n == 0)
    return;
  w->shard.stats.source_conns_closed += n;
  if (cay__addr_ip(addr, name, sizeof name))
    snprintf(name, sizeof name, "?");
  CAY_INFO(SHARD_NO(w), "flood: closed %u connection%s from blocked %s", n,
           n == 1 ? "" : "s", name);
}

int
cay__worker_refuse_conn(const cay__addr_t *peer, void *arg)
{
  cay__worker_t *w = arg;

  if (w->ss.cfg.source_requests == 0 || w->flood == NULL
      || cay__ban_left(w->flood, peer, cay__shard_now(&w->shard)) == 0)
    return 0;
  w->shard.stats.source_conns_closed++;
  return 1;
}

void
cay__worker_share_source(cay__worker_t *w, int kind, const cay__addr_t *src,
                         uint64_t ms)
{
  cay__peer_t p = { .addr = *src };

  /* Once this shard exits, shard 0 may free the others after our FINAL. */
  if (w->exiting)
    return;
  for (unsigned i = 0; i < w->srv->nshards; i++) {
    cay__worker_t *to = w->srv->workers[i];

    if (i != w->index && to != NULL
        && cay__worker_post_bytes(to, kind, &p, (const char *)&ms, sizeof ms, 0,
                                  0)
               == -ENOMEM)
      CAY_WARN(SHARD_NO(w),
               "no memory to tell shard %u of a %s: it counts for itself", i,
               kind == MAIL_BLOCK ? "blocked source" : "ban");
  }
}

int
cay__worker_flooded(cay__worker_t *w, const char *data, size_t len,
                    const cay__peer_t *src)
{
  const cay_config_t *cfg = &w->ss.cfg;
  uint64_t now;
  char name[80];

  if (cfg->source_requests == 0 || (len >= 8 && !memcmp(data, "SIP/2.0 ", 8))
      || flood_table(w) == NULL)
    return 0; /* off, or a response */
  now = cay__shard_now(&w->shard);
  if (cay__ban_left(w->flood, &src->addr, now) > 0) {
    w->shard.stats.source_dropped++;
    return 1;
  }
  if (!cay__ban_failure(w->flood, &src->addr, now, cfg->source_requests + 1,
                        1000ull * cfg->source_window_s,
                        1000ull * cfg->source_block_s))
    return 0;
  if (cay__addr_format_proto(src->proto, &src->addr, name, sizeof name))
    snprintf(name, sizeof name, "?");
  CAY_WARN(SHARD_NO(w),
           "flood: %s sent more than %u requests within %u s: its address "
           "blocked on every port for %u s, its requests dropped unanswered "
           "(limits.source_requests)",
           name, cfg->source_requests, cfg->source_window_s,
           cfg->source_block_s);
  cay__worker_share_source(w, MAIL_BLOCK, &src->addr,
                           1000ull * cfg->source_block_s);
  w->shard.stats.source_dropped++;
  close_connections(w, &src->addr);
  return 1;
}

void
cay__worker_on_block(cay__worker_t *w, const mail_bytes_t *m)
{
  uint64_t ms;

  /* Off here (a reload turned it off meanwhile): nothing to keep. */
  if (w->exiting || m->len != sizeof ms || w->ss.cfg.source_requests == 0
      || flood_table(w) == NULL)
    return;
  memcpy(&ms, m->data, sizeof ms);
  cay__ban_set(w->flood, &m->peer.addr, cay__shard_now(&w->shard), ms);
  close_connections(w, &m->peer.addr);
}
