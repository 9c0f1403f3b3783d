/*
 * The fixture of the DNS resolver tests (test_dns.c): a real libuv loop
 * and, on it, a fake DNS server standing in for the resolver's name
 * server. The server is a uv_udp_t bound to 127.0.0.1 port 0 (its
 * "127.0.0.1:PORT" is in fake.servers); it answers each query from a
 * table of records the test sets (A, AAAA, SRV), as RFC 1035 section 4.1
 * lays a message out:
 *
 *   - a name with records of the type asked: NOERROR, those records in
 *     table order, owner names as the pointer 0xC00C to the question
 *     (RFC 1035 section 4.1.4), SRV targets as full names;
 *   - a name in the table without records of that type: NOERROR, no
 *     answers (what c-ares calls ENODATA);
 *   - a name not in the table: NXDOMAIN (RCODE 3).
 *
 * Two modes replace answering: FAKE_DNS_DROP ignores every query (the
 * resolver times out) and FAKE_DNS_SERVFAIL answers RCODE 2. In every
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

/* RR types (RFC 1035 section 3.2.2, RFC 3596, RFC 2782). */
#define T_A    1
#define T_AAAA 28
#define T_SRV  33

enum { FAKE_DNS_ANSWER, FAKE_DNS_DROP, FAKE_DNS_SERVFAIL };

#define FAKE_DNS_MAX_RR    16
#define FAKE_DNS_MAX_ASKED 64

struct fake_rr {
  char name[256];
  int type;
  uint8_t ip[16]; /* A: 4 bytes, AAAA: 16 */
  unsigned prio, weight, port;
  char target[256]; /* SRV; "." for "no service" */
};

struct fake_dns {
  uv_udp_t h;
  cay__addr_t addr;
  char servers[64]; /* "127.0.0.1:PORT", for cay__dns_opts_t.servers */
  int mode;
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
static struct fake_dns fake;
static long live_at_start;

struct guard {
  uv_timer_t t;
  int fired;
};

static inline void
on_guard(uv_timer_t *t)
{
  ((struct guard *)t->data)->fired = 1;
}

static inline void
guard_start(struct guard *g, uint64_t ms)
{
  g->fired = 0;
  ck_assert_int_eq(uv_timer_init(&loop, &g->t), 0);
  g->t.data = g;
  ck_assert_int_eq(uv_timer_start(&g->t, on_guard, ms, 0), 0);
}

static inline void
guard_stop(struct guard *g)
{
  uv_close((uv_handle_t *)&g->t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* Run the loop until @p cond holds or @p ms pass. A callback that can
 * make @p cond true from a timer (as the resolver's answers come) calls
 * uv_stop(): libuv 1.44's UV_RUN_ONCE runs the due timers first, then
 * polls until the next one, here the guard, unless the loop is stopped. */
#define RUN_UNTIL(cond, ms)                                                    \
  do {                                                                         \
    struct guard g_;                                                           \
    guard_start(&g_, (ms));                                                    \
    while (!(cond) && !g_.fired)                                               \
      uv_run(&loop, UV_RUN_ONCE);                                              \
    guard_stop(&g_);                                                           \
  } while (0)

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

/* Build in @p r the answer to the query @p q, whose question (@p name,
 * @p type) ends at @p qend. @return its length. */
static inline size_t
fake_answer(const uint8_t *q, size_t qend, const char *name, int type,
            uint8_t *r)
{
  size_t o = qend;
  int known = 0, an = 0, rcode = 0;

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
    put16(r + o + 4, 1);                /* IN */
    memcpy(r + o + 6, "\0\0\0\x3c", 4); /* TTL 60 s */
    o += 12;                            /* RDLENGTH is set below */
    if (type == T_SRV) {
      put16(r + o, rr->prio);
      put16(r + o + 2, rr->weight);
      put16(r + o + 4, rr->port);
      rdlen = 6 + fake_put_name(r + o + 6, rr->target);
    } else {
      rdlen = type == T_A ? 4 : 16;
      memcpy(r + o, rr->ip, rdlen);
    }
    put16(r + o - 2, (unsigned)rdlen);
    o += rdlen;
    an++;
  }
  if (fake.mode == FAKE_DNS_SERVFAIL) {
    rcode = 2;
    an = 0;
    o = qend;
  } else if (!known) {
    rcode = 3; /* NXDOMAIN */
  }
  r[2] = (uint8_t)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
  r[3] = (uint8_t)(0x80 | rcode);                /* RA, RCODE */
  put16(r + 4, 1);
  put16(r + 6, (unsigned)an);
  put16(r + 8, 0);
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
  uint8_t r[8192]; /* 16 SRV records with 255-byte targets fit */
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
  if (fake.mode == FAKE_DNS_DROP)
    return;
  rlen = fake_answer(q, end, name, type, r);
  out = uv_buf_init((char *)r, (unsigned)rlen);
  ck_assert_int_eq(uv_udp_try_send(h, &out, 1, from), (int)rlen);
}

static inline void
fake_dns_start(void)
{
  int len = (int)sizeof fake.addr.u;

  memset(&fake, 0, sizeof fake);
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

#endif
