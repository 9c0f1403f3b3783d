/*
 * STUN keep-alive answers on the SIP port (src/transport/stun.c; RFC
 * 5626 section 8, RFC 5389). Requests are written byte by byte here and
 * answers read the same way, so that libre's codec, which Cay uses, is
 * judged against the RFC's wire format rather than against itself.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "transport/stun.h"

#define COOKIE 0x2112A442u

static const uint8_t tid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void
put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

static unsigned
get16(const uint8_t *p)
{
  return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
  return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* CRC-32 (ISO 3309, as FINGERPRINT uses: RFC 5389 section 15.5). */
static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
  uint32_t c = 0xffffffffu;

  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
  }
  return ~c;
}

/* A STUN header of @p type into @p m (attributes of @p attr_len bytes
 * follow); @return 20. */
static size_t
header(uint8_t *m, unsigned type, unsigned attr_len, uint32_t cookie)
{
  put16(m, type);
  put16(m + 2, attr_len);
  put32(m + 4, cookie);
  memcpy(m + 8, tid, sizeof tid);
  return 20;
}

/* Append FINGERPRINT to the message of @p n bytes in @p m (its header's
 * length counting it); @return the new length. */
static size_t
add_fingerprint(uint8_t *m, size_t n)
{
  put16(m + 2, (unsigned)(n - 20 + 8));
  put16(m + n, 0x8028);
  put16(m + n + 2, 4);
  put32(m + n + 4, crc32_of(m, n) ^ 0x5354554eu);
  return n + 8;
}

/* The attribute of @p type in answer @p a (@p n bytes), or NULL. */
static const uint8_t *
attr(const uint8_t *a, int n, unsigned type, unsigned *len)
{
  for (int i = 20; i + 4 <= n;) {
    unsigned t = get16(a + i), l = get16(a + i + 2);
    if (t == type) {
      *len = l;
      return a + i + 4;
    }
    i += 4 + (int)((l + 3) & ~3u);
  }
  return NULL;
}

/* Answer @p req (@p n bytes) from @p ip:@p port into @p out: its length. */
static int
answer(const uint8_t *req, size_t n, const char *ip, unsigned port,
       uint8_t out[CAY__STUN_ANSWER_MAX])
{
  cay__addr_t from;

  ck_assert_int_eq(cay__addr_set(&from, ip, port), 0);
  return cay__stun_answer((const char *)req, n, &from, (char *)out);
}

/* The success response's header and XOR-MAPPED-ADDRESS (RFC 5389
 * section 15.2): port and address XORed with the magic cookie (and the
 * transaction id for IPv6). */
START_TEST(stun_5389_binding_request_gets_xor_mapped_address)
{
  uint8_t req[64], a[CAY__STUN_ANSWER_MAX];
  const uint8_t *x;
  unsigned len;
  size_t n = header(req, 0x0001, 0, COOKIE);
  int got = answer(req, n, "192.0.2.1", 40000, a);

  ck_assert_int_eq(got, 32);
  ck_assert_uint_eq(get16(a), 0x0101); /* Binding success response */
  ck_assert_uint_eq(get16(a + 2), 12);
  ck_assert_uint_eq(get32(a + 4), COOKIE);
  ck_assert_mem_eq(a + 8, tid, sizeof tid);
  x = attr(a, got, 0x0020, &len);
  ck_assert_ptr_nonnull(x);
  ck_assert_uint_eq(len, 8);
  ck_assert_uint_eq(x[1], 0x01); /* IPv4 */
  ck_assert_uint_eq(get16(x + 2) ^ (COOKIE >> 16), 40000);
  ck_assert_uint_eq(get32(x + 4) ^ COOKIE, 0xC0000201u);
  ck_assert_ptr_null(attr(a, got, 0x8028, &len)); /* none asked for */

  got = answer(req, n, "2001:db8::1", 5060, a);
  x = attr(a, got, 0x0020, &len);
  ck_assert_ptr_nonnull(x);
  ck_assert_uint_eq(len, 20);
  ck_assert_uint_eq(x[1], 0x02); /* IPv6 */
  ck_assert_uint_eq(get16(x + 2) ^ (COOKIE >> 16), 5060);
  uint8_t key[16], want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
  put32(key, COOKIE);
  memcpy(key + 4, tid, sizeof tid);
  for (int i = 0; i < 16; i++)
    ck_assert_uint_eq(x[4 + i] ^ key[i], want[i]);
}
END_TEST

/* Section 7.3.1: a request with FINGERPRINT gets one, last, and right
 * (CRC-32 of the answer before it, XOR 0x5354554e). */
START_TEST(stun_5389_fingerprint_answered_with_fingerprint)
{
  uint8_t req[64], a[CAY__STUN_ANSWER_MAX];
  const uint8_t *f;
  unsigned len;
  size_t n = add_fingerprint(req, header(req, 0x0001, 0, COOKIE));
  int got = answer(req, n, "192.0.2.1", 40000, a);

  ck_assert_int_eq(got, 40);
  f = attr(a, got, 0x8028, &len);
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(len, 4);
  ck_assert_ptr_eq(f + 4, a + got); /* the last attribute */
  ck_assert_uint_eq(get32(f), crc32_of(a, (size_t)got - 8) ^ 0x5354554eu);
}
END_TEST

/* Section 7.3.1: an unknown comprehension-required attribute (below
 * 0x8000) gets a 420 error response naming it; an unknown optional one
 * is ignored. */
START_TEST(stun_5389_unknown_required_attribute_420)
{
  uint8_t req[64], a[CAY__STUN_ANSWER_MAX];
  const uint8_t *e, *u;
  unsigned len;
  size_t n = header(req, 0x0001, 8, COOKIE);
  int got;

  put16(req + n, 0x0077); /* comprehension-required, unknown */
  put16(req + n + 2, 4);
  put32(req + n + 4, 0);
  got = answer(req, n + 8, "192.0.2.1", 40000, a);
  ck_assert_int_gt(got, 20);
  ck_assert_uint_eq(get16(a), 0x0111); /* Binding error response */
  e = attr(a, got, 0x0009, &len);      /* ERROR-CODE */
  ck_assert_ptr_nonnull(e);
  ck_assert_uint_eq(e[2] * 100u + e[3], 420);
  u = attr(a, got, 0x000A, &len); /* UNKNOWN-ATTRIBUTES */
  ck_assert_ptr_nonnull(u);
  ck_assert_uint_eq(len, 2);
  ck_assert_uint_eq(get16(u), 0x0077);

  put16(req + 20, 0x8077); /* comprehension-optional */
  got = answer(req, n + 8, "192.0.2.1", 40000, a);
  ck_assert_uint_eq(get16(a), 0x0101);
}
END_TEST

/* Section 7.3: what is not a Binding request is not answered: a
 * response, an indication (a keep-alive that wants no answer), another
 * method, RFC 3489 STUN without the magic cookie, a short or
 * inconsistent message; and SIP is never taken for STUN. */
START_TEST(stun_5389_not_a_binding_request_not_answered)
{
  uint8_t req[64], a[CAY__STUN_ANSWER_MAX];
  const unsigned types[] = { 0x0101, 0x0011, 0x0003 };

  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    ck_assert_int_eq(
        answer(req, header(req, types[i], 0, COOKIE), "192.0.2.1", 1, a), 0);
  ck_assert_int_eq(
      answer(req, header(req, 0x0001, 0, 0x01020304), "192.0.2.1", 1, a), 0);
  ck_assert_int_eq(answer(req, 12, "192.0.2.1", 1, a), 0);
  header(req, 0x0001, 40, COOKIE); /* says 40 bytes follow; none do */
  ck_assert_int_eq(answer(req, 20, "192.0.2.1", 1, a), 0);

  ck_assert(cay__stun_maybe((const char *)req, 20));
  ck_assert(!cay__stun_maybe((const char *)req, 19));
  ck_assert(!cay__stun_maybe("OPTIONS sip:a@b SIP/2.0\r\n", 25));
  ck_assert(!cay__stun_maybe("\r\n\r\n", 4));
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("stun");
  TCase *tc = tcase_create("rfc5389");
  SRunner *sr;
  int failed;

  tcase_add_test(tc, stun_5389_binding_request_gets_xor_mapped_address);
  tcase_add_test(tc, stun_5389_fingerprint_answered_with_fingerprint);
  tcase_add_test(tc, stun_5389_unknown_required_attribute_420);
  tcase_add_test(tc, stun_5389_not_a_binding_request_not_answered);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
