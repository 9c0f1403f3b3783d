/* RFC 3263 for an outgoing session's first INVITE: when the next hop's
 * host is a name, the shard's resolver (src/transport/dns.h) finds its
 * transport, address and port; the INVITE goes once it answers. A target
 * that does not answer is reported to the resolver, which gives it last
 * to later lookups for a while (section 4.3). Requests later in the
 * dialog go to the remote target (a host name there falls back to where
 * the INVITE went, session.c text_dest()). The walk over the addresses
 * DNS found and what the resolver learns from each (cay__locate_keep(),
 * _next(), _heard()) serve a relayed MESSAGE too (b2bua/pager.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/session_int.h"
#include "transport/dns.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* What went wrong, for the log line. */
static const char *
reason(int err)
{
  switch (err) {
  case CAY_ENOTFOUND:
    return "no such name, or no SRV target or address Cay can use";
  case -ETIMEDOUT:
    return "no DNS server answered";
  case -EIO:
    return "the DNS server failed or refused";
  default:
    return cay_strerror(err);
  }
}

void
cay__uac_locate_end(cay__session_t *s, int status)
{
  s->locating = 0;
  /* As if the INVITE transaction had ended with @p status (no
   * transaction was made: invite_txn is 0). */
  cay__uac_response(s, s->invite_txn, status, NULL);
}

void
cay__uac_targets_free(cay__session_t *s)
{
  cay__free(s->targets);
  s->targets = NULL;
  s->n_targets = 0;
}

unsigned
cay__locate_keep(const cay__dns_target_t *t, size_t n, cay__dns_target_t **rest)
{
  *rest = NULL;
  if (n < 2 || n > CAY__DNS_MAX_TARGETS
      || (*rest = cay__malloc((n - 1) * sizeof *t)) == NULL)
    return 0; /* one address, or no memory: no failover */
  memcpy(*rest, t + 1, (n - 1) * sizeof *t);
  return (unsigned)(n - 1);
}

int
cay__locate_next(const cay__locate_who_t *w, int status,
                 cay__dns_target_t *rest, unsigned *n, cay__dns_target_t *out)
{
  char where[64] = "";

  if (rest == NULL || *n == 0)
    return 0;
  *out = rest[0];
  (*n)--;
  memmove(rest, rest + 1, *n * sizeof *out);
  (void)cay__addr_format(&out->addr, where, sizeof where);
  CAY_INFO(SHARD_NO(w->ss),
           "%s %s: %s to %s ended with %d: trying the next target DNS "
           "found, %s over %s (RFC 3263 section 4.3)",
           w->kind, w->call_id, w->method, w->uri, status, where,
           cay__proto_name(out->proto));
  return 1;
}

void
cay__locate_heard(const cay__locate_who_t *w, const cay__addr_t *addr,
                  int status, const sip_t *sip)
{
  cay__dns_t *dns = w->ss->dns;
  char where[64] = "";

  if (dns == NULL)
    return;
  (void)cay__addr_format(addr, where, sizeof where);
  if (sip == NULL) {
    if ((status == 408 || status == 503)
        && cay__dns_target_failed(dns, addr, 0))
      CAY_INFO(SHARD_NO(w->ss),
               "%s %s: %s did not answer (%d): calls try it last "
               "among the targets DNS finds for dns.failed_target_s",
               w->kind, w->call_id, where, status);
  } else if (status == 503 && sip->sip_retry_after
             && sip->sip_retry_after->af_delta > 0) {
    /* RFC 3261 section 21.5.4: unavailable for that long. */
    unsigned delta = (unsigned)sip->sip_retry_after->af_delta;

    if (cay__dns_target_failed(dns, addr, delta))
      CAY_INFO(SHARD_NO(w->ss),
               "%s %s: %s answered 503 with Retry-After: %u: calls "
               "try it last among the targets DNS finds for that long (at "
               "most dns.failed_target_s)",
               w->kind, w->call_id, where, delta);
  } else if (cay__dns_target_answered(dns, addr)) {
    CAY_INFO(SHARD_NO(w->ss),
             "%s %s: %s answers again; calls no longer try it last", w->kind,
             w->call_id, where);
  }
}

/* Who the INVITE of @p s is, for the log lines. */
static cay__locate_who_t
who_of(const cay__session_t *s)
{
  cay__locate_who_t w
      = { s->ss, "session", s->call_id, "INVITE", s->remote_target };
  return w;
}

/* Send the INVITE of @p s to @p t. @return 0 or the send's error. */
static int
invite_to(cay__session_t *s, const cay__dns_target_t *t)
{
  char where[64] = "";
  int err;

  s->peer.addr = t->addr;
  s->peer.proto = t->proto;
  s->peer.conn = 0;
  s->located = 1;
  (void)cay__addr_format(&t->addr, where, sizeof where);
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: %s located at %s over %s", s->call_id,
            s->remote_target, where, cay__proto_name(t->proto));
  err = cay__uac_start(s);
  if (err)
    CAY_WARN(SHARD_NO(s->ss), "session %s: INVITE to %s (%s) not sent: %s",
             s->call_id, s->remote_target, where, cay_strerror(err));
  return err;
}

void
cay__uac_located(cay__session_t *s, const cay__dns_target_t *t, size_t n)
{
  s->locating = 0;
  /* The rest, for 4.3 (at most 7: n_targets has 3 bits). */
  s->n_targets = cay__locate_keep(t, n, &s->targets) & 7u;
  if (invite_to(s, &t[0]) == 0 || cay__uac_next_target(s, 503))
    return;
  /* RFC 3261 section 8.1.3.1: a transport failure is a 503 of the
   * transaction that never was. */
  cay__uac_locate_end(s, 503);
}

int
cay__uac_next_target(cay__session_t *s, int status)
{
  cay__locate_who_t w = who_of(s);
  cay__dns_target_t t;
  unsigned left = s->n_targets;

  while (cay__locate_next(&w, status, s->targets, &left, &t)) {
    s->n_targets = left & 7u;
    /* A new transaction: the next CSeq (8.1.1.5), a new branch. */
    s->invite_cseq = ++s->local_cseq;
    s->state = CAY__SESSION_CALLING;
    if (invite_to(s, &t) == 0)
      return 1;
  }
  cay__uac_targets_free(s);
  return 0;
}

void
cay__uac_target_heard(cay__session_t *s, int status, const sip_t *sip)
{
  cay__locate_who_t w = who_of(s);

  if (s->located)
    cay__locate_heard(&w, &s->peer.addr, status, sip);
}

static void
on_located(void *arg, uint64_t id, int err, const cay__dns_target_t *t,
           size_t n)
{
  cay__sessions_t *ss = arg;
  cay__session_t *s = cay__session_lookup(ss, id);

  if (s == NULL || !s->locating)
    return; /* hung up meanwhile */
  if (err == 0) {
    cay__uac_located(s, t, n);
    return;
  }
  CAY_WARN(SHARD_NO(ss), "session %s: DNS found no target for %s: %s",
           s->call_id, s->remote_target, reason(err));
  /* RFC 3263 section 4.3 / RFC 3261 section 8.1.3.1: as a transport
   * failure, a 503 of the transaction that never was. */
  cay__uac_locate_end(s, 503);
}

int
cay__uac_query(const url_t *url, cay__dns_query_t *q, char *maddr,
               size_t maddr_len)
{
  cay__addr_t literal;
  char tp[16];

  if (url->url_host == NULL)
    return -EINVAL;
  if (cay__url_dest(url, &literal) == 0)
    return 0;
  memset(q, 0, sizeof *q);
  /* RFC 3263 section 4: maddr, when present, is the name to look up. */
  q->host = url_param(url->url_params, "maddr", maddr, maddr_len) > 1
                ? maddr
                : url->url_host;
  q->sips = url->url_type == url_sips;
  q->proto = -1;
  if (url_param(url->url_params, "transport", tp, sizeof tp) > 0) {
    /* RFC 3261 section 19.1.2: sips with transport=tcp is TLS over TCP. */
    if (strcasecmp(tp, "tls") == 0 || (q->sips && strcasecmp(tp, "tcp") == 0))
      q->proto = CAY__TLS;
    else if (strcasecmp(tp, "tcp") == 0)
      q->proto = CAY__TCP;
    else if (strcasecmp(tp, "udp") == 0 && !q->sips)
      q->proto = CAY__UDP;
    else
      return -EINVAL; /* a transport Cay does not send over */
  }
  if (url->url_port
      && (cay__parse_port(url->url_port, &q->port) != 0 || q->port == 0))
    return -EINVAL;
  return 1;
}

int
cay__uac_locate(cay__session_t *s)
{
  cay__sessions_t *ss = s->ss;
  cay__dns_query_t q;
  char buf[512], maddr[256];
  url_t url;
  int err;

  /* The first INVITE's next hop is its Request-URI, or the first URI of
   * a preloaded route set (RFC 3261 section 8.1.2: a Path); an IP
   * literal host or maddr needs no DNS (cay__url_dest()). */
  if (cay__session_next_hop(s, buf, sizeof buf) != 0 || url_d(&url, buf) < 0)
    return -EINVAL;
  if ((err = cay__uac_query(&url, &q, maddr, sizeof maddr)) <= 0)
    return err;
  if (ss->dns == NULL)
    return 0; /* no resolver: cay__session_encode() refuses a name */
  err = cay__dns_locate(ss->dns, &q, on_located, ss, s->id);
  if (err)
    return err;
  s->locating = 1;
  return 1;
}
