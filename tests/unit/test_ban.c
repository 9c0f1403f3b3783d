/*
 * The table of sources refused for a while after wrong credentials
 * (registrar/ban.h): a ban after the N-th refusal within a window, its
 * end, a window that starts over, one address on every port, IPv4 and
 * IPv6 apart, and a flood of new addresses that evicts the quiet ones
 * but not a banned one.
 */
#include <check.h>
#include <stdio.h>

#include "registrar/ban.h"
#include "support/run.h"

#define NOW 1000000ull /* the shard clock never starts at 0 */

static const uint8_t key[CAY__HASH_KEYBYTES] = "0123456789abcde";

static cay__addr_t
addr(const char *ip, unsigned port)
{
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  return a;
}

/* 3 refusals within 60 s ban for 600 s; the refusals before a window
 * closed do not count in the next. */
START_TEST(ban_after_failures_within_window)
{
  cay__ban_t *b = cay__ban_new(key);
  cay__addr_t a = addr("192.0.2.7", 5060), other_port = addr("192.0.2.7", 1);

  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW, 3, 60000, 600000), 0);
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 30000, 3, 60000, 600000), 0);
  /* The window opened at NOW closed: this one opens a new window. */
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 60000, 3, 60000, 600000), 0);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 60000), 0);
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 61000, 3, 60000, 600000), 0);
  ck_assert_int_eq(
      cay__ban_failure(b, &other_port, NOW + 62000, 3, 60000, 600000), 1);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 62000), 600000);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 661999), 1);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 662000), 0);
  /* Once over, it counts from nothing again. */
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 662000, 3, 60000, 600000), 0);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 662000), 0);
  cay__ban_free(b);
}
END_TEST

/* Another address is not banned with it; an IPv4 address and the IPv6
 * address that maps it are one (a dual-stack socket's view). */
START_TEST(ban_is_per_address)
{
  cay__ban_t *b = cay__ban_new(key);
  cay__addr_t a = addr("192.0.2.7", 5060), c = addr("192.0.2.8", 5060);
  cay__addr_t mapped = addr("::ffff:192.0.2.7", 5060);
  cay__addr_t v6 = addr("2001:db8::7", 5060);

  ck_assert_int_eq(cay__ban_failure(b, &a, NOW, 1, 60000, 1000), 1);
  ck_assert_uint_gt(cay__ban_left(b, &a, NOW), 0);
  ck_assert_uint_gt(cay__ban_left(b, &mapped, NOW), 0);
  ck_assert_uint_eq(cay__ban_left(b, &c, NOW), 0);
  ck_assert_uint_eq(cay__ban_left(b, &v6, NOW), 0);
  cay__ban_free(b);
}
END_TEST

/* 20,000 new addresses, one refusal each: a quiet address with one
 * refusal before them is forgotten (its next refusal is its first), a
 * banned one is not. */
START_TEST(ban_flood_evicts_the_quiet_not_the_banned)
{
  cay__ban_t *b = cay__ban_new(key);
  cay__addr_t banned = addr("198.51.100.1", 5060);
  cay__addr_t quiet = addr("198.51.100.2", 5060);
  char ip[32];

  ck_assert_int_eq(cay__ban_failure(b, &banned, NOW, 1, 60000, 600000), 1);
  ck_assert_int_eq(cay__ban_failure(b, &quiet, NOW, 2, 60000, 600000), 0);
  for (unsigned i = 0; i < 20000; i++) {
    snprintf(ip, sizeof ip, "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
    cay__addr_t x = addr(ip, 5060);
    ck_assert_int_eq(cay__ban_failure(b, &x, NOW + 1 + i, 2, 60000, 600000), 0);
  }
  ck_assert_uint_gt(cay__ban_left(b, &banned, NOW + 30000), 0);
  ck_assert_int_eq(cay__ban_failure(b, &quiet, NOW + 30000, 2, 60000, 600000),
                   0);
  cay__ban_free(b);
}
END_TEST

/* Another shard's ban (cay__ban_set()) holds here for its length, and
 * does not shorten a longer one. */
START_TEST(ban_set_by_another_shard)
{
  cay__ban_t *b = cay__ban_new(key);
  cay__addr_t a = addr("192.0.2.7", 5060);

  cay__ban_set(b, &a, NOW, 10000);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 1), 9999);
  cay__ban_set(b, &a, NOW + 1, 2000);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 1), 9999);
  ck_assert_uint_eq(cay__ban_left(b, &a, NOW + 10000), 0);
  /* Its own count starts from nothing after it. */
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 10000, 2, 60000, 1000), 0);
  ck_assert_int_eq(cay__ban_failure(b, &a, NOW + 10001, 2, 60000, 1000), 1);
  cay__ban_free(b);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("ban");
  TCase *tc = tcase_create("ban");

  tcase_add_test(tc, ban_after_failures_within_window);
  tcase_add_test(tc, ban_is_per_address);
  tcase_add_test(tc, ban_flood_evicts_the_quiet_not_the_banned);
  tcase_add_test(tc, ban_set_by_another_shard);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
