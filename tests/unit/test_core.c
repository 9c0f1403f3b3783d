/* Unit tests: id table, hashing and hash table, random generator, errors. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/rand.h"

/* Check forks each test, so the counter starts fresh; the fixture still
 * records it so that a test run with CK_FORK=no proves the same thing. */
static long live_at_start;

static void
setup_live(void)
{
  live_at_start = cay__alloc_live();
}

static void
teardown_live(void)
{
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* ---- id table (DESIGN.md rule 4) ---- */

START_TEST(id_add_get_remove)
{
  cay__idtab_t t;
  int a = 1, b = 2;
  cay_id_t ia, ib;

  ck_assert_int_eq(cay__idtab_init(&t, 3), 0);
  ck_assert_int_eq(cay__idtab_add(&t, &a, &ia), 0);
  ck_assert_int_eq(cay__idtab_add(&t, &b, &ib), 0);
  ck_assert_uint_ne(ia, ib);
  ck_assert_uint_eq(cay__id_shard(ia), 3);
  ck_assert_ptr_eq(cay__idtab_get(&t, ia), &a);
  ck_assert_ptr_eq(cay__idtab_get(&t, ib), &b);
  ck_assert_uint_eq(t.live, 2);

  cay__idtab_remove(&t, ia);
  ck_assert_ptr_null(cay__idtab_get(&t, ia));
  ck_assert_ptr_eq(cay__idtab_get(&t, ib), &b);
  ck_assert_uint_eq(t.live, 1);
  cay__idtab_fini(&t);
}
END_TEST

/* A kind tells a session's id from a relayed MESSAGE's (both TUs of
 * client transactions): cay__idtab_get_kind() finds only its own kind,
 * also after a slot freed by one kind is reused by another, and the free
 * list (which shares the field) still works. */
START_TEST(id_kinds_are_told_apart)
{
  cay__idtab_t t;
  int a = 1, b = 2, c = 3;
  cay_id_t ia, ib, ic;

  ck_assert_int_eq(cay__idtab_init(&t, 1), 0);
  ck_assert_int_eq(cay__idtab_add_kind(&t, &a, CAY__ID_SESSION, &ia), 0);
  ck_assert_int_eq(cay__idtab_add_kind(&t, &b, CAY__ID_PAGER, &ib), 0);
  ck_assert_ptr_eq(cay__idtab_get_kind(&t, ia, CAY__ID_SESSION), &a);
  ck_assert_ptr_null(cay__idtab_get_kind(&t, ia, CAY__ID_PAGER));
  ck_assert_ptr_eq(cay__idtab_get_kind(&t, ib, CAY__ID_PAGER), &b);
  ck_assert_ptr_null(cay__idtab_get_kind(&t, ib, CAY__ID_SESSION));
  ck_assert_ptr_eq(cay__idtab_get(&t, ib), &b); /* any kind */

  cay__idtab_remove(&t, ib);
  cay__idtab_remove(&t, ia);
  /* Slot of a, then of b, reused (LIFO): plain entries are kind ANY. */
  ck_assert_int_eq(cay__idtab_add(&t, &c, &ic), 0);
  ck_assert_ptr_null(cay__idtab_get_kind(&t, ic, CAY__ID_SESSION));
  ck_assert_ptr_eq(cay__idtab_get_kind(&t, ic, CAY__ID_ANY), &c);
  ck_assert_int_eq(cay__idtab_add_kind(&t, &a, CAY__ID_PAGER, &ia), 0);
  ck_assert_ptr_eq(cay__idtab_get_kind(&t, ia, CAY__ID_PAGER), &a);
  ck_assert_ptr_null(cay__idtab_get_kind(&t, ib, CAY__ID_PAGER)); /* stale */
  ck_assert_uint_eq(t.live, 2);
  ck_assert_uint_eq(t.used, 2); /* both slots reused, none new */
  cay__idtab_fini(&t);
}
END_TEST

START_TEST(id_stale_after_slot_reuse)
{
  cay__idtab_t t;
  int a = 1, b = 2;
  cay_id_t ia, ib;

  ck_assert_int_eq(cay__idtab_init(&t, 0), 0);
  ck_assert_int_eq(cay__idtab_add(&t, &a, &ia), 0);
  cay__idtab_remove(&t, ia);
  ck_assert_int_eq(cay__idtab_add(&t, &b, &ib), 0);

  /* The new entry reuses the freed slot but carries a new generation: the
   * old id must not reach the new object. */
  ck_assert_uint_eq((ia >> 32) & 0xffffff, (ib >> 32) & 0xffffff);
  ck_assert_uint_ne(ia, ib);
  ck_assert_ptr_null(cay__idtab_get(&t, ia));
  ck_assert_ptr_eq(cay__idtab_get(&t, ib), &b);

  /* Removing through the stale id is a no-op. */
  cay__idtab_remove(&t, ia);
  ck_assert_ptr_eq(cay__idtab_get(&t, ib), &b);
  ck_assert_uint_eq(t.live, 1);
  cay__idtab_fini(&t);
}
END_TEST

START_TEST(id_other_shard_and_zero_are_null)
{
  cay__idtab_t t0, t1;
  int a = 1;
  cay_id_t ia;

  ck_assert_int_eq(cay__idtab_init(&t0, 0), 0);
  ck_assert_int_eq(cay__idtab_init(&t1, 1), 0);
  ck_assert_int_eq(cay__idtab_add(&t0, &a, &ia), 0);

  /* Shard 0, slot 0, first generation is still not the id 0. */
  ck_assert_uint_ne(ia, CAY_ID_NONE);
  ck_assert_ptr_null(cay__idtab_get(&t0, CAY_ID_NONE));
  /* Same slot and generation in shard 1's table: not ours. */
  ck_assert_ptr_null(cay__idtab_get(&t1, ia));
  ck_assert_ptr_null(cay__idtab_get(&t0, ia | ((cay_id_t)1 << 56)));
  /* A slot never handed out. */
  ck_assert_ptr_null(cay__idtab_get(&t0, ia + ((cay_id_t)5 << 32)));
  ck_assert_ptr_eq(cay__idtab_get(&t0, ia), &a);
  cay__idtab_fini(&t0);
  cay__idtab_fini(&t1);
}
END_TEST

START_TEST(id_growth_keeps_every_entry)
{
  enum { N = 5000 };
  cay__idtab_t t;
  static int objs[N];
  static cay_id_t ids[N];

  ck_assert_int_eq(cay__idtab_init(&t, 7), 0);
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(cay__idtab_add(&t, &objs[i], &ids[i]), 0);
  ck_assert_uint_ge(t.cap, N);
  for (int i = 0; i < N; i++)
    ck_assert_ptr_eq(cay__idtab_get(&t, ids[i]), &objs[i]);
  /* Remove every other entry; the rest must stay reachable. */
  for (int i = 0; i < N; i += 2)
    cay__idtab_remove(&t, ids[i]);
  ck_assert_uint_eq(t.live, N / 2);
  for (int i = 0; i < N; i++) {
    void *want = i % 2 ? &objs[i] : NULL;
    ck_assert_ptr_eq(cay__idtab_get(&t, ids[i]), want);
  }
  cay__idtab_fini(&t);
}
END_TEST

START_TEST(id_init_enomem)
{
  cay__idtab_t t;

  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__idtab_init(&t, 0), -ENOMEM);
}
END_TEST

START_TEST(id_add_enomem_keeps_table)
{
  cay__idtab_t t;
  int objs[64];
  cay_id_t ids[64], extra;
  uint32_t n = 0;

  ck_assert_int_eq(cay__idtab_init(&t, 0), 0);
  /* Fill exactly to capacity, so the next add must grow. */
  while (t.used < t.cap) {
    ck_assert_uint_lt(n, 64);
    ck_assert_int_eq(cay__idtab_add(&t, &objs[n], &ids[n]), 0);
    n++;
  }
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__idtab_add(&t, &objs[n], &extra), -ENOMEM);
  ck_assert_uint_eq(t.live, n);
  for (uint32_t i = 0; i < n; i++)
    ck_assert_ptr_eq(cay__idtab_get(&t, ids[i]), &objs[i]);
  /* The failure is not sticky. */
  ck_assert_int_eq(cay__idtab_add(&t, &objs[n], &extra), 0);
  ck_assert_ptr_eq(cay__idtab_get(&t, extra), &objs[n]);
  cay__idtab_fini(&t);
}
END_TEST

/* ---- hashing ---- */

START_TEST(hash_known_values)
{
  /* cay__hash is 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime
   * 0x100000001b3) followed by MurmurHash3's fmix64. The values below were
   * computed once in Python with those two steps; the FNV-1a parts match
   * the published FNV test vectors ("" -> 0xcbf29ce484222325, "a" ->
   * 0xaf63dc4c8601ec8c, "foobar" -> 0x85944171f73967e8). A change here
   * would move every Call-ID to another shard. */
  ck_assert_uint_eq(cay__hash("", 0), 0xefd01f60ba992926ULL);
  ck_assert_uint_eq(cay__hash("a", 1), 0x82a2a958a9bece5bULL);
  ck_assert_uint_eq(cay__hash("foobar", 6), 0x2c22194922d1672bULL);
}
END_TEST

START_TEST(hash_icase_folds_ascii_only)
{
  ck_assert_uint_eq(cay__hash_icase("Call-ID", 7),
                    cay__hash_icase("cALL-id", 7));
  ck_assert_uint_eq(cay__hash_icase("FooBar", 6), cay__hash("foobar", 6));
  /* The exact hash keeps case: Call-IDs compare byte-exact (RFC 3261
   * section 8.1.1.4). */
  ck_assert_uint_ne(cay__hash("FooBar", 6), cay__hash("foobar", 6));
  /* '@' and '[' sit next to 'A' and 'Z' and must not fold. */
  ck_assert_uint_ne(cay__hash_icase("@[", 2), cay__hash_icase("`{", 2));
}
END_TEST

START_TEST(hash_mix_is_ordered)
{
  uint64_t a = cay__hash("a", 1), b = cay__hash("b", 1);

  ck_assert_uint_ne(cay__hash_mix(a, b), cay__hash_mix(b, a));
  ck_assert_uint_ne(cay__hash_mix(a, a), 0);
  ck_assert_uint_eq(cay__hash_mix(a, b), cay__hash_mix(a, b));
}
END_TEST

START_TEST(hash_callid_shard_8_1_1_4_in_range)
{
  /* RFC 3261 section 8.1.1.4: one Call-ID, one shard, every time. */
  const char *cid = "a84b4c76e66710@pc33.atlanta.com";
  unsigned s = cay__callid_shard(cid, strlen(cid), 4);

  ck_assert_uint_lt(s, 4);
  ck_assert_uint_eq(cay__callid_shard(cid, strlen(cid), 4), s);
  ck_assert_uint_eq(cay__callid_shard(cid, strlen(cid), 1), 0);
}
END_TEST

/* ---- hash table ---- */

struct item {
  cay__hnode_t node; /* first member: the node's address is the item's */
  int key;
};

/* Find by key among the candidates with @p hash, as callers do. */
static struct item *
find_item(cay__htab_t *t, uint64_t hash, int key)
{
  for (cay__hnode_t *n = cay__htab_first(t, hash); n; n = cay__htab_next(n))
    if (((struct item *)n)->key == key)
      return (struct item *)n;
  return NULL;
}

START_TEST(htab_insert_find_remove)
{
  cay__htab_t t;
  struct item a = { .key = 1 }, b = { .key = 2 };

  ck_assert_int_eq(cay__htab_init(&t, 4), 0);
  ck_assert_uint_eq(t.nbuckets, 4);
  ck_assert_ptr_null(cay__htab_first(&t, 11));
  cay__htab_insert(&t, &a.node, 11);
  cay__htab_insert(&t, &b.node, 12);
  ck_assert_uint_eq(t.count, 2);
  ck_assert_ptr_eq(find_item(&t, 11, 1), &a);
  ck_assert_ptr_eq(find_item(&t, 12, 2), &b);
  ck_assert_ptr_null(find_item(&t, 12, 1));

  cay__htab_remove(&t, &a.node);
  ck_assert_ptr_null(cay__htab_first(&t, 11));
  ck_assert_ptr_eq(find_item(&t, 12, 2), &b);
  ck_assert_uint_eq(t.count, 1);
  cay__htab_fini(&t);
}
END_TEST

START_TEST(htab_init_rounds_up)
{
  cay__htab_t t;

  ck_assert_int_eq(cay__htab_init(&t, 5), 0);
  ck_assert_uint_eq(t.nbuckets, 8);
  cay__htab_fini(&t);
  ck_assert_int_eq(cay__htab_init(&t, 0), 0);
  ck_assert_uint_eq(t.nbuckets, 1);
  cay__htab_fini(&t);
}
END_TEST

START_TEST(htab_same_hash_walks_all)
{
  cay__htab_t t;
  struct item it[5];
  int seen = 0;

  ck_assert_int_eq(cay__htab_init(&t, 8), 0);
  /* Five items with one hash, and one in the same bucket with another
   * hash (8 buckets: 42 and 42 + 8 share bucket 2) that the walk must
   * skip. */
  struct item other = { .key = 99 };
  cay__htab_insert(&t, &other.node, 42 + 8);
  for (int i = 0; i < 5; i++) {
    it[i].key = i;
    cay__htab_insert(&t, &it[i].node, 42);
  }
  for (cay__hnode_t *n = cay__htab_first(&t, 42); n; n = cay__htab_next(n)) {
    ck_assert_uint_eq(n->hash, 42);
    seen |= 1 << ((struct item *)n)->key;
  }
  ck_assert_int_eq(seen, 0x1f);

  /* Remove one from the middle of the colliding run. */
  cay__htab_remove(&t, &it[2].node);
  ck_assert_ptr_null(find_item(&t, 42, 2));
  for (int i = 0; i < 5; i++)
    if (i != 2)
      ck_assert_ptr_eq(find_item(&t, 42, i), &it[i]);
  ck_assert_ptr_eq(find_item(&t, 50, 99), &other);
  cay__htab_fini(&t);
}
END_TEST

/* Hash of item @p i for the growth test: item 3k + 2 shares its hash with
 * item 3k + 1, so growth must also keep colliding nodes together. */
static uint64_t
growth_hash(int i)
{
  int base = i % 3 == 2 ? i - 1 : i;
  return cay__hash(&base, sizeof base);
}

START_TEST(htab_growth_keeps_every_node)
{
  enum { N = 3000 };
  static struct item it[N];
  cay__htab_t t;

  ck_assert_int_eq(cay__htab_init(&t, 1), 0);
  for (int i = 0; i < N; i++) {
    it[i].key = i;
    cay__htab_insert(&t, &it[i].node, growth_hash(i));
    ck_assert_uint_ge(t.nbuckets, t.count);
  }
  ck_assert_uint_eq(t.count, N);
  for (int i = 0; i < N; i++)
    ck_assert_ptr_eq(find_item(&t, growth_hash(i), i), &it[i]);
  for (int i = 0; i < N; i++)
    cay__htab_remove(&t, &it[i].node);
  ck_assert_uint_eq(t.count, 0);
  cay__htab_fini(&t);
}
END_TEST

START_TEST(htab_failed_grow_keeps_working)
{
  cay__htab_t t;
  struct item it[6];

  ck_assert_int_eq(cay__htab_init(&t, 4), 0);
  for (int i = 0; i < 4; i++) {
    it[i].key = i;
    cay__htab_insert(&t, &it[i].node, (uint64_t)i * 7);
  }
  /* The fifth insert exceeds the bucket count and tries to grow. */
  cay__alloc_fail_nth(1);
  it[4].key = 4;
  cay__htab_insert(&t, &it[4].node, 28);
  ck_assert_uint_eq(t.nbuckets, 4);
  ck_assert_uint_eq(t.count, 5);
  for (int i = 0; i < 5; i++)
    ck_assert_ptr_eq(find_item(&t, (uint64_t)i * 7, i), &it[i]);
  /* The next insert grows. */
  it[5].key = 5;
  cay__htab_insert(&t, &it[5].node, 35);
  ck_assert_uint_eq(t.nbuckets, 8);
  for (int i = 0; i < 6; i++)
    ck_assert_ptr_eq(find_item(&t, (uint64_t)i * 7, i), &it[i]);
  cay__htab_fini(&t);
}
END_TEST

START_TEST(htab_init_enomem)
{
  cay__htab_t t;

  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__htab_init(&t, 16), -ENOMEM);
}
END_TEST

/* ---- random generator (DESIGN.md rule 6, RFC 3261 section 19.3) ---- */

static void
fill_seed(uint8_t seed[32], uint8_t v)
{
  memset(seed, v, 32);
}

START_TEST(rand_chacha20_known_keystream)
{
  /* With an all-zero key and nonce 0, the first bytes are the ChaCha20
   * keystream of RFC 7539 Appendix A.1, test vector #1. */
  static const uint8_t want[16]
      = { 0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90,
          0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28 };
  cay__rand_t r;
  uint8_t seed[32], got[16];

  fill_seed(seed, 0);
  cay__rand_seed(&r, seed);
  cay__rand_bytes(&r, got, sizeof got);
  ck_assert_mem_eq(got, want, sizeof want);
}
END_TEST

START_TEST(rand_same_seed_same_stream)
{
  cay__rand_t a, b;
  uint8_t seed[32], x[1500], y[1500];

  fill_seed(seed, 7);
  cay__rand_seed(&a, seed);
  cay__rand_seed(&b, seed);
  /* Draw in different chunk sizes across several refills: the stream
   * must not depend on how it is read. */
  cay__rand_bytes(&a, x, sizeof x);
  for (size_t i = 0; i < sizeof y; i += 100)
    cay__rand_bytes(&b, y + i, 100);
  ck_assert_mem_eq(x, y, sizeof x);
  ck_assert_uint_eq(cay__rand_u64(&a), cay__rand_u64(&b));
  ck_assert_uint_eq(cay__rand_u32(&a), cay__rand_u32(&b));
}
END_TEST

START_TEST(rand_refills_differ)
{
  cay__rand_t r;
  uint8_t seed[32], x[1024];

  fill_seed(seed, 7);
  cay__rand_seed(&r, seed);
  cay__rand_bytes(&r, x, sizeof x);
  /* The second 512-byte block uses the next nonce, not the same one. */
  ck_assert_int_ne(memcmp(x, x + 512, 512), 0);
}
END_TEST

START_TEST(rand_different_seeds_differ)
{
  cay__rand_t a, b;
  uint8_t seed[32];

  fill_seed(seed, 1);
  cay__rand_seed(&a, seed);
  seed[31] = 2;
  cay__rand_seed(&b, seed);
  ck_assert_uint_ne(cay__rand_u64(&a), cay__rand_u64(&b));
}
END_TEST

START_TEST(rand_token_19_3_alphabet_and_length)
{
  cay__rand_t r;
  uint8_t seed[32];
  char tok[41];
  int seen[36] = { 0 };

  fill_seed(seed, 3);
  cay__rand_seed(&r, seed);
  for (int n = 0; n < 200; n++) {
    memset(tok, 'X', sizeof tok);
    cay__rand_token(&r, tok, 40);
    ck_assert_uint_eq(strlen(tok), 40);
    for (int i = 0; i < 40; i++) {
      char c = tok[i];
      int ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
      ck_assert_msg(ok, "token character %d is 0x%02x", i, (unsigned char)c);
      seen[c <= '9' ? c - '0' : c - 'a' + 10]++;
    }
  }
  /* 8000 draws: every one of the 36 characters shows up. */
  for (int i = 0; i < 36; i++)
    ck_assert_int_gt(seen[i], 0);
}
END_TEST

START_TEST(rand_token_rejects_high_bytes)
{
  /* Each character is the next keystream byte below 252 taken modulo 36;
   * bytes 252..255 are skipped, so no character is more likely than
   * another. Replay the stream by hand to check the exact mapping. */
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  cay__rand_t r, ref;
  uint8_t seed[32];
  char tok[301];
  int rejected = 0;

  fill_seed(seed, 9);
  cay__rand_seed(&r, seed);
  cay__rand_seed(&ref, seed);
  cay__rand_token(&r, tok, 300);
  for (int i = 0; i < 300; i++) {
    uint8_t b;
    for (;;) {
      cay__rand_bytes(&ref, &b, 1);
      if (b < 252)
        break;
      rejected++;
    }
    ck_assert_int_eq(tok[i], alphabet[b % 36]);
  }
  /* The stream must have offered a byte to reject, or this proved
   * nothing about rejection. */
  ck_assert_int_gt(rejected, 0);
  /* Both generators consumed the same bytes. */
  ck_assert_uint_eq(cay__rand_u64(&r), cay__rand_u64(&ref));
}
END_TEST

START_TEST(rand_token_zero_length)
{
  cay__rand_t r;
  uint8_t seed[32];
  char tok[1] = { 'X' };

  fill_seed(seed, 3);
  cay__rand_seed(&r, seed);
  cay__rand_token(&r, tok, 0);
  ck_assert_int_eq(tok[0], '\0');
}
END_TEST

START_TEST(rand_init_seeds_from_kernel)
{
  cay__rand_t a, b;

  ck_assert_int_eq(cay__rand_init(&a), 0);
  ck_assert_int_eq(cay__rand_init(&b), 0);
  /* Two 256-bit kernel seeds agree with probability 2^-256. */
  ck_assert_int_ne(memcmp(a.key, b.key, sizeof a.key), 0);
  ck_assert_uint_ne(cay__rand_u64(&a), cay__rand_u64(&b));
}
END_TEST

/* ---- errors ---- */

START_TEST(strerror_cay_errno_and_unknown)
{
  ck_assert_str_eq(cay_strerror(CAY_ELIMIT), "limit reached");
  ck_assert_str_eq(cay_strerror(CAY_ENOTFOUND), "no such object");
  ck_assert_str_eq(cay_strerror(0), "success");
  /* errno values go through libuv, which knows them by their negation. */
  ck_assert_str_eq(cay_strerror(-ENOMEM), "not enough memory");
  ck_assert_str_eq(cay_strerror(CAY_EMAX), "unknown error");
  ck_assert_str_eq(cay_strerror(-9999), "unknown error");
}
END_TEST

static Suite *
core_suite(void)
{
  Suite *s = suite_create("core");
  TCase *tc;

  tc = tcase_create("id");
  tcase_add_checked_fixture(tc, setup_live, teardown_live);
  tcase_add_test(tc, id_add_get_remove);
  tcase_add_test(tc, id_stale_after_slot_reuse);
  tcase_add_test(tc, id_kinds_are_told_apart);
  tcase_add_test(tc, id_other_shard_and_zero_are_null);
  tcase_add_test(tc, id_growth_keeps_every_entry);
  tcase_add_test(tc, id_init_enomem);
  tcase_add_test(tc, id_add_enomem_keeps_table);
  suite_add_tcase(s, tc);

  tc = tcase_create("hash");
  tcase_add_checked_fixture(tc, setup_live, teardown_live);
  tcase_add_test(tc, hash_known_values);
  tcase_add_test(tc, hash_icase_folds_ascii_only);
  tcase_add_test(tc, hash_mix_is_ordered);
  tcase_add_test(tc, hash_callid_shard_8_1_1_4_in_range);
  tcase_add_test(tc, htab_insert_find_remove);
  tcase_add_test(tc, htab_init_rounds_up);
  tcase_add_test(tc, htab_same_hash_walks_all);
  tcase_add_test(tc, htab_growth_keeps_every_node);
  tcase_add_test(tc, htab_failed_grow_keeps_working);
  tcase_add_test(tc, htab_init_enomem);
  suite_add_tcase(s, tc);

  tc = tcase_create("rand");
  tcase_add_checked_fixture(tc, setup_live, teardown_live);
  tcase_add_test(tc, rand_chacha20_known_keystream);
  tcase_add_test(tc, rand_same_seed_same_stream);
  tcase_add_test(tc, rand_refills_differ);
  tcase_add_test(tc, rand_different_seeds_differ);
  tcase_add_test(tc, rand_token_19_3_alphabet_and_length);
  tcase_add_test(tc, rand_token_rejects_high_bytes);
  tcase_add_test(tc, rand_token_zero_length);
  tcase_add_test(tc, rand_init_seeds_from_kernel);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, strerror_cay_errno_and_unknown);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(core_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
