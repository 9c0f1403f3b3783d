/*
 * Unit tests: the Call-ID alias table of a shard (src/server/alias.c),
 * which sends the messages of a dialog handed to another shard by a
 * Replaces after it. Times are a shard clock in ms; linger is 64*T1.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/alias.h"
#include "support/run.h"

#define LINGER 32000

static int
lookup(cay__aliases_t *a, const char *cid, uint64_t now)
{
  return cay__aliases_lookup(a, cid, strlen(cid), now);
}

static void
set(cay__aliases_t *a, const char *cid, unsigned shard, int held, uint64_t now)
{
  ck_assert_int_eq(cay__aliases_set(a, cid, strlen(cid), shard, held, now), 0);
}

START_TEST(alias_none_is_minus_one)
{
  cay__aliases_t a;

  ck_assert_int_eq(cay__aliases_init(&a, LINGER), 0);
  ck_assert_int_eq(lookup(&a, "x@h", 0), -1);
  set(&a, "abc", 1, 0, 0);
  /* The exact bytes: a prefix or a longer Call-ID is another one. */
  ck_assert_int_eq(lookup(&a, "ab", 1), -1);
  ck_assert_int_eq(lookup(&a, "abcd", 1), -1);
  ck_assert_int_eq(lookup(&a, "ABC", 1), -1);
  ck_assert_int_eq(lookup(&a, "abc", 1), 1);
  cay__aliases_fini(&a);
  cay__aliases_fini(&a); /* twice is safe */
}
END_TEST

/* An alias that is not held lasts LINGER after its last use: each lookup
 * renews it; without one it expires and is removed. */
START_TEST(alias_not_held_lasts_linger_after_last_use)
{
  cay__aliases_t a;

  ck_assert_int_eq(cay__aliases_init(&a, LINGER), 0);
  set(&a, "c1", 3, 0, 1000);
  ck_assert_int_eq(lookup(&a, "c1", 1000 + LINGER - 1), 3);
  ck_assert_int_eq(lookup(&a, "c1", 1000 + 2 * LINGER - 2), 3);
  ck_assert_uint_eq(cay__aliases_count(&a), 1);
  ck_assert_int_eq(lookup(&a, "c1", 1000 + 3 * LINGER - 2), -1);
  ck_assert_uint_eq(cay__aliases_count(&a), 0);
  cay__aliases_fini(&a);
}
END_TEST

/* A held alias (the owner has a session) does not expire; only its
 * owner's release starts the linger. */
START_TEST(alias_held_until_its_owner_releases)
{
  cay__aliases_t a;

  ck_assert_int_eq(cay__aliases_init(&a, LINGER), 0);
  set(&a, "c1", 2, 0, 0);
  set(&a, "c1", 2, 1, 10);
  ck_assert_int_eq(lookup(&a, "c1", 10 * LINGER), 2);
  cay__aliases_release(&a, "c1", 2, 5, 10 * LINGER); /* not the owner */
  ck_assert_int_eq(lookup(&a, "c1", 20 * LINGER), 2);
  cay__aliases_release(&a, "c1", 2, 2, 20 * LINGER);
  ck_assert_int_eq(lookup(&a, "c1", 21 * LINGER - 1), 2);
  ck_assert_int_eq(lookup(&a, "c1", 23 * LINGER), -1);
  cay__aliases_release(&a, "none", 4, 2, 23 * LINGER); /* no such: no-op */
  ck_assert_uint_eq(cay__aliases_count(&a), 0);
  cay__aliases_fini(&a);
}
END_TEST

/* A guess on the way (ALIAS_GUESS) replaces an earlier guess but not the
 * owner's word; the owner's word replaces a guess. */
START_TEST(alias_guess_never_overrides_held)
{
  cay__aliases_t a;

  ck_assert_int_eq(cay__aliases_init(&a, LINGER), 0);
  set(&a, "c1", 1, 0, 0);
  set(&a, "c1", 2, 0, 1);
  ck_assert_int_eq(lookup(&a, "c1", 2), 2);
  set(&a, "c1", 3, 1, 3);
  set(&a, "c1", 1, 0, 4);
  ck_assert_int_eq(lookup(&a, "c1", 5 * LINGER), 3);
  cay__aliases_fini(&a);
}
END_TEST

/* Expired entries nobody looks up again are swept by a later set (at
 * most once per LINGER): the table does not grow with dead aliases. */
START_TEST(alias_expired_swept_on_a_later_set)
{
  cay__aliases_t a;
  char cid[32];

  ck_assert_int_eq(cay__aliases_init(&a, LINGER), 0);
  for (int i = 0; i < 100; i++) {
    snprintf(cid, sizeof cid, "dead-%d", i);
    set(&a, cid, 1, 0, 0);
  }
  set(&a, "held", 1, 1, 0);
  ck_assert_uint_eq(cay__aliases_count(&a), 101);
  set(&a, "new", 1, 0, 2 * LINGER);
  ck_assert_uint_eq(cay__aliases_count(&a), 2);
  ck_assert_int_eq(lookup(&a, "held", 2 * LINGER), 1);
  ck_assert_int_eq(lookup(&a, "new", 2 * LINGER), 1);
  cay__aliases_fini(&a);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("alias");
  TCase *tc = tcase_create("alias");

  tcase_add_test(tc, alias_none_is_minus_one);
  tcase_add_test(tc, alias_not_held_lasts_linger_after_last_use);
  tcase_add_test(tc, alias_held_until_its_owner_releases);
  tcase_add_test(tc, alias_guess_never_overrides_held);
  tcase_add_test(tc, alias_expired_swept_on_a_later_set);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
