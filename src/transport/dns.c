/* RFC 3263 section 4 with c-ares on a libuv loop (dns.h). c-ares tells
 * which sockets to watch (ARES_OPT_SOCK_STATE_CB): each gets a uv_poll_t;
 * one uv_timer_t follows ares_timeout(). A lookup's questions (NAPTR, SRV,
 * a name's addresses) are answered from the cache, by the same question
 * in flight, or by c-ares, always on the loop's thread; dns_steps.c turns
 * each answer into the next question or the targets. */
#include "transport/dns_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"

static uv_once_t lib_once = UV_ONCE_INIT;
static int lib_status;

static void
lib_init(void)
{
  lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int
cay__dns_map_status(int status)
{
  switch (status) {
  case ARES_SUCCESS:
    return 0;
  case ARES_ENOTFOUND:
  case ARES_ENODATA:
  case ARES_ENONAME:
    return CAY_ENOTFOUND;
  case ARES_ETIMEOUT:
    return -ETIMEDOUT;
  case ARES_ENOMEM:
    return -ENOMEM;
  default:
    return -EIO;
  }
}

/* -- sockets and the timer ------------------------------------------------- */

static void schedule(cay__dns_t *d);
static void close_now(cay__dns_t *d);

/* Let c-ares read @p r / write @p w (or only check its timeouts) and arm
 * the timer again; a close asked for from inside waits for its end. */
static void
process(cay__dns_t *d, ares_socket_t r, ares_socket_t w)
{
  d->depth++;
  ares_process_fd(d->channel, r, w);
  if (--d->depth == 0 && d->closing) {
    close_now(d);
    return;
  }
  schedule(d);
}

static void
on_timer(uv_timer_t *h)
{
  process(h->data, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

/* Arm the timer for c-ares's next timeout, or stop it. */
static void
schedule(cay__dns_t *d)
{
  struct timeval tv, *t;

  if (d->closing)
    return;
  t = ares_timeout(d->channel, NULL, &tv);
  if (t == NULL) {
    uv_timer_stop(&d->timer);
    return;
  }
  uv_timer_start(
      &d->timer, on_timer,
      (uint64_t)t->tv_sec * 1000 + ((uint64_t)t->tv_usec + 999) / 1000, 0);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
  dns_sock_t *s = h->data;
  cay__dns_t *d = s->d;

  if (status < 0) /* let c-ares find the socket's error */
    events = UV_READABLE | UV_WRITABLE;
  process(d, events & UV_READABLE ? s->fd : ARES_SOCKET_BAD,
          events & UV_WRITABLE ? s->fd : ARES_SOCKET_BAD);
}

/* Free @p d and its caches (its handles are closed, or never were). */
static void
dns_free(cay__dns_t *d)
{
  cay__dns_cache_free(d->cache);
  cay__dns_cache_free(d->failed);
  cay__free(d);
}

static void
handle_closed(cay__dns_t *d)
{
  if (--d->open_handles == 0 && d->closing) {
    void (*cb)(void *) = d->closed_cb;
    void *arg = d->closed_arg;

    dns_free(d);
    if (cb)
      cb(arg);
  }
}

static void
on_sock_closed(uv_handle_t *h)
{
  dns_sock_t *s = h->data;
  cay__dns_t *d = s->d;

  cay__free(s);
  handle_closed(d);
}

static void
sock_drop(dns_sock_t **link)
{
  dns_sock_t *s = *link;

  *link = s->next;
  uv_poll_stop(&s->poll); /* before c-ares closes the descriptor */
  uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* ARES_OPT_SOCK_STATE_CB: watch @p fd for what c-ares waits for. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
  cay__dns_t *d = data;
  dns_sock_t **link = &d->socks, *s;
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);

  while (*link && (*link)->fd != fd)
    link = &(*link)->next;
  if (events == 0) {
    if (*link)
      sock_drop(link);
    return;
  }
  if ((s = *link) == NULL) {
    s = cay__calloc(1, sizeof *s);
    if (s == NULL)
      return; /* the query times out */
    if (uv_poll_init_socket(d->loop, &s->poll, fd) != 0) {
      cay__free(s);
      return;
    }
    s->fd = fd;
    s->d = d;
    s->poll.data = s;
    s->next = d->socks;
    d->socks = s;
    d->open_handles++;
  }
  uv_poll_start(&s->poll, events, on_poll);
}

/* -- queries ----------------------------------------------------------------
 */

static void
q_unlink(dns_q_t *q)
{
  cay__dns_t *d = q->d;

  if (q->prev)
    q->prev->next = q->next;
  else
    d->queries = q->next;
  if (q->next)
    q->next->prev = q->prev;
  d->pending--;
}

static void
deliver(dns_q_t *q)
{
  q_unlink(q);
  if (q->err == 0 && q->n_out == 0)
    q->err = CAY_ENOTFOUND;
  if (q->err == 0)
    cay__dns_order_failed(q->d, q->out, q->n_out);
  q->cb(q->arg, q->id, q->err, q->err ? NULL : q->out, q->err ? 0 : q->n_out);
  cay__free(q);
}

static void
on_kick(uv_timer_t *h)
{
  cay__dns_t *d = h->data;
  dns_q_t *q = d->queries, *next;

  for (; q; q = next) {
    next = q->next;
    if (q->ready) {
      deliver(q);
      if (d->closing)
        return;
    }
  }
}

/* The answer is in: to the caller now, or from the kick timer when it
 * came inside cay__dns_locate() (the caller's state is not ready yet). */
void
cay__dns_finish(dns_q_t *q, int err)
{
  q->err = err;
  if (q->in_locate) {
    q->ready = 1;
    uv_timer_start(&q->d->kick, on_kick, 0, 0);
    return;
  }
  deliver(q);
}

/* The cache's copy of an answer: a DNS message or addresses. */
typedef union {
  unsigned char msg[CAY__DNS_CACHE_MAX_DATA];
  cay__addr_t addrs[CAY__DNS_CACHE_MAX_DATA / sizeof(cay__addr_t)];
} cached_t;

/* Take @p a out of the resolver's list of questions in flight: a lookup
 * asking the same from now on asks again. */
static void
ask_unlink(dns_ask_t *a)
{
  dns_ask_t **link = &a->d->asks;

  while (*link != a)
    link = &(*link)->next;
  *link = a->next;
}

/* The answer to a NAPTR or SRV query: kept for its TTL, then given to
 * each lookup waiting for it. A lookup's callback may close the resolver:
 * the lookups after it are then dropped. */
static void
on_query(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
  dns_ask_t *a = arg;
  cay__dns_t *d = a->d;
  dns_q_t *q, *next;
  cached_t copy;
  uint32_t ttl;

  (void)timeouts;
  ask_unlink(a);
  if (!d->closing && d->cache && abuf && alen > 0
      && (status == ARES_SUCCESS || status == ARES_ENOTFOUND
          || status == ARES_ENODATA)
      && cay__dns_msg_ttl(abuf, (size_t)alen, &ttl) == 0)
    (void)cay__dns_cache_put(d->cache, a->type, a->name, status, abuf,
                             (size_t)alen, ttl, uv_now(d->loop));
  if (a->first && a->first->wait_next && abuf && alen > 0
      && (size_t)alen <= sizeof copy.msg) {
    /* Several lookups: c-ares's buffer is not ours beyond the first. */
    memcpy(copy.msg, abuf, (size_t)alen);
    abuf = copy.msg;
  }
  for (q = a->first; q; q = next) {
    next = q->wait_next;
    if (d->closing)
      cay__free(q);
    else if (a->type == T_NAPTR)
      cay__dns_got_naptr(q, status, abuf, alen);
    else
      cay__dns_got_srv(q, status, abuf, alen);
  }
  cay__free(a);
}

enum found { FROM_CACHE, ASK, WAITING, FAILED };

/* (@p type, @p name) for @p q: FROM_CACHE (a hit, in @p c), WAITING (the
 * same question is in flight: @p q waits for its answer), ASK (@p q waits
 * for @p *ask, to be put to c-ares now), FAILED (-ENOMEM: @p q is
 * finished). Hits and waits count as cache hits, asks as lookups. */
static enum found
find(dns_q_t *q, int type, const char *name, cached_t *c, size_t *len,
     int *status, dns_ask_t **ask)
{
  cay__dns_t *d = q->d;
  dns_ask_t *a;

  q->wait_next = NULL;
  if (d->cache
      && cay__dns_cache_get(d->cache, type, name, uv_now(d->loop), status,
                            c->msg, len)) {
    d->stats->dns_cache_hits++;
    return FROM_CACHE;
  }
  for (a = d->asks; a; a = a->next)
    if (a->type == type && strcasecmp(a->name, name) == 0) {
      *a->last = q;
      a->last = &q->wait_next;
      d->stats->dns_cache_hits++;
      return WAITING;
    }
  if ((a = cay__calloc(1, sizeof *a)) == NULL) {
    cay__dns_finish(q, -ENOMEM);
    return FAILED;
  }
  a->d = d;
  a->type = type;
  snprintf(a->name, sizeof a->name, "%s", name);
  a->first = q;
  a->last = &q->wait_next;
  a->next = d->asks;
  d->asks = a;
  d->stats->dns_lookups++;
  *ask = a;
  return ASK;
}

/* Ask (@p name, @p type) (T_NAPTR or T_SRV): from the cache, from a
 * question in flight, or from the servers. */
void
cay__dns_ask_query(dns_q_t *q, const char *name, int type)
{
  dns_ask_t *a = NULL;
  cached_t c;
  size_t len;
  int status;

  switch (find(q, type, name, &c, &len, &status, &a)) {
  case FROM_CACHE:
    if (type == T_NAPTR)
      cay__dns_got_naptr(q, status, c.msg, (int)len);
    else
      cay__dns_got_srv(q, status, c.msg, (int)len);
    break;
  case ASK:
    ares_query(q->d->channel, name, 1 /* C_IN */, type, on_query, a);
    break;
  default:
    break;
  }
}

static void
on_addr(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
  dns_ask_t *ask = arg;
  cay__dns_t *d = ask->d;
  cay__addr_t a[CAY__DNS_MAX_TARGETS];
  dns_q_t *q, *next;
  size_t n = 0;
  int ttl = INT32_MAX;

  (void)timeouts;
  ask_unlink(ask);
  for (struct ares_addrinfo_node *i = res ? res->nodes : NULL;
       i && n < CAY__DNS_MAX_TARGETS; i = i->ai_next) {
    memset(&a[n], 0, sizeof a[n]);
    if (i->ai_family == AF_INET && i->ai_addrlen >= sizeof a[n].u.sin)
      memcpy(&a[n].u.sin, i->ai_addr, sizeof a[n].u.sin);
    else if (i->ai_family == AF_INET6 && i->ai_addrlen >= sizeof a[n].u.sin6)
      memcpy(&a[n].u.sin6, i->ai_addr, sizeof a[n].u.sin6);
    else
      continue;
    if (i->ai_ttl < ttl)
      ttl = i->ai_ttl;
    n++;
  }
  for (struct ares_addrinfo_cname *c = res ? res->cnames : NULL; c; c = c->next)
    if (c->ttl < ttl)
      ttl = c->ttl;
  if (res)
    ares_freeaddrinfo(res);
  /* Only addresses are kept: getaddrinfo tells no SOA for a negative
   * answer (RFC 2308 section 5), and /etc/hosts gives TTL 0. */
  if (!d->closing && d->cache && status == ARES_SUCCESS && n > 0 && ttl > 0)
    (void)cay__dns_cache_put(d->cache, ADDRS, ask->name, ARES_SUCCESS, a,
                             n * sizeof a[0], (uint32_t)ttl, uv_now(d->loop));
  for (q = ask->first; q; q = next) {
    next = q->wait_next;
    if (d->closing)
      cay__free(q);
    else
      cay__dns_got_addrs(q, status, a, n);
  }
  cay__free(ask);
}

/* The addresses (A/AAAA) of @p name: from the cache, or from c-ares
 * (/etc/hosts, then the servers). */
void
cay__dns_ask_addr(dns_q_t *q, const char *name)
{
  struct ares_addrinfo_hints hints;
  dns_ask_t *a = NULL;
  cached_t c;
  size_t len;
  int status;

  switch (find(q, ADDRS, name, &c, &len, &status, &a)) {
  case FROM_CACHE:
    cay__dns_got_addrs(q, status, c.addrs, len / sizeof c.addrs[0]);
    break;
  case ASK:
    memset(&hints, 0, sizeof hints);
    hints.ai_family = q->d->family;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(q->d->channel, name, NULL, &hints, on_addr, a);
    break;
  default:
    break;
  }
}

/* -- the API -----------------------------------------------------------------
 */

int
cay__dns_create(cay__dns_t **out, uv_loop_t *loop, const cay__dns_opts_t *o,
                char *err, size_t errlen)
{
  struct ares_options opts;
  cay__dns_t *d;
  int rc;

  *out = NULL;
  uv_once(&lib_once, lib_init);
  if (lib_status != ARES_SUCCESS)
    return -EIO;
  d = cay__calloc(1, sizeof *d);
  if (d == NULL)
    return -ENOMEM;
  if (cay__rand_init(&d->rand) != 0) {
    cay__free(d);
    return -EIO;
  }
  d->loop = loop;
  d->family = o->family;
  d->stats = o->stats ? o->stats : &d->own;
  d->failed_target_s = o->failed_target_s;
  d->share = o->share;
  d->share_arg = o->share_arg;
  if ((o->cache_entries
       && cay__dns_cache_create(&d->cache, o->cache_entries,
                                o->cache_max_ttl_s ? o->cache_max_ttl_s : 3600)
              != 0)
      || (o->failed_target_s
          && cay__dns_cache_create(&d->failed, CAY__DNS_FAILED_MAX,
                                   o->failed_target_s)
                 != 0)) {
    dns_free(d);
    return -ENOMEM;
  }
  memset(&opts, 0, sizeof opts);
  opts.sock_state_cb = on_sock_state;
  opts.sock_state_cb_data = d;
  opts.timeout = o->timeout_ms ? (int)o->timeout_ms : 2000;
  opts.tries = o->tries ? (int)o->tries : 2;
  rc = ares_init_options(&d->channel, &opts,
                         ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS
                             | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) {
    if (err && errlen)
      snprintf(err, errlen, "DNS: %s", ares_strerror(rc));
    dns_free(d);
    return rc == ARES_ENOMEM ? -ENOMEM : -EIO;
  }
  if (o->servers && *o->servers
      && (rc = ares_set_servers_ports_csv(d->channel, o->servers))
             != ARES_SUCCESS) {
    if (err && errlen)
      snprintf(err, errlen, "DNS servers '%s': %s", o->servers,
               ares_strerror(rc));
    ares_destroy(d->channel);
    dns_free(d);
    return rc == ARES_ENOMEM ? -ENOMEM : CAY_ECONFIG;
  }
  uv_timer_init(loop, &d->timer);
  uv_timer_init(loop, &d->kick);
  d->timer.data = d->kick.data = d;
  d->open_handles = 2;
  *out = d;
  return 0;
}

/* RFC 1035 section 2.3.4: labels of 1 to 63 octets. */
static int
labels_fit(const char *s, size_t n)
{
  size_t label = 0;

  for (size_t i = 0; i < n; i++) {
    if (s[i] != '.') {
      if (++label > 63)
        return 0;
    } else if (label == 0) {
      return 0;
    } else {
      label = 0;
    }
  }
  return label > 0;
}

int
cay__dns_locate(cay__dns_t *d, const cay__dns_query_t *in, cay__dns_cb cb,
                void *arg, uint64_t id)
{
  size_t n = in->host ? strlen(in->host) : 0;
  dns_q_t *q;

  if (d->closing)
    return CAY_ESTATE;
  if (n && in->host[n - 1] == '.')
    n--; /* an absolute name: the same name */
  if (n == 0 || n > NAME_MAX_LEN || cay__is_ip_literal(in->host, n)
      || !labels_fit(in->host, n) || (in->sips && in->proto == CAY__UDP)
      || in->port > 65535)
    return -EINVAL;
  q = cay__calloc(1, sizeof *q);
  if (q == NULL)
    return -ENOMEM;
  q->d = d;
  q->cb = cb;
  q->arg = arg;
  q->id = id;
  memcpy(q->host, in->host, n);
  q->port = in->port;
  /* RFC 3261 section 19.1.2: a sips URI's transport=tcp is TLS. */
  q->proto = in->sips && in->proto == CAY__TCP ? CAY__TLS : in->proto;
  q->sips = in->sips;
  q->next = d->queries;
  if (d->queries)
    d->queries->prev = q;
  d->queries = q;
  d->pending++;
  q->in_locate = 1;
  if (q->port) { /* 4.2: a port: the host's addresses, no SRV */
    q->step = ADDR_HOST;
    q->srv_proto = cay__dns_default_proto(q);
    cay__dns_ask_addr(q, q->host);
  } else if (q->proto >= 0) {
    cay__dns_ask_srv(q, SRV_ONE); /* 4.1: the transport is known */
  } else {
    /* 4.1: neither port nor transport: NAPTR first. */
    q->step = NAPTR;
    cay__dns_ask_query(q, q->host, T_NAPTR);
  }
  /* c-ares may have answered already (/etc/hosts): not freed, held for
   * the kick timer (cay__dns_finish()). */
  q->in_locate = 0;
  schedule(d);
  return 0;
}

unsigned
cay__dns_pending(const cay__dns_t *d)
{
  return d->pending;
}

static void
on_timer_closed(uv_handle_t *h)
{
  handle_closed(h->data);
}

void
cay__dns_close(cay__dns_t *d, void (*cb)(void *arg), void *arg)
{
  dns_q_t *q, *next;

  d->closing = 1;
  d->closed_cb = cb;
  d->closed_arg = arg;
  /* The queries still in c-ares get ARES_EDESTRUCTION and free themselves
   * (closing is set); those answered and waiting for the kick are freed
   * here. Its sockets go through on_sock_state() as it closes them. */
  for (q = d->queries; q; q = next) {
    next = q->next;
    if (q->ready) {
      q_unlink(q);
      cay__free(q);
    }
  }
  if (d->depth == 0)
    close_now(d);
}

static void
close_now(cay__dns_t *d)
{
  ares_destroy(d->channel);
  while (d->socks)
    sock_drop(&d->socks);
  uv_close((uv_handle_t *)&d->timer, on_timer_closed);
  uv_close((uv_handle_t *)&d->kick, on_timer_closed);
}
