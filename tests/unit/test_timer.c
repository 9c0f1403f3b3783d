/* Unit tests: the shard timer heap (DESIGN.md rule 6). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "shard/timer.h"

static long live_at_start;
static cay__timerheap_t heap;

static void
setup_heap(void)
{
  live_at_start = cay__alloc_live();
  ck_assert_int_eq(cay__timerheap_init(&heap), 0);
}

static void
teardown_heap(void)
{
  cay__alloc_fail_nth(0);
  cay__timerheap_fini(&heap);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static void
noop_cb(cay__timer_t *t)
{
  (void)t;
}

/* Check the heap invariant and every back-pointer. */
static void
check_heap(const cay__timerheap_t *h)
{
  for (size_t i = 0; i < h->len; i++) {
    const cay__timer_t *t = h->heap[i];
    ck_assert_uint_eq(t->heap_index, i);
    if (i == 0)
      continue;
    const cay__timer_t *p = h->heap[(i - 1) / 2];
    ck_assert_msg(p->due_ms < t->due_ms
                      || (p->due_ms == t->due_ms && p->seq < t->seq),
                  "parent of %zu (%llu/%llu) after child (%llu/%llu)", i,
                  (unsigned long long)p->due_ms, (unsigned long long)p->seq,
                  (unsigned long long)t->due_ms, (unsigned long long)t->seq);
  }
}

START_TEST(timer_pops_in_due_order)
{
  static const uint64_t due[] = { 50, 10, 40, 30, 20, 60, 5 };
  enum { N = sizeof due / sizeof due[0] };
  cay__timer_t t[N];

  for (int i = 0; i < N; i++) {
    cay__timer_init(&t[i], noop_cb, NULL);
    ck_assert_int_eq(cay__timerheap_add(&heap, &t[i], due[i]), 0);
    ck_assert(cay__timer_armed(&t[i]));
  }
  check_heap(&heap);
  ck_assert_ptr_eq(cay__timerheap_peek(&heap), &t[6]);

  uint64_t last = 0;
  for (int i = 0; i < N; i++) {
    cay__timer_t *p = cay__timerheap_pop_due(&heap, 1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_ge(p->due_ms, last);
    ck_assert(!cay__timer_armed(p));
    last = p->due_ms;
  }
  ck_assert_uint_eq(last, 60);
  ck_assert_ptr_null(cay__timerheap_pop_due(&heap, 1000));
  ck_assert_ptr_null(cay__timerheap_peek(&heap));
}
END_TEST

START_TEST(timer_ties_pop_in_start_order)
{
  cay__timer_t t[8];

  for (int i = 0; i < 8; i++) {
    cay__timer_init(&t[i], noop_cb, NULL);
    ck_assert_int_eq(cay__timerheap_add(&heap, &t[i], 100), 0);
  }
  for (int i = 0; i < 8; i++)
    ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 100), &t[i]);
}
END_TEST

START_TEST(timer_pop_due_waits_for_due_time)
{
  cay__timer_t t;

  cay__timer_init(&t, noop_cb, NULL);
  ck_assert_int_eq(cay__timerheap_add(&heap, &t, 500), 0);
  ck_assert_ptr_null(cay__timerheap_pop_due(&heap, 499));
  ck_assert(cay__timer_armed(&t));
  /* Due exactly now counts as due. */
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 500), &t);
}
END_TEST

START_TEST(timer_readd_moves_timer)
{
  cay__timer_t a, b, c;

  cay__timer_init(&a, noop_cb, NULL);
  cay__timer_init(&b, noop_cb, NULL);
  cay__timer_init(&c, noop_cb, NULL);
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 10), 0);
  ck_assert_int_eq(cay__timerheap_add(&heap, &b, 20), 0);
  ck_assert_int_eq(cay__timerheap_add(&heap, &c, 30), 0);

  /* Later: a moves behind c, and is in the heap once. */
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 40), 0);
  ck_assert_uint_eq(heap.len, 3);
  check_heap(&heap);
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 100), &b);
  /* Earlier: a moves in front of c. */
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 5), 0);
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 100), &a);
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 100), &c);
  ck_assert_ptr_null(cay__timerheap_pop_due(&heap, 100));
}
END_TEST

START_TEST(timer_readd_same_due_counts_as_restarted)
{
  cay__timer_t a, b;

  cay__timer_init(&a, noop_cb, NULL);
  cay__timer_init(&b, noop_cb, NULL);
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 10), 0);
  ck_assert_int_eq(cay__timerheap_add(&heap, &b, 10), 0);
  /* Restarting a puts it behind b, which was started before the restart. */
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 10), 0);
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 10), &b);
  ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, 10), &a);
}
END_TEST

START_TEST(timer_remove_idle_is_noop)
{
  cay__timer_t a, idle;

  cay__timer_init(&a, noop_cb, NULL);
  cay__timer_init(&idle, noop_cb, NULL);
  ck_assert_int_eq(cay__timerheap_add(&heap, &a, 10), 0);
  cay__timerheap_remove(&heap, &idle);
  ck_assert_uint_eq(heap.len, 1);
  cay__timerheap_remove(&heap, &a);
  cay__timerheap_remove(&heap, &a); /* twice: still a no-op */
  ck_assert_uint_eq(heap.len, 0);
  ck_assert(!cay__timer_armed(&a));
}
END_TEST

START_TEST(timer_init_enomem)
{
  cay__timerheap_t h;

  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__timerheap_init(&h), -ENOMEM);
}
END_TEST

START_TEST(timer_add_enomem_leaves_timer_idle)
{
  enum { N = 1024 };
  static cay__timer_t t[N];
  cay__timer_t extra;
  size_t n = 0;

  /* Fill to capacity, so the next new timer must grow the array. */
  while (heap.len < heap.cap) {
    ck_assert_uint_lt(n, N);
    cay__timer_init(&t[n], noop_cb, NULL);
    ck_assert_int_eq(cay__timerheap_add(&heap, &t[n], 1000 - n), 0);
    n++;
  }
  cay__timer_init(&extra, noop_cb, NULL);
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__timerheap_add(&heap, &extra, 1), -ENOMEM);
  ck_assert(!cay__timer_armed(&extra));
  ck_assert_uint_eq(heap.len, n);
  check_heap(&heap);
  /* Re-arming a timer already in the heap needs no memory. */
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__timerheap_add(&heap, &t[0], 0), 0);
  ck_assert_ptr_eq(cay__timerheap_peek(&heap), &t[0]);
  cay__alloc_fail_nth(0);
  /* The failure is not sticky. */
  ck_assert_int_eq(cay__timerheap_add(&heap, &extra, 1), 0);
  check_heap(&heap);
}
END_TEST

START_TEST(timer_fini_disarms)
{
  cay__timerheap_t h;
  cay__timer_t t[5];
  long live = cay__alloc_live();

  ck_assert_int_eq(cay__timerheap_init(&h), 0);
  for (int i = 0; i < 5; i++) {
    cay__timer_init(&t[i], noop_cb, NULL);
    ck_assert_int_eq(cay__timerheap_add(&h, &t[i], (uint64_t)i), 0);
  }
  ck_assert_ptr_eq(cay__timerheap_pop_due(&h, 0), &t[0]);
  cay__timerheap_fini(&h);
  for (int i = 0; i < 5; i++)
    ck_assert(!cay__timer_armed(&t[i]));
  ck_assert_int_eq(cay__alloc_live(), live);
}
END_TEST

/* Deterministic generator for the randomised test (splitmix64), kept
 * separate from the code under test. */
static uint64_t
next_rand(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The reference: the armed timer earliest in (due_ms, seq) order, found by
 * a linear scan over every timer. */
static cay__timer_t *
reference_min(cay__timer_t *t, int n)
{
  cay__timer_t *best = NULL;

  for (int i = 0; i < n; i++) {
    if (!cay__timer_armed(&t[i]))
      continue;
    if (best == NULL || t[i].due_ms < best->due_ms
        || (t[i].due_ms == best->due_ms && t[i].seq < best->seq))
      best = &t[i];
  }
  return best;
}

START_TEST(timer_random_ops_match_reference)
{
  enum { N = 200, OPS = 5000 };
  static cay__timer_t t[N];
  uint64_t seed = 0x5eed;
  uint64_t now = 0;
  size_t armed = 0;

  for (int i = 0; i < N; i++)
    cay__timer_init(&t[i], noop_cb, &t[i]);
  for (int op = 0; op < OPS; op++) {
    uint64_t r = next_rand(&seed);
    cay__timer_t *x = &t[(r >> 8) % N];
    switch (r % 4) {
    case 0:
    case 1: /* add or re-arm; a narrow due range makes many ties */
      armed += !cay__timer_armed(x);
      ck_assert_int_eq(cay__timerheap_add(&heap, x, now + (r >> 32) % 50), 0);
      break;
    case 2: /* remove, often from the middle */
      armed -= cay__timer_armed(x);
      cay__timerheap_remove(&heap, x);
      ck_assert(!cay__timer_armed(x));
      break;
    default: { /* advance time and pop everything due, in order */
      now += (r >> 32) % 20;
      cay__timer_t *want;
      while ((want = reference_min(t, N)) != NULL && want->due_ms <= now) {
        ck_assert_ptr_eq(cay__timerheap_pop_due(&heap, now), want);
        armed--;
      }
      ck_assert_ptr_null(cay__timerheap_pop_due(&heap, now));
      break;
    }
    }
    ck_assert_uint_eq(heap.len, armed);
    ck_assert_ptr_eq(cay__timerheap_peek(&heap), reference_min(t, N));
    check_heap(&heap);
  }
}
END_TEST

static Suite *
timer_suite(void)
{
  Suite *s = suite_create("timer");
  TCase *tc = tcase_create("heap");

  tcase_add_checked_fixture(tc, setup_heap, teardown_heap);
  tcase_add_test(tc, timer_pops_in_due_order);
  tcase_add_test(tc, timer_ties_pop_in_start_order);
  tcase_add_test(tc, timer_pop_due_waits_for_due_time);
  tcase_add_test(tc, timer_readd_moves_timer);
  tcase_add_test(tc, timer_readd_same_due_counts_as_restarted);
  tcase_add_test(tc, timer_remove_idle_is_noop);
  tcase_add_test(tc, timer_add_enomem_leaves_timer_idle);
  tcase_add_test(tc, timer_random_ops_match_reference);
  suite_add_tcase(s, tc);

  /* These manage their own heap. */
  tc = tcase_create("lifecycle");
  tcase_add_test(tc, timer_init_enomem);
  tcase_add_test(tc, timer_fini_disarms);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(timer_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
