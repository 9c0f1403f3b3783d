/*
 * Timer heap of a shard (DESIGN.md rule 6).
 *
 * A binary min-heap of intrusive timers ordered by (due_ms, seq): timers due
 * at the same ms fire in the order they were started. O(log n) start/stop;
 * a timing wheel would be O(1) but needs a bounded horizon, and dialog max
 * durations of hours make that horizon large. The heap does not know about
 * clocks: the shard passes absolute due times and pops what is due.
 */
#ifndef CAY_SHARD_TIMER_H
#define CAY_SHARD_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct cay__timer cay__timer_t;
typedef void (*cay__timer_cb)(cay__timer_t *t);

struct cay__timer {
  uint64_t due_ms;   /* absolute time on the shard clock */
  uint64_t seq;      /* start order, breaks ties */
  size_t heap_index; /* position in the heap; CAY__TIMER_IDLE if not armed */
  cay__timer_cb cb;
  void *data; /* the owner object */
};

#define CAY__TIMER_IDLE ((size_t)-1)

typedef struct cay__timerheap {
  cay__timer_t **heap;
  size_t len, cap;
  uint64_t seq;
} cay__timerheap_t;

void cay__timer_init(cay__timer_t *t, cay__timer_cb cb, void *data);

static inline int
cay__timer_armed(const cay__timer_t *t)
{
  return t->heap_index != CAY__TIMER_IDLE;
}

int cay__timerheap_init(cay__timerheap_t *h);  /* 0 or -ENOMEM */
void cay__timerheap_fini(cay__timerheap_t *h); /* disarms what is left */
/** Arm @p t at @p due_ms; re-arms if already armed. @return 0 or -ENOMEM. */
int cay__timerheap_add(cay__timerheap_t *h, cay__timer_t *t, uint64_t due_ms);
/** Disarm @p t; a no-op if it is not armed. */
void cay__timerheap_remove(cay__timerheap_t *h, cay__timer_t *t);
/** Earliest timer, or NULL. */
cay__timer_t *cay__timerheap_peek(const cay__timerheap_t *h);
/** Remove and return the earliest timer if due_ms <= @p now, else NULL. */
cay__timer_t *cay__timerheap_pop_due(cay__timerheap_t *h, uint64_t now);

#endif
