/*
 * The fixture of the DNS resolver tests (test_dns.c): a real libuv loop
 * and, on it, a fake DNS server standing in for the resolver's name
 * server. The server is a uv_udp_t bound to 127.0.0.1 port 0 (its
 * "127.0.0.1:PORT" is in fake.servers); it answers each query from a
 * table of records the test sets (A, AAAA, SRV, NAPTR), as RFC 1035
 * section 4.1 lays a message out:
 *
 *   - a name with records of the type asked: NOERROR, those records in
 *     table order, owner names as the pointer 0xC00C to the question
 *     (RFC 1035 section 4.1.4), SRV targets and NAPTR replacements as full
 *     names (NAPTR RDATA as RFC 3403 section 4.1 lays it out);
 *   - a name in the table without records of that type: NOERROR, no
 *     answers (what c-ares calls ENODATA);
 *   - a name not in the table: NXDOMAIN (RCODE 3).
 *
 * Two modes replace answering: FAKE_DNS_DROP ignores every query (the
 * resolver times out) and FAKE_DNS_SERVFAIL answers RCODE 2; with
 * fake.mode_type set, only queries of that type (the others are answered).
 * An answer is at most 512 bytes (RFC 1035 section 4.2.1; c-ares without
 * EDNS would ask a longer one again over TCP, which this server does not
 * serve): a test whose records make a longer one fails. In every
 * mode each query is logged, in the order it came, as (name, type), so a
 * test can assert which queries RFC 3263 section 4 made and in which
 * order. Every wait is bounded by a uv_timer guard; nothing sleeps. Each
 * test program includes it once.
 */
#ifndef CAY_TEST_DNS_FIXTURE_H
#define CAY_TEST_DNS_FIXTURE_H

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "transport/addr.h"
#include "transport/dns.h"

#define WAIT_MS 5000

/* RR types (RFC 1035 section 3.2.2, RFC 3596, RFC 2782, RFC 3403). */
#define T_A     1
#define T_AAAA  28
#define T_SRV   33
#define T_NAPTR 35

enum { FAKE_DNS_ANSWER, FAKE_DNS_DROP, FAKE_DNS_SERVFAIL };

#define FAKE_DNS_MAX_RR    16
#define FAKE_DNS_MAX_ASKED 64

struct fake_rr {
  char name[256];
  int type;
  uint8_t ip[16];                           /* A: 4 bytes, AAAA: 16 */
  unsigned prio, weight, port;              /* SRV */
  unsigned order, pref;                     /* NAPTR */
  char flags[16], service[64], regexp[128]; /* NAPTR <character-string>s */
  /* SRV: the target ("." for "no service"); NAPTR: the replacement ("."
   * for none). */
  char target[256];
};

struct fake_dns {
  uv_udp_t h;
  cay__addr_t addr;
  char servers[64]; /* "127.0.0.1:PORT", for cay__dns_opts_t.servers */
  int mode;
  int mode_type; /* 0: the mode is for every query; else for this type only */
  uint32_t ttl;  /* of every record; fake_dns_start() sets 60 */
  /* A negative answer (NXDOMAIN, or a name without records of the type)
   * carries an SOA record in its authority section with this TTL and
   * MINIMUM (RFC 2308 section 3) when soa_ttl is not 0; else none. */
  uint32_t soa_ttl, soa_minimum;
  struct fake_rr rr[FAKE_DNS_MAX_RR];
  int nrr;
  struct {
    char name[256];
    int type;
  } asked[FAKE_DNS_MAX_ASKED];
  int nasked;
  uint8_t rx[1500];
};

static uv_loop_t loop;
#include "support/guard.h" /* RUN_UNTIL on this loop */
static struct fake_dns fake;
static long live_at_start;

/* Read the question's name at @p p (labels only: a query has no
 * pointers) into @p out as "a.b.c", lower case. @return the offset past
 * it, or 0 when malformed. */
static inline size_t
fake_read_name(const uint8_t *p, size_t len, size_t off, char *out,
               size_t outlen)
{
  size_t o = 0;

  while (off < len && p[off] != 0) {
    size_t l = p[off++];

    if (l > 63 || off + l > len || o + l + 2 > outlen)
      return 0;
    if (o > 0)
      out[o++] = '.';
    for (size_t i = 0; i < l; i++)
      out[o++] = (char)tolower(p[off + i]);
    off += l;
  }
  out[o] = '\0';
  return off < len ? off + 1 : 0;
}

/* Write @p name ("a.b.c", or "." for the root) as labels. */
static inline size_t
fake_put_name(uint8_t *p, const char *name)
{
  size_t o = 0;
  const char *s = name;

  while (*s != '\0' && strcmp(s, ".") != 0) {
    const char *dot = strchr(s, '.');
    size_t l = dot ? (size_t)(dot - s) : strlen(s);

    p[o++] = (uint8_t)l;
    memcpy(p + o, s, l);
    o += l;
    s += l + (dot ? 1 : 0);
  }
  p[o++] = 0;
  return o;
}

static inline void
put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
  put16(p, v >> 16);
  put16(p + 2, v & 0xFFFF);
}

/* Write @p s as a <character-string> (RFC 1035 section 3.3): a length
 * byte, then the bytes. */
static inline size_t
fake_put_cstr(uint8_t *p, const char *s)
{
  size_t l = strlen(s);

  p[0] = (uint8_t)l;
  memcpy(p + 1, s, l);
  return l + 1;
}

/* The mode that applies to a query of @p type. */
static inline int
fake_mode_for(int type)
{
  return fake.mode_type == 0 || fake.mode_type == type ? fake.mode
                                                       : FAKE_DNS_ANSWER;
}

/* Build in @p r the answer to the query @p q, whose question (@p name,
 * @p type) ends at @p qend. @return its length. */
static inline size_t
fake_answer(const uint8_t *q, size_t qend, const char *name, int type,
            uint8_t *r)
{
  size_t o = qend;
  int known = 0, an = 0, ns = 0, rcode = 0;

  memcpy(r, q, qend); /* ID, then the question echoed (RFC 1035 4.1.2) */
  for (int i = 0; i < fake.nrr; i++) {
    struct fake_rr *rr = &fake.rr[i];
    size_t rdlen;

    if (strcasecmp(rr->name, name) != 0)
      continue;
    known = 1;
    if (rr->type != type)
      continue;
    put16(r + o, 0xC00C); /* the owner: a pointer to the question's name */
    put16(r + o + 2, (unsigned)type);
    put16(r + o + 4, 1); /* IN */
    put32(r + o + 6, fake.ttl);
    o += 12; /* RDLENGTH is set below */
    if (type == T_SRV) {
      put16(r + o, rr->prio);
      put16(r + o + 2, rr->weight);
      put16(r + o + 4, rr->port);
      rdlen = 6 + fake_put_name(r + o + 6, rr->target);
    } else if (type == T_NAPTR) { /* RFC 3403 section 4.1 */
      put16(r + o, rr->order);
      put16(r + o + 2, rr->pref);
      rdlen = 4;
      rdlen += fake_put_cstr(r + o + rdlen, rr->flags);
      rdlen += fake_put_cstr(r + o + rdlen, rr->service);
      rdlen += fake_put_cstr(r + o + rdlen, rr->regexp);
      rdlen += fake_put_name(r + o + rdlen, rr->target);
    } else {
      rdlen = type == T_A ? 4 : 16;
      memcpy(r + o, rr->ip, rdlen);
    }
    put16(r + o - 2, (unsigned)rdlen);
    o += rdlen;
    an++;
  }
  if (fake_mode_for(type) == FAKE_DNS_SERVFAIL) {
    rcode = 2;
    an = 0;
    o = qend;
  } else if (!known) {
    rcode = 3; /* NXDOMAIN */
  }
  if (an == 0 && rcode != 2 && fake.soa_ttl) { /* RFC 2308 section 3 */
    put16(r + o, 0xC00C); /* owner: the name asked (a zone apex, say) */
    put16(r + o + 2, 6);  /* SOA */
    put16(r + o + 4, 1);
    put32(r + o + 6, fake.soa_ttl);
    put16(r + o + 10, 2 + 2 + 20);
    o += 12;
    put16(r + o, 0xC00C);     /* MNAME */
    put16(r + o + 2, 0xC00C); /* RNAME */
    put32(r + o + 4, 1);      /* SERIAL */
    put32(r + o + 8, 3600);   /* REFRESH */
    put32(r + o + 12, 600);   /* RETRY */
    put32(r + o + 16, 86400); /* EXPIRE */
    put32(r + o + 20, fake.soa_minimum);
    o += 24;
    ns = 1;
  }
  r[2] = (uint8_t)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
  r[3] = (uint8_t)(0x80 | rcode);                /* RA, RCODE */
  put16(r + 4, 1);
  put16(r + 6, (unsigned)an);
  put16(r + 8, (unsigned)ns);
  put16(r + 10, 0);
  return o;
}

static inline void
fake_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  (void)h;
  (void)suggested;
  buf->base = (char *)fake.rx;
  buf->len = sizeof fake.rx;
}

static inline void
fake_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
          const struct sockaddr *from, unsigned flags)
{
  const uint8_t *q = (const uint8_t *)buf->base;
  uint8_t r[16384]; /* 16 SRV or NAPTR records with 255-byte names fit */
  char name[256];
  size_t end, rlen;
  uv_buf_t out;
  int type;

  (void)flags;
  if (nread < 12 + 5 || from == NULL)
    return;
  end = fake_read_name(q, (size_t)nread, 12, name, sizeof name);
  if (end == 0 || end + 4 > (size_t)nread || q[4] != 0 || q[5] != 1)
    return;
  type = q[end] << 8 | q[end + 1];
  end += 4;
  ck_assert_int_lt(fake.nasked, FAKE_DNS_MAX_ASKED);
  strcpy(fake.asked[fake.nasked].name, name);
  fake.asked[fake.nasked].type = type;
  fake.nasked++;
  if (fake_mode_for(type) == FAKE_DNS_DROP)
    return;
  rlen = fake_answer(q, end, name, type, r);
  ck_assert_msg(rlen <= 512,
                "the answer to (%s, %d) is %zu bytes, over 512: c-ares would "
                "ask again over TCP",
                name, type, rlen);
  out = uv_buf_init((char *)r, (unsigned)rlen);
  ck_assert_int_eq(uv_udp_try_send(h, &out, 1, from), (int)rlen);
}

static inline void
fake_dns_start(void)
{
  int len = (int)sizeof fake.addr.u;

  memset(&fake, 0, sizeof fake);
  fake.ttl = 60;
  ck_assert_int_eq(cay__addr_set(&fake.addr, "127.0.0.1", 0), 0);
  ck_assert_int_eq(uv_udp_init(&loop, &fake.h), 0);
  ck_assert_int_eq(uv_udp_bind(&fake.h, &fake.addr.u.sa, 0), 0);
  ck_assert_int_eq(uv_udp_getsockname(&fake.h, &fake.addr.u.sa, &len), 0);
  ck_assert_int_eq(
      cay__addr_format(&fake.addr, fake.servers, sizeof fake.servers), 0);
  ck_assert_int_eq(uv_udp_recv_start(&fake.h, fake_alloc, fake_recv), 0);
}

static inline struct fake_rr *
fake_rr_add(const char *name, int type)
{
  struct fake_rr *rr;

  ck_assert_int_lt(fake.nrr, FAKE_DNS_MAX_RR);
  rr = &fake.rr[fake.nrr++];
  ck_assert_uint_lt(strlen(name), sizeof rr->name);
  strcpy(rr->name, name);
  rr->type = type;
  return rr;
}

static inline void
fake_a(const char *name, const char *ip)
{
  ck_assert_int_eq(inet_pton(AF_INET, ip, fake_rr_add(name, T_A)->ip), 1);
}

static inline void
fake_aaaa(const char *name, const char *ip)
{
  ck_assert_int_eq(inet_pton(AF_INET6, ip, fake_rr_add(name, T_AAAA)->ip), 1);
}

static inline void
fake_srv(const char *name, unsigned prio, unsigned weight, unsigned port,
         const char *target)
{
  struct fake_rr *rr = fake_rr_add(name, T_SRV);

  rr->prio = prio;
  rr->weight = weight;
  rr->port = port;
  ck_assert_uint_lt(strlen(target), sizeof rr->target);
  strcpy(rr->target, target);
}

/* A NAPTR record (RFC 3403 section 4.1) of @p name; @p replacement "."
 * for none. */
static inline void
fake_naptr(const char *name, unsigned order, unsigned pref, const char *flags,
           const char *service, const char *regexp, const char *replacement)
{
  struct fake_rr *rr = fake_rr_add(name, T_NAPTR);

  rr->order = order;
  rr->pref = pref;
  ck_assert_uint_lt(strlen(flags), sizeof rr->flags);
  ck_assert_uint_lt(strlen(service), sizeof rr->service);
  ck_assert_uint_lt(strlen(regexp), sizeof rr->regexp);
  ck_assert_uint_lt(strlen(replacement), sizeof rr->target);
  strcpy(rr->flags, flags);
  strcpy(rr->service, service);
  strcpy(rr->regexp, regexp);
  strcpy(rr->target, replacement);
}

/* Forget the queries asked so far (the log starts again). */
static inline void
fake_forget(void)
{
  fake.nasked = 0;
}

/* How many times (@p name, @p type) was asked. */
static inline int
fake_asked(const char *name, int type)
{
  int n = 0;

  for (int i = 0; i < fake.nasked; i++)
    n += fake.asked[i].type == type
         && strcasecmp(fake.asked[i].name, name) == 0;
  return n;
}

/* Where (@p name, @p type) was first asked in the log, or -1. */
static inline int
fake_first(const char *name, int type)
{
  for (int i = 0; i < fake.nasked; i++)
    if (fake.asked[i].type == type && strcasecmp(fake.asked[i].name, name) == 0)
      return i;
  return -1;
}

/* How many queries of @p type, for any name. */
static inline int
fake_asked_type(int type)
{
  int n = 0;

  for (int i = 0; i < fake.nasked; i++)
    n += fake.asked[i].type == type;
  return n;
}

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  fake_dns_start();
}

static void
teardown(void)
{
  uv_close((uv_handle_t *)&fake.h, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* ---- what the tests of the resolver share ---- */

#define NAME     "example.test"
#define UDP_SRV  "_sip._udp." NAME
#define TCP_SRV  "_sip._tcp." NAME
#define SIPS_SRV "_sips._tcp." NAME

/* The one answer to a cay__dns_locate(). */
struct answer {
  int calls;
  int inside; /* called while cay__dns_locate() had not returned */
  uint64_t id;
  int err;
  cay__dns_target_t t[CAY__DNS_MAX_TARGETS];
  size_t n;
};

static int in_locate;

static inline void
on_answer(void *arg, uint64_t id, int err, const cay__dns_target_t *t, size_t n)
{
  struct answer *a = arg;

  uv_stop(&loop); /* RUN_UNTIL() sees it at once (dns_fixture.h) */
  a->inside |= in_locate;
  a->calls++;
  a->id = id;
  a->err = err;
  a->n = n;
  if (err == 0) {
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_le(n, CAY__DNS_MAX_TARGETS);
    memcpy(a->t, t, n * sizeof *t);
  } else {
    ck_assert_uint_eq(n, 0);
  }
}

static inline void
on_closed(void *arg)
{
  uv_stop(&loop);
  ++*(int *)arg;
}

/* A resolver asking the fake server (@p o's servers are set to it). */
static inline cay__dns_t *
dns_open_with(cay__dns_opts_t o)
{
  cay__dns_t *d = NULL;
  char err[256] = "";

  o.servers = fake.servers;
  ck_assert_msg(cay__dns_create(&d, &loop, &o, err, sizeof err) == 0, "%s",
                err);
  ck_assert_ptr_nonnull(d);
  return d;
}

/* A resolver asking the fake server, keeping up to @p cache_entries
 * answers (0: no cache) for at most @p max_ttl_s, counting its lookups
 * in @p stats (may be NULL). */
static inline cay__dns_t *
dns_open_cached(int family, unsigned timeout_ms, unsigned cache_entries,
                unsigned max_ttl_s, cay_stats_t *stats)
{
  return dns_open_with((cay__dns_opts_t){ .timeout_ms = timeout_ms,
                                          .tries = 1,
                                          .family = family,
                                          .cache_entries = cache_entries,
                                          .cache_max_ttl_s = max_ttl_s,
                                          .stats = stats });
}

static inline cay__dns_t *
dns_open(int family, unsigned timeout_ms)
{
  return dns_open_cached(family, timeout_ms, 0, 0, NULL);
}

static inline void
dns_close(cay__dns_t *d)
{
  int closed = 0;

  cay__dns_close(d, on_closed, &closed);
  RUN_UNTIL(closed > 0, WAIT_MS);
  ck_assert_int_eq(closed, 1);
}

static inline int
locate(cay__dns_t *d, const char *host, unsigned port, int proto, int sips,
       struct answer *a, uint64_t id)
{
  cay__dns_query_t q = { host, port, proto, sips };
  int err;

  in_locate = 1;
  err = cay__dns_locate(d, &q, on_answer, a, id);
  in_locate = 0;
  return err;
}

/* Locate, then wait for the one answer, which comes later. */
static inline void
resolve(cay__dns_t *d, const char *host, unsigned port, int proto, int sips,
        struct answer *a)
{
  memset(a, 0, sizeof *a);
  ck_assert_int_eq(locate(d, host, port, proto, sips, a, 42), 0);
  ck_assert_int_eq(a->calls, 0);
  RUN_UNTIL(a->calls > 0, WAIT_MS);
  ck_assert_int_eq(a->calls, 1);
  ck_assert_int_eq(a->inside, 0);
  ck_assert_uint_eq(a->id, 42);
}

static inline void
on_wait(uv_timer_t *t)
{
  ++*(int *)t->data;
}

/* Run the loop for @p ms (the resolver's clock, uv_now(), moves on). */
static inline void
wait_ms(unsigned ms)
{
  uv_timer_t t;
  int done = 0;

  uv_timer_init(&loop, &t);
  t.data = &done;
  uv_timer_start(&t, on_wait, ms, 0);
  RUN_UNTIL(done, ms + WAIT_MS);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

static inline void
target_is(const struct answer *a, size_t i, const char *addr, int proto)
{
  char buf[64];

  ck_assert_uint_lt(i, a->n);
  ck_assert_int_eq(cay__addr_format(&a->t[i].addr, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, addr);
  ck_assert_str_eq(cay__proto_name(a->t[i].proto), cay__proto_name(proto));
  ck_assert_int_eq(a->t[i].proto, proto);
}

#endif
