/*
 * RFC 3261 section 17 (with RFC 6026): server and client transactions,
 * driven by a scripted peer on a virtual clock.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

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
  tcase_add_test(tc, txn_17_1_2_timer_e_retransmits_bye_and_f_gives_up);
  tcase_add_test(tc, txn_17_1_3_final_response_completes_bye);
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
