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
 * route without a contact or failover target (480 with the Warning of
 * RFC 5630 for a sips: Request-URI no binding reaches over TLS), 500
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

#endif
