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
 *   meanwhile, its FINAL answers) -> with every shard in: the callback.
 *
 * One gather is in flight at a time (gather_cb set). Each has a sequence
 * number; an answer with an older one belongs to a gather that was given
 * up (a question that could not be sent) and is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/log.h"
#include "server/server_int.h"

void
cay__stats_sum(const cay_stats_t *shards, unsigned n, cay_stats_t *t)
{
  memset(t, 0, sizeof *t);
  for (unsigned i = 0; i < n; i++) {
    const cay_stats_t *s = &shards[i];
    t->msgs_in += s->msgs_in;
    t->msgs_out += s->msgs_out;
    t->retransmits += s->retransmits;
    t->parse_errors += s->parse_errors;
    t->bad_requests += s->bad_requests;
    t->dropped += s->dropped;
    t->calls_in += s->calls_in;
    t->calls_answered += s->calls_answered;
    t->calls_rejected += s->calls_rejected;
    t->calls_out += s->calls_out;
    t->calls_out_answered += s->calls_out_answered;
    t->calls_out_failed += s->calls_out_failed;
    t->byes_sent += s->byes_sent;
    t->dialogs_live += s->dialogs_live;
    t->txns_live += s->txns_live;
    t->send_errors += s->send_errors;
    t->handed_over += s->handed_over;
    t->dns_lookups += s->dns_lookups;
    t->dns_cache_hits += s->dns_cache_hits;
    t->overload_rejected += s->overload_rejected;
    t->udp_drops += s->udp_drops;
    t->registers += s->registers;
    t->registers_refused += s->registers_refused;
    t->bindings_live += s->bindings_live;
    t->keepalives += s->keepalives;
    t->messages_in += s->messages_in;
    t->messages_relayed += s->messages_relayed;
  }
}

/* Shard @p from answered the gather in flight: keep its counters, and
 * with every shard in, end the gather and run the callback. */
static void
gather_answer(cay_server_t *srv, unsigned from, const cay_stats_t *st)
{
  cay_server_stats_cb cb;
  cay_stats_t total;
  void *arg;

  if (srv->gather_cb == NULL || srv->gather_in[from])
    return;
  srv->gather_in[from] = 1;
  srv->gather_stats[from] = *st;
  for (unsigned i = 0; i < srv->nshards; i++)
    if (!srv->gather_in[i])
      return;
  /* Ended before the callback runs: it may start the next gather. */
  cb = srv->gather_cb;
  arg = srv->gather_arg;
  srv->gather_cb = NULL;
  cay__stats_sum(srv->gather_stats, srv->nshards, &total);
  CAY_DEBUG(0, "live counters of %u shards gathered (%llu calls)", srv->nshards,
            (unsigned long long)total.calls_in);
  cb(srv, srv->gather_stats, srv->nshards, &total, arg);
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

  if (!srv->started || srv->finished || srv->gather_cb != NULL || cb == NULL)
    return CAY_ESTATE;
  srv->gather_seq++;
  srv->gather_cb = cb;
  srv->gather_arg = arg;
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
      srv->gather_cb = NULL;
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
  fprintf(
      f,
      "msgs_in=%llu msgs_out=%llu retransmits=%llu parse_errors=%llu "
      "bad_requests=%llu dropped=%llu calls_in=%llu calls_answered=%llu "
      "calls_rejected=%llu calls_out=%llu calls_out_answered=%llu "
      "calls_out_failed=%llu byes_sent=%llu dialogs_live=%llu "
      "txns_live=%llu send_errors=%llu handed_over=%llu dns_lookups=%llu "
      "dns_cache_hits=%llu overload_rejected=%llu udp_drops=%llu "
      "registers=%llu registers_refused=%llu bindings_live=%llu "
      "keepalives=%llu messages_in=%llu messages_relayed=%llu\n",
      (unsigned long long)st->msgs_in, (unsigned long long)st->msgs_out,
      (unsigned long long)st->retransmits, (unsigned long long)st->parse_errors,
      (unsigned long long)st->bad_requests, (unsigned long long)st->dropped,
      (unsigned long long)st->calls_in, (unsigned long long)st->calls_answered,
      (unsigned long long)st->calls_rejected, (unsigned long long)st->calls_out,
      (unsigned long long)st->calls_out_answered,
      (unsigned long long)st->calls_out_failed,
      (unsigned long long)st->byes_sent, (unsigned long long)st->dialogs_live,
      (unsigned long long)st->txns_live, (unsigned long long)st->send_errors,
      (unsigned long long)st->handed_over, (unsigned long long)st->dns_lookups,
      (unsigned long long)st->dns_cache_hits,
      (unsigned long long)st->overload_rejected,
      (unsigned long long)st->udp_drops, (unsigned long long)st->registers,
      (unsigned long long)st->registers_refused,
      (unsigned long long)st->bindings_live, (unsigned long long)st->keepalives,
      (unsigned long long)st->messages_in,
      (unsigned long long)st->messages_relayed);
}
