/*
 * The fixture of the SIP message tests (test_msg.c, test_msg_build.c,
 * test_via.c): no allocation left behind, tests/data/ templates loaded and
 * edited, messages parsed and serialized back. Each test program includes
 * it once.
 */
#ifndef CAY_TEST_MSG_FIXTURE_H
#define CAY_TEST_MSG_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "sip/msg.h"

static long live_at_start;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
}

static void
teardown(void)
{
  /* Every temporary buffer of the parser went back through the shim. */
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Read tests/data/@p name into a NUL-terminated malloc buffer. */
static inline char *
load(const char *name, size_t *len)
{
  char path[512];
  FILE *f;
  char *b;
  long n;

  snprintf(path, sizeof path, "%s/%s", CAY_TEST_DATA, name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(fread(b, 1, (size_t)n, f), n);
  fclose(f);
  b[n] = '\0';
  *len = (size_t)n;
  return b;
}

/* Replace the first @p from in @p b (a loaded message) with @p to. */
static inline char *
edit(char *b, size_t *len, const char *from, const char *to)
{
  char *at = strstr(b, from);
  size_t fl = strlen(from), tl = strlen(to);
  char *n;

  ck_assert_msg(at != NULL, "'%s' not in message", from);
  n = malloc(*len - fl + tl + 1);
  ck_assert_ptr_nonnull(n);
  memcpy(n, b, (size_t)(at - b));
  memcpy(n + (at - b), to, tl);
  memcpy(n + (at - b) + tl, at + fl, *len - (size_t)(at - b) - fl + 1);
  *len = *len - fl + tl;
  free(b);
  return n;
}

/* Parse tests/data/@p name, with one edit when @p from is not NULL. */
static inline msg_t *
parse_file(const char *name, const char *from, const char *to, int *err)
{
  size_t len;
  char *b = load(name, &len);
  msg_t *msg = NULL;

  if (from)
    b = edit(b, &len, from, to);
  *err = cay__msg_parse(b, len, &msg);
  free(b);
  return msg;
}

static inline msg_t *
parse_ok(const char *name)
{
  int err;
  msg_t *msg = parse_file(name, NULL, NULL, &err);

  ck_assert_int_eq(err, 0);
  ck_assert_ptr_nonnull(msg);
  return msg;
}

/* Serialize @p msg and parse the bytes back. */
static inline msg_t *
reparse(msg_t *msg)
{
  const char *data;
  size_t len;
  msg_t *back = NULL;

  ck_assert_int_eq(cay__msg_serialize(msg, &data, &len), 0);
  ck_assert_int_eq(cay__msg_parse(data, len, &back), 0);
  ck_assert_ptr_nonnull(back);
  return back;
}

static inline int
count_vias(const sip_via_t *v)
{
  int n = 0;
  for (; v; v = v->v_next)
    n++;
  return n;
}

#endif
