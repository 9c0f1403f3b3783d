/*
 * Allocation shim for infrastructure memory (shards, tables, queues).
 *
 * Counts live allocations so that tests can prove nothing leaked, and can
 * make the n-th allocation fail so that tests can prove every -ENOMEM path.
 * Counters are atomic: shards on several threads may allocate.
 */
#ifndef CAY_CORE_ALLOC_H
#define CAY_CORE_ALLOC_H

#include <stddef.h>

void *cay__malloc(size_t n);
void *cay__calloc(size_t n, size_t size);
void *cay__realloc(void *p, size_t n);       /* realloc(NULL) counts as new */
void cay__free(void *p);                     /* NULL is a no-op */
char *cay__strndup(const char *s, size_t n); /* always NUL-terminates */
char *cay__strdup(const char *s);

/** Live allocations made through the shim (allocs minus frees). */
long cay__alloc_live(void);

/**
 * Test hook: the @p n-th allocation from now (1 = the next) returns NULL,
 * and only that one. @p n <= 0 disables.
 */
void cay__alloc_fail_nth(long n);

#endif
