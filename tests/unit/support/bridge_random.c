/*
 * Random calls through the B2BUA bridge: the call record's senders,
 * reader and checks. See support/bridge_random.h.
 */
#include "support/bridge_random.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "sip/msg.h"
#include "support/mutate.h"

/* CAY_RANDOM_TRACE=<call number>: print what Cay sent in that call and
 * every damaged message, to see why a check failed. */
static int
traced(const call_t *c)
{
  const char *t = getenv("CAY_RANDOM_TRACE");

  return t && c->id == (unsigned)atoi(t);
}

unsigned
rnd_pick(call_t *c, unsigned n)
{
  return cay__rand_u32(c->r) % n;
}

void
rnd_note(call_t *c, const char *fmt, const char *arg)
{
  size_t l = strlen(c->log);

  snprintf(c->log + l, sizeof c->log - l, fmt, arg);
}

void
rnd_advance(call_t *c, uint64_t ms)
{
  char t[32];

  snprintf(t, sizeof t, "+%llu", (unsigned long long)ms);
  rnd_note(c, "%s ", t);
  peer_advance(c->p, ms);
  c->now += ms;
}

/* Send @p len bytes from the peer, damaged one time in RND_MUTATE_ONE_IN.
 * Returns 1 when they went out undamaged. */
int
rnd_inject(call_t *c, const char *data, size_t len)
{
  static char buf[8192];

  if (rnd_pick(c, RND_MUTATE_ONE_IN) == 0) {
    size_t n = mutate_sip(c->r, data, len, buf, sizeof buf);
    rnd_note(c, "%s", "(damaged)");
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
  if (to_a && st > 100 && st < 200 && sip->sip_rseq)
    c->a_rseq = sip->sip_rseq->rs_response; /* for A's PRACK */
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

/* Message @p i is a copy of one Cay sent before in this call. */
static int
sent_before(const call_t *c, unsigned i)
{
  for (unsigned j = 0; j < i; j++)
    if (c->p->sent[j].len == c->p->sent[i].len
        && memcmp(c->p->sent[j].data, c->p->sent[i].data, c->p->sent[i].len)
               == 0)
      return 1;
  return 0;
}

/* Read what Cay sent since the last scan and keep what the events and
 * the checks need. */
void
rnd_scan(call_t *c)
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
      c->b_rel_sdp = 0;
      c->b_cid[0] = '\0';
      c->failovers++;
    }
    if (!to_a && c->b_inv < 0 && !sip->sip_status
        && method == sip_method_invite)
      snprintf(c->b_cid, sizeof c->b_cid, "%s", sip->sip_call_id->i_id);
    if (!to_a && (!c->b_cid[0] || strcmp(sip->sip_call_id->i_id, c->b_cid))) {
      /* A response to a request whose Call-ID was damaged, a call that
       * a damaged request started (one without its To tag is a new
       * INVITE), or a request to a B leg failed over from, sent again by
       * its transaction (RFC 3261 17.1.2.2). */
      ck_assert_msg(sip->sip_status != NULL || c->damaged || sent_before(c, i),
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
      if (method == sip_method_update && c->n_a_finals == 0)
        c->early_updates++; /* RFC 3311 section 5.1, relayed */
      *(to_a ? &c->a_req : &c->b_req) = (int)i;
    }
    msg_destroy(m);
  }
}

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

size_t
rnd_build_a(call_t *c, char *buf, size_t size, const char *method,
            const char *branch, unsigned cseq, const char *body, const char *ct)
{
  int first = strcmp(method, "INVITE") == 0 && cseq == 1;
  char br[64], rel[48] = "";
  int n;

  if (branch == NULL)
    snprintf(br, sizeof br, "z9hG4bK-a%u-%u", c->id, ++c->branch);
  if (first && c->early) /* RFC 3262 section 4 */
    snprintf(rel, sizeof rel, "Require: 100rel\r\n");
  else if (strcmp(method, "PRACK") == 0) /* RFC 3262 section 7.2 */
    snprintf(rel, sizeof rel, "RAck: %u 1 INVITE\r\n", (unsigned)c->a_rseq);
  n = snprintf(buf, size,
               "%s sip:service@127.0.0.1:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:caller@127.0.0.1:5070>;tag=fa\r\n"
               "To: <sip:service@127.0.0.1:5060>%s\r\n"
               "Call-ID: %s\r\nCSeq: %u %s\r\n"
               "Contact: <sip:caller@127.0.0.1:5070>\r\n"
               "%s%s%s%s%sContent-Length: %zu\r\n\r\n%s",
               method, branch ? branch : br, first ? "" : c->a_tag, c->a_cid,
               cseq, method, method_lines(method), rel,
               body ? "Content-Type: " : "", body ? ct : "", body ? "\r\n" : "",
               body ? strlen(body) : 0, body ? body : "");
  ck_assert_int_lt(n, (int)size);
  return (size_t)n;
}

int
rnd_a_send(call_t *c, const char *method, const char *branch, unsigned cseq,
           const char *body, const char *ct)
{
  char buf[4096];

  rnd_note(c, "A:%s ", method);
  return rnd_inject(
      c, buf, rnd_build_a(c, buf, sizeof buf, method, branch, cseq, body, ct));
}

/* A request from C into @p buf: its INVITE (and that INVITE's CANCEL)
 * names A's dialog in a Replaces header, the rest is in C's dialog. A
 * NULL @p branch means a new one. Returns its length. */
size_t
rnd_build_c(call_t *c, char *buf, size_t size, const char *method,
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

void
rnd_c_send(call_t *c, const char *method, const char *branch, unsigned cseq,
           const char *body)
{
  char buf[4096];

  rnd_note(c, "C:%s ", method);
  rnd_inject(c, buf,
             rnd_build_c(c, buf, sizeof buf, method, branch, cseq, body));
}

/* A request from B in the B leg's dialog (B's tag "b1"). */
void
rnd_b_send(call_t *c, const char *method, const char *branch, unsigned cseq,
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
  rnd_note(c, "B:%s ", method);
  rnd_inject(c, buf, (size_t)n);
  free(from);
  free(to);
  free(cid);
  free(contact);
}

/* Answer Cay's request @p i with @p status: a To without a tag gets B's
 * "b1". Returns 1 when it went out undamaged. */
int
rnd_reply_with(call_t *c, unsigned i, int status, const char *extra,
               const char *sdp)
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
               "%s%sContent-Length: %zu\r\n\r\n%s",
               status, via, from, to,
               strstr(params, "tag=") || status == 100 ? "" : ";tag=b1", cid,
               cseq, extra, sdp ? "Content-Type: application/sdp\r\n" : "",
               sdp ? strlen(sdp) : 0, sdp ? sdp : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  snprintf(st, sizeof st, "%d/", status);
  rnd_note(c,
           strcmp(cid, c->a_cid) == 0   ? "A:%s"
           : strcmp(cid, c->c_cid) == 0 ? "C:%s"
                                        : "B:%s",
           st);
  rnd_note(c, "%s ", strchr(cseq, ' ') + 1);
  ok = rnd_inject(c, buf, (size_t)n);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
  return ok;
}

int
rnd_reply(call_t *c, unsigned i, int status, const char *sdp)
{
  return rnd_reply_with(c, i, status, "", sdp);
}

/* ACK the final response @p i to an INVITE (RFC 3261 17.1.1.3 for a
 * failure: its branch; 13.2.2.4 for a 2xx: a new one, maybe an answer). */
void
rnd_ack(call_t *c, unsigned i, int from_a, const char *answer)
{
  char *via = peer_header(c->p, i, "Via"), *cseq = peer_header(c->p, i, "CSeq");
  char branch[96] = "";
  unsigned n = (unsigned)strtoul(cseq, NULL, 10);
  const char *b = strstr(via, "branch=");

  if (peer_status(c->p, i) >= 300 && b)
    snprintf(branch, sizeof branch, "%.*s", (int)strcspn(b + 7, ";"), b + 7);
  if (from_a)
    rnd_a_send(c, "ACK", branch[0] ? branch : NULL, n,
               branch[0] || rnd_pick(c, 2) ? NULL : answer, "application/sdp");
  else
    rnd_b_send(c, "ACK", branch[0] ? branch : NULL, n, NULL);
  free(via);
  free(cseq);
}

/* What must hold once every timer of the call has run out. */
void
rnd_check_call(call_t *c, peer_t *p)
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
