/*
 * Random damage to a SIP message for the fuzz tests: one to four of byte
 * flips, truncation, deleted runs, inserted SIP tokens (CRLF, ";tag=", a
 * NUL, ...), duplicated runs and digits. Deterministic for a seeded
 * generator, so a failure replays.
 */
#ifndef CAY_TEST_MUTATE_H
#define CAY_TEST_MUTATE_H

#include <stddef.h>

#include "core/rand.h"

/**
 * Write one mutation of @p in (@p len bytes) into @p out (@p cap bytes);
 * the result may be empty.
 * @return Its length, at most @p cap.
 */
size_t mutate_sip(cay__rand_t *r, const char *in, size_t len, char *out,
                  size_t cap);

#endif
