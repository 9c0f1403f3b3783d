/*
 * ns per timer heap insert and per cancel (src/shard/timer.h) with the heap
 * already holding 10,000 timers, about the load of one shard running 150
 * calls/s with its transactions' timers armed.
 *
 * Each repeat arms a batch of timers at pseudo-random due times, then
 * cancels the same batch in a shuffled order: cancelling from the middle
 * of the heap is the common case for SIP timers (a response stops timers
 * A/B/E/F long before they fire).
 */
#include "micro.h"

#include "shard/timer.h"

#define BACKGROUND 10000
#define BATCH      10000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: cheap, deterministic, good enough for due times. */
static uint64_t
next_rand(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static void
on_fire(cay__timer_t *t)
{
  (void)t;
}

static void
fail(const char *what)
{
  fprintf(stderr, "timer_heap: %s\n", what);
  exit(1);
}

int
main(int argc, char **argv)
{
  static cay__timer_t background[BACKGROUND], batch[BATCH];
  static uint64_t due[BATCH];
  static size_t order[BATCH];
  double ins_ns[MICRO_MAX_REPS], del_ns[MICRO_MAX_REPS];
  cay__timerheap_t h;
  micro_opts_t o;
  long batch_len;
  int reps;

  micro_opts_parse(argc, argv, &o, BATCH);
  batch_len = o.iters;
  reps = o.reps < MICRO_MAX_REPS ? o.reps : MICRO_MAX_REPS;
  if (cay__timerheap_init(&h) != 0)
    fail("no memory");
  /* Timers of live transactions and dialogs: due in the next 64 s. */
  for (size_t i = 0; i < BACKGROUND; i++) {
    cay__timer_init(&background[i], on_fire, NULL);
    if (cay__timerheap_add(&h, &background[i], next_rand() % 64000) != 0)
      fail("no memory");
  }
  for (long i = 0; i < batch_len; i++) {
    cay__timer_init(&batch[i], on_fire, NULL);
    due[i] = next_rand() % 64000;
    order[i] = (size_t)i;
  }
  /* Fisher-Yates: cancel in an order unrelated to the insert order. */
  for (long i = batch_len - 1; i > 0; i--) {
    size_t j = next_rand() % (uint64_t)(i + 1), tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  /* Round 0 warms up (the heap array grows to its final size). */
  for (int r = -1; r < reps; r++) {
    uint64_t t0 = micro_now_ns(), t1, t2;

    for (long i = 0; i < batch_len; i++)
      if (cay__timerheap_add(&h, &batch[i], due[i]) != 0)
        fail("no memory");
    t1 = micro_now_ns();
    for (long i = 0; i < batch_len; i++)
      cay__timerheap_remove(&h, &batch[order[i]]);
    t2 = micro_now_ns();
    if (h.len != BACKGROUND)
      fail("heap size changed");
    if (r >= 0) {
      ins_ns[r] = (double)(t1 - t0) / (double)batch_len;
      del_ns[r] = (double)(t2 - t1) / (double)batch_len;
    }
  }
  micro_report("timer_insert", ins_ns, reps, batch_len);
  micro_report("timer_cancel", del_ns, reps, batch_len);
  cay__timerheap_fini(&h);
  return 0;
}
