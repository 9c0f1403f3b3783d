/*
 * Merged MESSAGEs (RFC 3261 section 8.2.2.2) for the relay of pager.c: a
 * MESSAGE without a To tag that no server transaction matched, but whose
 * Call-ID, From tag and CSeq are those of a MESSAGE Cay relays, is the
 * same request come by another path (a forking proxy upstream, two
 * routes to Cay): it gets 482, and the target gets it once.
 *
 * "Ongoing transactions" here are the sender's server transactions of
 * the MESSAGEs relayed: while the relay waits for a target (Trying,
 * Proceeding), and once answered while the transaction stays Completed
 * (timer J: 64*T1 over UDP, none over a reliable transport, where it
 * ends at once). The transaction layer has no index by Call-ID, From tag
 * and CSeq, and keeps no request past the final response, so each relay
 * leaves a small record of its own:
 *
 * - its identity is a keyed 64-bit hash (SipHash under a random key of
 *   the shard) of the Call-ID, From tag and CSeq number, also the hash
 *   table's key: nobody can make another MESSAGE collide with it on
 *   purpose, and by chance one of n records collides with probability
 *   n / 2^64, the trade-off txn_accepted.c makes for INVITEs. Keeping
 *   the strings would cost 100 bytes or more per record;
 * - it names the sender's server transaction by id, and matches only
 *   while that transaction still resolves (cay__txn_lookup()): the
 *   transaction layer alone says when it is over;
 * - once its relay has answered, it goes to the tail of a list in the
 *   order of the answers, which is the order their timers J end (the
 *   same 64*T1 for all), and is freed from the head when its
 *   transaction is gone, on each new MESSAGE and each answer: O(1)
 *   amortised, no timer (one whose transaction ended at once, over a
 *   reliable transport, no longer matches, and waits behind older ones
 *   to be freed). At most MERGE_ANSWERED_MAX answered records
 *   are kept (the oldest go first, and a copy of those is then relayed
 *   again): about 4 MiB per shard at most, beside the far larger
 *   Completed transactions themselves.
 *
 * A record of a relay in flight is always kept: those are bounded by the
 * transactions without a final response (limits.max_transactions).
 */
#include "b2bua/pager.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/rand.h"

#define MERGE_ANSWERED_MAX 65536u

typedef struct cay__merge_rec {
  cay__hnode_t hnode;          /* in m->tab; hnode.hash is the identity */
  struct cay__merge_rec *next; /* m->head list (answered), oldest first */
  cay_id_t in;                 /* the sender's server transaction */
} merge_rec_t;

struct cay__pager_merge {
  cay__htab_t tab;
  merge_rec_t *head, *tail; /* answered records, in the order answered */
  unsigned n_answered;
  uint8_t key[CAY__HASH_KEYBYTES];
};

/* The identity of MESSAGE @p sip under @p key: its Call-ID, From tag and
 * CSeq number. */
static uint64_t
merge_hash(const uint8_t *key, const sip_t *sip)
{
  const char *cid = sip->sip_call_id->i_id;
  const char *tag = sip->sip_from->a_tag ? sip->sip_from->a_tag : "";
  uint64_t v[3];

  v[0] = cay__hash_keyed(key, cid, strlen(cid));
  v[1] = cay__hash_keyed(key, tag, strlen(tag));
  v[2] = sip->sip_cseq->cs_seq;
  return cay__hash_keyed(key, v, sizeof v);
}

/* The shard's table, made at the first relay. NULL without memory. */
static struct cay__pager_merge *
merge_table(cay__sessions_t *ss)
{
  struct cay__pager_merge *m = ss->pager_merge;

  if (m)
    return m;
  if ((m = cay__calloc(1, sizeof *m)) == NULL)
    return NULL;
  if (cay__htab_init(&m->tab, 64) != 0) {
    cay__free(m);
    return NULL;
  }
  cay__rand_bytes(&ss->shard->rand, m->key, sizeof m->key);
  ss->pager_merge = m;
  return m;
}

/* Free the oldest answered records whose transaction is gone, and any
 * over MERGE_ANSWERED_MAX. */
static void
sweep(cay__sessions_t *ss, struct cay__pager_merge *m)
{
  merge_rec_t *r;

  while ((r = m->head) != NULL
         && (m->n_answered > MERGE_ANSWERED_MAX
             || cay__txn_lookup(ss->ep, r->in) == NULL)) {
    m->head = r->next;
    if (m->head == NULL)
      m->tail = NULL;
    m->n_answered--;
    cay__htab_remove(&m->tab, &r->hnode);
    cay__free(r);
  }
}

int
cay__pager_merged(cay__sessions_t *ss, const sip_t *sip)
{
  struct cay__pager_merge *m = ss->pager_merge;
  uint64_t h;

  if (m == NULL || sip->sip_to->a_tag || sip->sip_cseq == NULL)
    return 0;
  sweep(ss, m);
  h = merge_hash(m->key, sip);
  for (cay__hnode_t *n = cay__htab_first(&m->tab, h); n;
       n = cay__htab_next(n)) {
    const merge_rec_t *r = (const merge_rec_t *)n; /* hnode is first */
    if (cay__txn_lookup(ss->ep, r->in) != NULL)
      return 1;
  }
  return 0;
}

struct cay__merge_rec *
cay__pager_merge_add(cay__sessions_t *ss, const sip_t *sip, cay_id_t in)
{
  struct cay__pager_merge *m = merge_table(ss);
  merge_rec_t *r;

  if (m == NULL || (r = cay__calloc(1, sizeof *r)) == NULL)
    return NULL;
  r->in = in;
  cay__htab_insert(&m->tab, &r->hnode, merge_hash(m->key, sip));
  return r;
}

void
cay__pager_merge_done(cay__sessions_t *ss, struct cay__merge_rec *r)
{
  struct cay__pager_merge *m = ss->pager_merge;

  if (r == NULL)
    return;
  if (cay__txn_lookup(ss->ep, r->in) == NULL) {
    /* The sender's transaction is over: nothing to merge with. */
    cay__htab_remove(&m->tab, &r->hnode);
    cay__free(r);
    return;
  }
  /* Answered: Completed until timer J. */
  r->next = NULL;
  if (m->tail)
    m->tail->next = r;
  else
    m->head = r;
  m->tail = r;
  m->n_answered++;
  sweep(ss, m);
}

void
cay__pager_merge_fini(cay__sessions_t *ss)
{
  struct cay__pager_merge *m = ss->pager_merge;

  if (m == NULL)
    return;
  /* The relays are gone (cay__pager_fini()): every record is answered. */
  while (m->head) {
    merge_rec_t *r = m->head;
    m->head = r->next;
    cay__htab_remove(&m->tab, &r->hnode);
    cay__free(r);
  }
  cay__htab_fini(&m->tab);
  cay__free(m);
  ss->pager_merge = NULL;
}
