/*
 * cay__msg_response_encode(): the allocation-free response encoder must
 * say what cay__msg_response() says (RFC 3261 sections 8.2.6.2, 12.1.1).
 * cay__msg_set_via_transport(): the top Via's transport changed in place
 * (18.1.1).
 */
#include <check.h>

#include "support/run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "sip/msg.h"

static msg_t *
load_request(const char *name)
{
  char path[512], buf[4096];
  size_t n;
  FILE *f;
  msg_t *msg = NULL;

  snprintf(path, sizeof path, "%s/%s", CAY_TEST_DATA, name);
  f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  ck_assert_int_eq(cay__msg_parse(buf, n, &msg), 0);
  return msg;
}

static msg_t *
encode(msg_t *req, int status, const char *tag, const char *extra,
       const char *body)
{
  char out[4096];
  msg_t *resp = NULL;
  long n = cay__msg_response_encode(req, status, NULL, tag, extra,
                                    body ? "application/sdp" : NULL, body,
                                    body ? strlen(body) : 0, out, sizeof out);

  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(cay__msg_parse(out, (size_t)n, &resp), 0);
  ck_assert_int_eq(cay__msg_check_response(resp), 0);
  return resp;
}

START_TEST(encode_8_2_6_2_copies_via_list_from_to_callid_cseq)
{
  msg_t *req = load_request("encode-invite.sip");
  msg_t *r = encode(req, 180, "tag99", NULL, NULL);
  sip_t *sip = sip_object(r);

  ck_assert_int_eq(sip->sip_status->st_status, 180);
  ck_assert_str_eq(sip->sip_status->st_phrase, "Ringing");
  /* Both Vias of the one comma-separated line, in order. */
  ck_assert_str_eq(sip->sip_via->v_branch, "z9hG4bK-proxy-3");
  ck_assert_ptr_nonnull(sip->sip_via->v_next);
  ck_assert_str_eq(sip->sip_via->v_next->v_branch, "z9hG4bK-alice-3");
  ck_assert_str_eq(sip->sip_from->a_tag, "d4e5f6");
  /* The tag goes after the To's other parameters. */
  ck_assert_str_eq(sip->sip_to->a_tag, "tag99");
  ck_assert_str_eq(msg_params_find(sip->sip_to->a_params, "x="), "1");
  ck_assert_str_eq(sip->sip_call_id->i_id, "enc-9926385011@192.0.2.10");
  ck_assert_uint_eq(sip->sip_cseq->cs_seq, 3);
  ck_assert_str_eq(sip->sip_server->g_string, CAY_SERVER_NAME);
  msg_destroy(r);
  msg_destroy(req);
}
END_TEST

START_TEST(encode_12_1_1_record_route_only_in_dialog_creating_1xx_2xx)
{
  msg_t *req = load_request("encode-invite.sip");
  msg_t *r180 = encode(req, 180, "t", NULL, NULL);
  msg_t *r486 = encode(req, 486, "t", NULL, NULL);
  msg_t *r100 = encode(req, 100, "t", NULL, NULL);

  ck_assert_ptr_nonnull(sip_object(r180)->sip_record_route);
  ck_assert_ptr_null(sip_object(r486)->sip_record_route);
  ck_assert_ptr_null(sip_object(r100)->sip_record_route);
  /* 8.2.6.2: no tag on a 100. */
  ck_assert_ptr_null(sip_object(r100)->sip_to->a_tag);
  msg_destroy(r180);
  msg_destroy(r486);
  msg_destroy(r100);
  msg_destroy(req);
}
END_TEST

START_TEST(encode_extra_lines_and_body)
{
  static const char sdp[] = "v=0\r\no=cay 1 1 IN IP4 127.0.0.1\r\ns=cay\r\n"
                            "c=IN IP4 127.0.0.1\r\nt=0 0\r\n";
  msg_t *req = load_request("encode-invite.sip");
  msg_t *r = encode(req, 200, "t", "Contact: <sip:cay@127.0.0.1>\r\n", sdp);
  sip_t *sip = sip_object(r);

  ck_assert_str_eq(sip->sip_contact->m_url->url_user, "cay");
  ck_assert_str_eq(sip->sip_content_type->c_type, "application/sdp");
  ck_assert_uint_eq(sip->sip_content_length->l_length, strlen(sdp));
  ck_assert_int_eq(memcmp(sip->sip_payload->pl_data, sdp, strlen(sdp)), 0);
  msg_destroy(r);
  msg_destroy(req);
}
END_TEST

START_TEST(encode_same_as_msg_response)
{
  /* The encoder and the msg_t builder agree header by header. */
  msg_t *req = load_request("msg-options-rr.sip");
  msg_t *a = encode(req, 200, "same", NULL, NULL);
  msg_t *b = cay__msg_response(req, 200, NULL, "same");
  const char *data;
  size_t len;
  msg_t *b2 = NULL;

  ck_assert_int_eq(cay__msg_serialize(b, &data, &len), 0);
  ck_assert_int_eq(cay__msg_parse(data, len, &b2), 0);
  sip_t *x = sip_object(a), *y = sip_object(b2);
  ck_assert_str_eq(x->sip_via->v_branch, y->sip_via->v_branch);
  ck_assert_str_eq(x->sip_via->v_next->v_branch, y->sip_via->v_next->v_branch);
  ck_assert_str_eq(x->sip_to->a_tag, y->sip_to->a_tag);
  ck_assert_str_eq(x->sip_call_id->i_id, y->sip_call_id->i_id);
  ck_assert_uint_eq(x->sip_cseq->cs_seq, y->sip_cseq->cs_seq);
  ck_assert_int_eq(x->sip_record_route == NULL, y->sip_record_route == NULL);
  msg_destroy(a);
  msg_destroy(b);
  msg_destroy(b2);
  msg_destroy(req);
}
END_TEST

START_TEST(encode_small_buffer_gives_enospc)
{
  msg_t *req = load_request("encode-invite.sip");
  char out[64];

  ck_assert_int_eq(cay__msg_response_encode(req, 200, NULL, "t", NULL, NULL,
                                            NULL, 0, out, sizeof out),
                   -ENOSPC);
  msg_destroy(req);
}
END_TEST

START_TEST(encode_18_1_1_via_transport_changes_in_place)
{
  char req[] = "INVITE sip:a@127.0.0.1 SIP/2.0\r\n"
               "Route: <sip:127.0.0.1;lr>\r\n"
               "v:  sip/2.0/udp 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
               "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-2\r\n"
               "Content-Length: 0\r\n\r\n";
  char copy[sizeof req];

  /* The first Via line (compact form, any case) is the top Via; the
   * second is left alone. */
  ck_assert_int_eq(cay__msg_set_via_transport(req, strlen(req), CAY__TCP), 0);
  ck_assert_ptr_nonnull(strstr(req, "v:  sip/2.0/TCP 127.0.0.1:5060"));
  ck_assert_ptr_nonnull(strstr(req, "Via: SIP/2.0/UDP 127.0.0.2:5060"));
  ck_assert_int_eq(cay__msg_set_via_transport(req, strlen(req), CAY__UDP), 0);
  ck_assert_ptr_nonnull(strstr(req, "v:  sip/2.0/UDP 127.0.0.1:5060"));

  /* No Via before the blank line, a TLS Via, a cut header: -EINVAL and
   * the bytes unchanged. */
  const char *bad[] = {
    "BYE sip:a SIP/2.0\r\nTo: <sip:a>\r\n\r\nVia: SIP/2.0/UDP h\r\n",
    "BYE sip:a SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK-3\r\n\r\n",
    "BYE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP",
    "BYE sip:a SIP/2.0\r\nVias: SIP/2.0/UDP h\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = strlen(bad[i]);
    memcpy(copy, bad[i], n);
    ck_assert_int_eq(cay__msg_set_via_transport(copy, n, CAY__TCP), -EINVAL);
    ck_assert_int_eq(memcmp(copy, bad[i], n), 0);
  }
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("response_encode");
  TCase *tc = tcase_create("encode");

  tcase_add_test(tc, encode_8_2_6_2_copies_via_list_from_to_callid_cseq);
  tcase_add_test(tc,
                 encode_12_1_1_record_route_only_in_dialog_creating_1xx_2xx);
  tcase_add_test(tc, encode_extra_lines_and_body);
  tcase_add_test(tc, encode_same_as_msg_response);
  tcase_add_test(tc, encode_small_buffer_gives_enospc);
  tcase_add_test(tc, encode_18_1_1_via_transport_changes_in_place);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
