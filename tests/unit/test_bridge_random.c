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
 * (support/mutate.h). Then the clock runs on until every timer is out.
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
#include "sip/msg.h"
#include "support/mutate.h"
#include "support/peer.h"
#include "support/run.h"

#define CALLS         1500
#define MAX_EVENTS    24
#define MUTATE_ONE_IN 30
#define RING_S        6
#define MAX_S         20

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

typedef struct call {
  peer_t *p;
  cay__rand_t *r;
  unsigned id;
  uint64_t now; /* virtual ms since the call began */
  char a_cid[32], b_cid[128];
  char a_tag[96];    /* ";tag=X" of A's dialog, once Cay sent one */
  char invite[4096]; /* A's INVITE as sent, for retransmissions */
  char invite_branch[64];
  size_t invite_len;
  unsigned a_cseq, b_cseq, branch;
  unsigned seen;        /* messages Cay sent that scan() has read */
  int b_inv;            /* Cay's INVITE to B, or -1 */
  uint32_t b_inv_cseq;  /* its CSeq number */
  uint64_t b_inv_at;    /* when it was seen */
  int b_final_sent;     /* B sent a final response to it */
  int a_req, b_req;     /* Cay's latest other request to A / to B, or -1 */
  char a_re_branch[64]; /* A's latest re-INVITE, for its CANCEL */
  unsigned a_re_cseq;
  int a_final, b_final; /* Cay's latest final to an INVITE of A / B, or -1 */
  int invite_clean;     /* A's INVITE went out undamaged */
  int damaged;          /* some message of the call went out damaged */
  int b_2xx;            /* B sent a 2xx to Cay's INVITE (damaged or not) */
  int b_2xx_owed;       /* ... undamaged, in time: Cay owes an ACK */
  int b_acked;          /* Cay ACKed a 2xx of B's to its INVITE */
  int a_finals[4];      /* distinct final statuses to A's INVITE */
  unsigned n_a_finals;
  char a_bye[2][96], b_bye[2][96]; /* distinct branches of Cay's BYEs */
  unsigned n_a_bye, n_b_bye;
  /* C, with_c only: a new caller whose INVITE's Replaces names A's dialog
   * (RFC 3891, the end of an attended transfer). */
  int with_c;
  char c_cid[32];
  char c_tag[96];      /* ";tag=X" of Cay's final to C's INVITE */
  char c_branch[64];   /* C's INVITE's */
  char c_invite[4096]; /* as sent, for retransmissions */
  size_t c_invite_len;
  int c_sent, c_offer; /* C sent its INVITE; it had an offer */
  int c_invite_clean;  /* ... undamaged */
  int c_final, c_req;  /* Cay's latest final to C's INVITE / request */
  unsigned c_cseq;
  int c_finals[4]; /* distinct final statuses to C's INVITE */
  unsigned n_c_finals;
  char c_bye[2][96];
  unsigned n_c_bye;
  unsigned failovers; /* B legs Cay placed after the first (failover) */
  char log[4096];     /* the events, for the failure message */
} call_t;

/* CAY_RANDOM_TRACE=<call number>: print what Cay sent in that call and
 * every damaged message, to see why a check failed. */
static int
traced(const call_t *c)
{
  const char *t = getenv("CAY_RANDOM_TRACE");

  return t && c->id == (unsigned)atoi(t);
}

static unsigned
pick(call_t *c, unsigned n)
{
  return cay__rand_u32(c->r) % n;
}

static void
note(call_t *c, const char *fmt, const char *arg)
{
  size_t l = strlen(c->log);

  snprintf(c->log + l, sizeof c->log - l, fmt, arg);
}

static void
advance(call_t *c, uint64_t ms)
{
  char t[32];

  snprintf(t, sizeof t, "+%llu", (unsigned long long)ms);
  note(c, "%s ", t);
  peer_advance(c->p, ms);
  c->now += ms;
}

/* Send @p len bytes from the peer, damaged one time in MUTATE_ONE_IN.
 * Returns 1 when they went out undamaged. */
static int
inject(call_t *c, const char *data, size_t len)
{
  static char buf[8192];

  if (pick(c, MUTATE_ONE_IN) == 0) {
    size_t n = mutate_sip(c->r, data, len, buf, sizeof buf);
    note(c, "%s", "(damaged)");
    c->damaged = 1;
    if (traced(c))
      fprintf(stderr, "---- damaged\n%.*s\n", (int)n, buf);
    if (n)
      peer_send_raw(c->p, buf, n);
    return 0;
  }
  peer_send_raw(c->p, data, len);
  return 1;
}

/* A BYE from Cay (top Via branch @p branch) to leg @p leg (A, B or C),
 * kept in @p set of @p n distinct branches. */
static void
add_bye(call_t *c, char (*set)[96], unsigned *n, const char *leg,
        const char *branch)
{
  for (unsigned i = 0; i < *n; i++)
    if (strcmp(set[i], branch) == 0)
      return;
  ck_assert_msg(*n < 2, "call %u: a second BYE to %s: %s", c->id, leg, c->log);
  snprintf(set[(*n)++], sizeof set[0], "%s", branch);
}

/* A final @p status to the INVITE of @p who (A or C), kept in @p finals
 * (@p n distinct) when new: a second one only when that INVITE went out
 * damaged (@p clean 0: it may get a 400 and its retransmission more). */
static void
add_final(call_t *c, int *finals, unsigned *n, int clean, const char *who,
          int status)
{
  for (unsigned k = 0; k < *n; k++)
    if (finals[k] == status)
      return;
  ck_assert_msg(*n == 0 || !clean, "call %u: %s's INVITE got %d, then %d: %s",
                c->id, who, finals[0], status, c->log);
  if (*n < 4)
    finals[(*n)++] = status;
}

/* Cay's response @p sip (message @p i) on leg A or B. */
static void
scan_response(call_t *c, unsigned i, const sip_t *sip, int to_a)
{
  int st = sip->sip_status->st_status;

  if (to_a && sip->sip_to->a_tag && !c->a_tag[0]
      && sip->sip_cseq->cs_method == sip_method_invite
      && sip->sip_cseq->cs_seq == 1 && st > 100 && st < 300)
    snprintf(c->a_tag, sizeof c->a_tag, ";tag=%s", sip->sip_to->a_tag);
  if (sip->sip_cseq->cs_method != sip_method_invite || st < 200)
    return;
  if (!to_a) {
    c->b_final = (int)i;
    return;
  }
  c->a_final = (int)i;
  if (sip->sip_cseq->cs_seq == 1) {
    ck_assert_msg(st >= 300 || c->b_2xx, "call %u: 2xx to A, B never did: %s",
                  c->id, c->log);
    add_final(c, c->a_finals, &c->n_a_finals, c->invite_clean, "A", st);
  }
}

/* Cay's message @p sip (number @p i) to C. */
static void
scan_c(call_t *c, unsigned i, const sip_t *sip)
{
  int st = sip->sip_status ? sip->sip_status->st_status : 0;

  if (st >= 200 && sip->sip_cseq->cs_method == sip_method_invite
      && sip->sip_cseq->cs_seq == 1) {
    c->c_final = (int)i;
    if (sip->sip_to->a_tag)
      snprintf(c->c_tag, sizeof c->c_tag, ";tag=%s", sip->sip_to->a_tag);
    add_final(c, c->c_finals, &c->n_c_finals, c->c_invite_clean, "C", st);
  } else if (!st) {
    if (sip->sip_cseq->cs_method == sip_method_bye)
      add_bye(c, c->c_bye, &c->n_c_bye, "C", sip->sip_via->v_branch);
    c->c_req = (int)i;
  }
}

/* Read what Cay sent since the last scan and keep what the events and
 * the checks need. */
static void
scan(call_t *c)
{
  for (; c->seen < c->p->nsent; c->seen++) {
    unsigned i = c->seen;
    msg_t *m = NULL;
    int perr = cay__msg_parse(c->p->sent[i].data, c->p->sent[i].len, &m);
    sip_t *sip;
    int to_a;
    sip_method_t method;

    /* Everything Cay sends parses, but for a 400 (or 505, 416, ...) to a
     * damaged request: it copies the request's From and To (8.2.6.2),
     * damage and all. */
    if (perr != 0 && c->damaged
        && (strncmp(c->p->sent[i].data, "SIP/2.0 4", 9) == 0
            || strncmp(c->p->sent[i].data, "SIP/2.0 505 ", 12) == 0)) {
      msg_destroy(m);
      continue;
    }
    ck_assert_msg(perr == 0,
                  "call %u: Cay sent a message that does not parse:\n%s\n"
                  "events: %s",
                  c->id, c->p->sent[i].data, c->log);
    if (traced(c))
      fprintf(stderr, "---- sent %u at %llu ms\n%s", i,
              (unsigned long long)c->now, c->p->sent[i].data);
    sip = sip_object(m);

    /* A 400 (or 505, ...) to a damaged request copies what parsed of it
     * (RFC 4475 3.3.1); Cay's own requests always have them all. */
    if (sip->sip_call_id == NULL || sip->sip_cseq == NULL || sip->sip_to == NULL
        || sip->sip_via == NULL) {
      ck_assert_ptr_nonnull(sip->sip_status);
      ck_assert_int_ge(sip->sip_status->st_status, 400);
      msg_destroy(m);
      continue;
    }
    if (c->with_c && strcmp(sip->sip_call_id->i_id, c->c_cid) == 0) {
      scan_c(c, i, sip);
      msg_destroy(m);
      continue;
    }
    to_a = strcmp(sip->sip_call_id->i_id, c->a_cid) == 0;
    method = sip->sip_cseq->cs_method;
    if (!to_a && !sip->sip_status && method == sip_method_invite
        && c->b_inv >= 0 && strcmp(sip->sip_call_id->i_id, c->b_cid) != 0
        && !sip->sip_to->a_tag && sip->sip_request->rq_url->url_port
        && strcmp(sip->sip_request->rq_url->url_port, "5070") != 0) {
      /* A failover target's INVITE (not the primary's port, which a call
       * started by a damaged INVITE of A's would go to): the B leg from
       * now on. */
      ck_assert_msg(c->b_final_sent, "call %u: failover before B failed: %s",
                    c->id, c->log);
      c->b_inv = c->b_req = c->b_final = -1;
      c->b_final_sent = 0;
      c->b_cid[0] = '\0';
      c->failovers++;
    }
    if (!to_a && c->b_inv < 0 && !sip->sip_status
        && method == sip_method_invite)
      snprintf(c->b_cid, sizeof c->b_cid, "%s", sip->sip_call_id->i_id);
    if (!to_a && (!c->b_cid[0] || strcmp(sip->sip_call_id->i_id, c->b_cid))) {
      /* A response to a request whose Call-ID was damaged, or a call that
       * a damaged request started (one without its To tag is a new
       * INVITE). */
      ck_assert_msg(sip->sip_status != NULL || c->damaged,
                    "call %u: sent %s: %s", c->id, c->p->sent[i].data, c->log);
      msg_destroy(m);
      continue;
    }
    if (sip->sip_status) {
      scan_response(c, i, sip, to_a);
    } else if (method == sip_method_ack) {
      if (!to_a && c->b_inv >= 0 && sip->sip_cseq->cs_seq == c->b_inv_cseq)
        c->b_acked = 1;
    } else if (!to_a && method == sip_method_invite
               && (c->b_inv < 0 || sip->sip_cseq->cs_seq == c->b_inv_cseq)) {
      if (c->b_inv < 0) /* not its retransmissions */
        c->b_inv_at = c->now;
      c->b_inv = (int)i;
      c->b_inv_cseq = sip->sip_cseq->cs_seq;
    } else {
      if (method == sip_method_bye)
        add_bye(c, to_a ? c->a_bye : c->b_bye, to_a ? &c->n_a_bye : &c->n_b_bye,
                to_a ? "A" : "B", sip->sip_via->v_branch);
      *(to_a ? &c->a_req : &c->b_req) = (int)i;
    }
    msg_destroy(m);
  }
}

/* A request from A into @p buf: in A's dialog once Cay gave it a tag.
 * @p branch NULL means a new one. Returns its length. */
/* The header lines a REFER (RFC 3515) or NOTIFY (RFC 6665) needs. */
static const char *
method_lines(const char *method)
{
  if (strcmp(method, "REFER") == 0)
    return "Refer-To: <sip:carol@example.com>\r\n";
  if (strcmp(method, "NOTIFY") == 0)
    return "Event: refer;id=2\r\nSubscription-State: active\r\n";
  return "";
}

static size_t
build_a(call_t *c, char *buf, size_t size, const char *method,
        const char *branch, unsigned cseq, const char *body, const char *ct)
{
  char br[64];
  int n;

  if (branch == NULL)
    snprintf(br, sizeof br, "z9hG4bK-a%u-%u", c->id, ++c->branch);
  n = snprintf(buf, size,
               "%s sip:service@127.0.0.1:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:caller@127.0.0.1:5070>;tag=fa\r\n"
               "To: <sip:service@127.0.0.1:5060>%s\r\n"
               "Call-ID: %s\r\nCSeq: %u %s\r\n"
               "Contact: <sip:caller@127.0.0.1:5070>\r\n"
               "%s%s%s%sContent-Length: %zu\r\n\r\n%s",
               method, branch ? branch : br,
               strcmp(method, "INVITE") == 0 && cseq == 1 ? "" : c->a_tag,
               c->a_cid, cseq, method, method_lines(method),
               body ? "Content-Type: " : "", body ? ct : "", body ? "\r\n" : "",
               body ? strlen(body) : 0, body ? body : "");
  ck_assert_int_lt(n, (int)size);
  return (size_t)n;
}

static int
a_send(call_t *c, const char *method, const char *branch, unsigned cseq,
       const char *body, const char *ct)
{
  char buf[4096];

  note(c, "A:%s ", method);
  return inject(c, buf,
                build_a(c, buf, sizeof buf, method, branch, cseq, body, ct));
}

/* A request from C into @p buf: its INVITE (and that INVITE's CANCEL)
 * names A's dialog in a Replaces header, the rest is in C's dialog. A
 * NULL @p branch means a new one. Returns its length. */
static size_t
build_c(call_t *c, char *buf, size_t size, const char *method,
        const char *branch, unsigned cseq, const char *body)
{
  int invite = strcmp(method, "INVITE") == 0;
  int first = invite || strcmp(method, "CANCEL") == 0;
  char br[64], rp[192] = "";
  int n;

  if (branch == NULL)
    snprintf(br, sizeof br, "z9hG4bK-c%u-%u", c->id, ++c->branch);
  if (invite)
    snprintf(rp, sizeof rp, "Replaces: %s;to-tag=%s;from-tag=fa\r\n", c->a_cid,
             c->a_tag + 5);
  n = snprintf(buf, size,
               "%s sip:nobody@127.0.0.1:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:carol@127.0.0.1:5070>;tag=fc\r\n"
               "To: <sip:nobody@127.0.0.1:5060>%s\r\n"
               "Call-ID: %s\r\nCSeq: %u %s\r\n"
               "Contact: <sip:carol@127.0.0.1:5070>\r\n"
               "%s%sContent-Length: %zu\r\n\r\n%s",
               method, branch ? branch : br, first ? "" : c->c_tag, c->c_cid,
               cseq, method, rp,
               body ? "Content-Type: application/sdp\r\n" : "",
               body ? strlen(body) : 0, body ? body : "");
  ck_assert_int_lt(n, (int)size);
  return (size_t)n;
}

static void
c_send(call_t *c, const char *method, const char *branch, unsigned cseq,
       const char *body)
{
  char buf[4096];

  note(c, "C:%s ", method);
  inject(c, buf, build_c(c, buf, sizeof buf, method, branch, cseq, body));
}

/* A request from B in the B leg's dialog (B's tag "b1"). */
static void
b_send(call_t *c, const char *method, const char *branch, unsigned cseq,
       const char *body)
{
  char *from = peer_header(c->p, (unsigned)c->b_inv, "From");
  char *to = peer_header(c->p, (unsigned)c->b_inv, "To");
  char *cid = peer_header(c->p, (unsigned)c->b_inv, "Call-ID");
  char *contact = peer_header(c->p, (unsigned)c->b_inv, "Contact");
  char buf[4096], br[64];
  const char *uri = strchr(contact, '<') ? strchr(contact, '<') + 1 : contact;
  int n;

  if (branch == NULL)
    snprintf(br, sizeof br, "z9hG4bK-b%u-%u", c->id, ++c->branch);
  n = snprintf(buf, sizeof buf,
               "%s %.*s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\nFrom: %s;tag=b1\r\nTo: %s\r\n"
               "Call-ID: %s\r\nCSeq: %u %s\r\n"
               "Contact: <sip:callee@127.0.0.1:5070>\r\n"
               "%s%sContent-Length: %zu\r\n\r\n%s",
               method, (int)strcspn(uri, ">"), uri, branch ? branch : br, to,
               from, cid, cseq, method, method_lines(method),
               !body ? ""
               : strcmp(method, "NOTIFY") == 0
                   ? "Content-Type: message/sipfrag\r\n"
                   : "Content-Type: application/sdp\r\n",
               body ? strlen(body) : 0, body ? body : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  note(c, "B:%s ", method);
  inject(c, buf, (size_t)n);
  free(from);
  free(to);
  free(cid);
  free(contact);
}

/* Answer Cay's request @p i with @p status: a To without a tag gets B's
 * "b1". Returns 1 when it went out undamaged. */
static int
reply(call_t *c, unsigned i, int status, const char *sdp)
{
  char *via = peer_header(c->p, i, "Via"), *from = peer_header(c->p, i, "From");
  char *to = peer_header(c->p, i, "To"), *cid = peer_header(c->p, i, "Call-ID");
  char *cseq = peer_header(c->p, i, "CSeq");
  char buf[4096], st[16];
  /* A tag after the URI: a user part may hold ";tag=" (a damaged
   * Request-URI expanded into B's To, in angle brackets). */
  const char *params = strrchr(to, '>') ? strrchr(to, '>') : to;
  int n, ok;

  n = snprintf(buf, sizeof buf,
               "SIP/2.0 %d X\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s\r\n"
               "Call-ID: %s\r\nCSeq: %s\r\n"
               "Contact: <sip:peer@127.0.0.1:5070>\r\n"
               "%sContent-Length: %zu\r\n\r\n%s",
               status, via, from, to,
               strstr(params, "tag=") || status == 100 ? "" : ";tag=b1", cid,
               cseq, sdp ? "Content-Type: application/sdp\r\n" : "",
               sdp ? strlen(sdp) : 0, sdp ? sdp : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  snprintf(st, sizeof st, "%d/", status);
  note(c,
       strcmp(cid, c->a_cid) == 0   ? "A:%s"
       : strcmp(cid, c->c_cid) == 0 ? "C:%s"
                                    : "B:%s",
       st);
  note(c, "%s ", strchr(cseq, ' ') + 1);
  ok = inject(c, buf, (size_t)n);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
  return ok;
}

/* ACK the final response @p i to an INVITE (RFC 3261 17.1.1.3 for a
 * failure: its branch; 13.2.2.4 for a 2xx: a new one, maybe an answer). */
static void
ack(call_t *c, unsigned i, int from_a)
{
  char *via = peer_header(c->p, i, "Via"), *cseq = peer_header(c->p, i, "CSeq");
  char branch[96] = "";
  unsigned n = (unsigned)strtoul(cseq, NULL, 10);
  const char *b = strstr(via, "branch=");

  if (peer_status(c->p, i) >= 300 && b)
    snprintf(branch, sizeof branch, "%.*s", (int)strcspn(b + 7, ";"), b + 7);
  if (from_a)
    a_send(c, "ACK", branch[0] ? branch : NULL, n,
           branch[0] || pick(c, 2) ? NULL : sdp_ok, "application/sdp");
  else
    b_send(c, "ACK", branch[0] ? branch : NULL, n, NULL);
  free(via);
  free(cseq);
}

/* B answers Cay's INVITE. */
static void
b_answers_invite(call_t *c)
{
  static const int st[]
      = { 100, 180, 183, 200, 200, 200, 486, 503, 487, 408, 603 };
  int s = st[pick(c, sizeof st / sizeof st[0])];
  int clean
      = reply(c, (unsigned)c->b_inv, s, s == 183 || s == 200 ? sdp_b : NULL);

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
  int s = st[pick(c, sizeof st / sizeof st[0])];
  const char *m;

  if (i < 0)
    return;
  m = peer_method(c->p, (unsigned)i);
  reply(c, (unsigned)i, s,
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
      note(c, "%s", "C:INVITE(again) ");
      peer_send_raw(c->p, c->c_invite, c->c_invite_len);
    }
    return;
  }
  if (!c->a_tag[0])
    return;
  c->c_sent = 1;
  c->c_offer = pick(c, 3) != 0; /* one in three without (13.2.1) */
  snprintf(c->c_branch, sizeof c->c_branch, "z9hG4bK-c%u-0", c->id);
  c->c_invite_len = build_c(c, c->c_invite, sizeof c->c_invite, "INVITE",
                            c->c_branch, 1, c->c_offer ? sdp_ok : NULL);
  note(c, "%s",
       c->c_offer ? "C:INVITE(replaces) " : "C:INVITE(replaces, no offer) ");
  c->c_invite_clean = inject(c, c->c_invite, c->c_invite_len);
}

/* C CANCELs its INVITE, or hangs up once it has a 2xx. */
static void
c_ends(call_t *c)
{
  if (!c->c_sent)
    return;
  if (c->c_final >= 0 && peer_status(c->p, (unsigned)c->c_final) < 300
      && pick(c, 2))
    c_send(c, "BYE", NULL, ++c->c_cseq, NULL);
  else
    c_send(c, "CANCEL", c->c_branch, 1, NULL);
}

/* C ACKs Cay's final response (a failure's in its transaction, a 2xx's
 * with the answer when C's INVITE had no offer), or answers Cay's
 * latest request to it. */
static void
c_acks_or_answers(call_t *c)
{
  int st;

  if (c->c_final < 0 || pick(c, 2)) {
    answer_request(c, c->c_req, sdp_ok);
    return;
  }
  st = peer_status(c->p, (unsigned)c->c_final);
  c_send(c, "ACK", st >= 300 ? c->c_branch : NULL, 1,
         st < 300 && !c->c_offer ? sdp_ok : NULL);
}

static void
event(call_t *c)
{
  static const char *const offers[] = { sdp_ok, sdp_ok, sdp_g729, sdp_bad };
  const char *offer = offers[pick(c, 4)];

  /* With C, about one event in five is C's, A ACKs more often (C's INVITE names
   * a dialog A must have confirmed) and B answers more often (the
   * re-INVITE carrying C's offer). */
  switch (pick(c, c->with_c ? 29 : 20)) {
  case 0:
    /* Undamaged: a damaged copy could get a 400 of its own. Only before
     * A saw a final response: later, once Timer I has run out, the same
     * INVITE is a new call (RFC 3261 17.2.1). */
    if (c->n_a_finals == 0) {
      note(c, "%s", "A:INVITE(again) ");
      peer_send_raw(c->p, c->invite, c->invite_len);
    }
    break;
  case 1:
    a_send(c, "CANCEL", c->invite_branch, 1, NULL, NULL);
    break;
  case 2:
  case 25: /* with C: A ACKs more often */
    if (c->a_final >= 0)
      ack(c, (unsigned)c->a_final, 1);
    break;
  case 3:
    a_send(c, "BYE", NULL, ++c->a_cseq, NULL, NULL);
    break;
  case 4: /* without a To tag it would be a new call */
    if (c->a_tag[0]) {
      /* One in four without an offer (RFC 3261 section 14.1). */
      snprintf(c->a_re_branch, sizeof c->a_re_branch, "z9hG4bK-a%u-%u", c->id,
               ++c->branch);
      c->a_re_cseq = ++c->a_cseq;
      a_send(c, "INVITE", c->a_re_branch, c->a_re_cseq,
             pick(c, 4) ? offer : NULL, "application/sdp");
    }
    break;
  case 5:
    a_send(c, "UPDATE", NULL, ++c->a_cseq, offer, "application/sdp");
    break;
  case 6: /* RFC 6086 INFO, or an RFC 3515 REFER */
    if (pick(c, 3))
      a_send(c, "INFO", NULL, ++c->a_cseq, "Signal=5\r\nDuration=160\r\n",
             "application/dtmf-relay");
    else
      a_send(c, "REFER", NULL, ++c->a_cseq, NULL, NULL);
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
      b_send(c, "BYE", NULL, ++c->b_cseq, NULL);
    break;
  case 12:
    if (c->b_inv >= 0)
      b_send(c, "INVITE", NULL, ++c->b_cseq, pick(c, 3) ? sdp_b : NULL);
    break;
  case 13:
    if (c->b_final >= 0)
      ack(c, (unsigned)c->b_final, 0);
    break;
  case 14:
  case 15:
    advance(c, pick(c, 400));
    break;
  case 16:
    advance(c, 1000 + pick(c, 8000));
    break;
  case 17: /* 9.2: A CANCELs its latest re-INVITE */
    if (c->a_re_branch[0])
      a_send(c, "CANCEL", c->a_re_branch, c->a_re_cseq, NULL, NULL);
    break;
  case 18: /* an empty INFO (RFC 6086), or a NOTIFY (RFC 6665) from B */
    if (c->b_inv >= 0 && c->b_2xx) {
      if (pick(c, 2))
        b_send(c, "INFO", NULL, ++c->b_cseq, NULL);
      else
        b_send(c, "NOTIFY", NULL, ++c->b_cseq, "SIP/2.0 200 OK\r\n");
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
    advance(c, pick(c, 30));
    break;
  }
  scan(c);
}

/* A's INVITE: an offer (most often one the route's codecs allow), none
 * (delayed offer), no common codec, video only, or broken SDP. */
static void
start(call_t *c)
{
  static const char *const offers[]
      = { sdp_ok, sdp_ok, sdp_ok, sdp_ok,   sdp_ok,    sdp_ok,
          sdp_ok, NULL,   NULL,   sdp_g729, sdp_video, sdp_bad };
  const char *offer = offers[pick(c, sizeof offers / sizeof offers[0])];

  snprintf(c->a_cid, sizeof c->a_cid, "rnd-%u", c->id);
  snprintf(c->c_cid, sizeof c->c_cid, "rnd-c-%u", c->id);
  c->c_final = c->c_req = -1;
  c->c_cseq = 1;
  c->a_cseq = 1;
  c->b_cseq = 100;
  c->b_inv = c->a_req = c->b_req = c->a_final = c->b_final = -1;
  snprintf(c->invite_branch, sizeof c->invite_branch, "z9hG4bK-a%u-0", c->id);
  c->invite_len = build_a(c, c->invite, sizeof c->invite, "INVITE",
                          c->invite_branch, 1, offer, "application/sdp");
  note(c, "A:INVITE(%s) ",
       offer == NULL       ? "no offer"
       : offer == sdp_ok   ? "offer"
       : offer == sdp_g729 ? "G.729"
       : offer == sdp_bad  ? "bad"
                           : "video");
  c->invite_clean = inject(c, c->invite, c->invite_len);
  scan(c);
}

/* B answers Cay's INVITE 200 and A ACKs Cay's 200: with C, half the
 * calls start so, for C's INVITE to name a confirmed dialog more often
 * than the random events make one. */
static void
call_up(call_t *c)
{
  if (c->b_inv < 0)
    return;
  note(c, "%s", "(up) ");
  c->b_2xx = 1;
  if (reply(c, (unsigned)c->b_inv, 200, sdp_b) && !c->b_final_sent)
    c->b_2xx_owed = 1;
  c->b_final_sent = 1;
  scan(c);
  if (c->a_final >= 0)
    ack(c, (unsigned)c->a_final, 1);
  scan(c);
}

/* What must hold once every timer of the call has run out. */
static void
check_call(call_t *c, peer_t *p)
{
  ck_assert_msg(!c->invite_clean || c->n_a_finals == 1,
                "call %u: A's INVITE got %u final statuses: %s", c->id,
                c->n_a_finals, c->log);
  ck_assert_msg(!c->c_invite_clean || c->n_c_finals == 1,
                "call %u: C's INVITE got %u final statuses: %s", c->id,
                c->n_c_finals, c->log);
  ck_assert_msg(!c->b_2xx_owed || c->b_acked,
                "call %u: B's 2xx to Cay's INVITE never ACKed: %s", c->id,
                c->log);
  ck_assert_msg(cay__sessions_live(&p->ss) == 0 && p->ss.bridges == 0,
                "call %u: %u sessions, %u bridges left: %s", c->id,
                cay__sessions_live(&p->ss), p->ss.bridges, c->log);
  ck_assert_msg(p->ep.live_txns == 0 && p->shard.stats.txns_live == 0,
                "call %u: transactions left: %s", c->id, c->log);
  ck_assert_msg(p->shard.stats.dialogs_live == 0, "call %u: dialogs left: %s",
                c->id, c->log);
}

/* @p calls random calls (CAY_RANDOM_CALLS overrides), with C's
 * replacing INVITE among the events when @p with_c; the seed's first
 * bytes are @p seed0 (CAY_RANDOM_SEED adds to it). */
static void
run_calls(int with_c, int failover, uint8_t seed0, unsigned calls)
{
  uint8_t seed[32] = { seed0, 3 };
  const char *env = getenv("CAY_RANDOM_SEED");
  cay__rand_t r;
  cay_config_t cfg;
  cay_route_t *rt;
  peer_t *p;
  unsigned answered = 0, bye_both = 0, damaged = 0, replaced = 0;
  unsigned failed_over = 0;

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
  if (env) /* another draw, to explore: the default stays fixed */
    snprintf((char *)seed + 2, sizeof seed - 2, "%s", env);
  cay__rand_seed(&r, seed);
  for (unsigned id = 0; id < calls; id++) {
    call_t *c = calloc(1, sizeof *c);
    unsigned n;

    c->p = p;
    c->r = &r;
    c->id = id;
    c->with_c = with_c;
    start(c);
    if (with_c && pick(c, 2))
      call_up(c);
    n = 1 + pick(c, MAX_EVENTS);
    for (unsigned k = 0; k < n; k++)
      event(c);
    for (unsigned k = 0; k < 12; k++) {
      peer_advance(p, 15000);
      scan(c);
    }
    check_call(c, p);
    answered += c->n_a_finals == 1 && c->a_finals[0] < 300;
    bye_both += c->n_a_bye == 1 && c->n_b_bye == 1;
    damaged += c->damaged;
    replaced += c->n_c_finals == 1 && c->c_finals[0] < 300;
    failed_over += c->failovers > 0;
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
  if (failover)
    ck_assert_uint_gt(failed_over, calls / 20);
  else
    ck_assert_uint_eq(failed_over, 0);
  peer_free(p); /* no allocation left */
}

START_TEST(bridge_random_calls_end_clean)
{
  run_calls(0, 0, 7, CALLS);
}
END_TEST

/* The same with a third party, C, whose INVITE names A's dialog (RFC
 * 3891): C may send it early (481), retransmit it, CANCEL it, ACK or
 * hang up; A, B and the clock go on meanwhile. The same checks hold, and
 * C's INVITE gets exactly one final status when it went out undamaged. */
START_TEST(bridge_random_transfers_end_clean)
{
  run_calls(1, 0, 11, 2 * CALLS);
}
END_TEST

/* The same with two failover targets: B's 408, 480 or 5xx before an
 * answer makes Cay call the next (the events then go to that leg), and
 * the same checks hold across the legs. */
START_TEST(bridge_random_failovers_end_clean)
{
  run_calls(0, 1, 13, CALLS);
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
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
