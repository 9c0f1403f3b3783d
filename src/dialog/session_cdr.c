/*
 * The detail record (b2bua/cdr.h) of a call without a bridge: one
 * answered here, by Cay's own answering (an answer route, or no routes)
 * or by the embedder (cay_server_on_session()), or one the embedder
 * placed (cay_session_invite()). A record without a B leg. It starts
 * with the session; it takes its times as the session rings and
 * answers, its end when the session sends its BYE or ends, and goes to
 * the shard's sink once the session has ended.
 */
#include "dialog/session_int.h"

#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

#include "b2bua/bridge.h"
#include "b2bua/cdr.h"
#include "shard/shard.h"

void
cay__session_cdr_begin(cay__session_t *s, const cay__txn_t *t, const sip_t *sip)
{
  if (s->ss->cdr_sink)
    s->cdr = cay__bridge_cdr_begin(s->ss, t, sip);
}

void
cay__session_cdr_placed(cay__session_t *s)
{
  su_home_t home[1] = { SU_HOME_INIT(home) };
  sip_t sip;

  if (s->ss->cdr_sink == NULL)
    return;
  /* The parties of our INVITE, as its own header fields would parse
   * (a URI that does not parse is written null). */
  memset(&sip, 0, sizeof sip);
  sip.sip_from = sip_from_make(home, s->local_party);
  sip.sip_to = sip_to_make(home, s->remote_party);
  sip.sip_request = sip_request_create(home, SIP_METHOD_INVITE,
                                       (url_string_t *)s->remote_target, NULL);
  s->cdr = cay__cdr_begin(&sip, s->call_id, NULL, s->ss->shard->index,
                          cay__shard_now(s->ss->shard));
  if (s->cdr == NULL)
    s->ss->shard->stats.cdrs_lost++;
  su_home_deinit(home);
}

void
cay__session_cdr_progress(cay__session_t *s)
{
  if (s->cdr && s->cdr->progress_ms == 0)
    s->cdr->progress_ms = cay__shard_now(s->ss->shard);
}

void
cay__session_cdr_answered(cay__session_t *s)
{
  if (s->cdr && s->cdr->answer_ms == 0) {
    s->cdr->answer_ms = cay__shard_now(s->ss->shard);
    s->cdr->status = 200;
  }
}

void
cay__session_ended_by(cay__session_t *s, cay_cdr_end_t who)
{
  if (s->end_by == 0)
    s->end_by = who;
}

void
cay__session_cdr_ended(cay__session_t *s)
{
  /* Not said otherwise: the other party ended it, the caller of a call
   * answered here, the callee of one placed here. */
  cay__cdr_end_t who = s->end_by ? (cay__cdr_end_t)s->end_by
                       : s->uac  ? CAY_CDR_CALLEE
                                 : CAY_CDR_CALLER;

  if (s->cdr)
    cay__cdr_ended(s->cdr, s->ss->ending_all ? CAY_CDR_SHUTDOWN : who,
                   cay__shard_now(s->ss->shard), s->reason);
}

void
cay__session_cdr_write(cay__session_t *s)
{
  if (s->cdr == NULL)
    return;
  cay__session_cdr_ended(s);
  if (s->cdr->answer_ms == 0)
    s->cdr->status = s->end_status;
  cay__bridge_cdr_write(s->ss, s->cdr);
  s->cdr = NULL;
}
