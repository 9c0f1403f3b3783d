/*
 * The shard's SIP endpoint: from datagram to transaction (RFC 3261
 * sections 17.1.3, 17.2.3, 18.1.2, 18.2.1), stateless responses, sending.
 */
#include "sip/txn_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

#define SHARD_NO(ep) ((int)(ep)->shard->index)

int
cay__endpoint_init(cay__endpoint_t *ep, cay__shard_t *shard,
                   const cay__tu_t *tu, cay__send_fn send, void *send_arg,
                   const char *sent_by)
{
  int err;

  memset(ep, 0, sizeof *ep);
  ep->shard = shard;
  ep->tu = *tu;
  ep->send = send;
  ep->send_arg = send_arg;
  ep->t1_ms = 500;
  ep->t2_ms = 4000;
  ep->t4_ms = 5000;
  ep->max_txns = 100000;
  snprintf(ep->sent_by, sizeof ep->sent_by, "%s", sent_by);
  cay__rand_bytes(&shard->rand, ep->accepted.key, sizeof ep->accepted.key);
  cay__timer_init(&ep->accepted.timer, cay__accepted_expire, ep);
  err = cay__htab_init(&ep->server_txns, 1024);
  if (err)
    return err;
  err = cay__htab_init(&ep->client_txns, 256);
  if (err)
    cay__htab_fini(&ep->server_txns);
  return err;
}

static void
terminate_all(cay__htab_t *tab)
{
  for (size_t i = 0; i < tab->nbuckets; i++)
    while (tab->buckets[i])
      cay__txn_terminate((cay__txn_t *)tab->buckets[i]);
}

void
cay__endpoint_fini(cay__endpoint_t *ep)
{
  terminate_all(&ep->server_txns);
  terminate_all(&ep->client_txns);
  cay__accepted_free_all(ep);
  cay__shard_flush(ep->shard);
  cay__htab_fini(&ep->server_txns);
  cay__htab_fini(&ep->client_txns);
}

/* Append @p s (length @p n) and a separator byte to the key buffer. */
static size_t
key_put(char *buf, size_t off, size_t cap, const char *s, size_t n)
{
  if (off + n + 1 > cap)
    return cap; /* marks overflow */
  memcpy(buf + off, s, n);
  buf[off + n] = '\x01';
  return off + n + 1;
}

static size_t
key_puts(char *buf, size_t off, size_t cap, const char *s)
{
  return key_put(buf, off, cap, s ? s : "", s ? strlen(s) : 0);
}

char *
cay__txn_server_key(const sip_t *sip, const char *method, size_t *keylen)
{
  const sip_via_t *v = sip->sip_via;
  char buf[1024], num[16];
  size_t off = 0, cap = sizeof buf;

  if (cay__branch_is_rfc3261(v->v_branch)) {
    /* 17.2.3: branch, sent-by and method (ACK and CANCEL look up the
     * INVITE through @p method). */
    off = key_puts(buf, off, cap, v->v_branch);
    off = key_puts(buf, off, cap, v->v_host);
    off = key_puts(buf, off, cap, v->v_port);
    off = key_puts(buf, off, cap, method);
  } else {
    /* 17.2.3, RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq
     * number, top Via and method. The To tag is left out so that the ACK
     * to a non-2xx (which carries our tag) finds its INVITE. */
    char *ruri = url_as_string(NULL, sip->sip_request->rq_url);
    off = key_put(buf, off, cap, "2543", 4);
    off = key_puts(buf, off, cap, ruri);
    su_free(NULL, ruri);
    off = key_puts(buf, off, cap, sip->sip_from->a_tag);
    off = key_puts(buf, off, cap, sip->sip_call_id->i_id);
    snprintf(num, sizeof num, "%u", (unsigned)sip->sip_cseq->cs_seq);
    off = key_puts(buf, off, cap, num);
    off = key_puts(buf, off, cap, v->v_host);
    off = key_puts(buf, off, cap, v->v_port);
    off = key_puts(buf, off, cap, v->v_branch);
    off = key_puts(buf, off, cap, method);
  }
  if (off >= cap)
    return NULL;
  *keylen = off;
  return cay__strndup(buf, off);
}

char *
cay__txn_client_key(const char *branch, const char *method, size_t *keylen)
{
  char buf[512];
  size_t off = 0;

  off = key_puts(buf, off, sizeof buf, branch);
  off = key_puts(buf, off, sizeof buf, method);
  if (off >= sizeof buf)
    return NULL;
  *keylen = off;
  return cay__strndup(buf, off);
}

int
cay__txn_client_is(const cay__txn_t *t, const char *method)
{
  size_t n = strlen(method);

  /* The client key ends with the method and its separator (above). */
  return !t->server && t->key && t->keylen >= n + 2
         && t->key[t->keylen - n - 2] == '\x01'
         && memcmp(t->key + t->keylen - n - 1, method, n) == 0;
}

cay__txn_t *
cay__txn_find(cay__htab_t *tab, const char *key, size_t keylen, uint64_t hash)
{
  for (cay__hnode_t *n = cay__htab_first(tab, hash); n; n = cay__htab_next(n)) {
    cay__txn_t *t = (cay__txn_t *)n;
    if (t->keylen == keylen && memcmp(t->key, key, keylen) == 0)
      return t;
  }
  return NULL;
}

cay__txn_t *
cay__txn_find_cancelled(cay__endpoint_t *ep, sip_t *cancel)
{
  size_t keylen;
  char *key = cay__txn_server_key(cancel, "INVITE", &keylen);
  uint64_t hash;
  const cay__acc_ent_t *e;
  cay__txn_t *t;

  if (key == NULL)
    return NULL;
  hash = cay__hash(key, keylen);
  t = cay__txn_find(&ep->server_txns, key, keylen, hash);
  if (t == NULL && (e = cay__accepted_find(ep, key, keylen)) != NULL)
    t = cay__accepted_view(ep, e); /* the INVITE was answered 2xx */
  cay__free(key);
  return t && t->invite ? t : NULL;
}

int
cay__endpoint_send_bytes(cay__endpoint_t *ep, const cay__peer_t *dst,
                         const char *data, size_t len, int retransmit)
{
  int err = ep->send(ep->send_arg, dst, data, len);

  if (err) {
    ep->shard->stats.send_errors++;
    CAY_DEBUG(SHARD_NO(ep), "send failed: %s", cay_strerror(err));
    return err;
  }
  ep->shard->stats.msgs_out++;
  if (retransmit)
    ep->shard->stats.retransmits++;
  return 0;
}

/* The counter of requests of method @p m in @p st (requests_other for a
 * method sofia-sip does not know or Cay does not count by name). */
static uint64_t *
request_counter(cay_stats_t *st, sip_method_t m)
{
  switch (m) {
  case sip_method_invite:
    return &st->requests_invite;
  case sip_method_ack:
    return &st->requests_ack;
  case sip_method_bye:
    return &st->requests_bye;
  case sip_method_cancel:
    return &st->requests_cancel;
  case sip_method_options:
    return &st->requests_options;
  case sip_method_register:
    return &st->requests_register;
  case sip_method_info:
    return &st->requests_info;
  case sip_method_update:
    return &st->requests_update;
  case sip_method_prack:
    return &st->requests_prack;
  case sip_method_refer:
    return &st->requests_refer;
  case sip_method_notify:
    return &st->requests_notify;
  case sip_method_subscribe:
    return &st->requests_subscribe;
  case sip_method_publish:
    return &st->requests_publish;
  case sip_method_message:
    return &st->requests_message;
  default:
    return &st->requests_other;
  }
}

void
cay__endpoint_count_response(cay__endpoint_t *ep, int status)
{
  cay_stats_t *st = &ep->shard->stats;

  switch (status / 100) {
  case 1:
    st->responses_1xx++;
    break;
  case 2:
    st->responses_2xx++;
    break;
  case 3:
    st->responses_3xx++;
    break;
  case 4:
    st->responses_4xx++;
    break;
  case 5:
    st->responses_5xx++;
    break;
  case 6:
    st->responses_6xx++;
    break;
  default:
    break;
  }
}

void
cay__endpoint_out(cay__endpoint_t *ep, msg_t *msg)
{
  if (ep->hooks.out_message)
    ep->hooks.out_message(ep->hooks.arg, msg, sip_object(msg));
}

int
cay__endpoint_respond_stateless(cay__endpoint_t *ep, msg_t *req,
                                const cay__peer_t *src, msg_t *resp)
{
  sip_t *sip = sip_object(req);
  cay__peer_t dst = *src;
  const char *data;
  size_t len;
  int err = 0;

  /* 18.2.2: on the request's connection over a stream (a new one to the
   * sent-by port once it has closed), else by the Via. */
  err = cay__response_dest(sip->sip_via, &dst);
  if (err == 0) {
    cay__endpoint_out(ep, resp);
    err = cay__msg_serialize(resp, &data, &len);
  }
  if (err == 0)
    err = cay__endpoint_send_bytes(ep, &dst, data, len, 0);
  if (err == 0 && sip_object(resp)->sip_status)
    cay__endpoint_count_response(ep, sip_object(resp)->sip_status->st_status);
  msg_destroy(resp);
  return err;
}

int
cay__endpoint_respond_busy(cay__endpoint_t *ep, msg_t *req,
                           const cay__peer_t *src)
{
  msg_t *resp = cay__msg_response(req, 503, NULL, NULL);

  if (resp == NULL)
    return -ENOMEM;
  if (cay__msg_add_header(resp, "Retry-After: 5") != 0
      || cay__endpoint_tag_response(ep, resp) != 0) {
    msg_destroy(resp);
    return -ENOMEM;
  }
  return cay__endpoint_respond_stateless(ep, req, src, resp);
}

int
cay__endpoint_tag_response(cay__endpoint_t *ep, msg_t *resp)
{
  sip_t *sip = sip_object(resp);
  char tag[16];

  if (sip == NULL || sip->sip_status == NULL || sip->sip_to == NULL
      || sip->sip_status->st_status <= 100 || sip->sip_to->a_tag)
    return 0;
  cay__rand_token(&ep->shard->rand, tag, 10);
  if (sip_to_tag(msg_home(resp), sip->sip_to, tag) < 0)
    return -ENOMEM;
  /* The To header changed after it may have been encoded. */
  msg_fragment_clear(sip->sip_to->a_common);
  return 0;
}

void
cay__endpoint_branch(cay__endpoint_t *ep, char *buf, size_t len)
{
  /* RFC 3261 section 8.1.1.7: the magic cookie, then enough randomness to
   * be unique across space and time. */
  if (len < 24) {
    buf[0] = '\0';
    return;
  }
  memcpy(buf, "z9hG4bK", 7);
  cay__rand_token(&ep->shard->rand, buf + 7, 16);
}

/* Answer a request that failed validation, when it can be answered. */
static void
reject_bad(cay__endpoint_t *ep, msg_t *msg, const cay__peer_t *src, int status,
           const char *phrase)
{
  sip_t *sip = sip_object(msg);
  msg_t *resp;

  ep->shard->stats.parse_errors++;
  if (sip == NULL || sip->sip_request == NULL || !cay__msg_answerable(sip)
      || sip->sip_request->rq_method == sip_method_ack) {
    /* 17.2.3 / 8.2: never answer an ACK; nothing to answer without the
     * headers a response is built from. */
    ep->shard->stats.dropped++;
    CAY_DEBUG(SHARD_NO(ep), "dropped bad message: %s", phrase);
    return;
  }
  resp = cay__msg_response(msg, status, phrase, NULL);
  if (resp && cay__endpoint_tag_response(ep, resp) != 0) {
    msg_destroy(resp);
    resp = NULL;
  }
  if (resp && cay__endpoint_respond_stateless(ep, msg, src, resp) == 0) {
    ep->shard->stats.bad_requests++;
    CAY_DEBUG(SHARD_NO(ep), "answered bad request with %d %s", status, phrase);
  } else {
    ep->shard->stats.dropped++;
  }
}

static void
handle_response(cay__endpoint_t *ep, msg_t *msg, sip_t *sip)
{
  size_t keylen;
  char *key;
  cay__txn_t *t;

  if (cay__msg_check_response(msg) != 0 || sip->sip_via->v_branch == NULL) {
    ep->shard->stats.parse_errors++;
    ep->shard->stats.dropped++;
    return;
  }
  /* 17.1.3: top Via branch and CSeq method. */
  key = cay__txn_client_key(sip->sip_via->v_branch,
                            sip->sip_cseq->cs_method_name, &keylen);
  t = key ? cay__txn_find(&ep->client_txns, key, keylen, cay__hash(key, keylen))
          : NULL;
  cay__free(key);
  if (t == NULL) {
    CAY_DEBUG(SHARD_NO(ep), "response %d matches no transaction",
              sip->sip_status->st_status);
    return;
  }
  cay__txn_client_response(t, msg, sip);
}

static void
handle_request(cay__endpoint_t *ep, msg_t *msg, sip_t *sip,
               const cay__peer_t *src)
{
  sip_method_t m = sip->sip_request->rq_method;
  const char *method = sip->sip_request->rq_method_name;
  size_t keylen;
  uint64_t hash;
  char *key;
  cay__txn_t *t;
  cay_id_t id;

  key = cay__txn_server_key(sip, m == sip_method_ack ? "INVITE" : method,
                            &keylen);
  if (key == NULL) {
    reject_bad(ep, msg, src, 400, "Bad Request - Header Too Long");
    msg_destroy(msg);
    return;
  }
  (*request_counter(&ep->shard->stats, m))++;
  hash = cay__hash(key, keylen);
  t = cay__txn_find(&ep->server_txns, key, keylen, hash);
  if (t) {
    cay__free(key);
    cay__txn_server_retransmit(t, msg, sip);
    msg_destroy(msg);
    return;
  }
  if (cay__accepted_find(ep, key, keylen) != NULL) {
    cay__free(key);
    cay__accepted_request(ep, msg, sip);
    msg_destroy(msg);
    return;
  }
  if (m == sip_method_ack) {
    cay__free(key);
    if (ep->hooks.in_request) /* an ACK cannot be answered: no stop */
      ep->hooks.in_request(ep->hooks.arg, msg, sip);
    if (ep->tu.on_ack)
      ep->tu.on_ack(ep->tu.arg, msg, sip);
    msg_destroy(msg);
    return;
  }
  if (ep->shard->stats.txns_live >= ep->max_txns) {
    /* DESIGN.md section 7: above the bound of work in flight (transactions
     * without a final response), a stateless 503. Finished transactions
     * that only absorb retransmissions do not count: they go by themselves
     * within 64*T1, and counting them capped a 100,000 bound at about
     * 1,500 calls/s. */
    cay__free(key);
    ep->shard->stats.overload_rejected++;
    (void)cay__endpoint_respond_busy(ep, msg, src);
    msg_destroy(msg);
    return;
  }
  t = cay__txn_server_new(ep, msg, key, keylen, hash, src);
  if (t == NULL) {
    cay__free(key);
    msg_destroy(msg);
    return;
  }
  id = t->id;
  if (ep->hooks.in_request) {
    /* DESIGN.md section 4: a hook that stops a request names the final
     * status, and the request is answered with it. */
    int st = ep->hooks.in_request(ep->hooks.arg, msg, sip);
    if (st) {
      cay__txn_reply(t, st >= 300 && st <= 699 ? st : 500, NULL, NULL);
      return;
    }
  }
  ep->tu.on_request(ep->tu.arg, t, msg, sip);
  /* 17.2.1: the TU did not answer at once, so send 100 Trying (unless it
   * asked for it to wait 200 ms: the timer is running then). */
  t = cay__txn_lookup(ep, id);
  if (t && t->invite && t->status == 0 && !cay__timer_armed(&t->t_retx))
    cay__txn_reply(t, 100, NULL, NULL);
}

void
cay__endpoint_recv(cay__endpoint_t *ep, const char *data, size_t len,
                   const cay__peer_t *src)
{
  const char *phrase = "Bad Request - Malformed Message";
  msg_t *msg = NULL;
  sip_t *sip;
  int err, status;

  ep->shard->stats.msgs_in++;
  err = cay__msg_parse(data, len, &msg);
  if (msg == NULL) {
    ep->shard->stats.parse_errors++;
    ep->shard->stats.dropped++;
    CAY_DEBUG(SHARD_NO(ep), "dropped %zu bytes that do not parse", len);
    return;
  }
  sip = sip_object(msg);
  if (sip->sip_status && err == 0) {
    handle_response(ep, msg, sip);
    msg_destroy(msg);
    return;
  }
  if (sip->sip_request && sip->sip_via)
    cay__via_fix_received(msg, &src->addr); /* 18.2.1, RFC 3581 */
  status = cay__msg_check_request(msg, &phrase);
  if (err && status == 0)
    status = 400;
  if (status) {
    reject_bad(ep, msg, src, status, phrase);
    msg_destroy(msg);
    return;
  }
  handle_request(ep, msg, sip, src); /* takes msg */
}
