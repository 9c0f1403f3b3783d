/*
 * Address blocks (transport/cidr.h) as the module gives them: the IP
 * literal forms, the parsed block's fields, an error that leaves the
 * output alone, and membership at prefix lengths that split a byte. (A
 * route's match.source is tested through the routes, test_routes.c;
 * registrar.ban_exempt through the registrar, test_registrar.c.)
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "support/run.h"
#include "transport/cidr.h"

static cay__addr_t
addr(const char *ip)
{
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, 5060), 0);
  return a;
}

START_TEST(cidr_ip_literal_forms)
{
  uint8_t ip[16];
  int family;

  ck_assert_int_eq(cay__ip_parse("192.0.2.7", 9, &family, ip), 0);
  ck_assert_int_eq(family, AF_INET);
  ck_assert_int_eq(memcmp(ip, "\xc0\x00\x02\x07", 4), 0);
  ck_assert_int_eq(cay__ip_parse("[::1]", 5, &family, ip), 0);
  ck_assert_int_eq(family, AF_INET6);
  ck_assert_int_eq(ip[15], 1);
  /* Only the n bytes given are read: "::1" of "::1]". */
  ck_assert_int_eq(cay__ip_parse("::1]", 3, &family, ip), 0);
  ck_assert_int_eq(family, AF_INET6);
  /* Brackets hold IPv6 only; no port, no zone index, nothing empty. */
  ck_assert_int_eq(cay__ip_parse("[10.0.0.1]", 10, &family, ip), -EINVAL);
  ck_assert_int_eq(cay__ip_parse("10.0.0.1:5060", 13, &family, ip), -EINVAL);
  ck_assert_int_eq(cay__ip_parse("fe80::1%eth0", 12, &family, ip), -EINVAL);
  ck_assert_int_eq(cay__ip_parse("[]", 2, &family, ip), -EINVAL);
  ck_assert_int_eq(cay__ip_parse("", 0, &family, ip), -EINVAL);
  ck_assert_int_eq(cay__ip_parse("1111:2222:3333:4444:5555:6666:7777:8888:9",
                                 41, &family, ip),
                   -EINVAL);
}
END_TEST

START_TEST(cidr_parse_fields_and_errors)
{
  cay__cidr_t c, before;
  char err[160];

  ck_assert_int_eq(cay__cidr_parse("192.168.1.128/25", &c, err, sizeof err), 0);
  ck_assert_int_eq(c.family, AF_INET);
  ck_assert_uint_eq(c.bits, 25);
  ck_assert_int_eq(memcmp(c.net, "\xc0\xa8\x01\x80", 4), 0);
  ck_assert_int_eq(cay__cidr_parse("2001:db8::", &c, err, sizeof err), 0);
  ck_assert_int_eq(c.family, AF_INET6);
  ck_assert_uint_eq(c.bits, 128); /* one address */

  /* A refusal says why and leaves *out as it was. */
  memset(&before, 0x5a, sizeof before);
  c = before;
  ck_assert_int_eq(cay__cidr_parse("10.0.0.0/8x", &c, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "prefix length '8x' is not from 0 to 32");
  ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0);
  ck_assert_int_eq(cay__cidr_parse("10.0.0.0/", &c, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "prefix length '' is not from 0 to 32");
  ck_assert_int_eq(cay__cidr_parse("10.0.0.0/+8", &c, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_int_eq(cay__cidr_parse("10.0.0.0/33", &c, err, sizeof err),
                   CAY_ECONFIG);
  /* 2^32 + 8: no overflow wraps it into range. */
  ck_assert_int_eq(cay__cidr_parse("10.0.0.0/4294967304", &c, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_int_eq(cay__cidr_parse("2001:db8::1/127", &c, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "'2001:db8::1/127' has bits set beyond the prefix "
                        "(the network is 2001:db8::/127)");
  ck_assert_int_eq(cay__cidr_parse("/8", &c, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "expected an IP address or a CIDR such as "
                        "10.0.0.0/8 or 2001:db8::/32, got '/8'");
  /* No buffer for why: the same answer. */
  ck_assert_int_eq(cay__cidr_parse("10.0.0.1/8", &c, NULL, 0), CAY_ECONFIG);
  ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0);
}
END_TEST

/* Prefix lengths that split a byte: /25 and /127, /0 of each family. */
START_TEST(cidr_contains_partial_bytes)
{
  cay__cidr_t v4, v6, all4, all6;
  cay__addr_t a;

  ck_assert_int_eq(cay__cidr_parse("192.168.1.128/25", &v4, NULL, 0), 0);
  ck_assert_int_eq(cay__cidr_parse("2001:db8::2/127", &v6, NULL, 0), 0);
  ck_assert_int_eq(cay__cidr_parse("0.0.0.0/0", &all4, NULL, 0), 0);
  ck_assert_int_eq(cay__cidr_parse("::/0", &all6, NULL, 0), 0);
  a = addr("192.168.1.128");
  ck_assert_int_eq(cay__cidr_contains(&v4, &a), 1);
  a = addr("192.168.1.255");
  ck_assert_int_eq(cay__cidr_contains(&v4, &a), 1);
  a = addr("192.168.1.127");
  ck_assert_int_eq(cay__cidr_contains(&v4, &a), 0);
  a = addr("192.168.0.200");
  ck_assert_int_eq(cay__cidr_contains(&v4, &a), 0);
  a = addr("2001:db8::3");
  ck_assert_int_eq(cay__cidr_contains(&v6, &a), 1);
  a = addr("2001:db8::4");
  ck_assert_int_eq(cay__cidr_contains(&v6, &a), 0);
  a = addr("2001:db8::1");
  ck_assert_int_eq(cay__cidr_contains(&v6, &a), 0);
  ck_assert_int_eq(cay__cidr_contains(&all4, &a), 0); /* families apart */
  ck_assert_int_eq(cay__cidr_contains(&all6, &a), 1);
  a = addr("203.0.113.9");
  ck_assert_int_eq(cay__cidr_contains(&all4, &a), 1);
  ck_assert_int_eq(cay__cidr_contains(&all6, &a), 0);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("cidr");
  TCase *tc = tcase_create("cidr");

  tcase_add_test(tc, cidr_ip_literal_forms);
  tcase_add_test(tc, cidr_parse_fields_and_errors);
  tcase_add_test(tc, cidr_contains_partial_bytes);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
