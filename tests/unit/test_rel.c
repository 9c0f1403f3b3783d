/*
 * RFC 3262 reliable provisional responses (src/dialog/rel.h): what an
 * INVITE asks for (section 3), the lines of a reliable provisional
 * (section 3) and of a PRACK (7.2), the first RSeq (3), PRACK matching on
 * the UAS (3) and reliable provisionals on the UAC (4, 7.1). Messages are
 * parsed by sofia-sip through cay__msg_parse(); the round-trip tests parse
 * our own lines back.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "dialog/rel.h"
#include "sip/msg.h"
#include "support/parsed.h"

static long live_at_start;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
}

static void
teardown(void)
{
  parsed_free_all();
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static const sip_t *
invite(const char *extra)
{
  return parsed_request("INVITE", 1, extra, 0);
}

static const sip_t *
prack(const char *extra)
{
  return parsed_request("PRACK", 2, extra, 0);
}

static const sip_t *
response(int status, const char *extra)
{
  return parsed_response(status, "INVITE", extra);
}

/* ---- section 3: what the INVITE asks for -------------------------------- */

START_TEST(rel_3_require_100rel_is_required)
{
  ck_assert_int_eq(cay__rel_wanted(invite("Require: 100rel\r\n")),
                   CAY_REL_REQUIRED);
}
END_TEST

START_TEST(rel_3_supported_100rel_is_supported)
{
  ck_assert_int_eq(cay__rel_wanted(invite("Supported: timer, 100rel\r\n")),
                   CAY_REL_SUPPORTED);
}
END_TEST

START_TEST(rel_3_neither_is_none)
{
  ck_assert_int_eq(cay__rel_wanted(invite("")), CAY_REL_NONE);
  ck_assert_int_eq(cay__rel_wanted(invite("Supported: timer, replaces\r\n"
                                          "Require: timer\r\n")),
                   CAY_REL_NONE);
}
END_TEST

START_TEST(rel_3_require_wins_over_supported)
{
  ck_assert_int_eq(cay__rel_wanted(invite("Supported: 100rel\r\n"
                                          "Require: 100rel\r\n")),
                   CAY_REL_REQUIRED);
}
END_TEST

START_TEST(rel_3_option_tag_case_and_compact_form)
{
  /* RFC 3261 section 7.3.1: option tags are tokens, case-insensitive;
   * "k" is Supported's compact form. */
  ck_assert_int_eq(cay__rel_wanted(invite("k: 100REL\r\n")), CAY_REL_SUPPORTED);
}
END_TEST

START_TEST(rel_3_values_are_1_and_2)
{
  /* The brief's contract: 1 require, 2 support, 0 neither. */
  ck_assert_int_eq(CAY_REL_NONE, 0);
  ck_assert_int_eq(CAY_REL_REQUIRED, 1);
  ck_assert_int_eq(CAY_REL_SUPPORTED, 2);
}
END_TEST

/* ---- section 3: the reliable provisional's lines and RSeq --------------- */

START_TEST(rel_3_lines)
{
  char lines[40];

  ck_assert_int_eq(cay__rel_lines(988789, lines, sizeof lines),
                   (long)strlen("Require: 100rel\r\nRSeq: 988789\r\n"));
  ck_assert_str_eq(lines, "Require: 100rel\r\nRSeq: 988789\r\n");
}
END_TEST

START_TEST(rel_3_lines_max_rseq_fits_40)
{
  char lines[40];

  ck_assert_int_gt(cay__rel_lines(UINT32_MAX, lines, sizeof lines), 0);
  ck_assert_str_eq(lines, "Require: 100rel\r\nRSeq: 4294967295\r\n");
}
END_TEST

START_TEST(rel_3_lines_exact_fit_and_one_short)
{
  static const char want[] = "Require: 100rel\r\nRSeq: 1\r\n";
  char lines[sizeof want];

  ck_assert_int_eq(cay__rel_lines(1, lines, sizeof want - 1), CAY_ELIMIT);
  ck_assert_str_eq(lines, "");
  ck_assert_int_eq(cay__rel_lines(1, lines, sizeof want),
                   (long)sizeof want - 1);
  ck_assert_str_eq(lines, want);
  ck_assert_int_eq(cay__rel_lines(1, lines, 0), CAY_ELIMIT);
}
END_TEST

START_TEST(rel_3_first_rseq_edges)
{
  /* RFC 3262 section 3: 1..2^31-1. */
  ck_assert_uint_eq(cay__rel_first_rseq(0), 1);
  ck_assert_uint_eq(cay__rel_first_rseq(0x7ffffffeu), 0x7fffffffu);
  ck_assert_uint_eq(cay__rel_first_rseq(0x7fffffffu), 1);
  /* 2^64-1 = 3 mod 2^31-1 (2^31 = 1 mod 2^31-1, so 2^64 = 4). */
  ck_assert_uint_eq(cay__rel_first_rseq(UINT64_MAX), 4);
}
END_TEST

START_TEST(rel_3_first_rseq_always_in_range)
{
  uint64_t x = 0x9e3779b97f4a7c15u;
  uint32_t r;
  int i;

  for (i = 0; i < 100000; i++) {
    /* xorshift64: a spread of inputs, reproducible. */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r = cay__rel_first_rseq(x);
    ck_assert_uint_ge(r, 1);
    ck_assert_uint_le(r, 0x7fffffffu);
  }
}
END_TEST

/* ---- section 3: PRACK matching on the UAS ------------------------------- */

START_TEST(rel_3_prack_matches)
{
  ck_assert_int_eq(
      cay__rel_prack_matches(prack("RAck: 776656 1 INVITE\r\n"), 776656, 1), 1);
}
END_TEST

START_TEST(rel_3_prack_wrong_rseq_481)
{
  const sip_t *p = prack("RAck: 776657 1 INVITE\r\n");

  ck_assert_int_eq(cay__rel_prack_matches(p, 776656, 1), 0);
  ck_assert_int_eq(cay__rel_prack_matches(p, 776658, 1), 0);
}
END_TEST

START_TEST(rel_3_prack_wrong_cseq_481)
{
  ck_assert_int_eq(
      cay__rel_prack_matches(prack("RAck: 776656 2 INVITE\r\n"), 776656, 1), 0);
}
END_TEST

START_TEST(rel_3_prack_wrong_method_481)
{
  ck_assert_int_eq(
      cay__rel_prack_matches(prack("RAck: 776656 1 UPDATE\r\n"), 776656, 1), 0);
}
END_TEST

START_TEST(rel_3_prack_lowercase_method_481)
{
  /* RFC 3261 section 7.1: method names are case-sensitive. */
  ck_assert_int_eq(
      cay__rel_prack_matches(prack("RAck: 776656 1 invite\r\n"), 776656, 1), 0);
}
END_TEST

START_TEST(rel_3_prack_max_values_match)
{
  ck_assert_int_eq(
      cay__rel_prack_matches(prack("RAck: 4294967295 4294967295 INVITE\r\n"),
                             UINT32_MAX, UINT32_MAX),
      1);
}
END_TEST

START_TEST(rel_7_2_prack_without_rack_400)
{
  ck_assert_int_eq(cay__rel_prack_matches(prack(""), 776656, 1), -1);
}
END_TEST

START_TEST(rel_7_2_prack_malformed_rack_400)
{
  /* The method is missing: sofia-sip files the header under sip_error and
   * cay__msg_parse() keeps the request so that it can be answered. */
  const sip_t *p = parsed_request("PRACK", 2, "RAck: 776656 1\r\n", CAY_EPARSE);

  ck_assert_int_eq(cay__rel_prack_matches(p, 776656, 1), -1);
}
END_TEST

/* ---- sections 4 and 7.1: reliable provisionals on the UAC -----------------
 */

START_TEST(rel_4_provisional_reliable)
{
  uint32_t rseq = 0;

  ck_assert_int_eq(cay__rel_provisional(response(180, "Require: 100rel\r\n"
                                                      "RSeq: 988789\r\n"),
                                        &rseq),
                   1);
  ck_assert_uint_eq(rseq, 988789);
}
END_TEST

START_TEST(rel_4_101_and_199_are_provisional)
{
  uint32_t rseq = 0;

  ck_assert_int_eq(cay__rel_provisional(
                       response(101, "Require: 100rel\r\nRSeq: 7\r\n"), &rseq),
                   1);
  ck_assert_uint_eq(rseq, 7);
  ck_assert_int_eq(cay__rel_provisional(
                       response(199, "Require: 100rel\r\nRSeq: 8\r\n"), &rseq),
                   1);
  ck_assert_uint_eq(rseq, 8);
}
END_TEST

START_TEST(rel_4_100_trying_option_tag_ignored)
{
  /* RFC 3262 section 4: a 100's Require: 100rel MUST be ignored. */
  uint32_t rseq = 42;

  ck_assert_int_eq(cay__rel_provisional(
                       response(100, "Require: 100rel\r\nRSeq: 7\r\n"), &rseq),
                   0);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_4_final_response_not_reliable_provisional)
{
  uint32_t rseq = 42;

  ck_assert_int_eq(cay__rel_provisional(
                       response(200, "Require: 100rel\r\nRSeq: 7\r\n"), &rseq),
                   0);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_4_without_require_unreliable)
{
  uint32_t rseq = 42;

  ck_assert_int_eq(cay__rel_provisional(response(180, "RSeq: 7\r\n"), &rseq),
                   0);
  ck_assert_int_eq(
      cay__rel_provisional(response(180, "Supported: 100rel\r\nRSeq: 7\r\n"),
                           &rseq),
      0);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_4_non_invite_not_reliable)
{
  uint32_t rseq = 42;

  ck_assert_int_eq(
      cay__rel_provisional(
          parsed_response(183, "UPDATE", "Require: 100rel\r\nRSeq: 7\r\n"),
          &rseq),
      0);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_4_require_without_rseq_is_minus_1)
{
  uint32_t rseq = 42;

  ck_assert_int_eq(
      cay__rel_provisional(response(183, "Require: 100rel\r\n"), &rseq), -1);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_7_1_rseq_zero_is_minus_1)
{
  /* RFC 3262 section 7.1: RSeq lies in 1..2^32-1. */
  uint32_t rseq = 42;

  ck_assert_int_eq(cay__rel_provisional(
                       response(180, "Require: 100rel\r\nRSeq: 0\r\n"), &rseq),
                   -1);
  ck_assert_uint_eq(rseq, 42);
}
END_TEST

START_TEST(rel_7_1_rseq_max)
{
  uint32_t rseq = 0;

  ck_assert_int_eq(
      cay__rel_provisional(
          response(180, "Require: 100rel\r\nRSeq: 4294967295\r\n"), &rseq),
      1);
  ck_assert_uint_eq(rseq, UINT32_MAX);
}
END_TEST

/* ---- section 7.2: the RAck line ----------------------------------------- */

START_TEST(rel_7_2_rack_line)
{
  char lines[40];

  ck_assert_int_eq(cay__rel_rack_line(776656, 1, lines, sizeof lines),
                   (long)strlen("RAck: 776656 1 INVITE\r\n"));
  ck_assert_str_eq(lines, "RAck: 776656 1 INVITE\r\n");
}
END_TEST

START_TEST(rel_7_2_rack_line_max_fits_40)
{
  char lines[40];

  ck_assert_int_gt(
      cay__rel_rack_line(UINT32_MAX, UINT32_MAX, lines, sizeof lines), 0);
  ck_assert_str_eq(lines, "RAck: 4294967295 4294967295 INVITE\r\n");
}
END_TEST

START_TEST(rel_7_2_rack_line_exact_fit_and_one_short)
{
  static const char want[] = "RAck: 1 2 INVITE\r\n";
  char lines[sizeof want];

  ck_assert_int_eq(cay__rel_rack_line(1, 2, lines, sizeof want - 1),
                   CAY_ELIMIT);
  ck_assert_str_eq(lines, "");
  ck_assert_int_eq(cay__rel_rack_line(1, 2, lines, sizeof want),
                   (long)sizeof want - 1);
  ck_assert_str_eq(lines, want);
}
END_TEST

/* ---- round trips -------------------------------------------------------- */

START_TEST(rel_3_4_round_trip_provisional_and_prack)
{
  /* The UAS's lines make a 183 our UAC calls reliable; the UAC's RAck
   * line makes a PRACK the UAS matches; one RSeq later it does not. */
  char lines[40], rack[40];
  uint32_t rseq = cay__rel_first_rseq(0x0123456789abcdefu), got = 0;

  ck_assert_int_gt(cay__rel_lines(rseq, lines, sizeof lines), 0);
  ck_assert_int_eq(cay__rel_provisional(response(183, lines), &got), 1);
  ck_assert_uint_eq(got, rseq);
  ck_assert_int_gt(cay__rel_rack_line(got, 1, rack, sizeof rack), 0);
  ck_assert_int_eq(cay__rel_prack_matches(prack(rack), rseq, 1), 1);
  ck_assert_int_eq(cay__rel_prack_matches(prack(rack), rseq + 1, 1), 0);
}
END_TEST

static Suite *
rel_suite(void)
{
  Suite *s = suite_create("rel");
  TCase *uas = tcase_create("rfc3262_uas");
  TCase *uac = tcase_create("rfc3262_uac");

  tcase_add_checked_fixture(uas, setup, teardown);
  tcase_add_test(uas, rel_3_require_100rel_is_required);
  tcase_add_test(uas, rel_3_supported_100rel_is_supported);
  tcase_add_test(uas, rel_3_neither_is_none);
  tcase_add_test(uas, rel_3_require_wins_over_supported);
  tcase_add_test(uas, rel_3_option_tag_case_and_compact_form);
  tcase_add_test(uas, rel_3_values_are_1_and_2);
  tcase_add_test(uas, rel_3_lines);
  tcase_add_test(uas, rel_3_lines_max_rseq_fits_40);
  tcase_add_test(uas, rel_3_lines_exact_fit_and_one_short);
  tcase_add_test(uas, rel_3_first_rseq_edges);
  tcase_add_test(uas, rel_3_first_rseq_always_in_range);
  tcase_add_test(uas, rel_3_prack_matches);
  tcase_add_test(uas, rel_3_prack_wrong_rseq_481);
  tcase_add_test(uas, rel_3_prack_wrong_cseq_481);
  tcase_add_test(uas, rel_3_prack_wrong_method_481);
  tcase_add_test(uas, rel_3_prack_lowercase_method_481);
  tcase_add_test(uas, rel_3_prack_max_values_match);
  tcase_add_test(uas, rel_7_2_prack_without_rack_400);
  tcase_add_test(uas, rel_7_2_prack_malformed_rack_400);
  suite_add_tcase(s, uas);

  tcase_add_checked_fixture(uac, setup, teardown);
  tcase_add_test(uac, rel_4_provisional_reliable);
  tcase_add_test(uac, rel_4_101_and_199_are_provisional);
  tcase_add_test(uac, rel_4_100_trying_option_tag_ignored);
  tcase_add_test(uac, rel_4_final_response_not_reliable_provisional);
  tcase_add_test(uac, rel_4_without_require_unreliable);
  tcase_add_test(uac, rel_4_non_invite_not_reliable);
  tcase_add_test(uac, rel_4_require_without_rseq_is_minus_1);
  tcase_add_test(uac, rel_7_1_rseq_zero_is_minus_1);
  tcase_add_test(uac, rel_7_1_rseq_max);
  tcase_add_test(uac, rel_7_2_rack_line);
  tcase_add_test(uac, rel_7_2_rack_line_max_fits_40);
  tcase_add_test(uac, rel_7_2_rack_line_exact_fit_and_one_short);
  tcase_add_test(uac, rel_3_4_round_trip_provisional_and_prack);
  suite_add_tcase(s, uac);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(rel_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
