/*
 * Locating SIP servers (RFC 3263 section 4) with c-ares on the shard's
 * libuv loop: the transport, port and addresses a request to a SIP URI
 * whose host is a name goes to. One resolver per shard; its queries,
 * sockets and timer belong to the shard's loop.
 *
 * What is done: a port or a transport parameter in the URI is kept (then
 * no NAPTR; with a port, no SRV either). Without both, NAPTR first
 * (4.1): of the records with flag "S" and a service Cay can use
 * ("SIP+D2U", "SIP+D2T"; "SIPS+D2T" for sips:), the lowest order and
 * preference gives the transport and the SRV name. Without such a
 * record, SRV (RFC 2782) "_sip._udp" then "_sip._tcp" ("_sips._tcp" for
 * sips:, only the one of the transport parameter). SRV targets are taken
 * by priority and weight, and their A/AAAA records asked in that order
 * until there are CAY__DNS_MAX_TARGETS addresses. Without SRV records (or
 * when "_sip._udp." + host is too long to be a name), A/AAAA of the host
 * with port 5060 (5061 for sips:) and the transport chosen so far.
 *
 * With a cache (cay__dns_opts_t.cache_entries), each answer is kept for
 * its TTL (dns_cache.h): a NAPTR or SRV answer, positive or negative, and
 * a name's addresses; each lookup still walks these steps on the kept
 * answers, so SRV's weighted order is drawn anew each time. Lookups that
 * need an answer already asked for wait for that question (with or
 * without a cache): one query, not one per lookup.
 *
 * RFC 3263 section 4.3 leaves to the client what it learns from a target
 * that does not answer. The resolver remembers, for
 * cay__dns_opts_t.failed_target_s, the addresses its caller reported
 * with cay__dns_target_failed() (no answer at all: a transport error,
 * timer B or F), and puts them last in the targets of every lookup
 * meanwhile, keeping the order among the others: a call no longer waits
 * 32 s of timer B for each target it could have known was down. A 503
 * with Retry-After counts the same for its seconds (at most
 * failed_target_s). They are still tried, last, so a lookup whose
 * targets all failed gives them all, and one that answers
 * (cay__dns_target_answered()) is forgotten. Each shard has its own
 * resolver; what one learns reaches the others through
 * cay__dns_opts_t.share and cay__dns_target_learn(), so a dead target
 * costs one timer B for the server, not one per shard.
 */
#ifndef CAY_TRANSPORT_DNS_H
#define CAY_TRANSPORT_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cay/server.h"
#include "transport/addr.h"

typedef struct cay__dns cay__dns_t;

/**
 * What the resolver learnt from its caller about a target (through
 * cay__dns_target_failed() or cay__dns_target_answered()), for other
 * resolvers to learn too (cay__dns_target_learn()): @p addr (borrowed,
 * valid during the call) goes last for @p for_s seconds, or, when
 * @p for_s is 0, answers again. Called on the resolver's loop, from
 * inside the report; it must not call back into this resolver.
 */
typedef void (*cay__dns_share_fn)(void *arg, const cay__addr_t *addr,
                                  unsigned for_s);

/** How the resolver asks. */
typedef struct cay__dns_opts {
  /* "IP[:PORT],..." with IPv6 in brackets; "" or NULL: the system's
   * (/etc/resolv.conf). Names are also looked up in /etc/hosts first. */
  const char *servers;
  unsigned timeout_ms;      /* per try, 0 = 2000 */
  unsigned tries;           /* per server, 0 = 2 */
  int family;               /* AF_INET, AF_INET6, or AF_UNSPEC: the addresses
                               Cay can send to */
  unsigned cache_entries;   /* answers kept (dns_cache.h), 0 = no cache */
  unsigned cache_max_ttl_s; /* the longest an answer is kept, 0 = 3600 */
  unsigned failed_target_s; /* how long an address reported by
                               cay__dns_target_failed() goes last, 0 = no
                               such memory */
  cay_stats_t *stats;       /* where dns_lookups and dns_cache_hits are counted
                               (the shard's; borrowed, outlives the resolver),
                               or NULL */
  cay__dns_share_fn share;  /* told each failed or answering target, or NULL */
  void *share_arg;
} cay__dns_opts_t;

/** What a request to a SIP URI needs from it (RFC 3263 section 4). */
typedef struct cay__dns_query {
  const char *host; /* a name (no IP literal), without a trailing dot */
  unsigned port;    /* 0 = none in the URI */
  int proto;        /* CAY__UDP, CAY__TCP, CAY__TLS from ";transport=",
                       -1 = none */
  int sips;         /* a sips: URI: TLS only, "_sips" SRV, port 5061 */
} cay__dns_query_t;

#define CAY__DNS_MAX_TARGETS 8
/* The most addresses cay__dns_target_failed() keeps. */
#define CAY__DNS_FAILED_MAX 1024

/** One place to send to, in the order to try (RFC 3263 section 4.3). */
typedef struct cay__dns_target {
  cay__addr_t addr; /* IP and port */
  int proto;        /* CAY__UDP, CAY__TCP or CAY__TLS */
} cay__dns_target_t;

/**
 * The answer to cay__dns_locate(). @p err is 0 with 1..8 @p targets, or
 * CAY_ENOTFOUND (the name does not exist, or has no SRV target and no
 * address of a family Cay can use), -ETIMEDOUT (no server answered),
 * -EIO (a server failed or refused), -ENOMEM. @p targets is valid only
 * during the call. @p arg and @p id are the caller's, as given.
 */
typedef void (*cay__dns_cb)(void *arg, uint64_t id, int err,
                            const cay__dns_target_t *targets, size_t n);

/**
 * Create a resolver on @p loop (c-ares channel, its sockets polled by
 * libuv). @p o is borrowed.
 * @return 0, CAY_ECONFIG (a server address that c-ares does not take;
 *         the message in @p err, size @p errlen), -ENOMEM, -EIO (c-ares
 *         could not start: no usable resolv.conf).
 * @thread the loop's
 */
int cay__dns_create(cay__dns_t **out, uv_loop_t *loop, const cay__dns_opts_t *o,
                    char *err, size_t errlen);

/**
 * RFC 3263 section 4 for @p q (borrowed; copied): find where a request
 * goes. @p cb is called exactly once, always later (never from inside
 * this call), unless the resolver is closed first: then never. @p cb may
 * start other lookups, and may close the resolver.
 * @return 0 (the answer will come), -EINVAL (no host, an IP literal, a
 *         name over 253 bytes or with a label over 63, UDP asked for a
 *         sips: URI), -ENOMEM, CAY_ESTATE (closing).
 * @thread the loop's
 */
int cay__dns_locate(cay__dns_t *d, const cay__dns_query_t *q, cay__dns_cb cb,
                    void *arg, uint64_t id);

/**
 * Remember that @p addr (IP and port, whatever the transport) did not
 * answer a request the caller sent to a target this resolver gave: the
 * transport failed (connection refused or timed out) or no response came
 * (timer B or F, RFC 3261 section 17.1); or that it answered 503 with
 * Retry-After (RFC 3261 section 21.5.4), @p for_s its seconds. For the
 * next cay__dns_opts_t.failed_target_s seconds (@p for_s, when not 0 and
 * shorter; from now, each time it is reported) lookups give it after the
 * targets not reported (RFC 3263 section 4.3). At most CAY__DNS_FAILED_MAX
 * addresses are kept; the one reported longest ago goes first. Then
 * calls cay__dns_opts_t.share with the seconds kept, also when it was
 * remembered already (its time started again).
 * @return 1 it was not remembered before (the caller may log it), 0 it
 *         was (its time starts again), or no memory (failed_target_s is
 *         0, or out of memory: forgetting only loses an ordering hint).
 * @thread the loop's
 */
int cay__dns_target_failed(cay__dns_t *d, const cay__addr_t *addr,
                           unsigned for_s);

/**
 * @p addr answered (any response): forget that it failed, and, when it
 * was remembered, call cay__dns_opts_t.share with 0 seconds.
 * @return 1 it was remembered as failed, 0 it was not.
 * @thread the loop's
 */
int cay__dns_target_answered(cay__dns_t *d, const cay__addr_t *addr);

/**
 * What another resolver's cay__dns_opts_t.share told: @p addr failed and
 * goes last for @p for_s seconds (at most failed_target_s, from now), or
 * answers again (@p for_s 0). The same as cay__dns_target_failed() and
 * cay__dns_target_answered(), except that share is not called (news is
 * not passed on again).
 * @return 1 what was remembered of @p addr changed (remembered anew, or
 *         forgotten), 0 it did not (or there is no memory).
 * @thread the loop's
 */
int cay__dns_target_learn(cay__dns_t *d, const cay__addr_t *addr,
                          unsigned for_s);

/** Queries asked and not answered yet. */
unsigned cay__dns_pending(const cay__dns_t *d);

/**
 * Drop every query (their callbacks are not called), close the sockets and
 * the timer; @p cb (may be NULL) runs once libuv has closed them all, and
 * @p d is then freed.
 * @thread the loop's
 */
void cay__dns_close(cay__dns_t *d, void (*cb)(void *arg), void *arg);

#endif
