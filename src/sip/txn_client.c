/*
 * Client transactions (RFC 3261 section 17.1, RFC 6026 section 7.2):
 * sending a request, its CANCEL, and the responses that come back, for
 * INVITE (timers A, B, D, M) and non-INVITE (E, F, K). The common part
 * (allocation, timers, terminate) and the server side: txn.c.
 */
#include "sip/txn_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

#define SHARD(t) ((t)->ep->shard)

static int client_start(cay__txn_t *t, const cay__peer_t *dst, cay_id_t tu_id,
                        cay_id_t *txn_id);

int
cay__txn_request_send(cay__endpoint_t *ep, msg_t *req, const cay__peer_t *dst,
                      cay_id_t tu_id, cay_id_t *txn_id)
{
  sip_t *sip = sip_object(req);
  const char *data;
  size_t len;
  cay__txn_t *t;
  int err;

  if (sip == NULL || sip->sip_via == NULL || sip->sip_cseq == NULL
      || sip->sip_via->v_branch == NULL) {
    msg_destroy(req);
    return -EINVAL;
  }
  t = cay__txn_alloc(ep);
  if (t == NULL) {
    msg_destroy(req);
    return -ENOMEM;
  }
  t->key = cay__txn_client_key(sip->sip_via->v_branch,
                               sip->sip_cseq->cs_method_name, &t->keylen);
  if (t->key && ep->hooks.out_message) {
    /* The hooks see the Via the request goes with (18.1.1, supp.h);
     * cay__txn_choose_transport() settles it after them. */
    t->for_size = (unsigned)cay__endpoint_via_for_size(ep, req, dst);
    cay__endpoint_out(ep, req); /* once: retransmissions reuse bytes */
  }
  err = t->key ? cay__msg_serialize(req, &data, &len) : -ENOMEM;
  if (err == 0 && (t->out = cay__malloc(len)) == NULL)
    err = -ENOMEM;
  if (err) {
    cay__txn_unalloc(t);
    msg_destroy(req);
    return err;
  }
  memcpy(t->out, data, len);
  t->outlen = len;
  t->invite
      = sip->sip_request && sip->sip_request->rq_method == sip_method_invite;
  if (t->invite)
    t->req = req; /* for the ACK of a non-2xx and for CANCEL */
  else
    msg_destroy(req);
  return client_start(t, dst, tu_id, txn_id);
}

/* Start client transaction @p t (key and bytes set): table, first send,
 * timers. */
static int
client_start(cay__txn_t *t, const cay__peer_t *dst, cay_id_t tu_id,
             cay_id_t *txn_id)
{
  cay__endpoint_t *ep = t->ep;
  int err;

  t->peer = *dst;
  t->tu_id = tu_id;
  t->state = t->invite ? CAY__TXN_CALLING : CAY__TXN_TRYING;
  cay__htab_insert(&ep->client_txns, &t->hnode, cay__hash(t->key, t->keylen));
  cay__txn_choose_transport(t);
  err = cay__txn_send_out(t, 0);
  if (err && cay__txn_undo_transport(t))
    err = cay__txn_send_out(t, 0);
  if (err) {
    /* 17.1.4: a transport error ends the transaction; the caller learns it
     * from the return value. */
    cay__txn_terminate(t);
    return err;
  }
  /* 17.1.2.2: timer E = T1 on an unreliable transport, F = 64*T1;
   * 17.1.1.2: timers A and B likewise for an INVITE. */
  t->interval_ms = ep->t1_ms;
  if (!cay__txn_reliable(t))
    cay__txn_start_timer(t, &t->t_retx, t->interval_ms);
  if (t->state == CAY__TXN_TRYING || t->state == CAY__TXN_CALLING)
    cay__txn_start_timer(t, &t->t_end, 64ull * ep->t1_ms);
  if (txn_id)
    *txn_id = t->id;
  return 0;
}

int
cay__txn_request_send_bytes(cay__endpoint_t *ep, const char *data, size_t len,
                            const char *branch, const char *method_name,
                            const cay__peer_t *dst, cay_id_t tu_id,
                            cay_id_t *txn_id)
{
  cay__txn_t *t;

  if (strcmp(method_name, "ACK") == 0)
    return -EINVAL; /* an ACK has no transaction */
  t = cay__txn_alloc(ep);
  if (t == NULL)
    return -ENOMEM;
  t->key = cay__txn_client_key(branch, method_name, &t->keylen);
  t->out = t->key ? cay__malloc(len) : NULL;
  if (t->out == NULL) {
    cay__txn_unalloc(t);
    return -ENOMEM;
  }
  memcpy(t->out, data, len);
  t->outlen = len;
  /* An INVITE's msg_t is made from these bytes only if a CANCEL or the
   * ACK of a failure needs it (client_request()). */
  t->invite = strcmp(method_name, "INVITE") == 0;
  t->from_bytes = 1;
  return client_start(t, dst, tu_id, txn_id);
}

void
cay__txn_tell_tu(cay__txn_t *t, int status, msg_t *msg)
{
  cay__endpoint_t *ep = t->ep;

  if (msg && ep->hooks.in_response)
    ep->hooks.in_response(ep->hooks.arg, msg, sip_object(msg));
  if (t->given_up && status / 100 != 2)
    return; /* cay__txn_give_up(): the TU has moved on */
  if (t->tu_id && ep->tu.on_response)
    ep->tu.on_response(ep->tu.arg, t->tu_id, t->id, status, msg);
}

/* The INVITE of a client transaction started from bytes, parsed the first
 * time it is needed (for a CANCEL or the ACK of a failure). NULL when it
 * does not parse (it cannot: Cay wrote it) or there is no memory. */
static msg_t *
client_request(cay__txn_t *t)
{
  if (t->req == NULL && t->from_bytes && t->out
      && cay__msg_parse(t->out, t->outlen, &t->req) != 0) {
    if (t->req)
      msg_destroy(t->req);
    t->req = NULL;
  }
  return t->req;
}

/* 9.1: the CANCEL of an INVITE client transaction, as a transaction of its
 * own that nobody waits for (the INVITE's 487 is what tells the TU). */
static int
send_cancel(cay__txn_t *t)
{
  msg_t *invite = client_request(t);
  msg_t *cancel = invite ? cay__msg_cancel_for(invite) : NULL;

  t->cancel_wanted = 0;
  t->cancel_sent = 1;
  if (cancel == NULL)
    return -ENOMEM;
  /* RFC 3326: a Reason the TU passes on, say; without it if not. */
  if (t->cancel_lines && cay__msg_add_lines(cancel, t->cancel_lines) != 0)
    CAY_INFO((int)t->ep->shard->index,
             "CANCEL sent without the header lines passed on: they do not "
             "parse, or no memory");
  return cay__txn_request_send(t->ep, cancel, &t->peer, 0, NULL);
}

int
cay__txn_cancel(cay__txn_t *t)
{
  return cay__txn_cancel_with(t, NULL);
}

int
cay__txn_cancel_with(cay__txn_t *t, const char *lines)
{
  if (t->server || !t->invite || (t->req == NULL && !t->from_bytes))
    return CAY_ESTATE;
  if (t->cancel_sent || t->cancel_wanted)
    return 0; /* 9.1: one CANCEL per INVITE; it retransmits by itself */
  if (lines && *lines && (t->cancel_lines = cay__strdup(lines)) == NULL)
    return -ENOMEM;
  if (t->state == CAY__TXN_CALLING) {
    t->cancel_wanted = 1; /* 9.1: wait for a provisional response */
    return 0;
  }
  if (t->state != CAY__TXN_PROCEEDING)
    return 0; /* a final response came: nothing to cancel */
  return send_cancel(t);
}

int
cay__txn_give_up(cay__txn_t *t)
{
  if (t->server || !t->invite || t->state != CAY__TXN_CALLING)
    return CAY_ESTATE;
  t->given_up = 1;
  cay__txn_settle(t); /* its outcome is the TU's 408: not live */
  cay__shard_timer_stop(t->ep->shard, &t->t_retx); /* no more timer A */
  (void)cay__txn_cancel(t); /* 9.1: at the first provisional, if any */
  return 0;
}

/* 17.1.1.2/17.1.1.3 and RFC 6026 section 7.2 for an INVITE. */
static void
invite_client_response(cay__txn_t *t, msg_t *msg, int status)
{
  cay__endpoint_t *ep = t->ep;
  uint64_t first_2xx_tag = 0;

  if (t->state == CAY__TXN_ACCEPTED) {
    if (status / 100 == 2)
      cay__txn_tell_tu(t, status,
                       msg); /* a copy or another fork: the TU ACKs */
    return;
  }
  if (t->state == CAY__TXN_COMPLETED) {
    if (status >= 300 && t->out)
      cay__txn_send_out(t, 1); /* the ACK again for a retransmitted final */
    return;
  }
  if (status < 200) {
    if (t->state == CAY__TXN_CALLING)
      cay__shard_timer_stop(ep->shard, &t->t_retx); /* no more A */
    t->state = CAY__TXN_PROCEEDING;
    t->status = status;
    if (t->cancel_wanted)
      send_cancel(t); /* 9.1: any provisional, 100 included */
    cay__txn_tell_tu(t, status, msg);
    return;
  }
  t->status = status;
  cay__txn_settle(t);
  cay__shard_timer_stop(ep->shard, &t->t_retx);
  cay__shard_timer_stop(ep->shard, &t->t_end);
  if (status < 300) {
    /* RFC 6026: Accepted; M = 64*T1. The request is no longer needed,
     * parsed or as bytes: Accepted sends nothing (the TU ACKs each 2xx),
     * and a bridged call would otherwise keep its INVITE for 32 s. */
    t->state = CAY__TXN_ACCEPTED;
    first_2xx_tag = cay__txn_to_tag_hash(sip_object(msg));
    msg_destroy(t->req);
    t->req = NULL;
    cay__free(t->out);
    t->out = NULL;
    t->outlen = 0;
    cay__txn_start_timer(t, &t->t_wait, 64ull * ep->t1_ms);
  } else {
    /* 17.1.1.3: the ACK, kept for retransmitted finals; D = 32 s. */
    msg_t *invite = client_request(t);
    msg_t *ack = invite ? cay__msg_ack_for(invite, msg) : NULL;
    const char *data;
    size_t len;
    char *copy;

    t->state = CAY__TXN_COMPLETED;
    if (ack)
      cay__endpoint_out(ep, ack);
    if (ack && cay__msg_serialize(ack, &data, &len) == 0
        && (copy = cay__realloc(t->out, len)) != NULL) {
      memcpy(copy, data, len);
      t->out = copy;
      t->outlen = len;
      cay__txn_send_out(t, 0);
    }
    if (ack)
      msg_destroy(ack);
    cay__txn_start_timer(t, &t->t_wait, cay__txn_reliable(t) ? 0 : 32000);
  }
  cay__txn_tell_tu(t, status, msg);
  /* Set after the TU has seen the first 2xx: it is not a copy of itself
   * (cay__txn_2xx_is_copy()). The free is deferred: t is still here. */
  t->first_2xx_tag = first_2xx_tag;
}

void
cay__txn_client_response(cay__txn_t *t, msg_t *msg, sip_t *sip)
{
  cay__endpoint_t *ep = t->ep;
  int status = sip->sip_status->st_status;

  if (t->invite) {
    invite_client_response(t, msg, status);
    return;
  }
  if (t->state == CAY__TXN_COMPLETED)
    return; /* 17.1.2.2: retransmitted final response, absorbed */
  t->status = status;
  if (status < 200) {
    t->state = CAY__TXN_PROCEEDING;
    return;
  }
  t->state = CAY__TXN_COMPLETED;
  cay__txn_settle(t);
  cay__shard_timer_stop(ep->shard, &t->t_retx);
  cay__shard_timer_stop(ep->shard, &t->t_end);
  cay__txn_tell_tu(t, status, msg);
  /* Timer K = T4 on UDP, 0 on a reliable transport. The TU may have ended
   * everything meanwhile. */
  if (t->state == CAY__TXN_COMPLETED)
    cay__txn_start_timer(t, &t->t_wait, cay__txn_reliable(t) ? 0 : ep->t4_ms);
}
