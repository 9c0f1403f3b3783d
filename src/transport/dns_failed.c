/* The resolver's memory of targets that did not answer (dns.h,
 * cay__dns_target_failed()): their addresses kept in a second cache
 * (dns_cache.h, an entry without data per address, for failed_target_s),
 * what is learnt passed to the other shards (cay__dns_opts_t.share) and
 * what they learnt taken in (cay__dns_target_learn()), and each lookup's
 * targets ordered by it before they are given out. */
#include <string.h>

#include "transport/dns_int.h"

#define FAILED 0x20000 /* the memory's one key type */

/* Whether @p addr (keyed "IP:PORT") is remembered and not expired. */
static int
is_failed(cay__dns_t *d, const cay__addr_t *addr)
{
  char name[64];

  return cay__addr_format(addr, name, sizeof name) == 0
         && cay__dns_cache_get(d->failed, FAILED, name, uv_now(d->loop), NULL,
                               NULL, NULL)
                == 1;
}

/* Remember @p addr for @p for_s seconds (0 or longer: failed_target_s),
 * from now. Sets *kept_s to the seconds kept; returns 1 when it was not
 * remembered before, 0 when it was or when it cannot be. */
static int
remember(cay__dns_t *d, const cay__addr_t *addr, unsigned for_s,
         unsigned *kept_s)
{
  char name[64];
  int known;

  *kept_s = 0;
  if (d->failed == NULL || cay__addr_format(addr, name, sizeof name) != 0)
    return 0;
  if (for_s == 0 || for_s > d->failed_target_s)
    for_s = d->failed_target_s;
  known = is_failed(d, addr);
  if (cay__dns_cache_put(d->failed, FAILED, name, 0, NULL, 0, for_s,
                         uv_now(d->loop))
      != 1)
    return 0;
  *kept_s = for_s;
  return !known;
}

/* Forget @p addr; 1 when it was remembered. */
static int
forget(cay__dns_t *d, const cay__addr_t *addr)
{
  char name[64];

  if (d->failed == NULL || cay__dns_cache_count(d->failed) == 0
      || cay__addr_format(addr, name, sizeof name) != 0)
    return 0;
  return cay__dns_cache_remove(d->failed, FAILED, name);
}

int
cay__dns_target_failed(cay__dns_t *d, const cay__addr_t *addr, unsigned for_s)
{
  unsigned kept_s;
  int fresh = remember(d, addr, for_s, &kept_s);

  if (kept_s && d->share)
    d->share(d->share_arg, addr, kept_s);
  return fresh;
}

int
cay__dns_target_answered(cay__dns_t *d, const cay__addr_t *addr)
{
  if (!forget(d, addr))
    return 0;
  if (d->share)
    d->share(d->share_arg, addr, 0);
  return 1;
}

int
cay__dns_target_learn(cay__dns_t *d, const cay__addr_t *addr, unsigned for_s)
{
  unsigned kept_s;

  return for_s ? remember(d, addr, for_s, &kept_s) : forget(d, addr);
}

void
cay__dns_order_failed(cay__dns_t *d, cay__dns_target_t *t, size_t n)
{
  cay__dns_target_t later[CAY__DNS_MAX_TARGETS];
  size_t kept = 0, moved = 0;

  if (d->failed == NULL || n < 2 || n > CAY__DNS_MAX_TARGETS
      || cay__dns_cache_count(d->failed) == 0)
    return;
  /* A stable partition: the others in their order, then the failed ones
   * in theirs. */
  for (size_t i = 0; i < n; i++) {
    if (is_failed(d, &t[i].addr))
      later[moved++] = t[i];
    else
      t[kept++] = t[i];
  }
  memcpy(t + kept, later, moved * sizeof *t);
}
