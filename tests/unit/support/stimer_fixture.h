/*
 * The fixture of the RFC 4028 session timer tests (test_stimer.c,
 * test_stimer_uac.c): requests and responses parsed by sofia-sip as the
 * session layer sees them, freed after each test, and no allocation left
 * behind. Each test program includes it once.
 */
#ifndef CAY_TEST_STIMER_FIXTURE_H
#define CAY_TEST_STIMER_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_mclass.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "dialog/stimer.h"
#include "sip/msg.h"
#include "support/parsed.h"

static long live_at_start;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
}

static void
teardown(void)
{
  parsed_free_all();
  /* Parsing went through the allocation shim where it allocates at all;
   * the functions under test allocate nothing. */
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static inline const sip_t *
request(const char *method, const char *extra)
{
  return parsed_request(method, 1, extra, 0);
}

static inline const sip_t *
invite(const char *extra)
{
  return request("INVITE", extra);
}

static inline const sip_t *
response(int status, const char *extra)
{
  return parsed_response(status, "INVITE", extra);
}

#endif
