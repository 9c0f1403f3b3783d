/*
 * Call-ID routing (DESIGN.md rule 2): every message of a call, in whatever
 * header form it carries the Call-ID, goes to one shard, and Call-IDs
 * spread evenly over the shards.
 */
#include <check.h>

#include "support/run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/rand.h"
#include "transport/callid.h"

static unsigned
shard_of_message(const char *msg, unsigned n)
{
  const char *cid;
  size_t len;

  ck_assert_int_eq(cay__callid_scan(msg, strlen(msg), &cid, &len), 0);
  return cay__callid_shard(cid, len, n);
}

START_TEST(routing_8_1_1_4_same_call_id_same_shard_in_every_form)
{
  /* RFC 3261 section 8.1.1.4 / 20.8: the full and compact forms, any
   * case, folded: the same Call-ID bytes, so the same shard. */
  static const char *const forms[] = {
    "INVITE sip:a@b SIP/2.0\r\nCall-ID: abc123@10.0.0.1\r\n\r\n",
    "ACK sip:a@b SIP/2.0\r\ni: abc123@10.0.0.1\r\n\r\n",
    "BYE sip:a@b SIP/2.0\r\nCALL-ID :  abc123@10.0.0.1 \r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: x\r\ncall-id:\r\n abc123@10.0.0.1\r\n\r\n",
  };
  for (unsigned n = 2; n <= 8; n++) {
    unsigned first = shard_of_message(forms[0], n);
    for (unsigned i = 1; i < sizeof forms / sizeof forms[0]; i++)
      ck_assert_uint_eq(shard_of_message(forms[i], n), first);
  }
}
END_TEST

START_TEST(routing_call_id_compared_byte_exact)
{
  /* Call-IDs are case-sensitive (RFC 3261 section 20.8): two Call-IDs
   * differing in case are two calls, and may land apart. The hash is over
   * the exact bytes: check that it is stable for each. */
  unsigned a = cay__callid_shard("ABC@x", 5, 4);
  unsigned b = cay__callid_shard("abc@x", 5, 4);
  ck_assert_uint_eq(cay__callid_shard("ABC@x", 5, 4), a);
  ck_assert_uint_eq(cay__callid_shard("abc@x", 5, 4), b);
  ck_assert_uint_eq(cay__callid_shard("anything", 8, 1), 0);
}
END_TEST

START_TEST(routing_call_ids_spread_evenly)
{
  /* 100,000 Call-IDs shaped like SIPp's ("N-PID@IP") and like random
   * tokens: each of 4 shards gets within 3% of a quarter. */
  unsigned counts[2][4] = { { 0 } };
  uint8_t seed[32] = { 7 };
  cay__rand_t r;
  char cid[64];

  cay__rand_seed(&r, seed);
  for (unsigned i = 0; i < 100000; i++) {
    int n = snprintf(cid, sizeof cid, "%u-4242@127.0.0.1", i + 1);
    counts[0][cay__callid_shard(cid, (size_t)n, 4)]++;
    cay__rand_token(&r, cid, 20);
    counts[1][cay__callid_shard(cid, 20, 4)]++;
  }
  for (int k = 0; k < 2; k++)
    for (int s = 0; s < 4; s++) {
      ck_assert_uint_gt(counts[k][s], 25000 - 750);
      ck_assert_uint_lt(counts[k][s], 25000 + 750);
    }
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("routing");
  TCase *tc = tcase_create("routing");

  tcase_add_test(tc, routing_8_1_1_4_same_call_id_same_shard_in_every_form);
  tcase_add_test(tc, routing_call_id_compared_byte_exact);
  tcase_add_test(tc, routing_call_ids_spread_evenly);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
