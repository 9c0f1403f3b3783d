/*
 * RFC 3261 section 17 (with RFC 6026): server and client transactions,
 * driven by a scripted peer on a virtual clock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "support/peer.h"

#define T1 500
#define T2 4000
#define T4 5000

static void
invite(peer_t *p, const char *cid, const char *branch, const char *codecs)
{
  peer_send(p, "invite.sip", "branch", branch, "fromtag", "ft1", "callid", cid,
            "codecs", codecs, "extra", "", NULL);
}

static void
request(peer_t *p, const char *method, const char *cid, const char *branch,
        const char *cseq, const char *totag)
{
  peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
            "ft1", "callid", cid, "cseq", cseq, "totag", totag, "maxfwd", "70",
            "extra", "", NULL);
}

/* A bare transaction user in place of the session layer: it records what
 * the endpoint hands it, and answers 200 at once when asked to, so a test
 * sees the transaction layer alone. */
static struct bare {
  cay_id_t txn;            /* the last new server transaction */
  unsigned requests, acks; /* on_request / on_ack calls */
  int answer;              /* 200 from inside on_request */
  int state_after;         /* cay__txn_state() right after that 200 */
  int found_after;         /* cay__txn_lookup() found it by id then */
} bare;

static void
bare_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip)
{
  cay__endpoint_t *ep = arg;

  (void)msg;
  (void)sip;
  bare.txn = cay__txn_id(t);
  bare.requests++;
  if (bare.answer) {
    ck_assert_int_eq(cay__txn_reply(t, 200, NULL, "bare"), 0);
    bare.state_after = cay__txn_state(t);
    bare.found_after = cay__txn_lookup(ep, bare.txn) != NULL;
  }
}

static void
bare_on_ack(void *arg, msg_t *msg, sip_t *sip)
{
  (void)arg;
  (void)msg;
  (void)sip;
  bare.acks++;
}

static peer_t *
bare_peer(int answer)
{
  peer_t *p = peer_new(NULL);

  memset(&bare, 0, sizeof bare);
  bare.answer = answer;
  p->ep.tu.on_request = bare_on_request;
  p->ep.tu.on_ack = bare_on_ack;
  p->ep.tu.on_response = NULL;
  p->ep.tu.arg = &p->ep;
  return p;
}

/* INVITE with branch @p branch, answered 200 by the bare TU. */
static void
accepted_invite(peer_t *p, const char *cid, const char *branch)
{
  invite(p, cid, branch, "0");
  ck_assert_int_eq(peer_last_status(p), 200);
}

START_TEST(txn_17_2_1_tu_answering_at_once_means_no_100)
{
  /* 17.2.1: no 100 Trying when the TU responds at once (ring_ms 0). */
  peer_t *p = peer_new(NULL);

  invite(p, "c1", "z9hG4bK-a", "0 8 101");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_int_eq(peer_status(p, 0), 180);
  ck_assert_int_eq(peer_status(p, 1), 200);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_1_slow_tu_gets_100_trying)
{
  cay_config_t cfg;
  cay_config_init(&cfg);
  cfg.ring_ms = 1000;
  peer_t *p = peer_new(&cfg);

  invite(p, "c1", "z9hG4bK-a", "0 8 101");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 100);
  peer_advance(p, 1000);
  ck_assert_int_eq(peer_status(p, 1), 180);
  ck_assert_int_eq(peer_status(p, 2), 200);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_1_invite_retransmission_resends_last_provisional)
{
  cay_config_t cfg;
  cay_config_init(&cfg);
  cfg.answer_after_ms = 10000;
  peer_t *p = peer_new(&cfg);

  invite(p, "c1", "z9hG4bK-a", "0 8 101");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 180);
  invite(p, "c1", "z9hG4bK-a", "0 8 101");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(p->sent[1].data, p->sent[0].data);
  ck_assert_uint_eq(p->shard.stats.calls_in, 1);
  ck_assert_uint_eq(p->shard.stats.responses_1xx, 1); /* not the resend */
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_1_timer_g_retransmits_error_response_until_h)
{
  /* 488 (no common codec) is a non-2xx final response: G at T1, 2T1,
   * 4T1, T2, T2... until H = 64*T1 ends the transaction. */
  peer_t *p = peer_new(NULL);
  unsigned expect = 1;

  invite(p, "c1", "z9hG4bK-a", "18");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 488);
  unsigned interval = T1;
  uint64_t elapsed = 0;
  while (elapsed + interval < 64 * T1) {
    peer_advance(p, interval);
    elapsed += interval;
    expect++;
    ck_assert_uint_eq(p->nsent, expect);
    ck_assert_str_eq(p->sent[expect - 1].data, p->sent[0].data);
    interval = interval * 2 > T2 ? T2 : interval * 2;
  }
  peer_advance(p, 64 * T1 - elapsed);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  /* Timer G's copies are retransmissions, not responses of their own. */
  ck_assert_uint_eq(p->shard.stats.responses_4xx, 1);
  ck_assert_uint_eq(p->shard.stats.retransmits, expect - 1);
  unsigned n = p->nsent;
  peer_advance(p, 10 * T2);
  ck_assert_uint_eq(p->nsent, n);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_1_ack_stops_timer_g_and_timer_i_ends)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  invite(p, "c1", "z9hG4bK-a", "18");
  ck_assert_int_eq(peer_status(p, 0), 488);
  /* 17.1.1.3: the ACK for a non-2xx uses the INVITE's branch. */
  request(p, "ACK", "c1", "z9hG4bK-a", "1", peer_to_tag(p, 0, tag, sizeof tag));
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, T4 - 1);
  ck_assert_uint_eq(p->nsent, 1); /* Confirmed: no more retransmissions */
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0); /* timer I */
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_2_request_retransmission_resends_final)
{
  peer_t *p = peer_new(NULL);

  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_int_eq(peer_status(p, 0), 200);
  ck_assert_str_eq(p->sent[1].data, p->sent[0].data);
  ck_assert_uint_eq(p->shard.stats.retransmits, 1);
  ck_assert_uint_eq(p->shard.stats.responses_2xx, 1);
  peer_free(p);
}
END_TEST

/* The requests received, by method: a retransmission counts again (as
 * in msgs_in), an extension method in requests_other, a request that
 * fails the checks of 8.2 (a bad CSeq: 400) in bad_requests only. */
START_TEST(txn_requests_counted_by_method)
{
  peer_t *p = peer_new(NULL);

  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  request(p, "MESSAGE", "c2", "z9hG4bK-m", "1", "");
  request(p, "FROBNICATE", "c3", "z9hG4bK-f", "1", "");
  peer_send(p, "request.sip", "method", "OPTIONS", "branch", "z9hG4bK-x",
            "fromtag", "ft1", "callid", "c4", "cseq", "x", "totag", "",
            "maxfwd", "70", "extra", "", NULL); /* bad CSeq: 400 */
  ck_assert_uint_eq(p->shard.stats.bad_requests, 1);
  ck_assert_uint_eq(p->shard.stats.requests_options, 2);
  ck_assert_uint_eq(p->shard.stats.requests_message, 1);
  ck_assert_uint_eq(p->shard.stats.requests_other, 1);
  ck_assert_uint_eq(p->shard.stats.requests_invite, 0);
  invite(p, "c5", "z9hG4bK-i", "0");
  ck_assert_uint_eq(p->shard.stats.requests_invite, 1);
  ck_assert_uint_eq(p->shard.stats.msgs_in, 6);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_2_timer_j_ends_transaction)
{
  peer_t *p = peer_new(NULL);

  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  ck_assert_uint_eq(p->ep.live_txns, 1);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0); /* final sent */
  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  /* After J, the same request is new again and answered anew. */
  request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "");
  ck_assert_uint_eq(p->nsent, 2);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_2_3_rfc2543_fallback_matches_retransmission)
{
  /* No magic cookie: matched on Request-URI, From tag, Call-ID, CSeq and
   * top Via. The retransmitted INVITE is not a second call. */
  cay_config_t cfg;
  cay_config_init(&cfg);
  cfg.answer_after_ms = 10000;
  peer_t *p = peer_new(&cfg);

  invite(p, "c2543", "old-style-1", "0");
  invite(p, "c2543", "old-style-1", "0");
  ck_assert_uint_eq(p->shard.stats.calls_in, 1);
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(p->sent[1].data, p->sent[0].data);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_accepted_absorbs_invite_then_timer_l)
{
  peer_t *p = peer_new(NULL);

  char tag[64];
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(p->nsent, 2);
  /* RFC 6026 section 7.1: a retransmitted INVITE in Accepted is absorbed
   * by the transaction (the 2xx is the TU's to retransmit). */
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_uint_eq(p->shard.stats.calls_in, 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  request(p, "ACK", "c1", "z9hG4bK-ack", "1",
          peer_to_tag(p, 1, tag, sizeof tag));
  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0); /* timer L */
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_accepted_outlives_its_id)
{
  /* RFC 6026 section 7.1: the 2xx moves the transaction to Accepted. Cay
   * keeps it as a compact record: the TU still sees Accepted through its
   * pointer until the end of the event, but the id no longer resolves. */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c1", "z9hG4bK-a");
  ck_assert_int_eq(bare.state_after, CAY__TXN_ACCEPTED);
  ck_assert_int_eq(bare.found_after, 0);
  ck_assert_ptr_null(cay__txn_lookup(&p->ep, bare.txn));
  ck_assert_uint_eq(p->ep.live_txns, 1);
  ck_assert_uint_eq(p->ep.accepted.count, 1);
  ck_assert_uint_eq(p->ep.server_txns.count, 0);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_invite_retransmission_in_accepted_absorbed)
{
  /* RFC 6026 section 7.1: a retransmitted INVITE in Accepted is absorbed:
   * no response from the transaction (the TU retransmits its 2xx), and
   * the TU does not see a new request. */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c1", "z9hG4bK-a");
  unsigned n = p->nsent;
  invite(p, "c1", "z9hG4bK-a", "0");
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(p->nsent, n);
  ck_assert_uint_eq(bare.requests, 1);
  ck_assert_uint_eq(bare.acks, 0);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_rfc2543_invite_retransmission_absorbed)
{
  /* 17.2.3 fallback matching (no magic cookie) finds the Accepted record
   * too. */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c2543", "old-style-1");
  unsigned n = p->nsent;
  invite(p, "c2543", "old-style-1", "0");
  ck_assert_uint_eq(p->nsent, n);
  ck_assert_uint_eq(bare.requests, 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_ack_matching_accepted_reaches_tu)
{
  /* RFC 6026 section 7.1: an ACK that matches the Accepted transaction (a
   * client that reuses the INVITE's branch) is passed to the TU, which
   * owns the 2xx and its ACK (RFC 3261 section 13.3.1.4). */
  peer_t *p = bare_peer(1);
  char tag[64];

  accepted_invite(p, "c1", "z9hG4bK-a");
  unsigned n = p->nsent;
  request(p, "ACK", "c1", "z9hG4bK-a", "1",
          peer_to_tag(p, n - 1, tag, sizeof tag));
  ck_assert_uint_eq(bare.acks, 1);
  ck_assert_uint_eq(bare.requests, 1);
  ck_assert_uint_eq(p->nsent, n); /* an ACK is never answered */
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_ack_for_2xx_reaches_tu_and_confirms)
{
  /* 17.2.3 / 13.3.1.4: the ACK for a 2xx has a branch of its own and
   * matches no transaction; the session gets it and stops resending the
   * 2xx, while the Accepted record still absorbs the INVITE. */
  peer_t *p = peer_new(NULL);
  char tag[64];

  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_int_eq(peer_status(p, 1), 200);
  request(p, "ACK", "c1", "z9hG4bK-ack", "1",
          peer_to_tag(p, 1, tag, sizeof tag));
  ck_assert_int_eq(cay__session_state(cay__sessions_any(&p->ss)),
                   CAY__SESSION_CONFIRMED);
  invite(p, "c1", "z9hG4bK-a", "0");
  peer_advance(p, 10 * T1);
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_uint_eq(p->shard.stats.calls_in, 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_timer_l_ends_accepted_without_leak)
{
  /* RFC 6026 section 7.1: timer L = 64*T1 ends the Accepted transaction;
   * then the same INVITE is a new request again. Nothing stays allocated
   * (the first call warms up the tables that never shrink). */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c0", "z9hG4bK-0");
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  long live = cay__alloc_live();

  accepted_invite(p, "c1", "z9hG4bK-a");
  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(bare.requests, 2);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  ck_assert_uint_eq(p->ep.accepted.count, 0);
  ck_assert_int_eq(cay__alloc_live(), live);
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(bare.requests, 3);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_each_record_gets_its_own_timer_l)
{
  /* One endpoint timer serves every record, oldest first: each still
   * ends exactly 64*T1 after its own 2xx. */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c1", "z9hG4bK-a");
  peer_advance(p, 100);
  accepted_invite(p, "c2", "z9hG4bK-b");
  peer_advance(p, 250);
  accepted_invite(p, "c3", "z9hG4bK-c");
  ck_assert_uint_eq(p->ep.live_txns, 3);
  peer_advance(p, 64 * T1 - 350 - 1);
  ck_assert_uint_eq(p->ep.live_txns, 3);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 2);
  /* The younger ones still absorb their INVITEs. */
  invite(p, "c2", "z9hG4bK-b", "0");
  invite(p, "c3", "z9hG4bK-c", "0");
  ck_assert_uint_eq(bare.requests, 3);
  peer_advance(p, 99);
  ck_assert_uint_eq(p->ep.live_txns, 2);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 249);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* @p n calls "<prefix><i>" answered 200, one per ms. */
static void
accepted_calls(peer_t *p, const char *prefix, unsigned from, unsigned n)
{
  char cid[32], branch[48];

  for (unsigned i = from; i < from + n; i++) {
    snprintf(cid, sizeof cid, "%s%u", prefix, i);
    snprintf(branch, sizeof branch, "z9hG4bK-%s%u", prefix, i);
    accepted_invite(p, cid, branch);
    peer_clear(p);
    peer_advance(p, 1);
  }
}

/* Does the INVITE of call "<prefix><i>" still get absorbed? */
static int
absorbed(peer_t *p, const char *prefix, unsigned i)
{
  unsigned before = bare.requests;
  char cid[32], branch[48];

  snprintf(cid, sizeof cid, "%s%u", prefix, i);
  snprintf(branch, sizeof branch, "z9hG4bK-%s%u", prefix, i);
  invite(p, cid, branch, "0");
  peer_clear(p);
  return bare.requests == before;
}

START_TEST(txn_rfc6026_7_1_many_accepted_wrap_and_grow_in_due_order)
{
  /* Entries leave oldest first and more than the first allocation holds
   * stay findable, also when the table grows after wrapping around. */
  peer_t *p = bare_peer(1);

  accepted_calls(p, "a", 0, 200);          /* at ms 0..199 */
  peer_advance(p, 64 * T1 - 200 + 149);    /* now 64*T1 + 149 */
  ck_assert_uint_eq(p->ep.live_txns, 50);  /* a0..a149 ended */
  accepted_calls(p, "b", 0, 400);          /* wraps, then grows */
  ck_assert_uint_eq(p->ep.live_txns, 400); /* a150..a199 ended too */
  ck_assert_int_eq(absorbed(p, "b", 0), 1);
  ck_assert_int_eq(absorbed(p, "b", 255), 1);
  ck_assert_int_eq(absorbed(p, "b", 399), 1);
  ck_assert_int_eq(absorbed(p, "a", 199), 0); /* a new call again */
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_records_freed_at_teardown)
{
  /* Records still waiting for timer L are freed with the endpoint
   * (peer_free proves no allocation is left). */
  peer_t *p = bare_peer(1);

  accepted_invite(p, "c1", "z9hG4bK-a");
  accepted_invite(p, "c2", "z9hG4bK-b");
  ck_assert_uint_eq(p->ep.live_txns, 2);
  peer_free(p);
}
END_TEST

START_TEST(txn_rfc6026_7_1_without_memory_the_full_txn_stays)
{
  /* No memory for the record: the transaction stays whole in Accepted,
   * with its own timer L, and behaves the same. */
  peer_t *p = bare_peer(0);
  char tag[64];

  invite(p, "c1", "z9hG4bK-a", "0");
  cay__txn_t *t = cay__txn_lookup(&p->ep, bare.txn);
  ck_assert_ptr_nonnull(t);
  cay__alloc_fail_nth(1); /* the record is the first allocation */
  ck_assert_int_eq(cay__txn_reply(t, 200, NULL, "bare"), 0);
  cay__alloc_fail_nth(0);
  cay__shard_flush(&p->shard);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(p->ep.accepted.count, 0);
  t = cay__txn_lookup(&p->ep, bare.txn);
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(cay__txn_state(t), CAY__TXN_ACCEPTED);
  unsigned n = p->nsent;
  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_uint_eq(p->nsent, n);
  ck_assert_uint_eq(bare.requests, 1);
  request(p, "ACK", "c1", "z9hG4bK-a", "1",
          peer_to_tag(p, n - 1, tag, sizeof tag));
  ck_assert_uint_eq(bare.acks, 1);
  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_eq(p->ep.live_txns, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

START_TEST(txn_9_2_cancel_after_2xx_gets_200_with_the_invite_tag)
{
  /* RFC 3261 section 9.2: the INVITE transaction still exists (Accepted,
   * RFC 6026), so a late CANCEL gets 200, with the To tag of the INVITE's
   * responses, and has no effect on the call. */
  peer_t *p = peer_new(NULL);
  char t200[64], tcancel[64];

  invite(p, "c1", "z9hG4bK-a", "0");
  ck_assert_int_eq(peer_status(p, 1), 200);
  request(p, "CANCEL", "c1", "z9hG4bK-a", "1", "");
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_int_eq(peer_status(p, 2), 200);
  char *cseq = peer_header(p, 2, "CSeq");
  ck_assert_str_eq(cseq, "1 CANCEL");
  free(cseq);
  ck_assert_str_eq(peer_to_tag(p, 2, tcancel, sizeof tcancel),
                   peer_to_tag(p, 1, t200, sizeof t200));
  ck_assert_uint_eq(peer_count(p, 487, NULL), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_1_2_timer_e_retransmits_bye_and_f_gives_up)
{
  /* A BYE Cay sends (no ACK for the 200): E at T1 doubling to T2; F at
   * 64*T1 reports 408 and the session ends. */
  cay_config_t cfg;
  cay_config_init(&cfg);
  cfg.t1_ms = 100;
  peer_t *p = peer_new(&cfg);

  invite(p, "c1", "z9hG4bK-a", "0");
  peer_advance(p, 64 * 100); /* no ACK: BYE */
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  unsigned before = peer_count(p, 0, "BYE");
  ck_assert_uint_eq(before, 1);
  peer_advance(p, 100);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  peer_advance(p, 200);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 3);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_advance(p, 64 * 100);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

START_TEST(txn_17_1_3_final_response_completes_bye)
{
  cay_config_t cfg;
  cay_config_init(&cfg);
  cfg.t1_ms = 100;
  peer_t *p = peer_new(&cfg);

  invite(p, "c1", "z9hG4bK-a", "0");
  peer_advance(p, 64 * 100);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  char *via = peer_header(p, (unsigned)bye, "Via");
  char *from = peer_header(p, (unsigned)bye, "From");
  char *to = peer_header(p, (unsigned)bye, "To");
  char *cseq = peer_header(p, (unsigned)bye, "CSeq");
  peer_send(p, "response.sip", "status", "200", "phrase", "OK", "via", via,
            "from", from, "to", to, "callid", "c1", "cseq", cseq, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  unsigned n = p->nsent;
  peer_advance(p, 10 * T2);
  ck_assert_uint_eq(p->nsent, n); /* no more BYE retransmissions */
  free(via);
  free(from);
  free(to);
  free(cseq);
  peer_free(p);
}
END_TEST

static Suite *
txn_suite(void)
{
  Suite *s = suite_create("rfc3261_17_transactions");
  TCase *tc = tcase_create("txn");

  tcase_add_test(tc, txn_17_2_1_tu_answering_at_once_means_no_100);
  tcase_add_test(tc, txn_17_2_1_slow_tu_gets_100_trying);
  tcase_add_test(tc, txn_17_2_1_invite_retransmission_resends_last_provisional);
  tcase_add_test(tc, txn_17_2_1_timer_g_retransmits_error_response_until_h);
  tcase_add_test(tc, txn_17_2_1_ack_stops_timer_g_and_timer_i_ends);
  tcase_add_test(tc, txn_17_2_2_request_retransmission_resends_final);
  tcase_add_test(tc, txn_17_2_2_timer_j_ends_transaction);
  tcase_add_test(tc, txn_17_2_3_rfc2543_fallback_matches_retransmission);
  tcase_add_test(tc, txn_rfc6026_accepted_absorbs_invite_then_timer_l);
  tcase_add_test(tc, txn_rfc6026_7_1_accepted_outlives_its_id);
  tcase_add_test(tc,
                 txn_rfc6026_7_1_invite_retransmission_in_accepted_absorbed);
  tcase_add_test(tc, txn_rfc6026_7_1_rfc2543_invite_retransmission_absorbed);
  tcase_add_test(tc, txn_rfc6026_7_1_ack_matching_accepted_reaches_tu);
  tcase_add_test(tc, txn_rfc6026_7_1_ack_for_2xx_reaches_tu_and_confirms);
  tcase_add_test(tc, txn_rfc6026_7_1_timer_l_ends_accepted_without_leak);
  tcase_add_test(tc, txn_rfc6026_7_1_each_record_gets_its_own_timer_l);
  tcase_add_test(tc, txn_rfc6026_7_1_many_accepted_wrap_and_grow_in_due_order);
  tcase_add_test(tc, txn_rfc6026_7_1_records_freed_at_teardown);
  tcase_add_test(tc, txn_rfc6026_7_1_without_memory_the_full_txn_stays);
  tcase_add_test(tc, txn_9_2_cancel_after_2xx_gets_200_with_the_invite_tag);
  tcase_add_test(tc, txn_17_1_2_timer_e_retransmits_bye_and_f_gives_up);
  tcase_add_test(tc, txn_17_1_3_final_response_completes_bye);
  tcase_add_test(tc, txn_requests_counted_by_method);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(txn_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
