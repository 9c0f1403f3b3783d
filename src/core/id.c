/*
 * Generation-checked id table (DESIGN.md rule 4).
 *
 * Slots live in one array that grows by doubling and never shrinks, so a
 * slot index stays valid for the table's life. Freed slots go on a LIFO
 * free list; reuse is safe because removal bumps the slot's generation,
 * which every lookup compares.
 */
#include "core/id.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"

/* Small enough to cost nothing for an idle shard, large enough that the
 * first burst of calls does not realloc at every step. */
#define IDTAB_INITIAL_SLOTS 16u

static cay_id_t
make_id(unsigned shard, uint32_t slot, uint32_t gen)
{
  return ((cay_id_t)shard << 56) | ((cay_id_t)slot << 32) | gen;
}

static uint32_t
id_slot(cay_id_t id)
{
  return (uint32_t)(id >> 32) & (CAY_ID_MAX_SLOTS - 1);
}

static uint32_t
id_gen(cay_id_t id)
{
  return (uint32_t)id;
}

static int
grow_slots(cay__idtab_t *t)
{
  uint32_t cap = t->cap * 2;
  if (cap > CAY_ID_MAX_SLOTS)
    cap = CAY_ID_MAX_SLOTS;
  if (cap <= t->cap)
    return CAY_ELIMIT;
  cay__idslot_t *slots = cay__realloc(t->slots, (size_t)cap * sizeof *slots);
  if (slots == NULL)
    return -ENOMEM; /* The old array is untouched and still in use. */
  /* The new slots are set up when first handed out (cay__idtab_add): a
   * large array is mapped by the kernel as it is touched, so slots never
   * used cost address space only. */
  t->slots = slots;
  t->cap = cap;
  return 0;
}

int
cay__idtab_init(cay__idtab_t *t, unsigned shard)
{
  /* The shard is 8 bits of the id; the config bounds the shard count. */
  assert(shard <= 0xff);
  memset(t, 0, sizeof *t);
  t->slots = cay__malloc(IDTAB_INITIAL_SLOTS * sizeof *t->slots);
  if (t->slots == NULL)
    return -ENOMEM;
  t->cap = IDTAB_INITIAL_SLOTS;
  t->shard = (uint8_t)shard;
  return 0;
}

void
cay__idtab_fini(cay__idtab_t *t)
{
  /* The objects belong to their owners; only the slots are ours. */
  cay__free(t->slots);
  memset(t, 0, sizeof *t);
}

int
cay__idtab_add(cay__idtab_t *t, void *ptr, cay_id_t *out)
{
  return cay__idtab_add_kind(t, ptr, CAY__ID_ANY, out);
}

int
cay__idtab_add_kind(cay__idtab_t *t, void *ptr, unsigned kind, cay_id_t *out)
{
  uint32_t slot;

  assert(ptr != NULL); /* NULL marks a free slot. */
  if (t->free_head != 0) {
    slot = t->free_head - 1;
    t->free_head = t->slots[slot].next_free;
    t->slots[slot].next_free = 0;
  } else {
    if (t->used == t->cap) {
      int err = grow_slots(t);
      if (err)
        return err;
    }
    slot = t->used++;
    /* A slot's first generation is 1: generation 0 is never handed out,
     * so no live id can be 0 (CAY_ID_NONE) even for shard 0, slot 0. */
    t->slots[slot].gen = 1;
    t->slots[slot].next_free = 0;
  }
  t->slots[slot].ptr = ptr;
  t->slots[slot].next_free = kind; /* free-list link only while free */
  t->live++;
  *out = make_id(t->shard, slot, t->slots[slot].gen);
  return 0;
}

void *
cay__idtab_get(const cay__idtab_t *t, cay_id_t id)
{
  if (id == CAY_ID_NONE || cay__id_shard(id) != t->shard)
    return NULL;
  uint32_t slot = id_slot(id);
  if (slot >= t->used || t->slots[slot].gen != id_gen(id))
    return NULL;
  /* A free slot's generation is one past any id handed out for it, so a
   * match here means the entry is live; ptr is NULL otherwise anyway. */
  return t->slots[slot].ptr;
}

void *
cay__idtab_get_kind(const cay__idtab_t *t, cay_id_t id, unsigned kind)
{
  void *p = cay__idtab_get(t, id);

  return p && t->slots[id_slot(id)].next_free == kind ? p : NULL;
}

void
cay__idtab_remove(cay__idtab_t *t, cay_id_t id)
{
  if (cay__idtab_get(t, id) == NULL)
    return;
  uint32_t slot = id_slot(id);
  cay__idslot_t *s = &t->slots[slot];
  s->ptr = NULL;
  /* Bump the generation so every id naming the old entry turns stale.
   * After 2^32 reuses of one slot the generation wraps; skip 0 so ids stay
   * non-zero. A stale id would need to survive four billion lifetimes of
   * its slot to alias, which no SIP timer or message does. */
  s->gen++;
  if (s->gen == 0)
    s->gen = 1;
  s->next_free = t->free_head;
  t->free_head = slot + 1;
  t->live--;
}
