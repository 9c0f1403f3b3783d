/*
 * MESSAGEs kept for an AOR that is not registered (b2bua/pager_store.c)
 * on a virtual clock: the sender gets 202 and the AOR's next REGISTER
 * has them sent to its contact, one at a time, in order, each with a
 * Date; one nobody took waits for the next REGISTER, one refused is
 * dropped, one too old is dropped; the per-AOR limit; storing off; a
 * failover target before the store; the hand-off to the AOR's shard; the
 * records of registrar.store, restored in another process.
 * The fixture's peer is sender and recipient both: the contact
 * registered is its own address, so Cay's MESSAGEs land in p->sent.
 */
#define _GNU_SOURCE /* memmem() */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua/pager.h"
#include "server/reg_store_int.h"
#include "core/alloc.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

static const char contact[] = "Contact: <sip:phone@127.0.0.1:5070>\r\n";

static cay_config_t
store_config(unsigned per_aor)
{
  cay_config_t cfg = location_config(0);

  cfg.reg_offline_messages = per_aor;
  cfg.reg_offline_message_s = 60;
  return cfg;
}

/* A MESSAGE to sip:@p user@127.0.0.1:5060 with Call-ID @p cid and body
 * @p text, from 127.0.0.1:5070. */
static void
message_to(peer_t *p, const char *user, const char *cid, const char *text)
{
  char buf[1024];
  int n = snprintf(buf, sizeof buf,
                   "MESSAGE sip:%s@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%s\r\n"
                   "From: \"Alice A\" <sip:alice@127.0.0.1:5070>;tag=f-%s\r\n"
                   "To: <sip:%s@127.0.0.1:5060>\r\n"
                   "Call-ID: %s\r\n"
                   "CSeq: 1 MESSAGE\r\n"
                   "Max-Forwards: 70\r\n"
                   "Content-Type: text/plain\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   user, cid, cid, user, cid, strlen(text), text);
  ck_assert_int_lt(n, (int)sizeof buf);
  peer_send_raw(p, buf, (size_t)n);
}

/* message_to() user service (SERVICE). */
static void
message(peer_t *p, const char *cid, const char *text)
{
  message_to(p, "service", cid, text);
}

/* The peer registers its contact for SERVICE with CSeq @p cseq: 200
 * (Cay may send a stored MESSAGE after it). */
static void
register_contact(peer_t *p, unsigned cseq)
{
  unsigned ok = peer_count(p, 200, NULL);

  (void)reg_send(p, "127.0.0.1", SERVICE, "r1", cseq, contact);
  ck_assert_uint_eq(peer_count(p, 200, NULL), ok + 1);
}

/* The status of Cay's last final response with Call-ID @p cid, or -1. */
static int
final_for(peer_t *p, const char *cid)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    char *id;
    int hit;

    if (peer_status(p, (unsigned)i) < 200)
      continue;
    id = peer_header(p, (unsigned)i, "Call-ID");
    hit = id && strcmp(id, cid) == 0;
    free(id);
    if (hit)
      return peer_status(p, (unsigned)i);
  }
  return -1;
}

/* Cay's last 480 has @p phrase in its status line. */
static void
last_480_says(peer_t *p, const char *phrase)
{
  int i = peer_find_last(p, 480, NULL);
  const char *eol;

  ck_assert_int_ge(i, 0);
  eol = strstr(p->sent[i].data, "\r\n");
  ck_assert_ptr_nonnull(eol);
  ck_assert_msg(strstr(p->sent[i].data, phrase) != NULL
                    && strstr(p->sent[i].data, phrase) < eol,
                "%.80s", p->sent[i].data);
}

/* The last MESSAGE Cay sent: to the contact, with body @p text and a
 * Date; its index. */
static int
sent_message(peer_t *p, const char *text)
{
  int i = peer_find_request(p, "MESSAGE", NULL);
  const char *body;
  char *date;

  ck_assert_int_ge(i, 0);
  ck_assert_int_eq(strncmp(p->sent[i].data,
                           "MESSAGE sip:phone@127.0.0.1:5070 SIP/2.0\r\n", 42),
                   0);
  body = strstr(p->sent[i].data, "\r\n\r\n");
  ck_assert_ptr_nonnull(body);
  ck_assert_str_eq(body + 4, text);
  ck_assert_ptr_nonnull(strstr(p->sent[i].data, "\"Alice A\" <sip:alice@"));
  date = peer_header(p, (unsigned)i, "Date");
  ck_assert_ptr_nonnull(date);
  ck_assert_msg(strstr(date, " GMT") != NULL, "Date: %s", date);
  free(date);
  return i;
}

/* Two MESSAGEs while not registered: 202 each, none sent. The REGISTER
 * has the first sent, the second only once the first got its 200. */
START_TEST(pager_store_kept_then_sent_in_order_on_register)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  int m;

  message(p, "m1", "first");
  message(p, "m2", "second");
  ck_assert_int_eq(final_for(p, "m1"), 202);
  ck_assert_int_eq(final_for(p, "m2"), 202);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 0);
  ck_assert_uint_eq(p->shard.stats.messages_stored, 2);

  register_contact(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);
  m = sent_message(p, "first");
  /* A refresh while it is out sends neither again. */
  register_contact(p, 2);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);
  peer_respond(p, (unsigned)m, "200", "t1", NULL);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  m = sent_message(p, "second");
  peer_respond(p, (unsigned)m, "202", "t2", NULL);
  ck_assert_uint_eq(p->shard.stats.messages_delivered, 2);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 0);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 0);

  /* Nothing is left: a refresh sends nothing. */
  register_contact(p, 3);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  peer_free(p);
}
END_TEST

/* A 480 from the contact keeps it for the next REGISTER; a 415 drops
 * it. */
START_TEST(pager_store_480_kept_415_dropped)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  int m;

  message(p, "m1", "first");
  register_contact(p, 1);
  m = sent_message(p, "first");
  peer_respond(p, (unsigned)m, "480", "t1", NULL);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 0);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);

  register_contact(p, 2);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  m = sent_message(p, "first");
  peer_respond(p, (unsigned)m, "415", "t1", NULL);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  ck_assert_uint_eq(p->shard.stats.messages_delivered, 0);

  register_contact(p, 3);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  peer_free(p);
}
END_TEST

/* registrar.offline_messages 2: the third gets 480 Message Store Full;
 * 0: none is kept (480 Not Registered); a failover target is tried
 * before the store. */
START_TEST(pager_store_limit_off_and_failover)
{
  cay_config_t cfg = store_config(2);
  peer_t *p = peer_new(&cfg);

  message(p, "m1", "1");
  message(p, "m2", "2");
  message(p, "m3", "3");
  ck_assert_int_eq(final_for(p, "m2"), 202);
  ck_assert_int_eq(final_for(p, "m3"), 480);
  last_480_says(p, "480 Temporarily Unavailable - Message Store "
                   "Full\r\n");
  ck_assert_uint_eq(p->shard.stats.messages_stored, 2);
  peer_free(p);

  cfg = store_config(0);
  p = peer_new(&cfg);
  message(p, "m1", "1");
  ck_assert_int_eq(final_for(p, "m1"), 480);
  last_480_says(p, "Not Registered\r\n");
  ck_assert_uint_eq(p->shard.stats.messages_stored, 0);
  register_contact(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 0);
  peer_free(p);

  cfg = location_config(1);
  cfg.reg_offline_messages = 5;
  p = peer_new(&cfg);
  message(p, "m1", "1");
  ck_assert_int_eq(peer_find_request(p, "MESSAGE", NULL), 0);
  ck_assert_int_eq(strncmp(p->sent[0].data, "MESSAGE sip:voicemail@", 22), 0);
  ck_assert_uint_eq(p->shard.stats.messages_stored, 0);
  peer_free(p);
}
END_TEST

/* Kept 60 s: not dropped at 59 s, dropped at 61 s; the REGISTER then
 * sends nothing. One out when it expires waits for its answer, even when
 * another AOR's expiring runs the timer meanwhile. */
START_TEST(pager_store_expires)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  int m;

  message(p, "m1", "old");
  peer_advance(p, 59000);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 0);
  message(p, "m2", "newer"); /* kept until 119 s */
  peer_advance(p, 2000);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  message_to(p, "service2", "o1", "other"); /* kept until 121 s */
  peer_advance(p, 29000);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  register_contact(p, 1);
  m = sent_message(p, "newer"); /* at 90 s: timer F at 122 s */
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);

  /* Out past its expiry: kept until its answer; a 480 then drops it. */
  peer_advance(p, 31000);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 2); /* o1 */
  peer_respond(p, (unsigned)m, "480", "t1", NULL);
  peer_advance(p, 0);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 3);
  peer_clear(p); /* its retransmissions */
  register_contact(p, 2);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 0);
  peer_free(p);
}
END_TEST

/* A reload that shortens offline_message_s: a MESSAGE kept after it
 * expires before the one kept before it, in the same box. */
START_TEST(pager_store_expiry_shortened_by_a_reload)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  struct cay__routes *routes = NULL;
  char err[256];

  message(p, "m1", "old"); /* until 60 s */
  cfg.reg_offline_message_s = 10;
  ck_assert_int_eq(cay__routes_new(&cfg, &routes, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, routes, &cfg);
  peer_advance(p, 1000);
  message(p, "m2", "new"); /* until 11 s */
  peer_advance(p, 10500);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  peer_advance(p, 48000); /* 59.5 s */
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  register_contact(p, 1);
  (void)sent_message(p, "old");
  peer_free(p);
}
END_TEST

/* One the AOR's shard keeps while a contact is bound goes at once. */
START_TEST(pager_store_put_while_registered_sends_at_once)
{
  static const char msg[]
      = "MESSAGE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-x1\r\n"
        "From: \"Alice A\" <sip:alice@127.0.0.1:5070>;tag=fx\r\n"
        "To: <sip:service@127.0.0.1:5060>\r\n"
        "Call-ID: x1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
        "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);

  register_contact(p, 1);
  ck_assert_int_eq(
      cay__pager_store_put(&p->ss, SERVICE, msg, sizeof msg - 1, &p->addr), 0);
  (void)sent_message(p, "hi");
  ck_assert_int_eq(
      cay__pager_store_put(&p->ss, "", msg, sizeof msg - 1, &p->addr), -EINVAL);
  /* Shut down with it out: freed, nothing leaks (peer_free checks). */
  peer_free(p);
}
END_TEST

/* What the AOR's shard was handed (cay__sessions_t.store_hand). */
typedef struct handed {
  unsigned n, to;
  cay_id_t pager;
  char aor[64];
  int fail;
} handed_t;

static int
hand(void *arg, unsigned to, cay_id_t pager, const char *aor, const char *msg,
     size_t len, const cay__addr_t *src)
{
  handed_t *h = arg;

  (void)src;
  ck_assert_ptr_nonnull(strstr(msg, "Call-ID: "));
  ck_assert_uint_gt(len, 0);
  h->n++;
  h->to = to;
  h->pager = pager;
  snprintf(h->aor, sizeof h->aor, "%s", aor);
  return h->fail;
}

/* An AOR of another shard: its MESSAGE is handed there, and the sender
 * gets that shard's answer: 202, 480 Message Store Full; a hand-off
 * that fails, 480 Not Registered. */
START_TEST(pager_store_handed_to_the_aors_shard)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  handed_t h = { 0 };
  unsigned n = 2;

  while (cay__aor_shard(SERVICE, strlen(SERVICE), n) == 0)
    n++;
  p->ss.nshards = n;
  p->ss.store_hand = hand;
  p->ss.store_arg = &h;

  message(p, "m1", "1");
  ck_assert_uint_eq(h.n, 1);
  ck_assert_uint_eq(h.to, cay__aor_shard(SERVICE, strlen(SERVICE), n));
  ck_assert_str_eq(h.aor, SERVICE);
  ck_assert_int_eq(final_for(p, "m1"), -1); /* waits for the answer */
  cay__pager_store_answer(&p->ss, h.pager, 0);
  ck_assert_int_eq(final_for(p, "m1"), 202);
  cay__pager_store_answer(&p->ss, h.pager, 0); /* late: no-op */

  message(p, "m2", "2");
  cay__pager_store_answer(&p->ss, h.pager, -ENOSPC);
  ck_assert_int_eq(final_for(p, "m2"), 480);
  last_480_says(p, "Message Store Full");

  h.fail = -ENOMEM;
  message(p, "m3", "3");
  ck_assert_int_eq(final_for(p, "m3"), 480);
  last_480_says(p, "Not Registered");
  ck_assert_uint_eq(p->shard.stats.messages_stored, 0); /* not here */

  /* No answer from the AOR's shard within timer F's time: 480. */
  h.fail = 0;
  message(p, "m5", "5");
  peer_advance(p, 64 * 500 - 1);
  ck_assert_int_eq(final_for(p, "m5"), -1);
  peer_advance(p, 1);
  ck_assert_int_eq(final_for(p, "m5"), 480);
  cay__pager_store_answer(&p->ss, h.pager, 0); /* too late: no-op */

  /* A relay waiting for the AOR's shard at shutdown: 503. */
  h.fail = 0;
  message(p, "m4", "4");
  ck_assert_int_eq(final_for(p, "m4"), -1);
  cay__pager_fini(&p->ss);
  ck_assert_int_eq(final_for(p, "m4"), 503);
  peer_free(p);
}
END_TEST

/* A reload that leaves no forward route with location for a kept
 * MESSAGE: the REGISTER drops it (logged, messages_dropped). */
START_TEST(pager_store_no_route_any_more_dropped)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  struct cay__routes *routes = NULL;
  char err[256];

  message(p, "m1", "1");
  ck_assert_int_eq(final_for(p, "m1"), 202);
  cfg.routes[0].location = 0;
  snprintf(cfg.routes[0].target, sizeof cfg.routes[0].target,
           "sip:other@127.0.0.1:5072");
  ck_assert_int_eq(cay__routes_new(&cfg, &routes, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, routes, &cfg);
  register_contact(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 0);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 1);
  peer_free(p);
}
END_TEST

/* What the store's hook (cay__sessions_t.store_msgs) was told. */
typedef struct told {
  unsigned n;
  char aor[64];
} told_t;

static void
told(void *arg, const char *aor)
{
  told_t *t = arg;

  t->n++;
  snprintf(t->aor, sizeof t->aor, "%s", aor);
}

#define WALL 1700000000000ull /* a wall-clock time, ms since 1970 */

/* registrar.store's records: each change tells the hook; the record of
 * two kept MESSAGEs restores them in another process (expiring when the
 * record says, their Date kept), sent in order at the REGISTER; a record
 * of expired ones restores none; a damaged one nothing; one over
 * MESSAGEs kept since the start nothing. */
START_TEST(pager_store_record_restored_after_a_restart)
{
  cay_config_t cfg = store_config(5);
  peer_t *p = peer_new(&cfg);
  told_t t = { 0 };
  char *rec, *rec2, *date;
  size_t len, len2;
  uint64_t ttl;
  unsigned n;
  int m;

  p->ss.store_msgs = told;
  p->ss.store_msgs_arg = &t;
  message(p, "m1", "first");
  message(p, "m2", "second");
  ck_assert_uint_eq(t.n, 2);
  ck_assert_str_eq(t.aor, SERVICE);
  peer_advance(p, 10000);
  ck_assert_int_eq(
      cay__pager_store_record(&p->ss, SERVICE, WALL, &rec, &len, &ttl), 0);
  ck_assert_ptr_nonnull(rec);
  ck_assert_int_eq(strncmp(rec, "cay-messages 1\n", 15), 0);
  /* Outside Cay's allocator: peer_free() counts what is left of it. */
  rec2 = malloc(len + 1);
  memcpy(rec2, rec, len);
  rec2[len] = '\0'; /* for strstr() below */
  cay__free(rec);
  rec = rec2;
  ck_assert_uint_eq(ttl, 50000);
  ck_assert_int_eq(cay__pager_store_record(&p->ss, "sip:nobody@127.0.0.1", WALL,
                                           &rec2, &len2, &ttl),
                   0);
  ck_assert_ptr_null(rec2);
  peer_free(p); /* the record stays: the hook is not told */
  ck_assert_uint_eq(t.n, 2);

  /* Another process, 20 s later: 30 s left of the 60. */
  cfg.reg_offline_messages = 0; /* restored even when storing is off now */
  p = peer_new(&cfg);
  ck_assert_int_eq(
      cay__pager_store_restore(&p->ss, SERVICE, rec, len - 1, WALL + 20000, &n),
      -EINVAL); /* cut short */
  ck_assert_int_eq(cay__pager_store_restore(&p->ss, SERVICE, rec + 1, len - 1,
                                            WALL + 20000, &n),
                   -EINVAL);
  ck_assert_int_eq(
      cay__pager_store_restore(&p->ss, SERVICE, rec, len, WALL + 20000, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_int_eq(
      cay__pager_store_restore(&p->ss, SERVICE, rec, len, WALL + 20000, &n), 0);
  ck_assert_uint_eq(n, 0); /* kept in memory already: newer */
  p->ss.store_msgs = told;
  p->ss.store_msgs_arg = &t;
  register_contact(p, 1);
  m = sent_message(p, "first");
  date = peer_header(p, (unsigned)m, "Date");
  ck_assert_ptr_nonnull(strstr(rec, date)); /* when it first came */
  free(date);
  peer_respond(p, (unsigned)m, "200", "t1", NULL);
  ck_assert_uint_eq(t.n, 3); /* one left */
  ck_assert_int_eq(
      cay__pager_store_record(&p->ss, SERVICE, WALL, &rec2, &len2, &ttl), 0);
  ck_assert_ptr_nonnull(rec2);
  ck_assert_ptr_null(memmem(rec2, len2, "first", 5));
  cay__free(rec2);
  m = sent_message(p, "second");
  peer_respond(p, (unsigned)m, "200", "t2", NULL);
  ck_assert_uint_eq(t.n, 4);
  ck_assert_int_eq(
      cay__pager_store_record(&p->ss, SERVICE, WALL, &rec2, &len2, &ttl), 0);
  ck_assert_ptr_null(rec2); /* none left: the key is to go */
  peer_free(p);

  /* Restored 45 s after it was written: 5 s left, then dropped. */
  p = peer_new(&cfg);
  ck_assert_int_eq(
      cay__pager_store_restore(&p->ss, SERVICE, rec, len, WALL + 45000, &n), 0);
  ck_assert_uint_eq(n, 2);
  peer_advance(p, 4900);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 0);
  peer_advance(p, 200);
  ck_assert_uint_eq(p->shard.stats.messages_dropped, 2);
  /* After its expiry: nothing. */
  ck_assert_int_eq(
      cay__pager_store_restore(&p->ss, SERVICE, rec, len, WALL + 60000, &n), 0);
  ck_assert_uint_eq(n, 0);
  peer_free(p);

  /* Every cut and every byte changed: restored or refused, nothing read
   * past the end (each copy exactly as long, for ASan). */
  p = peer_new(&cfg);
  for (size_t cut = 0; cut <= len; cut++)
    for (int flip = -1; flip < (int)cut; flip += 7) {
      char *copy = malloc(cut ? cut : 1);
      int rc;

      memcpy(copy, rec, cut);
      if (flip >= 0)
        copy[flip] ^= 0x5a;
      rc = cay__pager_store_restore(&p->ss, "sip:cut@127.0.0.1", copy, cut,
                                    WALL, &n);
      ck_assert_msg(rc == 0 || rc == -EINVAL, "cut %zu flip %d: %d", cut, flip,
                    rc);
      ck_assert_uint_le(n, 2);
      free(copy);
    }
  peer_free(p);
  free(rec);
}
END_TEST

/* registrar.store's keys: an AOR's own, its kept MESSAGEs', and neither. */
START_TEST(pager_store_keys_of_registrar_store)
{
  static const char prefix[] = "cay:aor:";
  static const struct {
    const char *key;
    size_t len;
    const char *aor; /* NULL: neither */
    int msgs;
  } cases[] = {
    { "cay:aor:sip:bob@example.com", 27, "sip:bob@example.com", 0 },
    { "cay:aor:msgs:sip:bob@example.com", 32, "sip:bob@example.com", 1 },
    { "cay:aor:msgs:", 13, "msgs:", 0 }, /* no AOR after it: not msgs */
    { "cay:aor:", 8, NULL, 0 },
    { "cay:aor:sip:a\0b", 15, NULL, 0 },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int msgs = -1;
    size_t alen = 0;
    const char *aor = cay__reg_store_key_aor(prefix, cases[i].key, cases[i].len,
                                             &msgs, &alen);

    if (cases[i].aor == NULL) {
      ck_assert_ptr_null(aor);
      continue;
    }
    ck_assert_ptr_nonnull(aor);
    ck_assert_uint_eq(alen, strlen(cases[i].aor));
    ck_assert_int_eq(strncmp(aor, cases[i].aor, alen), 0);
    ck_assert_int_eq(msgs, cases[i].msgs);
  }
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("pager_store");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, pager_store_kept_then_sent_in_order_on_register);
  tcase_add_test(tc, pager_store_480_kept_415_dropped);
  tcase_add_test(tc, pager_store_limit_off_and_failover);
  tcase_add_test(tc, pager_store_expires);
  tcase_add_test(tc, pager_store_expiry_shortened_by_a_reload);
  tcase_add_test(tc, pager_store_put_while_registered_sends_at_once);
  tcase_add_test(tc, pager_store_handed_to_the_aors_shard);
  tcase_add_test(tc, pager_store_no_route_any_more_dropped);
  tcase_add_test(tc, pager_store_record_restored_after_a_restart);
  tcase_add_test(tc, pager_store_keys_of_registrar_store);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
