/*
 * The registrar (RFC 3261 section 10.3) and its location service: which
 * contacts (bindings) each address-of-record (AOR) has now.
 *
 * A binding belongs to the shard its AOR hashes to (DESIGN.md rule 1):
 * every REGISTER for an AOR is handed to that shard before it is parsed
 * for good (server/worker_route.c), so one shard holds all of an AOR's
 * bindings, on its own thread, without a lock. Each shard has its own
 * registrar; nothing here is shared between shards.
 *
 *   REGISTER --route action register--> cay__registrar_on_register():
 *     To's AOR (canonical) -> digest authentication (RFC 2617, 401 with a
 *     nonce Cay can verify without keeping it) -> the Contacts checked
 *     as a whole (*, expires, Call-ID/CSeq order, limits) -> bindings
 *     added, refreshed or removed -> 200 with every binding of the AOR
 *   a binding's expiry (shard timer) -> the binding is removed
 *
 * Files: register.c (the request), location.c (the bindings), digest.c
 * (challenges and credentials), persist.c (an AOR's bindings as a record
 * for the store, server/reg_store.c, and back), keepalive.c (UDP flows
 * watched for keep-alives, RFC 5626 section 4.4.1).
 */
#ifndef CAY_REGISTRAR_REGISTRAR_H
#define CAY_REGISTRAR_REGISTRAR_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

#include "cay/config.h"
#include "shard/shard.h"
#include "sip/txn.h"
#include "transport/addr.h"

typedef struct cay__registrar cay__registrar_t; /* opaque */

/* An AOR in canonical form, "sip:user@host" (user unescaped, host in
 * lower case, no port or parameters), NUL included. */
#define CAY__AOR_MAX 192

/* The longest Contact URI the registrar keeps, NUL included (a longer one
 * gets 400). */
#define CAY__CONTACT_MAX 384
/* The Path values (RFC 3327) of one REGISTER, at most, as one Route
 * value ("<uri>;lr, <uri>;lr"); a longer one gets 400. */
#define CAY__PATH_MAX 512

/**
 * A registrar for shard @p shard (its timers, its clock, its random
 * source for the nonce key).
 * @param out  Receives the registrar. Returned (cay__registrar_free()).
 * @return 0 or -ENOMEM.
 * @thread the shard's
 */
int cay__registrar_create(cay__shard_t *shard, cay__registrar_t **out);

/**
 * Remove every binding (no message is sent: a registrar that stops tells
 * nobody, RFC 3261 section 10.2.4) and free @p reg. NULL is a no-op.
 * @thread the shard's
 */
void cay__registrar_destroy(cay__registrar_t *reg);

/**
 * Answer REGISTER @p t (RFC 3261 section 10.3) with @p cfg's registrar
 * values (cay_config_t.reg_*): 200 with the AOR's bindings, 401 with a
 * challenge, or the failure that says what is wrong (400 for a bad
 * Contact or Expires, 403 for credentials that do not fit the AOR or a
 * full AOR, 404 for a To without a user, 423 with Min-Expires, 500 for a
 * REGISTER older than a binding it names, 503 with Retry-After when the
 * shard holds reg_max_aors AORs). Every outcome is logged.
 *
 * @param t    The REGISTER's server transaction. Borrowed.
 * @param sip  Its request. Borrowed.
 * @thread the shard's; only for an AOR of this shard (cay__aor_shard())
 */
void cay__registrar_on_register(cay__registrar_t *reg, const cay_config_t *cfg,
                                cay__txn_t *t, const sip_t *sip);

/**
 * The canonical AOR of @p uri (RFC 3261 section 10.3 item 5): "sip:" (for
 * a sips: URI too: RFC 5630 makes them one AOR), the user unescaped, "@",
 * the host in lower case; no port, no parameters.
 * @param out  Buffer of CAY__AOR_MAX bytes. Borrowed.
 * @return The length, or -EINVAL: no URI, not sip/sips, no user or host,
 *         an escape that is not %XX or that decodes to NUL, longer than
 *         CAY__AOR_MAX - 1.
 * @thread any
 */
int cay__aor_of(const url_t *uri, char out[CAY__AOR_MAX]);

/**
 * The shard that owns AOR @p aor (cay__aor_of()) among @p nshards: the
 * same hash as a Call-ID's (DESIGN.md rule 2).
 * @thread any
 */
unsigned cay__aor_shard(const char *aor, size_t len, unsigned nshards);

/**
 * The owner shard of a raw REGISTER (@p data, @p len) among @p nshards:
 * its To's AOR's (cay__aor_shard()). Parses the message.
 * @return The shard, or -1: not a REGISTER, or no AOR in it (its Call-ID's
 *         shard answers it).
 * @thread any
 */
int cay__register_shard(const char *data, size_t len, unsigned nshards);

/** A binding as its owner shard shares it and a copy keeps it. */
typedef struct cay__binding_change {
  const char *aor;         /* canonical (cay__aor_of()) */
  const char *contact;     /* the contact URI */
  int q;                   /* thousandths; -1: none */
  uint64_t expires_ms;     /* from now; 0: the binding is gone */
  const cay__peer_t *flow; /* where calls to it go instead of the contact
                              (the REGISTER's flow, cay_reg_flows_t), or
                              NULL */
  int flow_only;           /* 1: nothing reaches the contact but @c flow
                              (reg-id, an address behind a NAT, or
                              flows: always); 0: the flow only saves a
                              connection (RFC 5923: the UA's own host) */
  const char *instance;    /* an outbound binding's +sip.instance (RFC
                              5626 section 6: with reg_id, what names
                              it), or NULL */
  unsigned reg_id;         /* its reg-id (1..), with @c instance */
  const char *path;        /* the REGISTER's Path values (RFC 3327), as
                              a Route header's value, calls to the
                              binding go through; or NULL */
  unsigned keepalive_s;    /* a UDP flow the UA keeps alive (RFC 5626
                              section 4.4.1): the Flow-Timer its 200
                              gave, in s; silent for longer (plus
                              CAY__FLOW_LEEWAY_S) the flow has failed
                              (cay__registrar_keepalive()). 0: the flow
                              is not watched */
} cay__binding_change_t;

/**
 * Told of every change to a binding this shard owns, for the other
 * shards' copies (cay__registrar_learn()). Every pointer of @p c is
 * borrowed for the call.
 */
typedef void (*cay__registrar_share_fn)(void *arg,
                                        const cay__binding_change_t *c);

/**
 * Set who is told of changes (NULL: nobody; one shard). Each shard keeps
 * a copy of every other shard's bindings, updated by message, so that a
 * call to an AOR is routed on the call's own shard, at once, without
 * asking the AOR's owner (DESIGN.md rule 1: no shard reads another's
 * memory). A copy lags its owner by one mailbox hop.
 * @thread the shard's
 */
void cay__registrar_set_share(cay__registrar_t *reg,
                              cay__registrar_share_fn share, void *arg);

/**
 * Told when this shard bans a source for refused credentials
 * (cay_config_t.reg_ban_failures): its address @p src, for @p ban_ms ms
 * from now, for the other shards to ban it too (cay__registrar_ban()).
 */
typedef void (*cay__registrar_ban_fn)(void *arg, const cay__addr_t *src,
                                      uint64_t ban_ms);

/**
 * Set who is told of this shard's bans (NULL: nobody; one shard). Each
 * shard counts refusals for itself; a ban, once one shard makes it, holds
 * on every shard one mailbox hop later.
 * @thread the shard's
 */
void cay__registrar_set_ban_share(cay__registrar_t *reg,
                                  cay__registrar_ban_fn share, void *arg);

/**
 * Another shard banned source address @p src for @p ban_ms ms from now
 * (cay__registrar_ban_fn): this shard's requests needing credentials
 * from it are refused at once too (403), as long as the ban lasts. No
 * memory for the table: not banned here (logged).
 * @thread the shard's
 */
void cay__registrar_ban(cay__registrar_t *reg, const cay__addr_t *src,
                        uint64_t ban_ms);

/**
 * A change another shard shared (cay__registrar_share_fn): the copy of
 * that binding is set, moved or removed (expires_ms 0). No memory: the
 * copy is left as it was (logged).
 * @param c  Borrowed for the call.
 * @thread the shard's
 */
void cay__registrar_learn(cay__registrar_t *reg,
                          const cay__binding_change_t *c);

/**
 * TCP connection @p conn is gone: closed by either side, for any reason
 * (RFC 5626 section 7: a proxy that learns that a flow failed invalidates
 * every binding that uses it, whatever the AOR). Each binding of this
 * shard's own AORs whose calls take that connection loses it: one whose
 * contact nothing else reaches (cay__binding_change_t.flow_only) is
 * removed; one registered from the contact's own host is called at its
 * contact from now on (a new connection, RFC 3261 section 18.1.1). A
 * binding refreshed over another connection since is left as it is.
 * The other shards' copies follow by message (cay__registrar_set_share()).
 * Each binding changed is logged.
 * @param conn  The connection's id (cay__tcp_set_closed_cb()); of any
 *              shard.
 * @return How many bindings changed.
 * @thread the shard's
 */
unsigned cay__registrar_flow_failed(cay__registrar_t *reg, cay_id_t conn);

/* Seconds a watched UDP flow may stay silent past its Flow-Timer before
 * it counts as failed: a keep-alive sent at the last moment and lost,
 * then sent again four times by STUN (RFC 5389 section 7.2.1: 0.5, 1,
 * 2 and 4 s), arrives within them. */
#define CAY__FLOW_LEEWAY_S 8

/**
 * A STUN keep-alive (RFC 5626 section 4.4.2) came from UDP source
 * @p src to a SIP port of this shard, which answered it. Each of this
 * shard's own bindings whose calls take that flow and that is watched
 * (cay__binding_change_t.keepalive_s) has heard from its UA now. For
 * each of this shard's copies of another shard's binding over it,
 * unless @p relayed, the keep-alive callback is told (the owner decides
 * whether the flow failed; cay__registrar_set_keepalive_share()).
 *
 * A watched binding that hears nothing, neither a keep-alive nor a
 * REGISTER refreshing it, for its Flow-Timer plus CAY__FLOW_LEEWAY_S
 * has lost its flow (RFC 5626 section 4.4.1: the time the server waits
 * before it considers the flow dead): it is removed when nothing else
 * reaches it, as for a closed connection (RFC 5626 section 7), and
 * logged and counted (cay_stats_t.flows_failed).
 *
 * @param src      The keep-alive's source address. Borrowed.
 * @param relayed  1: another shard read it and told this one (copies
 *                 are not told again); 0: read here.
 * @return How many of this shard's own bindings heard it.
 * @thread the shard's
 */
unsigned cay__registrar_keepalive(cay__registrar_t *reg, const cay__addr_t *src,
                                  int relayed);

/**
 * Told of a keep-alive from @p src for a binding of AOR @p aor that
 * another shard owns (cay__aor_shard()): that shard is to hear it
 * (cay__registrar_keepalive() with relayed 1). Both borrowed for the
 * call.
 */
typedef void (*cay__registrar_keepalive_fn)(void *arg, const char *aor,
                                            const cay__addr_t *src);

/**
 * Set who is told of keep-alives for other shards' bindings (NULL:
 * nobody; one shard).
 * @thread the shard's
 */
void cay__registrar_set_keepalive_share(cay__registrar_t *reg,
                                        cay__registrar_keepalive_fn fn,
                                        void *arg);

/**
 * Told when a watched UDP flow from @p flow (borrowed for the call)
 * failed here, after the binding over it was removed or moved to its
 * contact: the requests sent over that flow and still waiting
 * (cay__txn_udp_flow_failed()), on any shard, are to end.
 */
typedef void (*cay__registrar_flow_fn)(void *arg, const cay__addr_t *flow);

/**
 * Set who is told of failed UDP flows (NULL: nobody).
 * @thread the shard's
 */
void cay__registrar_set_udp_flow_failed(cay__registrar_t *reg,
                                        cay__registrar_flow_fn fn, void *arg);

/* Contacts a call tries at most (the registrar keeps up to
 * registrar.max_bindings per AOR). */
#define CAY__LOOKUP_MAX 16

/** A contact of an AOR, as cay__registrar_lookup() hands it out. */
typedef struct cay__contact {
  char uri[CAY__CONTACT_MAX];
  int q;            /* thousandths; -1: none given */
  int by_flow;      /* 1: a call goes to @c flow, not where @c uri says */
  cay__peer_t flow; /* the REGISTER's flow (RFC 5626 section 5.3): its
                       transport, source address and TCP connection */
  char path[CAY__PATH_MAX]; /* the route to it (RFC 3327 section 5.3:
                               the REGISTER's Path values, a Route
                               header's value); "" = none */
} cay__contact_t;

/**
 * The contacts AOR @p aor (canonical) is bound to now, this shard's own
 * or its copy of another shard's, in the order a call tries them (RFC
 * 3261 section 16.6: highest q first, a contact without q counting as
 * 1.0, the most recently registered first among equals).
 * @param out  Room for @p max contacts. Borrowed.
 * @return How many were written (0: not registered).
 * @thread the shard's
 */
unsigned cay__registrar_lookup(cay__registrar_t *reg, const char *aor,
                               cay__contact_t *out, unsigned max);

/**
 * Digest authentication (RFC 3261 section 22, RFC 2617) of request @p t
 * against cay_config_t.reg_users: of a REGISTER (@p proxy 0: 401 and
 * WWW-Authenticate, Authorization), or of an INVITE a route takes with
 * authenticate: true (@p proxy 1: 407 and Proxy-Authenticate,
 * Proxy-Authorization, RFC 3261 section 22.3). Without credentials for
 * the realm (cay_config_t.reg_realm, else the Request-URI's host), or
 * with a nonce that is not Cay's, the request gets a challenge (MD5, qop
 * auth), and with one older than 5 minutes one with stale=true; with
 * credentials that do not verify, or of a user other than @p user, 403
 * (each such refusal counts toward a ban of the source's IP address,
 * cay_config_t.reg_ban_failures, unless it is in reg_ban_exempt); while
 * the source is banned, 403 "Forbidden - Too Many Failures" at once,
 * credentials unread.
 * @param user  The user the credentials must be of: the AOR's (To), or
 *              the caller's (From). Borrowed.
 * @return 0: the request may go on (good credentials, or no users
 *         configured); 1: it was answered.
 * @thread the shard's
 */
int cay__digest_check(cay__registrar_t *reg, const cay_config_t *cfg,
                      cay__txn_t *t, const sip_t *sip, const char *user,
                      int proxy);

/**
 * Told after every change to an AOR this shard owns (a binding added,
 * refreshed, moved off its flow, removed or expired), for the store that
 * keeps the bindings across restarts. The AOR may have no binding left.
 * Not told of copies, nor when the registrar is destroyed (the bindings
 * outlive the process), nor of what cay__registrar_restore() sets.
 * @param aor  Canonical; borrowed for the call.
 */
typedef void (*cay__registrar_store_fn)(void *arg, const char *aor);

/**
 * Set who is told of changes to this shard's own AORs (NULL: nobody).
 * @thread the shard's
 */
void cay__registrar_set_store(cay__registrar_t *reg,
                              cay__registrar_store_fn store, void *arg);

/**
 * This shard's AOR @p aor as a record (persist.c: text, one line per
 * binding with the wall-clock time it expires at) for
 * cay__registrar_restore() in a later process.
 * @param wall_ms  Now, in ms since 1970 (CLOCK_REALTIME).
 * @param out      Receives the record (not NUL-terminated; cay__free()),
 *                 or NULL when the AOR has no binding. Returned.
 * @param len      Receives its length in bytes.
 * @param ttl_ms   Receives how long the record is worth keeping: until
 *                 its last binding expires, in ms (at least 1).
 * @return 0 or -ENOMEM.
 * @thread the shard's
 */
int cay__registrar_record(cay__registrar_t *reg, const char *aor,
                          uint64_t wall_ms, char **out, size_t *len,
                          uint64_t *ttl_ms);

/** What cay__registrar_restore() did with a record's bindings. */
typedef struct cay__restore_counts {
  unsigned restored; /* bound again for the time they had left */
  unsigned expired;  /* their time ran out meanwhile */
  unsigned dropped;  /* over a TCP, TLS or WebSocket flow, which a new
                        process does not have, with nothing else reaching
                        them (RFC 5626 section 7) */
} cay__restore_counts_t;

/**
 * Bind the bindings of record @p record (cay__registrar_record(), of an
 * earlier process) to this shard's AOR @p aor again, each for the time
 * it had left at @p wall_ms. A binding that took a UDP flow keeps it
 * (watched for keep-alives as its record says, heard now); one
 * that took a connection is called at its contact, or dropped when
 * nothing but that connection reached it. The other shards' copies
 * follow (cay__registrar_set_share()); the store is not told. No limit
 * (reg_max_bindings, reg_max_aors) applies: they were checked when the
 * bindings were made.
 * @param aor     Canonical (cay__aor_of()), of this shard
 *                (cay__aor_shard()). Borrowed.
 * @param record  @p len bytes. Borrowed.
 * @param n       Counts are added to it. Borrowed.
 * @return 0; -EINVAL: @p aor is not canonical or the record is not one
 *         (nothing is bound); -ENOMEM (the bindings before it are bound).
 * @thread the shard's, or any while the shard's loop does not run
 */
int cay__registrar_restore(cay__registrar_t *reg, const char *aor,
                           const char *record, size_t len, uint64_t wall_ms,
                           cay__restore_counts_t *n);

/**
 * Call @p fn for each AOR this shard owns (its canonical name, borrowed
 * for the call). @p fn must not change the bindings.
 * @thread the shard's
 */
void cay__registrar_each_aor(cay__registrar_t *reg,
                             void (*fn)(void *arg, const char *aor), void *arg);

/** AORs with at least one binding now. @thread the shard's */
unsigned cay__registrar_aors(const cay__registrar_t *reg);

/** Bindings now, all AORs. @thread the shard's */
unsigned cay__registrar_bindings(const cay__registrar_t *reg);

#endif
