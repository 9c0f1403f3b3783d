/*
 * Random calls through the B2BUA bridge on a virtual clock, for
 * test_bridge_random.c, which explains the draw and the checks: the call
 * record, and how the caller (A), the callee (B) and a transferee (C)
 * send, how what Cay sent is read back (rnd_scan()), and what must hold
 * once a call is over (rnd_check_call()). Every message the peer sends
 * goes through rnd_inject(), which damages one in RND_MUTATE_ONE_IN.
 */
#ifndef CAY_TEST_BRIDGE_RANDOM_H
#define CAY_TEST_BRIDGE_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/rand.h"
#include "support/peer.h"

#define RND_MUTATE_ONE_IN 30

typedef struct call {
  peer_t *p;
  cay__rand_t *r;
  unsigned id;
  uint64_t now; /* virtual ms since the call began */
  char a_cid[32], b_cid[128];
  char a_tag[96];    /* ";tag=X" of A's dialog, once Cay sent one */
  char invite[4096]; /* A's INVITE as sent, for retransmissions */
  char invite_branch[64];
  size_t invite_len;
  unsigned a_cseq, b_cseq, branch;
  unsigned seen;        /* messages Cay sent that scan() has read */
  int b_inv;            /* Cay's INVITE to B, or -1 */
  uint32_t b_inv_cseq;  /* its CSeq number */
  uint64_t b_inv_at;    /* when it was seen */
  int b_final_sent;     /* B sent a final response to it */
  int a_req, b_req;     /* Cay's latest other request to A / to B, or -1 */
  char a_re_branch[64]; /* A's latest re-INVITE, for its CANCEL */
  unsigned a_re_cseq;
  int a_final, b_final; /* Cay's latest final to an INVITE of A / B, or -1 */
  int invite_clean;     /* A's INVITE went out undamaged */
  int damaged;          /* some message of the call went out damaged */
  int b_2xx;            /* B sent a 2xx to Cay's INVITE (damaged or not) */
  int b_2xx_owed;       /* ... undamaged, in time: Cay owes an ACK */
  int b_acked;          /* Cay ACKed a 2xx of B's to its INVITE */
  int a_finals[4];      /* distinct final statuses to A's INVITE */
  unsigned n_a_finals;
  char a_bye[2][96], b_bye[2][96]; /* distinct branches of Cay's BYEs */
  unsigned n_a_bye, n_b_bye;
  /* C, with_c only: a new caller whose INVITE's Replaces names A's dialog
   * (RFC 3891, the end of an attended transfer). */
  int with_c;
  char c_cid[32];
  char c_tag[96];      /* ";tag=X" of Cay's final to C's INVITE */
  char c_branch[64];   /* C's INVITE's */
  char c_invite[4096]; /* as sent, for retransmissions */
  size_t c_invite_len;
  int c_sent, c_offer; /* C sent its INVITE; it had an offer */
  int c_invite_clean;  /* ... undamaged */
  int c_final, c_req;  /* Cay's latest final to C's INVITE / request */
  unsigned c_cseq;
  int c_finals[4]; /* distinct final statuses to C's INVITE */
  unsigned n_c_finals;
  char c_bye[2][96];
  unsigned n_c_bye;
  unsigned failovers; /* B legs Cay placed after the first (failover) */
  /* Reliable provisionals (RFC 3262), early mode only: A's INVITE
   * requires 100rel; RSeq of Cay's latest reliable 1xx to A (0: none),
   * for A's PRACK; B's next RSeq. */
  int early;
  uint32_t a_rseq;
  unsigned b_rseq;
  int b_rel_sdp;          /* the B leg sent a reliable 183 with SDP */
  unsigned early_updates; /* UPDATEs Cay sent before A's INVITE's final */
  char log[4096];         /* the events, for the failure message */
} call_t;

/** A number in 0..@p n-1 from the call's random source. */
unsigned rnd_pick(call_t *c, unsigned n);
/** Append @p fmt (one %s: @p arg) to the call's log of events. */
void rnd_note(call_t *c, const char *fmt, const char *arg);
/** Move the virtual clock @p ms milliseconds on. */
void rnd_advance(call_t *c, uint64_t ms);
/** Send @p len bytes from the peer, damaged one time in
 * RND_MUTATE_ONE_IN: 1 when they went out undamaged. */
int rnd_inject(call_t *c, const char *data, size_t len);
/** Read what Cay sent since the last scan and keep what the events and
 * the checks need (asserting what must hold of each message). */
void rnd_scan(call_t *c);
/** A request @p method from A into @p buf (@p size bytes): in A's dialog
 * once Cay gave it a tag; @p branch NULL: a new one; @p body of type
 * @p ct, or NULL. A PRACK acknowledges c->a_rseq. Its length. */
size_t rnd_build_a(call_t *c, char *buf, size_t size, const char *method,
                   const char *branch, unsigned cseq, const char *body,
                   const char *ct);
/** rnd_build_a() sent: 1 when undamaged. */
int rnd_a_send(call_t *c, const char *method, const char *branch, unsigned cseq,
               const char *body, const char *ct);
/** A request from C (its INVITE names A's dialog in a Replaces header,
 * RFC 3891) into @p buf: its length. */
size_t rnd_build_c(call_t *c, char *buf, size_t size, const char *method,
                   const char *branch, unsigned cseq, const char *body);
/** rnd_build_c() sent. */
void rnd_c_send(call_t *c, const char *method, const char *branch,
                unsigned cseq, const char *body);
/** A request from B in the B leg's dialog (B's tag "b1"); @p body is a
 * NOTIFY's sipfrag, else SDP, or NULL. */
void rnd_b_send(call_t *c, const char *method, const char *branch,
                unsigned cseq, const char *body);
/** Answer Cay's request @p i with @p status and header lines @p extra
 * ("" for none): a To without a tag gets B's "b1". 1 when it went out
 * undamaged. */
int rnd_reply_with(call_t *c, unsigned i, int status, const char *extra,
                   const char *sdp);
/** rnd_reply_with() without extra lines. */
int rnd_reply(call_t *c, unsigned i, int status, const char *sdp);
/** ACK the final response @p i to an INVITE (RFC 3261 17.1.1.3 for a
 * failure: its branch; 13.2.2.4 for a 2xx: a new one, from A sometimes
 * with @p answer). */
void rnd_ack(call_t *c, unsigned i, int from_a, const char *answer);
/** Assert what must hold once every timer of the call has run out. */
void rnd_check_call(call_t *c, peer_t *p);

#endif
