/*
 * Tests of the resolver that locates SIP servers (src/transport/dns.c,
 * RFC 3263 section 4), on a real libuv loop against the fake DNS server
 * of support/dns_fixture.h: the queries made for each kind of URI and
 * their order (NAPTR: test_dns_naptr.c), SRV priority, the fallback
 * to A/AAAA with the default port, the family filter, the errors (NXDOMAIN,
 * SERVFAIL, timeout, bad input, bad configuration), that the callback always
 * comes later, and that closing drops pending queries.
 */
#include "support/dns_fixture.h"
#include "support/run.h"

START_TEST(dns_4_2_port_in_uri_asks_address_only)
{
  /* RFC 3263 section 4.2: with a port in the URI, no SRV lookup; the
   * address of the host with that port. 4.1: no transport parameter and
   * a sip: URI is UDP. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a("sip." NAME, "192.0.2.1");
  fake_srv("_sip._udp.sip." NAME, 0, 0, 5090, "sip." NAME);
  resolve(d, "sip." NAME, 5070, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.1:5070", CAY__UDP);
  ck_assert_int_ge(fake_asked("sip." NAME, T_A), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_transport_param_kept_with_port)
{
  /* RFC 3263 section 4.1: a transport parameter is the transport. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a("sip." NAME, "192.0.2.1");
  resolve(d, "sip." NAME, 5070, CAY__TCP, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.1:5070", CAY__TCP);
  ck_assert_int_eq(fake_asked_type(T_SRV), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_2_tcp_srv_in_priority_order)
{
  /* RFC 3263 section 4.2 and RFC 2782: transport=tcp without a port
   * asks "_sip._tcp"; lower priority first, whatever the answer's
   * order; the port from the SRV record. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(TCP_SRV, 20, 0, 5080, "b." NAME);
  fake_srv(TCP_SRV, 10, 0, 5070, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a("b." NAME, "192.0.2.20");
  resolve(d, NAME, 0, CAY__TCP, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5070", CAY__TCP);
  /* RFC 3263 section 4.3: the next target is there to fail over to. */
  ck_assert_uint_eq(a.n, 2);
  target_is(&a, 1, "192.0.2.20:5080", CAY__TCP);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 0);
  ck_assert_int_ge(fake_asked("a." NAME, T_A), 1);
  ck_assert_int_ge(fake_asked("b." NAME, T_A), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_udp_srv_found_first)
{
  /* RFC 3263 section 4.1: no transport and no port, and no NAPTR
   * records (NXDOMAIN): "_sip._udp" is the first SRV asked; its records
   * settle it, "_sip._tcp" is not needed. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_srv(TCP_SRV, 10, 0, 5072, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_tcp_srv_when_no_udp_srv)
{
  /* RFC 3263 section 4.1: "_sip._udp" has nothing, then "_sip._tcp"
   * gives a TCP target. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(TCP_SRV, 10, 0, 5070, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5070", CAY__TCP);
  ck_assert_int_ge(fake_first(UDP_SRV, T_SRV), 0);
  ck_assert_int_gt(fake_first(TCP_SRV, T_SRV), fake_first(UDP_SRV, T_SRV));
  dns_close(d);
}
END_TEST

START_TEST(dns_4_2_no_srv_falls_back_to_5060_udp)
{
  /* RFC 3263 section 4.2: no SRV records: the A record of the host,
   * port 5060, UDP for a sip: URI. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.5:5060", CAY__UDP);
  ck_assert_int_ge(fake_asked(UDP_SRV, T_SRV), 1);
  ck_assert_int_ge(fake_asked(TCP_SRV, T_SRV), 1);
  ck_assert_int_ge(fake_asked(NAME, T_A), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_2_sips_no_srv_falls_back_to_5061_tcp)
{
  /* RFC 3263 section 4.1 and 4.2: a sips: URI asks "_sips._tcp" only;
   * without records, port 5061 over TLS. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, -1, 1, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.5:5061", CAY__TLS);
  ck_assert_int_ge(fake_asked(SIPS_SRV, T_SRV), 1);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 0);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 0);
  ck_assert_int_eq(fake_asked("_sips._udp." NAME, T_SRV), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_1_sip_transport_tls_is_sips_srv)
{
  /* RFC 3263 section 4.1: a sip: URI with transport=tls asks
   * "_sips._tcp" (not "_sip._tcp"); without records, port 5061, over
   * TLS either way. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(SIPS_SRV, 0, 0, 5071, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  resolve(d, NAME, 0, CAY__TLS, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5071", CAY__TLS);
  ck_assert_int_eq(fake_asked(TCP_SRV, T_SRV), 0);
  fake_a("t." NAME, "192.0.2.5");
  resolve(d, "t." NAME, 0, CAY__TLS, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.5:5061", CAY__TLS);
  ck_assert_int_ge(fake_asked("_sips._tcp.t." NAME, T_SRV), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_2_sips_srv_targets_over_tls)
{
  /* RFC 3263 section 4.2: the "_sips._tcp" records, over TLS. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(SIPS_SRV, 0, 0, 5071, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, -1, 1, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.10:5071", CAY__TLS);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_srv_target_without_address_is_skipped)
{
  /* RFC 3263 section 4.3: a target whose name has no address is passed
   * over for the next. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(TCP_SRV, 10, 0, 5070, "gone." NAME);
  fake_srv(TCP_SRV, 20, 0, 5080, "b." NAME);
  fake_a("b." NAME, "192.0.2.20");
  resolve(d, NAME, 0, CAY__TCP, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.20:5080", CAY__TCP);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_at_most_8_targets)
{
  /* Three SRV targets of four addresses each: the first eight, the
   * priority-0 target's four first. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  const char *names[3] = { "a." NAME, "b." NAME, "c." NAME };
  char ip[32];
  struct answer a;

  for (int i = 0; i < 3; i++) {
    fake_srv(TCP_SRV, (unsigned)i, 0, 5070 + (unsigned)i, names[i]);
    for (int j = 0; j < 4; j++) {
      snprintf(ip, sizeof ip, "192.0.2.%d", 10 * (i + 1) + j);
      fake_a(names[i], ip);
    }
  }
  resolve(d, NAME, 0, CAY__TCP, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5070", CAY__TCP);
  ck_assert_uint_eq(a.n, CAY__DNS_MAX_TARGETS);
  for (size_t i = 0; i < a.n; i++) {
    ck_assert_int_eq(a.t[i].proto, CAY__TCP);
    ck_assert_uint_eq(cay__addr_port(&a.t[i].addr), i < 4 ? 5070 : 5071);
  }
  dns_close(d);
}
END_TEST

START_TEST(dns_2782_srv_dot_target_is_enotfound)
{
  /* RFC 2782: a target of "." means the service is decidedly not
   * available at this domain; no fallback to the host's address. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_srv(TCP_SRV, 0, 0, 0, ".");
  fake_a(NAME, "192.0.2.5");
  resolve(d, NAME, 0, CAY__TCP, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_eq(fake_asked(NAME, T_A), 0);
  dns_close(d);
}
END_TEST

/* -- NAPTR (RFC 3263 section 4.1, RFC 3403) -------------------------------- */

START_TEST(dns_nxdomain_is_enotfound)
{
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake_a("sip." NAME, "192.0.2.1");
  resolve(d, "nowhere." NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_ge(fake_asked("nowhere." NAME, T_A), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_no_answer_is_etimedout_in_time)
{
  /* One try of 200 ms at one server that drops every query. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 200);
  struct answer a;
  uint64_t t0, took;

  fake.mode = FAKE_DNS_DROP;
  fake_a("sip." NAME, "192.0.2.1");
  uv_update_time(&loop);
  t0 = uv_now(&loop);
  resolve(d, "sip." NAME, 5060, -1, 0, &a);
  uv_update_time(&loop);
  took = uv_now(&loop) - t0;
  ck_assert_int_eq(a.err, -ETIMEDOUT);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_ge(fake_asked("sip." NAME, T_A), 1);
  ck_assert_uint_ge(took, 150);
  ck_assert_uint_le(took, 2000);
  dns_close(d);
}
END_TEST

START_TEST(dns_servfail_is_eio)
{
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a;

  fake.mode = FAKE_DNS_SERVFAIL;
  fake_a("sip." NAME, "192.0.2.1");
  resolve(d, "sip." NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, -EIO);
  ck_assert_uint_eq(a.n, 0);
  ck_assert_int_ge(fake_asked("sip." NAME, T_A), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_family_inet_ignores_aaaa)
{
  /* Only IPv4 to send with: an IPv6-only name has no usable address. */
  cay__dns_t *d = dns_open(AF_INET, 300);
  struct answer a;

  fake_aaaa("v6." NAME, "::1");
  resolve(d, "v6." NAME, 5062, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_uint_eq(a.n, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_family_inet6_takes_aaaa_only)
{
  cay__dns_t *d = dns_open(AF_INET6, 300);
  struct answer a;

  fake_aaaa("v6." NAME, "::1");
  fake_a("v6." NAME, "192.0.2.1");
  resolve(d, "v6." NAME, 5062, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "[::1]:5062", CAY__UDP);
  ck_assert_int_ge(fake_asked("v6." NAME, T_AAAA), 1);
  dns_close(d);
}
END_TEST

START_TEST(dns_einval_for_literals_and_no_host)
{
  /* An IP literal needs no DNS; no host is a caller's error. Refused at
   * once: the callback never comes and nothing is asked. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  const char *bad[] = { "127.0.0.1", "[::1]", "::1", "", NULL };
  struct answer a = { 0 };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(locate(d, bad[i], 5060, -1, 0, &a, i) == -EINVAL,
                  "host \"%s\"", bad[i] ? bad[i] : "(null)");
    ck_assert_msg(locate(d, bad[i], 0, -1, 0, &a, i) == -EINVAL,
                  "host \"%s\" without a port", bad[i] ? bad[i] : "(null)");
  }
  /* RFC 3261 section 26.2.2: sips: over UDP is not a choice. */
  ck_assert_int_eq(locate(d, NAME, 0, CAY__UDP, 1, &a, 9), -EINVAL);
  ck_assert_uint_eq(cay__dns_pending(d), 0);
  RUN_UNTIL(a.calls > 0, 100);
  ck_assert_int_eq(a.calls, 0);
  ck_assert_int_eq(fake.nasked, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_name_over_253_bytes_is_einval)
{
  /* RFC 1035 section 2.3.4: 255 bytes on the wire, 253 as text. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  char name[300] = "";
  struct answer a = { 0 };

  while (strlen(name) < 240)
    strcat(name, "abcdefghi.");
  strcat(name, "example.test"); /* 252 bytes */
  ck_assert_uint_eq(strlen(name), 252);
  memmove(name + 1, name, strlen(name) + 1);
  name[0] = 'x'; /* "xabcdefghi.": 253 */
  resolve(d, name, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  memmove(name + 1, name, strlen(name) + 1); /* 254 */
  memset(&a, 0, sizeof a);
  ck_assert_int_eq(locate(d, name, 5060, -1, 0, &a, 1), -EINVAL);
  RUN_UNTIL(a.calls > 0, 100);
  ck_assert_int_eq(a.calls, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_2_name_too_long_for_srv_goes_to_address)
{
  /* A 250-byte host: "_sip._udp." before it is over 253 bytes, so no SRV
   * record can exist for it (RFC 1035 section 2.3.4), as when there is
   * none: its address, port 5060, UDP. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  char name[300] = "";
  struct answer a;

  while (strlen(name) < 230)
    strcat(name, "abcdefghi.");
  strcat(name, "twenty.example.test"); /* 230 + 19 bytes */
  memmove(name + 1, name, strlen(name) + 1);
  name[0] = 'x'; /* 250 */
  ck_assert_uint_eq(strlen(name), 250);
  fake_a(name, "192.0.2.5");
  resolve(d, name, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 1);
  target_is(&a, 0, "192.0.2.5:5060", CAY__UDP);
  dns_close(d);
}
END_TEST

START_TEST(dns_callback_never_inside_locate)
{
  /* The answer always comes from the loop, also when c-ares has it at
   * once: "localhost" from /etc/hosts (the fake server would say
   * 192.0.2.99), and a label over 63 bytes c-ares cannot encode. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  char name[100];
  struct answer a;
  uint64_t t0;
  int err;

  fake_a("localhost", "192.0.2.99");
  fake_a("sip." NAME, "192.0.2.1");
  resolve(d, "sip." NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.1:5060", CAY__UDP);

  /* Later, but in the next loop turn, not after some timeout. */
  uv_update_time(&loop);
  t0 = uv_now(&loop);
  resolve(d, "localhost", 5060, -1, 0, &a);
  uv_update_time(&loop);
  ck_assert_uint_lt(uv_now(&loop) - t0, 1000);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "127.0.0.1:5060", CAY__UDP);

  memset(name, 'a', 64);
  strcpy(name + 64, ".example.test");
  memset(&a, 0, sizeof a);
  err = locate(d, name, 5060, -1, 0, &a, 7);
  ck_assert_int_eq(a.calls, 0);
  if (err == 0) {
    RUN_UNTIL(a.calls > 0, WAIT_MS);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_ne(a.err, 0);
  } else {
    ck_assert_int_eq(err, -EINVAL);
  }
  dns_close(d);
}
END_TEST

START_TEST(dns_pending_counts_until_answered)
{
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a = { 0 }, b = { 0 };

  fake_a("sip." NAME, "192.0.2.1");
  ck_assert_uint_eq(cay__dns_pending(d), 0);
  ck_assert_int_eq(locate(d, "sip." NAME, 5060, -1, 0, &a, 1), 0);
  ck_assert_int_eq(locate(d, NAME, 0, -1, 0, &b, 2), 0);
  ck_assert_uint_eq(cay__dns_pending(d), 2);
  RUN_UNTIL(a.calls > 0 && b.calls > 0, WAIT_MS);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(b.calls, 1);
  ck_assert_uint_eq(a.id, 1);
  ck_assert_uint_eq(b.id, 2);
  ck_assert_int_eq(a.err, 0);
  ck_assert_int_eq(b.err, CAY_ENOTFOUND);
  ck_assert_uint_eq(cay__dns_pending(d), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_close_drops_pending_queries)
{
  /* Three queries on the wire to a server that never answers: closing
   * drops them; no callback, before or after their timeout. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a[3] = { 0 };
  int closed = 0;

  fake.mode = FAKE_DNS_DROP;
  ck_assert_int_eq(locate(d, "a." NAME, 5060, -1, 0, &a[0], 1), 0);
  ck_assert_int_eq(locate(d, "b." NAME, 0, CAY__TCP, 0, &a[1], 2), 0);
  ck_assert_int_eq(locate(d, NAME, 0, -1, 0, &a[2], 3), 0);
  ck_assert_uint_eq(cay__dns_pending(d), 3);
  RUN_UNTIL(fake.nasked >= 3, WAIT_MS);
  ck_assert_int_ge(fake.nasked, 3);
  ck_assert_uint_eq(cay__dns_pending(d), 3);
  cay__dns_close(d, on_closed, &closed);
  RUN_UNTIL(closed > 0, WAIT_MS);
  ck_assert_int_eq(closed, 1);
  RUN_UNTIL(0, 500);
  ck_assert_int_eq(closed, 1);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(a[i].calls, 0);
}
END_TEST

/* An answer callback that closes the resolver it came from. */
struct closer {
  struct answer a[2];
  cay__dns_t *d;
  int closed;
};

static void
on_answer_close(void *arg, uint64_t id, int err, const cay__dns_target_t *t,
                size_t n)
{
  struct closer *c = arg;

  ck_assert_uint_lt(id, 2);
  on_answer(&c->a[id], id, err, t, n);
  if (c->d != NULL) {
    cay__dns_close(c->d, on_closed, &c->closed);
    c->d = NULL;
  }
}

START_TEST(dns_close_inside_a_callback_from_hosts)
{
  /* Two answers from /etc/hosts, both due in the same loop turn: the
   * first one's callback closes the resolver; the second is dropped. */
  struct closer c = { .d = dns_open(AF_UNSPEC, 300) };
  cay__dns_query_t q = { "localhost", 5060, -1, 0 };

  ck_assert_int_eq(cay__dns_locate(c.d, &q, on_answer_close, &c, 0), 0);
  ck_assert_int_eq(cay__dns_locate(c.d, &q, on_answer_close, &c, 1), 0);
  RUN_UNTIL(c.closed > 0, WAIT_MS);
  ck_assert_int_eq(c.closed, 1);
  ck_assert_int_eq(c.a[0].calls + c.a[1].calls, 1);
  RUN_UNTIL(0, 100);
  ck_assert_int_eq(c.a[0].calls + c.a[1].calls, 1);
}
END_TEST

START_TEST(dns_close_inside_a_callback_from_the_server)
{
  /* Two answers from the server, the first callback closes: the
   * second query is dropped. */
  struct closer c = { .d = dns_open(AF_UNSPEC, 300) };
  cay__dns_query_t q0 = { "a." NAME, 5060, -1, 0 };
  cay__dns_query_t q1 = { "b." NAME, 5060, -1, 0 };

  fake_a("a." NAME, "192.0.2.10");
  fake_a("b." NAME, "192.0.2.20");
  ck_assert_int_eq(cay__dns_locate(c.d, &q0, on_answer_close, &c, 0), 0);
  ck_assert_int_eq(cay__dns_locate(c.d, &q1, on_answer_close, &c, 1), 0);
  RUN_UNTIL(c.closed > 0, WAIT_MS);
  ck_assert_int_eq(c.closed, 1);
  ck_assert_int_eq(c.a[0].calls + c.a[1].calls, 1);
  RUN_UNTIL(0, 100);
  ck_assert_int_eq(c.a[0].calls + c.a[1].calls, 1);
}
END_TEST

START_TEST(dns_close_before_the_loop_ran)
{
  /* Closed before anything went out: the queries are dropped all the
   * same, and a NULL close callback is fine. */
  cay__dns_t *d = dns_open(AF_UNSPEC, 300);
  struct answer a = { 0 };

  fake_a("sip." NAME, "192.0.2.1");
  ck_assert_int_eq(locate(d, "sip." NAME, 5060, -1, 0, &a, 1), 0);
  ck_assert_int_eq(locate(d, "localhost", 5060, -1, 0, &a, 2), 0);
  cay__dns_close(d, NULL, NULL);
  RUN_UNTIL(0, 400);
  ck_assert_int_eq(a.calls, 0);
}
END_TEST

START_TEST(dns_create_bad_server_is_econfig)
{
  cay__dns_opts_t o = {
    .servers = "not-an-ip", .timeout_ms = 300, .tries = 1, .family = AF_UNSPEC
  };
  cay__dns_t *d = NULL;
  char err[256] = "";

  ck_assert_int_eq(cay__dns_create(&d, &loop, &o, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_msg(strstr(err, "not-an-ip") != NULL, "message: \"%s\"", err);
}
END_TEST

static Suite *
dns_suite(void)
{
  Suite *s = suite_create("dns");
  TCase *tc = tcase_create("rfc3263_4");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, dns_4_2_port_in_uri_asks_address_only);
  tcase_add_test(tc, dns_4_1_transport_param_kept_with_port);
  tcase_add_test(tc, dns_4_2_tcp_srv_in_priority_order);
  tcase_add_test(tc, dns_4_1_udp_srv_found_first);
  tcase_add_test(tc, dns_4_1_tcp_srv_when_no_udp_srv);
  tcase_add_test(tc, dns_4_2_no_srv_falls_back_to_5060_udp);
  tcase_add_test(tc, dns_4_2_sips_no_srv_falls_back_to_5061_tcp);
  tcase_add_test(tc, dns_4_2_sips_srv_targets_over_tls);
  tcase_add_test(tc, dns_4_1_sip_transport_tls_is_sips_srv);
  tcase_add_test(tc, dns_4_3_srv_target_without_address_is_skipped);
  tcase_add_test(tc, dns_4_3_at_most_8_targets);
  tcase_add_test(tc, dns_2782_srv_dot_target_is_enotfound);
  tcase_add_test(tc, dns_nxdomain_is_enotfound);
  tcase_add_test(tc, dns_no_answer_is_etimedout_in_time);
  tcase_add_test(tc, dns_servfail_is_eio);
  tcase_add_test(tc, dns_family_inet_ignores_aaaa);
  tcase_add_test(tc, dns_family_inet6_takes_aaaa_only);
  tcase_add_test(tc, dns_einval_for_literals_and_no_host);
  tcase_add_test(tc, dns_name_over_253_bytes_is_einval);
  tcase_add_test(tc, dns_4_2_name_too_long_for_srv_goes_to_address);
  tcase_add_test(tc, dns_callback_never_inside_locate);
  tcase_add_test(tc, dns_pending_counts_until_answered);
  tcase_add_test(tc, dns_close_drops_pending_queries);
  tcase_add_test(tc, dns_close_inside_a_callback_from_hosts);
  tcase_add_test(tc, dns_close_inside_a_callback_from_the_server);
  tcase_add_test(tc, dns_close_before_the_loop_ran);
  tcase_add_test(tc, dns_create_bad_server_is_econfig);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(dns_suite());
}
