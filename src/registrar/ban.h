/*
 * Sources that keep sending wrong credentials, refused for a while
 * (registrar.ban_after_failures, ban_window_s, ban_s): one table per
 * shard, of source IP addresses (the port is not theirs: a guesser
 * changes it), each with its refusals in the current window and, once
 * banned, until when. Fixed size, allocated once: a flood of sources
 * evicts the quietest, never grows the table.
 */
#ifndef CAY_REGISTRAR_BAN_H
#define CAY_REGISTRAR_BAN_H

#include <stdint.h>

#include "core/hash.h"
#include "transport/addr.h"

typedef struct cay__ban cay__ban_t;

/**
 * A new, empty table whose addresses go to their places by a hash keyed
 * with @p key (CAY__HASH_KEYBYTES random bytes, copied), so that no one
 * outside can pick addresses that crowd one place.
 * @return the table (cay__ban_free()), or NULL: no memory.
 * @thread the owner shard's
 */
cay__ban_t *cay__ban_new(const uint8_t key[CAY__HASH_KEYBYTES]);

/** Free @p b (NULL: nothing). @thread owner */
void cay__ban_free(cay__ban_t *b);

/**
 * Whether @p src's IP address is banned at @p now_ms (shard clock, ms).
 * @return the ms the ban has left, or 0: not banned.
 * @thread owner
 */
uint64_t cay__ban_left(const cay__ban_t *b, const cay__addr_t *src,
                       uint64_t now_ms);

/**
 * One more refusal of @p src's credentials at @p now_ms: counted in the
 * window of @p window_ms that the first refusal opened (a refusal after
 * it opens a new one); the @p failures-th within a window bans the
 * address for @p ban_ms from now.
 * @return 1 when this refusal banned it, else 0.
 * @thread owner
 */
int cay__ban_failure(cay__ban_t *b, const cay__addr_t *src, uint64_t now_ms,
                     unsigned failures, uint64_t window_ms, uint64_t ban_ms);

/**
 * Ban @p src's IP address for @p ban_ms from @p now_ms (another shard
 * banned it), unless it is banned longer already.
 * @thread owner
 */
void cay__ban_set(cay__ban_t *b, const cay__addr_t *src, uint64_t now_ms,
                  uint64_t ban_ms);

#endif
