/* Allocation shim: counts live allocations, can fail the n-th one. */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long live_allocs;
static atomic_long fail_countdown; /* > 0: allocations left before failing */

static int
should_fail(void)
{
  long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
  if (n <= 0)
    return 0;
  /* Exactly one allocation sees the countdown go from 1 to 0. */
  return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *
cay__malloc(size_t n)
{
  if (should_fail())
    return NULL;
  void *p = malloc(n ? n : 1);
  if (p)
    atomic_fetch_add_explicit(&live_allocs, 1, memory_order_relaxed);
  return p;
}

void *
cay__calloc(size_t n, size_t size)
{
  if (should_fail())
    return NULL;
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p)
    atomic_fetch_add_explicit(&live_allocs, 1, memory_order_relaxed);
  return p;
}

void *
cay__realloc(void *p, size_t n)
{
  if (p == NULL)
    return cay__malloc(n);
  if (should_fail())
    return NULL;
  return realloc(p, n ? n : 1);
}

void
cay__free(void *p)
{
  if (p == NULL)
    return;
  atomic_fetch_sub_explicit(&live_allocs, 1, memory_order_relaxed);
  free(p);
}

char *
cay__strndup(const char *s, size_t n)
{
  char *d = cay__malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

char *
cay__strdup(const char *s)
{
  return cay__strndup(s, strlen(s));
}

long
cay__alloc_live(void)
{
  return atomic_load(&live_allocs);
}

void
cay__alloc_fail_nth(long n)
{
  atomic_store(&fail_countdown, n > 0 ? n : 0);
}
