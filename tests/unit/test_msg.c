/*
 * Unit tests of the SIP message layer (src/sip/msg.h): parsing and RFC 3261
 * section 8.2 validation, responses (8.2.6.2, 12.1.1), requests (8.1.1),
 * serialization, Via handling (18.2.1, 18.2.2, RFC 3581, RFC 5118) and
 * request destinations (RFC 3263 without DNS).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "sip/msg.h"

static long live_at_start;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
}

static void
teardown(void)
{
  /* Every temporary buffer of the parser went back through the shim. */
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Read tests/data/@p name into a NUL-terminated malloc buffer. */
static char *
load(const char *name, size_t *len)
{
  char path[512];
  FILE *f;
  char *b;
  long n;

  snprintf(path, sizeof path, "%s/%s", CAY_TEST_DATA, name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(fread(b, 1, (size_t)n, f), n);
  fclose(f);
  b[n] = '\0';
  *len = (size_t)n;
  return b;
}

/* Replace the first @p from in @p b (a loaded message) with @p to. */
static char *
edit(char *b, size_t *len, const char *from, const char *to)
{
  char *at = strstr(b, from);
  size_t fl = strlen(from), tl = strlen(to);
  char *n;

  ck_assert_msg(at != NULL, "'%s' not in message", from);
  n = malloc(*len - fl + tl + 1);
  ck_assert_ptr_nonnull(n);
  memcpy(n, b, (size_t)(at - b));
  memcpy(n + (at - b), to, tl);
  memcpy(n + (at - b) + tl, at + fl, *len - (size_t)(at - b) - fl + 1);
  *len = *len - fl + tl;
  free(b);
  return n;
}

/* Parse tests/data/@p name, with one edit when @p from is not NULL. */
static msg_t *
parse_file(const char *name, const char *from, const char *to, int *err)
{
  size_t len;
  char *b = load(name, &len);
  msg_t *msg = NULL;

  if (from)
    b = edit(b, &len, from, to);
  *err = cay__msg_parse(b, len, &msg);
  free(b);
  return msg;
}

static msg_t *
parse_ok(const char *name)
{
  int err;
  msg_t *msg = parse_file(name, NULL, NULL, &err);

  ck_assert_int_eq(err, 0);
  ck_assert_ptr_nonnull(msg);
  return msg;
}

/* Serialize @p msg and parse the bytes back. */
static msg_t *
reparse(msg_t *msg)
{
  const char *data;
  size_t len;
  msg_t *back = NULL;

  ck_assert_int_eq(cay__msg_serialize(msg, &data, &len), 0);
  ck_assert_int_eq(cay__msg_parse(data, len, &back), 0);
  ck_assert_ptr_nonnull(back);
  return back;
}

static int
count_vias(const sip_via_t *v)
{
  int n = 0;
  for (; v; v = v->v_next)
    n++;
  return n;
}

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

/* ---- responses (RFC 3261 section 8.2.6) ---- */

START_TEST(response_8_2_6_2_copies_via_in_order)
{
  msg_t *req = parse_ok("msg-invite.sip");
  msg_t *rsp = cay__msg_response(req, 200, NULL, "totag1");
  sip_t *sip = sip_object(rsp);

  ck_assert_ptr_nonnull(rsp);
  ck_assert_int_eq(count_vias(sip->sip_via), 2);
  ck_assert_str_eq(sip->sip_via->v_host, "192.0.2.30");
  ck_assert_str_eq(sip->sip_via->v_branch, "z9hG4bK-proxy-1");
  ck_assert_str_eq(sip->sip_via->v_next->v_host, "192.0.2.10");
  ck_assert_str_eq(sip->sip_via->v_next->v_branch, "z9hG4bK-alice-1");
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(response_8_2_6_2_copies_dialog_headers)
{
  msg_t *req = parse_ok("msg-invite.sip");
  msg_t *rsp = cay__msg_response(req, 486, NULL, NULL);
  sip_t *sip = sip_object(rsp);

  ck_assert_int_eq(sip->sip_status->st_status, 486);
  ck_assert_str_eq(sip->sip_status->st_phrase, "Busy Here");
  ck_assert_str_eq(sip->sip_from->a_tag, "a1b2c3");
  ck_assert_str_eq(sip->sip_from->a_display, "Alice");
  ck_assert_str_eq(sip->sip_call_id->i_id, "3848276298220188511@192.0.2.10");
  ck_assert_uint_eq(sip->sip_cseq->cs_seq, 314159);
  ck_assert_int_eq(sip->sip_cseq->cs_method, sip_method_invite);
  ck_assert_str_eq(sip->sip_server->g_string, CAY_SERVER_NAME);
  ck_assert_uint_eq(sip->sip_content_length->l_length, 0);
  /* No tag given and none in the request: To stays as it was. */
  ck_assert_ptr_null(sip->sip_to->a_tag);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(response_8_2_6_2_adds_to_tag)
{
  msg_t *req = parse_ok("msg-invite.sip");
  char tag[] = "as83kd9";
  msg_t *rsp = cay__msg_response(req, 180, NULL, tag);

  tag[0] = 'X'; /* the tag was copied */
  ck_assert_str_eq(sip_object(rsp)->sip_to->a_tag, "as83kd9");
  ck_assert_ptr_null(sip_object(req)->sip_to->a_tag);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(response_8_2_6_2_keeps_existing_to_tag)
{
  int err;
  msg_t *req = parse_file("msg-invite.sip", "To: Bob <sip:bob@example.com>",
                          "To: Bob <sip:bob@example.com>;tag=old1", &err);
  msg_t *rsp = cay__msg_response(req, 200, NULL, "new2");

  ck_assert_str_eq(sip_object(rsp)->sip_to->a_tag, "old1");
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(response_phrase_is_copied)
{
  msg_t *req = parse_ok("msg-invite.sip");
  char phrase[] = "Not Today";
  msg_t *rsp = cay__msg_response(req, 480, phrase, NULL);

  phrase[0] = 'X';
  ck_assert_str_eq(sip_object(rsp)->sip_status->st_phrase, "Not Today");
  ck_assert_ptr_null(cay__msg_response(req, 99, NULL, NULL));
  ck_assert_ptr_null(cay__msg_response(req, 700, NULL, NULL));
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(response_8_2_6_1_trying_echoes_timestamp)
{
  int err;
  msg_t *req = parse_file("msg-invite.sip", "Max-Forwards: 69\r\n",
                          "Max-Forwards: 69\r\nTimestamp: 54\r\n", &err);
  msg_t *rsp = cay__msg_response(req, 100, NULL, NULL);

  ck_assert_str_eq(sip_object(rsp)->sip_timestamp->ts_stamp, "54");
  msg_destroy(rsp);
  rsp = cay__msg_response(req, 180, NULL, "t");
  ck_assert_ptr_null(sip_object(rsp)->sip_timestamp);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

static const struct {
  const char *file;
  int status;
  int has_rr;
} rr_cases[] = {
  { "msg-invite.sip", 180, 1 },     /* early dialog */
  { "msg-invite.sip", 200, 1 },     /* confirmed dialog */
  { "msg-invite.sip", 100, 0 },     /* 100 creates no dialog */
  { "msg-invite.sip", 486, 0 },     /* a failure creates none */
  { "msg-options-rr.sip", 200, 0 }, /* OPTIONS creates none */
};

START_TEST(response_12_1_1_record_route_only_when_dialog_created)
{
  msg_t *req = parse_ok(rr_cases[_i].file);
  msg_t *rsp = cay__msg_response(req, rr_cases[_i].status, NULL, "t1");
  sip_record_route_t *rr = sip_object(rsp)->sip_record_route;

  if (!rr_cases[_i].has_rr) {
    ck_assert_ptr_null(rr);
  } else {
    ck_assert_ptr_nonnull(rr);
    ck_assert_str_eq(rr->r_url->url_host, "192.0.2.30");
    ck_assert_ptr_nonnull(rr->r_next);
    ck_assert_str_eq(rr->r_next->r_url->url_host, "192.0.2.31");
    ck_assert_ptr_null(rr->r_next->r_next);
  }
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(serialize_response_parses_back)
{
  msg_t *req = parse_ok("msg-invite.sip");
  msg_t *rsp = cay__msg_response(req, 200, NULL, "tag77");
  msg_t *back = reparse(rsp);
  sip_t *sip = sip_object(back);

  ck_assert_int_eq(cay__msg_check_response(back), 0);
  ck_assert_int_eq(sip->sip_status->st_status, 200);
  ck_assert_str_eq(sip->sip_status->st_phrase, "OK");
  ck_assert_int_eq(count_vias(sip->sip_via), 2);
  ck_assert_str_eq(sip->sip_via->v_next->v_branch, "z9hG4bK-alice-1");
  ck_assert_str_eq(sip->sip_to->a_tag, "tag77");
  ck_assert_str_eq(sip->sip_from->a_tag, "a1b2c3");
  ck_assert_str_eq(sip->sip_call_id->i_id, "3848276298220188511@192.0.2.10");
  ck_assert_str_eq(sip->sip_record_route->r_url->url_host, "192.0.2.30");
  ck_assert_str_eq(sip->sip_server->g_string, CAY_SERVER_NAME);
  ck_assert_uint_eq(sip->sip_content_length->l_length, 0);
  msg_destroy(back);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(serialize_twice_same_bytes)
{
  msg_t *req = parse_ok("msg-options-rr.sip");
  msg_t *rsp = cay__msg_response(req, 200, NULL, "x");
  const char *d1, *d2;
  size_t l1, l2;

  ck_assert_int_eq(cay__msg_serialize(rsp, &d1, &l1), 0);
  ck_assert_int_eq(cay__msg_serialize(rsp, &d2, &l2), 0);
  ck_assert_uint_eq(l1, l2);
  ck_assert_int_eq(memcmp(d1, d2, l1), 0);
  ck_assert_int_eq(strncmp(d1, "SIP/2.0 200 OK\r\n", 16), 0);
  ck_assert_int_eq(memcmp(d1 + l1 - 4, "\r\n\r\n", 4), 0);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(serialize_response_with_body_parses_back)
{
  msg_t *req = parse_ok("msg-invite.sip");
  msg_t *rsp = cay__msg_response(req, 200, NULL, "b1");
  static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\n"
                            "c=IN IP4 192.0.2.20\r\nt=0 0\r\n"
                            "m=audio 4000 RTP/AVP 0\r\n";
  msg_t *back;

  ck_assert_int_eq(
      cay__msg_set_body(rsp, "application/sdp", sdp, sizeof sdp - 1), 0);
  back = reparse(rsp);
  ck_assert_str_eq(sip_object(back)->sip_content_type->c_type,
                   "application/sdp");
  ck_assert_uint_eq(sip_object(back)->sip_content_length->l_length,
                    sizeof sdp - 1);
  ck_assert_uint_eq(sip_object(back)->sip_payload->pl_len, sizeof sdp - 1);
  ck_assert_int_eq(
      memcmp(sip_object(back)->sip_payload->pl_data, sdp, sizeof sdp - 1), 0);
  /* Clearing the body drops Content-Type and sets Content-Length 0. */
  ck_assert_int_eq(cay__msg_set_body(rsp, NULL, NULL, 0), 0);
  ck_assert_ptr_null(sip_object(rsp)->sip_payload);
  ck_assert_ptr_null(sip_object(rsp)->sip_content_type);
  ck_assert_uint_eq(sip_object(rsp)->sip_content_length->l_length, 0);
  msg_destroy(back);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

START_TEST(add_header_text)
{
  msg_t *req = parse_ok("msg-invite.sip");
  msg_t *rsp = cay__msg_response(req, 405, NULL, "t");
  msg_t *back;

  ck_assert_int_eq(cay__msg_add_header(rsp, "Allow: " CAY_ALLOW), 0);
  ck_assert_int_eq(cay__msg_add_header(rsp, "X-Cay-Test: yes"), 0);
  ck_assert_int_eq(cay__msg_add_header(rsp, "Max-Forwards: many"), -EINVAL);
  ck_assert_int_eq(cay__msg_add_header(rsp, "no colon here"), -EINVAL);
  back = reparse(rsp);
  ck_assert_str_eq(sip_object(back)->sip_allow->k_items[0], "INVITE");
  ck_assert_str_eq(sip_object(back)->sip_allow->k_items[4], "OPTIONS");
  ck_assert_str_eq(sip_object(back)->sip_unknown->un_name, "X-Cay-Test");
  ck_assert_str_eq(sip_object(back)->sip_unknown->un_value, "yes");
  ck_assert_ptr_null(sip_object(back)->sip_max_forwards);
  msg_destroy(back);
  msg_destroy(rsp);
  msg_destroy(req);
}
END_TEST

/* ---- requests (RFC 3261 section 8.1.1) ---- */

struct built {
  su_home_t home[1];
  cay__req_spec_t spec;
};

static void
spec_init(struct built *b, const char *via_host)
{
  static const char sdp[] = "v=0\r\n";

  su_home_init(b->home);
  memset(&b->spec, 0, sizeof b->spec);
  b->spec.method = sip_method_bye;
  b->spec.method_name = "BYE";
  b->spec.ruri = url_hdup(b->home, (url_t *)"sip:bob@192.0.2.20:5080");
  b->spec.via_host = via_host;
  b->spec.via_port = 5062;
  b->spec.branch = "z9hG4bK-cay-77";
  b->spec.from = sip_from_make(b->home, "Cay <sip:cay@example.com>;tag=f1");
  b->spec.to = sip_to_make(b->home, "<sip:bob@example.com>;tag=t2");
  b->spec.call_id = "c-123@cay";
  b->spec.cseq = 42;
  b->spec.route = sip_route_make(b->home, "<sip:192.0.2.30:5070;lr>, "
                                          "<sip:192.0.2.31;lr>");
  b->spec.contact = sip_contact_make(b->home, "<sip:cay@192.0.2.1:5062>");
  b->spec.content_type = "application/sdp";
  b->spec.body = sdp;
  b->spec.body_len = sizeof sdp - 1;
}

START_TEST(request_8_1_1_builder_parses_back)
{
  struct built b;
  msg_t *req, *back;
  sip_t *sip;

  spec_init(&b, "192.0.2.1");
  req = cay__msg_request(&b.spec);
  ck_assert_ptr_nonnull(req);
  su_home_deinit(b.home); /* everything was copied */
  back = reparse(req);
  sip = sip_object(back);

  ck_assert_int_eq(sip->sip_request->rq_method, sip_method_bye);
  ck_assert_str_eq(sip->sip_request->rq_url->url_host, "192.0.2.20");
  ck_assert_str_eq(sip->sip_request->rq_url->url_port, "5080");
  ck_assert_int_eq(count_vias(sip->sip_via), 1);
  ck_assert_str_eq(sip->sip_via->v_protocol, "SIP/2.0/UDP");
  ck_assert_str_eq(sip->sip_via->v_host, "192.0.2.1");
  ck_assert_str_eq(sip->sip_via->v_port, "5062");
  ck_assert_str_eq(sip->sip_via->v_branch, "z9hG4bK-cay-77");
  ck_assert_str_eq(sip->sip_via->v_rport, "");
  ck_assert_uint_eq(sip->sip_max_forwards->mf_count, 70);
  ck_assert_str_eq(sip->sip_from->a_tag, "f1");
  ck_assert_str_eq(sip->sip_to->a_tag, "t2");
  ck_assert_str_eq(sip->sip_call_id->i_id, "c-123@cay");
  ck_assert_uint_eq(sip->sip_cseq->cs_seq, 42);
  ck_assert_int_eq(sip->sip_cseq->cs_method, sip_method_bye);
  ck_assert_str_eq(sip->sip_route->r_url->url_host, "192.0.2.30");
  ck_assert_str_eq(sip->sip_route->r_next->r_url->url_host, "192.0.2.31");
  ck_assert_str_eq(sip->sip_contact->m_url->url_host, "192.0.2.1");
  ck_assert_str_eq(sip->sip_user_agent->g_string, CAY_SERVER_NAME);
  ck_assert_str_eq(sip->sip_content_type->c_type, "application/sdp");
  ck_assert_uint_eq(sip->sip_content_length->l_length, 5);
  ck_assert_int_eq(memcmp(sip->sip_payload->pl_data, "v=0\r\n", 5), 0);
  msg_destroy(back);
  msg_destroy(req);
}
END_TEST

START_TEST(request_rfc5118_ipv6_via_in_brackets)
{
  struct built b;
  msg_t *req, *back;

  spec_init(&b, "2001:db8::1");
  b.spec.route = NULL;
  b.spec.contact = NULL;
  b.spec.body = NULL;
  req = cay__msg_request(&b.spec);
  back = reparse(req);
  ck_assert_str_eq(sip_object(back)->sip_via->v_host, "[2001:db8::1]");
  ck_assert_ptr_null(sip_object(back)->sip_route);
  ck_assert_ptr_null(sip_object(back)->sip_payload);
  ck_assert_uint_eq(sip_object(back)->sip_content_length->l_length, 0);
  msg_destroy(back);
  msg_destroy(req);
  su_home_deinit(b.home);
}
END_TEST

/* ---- Via (RFC 3261 section 18.2, RFC 3581, RFC 5118) ---- */

static msg_t *
request_with_via(const char *via)
{
  char m[512];
  msg_t *msg = NULL;
  int n = snprintf(m, sizeof m,
                   "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
                   "Via: %s\r\n"
                   "From: <sip:a@example.com>;tag=1\r\n"
                   "To: <sip:bob@example.com>\r\n"
                   "Call-ID: via-test@192.0.2.10\r\n"
                   "CSeq: 1 OPTIONS\r\n"
                   "Content-Length: 0\r\n\r\n",
                   via);

  ck_assert_int_eq(cay__msg_parse(m, (size_t)n, &msg), 0);
  return msg;
}

static cay__addr_t
addr(const char *ip, unsigned port)
{
  cay__addr_t a;
  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  return a;
}

START_TEST(via_18_2_1_received_added_for_other_source)
{
  msg_t *msg = request_with_via("SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bKa");
  cay__addr_t src = addr("198.51.100.7", 5061);

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "198.51.100.7");
  ck_assert_ptr_null(sip_object(msg)->sip_via->v_rport);
  msg_destroy(msg);
}
END_TEST

START_TEST(via_18_2_1_no_received_when_sent_by_is_source)
{
  msg_t *msg = request_with_via("SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bKb");
  cay__addr_t src = addr("192.0.2.10", 5061);

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_ptr_null(sip_object(msg)->sip_via->v_received);
  msg_destroy(msg);
}
END_TEST

START_TEST(via_18_2_1_received_added_for_host_name)
{
  msg_t *msg = request_with_via("SIP/2.0/UDP pc33.example.com;branch=z9hG4bKc");
  cay__addr_t src = addr("192.0.2.10", 5060);

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "192.0.2.10");
  msg_destroy(msg);
}
END_TEST

START_TEST(via_rfc3581_4_rport_filled_and_received_added)
{
  /* RFC 3581 section 4: received is added even when it equals sent-by. */
  msg_t *msg
      = request_with_via("SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bKd;rport");
  cay__addr_t src = addr("192.0.2.10", 40123);
  msg_t *rsp, *back;

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_rport, "40123");
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "192.0.2.10");
  /* The response carries both back (RFC 3581 section 4). */
  rsp = cay__msg_response(msg, 200, NULL, "t");
  back = reparse(rsp);
  ck_assert_str_eq(sip_object(back)->sip_via->v_rport, "40123");
  ck_assert_str_eq(sip_object(back)->sip_via->v_received, "192.0.2.10");
  msg_destroy(back);
  msg_destroy(rsp);
  msg_destroy(msg);
}
END_TEST

START_TEST(via_rfc5118_4_6_ipv6_received_without_brackets)
{
  msg_t *msg = request_with_via("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKe");
  cay__addr_t src = addr("2001:db8::9:255", 5060);
  msg_t *back;

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "2001:db8::9:255");
  back = reparse(msg);
  ck_assert_str_eq(sip_object(back)->sip_via->v_received, "2001:db8::9:255");
  msg_destroy(back);
  msg_destroy(msg);
}
END_TEST

START_TEST(via_rfc5118_ipv6_sent_by_equal_to_source)
{
  msg_t *msg = request_with_via("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKf");
  cay__addr_t src = addr("2001:db8::9:1", 5060);

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_ptr_null(sip_object(msg)->sip_via->v_received);
  msg_destroy(msg);
}
END_TEST

START_TEST(via_fix_received_without_via_einval)
{
  int err;
  msg_t *msg = parse_file("msg-options-rr.sip",
                          "Via: SIP/2.0/UDP 192.0.2.30:5070;branch=z9hG4bK-"
                          "proxy-2\r\nVia: SIP/2.0/UDP 192.0.2.10:5061;"
                          "branch=z9hG4bK-alice-2\r\n",
                          "", &err);
  cay__addr_t src = addr("192.0.2.10", 5060);

  ck_assert_int_eq(cay__via_fix_received(msg, &src), -EINVAL);
  msg_destroy(msg);
}
END_TEST

static const struct {
  const char *via;
  int err;
  const char *dest; /* as cay__addr_format() prints it */
} dest_cases[] = {
  /* RFC 3581 section 4: received and rport. */
  { "SIP/2.0/UDP 192.0.2.10:5061;rport=40123;received=198.51.100.7", 0,
    "198.51.100.7:40123" },
  /* RFC 3261 section 18.2.2: received with the sent-by port. */
  { "SIP/2.0/UDP 192.0.2.10:5061;received=198.51.100.7", 0,
    "198.51.100.7:5061" },
  /* ... or 5060 when sent-by has none. */
  { "SIP/2.0/UDP pc33.example.com;received=198.51.100.7", 0,
    "198.51.100.7:5060" },
  /* No received: sent-by itself. */
  { "SIP/2.0/UDP 192.0.2.10:5061", 0, "192.0.2.10:5061" },
  { "SIP/2.0/UDP 192.0.2.10", 0, "192.0.2.10:5060" },
  /* A name needs DNS: not here. */
  { "SIP/2.0/UDP pc33.example.com:5061", -EINVAL, NULL },
  /* RFC 5118 section 4.6: received with and without brackets. */
  { "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]", 0,
    "[2001:db8::9:255]:5060" },
  { "SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255", 0,
    "[2001:db8::9:255]:6050" },
  { "SIP/2.0/UDP [2001:db8::9:1]:6050", 0, "[2001:db8::9:1]:6050" },
  /* maddr is not honoured (see cay__via_response_dest()). */
  { "SIP/2.0/UDP 192.0.2.10;maddr=224.0.1.75", 0, "192.0.2.10:5060" },
};

START_TEST(via_18_2_2_response_destination)
{
  msg_t *msg = request_with_via(dest_cases[_i].via);
  cay__addr_t dst;
  char buf[64];

  ck_assert_int_eq(cay__via_response_dest(sip_object(msg)->sip_via, &dst),
                   dest_cases[_i].err);
  if (dest_cases[_i].dest) {
    ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, dest_cases[_i].dest);
  }
  msg_destroy(msg);
}
END_TEST

static const struct {
  const char *url;
  int err;
  const char *dest;
} url_cases[] = {
  { "sip:bob@192.0.2.20", 0, "192.0.2.20:5060" },
  { "sip:bob@192.0.2.20:5080", 0, "192.0.2.20:5080" },
  { "sip:bob@[2001:db8::10]", 0, "[2001:db8::10]:5060" },
  { "sip:[2001:db8::10]:5070", 0, "[2001:db8::10]:5070" },
  /* RFC 5118 section 4.2: no port inside the brackets. */
  { "sip:[2001:db8::10:5070]", 0, "[2001:db8::10:5070]:5060" },
  { "sip:bob@example.com;maddr=192.0.2.99", 0, "192.0.2.99:5060" },
  { "sip:bob@example.com:5090;maddr=192.0.2.99", 0, "192.0.2.99:5090" },
  { "sip:b@example.com;maddr=[2001:db8::10]", 0, "[2001:db8::10]:5060" },
  { "sip:b@example.com;maddr=proxy.example.com", -EINVAL, NULL },
  { "sip:b@192.0.2.20;maddr", -EINVAL, NULL },
  { "sips:bob@192.0.2.20", 0, "192.0.2.20:5061" },
  { "sip:bob@example.com", -EINVAL, NULL },
  { "sip:bob@192.0.2.20:99999", -EINVAL, NULL },
};

START_TEST(url_rfc3263_destination)
{
  su_home_t home[1] = { SU_HOME_INIT(home) };
  url_t *url = url_hdup(home, (url_t *)url_cases[_i].url);
  cay__addr_t dst;
  char buf[64];

  ck_assert_int_eq(cay__url_dest(url, &dst), url_cases[_i].err);
  if (url_cases[_i].dest) {
    ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, url_cases[_i].dest);
  }
  su_home_deinit(home);
}
END_TEST

START_TEST(branch_8_1_1_7_magic_cookie)
{
  ck_assert(cay__branch_is_rfc3261("z9hG4bK776asdhds"));
  ck_assert(!cay__branch_is_rfc3261("390skdjuw"));
  ck_assert(!cay__branch_is_rfc3261("Z9HG4BK776"));
  ck_assert(!cay__branch_is_rfc3261(NULL));
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

  tc = tcase_create("build");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, response_8_2_6_2_copies_via_in_order);
  tcase_add_test(tc, response_8_2_6_2_copies_dialog_headers);
  tcase_add_test(tc, response_8_2_6_2_adds_to_tag);
  tcase_add_test(tc, response_8_2_6_2_keeps_existing_to_tag);
  tcase_add_test(tc, response_phrase_is_copied);
  tcase_add_test(tc, response_8_2_6_1_trying_echoes_timestamp);
  tcase_add_loop_test(tc, response_12_1_1_record_route_only_when_dialog_created,
                      0, sizeof rr_cases / sizeof rr_cases[0]);
  tcase_add_test(tc, serialize_response_parses_back);
  tcase_add_test(tc, serialize_twice_same_bytes);
  tcase_add_test(tc, serialize_response_with_body_parses_back);
  tcase_add_test(tc, add_header_text);
  tcase_add_test(tc, request_8_1_1_builder_parses_back);
  tcase_add_test(tc, request_rfc5118_ipv6_via_in_brackets);
  suite_add_tcase(s, tc);

  tc = tcase_create("via_url");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, via_18_2_1_received_added_for_other_source);
  tcase_add_test(tc, via_18_2_1_no_received_when_sent_by_is_source);
  tcase_add_test(tc, via_18_2_1_received_added_for_host_name);
  tcase_add_test(tc, via_rfc3581_4_rport_filled_and_received_added);
  tcase_add_test(tc, via_rfc5118_4_6_ipv6_received_without_brackets);
  tcase_add_test(tc, via_rfc5118_ipv6_sent_by_equal_to_source);
  tcase_add_test(tc, via_fix_received_without_via_einval);
  tcase_add_loop_test(tc, via_18_2_2_response_destination, 0,
                      sizeof dest_cases / sizeof dest_cases[0]);
  tcase_add_loop_test(tc, url_rfc3263_destination, 0,
                      sizeof url_cases / sizeof url_cases[0]);
  tcase_add_test(tc, branch_8_1_1_7_magic_cookie);
  tcase_add_test(tc, check_19_1_1_from_uri_with_path_400);
  tcase_add_test(tc, check_fuzz_findings_400);
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
