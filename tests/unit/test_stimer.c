/*
 * RFC 4028 session timers (src/dialog/stimer.h): the UAS decision on a
 * request (section 9, with section 8.1's rule for UACs without support),
 * when the next timer event is due (10), and round trips that feed one
 * side's lines to the other side's parser. Every message is parsed by
 * sofia-sip through cay__msg_parse(), as the session layer will see it.
 * The UAC side (7.1 to 7.4, 6) is in test_stimer_uac.c.
 */
#include "support/stimer_fixture.h"

/* ---- section 9: the UAS decides ---------------------------------------- */

START_TEST(stimer_9_no_session_expires_no_timer)
{
  /* RFC 4028 section 9: without Session-Expires nobody asked for a timer;
   * Cay does not insert one as UAS. */
  cay__stimer_t st = { 77, 1 };
  char lines[64] = "junk";

  ck_assert_int_eq(
      cay__stimer_on_request(90, invite(""), &st, lines, sizeof lines), 0);
  ck_assert_str_eq(lines, "");
  ck_assert_uint_eq(st.interval_s, 0);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_9_supported_without_session_expires_no_timer)
{
  /* RFC 4028 section 9 (erratum 632): Supported: timer without
   * Session-Expires means the UAC supports timers but asks for none. */
  cay__stimer_t st = { 77, 1 };
  char lines[64] = "junk";

  ck_assert_int_eq(
      cay__stimer_on_request(90, invite("Supported: timer\r\nMin-SE: 300\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines, "");
  ck_assert_uint_eq(st.interval_s, 0);
}
END_TEST

START_TEST(stimer_9_uac_supports_no_refresher_uac_refreshes)
{
  /* RFC 4028 section 9 table 2: UAC supports, no refresher in the request:
   * the UAS picks; Cay picks "uac", and refresher=uac obliges Require. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90,
                       invite("Supported: timer\r\nSession-Expires: 1800\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.interval_s, 1800);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_9_refresher_uac_copied)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 600;refresher=uac\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 600;refresher=uac\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.interval_s, 600);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_9_refresher_uas_we_refresh)
{
  /* RFC 4028 section 9 table 2: the UAC's "uas" is kept, and we are the
   * UAS of this transaction: we refresh. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 600;refresher=uas\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 600;refresher=uas\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.interval_s, 600);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_refresher_param_case_insensitive)
{
  /* RFC 3261 section 7.3.1: parameter values that are tokens compare
   * case-insensitively; "UAS" is "uas". */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 600;Refresher=UAS\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 600;refresher=uas\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_refresher_unknown_counts_as_absent)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 600;refresher=proxy\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 600;refresher=uac\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_9_refresher_empty_counts_as_absent)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 600;refresher\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 600;refresher=uac\r\nRequire: timer\r\n");
}
END_TEST

START_TEST(stimer_9_no_support_uas_refreshes_without_require)
{
  /* RFC 4028 section 9 table 2: a UAC without timer support gets "uas"
   * and no Require: timer it would not understand. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(90,
                                          invite("Session-Expires: 1800\r\n"),
                                          &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Session-Expires: 1800;refresher=uas\r\n");
  ck_assert_uint_eq(st.interval_s, 1800);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_no_support_refresher_uac_overridden)
{
  /* RFC 4028 section 9 table 2 has no row "UAC does not support, uac":
   * such a UAC would never refresh, so we do. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90, invite("Session-Expires: 1800;refresher=uac\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Session-Expires: 1800;refresher=uas\r\n");
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_require_timer_counts_as_support)
{
  /* A UAC that requires the extension supports it (RFC 4028 section 7.1). */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90,
                       invite("Require: timer\r\nSession-Expires: 1800\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n");
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_9_compact_forms)
{
  /* RFC 4028 section 4: "x" is Session-Expires; RFC 3261: "k" is
   * Supported. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(90, invite("k: timer\r\nx: 900\r\n"),
                                          &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines,
                   "Session-Expires: 900;refresher=uac\r\nRequire: timer\r\n");
}
END_TEST

START_TEST(stimer_9_update_negotiates_too)
{
  /* RFC 4028 section 9 covers UPDATE as well as (re-)INVITE. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             request("UPDATE",
                                     "Supported: timer\r\n"
                                     "Session-Expires: 300;refresher=uas\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_uint_eq(st.interval_s, 300);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_below_min_se_422)
{
  /* RFC 4028 section 9: an interval below our minimum gets 422 with our
   * minimum in Min-SE. */
  cay__stimer_t st = { 77, 1 };
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       120,
                       invite("Supported: timer\r\nSession-Expires: 119\r\n"),
                       &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 120\r\n");
  /* *st is written on 0 only. */
  ck_assert_uint_eq(st.interval_s, 77);
}
END_TEST

START_TEST(stimer_9_interval_equal_min_se_accepted)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       120,
                       invite("Supported: timer\r\nSession-Expires: 120\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_uint_eq(st.interval_s, 120);
}
END_TEST

START_TEST(stimer_4_exactly_90_accepted)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90,
                       invite("Supported: timer\r\nSession-Expires: 90\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_uint_eq(st.interval_s, 90);
}
END_TEST

START_TEST(stimer_4_89_is_422)
{
  /* RFC 4028 section 4: no session interval below 90 s. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90,
                       invite("Supported: timer\r\nSession-Expires: 89\r\n"),
                       &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_4_zero_is_422)
{
  /* Session-Expires 0 does not mean "off": it is an interval below 90. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       1800,
                       invite("Supported: timer\r\nSession-Expires: 0\r\n"),
                       &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 1800\r\n");
}
END_TEST

START_TEST(stimer_5_config_min_se_below_90_lifted)
{
  /* RFC 4028 section 5: a Min-SE below 90 s is never sent. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       30,
                       invite("Supported: timer\r\nSession-Expires: 60\r\n"),
                       &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_9_request_min_se_above_interval_422_with_it)
{
  /* A request whose Session-Expires is below its own Min-SE is asked to
   * come back above both minimums. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(90,
                                          invite("Supported: timer\r\n"
                                                 "Session-Expires: 200\r\n"
                                                 "Min-SE: 300\r\n"),
                                          &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 300\r\n");
}
END_TEST

START_TEST(stimer_9_request_min_se_below_ours_ours_wins)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(120,
                                          invite("Supported: timer\r\n"
                                                 "Session-Expires: 110\r\n"
                                                 "Min-SE: 100\r\n"),
                                          &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 120\r\n");
}
END_TEST

START_TEST(stimer_9_request_min_se_consistent_accepted)
{
  /* Min-SE in the request only floors; Session-Expires is copied. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(90,
                                          invite("Supported: timer\r\n"
                                                 "Session-Expires: 3600\r\n"
                                                 "Min-SE: 3600\r\n"),
                                          &st, lines, sizeof lines),
                   0);
  ck_assert_uint_eq(st.interval_s, 3600);
}
END_TEST

START_TEST(stimer_8_1_no_support_too_small_raised_not_422)
{
  /* RFC 4028 section 8.1 and erratum 1687: a UAC without timer support
   * cannot retry after 422, so the interval is raised to our minimum and
   * we refresh. */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(120,
                                          invite("Session-Expires: 60\r\n"),
                                          &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Session-Expires: 120;refresher=uas\r\n");
  ck_assert_uint_eq(st.interval_s, 120);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_8_1_no_support_raised_to_request_min_se)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       120, invite("Session-Expires: 60\r\nMin-SE: 200\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Session-Expires: 200;refresher=uas\r\n");
  ck_assert_uint_eq(st.interval_s, 200);
}
END_TEST

START_TEST(stimer_9_huge_interval_clamped)
{
  /* sofia-sip reads delta-seconds into an unsigned long; the state is 32
   * bits, and the UAS may reduce the interval (section 9). */
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(
      cay__stimer_on_request(90,
                             invite("Supported: timer\r\n"
                                    "Session-Expires: 99999999999\r\n"),
                             &st, lines, sizeof lines),
      0);
  ck_assert_uint_eq(st.interval_s, UINT32_MAX);
  ck_assert_str_eq(lines, "Session-Expires: 4294967295;refresher=uac\r\n"
                          "Require: timer\r\n");
}
END_TEST

START_TEST(stimer_9_max_u32_interval_kept)
{
  cay__stimer_t st;
  char lines[64];

  ck_assert_int_eq(cay__stimer_on_request(
                       90,
                       invite("Supported: timer\r\n"
                              "Session-Expires: 4294967295;refresher=uas\r\n"),
                       &st, lines, sizeof lines),
                   0);
  ck_assert_uint_eq(st.interval_s, 4294967295u);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_9_lines_exact_fit_and_one_short)
{
  static const char want[]
      = "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n";
  const sip_t *req = invite("Supported: timer\r\nSession-Expires: 1800\r\n");
  cay__stimer_t st = { 77, 1 };
  char lines[sizeof want];

  /* One byte short of the NUL: CAY_ELIMIT, "" and *st untouched. */
  ck_assert_int_eq(cay__stimer_on_request(90, req, &st, lines, sizeof want - 1),
                   CAY_ELIMIT);
  ck_assert_str_eq(lines, "");
  ck_assert_uint_eq(st.interval_s, 77);
  ck_assert_uint_eq(st.we_refresh, 1);

  ck_assert_int_eq(cay__stimer_on_request(90, req, &st, lines, sizeof want), 0);
  ck_assert_str_eq(lines, want);
}
END_TEST

START_TEST(stimer_9_422_lines_too_small)
{
  const sip_t *req = invite("Supported: timer\r\nSession-Expires: 30\r\n");
  cay__stimer_t st;
  char lines[sizeof "Min-SE: 90\r\n"];

  ck_assert_int_eq(
      cay__stimer_on_request(90, req, &st, lines, sizeof lines - 1),
      CAY_ELIMIT);
  ck_assert_str_eq(lines, "");
  ck_assert_int_eq(cay__stimer_on_request(90, req, &st, lines, sizeof lines),
                   422);
  ck_assert_str_eq(lines, "Min-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_9_zero_length_buffer)
{
  cay__stimer_t st;
  char lines[1] = { 'x' };

  /* Even "no timer" needs room for the NUL. */
  ck_assert_int_eq(cay__stimer_on_request(90, invite(""), &st, lines, 0),
                   CAY_ELIMIT);
  ck_assert_int_eq(lines[0], 'x');
}
END_TEST

/* ---- section 10: when the next event is due -------------------------------
 */

START_TEST(stimer_10_refresher_at_half)
{
  cay__stimer_t st = { 1800, 1 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st), 900000);
}
END_TEST

START_TEST(stimer_10_refresher_half_of_odd_interval_in_ms)
{
  cay__stimer_t st = { 91, 1 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st), 45500);
}
END_TEST

START_TEST(stimer_10_bye_third_of_90)
{
  /* min(32 s, 90/3 = 30 s) = 30 s before the end. */
  cay__stimer_t st = { 90, 0 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st), 60000);
}
END_TEST

START_TEST(stimer_10_bye_third_exact_in_ms)
{
  /* 95 s / 3 = 31.666 s: the margin is exact to the ms. */
  cay__stimer_t st = { 95, 0 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st), 95000 - 31666);
}
END_TEST

START_TEST(stimer_10_bye_third_equals_32_at_96)
{
  cay__stimer_t st = { 96, 0 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st), 64000);
}
END_TEST

START_TEST(stimer_10_bye_32s_above_96)
{
  cay__stimer_t st97 = { 97, 0 }, st1800 = { 1800, 0 };

  ck_assert_uint_eq(cay__stimer_due_ms(&st97), 65000);
  ck_assert_uint_eq(cay__stimer_due_ms(&st1800), 1768000);
}
END_TEST

START_TEST(stimer_10_no_timer_is_0)
{
  cay__stimer_t a = { 0, 0 }, b = { 0, 1 };

  ck_assert_uint_eq(cay__stimer_due_ms(&a), 0);
  ck_assert_uint_eq(cay__stimer_due_ms(&b), 0);
}
END_TEST

START_TEST(stimer_10_max_interval_no_overflow)
{
  cay__stimer_t a = { UINT32_MAX, 1 }, b = { UINT32_MAX, 0 };

  ck_assert_uint_eq(cay__stimer_due_ms(&a), (uint64_t)UINT32_MAX * 500);
  ck_assert_uint_eq(cay__stimer_due_ms(&b),
                    (uint64_t)UINT32_MAX * 1000 - 32000);
}
END_TEST

/* ---- round trips: one side's lines through the other side's parser ------ */

START_TEST(stimer_7_9_round_trip_initial_invite)
{
  /* Our INVITE's lines, answered by our own UAS code, answered back into
   * our UAC code: both ends agree on the interval and on exactly one
   * refresher. */
  char req_lines[96], resp_lines[64], buf[256];
  cay__stimer_t uas, uac;

  ck_assert_int_gt(
      cay__stimer_request_lines(60, 120, NULL, req_lines, sizeof req_lines), 0);
  ck_assert_int_eq(cay__stimer_on_request(90, invite(req_lines), &uas,
                                          resp_lines, sizeof resp_lines),
                   0);
  snprintf(buf, sizeof buf, "%s", resp_lines);
  cay__stimer_on_response(response(200, buf), &uac);
  ck_assert_uint_eq(uas.interval_s, 120);
  ck_assert_uint_eq(uac.interval_s, 120);
  ck_assert_uint_eq(uas.we_refresh + uac.we_refresh, 1);
}
END_TEST

START_TEST(stimer_7_4_round_trip_refresh_keeps_refresher)
{
  /* We refresh (we were the UAC of the INVITE): our refresh says
   * refresher=uac, the peer's UAS code keeps us as refresher. */
  cay__stimer_t cur = { 600, 1 }, peer, back;
  char req_lines[96], resp_lines[64];

  ck_assert_int_gt(
      cay__stimer_request_lines(0, 90, &cur, req_lines, sizeof req_lines), 0);
  ck_assert_int_eq(cay__stimer_on_request(90, request("UPDATE", req_lines),
                                          &peer, resp_lines, sizeof resp_lines),
                   0);
  ck_assert_uint_eq(peer.we_refresh, 0);
  cay__stimer_on_response(response(200, resp_lines), &back);
  ck_assert_uint_eq(back.interval_s, 600);
  ck_assert_uint_eq(back.we_refresh, 1);
}
END_TEST

START_TEST(stimer_7_3_round_trip_422_then_retry)
{
  /* RFC 4028 section 7.3: the 422's Min-SE becomes the retry's floor, and
   * the retry is accepted. */
  char req_lines[96], lines[64];
  cay__stimer_t st;
  unsigned min_se;

  ck_assert_int_gt(
      cay__stimer_request_lines(100, 90, NULL, req_lines, sizeof req_lines), 0);
  ck_assert_int_eq(
      cay__stimer_on_request(1800, invite(req_lines), &st, lines, sizeof lines),
      422);
  min_se = cay__stimer_min_se_of_422(response(422, lines));
  ck_assert_uint_eq(min_se, 1800);
  ck_assert_int_gt(
      cay__stimer_request_lines(100, min_se, NULL, req_lines, sizeof req_lines),
      0);
  ck_assert_int_eq(
      cay__stimer_on_request(1800, invite(req_lines), &st, lines, sizeof lines),
      0);
  ck_assert_uint_eq(st.interval_s, 1800);
}
END_TEST

static Suite *
stimer_suite(void)
{
  Suite *s = suite_create("stimer");
  TCase *uas = tcase_create("rfc4028_uas");
  TCase *trip = tcase_create("rfc4028_round_trip");
  TCase *due = tcase_create("rfc4028_due");

  tcase_add_checked_fixture(uas, setup, teardown);
  tcase_add_test(uas, stimer_9_no_session_expires_no_timer);
  tcase_add_test(uas, stimer_9_supported_without_session_expires_no_timer);
  tcase_add_test(uas, stimer_9_uac_supports_no_refresher_uac_refreshes);
  tcase_add_test(uas, stimer_9_refresher_uac_copied);
  tcase_add_test(uas, stimer_9_refresher_uas_we_refresh);
  tcase_add_test(uas, stimer_9_refresher_param_case_insensitive);
  tcase_add_test(uas, stimer_9_refresher_unknown_counts_as_absent);
  tcase_add_test(uas, stimer_9_refresher_empty_counts_as_absent);
  tcase_add_test(uas, stimer_9_no_support_uas_refreshes_without_require);
  tcase_add_test(uas, stimer_9_no_support_refresher_uac_overridden);
  tcase_add_test(uas, stimer_9_require_timer_counts_as_support);
  tcase_add_test(uas, stimer_9_compact_forms);
  tcase_add_test(uas, stimer_9_update_negotiates_too);
  tcase_add_test(uas, stimer_9_below_min_se_422);
  tcase_add_test(uas, stimer_9_interval_equal_min_se_accepted);
  tcase_add_test(uas, stimer_4_exactly_90_accepted);
  tcase_add_test(uas, stimer_4_89_is_422);
  tcase_add_test(uas, stimer_4_zero_is_422);
  tcase_add_test(uas, stimer_5_config_min_se_below_90_lifted);
  tcase_add_test(uas, stimer_9_request_min_se_above_interval_422_with_it);
  tcase_add_test(uas, stimer_9_request_min_se_below_ours_ours_wins);
  tcase_add_test(uas, stimer_9_request_min_se_consistent_accepted);
  tcase_add_test(uas, stimer_8_1_no_support_too_small_raised_not_422);
  tcase_add_test(uas, stimer_8_1_no_support_raised_to_request_min_se);
  tcase_add_test(uas, stimer_9_huge_interval_clamped);
  tcase_add_test(uas, stimer_9_max_u32_interval_kept);
  tcase_add_test(uas, stimer_9_lines_exact_fit_and_one_short);
  tcase_add_test(uas, stimer_9_422_lines_too_small);
  tcase_add_test(uas, stimer_9_zero_length_buffer);
  suite_add_tcase(s, uas);

  tcase_add_checked_fixture(trip, setup, teardown);
  tcase_add_test(trip, stimer_7_9_round_trip_initial_invite);
  tcase_add_test(trip, stimer_7_4_round_trip_refresh_keeps_refresher);
  tcase_add_test(trip, stimer_7_3_round_trip_422_then_retry);
  suite_add_tcase(s, trip);

  tcase_add_checked_fixture(due, setup, teardown);
  tcase_add_test(due, stimer_10_refresher_at_half);
  tcase_add_test(due, stimer_10_refresher_half_of_odd_interval_in_ms);
  tcase_add_test(due, stimer_10_bye_third_of_90);
  tcase_add_test(due, stimer_10_bye_third_exact_in_ms);
  tcase_add_test(due, stimer_10_bye_third_equals_32_at_96);
  tcase_add_test(due, stimer_10_bye_32s_above_96);
  tcase_add_test(due, stimer_10_no_timer_is_0);
  tcase_add_test(due, stimer_10_max_interval_no_overflow);
  suite_add_tcase(s, due);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(stimer_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
