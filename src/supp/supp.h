/*
 * The supplement registry (cay/supp.h): frozen at start, read by every
 * shard without locks. It plugs into the endpoint's hooks (sip/txn.h).
 */
#ifndef CAY_SUPP_SUPP_H
#define CAY_SUPP_SUPP_H

#include "cay/supp.h"
#include "sip/txn.h"

#define CAY__MAX_SUPPS        64
#define CAY__MAX_SUPP_METHODS 8

typedef struct cay__supp_entry {
  cay_supp_t d;
  unsigned order;     /* registration order, for ties */
  unsigned n_methods; /* 0: every method */
  char methods[CAY__MAX_SUPP_METHODS][16];
} cay__supp_entry_t;

typedef struct cay__supps {
  cay__supp_entry_t list[CAY__MAX_SUPPS];
  unsigned n;
  int frozen;
} cay__supps_t;

/** Add a copy of @p d. @return 0, CAY_ESTATE (frozen), -EINVAL, CAY_ELIMIT. */
int cay__supps_add(cay__supps_t *s, const cay_supp_t *d);
/** Sort by (priority, registration) and freeze. */
void cay__supps_freeze(cay__supps_t *s);
/** Plug the registry into an endpoint's hooks (@p s must outlive it). */
void cay__supps_attach(const cay__supps_t *s, cay__endpoint_t *ep);

#endif
