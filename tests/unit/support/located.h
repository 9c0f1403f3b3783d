/*
 * Outgoing sessions whose targets DNS found (RFC 3263), for unit tests: a
 * peer (support/peer.h) whose session layer has a resolver, targets handed
 * to a session as if DNS had answered, and checks of what Cay sent where.
 */
#ifndef CAY_TEST_LOCATED_H
#define CAY_TEST_LOCATED_H

#include <stdint.h>

#include "dialog/session_int.h"
#include "support/peer.h"

/** What a session's callback saw: each event's state and status. */
typedef struct record {
  int n;
  cay_session_state_t states[8];
  int statuses[8];
} record_t;

/** A cay_session_cb that appends to the record_t @p arg (the first 8). */
void record_event(cay_session_t *s, const cay_session_event_t *ev, void *arg);

/** A peer whose session layer has a resolver, which remembers targets
 * that failed for @p failed_s (0: not at all). It answers "localhost"
 * from /etc/hosts and asks a closed port on 127.0.0.1 for anything else,
 * so no DNS server is needed. */
peer_t *peer_with_resolver(unsigned failed_s);
/** Close the resolver of @p p (from peer_with_resolver()), then
 * peer_free() it. */
void peer_without_resolver(peer_t *p);
/** Session @p s, still locating, gets @p n (at most 4) targets on
 * 127.0.0.1 at ports 5071, 5072, ... (TCP for the second when
 * @p second_tcp), as if DNS had answered. */
void located(cay__session_t *s, size_t n, int second_tcp);
/** What Cay sent as message @p i: its method, port, transport and CSeq
 * number. */
void expect_sent(peer_t *p, unsigned i, const char *method, unsigned port,
                 int proto, uint32_t cseq);
/** Whether the resolver of @p p remembered 127.0.0.1:@p port as failed
 * (asking forgets it). */
int was_failed(peer_t *p, unsigned port);

#endif
