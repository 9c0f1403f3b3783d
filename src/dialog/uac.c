/*
 * Outgoing INVITE sessions (RFC 3261 sections 12.1.2, 13.2, 15): the
 * INVITE, the dialog made by the 2xx, the ACK for it, hanging up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "b2bua/route.h"
#include "dialog/auth.h"
#include "dialog/rel.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* A Call-ID that hashes to this shard (DESIGN.md rule 2): random tokens
 * until one does; with N shards that takes N tries on average. */
void
cay__uac_call_id(cay__sessions_t *ss, char *buf, size_t len)
{
  const char *host = ss->ep->sent_by;
  char token[24];
  size_t n;

  do {
    cay__rand_token(&ss->shard->rand, token, 20);
    n = (size_t)snprintf(buf, len, "%s@%s", token, host);
  } while (cay__callid_shard(buf, n < len ? n : len - 1,
                             ss->nshards ? ss->nshards : 1)
           != ss->shard->index);
}

/* Encode a header value into @p buf (for the dialog's text block). */
static const char *
value_of(const msg_header_t *h, char *buf, size_t len)
{
  issize_t n = msg_header_field_e(buf, len, h, 0);
  return n > 0 && (size_t)n < len ? buf : NULL;
}

/* Extension headers of our INVITEs: Allow (so the peer knows UPDATE
 * works), Supported: 100rel (RFC 3262 section 4) and timer, and the
 * session timer we ask for (RFC 4028 section 7.1; raised after a 422).
 * One Supported header: the message layer keeps only one. */
static const char *
invite_lines(const cay__session_t *s, char *buf, size_t len)
{
  const cay_config_t *cfg = &s->ss->cfg;
  unsigned expires = cfg->session_expires_s;
  unsigned min_se = cfg->min_se_s;
  char timer[160];
  const char *rest = "";

  if (s->st.interval_s > expires)
    expires = s->st.interval_s; /* what a 422 asked for */
  if (s->st.interval_s > min_se)
    min_se = s->st.interval_s;
  if (cay__stimer_request_lines(expires, min_se, NULL, timer, sizeof timer)
      > 0) {
    /* "Supported: timer\r\n" comes first: keep what follows it. */
    rest = strstr(timer, "\r\n");
    rest = rest ? rest + 2 : "";
  }
  snprintf(buf, len, "Allow: %s\r\nSupported: 100rel, timer\r\n%s",
           s->bridged ? CAY_ALLOW_BRIDGED : CAY_ALLOW, rest);
  return buf;
}

/* Send (or, after a 422 or a 401/407, send again) the INVITE; a new
 * transaction each time with the session's current CSeq, and the
 * credentials for the last challenge (22.2). */
static int
send_invite(cay__session_t *s, const char *sdp)
{
  char lines[400 + 1024];
  cay__dreq_t r = { .method = sip_method_invite,
                    .name = "INVITE",
                    .cseq = s->invite_cseq,
                    .contact = 1,
                    .extra = invite_lines(s, lines, sizeof lines),
                    .ctype = sdp ? "application/sdp" : NULL,
                    .body = sdp,
                    .body_len = sdp ? strlen(sdp) : 0 };

  char *all = NULL;
  int err;

  if (s->auth) {
    size_t n = strlen(lines);
    /* Its digest-uri is the Request-URI (RFC 2617 section 3.2.2). */
    snprintf(lines + n, sizeof lines - n, "%s",
             cay__auth_line(s->auth, "INVITE", s->remote_target));
  }
  if (s->pass_lines) {
    /* A bridge's pass_headers: A's lines, after ours. */
    size_t n = strlen(lines), m = strlen(s->pass_lines);
    if ((all = cay__malloc(n + m + 1)) == NULL)
      return -ENOMEM;
    memcpy(all, lines, n);
    memcpy(all + n, s->pass_lines, m + 1);
    r.extra = all;
  }
  /* 8.1.2: the Request-URI's host is an IP literal, or the hop RFC 3263
   * found for it; its transport parameter picks UDP or TCP
   * (cay__session_encode()). */
  err = cay__session_send(s, &r, 1, &s->invite_txn);
  cay__free(all);

  if (err == 0 && s->no_response_ms)
    cay__session_timer(s, &s->t_step, s->no_response_ms);
  return err;
}

int
cay__uac_start(cay__session_t *s)
{
  int err = send_invite(s, s->sdp);

  if (err == 0)
    CAY_DEBUG(SHARD_NO(s->ss), "session %s: INVITE sent to %s", s->call_id,
              s->remote_target);
  return err;
}

int
cay__session_invite(cay__sessions_t *ss, const char *uri, const char *from,
                    const char *sdp, cay_session_cb cb, void *arg,
                    cay__session_t **out)
{
  cay__invite_opts_t o
      = { .uri = uri, .from = from, .sdp = sdp, .cb = cb, .arg = arg };
  return cay__session_invite_opts(ss, &o, out);
}

int
cay__session_invite_opts(cay__sessions_t *ss, const cay__invite_opts_t *o,
                         cay__session_t **out)
{
  const char *uri = o->uri, *from = o->from, *sdp = o->sdp;
  char call_id[96], tag[16], local[512], remote[515]; /* "<" 512 ">" */
  const char *v[7];
  cay__session_t *s;
  int err;

  if (ss->draining)
    return CAY_ESTATE;
  /* 8.1.1.2: To is the target, in angle brackets (20.10: a URI with a
   * ';', ',' or '?', which a user part may hold, would otherwise lend the
   * To header its parameters). Longer than the dialog's remote target can
   * be (confirm_dialog()): refused. */
  if (strlen(uri) + 3 > sizeof remote)
    return -EINVAL;
  snprintf(remote, sizeof remote, "<%s>", uri);
  s = cay__calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  s->ss = ss;
  s->uac = 1;
  s->state = CAY__SESSION_CALLING;
  s->cb = o->cb;
  s->cb_arg = o->arg;
  s->bridged = o->bridged != 0;
  s->max_s = ss->cfg.dialog_max_duration_s;
  s->max_forwards = o->max_forwards > 71 ? 71 : o->max_forwards;
  s->no_response_ms = o->no_response_ms;
  s->local_cseq = 1;
  s->invite_cseq = 1;
  cay__session_init_timers(s);
  cay__uac_call_id(ss, call_id, sizeof call_id);
  cay__rand_token(&ss->shard->rand, tag, 10);
  /* 8.1.1.3: our From with a fresh tag. */
  snprintf(local, sizeof local, "%s;tag=%s", from, tag);
  v[0] = call_id;
  v[1] = tag;
  v[2] = "";
  v[3] = local;
  v[4] = remote;
  v[5] = uri;
  v[6] = o->flow == NULL && o->route && *o->route ? o->route : NULL;
  err = cay__session_set_text(s, v);
  if (err == 0 && o->auth_username && *o->auth_username
      && (s->auth = cay__auth_new(o->auth_username,
                                  o->auth_password ? o->auth_password : ""))
             == NULL)
    err = -ENOMEM;
  s->pass_route = o->pass;
  if (err == 0 && o->headers && *o->headers
      && (s->pass_lines = cay__strdup(o->headers)) == NULL)
    err = -ENOMEM;
  s->offer_in_invite = sdp != NULL;
  if (err == 0 && sdp && (s->sdp = cay__strdup(sdp)) == NULL)
    err = -ENOMEM; /* kept until the 2xx: a 422 retry sends it again */
  if (err == 0 && sdp)
    cay__session_origin(s, sdp);
  if (err == 0)
    err = cay__idtab_add_kind(&ss->shard->ids, s, CAY__ID_SESSION, &s->id);
  if (err) {
    cay__free(s->sdp);
    cay__free(s->pass_lines);
    cay__free(s->origin);
    cay__auth_free(s->auth);
    cay__free(s->text);
    cay__free(s);
    return err;
  }
  ss->live++;
  ss->shard->stats.dialogs_live++;
  /* In the table from the start (remote tag still empty), so that a drain
   * or a shutdown finds calls that are still ringing; rehashed once the
   * 2xx names the remote tag. */
  cay__htab_insert(&ss->dialogs, &s->hnode,
                   cay__dialog_hash(s->call_id, s->local_tag, ""));
  s->in_table = 1;
  if (o->flow) {
    s->peer = *o->flow; /* its flow flag as the registrar set it */
    s->by_flow = 1;
  }
  /* 1: the INVITE goes once DNS answers */
  err = o->flow ? 0 : cay__uac_locate(s);
  if (err == 0)
    err = cay__uac_start(s);
  if (err < 0) {
    s->cb = NULL; /* the caller learns it from the return value */
    cay__session_destroy(s);
    return err;
  }
  ss->shard->stats.calls_out++;
  if (o->record)
    cay__session_cdr_placed(s);
  *out = s;
  return 0;
}

/* 12.1.2: the dialog the 2xx makes: the remote tag (To; null, "", when
 * the To has none, for RFC 2543 peers), the remote target (Contact), the
 * route set (Record-Route in reverse order). */
static int
confirm_dialog(cay__session_t *s, msg_t *msg)
{
  sip_t *sip = sip_object(msg);
  const sip_record_route_t *rr[64];
  char to[1024], target[512], routes[4096], one[1024];
  const char *v[7];
  size_t nrr = 0, off = 0;

  if (!sip || !sip->sip_to
      || !value_of((const msg_header_t *)sip->sip_to, to, sizeof to))
    return CAY_EPARSE;
  if (cay__contact_usable(sip->sip_contact)
      && url_e(target, sizeof target, sip->sip_contact->m_url) > 0)
    ;  /* the remote target */
  else /* none, or none to send to: the target the INVITE went to */
    snprintf(target, sizeof target, "%s", s->remote_target);
  for (const sip_record_route_t *r = sip->sip_record_route; r && nrr < 64;
       r = r->r_next)
    rr[nrr++] = r;
  routes[0] = '\0';
  while (nrr > 0) {
    const char *val
        = value_of((const msg_header_t *)rr[--nrr], one, sizeof one);
    int n;
    if (val == NULL)
      return CAY_EPARSE;
    n = snprintf(routes + off, sizeof routes - off, "%s%s", off ? ", " : "",
                 val);
    if (n < 0 || (size_t)n >= sizeof routes - off)
      return CAY_ELIMIT;
    off += (size_t)n;
  }
  v[0] = s->call_id;
  v[1] = s->local_tag;
  v[2] = sip->sip_to->a_tag ? sip->sip_to->a_tag : "";
  v[3] = s->local_party;
  v[4] = to;
  v[5] = target;
  v[6] = off ? routes : NULL;
  return cay__session_set_text(s, v);
}

/* 13.2.2.4: the ACK for the 2xx, built once and kept for every copy of
 * the 2xx (the ACK then goes again). 13.2.1: when our INVITE had no offer,
 * the 2xx's @p offer is answered in the ACK: with @p given (the
 * embedder's), else from the configured codecs; none when it cannot be. */
static int
send_ack(cay__session_t *s, const char *offer, const char *given)
{
  cay__dreq_t r = { .method = sip_method_ack, .name = "ACK" };
  char *own;
  int err;

  r.cseq = s->invite_cseq;
  /* 13.2.2.4: the ACK carries the INVITE's credentials. */
  if (s->auth && *cay__auth_last(s->auth))
    r.extra = cay__auth_last(s->auth);
  r.body = cay__session_ack_answer(s, offer, given, &own, &r.body_len);
  if (r.body)
    r.ctype = "application/sdp";
  err = cay__session_send_ack(s, &r, &s->peer, &s->ok_bytes, &s->ok_len);
  if (err == 0)
    cay__session_keep_sdp(s, r.body, r.body_len);
  cay__free(own);
  return err;
}

int
cay__uac_ack_answer(cay__session_t *s, int status, const char *sdp)
{
  char *offer = s->sdp;
  int err;

  if (!s->ack_pending)
    return CAY_ESTATE;
  s->ack_pending = 0;
  s->ack_deferred = 0;
  s->sdp = NULL;
  if (status >= 300) {
    /* 13.2.2.4: a 2xx cannot be refused; it is ACKed, then the session
     * ends (RFC 3264 section 6: an offer we cannot answer). */
    err = send_ack(s, NULL, NULL);
    cay__free(offer);
    cay__session_bye(s, 488, "offer in the 2xx not acceptable");
    return err;
  }
  err = send_ack(s, offer, sdp);
  cay__free(offer);
  if (err)
    CAY_WARN(SHARD_NO(s->ss), "session %s: ACK not sent", s->call_id);
  return err;
}

/* Move the session to the dialog named by @p msg's To tag (12.1.2). */
static int
take_dialog(cay__session_t *s, msg_t *msg)
{
  cay__sessions_t *ss = s->ss;
  int err;

  cay__htab_remove(&ss->dialogs, &s->hnode);
  err = confirm_dialog(s, msg);
  cay__htab_insert(&ss->dialogs, &s->hnode,
                   cay__dialog_hash(s->call_id, s->local_tag, s->remote_tag));
  return err;
}

/* 12.1.2: a provisional with a To tag makes an early dialog: its tag,
 * Contact and Record-Route become ours to send in (a PRACK, an INFO) and
 * to be found by (the callee's INFO). A fork's provisional takes the
 * place of another's. */
static void
take_early(cay__session_t *s, msg_t *msg, const sip_t *sip)
{
  if (s->early_dialog && strcmp(s->remote_tag, sip->sip_to->a_tag) == 0)
    return;
  s->early_oa = 0; /* that of another fork's early dialog, if any */
  if (take_dialog(s, msg) == 0)
    s->early_dialog = 1;
  else
    CAY_INFO(SHARD_NO(s->ss),
             "session %s: early dialog of a %d not kept: To, Contact or "
             "Record-Route could not be copied",
             s->call_id, sip->sip_status ? sip->sip_status->st_status : 0);
}

/* RFC 3262 section 4: PRACK a reliable provisional once per RSeq (its
 * retransmissions are ignored; the PRACK transaction retransmits itself).
 * The provisional makes the early dialog the PRACK travels in. */
static void
send_prack(cay__session_t *s, const sip_t *sip)
{
  char rack[64];
  uint32_t rseq;
  cay__dreq_t r;

  if (cay__rel_provisional(sip, &rseq) != 1 || (s->rseq && rseq <= s->rseq))
    return;
  if (!s->early_dialog || strcmp(s->remote_tag, sip->sip_to->a_tag) != 0)
    return; /* its early dialog could not be kept (take_early()) */
  s->rseq = rseq;
  if (s->offer_in_invite && sip->sip_payload && sip->sip_payload->pl_len)
    s->early_oa = 1; /* RFC 3311 section 5.1: UPDATE may follow */
  if (cay__rel_rack_line(rseq, sip->sip_cseq->cs_seq, rack, sizeof rack) < 0)
    return;
  memset(&r, 0, sizeof r);
  r.method = sip_method_prack;
  r.name = "PRACK";
  r.cseq = ++s->local_cseq;
  r.extra = rack;
  if (cay__session_send(s, &r, 0, NULL) != 0)
    CAY_WARN(SHARD_NO(s->ss), "session %s: PRACK not sent", s->call_id);
}

/* 13.2.2.4: ACK the dialog a 2xx makes that no session wants, then BYE
 * it unless @p ack_only (a copy of a 2xx already ACKed: its dialog is ours
 * and has ended). @p fork names our side of it (ss, peer, Call-ID, local
 * tag and party, the target for a 2xx without a usable Contact); the
 * dialog is built on it, on the caller's stack, just for these requests.
 * The caller frees fork->text. */
static int
ack_and_bye(cay__session_t *fork, uint32_t invite_cseq, msg_t *msg,
            int ack_only)
{
  cay__dreq_t ack = { .method = sip_method_ack, .name = "ACK" };
  cay__dreq_t bye = { .method = sip_method_bye, .name = "BYE" };
  cay__peer_t dst;
  int err = confirm_dialog(fork, msg);

  if (err)
    return err;
  ack.cseq = invite_cseq;
  err = cay__session_send_ack(fork, &ack, &dst, NULL, NULL);
  if (ack_only)
    return err;
  bye.cseq = invite_cseq + 1;
  return cay__session_send(fork, &bye, 0, NULL);
}

/* 13.2.2.4: a 2xx from a second fork makes a second dialog we do not
 * want. */
static void
end_forked(cay__session_t *s, msg_t *msg)
{
  cay__session_t fork;

  memset(&fork, 0, sizeof fork);
  fork.ss = s->ss;
  fork.peer = s->peer;
  fork.call_id = s->call_id;
  fork.local_tag = s->local_tag;
  fork.local_party = s->local_party;
  fork.remote_target = s->remote_target;
  fork.remote_party = s->remote_party;
  if (ack_and_bye(&fork, s->invite_cseq, msg, 0) == 0)
    CAY_INFO(SHARD_NO(s->ss),
             "session %s: 2xx from a second fork (tag %s): "
             "ACKed and ended with BYE",
             s->call_id, fork.remote_tag);
  cay__free(fork.text);
}

void
cay__uac_stray_2xx(cay__sessions_t *ss, const cay__peer_t *peer, msg_t *msg,
                   int copy, const char *why)
{
  const sip_t *sip = sip_object(msg);
  char from[1024];
  cay__session_t fork;

  if (!sip || !sip->sip_cseq || sip->sip_cseq->cs_method != sip_method_invite
      || !sip->sip_call_id || !sip->sip_from || !sip->sip_from->a_tag
      || !cay__contact_usable(sip->sip_contact)
      || !value_of((const msg_header_t *)sip->sip_from, from, sizeof from))
    return; /* no dialog to ACK: nothing to send to, or no From tag */
  memset(&fork, 0, sizeof fork);
  fork.ss = ss;
  fork.peer = *peer;
  fork.call_id = sip->sip_call_id->i_id;
  fork.local_tag = sip->sip_from->a_tag;
  fork.local_party = from;
  fork.remote_target = "";
  if (ack_and_bye(&fork, sip->sip_cseq->cs_seq, msg, copy) == 0) {
    if (copy)
      CAY_DEBUG(SHARD_NO(ss), "call %s: 2xx copy %s: ACKed", fork.call_id, why);
    else
      CAY_INFO(SHARD_NO(ss),
               "call %s: 2xx (tag %s) %s: ACKed and ended with BYE",
               fork.call_id, fork.remote_tag, why);
  }
  cay__free(fork.text);
}

/* Report response @p msg (@p sip) to our INVITE: its body, and the
 * header lines the session's route passes to the other leg (a bridged
 * leg's pass_headers, in ev->headers), while the session has an owner: a
 * leg its bridge let go (replaced, RFC 3891) may outlive the route. */
static void
notify_body(cay__session_t *s, cay_session_event_kind_t kind, int status,
            msg_t *msg, const sip_t *sip)
{
  cay_session_event_t ev
      = { .kind = kind, .state = s->state, .status = status };
  char lines[CAY__PASS_MAX];

  ev.headers = cay__session_pass_of(s, msg, lines, sizeof lines);
  cay__session_event_body(&ev, sip, "application/sdp");
  cay__session_event(s, &ev);
}

static void
on_2xx(cay__session_t *s, int status, msg_t *msg, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;

  if (s->state == CAY__SESSION_CONFIRMED
      || s->state == CAY__SESSION_TERMINATING) {
    /* 13.2.2.4: a copy of the 2xx gets the same ACK again; a 2xx of
     * another fork gets ACK and BYE. */
    if (sip && sip->sip_to
        && strcmp(sip->sip_to->a_tag ? sip->sip_to->a_tag : "", s->remote_tag)
               == 0) {
      if (s->ok_bytes)
        cay__endpoint_send_sized(ss->ep, &s->peer, s->ok_bytes, s->ok_len, 1);
    } else if (msg && sip && sip->sip_to && sip->sip_to->a_tag) {
      end_forked(s, msg);
    }
    return;
  }
  if (msg == NULL || take_dialog(s, msg) != 0) {
    CAY_WARN(SHARD_NO(ss), "session %s: unusable 2xx", s->call_id);
    s->end_status = 500;
    cay__session_destroy(s);
    return;
  }
  if (!(s->bridged && s->offer_in_invite)) {
    cay__free(s->sdp); /* a bridged leg keeps its offer, now in effect */
    s->sdp = NULL;
  }
  s->state = CAY__SESSION_CONFIRMED;
  (void)cay__session_set_pass_lines(s, NULL); /* no INVITE goes again */
  s->peer_update = sip_is_allowed(sip->sip_allow, sip_method_update, NULL);
  ss->shard->stats.calls_out_answered++;
  if (!s->offer_in_invite && sip->sip_payload && sip->sip_payload->pl_len) {
    /* 13.2.1: the 2xx holds the offer and the ACK the answer. The
     * callback may answer it (cay_session_answer_offer) or keep it open
     * (cay_session_defer_offer, as the B2BUA does until the other leg's
     * ACK); otherwise Cay answers once the callback returns. */
    s->sdp = cay__strndup(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    s->ack_pending = s->sdp != NULL;
  }
  if (!s->ack_pending && send_ack(s, NULL, NULL) != 0)
    CAY_WARN(SHARD_NO(ss), "session %s: ACK not sent", s->call_id);
  cay__stimer_on_response(sip, &s->st); /* RFC 4028 section 7.2 */
  cay__session_start_max(s);
  cay__session_stimer_start(s);
  notify_body(s, CAY_SESSION_EV_STATE, status, msg, sip);
  if (s->ack_pending && !s->ack_deferred)
    cay__uac_ack_answer(s, 200, NULL);
}

/* A 2xx of an INVITE we sent before this one (a target given up for no
 * response, cay__uac_no_response()) makes a dialog nobody wants: ACK and
 * BYE it (13.2.2.4), as for a 2xx after the session ended. @return 1 when
 * it was one. */
static int
earlier_2xx(cay__session_t *s, cay_id_t txn_id, int status, msg_t *msg)
{
  const sip_t *sip = msg ? sip_object(msg) : NULL;
  const cay__txn_t *t;

  if (status / 100 != 2 || sip == NULL || sip->sip_cseq == NULL
      || sip->sip_cseq->cs_method != sip_method_invite
      || sip->sip_cseq->cs_seq >= s->invite_cseq
      || (t = cay__txn_lookup(s->ss->ep, txn_id)) == NULL)
    return 0;
  cay__uac_stray_2xx(s->ss, cay__txn_peer(t), msg, cay__txn_2xx_is_copy(t, sip),
                     "to an INVITE given up for no response");
  return 1;
}

void
cay__uac_no_response(cay__session_t *s)
{
  cay__txn_t *t = cay__txn_lookup(s->ss->ep, s->invite_txn);
  char where[64] = "";

  if (s->state != CAY__SESSION_CALLING || t == NULL || cay__txn_give_up(t) != 0)
    return;
  (void)cay__addr_format(&s->peer.addr, where, sizeof where);
  CAY_INFO(SHARD_NO(s->ss),
           "session %s: INVITE to %s (%s) had no response in %u ms "
           "(no_response_timeout_ms): given up as on timer B",
           s->call_id, s->remote_target, where, s->no_response_ms);
  cay__uac_response(s, s->invite_txn, 408, NULL);
}

/* RFC 3261 section 22.2: a 401/407 to our INVITE, and we have
 * credentials: the INVITE again (CSeq + 1, same Call-ID and From tag) with
 * them. @return 1 when it went. */
static int
retry_with_credentials(cay__session_t *s, int status, const sip_t *sip)
{
  if (s->cancelled || !cay__session_challenged(s, status, sip, "INVITE"))
    return 0;
  s->invite_cseq = ++s->local_cseq;
  s->state = CAY__SESSION_CALLING;
  if (send_invite(s, s->sdp) != 0)
    return 0;
  CAY_DEBUG(SHARD_NO(s->ss),
            "session %s: INVITE sent again with credentials after %d",
            s->call_id, status);
  return 1;
}

void
cay__uac_response(cay__session_t *s, cay_id_t txn_id, int status, msg_t *msg)
{
  cay__sessions_t *ss = s->ss;
  sip_t *sip = msg ? sip_object(msg) : NULL;

  if (txn_id != s->invite_txn) {
    if (!earlier_2xx(s, txn_id, status, msg))
      cay__mod_response(s, txn_id, status, msg);
    return;
  }
  if (s->state == CAY__SESSION_CALLING && s->no_response_ms)
    cay__shard_timer_stop(ss->shard, &s->t_step); /* it responds */
  if (s->state == CAY__SESSION_CALLING || s->state == CAY__SESSION_EARLY) {
    /* The INVITE may have gone over TCP for its size and even come back
     * to UDP (RFC 3261 18.1.1): requests in the dialog follow it. */
    const cay__txn_t *t = cay__txn_lookup(ss->ep, txn_id);
    if (t)
      s->peer.proto = cay__txn_peer(t)->proto;
    if (s->state == CAY__SESSION_CALLING)
      cay__uac_target_heard(s, status, sip);
  }
  if (status < 200) {
    /* 12.1.2: a provisional with a To tag makes an early dialog. */
    if (s->state == CAY__SESSION_CALLING && sip && sip->sip_to
        && sip->sip_to->a_tag) {
      s->state = CAY__SESSION_EARLY;
      cay__uac_targets_free(s); /* this target answers */
    }
    if (sip && sip->sip_to && sip->sip_to->a_tag) {
      take_early(s, msg, sip);
      send_prack(s, sip);
    }
    if (status > 100)
      cay__session_cdr_progress(s);
    notify_body(s, CAY_SESSION_EV_PROVISIONAL, status, msg, sip);
    return;
  }
  if (status < 300) {
    cay__session_cdr_answered(s); /* the first 2xx (of any fork) */
    cay__uac_targets_free(s);
    if (s->auth)
      cay__auth_settled(s->auth); /* later requests get three tries again */
    on_2xx(s, status, msg, sip);
    return;
  }
  if (s->state != CAY__SESSION_CALLING && s->state != CAY__SESSION_EARLY)
    return; /* a late failure after a 2xx of another fork */
  if (status == 422 && sip && s->stimer_422 < 2) {
    /* RFC 4028 section 7.1 (via 6): ask again with the peer's Min-SE. */
    unsigned min = cay__stimer_min_se_of_422(sip);
    if (min > s->st.interval_s && min >= ss->cfg.min_se_s) {
      s->stimer_422++;
      s->st.interval_s = min;
      s->invite_cseq = ++s->local_cseq;
      s->state = CAY__SESSION_CALLING;
      if (send_invite(s, s->sdp) == 0)
        return;
    }
  }
  if ((status == 401 || status == 407) && sip
      && retry_with_credentials(s, status, sip))
    return;
  if ((status == 408 || status == 503) && s->state == CAY__SESSION_CALLING
      && !s->cancelled && cay__uac_next_target(s, status))
    return;
  /* 300-699, 408 (timer B) or a transport error: the call failed; the
   * transaction has ACKed a final response itself (17.1.1.3). A bridge
   * learns what the route passes of the failure (a Reason, RFC 3326). */
  char lines[CAY__PASS_MAX];
  s->end_status = status;
  ss->shard->stats.calls_out_failed++;
  cay__session_note_reason(s, msg); /* RFC 6432: a Q.850 cause, say */
  cay__session_end(s, cay__session_pass_of(s, msg, lines, sizeof lines));
}

int
cay__session_hangup(cay__session_t *s)
{
  return cay__session_hangup_with(s, NULL);
}

int
cay__session_hangup_with(cay__session_t *s, const char *lines)
{
  switch (s->state) {
  case CAY__SESSION_CALLING:
  case CAY__SESSION_EARLY:
    if (s->uac && s->locating) {
      /* No INVITE has gone yet: nothing to CANCEL (9.1). */
      cay__uac_locate_end(s, 487);
      return 0;
    }
    if (s->uac) {
      /* 9.1: CANCEL (one per INVITE, however often this is called); the
       * INVITE's 487 ends the session. */
      cay__txn_t *t = cay__txn_lookup(s->ss->ep, s->invite_txn);
      s->cancelled = 1;
      return t ? cay__txn_cancel_with(t, lines) : 0;
    }
    /* fallthrough */
  case CAY__SESSION_INCOMING:
    /* An incoming call not answered: 480 (the callee is not there). */
    (void)cay__session_set_pass_lines(s, lines);
    return cay_session_reject(s, 480, NULL, NULL);
  case CAY__SESSION_ANSWERED:
  case CAY__SESSION_CONFIRMED:
    cay__session_bye_with(s, "hangup", lines);
    return 0;
  case CAY__SESSION_TERMINATING:
    return 0;
  default:
    return CAY_ESTATE;
  }
}
