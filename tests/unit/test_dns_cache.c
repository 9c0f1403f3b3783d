/*
 * Tests of the resolver's cache: the cache itself (src/transport/
 * dns_cache.c: keys, TTL and its cap, LRU eviction, what is not kept, a
 * DNS message's TTL as RFC 1035, 2181 and 2308 give it) on a virtual
 * clock, and the resolver using it (src/transport/dns.c) against the fake
 * DNS server of support/dns_fixture.h: what is asked again and what is
 * not, RFC 2782's weighted order drawn anew from a kept SRV answer,
 * negative answers, failures, expiry, and the counters.
 */
#include "support/dns_fixture.h"
#include "support/run.h"

#include "transport/dns_cache.h"

/* ---- a DNS message, laid out as RFC 1035 section 4.1 has it ---- */

struct msg {
  uint8_t b[1024];
  size_t n;
};

static void
m_head(struct msg *m, int tc, unsigned rcode, unsigned an, unsigned ns)
{
  memset(m, 0, sizeof *m);
  put16(m->b, 0x1234);
  m->b[2] = (uint8_t)(0x84 | (tc ? 0x02 : 0)); /* QR, AA, TC */
  m->b[3] = (uint8_t)(0x80 | rcode);
  put16(m->b + 4, 1);
  put16(m->b + 6, an);
  put16(m->b + 8, ns);
  m->n = 12;
  m->n += fake_put_name(m->b + m->n, "_sip._udp.example.test");
  put16(m->b + m->n, T_SRV);
  put16(m->b + m->n + 2, 1);
  m->n += 4;
}

/* A record owned by the question's name (a pointer to it). */
static void
m_rr(struct msg *m, unsigned type, uint32_t ttl, const void *rdata,
     size_t rdlen)
{
  put16(m->b + m->n, 0xC00C);
  put16(m->b + m->n + 2, type);
  put16(m->b + m->n + 4, 1);
  put32(m->b + m->n + 6, ttl);
  put16(m->b + m->n + 10, (unsigned)rdlen);
  memcpy(m->b + m->n + 12, rdata, rdlen);
  m->n += 12 + rdlen;
}

static void
m_srv(struct msg *m, uint32_t ttl)
{
  uint8_t rd[64] = { 0, 10, 0, 5, 0x13, 0xC4 }; /* 10 5 5060 */
  size_t n = 6 + fake_put_name(rd + 6, "a.example.test");

  m_rr(m, T_SRV, ttl, rd, n);
}

/* An SOA record (RFC 1035 section 3.3.13), names as full labels. */
static void
m_soa(struct msg *m, uint32_t ttl, uint32_t minimum)
{
  uint8_t rd[128];
  size_t n = fake_put_name(rd, "ns.example.test");

  n += fake_put_name(rd + n, "hostmaster.example.test");
  put32(rd + n, 7);          /* SERIAL */
  put32(rd + n + 4, 3600);   /* REFRESH */
  put32(rd + n + 8, 600);    /* RETRY */
  put32(rd + n + 12, 86400); /* EXPIRE */
  put32(rd + n + 16, minimum);
  m_rr(m, 6, ttl, rd, n + 20);
}

static long cache_live;

static void
cache_setup(void)
{
  cache_live = cay__alloc_live();
}

static void
cache_teardown(void)
{
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), cache_live);
}

static cay__dns_cache_t *
cache_new(unsigned entries, unsigned max_ttl_s)
{
  cay__dns_cache_t *c = NULL;

  ck_assert_int_eq(cay__dns_cache_create(&c, entries, max_ttl_s), 0);
  ck_assert_ptr_nonnull(c);
  return c;
}

/* Whether (@p type, @p name) is a hit at @p now; its data then in @p out. */
static int
hit(cay__dns_cache_t *c, int type, const char *name, uint64_t now, int *status,
    char *out)
{
  unsigned char buf[CAY__DNS_CACHE_MAX_DATA];
  size_t len = 0;
  int rc = cay__dns_cache_get(c, type, name, now, status, buf, &len);

  if (rc && out) {
    memcpy(out, buf, len);
    out[len] = '\0';
  }
  return rc;
}

/* ---- the cache ---- */

START_TEST(cache_keeps_for_ttl_by_type_and_name_without_case)
{
  /* RFC 1035 section 3.2.1: kept TTL seconds, no longer; RFC 4343: the
   * name without case; the type is part of the key. */
  cay__dns_cache_t *c = cache_new(8, 3600);
  char out[64];
  int st = 0;

  ck_assert_int_eq(
      cay__dns_cache_put(c, T_SRV, "Example.TEST", 3, "abc", 3, 60, 1000), 1);
  ck_assert_int_eq(hit(c, T_SRV, "example.test", 1000, &st, out), 1);
  ck_assert_int_eq(st, 3);
  ck_assert_str_eq(out, "abc");
  ck_assert_int_eq(hit(c, T_SRV, "EXAMPLE.test", 60999, &st, out), 1);
  /* Only whether there is one: no buffers. */
  ck_assert_int_eq(
      cay__dns_cache_get(c, T_SRV, "example.test", 60999, NULL, NULL, NULL), 1);
  ck_assert_int_eq(
      cay__dns_cache_get(c, T_A, "example.test", 60999, NULL, NULL, NULL), 0);
  ck_assert_int_eq(hit(c, T_NAPTR, "example.test", 1000, &st, NULL), 0);
  ck_assert_int_eq(hit(c, T_SRV, "example.tes", 1000, &st, NULL), 0);
  ck_assert_uint_eq(cay__dns_cache_count(c), 1);
  ck_assert_int_eq(hit(c, T_SRV, "example.test", 61000, &st, NULL), 0);
  ck_assert_uint_eq(cay__dns_cache_count(c), 0); /* dropped when found old */
  cay__dns_cache_free(c);
}
END_TEST

START_TEST(cache_caps_ttl_and_replaces_a_key)
{
  cay__dns_cache_t *c = cache_new(8, 10);
  char out[64];
  int st = 0;

  /* A TTL over max_ttl_s counts as max_ttl_s. */
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a.test", 0, "x", 1, 86400, 0),
                   1);
  ck_assert_int_eq(hit(c, T_A, "a.test", 9999, &st, NULL), 1);
  ck_assert_int_eq(hit(c, T_A, "a.test", 10000, &st, NULL), 0);
  /* The same key again: one entry, the new data and TTL. */
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a.test", 0, "old", 3, 5, 0), 1);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "A.test", 1, "new", 3, 2, 100),
                   1);
  ck_assert_uint_eq(cay__dns_cache_count(c), 1);
  ck_assert_int_eq(hit(c, T_A, "a.test", 2099, &st, out), 1);
  ck_assert_str_eq(out, "new");
  ck_assert_int_eq(st, 1);
  ck_assert_int_eq(hit(c, T_A, "a.test", 2100, &st, NULL), 0);
  cay__dns_cache_free(c);
}
END_TEST

START_TEST(cache_does_not_keep_ttl_0_oversize_or_bad_names)
{
  cay__dns_cache_t *c = cache_new(8, 3600);
  static char big[CAY__DNS_CACHE_MAX_DATA + 1];
  char name[300];
  int st;

  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a.test", 0, "x", 1, 0, 0), 0);
  ck_assert_int_eq(
      cay__dns_cache_put(c, T_A, "a.test", 0, big, sizeof big, 60, 0), 0);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "b.test", 0, big,
                                      CAY__DNS_CACHE_MAX_DATA, 60, 0),
                   1); /* the most it keeps */
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "", 0, "x", 1, 60, 0), 0);
  memset(name, 'a', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, name, 0, "x", 1, 60, 0), 0);
  ck_assert_int_eq(hit(c, T_A, "a.test", 0, &st, NULL), 0);
  ck_assert_int_eq(hit(c, T_A, name, 0, &st, NULL), 0);
  ck_assert_uint_eq(cay__dns_cache_count(c), 1);
  cay__dns_cache_free(c);
  ck_assert_int_eq(cay__dns_cache_create(&c, 0, 60), -EINVAL);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(cay__dns_cache_create(&c, 8, 0), -EINVAL);
}
END_TEST

START_TEST(cache_full_evicts_the_least_recently_used)
{
  cay__dns_cache_t *c = cache_new(3, 3600);
  int st;

  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a", 0, "1", 1, 60, 0), 1);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "b", 0, "2", 1, 60, 0), 1);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "c", 0, "3", 1, 60, 0), 1);
  ck_assert_int_eq(hit(c, T_A, "a", 0, &st, NULL), 1); /* a used: b oldest */
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "d", 0, "4", 1, 60, 0), 1);
  ck_assert_uint_eq(cay__dns_cache_count(c), 3);
  ck_assert_int_eq(hit(c, T_A, "b", 0, &st, NULL), 0);
  ck_assert_int_eq(hit(c, T_A, "a", 0, &st, NULL), 1);
  ck_assert_int_eq(hit(c, T_A, "c", 0, &st, NULL), 1);
  ck_assert_int_eq(hit(c, T_A, "d", 0, &st, NULL), 1);
  /* now a is the oldest use */
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "e", 0, "5", 1, 60, 0), 1);
  ck_assert_int_eq(hit(c, T_A, "a", 0, &st, NULL), 0);
  ck_assert_uint_eq(cay__dns_cache_count(c), 3);
  cay__dns_cache_free(c);
}
END_TEST

START_TEST(cache_out_of_memory_loses_only_that_entry)
{
  cay__dns_cache_t *c = cache_new(4, 3600);
  int st;

  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a", 0, "1", 1, 60, 0), 1);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "b", 0, "2", 1, 60, 0), 1);
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__dns_cache_put(c, T_A, "a", 0, "9", 1, 60, 0), -ENOMEM);
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(hit(c, T_A, "a", 0, &st, NULL), 0); /* old one gone */
  ck_assert_int_eq(hit(c, T_A, "b", 0, &st, NULL), 1);
  ck_assert_uint_eq(cay__dns_cache_count(c), 1);
  cay__dns_cache_free(c);
}
END_TEST

/* ---- the TTL of a message ---- */

START_TEST(msg_ttl_1035_least_of_the_answers)
{
  struct msg m;
  uint32_t ttl = 0;

  m_head(&m, 0, 0, 3, 0);
  m_srv(&m, 300);
  m_srv(&m, 45);
  m_srv(&m, 600);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), 0);
  ck_assert_uint_eq(ttl, 45);
  /* RFC 2181 section 8: a TTL with the top bit set counts as 0. */
  m_head(&m, 0, 0, 2, 0);
  m_srv(&m, 300);
  m_srv(&m, 0x80000001u);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), 0);
  ck_assert_uint_eq(ttl, 0);
}
END_TEST

START_TEST(msg_ttl_2308_negative_from_soa)
{
  struct msg m;
  uint32_t ttl = 0;

  /* RFC 2308 section 5: the least of the SOA's TTL and MINIMUM. */
  m_head(&m, 0, 3 /* NXDOMAIN */, 0, 1);
  m_soa(&m, 900, 30);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), 0);
  ck_assert_uint_eq(ttl, 30);
  m_head(&m, 0, 0 /* NOERROR, no answer: NODATA */, 0, 1);
  m_soa(&m, 20, 300);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), 0);
  ck_assert_uint_eq(ttl, 20);
  /* Without SOA: not to be cached (RFC 2308 section 5). */
  m_head(&m, 0, 3, 0, 0);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), -1);
  m_head(&m, 0, 0, 0, 0);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), -1);
}
END_TEST

START_TEST(msg_ttl_refuses_failures_truncation_and_damage)
{
  struct msg m;
  uint32_t ttl = 77;

  m_head(&m, 0, 2 /* SERVFAIL */, 0, 1);
  m_soa(&m, 900, 30);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), -1);
  m_head(&m, 1 /* TC */, 0, 1, 0);
  m_srv(&m, 300);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), -1);
  /* Every prefix of a good message is damaged: its counts say more. */
  m_head(&m, 0, 0, 2, 0);
  m_srv(&m, 300);
  m_srv(&m, 200);
  for (size_t n = 0; n < m.n; n++)
    ck_assert_msg(cay__dns_msg_ttl(m.b, n, &ttl) == -1, "prefix %zu", n);
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), 0);
  ck_assert_uint_eq(ttl, 200);
  /* The same for a negative answer's SOA. */
  m_head(&m, 0, 3, 0, 1);
  m_soa(&m, 900, 30);
  for (size_t n = 0; n < m.n; n++)
    ck_assert_msg(cay__dns_msg_ttl(m.b, n, &ttl) == -1, "prefix %zu", n);
  /* A label type 0x40 (RFC 6891 section 6.1: none defined) in the
   * question. */
  m_head(&m, 0, 0, 1, 0);
  m_srv(&m, 300);
  m.b[12] = 0x41;
  ck_assert_int_eq(cay__dns_msg_ttl(m.b, m.n, &ttl), -1);
}
END_TEST

/* ---- the resolver with a cache ---- */

static cay_stats_t counted;

/* A resolver (IPv4, 300 ms per try) counting into @p counted. */
static cay__dns_t *
cached(unsigned entries, unsigned max_ttl_s)
{
  memset(&counted, 0, sizeof counted);
  return dns_open_cached(AF_INET, 300, entries, max_ttl_s, &counted);
}

START_TEST(dns_cache_second_lookup_asks_no_server)
{
  /* NAPTR (none), SRV, the target's A: three questions, then the same
   * URI again is answered from the cache, later as always. */
  cay__dns_t *d = cached(64, 3600);
  struct answer a;

  fake.soa_ttl = 600; /* NAME has no NAPTR: kept with the SOA */
  fake.soa_minimum = 300;
  fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_naptr("other." NAME, 10, 50, "S", "SIP+D2U", "", UDP_SRV);
  resolve(d, NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  ck_assert_int_eq(fake.nasked, 3);
  ck_assert_uint_eq(counted.dns_lookups, 3);
  ck_assert_uint_eq(counted.dns_cache_hits, 0);
  fake_forget();
  for (int i = 0; i < 3; i++) {
    resolve(d, "EXAMPLE.test", 0, -1, 0, &a); /* resolve(): not inside */
    ck_assert_int_eq(a.err, 0);
    ck_assert_uint_eq(a.n, 1);
    target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  }
  ck_assert_int_eq(fake.nasked, 0);
  ck_assert_uint_eq(counted.dns_lookups, 3);
  ck_assert_uint_eq(counted.dns_cache_hits, 9);
  /* Another question on the same names: only what is not kept is asked
   * (with a port: the host's A, never asked before). */
  fake_a(NAME, "192.0.2.99");
  resolve(d, NAME, 5080, -1, 0, &a);
  target_is(&a, 0, "192.0.2.99:5080", CAY__UDP);
  ck_assert_int_eq(fake.nasked, 1);
  ck_assert_int_eq(fake_asked(NAME, T_A), 1);
  /* The NAPTR of another name is not the one kept for NAME. */
  resolve(d, "other." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(fake_asked("other." NAME, T_NAPTR), 1);
  ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 0); /* kept */
  target_is(&a, 0, "192.0.2.10:5062", CAY__UDP);
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_2782_weighted_order_drawn_each_time)
{
  /* The kept answer is the SRV message, not the order drawn from it:
   * two targets of equal priority and weight come first by turns. */
  cay__dns_t *d = cached(64, 3600);
  struct answer a;
  int first_a = 0, first_b = 0;

  fake.soa_ttl = 600;
  fake.soa_minimum = 300;
  fake_srv(UDP_SRV, 10, 50, 5062, "a." NAME);
  fake_srv(UDP_SRV, 10, 50, 5064, "b." NAME);
  fake_a("a." NAME, "192.0.2.10");
  fake_a("b." NAME, "192.0.2.20");
  for (int i = 0; i < 60; i++) {
    resolve(d, NAME, 0, -1, 0, &a);
    ck_assert_int_eq(a.err, 0);
    ck_assert_uint_eq(a.n, 2);
    first_a += a.t[0].addr.u.sin.sin_port == htons(5062);
    first_b += a.t[0].addr.u.sin.sin_port == htons(5064);
  }
  ck_assert_int_eq(first_a + first_b, 60);
  ck_assert_int_gt(first_a, 0); /* all 60 one way: 2^-59 */
  ck_assert_int_gt(first_b, 0);
  ck_assert_int_eq(fake.nasked, 4); /* NAPTR, SRV, A, A: once */
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_2308_negative_kept_only_with_soa)
{
  /* A name that does not exist: NAPTR, 2 x SRV NXDOMAIN with an SOA are
   * kept; the address question (getaddrinfo tells no SOA) is asked again.
   * Without SOA nothing negative is kept. */
  cay__dns_t *d = cached(64, 3600);
  struct answer a;

  fake.soa_ttl = 600;
  fake.soa_minimum = 60;
  resolve(d, "nx." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_int_eq(fake_asked_type(T_NAPTR), 1);
  ck_assert_int_eq(fake_asked_type(T_SRV), 2);
  ck_assert_int_eq(fake_asked_type(T_A), 1);
  fake_forget();
  resolve(d, "nx." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_int_eq(fake_asked_type(T_NAPTR), 0);
  ck_assert_int_eq(fake_asked_type(T_SRV), 0);
  ck_assert_int_eq(fake_asked_type(T_A), 1);
  fake.soa_ttl = 0;
  fake_forget();
  resolve(d, "nx2." NAME, 0, -1, 0, &a);
  resolve(d, "nx2." NAME, 0, -1, 0, &a);
  ck_assert_int_eq(a.err, CAY_ENOTFOUND);
  ck_assert_int_eq(fake_asked_type(T_NAPTR), 2);
  ck_assert_int_eq(fake_asked_type(T_SRV), 4);
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_failures_are_not_kept)
{
  /* SERVFAIL and no answer are asked again on the next lookup. */
  cay__dns_t *d = cached(64, 3600);
  struct answer a;
  int n;

  fake.mode = FAKE_DNS_SERVFAIL;
  fake.soa_ttl = 600; /* the fixture sends no SOA with RCODE 2 anyway */
  fake.soa_minimum = 60;
  resolve(d, NAME, 0, CAY__UDP, 0, &a);
  ck_assert_int_eq(a.err, -EIO);
  n = fake_asked(UDP_SRV, T_SRV);
  ck_assert_int_ge(n, 1);
  resolve(d, NAME, 0, CAY__UDP, 0, &a);
  ck_assert_int_eq(a.err, -EIO);
  ck_assert_int_gt(fake_asked(UDP_SRV, T_SRV), n);
  fake.mode = FAKE_DNS_DROP;
  fake_forget();
  resolve(d, NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, -ETIMEDOUT);
  n = fake_asked(NAME, T_A);
  ck_assert_int_ge(n, 1);
  resolve(d, NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, -ETIMEDOUT);
  ck_assert_int_gt(fake_asked(NAME, T_A), n);
  ck_assert_uint_eq(counted.dns_cache_hits, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_expires_at_max_ttl)
{
  /* Records of TTL 60 kept at most cache_max_ttl_s = 1 s: asked again
   * after it. */
  cay__dns_t *d = cached(64, 1);
  struct answer a;

  fake_a(NAME, "192.0.2.10");
  resolve(d, NAME, 5060, -1, 0, &a);
  resolve(d, NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(fake_asked(NAME, T_A), 1);
  wait_ms(1100);
  resolve(d, NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "192.0.2.10:5060", CAY__UDP);
  ck_assert_int_eq(fake_asked(NAME, T_A), 2);
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_etc_hosts_is_read_each_time)
{
  /* /etc/hosts has no TTL (c-ares gives 0): its answers are not kept,
   * so an edit of the file counts at the next call. */
  cay__dns_t *d = cached(64, 3600);
  struct answer a;

  fake_a("localhost", "192.0.2.99"); /* never asked: the file answers */
  resolve(d, "localhost", 5060, -1, 0, &a);
  ck_assert_int_eq(a.err, 0);
  target_is(&a, 0, "127.0.0.1:5060", CAY__UDP);
  resolve(d, "localhost", 5060, -1, 0, &a);
  target_is(&a, 0, "127.0.0.1:5060", CAY__UDP);
  ck_assert_int_eq(fake.nasked, 0);
  ck_assert_uint_eq(counted.dns_lookups, 2);
  ck_assert_uint_eq(counted.dns_cache_hits, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_lookups_in_flight_share_one_question)
{
  /* Five calls to one name before any answer (a cold cache, or just
   * after an answer expired): each question goes to the servers once,
   * and every lookup gets its answer, later and once. Also without a
   * cache. */
  for (unsigned entries = 0; entries <= 64; entries += 64) {
    cay__dns_t *d = cached(entries, 3600);
    struct answer a[5];

    fake_forget();
    fake.nrr = 0;
    fake_srv(UDP_SRV, 10, 0, 5062, "a." NAME);
    fake_a("a." NAME, "192.0.2.10");
    memset(a, 0, sizeof a);
    for (int i = 0; i < 5; i++)
      ck_assert_int_eq(locate(d, NAME, 0, -1, 0, &a[i], (uint64_t)i), 0);
    ck_assert_uint_eq(cay__dns_pending(d), 5);
    RUN_UNTIL(cay__dns_pending(d) == 0, WAIT_MS);
    for (int i = 0; i < 5; i++) {
      ck_assert_int_eq(a[i].calls, 1);
      ck_assert_int_eq(a[i].inside, 0);
      ck_assert_uint_eq(a[i].id, (uint64_t)i);
      ck_assert_int_eq(a[i].err, 0);
      target_is(&a[i], 0, "192.0.2.10:5062", CAY__UDP);
    }
    ck_assert_int_eq(fake_asked(NAME, T_NAPTR), 1);
    ck_assert_int_eq(fake_asked(UDP_SRV, T_SRV), 1);
    ck_assert_int_eq(fake_asked("a." NAME, T_A), 1);
    ck_assert_uint_eq(counted.dns_lookups, 3);
    ck_assert_uint_eq(counted.dns_cache_hits, 12);
    dns_close(d);
  }
}
END_TEST

static cay__dns_t *closing_from_cb;

static void
on_answer_close(void *arg, uint64_t id, int err, const cay__dns_target_t *t,
                size_t n)
{
  on_answer(arg, id, err, t, n);
  if (closing_from_cb) {
    cay__dns_close(closing_from_cb, NULL, NULL);
    closing_from_cb = NULL;
  }
}

START_TEST(dns_lookups_in_flight_dropped_when_closed)
{
  /* Lookups waiting for one question: closing before the answer drops
   * them all; closing from the first one's callback drops the others.
   * No callback after the close, nothing leaked (teardown). */
  cay__dns_t *d = cached(64, 3600);
  struct answer a[3];
  int closed = 0;

  fake_a(NAME, "192.0.2.10");
  memset(a, 0, sizeof a);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(locate(d, NAME, 5060, -1, 0, &a[i], 1), 0);
  cay__dns_close(d, on_closed, &closed);
  RUN_UNTIL(closed > 0, WAIT_MS);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(a[i].calls, 0);

  d = cached(64, 3600);
  memset(a, 0, sizeof a);
  for (int i = 0; i < 3; i++) {
    cay__dns_query_t q = { NAME, 5060, -1, 0 };
    ck_assert_int_eq(cay__dns_locate(d, &q, on_answer_close, &a[i], 1), 0);
  }
  closing_from_cb = d;
  RUN_UNTIL(a[0].calls > 0, WAIT_MS);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_ptr_null(closing_from_cb);
  ck_assert_int_eq(a[0].calls, 1);
  ck_assert_int_eq(a[1].calls, 0);
  ck_assert_int_eq(a[2].calls, 0);
}
END_TEST

START_TEST(dns_no_cache_asks_every_time)
{
  cay__dns_t *d = cached(0, 0);
  struct answer a;

  fake_a(NAME, "192.0.2.10");
  resolve(d, NAME, 5060, -1, 0, &a);
  resolve(d, NAME, 5060, -1, 0, &a);
  ck_assert_int_eq(fake_asked(NAME, T_A), 2);
  ck_assert_uint_eq(counted.dns_lookups, 2);
  ck_assert_uint_eq(counted.dns_cache_hits, 0);
  dns_close(d);
}
END_TEST

START_TEST(dns_cache_close_with_lookups_from_the_cache_pending)
{
  /* Answers found in the cache inside cay__dns_locate() wait for the
   * kick; closing then drops them (no callback, nothing leaked). */
  cay__dns_t *d = cached(64, 3600);
  struct answer a, b;
  int closed = 0;

  fake_a(NAME, "192.0.2.10");
  resolve(d, NAME, 5060, -1, 0, &a);
  memset(&b, 0, sizeof b);
  ck_assert_int_eq(locate(d, NAME, 5060, -1, 0, &b, 7), 0);
  ck_assert_uint_eq(cay__dns_pending(d), 1);
  cay__dns_close(d, on_closed, &closed);
  RUN_UNTIL(closed > 0, WAIT_MS);
  ck_assert_int_eq(b.calls, 0);
}
END_TEST

static Suite *
cache_suite(void)
{
  Suite *s = suite_create("dns_cache");
  TCase *tc = tcase_create("cache");

  tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
  tcase_add_test(tc, cache_keeps_for_ttl_by_type_and_name_without_case);
  tcase_add_test(tc, cache_caps_ttl_and_replaces_a_key);
  tcase_add_test(tc, cache_does_not_keep_ttl_0_oversize_or_bad_names);
  tcase_add_test(tc, cache_full_evicts_the_least_recently_used);
  tcase_add_test(tc, cache_out_of_memory_loses_only_that_entry);
  tcase_add_test(tc, msg_ttl_1035_least_of_the_answers);
  tcase_add_test(tc, msg_ttl_2308_negative_from_soa);
  tcase_add_test(tc, msg_ttl_refuses_failures_truncation_and_damage);
  suite_add_tcase(s, tc);

  tc = tcase_create("resolver");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, dns_cache_second_lookup_asks_no_server);
  tcase_add_test(tc, dns_cache_2782_weighted_order_drawn_each_time);
  tcase_add_test(tc, dns_cache_2308_negative_kept_only_with_soa);
  tcase_add_test(tc, dns_cache_failures_are_not_kept);
  tcase_add_test(tc, dns_cache_expires_at_max_ttl);
  tcase_add_test(tc, dns_cache_etc_hosts_is_read_each_time);
  tcase_add_test(tc, dns_no_cache_asks_every_time);
  tcase_add_test(tc, dns_lookups_in_flight_share_one_question);
  tcase_add_test(tc, dns_lookups_in_flight_dropped_when_closed);
  tcase_add_test(tc, dns_cache_close_with_lookups_from_the_cache_pending);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(cache_suite());
}
