/*
 * A route's pass_headers on the bridge (virtual clock): which header
 * fields of one leg's INVITE, provisional and 2xx responses, failure,
 * BYE and CANCEL, re-INVITE and UPDATE and their responses the other
 * leg's counterpart carries (a Reason, RFC 3326: the Q.850 cause of a
 * hang-up or a busy callee, "call completed elsewhere" in a CANCEL); and
 * the Reason of an end Cay chose itself.
 * support/bridge_call.h explains the fixture.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/run.h"

/* The bridge_config() route passing @p n names @p names. */
static cay_config_t
pass_config(const char *const *names, unsigned n)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  cay_route_t *r = &cfg.routes[0];

  for (unsigned i = 0; i < n; i++)
    snprintf(r->pass_headers[i], sizeof r->pass_headers[i], "%s", names[i]);
  r->n_pass_headers = n;
  return cfg;
}

static const char *const reason_pai[] = { "Reason", "P-Asserted-Identity" };

/* A route's pass_headers: B's INVITE carries A's header fields of those
 * names (any case, a compact form as its full name, "X-*" a prefix) and
 * no other, never one of Cay's own whatever a pattern says ("C*" passes
 * Call-Info, not Contact or Call-ID); so does the INVITE sent again with
 * credentials after a 407 (RFC 3261 section 22.2); and A's 180 and 200
 * carry those of B's 180 and 200. */
START_TEST(bridge_pass_headers_both_ways)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  static const char *const names[]
      = { "P-Asserted-Identity", "privacy", "X-*", "Subject", "C*" };
  cay_route_t *r = &cfg.routes[0];
  peer_t *p;

  for (unsigned i = 0; i < 5; i++)
    snprintf(r->pass_headers[i], sizeof r->pass_headers[i], "%s", names[i]);
  r->n_pass_headers = 5;
  snprintf(r->auth_username, sizeof r->auth_username, "cay");
  snprintf(r->auth_password, sizeof r->auth_password, "s3cret");
  p = peer_new(&cfg);
  invite_a(p, "service",
           "P-Asserted-Identity: \"Alice\" <sip:+15551234@example.com>\r\n"
           "Privacy: id\r\n"
           "X-Account: 42\r\n"
           "x-trace: abc\r\n"
           "s: hello\r\n"
           "Call-Info: <http://example.com/a.png>;purpose=icon\r\n"
           "Diversion: <sip:bob@example.com>;reason=no-answer\r\n"
           "User-Agent: phone/1.0\r\n");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  respond(p, (unsigned)inv, "407",
          "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"n1\"\r\n", NULL);
  int again = b_msg(p, 0, "INVITE");
  ck_assert_int_gt(again, inv);
  ck_assert_ptr_nonnull(
      strstr(p->sent[again].data, "Proxy-Authorization: Digest"));
  const int at[] = { inv, again };
  for (unsigned i = 0; i < 2; i++) {
    unsigned k = (unsigned)at[i];
    const char *data = p->sent[k].data;
    peer_header_is(p, k, "P-Asserted-Identity",
                   "\"Alice\" <sip:+15551234@example.com>");
    peer_header_is(p, k, "Privacy", "id");
    peer_header_is(p, k, "X-Account", "42");
    ck_assert_ptr_nonnull(strstr(data, "\r\nx-trace: abc\r\n"));
    ck_assert_ptr_nonnull(strstr(data, "\r\nSubject: hello\r\n"));
    peer_header_is(p, k, "Call-Info",
                   "<http://example.com/a.png>;purpose=icon");
    ck_assert_ptr_null(strstr(data, "Diversion"));
    ck_assert_ptr_null(strstr(data, "phone/1.0"));
    ck_assert_ptr_null(strstr(data, "a-leg")); /* A's Call-ID */
    ck_assert_ptr_null(strstr(data, "ft1"));   /* A's From tag */
    ck_assert_ptr_null(
        strstr(strstr(data, "\r\nContact:") + 2, "\r\nContact:"));
  }

  /* Both ways: B's 180 and 200 reach A with what the route passes of
   * theirs (the callee's identity: connected line), and no more. */
  respond(p, (unsigned)again, "180",
          "P-Asserted-Identity: <sip:bob@example.com>\r\n"
          "X-Callee: 7\r\n"
          "Server: pbx/2.0\r\n",
          NULL);
  int ringing = peer_find_last(p, 180, NULL);
  ck_assert_int_ge(ringing, 0);
  peer_header_is(p, (unsigned)ringing, "P-Asserted-Identity",
                 "<sip:bob@example.com>");
  peer_header_is(p, (unsigned)ringing, "X-Callee", "7");
  ck_assert_ptr_null(strstr(p->sent[ringing].data, "pbx/2.0"));
  respond(p, (unsigned)again, "200",
          "Contact: <sip:callee@127.0.0.9:5070>\r\n"
          "P-Asserted-Identity: <sip:carol@example.com>\r\n",
          peer_callee_sdp);
  int ok = a_response(p, "1 INVITE");
  ck_assert_int_ge(ok, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)ok), 200);
  peer_header_is(p, (unsigned)ok, "P-Asserted-Identity",
                 "<sip:carol@example.com>");
  ck_assert_ptr_null(strstr(p->sent[ok].data, "X-Callee"));
  ck_assert_ptr_null(strstr(p->sent[ok].data, "127.0.0.9:5070"));
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "\r\nContact:"));
  peer_free(p);
}
END_TEST

/* B's failure reaches A (mapped as ever) with what the route passes of
 * it: the busy callee's Q.850 cause, not its Server; not the identity
 * its 180 carried, which was the 180's. The 503 that A gets as 500
 * keeps the cause too. A route that passes nothing adds nothing. */
START_TEST(bridge_pass_headers_of_a_failure)
{
  cay_config_t cfg = pass_config(reason_pai, 2),
               none = bridge_config(-1, 60, NULL);
  static const char busy[] = "Reason: Q.850;cause=17;text=\"User busy\"\r\n"
                             "Server: pbx/2.0\r\n";
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180",
          "P-Asserted-Identity: <sip:bob@example.com>\r\n", NULL);
  respond(p, (unsigned)inv, "486", busy, NULL);
  unsigned k = a_final_is(p, "1 INVITE", 486);
  peer_header_is(p, k, "Reason", "Q.850;cause=17;text=\"User busy\"");
  ck_assert_ptr_null(strstr(p->sent[k].data, "pbx/2.0"));
  ck_assert_ptr_null(strstr(p->sent[k].data, "bob@example.com"));
  call_gone(p);
  peer_free(p);

  p = peer_new(&cfg);
  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "503", "Reason: Q.850;cause=34\r\n", NULL);
  k = a_final_is(p, "1 INVITE", 500);
  peer_header_is(p, k, "Reason", "Q.850;cause=34");
  peer_free(p);

  p = peer_new(&none);
  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "486", busy, NULL);
  k = a_final_is(p, "1 INVITE", 486);
  ck_assert_ptr_null(strstr(p->sent[k].data, "Reason"));
  peer_free(p);
}
END_TEST

/* A's BYE with a Reason: B's BYE carries it, also when it goes again
 * with credentials after a 407 (RFC 3261 section 22.2); then B's BYE
 * with a Reason: A's BYE carries it. */
START_TEST(bridge_pass_headers_of_a_bye_both_ways)
{
  cay_config_t cfg = pass_config(reason_pai, 2);
  char tag[64];
  peer_t *p;

  snprintf(cfg.routes[0].auth_username, sizeof cfg.routes[0].auth_username,
           "cay");
  snprintf(cfg.routes[0].auth_password, sizeof cfg.routes[0].auth_password,
           "s3cret");
  p = peer_new(&cfg);
  bridged_call(p, tag, sizeof tag);
  peer_send(p, "request.sip", "method", "BYE", "branch", "z9hG4bK-a-bye",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "2", "totag", tag,
            "maxfwd", "70", "extra",
            "Reason: Q.850;cause=16\r\nUser-Agent: phone/1.0\r\n", NULL);
  int bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_header_is(p, (unsigned)bye, "Reason", "Q.850;cause=16");
  ck_assert_ptr_null(strstr(p->sent[bye].data, "phone/1.0"));
  respond(p, (unsigned)bye, "407",
          "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"n2\"\r\n", NULL);
  int again = b_msg(p, 0, "BYE");
  ck_assert_int_gt(again, bye);
  ck_assert_ptr_nonnull(
      strstr(p->sent[again].data, "Proxy-Authorization: Digest"));
  peer_header_is(p, (unsigned)again, "Reason", "Q.850;cause=16");
  respond(p, (unsigned)again, "200", "", NULL);
  call_gone(p);
  peer_free(p);

  p = peer_new(&cfg);
  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  b_request_with(p, (unsigned)inv, "BYE", 1,
                 "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n",
                 NULL, NULL);
  bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  char *cid = peer_header(p, (unsigned)bye, "Call-ID");
  ck_assert_str_eq(cid, "a-leg");
  free(cid);
  peer_header_is(p, (unsigned)bye, "Reason",
                 "Q.850;cause=16;text=\"Normal call clearing\"");
  peer_free(p);
}
END_TEST

/* A's CANCEL with a Reason (RFC 3326; "call completed elsewhere" keeps
 * B from showing a missed call): B's CANCEL carries it, also when it
 * waits for B's first provisional (RFC 3261 section 9.1). */
START_TEST(bridge_pass_headers_of_a_cancel)
{
  cay_config_t cfg = pass_config(reason_pai, 2);
  static const char elsewhere[]
      = "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n";

  for (int rang = 1; rang >= 0; rang--) {
    peer_t *p = peer_new(&cfg);
    invite_a(p, "service", "");
    int inv = b_msg(p, 0, "INVITE");
    if (rang)
      respond(p, (unsigned)inv, "180", contact_b, NULL);
    peer_send(p, "request.sip", "method", "CANCEL", "branch", "z9hG4bK-a-inv",
              "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", "",
              "maxfwd", "70", "extra", elsewhere, NULL);
    if (!rang) {
      ck_assert_int_lt(b_msg(p, 0, "CANCEL"), 0); /* 9.1: no 1xx yet */
      respond(p, (unsigned)inv, "100", "", NULL);
    }
    int cancel = b_msg(p, 0, "CANCEL");
    ck_assert_int_ge(cancel, 0);
    peer_header_is(p, (unsigned)cancel, "Reason",
                   "SIP;cause=200;text=\"Call completed elsewhere\"");
    respond(p, (unsigned)cancel, "200", "", NULL);
    respond(p, (unsigned)inv, "487", "", NULL);
    call_gone(p);
    peer_free(p);
  }
}
END_TEST

/* A route's pass_headers in a running call (RFC 3261 section 14, RFC
 * 3311): A's re-INVITE gives B's copy its P-Asserted-Identity (a
 * connected-line update, RFC 3325) and no other header field, also when
 * the copy goes again after B's 491 (section 14.1); B's 200 gives A's
 * its own. B's UPDATE and A's answer to it work the same way back. */
START_TEST(bridge_pass_headers_of_a_reinvite_and_update)
{
  cay_config_t cfg = pass_config(reason_pai, 2);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  peer_send(p, "request_body.sip", "method", "INVITE", "branch", "z9hG4bK-a-re",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "2", "totag", tag,
            "extra",
            "P-Asserted-Identity: <sip:carol@example.com>\r\n"
            "User-Agent: phone/1.0\r\n",
            "ctype", "application/sdp", "body", peer_callee_sdp, NULL);
  int re = b_msg(p, 0, "INVITE");
  ck_assert_int_gt(re, inv);
  peer_header_is(p, (unsigned)re, "P-Asserted-Identity",
                 "<sip:carol@example.com>");
  ck_assert_ptr_null(strstr(p->sent[re].data, "phone/1.0"));
  respond(p, (unsigned)re, "491", "", NULL);
  peer_advance(p, 4100); /* 14.1: Cay owns the B leg's Call-ID */
  int again = b_msg(p, 0, "INVITE");
  ck_assert_int_gt(again, re);
  peer_header_is(p, (unsigned)again, "P-Asserted-Identity",
                 "<sip:carol@example.com>");
  respond(p, (unsigned)again, "200",
          "Contact: <sip:callee@127.0.0.1:5070>\r\n"
          "P-Asserted-Identity: <sip:dave@example.com>\r\n",
          peer_callee_sdp);
  unsigned ok = a_final_is(p, "2 INVITE", 200);
  peer_header_is(p, ok, "P-Asserted-Identity", "<sip:dave@example.com>");
  peer_send(p, "request.sip", "method", "ACK", "branch", "z9hG4bK-a-ack2",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "2", "totag", tag,
            "maxfwd", "70", "extra", "", NULL);

  b_request_with(p, (unsigned)inv, "UPDATE", 2,
                 "Contact: <sip:callee@127.0.0.1:5070>\r\n"
                 "P-Asserted-Identity: <sip:erin@example.com>\r\n",
                 "application/sdp", peer_callee_sdp);
  int upd = peer_find_request(p, "UPDATE", "a-leg");
  ck_assert_int_ge(upd, 0);
  peer_header_is(p, (unsigned)upd, "P-Asserted-Identity",
                 "<sip:erin@example.com>");
  respond(p, (unsigned)upd, "200",
          "P-Asserted-Identity: <sip:frank@example.com>\r\n", peer_callee_sdp);
  int b_ok = b_msg(p, 200, NULL);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "2 UPDATE");
  peer_header_is(p, (unsigned)b_ok, "P-Asserted-Identity",
                 "<sip:frank@example.com>");
  peer_free(p);
}
END_TEST

/* RFC 3326 when Cay itself ends the call, whatever pass_headers says: A
 * never ACKs Cay's 200, so after 64*T1 A gets a BYE with Reason Q.850
 * 102 (recovery on timer expiry) and "no ACK" (RFC 3261 13.3.1.4), and
 * B's BYE carries the same Reason. */
START_TEST(bridge_3326_cay_s_own_reason_reaches_both_legs)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 64 * 500);
  int a_bye = peer_find_request(p, "BYE", "a-leg"), b_bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(a_bye, 0);
  ck_assert_int_ge(b_bye, 0);
  peer_header_is(p, (unsigned)a_bye, "Reason",
                 "Q.850;cause=102;text=\"no ACK\"");
  peer_header_is(p, (unsigned)b_bye, "Reason",
                 "Q.850;cause=102;text=\"no ACK\"");
  respond(p, (unsigned)a_bye, "200", "", NULL);
  respond(p, (unsigned)b_bye, "200", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("bridge_pass");
  TCase *tc = tcase_create("pass_headers");

  tcase_add_test(tc, bridge_pass_headers_both_ways);
  tcase_add_test(tc, bridge_pass_headers_of_a_failure);
  tcase_add_test(tc, bridge_pass_headers_of_a_bye_both_ways);
  tcase_add_test(tc, bridge_pass_headers_of_a_cancel);
  tcase_add_test(tc, bridge_pass_headers_of_a_reinvite_and_update);
  tcase_add_test(tc, bridge_3326_cay_s_own_reason_reaches_both_legs);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
