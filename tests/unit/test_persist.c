/*
 * The registrar's bindings as a store keeps them (registrar/persist.c):
 * each change of an own AOR told to the store hook, an AOR as a record,
 * and a record bound again by a later registrar for the time it has left
 * (RFC 3261 section 10.3; flows, RFC 5626 section 7).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "registrar/registrar.h"
#include "support/peer.h"
#include "support/mutate.h"
#include "support/register.h"
#include "support/run.h"

#define WALL 1800000000000ull /* a wall-clock time, ms since 1970 */

/* What the store hook was told. */
typedef struct told {
  unsigned n;
  char aor[CAY__AOR_MAX];
} told_t;

static void
store_hook(void *arg, const char *aor)
{
  told_t *t = arg;

  t->n++;
  snprintf(t->aor, sizeof t->aor, "%s", aor);
}

/* @p aor's record in @p p now (NULL: no binding), NUL-terminated. */
static char *
record_of(peer_t *p, const char *aor, uint64_t wall, uint64_t *ttl)
{
  char *rec, *text;
  size_t len;

  ck_assert_int_eq(cay__registrar_record(p->ss.reg, aor, wall, &rec, &len, ttl),
                   0);
  if (rec == NULL)
    return NULL;
  text = malloc(len + 1);
  memcpy(text, rec, len);
  text[len] = '\0';
  cay__free(rec);
  return text;
}

static int
restore(peer_t *p, const char *aor, const char *rec, uint64_t wall,
        cay__restore_counts_t *n)
{
  return cay__registrar_restore(p->ss.reg, aor, rec, strlen(rec), wall, n);
}

/* Two contacts, one behind a NAT (a UDP flow), one through a Path, are
 * written as a record and bound by a new registrar 30 s later: the same
 * contacts in the same order, the flow and the Path kept, each for what
 * it had left; the new registrar's store hook is not told of them. */
START_TEST(record_round_trip_time_left)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg), *q;
  cay__restore_counts_t n = { 0 };
  cay__contact_t c[4], d[4];
  told_t t = { 0 };
  uint64_t ttl;
  char *rec;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 7,
                            "Contact: <sip:desk@10.0.0.7:5070>;q=0.9\r\n"
                            "Expires: 100\r\n"),
                   200);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 8,
                            "Contact: <sip:phone@192.0.2.4:5060>;q=0.5\r\n"
                            "Path: <sip:edge@192.0.2.9;lr>\r\n"
                            "Supported: path\r\nExpires: 300\r\n"),
                   200);
  peer_advance(p, 10000);
  rec = record_of(p, SERVICE, WALL, &ttl);
  ck_assert_ptr_nonnull(rec);
  ck_assert_uint_eq(ttl, 290000); /* the longer one's time left */
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, c, 4), 2);
  ck_assert_int_eq(c[0].by_flow, 1);

  q = peer_new(&cfg);
  cay__registrar_set_store(q->ss.reg, store_hook, &t);
  ck_assert_int_eq(restore(q, SERVICE, rec, WALL + 30000, &n), 0);
  ck_assert_uint_eq(n.restored, 2);
  ck_assert_uint_eq(n.expired + n.dropped, 0);
  ck_assert_uint_eq(t.n, 0);
  ck_assert_uint_eq(cay__registrar_lookup(q->ss.reg, SERVICE, d, 4), 2);
  for (unsigned i = 0; i < 2; i++) {
    ck_assert_str_eq(d[i].uri, c[i].uri);
    ck_assert_int_eq(d[i].q, c[i].q);
    ck_assert_int_eq(d[i].by_flow, c[i].by_flow);
    ck_assert_str_eq(d[i].path, c[i].path);
  }
  ck_assert_int_eq(cay__addr_eq(&d[0].flow.addr, &c[0].flow.addr), 1);
  ck_assert_int_eq(d[0].flow.proto, c[0].flow.proto);
  ck_assert_str_eq(d[1].path, "<sip:edge@192.0.2.9;lr>");
  ck_assert_uint_eq(cay__registrar_bindings(q->ss.reg), 2);

  /* desk had 90 s at WALL, so 60 s at the restore. */
  peer_advance(q, 59000);
  ck_assert_uint_eq(cay__registrar_lookup(q->ss.reg, SERVICE, d, 4), 2);
  peer_advance(q, 1000);
  ck_assert_uint_eq(cay__registrar_lookup(q->ss.reg, SERVICE, d, 4), 1);
  ck_assert_str_eq(d[0].uri, "sip:phone@192.0.2.4:5060");
  ck_assert_uint_eq(t.n, 1); /* the expiry is a change to write */
  free(rec);
  peer_free(q);
  peer_free(p);
}
END_TEST

/* The store hook hears of an add, a refresh, a removal (the AOR then has
 * no record) and an expiry; not of the registrar going away. */
START_TEST(store_told_of_each_change)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  told_t t = { 0 };
  uint64_t ttl;

  cay__registrar_set_store(p->ss.reg, store_hook, &t);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 100\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 1);
  ck_assert_str_eq(t.aor, SERVICE);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 2,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 100\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 2);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 3,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 0\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 3);
  ck_assert_ptr_null(record_of(p, SERVICE, WALL, &ttl));

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 4,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 60\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 4);
  peer_advance(p, 60000);
  ck_assert_uint_eq(t.n, 5);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 0);

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 5,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 6);
  peer_free(p); /* the binding outlives the process: no word */
  ck_assert_uint_eq(t.n, 6);
}
END_TEST

/* A removal for an AOR with no binding here (one a late load has not
 * restored yet) is told to the store all the same, which deletes what it
 * holds of it; a query, a refused removal, and a removal of a contact
 * the AOR does not have while it has others change nothing to tell. */
START_TEST(store_told_of_a_removal_with_nothing_to_remove)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  told_t t = { 0 };

  cay__registrar_set_store(p->ss.reg, store_hook, &t);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 0\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 1);
  ck_assert_str_eq(t.aor, SERVICE);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 2,
                            "Contact: *\r\nExpires: 0\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 2);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 3, ""), 200);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 4,
                            "Contact: *\r\nExpires: 60\r\n"),
                   400);
  ck_assert_uint_eq(t.n, 2);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 0);

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 5,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 60\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 3);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 6,
                            "Contact: <sip:phone@127.0.0.1:5071>\r\n"
                            "Expires: 0\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 3);
  peer_free(p);
}
END_TEST

/* One binding's line: expires at @p exp, @p flags, @p proto, @p flow,
 * @p rest (reg_id, Call-ID, instance, path, contact). */
static void
line(char *out, size_t size, uint64_t exp, unsigned flags, unsigned proto,
     const char *flow, const char *rest)
{
  snprintf(out, size, "%llu\t1\t-1\t%u\t%u\t%s\t%s\n", (unsigned long long)exp,
           flags, proto, flow, rest);
}

/* What a new process cannot use: a binding whose time ran out, one that
 * nothing but a TCP connection reached (gone with the process that had
 * it: RFC 5626 section 7), while one registered from its own host over
 * TCP is called at its contact. An AOR left without binding is none. */
START_TEST(restore_expired_and_connections_gone)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__restore_counts_t n = { 0 };
  char rec[1024], l[3][256];
  cay__contact_t c[4];

  line(l[0], sizeof l[0], WALL - 1, 0, 0, "-",
       "0\tcid\t\t\tsip:old@127.0.0.1:5070");
  line(l[1], sizeof l[1], WALL + 60000, 3, 1, "127.0.0.1:40000",
       "1\tcid\t\"<urn:uuid:1>\"\t\tsip:nat@10.0.0.7:5070;transport=tcp");
  line(l[2], sizeof l[2], WALL + 60000, 1, 1, "127.0.0.1:40001",
       "0\tcid\t\t\tsip:own@127.0.0.1:5090;transport=tcp");
  snprintf(rec, sizeof rec, "cay-bindings 1\n%s%s%s", l[0], l[1], l[2]);
  ck_assert_int_eq(restore(p, SERVICE, rec, WALL, &n), 0);
  ck_assert_uint_eq(n.restored, 1);
  ck_assert_uint_eq(n.expired, 1);
  ck_assert_uint_eq(n.dropped, 1);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, c, 4), 1);
  ck_assert_str_eq(c[0].uri, "sip:own@127.0.0.1:5090;transport=tcp");
  ck_assert_int_eq(c[0].by_flow, 0);

  snprintf(rec, sizeof rec, "cay-bindings 1\n%s", l[0]);
  memset(&n, 0, sizeof n);
  ck_assert_int_eq(restore(p, "sip:gone@127.0.0.1", rec, WALL, &n), 0);
  ck_assert_uint_eq(n.expired, 1);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 1);
  peer_free(p);
}
END_TEST

/* Escaped text comes back as it was: a Path with a tab, a Call-ID with
 * '%'. */
START_TEST(restore_unescapes_fields)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__restore_counts_t n = { 0 };
  cay__contact_t c[1];
  char rec[512], l[256];
  uint64_t ttl;
  char *back;

  line(l, sizeof l, WALL + 5000, 0, 0, "-",
       "0\t100%25\t\t<sip:a@192.0.2.1;lr>,%09<sip:b@192.0.2.2;lr>\t"
       "sip:x@192.0.2.3\t7");
  snprintf(rec, sizeof rec, "cay-bindings 2\n%s", l);
  ck_assert_int_eq(restore(p, SERVICE, rec, WALL, &n), 0);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, c, 1), 1);
  ck_assert_str_eq(c[0].path, "<sip:a@192.0.2.1;lr>,\t<sip:b@192.0.2.2;lr>");
  back = record_of(p, SERVICE, WALL, &ttl);
  ck_assert_str_eq(back, rec); /* and is written as it came */
  ck_assert_uint_eq(ttl, 5000);
  free(back);
  peer_free(p);
}
END_TEST

/* Whatever is not a record of Cay's, or names no AOR, binds nothing and
 * says so; an AOR bound before is left as it was. A record of version 1
 * (eleven fields, no keepalive) is one; version 2 has twelve. */
START_TEST(restore_refuses_what_is_not_a_record)
{
  static const char *const bad[] = {
    "cay-bindings 3\n", /* version */
    "cay-bindings 2\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 2\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\tx\n",
    "cay-bindings 2\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\t-1\n",
    "cay-bindings 2\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\t0\t0\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b", /* LF */
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\tsip:a@b\n", /* 10 */
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\tx\n",
    "cay-bindings 1\nsoon\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t1001\t0\t0\t-\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t8\t0\t-\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t5\t-\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t1\t0\tnowhere\t0\tc\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc%0\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc%00\t\t\tsip:a@b\n",
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\t\t\t\n", /* contact */
    "cay-bindings 1\n1900000000000\t1\t-1\t0\t0\t-\t0\tc\tinst\t\tsip:a@b\n",
  };
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__restore_counts_t n = { 0 };
  cay__contact_t c[2];
  char good[256];

  snprintf(good, sizeof good,
           "cay-bindings 1\n%llu\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\n",
           (unsigned long long)WALL + 60000);
  ck_assert_int_eq(restore(p, SERVICE, good, WALL, &n), 0);
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_msg(restore(p, SERVICE, bad[i], WALL, &n) == -EINVAL,
                  "record %u taken", i);
    ck_assert_msg(restore(p, "sip:fresh@127.0.0.1", bad[i], WALL, &n)
                      == -EINVAL,
                  "record %u taken", i);
  }
  ck_assert_int_eq(restore(p, "service@127.0.0.1", good, WALL, &n), -EINVAL);
  ck_assert_int_eq(restore(p, "sip:no user", good, WALL, &n), -EINVAL);
  ck_assert_int_eq(
      cay__registrar_restore(p->ss.reg, SERVICE, good, 20, WALL, &n), -EINVAL);
  ck_assert_uint_eq(n.restored, 1);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 1);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, c, 2), 1);
  ck_assert_str_eq(c[0].uri, "sip:a@b");
  snprintf(good, sizeof good,
           "cay-bindings 2\n%llu\t1\t-1\t0\t0\t-\t0\tc\t\t\tsip:a@b\t30\n",
           (unsigned long long)WALL + 60000);
  ck_assert_int_eq(restore(p, SERVICE, good, WALL, &n), 0);
  ck_assert_uint_eq(n.restored, 2);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, c, 2), 1);
  /* A user that was %20 in its URI is a space in the AOR (cay__aor_of()
   * unescapes it): an AOR all the same. */
  ck_assert_int_eq(restore(p, "sip:john doe@127.0.0.1", good, WALL, &n), 0);
  ck_assert_uint_eq(
      cay__registrar_lookup(p->ss.reg, "sip:john doe@127.0.0.1", c, 2), 1);
  peer_free(p);
}
END_TEST

/* 3,000 damaged copies of a good record (byte flips, cuts, tabs, line
 * breaks, NULs): each is refused (-EINVAL, nothing bound) or bound; what
 * is bound is written back as a record that a fresh registrar binds to
 * the same record again (nothing read is lost or changed on the way). */
START_TEST(restore_damaged_records)
{
  cay_config_t cfg = location_config(0);
  uint8_t seed[32] = { 7 };
  char good[512], buf[1024];
  unsigned taken = 0;
  cay__rand_t r;

  snprintf(good, sizeof good,
           "cay-bindings 2\n"
           "%llu\t4\t500\t1\t0\t127.0.0.1:5070\t0\tc%%251\t\t\t"
           "sip:a@10.0.0.7:5070\t25\n"
           "%llu\t9\t-1\t0\t0\t-\t2\tc2\t\"<urn:uuid:9>\"\t"
           "<sip:e@192.0.2.9;lr>\tsip:b@192.0.2.4\t0\n",
           (unsigned long long)WALL + 90000, (unsigned long long)WALL + 5000);
  cay__rand_seed(&r, seed);
  for (unsigned i = 0; i < 3000; i++) {
    peer_t *p = peer_new(&cfg), *q;
    cay__restore_counts_t n = { 0 };
    size_t len = mutate_sip(&r, good, strlen(good), buf, sizeof buf);
    uint64_t ttl;
    char *once, *twice;
    int rc = cay__registrar_restore(p->ss.reg, SERVICE, buf, len, WALL, &n);

    ck_assert_msg(rc == 0 || rc == -EINVAL, "damage %u: %d", i, rc);
    if (rc != 0 || n.restored == 0) {
      ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 0);
      peer_free(p);
      continue;
    }
    taken++;
    once = record_of(p, SERVICE, WALL, &ttl);
    q = peer_new(&cfg);
    ck_assert_int_eq(restore(q, SERVICE, once, WALL, &n), 0);
    twice = record_of(q, SERVICE, WALL, &ttl);
    ck_assert_str_eq(twice, once);
    free(once);
    free(twice);
    peer_free(q);
    peer_free(p);
  }
  ck_assert_uint_gt(taken, 0); /* some damage leaves a record */
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("persist");
  TCase *tc = tcase_create("rfc3261_10_3");

  tcase_add_test(tc, record_round_trip_time_left);
  tcase_add_test(tc, store_told_of_each_change);
  tcase_add_test(tc, store_told_of_a_removal_with_nothing_to_remove);
  tcase_add_test(tc, restore_expired_and_connections_gone);
  tcase_add_test(tc, restore_unescapes_fields);
  tcase_add_test(tc, restore_refuses_what_is_not_a_record);
  tcase_add_test(tc, restore_damaged_records);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
