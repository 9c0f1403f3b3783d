/* clang-format off */
/*
 * Cay configuration: built-in defaults, the YAML file, and its checks.
 *
 * The YAML shape (every key optional; shown with the defaults):
 *
 *   listen: [ "udp:127.0.0.1:5060", "tcp:127.0.0.1:5060" ]
 *                                   # udp|tcp|tls|ws|wss:HOST:PORT, HOST
 *                                   # may be [v6]; tls and wss need
 *                                   # tls.certificate; ws and wss are
 *                                   # SIP over WebSocket (RFC 7118)
 *   shards: 1                       # or auto: one per CPU
 *   udp_steering: auto              # auto: the kernel hands each UDP
 *                                   # datagram to its owner shard when it
 *                                   # can; off: the reading shard does
 *   timers: { t1_ms: 500, t2_ms: 4000, t4_ms: 5000 }   # RFC 3261 s.17
 *   dialog: { max_duration_s: 7200 }                   # 0 = no limit
 *   dialog: { flows: auto }         # auto | always | never: requests in
 *                                   # a dialog to a peer behind a NAT go
 *                                   # where its messages come from
 *   answer:
 *     ring_ms: 0                    # delay before 180 (and 200)
 *     answer_after_ms: 0            # delay from 180 to 200
 *     hangup_after_ms: 0            # 0 = never: Cay never sends BYE
 *     codecs: [ PCMU, PCMA, telephone-event ]
 *     media_ip: 127.0.0.1           # c= address of Cay's SDP
 *   log: { level: info }            # error | warn | info | debug
 *   limits: { max_transactions: 100000, max_message_bytes: 65535,
 *             max_headers: 256, tcp_max_connections: 10000,
 *             tcp_idle_timeout_s: 300, tcp_connect_timeout_ms: 5000,
 *             mailbox_messages: 65536,
 *             udp_max_request_bytes: 1300,    # 0 = no limit
 *             udp_overload_percent: 50,       # 0 = off
 *             tcp_overload_kib: 256,          # 0 = off
 *             source_requests: 0,             # per source IP; 0 = off
 *             source_window_s: 2, source_block_s: 60 }
 *   dns: { servers: [], timeout_ms: 2000, cache_entries: 1024,
 *          cache_max_ttl_s: 3600, failed_target_s: 60 }
 *                                   # RFC 3263: a target or Request-URI
 *                                   # host that is a name; servers
 *                                   # "IP[:PORT]" ([v6]), [] = the system's
 *                                   # (/etc/resolv.conf, /etc/hosts first)
 *   session_timers: { expires_s: 1800, min_se_s: 90 }
 *                                   # RFC 4028; expires_s 0 = off;
 *                                   # min_se_s >= 90, expires_s >= min_se_s
 *   routes:                         # default none: answer every INVITE
 *     - match: { method: INVITE, ruri_user: "^1", ruri_domain: example.com,
 *                source: 10.0.0.0/8 }   # every key optional, match too
 *       action: forward             # answer | reject | forward |
 *                                   # register (required); register takes
 *                                   # REGISTER only, and a REGISTER goes
 *                                   # to register or reject only
 *       target: "sip:${ruri_user}@127.0.0.1:5070"   # forward only
 *       location: false             # forward only: true = instead of
 *                                   # target, the contacts the R-URI's
 *                                   # AOR is registered at (registrar)
 *       authenticate: false         # answer, forward: true = the caller
 *                                   # proves with digest credentials of
 *                                   # registrar.users that it is the
 *                                   # From's user (407 first)
 *       max_duration_s: 7200        # answer, forward; absent = dialog's
 *       ring_timeout_s: 60          # forward only; 0 = no limit
 *       no_response_timeout_ms: 0   # forward only: an INVITE (or a
 *                                   # relayed MESSAGE) to a target
 *                                   # with no response at all (not even
 *                                   # 100 Trying) this long ends as if
 *                                   # timer B had fired: 408, the next
 *                                   # target DNS found; 0 = timer B only
 *       codecs: [ PCMU, telephone-event ]   # answer, forward: filter
 *       auth: { username: cay, password: secret }   # forward only: for
 *                                   # a target that asks (401/407)
 *     - action: reject
 *       code: 403                   # reject only; 400..699
 *       reason: Forbidden           # reject only; absent = standard phrase
 *   tls:                            # RFC 3261 section 26.2, RFC 5922
 *     certificate: ""               # PEM: Cay's chain, leaf first
 *     private_key: ""               # PEM: its key
 *     ca_file: ""                   # PEM: CAs that verify peers; "" =
 *                                   # the system's (/etc/ssl/certs)
 *     crl_file: ""                  # PEM: CRLs of those CAs (RFC 5280);
 *                                   # "" = no revocation check
 *     crl_check: leaf               # chain: the intermediate CAs of a
 *                                   # peer's chain are checked too
 *     verify_server: true           # connections Cay opens: the chain
 *                                   # and the next hop's host name
 *     verify_client: false          # true: peers that connect must show
 *                                   # a certificate the CAs verify
 *   websocket:                      # ws and wss listeners (RFC 7118)
 *     origins: []                   # default any; else at most 16 pages
 *                                   # (scheme://host[:port], RFC 6454)
 *                                   # whose scripts may connect: an
 *                                   # upgrade from another Origin, or
 *                                   # with none, gets 403
 *   cdr:                            # default none: no records
 *     file: /var/log/cay/cdr.json   # one line of JSON per call a
 *                                   # forward route took, appended when
 *                                   # it is over; every shard appends to
 *                                   # it; a reload (SIGHUP) opens the path
 *                                   # anew: rename the file, then reload
 *   metrics:                        # default none: no HTTP endpoint
 *     listen: 127.0.0.1:9090        # IP:PORT ([v6]:PORT; port 0: the
 *                                   # kernel picks, the log names it):
 *                                   # GET /metrics answers the counters
 *                                   # of every shard in Prometheus's
 *                                   # text format
 *   registrar:                      # RFC 3261 section 10.3, for the
 *                                   # routes with action register
 *     realm: ""                     # digest realm; "" = the REGISTER's
 *                                   # Request-URI host; at most 63 bytes,
 *                                   # no '"', '\' or controls (CR, LF)
 *     min_expires_s: 60             # 1..86400; shorter gets 423
 *     max_expires_s: 3600           # 1..604800; longer is cut to it
 *     default_expires_s: 3600       # 1..604800; min <= default <= max
 *     max_bindings: 10              # per AOR, 1..1000
 *     max_aors: 100000              # per shard, 1..10000000
 *     flows: auto                   # auto | always | never: calls to a
 *                                   # binding over its REGISTER's flow
 *                                   # (cay_reg_flows_t; NAT traversal)
 *     flow_timer_s: 0               # 0..3600: Flow-Timer in the 200 to
 *                                   # an outbound REGISTER (RFC 5626):
 *                                   # the UA's keep-alive interval; 0 =
 *                                   # none, the UA's default
 *     offline_messages: 0           # 0..1000: MESSAGEs kept per AOR
 *                                   # not registered, sent on its next
 *                                   # REGISTER; 0 = none (480)
 *     offline_message_s: 604800     # 1..2592000: how long one is kept
 *     ban_after_failures: 0         # 0..1000: a source IP whose
 *                                   # credentials are refused this often
 *                                   # within ban_window_s gets 403 at
 *                                   # once for ban_s; 0 = off
 *     ban_window_s: 60              # 1..86400
 *     ban_s: 600                    # 1..604800
 *     users:                        # default none: no authentication;
 *       - { username: alice, password: secret }   # at most 64, each at
 *                                   # most 63 bytes; username unique, no
 *                                   # '"', '\', ':', spaces or controls;
 *                                   # password without CR/LF
 *     store:                        # default none: bindings in memory
 *       redis: 127.0.0.1:6379       # host:port ([v6]:port) or a Unix
 *                                   # socket's path (starting with /)
 *       prefix: "cay:aor:"          # key = prefix + AOR; 1..63 bytes,
 *                                   # no glob character *?[]\ or space
 *       db: 0                       # SELECT, 0..65535
 *       password: secret            # AUTH; default none
 *
 * The first route whose every match key matches wins; a request that no
 * route matches gets 404. A routes:, listen: or registrar.users: list
 * replaces the one before it. A target's host is an IP literal or a name,
 * located by RFC 3263 (SRV, then A/AAAA) when a call is forwarded;
 * ${ruri_user} and ${ruri_domain} are the request's.
 */
/* clang-format on */
#ifndef CAY_CONFIG_H
#define CAY_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAY_CONFIG_MAX_LISTEN     16
#define CAY_CONFIG_MAX_CODECS     16
#define CAY_CONFIG_NAME_LEN       64
#define CAY_CONFIG_TEXT_LEN       256
#define CAY_CONFIG_MAX_ROUTES     32
#define CAY_ROUTE_MAX_CODECS      8
#define CAY_ROUTE_MAX_PASS        12 /* pass_headers entries per route */
#define CAY_ROUTE_MAX_FAILOVER    3  /* failover targets per route */
#define CAY_ROUTE_HEADER_LEN      32 /* a pass_headers name, NUL included */
#define CAY_CONFIG_MAX_DNS        4
#define CAY_CONFIG_MAX_USERS      64  /* registrar.users entries */
#define CAY_CONFIG_MAX_ORIGINS    16  /* websocket.origins entries */
#define CAY_CONFIG_ORIGIN_LEN     128 /* an origin, NUL included */
#define CAY_CONFIG_MAX_BAN_EXEMPT 16  /* registrar.ban_exempt entries */

/** Log levels, most severe first. */
typedef enum cay_log_level {
  CAY_LOG_ERROR = 0,
  CAY_LOG_WARN = 1,
  CAY_LOG_INFO = 2,
  CAY_LOG_DEBUG = 3
} cay_log_level_t;

/** One listen address: transport, host (IP literal), port. */
typedef struct cay_listen {
  char proto[8];                  /* "udp", "tcp", "tls", "ws", "wss" */
  char host[CAY_CONFIG_NAME_LEN]; /* IP literal without brackets */
  unsigned port;                  /* 1..65535; 0 = any free port */
} cay_listen_t;

/** A user the registrar authenticates (RFC 3261 section 22, digest). */
typedef struct cay_registrar_user {
  char username[CAY_CONFIG_NAME_LEN]; /* also the AOR's user it may bind */
  char password[CAY_CONFIG_NAME_LEN];
} cay_registrar_user_t;

/** What a route does with a request it matches. */
typedef enum cay_route_action {
  CAY_ROUTE_ANSWER = 0, /* the built-in UAS (the answer: section) */
  CAY_ROUTE_REJECT,     /* a final response: code and reason */
  CAY_ROUTE_FORWARD,    /* B2BUA: a new call to target (issue 5) */
  CAY_ROUTE_REGISTER    /* registrar: a REGISTER's bindings (RFC 3261
                           section 10.3) */
} cay_route_action_t;

/**
 * One entry of the `routes:` list. Every match key is optional ("" = any);
 * a request matches when every key given matches. The first match wins.
 * cay_config_init() fills every slot of cay_config_t.routes with a route's
 * defaults (action answer, code 403, max_duration_s -1, ring_timeout_s
 * 60), so code can fill routes[n_routes++] key by key.
 */
typedef struct cay_route {
  char method[16]; /* SIP method, exact (case-sensitive, RFC 3261 7.1) */
  /* PCRE2 regex on the Request-URI user: "^1000$" is exact, "^1" a
   * prefix (both matched without a regex). At most 32 nested
   * parentheses; a match past 100,000 backtracking steps is no match. */
  char ruri_user[CAY_CONFIG_TEXT_LEN];
  char ruri_domain[CAY_CONFIG_NAME_LEN]; /* R-URI host, case-insensitive */
  char source[CAY_CONFIG_NAME_LEN];      /* CIDR "10.0.0.0/8", "::1/128", or
                                            one IP literal */
  cay_route_action_t action;
  unsigned code;                    /* reject: 400..699, default 403 */
  char reason[CAY_CONFIG_NAME_LEN]; /* reject: "" = the standard phrase */
  char target[CAY_CONFIG_TEXT_LEN]; /* forward: URI template; ${ruri_user}
                                       and ${ruri_domain} are replaced */
  /* forward: targets (templates as target) tried in turn when the one
   * before fails before an answer with 408 (no response), 480 or a 5xx
   * (a transport failure is a 503), while the caller waits. */
  char failover[CAY_ROUTE_MAX_FAILOVER][CAY_CONFIG_TEXT_LEN];
  unsigned n_failover;
  /* forward: 1 = instead of target, the contacts the Request-URI's AOR
   * is registered at (the registrar's bindings, RFC 3261 section 10), in
   * the order of section 16.6 (highest q first, then the newest); each
   * that fails as a failover target fails is followed by the next, then
   * by the failover targets. None registered and no failover: 480. */
  unsigned location;
  /* answer, forward: 1 = an INVITE must carry digest credentials (RFC
   * 3261 section 22.3: 407 with Proxy-Authenticate, then
   * Proxy-Authorization) of a registrar user (reg_users) that is the
   * From's user; others get 403. Needs reg_users. */
  unsigned authenticate;
  long max_duration_s;     /* -1 = dialog: max_duration_s, 0 = no limit */
  unsigned ring_timeout_s; /* forward: default 60, 0 = none */
  /* forward: ms an INVITE to the target may go without any response (not
   * even 100 Trying) before Cay gives that target up as if timer B had
   * fired (RFC 3261 17.1.1.2): it counts as not answering (408), the
   * next target DNS found is tried (RFC 3263 section 4.3), or A gets
   * 408. 0 (default) = timer B only (64*T1); at most 600000. A MESSAGE
   * the route relays (RFC 3428) gives its target up the same way (timer
   * F) and goes to the next contact or failover target. */
  unsigned no_response_timeout_ms;
  /* Keep only these in the SDP: answer, in the INVITE's offer; forward,
   * every offer the bridge relays (A's, B's 2xx offer in a delayed-offer
   * call, re-INVITE/UPDATE offers either way; none left: 488). */
  char codecs[CAY_ROUTE_MAX_CODECS][16];
  unsigned n_codecs; /* 0 = no filtering */
  /* forward: credentials for a target that challenges the INVITE with
   * 401 or 407 (RFC 3261 section 22.2, digest per RFC 2617: MD5 or
   * MD5-sess, qop auth or none). "" = none (a challenge fails the call:
   * 403 to A). Both or neither. */
  char auth_username[CAY_CONFIG_NAME_LEN];
  char auth_password[CAY_CONFIG_NAME_LEN];
  /* forward: header fields of A's INVITE that B's INVITE carries
   * unchanged, in A's order (caller identity such as P-Asserted-Identity
   * and Privacy, RFC 3325, from a source the route trusts; Diversion,
   * Alert-Info, ...), of B's provisional, 2xx and failure responses that
   * A's carry (the callee's identity, a busy callee's Reason), and of
   * either side's BYE and A's CANCEL that the other side's BYE or CANCEL
   * carries (a Reason, RFC 3326). By name, case-insensitive, a compact form
   * counting as its full name; "X-*" is every name that starts with "X-". Never
   * a header Cay writes itself (Via, From, To, Call-ID, CSeq, Contact, ...).
   * None by default. */
  char pass_headers[CAY_ROUTE_MAX_PASS][CAY_ROUTE_HEADER_LEN];
  unsigned n_pass_headers;
  unsigned line, column; /* where the route starts in the file (1-based),
                            0 when it was set in code */
} cay_route_t;

/** The whole configuration. Plain data: copy it freely. */
typedef struct cay_config {
  cay_listen_t listen[CAY_CONFIG_MAX_LISTEN];
  unsigned n_listen;
  unsigned t1_ms; /* RFC 3261 T1, RTT estimate, default 500 */
  unsigned t2_ms; /* RFC 3261 T2, max non-INVITE retransmit, default 4000 */
  unsigned t4_ms; /* RFC 3261 T4, max message lifetime, default 5000 */
  unsigned dialog_max_duration_s; /* default 7200, 0 = unlimited */
  /* Where requests in a dialog without a route set go when the peer's
   * Contact (its remote target) is not where its messages come from
   * (cay_reg_flows_t): "auto" (default): to the peer's address when the
   * target is a private, shared or link-local address other than it (a
   * NAT between); "always": to the peer's address; "never": to the
   * target (RFC 3261 section 12.2.1.1 as written). */
  unsigned dialog_flows;
  unsigned ring_ms;         /* INVITE -> 180 delay, default 0 */
  unsigned answer_after_ms; /* 180 -> 200 delay, default 0 */
  unsigned hangup_after_ms; /* 200 -> BYE by Cay, default 0 = never */
  char codecs[CAY_CONFIG_MAX_CODECS][CAY_CONFIG_NAME_LEN];
  unsigned n_codecs;                  /* default PCMU, PCMA, telephone-event */
  char media_ip[CAY_CONFIG_NAME_LEN]; /* default 127.0.0.1 */
  cay_log_level_t log_level;          /* default CAY_LOG_INFO */
  unsigned shards;            /* default 1; 0 = auto, one per CPU; at most 64 */
  unsigned udp_steering;      /* 1 (default, "auto"): with several shards,
                                 the kernel hands each UDP datagram to the
                                 socket of the shard its Call-ID hashes to,
                                 when it lets Cay load the program (root or
                                 CAP_BPF); 0 ("off"): the shard that reads a
                                 datagram hands it to its owner by message */
  unsigned max_message_bytes; /* largest message on a stream, default
                                 65535 (1024..16 MiB) */
  unsigned max_headers;       /* header lines per stream message, default
                                 256 */
  unsigned tcp_max_connections;    /* per shard, default 10000 */
  unsigned tcp_idle_timeout_s;     /* close a silent connection, default 300 */
  unsigned tcp_connect_timeout_ms; /* a connection Cay opens that is not up
                                      by then fails like a refused one: its
                                      requests end with 503, or go over UDP
                                      when TCP was chosen for their size;
                                      default 5000, 100 to 600000 */
  unsigned max_transactions;       /* per shard, transactions without a final
                                     response; default 100000 */
  unsigned mailbox_messages; /* per shard, messages read by other shards and
                                not yet handled by it; above, a handed-over
                                message is dropped (counted in `dropped`,
                                UDP peers retransmit); default 65536 */
  unsigned udp_max_request_bytes; /* RFC 3261 18.1.1: a request larger than
                                     this that would go over UDP goes over
                                     TCP when Cay listens on TCP, and back
                                     over UDP if the connection is refused;
                                     default 1300, 0 = no limit, at most
                                     65535 */
  unsigned udp_overload_percent;  /* DESIGN.md section 7: when a UDP socket's
                                     receive queue holds this % of its
                                     buffer, new INVITEs read from it get a
                                     503 with Retry-After until the queue
                                     has drained (past that point the
                                     kernel drops datagrams, and each drop
                                     returns as a retransmission); default
                                     50, 0 = off, at most 100 */
  unsigned tcp_overload_kib;      /* DESIGN.md section 7: when a read from
                                     a TCP connection leaves this many KiB
                                     still unread on it, new INVITEs read
                                     from it get a 503 with Retry-After
                                     until a read finds it drained (TCP
                                     loses nothing, but every message
                                     waits behind the backlog); default
                                     256, 0 = off, at most 65536 */
  /* RFC 3263: how names in the URIs Cay sends to are located. */
  char dns_servers[CAY_CONFIG_MAX_DNS][CAY_CONFIG_NAME_LEN]; /* "IP",
                                     "IP:PORT", "[v6]:PORT"; none: the
                                     system's (/etc/resolv.conf) */
  unsigned n_dns_servers;
  unsigned dns_timeout_ms;      /* per try (two tries per server), default
                                   2000, 100 to 60000 */
  unsigned dns_cache_entries;   /* answers each shard keeps for their TTL
                                   (NAPTR, SRV, a name's addresses;
                                   negative NAPTR/SRV answers with an SOA,
                                   RFC 2308), default 1024, 0 = no cache,
                                   at most 1000000 */
  unsigned dns_cache_max_ttl_s; /* the longest an answer is kept, whatever
                                   its TTL; default 3600, 1 to 604800 */
  unsigned dns_failed_target_s; /* a target DNS found that did not answer
                                   (transport error, timer B) is tried last
                                   by every shard's later calls for this
                                   long (RFC 3263 section 4.3), one that
                                   answered 503 with Retry-After for that
                                   long if shorter; default 60, 0 = no
                                   memory, at most 86400 */
  /* RFC 4028 session timers. Cay honours a peer's Session-Expires in any
   * case; it asks for one in the INVITEs it sends when expires_s > 0. */
  unsigned session_expires_s; /* interval asked for, default 1800, 0 = off */
  unsigned min_se_s;          /* smallest accepted (Min-SE), default 90 */
  cay_route_t routes[CAY_CONFIG_MAX_ROUTES];
  unsigned n_routes; /* 0: every INVITE is answered (the answer: section) */
  /* The registrar (RFC 3261 section 10.3): what a REGISTER taken by a
   * route with action register may do. */
  char reg_realm[CAY_CONFIG_NAME_LEN]; /* digest realm; "" (default): the
                                          REGISTER's Request-URI host */
  unsigned reg_min_expires_s;          /* a binding asked for less (not 0) gets
                                          423 with Min-Expires; default 60 */
  unsigned reg_max_expires_s;          /* a longer one is cut to this; default
                                          3600 */
  unsigned reg_default_expires_s;      /* neither the Contact nor the request
                                          says; default 3600 */
  unsigned reg_max_bindings; /* per AOR; one more gets 403; default 10 */
  unsigned reg_max_aors;     /* AORs with bindings, per shard; a new
                                one past it gets 503; default 100000 */
  /* Where a call to a binding goes (cay_reg_flows_t): to the contact, or
   * over the flow its REGISTER came on (RFC 5626 section 5.3: its TCP
   * connection, or its UDP source address, which a NAT maps to the UA). */
  unsigned reg_flows;
  /* Flow-Timer (RFC 5626 section 4.4.1) in the 2xx to a REGISTER that
   * asked for outbound: the keep-alive interval the UA is to use, in s
   * (below limits.tcp_idle_timeout_s keeps its connection open); 0
   * (default): none, the UA chooses (RFC 5626 section 4.4.1). Set, a
   * UDP flow that calls to such a binding take and that sends no
   * keep-alive or REGISTER for this + 8 s has failed: the binding goes
   * (counted in cay_stats_t.flows_failed). */
  unsigned reg_flow_timer_s;
  /* MESSAGEs outside a dialog kept per AOR (b2bua/pager.h): a location
   * route that finds neither a contact nor a failover target for one
   * keeps it, answering its sender 202, until the AOR registers, and
   * then sends it to the new contact with a Date header of when it came
   * (store and forward, in memory and in reg_store_redis when set:
   * without it, a restart loses them). Past this
   * many for the AOR, or 8 MiB kept by a shard, 480 "Temporarily
   * Unavailable - Message Store Full". 0 (default): none kept, 480
   * "Not Registered". */
  unsigned reg_offline_messages;
  unsigned reg_offline_message_s; /* how long one is kept: dropped when
                                     not delivered by then; default
                                     604800 (7 days) */
  /* Digest credentials (RFC 2617, MD5, qop auth). None: every REGISTER
   * is taken without authentication. Some: a REGISTER must authenticate
   * as the user of the AOR it binds (To's user). */
  cay_registrar_user_t reg_users[CAY_CONFIG_MAX_USERS];
  unsigned n_reg_users;
  /* Where the bindings outlive a restart (registrar.store): every change
   * is written to this Redis server, and a starting server binds what it
   * finds there again. "" (default): memory only. "host:port" (a name or
   * an IP literal, IPv6 in brackets) or a Unix socket's path ("/..."). */
  char reg_store_redis[CAY_CONFIG_TEXT_LEN];
  char reg_store_prefix[CAY_CONFIG_NAME_LEN];   /* of the keys, each
                                                   prefix + AOR; default
                                                   "cay:aor:" */
  unsigned reg_store_db;                        /* SELECTed; default 0 */
  char reg_store_password[CAY_CONFIG_NAME_LEN]; /* AUTH; "" (default):
                                                   none */
  /* TLS (RFC 3261 section 26.2): files read when the server starts and at
   * each cay_server_reload() (new connections take them), and by
   * cay_config_check(), which tries them. A tls or wss listen address
   * needs the certificate and its key. Requests to sips: URIs or with
   * ;transport=tls go over TLS from the tls listen address (without one
   * they fail: 503 inside, a 5xx to the caller). */
  char tls_certificate[CAY_CONFIG_TEXT_LEN]; /* PEM chain, leaf first */
  char tls_private_key[CAY_CONFIG_TEXT_LEN]; /* PEM key of the leaf */
  char tls_ca_file[CAY_CONFIG_TEXT_LEN];     /* PEM CAs; "" = the system's */
  /* PEM CRLs (RFC 5280 section 5) of the CAs that issue peers'
   * certificates: a certificate its issuer's CRL revokes fails
   * verification (a client's with verify_client, a server's with
   * verify_server), and so does one whose issuer has no CRL in the file.
   * A CRL past its nextUpdate is a config error. "" (default): no
   * revocation check. Read again at a reload, as the other files. */
  char tls_crl_file[CAY_CONFIG_TEXT_LEN];
  /* Which certificates of a peer's chain crl_file checks
   * (cay_crl_check_t; RFC 5280 section 6.3): CAY_CRL_LEAF (default) the
   * peer's own, against its
   * issuer's CRL; CAY_CRL_CHAIN each one up to the trust anchor (the
   * intermediate CAs too: one its issuer's CRL revokes fails the chain),
   * so the file must hold the CRL of every CA in it, the root's too.
   * CAY_CRL_CHAIN needs a crl_file. */
  unsigned tls_crl_check;
  unsigned tls_verify_server; /* 1 (default): a server's certificate must
                                 verify and name the host Cay resolved
                                 (RFC 5922 section 7.2) */
  unsigned tls_verify_client; /* 1: a client must show a certificate that
                                 verifies (mutual TLS); default 0 */
  /* The origins (RFC 6454 serializations as browsers send them,
   * "https://app.example.com", a port only when not the scheme's default)
   * whose pages may open a WebSocket to a ws or wss listen address: an
   * upgrade from another, or without an Origin, gets 403 Forbidden (RFC
   * 6455 section 10.2). None (default): any. A reload's list holds for
   * the upgrades after it. It keeps another site's script, run in a
   * user's browser, from using that user's network position; it is no
   * authentication (a client that is not a browser sends what it likes). */
  char ws_origins[CAY_CONFIG_MAX_ORIGINS][CAY_CONFIG_ORIGIN_LEN];
  unsigned n_ws_origins;
  /* Where shard 0 serves the counters of every shard over HTTP (GET
   * /metrics, Prometheus's text format 0.0.4): "IP:PORT" or
   * "[IPv6]:PORT", an address literal; port 0: one the kernel picks,
   * named in the log line "metrics: serving the counters at
   * http://IP:PORT/metrics". "" (default): nowhere. A reload
   * keeps the running address. Anyone who reaches it reads the counters:
   * bind it to loopback or to a management network. */
  char metrics_listen[CAY_CONFIG_TEXT_LEN];
  /* Where call detail records go: one line of JSON (RFC 8259) per call
   * a forward route took, appended when the call is over (its fields:
   * README, "Call detail records"). Each shard opens the file with O_APPEND
   * (created 0640), so their lines never mix. A reload opens the path
   * anew (rotation: rename the file, then reload). cay_config_check()
   * refuses a path whose directory is missing or not writable, or a file
   * that is not writable. "" (default): no records. */
  char cdr_file[CAY_CONFIG_TEXT_LEN];
  /* Password guessing stopped (registrar.ban_after_failures): a source IP
   * address whose credentials are refused (403: an unknown user, a wrong
   * password, another user's AOR or From) this many times within
   * reg_ban_window_s s is answered 403 "Forbidden - Too Many Failures",
   * without a challenge, for reg_ban_s s, on every port, to every
   * request that needs credentials (a REGISTER, a call a route
   * authenticates). Each shard counts the refusals it makes; the first
   * to ban a source tells the others, which ban it too. 0 (default):
   * off. */
  unsigned reg_ban_failures; /* 0..1000 */
  unsigned reg_ban_window_s; /* 1..86400, default 60 */
  unsigned reg_ban_s;        /* 1..604800, default 600 */
  /* Sources never banned (registrar.ban_exempt): address blocks,
   * "10.0.0.0/8", "2001:db8::/32", or single addresses, "192.0.2.7". A
   * request from one of them is refused like any other when its
   * credentials are wrong (and logged), but never counts toward a ban,
   * and a ban of its address (made before a reload listed it) no longer
   * holds: a front proxy or an office NAT, whose address many users
   * share, is not shut out by one of them. None (default): every source
   * may be banned. */
  char reg_ban_exempt[CAY_CONFIG_MAX_BAN_EXEMPT][CAY_CONFIG_NAME_LEN];
  unsigned n_reg_ban_exempt;
  /* Request floods stopped (limits.source_requests): a source IP address
   * that sends more than source_requests requests within
   * source_window_s s (as one shard reads them; a retransmission
   * counts, a response does not) is dropped, its requests read and
   * neither answered nor looked at, for source_block_s s, on every port
   * and every shard; logged once, each request dropped counted in
   * source_dropped. Its TCP, TLS and WebSocket connections are closed
   * when the block begins, and new ones closed at once while it lasts
   * (counted in source_conns_closed). The window opens at the first
   * request and the count starts over after it, as Kamailio's pike
   * samples. Each shard keeps
   * 4,096 addresses (a flood of new ones evicts the quietest). 0
   * (default): off; keep it off behind a front proxy, whose address
   * carries every caller's requests. */
  unsigned source_requests; /* 0..1000000 */
  unsigned source_window_s; /* 1..3600, default 2 */
  unsigned source_block_s;  /* 1..86400, default 60 */
} cay_config_t;

/** cay_config_t.reg_flows: when a call to a registered contact goes over
 * the flow its REGISTER came on instead of to the contact itself (and
 * the same words for cay_config_t.dialog_flows). */
typedef enum cay_reg_flows {
  /* "auto" (default): when the REGISTER asked for it (a Contact with
   * reg-id, RFC 5626 section 4.2), when the contact is a private,
   * shared or link-local address (RFC 1918, RFC 6598, RFC 3927, RFC
   * 4193, RFC 4291) other than the REGISTER's source (a NAT between),
   * or when the REGISTER came over TCP from the contact's own IP address
   * (its connection is reused, RFC 5923 section 1). A contact that
   * names a host rather than an address goes to the contact. When the
   * TCP connection closes (RFC 5626 section 7), a binding of the last
   * kind goes to its contact; the others are removed. */
  CAY_REG_FLOWS_AUTO = 0,
  CAY_REG_FLOWS_ALWAYS = 1, /* "always": every binding */
  CAY_REG_FLOWS_NEVER = 2,  /* "never": every call to the contact itself
                               (RFC 3261 section 16.6 with RFC 3263) */
} cay_reg_flows_t;

/** cay_config_t.tls_crl_check: which certificates of a peer's chain
 * tls.crl_file checks (RFC 5280 section 6.3). */
typedef enum cay_crl_check {
  CAY_CRL_LEAF = 0,  /* "leaf" (default): the peer's own certificate */
  CAY_CRL_CHAIN = 1, /* "chain": every certificate of its chain */
} cay_crl_check_t;

/**
 * Fill @p cfg with the built-in defaults (listen udp:127.0.0.1:5060, answer
 * every call, timers per RFC 3261 section 17.1.1.1 table 4).
 *
 * @param cfg  Caller's storage. Borrowed.
 * @thread any
 */
void cay_config_init(cay_config_t *cfg);

/**
 * Read a YAML file on top of the values already in @p cfg.
 *
 * Keys absent from the file keep their value. A `listen` or `routes` list
 * in the file replaces the whole list. On error @p cfg may be partly updated;
 * @p err receives "FILE:LINE:COLUMN: what was expected" (line and column
 * 1-based; "FILE: ..." when the error has no position, such as a missing file).
 *
 * @param cfg     Configuration to update. Borrowed.
 * @param path    File to read. Borrowed.
 * @param err     Buffer for the message, or NULL. Borrowed.
 * @param errlen  Size of @p err in bytes.
 * @return 0, CAY_ECONFIG (syntax, unknown key, bad value, failed check),
 *         -ENOENT/-EACCES (file cannot be read), -ENOMEM.
 * @thread setup
 */
int cay_config_load(cay_config_t *cfg, const char *path, char *err,
                    size_t errlen);

/**
 * Parse a listen spec "PROTO:HOST:PORT": PROTO udp, tcp, tls (RFC 3261
 * section 26.2), ws or wss (RFC 7118), in any case; HOST an IPv4 literal
 * or an IPv6 literal in brackets; PORT 0..65535. "sctp" is refused as
 * not supported yet, any other PROTO as unknown.
 *
 * @param spec    The spec. Borrowed.
 * @param out     Result. Borrowed.
 * @param err     Buffer for "what was expected", or NULL. Borrowed.
 * @param errlen  Size of @p err in bytes.
 * @return 0 or CAY_ECONFIG.
 * @thread any
 */
int cay_config_parse_listen(const char *spec, cay_listen_t *out, char *err,
                            size_t errlen);

/**
 * Check the values of @p cfg against each other and their ranges (t1 <= t2,
 * at least one listen address, known codec names, ...).
 *
 * @return 0 or CAY_ECONFIG with a message in @p err.
 * @thread any
 */
int cay_config_check(const cay_config_t *cfg, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
