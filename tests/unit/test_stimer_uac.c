/*
 * RFC 4028 session timers (src/dialog/stimer.h), the UAC side: the lines
 * of the requests we send (sections 7.1, 7.4), the 2xx (7.2) and the 422
 * (6, 7.3) we receive. Every message is parsed by sofia-sip through
 * cay__msg_parse(), as the session layer will see it.
 */
#include "support/stimer_fixture.h"

/* ---- sections 7.1 and 7.4: the requests we send ---------------------------
 */

START_TEST(stimer_7_1_no_timer_lists_support_only)
{
  char lines[96];

  ck_assert_int_eq(cay__stimer_request_lines(0, 90, NULL, lines, sizeof lines),
                   (long)strlen("Supported: timer\r\n"));
  ck_assert_str_eq(lines, "Supported: timer\r\n");
}
END_TEST

START_TEST(stimer_7_1_asks_for_interval)
{
  static const char want[]
      = "Supported: timer\r\nSession-Expires: 1800\r\nMin-SE: 90\r\n";
  char lines[96];

  ck_assert_int_eq(
      cay__stimer_request_lines(1800, 90, NULL, lines, sizeof lines),
      (long)strlen(want));
  ck_assert_str_eq(lines, want);
}
END_TEST

START_TEST(stimer_7_1_interval_below_min_se_raised)
{
  /* RFC 4028 section 7.1: Session-Expires MUST NOT be below Min-SE. */
  char lines[96];

  ck_assert_int_gt(
      cay__stimer_request_lines(60, 120, NULL, lines, sizeof lines), 0);
  ck_assert_str_eq(
      lines, "Supported: timer\r\nSession-Expires: 120\r\nMin-SE: 120\r\n");
}
END_TEST

START_TEST(stimer_5_request_min_se_below_90_lifted)
{
  char lines[96];

  ck_assert_int_gt(cay__stimer_request_lines(30, 0, NULL, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines,
                   "Supported: timer\r\nSession-Expires: 90\r\nMin-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_7_4_refresh_we_refresh_says_uac)
{
  /* RFC 4028 section 7.4: the refresher stays; we send the refresh, so we
   * are this transaction's UAC. */
  cay__stimer_t cur = { 600, 1 };
  char lines[96];

  ck_assert_int_gt(
      cay__stimer_request_lines(1800, 90, &cur, lines, sizeof lines), 0);
  ck_assert_str_eq(lines, "Supported: timer\r\n"
                          "Session-Expires: 600;refresher=uac\r\n"
                          "Min-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_7_4_refresh_peer_refreshes_says_uas)
{
  cay__stimer_t cur = { 600, 0 };
  char lines[96];

  ck_assert_int_gt(cay__stimer_request_lines(0, 90, &cur, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Supported: timer\r\n"
                          "Session-Expires: 600;refresher=uas\r\n"
                          "Min-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_7_4_refresh_after_422_raised_to_its_min_se)
{
  cay__stimer_t cur = { 600, 1 };
  char lines[96];

  ck_assert_int_gt(cay__stimer_request_lines(0, 900, &cur, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Supported: timer\r\n"
                          "Session-Expires: 900;refresher=uac\r\n"
                          "Min-SE: 900\r\n");
}
END_TEST

START_TEST(stimer_7_4_stopped_timer_is_no_refresh)
{
  /* cur with interval 0 is no running timer: expires_s decides. */
  cay__stimer_t cur = { 0, 1 };
  char lines[96];

  ck_assert_int_gt(cay__stimer_request_lines(0, 90, &cur, lines, sizeof lines),
                   0);
  ck_assert_str_eq(lines, "Supported: timer\r\n");
  ck_assert_int_gt(
      cay__stimer_request_lines(1800, 90, &cur, lines, sizeof lines), 0);
  ck_assert_str_eq(
      lines, "Supported: timer\r\nSession-Expires: 1800\r\nMin-SE: 90\r\n");
}
END_TEST

START_TEST(stimer_7_1_max_values_fit_96)
{
  cay__stimer_t cur = { UINT32_MAX, 0 };
  char lines[96];

  ck_assert_int_gt(
      cay__stimer_request_lines(0, UINT32_MAX, &cur, lines, sizeof lines), 0);
  ck_assert_str_eq(lines, "Supported: timer\r\n"
                          "Session-Expires: 4294967295;refresher=uas\r\n"
                          "Min-SE: 4294967295\r\n");
}
END_TEST

START_TEST(stimer_7_1_lines_exact_fit_and_one_short)
{
  static const char want[]
      = "Supported: timer\r\nSession-Expires: 1800\r\nMin-SE: 90\r\n";
  char lines[sizeof want];

  ck_assert_int_eq(
      cay__stimer_request_lines(1800, 90, NULL, lines, sizeof want - 1),
      CAY_ELIMIT);
  ck_assert_str_eq(lines, "");
  ck_assert_int_eq(
      cay__stimer_request_lines(1800, 90, NULL, lines, sizeof want),
      (long)sizeof want - 1);
  ck_assert_str_eq(lines, want);
  ck_assert_int_eq(cay__stimer_request_lines(0, 90, NULL, lines, 0),
                   CAY_ELIMIT);
}
END_TEST

/* ---- section 7.2: the 2xx to our request ----------------------------------
 */

START_TEST(stimer_7_2_refresher_uac_we_refresh)
{
  cay__stimer_t st = { 0, 0 };

  cay__stimer_on_response(
      response(200,
               "Require: timer\r\nSession-Expires: 1800;refresher=uac\r\n"),
      &st);
  ck_assert_uint_eq(st.interval_s, 1800);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_7_2_refresher_uas_peer_refreshes)
{
  cay__stimer_t st = { 0, 1 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 1800;refresher=uas\r\n"), &st);
  ck_assert_uint_eq(st.interval_s, 1800);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_7_2_refresher_case_insensitive)
{
  cay__stimer_t st = { 0, 1 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 1800;refresher=UaS\r\n"), &st);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_7_2_no_refresher_we_refresh)
{
  /* RFC 4028 section 9 makes the UAS set it; when it does not, we take
   * the work rather than leave the session unrefreshed. */
  cay__stimer_t st = { 0, 0 };

  cay__stimer_on_response(response(200, "Session-Expires: 900\r\n"), &st);
  ck_assert_uint_eq(st.interval_s, 900);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_7_2_unknown_refresher_we_refresh)
{
  cay__stimer_t st = { 0, 0 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 900;refresher=both\r\n"), &st);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

START_TEST(stimer_7_2_no_session_expires_turns_timer_off)
{
  /* RFC 4028 section 7.2: a 2xx without Session-Expires, also to a
   * refresh, means no session expiration. */
  cay__stimer_t st = { 1800, 1 };

  cay__stimer_on_response(response(200, "Supported: timer\r\n"), &st);
  ck_assert_uint_eq(st.interval_s, 0);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_7_2_interval_below_90_floored)
{
  cay__stimer_t st = { 0, 1 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 30;refresher=uas\r\n"), &st);
  ck_assert_uint_eq(st.interval_s, 90);
  ck_assert_uint_eq(st.we_refresh, 0);
}
END_TEST

START_TEST(stimer_7_2_interval_zero_floored)
{
  /* 0 would make the non-refresher BYE at once. */
  cay__stimer_t st = { 0, 1 };

  cay__stimer_on_response(response(200, "Session-Expires: 0;refresher=uas\r\n"),
                          &st);
  ck_assert_uint_eq(st.interval_s, 90);
}
END_TEST

START_TEST(stimer_7_2_interval_exactly_90_kept)
{
  cay__stimer_t st = { 0, 0 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 90;refresher=uac\r\n"), &st);
  ck_assert_uint_eq(st.interval_s, 90);
}
END_TEST

START_TEST(stimer_7_2_huge_interval_clamped)
{
  cay__stimer_t st = { 0, 0 };

  cay__stimer_on_response(
      response(200, "Session-Expires: 18446744073709551615;refresher=uac\r\n"),
      &st);
  ck_assert_uint_eq(st.interval_s, UINT32_MAX);
  ck_assert_uint_eq(st.we_refresh, 1);
}
END_TEST

/* ---- sections 6 and 7.3: the 422 ----------------------------------------- */

START_TEST(stimer_6_min_se_of_422)
{
  ck_assert_uint_eq(
      cay__stimer_min_se_of_422(response(422, "Min-SE: 1800\r\n")), 1800);
}
END_TEST

START_TEST(stimer_6_422_min_se_exactly_90)
{
  ck_assert_uint_eq(cay__stimer_min_se_of_422(response(422, "Min-SE: 90\r\n")),
                    90);
}
END_TEST

START_TEST(stimer_5_422_min_se_below_90_gives_up)
{
  ck_assert_uint_eq(cay__stimer_min_se_of_422(response(422, "Min-SE: 89\r\n")),
                    0);
}
END_TEST

START_TEST(stimer_6_422_without_min_se_gives_up)
{
  ck_assert_uint_eq(cay__stimer_min_se_of_422(response(422, "")), 0);
}
END_TEST

START_TEST(stimer_6_422_malformed_min_se_gives_up)
{
  /* cay__msg_parse() drops a response that does not parse, so build this
   * one with sofia-sip directly: the bad Min-SE lands in sip_error. */
  static const char text[]
      = "SIP/2.0 422 Session Interval Too Small\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-st-1\r\n"
        "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
        "Call-ID: stimer-1@127.0.0.1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Min-SE: soon\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
  msg_t *msg = msg_make(sip_default_mclass(), 0, text, sizeof text - 1);
  sip_t *sip;

  ck_assert_ptr_nonnull(msg);
  sip = sip_object(msg);
  ck_assert_ptr_nonnull(sip->sip_status);
  ck_assert_ptr_null(sip->sip_min_se);
  ck_assert_uint_eq(cay__stimer_min_se_of_422(sip), 0);
  msg_destroy(msg);
}
END_TEST

START_TEST(stimer_6_not_a_422_gives_0)
{
  ck_assert_uint_eq(
      cay__stimer_min_se_of_422(response(200, "Min-SE: 1800\r\n")), 0);
  ck_assert_uint_eq(
      cay__stimer_min_se_of_422(response(423, "Min-SE: 1800\r\n")), 0);
}
END_TEST

START_TEST(stimer_6_huge_min_se_clamped)
{
  ck_assert_uint_eq(
      cay__stimer_min_se_of_422(response(422, "Min-SE: 99999999999\r\n")),
      UINT32_MAX);
}
END_TEST

static Suite *
stimer_uac_suite(void)
{
  Suite *s = suite_create("stimer_uac");
  TCase *tc = tcase_create("rfc4028_uac");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, stimer_7_1_no_timer_lists_support_only);
  tcase_add_test(tc, stimer_7_1_asks_for_interval);
  tcase_add_test(tc, stimer_7_1_interval_below_min_se_raised);
  tcase_add_test(tc, stimer_5_request_min_se_below_90_lifted);
  tcase_add_test(tc, stimer_7_4_refresh_we_refresh_says_uac);
  tcase_add_test(tc, stimer_7_4_refresh_peer_refreshes_says_uas);
  tcase_add_test(tc, stimer_7_4_refresh_after_422_raised_to_its_min_se);
  tcase_add_test(tc, stimer_7_4_stopped_timer_is_no_refresh);
  tcase_add_test(tc, stimer_7_1_max_values_fit_96);
  tcase_add_test(tc, stimer_7_1_lines_exact_fit_and_one_short);
  tcase_add_test(tc, stimer_7_2_refresher_uac_we_refresh);
  tcase_add_test(tc, stimer_7_2_refresher_uas_peer_refreshes);
  tcase_add_test(tc, stimer_7_2_refresher_case_insensitive);
  tcase_add_test(tc, stimer_7_2_no_refresher_we_refresh);
  tcase_add_test(tc, stimer_7_2_unknown_refresher_we_refresh);
  tcase_add_test(tc, stimer_7_2_no_session_expires_turns_timer_off);
  tcase_add_test(tc, stimer_7_2_interval_below_90_floored);
  tcase_add_test(tc, stimer_7_2_interval_zero_floored);
  tcase_add_test(tc, stimer_7_2_interval_exactly_90_kept);
  tcase_add_test(tc, stimer_7_2_huge_interval_clamped);
  tcase_add_test(tc, stimer_6_min_se_of_422);
  tcase_add_test(tc, stimer_6_422_min_se_exactly_90);
  tcase_add_test(tc, stimer_5_422_min_se_below_90_gives_up);
  tcase_add_test(tc, stimer_6_422_without_min_se_gives_up);
  tcase_add_test(tc, stimer_6_422_malformed_min_se_gives_up);
  tcase_add_test(tc, stimer_6_not_a_422_gives_0);
  tcase_add_test(tc, stimer_6_huge_min_se_clamped);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(stimer_uac_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
