/*
 * Supplement registry and dispatch (DESIGN.md section 4), and the two
 * supplements Cay ships: caller ID (P-Asserted-Identity, RFC 3325) and a
 * one-line-per-message logger.
 */
#include "supp/supp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/log.h"

/* "INVITE,UPDATE" -> the entry's method list. */
static int
parse_methods(cay__supp_entry_t *e, const char *list)
{
  e->n_methods = 0;
  if (list == NULL)
    return 0;
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ", ");
    if (n) {
      if (n >= sizeof e->methods[0] || e->n_methods == CAY__MAX_SUPP_METHODS)
        return -EINVAL;
      memcpy(e->methods[e->n_methods], p, n);
      e->methods[e->n_methods++][n] = '\0';
    }
    p += n;
    p += strspn(p, ", ");
  }
  return e->n_methods ? 0 : -EINVAL;
}

int
cay__supps_add(cay__supps_t *s, const cay_supp_t *d)
{
  cay__supp_entry_t *e;

  if (s->frozen)
    return CAY_ESTATE;
  if (d == NULL || d->name == NULL)
    return -EINVAL;
  if (s->n == CAY__MAX_SUPPS)
    return CAY_ELIMIT;
  e = &s->list[s->n];
  memset(e, 0, sizeof *e);
  e->d = *d;
  e->order = s->n;
  if (parse_methods(e, d->methods) != 0)
    return -EINVAL;
  s->n++;
  return 0;
}

static int
by_priority(const void *a, const void *b)
{
  const cay__supp_entry_t *x = a, *y = b;

  /* Lower priority first; ties in registration order (qsort is not
   * stable, hence the explicit order key). */
  if (x->d.priority != y->d.priority)
    return x->d.priority < y->d.priority ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

void
cay__supps_freeze(cay__supps_t *s)
{
  if (!s->frozen && s->n > 1)
    qsort(s->list, s->n, sizeof s->list[0], by_priority);
  s->frozen = 1;
}

static int
wants(const cay__supp_entry_t *e, const char *method)
{
  if (e->n_methods == 0)
    return 1;
  for (unsigned i = 0; i < e->n_methods; i++)
    if (method && strcmp(e->methods[i], method) == 0) /* case-sensitive */
      return 1;
  return 0;
}

/* The method a message is about: the request's, or its CSeq's. */
static const char *
method_of(const sip_t *sip)
{
  if (sip->sip_request)
    return sip->sip_request->rq_method_name;
  return sip->sip_cseq ? sip->sip_cseq->cs_method_name : NULL;
}

static int
hook_in_request(const void *arg, msg_t *msg, sip_t *sip)
{
  const cay__supps_t *s = arg;
  const char *m = method_of(sip);

  for (unsigned i = 0; i < s->n; i++) {
    const cay__supp_entry_t *e = &s->list[i];
    if (e->d.incoming_request && wants(e, m)) {
      int st = e->d.incoming_request(msg, sip, e->d.arg);
      if (st)
        return st; /* stopped: nothing after it sees the request */
    }
  }
  return 0;
}

static void
hook_in_response(const void *arg, msg_t *msg, sip_t *sip)
{
  const cay__supps_t *s = arg;
  const char *m = method_of(sip);

  for (unsigned i = 0; i < s->n; i++) {
    const cay__supp_entry_t *e = &s->list[i];
    if (e->d.incoming_response && wants(e, m))
      e->d.incoming_response(msg, sip, e->d.arg);
  }
}

static void
hook_out_message(const void *arg, msg_t *msg, sip_t *sip)
{
  const cay__supps_t *s = arg;
  const char *m = method_of(sip);

  /* The same order as incoming (DESIGN.md section 4). */
  for (unsigned i = 0; i < s->n; i++) {
    const cay__supp_entry_t *e = &s->list[i];
    cay_supp_msg_fn fn
        = sip->sip_request ? e->d.outgoing_request : e->d.outgoing_response;
    if (fn && wants(e, m))
      fn(msg, sip, e->d.arg);
  }
}

static int
hook_wants_out_response(const void *arg, const char *method)
{
  const cay__supps_t *s = arg;

  for (unsigned i = 0; i < s->n; i++)
    if (s->list[i].d.outgoing_response && wants(&s->list[i], method))
      return 1;
  return 0;
}

void
cay__supps_attach(const cay__supps_t *s, cay__endpoint_t *ep)
{
  if (s->n == 0)
    return; /* no hooks: the fast paths stay */
  ep->hooks.in_request = hook_in_request;
  ep->hooks.in_response = hook_in_response;
  ep->hooks.out_message = hook_out_message;
  ep->hooks.wants_out_response = hook_wants_out_response;
  ep->hooks.arg = s;
}

/* -- caller ID (RFC 3325) ------------------------------------------------ */

static const sip_unknown_t *
find_pai(const sip_t *sip)
{
  for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
    if (u->un_name && strcasecmp(u->un_name, "P-Asserted-Identity") == 0)
      return u;
  return NULL;
}

static void
pai_out_request(msg_t *msg, sip_t *sip, void *arg)
{
  char line[512];

  /* RFC 3325 section 9.1: the identity this trusted element asserts. */
  if (find_pai(sip))
    return;
  snprintf(line, sizeof line, "P-Asserted-Identity: %s", (const char *)arg);
  if (cay__msg_add_header(msg, line) != 0)
    CAY_WARN(-1, "caller-id: cannot add '%s'", line);
}

static int
pai_in_request(msg_t *msg, sip_t *sip, void *arg)
{
  const sip_unknown_t *pai = find_pai(sip);

  (void)msg;
  (void)arg;
  CAY_DEBUG(-1, "caller-id: %s from %s", sip->sip_call_id->i_id,
            pai ? pai->un_value : "(no P-Asserted-Identity)");
  return 0;
}

cay_supp_t
cay_supp_caller_id(const char *identity)
{
  cay_supp_t s = {
    .name = "caller-id",
    .methods = "INVITE",
    .priority = CAY_SUPP_PRIO_APP,
    .incoming_request = pai_in_request,
    .outgoing_request = pai_out_request,
    .arg = (void *)identity,
  };
  return s;
}

/* -- logger --------------------------------------------------------------- */

static void
log_line(const char *dir, const sip_t *sip)
{
  if (!cay__log_on(CAY_LOG_DEBUG))
    return;
  if (sip->sip_request)
    cay__log_write(CAY_LOG_DEBUG, -1, "%s %s %s cseq=%u call-id=%s", dir,
                   sip->sip_request->rq_method_name,
                   sip->sip_request->rq_url->url_host
                       ? sip->sip_request->rq_url->url_host
                       : "-",
                   sip->sip_cseq ? (unsigned)sip->sip_cseq->cs_seq : 0,
                   sip->sip_call_id ? sip->sip_call_id->i_id : "-");
  else if (sip->sip_status)
    cay__log_write(CAY_LOG_DEBUG, -1, "%s %d cseq=%u %s call-id=%s", dir,
                   sip->sip_status->st_status,
                   sip->sip_cseq ? (unsigned)sip->sip_cseq->cs_seq : 0,
                   sip->sip_cseq ? sip->sip_cseq->cs_method_name : "-",
                   sip->sip_call_id ? sip->sip_call_id->i_id : "-");
}

static int
log_in_request(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)arg;
  log_line("<-", sip);
  return 0;
}

static void
log_in(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)arg;
  log_line("<-", sip);
}

static void
log_out(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)arg;
  log_line("->", sip);
}

cay_supp_t
cay_supp_logger(void)
{
  cay_supp_t s = {
    .name = "logger",
    .methods = NULL,
    .priority = CAY_SUPP_PRIO_LAST,
    .incoming_request = log_in_request,
    .incoming_response = log_in,
    .outgoing_request = log_out,
    .outgoing_response = log_out,
  };
  return s;
}
