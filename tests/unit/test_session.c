/*
 * RFC 3261 sections 8.2, 9.2, 11, 12, 13.3, 15 and RFC 3264 for Cay's UAS
 * sessions. Max duration racing a BYE, drain and overload:
 * test_session_limits.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "support/peer.h"
#include "support/uas_session.h"

#define T1 500

static cay_config_t
config(void)
{
  cay_config_t cfg;
  cay_config_init(&cfg);
  return cfg;
}

START_TEST(session_13_3_1_invite_gets_180_then_200_with_answer)
{
  peer_t *p = peer_new(NULL);
  char t180[64], t200[64];

  sess_invite(p, "c1", "8 0 101");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_int_eq(peer_status(p, 0), 180);
  ck_assert_int_eq(peer_status(p, 1), 200);
  /* 12.1.1: one To tag for the early and the confirmed dialog, and a
   * Contact in both. */
  ck_assert_str_eq(peer_to_tag(p, 0, t180, sizeof t180),
                   peer_to_tag(p, 1, t200, sizeof t200));
  char *contact = peer_header(p, 1, "Contact");
  ck_assert_ptr_nonnull(contact);
  free(contact);
  /* RFC 3264 section 6: our preference (PCMU first) among the offer's
   * codecs, with telephone-event. */
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "m=audio "));
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "RTP/AVP 0 101"));
  ck_assert_uint_eq(p->shard.stats.calls_answered, 1);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 1);
  peer_free(p);
}
END_TEST

START_TEST(session_18_2_2_responses_go_to_received_rport)
{
  peer_t *p = peer_new(NULL);

  /* The Via says 127.0.0.1:5070 with rport; the peer's source is
   * 127.0.0.1:5070 too, so responses go there. */
  sess_invite(p, "c1", "0");
  char addr[64];
  cay__addr_format(&p->sent[0].dst, addr, sizeof addr);
  ck_assert_str_eq(addr, "127.0.0.1:5070");
  char *via = peer_header(p, 0, "Via");
  ck_assert_ptr_nonnull(strstr(via, "rport=5070"));
  free(via);
  peer_free(p);
}
END_TEST

/* An INVITE whose top Via is @p via, from @p src. */
static void
invite_from(peer_t *p, const char *cid, const char *via, const char *src,
            unsigned port, int proto, uint64_t conn)
{
  static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                            "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                            "m=audio 6000 RTP/AVP 0\r\n";
  char m[1024];
  int n = snprintf(m, sizeof m,
                   "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: %s;branch=z9hG4bK-%s\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:a@127.0.0.1>;tag=ft-%s\r\n"
                   "To: <sip:service@127.0.0.1:5060>\r\n"
                   "Call-ID: %s\r\n"
                   "CSeq: 1 INVITE\r\n"
                   "Contact: <sip:a@127.0.0.1:5070>\r\n"
                   "Content-Type: application/sdp\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   via, cid, cid, cid, strlen(sdp), sdp);

  ck_assert_int_eq(cay__addr_set(&p->src.addr, src, port), 0);
  p->src.proto = proto;
  p->src.conn = conn;
  peer_send_raw(p, m, (size_t)n);
}

static char incoming_source[64];

static void
keep_source(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  (void)arg;
  snprintf(incoming_source, sizeof incoming_source, "%s", in->source);
  ck_assert_int_eq(cay_session_answer(s, NULL), 0);
}

START_TEST(session_18_2_2_stream_responses_to_sent_by_port_source_kept)
{
  peer_t *p = peer_new(NULL);
  char addr[64];

  p->ss.on_incoming = keep_source;
  /* Over TCP from an ephemeral port: responses on the request's
   * connection, and the address to open a new one to, should it close, is
   * the sent-by port (section 18.2.2). The embedder sees the real source. */
  invite_from(p, "s1", "SIP/2.0/TCP 127.0.0.1:5070", "127.0.0.1", 40001,
              CAY__TCP, 42);
  ck_assert_str_eq(incoming_source, "127.0.0.1:40001");
  ck_assert_int_ge(p->nsent, 1);
  for (unsigned i = 0; i < p->nsent; i++) {
    cay__addr_format(&p->sent[i].dst, addr, sizeof addr);
    ck_assert_str_eq(addr, "127.0.0.1:5070");
    ck_assert_int_eq(p->sent[i].proto, CAY__TCP);
    ck_assert_uint_eq(p->sent[i].conn, 42);
  }
  ck_assert_int_eq(peer_last_status(p), 200);

  /* Over UDP without rport: responses to sent-by, source as it was. */
  peer_clear(p);
  invite_from(p, "s2", "SIP/2.0/UDP 127.0.0.1:5070", "127.0.0.1", 40002,
              CAY__UDP, 0);
  ck_assert_str_eq(incoming_source, "127.0.0.1:40002");
  cay__addr_format(&p->sent[0].dst, addr, sizeof addr);
  ck_assert_str_eq(addr, "127.0.0.1:5070");

  /* A received the sender wrote is not honoured (18.2.1). */
  peer_clear(p);
  invite_from(p, "s3", "SIP/2.0/UDP 127.0.0.1:5070;received=192.0.2.66",
              "127.0.0.1", 5070, CAY__UDP, 0);
  ck_assert_int_ge(p->nsent, 1);
  cay__addr_format(&p->sent[0].dst, addr, sizeof addr);
  ck_assert_str_eq(addr, "127.0.0.1:5070");
  peer_free(p);
}
END_TEST

START_TEST(session_13_3_1_4_2xx_retransmitted_until_ack)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  sess_invite(p, "c1", "0");
  ck_assert_uint_eq(p->nsent, 2);
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_str_eq(p->sent[2].data, p->sent[1].data);
  peer_advance(p, 2 * T1);
  ck_assert_uint_eq(p->nsent, 4);
  sess_request(p, "ACK", "c1", "z9hG4bK-ack", "1",
               peer_to_tag(p, 1, tag, sizeof tag), "", "70");
  peer_advance(p, 100 * T1);
  ck_assert_uint_eq(p->nsent, 4);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  ck_assert_int_eq(cay__session_state(cay__sessions_any(&p->ss)),
                   CAY__SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

START_TEST(session_13_3_1_4_no_ack_after_64_t1_ends_with_bye)
{
  peer_t *p = peer_new(NULL);

  sess_invite(p, "c1", "0");
  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  int bye = peer_find_last(p, 0, "BYE");
  /* 12.2.1.1: BYE to the remote target, From is our side with our tag. */
  char *from = peer_header(p, (unsigned)bye, "From");
  char tag[64];
  ck_assert_ptr_nonnull(strstr(from, peer_to_tag(p, 1, tag, sizeof tag)));
  free(from);
  ck_assert_uint_eq(p->shard.stats.byes_sent, 1);
  peer_free(p);
}
END_TEST

START_TEST(session_12_2_1_1_bye_follows_the_route_set)
{
  /* 12.1.1: the route set is the INVITE's Record-Route in order; 12.2.1.1
   * with loose routing: our BYE carries it as Route and goes to the first
   * entry, with the remote target (Contact) as Request-URI. */
  peer_t *p = peer_new(NULL);

  peer_send(p, "invite.sip", "branch", "z9hG4bK-rr", "fromtag", "ft1", "callid",
            "rr1", "codecs", "0", "extra",
            "Record-Route: <sip:127.0.0.1:5080;lr>, "
            "<sip:127.0.0.1:5090;lr;x=1>\r\n",
            NULL);
  ck_assert_int_eq(peer_last_status(p), 200);
  peer_advance(p, 64 * T1); /* no ACK: BYE */
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  const char *data = p->sent[bye].data;
  static const char bye_line[] = "BYE sip:sipp@127.0.0.1:5070 SIP/2.0\r\n";
  ck_assert_int_eq(strncmp(data, bye_line, sizeof bye_line - 1), 0);
  const char *r1 = strstr(data, "<sip:127.0.0.1:5080;lr>");
  const char *r2 = strstr(data, "<sip:127.0.0.1:5090;lr;x=1>");
  ck_assert_ptr_nonnull(r1);
  ck_assert_ptr_nonnull(r2);
  ck_assert(r1 < r2);
  ck_assert_uint_eq(cay__addr_port(&p->sent[bye].dst), 5080);
  /* From is our side with our tag, To theirs with their tag. */
  char *from = peer_header(p, (unsigned)bye, "From");
  char *to = peer_header(p, (unsigned)bye, "To");
  char tag[64];
  ck_assert_ptr_nonnull(strstr(from, peer_to_tag(p, 1, tag, sizeof tag)));
  ck_assert_ptr_nonnull(strstr(to, ";tag=ft1"));
  free(from);
  free(to);
  peer_free(p);
}
END_TEST

START_TEST(session_15_1_2_bye_gets_200_and_ends_dialog)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  sess_confirmed(p, "c1", tag, sizeof tag);
  sess_request(p, "BYE", "c1", "z9hG4bK-bye", "2", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_9_2_cancel_gets_200_and_invite_487)
{
  cay_config_t cfg = config();
  cfg.answer_after_ms = 10000;
  peer_t *p = peer_new(&cfg);

  sess_invite(p, "c1", "0");
  ck_assert_int_eq(peer_last_status(p), 180);
  sess_request(p, "CANCEL", "c1", "z9hG4bK-inv-c1", "1", "", "", "70");
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_int_eq(peer_status(p, 1), 200);
  ck_assert_str_eq(peer_method(p, 1), "");
  char *cseq = peer_header(p, 1, "CSeq");
  ck_assert_str_eq(cseq, "1 CANCEL");
  free(cseq);
  ck_assert_int_eq(peer_status(p, 2), 487);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  /* The 200 never comes: the answer timer died with the session. */
  peer_advance(p, 20000);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 1);
  peer_free(p);
}
END_TEST

START_TEST(session_9_2_cancel_matching_nothing_gets_481)
{
  peer_t *p = peer_new(NULL);

  sess_request(p, "CANCEL", "c9", "z9hG4bK-none", "1", "", "", "70");
  ck_assert_int_eq(peer_last_status(p), 481);
  peer_free(p);
}
END_TEST

START_TEST(session_12_2_2_request_for_unknown_dialog_gets_481)
{
  peer_t *p = peer_new(NULL);

  sess_request(p, "BYE", "c-unknown", "z9hG4bK-b", "2", ";tag=nope", "", "70");
  ck_assert_int_eq(peer_last_status(p), 481);
  peer_free(p);
}
END_TEST

START_TEST(session_12_2_2_lower_cseq_gets_500)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  sess_confirmed(p, "c1", tag, sizeof tag);
  sess_request(p, "OPTIONS", "c1", "z9hG4bK-o5", "5", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  sess_request(p, "OPTIONS", "c1", "z9hG4bK-o4", "4", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 500);
  peer_free(p);
}
END_TEST

START_TEST(session_11_options_gets_200_with_allow_accept_supported)
{
  peer_t *p = peer_new(NULL);

  sess_request(p, "OPTIONS", "c1", "z9hG4bK-o", "1", "", "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  char *allow = peer_header(p, 0, "Allow");
  char *accept = peer_header(p, 0, "Accept");
  ck_assert_ptr_nonnull(allow);
  ck_assert_ptr_nonnull(strstr(allow, "INVITE"));
  ck_assert_str_eq(accept, "application/sdp");
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "\r\nSupported:"));
  free(allow);
  free(accept);
  peer_free(p);
}
END_TEST

START_TEST(session_8_2_1_unknown_method_gets_405_with_allow)
{
  peer_t *p = peer_new(NULL);

  sess_request(p, "SUBSCRIBE", "c1", "z9hG4bK-s", "1", "", "", "70");
  ck_assert_int_eq(peer_last_status(p), 405);
  char *allow = peer_header(p, 0, "Allow");
  ck_assert_ptr_nonnull(allow);
  free(allow);
  peer_free(p);
}
END_TEST

START_TEST(session_8_2_2_3_unknown_require_gets_420)
{
  peer_t *p = peer_new(NULL);

  sess_request(p, "OPTIONS", "c1", "z9hG4bK-r", "1", "",
               "Require: foo, bar\r\n", "70");
  ck_assert_int_eq(peer_last_status(p), 420);
  char *uns = peer_header(p, 0, "Unsupported");
  ck_assert_str_eq(uns, "foo, bar");
  free(uns);
  peer_free(p);
}
END_TEST

START_TEST(session_16_3_max_forwards_zero_gets_483)
{
  peer_t *p = peer_new(NULL);

  peer_send(p, "request.sip", "method", "INVITE", "branch", "z9hG4bK-m",
            "fromtag", "f", "callid", "c1", "cseq", "1", "totag", "", "maxfwd",
            "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 483);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(session_8_2_missing_call_id_gets_400_with_reason)
{
  /* RFC 4475 section 3.3.1: a request missing mandatory headers gets 400;
   * its Via is enough to send the response back. */
  peer_t *p = peer_new(NULL);

  peer_send(p, "no_callid.sip", NULL);
  ck_assert_uint_eq(p->nsent, 1);
  /* Not parseable by peer_msg (no Call-ID): check the bytes. */
  ck_assert_int_eq(strncmp(p->sent[0].data,
                           "SIP/2.0 400 Bad Request - Missing Call-ID\r\n", 43),
                   0);
  ck_assert_uint_eq(p->shard.stats.bad_requests, 1);
  ck_assert_uint_eq(p->shard.stats.parse_errors, 1);
  ck_assert_uint_eq(p->shard.stats.responses_4xx, 1); /* stateless */
  peer_free(p);
}
END_TEST

/* 8.2.2.2: the same INVITE (Call-ID, From tag, CSeq) by another path,
 * that is with another branch, is one call: the second copy gets 482. */
START_TEST(session_8_2_2_2_merged_invite_gets_482)
{
  peer_t *p = peer_new(NULL);

  sess_invite(p, "merged", "0 8 101");
  ck_assert_int_eq(peer_last_status(p), 200);
  peer_send(p, "invite.sip", "branch", "z9hG4bK-other-path", "fromtag", "ft1",
            "callid", "merged", "codecs", "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 482);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  /* Another From tag: not the same request, a new call. */
  peer_send(p, "invite.sip", "branch", "z9hG4bK-next", "fromtag", "ft2",
            "callid", "merged", "codecs", "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* 8.1.1.8, 12.1.1: a Contact Cay could not send the dialog's requests to
 * (port 0 here) gets 400, not a call whose BYE no peer could parse. */
START_TEST(session_8_1_1_8_unusable_contact_gets_400)
{
  peer_t *p = peer_new(NULL);
  const char invite[] = "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-c0\r\n"
                        "Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\n"
                        "To: <sip:service@127.0.0.1:5060>\r\nCall-ID: c0\r\n"
                        "CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:0>\r\n"
                        "Content-Length: 0\r\n\r\n";

  peer_send_raw(p, invite, sizeof invite - 1);
  ck_assert_int_eq(peer_last_status(p), 400);
  ck_assert_ptr_nonnull(
      strstr(p->sent[p->nsent - 1].data, "400 Bad Request - Bad Contact\r\n"));
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(session_8_2_cseq_method_mismatch_gets_400_with_reason)
{
  peer_t *p = peer_new(NULL);

  peer_send(p, "bad_cseq.sip", NULL);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 400);
  /* The reason phrase says what was wrong, and the To got a tag. */
  ck_assert_int_eq(strncmp(p->sent[0].data,
                           "SIP/2.0 400 CSeq method does not match\r\n", 40),
                   0);
  char tag[64];
  peer_to_tag(p, 0, tag, sizeof tag);
  ck_assert_uint_eq(p->shard.stats.bad_requests, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(session_8_2_garbage_is_dropped_and_counted)
{
  peer_t *p = peer_new(NULL);
  static const char junk[] = "\x01\x02 not sip at all\r\n\r\n";

  peer_send_raw(p, junk, sizeof junk - 1);
  ck_assert_uint_eq(p->nsent, 0);
  ck_assert_uint_eq(p->shard.stats.dropped, 1);
  peer_free(p);
}
END_TEST

START_TEST(session_rfc3264_no_common_codec_gets_488)
{
  peer_t *p = peer_new(NULL);

  sess_invite(p, "c1", "18");
  ck_assert_int_eq(peer_last_status(p), 488);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.calls_rejected, 1);
  peer_free(p);
}
END_TEST

START_TEST(session_rfc3264_no_offer_means_offer_in_200_answer_in_ack)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  peer_send(p, "invite_nosdp.sip", "branch", "z9hG4bK-n", "fromtag", "f",
            "callid", "c1", NULL);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "m=audio"));
  peer_to_tag(p, 1, tag, sizeof tag);
  peer_send(p, "ack_answer.sip", "branch", "z9hG4bK-a", "fromtag", "f",
            "callid", "c1", "totag", tag, NULL);
  ck_assert_int_eq(cay__session_state(cay__sessions_any(&p->ss)),
                   CAY__SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

START_TEST(session_rfc3264_ack_without_answer_ends_call)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  peer_send(p, "invite_nosdp.sip", "branch", "z9hG4bK-n", "fromtag", "ft1",
            "callid", "c1", NULL);
  peer_to_tag(p, 1, tag, sizeof tag);
  sess_request(p, "ACK", "c1", "z9hG4bK-a", "1", tag, "", "70");
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  peer_free(p);
}
END_TEST

START_TEST(session_hangup_after_ms_sends_bye)
{
  cay_config_t cfg = config();
  cfg.hangup_after_ms = 3000;
  peer_t *p = peer_new(&cfg);
  char tag[64];

  sess_confirmed(p, "c1", tag, sizeof tag);
  peer_advance(p, 2999);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  peer_free(p);
}
END_TEST

static Suite *
session_suite(void)
{
  Suite *s = suite_create("rfc3261_uas_sessions");
  TCase *tc = tcase_create("session");

  tcase_add_test(tc, session_13_3_1_invite_gets_180_then_200_with_answer);
  tcase_add_test(tc, session_18_2_2_responses_go_to_received_rport);
  tcase_add_test(tc,
                 session_18_2_2_stream_responses_to_sent_by_port_source_kept);
  tcase_add_test(tc, session_13_3_1_4_2xx_retransmitted_until_ack);
  tcase_add_test(tc, session_13_3_1_4_no_ack_after_64_t1_ends_with_bye);
  tcase_add_test(tc, session_12_2_1_1_bye_follows_the_route_set);
  tcase_add_test(tc, session_15_1_2_bye_gets_200_and_ends_dialog);
  tcase_add_test(tc, session_9_2_cancel_gets_200_and_invite_487);
  tcase_add_test(tc, session_9_2_cancel_matching_nothing_gets_481);
  tcase_add_test(tc, session_12_2_2_request_for_unknown_dialog_gets_481);
  tcase_add_test(tc, session_12_2_2_lower_cseq_gets_500);
  tcase_add_test(tc, session_11_options_gets_200_with_allow_accept_supported);
  tcase_add_test(tc, session_8_2_1_unknown_method_gets_405_with_allow);
  tcase_add_test(tc, session_8_2_2_3_unknown_require_gets_420);
  tcase_add_test(tc, session_16_3_max_forwards_zero_gets_483);
  tcase_add_test(tc, session_8_2_missing_call_id_gets_400_with_reason);
  tcase_add_test(tc, session_8_2_cseq_method_mismatch_gets_400_with_reason);
  tcase_add_test(tc, session_8_2_2_2_merged_invite_gets_482);
  tcase_add_test(tc, session_8_1_1_8_unusable_contact_gets_400);
  tcase_add_test(tc, session_8_2_garbage_is_dropped_and_counted);
  tcase_add_test(tc, session_rfc3264_no_common_codec_gets_488);
  tcase_add_test(tc, session_rfc3264_no_offer_means_offer_in_200_answer_in_ack);
  tcase_add_test(tc, session_rfc3264_ack_without_answer_ends_call);
  tcase_add_test(tc, session_hangup_after_ms_sends_bye);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(session_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
