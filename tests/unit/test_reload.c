/*
 * Reload (cay_server_reload(), cay's SIGHUP): a shard takes new routes and
 * values for what comes next, and a call keeps the route it was routed
 * by. On the scripted peer's virtual clock for the session layer
 * (cay__sessions_reload()), on a real server for the API's errors and
 * its warnings about values that need a restart.
 *
 * peer_free() proves that no allocation is left: a route table that a
 * reload put aside is freed with the last call that held it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua/route.h"
#include "cay/cay.h"
#include "core/log.h"
#include "server/server_int.h"
#include "support/peer.h"
#include "support/run.h"

/* A forward route for users starting "serv" (to the peer) with the route
 * limit @p max_s, or, with @p reject_code, a route that rejects all. */
static cay_config_t
config(long max_s, unsigned reject_code)
{
  cay_config_t cfg;
  cay_route_t *r = &cfg.routes[0];

  cay_config_init(&cfg);
  if (reject_code) {
    r->action = CAY_ROUTE_REJECT;
    r->code = reject_code;
    snprintf(r->reason, sizeof r->reason, "Forbidden - Reloaded");
  } else {
    snprintf(r->ruri_user, sizeof r->ruri_user, "^serv");
    r->action = CAY_ROUTE_FORWARD;
    snprintf(r->target, sizeof r->target, "sip:${ruri_user}@127.0.0.1:5070");
    r->max_duration_s = max_s;
  }
  cfg.n_routes = 1;
  return cfg;
}

/* Hand @p cfg to the peer's shard as cay_server_reload() does. */
static void
reload(peer_t *p, const cay_config_t *cfg)
{
  cay__routes_t *t = NULL;
  char err[256];

  if (cfg->n_routes)
    ck_assert_int_eq(cay__routes_new(cfg, &t, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, t, cfg);
}

static void
invite(peer_t *p, const char *callid, const char *branch)
{
  peer_send(p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5060",
            "branch", branch, "fromtag", "ft1", "callid", callid, "codecs",
            "0 8", "extra", "", NULL);
}

/* The B leg's INVITE @p i answered @p status by the callee (tag b1). */
static void
respond_b(peer_t *p, unsigned i, const char *status, const char *sdp)
{
  peer_respond_sdp(p, i, status, "b1",
                   "Contact: <sip:callee@127.0.0.1:5070>\r\n", sdp);
}

START_TEST(reload_bridged_call_keeps_its_route_new_invites_take_the_new)
{
  cay_config_t forward = config(2, 0), reject = config(-1, 403);
  peer_t *p = peer_new(&forward);
  char tag[64];

  invite(p, "a-leg", "z9hG4bK-a-inv");
  int inv = peer_find_request(p, "INVITE", NULL);
  ck_assert_int_ge(inv, 0);
  char *b_call = peer_header(p, (unsigned)inv, "Call-ID");
  respond_b(p, (unsigned)inv, "180", NULL);
  /* The reload comes while B rings: the forward route is gone from the
   * shard's table, and a new INVITE takes the new one. */
  reload(p, &reject);
  invite(p, "second", "z9hG4bK-second");
  int r = peer_find_last(p, 403, NULL);
  ck_assert_int_ge(r, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[r].data, "403 Forbidden - Reloaded"));
  ck_assert_uint_eq(p->ss.bridges, 1);
  /* B answers after the reload: the bridge still has its route, whose
   * max duration (2 s, where the new configuration's dialog limit is
   * 7200 s) ends the call with a BYE to each leg. */
  respond_b(p, (unsigned)inv, "200", peer_callee_sdp);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  peer_send(p, "request.sip", "method", "ACK", "branch", "z9hG4bK-a-ack",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", tag,
            "maxfwd", "70", "extra", "", NULL);
  peer_advance(p, 1900);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 100);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  int bye_a = peer_find_request(p, "BYE", "a-leg");
  int bye_b = peer_find_request(p, "BYE", b_call);
  free(b_call);
  ck_assert_int_ge(bye_a, 0);
  ck_assert_int_ge(bye_b, 0);
  peer_respond(p, (unsigned)bye_a, "200", NULL, NULL);
  peer_respond(p, (unsigned)bye_b, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  /* The old table went with the bridge; the new one with the shard. */
  peer_free(p);
}
END_TEST

START_TEST(reload_values_taken_by_new_calls)
{
  cay_config_t reject = config(-1, 403), next;
  peer_t *p = peer_new(&reject);

  invite(p, "first", "z9hG4bK-first");
  ck_assert_int_eq(peer_last_status(p), 403);
  /* No routes any more (every INVITE answered), a 1 s ring, and at most
   * one transaction in flight. */
  cay_config_init(&next);
  next.ring_ms = 1000;
  next.max_transactions = 1;
  reload(p, &next);
  peer_clear(p);
  invite(p, "second", "z9hG4bK-second");
  ck_assert_uint_eq(peer_count(p, 180, NULL), 0);
  /* A second INVITE while the first is in flight: over the limit. */
  invite(p, "third", "z9hG4bK-third");
  ck_assert_int_eq(peer_last_status(p), 503);
  peer_advance(p, 999);
  ck_assert_uint_eq(peer_count(p, 180, NULL), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 180, NULL), 1);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 1);
  ck_assert_uint_eq(p->ss.shard->stats.overload_rejected, 1);
  peer_free(p);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The API on a running server.                                        */
/* ------------------------------------------------------------------ */

static struct {
  char lines[16][512];
  unsigned n;
} logged;

static void
keep_line(int level, const char *line, void *arg)
{
  (void)arg;
  if (level <= CAY_LOG_WARN && logged.n < 16)
    snprintf(logged.lines[logged.n++], sizeof logged.lines[0], "%s", line);
}

static int
was_logged(const char *text)
{
  for (unsigned i = 0; i < logged.n; i++)
    if (strstr(logged.lines[i], text))
      return 1;
  return 0;
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  (void)srv;
  *(int *)arg = 1;
}

START_TEST(reload_api_errors_and_values_kept_until_restart)
{
  uv_loop_t loop;
  cay_server_t *srv;
  cay_config_t cfg, next;
  char err[256] = "";
  int closed = 0;

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  cay_config_init(&cfg);
  cfg.n_listen = 1;
  snprintf(cfg.listen[0].proto, sizeof cfg.listen[0].proto, "udp");
  snprintf(cfg.listen[0].host, sizeof cfg.listen[0].host, "127.0.0.1");
  cfg.listen[0].port = 0;
  cfg.shards = 2;
  cfg.log_level = CAY_LOG_WARN;
  ck_assert_int_eq(cay_server_create(&srv, &loop, &cfg), 0);
  cay__log_set_sink(keep_line, NULL);
  ck_assert_int_eq(cay_server_reload(srv, &cfg, err, sizeof err), CAY_ESTATE);
  ck_assert_ptr_nonnull(strstr(err, "not started"));
  ck_assert_int_eq(cay_server_start(srv), 0);

  /* A route that does not compile: refused with its path, nothing
   * taken (a later reload is compared with the running values). */
  next = config(-1, 0);
  snprintf(next.routes[0].ruri_user, sizeof next.routes[0].ruri_user, "(");
  next.shards = 3;
  ck_assert_int_eq(cay_server_reload(srv, &next, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "routes[0]"));
  ck_assert_uint_eq(logged.n, 0);

  /* Good routes; shards and the listen list changed: logged and kept;
   * the rest taken, on shard 0 at once: what it reads is the new
   * configuration with the running values put back. */
  next = config(-1, 403);
  next.shards = 3;
  next.listen[0].port = 5999;
  next.log_level = CAY_LOG_WARN;
  next.reg_ban_failures = 7;
  next.reg_flow_timer_s = 30;
  snprintf(next.media_ip, sizeof next.media_ip, "192.0.2.1");
  ck_assert_int_eq(cay_server_reload(srv, &next, err, sizeof err), 0);
  ck_assert(was_logged("reload: shards changed (2 -> 3): takes effect at a "
                       "restart"));
  ck_assert(was_logged("reload: listen changed"));
  ck_assert(was_logged("reload: answer.media_ip changed (127.0.0.1 -> "
                       "192.0.2.1)"));
  ck_assert_uint_eq(cay_server_shards(srv), 2);
  const cay_config_t *taken = &srv->workers[0]->ss.cfg;
  ck_assert_uint_eq(taken->reg_ban_failures, 7);
  ck_assert_uint_eq(taken->reg_flow_timer_s, 30);
  ck_assert_uint_eq(taken->routes[0].code, 403);
  ck_assert_uint_eq(taken->shards, 2);
  ck_assert_uint_eq(taken->listen[0].port, 0);
  ck_assert_str_eq(taken->media_ip, "127.0.0.1");

  cay_server_close(srv, 0, on_closed, &closed);
  ck_assert_int_eq(cay_server_reload(srv, &next, err, sizeof err), CAY_ESTATE);
  ck_assert_ptr_nonnull(strstr(err, "closing"));
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  cay__log_set_sink(NULL, NULL);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *
reload_suite(void)
{
  Suite *s = suite_create("reload");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc,
                 reload_bridged_call_keeps_its_route_new_invites_take_the_new);
  tcase_add_test(tc, reload_values_taken_by_new_calls);
  tcase_add_test(tc, reload_api_errors_and_values_kept_until_restart);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(reload_suite());
}
