/*
 * Unit tests of Via handling (RFC 3261 sections 18.2.1 and 18.2.2, RFC
 * 3581, RFC 5118) and request destinations (RFC 3263 without DNS) in
 * src/sip/msg.h.
 */
#include "support/msg_fixture.h"

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

START_TEST(via_18_2_1_received_written_by_the_sender_is_replaced)
{
  /* Only the receiver knows where a request came from: a received the
   * sender wrote would aim the responses at a third party. */
  msg_t *msg = request_with_via(
      "SIP/2.0/UDP 192.0.2.10:5061;branch=z9hG4bKg;received=203.0.113.66");
  cay__addr_t src = addr("192.0.2.10", 5061), dst;
  char buf[64];

  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "192.0.2.10");
  ck_assert_int_eq(cay__via_response_dest(sip_object(msg)->sip_via, &dst), 0);
  ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "192.0.2.10:5061");
  msg_destroy(msg);

  /* From another address too: the source, not the sender's value. */
  msg = request_with_via(
      "SIP/2.0/UDP 192.0.2.10:5061;received=203.0.113.66;branch=z9hG4bKh");
  src = addr("198.51.100.7", 5061);
  ck_assert_int_eq(cay__via_fix_received(msg, &src), 0);
  ck_assert_str_eq(sip_object(msg)->sip_via->v_received, "198.51.100.7");
  msg_destroy(msg);
}
END_TEST

static const struct {
  const char *via;
  const char *src; /* the request's source (a TCP client's own port) */
  int err;
  const char *dest;
} stream_cases[] = {
  /* RFC 3261 section 18.2.2: the source IP and the sent-by port. */
  { "SIP/2.0/TCP 192.0.2.10:5061", "192.0.2.10:40001", 0, "192.0.2.10:5061" },
  /* ... or the transport's default port. */
  { "SIP/2.0/TCP 192.0.2.10", "192.0.2.10:40001", 0, "192.0.2.10:5060" },
  { "SIP/2.0/TLS 192.0.2.10", "192.0.2.10:40001", 0, "192.0.2.10:5061" },
  /* A name in sent-by: the IP is received's, that is the source's. */
  { "SIP/2.0/TCP pc33.example.com:5070;received=198.51.100.7",
    "198.51.100.7:40001", 0, "198.51.100.7:5070" },
  /* rport is for unreliable transports only (RFC 3581 section 4). */
  { "SIP/2.0/TCP 192.0.2.10:5062;rport=40001;received=192.0.2.10",
    "192.0.2.10:40001", 0, "192.0.2.10:5062" },
  { "SIP/2.0/TCP [2001:db8::9:1]:5070", "[2001:db8::9:1]:40001", 0,
    "[2001:db8::9:1]:5070" },
};

START_TEST(via_18_2_2_stream_destination)
{
  char via[160], ip[64], buf[64];
  msg_t *msg;
  cay__addr_t dst;
  const char *colon = strrchr(stream_cases[_i].src, ':');

  snprintf(via, sizeof via, "%s;branch=z9hG4bKs%d", stream_cases[_i].via, _i);
  msg = request_with_via(via);
  snprintf(ip, sizeof ip, "%.*s", (int)(colon - stream_cases[_i].src),
           stream_cases[_i].src);
  if (ip[0] == '[') {
    memmove(ip, ip + 1, strlen(ip));
    ip[strlen(ip) - 1] = '\0';
  }
  dst = addr(ip, (unsigned)atoi(colon + 1));
  ck_assert_int_eq(cay__via_stream_dest(sip_object(msg)->sip_via, &dst),
                   stream_cases[_i].err);
  ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, stream_cases[_i].dest);
  /* No Via, or a sent-by port that is not a port (sofia-sip's parser
   * refuses such a Via; a Via built in memory may still carry one):
   * -EINVAL, the address as it was. */
  ck_assert_int_eq(cay__via_stream_dest(NULL, &dst), -EINVAL);
  sip_object(msg)->sip_via->v_port = "99999";
  ck_assert_int_eq(cay__via_stream_dest(sip_object(msg)->sip_via, &dst),
                   -EINVAL);
  ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, stream_cases[_i].dest);
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

/* A destination with its transport, as config, logs and call detail
 * records write it; a buffer too short is -ENOSPC, not a cut address. */
START_TEST(addr_format_with_proto)
{
  cay__addr_t a;
  char buf[64];

  ck_assert_int_eq(cay__addr_set(&a, "192.0.2.4", 5060), 0);
  ck_assert_int_eq(cay__addr_format_proto(CAY__UDP, &a, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "udp:192.0.2.4:5060");
  ck_assert_int_eq(cay__addr_set(&a, "::1", 5061), 0);
  ck_assert_int_eq(cay__addr_format_proto(CAY__TLS, &a, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "tls:[::1]:5061");
  ck_assert_int_eq(cay__addr_format_proto(CAY__TLS, &a, buf, 4), -ENOSPC);
  ck_assert_int_eq(cay__addr_format_proto(CAY__TLS, &a, buf, 10), -ENOSPC);
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
via_suite(void)
{
  Suite *s = suite_create("sip_via");
  TCase *tc = tcase_create("via_url");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, via_18_2_1_received_added_for_other_source);
  tcase_add_test(tc, via_18_2_1_no_received_when_sent_by_is_source);
  tcase_add_test(tc, via_18_2_1_received_added_for_host_name);
  tcase_add_test(tc, via_18_2_1_received_written_by_the_sender_is_replaced);
  tcase_add_test(tc, via_rfc3581_4_rport_filled_and_received_added);
  tcase_add_test(tc, via_rfc5118_4_6_ipv6_received_without_brackets);
  tcase_add_test(tc, via_rfc5118_ipv6_sent_by_equal_to_source);
  tcase_add_test(tc, via_fix_received_without_via_einval);
  tcase_add_loop_test(tc, via_18_2_2_response_destination, 0,
                      sizeof dest_cases / sizeof dest_cases[0]);
  tcase_add_loop_test(tc, via_18_2_2_stream_destination, 0,
                      sizeof stream_cases / sizeof stream_cases[0]);
  tcase_add_loop_test(tc, url_rfc3263_destination, 0,
                      sizeof url_cases / sizeof url_cases[0]);
  tcase_add_test(tc, addr_format_with_proto);
  tcase_add_test(tc, branch_8_1_1_7_magic_cookie);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(via_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
