/*
 * Private to reg_store.c (the connection and the writes) and
 * reg_store_load.c (the loads, at start and late): a shard's store.
 */
#ifndef CAY_SERVER_REG_STORE_INT_H
#define CAY_SERVER_REG_STORE_INT_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "server/server_int.h"
#include "transport/dns.h"

#define SHARD_NO(w) ((int)(w)->index)

typedef struct glue glue_t; /* reg_store.c */

/* The keys of the MESSAGEs kept for an AOR (b2bua/pager.h) are the
 * prefix, this, and the AOR; an AOR's own key is the prefix and the AOR
 * (which starts "sip:"). */
#define CAY__REG_STORE_MSGS "msgs:"

/* The AOR of key @p key (@p len bytes) under @p prefix, and whether it
 * is the key of its kept MESSAGEs (*@p msgs); NULL when the key is
 * neither (no AOR after the prefix, a NUL in it). @p alen receives the
 * AOR's length. */
const char *cay__reg_store_key_aor(const char *prefix, const char *key,
                                   size_t len, int *msgs, size_t *alen);

/* What a load restored. */
typedef struct {
  cay__restore_counts_t n;
  unsigned aors, bad;
  unsigned msgs, msg_aors; /* kept MESSAGEs restored, and their AORs */
  uint64_t wall;
} load_t;

typedef struct gone {
  struct gone *next;
  char aor[];
} gone_t;

struct cay__reg_store {
  cay__worker_t *w;
  redisAsyncContext *ac; /* NULL: none now */
  glue_t *glue;          /* the poll of ac's socket, or NULL */
  uv_timer_t timer;      /* the retry, the connect's deadline, or the
                            close's deadline */
  unsigned handles;      /* open: timer + glue + dns */
  /* A host name in registrar.store.redis: looked up with c-ares on the
   * shard's loop (the configured dns.servers), its addresses tried in
   * order; NULL for an IP or a Unix socket. */
  cay__dns_t *dns;
  cay__addr_t addrs[CAY__DNS_MAX_TARGETS];
  unsigned n_addrs, next_addr; /* 0 addresses: look up again */
  int connected, closing, failing, lost, timer_closed;
  int dirty;     /* changes were not written: write every AOR when back */
  int need_load; /* the load at start failed: load late when connected */
  int scanning;  /* a late load's SCAN is out */
  struct batch *batch_list; /* a late load's MGETs out, with their keys
                               (reg_store_load.c) */
  load_t late;              /* what the late load restored so far */
  gone_t *gone;
  unsigned n_gone;
  void (*closed_cb)(void *arg);
  void *closed_arg;
};

/* Now, in ms since 1970 (CLOCK_REALTIME): what records count in. */
uint64_t cay__reg_store_wall_ms(void);

/* registrar.store.redis as hiredis takes it: a Unix socket's path, or a
 * host (IPv6 without brackets, into @p host) and port. @return 1 for a
 * path (reg_store.c). */
int cay__reg_store_target(const cay_config_t *cfg, char *host, size_t size,
                          int *port);

/* Create @p *out, a resolver on @p loop for registrar.store.redis's host
 * name: dns.servers, either address family, answers kept for their TTL.
 * 0, or what cay__dns_create() returns, with the reason logged. */
int cay__reg_store_dns(const cay_config_t *cfg, uv_loop_t *loop,
                       cay__dns_t **out, int shard);

/* "IP:PORT: @p why" for address @p a of the host name that did not take
 * the connection, into @p buf (@p size bytes). */
void cay__reg_store_addr_error(const cay__addr_t *a, const char *why, char *buf,
                               size_t size);

/* Why a lookup of registrar.store.redis's host name failed (@p err from
 * cay__dns_locate() or its answer): a static text. */
const char *cay__reg_store_lookup_error(int err);

/* The load at start failed: load this shard's AORs now over @p st's
 * connection, just made (reg_store_load.c). */
void cay__reg_store_late_load(struct cay__reg_store *st);

/* AOR @p aor changed (a REGISTER, an expiry) while a late load's MGET
 * may hold its old record: that record is not restored over the change,
 * even when the change left the AOR without bindings (reg_store_load.c). */
void cay__reg_store_late_changed(struct cay__reg_store *st, const char *aor);

#endif
