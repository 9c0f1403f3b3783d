/*
 * Random calls through the B2BUA bridge on a virtual clock: the state
 * machine of src/b2bua/bridge.c meets every order of events a caller (A),
 * a callee (B) and the clock can produce, with some messages damaged on
 * the way.
 *
 * Each call starts with A's INVITE (with an offer, without one, with no
 * codec of the route's, video only, or broken SDP). Then 1 to MAX_EVENTS
 * events are drawn at random: A retransmits, CANCELs, ACKs, sends BYE,
 * re-INVITE (with an offer or without), UPDATE, INFO or REFER, CANCELs
 * its re-INVITE, answers what Cay sent it; B answers Cay's INVITE (100,
 * 180, 183, 200, failures), answers Cay's other requests, sends BYE,
 * re-INVITE, an empty INFO, a NOTIFY or ACK; time moves by a few ms up to past
 * the ring timeout. One request or response in MUTATE_ONE_IN is damaged
 * (support/mutate.h; support/bridge_random.h has the senders and
 * the checks). Then the clock runs on until every timer is out.
 *
 * The second test adds C, a new caller whose INVITE names A's dialog in a
 * Replaces header (RFC 3891, the end of an attended transfer): C may send
 * it before A's dialog is confirmed (481), retransmit it, CANCEL it, ACK
 * Cay's answer (with its own when its INVITE had no offer), hang up, or
 * answer Cay's BYE; half of those calls start answered and ACKed.
 *
 * The third gives the route two failover targets (ports 5071 and 5072):
 * B's 408, 480 or 5xx makes Cay call the next one, a new B leg the
 * events go on with.
 *
 * After every call, whatever happened (RFC 3261, and the brief's rule that
 * bad input loses nothing):
 * - A's INVITE got at most one final status (exactly one when it was sent
 *   undamaged): a 2xx only if B answered;
 * - C's INVITE got exactly one final status when it went out undamaged;
 * - each leg got at most one BYE from Cay (retransmissions of it aside);
 * - every undamaged 2xx from B to Cay's INVITE was ACKed (13.2.2.4);
 * - every message Cay sent parses;
 * - no session, bridge, dialog or transaction is left, and (at the end,
 *   peer_free) no allocation.
 *
 * Deterministic: a fixed seed, so a failure replays; the failure message
 * gives the call's number and its events. To explore other draws:
 * CAY_RANDOM_SEED=<text> CAY_RANDOM_CALLS=<n> ./test_bridge_random; to see
 * one call's messages, CAY_RANDOM_TRACE=<call number>.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rand.h"
#include "dialog/session_int.h"
#include "support/bridge_random.h"
#include "support/peer.h"
#include "support/run.h"

#define CALLS      1500
#define MAX_EVENTS 24
#define RING_S     6
#define MAX_S      20

static const char sdp_ok[] = "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                             "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                             "m=audio 6000 RTP/AVP 0 8 101\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n";
static const char sdp_g729[] = "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\n"
                               "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                               "m=audio 6000 RTP/AVP 18\r\n";
static const char sdp_video[] = "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\n"
                                "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                "m=video 6002 RTP/AVP 96\r\n"
                                "a=rtpmap:96 H264/90000\r\n";
static const char sdp_bad[] = "v=0\r\nm=audio x\r\n";
static const char sdp_b[] = "v=0\r\no=callee 1 1 IN IP4 127.0.0.9\r\ns=-\r\n"
                            "c=IN IP4 127.0.0.9\r\nt=0 0\r\n"
                            "m=audio 7000 RTP/AVP 0 8\r\n";

/* B answers Cay's INVITE. */
static void
b_answers_invite(call_t *c)
{
  static const int st[]
      = { 100, 180, 183, 200, 200, 200, 486, 503, 487, 408, 603 };
  /* Early mode: more 183s, to meet more early dialogs. */
  static const int early_st[] = { 180, 183, 183, 183, 200, 200, 486, 503 };
  int s = c->early ? early_st[rnd_pick(c, sizeof early_st / sizeof early_st[0])]
                   : st[rnd_pick(c, sizeof st / sizeof st[0])];
  char rel[48] = "";
  int clean;

  /* Early mode (draws nothing otherwise): two in three 1xx reliable (RFC
   * 3262); after a reliable 183 (its SDP answered A's offer) one 2xx in
   * two without SDP. */
  if (c->early && s > 100 && s < 200 && rnd_pick(c, 3))
    snprintf(rel, sizeof rel, "Require: 100rel\r\nRSeq: %u\r\n", ++c->b_rseq);
  clean = rnd_reply_with(
      c, (unsigned)c->b_inv, s, rel,
      s == 183 || (s == 200 && !(c->b_rel_sdp && rnd_pick(c, 2))) ? sdp_b
                                                                  : NULL);
  if (s == 183 && rel[0])
    c->b_rel_sdp = 1;

  if (s == 200) {
    c->b_2xx = 1;
    /* Cay owes an ACK while its transaction can still match (32 s). */
    if (clean && !c->b_final_sent && c->now - c->b_inv_at < 30000)
      c->b_2xx_owed = 1;
  }
  if (s >= 200)
    c->b_final_sent = 1;
}

/* A or B answers Cay's latest request to it. */
static void
answer_request(call_t *c, int i, const char *sdp)
{
  static const int st[] = { 200, 200, 200, 481, 500, 491, 487, 415, 202 };
  int s = st[rnd_pick(c, sizeof st / sizeof st[0])];
  const char *m;

  if (i < 0)
    return;
  m = peer_method(c->p, (unsigned)i);
  rnd_reply(c, (unsigned)i, s,
            s == 200 && (!strcmp(m, "INVITE") || !strcmp(m, "UPDATE")) ? sdp
                                                                       : NULL);
}

/* C's INVITE, naming A's dialog once Cay gave it a tag; retransmitted
 * (undamaged) until it has a final response. */
static void
c_invites(call_t *c)
{
  if (c->c_sent) {
    if (c->n_c_finals == 0) {
      rnd_note(c, "%s", "C:INVITE(again) ");
      peer_send_raw(c->p, c->c_invite, c->c_invite_len);
    }
    return;
  }
  if (!c->a_tag[0])
    return;
  c->c_sent = 1;
  c->c_offer = rnd_pick(c, 3) != 0; /* one in three without (13.2.1) */
  snprintf(c->c_branch, sizeof c->c_branch, "z9hG4bK-c%u-0", c->id);
  c->c_invite_len = rnd_build_c(c, c->c_invite, sizeof c->c_invite, "INVITE",
                                c->c_branch, 1, c->c_offer ? sdp_ok : NULL);
  rnd_note(c, "%s",
           c->c_offer ? "C:INVITE(replaces) "
                      : "C:INVITE(replaces, no offer) ");
  c->c_invite_clean = rnd_inject(c, c->c_invite, c->c_invite_len);
}

/* C CANCELs its INVITE, or hangs up once it has a 2xx. */
static void
c_ends(call_t *c)
{
  if (!c->c_sent)
    return;
  if (c->c_final >= 0 && peer_status(c->p, (unsigned)c->c_final) < 300
      && rnd_pick(c, 2))
    rnd_c_send(c, "BYE", NULL, ++c->c_cseq, NULL);
  else
    rnd_c_send(c, "CANCEL", c->c_branch, 1, NULL);
}

/* C ACKs Cay's final response (a failure's in its transaction, a 2xx's
 * with the answer when C's INVITE had no offer), or answers Cay's
 * latest request to it. */
static void
c_acks_or_answers(call_t *c)
{
  int st;

  if (c->c_final < 0 || rnd_pick(c, 2)) {
    answer_request(c, c->c_req, sdp_ok);
    return;
  }
  st = peer_status(c->p, (unsigned)c->c_final);
  rnd_c_send(c, "ACK", st >= 300 ? c->c_branch : NULL, 1,
             st < 300 && !c->c_offer ? sdp_ok : NULL);
}

/* Early mode: A PRACKs Cay's latest reliable provisional (RFC 3262;
 * one time in two), or B or A changes the session by UPDATE in its early
 * dialog (RFC 3311; B's without an offer one time in four). */
static void
early_event(call_t *c)
{
  switch (rnd_pick(c, 4)) {
  case 0:
  case 1:
    if (c->a_rseq && c->a_tag[0])
      rnd_a_send(c, "PRACK", NULL, ++c->a_cseq, NULL, NULL);
    break;
  case 2:
    if (c->b_inv >= 0)
      rnd_b_send(c, "UPDATE", NULL, ++c->b_cseq, rnd_pick(c, 4) ? sdp_b : NULL);
    break;
  default:
    if (c->a_tag[0])
      rnd_a_send(c, "UPDATE", NULL, ++c->a_cseq, sdp_ok, "application/sdp");
    break;
  }
  rnd_scan(c);
}

static void
event(call_t *c)
{
  static const char *const offers[] = { sdp_ok, sdp_ok, sdp_g729, sdp_bad };
  const char *offer;

  if (c->early && rnd_pick(c, 3) == 0) {
    early_event(c);
    return;
  }
  offer = offers[rnd_pick(c, 4)];

  /* With C, about one event in five is C's, A ACKs more often (C's INVITE names
   * a dialog A must have confirmed) and B answers more often (the
   * re-INVITE carrying C's offer). */
  switch (rnd_pick(c, c->with_c ? 29 : 20)) {
  case 0:
    /* Undamaged: a damaged copy could get a 400 of its own. Only before
     * A saw a final response: later, once Timer I has run out, the same
     * INVITE is a new call (RFC 3261 17.2.1). */
    if (c->n_a_finals == 0) {
      rnd_note(c, "%s", "A:INVITE(again) ");
      peer_send_raw(c->p, c->invite, c->invite_len);
    }
    break;
  case 1:
    rnd_a_send(c, "CANCEL", c->invite_branch, 1, NULL, NULL);
    break;
  case 2:
  case 25: /* with C: A ACKs more often */
    if (c->a_final >= 0)
      rnd_ack(c, (unsigned)c->a_final, 1, sdp_ok);
    break;
  case 3:
    rnd_a_send(c, "BYE", NULL, ++c->a_cseq, NULL, NULL);
    break;
  case 4: /* without a To tag it would be a new call */
    if (c->a_tag[0]) {
      /* One in four without an offer (RFC 3261 section 14.1). */
      snprintf(c->a_re_branch, sizeof c->a_re_branch, "z9hG4bK-a%u-%u", c->id,
               ++c->branch);
      c->a_re_cseq = ++c->a_cseq;
      rnd_a_send(c, "INVITE", c->a_re_branch, c->a_re_cseq,
                 rnd_pick(c, 4) ? offer : NULL, "application/sdp");
    }
    break;
  case 5:
    rnd_a_send(c, "UPDATE", NULL, ++c->a_cseq, offer, "application/sdp");
    break;
  case 6: /* RFC 6086 INFO, or an RFC 3515 REFER */
    if (rnd_pick(c, 3))
      rnd_a_send(c, "INFO", NULL, ++c->a_cseq, "Signal=5\r\nDuration=160\r\n",
                 "application/dtmf-relay");
    else
      rnd_a_send(c, "REFER", NULL, ++c->a_cseq, NULL, NULL);
    break;
  case 7:
    answer_request(c, c->a_req, sdp_ok);
    break;
  case 8:
  case 9:
    if (c->b_inv >= 0)
      b_answers_invite(c);
    break;
  case 10:
    answer_request(c, c->b_req, sdp_b);
    break;
  case 11: /* RFC 3261 section 15: a callee MUST NOT BYE an early dialog */
    if (c->b_inv >= 0 && c->b_2xx)
      rnd_b_send(c, "BYE", NULL, ++c->b_cseq, NULL);
    break;
  case 12:
    if (c->b_inv >= 0)
      rnd_b_send(c, "INVITE", NULL, ++c->b_cseq, rnd_pick(c, 3) ? sdp_b : NULL);
    break;
  case 13:
    if (c->b_final >= 0)
      rnd_ack(c, (unsigned)c->b_final, 0, NULL);
    break;
  case 14:
  case 15:
    rnd_advance(c, rnd_pick(c, 400));
    break;
  case 16:
    rnd_advance(c, 1000 + rnd_pick(c, 8000));
    break;
  case 17: /* 9.2: A CANCELs its latest re-INVITE */
    if (c->a_re_branch[0])
      rnd_a_send(c, "CANCEL", c->a_re_branch, c->a_re_cseq, NULL, NULL);
    break;
  case 18: /* an empty INFO (RFC 6086), or a NOTIFY (RFC 6665) from B */
    if (c->b_inv >= 0 && c->b_2xx) {
      if (rnd_pick(c, 2))
        rnd_b_send(c, "INFO", NULL, ++c->b_cseq, NULL);
      else
        rnd_b_send(c, "NOTIFY", NULL, ++c->b_cseq, "SIP/2.0 200 OK\r\n");
    }
    break;
  case 20:
  case 21:
    c_invites(c);
    break;
  case 22:
    c_ends(c);
    break;
  case 23:
  case 24:
    c_acks_or_answers(c);
    break;
  case 26:
  case 27:
  case 28:
    answer_request(c, c->b_req, sdp_b);
    break;
  default:
    rnd_advance(c, rnd_pick(c, 30));
    break;
  }
  rnd_scan(c);
}

/* A's INVITE: an offer (most often one the route's codecs allow), none
 * (delayed offer), no common codec, video only, or broken SDP. */
static void
start(call_t *c)
{
  static const char *const offers[]
      = { sdp_ok, sdp_ok, sdp_ok, sdp_ok,   sdp_ok,    sdp_ok,
          sdp_ok, NULL,   NULL,   sdp_g729, sdp_video, sdp_bad };
  const char *offer = offers[rnd_pick(c, sizeof offers / sizeof offers[0])];

  snprintf(c->a_cid, sizeof c->a_cid, "rnd-%u", c->id);
  snprintf(c->c_cid, sizeof c->c_cid, "rnd-c-%u", c->id);
  c->c_final = c->c_req = -1;
  c->c_cseq = 1;
  c->a_cseq = 1;
  c->b_cseq = 100;
  c->b_inv = c->a_req = c->b_req = c->a_final = c->b_final = -1;
  snprintf(c->invite_branch, sizeof c->invite_branch, "z9hG4bK-a%u-0", c->id);
  c->invite_len = rnd_build_a(c, c->invite, sizeof c->invite, "INVITE",
                              c->invite_branch, 1, offer, "application/sdp");
  rnd_note(c, "A:INVITE(%s) ",
           offer == NULL       ? "no offer"
           : offer == sdp_ok   ? "offer"
           : offer == sdp_g729 ? "G.729"
           : offer == sdp_bad  ? "bad"
                               : "video");
  c->invite_clean = rnd_inject(c, c->invite, c->invite_len);
  rnd_scan(c);
}

/* B answers Cay's INVITE 200 and A ACKs Cay's 200: with C, half the
 * calls start so, for C's INVITE to name a confirmed dialog more often
 * than the random events make one. */
static void
call_up(call_t *c)
{
  if (c->b_inv < 0)
    return;
  rnd_note(c, "%s", "(up) ");
  c->b_2xx = 1;
  if (rnd_reply(c, (unsigned)c->b_inv, 200, sdp_b) && !c->b_final_sent)
    c->b_2xx_owed = 1;
  c->b_final_sent = 1;
  rnd_scan(c);
  if (c->a_final >= 0)
    rnd_ack(c, (unsigned)c->a_final, 1, sdp_ok);
  rnd_scan(c);
}

/* @p calls random calls (CAY_RANDOM_CALLS overrides), with C's
 * replacing INVITE among the events when @p with_c; the seed's first
 * bytes are @p seed0 (CAY_RANDOM_SEED adds to it). */
/* The records the calls left (b2bua/cdr.h): how many, how many of them
 * of calls refused before a B leg (ended_by refused), and the last. */
static struct {
  unsigned n, refused;
  char last[4096];
} cdrs;

static void
cdr_sink(void *arg, const cay_cdr_t *cdr)
{
  (void)arg;
  cdrs.n++;
  snprintf(cdrs.last, sizeof cdrs.last, "%.*s", (int)cdr->json_len, cdr->json);
  ck_assert_uint_eq(strlen(cdrs.last), cdr->json_len);
  if (cdr->ended_by == CAY_CDR_REFUSED) {
    cdrs.refused++;
    ck_assert_ptr_nonnull(strstr(cdrs.last, "\"ended_by\":\"refused\""));
    ck_assert_uint_eq(cdr->attempts, 0);
    ck_assert_ptr_nonnull(strstr(cdrs.last, "\"attempts\":0,"));
    ck_assert_int_eq(cdr->answer_ms, 0);
    ck_assert_ptr_nonnull(strstr(cdrs.last, "\"answer\":null,"));
  }
}

/* A call leaves a record when Cay placed a B leg for it (a bridge ran),
 * else none, and one for each INVITE a forward route took but that
 * could not be placed (refused: no route codec, broken SDP). A damaged
 * INVITE may start a second bridge, with another Call-ID: at most one
 * record per B leg. The record of an undamaged INVITE names A's
 * Call-ID, the B legs placed, and the final status A got. @p calls_out0,
 * @p n0 and @p refused0: the B legs placed and the records before the
 * call. */
static void
check_record(const call_t *c, const peer_t *p, uint64_t calls_out0, unsigned n0,
             unsigned refused0)
{
  unsigned placed = (unsigned)(p->shard.stats.calls_out - calls_out0);
  unsigned refused = cdrs.refused - refused0;
  unsigned bridged = cdrs.n - n0 - refused;
  char want[96];

  ck_assert_msg(placed ? bridged >= 1 && bridged <= placed : bridged == 0,
                "call %u: %u records, %u B legs: %s", c->id, bridged, placed,
                c->log);
  ck_assert_msg(refused <= 2, "call %u: %u refused: %s", c->id, refused,
                c->log);
  if (!c->invite_clean || cdrs.n - n0 != 1)
    return;
  snprintf(want, sizeof want, "\"call_id\":\"%s\",", c->a_cid);
  ck_assert_msg(strstr(cdrs.last, want), "call %u: not %s in %s", c->id, want,
                cdrs.last);
  snprintf(want, sizeof want, "\"attempts\":%u,", placed);
  ck_assert_msg(strstr(cdrs.last, want), "call %u: not %s in %s", c->id, want,
                cdrs.last);
  if (c->n_a_finals == 1) {
    snprintf(want, sizeof want, "\"status\":%d,", c->a_finals[0]);
    ck_assert_msg(strstr(cdrs.last, want), "call %u: not %s in %s: %s", c->id,
                  want, cdrs.last, c->log);
  }
  ck_assert_msg(!strstr(cdrs.last, "\"ended_by\":\"shutdown\""),
                "call %u: no shutdown here: %s", c->id, cdrs.last);
}

static void
run_calls(int with_c, int failover, int early, uint8_t seed0, unsigned calls)
{
  uint8_t seed[32] = { seed0, 3 };
  const char *env = getenv("CAY_RANDOM_SEED");
  cay__rand_t r;
  cay_config_t cfg;
  cay_route_t *rt;
  peer_t *p;
  unsigned answered = 0, bye_both = 0, damaged = 0, replaced = 0;
  unsigned failed_over = 0, early_updates = 0;

  if (getenv("CAY_RANDOM_CALLS"))
    calls = (unsigned)atoi(getenv("CAY_RANDOM_CALLS"));
  /* Thousands of calls: the INFO lines (ring timeouts, 488s) say nothing
   * a check does not; warnings and errors still show. */
  cay__log_set_level(CAY_LOG_WARN);
  cay_config_init(&cfg);
  rt = &cfg.routes[0];
  rt->action = CAY_ROUTE_FORWARD;
  snprintf(rt->target, sizeof rt->target, "sip:${ruri_user}@127.0.0.1:5070");
  rt->max_duration_s = MAX_S;
  rt->ring_timeout_s = RING_S;
  snprintf(rt->codecs[0], sizeof rt->codecs[0], "PCMU");
  snprintf(rt->codecs[1], sizeof rt->codecs[1], "telephone-event");
  rt->n_codecs = 2;
  if (failover) {
    snprintf(rt->failover[0], sizeof rt->failover[0],
             "sip:${ruri_user}@127.0.0.1:5071");
    snprintf(rt->failover[1], sizeof rt->failover[1],
             "sip:${ruri_user}@127.0.0.1:5072");
    rt->n_failover = 2;
  }
  cfg.n_routes = 1;
  p = peer_new(&cfg);
  p->ss.cdr_sink = cdr_sink;
  if (env) /* another draw, to explore: the default stays fixed */
    snprintf((char *)seed + 2, sizeof seed - 2, "%s", env);
  cay__rand_seed(&r, seed);
  for (unsigned id = 0; id < calls; id++) {
    call_t *c = calloc(1, sizeof *c);
    uint64_t calls_out0 = p->shard.stats.calls_out;
    unsigned n, n0 = cdrs.n, refused0 = cdrs.refused;

    c->p = p;
    c->r = &r;
    c->id = id;
    c->with_c = with_c;
    c->early = early;
    start(c);
    if (with_c && rnd_pick(c, 2))
      call_up(c);
    n = 1 + rnd_pick(c, MAX_EVENTS);
    for (unsigned k = 0; k < n; k++)
      event(c);
    for (unsigned k = 0; k < 12; k++) {
      peer_advance(p, 15000);
      rnd_scan(c);
    }
    rnd_check_call(c, p);
    check_record(c, p, calls_out0, n0, refused0);
    answered += c->n_a_finals == 1 && c->a_finals[0] < 300;
    bye_both += c->n_a_bye == 1 && c->n_b_bye == 1;
    damaged += c->damaged;
    replaced += c->n_c_finals == 1 && c->c_finals[0] < 300;
    failed_over += c->failovers > 0;
    early_updates += c->early_updates > 0;
    ck_assert_uint_le(c->failovers, 2);
    peer_clear(p);
    free(c);
  }
  /* The draw reaches the interesting paths, not only early failures. */
  ck_assert_uint_gt(answered, calls / 20);
  ck_assert_uint_gt(bye_both, calls / 50);
  ck_assert_uint_gt(damaged, calls / 10);
  if (with_c) /* most C INVITEs meet a call that is not up, or ends */
    ck_assert_uint_gt(replaced, calls / 300);
  if (early) /* UPDATEs reach the other side before the answer */
    ck_assert_uint_gt(early_updates, calls / 100);
  else
    ck_assert_uint_eq(early_updates, 0);
  if (failover)
    ck_assert_uint_gt(failed_over, calls / 20);
  else
    ck_assert_uint_eq(failed_over, 0);
  peer_free(p); /* no allocation left */
}

START_TEST(bridge_random_calls_end_clean)
{
  run_calls(0, 0, 0, 7, CALLS);
}
END_TEST

/* The same with a third party, C, whose INVITE names A's dialog (RFC
 * 3891): C may send it early (481), retransmit it, CANCEL it, ACK or
 * hang up; A, B and the clock go on meanwhile. The same checks hold, and
 * C's INVITE gets exactly one final status when it went out undamaged. */
START_TEST(bridge_random_transfers_end_clean)
{
  run_calls(1, 0, 0, 11, 2 * CALLS);
}
END_TEST

/* The same with two failover targets: B's 408, 480 or 5xx before an
 * answer makes Cay call the next (the events then go to that leg), and
 * the same checks hold across the legs. */
START_TEST(bridge_random_failovers_end_clean)
{
  run_calls(0, 1, 0, 13, CALLS);
}
END_TEST

/* The same with reliable provisionals (RFC 3262): A's INVITE requires
 * 100rel, B's 180 and 183 are reliable two times in three and its 2xx
 * has no SDP one time in two; A PRACKs Cay's (or does not: 504 after
 * 64*T1), and either side sends UPDATE in its early dialog (RFC 3311
 * section 5.1). The same checks hold. */
START_TEST(bridge_random_early_dialogs_end_clean)
{
  run_calls(0, 0, 1, 17, CALLS);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("bridge_random");
  TCase *tc = tcase_create("bridge_random");

  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, bridge_random_calls_end_clean);
  tcase_add_test(tc, bridge_random_transfers_end_clean);
  tcase_add_test(tc, bridge_random_failovers_end_clean);
  tcase_add_test(tc, bridge_random_early_dialogs_end_clean);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
