/*
 * A REGISTER, step by step as RFC 3261 section 10.3 numbers them:
 *
 *   1-3  the route took it (domain, source), the UAS core checked
 *        Require (src/dialog/request.c)
 *   4    digest authentication, and the user may bind only its own AOR
 *        (digest.c)
 *   5    To's URI in canonical form: the AOR (cay__aor_of())
 *   6    Contact "*" with Expires 0: every binding goes
 *   7    each Contact checked first (expires, q, Call-ID and CSeq order,
 *        limits), then all of them taken at once: none is taken when one
 *        is refused
 *   8    200 with every binding the AOR has now, each with its expires
 *
 * Each binding also keeps the flow its REGISTER came on (RFC 5626
 * section 5.3: transport, source address, TCP connection), and whether
 * calls to it take that flow rather than the contact (registrar.flows:
 * a UA behind a NAT registers an address nobody else can reach).
 *
 * A REGISTER without Contact asks for the bindings and changes none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/sip_status.h>

#include "core/alloc.h"
#include "core/log.h"
#include "sip/msg.h"
#include "registrar/registrar_int.h"

#define SHARD_NO(reg)    ((int)(reg)->shard->index)
#define MAX_CONTACTS     32 /* Contacts in one REGISTER; more get 400 */
#define FULL_RETRY_AFTER "Retry-After: 60"

/* One Contact of the REGISTER, checked, waiting to be taken. */
typedef struct pending {
  const sip_contact_t *m;
  reg_binding_t *b;   /* its binding now, or NULL */
  unsigned expires_s; /* 0: remove */
  int q;
  int by_flow; /* FLOW_*: whether calls to it take the REGISTER's flow */
  int skip;    /* a later Contact of the same request names the same URI */
  const char *instance; /* +sip.instance of an outbound Contact, or NULL */
  unsigned reg_id;      /* its reg-id */
  reg_binding_t *drop;  /* that instance's and reg-id's binding at another
                           URI: removed once this one is set (or with
                           it, expires 0), or NULL */
  char uri[REG_CONTACT_MAX];
} pending_t;

typedef struct reg_req {
  cay__registrar_t *reg;
  const cay_config_t *cfg;
  cay__txn_t *t;
  const sip_t *sip;
  char aor[CAY__AOR_MAX];
  reg_aor_t *a; /* NULL: no binding yet */
  pending_t p[MAX_CONTACTS];
  unsigned n;
  unsigned adds, removes;   /* bindings the request makes and ends */
  cay__peer_t flow;         /* the flow it came on */
  int outbound;             /* its 2xx says Require: outbound (outbound()) */
  char path[CAY__PATH_MAX]; /* its Path values (path_of()), "" = none */
} reg_req_t;

/* ------------------------------------------------------------------ */
/* The AOR.                                                             */
/* ------------------------------------------------------------------ */

static int
hexval(char c)
{
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* Append @p s unescaped (RFC 3261 section 19.1.4: %XX is the octet). */
static int
put_unescaped(char *out, size_t *n, size_t size, const char *s)
{
  for (; *s; s++) {
    int c = (unsigned char)*s;
    if (c == '%') {
      int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
      if (lo < 0 || (hi == 0 && lo == 0))
        return -EINVAL;
      c = hi * 16 + lo;
      s += 2;
    }
    if (*n + 1 >= size)
      return -EINVAL;
    out[(*n)++] = (char)c;
  }
  return 0;
}

int
cay__aor_of(const url_t *uri, char out[CAY__AOR_MAX])
{
  size_t n = 4;

  if (uri == NULL || (uri->url_type != url_sip && uri->url_type != url_sips)
      || uri->url_user == NULL || uri->url_user[0] == '\0'
      || uri->url_host == NULL || uri->url_host[0] == '\0')
    return -EINVAL;
  /* RFC 5630: sips:alice@host and sip:alice@host are one AOR; a call to
   * the sips: one only reaches the bindings that are secure
   * (b2bua/bridge_place.c). */
  memcpy(out, "sip:", 4);
  if (put_unescaped(out, &n, CAY__AOR_MAX, uri->url_user) != 0
      || n + 1 + strlen(uri->url_host) >= CAY__AOR_MAX) {
    out[0] = '\0';
    return -EINVAL;
  }
  out[n++] = '@';
  for (const char *h = uri->url_host; *h; h++)
    out[n++] = (char)(*h >= 'A' && *h <= 'Z' ? *h - 'A' + 'a' : *h);
  out[n] = '\0';
  return (int)n;
}

unsigned
cay__aor_shard(const char *aor, size_t len, unsigned nshards)
{
  return cay__callid_shard(aor, len, nshards);
}

int
cay__register_shard(const char *data, size_t len, unsigned nshards)
{
  char aor[CAY__AOR_MAX];
  msg_t *msg = NULL;
  sip_t *sip;
  int n = -1;

  if (len < 9 || memcmp(data, "REGISTER ", 9) != 0)
    return -1;
  if (cay__msg_parse(data, len, &msg) == 0 && (sip = sip_object(msg)) != NULL
      && sip->sip_to)
    n = cay__aor_of(sip->sip_to->a_url, aor);
  if (msg)
    msg_destroy(msg);
  return n < 0 ? -1 : (int)cay__aor_shard(aor, (size_t)n, nshards);
}

/* ------------------------------------------------------------------ */
/* Step 7: the Contacts, checked.                                       */
/* ------------------------------------------------------------------ */

/* A delta-seconds value (RFC 3261 section 25.1): digits only; one past
 * 2^32 - 1 counts as 2^32 - 1 (section 20.19). -1: not a number. */
static long long
delta_seconds(const char *s)
{
  unsigned long long v = 0;

  if (s == NULL || *s == '\0' || strspn(s, "0123456789") != strlen(s))
    return -1;
  for (; *s; s++)
    if ((v = v * 10 + (unsigned)(*s - '0')) > 0xffffffffull)
      return 0xffffffffll;
  return (long long)v;
}

/* A q-value (section 20.10, qvalue) in thousandths; -1 absent, -2 bad. */
static int
qvalue(const char *s)
{
  int v = 0, scale = 1000;

  if (s == NULL)
    return -1;
  if ((s[0] != '0' && s[0] != '1') || (s[1] != '\0' && s[1] != '.'))
    return -2;
  v = (s[0] - '0') * 1000;
  if (s[1] == '.')
    for (s += 2; *s; s++) {
      if (*s < '0' || *s > '9' || scale == 1)
        return -2;
      scale /= 10;
      v += (*s - '0') * scale;
    }
  return v > 1000 ? -2 : v;
}

/* The failure of the request, sent; always 1. */
static int
refuse(reg_req_t *rq, int status, const char *phrase, const char *lines)
{
  CAY_INFO(SHARD_NO(rq->reg), "REGISTER %s for %s: %d %s",
           rq->sip->sip_call_id->i_id, rq->aor[0] ? rq->aor : "?", status,
           phrase ? phrase : sip_status_phrase(status));
  cay__reg_reply(rq->reg, rq->t, status, phrase, lines);
  return 1;
}

/* Section 10.3 item 7: a binding of this Call-ID may be changed only by
 * a REGISTER with a higher CSeq (an older one arrived late). */
static int
out_of_order(const reg_req_t *rq, const reg_binding_t *b)
{
  return strcmp(b->call_id, rq->sip->sip_call_id->i_id) == 0
         && rq->sip->sip_cseq->cs_seq <= b->cseq;
}

/* cay_reg_flows_t for Contact @p m of the request: whether calls to its
 * binding take the REGISTER's flow (FLOW_*). */
enum { FLOW_NO = 0, FLOW_REUSE = 1, FLOW_ONLY = 2 };
static int
by_flow(const reg_req_t *rq, const sip_contact_t *m)
{
  cay__addr_t contact;

  /* RFC 3327 section 5.3: a UA behind proxies that recorded a Path is
   * reached through them, not on the flow the REGISTER came on (theirs). */
  if (rq->path[0])
    return FLOW_NO;
  /* RFC 7118 section 5: a WebSocket client is reached on its own
   * connection only (its Contact names a host under .invalid). */
  if (cay__proto_ws(rq->flow.proto))
    return FLOW_ONLY;
  if (rq->cfg->reg_flows != CAY_REG_FLOWS_AUTO)
    return rq->cfg->reg_flows == CAY_REG_FLOWS_ALWAYS ? FLOW_ONLY : FLOW_NO;
  /* RFC 5626 section 4.2: a UA that asks for outbound. */
  if (msg_params_find(m->m_params, "reg-id") != NULL)
    return FLOW_ONLY;
  if (cay__url_dest(m->m_url, &contact) != 0)
    return FLOW_NO; /* a host name: RFC 3263 finds it */
  /* The UA's own connection (RFC 5923 section 1): a contact of the host
   * the connection comes from, which listens there too. */
  if (cay__proto_stream(rq->flow.proto)
      && cay__addr_same_ip(&contact, &rq->flow.addr))
    return FLOW_REUSE;
  /* An address behind a NAT: the UA is reached through its mapping. */
  if (cay__addr_private(&contact) && !cay__addr_eq(&contact, &rq->flow.addr))
    return FLOW_ONLY;
  return FLOW_NO;
}

/* Where calls to pending binding @p p go (cay__binding_change_t.flow):
 * FLOW_ONLY, the REGISTER's flow and nothing else (cay__peer_t.flow: a
 * closed connection is not replaced); FLOW_REUSE, its connection while
 * that lives, then a new one to the contact's own address (RFC 5923
 * section 1, RFC 3261 section 18.1.1). */
static void
flow_of(const reg_req_t *rq, const pending_t *p, cay__peer_t *flow)
{
  *flow = rq->flow;
  flow->flow = p->by_flow == FLOW_ONLY;
  if (p->by_flow == FLOW_REUSE)
    (void)cay__url_dest(p->m->m_url, &flow->addr); /* by_flow() read it */
}

/* The +sip.instance and reg-id of outbound Contact @p m into @p p (none
 * without both): 0, or -1 for a reg-id that is not 1 to 2^31-1 (RFC
 * 5626 section 4.2). */
static int
outbound_id(const sip_contact_t *m, pending_t *p)
{
  const char *inst = msg_params_find(m->m_params, "+sip.instance");
  const char *rid = msg_params_find(m->m_params, "reg-id");
  char *end;
  unsigned long v;

  p->instance = NULL;
  if (inst == NULL || rid == NULL || *inst == '\0')
    return 0;
  v = strtoul(rid, &end, 10);
  if (*rid < '1' || *rid > '9' || *end != '\0' || v > 0x7fffffffUL)
    return -1;
  p->instance = inst;
  p->reg_id = (unsigned)v;
  return 0;
}

/* Does pending @p x set or remove binding @p b (not NULL)? */
static int
touches(const pending_t *x, const reg_binding_t *b)
{
  return b && (x->b == b || x->drop == b);
}

/* Do pending @p x and @p y name one outbound binding? */
static int
same_flow(const pending_t *x, const pending_t *y)
{
  return x->instance && y->instance && x->reg_id == y->reg_id
         && strcmp(x->instance, y->instance) == 0;
}

/* Contact @p m into @p p: 0, or 1 when the request was refused. */
static int
check_contact(reg_req_t *rq, const sip_contact_t *m, pending_t *p)
{
  const sip_expires_t *ex = rq->sip->sip_expires;
  long long e = m->m_expires ? delta_seconds(m->m_expires)
                : ex         ? (long long)ex->ex_delta
                             : (long long)rq->cfg->reg_default_expires_s;

  if (m->m_url->url_type != url_sip && m->m_url->url_type != url_sips)
    return refuse(rq, 400, "Bad Request - Contact Is Not a SIP URI", NULL);
  if (url_e(p->uri, REG_CONTACT_MAX, m->m_url) >= REG_CONTACT_MAX)
    return refuse(rq, 400, "Bad Request - Contact Too Long", NULL);
  if (e < 0)
    return refuse(rq, 400, "Bad Request - Bad Contact Expires", NULL);
  if ((p->q = qvalue(m->m_q)) == -2)
    return refuse(rq, 400, "Bad Request - Bad Contact q", NULL);
  if (e > 0 && e < rq->cfg->reg_min_expires_s) {
    char line[48];
    snprintf(line, sizeof line, "Min-Expires: %u", rq->cfg->reg_min_expires_s);
    return refuse(rq, 423, NULL, line);
  }
  p->m = m;
  p->by_flow = by_flow(rq, m);
  p->expires_s = e > rq->cfg->reg_max_expires_s ? rq->cfg->reg_max_expires_s
                                                : (unsigned)e;
  if (rq->outbound == 1 && outbound_id(m, p) != 0)
    return refuse(rq, 400, "Bad Request - Bad reg-id", NULL);
  /* RFC 5626 section 6: an outbound binding is named by its instance
   * and reg-id, whatever its URI; others by their URI (10.3 item 7). */
  p->b = rq->a ? cay__loc_binding(rq->a, m->m_url) : NULL;
  p->drop = p->instance && rq->a
                ? cay__loc_binding_flow(rq->a, p->instance, p->reg_id)
                : NULL;
  if (p->drop == p->b)
    p->drop = NULL;
  if (p->drop && out_of_order(rq, p->drop))
    return refuse(rq, 500, "Server Internal Error - Out of Order REGISTER",
                  NULL);
  if (p->b && out_of_order(rq, p->b))
    return refuse(rq, 500, "Server Internal Error - Out of Order REGISTER",
                  NULL);
  /* The same URI, the same instance and reg-id, or the same binding
   * twice in one request: the last one counts (one binding is never
   * set twice, nor set after it was replaced). */
  for (unsigned i = 0; i < rq->n; i++)
    if (!rq->p[i].skip
        && (url_cmp_all(rq->p[i].m->m_url, m->m_url) == 0
            || same_flow(&rq->p[i], p) || touches(&rq->p[i], p->b)
            || touches(&rq->p[i], p->drop)))
      rq->p[i].skip = 1;
  return 0;
}

/* Every Contact checked, and the limits: 0, or 1 when refused. */
static int
check_contacts(reg_req_t *rq)
{
  const cay_config_t *cfg = rq->cfg;

  for (const sip_contact_t *m = rq->sip->sip_contact; m; m = m->m_next) {
    if (m->m_url->url_type == url_any)
      return refuse(rq, 400, "Bad Request - Contact * Among Others", NULL);
    if (rq->n == MAX_CONTACTS)
      return refuse(rq, 400, "Bad Request - Too Many Contacts", NULL);
    if (check_contact(rq, m, &rq->p[rq->n]) != 0)
      return 1;
    rq->n++;
  }
  for (unsigned i = 0; i < rq->n; i++) {
    const pending_t *p = &rq->p[i];
    if (!p->skip && p->b == NULL && p->expires_s)
      rq->adds++;
    else if (!p->skip && p->b && p->expires_s == 0)
      rq->removes++;
    if (!p->skip && p->drop)
      rq->removes++;
  }
  if (rq->adds
      && (rq->a ? rq->a->n : 0) + rq->adds - rq->removes
             > cfg->reg_max_bindings)
    return refuse(rq, 403, "Forbidden - Too Many Bindings", NULL);
  if (rq->adds && rq->a == NULL && rq->reg->n_aors >= cfg->reg_max_aors) {
    CAY_WARN(SHARD_NO(rq->reg),
             "registrar full: %u AORs (registrar.max_aors): %s refused",
             rq->reg->n_aors, rq->aor);
    return refuse(rq, 503, "Service Unavailable - Registrar Full",
                  FULL_RETRY_AFTER);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Steps 6 to 8: taking them, and the answer.                           */
/* ------------------------------------------------------------------ */

/* Item 8: 200 with every binding of the AOR (none left: no Contact),
 * each with the seconds it has left (and an outbound one with its
 * +sip.instance and reg-id, by which its UA knows it, RFC 5626 section
 * 6), and the Date. */
static void
reply_bindings(reg_req_t *rq)
{
  reg_aor_t *a = cay__loc_find(rq->reg, rq->aor, 0);
  size_t size = 128, n = 0;
  char *lines;
  time_t now = time(NULL);
  struct tm tm;

  size += strlen(rq->path) + 16;
  for (const reg_binding_t *b = a ? a->bindings : NULL; b; b = b->next)
    size += REG_CONTACT_MAX + 48 + (b->instance ? strlen(b->instance) + 40 : 0);
  lines = cay__malloc(size);
  if (lines == NULL) {
    refuse(rq, 500, "Server Internal Error - No Memory", NULL);
    return;
  }
  for (const reg_binding_t *b = a ? a->bindings : NULL; b; b = b->next) {
    n += (size_t)snprintf(lines + n, size - n, "Contact: <%s>;expires=%u",
                          b->contact, cay__loc_remaining_s(b));
    if (b->q >= 0)
      n += (size_t)snprintf(lines + n, size - n, ";q=%d.%03d", b->q / 1000,
                            b->q % 1000);
    if (b->instance)
      n += (size_t)snprintf(lines + n, size - n, ";+sip.instance=%s;reg-id=%u",
                            b->instance, b->reg_id);
    n += (size_t)snprintf(lines + n, size - n, "\r\n");
  }
  /* RFC 3327 section 5.3: the Path stored, for a UA that supports it. */
  if (rq->path[0] && sip_has_supported(rq->sip->sip_supported, "path"))
    n += (size_t)snprintf(lines + n, size - n, "Path: %s\r\n", rq->path);
  /* RFC 5626 section 6, and how often to keep the flow alive (4.4.1). */
  if (rq->outbound)
    n += (size_t)snprintf(lines + n, size - n, "Require: outbound\r\n");
  if (rq->outbound && rq->cfg->reg_flow_timer_s)
    n += (size_t)snprintf(lines + n, size - n, "Flow-Timer: %u\r\n",
                          rq->cfg->reg_flow_timer_s);
  gmtime_r(&now, &tm);
  strftime(lines + n, size - n, "Date: %a, %d %b %Y %H:%M:%S GMT", &tm);
  cay__reg_reply(rq->reg, rq->t, 200, NULL, lines);
  cay__free(lines);
}

/* A REGISTER with contacts for AOR rq->aor, which had no binding here,
 * has been answered 2xx and left it none (its contacts removed what was
 * not here: Contact "*", or Expires 0): the store is told all the same
 * (cay__registrar_store_fn: it deletes the AOR's record), so that a
 * record it still holds and has not restored yet (a late load,
 * reg_store_load.c) does not bring the removed bindings back. Nothing
 * when the AOR has bindings now (the store was told of them). */
static void
removed_unknown(const reg_req_t *rq)
{
  if (rq->reg->store && cay__loc_find(rq->reg, rq->aor, 0) == NULL)
    rq->reg->store(rq->reg->store_arg, rq->aor);
}

/* Item 6: Contact "*" (only with Expires 0) ends every binding, unless
 * one of them is newer than this request (then none).
 * @return 0: answered 2xx; 1: refused (refuse()). */
static int
remove_all(reg_req_t *rq)
{
  const sip_t *sip = rq->sip;

  if (sip->sip_contact->m_next)
    return refuse(rq, 400, "Bad Request - Contact * Among Others", NULL);
  if (sip->sip_expires == NULL || sip->sip_expires->ex_delta != 0)
    return refuse(rq, 400, "Bad Request - Contact * Needs Expires 0", NULL);
  for (reg_binding_t *b = rq->a ? rq->a->bindings : NULL; b; b = b->next)
    if (out_of_order(rq, b))
      return refuse(rq, 500, "Server Internal Error - Out of Order REGISTER",
                    NULL);
  if (rq->a)
    CAY_INFO(SHARD_NO(rq->reg), "AOR %s: all %u bindings removed", rq->aor,
             rq->a->n);
  for (unsigned n = rq->a ? rq->a->n : 0; n > 0; n--)
    cay__loc_remove(rq->a->bindings); /* the last one frees the AOR */
  rq->a = NULL;
  reply_bindings(rq);
  return 0;
}

/* The Flow-Timer pending binding @p p's UA was told to keep its flow
 * alive by (cay__binding_change_t.keepalive_s: watched if it is a UDP
 * flow its calls take), or 0: its 200 says none (RFC 5626 section
 * 4.4.1). */
static unsigned
keepalive_s(const reg_req_t *rq, const pending_t *p)
{
  return rq->outbound == 1 && p->instance ? rq->cfg->reg_flow_timer_s : 0;
}

/* Item 7, checked: new and refreshed bindings first, removals last, so
 * that the AOR (freed with its last binding) outlives the loop. */
static int
take_contacts(reg_req_t *rq)
{
  const sip_t *sip = rq->sip;

  if (rq->adds && rq->a == NULL
      && (rq->a = cay__loc_add_aor(rq->reg, rq->aor, 0)) == NULL)
    return -ENOMEM;
  for (unsigned i = 0; i < rq->n; i++) {
    pending_t *p = &rq->p[i];
    cay__peer_t flow;
    cay__binding_change_t c = { .contact = p->uri,
                                .q = p->q,
                                .expires_ms = 1000ull * p->expires_s,
                                .flow = p->by_flow ? &flow : NULL,
                                .flow_only = p->by_flow == FLOW_ONLY,
                                .instance = p->instance,
                                .reg_id = p->reg_id,
                                .path = rq->path,
                                .keepalive_s = keepalive_s(rq, p) };
    char via[96] = "";

    if (p->skip || p->expires_s == 0)
      continue;
    flow_of(rq, p, &flow);
    if (cay__loc_set(rq->a, p->b, &c, sip->sip_call_id->i_id,
                     sip->sip_cseq->cs_seq)
        != 0) {
      cay__loc_drop_if_empty(rq->a);
      return -ENOMEM;
    }
    if (p->drop) {
      /* Set first: the AOR outlives its old binding's removal. */
      CAY_INFO(SHARD_NO(rq->reg),
               "AOR %s: binding %s replaced by %s: the same +sip.instance "
               "and reg-id (RFC 5626 section 6)",
               rq->aor, p->drop->contact, p->uri);
      cay__loc_remove(p->drop);
      p->drop = NULL;
    }
    if (p->by_flow) {
      snprintf(via, sizeof via, "%s",
               p->by_flow == FLOW_REUSE ? ", calls on its connection from "
                                        : ", calls over ");
      (void)cay__addr_format_proto(rq->flow.proto, &rq->flow.addr,
                                   via + strlen(via), sizeof via - strlen(via));
    }
    CAY_INFO(SHARD_NO(rq->reg), "AOR %s: binding %s %s, expires in %u s%s",
             rq->aor, p->uri, p->b ? "refreshed" : "added", p->expires_s, via);
  }
  for (unsigned i = 0; i < rq->n; i++) {
    pending_t *p = &rq->p[i];
    if (p->skip || p->expires_s)
      continue;
    if (p->drop) {
      CAY_INFO(SHARD_NO(rq->reg),
               "AOR %s: binding %s removed (its "
               "+sip.instance and reg-id)",
               rq->aor, p->drop->contact);
      cay__loc_remove(p->drop);
    }
    if (p->b) {
      CAY_INFO(SHARD_NO(rq->reg), "AOR %s: binding %s removed", rq->aor,
               p->uri);
      cay__loc_remove(p->b);
    }
  }
  return 0;
}

/* RFC 3327 section 5.3: the REGISTER's Path values, in order, as one
 * Route value into rq->path (calls to its bindings go through them).
 * @return 0, or -1 when they are longer than CAY__PATH_MAX or do not
 * encode (answered 400). */
static int
path_of(reg_req_t *rq)
{
  size_t n = 0;

  rq->path[0] = '\0';
  for (const sip_path_t *p = rq->sip->sip_path; p; p = p->r_next) {
    issize_t w;

    if (n > 0 && n + 2 < sizeof rq->path) {
      memcpy(rq->path + n, ", ", 2);
      n += 2;
    }
    w = msg_header_field_e(rq->path + n, sizeof rq->path - n,
                           (const msg_header_t *)p, 0);
    if (w <= 0 || (size_t)w >= sizeof rq->path - n)
      goto too_long;
    n += (size_t)w;
  }
  return 0;
too_long:
  rq->path[0] = '\0';
  refuse(rq, 400, "Bad Request - Path Too Long", NULL);
  return -1;
}

/* RFC 5626 section 6: does the REGISTER ask for outbound (Supported:
 * outbound, a Contact with reg-id and +sip.instance, section 4.2)?
 * @return 1 when it does and Cay is its first hop (one Via): its 2xx
 * says Require: outbound; -1 when it came through a proxy that keeps no
 * flow for it (no Path whose URI has ;ob): answered 439; 0 otherwise, a
 * plain registration (also through such a proxy: its calls go by the
 * Path, RFC 3327). */
static int
outbound(reg_req_t *rq)
{
  const sip_t *sip = rq->sip;
  const sip_contact_t *m = sip->sip_contact;

  if (!sip_has_supported(sip->sip_supported, "outbound"))
    return 0;
  while (m
         && !(msg_params_find(m->m_params, "reg-id")
              && msg_params_find(m->m_params, "+sip.instance")))
    m = m->m_next;
  if (m == NULL)
    return 0;
  if (sip->sip_via->v_next == NULL)
    return 1;
  if (sip->sip_path && url_has_param(sip->sip_path->r_url, "ob"))
    return 0;
  refuse(rq, 439, "First Hop Lacks Outbound Support", NULL);
  return -1;
}

void
cay__registrar_on_register(cay__registrar_t *reg, const cay_config_t *cfg,
                           cay__txn_t *t, const sip_t *sip)
{
  reg_req_t *rq = cay__calloc(1, sizeof *rq);
  char user[CAY__AOR_MAX];
  size_t n;
  int unknown;

  if (rq == NULL) {
    cay__reg_reply(reg, t, 500, "Server Internal Error - No Memory", NULL);
    return;
  }
  rq->reg = reg;
  rq->cfg = cfg;
  rq->t = t;
  rq->sip = sip;
  rq->flow = *cay__txn_peer(t);
  cay__txn_source(t, &rq->flow.addr); /* not the Via's: the NAT's */
  if (cay__aor_of(sip->sip_to->a_url, rq->aor) < 0) {
    refuse(rq, 404, "Not Found - To Is Not a SIP AOR With a User", NULL);
    goto out;
  }
  /* The AOR's user, unescaped, is what a username must equal. */
  n = 0;
  if (put_unescaped(user, &n, sizeof user, sip->sip_to->a_url->url_user) != 0)
    n = 0; /* cannot be: cay__aor_of() took it */
  user[n] = '\0';
  if (cay__digest_check(reg, cfg, t, sip, user, 0) != 0)
    goto out;
  rq->a = cay__loc_find(reg, rq->aor, 0);
  unknown = rq->a == NULL;
  if (sip->sip_contact == NULL) {
    reply_bindings(rq); /* a query */
  } else if (sip->sip_contact->m_url->url_type == url_any) {
    if (remove_all(rq) == 0 && unknown)
      removed_unknown(rq);
  } else if (path_of(rq) == 0 && (rq->outbound = outbound(rq)) >= 0
             && check_contacts(rq) == 0) {
    if (take_contacts(rq) != 0) {
      refuse(rq, 500, "Server Internal Error - No Memory", NULL);
    } else {
      reply_bindings(rq);
      if (unknown) /* its contacts removed what it did not have */
        removed_unknown(rq);
    }
  }
out:
  cay__free(rq);
}
