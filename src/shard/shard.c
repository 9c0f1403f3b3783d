/* Shard runtime: clock, timers on one uv_timer_t, deferred free. */
#include "shard/shard.h"

#include <string.h>

#include "core/log.h"

#define VIRTUAL_EPOCH_MS 1000000u

static void rearm(cay__shard_t *s);

static void
on_uv_timer(uv_timer_t *h)
{
  cay__shard_t *s = h->data;

  s->armed_due = UINT64_MAX;
  cay__shard_run_timers(s);
}

int
cay__shard_init(cay__shard_t *s, uv_loop_t *loop, unsigned index,
                int virtual_clock)
{
  int err;

  memset(s, 0, sizeof *s);
  s->index = index;
  s->loop = loop;
  s->virtual_clock = virtual_clock;
  s->vnow_ms = VIRTUAL_EPOCH_MS;
  s->armed_due = UINT64_MAX;
  err = cay__timerheap_init(&s->timers);
  if (err)
    return err;
  err = cay__idtab_init(&s->ids, index);
  if (err)
    goto fail_ids;
  err = cay__rand_init(&s->rand);
  if (err)
    goto fail_rand;
  if (!virtual_clock) {
    err = uv_timer_init(loop, &s->uv_timer);
    if (err)
      goto fail_rand;
    s->uv_timer.data = s;
    s->uv_timer_open = 1;
  }
  return 0;

fail_rand:
  cay__idtab_fini(&s->ids);
fail_ids:
  cay__timerheap_fini(&s->timers);
  return err;
}

int
cay__shard_fini(cay__shard_t *s, uv_close_cb cb, void *data)
{
  cay__shard_flush(s);
  cay__timerheap_fini(&s->timers);
  cay__idtab_fini(&s->ids);
  if (!s->uv_timer_open)
    return 0;
  uv_timer_stop(&s->uv_timer);
  s->uv_timer.data = data;
  uv_close((uv_handle_t *)&s->uv_timer, cb);
  s->uv_timer_open = 0;
  return 1;
}

uint64_t
cay__shard_now(const cay__shard_t *s)
{
  return s->virtual_clock ? s->vnow_ms : uv_now(s->loop);
}

void
cay__stats_srd(cay_stats_t *st, uint64_t ms)
{
  /* The bounds of the srd_le_ counters, in their order (the metrics'
   * le labels, server_stats.c). */
  static const uint64_t le_ms[]
      = { 50, 100, 250, 500, 1000, 2500, 5000, 10000 };
  uint64_t *const le[]
      = { &st->srd_le_50ms,  &st->srd_le_100ms, &st->srd_le_250ms,
          &st->srd_le_500ms, &st->srd_le_1s,    &st->srd_le_2500ms,
          &st->srd_le_5s,    &st->srd_le_10s };

  for (unsigned i = 0; i < sizeof le_ms / sizeof le_ms[0]; i++)
    *le[i] += ms <= le_ms[i];
  st->srd_ms_sum += ms;
  st->srd_count++;
}

/* Arm the uv_timer for the earliest due timer, only when that moved
 * earlier than what the uv_timer is armed for: most timers are started
 * later than the earliest and cost no syscall-free libuv work at all. */
static void
rearm(cay__shard_t *s)
{
  cay__timer_t *first;
  uint64_t now;

  if (s->virtual_clock || !s->uv_timer_open)
    return;
  first = cay__timerheap_peek(&s->timers);
  if (first == NULL || first->due_ms >= s->armed_due)
    return;
  now = uv_now(s->loop);
  uv_timer_start(&s->uv_timer, on_uv_timer,
                 first->due_ms > now ? first->due_ms - now : 0, 0);
  s->armed_due = first->due_ms;
}

int
cay__shard_timer_start(cay__shard_t *s, cay__timer_t *t, uint64_t delay_ms)
{
  int err = cay__timerheap_add(&s->timers, t, cay__shard_now(s) + delay_ms);
  if (err)
    return err;
  rearm(s);
  return 0;
}

void
cay__shard_timer_stop(cay__shard_t *s, cay__timer_t *t)
{
  /* The uv_timer may stay armed for a timer that is gone: when it fires,
   * nothing is due and it is re-armed for the next one. Cheaper than
   * re-arming on every stop. */
  cay__timerheap_remove(&s->timers, t);
}

void
cay__shard_run_timers(cay__shard_t *s)
{
  cay__timer_t *t;
  uint64_t now = cay__shard_now(s);

  /* A callback may start timers due now; they fire in this same pass, in
   * (due, start order). */
  while ((t = cay__timerheap_pop_due(&s->timers, now)) != NULL) {
    t->cb(t);
    cay__shard_flush(s);
  }
  rearm(s);
}

void
cay__shard_advance(cay__shard_t *s, uint64_t ms)
{
  uint64_t target = s->vnow_ms + ms;
  cay__timer_t *t;

  while ((t = cay__timerheap_peek(&s->timers)) != NULL && t->due_ms <= target) {
    if (t->due_ms > s->vnow_ms)
      s->vnow_ms = t->due_ms;
    t = cay__timerheap_pop_due(&s->timers, s->vnow_ms);
    t->cb(t);
    cay__shard_flush(s);
  }
  s->vnow_ms = target;
  cay__shard_flush(s);
}

void
cay__shard_defer(cay__shard_t *s, cay__defer_t *d, cay__defer_fn fn)
{
  d->fn = fn;
  d->next = s->deferred;
  s->deferred = d;
}

void
cay__shard_flush(cay__shard_t *s)
{
  /* A free function may defer more (an object owning another): loop until
   * the list stays empty. */
  while (s->deferred) {
    cay__defer_t *d = s->deferred;
    s->deferred = d->next;
    d->fn(d);
  }
}
