/*
 * Path (RFC 3327): a UA registers through proxies that add Path values;
 * the registrar keeps them with its bindings (and the other shards'
 * copies), names them in the 200 when the UA supports path, and calls to
 * the binding go through them: the B leg's INVITE carries them as its
 * Route (a preloaded route set, RFC 3261 section 8.1.2) and goes to the
 * first, and so does its CANCEL (9.1); the dialog's route set is then
 * the 2xx's Record-Route (12.1.2).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registrar/registrar.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

/* Where the scripted peer sends from (support/peer.h). */
static cay__addr_t ctx_peer_addr;

#define EDGE_PATH "<sip:edge@192.0.2.50:5099;lr>, <sip:core@192.0.2.51;lr>"
/* The UA's contact: behind the edge proxy, private, reached only by it. */
#define PHONE "sip:phone@10.0.0.7:5060"

/* The values of header @p name in sent message @p i as Cay wrote them,
 * every line of it joined by ", " (the same field, RFC 3261 section
 * 7.3.1), or "" when it has none. Into @p buf. */
static const char *
line_of(peer_t *p, unsigned i, const char *name, char *buf, size_t size)
{
  char key[32];
  const char *at = p->sent[i].data, *end;
  size_t n = 0;

  snprintf(key, sizeof key, "\r\n%s: ", name);
  buf[0] = '\0';
  while ((at = strstr(at, key)) != NULL) {
    at += strlen(key);
    end = strstr(at, "\r\n");
    n += (size_t)snprintf(buf + n, size - n, "%s%.*s", n ? ", " : "",
                          (int)(end ? end - at : (long)strlen(at)), at);
    ck_assert_uint_lt(n, size);
  }
  return buf;
}

static void
register_through_edge(peer_t *p, unsigned cseq, const char *supported)
{
  char extra[512];

  snprintf(extra, sizeof extra,
           "Contact: <" PHONE ">\r\n"
           "Path: <sip:edge@192.0.2.50:5099;lr>\r\n"
           "Path: <sip:core@192.0.2.51;lr>\r\n%s",
           supported);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", cseq, extra), 200);
}

/* Section 5.3: the Path values are stored in order, as one Route value,
 * and named in the 200 only to a UA that says Supported: path; the
 * binding takes no flow (the REGISTER came from the proxy). */
START_TEST(path_3327_5_3_stored_and_echoed)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__contact_t c;
  char buf[600];

  register_through_edge(p, 1, "Supported: path\r\n");
  ck_assert_str_eq(line_of(p, p->nsent - 1, "Path", buf, sizeof buf),
                   EDGE_PATH);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, &c, 1), 1);
  ck_assert_str_eq(c.path, EDGE_PATH);
  ck_assert_int_eq(c.by_flow, 0);
  /* A refresh without Supported: path keeps them, and names none. */
  register_through_edge(p, 2, "");
  ck_assert_str_eq(line_of(p, p->nsent - 1, "Path", buf, sizeof buf), "");
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, &c, 1), 1);
  ck_assert_str_eq(c.path, EDGE_PATH);
  /* A refresh straight from the UA drops them. */
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", SERVICE, "r1", 3, "Contact: <" PHONE ">\r\n"),
      200);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, &c, 1), 1);
  ck_assert_str_eq(c.path, "");
  peer_free(p);
}
END_TEST

/* What the other shards are told (cay__registrar_set_share()). */
static char told_path[CAY__PATH_MAX + 1];

static void
record(void *arg, const cay__binding_change_t *c)
{
  (void)arg;
  snprintf(told_path, sizeof told_path, "%s", c->path ? c->path : "(none)");
}

/* The other shards are told the Path with the binding, and a copy learnt
 * from them (cay__registrar_learn()) calls through it too. */
START_TEST(path_shared_with_the_other_shards)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__binding_change_t c = { .aor = "sip:copy@127.0.0.1",
                              .contact = "sip:phone@10.0.0.8",
                              .q = -1,
                              .expires_ms = 60000,
                              .path = "<sip:edge@192.0.2.50;lr>" };
  cay__contact_t got;

  cay__registrar_set_share(p->ss.reg, record, NULL);
  register_through_edge(p, 1, "");
  ck_assert_str_eq(told_path, EDGE_PATH);
  cay__registrar_learn(p->ss.reg, &c);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, c.aor, &got, 1), 1);
  ck_assert_str_eq(got.path, "<sip:edge@192.0.2.50;lr>");
  cay__registrar_set_share(p->ss.reg, NULL, NULL);
  peer_free(p);
}
END_TEST

/* Path values over CAY__PATH_MAX: 400, no binding. */
START_TEST(path_too_long_400)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  char extra[2048] = "Contact: <" PHONE ">\r\n";
  cay__contact_t c;

  for (int i = 0; i < 12; i++)
    snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
             "Path: <sip:proxy%d-with-a-rather-long-name@192.0.2.%d;lr>\r\n", i,
             i + 1);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, extra), 400);
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, SERVICE, &c, 1), 0);
  peer_free(p);
}
END_TEST

/* A call to the binding goes through the Path: the INVITE to the edge
 * (its address, not the contact's) with the Path as Route and the
 * contact as Request-URI; A's CANCEL makes a CANCEL with the same Route
 * to the same place. */
START_TEST(path_3327_call_goes_through_it)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__addr_t edge;
  char buf[600];

  ck_assert_int_eq(cay__addr_set(&edge, "192.0.2.50", 5099), 0);
  register_through_edge(p, 1, "Supported: path\r\n");
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, PHONE);
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &edge));
  ck_assert_str_eq(line_of(p, (unsigned)inv, "Route", buf, sizeof buf),
                   EDGE_PATH);
  respond(p, (unsigned)inv, "180", "Contact: <" PHONE ">\r\n", NULL);
  a_request(p, "CANCEL", "z9hG4bK-a-inv", "1", "");
  int cancel = b_msg(p, 0, "CANCEL");
  ck_assert_int_gt(cancel, inv);
  ck_assert(cay__addr_eq(&p->sent[cancel].dst, &edge));
  ck_assert_str_eq(line_of(p, (unsigned)cancel, "Route", buf, sizeof buf),
                   EDGE_PATH);
  respond(p, (unsigned)cancel, "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("path");

  (void)cay__addr_set(&ctx_peer_addr, "127.0.0.1", 5070);
  TCase *tc = tcase_create("rfc3327");

  tcase_add_test(tc, path_3327_5_3_stored_and_echoed);
  tcase_add_test(tc, path_too_long_400);
  tcase_add_test(tc, path_shared_with_the_other_shards);
  tcase_add_test(tc, path_3327_call_goes_through_it);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
