/*
 * Ids with generations (DESIGN.md rule 4).
 *
 * A cay_id_t is shard (bits 56-63) | slot (bits 32-55) | generation (bits
 * 0-31). Removing an entry bumps its slot's generation, so an id kept
 * past the object's death resolves to NULL instead of a dangling pointer.
 * Generations start at 1, so no live id is 0 (CAY_ID_NONE). A table
 * belongs to one shard and is used only on that shard's thread.
 */
#ifndef CAY_CORE_ID_H
#define CAY_CORE_ID_H

#include <stdint.h>

#include "cay/server.h"

#define CAY_ID_MAX_SLOTS (1u << 24)

typedef struct cay__idslot {
  uint32_t gen; /* current generation of this slot */
  /* Free: the free-list link, slot index + 1 (0 = end). Live: the
   * entry's kind (cay__idtab_add_kind()). */
  uint32_t next_free;
  void *ptr; /* NULL when free */
} cay__idslot_t;

/* Kinds of entries that must be told apart by id alone (0: any other).
 * A session and a relayed MESSAGE (src/b2bua/pager.h) are both the TU of
 * client transactions, which report responses by the TU's id. */
enum { CAY__ID_ANY = 0, CAY__ID_SESSION = 1, CAY__ID_PAGER = 2 };

typedef struct cay__idtab {
  cay__idslot_t *slots;
  uint32_t cap;       /* slots allocated */
  uint32_t used;      /* slots ever handed out (high-water mark) */
  uint32_t free_head; /* slot index + 1 of the first free slot, 0 = none */
  uint32_t live;      /* entries now */
  uint8_t shard;
} cay__idtab_t;

static inline unsigned
cay__id_shard(cay_id_t id)
{
  return (unsigned)(id >> 56);
}

/** @return 0 or -ENOMEM. */
int cay__idtab_init(cay__idtab_t *t, unsigned shard);
void cay__idtab_fini(cay__idtab_t *t);
/** @return 0 with *out set, -ENOMEM, or CAY_ELIMIT (2^24 live entries). */
int cay__idtab_add(cay__idtab_t *t, void *ptr, cay_id_t *out);
/** cay__idtab_add() of an entry of kind @p kind (CAY__ID_SESSION, ...). */
int cay__idtab_add_kind(cay__idtab_t *t, void *ptr, unsigned kind,
                        cay_id_t *out);
/** @return the pointer, or NULL for 0, a stale id, or another shard's id. */
void *cay__idtab_get(const cay__idtab_t *t, cay_id_t id);
/** cay__idtab_get() of an entry added with kind @p kind, else NULL. */
void *cay__idtab_get_kind(const cay__idtab_t *t, cay_id_t id, unsigned kind);
/** Removes the entry if @p id is live; a stale id is a no-op. */
void cay__idtab_remove(cay__idtab_t *t, cay_id_t id);

#endif
