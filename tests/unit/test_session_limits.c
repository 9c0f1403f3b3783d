/*
 * Cay's UAS sessions at their limits: dialog max duration racing a BYE,
 * in both orders and in the same tick (DESIGN.md rule 6), the drain at
 * shutdown, overload (DESIGN.md section 7), and a failed send.
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

/* -- max duration against BYE: both orders and the same tick ------------ */

#define MAXDUR_S 10

static peer_t *
maxdur_call(char *tag, size_t n)
{
  cay_config_t cfg = config();
  cfg.dialog_max_duration_s = MAXDUR_S;
  peer_t *p = peer_new(&cfg);
  sess_confirmed(p, "race", tag, n);
  return p;
}

static void
answer_byes(peer_t *p, int status)
{
  int bye = peer_find_last(p, 0, "BYE");
  if (bye < 0)
    return;
  char *via = peer_header(p, (unsigned)bye, "Via");
  char *from = peer_header(p, (unsigned)bye, "From");
  char *to = peer_header(p, (unsigned)bye, "To");
  char *cseq = peer_header(p, (unsigned)bye, "CSeq");
  char st[8];
  snprintf(st, sizeof st, "%d", status);
  peer_send(p, "response.sip", "status", st, "phrase", "X", "via", via, "from",
            from, "to", to, "callid", "race", "cseq", cseq, NULL);
  free(via);
  free(from);
  free(to);
  free(cseq);
}

START_TEST(session_maxdur_timeout_sends_bye)
{
  char tag[64];
  peer_t *p = maxdur_call(tag, sizeof tag);

  peer_advance(p, MAXDUR_S * 1000 - 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  answer_byes(p, 200);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_maxdur_bye_first_then_timeout_never_fires)
{
  char tag[64];
  peer_t *p = maxdur_call(tag, sizeof tag);

  peer_advance(p, MAXDUR_S * 1000 - 100);
  sess_request(p, "BYE", "race", "z9hG4bK-b", "2", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  peer_advance(p, 200);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_maxdur_timeout_first_then_their_bye_gets_200)
{
  char tag[64];
  peer_t *p = maxdur_call(tag, sizeof tag);

  peer_advance(p, MAXDUR_S * 1000);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  /* Their BYE crosses ours: it gets 200, the dialog ends at once. */
  sess_request(p, "BYE", "race", "z9hG4bK-b", "2", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  /* Our BYE then gets 481 from them: nothing is freed twice. */
  answer_byes(p, 481);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_maxdur_same_tick_bye_handled_first)
{
  char tag[64];
  peer_t *p = maxdur_call(tag, sizeof tag);

  /* The clock reaches the due time, but the BYE event is dispatched
   * before the timer event of the same tick. */
  peer_advance(p, MAXDUR_S * 1000 - 1);
  p->shard.vnow_ms += 1;
  sess_request(p, "BYE", "race", "z9hG4bK-b", "2", tag, "", "70");
  peer_advance(p, 0);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 2); /* INVITE and BYE */
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_maxdur_same_tick_timer_handled_first)
{
  char tag[64];
  peer_t *p = maxdur_call(tag, sizeof tag);

  peer_advance(p, MAXDUR_S * 1000); /* the timer event runs first */
  sess_request(p, "BYE", "race", "z9hG4bK-b", "2", tag, "", "70");
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  /* Our BYE is never answered: timer F ends it, nothing else happens. */
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  peer_free(p);
}
END_TEST

START_TEST(session_drain_byes_confirmed_and_refuses_new_calls)
{
  cay_config_t cfg = config();
  peer_t *p = peer_new(&cfg);
  char tag[64];

  sess_confirmed(p, "c1", tag, sizeof tag);
  cay__sessions_drain(&p->ss, NULL, NULL);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  sess_invite(p, "c2", "0");
  ck_assert_int_eq(peer_last_status(p), 503);
  char *ra = peer_header(p, p->nsent - 1, "Retry-After");
  ck_assert_ptr_nonnull(ra);
  free(ra);
  peer_free(p);
}
END_TEST

START_TEST(session_7_overload_503_counts_only_work_in_flight)
{
  /* DESIGN.md section 7: above max_transactions in flight, a stateless
   * 503 with Retry-After; finished transactions do not count. */
  cay_config_t cfg = config();
  cfg.max_transactions = 2;
  peer_t *p = peer_new(&cfg);
  char tag[64];

  sess_confirmed(p, "done1", tag, sizeof tag);
  sess_request(p, "BYE", "done1", "z9hG4bK-b1", "2", tag, "", "70");
  sess_confirmed(p, "done2", tag, sizeof tag);
  ck_assert_int_ge(p->ep.live_txns, 3); /* finished, absorbing */
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  cay__sessions_fini(&p->ss);
  p->cfg.ring_ms = 60000; /* now calls stay pending */
  ck_assert_int_eq(cay__sessions_init(&p->ss, &p->ep, &p->cfg), 0);
  sess_invite(p, "wait1", "0");
  sess_invite(p, "wait2", "0");
  ck_assert_uint_eq(p->shard.stats.txns_live, 2);
  peer_clear(p);
  sess_invite(p, "wait3", "0");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 503);
  ck_assert_uint_eq(p->shard.stats.overload_rejected, 1);
  ck_assert_uint_eq(p->shard.stats.responses_5xx, 1);
  char *ra = peer_header(p, 0, "Retry-After");
  ck_assert_ptr_nonnull(ra);
  free(ra);
  peer_free(p);
}
END_TEST

START_TEST(session_7_backlogged_udp_queue_refuses_new_invites_only)
{
  /* DESIGN.md section 7, limits.udp_overload_percent: while the datagram
   * in hand was read from a UDP receive queue over the threshold (the
   * worker sets shard.backlogged), a new INVITE gets 503 with a short
   * Retry-After in a transaction of its own; work in flight goes on. */
  peer_t *p = peer_new(NULL);
  char tag[64];
  char *ra;
  msg_t *m;

  sess_confirmed(p, "live", tag, sizeof tag);
  peer_clear(p);
  p->shard.backlogged = 1;
  sess_invite(p, "new1", "0");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 503);
  m = peer_msg(p, 0);
  ck_assert_str_eq(sip_object(m)->sip_status->st_phrase,
                   "Service Unavailable - Overloaded");
  ck_assert_ptr_nonnull(sip_object(m)->sip_to->a_tag);
  msg_destroy(m);
  ra = peer_header(p, 0, "Retry-After");
  ck_assert_ptr_nonnull(ra);
  ck_assert_str_eq(ra, "1");
  free(ra);
  ck_assert_uint_eq(p->shard.stats.overload_rejected, 1);
  ck_assert_uint_eq(p->shard.stats.calls_rejected, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);

  /* The live call is not refused anything: BYE gets its 200. */
  sess_request(p, "BYE", "live", "z9hG4bK-b1", "2", tag, "", "70");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  /* Drained: a copy of the refused INVITE still queued behind it gets
   * the 503 again from its transaction, never a call; a new INVITE is a
   * call again. */
  p->shard.backlogged = 0;
  peer_clear(p);
  sess_invite(p, "new1", "0");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 503);
  ck_assert_uint_eq(p->shard.stats.overload_rejected, 1);
  sess_invite(p, "new2", "0");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(p->shard.stats.overload_rejected, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_advance(p, 64 * T1);
  peer_free(p);
}
END_TEST

START_TEST(session_send_failure_loses_nothing)
{
  /* The transport refuses every send: the call still ends by its timers
   * and nothing leaks (peer_free checks). */
  peer_t *p = peer_new(NULL);

  p->fail_sends = 1;
  sess_invite(p, "c1", "0");
  ck_assert_uint_gt(p->shard.stats.send_errors, 0);
  peer_advance(p, 200 * T1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

static Suite *
session_limits_suite(void)
{
  Suite *s = suite_create("rfc3261_uas_session_limits");
  TCase *tc = tcase_create("limits");

  tcase_add_test(tc, session_maxdur_timeout_sends_bye);
  tcase_add_test(tc, session_maxdur_bye_first_then_timeout_never_fires);
  tcase_add_test(tc, session_maxdur_timeout_first_then_their_bye_gets_200);
  tcase_add_test(tc, session_maxdur_same_tick_bye_handled_first);
  tcase_add_test(tc, session_maxdur_same_tick_timer_handled_first);
  tcase_add_test(tc, session_drain_byes_confirmed_and_refuses_new_calls);
  tcase_add_test(tc, session_7_overload_503_counts_only_work_in_flight);
  tcase_add_test(tc, session_7_backlogged_udp_queue_refuses_new_invites_only);
  tcase_add_test(tc, session_send_failure_loses_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(session_limits_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
