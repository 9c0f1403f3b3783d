/*
 * Unit tests of building SIP messages (src/sip/msg.h): responses (RFC 3261
 * sections 8.2.6, 12.1.1), requests (8.1.1) and serialization.
 */
#include "support/msg_fixture.h"

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

static Suite *
build_suite(void)
{
  Suite *s = suite_create("sip_msg_build");
  TCase *tc = tcase_create("build");
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

  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(build_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
