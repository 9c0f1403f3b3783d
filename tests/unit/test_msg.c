/*
 * Unit tests of the SIP message layer (src/sip/msg.h): parsing and RFC 3261
 * section 8.2 validation, URIs and Contacts. Building messages is in
 * test_msg_build.c, Via handling and request destinations in test_via.c.
 */
#include "support/msg_fixture.h"

/* ---- parsing and section 8.2 validation ---- */

START_TEST(parse_7_invite)
{
  msg_t *msg = parse_ok("msg-invite.sip");
  sip_t *sip = sip_object(msg);

  ck_assert_int_eq(sip->sip_request->rq_method, sip_method_invite);
  ck_assert_str_eq(sip->sip_request->rq_url->url_host, "192.0.2.20");
  ck_assert_int_eq(count_vias(sip->sip_via), 2);
  ck_assert_str_eq(sip->sip_call_id->i_id, "3848276298220188511@192.0.2.10");
  ck_assert_uint_eq(sip->sip_cseq->cs_seq, 314159);
  ck_assert_uint_eq(sip->sip_payload->pl_len, 134);
  ck_assert(cay__msg_answerable(sip));
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_2_valid_invite_passes)
{
  msg_t *msg = parse_ok("msg-invite.sip");
  const char *phrase = "unset";

  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  ck_assert_ptr_null(phrase);
  msg_destroy(msg);
}
END_TEST

static const struct {
  const char *line;
  const char *phrase;
} missing[] = {
  { "Via: SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bK-proxy-1\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bK-alice-1;rport\r\n",
    "Bad Request - Missing Via" },
  { "From: Alice <sip:alice@example.com>;tag=a1b2c3\r\n",
    "Bad Request - Missing From" },
  { "To: Bob <sip:bob@example.com>\r\n", "Bad Request - Missing To" },
  { "Call-ID: 3848276298220188511@192.0.2.10\r\n",
    "Bad Request - Missing Call-ID" },
  { "CSeq: 314159 INVITE\r\n", "Bad Request - Missing CSeq" },
};

START_TEST(check_8_1_1_missing_mandatory_header_400)
{
  /* RFC 3261 section 8.1.1: To, From, CSeq, Call-ID and Via are
   * mandatory; a request without one is answered 400 (section 8.2). */
  int err;
  msg_t *msg = parse_file("msg-invite.sip", missing[_i].line, "", &err);
  const char *phrase = NULL;

  ck_assert_int_eq(err, 0);
  ck_assert_ptr_nonnull(msg);
  /* Answerable as long as the Via is there (RFC 4475 section 3.3.1). */
  ck_assert_int_eq(cay__msg_answerable(sip_object(msg)),
                   sip_object(msg)->sip_via != NULL);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, missing[_i].phrase);
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_1_1_6_missing_max_forwards_tolerated)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "Max-Forwards: 69\r\n", "", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  msg_destroy(msg);
}
END_TEST

START_TEST(check_16_3_max_forwards_zero_not_a_syntax_error)
{
  /* The caller answers 483 for non-OPTIONS (RFC 3261 section 16.3);
   * validation does not. */
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "Max-Forwards: 69",
                          "Max-Forwards: 0", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_uint_eq(sip_object(msg)->sip_max_forwards->mf_count, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_1_1_5_cseq_method_mismatch_400)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "CSeq: 314159 INVITE",
                          "CSeq: 314159 BYE", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "CSeq method does not match");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_1_1_5_bad_cseq_400)
{
  /* A sequence number beyond 2**32-1 (RFC 3261 section 8.1.1.5) does not
   * parse: validation says "Bad CSeq"... */
  size_t len;
  char *b = load("msg-invite.sip", &len);
  msg_t *msg;
  const char *phrase;

  b = edit(b, &len, "CSeq: 314159 INVITE", "CSeq: 4294967296 INVITE");
  msg = msg_make(sip_default_mclass(), 0, b, (ssize_t)len);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad CSeq");
  msg_destroy(msg);
  /* ...and cay__msg_parse() keeps it, so that the 400 can go back by its
   * Via (the CSeq that did not parse is left out of the response). */
  msg = NULL;
  ck_assert_int_eq(cay__msg_parse(b, len, &msg), CAY_EPARSE);
  ck_assert_ptr_nonnull(msg);
  ck_assert(cay__msg_answerable(sip_object(msg)));
  msg_destroy(msg);
  free(b);
}
END_TEST

START_TEST(check_8_2_malformed_header_400)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "Max-Forwards: 69\r\n",
                          "Max-Forwards: 69\r\nExpires: soon\r\n", &err);
  const char *phrase;

  /* Answerable despite the error: the caller sends 400. */
  ck_assert_int_eq(err, CAY_EPARSE);
  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Malformed header: Expires");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_2_duplicate_single_header_400)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "Max-Forwards: 69\r\n",
                          "Max-Forwards: 69\r\nCall-ID: other@x\r\n", &err);
  const char *phrase;

  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Multiple Call-ID");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_2_2_1_unsupported_scheme_416)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "INVITE sip:bob@192.0.2.20:5060",
                          "INVITE tel:+15555550100", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 416);
  ck_assert_str_eq(phrase, "Unsupported URI Scheme");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_8_2_sips_uri_accepted)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "INVITE sip:bob@192.0.2.20:5060",
                          "INVITE sips:bob@example.com", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  msg_destroy(msg);
}
END_TEST

START_TEST(check_version_not_supported_505)
{
  int err;
  msg_t *msg
      = parse_file("msg-invite.sip", ":5060 SIP/2.0", ":5060 SIP/3.0", &err);
  const char *phrase;

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 505);
  ck_assert_str_eq(phrase, "Version Not Supported");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_18_3_content_length_exceeds_body_400)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "Content-Length: 134",
                          "Content-Length: 900", &err);
  const char *phrase;

  ck_assert_int_eq(err, CAY_EPARSE);
  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - Content-Length exceeds body");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_25_1_request_line_double_space_400)
{
  int err;
  msg_t *msg
      = parse_file("msg-invite.sip", "INVITE sip:", "INVITE  sip:", &err);
  const char *phrase;

  ck_assert_int_eq(err, CAY_EPARSE);
  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - Malformed Request-Line");
  msg_destroy(msg);
}
END_TEST

/* sofia-sip takes "sip:alice@example.com/x" and prints it without the
 * slash: a response or a B leg would carry a From no peer parses. */
START_TEST(check_19_1_1_from_uri_with_path_400)
{
  int err;
  msg_t *msg = parse_file("msg-invite.sip", "<sip:alice@example.com>",
                          "<sip:alice@example.com/x>", &err);
  const char *phrase;

  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - Malformed From URI");
  msg_destroy(msg);
}
END_TEST

START_TEST(contact_12_1_1_usable_remote_targets)
{
  static const struct {
    const char *contact;
    int usable;
  } cases[] = {
    { "<sip:alice@192.0.2.10:5061>", 1 },
    { "<sips:alice@example.com>", 1 },
    { "<sip:[2001:db8::10]:5060>", 1 },
    { "*", 0 },                            /* not a target */
    { "<tel:+15551234>", 0 },              /* nothing to send a request to */
    { "<sip:alice@192.0.2.10:0>", 0 },     /* port 0 */
    { "<sip:alice@192.0.2.10/x>", 0 },     /* prints as another host */
    { "< sip:alice@192.0.2.10:5061>", 0 }, /* not a sip URI to sofia-sip */
  };

  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int err;
    msg_t *msg = parse_file("msg-invite.sip", "<sip:alice@192.0.2.10:5061>",
                            cases[i].contact, &err);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(cay__contact_usable(sip_object(msg)->sip_contact)
                      == cases[i].usable,
                  "%s", cases[i].contact);
    msg_destroy(msg);
  }
  ck_assert_int_eq(cay__contact_usable(NULL), 0);
}
END_TEST

/* Headers sofia-sip takes but would print back so that no peer parses
 * them, or that the Call-ID scan reads otherwise than sofia-sip (found by
 * the fuzzers, tests/fuzz): each gets 400 with its reason. */
#define CID "Call-ID: 3848276298220188511@192.0.2.10"

START_TEST(check_fuzz_findings_400)
{
  static const struct {
    const char *from, *to, *phrase;
  } cases[] = {
    { "Call-ID: 3848276298220188511@192.0.2.10",
      "Call-ID: ", "Bad Request - Malformed Call-ID" },
    { "Call-ID: 3848276298220188511@192.0.2.10",
      "Call-ID: 3848276298220188511\r\n @192.0.2.10",
      "Bad Request - Malformed Call-ID" },
    { "To: Bob <sip:bob@example.com>\r\n", "To: Bob <sip:bob@example.com>\r",
      "Bad Request - CR without LF in header" },
    { "Call-ID: 3848276298220188511@192.0.2.10",
      "Call-ID\r\n : 3848276298220188511@192.0.2.10",
      "Bad Request - Folded header name" },
    { "SIP/2.0/UDP 192.0.2.30:5070", "SIP/2.0/UDP[2001:db8::20]",
      "Bad Request - Malformed Via" },
    { "Record-Route: <sip:192.0.2.31;lr>", "Record-Route: :caller@192.0.2.1>",
      "Bad Request - Malformed Record-Route" },
    { "<sip:alice@example.com>", "<sip:al\x1aice@example.com>",
      "Bad Request - Malformed From URI" },
    { "Alice <sip:alice@example.com>", "s/ip:alice@bad_host!",
      "Bad Request - Malformed From URI" },
    /* sofia-sip prints these as "x:ab" and "x:a\xe9" (no "/"). */
    { "<sip:alice@example.com>", "<x:a/b>",
      "Bad Request - Malformed From URI" },
    { "<sip:alice@example.com>", "<x:a/\xe9>",
      "Bad Request - Malformed From URI" },
    /* RFC 3891 section 6.1: sofia-sip takes "from-tag=6472;early-only"
     * whole as the Call-ID (the scan reads "from-tag=6472"), and "abc "
     * with its blank; both tags are required. */
    { CID, CID "\r\nReplaces:from-tag=6472;early-only",
      "Bad Request - Malformed Replaces" },
    { CID, CID "\r\nReplaces: abc ;to-tag=1;from-tag=2",
      "Bad Request - Malformed Replaces" },
    { CID, CID "\r\nReplaces: abc;to-tag=1",
      "Bad Request - Malformed Replaces" },
    { CID, CID "\r\nReplaces: abc;from-tag=2",
      "Bad Request - Malformed Replaces" },
  };

  for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int err;
    msg_t *msg = parse_file("msg-invite.sip", cases[i].from, cases[i].to, &err);
    const char *phrase = NULL;
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(cay__msg_check_request(msg, &phrase) == 400, "case %u", i);
    ck_assert_msg(phrase && strcmp(phrase, cases[i].phrase) == 0, "case %u: %s",
                  i, phrase ? phrase : "(none)");
    msg_destroy(msg);
  }
}
END_TEST

/* RFC 3891 section 6.1: a well-formed Replaces passes. */
START_TEST(check_3891_replaces_accepted)
{
  int err;
  msg_t *msg
      = parse_file("msg-invite.sip", CID,
                   CID "\r\nReplaces: 98732@sip.example.com;from-tag=r33th4x0r;"
                       "to-tag=ff87ff;early-only",
                   &err);
  const char *phrase = NULL;

  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  ck_assert_str_eq(sip_object(msg)->sip_replaces->rp_call_id,
                   "98732@sip.example.com");
  msg_destroy(msg);
}
END_TEST

START_TEST(check_response_20_mandatory_headers)
{
  int err;
  msg_t *msg = parse_file("msg-options-rr.sip", "OPTIONS sip:bob@192.0.2.20",
                          "SIP/2.0 200 OK\r\nX-Was: sip:bob@192.0.2.20", &err);

  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__msg_check_response(msg), 0);
  msg_destroy(msg);
  msg = parse_file("msg-options-rr.sip", "CSeq: 7 OPTIONS\r\n", "", &err);
  ck_assert_int_eq(cay__msg_check_response(msg), CAY_EPARSE);
  msg_destroy(msg);
}
END_TEST

START_TEST(parse_25_1_escaped_nul_in_quoted_string_accepted)
{
  /* RFC 3261 section 25.1: quoted-pair may escape %x00. */
  static const char m[] = "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-n1\r\n"
                          "From: \"A\\\0B\" <sip:a@example.com>;tag=1\r\n"
                          "To: <sip:bob@example.com>\r\n"
                          "Call-ID: nul1@192.0.2.10\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n\r\n";
  msg_t *msg = NULL;
  const char *phrase;

  ck_assert_int_eq(cay__msg_parse(m, sizeof m - 1, &msg), 0);
  ck_assert_str_eq(sip_object(msg)->sip_from->a_display, "\"A\\0B\"");
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 0);
  msg_destroy(msg);
}
END_TEST

START_TEST(parse_25_1_bare_nul_in_header_400)
{
  static const char m[] = "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-n2\r\n"
                          "From: <sip:a@example.com>;tag=1\r\n"
                          "To: <sip:bob@example.com>\r\n"
                          "Call-ID: nul2@192.0.2.10\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Subject: a\0b\r\n"
                          "Content-Length: 0\r\n\r\n";
  msg_t *msg = NULL;
  const char *phrase;

  ck_assert_int_eq(cay__msg_parse(m, sizeof m - 1, &msg), CAY_EPARSE);
  ck_assert_ptr_nonnull(msg);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - NUL octet in header");
  msg_destroy(msg);
}
END_TEST

START_TEST(parse_enomem_on_copies)
{
  /* The rewrite of a NUL octet and the re-parse of a bad request line
   * each copy the message once; either copy can fail. */
  static const char nul[] = "OPTIONS sip:b@192.0.2.20 SIP/2.0\r\n"
                            "Subject: \0\r\n\r\n";
  static const char lws[] = "OPTIONS sip:b@192.0.2.20; lr SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
                            "From: <sip:a@example.com>;tag=1\r\n"
                            "To: <sip:b@example.com>\r\n"
                            "Call-ID: lws@192.0.2.10\r\n"
                            "CSeq: 1 OPTIONS\r\n\r\n";
  msg_t *msg = (msg_t *)1;
  const char *phrase;

  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__msg_parse(nul, sizeof nul - 1, &msg), -ENOMEM);
  ck_assert_ptr_null(msg);
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__msg_parse(lws, sizeof lws - 1, &msg), -ENOMEM);
  ck_assert_ptr_null(msg);
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__msg_parse(lws, sizeof lws - 1, &msg), CAY_EPARSE);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - Malformed Request-Line");
  msg_destroy(msg);
}
END_TEST

START_TEST(parse_garbage_dropped)
{
  static const char m[] = "this is not SIP\r\n\r\n";
  msg_t *msg = (msg_t *)1;

  ck_assert_int_eq(cay__msg_parse(m, sizeof m - 1, &msg), CAY_EPARSE);
  ck_assert_ptr_null(msg);
  ck_assert_int_eq(cay__msg_parse(m, 0, &msg), CAY_EPARSE);
  ck_assert_ptr_null(msg);
}
END_TEST

static Suite *
msg_suite(void)
{
  Suite *s = suite_create("sip_msg");
  TCase *tc = tcase_create("parse_check");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, parse_7_invite);
  tcase_add_test(tc, check_8_2_valid_invite_passes);
  tcase_add_loop_test(tc, check_8_1_1_missing_mandatory_header_400, 0,
                      sizeof missing / sizeof missing[0]);
  tcase_add_test(tc, check_8_1_1_6_missing_max_forwards_tolerated);
  tcase_add_test(tc, check_16_3_max_forwards_zero_not_a_syntax_error);
  tcase_add_test(tc, check_8_1_1_5_cseq_method_mismatch_400);
  tcase_add_test(tc, check_8_1_1_5_bad_cseq_400);
  tcase_add_test(tc, check_8_2_malformed_header_400);
  tcase_add_test(tc, check_8_2_duplicate_single_header_400);
  tcase_add_test(tc, check_8_2_2_1_unsupported_scheme_416);
  tcase_add_test(tc, check_8_2_sips_uri_accepted);
  tcase_add_test(tc, check_version_not_supported_505);
  tcase_add_test(tc, check_18_3_content_length_exceeds_body_400);
  tcase_add_test(tc, check_25_1_request_line_double_space_400);
  tcase_add_test(tc, check_response_20_mandatory_headers);
  tcase_add_test(tc, parse_25_1_escaped_nul_in_quoted_string_accepted);
  tcase_add_test(tc, parse_25_1_bare_nul_in_header_400);
  tcase_add_test(tc, parse_enomem_on_copies);
  tcase_add_test(tc, parse_garbage_dropped);
  suite_add_tcase(s, tc);

  tc = tcase_create("uri_contact");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, check_19_1_1_from_uri_with_path_400);
  tcase_add_test(tc, check_fuzz_findings_400);
  tcase_add_test(tc, check_3891_replaces_accepted);
  tcase_add_test(tc, contact_12_1_1_usable_remote_targets);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(msg_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
