/*
 * Tests of the resolver's memory of targets that did not answer
 * (src/transport/dns_failed.c, dns.h cay__dns_target_failed(), RFC 3263
 * section 4.3), against the fake DNS server of support/dns_fixture.h: a
 * reported address goes last in later lookups, keeping the order among
 * the others and among the reported ones; one that answers is forgotten;
 * the memory's key is IP and port; it expires after failed_target_s, or
 * a shorter Retry-After of a 503 (RFC 3261 section 21.5.4); it
 * is bounded (CAY__DNS_FAILED_MAX, the one reported longest ago goes);
 * failed_target_s 0 keeps nothing; out of memory loses only the hint;
 * what one resolver learns it shares, and another learns it (shards).
 */
#include "support/dns_fixture.h"
#include "support/run.h"

/* A resolver with a cache (so the fake server is asked once) that
 * remembers failed targets for @p failed_s. */
static cay__dns_t *
open_failed(unsigned failed_s)
{
  return dns_open_with((cay__dns_opts_t){ .timeout_ms = 300,
                                          .tries = 1,
                                          .family = AF_INET,
                                          .cache_entries = 64,
                                          .cache_max_ttl_s = 3600,
                                          .failed_target_s = failed_s });
}

/* SRV targets by priority: a (192.0.2.10:5062), b (192.0.2.10:5064, the
 * same IP), c (192.0.2.30:5066). */
static void
three_targets(void)
{
  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_srv(UDP_SRV, 20, 0, 5064, "b." NAME);
  fake_srv(UDP_SRV, 30, 0, 5066, "c." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a("b." NAME, "192.0.2.10");
  fake_a("c." NAME, "192.0.2.30");
}

static cay__addr_t
addr_of(const char *ip, unsigned port)
{
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  return a;
}

/* Locate NAME over UDP; the targets must be @p first, @p second, @p third. */
static void
order_is(cay__dns_t *d, const char *first, const char *second,
         const char *third)
{
  struct answer a;

  resolve(d, NAME, 0, CAY__UDP, 0, &a);
  ck_assert_int_eq(a.err, 0);
  ck_assert_uint_eq(a.n, 3);
  target_is(&a, 0, first, CAY__UDP);
  target_is(&a, 1, second, CAY__UDP);
  target_is(&a, 2, third, CAY__UDP);
}

#define A_ "192.0.2.10:5062"
#define B_ "192.0.2.10:5064"
#define C_ "192.0.2.30:5066"

START_TEST(dns_4_3_failed_target_goes_last_others_keep_their_order)
{
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062), c = addr_of("192.0.2.30", 5066);

  three_targets();
  order_is(d, A_, B_, C_);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1); /* new: log it */
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 0); /* known */
  order_is(d, B_, C_, A_); /* b shares a's IP: its port differs */
  ck_assert_int_eq(cay__dns_target_failed(d, &c, 0), 1);
  order_is(d, B_, A_, C_); /* the failed ones in DNS's order */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_all_failed_keep_the_dns_order)
{
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062), b = addr_of("192.0.2.10", 5064),
              c = addr_of("192.0.2.30", 5066);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &c, 0), 1);
  ck_assert_int_eq(cay__dns_target_failed(d, &b, 0), 1);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1);
  order_is(d, A_, B_, C_); /* still all tried */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_target_that_answers_is_forgotten)
{
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062), b = addr_of("192.0.2.10", 5064);

  three_targets();
  ck_assert_int_eq(cay__dns_target_answered(d, &a), 0); /* nothing known */
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1);
  ck_assert_int_eq(cay__dns_target_answered(d, &b), 0); /* another port */
  order_is(d, B_, C_, A_);
  ck_assert_int_eq(cay__dns_target_answered(d, &a), 1);
  ck_assert_int_eq(cay__dns_target_answered(d, &a), 0);
  order_is(d, A_, B_, C_);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1); /* new again */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_failed_target_expires_after_failed_target_s)
{
  /* failed_target_s 1: a report for 0 (no answer) or for a longer
   * Retry-After lasts 1 s. */
  cay__dns_t *d = open_failed(1);
  cay__addr_t a = addr_of("192.0.2.10", 5062), c = addr_of("192.0.2.30", 5066);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1);
  ck_assert_int_eq(cay__dns_target_failed(d, &c, 100), 1);
  order_is(d, B_, A_, C_);
  wait_ms(1100);
  order_is(d, A_, B_, C_);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1); /* new again */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_retry_after_shorter_than_failed_target_s)
{
  /* RFC 3261 section 21.5.4: a 503 with Retry-After: 1 puts the target
   * last for 1 s, not failed_target_s (60). */
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062), b = addr_of("192.0.2.10", 5064);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 1), 1);
  ck_assert_int_eq(cay__dns_target_failed(d, &b, 0), 1);
  order_is(d, C_, A_, B_);
  wait_ms(1100);
  order_is(d, A_, C_, B_); /* b still: 60 s */
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_memory_bounded_oldest_report_goes)
{
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062), b = addr_of("192.0.2.10", 5064);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1);
  ck_assert_int_eq(cay__dns_target_failed(d, &b, 0), 1);
  order_is(d, C_, A_, B_);
  /* a is reported again (its time starts anew), then as many others as
   * push b, the one reported longest ago, out. */
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 0);
  for (unsigned i = 0; i < CAY__DNS_FAILED_MAX - 1; i++) {
    cay__addr_t x = addr_of("198.51.100.1", 1000 + i);
    ck_assert_int_eq(cay__dns_target_failed(d, &x, 0), 1);
  }
  order_is(d, B_, C_, A_);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_no_memory_when_failed_target_s_is_0)
{
  cay__dns_t *d = open_failed(0);
  cay__addr_t a = addr_of("192.0.2.10", 5062);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 0);
  order_is(d, A_, B_, C_);
  ck_assert_int_eq(cay__dns_target_answered(d, &a), 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_4_3_out_of_memory_loses_only_the_hint)
{
  cay__dns_t *d = open_failed(60);
  cay__addr_t a = addr_of("192.0.2.10", 5062);

  three_targets();
  order_is(d, A_, B_, C_);
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 0);
  cay__alloc_fail_nth(0);
  order_is(d, A_, B_, C_);
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 1);
  order_is(d, B_, C_, A_);
  dns_close(d);
}
END_TEST

/* What a resolver's share hook was told, in order. */
struct told {
  unsigned n;
  char addr[8][64];
  unsigned for_s[8];
};

static void
on_share(void *arg, const cay__addr_t *addr, unsigned for_s)
{
  struct told *t = arg;

  ck_assert_uint_lt(t->n, 8);
  ck_assert_int_eq(cay__addr_format(addr, t->addr[t->n], 64), 0);
  t->for_s[t->n++] = for_s;
}

static cay__dns_t *
open_sharing(unsigned failed_s, struct told *t)
{
  return dns_open_with((cay__dns_opts_t){ .timeout_ms = 300,
                                          .tries = 1,
                                          .family = AF_INET,
                                          .cache_entries = 64,
                                          .cache_max_ttl_s = 3600,
                                          .failed_target_s = failed_s,
                                          .share = on_share,
                                          .share_arg = t });
}

static void
told_is(const struct told *t, unsigned i, const char *addr, unsigned for_s)
{
  ck_assert_uint_gt(t->n, i);
  ck_assert_str_eq(t->addr[i], addr);
  ck_assert_uint_eq(t->for_s[i], for_s);
}

/* Two resolvers as two shards: what the first learns from its caller it
 * shares (each report, with the seconds kept; an answer only from a
 * remembered target); the second learns it without sharing it again. */
START_TEST(dns_4_3_what_one_resolver_learns_another_learns)
{
  struct told t1 = { 0 }, t2 = { 0 };
  cay__dns_t *d1 = open_sharing(60, &t1), *d2 = open_sharing(60, &t2);
  cay__addr_t a = addr_of("192.0.2.10", 5062), b = addr_of("192.0.2.10", 5064),
              c = addr_of("192.0.2.30", 5066);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d1, &a, 0), 1);
  told_is(&t1, 0, A_, 60);
  ck_assert_int_eq(cay__dns_target_learn(d2, &a, t1.for_s[0]), 1);
  ck_assert_int_eq(cay__dns_target_learn(d2, &a, t1.for_s[0]), 0); /* known */
  order_is(d2, B_, C_, A_);
  ck_assert_int_eq(cay__dns_target_failed(d1, &a, 0), 0); /* again: shared */
  told_is(&t1, 1, A_, 60);
  ck_assert_int_eq(cay__dns_target_failed(d1, &c, 100), 1); /* at most 60 */
  told_is(&t1, 2, C_, 60);
  ck_assert_int_eq(cay__dns_target_failed(d1, &b, 1), 1); /* Retry-After */
  told_is(&t1, 3, B_, 1);
  ck_assert_int_eq(cay__dns_target_answered(d1, &c), 1);
  told_is(&t1, 4, C_, 0);
  ck_assert_int_eq(cay__dns_target_answered(d1, &c), 0); /* not again */
  ck_assert_uint_eq(t1.n, 5);
  ck_assert_int_eq(cay__dns_target_learn(d2, &c, 60), 1);
  order_is(d2, B_, A_, C_);
  ck_assert_int_eq(cay__dns_target_learn(d2, &a, 0), 1); /* answers again */
  ck_assert_int_eq(cay__dns_target_learn(d2, &a, 0), 0);
  order_is(d2, A_, B_, C_);
  ck_assert_uint_eq(t2.n, 0); /* news is not passed on again */
  dns_close(d1);
  dns_close(d2);
}
END_TEST

START_TEST(dns_4_3_nothing_shared_or_learnt_without_memory)
{
  struct told t = { 0 };
  cay__dns_t *d = open_sharing(0, &t);
  cay__addr_t a = addr_of("192.0.2.10", 5062);

  three_targets();
  ck_assert_int_eq(cay__dns_target_failed(d, &a, 0), 0);
  ck_assert_int_eq(cay__dns_target_learn(d, &a, 60), 0);
  order_is(d, A_, B_, C_);
  ck_assert_uint_eq(t.n, 0);
  dns_close(d);
}
END_TEST

static Suite *
failed_suite(void)
{
  Suite *s = suite_create("dns_failed");
  TCase *tc = tcase_create("failed");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, dns_4_3_failed_target_goes_last_others_keep_their_order);
  tcase_add_test(tc, dns_4_3_all_failed_keep_the_dns_order);
  tcase_add_test(tc, dns_4_3_target_that_answers_is_forgotten);
  tcase_add_test(tc, dns_4_3_failed_target_expires_after_failed_target_s);
  tcase_add_test(tc, dns_4_3_retry_after_shorter_than_failed_target_s);
  tcase_add_test(tc, dns_4_3_memory_bounded_oldest_report_goes);
  tcase_add_test(tc, dns_4_3_no_memory_when_failed_target_s_is_0);
  tcase_add_test(tc, dns_4_3_out_of_memory_loses_only_the_hint);
  tcase_add_test(tc, dns_4_3_what_one_resolver_learns_another_learns);
  tcase_add_test(tc, dns_4_3_nothing_shared_or_learnt_without_memory);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(failed_suite());
}
