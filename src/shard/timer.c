/*
 * Timer heap of a shard: a binary min-heap of timer pointers.
 *
 * Invariant: for every i > 0, heap[(i - 1) / 2] is not later than heap[i]
 * in (due_ms, seq) order, and heap[i]->heap_index == i. The back-pointer
 * lets a timer be removed from the middle in O(log n), which is the common
 * case: most SIP timers (A, B, E, F, 2xx retransmission) are cancelled by a
 * response long before they fire.
 */
#include "shard/timer.h"

#include <assert.h>
#include <errno.h>

#include "core/alloc.h"

/* Enough for the timers of a few hundred transactions before the first
 * realloc. */
#define TIMERHEAP_INITIAL_CAP 64u

static int
timer_before(const cay__timer_t *a, const cay__timer_t *b)
{
  if (a->due_ms != b->due_ms)
    return a->due_ms < b->due_ms;
  /* Same ms: the timer started first fires first. seq is unique per heap,
   * so two timers never compare equal and the order is total. */
  return a->seq < b->seq;
}

static void
place_timer(cay__timerheap_t *h, size_t i, cay__timer_t *t)
{
  h->heap[i] = t;
  t->heap_index = i;
}

/* Move the timer at @p i towards the root while it is earlier than its
 * parent. Returns its final position. */
static size_t
sift_up(cay__timerheap_t *h, size_t i)
{
  cay__timer_t *t = h->heap[i];

  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timer_before(t, h->heap[parent]))
      break;
    place_timer(h, i, h->heap[parent]);
    i = parent;
  }
  place_timer(h, i, t);
  return i;
}

/* Move the timer at @p i towards the leaves while a child is earlier. */
static void
sift_down(cay__timerheap_t *h, size_t i)
{
  cay__timer_t *t = h->heap[i];

  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= h->len)
      break;
    if (child + 1 < h->len && timer_before(h->heap[child + 1], h->heap[child]))
      child++;
    if (!timer_before(h->heap[child], t))
      break;
    place_timer(h, i, h->heap[child]);
    i = child;
  }
  place_timer(h, i, t);
}

/* Restore the invariant around @p i after its timer changed or was
 * replaced: it can only need to go one way. */
static void
fix_heap(cay__timerheap_t *h, size_t i)
{
  if (sift_up(h, i) == i)
    sift_down(h, i);
}

static int
grow_heap(cay__timerheap_t *h)
{
  if (h->cap > SIZE_MAX / 2 / sizeof *h->heap)
    return -ENOMEM;
  size_t cap = h->cap ? h->cap * 2 : TIMERHEAP_INITIAL_CAP;
  cay__timer_t **heap = cay__realloc(h->heap, cap * sizeof *heap);
  if (heap == NULL)
    return -ENOMEM; /* The old array is untouched and still in use. */
  h->heap = heap;
  h->cap = cap;
  return 0;
}

void
cay__timer_init(cay__timer_t *t, cay__timer_cb cb, void *data)
{
  t->due_ms = 0;
  t->seq = 0;
  t->heap_index = CAY__TIMER_IDLE;
  t->cb = cb;
  t->data = data;
}

int
cay__timerheap_init(cay__timerheap_t *h)
{
  h->heap = NULL;
  h->len = 0;
  h->cap = 0;
  h->seq = 0;
  return grow_heap(h);
}

void
cay__timerheap_fini(cay__timerheap_t *h)
{
  /* The timers belong to their owners, who may outlive the heap during a
   * shard's teardown: leave each one idle, so a later remove is a no-op. */
  for (size_t i = 0; i < h->len; i++)
    h->heap[i]->heap_index = CAY__TIMER_IDLE;
  cay__free(h->heap);
  h->heap = NULL;
  h->len = 0;
  h->cap = 0;
}

int
cay__timerheap_add(cay__timerheap_t *h, cay__timer_t *t, uint64_t due_ms)
{
  t->due_ms = due_ms;
  /* A re-armed timer counts as started now, so it goes after the timers
   * started before this call that are due at the same ms. */
  t->seq = h->seq++;
  if (cay__timer_armed(t)) {
    assert(t->heap_index < h->len && h->heap[t->heap_index] == t);
    /* Already in the heap: move it in place, no allocation, cannot fail. */
    fix_heap(h, t->heap_index);
    return 0;
  }
  if (h->len == h->cap) {
    int err = grow_heap(h);
    if (err)
      return err; /* t stays idle. */
  }
  h->heap[h->len] = t;
  sift_up(h, h->len++);
  return 0;
}

void
cay__timerheap_remove(cay__timerheap_t *h, cay__timer_t *t)
{
  if (!cay__timer_armed(t))
    return;
  size_t i = t->heap_index;
  assert(i < h->len && h->heap[i] == t); /* t must belong to this heap. */
  t->heap_index = CAY__TIMER_IDLE;
  cay__timer_t *last = h->heap[--h->len];
  if (i == h->len)
    return; /* t was the last element: nothing to refill. */
  /* Fill the hole with the last timer; it may belong above or below. */
  place_timer(h, i, last);
  fix_heap(h, i);
}

cay__timer_t *
cay__timerheap_peek(const cay__timerheap_t *h)
{
  return h->len ? h->heap[0] : NULL;
}

cay__timer_t *
cay__timerheap_pop_due(cay__timerheap_t *h, uint64_t now)
{
  cay__timer_t *t = cay__timerheap_peek(h);

  if (t == NULL || t->due_ms > now)
    return NULL;
  cay__timerheap_remove(h, t);
  return t;
}
