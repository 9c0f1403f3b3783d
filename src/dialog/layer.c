/*
 * The session layer of one shard: the endpoint's transaction user, the
 * dialog table, drain and shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "b2bua/pager.h"
#include "b2bua/route.h"
#include "registrar/registrar.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* -- layer ---------------------------------------------------------------- */

static void
on_response(void *arg, cay_id_t tu_id, cay_id_t txn_id, int status, msg_t *msg)
{
  cay__sessions_t *ss = arg;
  cay__session_t *s = cay__session_lookup(ss, tu_id);
  const sip_cseq_t *cseq;

  if (s == NULL && cay__pager_response(ss, tu_id, txn_id, status, msg))
    return; /* a MESSAGE relayed outside a dialog */
  if (s == NULL) {
    /* It ended (their BYE crossed ours, or a 2xx came after our BYE's
     * answer). A 2xx still gets its ACK, and another fork's dialog a BYE
     * (uac.c). */
    cay__txn_t *t
        = msg && status / 100 == 2 ? cay__txn_lookup(ss->ep, txn_id) : NULL;
    if (t)
      cay__uac_stray_2xx(ss, cay__txn_peer(t), msg,
                         cay__txn_2xx_is_copy(t, sip_object(msg)),
                         "after its session ended");
    return;
  }
  if (s->state != CAY__SESSION_TERMINATING) {
    if (s->uac)
      cay__uac_response(s, txn_id, status, msg);
    else
      cay__mod_response(s, txn_id, status, msg);
    return;
  }
  cseq = msg ? sip_object(msg)->sip_cseq : NULL;
  if (s->uac
      && (txn_id == s->invite_txn
          || (cseq && cseq->cs_method == sip_method_invite
              && cseq->cs_seq <= s->invite_cseq))) {
    /* A 2xx copy: ACK again; a 2xx to an INVITE given up for no response:
     * ACK and BYE (uac.c). Neither answers our BYE. */
    cay__uac_response(s, txn_id, status, msg);
    return;
  }
  if (msg == NULL) {
    /* A timeout or transport error: the BYE's ends the session, that of
     * a request sent before it (an INFO, a re-INVITE) does not. */
    const cay__txn_t *t = cay__txn_lookup(ss->ep, txn_id);
    if (t && !cay__txn_client_is(t, "BYE"))
      return;
  }
  if (cseq && cseq->cs_method != sip_method_bye) {
    /* The response to a request sent before our BYE (a re-INVITE, an
     * UPDATE, an INFO), not the BYE's: a 2xx to a re-INVITE still gets
     * its ACK (13.2.2.4). */
    cay__txn_t *t = status / 100 == 2 && cseq->cs_method == sip_method_invite
                        ? cay__txn_lookup(ss->ep, txn_id)
                        : NULL;
    if (t)
      cay__uac_stray_2xx(ss, cay__txn_peer(t), msg,
                         1, /* the ACK only: our BYE is out */
                         "after our BYE");
    return;
  }
  if ((status == 401 || status == 407) && msg
      && cay__session_bye_challenged(s, status, sip_object(msg)))
    return;
  /* The final response to our BYE, or its timeout: either way the
   * session is over (15.1.1). */
  s->end_status = status;
  CAY_DEBUG(SHARD_NO(ss), "session %s: BYE got %d", s->call_id, status);
  cay__session_destroy(s);
}

static void
on_ack(void *arg, msg_t *msg, sip_t *sip)
{
  cay__sessions_t *ss = arg;
  cay__session_t *s;

  (void)msg;
  if (sip->sip_to->a_tag == NULL)
    return;
  s = cay__session_find(ss, sip);
  if (s)
    cay__session_ack(s, sip);
}

int
cay__sessions_init(cay__sessions_t *ss, cay__endpoint_t *ep,
                   const cay_config_t *cfg)
{
  cay__tu_t tu = {
    .on_request = cay__sessions_on_request,
    .on_ack = on_ack,
    .on_response = on_response,
    .arg = ss,
  };

  memset(ss, 0, sizeof *ss);
  ss->ep = ep;
  ss->shard = ep->shard;
  ss->cfg = *cfg;
  for (unsigned i = 0; i < cfg->n_codecs; i++)
    ss->codec_names[i] = ss->cfg.codecs[i];
  ss->sdp.codecs = ss->codec_names;
  ss->sdp.n_codecs = cfg->n_codecs;
  ss->sdp.media_ip = ss->cfg.media_ip;
  ss->sdp.port_base = 40000;
  snprintf(ss->contact, sizeof ss->contact, "<sip:cay@%s>", ep->sent_by);
  snprintf(ss->contact_tls, sizeof ss->contact_tls,
           "<sip:cay@%s;transport=tls>", ep->sent_by_tls);
  snprintf(ss->contact_sips, sizeof ss->contact_sips, "<sips:cay@%s>",
           ep->sent_by_tls);
  snprintf(ss->sips_not_allowed, sizeof ss->sips_not_allowed,
           "Warning: 380 %s \"SIPS Not Allowed\"", ep->sent_by);
  snprintf(ss->contact_ws, sizeof ss->contact_ws, "<sip:cay@%s;transport=ws>",
           ep->sent_by_ws);
  snprintf(ss->contact_wss, sizeof ss->contact_wss, "<sip:cay@%s;transport=ws>",
           ep->sent_by_wss);
  for (int i = CAY__UDP; i <= CAY__LINES_SIPS; i++) {
    /* RFC 7118 section 10.1: "ws" names both WebSocket transports. */
    const char *tp = i == CAY__TLS                   ? ";transport=tls"
                     : i == CAY__TCP                 ? ";transport=tcp"
                     : i == CAY__WS || i == CAY__WSS ? ";transport=ws"
                                                     : "";
    const char *scheme = i == CAY__LINES_SIPS ? "sips" : "sip";
    const char *at
        = cay__endpoint_sent_by(ep, i == CAY__LINES_SIPS ? CAY__TLS : i);
    snprintf(ss->lines_180[i], sizeof ss->lines_180[0],
             "Contact: <%s:cay@%s%s>\r\n", scheme, at, tp);
    snprintf(ss->lines_200[i], sizeof ss->lines_200[0],
             "Contact: <%s:cay@%s%s>\r\nAllow: " CAY_ALLOW "\r\n", scheme, at,
             tp);
    snprintf(ss->lines_200_bridged[i], sizeof ss->lines_200_bridged[0],
             "Contact: <%s:cay@%s%s>\r\nAllow: " CAY_ALLOW_BRIDGED "\r\n",
             scheme, at, tp);
  }
  ep->tu = tu;
  ep->t1_ms = cfg->t1_ms;
  ep->t2_ms = cfg->t2_ms;
  ep->t4_ms = cfg->t4_ms;
  ep->max_txns = cfg->max_transactions;
  if (cfg->n_routes) {
    char err[256];
    int e = cay__routes_new(cfg, &ss->routes, err, sizeof err);
    if (e) {
      CAY_ERROR(SHARD_NO(ss), "routes: %s", err);
      return e;
    }
  }
  if (cay__htab_init(&ss->dialogs, 1024) != 0)
    return -ENOMEM;
  if (cay__htab_init(&ss->merge, 1024) != 0) {
    cay__htab_fini(&ss->dialogs);
    return -ENOMEM;
  }
  /* Made even without a register route: a reload may add one. */
  if (cay__registrar_create(ss->shard, &ss->reg) != 0) {
    cay__htab_fini(&ss->dialogs);
    cay__htab_fini(&ss->merge);
    return -ENOMEM;
  }
  return 0;
}

static void
destroy_all(cay__sessions_t *ss, int signal)
{
  cay__htab_t *tab = &ss->dialogs;

  for (size_t i = 0; i < tab->nbuckets; i++) {
    cay__hnode_t *n = tab->buckets[i];
    while (n) {
      cay__session_t *s = SESSION_OF(n);
      n = n->next;
      if (!signal) {
        cay__session_destroy(s);
      } else if (s->uac
                 && (s->state == CAY__SESSION_CALLING
                     || s->state == CAY__SESSION_EARLY)) {
        /* Our own call, not answered: CANCEL (9.1); its 487 ends it. */
        cay__session_hangup(s);
      } else if (s->state == CAY__SESSION_INCOMING
                 || s->state == CAY__SESSION_EARLY) {
        cay__txn_t *t = cay__txn_lookup(ss->ep, s->invite_txn);
        if (t)
          cay__txn_reply(t, 480, "Temporarily Unavailable - Shutting Down",
                         s->local_tag);
        s->end_status = 480;
        cay__session_destroy(s);
      } else if (s->state == CAY__SESSION_ANSWERED
                 || s->state == CAY__SESSION_CONFIRMED) {
        cay__session_bye(s, 503, "shutdown");
      }
    }
  }
}

void
cay__sessions_fini(cay__sessions_t *ss)
{
  ss->on_idle = NULL;
  ss->draining = 1; /* no new session while the table is walked (a bridge
                       failing over places none) */
  ss->ending_all = 1;
  destroy_all(ss, 0);
  ss->ending_all = 0;
  cay__pager_fini(ss);
  cay__pager_store_fini(ss);
  cay__shard_flush(ss->shard);
  cay__htab_fini(&ss->dialogs);
  cay__htab_fini(&ss->merge);
  cay__routes_free(ss->routes);
  ss->routes = NULL;
  cay__registrar_destroy(ss->reg);
  ss->reg = NULL;
  cay__free(ss->offer_cache);
  cay__free(ss->answer_cache);
}

void
cay__sessions_reload(cay__sessions_t *ss, struct cay__routes *routes,
                     const cay_config_t *cfg)
{
  cay__routes_free(ss->routes);
  ss->routes = routes;
  ss->cfg = *cfg;
  ss->ep->max_txns = cfg->max_transactions;
}

void
cay__sessions_drain(cay__sessions_t *ss, void (*on_idle)(void *arg), void *arg)
{
  ss->draining = 1;
  ss->ep->draining = 1;
  ss->on_idle = on_idle;
  ss->idle_arg = arg;
  ss->ending_all = 1;
  destroy_all(ss, 1);
  ss->ending_all = 0;
  cay__sessions_maybe_idle(ss);
}

void
cay__sessions_maybe_idle(cay__sessions_t *ss)
{
  if (ss->draining && ss->live == 0 && ss->pagers == NULL && ss->on_idle)
    ss->on_idle(ss->idle_arg);
}

unsigned
cay__sessions_live(const cay__sessions_t *ss)
{
  return ss->live;
}

cay__session_t *
cay__session_lookup(cay__sessions_t *ss, cay_id_t id)
{
  /* The id table holds transactions, connections and relayed MESSAGEs
   * too: a session is recognised by its kind. */
  cay__session_t *s = cay__idtab_get_kind(&ss->shard->ids, id, CAY__ID_SESSION);

  if (s == NULL || s->ss != ss || s->state == CAY__SESSION_TERMINATED)
    return NULL;
  return s;
}

cay__session_state_t
cay__session_state(const cay__session_t *s)
{
  return s->state;
}

cay_id_t
cay__session_id(const cay__session_t *s)
{
  return s->id;
}

cay__session_t *
cay__sessions_any(cay__sessions_t *ss)
{
  for (size_t i = 0; i < ss->dialogs.nbuckets; i++)
    if (ss->dialogs.buckets[i])
      return SESSION_OF(ss->dialogs.buckets[i]);
  return NULL;
}
