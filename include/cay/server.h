/*
 * Cay server lifecycle.
 *
 * A server owns its shards (one for now). It runs either on the caller's
 * uv_loop_t (embedded) or on a loop it creates. All functions here run on
 * the thread of that loop unless they say otherwise.
 *
 *   cay_config_t cfg;
 *   cay_config_init(&cfg);
 *   cay_server_t *srv;
 *   int err = cay_server_create(&srv, loop, &cfg);
 *   if (!err) err = cay_server_start(srv);
 *   uv_run(loop, UV_RUN_DEFAULT);   // returns after cay_server_close()
 */
#ifndef CAY_SERVER_H
#define CAY_SERVER_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "config.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An id names an object (session, dialog, transaction) across time: shard
 * (8 bits), slot (24 bits), generation (32 bits). Looking up a stale id
 * gives NULL, never a dangling pointer. 0 is never a valid id.
 */
typedef uint64_t cay_id_t;
#define CAY_ID_NONE ((cay_id_t)0)

typedef struct cay_server cay_server_t;

/** Counters of one shard, or totals. All counts since start. */
typedef struct cay_stats {
  uint64_t msgs_in;        /* datagrams received */
  uint64_t msgs_out;       /* datagrams sent, retransmissions included */
  uint64_t retransmits;    /* of those, retransmissions */
  uint64_t parse_errors;   /* datagrams that did not parse or validate */
  uint64_t bad_requests;   /* of those, answered with 400 */
  uint64_t dropped;        /* not handled: did not parse and could not be
                              answered, or read for a shard whose mailbox
                              was full (limits.mailbox_messages) or closed */
  uint64_t calls_in;       /* initial INVITEs received */
  uint64_t calls_answered; /* initial INVITEs answered with 2xx */
  uint64_t calls_rejected; /* initial INVITEs answered with >= 300 */
  uint64_t calls_out;      /* initial INVITEs sent (embedder's calls, B legs) */
  uint64_t calls_out_answered; /* of those, answered with 2xx */
  uint64_t calls_out_failed;   /* of those, failed (>= 300, timeout, error) */
  uint64_t byes_sent;          /* BYEs sent by Cay */
  uint64_t dialogs_live;       /* gauge: dialogs now */
  uint64_t txns_live;          /* gauge: transactions now */
  uint64_t send_errors;        /* sends that the transport refused */
  uint64_t handed_over;        /* messages read here for another shard and
                                  posted to it (DESIGN.md section 3, step 3) */
  uint64_t dns_lookups;        /* RFC 3263 questions put to DNS: a NAPTR or SRV
                                  query, or a name's addresses (/etc/hosts, else
                                  A and AAAA) */
  uint64_t dns_cache_hits;     /* questions answered without one: from the
                                  shard's DNS cache (dns.cache_entries), or
                                  by the same question in flight for
                                  another call */
  uint64_t overload_rejected;  /* new requests answered 503 for overload:
                                  above limits.max_transactions, or new
                                  INVITEs read from a UDP receive queue
                                  over limits.udp_overload_percent */
  uint64_t udp_drops;          /* datagrams the kernel dropped because a
                                  UDP receive queue of the shard was full
                                  (SO_MEMINFO), as of the last report */
  uint64_t registers;          /* REGISTERs answered 2xx (RFC 3261 10.3) */
  uint64_t registers_refused;  /* REGISTERs answered >= 300 by the
                                  registrar, not counting 401 challenges */
  uint64_t bindings_live;      /* gauge: registrar bindings now */
  uint64_t keepalives;         /* STUN Binding requests answered on a
                                  UDP SIP port (RFC 5626 section 8) */
  uint64_t messages_in;        /* MESSAGEs outside a dialog received
                                  (RFC 3428) */
  uint64_t messages_relayed;   /* of those, relayed by a forward route and
                                  answered 2xx by a target */
  uint64_t store_up;           /* gauge: 1 while the shard's connection to
                                  registrar.store's Redis is up, else 0 */
  uint64_t store_writes;       /* AOR records written to registrar.store
                                  (SET, or DEL for an AOR left without
                                  bindings) */
  uint64_t store_failures;     /* registrar.store connections that failed or
                                  were lost, and error answers from Redis */
  uint64_t responses_1xx;      /* responses Cay sent, by class: first sends
                                  of server transactions' responses and of
                                  stateless ones; retransmissions (in
                                  `retransmits`) not counted */
  uint64_t responses_2xx;
  uint64_t responses_3xx;
  uint64_t responses_4xx;
  uint64_t responses_5xx;
  uint64_t responses_6xx;
  uint64_t requests_invite; /* requests received, by method: each one
                               that parsed and passed the checks of RFC
                               3261 section 8.2 (a 400 is counted in
                               `bad_requests` instead); retransmissions
                               counted again, as in `msgs_in` */
  uint64_t requests_ack;
  uint64_t requests_bye;
  uint64_t requests_cancel;
  uint64_t requests_options;
  uint64_t requests_register;
  uint64_t requests_info;
  uint64_t requests_update;
  uint64_t requests_prack;
  uint64_t requests_refer;
  uint64_t requests_notify;
  uint64_t requests_subscribe;
  uint64_t requests_publish;
  uint64_t requests_message;
  uint64_t requests_other; /* any other method (an extension method
                              Cay answers 405 or 501) */
  uint64_t cdrs;           /* call detail records made (cdr.file,
                              cay_server_on_cdr()): one per call the
                              routes took or refused, or the embedder
                              answered or placed, when it is over */
  uint64_t cdrs_lost;      /* records not written: the file refused a
                              write, or more than 4 MiB waited for it,
                              or no memory */
  /* Session request delay of bridged calls (RFC 6076 section 4.2.1):
   * from the caller's INVITE to the first response above 100 Cay sent
   * it (a provisional, or the 2xx), once per call a B leg was placed
   * for; a call that failed before either is not counted. A histogram:
   * srd_le_X counts the calls within X (cumulative), srd_count all of
   * them, srd_ms_sum their delays added up (ms). */
  uint64_t srd_le_50ms;
  uint64_t srd_le_100ms;
  uint64_t srd_le_250ms;
  uint64_t srd_le_500ms;
  uint64_t srd_le_1s;
  uint64_t srd_le_2500ms;
  uint64_t srd_le_5s;
  uint64_t srd_le_10s;
  uint64_t srd_ms_sum;
  uint64_t srd_count;
  uint64_t auth_challenges; /* digest challenges sent (RFC 3261 section
                               22): 401 to a REGISTER, 407 to a call a
                               route authenticates; stale ones too */
  uint64_t auth_failures;   /* requests answered 403 for their
                               credentials: an unknown user, a wrong
                               password, or another user's AOR or From
                               (a count that climbs: someone guessing
                               passwords; the log names the source) */
  uint64_t auth_banned;     /* requests answered 403 at once, their
                               source banned for refused credentials
                               (registrar.ban_after_failures) */
  uint64_t source_dropped;  /* requests dropped unanswered: their source
                               sent too many (limits.source_requests) */
  /* TCP, TLS and WebSocket connections closed because their source was
   * blocked (limits.source_requests): those open when the block began,
   * and those accepted while it lasts. */
  uint64_t source_conns_closed;
  /* Registrar bindings whose flow failed (RFC 5626 section 7): the TCP,
   * TLS or WebSocket connection they were registered over closed, or
   * their UDP flow sent no keep-alive for its Flow-Timer plus 8 s
   * (registrar.flow_timer_s, section 4.4.1). Each was removed, or its
   * calls go to its contact from then on. */
  uint64_t flows_failed;
  /* MESSAGEs kept for an AOR not registered (registrar.offline_messages,
   * counted by the AOR's shard), of those sent to a contact of its and
   * answered 2xx, and dropped: not delivered within
   * registrar.offline_message_s, refused by the recipient (a final
   * response other than 2xx, 408, 480 or 5xx), or no forward route with
   * location takes it any more. */
  uint64_t messages_stored;
  uint64_t messages_delivered;
  uint64_t messages_dropped;
} cay_stats_t;

typedef void (*cay_server_close_cb)(cay_server_t *srv, void *arg);

/**
 * Create a server with a copy of @p cfg and bind its listen addresses.
 * cfg->log_level becomes the level of Cay's log lines (stderr), for the
 * whole process.
 *
 * @param out   Receives the server. Returned (caller owns; free with
 *              cay_server_close()).
 * @param loop  Loop to run on, or NULL: Cay then creates its own loop, run
 *              by cay_server_run(). Borrowed; must outlive the server.
 * @param cfg   Configuration; copied. Borrowed.
 * @return 0, CAY_ECONFIG (cfg fails cay_config_check()), -ENOMEM, or the
 *         libuv error of a failed bind (UV_EADDRINUSE, UV_EADDRNOTAVAIL).
 * @thread setup
 */
int cay_server_create(cay_server_t **out, uv_loop_t *loop,
                      const cay_config_t *cfg);

/**
 * Start reading from the listen sockets and answering requests.
 *
 * @return 0, or CAY_ESTATE (already started or closing), or a libuv error.
 * @thread setup
 */
int cay_server_start(cay_server_t *srv);

/**
 * Run Cay's own loop until the server has closed (only for a server created
 * with loop NULL).
 *
 * @return 0, or CAY_ESTATE (server runs on the caller's loop).
 * @thread setup
 */
int cay_server_run(cay_server_t *srv);

/**
 * Drain, then close: new INVITEs get 503 with Retry-After, every live
 * dialog is ended with BYE, and Cay waits (at most @p grace_ms) for the
 * transactions in flight. Then every handle is closed and @p cb runs, after
 * which the server memory is freed. Calling it twice is a no-op.
 *
 * @param grace_ms  Upper bound of the drain, in ms (0: close at once).
 * @param cb        Called once after every handle is closed, or NULL.
 * @param arg       Passed to @p cb. Borrowed.
 * @thread owner (the loop's thread)
 */
void cay_server_close(cay_server_t *srv, uint64_t grace_ms,
                      cay_server_close_cb cb, void *arg);

/**
 * Take a new configuration while the server runs, without dropping a
 * call: what an operator's SIGHUP does to `cay`.
 *
 * Taken by every shard, on its own thread, for what comes next:
 * - `routes:` for new requests. A call routed before keeps its route (its
 *   codecs, ring and max duration) until it ends.
 * - answer.ring_ms, answer_after_ms, hangup_after_ms,
 *   dialog.max_duration_s and session_timers.expires_s / min_se_s, for
 *   calls and requests from then on.
 * - limits.max_transactions, limits.udp_overload_percent and
 *   limits.tcp_overload_kib.
 * - tls: (when the server listens on TLS): the files are read again, a
 *   certificate renewed in place included, for new connections; live
 *   ones keep their sessions (RFC 3261 section 26.2).
 * Every other value (listen, shards, udp_steering, timers, the other
 * limits, answer.codecs and media_ip, dns) takes effect only at a
 * restart: each one that differs is logged as a warning and the running
 * value is kept. log.level is applied at once; like at
 * cay_server_create(), it is the level of the whole process (of every
 * server in it).
 *
 * All shards take the reload or none does: every route table is compiled
 * and the TLS files have loaded before any shard is told.
 *
 * @param cfg     The new configuration (cay_config_init(), then
 *                cay_config_load() and the program's own overrides).
 *                Borrowed; copied.
 * @param err     Buffer for what is wrong ("routes[2].match.ruri_user:
 *                ..."), or NULL. Borrowed.
 * @param errlen  Size of @p err in bytes.
 * @return 0; CAY_ECONFIG (@p cfg fails cay_config_check(), a route
 *         does not compile, or the TLS files do not load), -ENOMEM, or
 *         CAY_ESTATE (not started, or
 *         closing). On error nothing has changed.
 * @thread owner (shard 0's loop)
 */
int cay_server_reload(cay_server_t *srv, const cay_config_t *cfg, char *err,
                      size_t errlen);

/**
 * Read the counters: the totals over every shard once the server has
 * closed (in the close callback); before that, with one shard its live
 * counters, with several only shard 0's (the others' belong to their
 * threads; cay_server_stats_gather() asks them).
 *
 * @param out  Receives the counters. Borrowed.
 * @thread owner (shard 0's loop)
 */
void cay_server_stats(const cay_server_t *srv, cay_stats_t *out);

/**
 * Called once per cay_server_stats_gather() with every shard's counters.
 *
 * @param shards   Counters of shard 0 .. @p nshards - 1, as each shard read
 *                 its own when the question reached it (a shard that had
 *                 already stopped: its final counters). Valid only during
 *                 the call.
 * @param nshards  cay_server_shards().
 * @param total    The sum over @p shards. Valid only during the call.
 * @thread owner (shard 0's loop)
 */
typedef void (*cay_server_stats_cb)(cay_server_t *srv,
                                    const cay_stats_t *shards, unsigned nshards,
                                    const cay_stats_t *total, void *arg);

/**
 * Gather the live counters of every shard while the server runs (also
 * during the drain). Shard 0 asks each shard by message; each answers
 * with its own counters, read on its own thread; @p cb runs on shard 0's
 * loop once all have answered, at the latest before the close callback
 * (a shard that stops meanwhile answers with its final counters). The
 * counters are each shard's at the moment it answered, not one instant
 * across shards. With one shard @p cb runs before this returns.
 *
 * A call while a gather is in flight (another caller's: SIGUSR1, the
 * metrics endpoint, an embedder) joins it: @p cb runs, after the earlier
 * callers', with that gather's counters.
 *
 * @param cb   Called exactly once, unless an error is returned.
 * @param arg  Passed to @p cb. Borrowed.
 * @return 0; CAY_ESTATE (not started or closed, or @p cb NULL);
 *         CAY_ELIMIT (8 callers already wait on the gather in flight);
 *         -ENOMEM (no question was sent).
 * @thread owner (shard 0's loop)
 */
int cay_server_stats_gather(cay_server_t *srv, cay_server_stats_cb cb,
                            void *arg);

/**
 * Number of shards the server runs (config `shards`, `auto` resolved).
 * @thread any
 */
unsigned cay_server_shards(const cay_server_t *srv);

/**
 * Final counters of one shard, available in the close callback (each shard
 * reports them by message when it stops; no shard reads another's memory).
 *
 * @param shard  0 .. cay_server_shards() - 1.
 * @param out    Receives the counters. Borrowed.
 * @return 0, -EINVAL (no such shard), CAY_ESTATE (not closed yet).
 * @thread owner (shard 0's loop)
 */
int cay_server_shard_stats(const cay_server_t *srv, unsigned shard,
                           cay_stats_t *out);

/**
 * Write the counters as one line of `key=value` pairs (no newline
 * inside, one at the end).
 *
 * @param f  Stream to write to. Borrowed.
 * @thread any
 */
void cay_stats_print(const cay_stats_t *st, FILE *f);

/**
 * The address a listen socket is bound to, as "udp:HOST:PORT" (useful with
 * port 0).
 *
 * @param index  Index into the configured listen list.
 * @param buf    Receives the NUL-terminated text. Borrowed.
 * @return 0, -EINVAL (no such index), -ENOSPC (@p len too small).
 * @thread owner
 */
int cay_server_listen_addr(const cay_server_t *srv, unsigned index, char *buf,
                           size_t len);

#ifdef __cplusplus
}
#endif
#endif
