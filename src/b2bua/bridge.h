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
 * Loop detection for a forward: @p sip already passed through this Cay
 * (its sent-by is in a Via) and its Request-URI is @p target again.
 * @return 1 loop (answer 482), 0 not.
 * @thread owner
 */
int cay__bridge_is_loop(const cay__sessions_t *ss, const sip_t *sip,
                        const char *target);

#endif
