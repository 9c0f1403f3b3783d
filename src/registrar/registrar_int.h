/*
 * Internals shared by the files of src/registrar/. Not part of any API.
 */
#ifndef CAY_REGISTRAR_INT_H
#define CAY_REGISTRAR_INT_H

#include <stdint.h>

#include "core/hash.h"
#include "registrar/ban.h"
#include "registrar/registrar.h"

#define REG_CONTACT_MAX CAY__CONTACT_MAX

/* How long a nonce of Cay's challenge is good for, in s: a later one gets
 * a new challenge with stale=true (RFC 2617 section 3.2.1). */
#define REG_NONCE_TTL_S 300

typedef struct reg_aor reg_aor_t;

/* One binding: a contact address of an AOR until it expires. */
typedef struct reg_binding {
  struct reg_binding *next;
  reg_aor_t *aor;
  cay__timer_t t_expire;
  uint64_t expires_ms;  /* on the shard clock */
  uint32_t cseq;        /* of the REGISTER that set it (section 10.3 item 7) */
  int q;                /* q-value in thousandths, -1: none given */
  int by_flow;          /* calls go to flow (cay_reg_flows_t) */
  int flow_only;        /* cay__binding_change_t.flow_only */
  int in_flows;         /* on cay__registrar_t.flows by flow.conn */
  cay__hnode_t fnode;   /* there */
  unsigned keepalive_s; /* cay__binding_change_t.keepalive_s */
  int in_udp;           /* on cay__registrar_t.udp_flows by flow.addr */
  cay__hnode_t unode;   /* there */
  uint64_t heard_ms;    /* own, watched: the last keep-alive or REGISTER
                           from its UA, on the shard clock; a copy: when
                           a keep-alive was last passed to its owner */
  cay__timer_t t_flow;  /* own, watched: due when it would be silent
                           for too long (keepalive.c) */
  cay__peer_t flow;     /* the REGISTER's flow */
  char *call_id;        /* of that REGISTER */
  char *instance;       /* cay__binding_change_t.instance, or NULL */
  unsigned reg_id;      /* and its reg-id */
  char *path;           /* cay__binding_change_t.path, or NULL */
  char contact[];       /* the URI, as the UA wrote it */
} reg_binding_t;

struct reg_aor {
  cay__hnode_t hnode;
  cay__registrar_t *reg;
  int copy; /* another shard's AOR, kept up to date by its messages */
  reg_binding_t *bindings; /* newest first */
  unsigned n;
  char name[]; /* canonical (cay__aor_of()) */
};

struct cay__registrar {
  cay__shard_t *shard;
  cay__htab_t aors;      /* this shard's own */
  cay__htab_t copies;    /* the other shards', as they told */
  cay__htab_t flows;     /* own bindings whose calls take a TCP connection,
                            by its id (cay__registrar_flow_failed()) */
  cay__htab_t udp_flows; /* own bindings and copies whose calls take a
                            watched UDP flow, by its address
                            (cay__registrar_keepalive()) */
  unsigned n_aors, n_bindings;
  cay__registrar_share_fn share;
  void *share_arg;
  cay__registrar_store_fn store;
  void *store_arg;
  uint8_t key[CAY__HASH_KEYBYTES]; /* the nonces' MAC key */
  cay__ban_t *ban; /* sources refused for a while (digest.c), made at the
                      first refusal of credentials while
                      registrar.ban_after_failures is set (or another
                      shard's ban); or NULL */
  cay__registrar_ban_fn ban_share;
  void *ban_share_arg;
  cay__registrar_keepalive_fn ka_share;
  void *ka_share_arg;
  cay__registrar_flow_fn udp_failed;
  void *udp_failed_arg;
};

/* location.c */

/* The AOR named @p name (canonical) of this shard (@p copy 0) or a copy
 * of another's (1), or NULL. */
reg_aor_t *cay__loc_find(cay__registrar_t *reg, const char *name, int copy);
/* A new AOR without bindings, in its table. NULL: no memory. */
reg_aor_t *cay__loc_add_aor(cay__registrar_t *reg, const char *name, int copy);
/* @p a's binding whose contact equals @p uri (RFC 3261 section 19.1.4),
 * or NULL. */
reg_binding_t *cay__loc_binding(const reg_aor_t *a, const url_t *uri);
/* @p a's outbound binding of instance @p instance and reg-id @p reg_id
 * (RFC 5626 section 6), or NULL. */
reg_binding_t *cay__loc_binding_flow(const reg_aor_t *a, const char *instance,
                                     unsigned reg_id);
/* The same for a contact as text; NULL too when it does not parse. */
reg_binding_t *cay__loc_binding_text(const reg_aor_t *a, const char *uri);
/* Set @p b (NULL: a new binding of @p a for c->contact) as @p c says
 * (c->aor is not read), from REGISTER @p call_id / @p cseq (a copy: "",
 * 0). 0 or -ENOMEM (then nothing changed). */
int cay__loc_set(reg_aor_t *a, reg_binding_t *b, const cay__binding_change_t *c,
                 const char *call_id, uint32_t cseq);
/* Remove @p b; its AOR goes with its last binding. */
void cay__loc_remove(reg_binding_t *b);
/* Free @p a if it has no binding (a new AOR whose first binding could
 * not be made). */
void cay__loc_drop_if_empty(reg_aor_t *a);
/* Tell the store that own AOR @p a changed (a copy: nothing). */
void cay__loc_stored(const reg_aor_t *a);
/* Seconds until @p b expires (at least 0). */
unsigned cay__loc_remaining_s(const reg_binding_t *b);
/* @p b lost the flow its calls take (@p what: how, for the log): it is
 * removed when nothing else reaches it, else its calls go to its contact
 * from now on (RFC 5626 section 7). Counted in flows_failed. */
void cay__loc_flow_lost(reg_binding_t *b, const char *what);

/* keepalive.c */

/* Keep @p b on the UDP flows table while its calls take a watched UDP
 * flow; an own binding's silence timer restarts (heard now). Call after
 * each change of its flow or keepalive_s. */
void cay__ka_watch(reg_binding_t *b);
/* @p b is going: off the table, its timer stopped. */
void cay__ka_unwatch(reg_binding_t *b);
/* The timer callback of reg_binding_t.t_flow (data: the binding). */
void cay__ka_on_silent(cay__timer_t *t);

/* digest.c */

/* Send @p status to @p t with header lines @p lines ("Name: value\r\n"
 * each, or NULL), counted in the shard's statistics. */
void cay__reg_reply(cay__registrar_t *reg, cay__txn_t *t, int status,
                    const char *phrase, const char *lines);

#endif
