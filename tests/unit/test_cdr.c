/*
 * Call detail records (b2bua/cdr.h): the record each bridged call
 * leaves, on a virtual clock (answered, busy, CANCEL, ring timeout, max
 * duration, BYE from B, failover, shutdown, the Reason that ended it);
 * its JSON (RFC 8259 escaping). test_cdr_file.c tests the file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b2bua/cdr.h"
#include "core/alloc.h"
#include "dialog/session_int.h"
#include "support/bridge_call.h"
#include "support/cdr_sink.h"
#include "support/peer.h"
#include "support/run.h"

#define T1 500

/* A answers B's BYE and the call is gone: B's BYE is answered. */
static void
b_bye_answered(peer_t *p)
{
  int bye = b_msg(p, 0, "BYE");

  ck_assert_int_ge(bye, 0);
  respond(p, (unsigned)bye, "200", "", NULL);
}

/* A calls; B rings after 300 ms and answers 700 ms later; A talks 5 s and
 * hangs up: one record with the three times, the parties and who ended
 * it. */
START_TEST(cdr_answered_call_ended_by_the_caller)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64], want[160];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  char *b_cid = peer_header(p, (unsigned)inv, "Call-ID");
  peer_advance(p, 300);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 700);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  peer_to_tag(p, (unsigned)peer_find_last(p, 200, NULL), tag, sizeof tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag);
  peer_advance(p, 5000);
  ck_assert_uint_eq(cdr_recs.n, 0); /* not before the call is over */
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  b_bye_answered(p);
  call_gone(p);

  const char *r = the_record(p);
  ck_assert_int_eq(r[0], '{');
  ck_assert_int_eq(time_ms(r, "progress") - time_ms(r, "start"), 300);
  ck_assert_int_eq(time_ms(r, "answer") - time_ms(r, "start"), 1000);
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "answer"), 5000);
  /* The start is now, on the wall clock (within a minute). */
  ck_assert_int_lt(llabs(time_ms(r, "start") - (long long)time(NULL) * 1000),
                   60000);
  field_is(r, "setup_ms", "1000");
  field_is(r, "duration_ms", "5000");
  field_is(r, "call_id", "\"a-leg\"");
  field_is(r, "from", "\"sip:sipp@127.0.0.1:5070\"");
  field_is(r, "to", "\"sip:service@127.0.0.1:5060\"");
  field_is(r, "ruri", "\"sip:service@127.0.0.1:5060\"");
  field_is(r, "source", "\"udp:127.0.0.1:5070\"");
  field_is(r, "target", "\"sip:service@127.0.0.1:5070\"");
  snprintf(want, sizeof want, "\"%s\"", b_cid);
  field_is(r, "b_call_id", want);
  field_is(r, "attempts", "1");
  field_is(r, "status", "200");
  field_is(r, "b_status", "200");
  field_is(r, "ended_by", "\"caller\"");
  field_is(r, "reason", "null"); /* A's BYE gave none */
  field_is(r, "q850", "16");     /* RFC 3398: a BYE, normal clearing */
  field_is(r, "shard", "0");
  ck_assert_str_eq(r + strlen(r) - 2, "}\n");
  /* The embedder's view says the same (cay/cdr.h). */
  ck_assert_int_eq(cdr_recs.last.start_ms, time_ms(r, "start"));
  ck_assert_int_eq(cdr_recs.last.progress_ms - cdr_recs.last.start_ms, 300);
  ck_assert_int_eq(cdr_recs.last.answer_ms, time_ms(r, "answer"));
  ck_assert_int_eq(cdr_recs.last.end_ms, time_ms(r, "end"));
  ck_assert_int_eq(cdr_recs.last.setup_ms, 1000);
  ck_assert_int_eq(cdr_recs.last.duration_ms, 5000);
  ck_assert_uint_eq(cdr_recs.last.attempts, 1);
  ck_assert_int_eq(cdr_recs.last.status, 200);
  ck_assert_int_eq(cdr_recs.last.b_status, 200);
  ck_assert_int_eq(cdr_recs.last.ended_by, CAY_CDR_CALLER);
  ck_assert_str_eq(cay_cdr_end_name(cdr_recs.last.ended_by), "caller");
  ck_assert_str_eq(cdr_recs.reason, "(null)");
  ck_assert_int_eq(cdr_recs.last.q850, 16);
  free(b_cid);
  peer_free(p);
}
END_TEST

/* B is busy: its 486 reaches A; no progress, no answer, nothing billed;
 * the 486's two Reasons (RFC 6432) are the record's, the Q.850 one's
 * cause its q850. */
START_TEST(cdr_busy_callee)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);

  invite_a(p, "service", "");
  peer_advance(p, 40);
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "486",
          "Reason: SIP ;cause=486;text=\"Busy Here\"\r\n"
          "Reason: Q.850;cause=17;text=\"User busy\"\r\n",
          NULL);
  call_gone(p);
  const char *r = the_record(p);
  field_is(r, "progress", "null");
  field_is(r, "answer", "null");
  field_is(r, "setup_ms", "null");
  field_is(r, "duration_ms", "0");
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "start"), 40);
  field_is(r, "status", "486");
  field_is(r, "b_status", "486");
  field_is(r, "ended_by", "\"callee\"");
  field_is(r, "reason",
           "\"SIP;cause=486;text=\\\"Busy Here\\\", "
           "Q.850;cause=17;text=\\\"User busy\\\"\"");
  field_is(r, "q850", "17");
  ck_assert_str_eq(cdr_recs.reason, "SIP;cause=486;text=\"Busy Here\", "
                                    "Q.850;cause=17;text=\"User busy\"");
  ck_assert_int_eq(cdr_recs.last.q850, 17);
  peer_free(p);
}
END_TEST

/* B's 503 is not A's: A gets 500, the record says both. */
START_TEST(cdr_callee_503_caller_500)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);

  invite_a(p, "service", "");
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "503", "", NULL);
  a_final_is(p, "1 INVITE", 500);
  const char *r = the_record(p);
  field_is(r, "status", "500");
  field_is(r, "b_status", "503");
  field_is(r, "ended_by", "\"callee\"");
  peer_free(p);
}
END_TEST

/* A CANCELs while B rings (RFC 3261 section 9): 487 for A. */
START_TEST(cdr_9_cancel_by_the_caller)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 2500);
  a_request_with(p, "CANCEL", "z9hG4bK-a-inv", "1", "",
                 "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n");
  ck_assert_uint_eq(cdr_recs.n, 0); /* B's INVITE is still to end */
  respond(p, (unsigned)b_msg(p, 0, "CANCEL"), "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  const char *r = the_record(p);
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "start"), 2500);
  field_is(r, "answer", "null");
  field_is(r, "status", "487");
  field_is(r, "b_status", "487");
  field_is(r, "ended_by", "\"caller\"");
  /* RFC 3326 section 2: the CANCEL's Reason; not a Q.850 one. */
  ck_assert_str_eq(cdr_recs.reason,
                   "SIP;cause=200;text=\"Call completed elsewhere\"");
  field_is(r, "q850", "null"); /* nor does RFC 3398 map a 487 */
  peer_free(p);
}
END_TEST

/* Cay ended the call: the Reason it sent (Q.850 19, no answer). */
START_TEST(cdr_ring_timeout)
{
  cay_config_t cfg = bridge_config(-1, 2, NULL);
  peer_t *p = peer_with_sink(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 2000);
  respond(p, (unsigned)b_msg(p, 0, "CANCEL"), "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  const char *r = the_record(p);
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "start"), 2000);
  field_is(r, "status", "480");
  field_is(r, "ended_by", "\"ring_timeout\"");
  ck_assert_str_eq(cdr_recs.reason, "Q.850;cause=19;text=\"no answer\"");
  field_is(r, "q850", "19");
  /* The callee's CANCEL said the same. */
  ck_assert_ptr_nonnull(
      strstr(p->sent[b_msg(p, 0, "CANCEL")].data,
             "\r\nReason: Q.850;cause=19;text=\"no answer\"\r\n"));
  peer_free(p);
}
END_TEST

/* The route's max duration ends an answered call: billed to the limit;
 * A's BYE that crosses Cay's does not change who ended it. */
START_TEST(cdr_max_duration)
{
  cay_config_t cfg = bridge_config(2, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  peer_advance(p, 2000);
  a_request_with(p, "BYE", "z9hG4bK-a-bye", "2", tag,
                 "Reason: Q.850;cause=16\r\n"); /* too late to count */
  b_bye_answered(p);
  for (unsigned i = 0; i < p->nsent; i++)
    if (strcmp(peer_method(p, i), "BYE") == 0 && (int)i != b_msg(p, 0, "BYE"))
      respond(p, i, "481", "", NULL);
  peer_advance(p, 64 * T1);
  call_gone(p);
  const char *r = the_record(p);
  field_is(r, "duration_ms", "2000");
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"max_duration\"");
  ck_assert_str_eq(cdr_recs.reason, "Q.850;cause=102;text=\"max duration\"");
  field_is(r, "q850", "102");
  peer_free(p);
}
END_TEST

START_TEST(cdr_bye_from_the_callee)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  peer_advance(p, 1234);
  b_request_with(
      p, (unsigned)b_msg(p, 0, "INVITE"), "BYE", 2,
      "Reason: Q.850 ; cause = 31 ; text=\"Normal, unspecified\"\r\n", NULL,
      NULL);
  int bye = peer_find_request(p, "BYE", "a-leg");
  ck_assert_int_ge(bye, 0);
  respond(p, (unsigned)bye, "200", "", NULL);
  call_gone(p);
  const char *r = the_record(p);
  field_is(r, "duration_ms", "1234");
  field_is(r, "ended_by", "\"callee\"");
  /* The value as the parser has it: the blanks around ';' and '=' go. */
  ck_assert_str_eq(cdr_recs.reason,
                   "Q.850;cause=31;text=\"Normal, unspecified\"");
  field_is(r, "q850", "31");
  peer_free(p);
}
END_TEST

/* Failover: the record names the B leg that answered and counts both. */
START_TEST(cdr_failover_names_the_last_target)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p;
  char want[160], tag[64];

  snprintf(cfg.routes[0].failover[0], sizeof cfg.routes[0].failover[0],
           "sip:${ruri_user}@127.0.0.1:5071");
  cfg.routes[0].n_failover = 1;
  p = peer_with_sink(&cfg);
  invite_a(p, "service", "");
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "503", "", NULL);
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 2);
  char *b_cid = peer_header(p, (unsigned)inv, "Call-ID");
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  peer_to_tag(p, a_final_is(p, "1 INVITE", 200), tag, sizeof tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  b_bye_answered(p);
  call_gone(p);
  const char *r = the_record(p);
  field_is(r, "attempts", "2");
  field_is(r, "target", "\"sip:service@127.0.0.1:5071\"");
  snprintf(want, sizeof want, "\"%s\"", b_cid);
  field_is(r, "b_call_id", want);
  field_is(r, "b_status", "200");
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"caller\"");
  free(b_cid);
  peer_free(p);
}
END_TEST

/* A drain ends a ringing call and an answered one: Cay ended both. */
START_TEST(cdr_shutdown_by_drain)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  cay__sessions_drain(&p->ss, NULL, NULL);
  b_bye_answered(p);
  int bye = peer_find_request(p, "BYE", "a-leg");
  ck_assert_int_ge(bye, 0);
  respond(p, (unsigned)bye, "200", "", NULL);
  call_gone(p);
  const char *r = the_record(p);
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"shutdown\"");
  ck_assert_str_eq(cdr_recs.reason, "SIP;cause=503;text=\"shutdown\"");
  field_is(r, "q850", "16"); /* answered: no Q.850 Reason, a BYE's 16 */
  peer_free(p);

  p = peer_with_sink(&cfg);
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  cay__sessions_drain(&p->ss, NULL, NULL);
  a_final_is(p, "1 INVITE", 480);
  int cancel = b_msg(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  respond(p, (unsigned)cancel, "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  r = the_record(p);
  field_is(r, "status", "480");
  field_is(r, "ended_by", "\"shutdown\"");
  peer_free(p);
}
END_TEST

/* A call a forward route took but could not place leaves a record too:
 * refused, with the caller's final status, no B leg, no time passed. */
START_TEST(cdr_refused_before_a_b_leg)
{
  cay_config_t cfg = bridge_config(-1, 60, "G722"); /* A offers none */
  peer_t *p = peer_with_sink(&cfg);

  invite_a(p, "service", "");
  a_final_is(p, "1 INVITE", 488);
  ck_assert_int_lt(b_msg(p, 0, "INVITE"), 0);
  const char *r = the_record(p);
  no_b_leg_is(r, "488", "\"refused\"");
  field_is(r, "call_id", "\"a-leg\"");
  peer_free(p);

  /* A location route, and the callee is not registered (RFC 3261
   * section 21.4.18: 480). */
  cfg = bridge_config(-1, 60, NULL);
  cfg.routes[0].location = 1;
  p = peer_with_sink(&cfg);
  invite_a(p, "service", "");
  a_final_is(p, "1 INVITE", 480);
  r = the_record(p);
  no_b_leg_is(r, "480", "\"refused\"");
  ck_assert_int_eq(cdr_recs.last.ended_by, CAY_CDR_REFUSED);
  peer_free(p);
}
END_TEST

/* An INVITE to user @p user with Call-ID @p call_id and Via branch
 * @p branch, to Cay: its final status. */
static int
invite_to(peer_t *p, const char *user, const char *call_id, const char *branch)
{
  peer_send(p, "invite_to.sip", "user", user, "host", "127.0.0.1:5060",
            "branch", branch, "fromtag", "ft2", "callid", call_id, "codecs",
            "0", "extra", "", NULL);
  return peer_last_status(p);
}

/* An INVITE the routes refuse leaves a record at once (ended_by
 * rejected, the caller's status, no B leg): a reject route (486), no
 * route (404), and a forward that would loop (482). A retransmission
 * of one (the transaction answers it) leaves no second record. */
START_TEST(cdr_rejected_by_the_routes)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_with_sink(&cfg);
  const char *r;

  ck_assert_int_eq(invite_to(p, "busy", "busy-call", "z9hG4bK-b2"), 486);
  r = the_record(p);
  no_b_leg_is(r, "486", "\"rejected\"");
  field_is(r, "setup_ms", "null");
  field_is(r, "call_id", "\"busy-call\"");
  field_is(r, "ruri", "\"sip:busy@127.0.0.1:5060\"");
  field_is(r, "source", "\"udp:127.0.0.1:5070\"");
  ck_assert_int_eq(cdr_recs.last.ended_by, CAY_CDR_REJECTED);
  ck_assert_int_eq(cdr_recs.last.status, 486);
  ck_assert_int_eq(cdr_recs.last.setup_ms, -1);
  ck_assert_int_eq(cdr_recs.last.end_ms, cdr_recs.last.start_ms);
  /* Its retransmission: the same answer, no second record. */
  ck_assert_int_eq(invite_to(p, "busy", "busy-call", "z9hG4bK-b2"), 486);
  ck_assert_uint_eq(cdr_recs.n, 1);

  ck_assert_int_eq(invite_to(p, "nobody", "lost-call", "z9hG4bK-n1"), 404);
  ck_assert_uint_eq(cdr_recs.n, 2);
  no_b_leg_is(cdr_recs.line[1], "404", "\"rejected\"");
  field_is(cdr_recs.line[1], "call_id", "\"lost-call\"");

  /* The B leg Cay would send, come back to it (our Via, the target as
   * its Request-URI): RFC 3261 section 16.3 item 4. */
  peer_send(
      p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5070", "branch",
      "z9hG4bK-loop\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx",
      "fromtag", "ft1", "callid", "loop", "codecs", "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 482);
  ck_assert_uint_eq(cdr_recs.n, 3);
  no_b_leg_is(cdr_recs.line[2], "482", "\"rejected\"");
  ck_assert_uint_eq(p->ss.shard->stats.cdrs, 3);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* No sink, no record (and no memory kept for one). */
START_TEST(cdr_none_without_a_sink)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  b_bye_answered(p);
  call_gone(p);
  ck_assert_uint_eq(p->ss.shard->stats.cdrs, 0);
  peer_free(p);
}
END_TEST

/* RFC 8259 section 7: quote, backslash and control characters escaped;
 * UTF-8 kept; a byte that is not UTF-8 (a lone continuation byte, an
 * overlong form, a surrogate) becomes U+FFFD; no B leg: nulls. */
START_TEST(cdr_8259_strings_escaped)
{
  cay__cdr_t r;
  cay_cdr_t v;
  size_t len;
  char *line;

  memset(&r, 0, sizeof r);
  r.wall_start_ms = 1764064800123LL; /* 2025-11-25T10:00:00.123Z */
  r.start_ms = 1000000;
  r.call_id = "q\"b\\c\td\x01";
  r.from = "sip:j\xC3\xBCrgen@example.com";
  r.to = "sip:x\x80y\xC0\xAFz\xED\xA0\x80@example.com";
  r.ruri = "sip:a@b";
  r.status = 408;
  r.ended_by = CAY_CDR_CALLEE;
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_ptr_nonnull(line);
  ck_assert_ptr_eq(v.json, line);
  len = v.json_len;
  ck_assert_uint_eq(len, strlen(line));
  ck_assert_str_eq(
      line,
      "{\"start\":\"2025-11-25T10:00:00.123Z\",\"progress\":null,"
      "\"answer\":null,\"end\":\"2025-11-25T10:00:00.373Z\","
      "\"setup_ms\":null,\"duration_ms\":0,"
      "\"call_id\":\"q\\\"b\\\\c\\u0009d\\u0001\","
      "\"from\":\"sip:j\xC3\xBCrgen@example.com\","
      "\"to\":\"sip:x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF"
      "\xBD\xEF\xBF\xBD@example.com\","
      "\"ruri\":\"sip:a@b\",\"source\":null,\"target\":null,"
      "\"b_call_id\":null,\"attempts\":0,\"status\":408,\"b_status\":0,"
      "\"ended_by\":\"callee\",\"reason\":null,\"q850\":102,"
      "\"shard\":0}\n"); /* RFC 3398: 408 -> 102 */
  cay__free(line);

  /* The Reason escaped as the other strings; its cause a number. */
  r.reason = (char *)"Q.850;cause=16;text=\"a\\b\"";
  r.q850 = 16;
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_ptr_nonnull(strstr(
      line, ",\"ended_by\":\"callee\",\"reason\":\"Q.850;cause=16;text=\\\"a"
            "\\\\b\\\"\",\"q850\":16,\"shard\":0}\n"));
  ck_assert_str_eq(v.reason, r.reason);
  ck_assert_int_eq(v.q850, 16);
  cay__free(line);
  r.reason = NULL;
  r.q850 = 0;

  /* A record cut before it ended says shutdown, ended now. */
  r.ended_by = CAY__CDR_OPEN;
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_int_eq(v.ended_by, CAY_CDR_SHUTDOWN);
  ck_assert_int_eq(v.end_ms, 1764064800373LL);
  ck_assert_ptr_nonnull(strstr(line, "\"ended_by\":\"shutdown\""));
  cay__free(line);
  ck_assert_str_eq(cay_cdr_end_name(CAY_CDR_REJECTED), "rejected");
  ck_assert_str_eq(cay_cdr_end_name((cay_cdr_end_t)0), "unknown");
  ck_assert_str_eq(cay_cdr_end_name((cay_cdr_end_t)99), "unknown");
}
END_TEST

/* RFC 3326 section 2: the cause of the first Q.850 value, wherever it
 * stands among the values, with blanks and any case; a cause in a quoted
 * string, of another protocol, out of 1..127 or not a number is none. */
START_TEST(cdr_3326_q850_cause)
{
  static const struct {
    const char *v;
    int cause;
  } cases[] = {
    { "Q.850;cause=16", 16 },
    { "q.850 ; CAUSE = 17 ;text=\"x\"", 17 },
    { "Q.850;text=\"User busy\";cause=17", 17 },
    { "SIP;cause=486;text=\"Busy\", Q.850;cause=17", 17 },
    { "X;cause=3,Q.850;cause=34,Q.850;cause=35", 34 },
    { "SIP;cause=200;text=\"a, Q.850;cause=5\"", 0 },
    { "Q.850;text=\"cause=9; ;cause=8\";cause=21", 21 },
    { "Q.850;text=\"a\\\";cause=4\";cause=22", 22 },
    { "Q.850;cause=127", 127 },
    { "Q.850;cause=0", 0 },
    { "Q.850;cause=128", 0 },
    { "Q.850;cause=-5", 0 },
    { "Q.850;cause=+5", 0 },
    { "Q.850;cause=", 0 },
    { "Q.850;causes=3", 0 },
    { "Q.8501;cause=3", 0 },
    { "SIP;cause=16", 0 },
    { "Q.850", 0 },
    { "", 0 },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_msg(cay__cdr_q850(cases[i].v) == cases[i].cause,
                  "%s: %d, want %d", cases[i].v, cay__cdr_q850(cases[i].v),
                  cases[i].cause);
}
END_TEST

/* RFC 3398 section 8.2.6.1: without a Q.850 Reason, a failed call's
 * q850 is its final status's ISUP cause (none for 487, 488, 606, or a
 * status the table lacks); an answered call's is 16; a Q.850 Reason
 * wins over both. */
START_TEST(cdr_3398_q850_of_the_status)
{
  static const int cases[][2] = {
    { 404, 1 },   { 403, 21 }, { 408, 102 }, { 410, 22 }, { 480, 18 },
    { 484, 28 },  { 486, 17 }, { 500, 41 },  { 502, 38 }, { 503, 41 },
    { 504, 102 }, { 600, 17 }, { 603, 21 },  { 604, 1 },  { 487, 0 },
    { 488, 0 },   { 606, 0 },  { 422, 0 },   { 491, 0 },  { 200, 0 },
    { 0, 0 },     { 699, 0 },
  };
  cay__cdr_t r;
  cay_cdr_t v;
  char *line;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_msg(cay__cdr_q850_of_status(cases[i][0]) == cases[i][1],
                  "%d: %d, want %d", cases[i][0],
                  cay__cdr_q850_of_status(cases[i][0]), cases[i][1]);

  memset(&r, 0, sizeof r);
  r.start_ms = 1000000;
  r.call_id = r.from = r.to = r.ruri = "x";
  r.ended_by = CAY_CDR_CALLEE;
  r.status = 486;
  r.reason = (char *)"SIP;cause=486"; /* not a Q.850 one: the status's */
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_int_eq(v.q850, 17);
  ck_assert_ptr_nonnull(strstr(line, "\"q850\":17,"));
  cay__free(line);
  r.reason = (char *)"Q.850;cause=21"; /* the callee's own word wins */
  r.q850 = 21;
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_int_eq(v.q850, 21);
  cay__free(line);
  r.reason = NULL;
  r.q850 = 0;
  r.status = 200;
  r.answer_ms = 1000100;
  line = cay__cdr_format(&r, 1000250, &v);
  ck_assert_int_eq(v.q850, 16);
  cay__free(line);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("cdr");
  TCase *tc = tcase_create("bridge");

  tcase_add_test(tc, cdr_answered_call_ended_by_the_caller);
  tcase_add_test(tc, cdr_busy_callee);
  tcase_add_test(tc, cdr_callee_503_caller_500);
  tcase_add_test(tc, cdr_9_cancel_by_the_caller);
  tcase_add_test(tc, cdr_ring_timeout);
  tcase_add_test(tc, cdr_max_duration);
  tcase_add_test(tc, cdr_bye_from_the_callee);
  tcase_add_test(tc, cdr_failover_names_the_last_target);
  tcase_add_test(tc, cdr_shutdown_by_drain);
  tcase_add_test(tc, cdr_refused_before_a_b_leg);
  tcase_add_test(tc, cdr_rejected_by_the_routes);
  tcase_add_test(tc, cdr_none_without_a_sink);
  tcase_add_test(tc, cdr_8259_strings_escaped);
  tcase_add_test(tc, cdr_3326_q850_cause);
  tcase_add_test(tc, cdr_3398_q850_of_the_status);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
