/*
 * Inside the RFC 3263 resolver (dns.h), shared by its two files: dns.c
 * (c-ares on the loop: sockets, timer, the questions in flight, the
 * cache, the API) and dns_steps.c (the steps of RFC 3263 section 4 from
 * one answer to the next question). The loop's thread only.
 */
#ifndef CAY_TRANSPORT_DNS_INT_H
#define CAY_TRANSPORT_DNS_INT_H

#include <ares.h>

#include "core/rand.h"
#include "transport/addr.h"
#include "transport/dns.h"
#include "transport/dns_cache.h"

#define NAME_MAX_LEN 253 /* RFC 1035 section 2.3.4, as text */

/* RR types (RFC 1035 section 3.2.2, RFC 2782, RFC 3403), and the cache's
 * key type of a name's addresses (A and AAAA as getaddrinfo gave them). */
#define T_SRV   33
#define T_NAPTR 35
#define ADDRS   0x10000

typedef struct dns_sock {
  uv_poll_t poll;
  int fd;
  cay__dns_t *d;
  struct dns_sock *next;
} dns_sock_t;

enum step { NAPTR, SRV_UDP, SRV_TCP, SRV_ONE, ADDR_SRV, ADDR_HOST };

typedef struct dns_q {
  cay__dns_t *d;
  struct dns_q *next, *prev; /* the resolver's list */
  cay__dns_cb cb;
  void *arg;
  uint64_t id;
  enum step step;
  char host[NAME_MAX_LEN + 1];
  unsigned port;
  int proto; /* -1 = none asked for */
  int sips;
  struct {
    char name[NAME_MAX_LEN + 1];
    unsigned port;
  } srv[CAY__DNS_MAX_TARGETS];
  unsigned n_srv, next_srv;
  int srv_proto;
  cay__dns_target_t out[CAY__DNS_MAX_TARGETS];
  unsigned n_out;
  struct dns_q *wait_next; /* the next waiting for the same answer */
  int err;
  int in_locate; /* an answer now waits for the kick timer */
  int ready;     /* answered; delivered by the kick timer */
} dns_q_t;

/* A question put to c-ares and the lookups waiting for its answer, in
 * the order they came: the one that asked it, then those that found it in
 * flight (the same type and name) instead of asking again. */
typedef struct dns_ask {
  struct dns_ask *next; /* the resolver's list */
  cay__dns_t *d;
  int type; /* T_NAPTR, T_SRV, ADDRS */
  dns_q_t *first, **last;
  char name[NAME_MAX_LEN + 16];
} dns_ask_t;

struct cay__dns {
  uv_loop_t *loop;
  ares_channel channel;
  int family;
  uv_timer_t timer; /* ares_timeout() */
  uv_timer_t kick;  /* answers found inside cay__dns_locate() */
  dns_sock_t *socks;
  dns_q_t *queries;
  dns_ask_t *asks; /* in c-ares now */
  unsigned pending;
  cay__rand_t rand;         /* RFC 2782 weighted order */
  cay__dns_cache_t *cache;  /* NULL: no cache */
  cay__dns_cache_t *failed; /* dns_failed.c; NULL: no memory */
  unsigned failed_target_s;
  cay__dns_share_fn share; /* what is learnt there, for other resolvers */
  void *share_arg;
  cay_stats_t *stats; /* the shard's, or own */
  cay_stats_t own;
  int closing;
  int depth; /* inside ares_process_fd(): a close waits for its end */
  unsigned open_handles;
  void (*closed_cb)(void *arg);
  void *closed_arg;
};

/* -- dns_failed.c ---------------------------------------------------------- */

/** Put the @p n targets @p t that cay__dns_target_failed() reported last,
 * keeping the order among the others and among them. */
void cay__dns_order_failed(cay__dns_t *d, cay__dns_target_t *t, size_t n);

/* -- dns.c ----------------------------------------------------------------- */

/** The CAY_* / -errno of a c-ares status (dns.h, cay__dns_cb). */
int cay__dns_map_status(int status);

/** @p q is answered with @p err (0: its targets): to its caller now, or
 * from the kick timer when inside cay__dns_locate(). @p q is then gone. */
void cay__dns_finish(dns_q_t *q, int err);

/** Ask (@p name, @p type) (T_NAPTR or T_SRV) for @p q: from the cache,
 * from the same question in flight, or from the servers; the answer goes
 * to cay__dns_got_naptr() or cay__dns_got_srv(), maybe at once. */
void cay__dns_ask_query(dns_q_t *q, const char *name, int type);

/** The addresses of @p name for @p q, the same ways; the answer goes to
 * cay__dns_got_addrs(), maybe at once. */
void cay__dns_ask_addr(dns_q_t *q, const char *name);

/* -- dns_steps.c (RFC 3263 section 4) -------------------------------------- */

/** SRV of the host for @p step (SRV_UDP, SRV_TCP, SRV_ONE: the URI's
 * transport), or the host's addresses when that name is too long. */
void cay__dns_ask_srv(dns_q_t *q, enum step step);

/** The transport when neither the URI nor DNS chose one (4.1). */
int cay__dns_default_proto(const dns_q_t *q);

/** The answer (@p status, DNS message @p abuf of @p alen bytes) to the
 * NAPTR query of @p q (4.1). */
void cay__dns_got_naptr(dns_q_t *q, int status, const unsigned char *abuf,
                        int alen);

/** The answer to an SRV query of @p q (4.1, 4.2, RFC 2782). */
void cay__dns_got_srv(dns_q_t *q, int status, const unsigned char *abuf,
                      int alen);

/** The addresses (@p n of @p a, no port) of a SRV target or of the host
 * of @p q, with the c-ares @p status of their question. */
void cay__dns_got_addrs(dns_q_t *q, int status, const cay__addr_t *a, size_t n);

#endif
