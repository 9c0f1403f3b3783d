/*
 * A shard: one thread, one libuv loop, and everything it owns (DESIGN.md
 * section 1). This layer is the runtime only: the clock, the timer heap
 * driven by one uv_timer_t, the id table, deferred free, the random
 * generator and the counters. The SIP layers keep their per-shard state in
 * their own objects, which point at the shard.
 *
 * Clock: real (uv_now of the loop) or virtual (tests). In virtual mode no
 * uv_timer is armed; time moves only through cay__shard_advance().
 *
 * Death is synchronous, burial deferred (rule 5): an object that dies during
 * an event queues its memory with cay__shard_defer(); cay__shard_flush()
 * frees the queue once the event has been fully dispatched. Every top-level
 * callback (receive, timer) ends with a flush.
 */
#ifndef CAY_SHARD_SHARD_H
#define CAY_SHARD_SHARD_H

#include <stdint.h>
#include <uv.h>

#include "cay/server.h"
#include "core/id.h"
#include "core/rand.h"
#include "shard/timer.h"

typedef struct cay__defer cay__defer_t;
typedef void (*cay__defer_fn)(cay__defer_t *d);

/** Intrusive node for deferred free; embed it in the object. */
struct cay__defer {
  cay__defer_t *next;
  cay__defer_fn fn;
};

typedef struct cay__shard {
  unsigned index;
  uv_loop_t *loop;
  int virtual_clock;
  uint64_t vnow_ms; /* virtual clock, ms */
  cay__timerheap_t timers;
  uv_timer_t uv_timer; /* real clock only */
  uint64_t armed_due;  /* due time the uv_timer is armed for, or UINT64_MAX */
  int uv_timer_open;
  cay__idtab_t ids;
  cay__rand_t rand;
  cay__defer_t *deferred; /* LIFO of objects to free after this event */
  cay_stats_t stats;
  int backlogged; /* 1 while a message read from a backlog is handled (a
                     UDP receive queue over limits.udp_overload_percent, a
                     TCP connection over limits.tcp_overload_kib, on this
                     shard or the one that read it): a new INVITE in it
                     gets 503 (DESIGN.md section 7) */
} cay__shard_t;

/**
 * Count a bridged call's session request delay of @p ms (RFC 6076
 * section 4.2.1) in @p st's srd_ histogram (cay_stats_t).
 * @thread the shard's
 */
void cay__stats_srd(cay_stats_t *st, uint64_t ms);

/**
 * Initialise a shard on @p loop. @p virtual_clock != 0 makes time move only
 * by cay__shard_advance() (tests); the clock then starts at 1,000,000 ms so
 * that "0" never looks like a valid time.
 *
 * @return 0, -ENOMEM, or -errno from seeding the random generator.
 * @thread owner
 */
int cay__shard_init(cay__shard_t *s, uv_loop_t *loop, unsigned index,
                    int virtual_clock);

/**
 * Release what the shard holds: disarm timers, flush deferred frees, close
 * the uv_timer. With a real clock the timer closes asynchronously: @p cb
 * runs (with the handle's data set to @p data) once it is closed, and @p s
 * must stay allocated until then.
 *
 * @return 1 when @p cb will be called, 0 when nothing was left to close
 *         (virtual clock).
 * @thread owner
 */
int cay__shard_fini(cay__shard_t *s, uv_close_cb cb, void *data);

/** Current time on the shard clock, ms. */
uint64_t cay__shard_now(const cay__shard_t *s);

/**
 * Arm @p t to fire @p delay_ms from now (re-arms an armed timer).
 * @return 0 or -ENOMEM (the timer is then not armed).
 * @thread owner
 */
int cay__shard_timer_start(cay__shard_t *s, cay__timer_t *t, uint64_t delay_ms);

/** Disarm @p t; no-op when idle. @thread owner */
void cay__shard_timer_stop(cay__shard_t *s, cay__timer_t *t);

/**
 * Virtual clock only: move time forward by @p ms, firing every timer that
 * falls due, in due order, each at its own due time; then flush.
 * @thread owner
 */
void cay__shard_advance(cay__shard_t *s, uint64_t ms);

/** Queue @p d's object for freeing after the current event. */
void cay__shard_defer(cay__shard_t *s, cay__defer_t *d, cay__defer_fn fn);

/** Free everything deferred so far (end of an event). */
void cay__shard_flush(cay__shard_t *s);

/** Fire the timers due at the current real time, flush, re-arm. */
void cay__shard_run_timers(cay__shard_t *s);

#endif
