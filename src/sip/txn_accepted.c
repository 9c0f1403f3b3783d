/*
 * INVITE server transactions in RFC 6026's Accepted state (section 7.1)
 * as small entries: after the 2xx the transaction itself is freed and an
 * entry (keyed hash of the matching key, the TU's id, Timer L's due time)
 * absorbs retransmitted INVITEs and passes ACKs to the TU until 64*T1.
 * Entries live in one ring per endpoint, oldest first (Timer L is the
 * same for all), with one endpoint timer for the oldest. Also the one
 * thing an INVITE client transaction remembers in Accepted (section 7.2):
 * the To tag of its first 2xx.
 */
#include "sip/txn_int.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

/* -- Accepted entries (RFC 6026 section 7.1, txn_int.h) ----------------- */

/* Has a due time on the 32-bit clock passed? Differences stay far below
 * 2^31 ms (timer L is 64*T1), so wrap-around does not matter. */
static int
due_passed(uint32_t due, uint64_t now)
{
  return (int32_t)((uint32_t)now - due) >= 0;
}

/* Arm timer L for the oldest entry. Without memory for the timer heap it
 * stays unarmed; the next entry tries again, and until then the entries
 * only live longer, which absorbs retransmissions for longer. */
static void
arm_accepted(cay__endpoint_t *ep)
{
  uint64_t now = cay__shard_now(ep->shard);
  const cay__acc_ent_t *e;
  uint64_t delay;

  if (ep->accepted.count == 0)
    return;
  e = &ep->accepted.ents[ep->accepted.head];
  if (due_passed(e->due_ms, now))
    delay = 0;
  else
    delay = (uint32_t)(e->due_ms - (uint32_t)now);
  if (cay__shard_timer_start(ep->shard, &ep->accepted.timer, delay) != 0)
    CAY_WARN((int)ep->shard->index, "no memory for timer L");
}

/* Put entry @p i at the head of its bucket's chain (the index of a ring of
 * @p cap entries, one bucket per entry). */
static void
link_ent(cay__acc_ent_t *ents, uint32_t *buckets, uint32_t cap, uint32_t i)
{
  uint32_t b = (uint32_t)ents[i].hash & (cap - 1);

  ents[i].next = buckets[b];
  buckets[b] = i + 1;
}

/* Double the ring (first use: 256 entries) and rebuild the index with one
 * bucket per entry. On failure the old ring stays as it was. */
static int
grow_accepted(cay__endpoint_t *ep)
{
  uint32_t cap = ep->accepted.cap ? ep->accepted.cap * 2 : 256;
  cay__acc_ent_t *ents;
  uint32_t *buckets;

  if (cap == 0 || cap > UINT32_MAX / 2)
    return -ENOMEM;
  ents = cay__malloc((size_t)cap * sizeof *ents);
  buckets = cay__calloc(cap, sizeof *buckets);
  if (ents == NULL || buckets == NULL) {
    cay__free(ents);
    cay__free(buckets);
    return -ENOMEM;
  }
  for (uint32_t i = 0; i < ep->accepted.count; i++) {
    ents[i]
        = ep->accepted.ents[(ep->accepted.head + i) & (ep->accepted.cap - 1)];
    link_ent(ents, buckets, cap, i);
  }
  cay__free(ep->accepted.ents);
  cay__free(ep->accepted.buckets);
  ep->accepted.ents = ents;
  ep->accepted.buckets = buckets;
  ep->accepted.cap = cap;
  ep->accepted.head = 0;
  return 0;
}

/* INVITE server transaction @p t sent its first 2xx: carry on as an
 * entry and let the full transaction go. Returns -ENOMEM when there is no
 * memory for the entry; @p t then stays as it is, with its own timer L. */
int
cay__txn_move_to_accepted(cay__txn_t *t)
{
  cay__endpoint_t *ep = t->ep;
  uint32_t i;
  cay__acc_ent_t *e;

  if (ep->accepted.count == ep->accepted.cap && grow_accepted(ep) != 0)
    return -ENOMEM;
  i = (ep->accepted.head + ep->accepted.count) & (ep->accepted.cap - 1);
  e = &ep->accepted.ents[i];
  e->hash = cay__accepted_hash(ep, t->key, t->keylen);
  e->tu_id = t->tu_id;
  /* RFC 6026 section 7.1: timer L = 64*T1, on every transport. Every
   * entry waits the same time, so the ring stays in due order (a change
   * of T1 at run time could only make a few entries wait longer). */
  e->due_ms = (uint32_t)(cay__shard_now(ep->shard) + 64ull * ep->t1_ms);
  link_ent(ep->accepted.ents, ep->accepted.buckets, ep->accepted.cap, i);
  ep->accepted.count++;
  if (!cay__timer_armed(&ep->accepted.timer))
    arm_accepted(ep);
  /* The transaction ends here, but its entry counts as live
   * (ep->live_txns) until timer L. The TU may still look at @p t until the
   * end of this event (its state stays Accepted), never by its id. */
  t->moved = 1;
  cay__shard_timer_stop(ep->shard, &t->t_retx);
  cay__shard_timer_stop(ep->shard, &t->t_end);
  cay__shard_timer_stop(ep->shard, &t->t_wait);
  cay__htab_remove(&ep->server_txns, &t->hnode);
  cay__idtab_remove(&ep->shard->ids, t->id);
  cay__shard_defer(ep->shard, &t->defer, cay__txn_free_deferred);
  return 0;
}

uint64_t
cay__accepted_hash(const cay__endpoint_t *ep, const char *key, size_t keylen)
{
  return cay__hash_keyed(ep->accepted.key, key, keylen);
}

const cay__acc_ent_t *
cay__accepted_find(const cay__endpoint_t *ep, const char *key, size_t keylen)
{
  uint64_t hash;
  uint32_t i;

  if (ep->accepted.count == 0)
    return NULL; /* spares the hash when nothing is Accepted */
  hash = cay__accepted_hash(ep, key, keylen);
  i = ep->accepted.buckets[(uint32_t)hash & (ep->accepted.cap - 1)];
  for (; i != 0; i = ep->accepted.ents[i - 1].next) {
    /* Equal keyed hashes stand for equal keys (txn_int.h). */
    if (ep->accepted.ents[i - 1].hash == hash)
      return &ep->accepted.ents[i - 1];
  }
  return NULL;
}

void
cay__accepted_request(cay__endpoint_t *ep, msg_t *msg, sip_t *sip)
{
  if (sip->sip_request->rq_method == sip_method_ack) {
    /* RFC 6026 section 7.1: an ACK matching an Accepted transaction is
     * passed to the TU. */
    if (ep->tu.on_ack)
      ep->tu.on_ack(ep->tu.arg, msg, sip);
    return;
  }
  /* RFC 6026 section 7.1: a retransmitted INVITE is absorbed; the TU's
   * own 2xx retransmissions (13.3.1.4) answer it. */
}

/* Timer L: the oldest entry goes, and leaves its index chain. */
static void
pop_accepted(cay__endpoint_t *ep)
{
  uint32_t head = ep->accepted.head;
  cay__acc_ent_t *e = &ep->accepted.ents[head];
  uint32_t *pp
      = &ep->accepted.buckets[(uint32_t)e->hash & (ep->accepted.cap - 1)];

  while (*pp != head + 1) {
    assert(*pp != 0); /* every entry is on its bucket's chain */
    pp = &ep->accepted.ents[*pp - 1].next;
  }
  *pp = e->next;
  ep->accepted.head = (head + 1) & (ep->accepted.cap - 1);
  ep->accepted.count--;
  ep->live_txns--;
}

void
cay__accepted_expire(cay__timer_t *tm)
{
  cay__endpoint_t *ep = tm->data;
  uint64_t now = cay__shard_now(ep->shard);

  /* Timer L (RFC 6026 section 7.1): Accepted -> Terminated. Nothing
   * outside the endpoint points at an entry. */
  while (ep->accepted.count
         && due_passed(ep->accepted.ents[ep->accepted.head].due_ms, now))
    pop_accepted(ep);
  arm_accepted(ep);
}

void
cay__accepted_free_all(cay__endpoint_t *ep)
{
  cay__shard_timer_stop(ep->shard, &ep->accepted.timer);
  while (ep->accepted.count)
    pop_accepted(ep);
  cay__free(ep->accepted.ents);
  cay__free(ep->accepted.buckets);
  cay__free(ep->accepted.view);
  ep->accepted.ents = NULL;
  ep->accepted.buckets = NULL;
  ep->accepted.view = NULL;
  ep->accepted.cap = 0;
  ep->accepted.head = 0;
}

cay__txn_t *
cay__accepted_view(cay__endpoint_t *ep, const cay__acc_ent_t *e)
{
  cay__txn_t *t = ep->accepted.view;

  if (t == NULL && (t = ep->accepted.view = cay__malloc(sizeof *t)) == NULL)
    return NULL;
  /* Enough of a transaction for the TU's CANCEL handling (RFC 3261 section
   * 9.2: a final response was sent, so the CANCEL has no effect but gets
   * 200): its state and its TU. It has no id, no request and cannot
   * send. */
  memset(t, 0, sizeof *t);
  t->ep = ep;
  t->server = 1;
  t->invite = 1;
  t->view = 1;
  t->state = CAY__TXN_ACCEPTED;
  t->status = 200;
  t->tu_id = e->tu_id;
  return t;
}

/* -- INVITE client transactions in Accepted (RFC 6026 section 7.2) ------ */

uint64_t
cay__txn_to_tag_hash(const sip_t *sip)
{
  const char *tag = sip && sip->sip_to ? sip->sip_to->a_tag : NULL;

  return tag ? cay__hash(tag, strlen(tag)) : 0;
}

int
cay__txn_2xx_is_copy(const cay__txn_t *t, const sip_t *sip)
{
  return !t->server && t->invite && t->state == CAY__TXN_ACCEPTED
         && t->first_2xx_tag != 0
         && cay__txn_to_tag_hash(sip) == t->first_2xx_tag;
}
