/*
 * The server's counters: per shard, totals, and the live gather.
 *
 * Every shard counts in its own cay__shard's stats and only that shard
 * reads them (DESIGN.md rule 1). Totals are gathered by message: at the
 * close each shard reports its final counters (MAIL_FINAL, server.c);
 * while the server runs, cay_server_stats_gather() asks shards 1..N-1
 * (MAIL_STATS_ASK) and each answers with a copy of its own
 * (MAIL_STATS), all on shard 0's thread:
 *
 *   gather -> ASK to 1..N-1 -> each answers STATS (or, if it stopped
 *   meanwhile, its FINAL answers) -> with every shard in: the callbacks.
 *
 * One gather is in flight at a time; a caller while it is joins it
 * (gather_wait: SIGUSR1, a metrics scrape and an embedder may ask at
 * once). Each gather has a sequence number; an answer with an older one
 * belongs to a gather that was given up (a question that could not be
 * sent) and is dropped.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/log.h"
#include "server/server_int.h"

#define F(name, gauge, help)                                                   \
  {                                                                            \
#name, offsetof(cay_stats_t, name), gauge, help, NULL, NULL, NULL          \
  }
#define SRD_HELP                                                               \
  "Session request delay of bridged calls (RFC 6076 section 4.2.1): from "     \
  "the caller's INVITE to the first response above 100 sent to it."
#define SRD(name, le)                                                          \
  {                                                                            \
#name, offsetof(cay_stats_t, name), 0, SRD_HELP, NULL,                     \
        "cay_session_request_delay_seconds", le                                \
  }
#define M(lower, method)                                                       \
  {                                                                            \
    "requests_" #lower, offsetof(cay_stats_t, requests_##lower), 0,            \
        "Requests received, by method; retransmissions counted again, "        \
        "400s not counted.",                                                   \
        method, NULL, NULL                                                     \
  }

const cay__stat_field_t cay__stat_fields[] = {
  F(msgs_in, 0, "SIP messages received (datagrams and stream messages)."),
  F(msgs_out, 0, "SIP messages sent, retransmissions included."),
  F(retransmits, 0, "Of the messages sent, retransmissions."),
  F(parse_errors, 0, "Messages received that did not parse or validate."),
  F(bad_requests, 0, "Of those, requests answered with 400."),
  F(dropped, 0,
    "Messages not handled: unparsable and unanswerable, or for a shard "
    "whose mailbox was full or closed."),
  F(calls_in, 0, "Initial INVITEs received."),
  F(calls_answered, 0, "Initial INVITEs received and answered with 2xx."),
  F(calls_rejected, 0, "Initial INVITEs received and answered with >= 300."),
  F(calls_out, 0, "Initial INVITEs sent (an embedder's calls, B legs)."),
  F(calls_out_answered, 0, "Initial INVITEs sent and answered with 2xx."),
  F(calls_out_failed, 0,
    "Initial INVITEs sent that failed (>= 300, timeout, error)."),
  F(byes_sent, 0, "BYEs sent by Cay."),
  F(dialogs_live, 1, "Dialogs now."),
  F(txns_live, 1, "Transactions now."),
  F(send_errors, 0, "Sends that the transport refused."),
  F(handed_over, 0,
    "Messages read by this shard for another and posted to it."),
  F(dns_lookups, 0, "RFC 3263 questions put to DNS."),
  F(dns_cache_hits, 0,
    "RFC 3263 questions answered from the cache or a query in flight."),
  F(overload_rejected, 0, "New requests answered 503 for overload."),
  F(udp_drops, 0,
    "Datagrams the kernel dropped at a full UDP receive queue of the shard."),
  F(registers, 0, "REGISTERs answered 2xx."),
  F(registers_refused, 0,
    "REGISTERs answered >= 300 by the registrar, 401 challenges not counted."),
  F(bindings_live, 1, "Registrar bindings now."),
  F(keepalives, 0, "STUN Binding requests answered on a UDP SIP port."),
  F(messages_in, 0, "MESSAGEs outside a dialog received."),
  F(messages_relayed, 0,
    "MESSAGEs outside a dialog relayed and answered 2xx by a target."),
  F(store_up, 1,
    "1 while the shard's connection to the registrar's Redis is "
    "up."),
  F(store_writes, 0, "AOR records written to the registrar's Redis."),
  F(store_failures, 0,
    "Connections to the registrar's Redis that failed or were lost, and its "
    "error answers."),
  F(responses_1xx, 0, "1xx responses sent, retransmissions not counted."),
  F(responses_2xx, 0, "2xx responses sent, retransmissions not counted."),
  F(responses_3xx, 0, "3xx responses sent, retransmissions not counted."),
  F(responses_4xx, 0, "4xx responses sent, retransmissions not counted."),
  F(responses_5xx, 0, "5xx responses sent, retransmissions not counted."),
  F(responses_6xx, 0, "6xx responses sent, retransmissions not counted."),
  M(invite, "INVITE"),
  M(ack, "ACK"),
  M(bye, "BYE"),
  M(cancel, "CANCEL"),
  M(options, "OPTIONS"),
  M(register, "REGISTER"),
  M(info, "INFO"),
  M(update, "UPDATE"),
  M(prack, "PRACK"),
  M(refer, "REFER"),
  M(notify, "NOTIFY"),
  M(subscribe, "SUBSCRIBE"),
  M(publish, "PUBLISH"),
  M(message, "MESSAGE"),
  M(other, "other"),
  F(cdrs, 0,
    "Call detail records made, one per call the routes took or "
    "refused."),
  F(cdrs_lost, 0,
    "Call detail records not written: a write failed, too many waited, or "
    "no memory."),
  /* In cay__stats_srd()'s order. */
  SRD(srd_le_50ms, "0.05"),
  SRD(srd_le_100ms, "0.1"),
  SRD(srd_le_250ms, "0.25"),
  SRD(srd_le_500ms, "0.5"),
  SRD(srd_le_1s, "1"),
  SRD(srd_le_2500ms, "2.5"),
  SRD(srd_le_5s, "5"),
  SRD(srd_le_10s, "10"),
  SRD(srd_ms_sum, NULL),
  SRD(srd_count, NULL),
  F(auth_challenges, 0,
    "Digest challenges sent: 401 to a REGISTER, 407 to a call a route "
    "authenticates."),
  F(auth_failures, 0,
    "Requests answered 403 for their credentials: an unknown user, a wrong "
    "password, another user's AOR or From."),
  F(auth_banned, 0,
    "Requests answered 403 at once: their source is banned for refused "
    "credentials (registrar.ban_after_failures)."),
  F(source_dropped, 0,
    "Requests dropped unanswered: their source sent too many "
    "(limits.source_requests)."),
  F(source_conns_closed, 0,
    "Connections closed because their source was blocked "
    "(limits.source_requests): open at the block, or accepted during it."),
  F(flows_failed, 0,
    "Registrar bindings whose flow failed: the connection they were "
    "registered over closed, or their UDP flow sent no keep-alive in time."),
  F(messages_stored, 0,
    "MESSAGEs kept for an AOR that was not registered "
    "(registrar.offline_messages)."),
  F(messages_delivered, 0,
    "Of those, sent to a contact the AOR registered later and answered 2xx."),
  F(messages_dropped, 0,
    "Of those, dropped: too old, refused by the recipient, or no route takes "
    "them any more."),
};
#undef F
#undef SRD
#undef SRD_HELP
#undef M

const unsigned cay__n_stat_fields
    = sizeof cay__stat_fields / sizeof cay__stat_fields[0];

/* Every member of cay_stats_t is in the table. */
_Static_assert(sizeof cay__stat_fields / sizeof cay__stat_fields[0]
                   == sizeof(cay_stats_t) / sizeof(uint64_t),
               "cay__stat_fields lacks a member of cay_stats_t");

void
cay__stats_sum(const cay_stats_t *shards, unsigned n, cay_stats_t *t)
{
  memset(t, 0, sizeof *t);
  for (unsigned i = 0; i < n; i++)
    for (unsigned k = 0; k < cay__n_stat_fields; k++)
      *cay__stat_at(t, &cay__stat_fields[k])
          += cay__stat_get(&shards[i], &cay__stat_fields[k]);
}

/* Shard @p from answered the gather in flight: keep its counters, and
 * with every shard in, end the gather and run each waiter's callback. */
static void
gather_answer(cay_server_t *srv, unsigned from, const cay_stats_t *st)
{
  cay_stats_t snap[CAY_MAX_SHARDS], total;
  unsigned n = srv->nshards, nwait = srv->gather_n;
  cay__gather_waiter_t wait[CAY__GATHER_WAITERS];

  if (nwait == 0 || srv->gather_in[from])
    return;
  srv->gather_in[from] = 1;
  srv->gather_stats[from] = *st;
  for (unsigned i = 0; i < n; i++)
    if (!srv->gather_in[i])
      return;
  /* Ended before the callbacks run: one may start the next gather, which
   * writes gather_stats, so the callbacks get a copy. */
  memcpy(wait, srv->gather_wait, nwait * sizeof wait[0]);
  memcpy(snap, srv->gather_stats, n * sizeof snap[0]);
  srv->gather_n = 0;
  cay__stats_sum(snap, n, &total);
  CAY_DEBUG(0, "live counters of %u shards gathered (%llu calls) for %u", n,
            (unsigned long long)total.calls_in, nwait);
  for (unsigned k = 0; k < nwait; k++)
    wait[k].cb(srv, snap, n, &total, wait[k].arg);
}

void
cay__server_on_stats(cay_server_t *srv, unsigned from, uint64_t seq,
                     const cay_stats_t *st)
{
  if (from >= srv->nshards || seq != srv->gather_seq)
    return;
  gather_answer(srv, from, st);
}

void
cay__server_gather_final(cay_server_t *srv, unsigned from)
{
  gather_answer(srv, from, &srv->shard_stats[from]);
}

int
cay_server_stats_gather(cay_server_t *srv, cay_server_stats_cb cb, void *arg)
{
  int err;

  if (!srv->started || srv->finished || cb == NULL)
    return CAY_ESTATE;
  if (srv->gather_n == CAY__GATHER_WAITERS)
    return CAY_ELIMIT;
  srv->gather_wait[srv->gather_n].cb = cb;
  srv->gather_wait[srv->gather_n].arg = arg;
  if (srv->gather_n++ > 0)
    return 0; /* joins the gather in flight */
  srv->gather_seq++;
  memset(srv->gather_in, 0, sizeof srv->gather_in);
  /* Shards 1..N-1 first: the gather cannot end before shard 0 is in, so
   * a failure leaves nothing half done (answers to a question already
   * sent carry a seq nobody waits for). */
  for (unsigned i = 1; i < srv->nshards; i++) {
    if (srv->final_in[i]) {
      gather_answer(srv, i, &srv->shard_stats[i]);
      continue;
    }
    err = cay__worker_post_ctl(srv->workers[i], MAIL_STATS_ASK, 0,
                               srv->gather_seq, NULL);
    /* CAY_ESTATE: it stopped after its FINAL went out; that answers. */
    if (err && err != CAY_ESTATE) {
      srv->gather_n = 0;
      return err;
    }
  }
  /* Shard 0 is this thread: its counters are read here, last, since with
   * one shard (or every other one stopped) that ends the gather. */
  gather_answer(srv, 0,
                srv->final_in[0] ? &srv->shard_stats[0]
                                 : &srv->workers[0]->shard.stats);
  return 0;
}

void
cay_server_stats(const cay_server_t *srv, cay_stats_t *out)
{
  /* Live counters belong to their shards (no shard reads another's
   * memory); before the close only shard 0's own are readable here. */
  if (srv->finished)
    *out = srv->totals;
  else
    *out = srv->workers[0]->shard.stats;
}

int
cay_server_shard_stats(const cay_server_t *srv, unsigned shard,
                       cay_stats_t *out)
{
  if (shard >= srv->nshards || !srv->finished)
    return shard >= srv->nshards ? -EINVAL : CAY_ESTATE;
  *out = srv->shard_stats[shard];
  return 0;
}

void
cay_stats_print(const cay_stats_t *st, FILE *f)
{
  for (unsigned k = 0; k < cay__n_stat_fields; k++)
    fprintf(f, "%s%s=%llu", k ? " " : "", cay__stat_fields[k].name,
            (unsigned long long)cay__stat_get(st, &cay__stat_fields[k]));
  fputc('\n', f);
}
