/* Private to the server layer (src/server/). */
#ifndef CAY_SERVER_SERVER_INT_H
#define CAY_SERVER_SERVER_INT_H

#include "cay/cdr.h"
#include "cay/server.h"
#include "dialog/session.h"
#include "registrar/registrar.h"
#include "server/alias.h"
#include "shard/mailbox.h"
#include "shard/shard.h"
#include "sip/txn.h"
#include "supp/supp.h"
#include "transport/tcp.h"
#include "transport/udp.h"

#define CAY_MAX_SHARDS 64

/* How many cay_server_stats_gather() callers may wait on one gather. */
#define CAY__GATHER_WAITERS 8

/* One cay_server_stats_gather() caller waiting for the counters. */
typedef struct cay__gather_waiter {
  cay_server_stats_cb cb;
  void *arg;
} cay__gather_waiter_t;

/* What shards say to each other (DESIGN.md rule 3). */
enum {
  MAIL_RECV = 1,    /* a message read by another shard, for its owner */
  MAIL_TCP_WRITE,   /* bytes for a connection the target shard owns */
  MAIL_DRAIN,       /* shard 0 -> all: start draining */
  MAIL_DRAINED,     /* all -> shard 0: my sessions are gone */
  MAIL_EXIT,        /* shard 0 -> all: stop reading, report, close */
  MAIL_FINAL,       /* all -> shard 0: my final counters */
  MAIL_STATS_ASK,   /* shard 0 -> 1..N-1: your live counters, please */
  MAIL_STATS,       /* 1..N-1 -> shard 0: my live counters */
  MAIL_TCP_FAILED,  /* a connection to peer failed: your transactions too */
  MAIL_TARGET,      /* one -> the others: what its resolver learnt (dns.h) */
  MAIL_RELOAD,      /* shard 0 -> 1..N-1: a reloaded configuration */
  MAIL_ALIAS,       /* -> a Call-ID's home shard: who owns its dialogs */
  MAIL_BINDING,     /* an AOR's owner -> the others: a binding changed */
  MAIL_BAN,         /* one -> the others: a source banned (auth) */
  MAIL_BLOCK,       /* one -> the others: a flooding source blocked */
  MAIL_FLOW_CLOSED, /* a connection's owner -> the others: it closed; or
                       a UDP flow's AOR's shard: it fell silent */
  MAIL_KEEPALIVE,   /* one -> an AOR's owner: its UA's UDP keep-alive */
  MAIL_STORE,       /* a MESSAGE's shard -> its AOR's: keep it */
  MAIL_STORED       /* the AOR's shard -> the MESSAGE's: kept, or not */
};

typedef struct mail_bytes {
  cay__mail_t m;
  cay__peer_t peer; /* MAIL_RECV: the source; MAIL_TCP_WRITE: the target;
                       MAIL_TCP_FAILED: where the connection went;
                       MAIL_FLOW_CLOSED: the connection that closed, or
                       the UDP flow that fell silent;
                       MAIL_KEEPALIVE: the keep-alive's source;
                       MAIL_BAN, MAIL_BLOCK: the source banned or
                       blocked, data for how long in ms (a uint64_t) */
  int backlogged;   /* MAIL_RECV: read from a backlogged TCP connection
                       (the owner refuses it if a new INVITE) */
  int handed;       /* MAIL_RECV: handed on by an alias or for a Replaces
                       (worker_alias.c): the receiver's aliases of its
                       Call-ID are not asked again */
  size_t len;
  char data[];
} mail_bytes_t;

typedef struct mail_ctl {
  cay__mail_t m;
  unsigned from;
  uint64_t seq;      /* MAIL_STATS_ASK, MAIL_STATS: the gather */
  cay_stats_t stats; /* MAIL_FINAL, MAIL_STATS */
} mail_ctl_t;

typedef struct mail_target {
  cay__mail_t m;
  unsigned from;
  cay__addr_t addr; /* a target that failed or answers again */
  unsigned for_s;   /* how long it goes last; 0 = it answers again */
} mail_target_t;

typedef struct mail_reload {
  cay__mail_t m;
  struct cay__routes *routes; /* compiled for the target shard, or NULL */
  cay__tls_ctx_t *tls;        /* a reference to the new TLS context, or
                                 NULL (no TLS transport) */
  cay_config_t cfg;           /* checked, the running values of what a
                                 reload cannot change put back: the
                                 shard's whole configuration from now
                                 (cay__worker_reload()) */
} mail_reload_t;

/* A registrar binding of the sender's changed (registrar.h): the others'
 * copies follow. */
typedef struct mail_binding {
  cay__mail_t m;
  int q;               /* thousandths, -1: none */
  uint64_t expires_ms; /* from when it was sent; 0: removed */
  int by_flow;         /* calls go to flow (cay__binding_change_t) */
  cay__peer_t flow;
  unsigned keepalive_s; /* cay__binding_change_t.keepalive_s */
  size_t aor_len;
  char text[]; /* the AOR, NUL, the contact URI, NUL, the Path values
                  (RFC 3327; "" for none), NUL */
} mail_binding_t;

/* A MESSAGE for an AOR not registered (b2bua/pager.h): MAIL_STORE to the
 * AOR's shard; MAIL_STORED its answer (err) back to relay `pager`. */
typedef struct mail_store {
  cay__mail_t m;
  unsigned from;
  cay_id_t pager;  /* the relay on shard `from` */
  int err;         /* MAIL_STORED: cay__pager_store_put()'s result */
  cay__addr_t src; /* MAIL_STORE: where the MESSAGE came from */
  size_t aor_len, len;
  char data[]; /* MAIL_STORE: the AOR, NUL, the MESSAGE (len bytes) */
} mail_store_t;

/* What the owner of a dialog, or a shard on the way to it, tells the home
 * shard of the dialog's Call-ID (server/alias.h). */
enum {
  ALIAS_GUESS = 1, /* handed to `shard` on the way: an alias not held */
  ALIAS_HELD,      /* `from` has a session of the Call-ID */
  ALIAS_RELEASED   /* `from`'s session of the Call-ID has ended */
};

typedef struct mail_alias {
  cay__mail_t m;
  unsigned from;
  unsigned shard; /* ALIAS_GUESS: the shard the dialog was handed to */
  int what;       /* ALIAS_* */
  size_t len;
  char cid[]; /* the Call-ID, len bytes, no NUL */
} mail_alias_t;

/* One shard: its runtime, SIP layers, mailbox and sockets. */
typedef struct cay__worker {
  cay_server_t *srv;
  unsigned index;
  uv_loop_t own_loop; /* shards 1..N-1 */
  uv_loop_t *loop;
  uv_thread_t thread;
  int has_thread;
  cay__shard_t shard;
  cay__endpoint_t ep;
  cay__sessions_t ss;
  cay__mailbox_t mb;
  cay__udp_t *udp[CAY_CONFIG_MAX_LISTEN];
  cay__addr_t udp_addr[CAY_CONFIG_MAX_LISTEN];
  unsigned n_udp;
  cay__tcp_t *tcp[CAY_CONFIG_MAX_LISTEN];
  cay__addr_t tcp_addr[CAY_CONFIG_MAX_LISTEN];
  unsigned n_tcp;
  struct cay__dns *dns;         /* RFC 3263 resolver of this shard, or NULL */
  struct cay__reg_store *store; /* registrar.store's connection, or NULL */
  struct cay__cdr_file *cdr;    /* cdr.file, or NULL */
  struct cay__ban *flood;       /* limits.source_requests' sources, made at
                                   first use (worker_flood.c), or NULL */
  int flood_no_memory;          /* making it failed: logged once */
  uv_timer_t grace;
  cay__timer_t tls_recheck; /* shard 0 with TLS: cay__tls_recheck_ms */
  uint64_t full_warn_next;  /* shard clock: the next "mailbox full" line */
  uint64_t full_drops;      /* dropped for full mailboxes since that line */
  cay__aliases_t aliases;   /* Call-IDs of this shard owned elsewhere */
  int shard_up, mb_open, grace_open, layers_up;
  int draining, drained, exiting;
  unsigned open_handles;
} cay__worker_t;

struct cay_server {
  uv_loop_t *loop; /* shard 0's loop: the caller's, or own_loop */
  uv_loop_t own_loop;
  int owns_loop;
  /* As started. Every shard reads the values only a restart changes
   * (limits.mailbox_messages, registrar.store, listen) from here without
   * a lock, so a reload never writes them; it writes only the tls: file
   * names (read again on shard 0's thread only, on_tls_recheck()). The
   * values a shard runs with are its own ss.cfg. */
  cay_config_t cfg;
  unsigned nshards;
  cay__worker_t *workers[CAY_MAX_SHARDS];
  int started, closing, finished;
  uint64_t grace_ms;
  cay__supps_t supps;          /* frozen at start; every shard reads it */
  cay__tls_ctx_t *tls;         /* made before the shards, freed after
                                  them; NULL without a tls listen */
  cay_incoming_cb on_incoming; /* set before start; read by every shard */
  int store_load_failed;       /* set at create, read-only afterwards */
  void *incoming_arg;
  cay_cdr_cb on_cdr; /* set before start; read by every shard */
  void *cdr_arg;
  /* Shard 0 only, during the close. */
  unsigned drained, finals;
  cay_stats_t shard_stats[CAY_MAX_SHARDS];
  unsigned char final_in[CAY_MAX_SHARDS];
  cay_stats_t totals;
  cay_server_close_cb close_cb;
  void *close_arg;
  /* Shard 0 only: the live gather (cay_server_stats_gather()), in flight
   * while someone waits on it. An answer with another seq is of a gather
   * given up. */
  uint64_t gather_seq;
  unsigned char gather_in[CAY_MAX_SHARDS]; /* answered, by shard */
  cay_stats_t gather_stats[CAY_MAX_SHARDS];
  cay__gather_waiter_t gather_wait[CAY__GATHER_WAITERS]; /* in call order */
  unsigned gather_n;            /* a gather is in flight while > 0 */
  struct cay__metrics *metrics; /* metrics.listen's, or NULL */
};

/* worker_setup.c (setup and teardown) */
int cay__worker_create(cay_server_t *srv, unsigned index, uv_loop_t *loop,
                       cay__worker_t **out);
/* worker_send.c: the endpoint's send function (cay__send_fn, @p arg the
 * worker): UDP, or TCP and TLS through the connection's shard. */
int cay__worker_send(void *arg, const cay__peer_t *dst, const char *data,
                     size_t len);
/* worker_send.c: bytes for @p dst over a stream from this shard, on its
 * connection while that lives, else on a live or new one to the address,
 * except for a flow or a WebSocket (CAY_ECONNECT). */
int cay__worker_send_stream(cay__worker_t *w, const cay__peer_t *dst,
                            const char *data, size_t len);
/* How many days before its end a certificate is logged as expiring. */
#define CAY__CERT_WARN_DAYS 14

/* How many hours before a CRL's nextUpdate it is logged as running out. */
#define CAY__CRL_WARN_HOURS 48

/* How often shard 0 looks at the certificate's and the CRLs' ends again
 * (ms; a day; tests lower it): a server that runs for months without a
 * reload warns in time. */
extern uint64_t cay__tls_recheck_ms;

/* Log when @p ctx's certificate (file @p path) stops being valid, seen
 * at @p now (seconds since 1970): a warning when that is past or within
 * CAY__CERT_WARN_DAYS, else (not @p only_warnings) an info line (server.c;
 * at start, at each reload, and each cay__tls_recheck_ms). */
void cay__server_log_certificate(const cay__tls_ctx_t *ctx, const char *path,
                                 long long now, int only_warnings);
/* The same for the earliest nextUpdate of @p ctx's CRLs (file @p path;
 * none: nothing), warning within CAY__CRL_WARN_HOURS. */
void cay__server_log_crl(const cay__tls_ctx_t *ctx, const char *path,
                         long long now, int only_warnings);
/* Both, for @p cfg's tls.certificate and tls.crl_file, seen now. */
void cay__server_log_tls(const cay__tls_ctx_t *ctx, const cay_config_t *cfg,
                         int only_warnings);

/* The endpoint and session layer, once the sockets are bound;
 * @p sent_by: the Via sent-by per transport (CAY__UDP's for UDP and TCP,
 * CAY__TLS, CAY__WS, CAY__WSS; "" for a transport without a listen
 * address). */
int cay__worker_layers_init(cay__worker_t *w,
                            const char sent_by[CAY__WSS + 1][80]);
int cay__worker_start(cay__worker_t *w);
/* dns.servers as c-ares takes them ("IP:PORT,[v6]:PORT", "" for the
 * system's), into @p csv of @p size bytes (CAY__DNS_CSV_LEN is enough):
 * 0, or CAY_ECONFIG (an address cay_config_check() would refuse).
 * @thread any */
#define CAY__DNS_CSV_LEN (CAY_CONFIG_MAX_DNS * 56)
int cay__dns_servers_csv(const cay_config_t *c, char *csv, size_t size);
/* Close a worker that never ran (failed create): runs its loop until every
 * handle is closed, then frees it. */
void cay__worker_abort(cay__worker_t *w);
/* Post a control message; 0, -ENOMEM or the mailbox's CAY_ESTATE (the
 * shard has closed its mailbox). Failures are logged. */
int cay__worker_post_ctl(cay__worker_t *to, int kind, unsigned from,
                         uint64_t seq, const cay_stats_t *stats);
int cay__worker_bind(cay_server_t *srv, cay__worker_t *w);
/* Give WebSocket transport @p tcp (any other: nothing) @p cfg's
 * websocket.origins (cay__tcp_set_origins()). @thread the worker's */
void cay__worker_set_origins(cay__worker_t *w, cay__tcp_t *tcp,
                             const cay_config_t *cfg);
/* Take a reloaded configuration on @p w's own thread: limits.
 * udp_overload_percent for its UDP sockets, @p tls (a reference, or
 * NULL) for new TLS connections, cdr.file (opened anew), the rest as
 * cay__sessions_reload(). @p routes (compiled for @p w, or NULL) and the
 * reference are moved; a shard that has stopped drops them. */
void cay__worker_reload(cay__worker_t *w, struct cay__routes *routes,
                        cay__tls_ctx_t *tls, const cay_config_t *cfg);
/* server_reload.c: @p w's records go to @p path (cdr.file): the file
 * opened (at start, or when a reload names one), opened anew (a reload,
 * for rotation; a failure keeps the old one), or closed ("" after one):
 * 0, or cay__cdr_file_open()'s error (logged). @thread the worker's, or
 * the creating one before it runs */
int cay__worker_cdr_open(cay__worker_t *w, const char *path);
/* server_reload.c: @p w's sessions hand their records to cdr.file's
 * writer and the embedder's cay_server_on_cdr() callback, or to no one
 * when neither is there. @thread as cay__worker_cdr_open() */
void cay__worker_cdr_sink(cay__worker_t *w);
void cay__worker_free(cay__worker_t *w);

/* A message read here for shard @p to (MAIL_RECV: bounded by
 * limits.mailbox_messages; @p handed: by an alias or for a Replaces) or
 * bytes for its connection (MAIL_TCP_WRITE, MAIL_TCP_FAILED). 0,
 * -ENOMEM, or the mailbox's CAY_ELIMIT / CAY_ESTATE. */
int cay__worker_post_bytes(cay__worker_t *to, int kind, const cay__peer_t *peer,
                           const char *data, size_t len, int from_backlog,
                           int handed);
/* worker.c: what a running shard does, as worker_setup.c wires it: a
 * datagram read on one of its UDP sockets (cay__udp_recv_cb, @p arg the
 * worker), a framed message or a failure on one of its connections
 * (cay__tcp_recv_cb), each mail of its mailbox (cay__mailbox_fn), and
 * closing its sockets (each close counted in open_handles). */
void cay__worker_on_datagram(cay__udp_t *u, const char *data, size_t len,
                             const cay__addr_t *from, void *arg);
void cay__worker_on_tcp_message(cay__tcp_t *tcp, cay_id_t conn, int status,
                                const char *data, size_t len,
                                const cay__addr_t *from, void *arg);
void cay__worker_dispatch(cay__mail_t *m, void *arg);
void cay__worker_close_sockets(cay__worker_t *w);

/* worker_route.c: a message read by this shard from its sockets
 * (@p backlogged: from a backlogged UDP queue or TCP connection) goes to
 * its owner (DESIGN.md section 3). */
void cay__worker_route(cay__worker_t *w, const char *data, size_t len,
                       const cay__peer_t *src, int backlogged);
/* A message whose Call-ID hashes here, read here or handed over (@p
 * handed: by another shard's alias or for a Replaces): handled here,
 * unless its dialog lives on another shard. */
void cay__worker_deliver(cay__worker_t *w, const char *data, size_t len,
                         const cay__peer_t *src, int backlogged, int handed);
/* MAIL_ALIAS from another shard. */
void cay__worker_on_alias(cay__worker_t *w, const mail_alias_t *m);
/* The session layer's on_foreign hook: tells the Call-ID's home shard. */
void cay__worker_session_foreign(void *arg, const char *call_id, int live);

/* worker_registrar.c: the registrar's share hook (every other shard gets
 * the change), and a change another shard shared (MAIL_BINDING). */
void cay__worker_share_binding(void *arg, const cay__binding_change_t *c);
void cay__worker_on_binding(cay__worker_t *w, const mail_binding_t *m);
/* A connection of this shard that carried a REGISTER closed
 * (cay__tcp_closed_cb, @p arg the worker): this shard's bindings and
 * transactions over it end, and every other shard is told
 * (MAIL_FLOW_CLOSED), whose may use it too. */
void cay__worker_flow_closed(cay__tcp_t *tcp, cay_id_t conn,
                             const cay__addr_t *peer, void *arg);
/* MAIL_FLOW_CLOSED from the shard that owned the connection, or from
 * the AOR's shard of a UDP flow that fell silent. */
void cay__worker_on_flow_closed(cay__worker_t *w, const mail_bytes_t *m);
/* cay__registrar_flow_fn: a UDP flow failed here; this shard's
 * transactions over it end, and every other shard is told
 * (MAIL_FLOW_CLOSED with a UDP peer). */
void cay__worker_udp_flow_failed(void *arg, const cay__addr_t *flow);
/* A STUN keep-alive from UDP source @p src, answered here: this shard's
 * bindings over that flow heard it, and the owners of the AORs of its
 * copies over it are told (cay__worker_share_keepalive()). */
void cay__worker_keepalive(cay__worker_t *w, const cay__addr_t *src);
/* cay__registrar_keepalive_fn: MAIL_KEEPALIVE to AOR @p aor's shard. */
void cay__worker_share_keepalive(void *arg, const char *aor,
                                 const cay__addr_t *src);
/* MAIL_KEEPALIVE from the shard that read the keep-alive. */
void cay__worker_on_keepalive(cay__worker_t *w, const mail_bytes_t *m);
/* worker_pager.c: the session layer's store_hand hook (MAIL_STORE to
 * the AOR's shard @p to), and MAIL_STORE or MAIL_STORED here. */
int cay__worker_store_hand(void *arg, unsigned to, cay_id_t pager,
                           const char *aor, const char *msg, size_t len,
                           const cay__addr_t *src);
void cay__worker_on_store(cay__worker_t *w, const mail_store_t *m);
/* worker_flood.c: limits.source_requests. Whether the message @p data
 * (@p len bytes) read from @p src is a request to drop: its source is
 * blocked, or this request blocks it (logged, and told to the other
 * shards); counted in source_dropped. 0: go on (a response, or off). */
int cay__worker_flooded(cay__worker_t *w, const char *data, size_t len,
                        const cay__peer_t *src);
/* MAIL_BLOCK from the shard that blocked the source: blocked here too,
 * and this shard's connections from it closed. */
void cay__worker_on_block(cay__worker_t *w, const mail_bytes_t *m);
/* cay__tcp_refuse_cb (@p arg the worker): 1 (refused, counted in
 * source_conns_closed) for a connection from a blocked source. */
int cay__worker_refuse_conn(const cay__addr_t *peer, void *arg);
/* Tell every other shard (mail @p kind, MAIL_BAN or MAIL_BLOCK) that
 * source address @p src is banned or blocked for @p ms from now; a
 * mailbox without memory is logged (that shard counts for itself). */
void cay__worker_share_source(cay__worker_t *w, int kind,
                              const cay__addr_t *src, uint64_t ms);
/* cay__registrar_ban_fn: this shard banned source @p src for @p ban_ms;
 * MAIL_BAN to every other shard. */
void cay__worker_share_ban(void *arg, const cay__addr_t *src, uint64_t ban_ms);
/* MAIL_BAN from the shard that banned it. */
void cay__worker_on_ban(cay__worker_t *w, const mail_bytes_t *m);

/* reg_store.c: registrar.store (Redis), RFC 3261 section 10.3's location
 * service kept across restarts.
 *
 * cay__reg_store_load(): every binding the store holds is bound again
 * on its AOR's shard (cay__registrar_restore()), over one blocking
 * connection (a host name looked up first with c-ares and dns.servers,
 * on a loop of the call's own: at most the DNS timeouts; each address for
 * at most 2 s). Redis unreachable or failing: logged, the server starts
 * without them, and each shard loads its AORs late, once its own
 * connection is made (srv->store_load_failed). Call after every shard's
 * layers are up and before any shard runs. @thread the one that creates
 * the server */
void cay__reg_store_load(cay_server_t *srv);
/* Open @p w's own connection to the store (non-blocking, on @p w's loop;
 * a host name looked up there with c-ares) and write each change of its
 * AORs through it: 0, -ENOMEM, or -EIO (c-ares cannot start, logged). A
 * store that cannot be reached is retried every second; each time it is
 * reached again, every AOR of @p w is written anew. No registrar.store:
 * 0, nothing opened. @thread the one that creates the server, before @p w
 * runs */
int cay__reg_store_open(cay__worker_t *w);
/* Flush what is pending (at most 2 s), close, and call @p cb(@p arg)
 * once every handle is closed (NULL: nobody; the caller runs the loop).
 * @thread @p w's */
void cay__reg_store_close(struct cay__reg_store *st, void (*cb)(void *arg),
                          void *arg);

/* server.c: shard 0's side of the close protocol. */
void cay__server_on_drained(cay_server_t *srv, unsigned from);
void cay__server_on_final(cay_server_t *srv, unsigned from,
                          const cay_stats_t *st);
/* server_stats.c: a shard's answer to a live gather. */
void cay__server_on_stats(cay_server_t *srv, unsigned from, uint64_t seq,
                          const cay_stats_t *st);
/* Shard 0 got shard @p from's final counters: they answer a gather in
 * flight that shard has not answered. */
void cay__server_gather_final(cay_server_t *srv, unsigned from);
/* Sum @p n shards' counters into @p out. */
void cay__stats_sum(const cay_stats_t *shards, unsigned n, cay_stats_t *out);

/* One counter of cay_stats_t: its key in the summary line, where it is,
 * whether it is a gauge (a level now, not a count since start), and what
 * it counts (one sentence, for the metrics' HELP). The requests by method
 * also have the method: on the metrics endpoint they are one family,
 * cay_requests_total, with a method label (HELP from the first of them).
 * The counters of a histogram follow each other: its buckets (le: the
 * bound in seconds, cumulative counts), then the sum (ms) and the count,
 * each with the family's name (hist; HELP from the first). */
typedef struct cay__stat_field {
  const char *name;
  size_t offset;
  int gauge;
  const char *help;
  const char *method;
  const char *hist; /* "cay_..._seconds", or NULL */
  const char *le;   /* a bucket's bound ("0.05"), or NULL */
} cay__stat_field_t;

/* Every counter, in the summary line's order (server_stats.c). */
extern const cay__stat_field_t cay__stat_fields[];
extern const unsigned cay__n_stat_fields;

/* Where counter @p f of @p st is. */
static inline uint64_t *
cay__stat_at(cay_stats_t *st, const cay__stat_field_t *f)
{
  return (uint64_t *)(void *)((char *)st + f->offset);
}

/* The counter @p f of @p st. */
static inline uint64_t
cay__stat_get(const cay_stats_t *st, const cay__stat_field_t *f)
{
  return *cay__stat_at((cay_stats_t *)st, f);
}

void cay__server_worker_closed(cay_server_t *srv, cay__worker_t *w);

#endif
