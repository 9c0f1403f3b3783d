/*
 * Bad input loses nothing (brief, DESIGN.md section 7): mutated SIP
 * messages fed through the whole stack of one shard (parse, validation,
 * transactions, sessions) on a virtual clock, with time moving between
 * them. Nothing may crash (ASan/UBSan in make test), and at the end every
 * allocation must be given back (peer_free checks) and no state be left
 * once the timers have run out.
 *
 * Deterministic: a fixed seed, so a failure replays.
 */
#include <check.h>

#include "support/run.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "support/mutate.h"
#include "support/peer.h"

#define ROUNDS     100000
#define MAX_CORPUS 96

typedef struct corpus {
  char *msg[MAX_CORPUS];
  size_t len[MAX_CORPUS];
  unsigned n;
} corpus_t;

static void
add(corpus_t *c, const char *data, size_t len)
{
  if (c->n == MAX_CORPUS)
    return;
  c->msg[c->n] = malloc(len);
  memcpy(c->msg[c->n], data, len);
  c->len[c->n++] = len;
}

/* Valid messages of every kind Cay handles, plus the torture files. */
static void
load_corpus(corpus_t *c)
{
  static const char *const valid[] = {
    "INVITE sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-f1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\n"
    "To: <sip:svc@127.0.0.1>\r\nCall-ID: fz1\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sip:a@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n"
    "Content-Length: 94\r\n\r\nv=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
    "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n",
    "ACK sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-f2\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:svc@127.0.0.1>;"
    "tag=t\r\nCall-ID: fz1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
    "BYE sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-f3\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:svc@127.0.0.1>;"
    "tag=t\r\nCall-ID: fz1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
    "CANCEL sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-f1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:svc@127.0.0.1>\r\n"
    "Call-ID: fz1\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
    "OPTIONS sip:svc@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-f4\r\nFrom: <sip:a@x>;tag=2\r\nTo: <sip:svc@127.0.0.1>\r\n"
    "Call-ID: fz2\r\nCSeq: 7 OPTIONS\r\nRequire: x\r\nContent-Length: "
    "0\r\n\r\n",
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
    "From: <sip:svc@127.0.0.1>;tag=t\r\nTo: <sip:a@x>;tag=1\r\n"
    "Call-ID: fz1\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
  };
  char path[512];
  DIR *d;
  struct dirent *e;

  for (unsigned i = 0; i < sizeof valid / sizeof valid[0]; i++)
    add(c, valid[i], strlen(valid[i]));
  snprintf(path, sizeof path, "%s/rfc4475", CAY_TEST_DATA);
  d = opendir(path);
  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL) {
    if (!strstr(e->d_name, ".dat"))
      continue;
    char file[1024], buf[65536];
    snprintf(file, sizeof file, "%s/%s", path, e->d_name);
    FILE *f = fopen(file, "rb");
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    add(c, buf, n);
  }
  closedir(d);
}

START_TEST(fuzz_mutated_messages_lose_nothing)
{
  static char buf[70000];
  uint8_t seed[32] = { 42 };
  corpus_t c = { 0 };
  cay__rand_t r;
  uint64_t fed = 0;
  peer_t *p = peer_new(NULL);

  cay__rand_seed(&r, seed);
  load_corpus(&c);
  p->discard = 1; /* what Cay sends is counted, not kept */
  for (unsigned i = 0; i < ROUNDS; i++) {
    unsigned pick = cay__rand_u32(&r) % c.n;
    size_t n = cay__rand_u32(&r) % 8 == 0
                   ? c.len[pick] /* sometimes the message unchanged */
                   : mutate_sip(&r, c.msg[pick], c.len[pick], buf, sizeof buf);
    if (n == c.len[pick])
      memcpy(buf, c.msg[pick], n);
    if (n) {
      peer_send_raw(p, buf, n);
      fed++;
    }
    if (i % 64 == 0)
      peer_advance(p, cay__rand_u32(&r) % 5000);
  }
  /* Every timer runs out: nothing may be left behind. */
  peer_advance(p, 600000);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0);
  ck_assert_uint_eq(p->shard.stats.dialogs_live, 0);
  ck_assert_uint_eq(p->shard.stats.msgs_in, fed);
  /* Most mutants are bad input, counted as such. */
  ck_assert_uint_gt(p->shard.stats.parse_errors, fed / 4);
  ck_assert_uint_eq(p->ndiscarded, p->shard.stats.msgs_out);
  for (unsigned i = 0; i < c.n; i++)
    free(c.msg[i]);
  peer_free(p); /* no allocation left */
}
END_TEST

/* REGISTERs for the registrar (RFC 3261 section 10.3): several Contacts
 * with parameters, "*", a query, credentials. */
static void
load_registers(corpus_t *c)
{
  static const char *const regs[] = {
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-r1;rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@"
    "example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: rg1\r\n"
    "CSeq: 1 REGISTER\r\nContact: <sip:a@127.0.0.1:5070>;q=0.5;expires=120, "
    "<sip:a@127.0.0.1:5071;transport=tcp>\r\nExpires: 3600\r\n"
    "Content-Length: 0\r\n\r\n",
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-r2;rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@"
    "example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: rg1\r\n"
    "CSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\n"
    "Content-Length: 0\r\n\r\n",
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-r3;rport\r\nMax-Forwards: 70\r\nFrom: <sip:%62ob@"
    "Example.COM:5060>;tag=1\r\nTo: <sip:%62ob@Example.COM:5060>\r\n"
    "Call-ID: rg2\r\nCSeq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n",
    "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;"
    "branch=z9hG4bK-r4;rport\r\nMax-Forwards: 70\r\nFrom: <sip:bob@"
    "example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: rg3\r\n"
    "CSeq: 3 REGISTER\r\nContact: <sip:b@127.0.0.1:5070>\r\n"
    "Authorization: Digest username=\"bob\", realm=\"example.com\", "
    "nonce=\"000000000000000a0123456789abcdef\", uri=\"sip:example.com\", "
    "response=\"0123456789abcdef0123456789abcdef\", qop=auth, nc=00000001, "
    "cnonce=\"x\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n",
  };

  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
    add(c, regs[i], strlen(regs[i]));
}

/* The registrar, with and without digest users: mutated REGISTERs lose
 * nothing either, and every binding expires. */
START_TEST(fuzz_mutated_registers_lose_nothing)
{
  static char buf[70000];
  uint8_t seed[32] = { 7 };
  corpus_t c = { 0 };
  cay__rand_t r;
  cay_config_t cfg;

  cay_config_init(&cfg);
  cfg.n_routes = 1;
  cfg.routes[0].action = CAY_ROUTE_REGISTER;
  load_registers(&c);
  cay__rand_seed(&r, seed);
  for (int users = 0; users < 2; users++) {
    peer_t *p;

    cfg.n_reg_users = (unsigned)users;
    strcpy(cfg.reg_users[0].username, "bob");
    strcpy(cfg.reg_users[0].password, "pw");
    p = peer_new(&cfg);
    p->discard = 1;
    for (unsigned i = 0; i < ROUNDS / 10; i++) {
      unsigned pick = cay__rand_u32(&r) % c.n;
      size_t n
          = cay__rand_u32(&r) % 4 == 0
                ? c.len[pick]
                : mutate_sip(&r, c.msg[pick], c.len[pick], buf, sizeof buf);
      if (n == c.len[pick])
        memcpy(buf, c.msg[pick], n);
      if (n)
        peer_send_raw(p, buf, n);
      if (i % 64 == 0)
        peer_advance(p, cay__rand_u32(&r) % 5000);
    }
    /* Without users, many are taken (a retransmission is answered by its
     * transaction, not counted again); with users, a mutant cannot forge
     * credentials: none is. */
    if (users)
      ck_assert_uint_eq(p->shard.stats.registers, 0);
    else
      ck_assert_uint_gt(p->shard.stats.registers, 20);
    peer_advance(p, 4000000); /* past every binding's max_expires_s */
    ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
    ck_assert_uint_eq(p->ep.live_txns, 0);
    peer_free(p); /* no allocation left */
  }
  for (unsigned i = 0; i < c.n; i++)
    free(c.msg[i]);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("fuzz");
  TCase *tc = tcase_create("fuzz");

  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, fuzz_mutated_messages_lose_nothing);
  tcase_add_test(tc, fuzz_mutated_registers_lose_nothing);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
