/*
 * A call through Cay's B2BUA bridge for unit tests (test_bridge.c,
 * test_bridge_dialog.c). The fixture's peer plays both sides: A (the
 * caller) sends from 127.0.0.1:5070, and the B leg's target is the same
 * address, so every message Cay sends lands in p->sent; A-leg and B-leg
 * messages are told apart by Call-ID ("a-leg" is A's).
 */
#ifndef CAY_TEST_BRIDGE_CALL_H
#define CAY_TEST_BRIDGE_CALL_H

#include <stddef.h>

#include "cay/config.h"
#include "support/peer.h"

/** B's offer in a 2xx: PCMU and PCMA on 127.0.0.9:7000. */
extern const char b_offer_pcmu_pcma[];
/** B's Contact header line. */
extern const char contact_b[];

/** Routes: "^serv" forwarded to sip:${ruri_user}@127.0.0.1:5070 with
 * @p max_s, @p ring_s and the one codec @p codec (NULL: all); "^busy$"
 * rejected 486. */
cay_config_t bridge_config(long max_s, unsigned ring_s, const char *codec);
/* A's INVITE (Call-ID "a-leg", From tag ft1, PCMU/PCMA/101) to user
 * @p user, with the header lines @p extra. */
void invite_a(peer_t *p, const char *user, const char *extra);
/* Index of the last message Cay sent for the B leg (any Call-ID but A's)
 * with @p status / @p method, or -1. */
int b_msg(peer_t *p, int status, const char *method);
/* Answer Cay's request @p i (a B-leg request) as the callee whose To tag
 * is @p tag when the request has none. */
void respond_as(peer_t *p, unsigned i, const char *tag, const char *status,
                const char *extra, const char *sdp);
/* Answer Cay's request @p i as the callee (To tag b1). */
void respond(peer_t *p, unsigned i, const char *status, const char *extra,
             const char *sdp);
/* A calls, B rings and answers, A ACKs: A's To tag in @p a_tag. */
void bridged_call(peer_t *p, char *a_tag, size_t n);
/* A request @p method from A in its dialog (A's To tag @p tag), no
 * body. */
void a_request(peer_t *p, const char *method, const char *branch,
               const char *cseq, const char *tag);
/* a_request() with header lines @p extra ("Name: value\r\n"...). */
void a_request_with(peer_t *p, const char *method, const char *branch,
                    const char *cseq, const char *tag, const char *extra);
/* A re-INVITE from A in the bridged call (A's To tag @p tag) offering
 * @p sdp. */
void reinvite_a(peer_t *p, const char *branch, const char *cseq,
                const char *tag, const char *sdp);
/* A request from B in the B leg's dialog (B's tag "b1", as respond()
 * gives it), Cay's INVITE to B being sent message @p inv. */
void b_request(peer_t *p, unsigned inv, const char *method, unsigned cseq);
/* b_request() with header lines @p extra and, when @p ctype is set, body
 * @p body. */
void b_request_with(peer_t *p, unsigned inv, const char *method, unsigned cseq,
                    const char *extra, const char *ctype, const char *body);
/* Index of the last final response Cay sent to A with CSeq @p cseq
 * ("2 INFO"), or -1. */
int a_response(peer_t *p, const char *cseq);
/* Assert that A got a final response @p status with CSeq @p cseq: its
 * index. */
unsigned a_final_is(peer_t *p, const char *cseq, int status);
/* A's INFO application/dtmf-relay (Signal=5) in its dialog. */
void a_info(peer_t *p, const char *branch, const char *cseq, const char *tag);
/* Assert that no session and no bridge is left. */
void call_gone(peer_t *p);
/* The body of sent message @p i (after the blank line). */
const char *body_of(peer_t *p, unsigned i);

#endif
