/*
 * Tests of the resolver's NAPTR step (src/transport/dns.c, RFC 3263
 * section 4.1), against the fake DNS server of support/dns_fixture.h:
 * when NAPTR is asked and when not, which records count (flag S, a
 * replacement, SIP+D2U / SIP+D2T, SIPS+D2T for sips:), order and
 * preference, the SRV of the replacement with the record's transport, the
 * fallbacks (no usable record: SRV as without NAPTR; no SRV there: the
 * host's address), and its errors.
 */
#include "support/dns_fixture.h"
#include "support/run.h"

#define NAPTR_TCP "_sip._tcp.t." NAME /* replacements: not the host's SRV */
#define NAPTR_UDP "_sip._udp.u." NAME
#define NAPTR_TLS "_sips._tcp.s." NAME

START_TEST(dns_4_1_naptr_sip_d2t_gives_srv_of_replacement)
{
  /* RFC 3263 section 4.1: no port, no transport: NAPTR first; "SIP+D2T"
   * with flag "S" names the SRV to ask (its replacement), not
   * "_sip._tcp." + host; the target's port is the SRV's, over TCP. The
   * host's own SRV records (UDP too) are not asked. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 10, 50, "S", "SIP+D2T", "", NAPTR_TCP);
  fake_srv(NAPTR_TCP, 10, 0, 5075, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_srv(UDP_SRV, 10, 0, 5062, "b." NAME);
  fake_srv(TCP_SRV, 10, 0, 5072, "b." NAME);
  fake_a("b." NAME, "192.0.2.20");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5075", CAY__TCP);
  ck_assert_int_eq(fake_asked(NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_asked(NAPTR_TCP, T_SRV), 1);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 0);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 0);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);
  ck_assert_int_eq(fake_asked("b." NAME, T_A), 0);
  /* NAPTR, then its SRV, then the SRV target's address. */
  ck_assert_int_eq(fake_first(NAME, T_NAPTR), 0);
  ck_assert_int_gt(fake_first(NAPTR_TCP, T_SRV), fake_first(NAME, T_NAPTR));
  ck_assert_int_gt(fake_first("a." NAME, T_A), fake_first(NAPTR_TCP, T_SRV));
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_lowest_order_then_preference)
{
  /* RFC 3403 section 4.1: the lowest order wins whatever the preference
   * (SIP+D2T order 10 pref 50 over SIP+D2U order 20 pref 10); within one
   * order, the lowest preference (SIP+D2U pref 10 over SIP+D2T pref 50).
   * The winner is never first in the answer. Flags compare without
   * case ("s"). The loser's SRV is not asked. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 20, 10, "S", "SIP+D2U", "", NAPTR_UDP);
  fake_naptr(NAME, 10, 50, "s", "SIP+D2T", "", NAPTR_TCP);
  fake_naptr("p." NAME, 10, 50, "S", "SIP+D2T", "", NAPTR_TCP);
  fake_naptr("p." NAME, 10, 10, "S", "SIP+D2U", "", NAPTR_UDP);
  fake_srv(NAPTR_UDP, 10, 0, 5062, "a." NAME);
  fake_srv(NAPTR_TCP, 10, 0, 5072, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");

  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5072", CAY__TCP);
  ck_assert_int_eq(fake_asked(NAPTR_TCP, T_SRV), 1);
  ck_assert_int_eq(fake_asked(NAPTR_UDP, T_SRV), 0);

  fake_forget();
  resolve(d, "p." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  ck_assert_int_eq(fake_asked("p." NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_asked(NAPTR_UDP, T_SRV), 1);
  ck_assert_int_eq(fake_asked(NAPTR_TCP, T_SRV), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_unsupported_records_fall_back_to_srv)
{
  /* RFC 3263 section 4.1: only terminal "S" records for SIP+D2U and
   * SIP+D2T count for a sip: URI. SCTP, ENUM, "U" (a URI to rewrite to),
   * "A" (an address record), no flag (another NAPTR), two flags,
   * SIPS+D2T (TLS, for a sips: URI) and "." (RFC 3403: no replacement)
   * are all passed over, whatever their
   * order: with nothing left, as without NAPTR, "_sip._udp" then. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 1, 1, "S", "SIP+D2S", "", "_sip._sctp." NAME);
  fake_naptr(NAME, 2, 1, "U", "E2U+sip", "!^.*$!sip:i@x!", ".");
  fake_naptr(NAME, 3, 1, "U", "SIP+D2U", "!^.*$!sip:x@a!", ".");
  fake_naptr(NAME, 4, 1, "A", "SIP+D2T", "", "a." NAME);
  fake_naptr(NAME, 5, 1, "", "SIP+D2T", "", "n." NAME);
  fake_naptr(NAME, 6, 1, "SA", "SIP+D2U", "", NAPTR_UDP);
  fake_naptr(NAME, 7, 1, "S", "SIPS+D2T", "", NAPTR_TLS);
  fake_naptr(NAME, 8, 1, "S", "SIP+D2T", "", "."); /* no replacement */
  fake_srv(NAPTR_UDP, 10, 0, 5064, "a." NAME);
  fake_srv(NAPTR_TLS, 10, 0, 5065, "a." NAME);
  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  ck_assert_int_eq(fake_first(NAME, T_NAPTR), 0);
  ck_assert_int_gt(fake_first(UDP_SRV, T_SRV), 0);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);   /* no replacement's SRV */
  ck_assert_int_eq(fake_asked_type(T_NAPTR), 1); /* nor "n."'s NAPTR */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_sips_takes_sips_d2t_only)
{
  /* RFC 3263 section 4.1: for a sips: URI only SIPS+D2T counts, even at
   * a higher order than SIP+D2T and SIP+D2U: its replacement's SRV,
   * over TCP; neither "_sips._tcp." + host nor the others' SRV. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 10, 10, "S", "SIP+D2T", "", NAPTR_TCP);
  fake_naptr(NAME, 15, 10, "S", "SIP+D2U", "", NAPTR_UDP);
  fake_naptr(NAME, 20, 10, "S", "SIPS+D2T", "", NAPTR_TLS);
  fake_srv(NAPTR_TCP, 10, 0, 5072, "a." NAME);
  fake_srv(NAPTR_UDP, 10, 0, 5062, "a." NAME);
  fake_srv(NAPTR_TLS, 10, 0, 5071, "b." NAME);
  fake_srv(SIPS_SRV, 10, 0, 5073, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a("b." NAME, "192.0.2.20");
  resolve(d, NAME, 0, -1, 1, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.20:5071", CAY__TLS);
  ck_assert_int_eq(fake_first(NAME, T_NAPTR), 0);
  ck_assert_int_eq(fake_asked(NAPTR_TLS, T_SRV), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_srv_empty_goes_to_host_address)
{
  /* RFC 3263 section 4.1 and 4.2: the chosen NAPTR's SRV has no record
   * (NXDOMAIN, then NODATA): the A record of the host itself, port 5060
   * (5061 for sips:), over the NAPTR's transport; no other SRV. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 10, 10, "S", "SIP+D2T", "", NAPTR_TCP); /* NXDOMAIN */
  fake_srv(UDP_SRV, 10, 0, 5062, "b." NAME);
  fake_a("b." NAME, "192.0.2.20");
  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.5:5060", CAY__TCP);
  ck_assert_int_eq(fake_asked(NAPTR_TCP, T_SRV), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);
  ck_assert_int_gt(fake_first(NAME, T_A), fake_first(NAPTR_TCP, T_SRV));

  /* NODATA: the replacement exists, with an AAAA record only. */
  fake_forget();
  fake_naptr("n." NAME, 10, 10, "S", "SIP+D2U", "", "_sip._udp.n." NAME);
  fake_aaaa("_sip._udp.n." NAME, "2001:db8::1");
  fake_a("n." NAME, "192.0.2.6");
  resolve(d, "n." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.6:5060", CAY__UDP);
  ck_assert_int_eq(fake_asked("_sip._udp.n." NAME, T_SRV), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);

  /* sips: port 5061. */
  fake_forget();
  fake_naptr("s." NAME, 10, 10, "S", "SIPS+D2T", "", "_sips._tcp.x." NAME);
  fake_a("s." NAME, "192.0.2.7");
  resolve(d, "s." NAME, 0, -1, 1, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.7:5061", CAY__TLS);
  ck_assert_int_eq(fake_asked("_sips._tcp.x." NAME, T_SRV), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_no_naptr_with_port_or_transport)
{
  /* RFC 3263 section 4.1 and 4.2: a port or a transport parameter in the
   * URI settles what NAPTR would: no NAPTR query, whatever the name
   * holds, for sip: and sips: alike. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_naptr(NAME, 10, 10, "S", "SIP+D2T", "", NAPTR_TCP);
  fake_naptr(NAME, 10, 10, "S", "SIPS+D2T", "", NAPTR_TLS);
  fake_srv(NAPTR_TCP, 10, 0, 5072, "a." NAME);
  fake_srv(NAPTR_TLS, 10, 0, 5071, "a." NAME);
  fake_srv(TCP_SRV, 10, 0, 5070, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a(NAME, "192.0.2.5");

  resolve(d, NAME, 5070, -1, 0, &a); /* a port */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5070", CAY__UDP);
  resolve(d, NAME, 0, CAY__TCP, 0, &a); /* ;transport=tcp */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5070", CAY__TCP);
  resolve(d, NAME, 0, CAY__UDP, 0, &a); /* ;transport=udp, no UDP SRV */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5060", CAY__UDP);
  resolve(d, NAME, 5063, CAY__TCP, 0, &a); /* both */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5063", CAY__TCP);
  resolve(d, NAME, 5071, -1, 1, &a); /* sips: with a port */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5071", CAY__TLS);
  resolve(d, NAME, 0, CAY__TCP, 1, &a); /* sips: ;transport=tcp */
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5061", CAY__TLS);
  ck_assert_int_eq(fake_asked_type(T_NAPTR), 0);
  ck_assert_int_eq(fake_asked(NAPTR_TCP, T_SRV), 0);
  ck_assert_int_eq(fake_asked(NAPTR_TLS, T_SRV), 0);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked(SIPS_SRV, T_SRV), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_is_the_first_query)
{
  /* RFC 3263 section 4.1: without port and transport, the first query
   * of all is NAPTR for the host, for sip: and for sips:, also when the
   * name has no NAPTR record (then SRV and A as before). */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5060", CAY__UDP);
  ck_assert_int_ge(fake.nasked, 4); /* NAPTR, 2 SRV, A */
  ck_assert_str_eq(fake.asked[0].name, NAME);
  ck_assert_int_eq(fake.asked[0].type, T_NAPTR);
  ck_assert_int_eq(fake_asked(NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_first(UDP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_first(TCP_SRV, T_SRV), 2);

  fake_forget();
  resolve(d, NAME, 0, -1, 1, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5061", CAY__TLS);
  ck_assert_int_ge(fake.nasked, 3); /* NAPTR, SRV, A */
  ck_assert_str_eq(fake.asked[0].name, NAME);
  ck_assert_int_eq(fake.asked[0].type, T_NAPTR);
  ck_assert_int_eq(fake_first(SIPS_SRV, T_SRV), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_timeout_is_etimedout)
{
  /* The server drops NAPTR queries only (one try of 200 ms): -ETIMEDOUT,
   * in time, and no SRV or A asked after it, though they would be
   * answered. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 200);
  struct answer a;
  uint64_t t0, took;

  fake.mode = FAKE_DNS_DROP;
  fake.mode_type = T_NAPTR;
  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a(NAME, "192.0.2.5");
  uv_update_time(&loop);
  t0 = uv_now(&loop);
  resolve(d, NAME, 0, -1, 0, &a);
  uv_update_time(&loop);
  took = uv_now(&loop) - t0;
  ck_assert_int_eq(a.err, -ETIMEDOUT);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_ge(fake_asked(NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 0);
  ck_assert_int_eq(fake_asked_type(T_A), 0);
  ck_assert_uint_ge(took, 150);
  ck_assert_uint_le(took, 2000);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_naptr_servfail_is_eio)
{
  /* SERVFAIL to the NAPTR query only: -EIO, as for SRV; no fallback. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake.mode = FAKE_DNS_SERVFAIL;
  fake.mode_type = T_NAPTR;
  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, -EIO);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_ge(fake_asked(NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 0);
  dns_close(d);
}
END_TEST

static Suite *
naptr_suite(void)
{
  Suite *s = suite_create("dns_naptr");
  TCase *tc = tcase_create("rfc3263_4_1");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, dns_4_1_naptr_sip_d2t_gives_srv_of_replacement);
  tcase_add_test(tc, dns_4_1_naptr_lowest_order_then_preference);
  tcase_add_test(tc, dns_4_1_naptr_unsupported_records_fall_back_to_srv);
  tcase_add_test(tc, dns_4_1_naptr_sips_takes_sips_d2t_only);
  tcase_add_test(tc, dns_4_1_naptr_srv_empty_goes_to_host_address);
  tcase_add_test(tc, dns_4_1_no_naptr_with_port_or_transport);
  tcase_add_test(tc, dns_4_1_naptr_is_the_first_query);
  tcase_add_test(tc, dns_4_1_naptr_timeout_is_etimedout);
  tcase_add_test(tc, dns_4_1_naptr_servfail_is_eio);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(naptr_suite());
}
