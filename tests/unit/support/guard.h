/*
 * Bounded waits on a real libuv loop for the fixtures that run one
 * (tcp_fixture.h, dns_fixture.h): a uv_timer guard and RUN_UNTIL. The
 * including fixture defines `static uv_loop_t loop;` before including
 * this header. Nothing sleeps.
 */
#ifndef CAY_TEST_GUARD_H
#define CAY_TEST_GUARD_H

#include <check.h>
#include <stdint.h>
#include <uv.h>

struct guard {
  uv_timer_t t;
  int fired;
};

static inline void
on_guard(uv_timer_t *t)
{
  ((struct guard *)t->data)->fired = 1;
}

static inline void
guard_start(struct guard *g, uint64_t ms)
{
  g->fired = 0;
  ck_assert_int_eq(uv_timer_init(&loop, &g->t), 0);
  g->t.data = g;
  ck_assert_int_eq(uv_timer_start(&g->t, on_guard, ms, 0), 0);
}

static inline void
guard_stop(struct guard *g)
{
  uv_close((uv_handle_t *)&g->t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* Run the loop until @p cond holds or @p ms pass. A callback that makes
 * @p cond true from a timer calls uv_stop(): libuv 1.44's UV_RUN_ONCE
 * runs the due timers first, then polls until the next one (here the
 * guard) unless the loop is stopped. */
#define RUN_UNTIL(cond, ms)                                                    \
  do {                                                                         \
    struct guard g_;                                                           \
    guard_start(&g_, (ms));                                                    \
    while (!(cond) && !g_.fired)                                               \
      uv_run(&loop, UV_RUN_ONCE);                                              \
    guard_stop(&g_);                                                           \
  } while (0)

#endif
