/*
 * The B2BUA bridge (issue 5): an incoming call forwarded by a route as a
 * new outgoing call on the same shard, the two legs kept in step. See
 * bridge.c for the relay rules.
 */
#ifndef CAY_B2BUA_BRIDGE_H
#define CAY_B2BUA_BRIDGE_H

#include "dialog/session.h"

/**
 * Bridge the new incoming session @p a (INCOMING, created for the embedder,
 * not yet answered) to @p target: place the B leg with A's offer (filtered
 * by the route's codecs), Max-Forwards one less, From as A's. A's events
 * and B's are relayed from then on (RFC 3261 sections 13-16 as a B2BUA).
 *
 * @param sip     A's INVITE. Borrowed.
 * @param route   The matching forward route, in ss->routes; the bridge
 *                holds that table (cay__routes_hold()) until it ends, so
 *                a reload does not pull the route from under it.
 *                Borrowed.
 * @param target  The expanded target URI. Borrowed.
 * @return 0; or CAY_ENOCODEC (no codec left after filtering: reject A
 *         488), CAY_EPARSE, -EINVAL (target unusable), -ENOMEM, or the
 *         first send's error, with A untouched: the caller rejects it.
 * @thread owner (A's shard)
 */
int cay__bridge_start(cay__sessions_t *ss, cay__session_t *a, const sip_t *sip,
                      const cay_route_t *route, const char *target);

/**
 * A call a forward route took that cay__bridge_start() could not place
 * (no B leg): its detail record (b2bua/cdr.h), with ended_by "refused"
 * and @p status, the final response the caller is about to get, goes to
 * the shard's sink (none: nothing).
 *
 * @param a    The incoming session. Borrowed.
 * @param sip  Its INVITE. Borrowed.
 * @thread owner
 */
void cay__bridge_refused(cay__sessions_t *ss, cay__session_t *a,
                         const sip_t *sip, int status);

/**
 * The detail record (b2bua/cdr.h) of the call A's INVITE @p sip starts:
 * its start time now, its parties, its source (transaction @p t's, when
 * @p t is not NULL).
 *
 * @return the record (cay__cdr_free(), or cay__bridge_cdr_write()), or
 *         NULL: no memory (counted in cdrs_lost; the call goes on
 *         without one).
 * @thread owner
 */
struct cay__cdr *cay__bridge_cdr_begin(cay__sessions_t *ss, const cay__txn_t *t,
                                       const sip_t *sip);

/**
 * Record @p r handed to the shard's sink as its JSON line and view
 * (cdrs counts it; cdrs_lost when it cannot be formatted; no sink, as
 * after a reload that dropped cdr:, drops it), then freed.
 *
 * @param r  Taken.
 * @thread owner
 */
void cay__bridge_cdr_write(cay__sessions_t *ss, struct cay__cdr *r);

/**
 * An initial INVITE the routes refused (no route matched: 404; a reject
 * route; a forward that loops: 482), or whose session timer is below
 * our Min-SE (RFC 4028 section 9: 422): its detail record, with ended_by
 * "rejected", attempts 0 and @p status, the final response the caller
 * got, goes to the shard's sink (none: nothing). Not for an
 * authentication challenge (the caller tries again).
 *
 * @param t    Its server transaction. Borrowed.
 * @param sip  The INVITE. Borrowed.
 * @thread owner
 */
void cay__bridge_rejected(cay__sessions_t *ss, const cay__txn_t *t,
                          const sip_t *sip, int status);

/**
 * An INVITE with Replaces naming leg @p old of a bridged call (RFC 3891
 * section 3): the new incoming session @p s (INCOMING, created for the
 * embedder, not yet answered) is to take @p old's place. The other leg is
 * sent a re-INVITE with @p s's offer (the route's codecs only), or
 * without one when the INVITE had none; its answer decides: a 2xx answers
 * @p s, @p old gets BYE and @p s is its side of the call from then; a
 * failure refuses @p s (mapped as for a first INVITE) and @p old stays.
 * A call that ends meanwhile refuses @p s with 480.
 *
 * @param s    The new session. Borrowed; its callback is the bridge's.
 * @param old  The dialog the Replaces header names, CONFIRMED. Borrowed.
 * @param sip  @p s's INVITE. Borrowed.
 * @return 0; CAY_ENOTFOUND (@p old is not a leg of a bridge: refuse
 *         @p s 403), CAY_ESTATE (the call is not confirmed, or a
 *         re-INVITE or another join is in progress on it: 491),
 *         CAY_ENOCODEC (none of the route's codecs in the offer: 488),
 *         -ENOMEM or a send error (500); @p s is untouched on error.
 * @thread owner (the call's shard)
 */
int cay__bridge_replace(cay__sessions_t *ss, cay__session_t *s,
                        cay__session_t *old, const sip_t *sip);

/**
 * Loop detection for a forward: @p sip already passed through this Cay
 * (its sent-by is in a Via) and its Request-URI is @p target again.
 * @return 1 loop (answer 482), 0 not.
 * @thread owner
 */
int cay__bridge_is_loop(const cay__sessions_t *ss, const sip_t *sip,
                        const char *target);

#endif
