/* Unit tests: the shard mailbox (DESIGN.md rule 3). */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "shard/mailbox.h"

#define MAX_PRODUCERS 4
#define GUARD_MS      10000 /* a thread test that takes longer has failed */

typedef struct test_mail {
  cay__mail_t mail; /* first: a cay__mail_t * is a test_mail_t * */
  int producer;
  unsigned seq;
} test_mail_t;

/* What the dispatch function saw; touched on the loop thread only. */
typedef struct seen {
  size_t n;
  unsigned next_seq[MAX_PRODUCERS]; /* per producer: the seq expected next */
  int out_of_order;                 /* first bad seq + 1, or 0 */
  size_t expect_total;              /* uv_stop() the loop once reached */
  int post_from_dispatch;           /* re-post one mail from dispatch */
  int repost_err;                   /* what that re-post returned */
} seen_t;

static long live_at_start;
static uv_loop_t loop;
static cay__mailbox_t mb;
static seen_t seen;
static int closed_calls;

static void
setup_loop(void)
{
  live_at_start = cay__alloc_live();
  memset(&seen, 0, sizeof seen);
  closed_calls = 0;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void
teardown_loop(void)
{
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static test_mail_t *
new_mail(int producer, unsigned seq)
{
  test_mail_t *t = cay__malloc(sizeof *t);

  ck_assert_ptr_nonnull(t);
  t->mail.next = NULL;
  t->mail.kind = 1;
  t->producer = producer;
  t->seq = seq;
  return t;
}

static void
on_mail(cay__mail_t *m, void *arg)
{
  seen_t *s = arg;
  test_mail_t *t = (test_mail_t *)m;

  ck_assert_int_eq(m->kind, 1);
  if (t->seq != s->next_seq[t->producer] && !s->out_of_order)
    s->out_of_order = (int)t->seq + 1;
  s->next_seq[t->producer] = t->seq + 1;
  s->n++;
  if (s->post_from_dispatch) {
    s->post_from_dispatch = 0;
    test_mail_t *again = new_mail(t->producer, t->seq + 1);
    s->repost_err = cay__mailbox_post(&mb, &again->mail);
    if (s->repost_err)
      cay__free(again);
  }
  cay__free(t);
  if (s->expect_total && s->n == s->expect_total)
    uv_stop(&loop);
}

static void
on_closed(void *arg)
{
  ck_assert_ptr_eq(arg, &mb);
  closed_calls++;
}

static void
close_mailbox(void)
{
  cay__mailbox_close(&mb, on_closed, &mb);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed_calls, 1);
}

START_TEST(mailbox_one_producer_keeps_order)
{
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  for (unsigned i = 0; i < 100; i++)
    ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, i)->mail), 0);
  ck_assert_uint_eq(seen.n, 0); /* nothing runs before the loop does */

  uv_run(&loop, UV_RUN_NOWAIT);

  ck_assert_uint_eq(seen.n, 100);
  ck_assert_int_eq(seen.out_of_order, 0);
  ck_assert_uint_eq(seen.next_seq[0], 100);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_one_wakeup_drains_whole_batch)
{
  /* DESIGN.md rule 3: uv_async_send() coalesces wake-ups, so one wake-up
   * must dispatch everything queued. */
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  for (unsigned i = 0; i < 1000; i++)
    ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, i)->mail), 0);

  uv_run(&loop, UV_RUN_NOWAIT);

  ck_assert_uint_eq(seen.n, 1000);
  ck_assert_uint_eq(mb.drained, 1000);
  ck_assert_uint_eq(mb.wakeups, 1);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_post_from_dispatch_waits_for_next_wakeup)
{
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  seen.post_from_dispatch = 1;
  ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, 0)->mail), 0);

  uv_run(&loop, UV_RUN_NOWAIT);

  /* The re-posted mail went into a fresh list with its own wake-up. */
  ck_assert_int_eq(seen.repost_err, 0);
  ck_assert_uint_eq(seen.n, 1);
  ck_assert_uint_eq(mb.wakeups, 1);

  uv_run(&loop, UV_RUN_NOWAIT);

  ck_assert_uint_eq(seen.n, 2);
  ck_assert_uint_eq(mb.wakeups, 2);
  ck_assert_int_eq(seen.out_of_order, 0);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_direct_drain_leaves_empty_wakeup_uncounted)
{
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  for (unsigned i = 0; i < 3; i++)
    ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, i)->mail), 0);

  ck_assert_uint_eq(cay__mailbox_drain(&mb), 3);
  ck_assert_uint_eq(seen.n, 3);
  ck_assert_uint_eq(cay__mailbox_drain(&mb), 0);
  uv_run(&loop, UV_RUN_NOWAIT); /* the wake-up of the first post arrives */

  ck_assert_uint_eq(seen.n, 3);
  ck_assert_uint_eq(mb.drained, 3);
  ck_assert_uint_eq(mb.wakeups, 0);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_full_returns_elimit_and_mail_stays_callers)
{
  test_mail_t *extra = new_mail(0, 3);

  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 3), 0);
  for (unsigned i = 0; i < 3; i++)
    ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, i)->mail), 0);

  ck_assert_int_eq(cay__mailbox_post(&mb, &extra->mail), CAY_ELIMIT);
  uv_run(&loop, UV_RUN_NOWAIT);

  ck_assert_uint_eq(seen.n, 3); /* the refused mail was not dispatched */
  ck_assert_ptr_null(extra->mail.next);
  /* Still the caller's: once drained there is room to post it again. */
  ck_assert_int_eq(cay__mailbox_post(&mb, &extra->mail), 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_eq(seen.n, 4);
  ck_assert_int_eq(seen.out_of_order, 0);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_post_within_bounds_data_not_control)
{
  test_mail_t *data = new_mail(0, 2), *ctl = new_mail(0, 2);

  /* No bound of its own: each post says how many may wait. */
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  for (unsigned i = 0; i < 2; i++)
    ck_assert_int_eq(cay__mailbox_post_within(&mb, &new_mail(0, i)->mail, 2),
                     0);

  ck_assert_int_eq(cay__mailbox_post_within(&mb, &data->mail, 2), CAY_ELIMIT);
  ck_assert_ptr_null(data->mail.next);
  /* Control mail (no limit) still gets in behind the bounded data. */
  ck_assert_int_eq(cay__mailbox_post(&mb, &ctl->mail), 0);
  ck_assert_uint_eq(mb.pending, 3);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_eq(seen.n, 3);
  ck_assert_int_eq(seen.out_of_order, 0);
  /* Drained: there is room again. */
  data->seq = 3;
  ck_assert_int_eq(cay__mailbox_post_within(&mb, &data->mail, 2), 0);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_eq(seen.n, 4);
  ck_assert_int_eq(seen.out_of_order, 0);
  close_mailbox();
}
END_TEST

START_TEST(mailbox_post_after_close_returns_estate)
{
  test_mail_t *late = new_mail(0, 0);

  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  cay__mailbox_close(&mb, on_closed, &mb);

  ck_assert_int_eq(cay__mailbox_post(&mb, &late->mail), CAY_ESTATE);
  ck_assert_int_eq(closed_calls, 0); /* close_cb waits for the loop */
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed_calls, 1);
  ck_assert_uint_eq(seen.n, 0);
  cay__free(late); /* still the caller's */
}
END_TEST

START_TEST(mailbox_close_dispatches_what_was_posted)
{
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  for (unsigned i = 0; i < 5; i++)
    ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, i)->mail), 0);

  cay__mailbox_close(&mb, on_closed, &mb);

  ck_assert_uint_eq(seen.n, 5); /* dispatched by close itself */
  ck_assert_int_eq(seen.out_of_order, 0);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed_calls, 1);
  ck_assert_uint_eq(mb.drained, 5);
}
END_TEST

START_TEST(mailbox_post_from_dispatch_during_close_is_refused)
{
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, 0), 0);
  seen.post_from_dispatch = 1;
  ck_assert_int_eq(cay__mailbox_post(&mb, &new_mail(0, 0)->mail), 0);

  cay__mailbox_close(&mb, on_closed, &mb);

  ck_assert_int_eq(seen.repost_err, CAY_ESTATE);
  ck_assert_uint_eq(seen.n, 1);
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed_calls, 1);
}
END_TEST

/* ---- several producer threads, the consumer on the loop ---- */

typedef struct producer {
  pthread_t thread;
  int index;
  unsigned count;
  unsigned retries; /* CAY_ELIMIT answers, retried */
} producer_t;

static atomic_int give_up; /* set by the guard: producers stop retrying */
static int timed_out;

static void *
run_producer(void *arg)
{
  producer_t *p = arg;

  for (unsigned i = 0; i < p->count; i++) {
    test_mail_t *t = new_mail(p->index, i);
    int err;

    /* A full mailbox is back-pressure: retry until the owner drains. */
    while ((err = cay__mailbox_post(&mb, &t->mail)) == CAY_ELIMIT) {
      p->retries++;
      if (atomic_load(&give_up)) {
        cay__free(t);
        return NULL;
      }
      sched_yield();
    }
    ck_assert_int_eq(err, 0);
  }
  return NULL;
}

static void
on_guard(uv_timer_t *t)
{
  timed_out = 1;
  atomic_store(&give_up, 1);
  uv_stop(t->loop);
}

static void
run_producers(int nprod, unsigned each, size_t max_pending)
{
  producer_t prod[MAX_PRODUCERS];
  uv_timer_t guard;

  timed_out = 0;
  atomic_store(&give_up, 0);
  ck_assert_int_eq(cay__mailbox_init(&mb, &loop, on_mail, &seen, max_pending),
                   0);
  seen.expect_total = (size_t)nprod * each;
  ck_assert_int_eq(uv_timer_init(&loop, &guard), 0);
  ck_assert_int_eq(uv_timer_start(&guard, on_guard, GUARD_MS, 0), 0);
  for (int i = 0; i < nprod; i++) {
    prod[i] = (producer_t){ .index = i, .count = each };
    ck_assert_int_eq(
        pthread_create(&prod[i].thread, NULL, run_producer, &prod[i]), 0);
  }

  uv_run(&loop, UV_RUN_DEFAULT); /* until every mail or the guard */

  for (int i = 0; i < nprod; i++)
    ck_assert_int_eq(pthread_join(prod[i].thread, NULL), 0);
  uv_close((uv_handle_t *)&guard, NULL);
  close_mailbox(); /* dispatches any mail left after a time-out */
  ck_assert_int_eq(timed_out, 0);
  ck_assert_uint_eq(seen.n, seen.expect_total);
  ck_assert_int_eq(seen.out_of_order, 0);
  for (int i = 0; i < nprod; i++)
    ck_assert_uint_eq(seen.next_seq[i], each);
  ck_assert_uint_eq(mb.drained, seen.expect_total);
  ck_assert_uint_ge(mb.wakeups, 1);
  ck_assert_uint_le(mb.wakeups, seen.expect_total);
}

START_TEST(mailbox_four_producers_exactly_once_in_order)
{
  /* Every mail once, each producer's mails in posting order. */
  run_producers(4, 20000, 0);
}
END_TEST

START_TEST(mailbox_bounded_producers_retry_on_elimit)
{
  run_producers(2, 20000, 64);
}
END_TEST

static Suite *
mailbox_suite(void)
{
  Suite *s = suite_create("mailbox");
  TCase *tc = tcase_create("owner");

  tcase_add_checked_fixture(tc, setup_loop, teardown_loop);
  tcase_add_test(tc, mailbox_one_producer_keeps_order);
  tcase_add_test(tc, mailbox_one_wakeup_drains_whole_batch);
  tcase_add_test(tc, mailbox_post_from_dispatch_waits_for_next_wakeup);
  tcase_add_test(tc, mailbox_direct_drain_leaves_empty_wakeup_uncounted);
  tcase_add_test(tc, mailbox_full_returns_elimit_and_mail_stays_callers);
  tcase_add_test(tc, mailbox_post_within_bounds_data_not_control);
  tcase_add_test(tc, mailbox_post_after_close_returns_estate);
  tcase_add_test(tc, mailbox_close_dispatches_what_was_posted);
  tcase_add_test(tc, mailbox_post_from_dispatch_during_close_is_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("threads");
  tcase_add_checked_fixture(tc, setup_loop, teardown_loop);
  /* The uv_timer guard fails a stuck run after GUARD_MS; Check's own
   * timeout is only the last resort. */
  tcase_set_timeout(tc, 2 * GUARD_MS / 1000 + 10);
  tcase_add_test(tc, mailbox_four_producers_exactly_once_in_order);
  tcase_add_test(tc, mailbox_bounded_producers_retry_on_elimit);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(mailbox_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
