/*
 * UAS dialogs and INVITE sessions of one shard (RFC 3261 sections 12-15),
 * the transaction user of the shard's endpoint.
 *
 *   INVITE --> INCOMING --180 (after ring_ms)--> EARLY
 *                 |                                |
 *                 | CANCEL: 487           200 (after answer_after_ms),
 *                 v                       2xx retransmitted (13.3.1.4)
 *             TERMINATED <-- BYE: 200 --  ANSWERED
 *                 ^                        | ACK
 *                 |                        v
 *                 +--- BYE: 200 ------- CONFIRMED
 *                 |                        | max duration, hangup_after,
 *                 |                        | no ACK after 64*T1, drain
 *                 |                        v
 *                 +--- BYE final/408 -- TERMINATING (our BYE in flight;
 *                 +--- their BYE: 200 -- an incoming BYE ends it at once)
 *
 * The max-duration timeout and an incoming BYE are two events on one loop:
 * whichever runs first decides, the second sees the state it left
 * (DESIGN.md rule 6, OpenSIPS issue 3835).
 */
#ifndef CAY_DIALOG_SESSION_H
#define CAY_DIALOG_SESSION_H

#include "cay/cdr.h"
#include "cay/config.h"
#include "cay/session.h"
#include "core/hash.h"
#include "dialog/sdp.h"
#include "sip/txn.h"

/* The states are the public ones (cay/session.h); ANSWERED is the UAS's
 * CONNECTING: 2xx sent, no ACK yet. */
typedef cay_session_state_t cay__session_state_t;
/* The row of the lines_* tables for a sips Request-URI over TLS (after
 * the transports' rows, CAY__UDP..CAY__WSS). */
#define CAY__LINES_SIPS 5

#define CAY__SESSION_CALLING     CAY_SESSION_CALLING
#define CAY__SESSION_INCOMING    CAY_SESSION_INCOMING
#define CAY__SESSION_EARLY       CAY_SESSION_EARLY
#define CAY__SESSION_ANSWERED    CAY_SESSION_CONNECTING
#define CAY__SESSION_CONFIRMED   CAY_SESSION_CONFIRMED
#define CAY__SESSION_TERMINATING CAY_SESSION_TERMINATING
#define CAY__SESSION_TERMINATED  CAY_SESSION_TERMINATED

typedef struct cay__session cay__session_t;

/** Per-shard session layer. */
typedef struct cay__sessions {
  cay__endpoint_t *ep;
  cay__shard_t *shard;
  cay_config_t cfg; /* copy: timers, answer options, limits */
  const char *codec_names[CAY_CONFIG_MAX_CODECS];
  cay__sdp_opts_t sdp;
  char contact[96];       /* "<sip:cay@host:port>" */
  char contact_tls[112];  /* "<sip:cay@host:tlsport;transport=tls>" */
  char contact_sips[112]; /* "<sips:cay@host:tlsport>" (8.1.1.8) */
  char contact_ws[112];   /* "<sip:cay@host:wsport;transport=ws>" */
  char contact_wss[112];  /* "<sip:cay@host:wssport;transport=ws>" */
  /* RFC 5630 section 5.1.1: the Warning of a 480 to a SIPS request Cay
   * cannot forward over TLS (warn-code 380, RFC 3261 section 20.43). */
  char sips_not_allowed[112];
  /* Header lines of our 180 and 200, per transport (CAY__UDP .. CAY__WSS:
   * the Contact of a call over TCP says transport=tcp, RFC 3261 section
   * 19.1.1, over TLS transport=tls and the TLS port, over WebSocket
   * transport=ws, RFC 7118 section 5.4, and its port), and for a sips
   * Request-URI (CAY__LINES_SIPS: a sips Contact, 12.1.1). */
  char lines_180[CAY__LINES_SIPS + 1][176];
  char lines_200[CAY__LINES_SIPS + 1][240];
  char lines_200_bridged[CAY__LINES_SIPS + 1][256]; /* with
                                                       CAY_ALLOW_BRIDGED */
  /* Last offer and its answer: UAs send the same offer bytes call after
   * call, and only the o= session id (16 digits at answer_id_off) differs
   * between answers. Saves an SDP parse and print per call. */
  char *offer_cache;
  size_t offer_cache_len;
  char *answer_cache;
  size_t answer_cache_len;
  size_t answer_id_off;
  cay__htab_t dialogs;
  cay__htab_t merge; /* incoming sessions by Call-ID and From tag (8.2.2.2) */
  unsigned nshards;  /* for Call-IDs that hash to this shard (rule 2) */
  struct cay__routes *routes; /* compiled `routes:` (src/b2bua/route.h) */
  struct cay__dns *dns;       /* RFC 3263 for first requests to a host name;
                                 NULL: such requests fail with -EINVAL.
                                 Borrowed (the worker owns it) */
  unsigned bridges;           /* live B2BUA bridges */
  struct cay__registrar *reg; /* the bindings of this shard's AORs
                                 (src/registrar/registrar.h) */
  /* Their INFO, REFER or NOTIFY being reported now (info.c): its server
   * transaction, 0 outside the EV_INFO/EV_REQUEST callback, and whether
   * the callback answered or deferred it. */
  cay_id_t info_txn;
  int info_taken;
  /* A session whose Call-ID hashes to another shard (an INVITE with
   * Replaces handed here: server/alias.h) has begun (@p live 1) or ended
   * (0), for that shard to know where its messages go; NULL: nobody is
   * told (one shard). */
  void (*on_foreign)(void *arg, const char *call_id, int live);
  void *foreign_arg;
  struct cay__pager *pagers; /* MESSAGEs being relayed (b2bua/pager.h) */
  /* Those MESSAGEs, and the ones answered whose server transaction is
   * still Completed, by Call-ID, From tag and CSeq (RFC 3261 section
   * 8.2.2.2, b2bua/pager_merge.c), or NULL before the first. */
  struct cay__pager_merge *pager_merge;
  /* MESSAGEs kept for this shard's AORs while they are not registered
   * (b2bua/pager_store.c), or NULL before the first. */
  struct cay__pager_store *pager_store;
  /* Hand MESSAGE @p msg (@p len bytes, read from @p src) for AOR @p aor
   * to the store of shard @p to, its AOR's; the answer comes back by
   * cay__pager_store_answer(@p pager) on this shard. @return 0 or an
   * error (nothing handed). NULL (one shard): never needed. */
  int (*store_hand)(void *arg, unsigned to, cay_id_t pager, const char *aor,
                    const char *msg, size_t len, const cay__addr_t *src);
  void *store_arg;
  /* The MESSAGEs kept for AOR @p aor changed (cay__pager_store_record()
   * says what they are now): registrar.store writes them. NULL: none. */
  void (*store_msgs)(void *arg, const char *aor);
  void *store_msgs_arg;
  cay_incoming_cb on_incoming; /* the embedder answers, or NULL */
  void *incoming_arg;
  unsigned live;
  int draining;
  /* Every session is being ended by Cay (a drain or the end: a bridge's
   * record says shutdown). */
  int ending_all;
  /* Where a call's record goes when the call is over (b2bua/cdr.h: the
   * calls the routes took or refused; @p cdr and its strings are the
   * caller's, copied before return), or NULL: no records are made. */
  void (*cdr_sink)(void *arg, const cay_cdr_t *cdr);
  void *cdr_arg;
  void (*on_idle)(void *arg); /* called when live drops to 0 and no
                                 MESSAGE is being relayed, while
                                 draining */
  void *idle_arg;
} cay__sessions_t;

/**
 * Initialise the session layer on endpoint @p ep and register it as the
 * endpoint's TU.
 * @param cfg  Copied. Borrowed.
 * @return 0 or -ENOMEM.
 * @thread owner
 */
int cay__sessions_init(cay__sessions_t *ss, cay__endpoint_t *ep,
                       const cay_config_t *cfg);

/** Destroy every session at once, without signalling. @thread owner */
void cay__sessions_fini(cay__sessions_t *ss);

/**
 * Take a reloaded configuration (cay_server_reload()) for what comes
 * next: @p routes for new requests (a call already bridged keeps the
 * table it was routed by), and @p cfg as ss->cfg, read when a value is
 * needed (a ring time, a registrar limit, a ban) and for
 * limits.max_transactions at once. Values that only a restart changes
 * (listen, shards, answer.codecs, ...) must be the running ones in
 * @p cfg: cay_server_reload() puts them back before.
 *
 * @param routes  Compiled from @p cfg for this shard, or NULL for none
 *                (every INVITE answered). Moved.
 * @param cfg     Checked (cay_config_check()). Copied.
 * @thread owner
 */
void cay__sessions_reload(cay__sessions_t *ss, struct cay__routes *routes,
                          const cay_config_t *cfg);

/**
 * Start draining: new INVITEs (and MESSAGEs) get 503 with Retry-After;
 * sessions not yet answered get 480; answered ones are ended with BYE.
 * @p on_idle runs when no session is left and no MESSAGE is being
 * relayed (b2bua/pager.h: each waits for its target's answer), at once
 * if none is.
 * @thread owner
 */
void cay__sessions_drain(cay__sessions_t *ss, void (*on_idle)(void *arg),
                         void *arg);

/* While draining, call on_idle if nothing is left (no session, no
 * relay). Internal: session.c, layer.c, pager.c. */
void cay__sessions_maybe_idle(cay__sessions_t *ss);

/** Sessions in the table (any state). */
unsigned cay__sessions_live(const cay__sessions_t *ss);

/** Find a session by id, NULL when it is gone. Test and API helper. */
cay__session_t *cay__session_lookup(cay__sessions_t *ss, cay_id_t id);
cay__session_state_t cay__session_state(const cay__session_t *s);
/** First session of the table (tests), or NULL. */
cay__session_t *cay__sessions_any(cay__sessions_t *ss);
cay_id_t cay__session_id(const cay__session_t *s);

/**
 * Place an outgoing call from this shard: see cay_session_invite().
 * @return 0 with *out set, -EINVAL, -ENOMEM, CAY_ESTATE (draining), or the
 *         first send's error.
 * @thread owner
 */
int cay__session_invite(cay__sessions_t *ss, const char *uri, const char *from,
                        const char *sdp, cay_session_cb cb, void *arg,
                        cay__session_t **out);

/** An outgoing call with every option (cay__session_invite() is this with
 * the defaults). */
typedef struct cay__invite_opts {
  const char *uri;  /* Request-URI (an IP literal, or a name located by
                       RFC 3263 when ss->dns is set) */
  const char *from; /* From without tag */
  const char *sdp;  /* offer or NULL */
  cay_session_cb cb;
  void *arg;
  unsigned max_forwards;     /* Max-Forwards + 1, or 0 for 70 (16.6 item 3) */
  int bridged;               /* no max-duration timer of its own */
  unsigned no_response_ms;   /* give a target up after this long without any
                                response, as on timer B (0: timer B only) */
  int record;                /* a detail record of the call (one the
                                embedder placed, cay_session_invite()),
                                when the shard has a sink */
  const char *auth_username; /* credentials for a 401/407 challenge to the
                                INVITE (RFC 3261 section 22.2), or NULL */
  const char *auth_password;
  const char *headers;     /* "Name: value\r\n" lines every INVITE carries (a
                              bridge's pass_headers), or NULL; copied */
  const cay_route_t *pass; /* a route whose pass_headers of the provisional
                              and 2xx responses are reported (ev->headers of
                              EV_PROVISIONAL and EV_STATE), or NULL;
                              borrowed for the session's life */
  const cay__peer_t *flow; /* where every request of the dialog goes (a
                              registered contact's flow, RFC 5626 section
                              5.3: no DNS, no route set or Contact
                              consulted; with its .flow set, a TCP
                              connection that closed is not replaced), or
                              NULL; copied */
  const char *route;       /* without @c flow: a preloaded route set (RFC
                              3261 section 8.1.2, the Path of a binding,
                              RFC 3327), a Route header's value, that the
                              INVITE (and its CANCEL, 9.1) carries and is
                              sent by until a response makes the dialog's
                              own route set (12.1.2); or NULL; copied */
} cay__invite_opts_t;

/** @thread owner. Errors as cay__session_invite(). */
int cay__session_invite_opts(cay__sessions_t *ss, const cay__invite_opts_t *o,
                             cay__session_t **out);

/** See cay_session_hangup(). @thread owner */
int cay__session_hangup(cay__session_t *s);

/** cay__session_hangup() whose CANCEL, BYE or final response carries
 * header lines @p lines ("Name: value\r\n"..., copied; NULL: none): a
 * bridge's pass_headers of what ended the other leg (a Reason, RFC
 * 3326). @thread owner */
int cay__session_hangup_with(cay__session_t *s, const char *lines);

#endif
