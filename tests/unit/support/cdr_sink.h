/*
 * The records calls leave in unit tests (test_cdr.c,
 * test_cdr_answered.c): a sink for the sessions' records that keeps
 * their lines and the last one's view, and readers of a record's fields
 * as written.
 */
#ifndef CAY_TEST_CDR_SINK_H
#define CAY_TEST_CDR_SINK_H

#include <check.h>
#include <stddef.h>

#include "cay/cdr.h"
#include "support/peer.h"

#define CDR_SINK_MAX 8

/** The records the calls of a test left: the lines (free()), and the
 * last record's view (its pointers NULL; its reason copied). */
typedef struct cdr_sink {
  char *line[CDR_SINK_MAX];
  unsigned n;
  cay_cdr_t last;
  char reason[256]; /* the last record's, or "(null)" */
} cdr_sink_t;

extern cdr_sink_t cdr_recs;

/** A new fixture (support/peer.h) whose records go to cdr_recs, emptied
 * first. */
peer_t *peer_with_sink(const cay_config_t *cfg);
/** The one record of the test: the call is over and left exactly one,
 * counted in cdrs. */
const char *the_record(peer_t *p);
/** Value of @p key in record @p line as written (a string with its
 * quotes, a number, null) into @p buf (@p n bytes). */
const char *field(const char *line, const char *key, char *buf, size_t n);
/** A time field as ms since 1970 ("2026-11-25T10:00:00.123Z"). */
long long time_ms(const char *line, const char *key);
/** Record @p r is of a call that got no B leg and no answer: status
 * @p status, ended by @p ended_by (as written, quoted), no B leg named,
 * no time passed. */
void no_b_leg_is(const char *r, const char *status, const char *ended_by);

#define field_is(line, key, want)                                              \
  do {                                                                         \
    char buf_[256];                                                            \
    ck_assert_str_eq(field((line), (key), buf_, sizeof buf_), (want));         \
  } while (0)

#endif
