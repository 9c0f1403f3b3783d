/*
 * Receiving (DESIGN.md section 3): every message goes to the shard that
 * owns its Call-ID, the shard it hashes to (a REGISTER: its AOR's, where
 * the registrar keeps the AOR's bindings), or the one an alias names
 * (server/alias.h) for a dialog that lives away from its Call-ID's home:
 * an INVITE with Replaces is handed to the shard of the dialog it names,
 * and the aliases send the rest of its dialog after it; the owner tells
 * the home shard when its session begins and ends (MAIL_ALIAS). Before
 * any of that, a request from a flooding source is dropped
 * (limits.source_requests, worker_flood.c).
 *
 * Every function runs on the worker's own thread.
 */
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "registrar/registrar.h"
#include "server/server_int.h"
#include "transport/callid.h"

#define SHARD_NO(w) ((int)(w)->index)
/* Shortest time between two "mailbox full" warnings of a shard, in ms. */
#define FULL_WARN_MS 10000

/* Tell shard @p home (the home of Call-ID @p cid) who owns its dialogs:
 * @p what is ALIAS_*, @p shard the owner of an ALIAS_GUESS. */
static void
post_alias(cay__worker_t *w, unsigned home, const char *cid, size_t len,
           unsigned shard, int what)
{
  mail_alias_t *m = cay__malloc(sizeof *m + len);

  if (m == NULL) {
    CAY_WARN(SHARD_NO(w),
             "no memory to tell shard %u where Call-ID %.*s lives: its "
             "messages may not find it",
             home, (int)len, cid);
    return;
  }
  m->m.kind = MAIL_ALIAS;
  m->from = w->index;
  m->shard = shard;
  m->what = what;
  m->len = len;
  memcpy(m->cid, cid, len);
  if (cay__mailbox_post(&w->srv->workers[home]->mb, &m->m) != 0) {
    /* That shard has stopped: nothing is routed by it any more. */
    CAY_DEBUG(SHARD_NO(w), "shard %u has stopped: alias of %.*s not told", home,
              (int)len, cid);
    cay__free(m);
  }
}

/* Where the dialog of Call-ID @p rcid (named by a Replaces header) lives,
 * as far as this shard can tell: its alias when this is its home, else
 * its home; a message already handed on (@p handed) was sent here by the
 * home's alias or for its hash, so the dialog is here. */
static unsigned
replaced_owner(cay__worker_t *w, const char *rcid, size_t rlen, int handed)
{
  unsigned home = cay__callid_shard(rcid, rlen, w->srv->nshards);
  int to;

  if (home != w->index)
    return handed ? w->index : home;
  to = cay__aliases_lookup(&w->aliases, rcid, rlen, cay__shard_now(&w->shard));
  return to >= 0 ? (unsigned)to : w->index;
}

/* The shard a message this shard owns by its Call-ID's hash goes to
 * instead (w->index: here): an alias's, unless the message was @p handed
 * on already; for an INVITE whose Replaces names a dialog of another
 * shard, that shard's (RFC 3891 section 3), and its Call-ID gets an alias
 * to it. */
static unsigned
owner_of(cay__worker_t *w, const char *data, size_t len, int handed)
{
  unsigned n = w->srv->nshards, to, home;
  uint64_t now = cay__shard_now(&w->shard);
  const char *cid = NULL, *rcid;
  size_t cidlen = 0, rlen;
  int alias;

  if (!handed && cay__aliases_count(&w->aliases)
      && cay__callid_scan(data, len, &cid, &cidlen) == 0
      && (alias = cay__aliases_lookup(&w->aliases, cid, cidlen, now)) >= 0)
    return (unsigned)alias;
  /* RFC 3891 section 3: only the shard of the dialog named can replace
   * it. */
  if (cay__replaces_scan(data, len, &rcid, &rlen) != 0)
    return w->index;
  to = replaced_owner(w, rcid, rlen, handed);
  if (to == w->index || cay__callid_scan(data, len, &cid, &cidlen) != 0)
    return w->index;
  /* The rest of the new dialog (CANCEL, ACK, BYE, the answers to Cay's
   * requests) comes to its Call-ID's home: an alias there sends it on. */
  home = cay__callid_shard(cid, cidlen, n);
  if (home != w->index)
    post_alias(w, home, cid, cidlen, to, ALIAS_GUESS);
  else if (cay__aliases_set(&w->aliases, cid, cidlen, to, 0, now) != 0)
    CAY_WARN(SHARD_NO(w),
             "no memory for the alias of Call-ID %.*s: its messages may not "
             "find shard %u",
             (int)cidlen, cid, to);
  CAY_INFO(SHARD_NO(w),
           "INVITE %.*s replaces a dialog of Call-ID %.*s (RFC 3891): "
           "handed to shard %u",
           (int)cidlen, cid, (int)rlen, rcid, to);
  return to;
}

/* A message for shard @p owner was dropped because its mailbox is full
 * (DESIGN.md section 7). Logged at most every FULL_WARN_MS, with the
 * count since the last line: under overload, not a line per message. */
static void
warn_full(cay__worker_t *w, unsigned owner)
{
  uint64_t now = cay__shard_now(&w->shard);

  w->full_drops++;
  if (now < w->full_warn_next)
    return;
  CAY_WARN(SHARD_NO(w),
           "shard %u has %u messages waiting (limits.mailbox_messages): "
           "%llu messages read here for busy shards dropped since the last "
           "such line",
           owner, w->srv->cfg.mailbox_messages,
           (unsigned long long)w->full_drops);
  w->full_warn_next = now + FULL_WARN_MS;
  w->full_drops = 0;
}

/* A request read from a TCP connection here for shard @p owner, whose
 * mailbox is full (DESIGN.md section 7). Over UDP the peer retransmits and
 * the message is only dropped; over TCP nothing comes again before the
 * peer's own timeout (64*T1), so a request other than ACK gets a stateless
 * 503 with Retry-After from this shard, which owns the connection (RFC
 * 3261 section 21.5.4). Only the top of the message is looked at. */
static void
refuse_busy(cay__worker_t *w, const char *data, size_t len,
            const cay__peer_t *src)
{
  msg_t *msg = NULL;
  sip_t *sip;

  if (cay__msg_parse(data, len, &msg) == 0 && (sip = sip_object(msg)) != NULL
      && sip->sip_request && sip->sip_request->rq_method != sip_method_ack
      && cay__msg_answerable(sip))
    (void)cay__endpoint_respond_busy(&w->ep, msg, src);
  if (msg)
    msg_destroy(msg);
}

/* A message this shard owns, read here or handed over: to the endpoint,
 * which refuses a new INVITE in it while @p backlogged (read from a
 * backlogged UDP queue or TCP connection; DESIGN.md section 7). */
static void
recv_here(cay__worker_t *w, const char *data, size_t len,
          const cay__peer_t *src, int backlogged)
{
  w->shard.backlogged = backlogged;
  cay__endpoint_recv(&w->ep, data, len, src);
  w->shard.backlogged = 0;
}

/* A message for shard @p owner, posted there raw with whether it was read
 * from a backlog (@p handed: by an alias or for a Replaces). A full
 * mailbox drops it (over TCP a request gets 503 from here). */
static void
hand_over(cay__worker_t *w, unsigned owner, const char *data, size_t len,
          const cay__peer_t *src, int backlogged, int handed)
{
  int err = cay__worker_post_bytes(w->srv->workers[owner], MAIL_RECV, src, data,
                                   len, backlogged, handed);

  if (err == 0) {
    w->shard.stats.handed_over++;
    return;
  }
  w->shard.stats.msgs_in++;
  w->shard.stats.dropped++;
  if (err == CAY_ELIMIT && cay__proto_stream(src->proto))
    refuse_busy(w, data, len, src);
  if (err == CAY_ELIMIT)
    warn_full(w, owner);
  else
    CAY_DEBUG(SHARD_NO(w), "shard %u refused a message (%s): dropped", owner,
              cay_strerror(err));
}

void
cay__worker_deliver(cay__worker_t *w, const char *data, size_t len,
                    const cay__peer_t *src, int backlogged, int handed)
{
  unsigned to = w->srv->nshards > 1 ? owner_of(w, data, len, handed) : w->index;

  if (to != w->index)
    hand_over(w, to, data, len, src, backlogged, 1);
  else
    recv_here(w, data, len, src, backlogged);
}

void
cay__worker_route(cay__worker_t *w, const char *data, size_t len,
                  const cay__peer_t *src, int backlogged)
{
  unsigned n = w->srv->nshards, owner = w->index;
  const char *cid;
  size_t cidlen;
  int aor_owner;

  if (cay__worker_flooded(w, data, len, src))
    return; /* limits.source_requests */
  /* A REGISTER goes to its AOR's shard, which holds its bindings
   * (DESIGN.md rule 1); every other message to its Call-ID's. */
  if (n > 1 && (aor_owner = cay__register_shard(data, len, n)) >= 0)
    owner = (unsigned)aor_owner;
  else if (n > 1 && cay__callid_scan(data, len, &cid, &cidlen) == 0)
    owner = cay__callid_shard(cid, cidlen, n);
  if (owner != w->index) {
    hand_over(w, owner, data, len, src, backlogged, 0);
    return;
  }
  cay__worker_deliver(w, data, len, src, backlogged, 0);
  cay__shard_flush(&w->shard);
}

void
cay__worker_on_alias(cay__worker_t *w, const mail_alias_t *m)
{
  uint64_t now = cay__shard_now(&w->shard);

  if (m->what == ALIAS_RELEASED) {
    cay__aliases_release(&w->aliases, m->cid, m->len, m->from, now);
    return;
  }
  if (cay__aliases_set(&w->aliases, m->cid, m->len,
                       m->what == ALIAS_HELD ? m->from : m->shard,
                       m->what == ALIAS_HELD, now)
      != 0)
    CAY_WARN(SHARD_NO(w),
             "no memory for the alias of Call-ID %.*s: its messages may not "
             "find shard %u",
             (int)m->len, m->cid, m->from);
}

void
cay__worker_session_foreign(void *arg, const char *call_id, int live)
{
  cay__worker_t *w = arg;
  size_t len = strlen(call_id);

  post_alias(w, cay__callid_shard(call_id, len, w->srv->nshards), call_id, len,
             w->index, live ? ALIAS_HELD : ALIAS_RELEASED);
}
