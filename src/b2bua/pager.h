/*
 * Instant messages outside a dialog (RFC 3428, the pager model) through
 * a forward route: Cay takes the sender's MESSAGE as a UAS and sends one
 * of its own (a new Call-ID, From tag and CSeq, the body and its
 * Content-Type as they came) to the route's target, or for a location
 * route to the contacts the Request-URI's AOR registered, then the
 * failover targets, until one answers; the sender gets that answer.
 * Nothing outlives it: a MESSAGE makes no dialog (section 4). The same
 * MESSAGE come again by another path is merged (482, RFC 3261 section
 * 8.2.2.2, pager_merge.c).
 *
 * Everything here runs on the shard that owns the sender's Call-ID; the
 * MESSAGE Cay sends has a Call-ID of the same shard (DESIGN.md rule 2),
 * so its responses come back there.
 */
#ifndef CAY_B2BUA_PAGER_H
#define CAY_B2BUA_PAGER_H

#include <sofia-sip/sip.h>

#include "b2bua/route.h"
#include "dialog/session.h"
#include "sip/txn.h"

/**
 * Relay MESSAGE @p t (its request @p sip, outside a dialog) by forward
 * route @p route of the shard's table (held until the relay ends). The
 * sender's transaction gets the final response later: the target's 2xx
 * as it came (200 or 202), a failure mapped as for an INVITE
 * (cay__bridge_map_failure(): 503 becomes 500, 401/407 403, a redirect
 * 480), 408 when no target answered, 480 "Not Registered" for a location
 * route without a contact or failover target (with
 * registrar.offline_messages, 202 once the AOR's store kept it instead,
 * or 480 "Message Store Full": cay__pager_store_offer()), 480 with the
 * Warning of RFC 5630 for a sips: Request-URI no binding reaches over
 * TLS, 500
 * when nothing could be sent. A target whose host is a name gets the
 * addresses DNS found in turn (cay__pager_located()). A target that fails
 * with 408, 480, a 5xx or a transport error is followed by the next
 * (cay__targets_next()). Request-URI user and domain expand the route's
 * target as for an INVITE.
 *
 * @param ss     The shard's session layer. Borrowed.
 * @param t      The sender's server transaction. Borrowed; its request
 *               is read again at each target, by its id.
 * @param route  A forward route of ss->routes. Borrowed.
 * @param target Its target expanded for @p t (cay__route_target()), or
 *               anything for a location route. Borrowed.
 * @thread the shard's
 * @rfc RFC 3428 sections 4 and 7 (a B2BUA's relay; RFC 3261 section 8.1
 *      for the request Cay sends, 16.6 item 3 for Max-Forwards)
 */
void cay__pager_start(cay__sessions_t *ss, cay__txn_t *t,
                      const cay_route_t *route, const char *target);

/**
 * A response to a MESSAGE the pager sent, from the session layer's
 * transaction user (dialog/layer.c): @p tu_id names the relay.
 * @return 1 when @p tu_id is a relay's (the response is taken), else 0.
 * @thread the shard's
 */
int cay__pager_response(cay__sessions_t *ss, cay_id_t tu_id, cay_id_t txn_id,
                        int status, msg_t *msg);

/**
 * End every relay at once (shutdown: the drain's grace is over): each
 * sender whose MESSAGE is still out gets 503 "Service Unavailable -
 * Shutting Down" (RFC 3261 section 21.5.4), as a new one would.
 * @thread the shard's
 */
void cay__pager_fini(cay__sessions_t *ss);

/**
 * The DNS answer for relay @p p while it locates its target's host (the
 * shard's resolver calls it, and tests as if DNS had answered): the
 * MESSAGE goes to @p t[0], and when it fails there with a transport
 * error, a 503, or no response (timer F, or the route's
 * no_response_timeout_ms), to @p t[1], and so on (RFC 3263 section 4.3:
 * a new transaction, CSeq one more, and the log says which address); any
 * other final response is that target's. The resolver learns from each
 * address what an INVITE's teaches it (cay__locate_heard()). When no
 * address is left the relay goes on to the next target as after a
 * transport failure (503). @p t is borrowed (1 to CAY__DNS_MAX_TARGETS
 * entries). No-op when @p p is not locating.
 * @thread the shard's
 * @rfc RFC 3263 section 4.3
 */
struct cay__dns_target;
void cay__pager_located(struct cay__pager *p, const struct cay__dns_target *t,
                        size_t n);

/* -- pager_merge.c ------------------------------------------------------ */

struct cay__merge_rec;

/**
 * RFC 3261 section 8.2.2.2: 1 when MESSAGE @p sip (a new request without
 * a To tag, which no server transaction matched) has the Call-ID, From
 * tag and CSeq number of a MESSAGE being relayed, or relayed and
 * answered while its server transaction is still Completed (timer J):
 * the same request by another path, which the caller answers 482 (Loop
 * Detected - Merged Request); else 0. O(1): one hash lookup.
 * @thread the shard's
 */
int cay__pager_merged(cay__sessions_t *ss, const sip_t *sip);

/**
 * Record MESSAGE @p sip, whose server transaction is @p in, as relayed,
 * for cay__pager_merged(). @return the record (the relay hands it to
 * cay__pager_merge_done() when it ends), or NULL without memory: that
 * MESSAGE is then relayed without merge detection.
 * @thread the shard's
 * @rfc RFC 3261 section 8.2.2.2
 */
struct cay__merge_rec *cay__pager_merge_add(cay__sessions_t *ss,
                                            const sip_t *sip, cay_id_t in);

/**
 * The relay of record @p r (NULL: none) has ended: the record stays while
 * the sender's transaction does (answered, Completed until timer J), at
 * most 65536 of them per shard, and is freed otherwise.
 * @thread the shard's
 * @rfc RFC 3261 sections 8.2.2.2 and 17.2.2
 */
void cay__pager_merge_done(cay__sessions_t *ss, struct cay__merge_rec *r);

/**
 * Free every record and the table (the shard's session layer ends;
 * after the relays, cay__pager_fini()).
 * @thread the shard's
 */
void cay__pager_merge_fini(cay__sessions_t *ss);

/* -- pager_store.c ------------------------------------------------------ *
 * MESSAGEs kept for an AOR that is not registered (store and forward, as
 * Kamailio's msilo does; RFC 3428 leaves it to the server): a location
 * route that finds neither a contact nor a failover target for a MESSAGE
 * hands it to the store of the AOR's shard (cay__aor_shard()) when
 * registrar.offline_messages is set, and its sender gets 202 (section
 * 7); the AOR's next REGISTER has the stored MESSAGEs sent to its
 * contacts, one at a time, in the order they came, each with a Date
 * header of when it came (RFC 3261 section 20.17). Kept in memory, and
 * written to registrar.store through cay__sessions_t.store_msgs
 * (cay__pager_store_record(), restored by cay__pager_store_restore());
 * without a store a restart loses them. */

/** The bytes a shard keeps for all AORs together, at most. */
#define CAY__PAGER_STORE_MAX_BYTES (8u << 20)

/**
 * Keep MESSAGE @p msg (@p len bytes, a request as it came, read from
 * @p src) for AOR @p aor (canonical, cay__aor_of()), an AOR of this
 * shard, for registrar.offline_message_s seconds; when the AOR has a
 * contact now (a REGISTER came meanwhile), it is sent at once. Counted
 * in messages_stored.
 * @param msg  Copied. Borrowed.
 * @return 0 (kept), -ENOSPC (the AOR has registrar.offline_messages
 *         kept already, or the shard keeps CAY__PAGER_STORE_MAX_BYTES),
 *         -EINVAL (storing is off: registrar.offline_messages is 0;
 *         @p aor is empty or too long), -ENOMEM.
 * @thread the shard's; only for an AOR of this shard
 */
int cay__pager_store_put(cay__sessions_t *ss, const char *aor, const char *msg,
                         size_t len, const cay__addr_t *src);

/**
 * AOR @p aor (canonical) of this shard was just registered to (a REGISTER
 * taken by the registrar; request.c): when messages are kept for it and
 * none is out now, the oldest is sent to its contacts as the route that
 * takes it now says (a forward route with `location: true`; without one
 * it is dropped, logged), then the next once a contact answers 2xx. A
 * MESSAGE a contact refuses (a final response other than 2xx, 408, 480
 * or 5xx) is dropped (messages_dropped); one nobody took (408, 480, 5xx,
 * no contact, a transport error) waits for the AOR's next REGISTER.
 * Each MESSAGE answered 2xx counts in messages_delivered. No-op when
 * nothing is kept for @p aor, or while the shard drains.
 * @thread the shard's
 * @rfc RFC 3428 section 4 (the MESSAGE sent), RFC 3261 section 20.17
 */
void cay__pager_store_registered(cay__sessions_t *ss, const char *aor);

/**
 * The AOR's shard has answered a MESSAGE that relay @p pager of this
 * shard handed it (cay__sessions_t.store_hand): @p err is
 * cay__pager_store_put()'s result there. The sender gets 202 for 0, 480
 * "Temporarily Unavailable - Message Store Full" for -ENOSPC, 480 "Not
 * Registered" for anything else. No-op when the relay has ended.
 * @thread the shard's
 * @rfc RFC 3428 section 7
 */
void cay__pager_store_answer(cay__sessions_t *ss, cay_id_t pager, int err);

/**
 * The MESSAGEs kept for AOR @p aor as a record for registrar.store
 * ("cay-messages 1", pager_store.c), their expiry as wall-clock times
 * from @p wall_ms (ms since 1970).
 * @param out     Receives the record (cay__malloc(), the caller frees),
 *                or NULL when none is kept for @p aor (its key is to go).
 * @param len     Receives its length in bytes.
 * @param ttl_ms  Receives how long until the last expires (>= 1), or 0.
 * @return 0 or -ENOMEM.
 * @thread the shard's
 */
int cay__pager_store_record(cay__sessions_t *ss, const char *aor,
                            uint64_t wall_ms, char **out, size_t *len,
                            uint64_t *ttl_ms);

/**
 * Keep again the MESSAGEs of record @p rec (@p len bytes, from
 * cay__pager_store_record() before a restart) for AOR @p aor of this
 * shard: those expired by @p wall_ms (now, ms since 1970) are skipped,
 * the others expire when the record says. Nothing is restored when
 * MESSAGEs are kept for @p aor already (they are newer: the record was
 * written over since). They go at the AOR's next REGISTER, as any.
 * @param restored  Receives how many were kept again.
 * @return 0, -EINVAL (not such a record, damaged; nothing restored) or
 *         -ENOMEM.
 * @thread the shard's, or any while the shard's loop does not run
 */
int cay__pager_store_restore(cay__sessions_t *ss, const char *aor,
                             const char *rec, size_t len, uint64_t wall_ms,
                             unsigned *restored);

/** Call @p fn for each AOR that has MESSAGEs kept. @thread the shard's */
void cay__pager_store_each_aor(cay__sessions_t *ss,
                               void (*fn)(void *arg, const char *aor),
                               void *arg);

/* Between pager.c and pager_store.c. */
struct cay__store_box;

/* Sender's MESSAGE @p t (relay @p pager of this shard) found no contact:
 * kept by the AOR's store, here (0 or cay__pager_store_put()'s error) or
 * handed to the AOR's shard (1: cay__pager_store_answer() follows), or
 * not (-EINVAL: storing is off; other errors: nothing handed). */
int cay__pager_store_offer(cay__sessions_t *ss, cay__txn_t *t, cay_id_t pager);

/* Send stored MESSAGE @p msg (owned from the call: freed with the relay,
 * or at once on error) by @p route to its AOR's contacts, with a Date
 * line of @p date; cay__pager_store_done(@p box, status) follows, even
 * when nothing could be sent. */
void cay__pager_deliver(cay__sessions_t *ss, const cay_route_t *route,
                        msg_t *msg, const char *date,
                        struct cay__store_box *box);

/* The delivery of @p box's oldest MESSAGE ended with final @p status
 * (mapped as for a sender, cay__bridge_map_failure()). */
void cay__pager_store_done(cay__sessions_t *ss, struct cay__store_box *box,
                           int status);

/**
 * Free every MESSAGE kept (the shard's session layer ends, after
 * cay__pager_fini()); when some were, they are lost, and a warning says
 * how many.
 * @thread the shard's
 */
void cay__pager_store_fini(cay__sessions_t *ss);

#endif
