/*
 * The B2BUA bridge before B answers, on a virtual clock: offer/answer
 * completed in a reliable provisional (RFC 3262), then changed by UPDATE
 * in the early dialogs either way (RFC 3311 section 5.1), and B's 2xx
 * that need not repeat its early answer. support/bridge_call.h explains
 * the fixture.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/run.h"

/* B's reliable 183 (RSeq 1) and its answer. */
static const char b_rel_183[] = "Contact: <sip:callee@127.0.0.1:5070>\r\n"
                                "Require: 100rel\r\nRSeq: 1\r\n";

/* A's new offer (PCMA on port 6010, version 2). */
static const char a_offer_2[] = "v=0\r\no=user1 53655765 2 IN IP4 127.0.0.1\r\n"
                                "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                "m=audio 6010 RTP/AVP 8\r\n";

/* B's answer to it (port 7010, version 2). */
static const char b_answer_2[] = "v=0\r\no=callee 1 2 IN IP4 127.0.0.9\r\n"
                                 "s=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n"
                                 "m=audio 7010 RTP/AVP 8\r\n";

/* B's own offer (port 7020, version 3) and A's answer. */
static const char b_offer_3[] = "v=0\r\no=callee 1 3 IN IP4 127.0.0.9\r\n"
                                "s=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n"
                                "m=audio 7020 RTP/AVP 8\r\n";
static const char a_answer_3[]
    = "v=0\r\no=user1 53655765 3 IN IP4 127.0.0.1\r\n"
      "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 6020 RTP/AVP 8\r\n";

/* A's PRACK (CSeq @p cseq) for its reliable provisional @p rseq. */
static void
prack_a(peer_t *p, const char *cseq, const char *tag, unsigned rseq)
{
  char rack[64], branch[32], line[32];

  snprintf(rack, sizeof rack, "RAck: %u 1 INVITE\r\n", rseq);
  snprintf(branch, sizeof branch, "z9hG4bK-a-prack%s", cseq);
  peer_send(p, "request.sip", "method", "PRACK", "branch", branch, "fromtag",
            "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag, "maxfwd",
            "70", "extra", rack, NULL);
  snprintf(line, sizeof line, "%s PRACK", cseq);
  a_final_is(p, line, 200);
}

/* The RSeq of Cay's reliable provisional @p i. */
static unsigned
rseq_of(peer_t *p, int i)
{
  ck_assert_int_ge(i, 0);
  char *rs = peer_header(p, (unsigned)i, "RSeq");
  ck_assert_ptr_nonnull(rs);
  unsigned r = (unsigned)strtoul(rs, NULL, 10);
  free(rs);
  return r;
}

/* A calls requiring 100rel; B sends its reliable 183 with its answer and
 * gets Cay's PRACK (answered 200). Returns Cay's INVITE to B; A's To tag
 * in @p tag, the RSeq of A's reliable 183 in *rseq. */
static int
early_call(peer_t *p, char *tag, size_t n, unsigned *rseq)
{
  invite_a(p, "service", "Require: 100rel\r\n");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  respond(p, (unsigned)inv, "183", b_rel_183, peer_callee_sdp);
  int prack = b_msg(p, 0, "PRACK");
  ck_assert_int_ge(prack, 0);
  respond(p, (unsigned)prack, "200", "", NULL);
  int early = peer_find_last(p, 183, NULL);
  ck_assert_int_ge(early, 0);
  peer_to_tag(p, (unsigned)early, tag, n);
  *rseq = rseq_of(p, early);
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)early), "m=audio 7000"));
  return inv;
}

/* A's UPDATE (CSeq @p cseq) in its early dialog with @p sdp. */
static void
update_a(peer_t *p, const char *cseq, const char *tag, const char *sdp)
{
  char branch[32];

  snprintf(branch, sizeof branch, "z9hG4bK-a-upd%s", cseq);
  peer_send(p, "request_body.sip", "method", "UPDATE", "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/sdp", "body", sdp, NULL);
}

/* RFC 3311 section 5.1: with the INVITE's offer answered reliably on both
 * legs, A's UPDATE goes to B in B's early dialog and B's answer back to
 * A; B's UPDATE goes to A once A has PRACKed (before, B gets 491: A's
 * side may not send one yet) and A's answer back to B. B's 2xx then
 * carries no SDP (RFC 3262: the answer was given), and A's 2xx repeats
 * the SDP A last got (B's offer of version 3, RFC 6337 section 3.1.1). */
START_TEST(bridge_3311_update_in_early_dialogs_relayed_both_ways)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];
  unsigned rseq;
  int inv = early_call(p, tag, sizeof tag, &rseq);

  /* B's UPDATE before A's PRACK: 491, and A gets nothing. */
  b_request_with(p, (unsigned)inv, "UPDATE", 2, contact_b, "application/sdp",
                 b_offer_3);
  int refused = b_msg(p, 491, NULL);
  ck_assert_int_ge(refused, 0);
  peer_header_is(p, (unsigned)refused, "CSeq", "2 UPDATE");
  ck_assert_int_lt(peer_find_request(p, "UPDATE", "a-leg"), 0);
  prack_a(p, "2", tag, rseq);

  /* A's UPDATE to B and B's answer back. */
  update_a(p, "3", tag, a_offer_2);
  int upd = b_msg(p, 0, "UPDATE");
  ck_assert_int_ge(upd, 0);
  ck_assert_int_eq(
      strncmp(p->sent[upd].data, "UPDATE sip:callee@127.0.0.1:5070 ", 33), 0);
  char *to = peer_header(p, (unsigned)upd, "To");
  ck_assert_ptr_nonnull(strstr(to, ";tag=b1")); /* B's early dialog */
  free(to);
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)upd), "m=audio 6010"));
  ck_assert_int_lt(a_response(p, "3 UPDATE"), 0); /* waits for B */
  respond(p, (unsigned)upd, "200", contact_b, b_answer_2);
  unsigned ok = a_final_is(p, "3 UPDATE", 200);
  ck_assert_ptr_nonnull(strstr(body_of(p, ok), "o=callee 1 2 "));

  /* B's UPDATE to A and A's answer back. */
  b_request_with(p, (unsigned)inv, "UPDATE", 3, contact_b, "application/sdp",
                 b_offer_3);
  int to_a = peer_find_request(p, "UPDATE", "a-leg");
  ck_assert_int_ge(to_a, 0);
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)to_a), "m=audio 7020"));
  respond(p, (unsigned)to_a, "200", "", a_answer_3);
  int b_ok = b_msg(p, 200, NULL);
  ck_assert_int_gt(b_ok, to_a);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "3 UPDATE");
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)b_ok), "m=audio 6020"));

  /* B answers without SDP; A's 2xx repeats what A has. */
  respond(p, (unsigned)inv, "200", contact_b, NULL);
  ok = a_final_is(p, "1 INVITE", 200);
  ck_assert_ptr_nonnull(strstr(body_of(p, ok), "o=callee 1 3 "));
  ck_assert_ptr_nonnull(strstr(body_of(p, ok), "m=audio 7020"));
  ck_assert_int_ge(b_msg(p, 0, "ACK"), 0);
  ck_assert_int_lt(peer_find_request(p, "BYE", NULL), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 3262: B answers A's offer in a reliable 183 and its 2xx has no SDP.
 * A, which does not do 100rel, got that 183 unreliably, so its 200 must
 * hold the answer: B's from the 183. (Cay used to end such a call.) */
START_TEST(bridge_3262_b_2xx_without_sdp_after_reliable_answer)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "183", b_rel_183, peer_callee_sdp);
  int prack = b_msg(p, 0, "PRACK");
  ck_assert_int_ge(prack, 0);
  respond(p, (unsigned)prack, "200", "", NULL);
  int early = peer_find_last(p, 183, NULL);
  ck_assert_int_ge(early, 0);
  ck_assert_ptr_null(strstr(p->sent[early].data, "\r\nRSeq: "));
  respond(p, (unsigned)inv, "200", contact_b, NULL);
  unsigned ok = a_final_is(p, "1 INVITE", 200);
  ck_assert_str_eq(body_of(p, ok), peer_callee_sdp);
  ck_assert_int_lt(peer_find_request(p, "BYE", NULL), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* An UPDATE with an offer cannot go into B's early dialog while B has
 * not answered reliably (its 183 was not): A gets 491 (RFC 3311 section
 * 5.2) and B gets nothing. Before any answer on A's side (a reliable 180
 * without SDP) A's own session refuses it with 491 too. */
START_TEST(bridge_3311_early_update_refused_491_without_reliable_answer)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "Require: 100rel\r\n");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  int ring = peer_find_last(p, 180, NULL);
  ck_assert_int_ge(ring, 0);
  peer_to_tag(p, (unsigned)ring, tag, sizeof tag);
  update_a(p, "2", tag, a_offer_2); /* A's offer is still unanswered */
  a_final_is(p, "2 UPDATE", 491);
  prack_a(p, "3", tag, rseq_of(p, ring));

  respond(p, (unsigned)inv, "183", contact_b, peer_callee_sdp);
  int early = peer_find_last(p, 183, NULL);
  prack_a(p, "4", tag, rseq_of(p, early));
  update_a(p, "5", tag, a_offer_2);
  a_final_is(p, "5 UPDATE", 491);
  ck_assert_int_lt(b_msg(p, 0, "UPDATE"), 0);

  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* The call ends (A's CANCEL) while A's UPDATE waits for B's answer: A's
 * UPDATE gets 487 (RFC 3261 section 15.1.2 by analogy), B's copy is
 * answered late and nothing is left behind. */
START_TEST(bridge_3311_cancel_while_early_update_pending)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];
  unsigned rseq;
  int inv = early_call(p, tag, sizeof tag, &rseq);

  prack_a(p, "2", tag, rseq);
  update_a(p, "3", tag, a_offer_2);
  int upd = b_msg(p, 0, "UPDATE");
  ck_assert_int_ge(upd, 0);
  peer_send(p, "request.sip", "method", "CANCEL", "branch", "z9hG4bK-a-inv",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", "",
            "maxfwd", "70", "extra", "", NULL);
  a_final_is(p, "1 INVITE", 487);
  a_final_is(p, "3 UPDATE", 487);
  int cancel = b_msg(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  respond(p, (unsigned)upd, "200", contact_b, b_answer_2);
  respond(p, (unsigned)cancel, "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* RFC 3262 section 3: B answers while A's reliable 180 awaits its PRACK,
 * so A's 200 waits too; B hangs up before the PRACK: A never had the
 * call and gets 480 (a failure may go before the PRACK), not a 200 for a
 * call that is gone; nothing is left behind. */
START_TEST(bridge_b_bye_while_a_owes_its_prack_480)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "Require: 100rel\r\n");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  ck_assert_int_ge(rseq_of(p, peer_find_last(p, 180, NULL)), 1);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  ck_assert_int_ge(b_msg(p, 0, "ACK"), 0);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0); /* waits for the PRACK */
  b_request(p, (unsigned)inv, "BYE", 2);
  a_final_is(p, "1 INVITE", 480);
  peer_send(p, "request.sip", "method", "ACK", "branch", "z9hG4bK-a-inv",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", "",
            "maxfwd", "70", "extra", "", NULL);
  peer_advance(p, 40000);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 1); /* B's BYE's only */
  call_gone(p);
  peer_free(p);
}
END_TEST

/* A's INFO waits for B's answer in B's early dialog (RFC 6086 section
 * 4.2.1) when B fails with 503 and Cay calls the failover target: the
 * INFO gets 500 at once (RFC 5057: the transaction failed, the call goes
 * on), and the new callee gets no INFO. */
START_TEST(bridge_6086_early_info_answered_when_b_fails_over)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  snprintf(cfg.routes[0].failover[0], sizeof cfg.routes[0].failover[0],
           "sip:${ruri_user}@127.0.0.1:5071");
  cfg.routes[0].n_failover = 1;
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_to_tag(p, (unsigned)peer_find_last(p, 180, NULL), tag, sizeof tag);
  a_info(p, "z9hG4bK-a-ein", "2", tag);
  ck_assert_int_ge(b_msg(p, 0, "INFO"), 0);
  ck_assert_int_lt(a_response(p, "2 INFO"), 0);
  respond(p, (unsigned)inv, "503", "", NULL);
  a_final_is(p, "2 INFO", 500);
  int next = b_msg(p, 0, "INVITE");
  ck_assert_int_gt(next, inv);
  ck_assert_int_eq(
      strncmp(p->sent[next].data, "INVITE sip:service@127.0.0.1:5071 ", 34), 0);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0); /* A still waits */
  respond_as(p, (unsigned)next, "b2", "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(peer_count(p, 0, "INFO"), 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 3428 section 4 in early dialogs: while B rings (180 with its tag),
 * A's MESSAGE goes to B in the B leg's early dialog with its body and
 * type, and A gets B's answer (a 488 as it is); B's MESSAGE goes to A in
 * A's early dialog. A REFER and a NOTIFY wait for the answer: 500 "Not
 * Before The Answer" (RFC 5057: the transaction fails, the call goes on),
 * nothing sent to B. */
START_TEST(bridge_3428_message_relayed_in_early_dialogs)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_to_tag(p, (unsigned)peer_find_last(p, 180, NULL), tag, sizeof tag);

  peer_send(p, "request_body.sip", "method", "MESSAGE", "branch",
            "z9hG4bK-a-emsg", "fromtag", "ft1", "callid", "a-leg", "cseq", "2",
            "totag", tag, "extra", "", "ctype", "text/plain", "body",
            "ringing?", NULL);
  int msg = b_msg(p, 0, "MESSAGE");
  ck_assert_int_ge(msg, 0);
  char *to = peer_header(p, (unsigned)msg, "To");
  ck_assert_ptr_nonnull(strstr(to, ";tag=b1")); /* B's early dialog */
  free(to);
  peer_header_is(p, (unsigned)msg, "Content-Type", "text/plain");
  ck_assert_str_eq(body_of(p, (unsigned)msg), "ringing?");
  ck_assert_int_lt(a_response(p, "2 MESSAGE"), 0); /* waits for B */
  respond(p, (unsigned)msg, "488", "", NULL);
  a_final_is(p, "2 MESSAGE", 488);

  b_request_with(p, (unsigned)inv, "MESSAGE", 2, "", "text/plain", "soon");
  int to_a = peer_find_request(p, "MESSAGE", "a-leg");
  ck_assert_int_ge(to_a, 0);
  char *from = peer_header(p, (unsigned)to_a, "From");
  ck_assert_ptr_nonnull(strstr(from, tag)); /* A's early dialog */
  free(from);
  ck_assert_str_eq(body_of(p, (unsigned)to_a), "soon");
  respond(p, (unsigned)to_a, "200", "", NULL);
  int b_ok = b_msg(p, 200, NULL);
  ck_assert_int_gt(b_ok, to_a);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "2 MESSAGE");

  a_request(p, "REFER", "z9hG4bK-a-eref", "3", tag);
  unsigned k = a_final_is(p, "3 REFER", 500);
  ck_assert_ptr_nonnull(strstr(p->sent[k].data, "Not Before The Answer\r\n"));
  a_request(p, "NOTIFY", "z9hG4bK-a-enot", "4", tag);
  a_final_is(p, "4 NOTIFY", 500);
  ck_assert_int_lt(b_msg(p, 0, "REFER"), 0);
  ck_assert_int_lt(b_msg(p, 0, "NOTIFY"), 0);

  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("b2bua_bridge_early");
  TCase *tc = tcase_create("bridge_early");

  tcase_add_test(tc, bridge_3311_update_in_early_dialogs_relayed_both_ways);
  tcase_add_test(tc, bridge_3262_b_2xx_without_sdp_after_reliable_answer);
  tcase_add_test(tc,
                 bridge_3311_early_update_refused_491_without_reliable_answer);
  tcase_add_test(tc, bridge_3311_cancel_while_early_update_pending);
  tcase_add_test(tc, bridge_b_bye_while_a_owes_its_prack_480);
  tcase_add_test(tc, bridge_6086_early_info_answered_when_b_fails_over);
  tcase_add_test(tc, bridge_3428_message_relayed_in_early_dialogs);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
