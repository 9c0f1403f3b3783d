/*
 * The records of the calls the routes took or refused (b2bua/cdr.h): a
 * record begun for A's INVITE, handed to the shard's sink when the call
 * is over, and the records made at once for an INVITE no B leg was
 * placed for (cay__bridge_refused()) or the routes refused
 * (cay__bridge_rejected()).
 */
#include "b2bua/bridge_int.h"

#include "core/alloc.h"

cay__cdr_t *
cay__bridge_cdr_begin(cay__sessions_t *ss, const cay__txn_t *t,
                      const sip_t *sip)
{
  char source[80] = "";
  cay__cdr_t *r;

  if (t && cay__txn_source_name(t, source, sizeof source))
    source[0] = '\0';
  r = cay__cdr_begin(sip, sip->sip_call_id->i_id, source[0] ? source : NULL,
                     (unsigned)SHARD_NO(ss), cay__shard_now(ss->shard));
  if (r == NULL)
    ss->shard->stats.cdrs_lost++;
  return r;
}

void
cay__bridge_cdr_write(cay__sessions_t *ss, cay__cdr_t *r)
{
  cay_cdr_t view;
  char *line = NULL;

  if (ss->cdr_sink /* a reload may have taken the file away */
      && (line = cay__cdr_format(r, cay__shard_now(ss->shard), &view)) == NULL)
    ss->shard->stats.cdrs_lost++;
  if (line) {
    ss->cdr_sink(ss->cdr_arg, &view);
    ss->shard->stats.cdrs++;
  }
  cay__free(line);
  cay__cdr_free(r);
}

/* A record of A's INVITE @p sip (transaction @p t) that ends as it
 * starts: the call never got a B leg. */
static void
record_at_once(cay__sessions_t *ss, const cay__txn_t *t, const sip_t *sip,
               int status, cay__cdr_end_t why)
{
  cay__cdr_t *r;

  if (ss->cdr_sink == NULL || (r = cay__bridge_cdr_begin(ss, t, sip)) == NULL)
    return;
  r->status = status;
  cay__cdr_ended(r, why, r->start_ms, NULL);
  cay__bridge_cdr_write(ss, r);
}

void
cay__bridge_refused(cay__sessions_t *ss, cay__session_t *a, const sip_t *sip,
                    int status)
{
  record_at_once(ss, cay__txn_lookup(ss->ep, a->invite_txn), sip, status,
                 CAY_CDR_REFUSED);
}

void
cay__bridge_rejected(cay__sessions_t *ss, const cay__txn_t *t, const sip_t *sip,
                     int status)
{
  record_at_once(ss, t, sip, status, CAY_CDR_REJECTED);
}
