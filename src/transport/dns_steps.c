/* RFC 3263 section 4, step by step (dns_int.h): from the answer to one
 * question (NAPTR, SRV, a name's addresses) to the next question or to
 * the lookup's targets. The questions themselves are asked by dns.c. */
#include "transport/dns_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"

static void ask_host(dns_q_t *q);

void
cay__dns_ask_srv(dns_q_t *q, enum step step)
{
  char name[NAME_MAX_LEN + 16];
  /* 4.1: TLS over TCP (a sips URI, or transport=tls) is "_sips._tcp". */
  const char *svc = q->sips || q->proto == CAY__TLS ? "_sips._tcp"
                    : step == SRV_UDP               ? "_sip._udp"
                    : step == SRV_TCP               ? "_sip._tcp"
                    : q->proto == CAY__TCP          ? "_sip._tcp"
                                                    : "_sip._udp";

  q->step = step;
  snprintf(name, sizeof name, "%s.%s", svc, q->host);
  if (strlen(name) > NAME_MAX_LEN) {
    ask_host(q);
    return;
  }
  cay__dns_ask_query(q, name, T_SRV);
}

/* RFC 3263 section 4.1: the NAPTR record Cay can use, lowest order then
 * preference: flag "S" (an SRV name follows), a replacement, and a service
 * of the URI's scheme over UDP or TCP. @return it, or NULL. */
static const struct ares_naptr_reply *
pick_naptr(const dns_q_t *q, const struct ares_naptr_reply *r)
{
  const struct ares_naptr_reply *best = NULL;

  for (; r; r = r->next) {
    const char *svc = (const char *)r->service;
    const char *repl = (const char *)r->replacement;
    int usable = q->sips ? strcasecmp(svc, "SIPS+D2T") == 0
                         : strcasecmp(svc, "SIP+D2T") == 0
                               || strcasecmp(svc, "SIP+D2U") == 0;

    /* RFC 3403 section 4.1: "." (c-ares: "") is no replacement. */
    if (!usable || strcasecmp((const char *)r->flags, "s") != 0
        || repl[0] == '\0' || strcmp(repl, ".") == 0)
      continue;
    if (best == NULL || r->order < best->order
        || (r->order == best->order && r->preference < best->preference))
      best = r;
  }
  return best;
}

void
cay__dns_got_naptr(dns_q_t *q, int status, const unsigned char *abuf, int alen)
{
  struct ares_naptr_reply *list = NULL;
  const struct ares_naptr_reply *r = NULL;

  if (status == ARES_SUCCESS
      && ares_parse_naptr_reply(abuf, alen, &list) == ARES_SUCCESS)
    r = pick_naptr(q, list);
  if (r && strlen((const char *)r->replacement) <= NAME_MAX_LEN) {
    /* Its transport, and SRV at its replacement (4.1, 4.2). */
    char name[NAME_MAX_LEN + 1];
    const char *svc = (const char *)r->service;

    q->proto = strcasecmp(svc, "SIP+D2U") == 0    ? CAY__UDP
               : strcasecmp(svc, "SIPS+D2T") == 0 ? CAY__TLS
                                                  : CAY__TCP;
    snprintf(name, sizeof name, "%s", (const char *)r->replacement);
    ares_free_data(list);
    q->step = SRV_ONE;
    cay__dns_ask_query(q, name, T_SRV);
    return;
  }
  if (list)
    ares_free_data(list);
  if (status != ARES_SUCCESS && status != ARES_ENOTFOUND
      && status != ARES_ENODATA) {
    cay__dns_finish(q, cay__dns_map_status(status));
    return;
  }
  /* 4.1: no NAPTR Cay can use: the SRV queries for what it supports. */
  cay__dns_ask_srv(q, q->sips ? SRV_ONE : SRV_UDP);
}

/* The transport when neither the URI nor SRV chose one (4.1). */
int
cay__dns_default_proto(const dns_q_t *q)
{
  if (q->proto >= 0)
    return q->proto;
  return q->sips ? CAY__TLS : CAY__UDP;
}

/* 4.2: no SRV records: the host's own addresses on the default port. */
static void
ask_host(dns_q_t *q)
{
  q->step = ADDR_HOST;
  q->srv_proto = cay__dns_default_proto(q);
  if (q->port == 0)
    q->port = q->sips || q->srv_proto == CAY__TLS ? 5061 : 5060;
  cay__dns_ask_addr(q, q->host);
}

/* RFC 2782: lowest priority first; within one priority, a weighted random
 * order (weight 0 entries first in their group, as the RFC says, so they
 * get a small chance). */
static void
order_srv(cay__dns_t *d, struct ares_srv_reply *list, dns_q_t *q)
{
  struct ares_srv_reply *v[64];
  unsigned n = 0;

  for (struct ares_srv_reply *r = list; r && n < 64; r = r->next)
    v[n++] = r;
  for (unsigned i = 1; i < n; i++) /* insertion sort: priority, weight 0 */
    for (unsigned j = i; j > 0
                         && (v[j]->priority < v[j - 1]->priority
                             || (v[j]->priority == v[j - 1]->priority
                                 && v[j]->weight == 0 && v[j - 1]->weight));
         j--) {
      struct ares_srv_reply *t = v[j];
      v[j] = v[j - 1];
      v[j - 1] = t;
    }
  q->n_srv = 0;
  for (unsigned i = 0; i < n && q->n_srv < CAY__DNS_MAX_TARGETS;) {
    unsigned end = i, sum = 0;
    while (end < n && v[end]->priority == v[i]->priority)
      sum += v[end++]->weight;
    /* pick one of v[i..end) by weight, move it to v[i], go on */
    {
      unsigned pick = sum ? cay__rand_u32(&d->rand) % (sum + 1) : 0, k = i;
      unsigned run = v[i]->weight;
      while (k + 1 < end && run < pick)
        run += v[++k]->weight;
      struct ares_srv_reply *t = v[k];
      memmove(&v[i + 1], &v[i], (size_t)(k - i) * sizeof v[0]);
      v[i] = t;
    }
    snprintf(q->srv[q->n_srv].name, sizeof q->srv[0].name, "%s", v[i]->host);
    q->srv[q->n_srv++].port = v[i]->port;
    i++;
  }
}

/* The next SRV target's addresses, or the end. */
static void
next_srv_target(dns_q_t *q, int err)
{
  while (q->next_srv < q->n_srv) {
    const char *name = q->srv[q->next_srv].name;
    q->port = q->srv[q->next_srv++].port;
    if (name[0] == '\0' || strcmp(name, ".") == 0)
      continue; /* RFC 2782: "." = the service is not offered */
    q->step = ADDR_SRV;
    cay__dns_ask_addr(q, name);
    return;
  }
  cay__dns_finish(q, q->n_out ? 0 : err);
}

void
cay__dns_got_srv(dns_q_t *q, int status, const unsigned char *abuf, int alen)
{
  struct ares_srv_reply *list = NULL;

  if (status == ARES_SUCCESS
      && (status = ares_parse_srv_reply(abuf, alen, &list)) == ARES_SUCCESS
      && list == NULL)
    status = ARES_ENODATA;
  if (status == ARES_SUCCESS) {
    order_srv(q->d, list, q);
    ares_free_data(list);
    q->srv_proto = q->step == SRV_UDP   ? CAY__UDP
                   : q->step == SRV_TCP ? CAY__TCP
                                        : cay__dns_default_proto(q);
    q->next_srv = 0;
    next_srv_target(q, CAY_ENOTFOUND);
    return;
  }
  if (list)
    ares_free_data(list);
  if (status != ARES_ENOTFOUND && status != ARES_ENODATA) {
    cay__dns_finish(q, cay__dns_map_status(status));
    return;
  }
  /* 4.1: no SRV for UDP, try TCP; 4.2: none at all, the host itself. */
  if (q->step == SRV_UDP)
    cay__dns_ask_srv(q, SRV_TCP);
  else
    ask_host(q);
}

/* The addresses of a SRV target or of the host (@p n of @p a, no port). */
void
cay__dns_got_addrs(dns_q_t *q, int status, const cay__addr_t *a, size_t n)
{
  for (size_t i = 0; i < n && q->n_out < CAY__DNS_MAX_TARGETS; i++) {
    cay__dns_target_t *t = &q->out[q->n_out++];

    memset(t, 0, sizeof *t);
    t->addr = a[i];
    cay__addr_set_port(&t->addr, q->port);
    t->proto = q->srv_proto;
  }
  if (q->step == ADDR_SRV && q->n_out < CAY__DNS_MAX_TARGETS
      && q->next_srv < q->n_srv) {
    /* The next SRV target's addresses too (4.3: what to try next), until
     * there are CAY__DNS_MAX_TARGETS. */
    next_srv_target(
        q, cay__dns_map_status(status == ARES_SUCCESS ? ARES_ENODATA : status));
    return;
  }
  cay__dns_finish(q, q->n_out
                         ? 0
                         : cay__dns_map_status(
                             status == ARES_SUCCESS ? ARES_ENODATA : status));
}
