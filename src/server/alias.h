/*
 * Call-ID aliases (DESIGN.md section 3): where the messages of a dialog go
 * when it lives on a shard other than the one its Call-ID hashes to.
 *
 * That happens for one reason only: an INVITE whose Replaces header (RFC
 * 3891) names a dialog of another shard is handed to that shard, since
 * only there can it take the old dialog's place. Its own Call-ID still
 * hashes to the first shard (the "home" shard), which every later message
 * of the new dialog reaches (the kernel's steering, or the hand-over of
 * the shard that read it): the home shard keeps an alias, Call-ID -> the
 * shard that owns the dialog, and hands those messages on.
 *
 * An alias is "held" while the owner has a session of that Call-ID (it
 * says so when the session begins and ends, MAIL_ALIAS), and otherwise
 * lasts until linger_ms (64*T1) after the last message that used it: long
 * enough for the retransmissions and the ACK of a refused INVITE, and for
 * a BYE retransmitted after the session ended (RFC 3261 section 17.2).
 *
 * The table belongs to one shard and is used on its thread only.
 */
#ifndef CAY_SERVER_ALIAS_H
#define CAY_SERVER_ALIAS_H

#include <stddef.h>
#include <stdint.h>

#include "core/hash.h"

typedef struct cay__alias cay__alias_t;

typedef struct cay__aliases {
  cay__htab_t tab;
  cay__alias_t *all; /* every entry, for the sweep */
  uint64_t linger_ms;
  uint64_t next_sweep; /* shard clock, ms */
} cay__aliases_t;

/**
 * Start an empty table.
 * @param linger_ms  How long an alias that is not held lasts after its
 *                   last use, in ms (64*T1, RFC 3261 section 17.1.1.2).
 * @return 0 or -ENOMEM.
 * @thread owner
 */
int cay__aliases_init(cay__aliases_t *a, uint64_t linger_ms);

/** Free every entry and the table; safe to call twice. @thread owner */
void cay__aliases_fini(cay__aliases_t *a);

/** Entries in the table, expired ones not yet swept included. */
size_t cay__aliases_count(const cay__aliases_t *a);

/**
 * The shard that owns the dialogs of Call-ID @p cid, if an alias says
 * so. An alias that is not held is renewed (it lasts linger_ms from
 * @p now); one that has expired is removed and not returned.
 *
 * @param cid  The Call-ID, exact bytes (@p len of them). Borrowed.
 * @param now  Shard clock, ms.
 * @return the owner's index, or -1 when there is no alias.
 * @thread owner
 */
int cay__aliases_lookup(cay__aliases_t *a, const char *cid, size_t len,
                        uint64_t now);

/**
 * Say that shard @p shard owns Call-ID @p cid: @p held while it has a
 * session of it (until cay__aliases_release()), else for linger_ms from
 * @p now. A held alias is not turned into one that is not held (the
 * owner's word outranks a guess on the way).
 *
 * @return 0 or -ENOMEM (the table is unchanged).
 * @thread owner
 */
int cay__aliases_set(cay__aliases_t *a, const char *cid, size_t len,
                     unsigned shard, int held, uint64_t now);

/**
 * Shard @p shard's session of Call-ID @p cid has ended: its held alias
 * lasts linger_ms from @p now. An alias to another shard, or none, is left
 * as it is.
 * @thread owner
 */
void cay__aliases_release(cay__aliases_t *a, const char *cid, size_t len,
                          unsigned shard, uint64_t now);

#endif
