/*
 * Transaction state machines (RFC 3261 section 17, RFC 6026): INVITE and
 * non-INVITE server and client transactions, with their timers (RFC 3261
 * A to K, RFC 6026 L and M; over TCP only those that do not retransmit).
 * The choice of transport and transport errors: txn_transport.c; INVITE
 * server transactions in Accepted: txn_accepted.c.
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

void
cay__txn_free_deferred(cay__defer_t *d)
{
  cay__txn_t *t = (cay__txn_t *)((char *)d - offsetof(cay__txn_t, defer));

  if (t->req)
    msg_destroy(t->req);
  cay__free(t->key);
  cay__free(t->out);
  cay__free(t->cancel_lines);
  cay__free(t);
}

void
cay__txn_terminate(cay__txn_t *t)
{
  cay__endpoint_t *ep = t->ep;

  if (t->state == CAY__TXN_TERMINATED)
    return;
  t->state = CAY__TXN_TERMINATED;
  if (t->moved || t->view)
    return; /* unlinked already; its entry lives on in ep->accepted */
  cay__shard_timer_stop(ep->shard, &t->t_retx);
  cay__shard_timer_stop(ep->shard, &t->t_end);
  cay__shard_timer_stop(ep->shard, &t->t_wait);
  cay__htab_remove(t->server ? &ep->server_txns : &ep->client_txns, &t->hnode);
  cay__idtab_remove(&ep->shard->ids, t->id);
  ep->live_txns--;
  cay__txn_settle(t);
  /* Rule 5: dead now, freed after the current event. */
  cay__shard_defer(ep->shard, &t->defer, cay__txn_free_deferred);
}

void
cay__txn_settle(cay__txn_t *t)
{
  if (t->pending) {
    t->pending = 0;
    t->ep->shard->stats.txns_live--;
  }
}

int
cay__txn_send_out(cay__txn_t *t, int retransmit)
{
  return cay__endpoint_send_bytes(t->ep, &t->peer, t->out, t->outlen,
                                  retransmit);
}

void
cay__txn_start_timer(cay__txn_t *t, cay__timer_t *tm, uint64_t ms)
{
  /* A timer that cannot be armed (no memory for the heap) would leave the
   * transaction alive forever: end it now instead. */
  if (cay__shard_timer_start(SHARD(t), tm, ms) != 0) {
    CAY_WARN((int)SHARD(t)->index, "no memory for a transaction timer");
    cay__txn_terminate(t);
  }
}

static void
on_wait(cay__timer_t *tm)
{
  /* Timers I, J, K, L: the transaction has absorbed retransmissions for
   * long enough. */
  cay__txn_terminate(tm->data);
}

static void
on_retx(cay__timer_t *tm)
{
  cay__txn_t *t = tm->data;
  cay__endpoint_t *ep = t->ep;

  if (t->server && t->invite && t->status < 200) {
    /* 17.2.1: the 200 ms of cay__txn_trying_later() passed: 100 Trying
     * now unless the TU has sent a provisional response meanwhile
     * (provisionals are not retransmitted). */
    if (t->status == 0)
      cay__txn_reply(t, 100, NULL, NULL);
    return;
  }
  cay__txn_send_out(t, 1);
  if (!t->server && t->invite) {
    /* Timer A (17.1.1.2): doubles, without the T2 cap. */
    t->interval_ms *= 2;
  } else if (t->server || t->state == CAY__TXN_TRYING) {
    /* Timer G (17.2.1) and timer E in Trying (17.1.2.2): double up to T2. */
    t->interval_ms *= 2;
    if (t->interval_ms > ep->t2_ms)
      t->interval_ms = ep->t2_ms;
  } else {
    /* Timer E in Proceeding: every T2. */
    t->interval_ms = ep->t2_ms;
  }
  cay__txn_start_timer(t, &t->t_retx, t->interval_ms);
}

static void
on_end(cay__timer_t *tm)
{
  cay__txn_t *t = tm->data;
  cay__endpoint_t *ep = t->ep;

  if (t->server) {
    /* Timer H (17.2.1): no ACK for our final response. */
    CAY_DEBUG((int)ep->shard->index, "timer H: no ACK for %d", t->status);
  } else {
    /* Timers F and B (17.1.2.2, 17.1.1.2): the TU sees a 408 (not once
     * it gave the transaction up). */
    cay__txn_tell_tu(t, 408, NULL);
  }
  cay__txn_terminate(t);
}

cay__txn_t *
cay__txn_alloc(cay__endpoint_t *ep)
{
  cay__txn_t *t = cay__calloc(1, sizeof *t);

  if (t == NULL)
    return NULL;
  if (cay__idtab_add(&ep->shard->ids, t, &t->id) != 0) {
    cay__free(t);
    return NULL;
  }
  t->ep = ep;
  cay__timer_init(&t->t_retx, on_retx, t);
  cay__timer_init(&t->t_end, on_end, t);
  cay__timer_init(&t->t_wait, on_wait, t);
  ep->live_txns++;
  ep->shard->stats.txns_live++;
  t->pending = 1;
  return t;
}

void
cay__txn_unalloc(cay__txn_t *t)
{
  t->ep->live_txns--;
  t->ep->shard->stats.txns_live--;
  cay__idtab_remove(&t->ep->shard->ids, t->id);
  cay__free(t->key);
  cay__free(t);
}

cay__txn_t *
cay__txn_server_new(cay__endpoint_t *ep, msg_t *msg, char *key, size_t keylen,
                    uint64_t hash, const cay__peer_t *src)
{
  sip_t *sip = sip_object(msg);
  cay__txn_t *t;

  t = cay__txn_alloc(ep);
  if (t == NULL)
    return NULL;
  /* 18.2.2: over a stream, responses go back on the connection the request
   * came on, or once it has closed on a new one to the sent-by port; over
   * UDP, to where the Via says (received, rport). */
  t->peer = *src;
  t->source_port = (uint16_t)cay__addr_port(&src->addr);
  if (cay__response_dest(sip->sip_via, &t->peer) != 0) {
    /* Cannot happen after cay__via_fix_received(), which always adds a
     * received parameter when sent-by is a host name. */
    cay__txn_unalloc(t);
    return NULL;
  }
  t->server = 1;
  t->invite = sip->sip_request->rq_method == sip_method_invite;
  t->state = t->invite ? CAY__TXN_PROCEEDING : CAY__TXN_TRYING;
  t->req = msg;
  t->key = key;
  t->keylen = keylen;
  cay__htab_insert(&ep->server_txns, &t->hnode, hash);
  return t;
}

void
cay__txn_server_retransmit(cay__txn_t *t, msg_t *msg, sip_t *sip)
{
  cay__endpoint_t *ep = t->ep;
  int ack = sip->sip_request->rq_method == sip_method_ack;

  if (ack) {
    if (t->state == CAY__TXN_COMPLETED) {
      /* 17.2.1: ACK for our non-2xx final response. Timer I = T4. */
      t->state = CAY__TXN_CONFIRMED;
      cay__shard_timer_stop(ep->shard, &t->t_retx);
      cay__shard_timer_stop(ep->shard, &t->t_end);
      cay__txn_start_timer(t, &t->t_wait, cay__txn_reliable(t) ? 0 : ep->t4_ms);
    } else if (t->state == CAY__TXN_ACCEPTED && ep->tu.on_ack) {
      /* RFC 6026 section 7.1: an ACK matching an Accepted transaction is
       * passed to the TU. */
      ep->tu.on_ack(ep->tu.arg, msg, sip);
    }
    return;
  }
  switch (t->state) {
  case CAY__TXN_PROCEEDING:
  case CAY__TXN_COMPLETED:
    /* 17.2.1 / 17.2.2: resend the last response, if any. */
    if (t->out)
      cay__txn_send_out(t, 1);
    break;
  default:
    /* Trying, Accepted (RFC 6026: absorbed), Confirmed. */
    break;
  }
}

int
cay__txn_respond(cay__txn_t *t, msg_t *resp)
{
  return cay__txn_respond_copy(t, resp, NULL, NULL);
}

/* May @p t send a response with @p status now? */
static int
can_respond(const cay__txn_t *t, int status)
{
  return !t->view
         && !(t->state == CAY__TXN_TERMINATED || t->state == CAY__TXN_COMPLETED
              || t->state == CAY__TXN_CONFIRMED
              || (t->state == CAY__TXN_ACCEPTED && status / 100 != 2));
}

/* Send the encoded response and move the state machine (17.2.1, 17.2.2,
 * RFC 6026). @p data is borrowed. */
static int
respond_bytes(cay__txn_t *t, int status, const char *data, size_t len,
              char **copy_out, size_t *copylen)
{
  cay__endpoint_t *ep = t->ep;
  int again = t->state == CAY__TXN_ACCEPTED; /* the TU's 2xx once more */
  int err;

  if (t->invite && status / 100 == 2) {
    /* The 2xx leaves the transaction (RFC 6026 section 7.1); the TU keeps
     * and retransmits it. The last provisional is not needed either: an
     * INVITE retransmitted in Accepted is absorbed. */
    cay__free(t->out);
    t->out = NULL;
    t->outlen = 0;
    err = cay__endpoint_send_bytes(ep, &t->peer, data, len, 0);
    if (copy_out) {
      *copy_out = cay__malloc(len);
      if (*copy_out)
        memcpy(*copy_out, data, len);
      *copylen = len;
    }
  } else {
    char *copy = cay__realloc(t->out, len);
    if (copy == NULL)
      return -ENOMEM;
    memcpy(copy, data, len);
    t->out = copy;
    t->outlen = len;
    err = cay__txn_send_out(t, 0);
    if (copy_out) {
      /* A reliable provisional (RFC 3262): the TU retransmits it. */
      *copy_out = cay__malloc(len);
      if (*copy_out)
        memcpy(*copy_out, data, len);
      *copylen = len;
    }
  }
  t->status = status;
  if (err == 0 && !again)
    cay__endpoint_count_response(ep, status);
  if (status < 200) {
    t->state = CAY__TXN_PROCEEDING;
    return err;
  }
  if (t->state == CAY__TXN_ACCEPTED)
    return err; /* the TU resent its 2xx: timer L runs from the first */
  cay__txn_settle(t);
  if (t->req) {
    /* The request is not needed once the final response is out. */
    msg_destroy(t->req);
    t->req = NULL;
  }
  if (t->invite && status < 300) {
    t->state = CAY__TXN_ACCEPTED; /* RFC 6026: timer L = 64*T1 */
    if (cay__txn_move_to_accepted(t) != 0)
      cay__txn_start_timer(t, &t->t_wait, 64ull * ep->t1_ms);
  } else if (t->invite) {
    /* 17.2.1: G = T1 on an unreliable transport only; H = 64*T1. */
    t->state = CAY__TXN_COMPLETED;
    t->interval_ms = ep->t1_ms;
    if (!cay__txn_reliable(t))
      cay__txn_start_timer(t, &t->t_retx, t->interval_ms);
    if (t->state == CAY__TXN_COMPLETED)
      cay__txn_start_timer(t, &t->t_end, 64ull * ep->t1_ms);
  } else {
    /* 17.2.2: J = 64*T1 on UDP, 0 on a reliable transport. */
    t->state = CAY__TXN_COMPLETED;
    cay__txn_start_timer(t, &t->t_wait,
                         cay__txn_reliable(t) ? 0 : 64ull * ep->t1_ms);
  }
  return err;
}

int
cay__txn_respond_copy(cay__txn_t *t, msg_t *resp, char **copy_out,
                      size_t *copylen)
{
  sip_t *rs = sip_object(resp);
  const char *data;
  size_t len;
  int status, err;

  if (rs == NULL || rs->sip_status == NULL) {
    msg_destroy(resp);
    return -EINVAL;
  }
  status = rs->sip_status->st_status;
  if (!can_respond(t, status)) {
    msg_destroy(resp);
    return CAY_ESTATE;
  }
  err = cay__endpoint_tag_response(t->ep, resp);
  if (err == 0) {
    cay__endpoint_out(t->ep, resp); /* once: retransmissions reuse bytes */
    err = cay__msg_serialize(resp, &data, &len);
  }
  if (err == 0)
    err = respond_bytes(t, status, data, len, copy_out, copylen);
  msg_destroy(resp);
  return err;
}

/* The response a hook wants to see: built as a msg_t (the lines of
 * @p extra parsed one by one), then sent like any other. */
static int
reply_slow(cay__txn_t *t, int status, const char *to_tag, const char *extra,
           const char *ctype, const char *body, size_t body_len,
           char **copy_out, size_t *copylen)
{
  msg_t *resp = cay__msg_response(t->req, status, NULL, to_tag);
  char line[1024];

  if (resp == NULL)
    return -ENOMEM;
  for (const char *p = extra; p && *p;) {
    const char *end = strstr(p, "\r\n");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= sizeof line) {
      msg_destroy(resp);
      return -EINVAL;
    }
    snprintf(line, sizeof line, "%.*s", (int)n, p);
    if (cay__msg_add_header(resp, line) != 0) {
      msg_destroy(resp);
      return -EINVAL;
    }
    p = end ? end + 2 : p + n;
  }
  if (ctype && body && cay__msg_set_body(resp, ctype, body, body_len) != 0) {
    msg_destroy(resp);
    return -ENOMEM;
  }
  return cay__txn_respond_copy(t, resp, copy_out, copylen);
}

int
cay__txn_reply_encoded(cay__txn_t *t, int status, const char *to_tag,
                       const char *extra, const char *ctype, const char *body,
                       size_t body_len, char **copy_out, size_t *copylen)
{
  cay__endpoint_t *ep = t->ep;
  sip_t *rq;
  char tag[16];
  long n;

  if (t->req == NULL || !can_respond(t, status))
    return CAY_ESTATE;
  rq = sip_object(t->req);
  if (ep->hooks.wants_out_response
      && ep->hooks.wants_out_response(ep->hooks.arg,
                                      rq->sip_request->rq_method_name))
    return reply_slow(t, status, to_tag, extra, ctype, body, body_len, copy_out,
                      copylen);
  if (to_tag == NULL && status > 100 && rq->sip_to && !rq->sip_to->a_tag) {
    /* 8.2.6.2: a To tag for every response but 100. */
    cay__rand_token(&ep->shard->rand, tag, 10);
    to_tag = tag;
  }
  n = cay__msg_response_encode(t->req, status, NULL, to_tag, extra, ctype, body,
                               body_len, ep->scratch, sizeof ep->scratch);
  if (n < 0)
    return (int)n;
  return respond_bytes(t, status, ep->scratch, (size_t)n, copy_out, copylen);
}

int
cay__txn_reply(cay__txn_t *t, int status, const char *phrase,
               const char *to_tag)
{
  msg_t *resp;

  if (t->req == NULL)
    return CAY_ESTATE;
  resp = cay__msg_response(t->req, status, phrase, to_tag);
  if (resp == NULL)
    return -ENOMEM;
  return cay__txn_respond(t, resp);
}

msg_t *
cay__txn_request(const cay__txn_t *t)
{
  return t->req;
}

void
cay__txn_set_tu(cay__txn_t *t, cay_id_t tu_id)
{
  t->tu_id = tu_id;
}

cay_id_t
cay__txn_tu(const cay__txn_t *t)
{
  return t->tu_id;
}

cay__txn_state_t
cay__txn_state(const cay__txn_t *t)
{
  return t->state;
}

cay_id_t
cay__txn_id(const cay__txn_t *t)
{
  return t->id;
}

int
cay__txn_status(const cay__txn_t *t)
{
  return t->status;
}

const cay__peer_t *
cay__txn_peer(const cay__txn_t *t)
{
  return &t->peer;
}

void
cay__txn_source(const cay__txn_t *t, cay__addr_t *src)
{
  *src = t->peer.addr;
  if (t->server)
    cay__addr_set_port(src, t->source_port);
}

int
cay__txn_source_name(const cay__txn_t *t, char *buf, size_t len)
{
  cay__addr_t src;

  cay__txn_source(t, &src);
  return cay__addr_format_proto(t->peer.proto, &src, buf, len);
}

cay__txn_t *
cay__txn_lookup(cay__endpoint_t *ep, cay_id_t id)
{
  cay__txn_t *t = cay__idtab_get(&ep->shard->ids, id);

  /* The id table is shared by every kind of object of the shard: a
   * transaction is recognised by its endpoint back pointer. */
  if (t == NULL || t->ep != ep || t->state == CAY__TXN_TERMINATED)
    return NULL;
  return t;
}

void
cay__txn_trying_later(cay__txn_t *t)
{
  if (t->server && t->invite && t->status == 0)
    cay__txn_start_timer(t, &t->t_retx, 200);
}
