/*
 * The counters over HTTP (metrics.h): a small HTTP/1.1 server on shard
 * 0's loop, for a Prometheus scraper or curl.
 *
 *   accept -> read until the request's headers end (http_parser) ->
 *   GET or HEAD /metrics: wait for a gather of every shard's counters
 *   (cay_server_stats_gather(); requests that arrive meanwhile share
 *   it) -> 200 with the text -> close.
 *
 * Every answer closes its connection (Connection: close), so a
 * connection holds one request at most and nothing is kept between
 * scrapes. Anything else gets an HTTP error: another path 404, another
 * method 405, not HTTP 400, too long 431, more than
 * CAY__METRICS_MAX_CONNS connections 503. A client that sends nothing
 * whole within cay__metrics_timeout_ms is closed.
 */
#include "server/metrics.h"

#include <errno.h>
#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cay/cay.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/server_int.h"
#include "transport/addr.h"

uint64_t cay__metrics_timeout_ms = 10000;

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* the request's deadline */
  uv_write_t wr;
  struct conn *next, **pprev; /* in m->conns */
  cay__metrics_t *m;
  http_parser hp;
  size_t got;    /* bytes read */
  char url[256]; /* the request-target, cut at 255 bytes */
  size_t url_len;
  unsigned complete : 1, waiting : 1, head : 1, answered : 1, closing : 1;
  unsigned handles; /* open: tcp, timer */
  char *out;        /* the answer being written */
  char peer[64];    /* for the log */
} conn_t;

struct cay__metrics {
  cay_server_t *srv;
  uv_loop_t *loop;
  uv_tcp_t listener;
  conn_t *conns;
  unsigned n_conns;
  unsigned handles; /* open: the listener, and each connection */
  int gathering;    /* a gather asked for by us is out */
  int closing;
  char scratch[4096]; /* each read's bytes (one loop: used one at a time) */
  void (*close_cb)(void *arg);
  void *close_arg;
  char addr[80];
};

static void conn_close(conn_t *c);

/* -- the text (Prometheus exposition format 0.0.4) ------------------------ */

/* Text that grows as it is written; err set once memory ran out. */
typedef struct text {
  char *buf;
  size_t len, cap;
  int err;
} text_t;

static void __attribute__((format(printf, 2, 3)))
add(text_t *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  for (int tries = 0; tries < 2 && !t->err; tries++) {
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
      t->err = -EINVAL;
    else if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    } else { /* too small: room for it and as much again, then retry */
      size_t cap = 2 * (t->cap + (size_t)n);
      char *b = cay__realloc(t->buf, cap);
      if (b == NULL)
        t->err = -ENOMEM;
      else {
        t->buf = b;
        t->cap = cap;
      }
    }
  }
}

/* The histogram whose counters start at cay__stat_fields[@p k] (buckets,
 * sum in ms, count): its family, each shard's samples together. @return
 * the number of counters it took. */
static unsigned
add_histogram(text_t *t, const cay_stats_t *shards, unsigned n, unsigned k)
{
  const cay__stat_field_t *f = &cay__stat_fields[k];
  const char *fam = f->hist;
  unsigned nb = 0;

  while (cay__stat_fields[k + nb].le)
    nb++;
  add(t, "# HELP %s %s\n# TYPE %s histogram\n", fam, f->help, fam);
  for (unsigned i = 0; i < n; i++) {
    uint64_t sum = cay__stat_get(&shards[i], &f[nb]);
    uint64_t count = cay__stat_get(&shards[i], &f[nb + 1]);

    for (unsigned b = 0; b < nb; b++)
      add(t, "%s_bucket{shard=\"%u\",le=\"%s\"} %llu\n", fam, i, f[b].le,
          (unsigned long long)cay__stat_get(&shards[i], &f[b]));
    add(t,
        "%s_bucket{shard=\"%u\",le=\"+Inf\"} %llu\n"
        "%s_sum{shard=\"%u\"} %llu.%03u\n%s_count{shard=\"%u\"} %llu\n",
        fam, i, (unsigned long long)count, fam, i,
        (unsigned long long)(sum / 1000), (unsigned)(sum % 1000), fam, i,
        (unsigned long long)count);
  }
  return nb + 2;
}

int
cay__metrics_render(const cay_stats_t *shards, unsigned n, char **out,
                    size_t *len)
{
  text_t t = { .cap = 1 };

  if ((t.buf = cay__malloc(t.cap)) == NULL)
    return -ENOMEM;
  add(&t,
      "# HELP cay_build_info Cay's version.\n"
      "# TYPE cay_build_info gauge\n"
      "cay_build_info{version=\"%s\"} 1\n",
      CAY_VERSION);
  for (unsigned k = 0; k < cay__n_stat_fields; k++) {
    const cay__stat_field_t *f = &cay__stat_fields[k];
    const char *suffix = f->gauge ? "" : "_total";

    if (f->hist) {
      k += add_histogram(&t, shards, n, k) - 1;
      continue;
    }
    if (f->method) {
      /* One family, its samples together (the exposition format). */
      if (k == 0 || cay__stat_fields[k - 1].method == NULL)
        add(&t,
            "# HELP cay_requests_total %s\n"
            "# TYPE cay_requests_total counter\n",
            f->help);
      for (unsigned i = 0; i < n; i++)
        add(&t, "cay_requests_total{shard=\"%u\",method=\"%s\"} %llu\n", i,
            f->method, (unsigned long long)cay__stat_get(&shards[i], f));
      continue;
    }
    add(&t, "# HELP cay_%s%s %s\n# TYPE cay_%s%s %s\n", f->name, suffix,
        f->help, f->name, suffix, f->gauge ? "gauge" : "counter");
    for (unsigned i = 0; i < n; i++)
      add(&t, "cay_%s%s{shard=\"%u\"} %llu\n", f->name, suffix, i,
          (unsigned long long)cay__stat_get(&shards[i], f));
  }
  if (t.err) {
    cay__free(t.buf);
    return -ENOMEM;
  }
  *out = t.buf;
  *len = t.len;
  return 0;
}

/* -- closing ------------------------------------------------------------- */

/* Free @p m once nothing of it is open and no gather of ours is out. */
static void
maybe_freed(cay__metrics_t *m)
{
  void (*cb)(void *);
  void *arg;

  if (!m->closing || m->handles > 0 || m->gathering)
    return;
  cb = m->close_cb;
  arg = m->close_arg;
  CAY_DEBUG(0, "metrics: %s closed", m->addr);
  cay__free(m);
  if (cb)
    cb(arg);
}

static void
on_conn_handle_closed(uv_handle_t *h)
{
  conn_t *c = h->data;
  cay__metrics_t *m = c->m;

  if (--c->handles > 0)
    return;
  cay__free(c->out);
  cay__free(c);
  m->handles--;
  maybe_freed(m);
}

static void
conn_close(conn_t *c)
{
  if (c->closing)
    return;
  c->closing = 1;
  c->waiting = 0;
  if ((*c->pprev = c->next) != NULL)
    c->next->pprev = c->pprev;
  c->m->n_conns--;
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
}

static void
on_listener_closed(uv_handle_t *h)
{
  cay__metrics_t *m = h->data;

  m->handles--;
  maybe_freed(m);
}

void
cay__metrics_close(cay__metrics_t *m, void (*cb)(void *arg), void *arg)
{
  m->closing = 1;
  m->close_cb = cb;
  m->close_arg = arg;
  while (m->conns)
    conn_close(m->conns);
  uv_close((uv_handle_t *)&m->listener, on_listener_closed);
}

/* -- answers -------------------------------------------------------------- */

static void
on_written(uv_write_t *wr, int status)
{
  (void)status; /* either way the answer is done: close */
  conn_close(wr->data);
}

/* Answer @p c with @p status (its reason phrase @p reason), @p headers
 * (each ending in CRLF, or "") and @p body (a HEAD request gets only its
 * length), then close. A connection that cannot be answered (no memory,
 * a write error) is closed without one. */
static void
answer(conn_t *c, int status, const char *reason, const char *headers,
       const char *body, size_t body_len)
{
  size_t cap = 512 + strlen(headers) + body_len;
  int n;
  uv_buf_t b;

  if (c->answered || c->closing)
    return;
  c->answered = 1;
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_timer_stop(&c->timer);
  if ((c->out = cay__malloc(cap)) == NULL) {
    conn_close(c);
    return;
  }
  n = snprintf(c->out, cap,
               "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s"
               "Connection: close\r\nCache-Control: no-store\r\n\r\n",
               status, reason, body_len, headers);
  if (!c->head) {
    memcpy(c->out + n, body, body_len);
    n += (int)body_len;
  }
  CAY_DEBUG(0, "metrics: %s: %d %s", c->peer, status, reason);
  b = uv_buf_init(c->out, (unsigned)n);
  c->wr.data = c;
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0)
    conn_close(c);
}

/* An error answer whose body is @p text and a line end. */
static void
answer_text(conn_t *c, int status, const char *reason, const char *headers,
            const char *text)
{
  char body[256];
  int n = snprintf(body, sizeof body, "%s\n", text);

  answer(c, status, reason, headers, body, (size_t)n);
}

/* A gather we asked for has answered: every waiting request gets the
 * text of @p shards. */
static void
on_gathered(cay_server_t *srv, const cay_stats_t *shards, unsigned n,
            const cay_stats_t *total, void *arg)
{
  cay__metrics_t *m = arg;
  char *text = NULL;
  size_t len = 0;
  int err = cay__metrics_render(shards, n, &text, &len);

  (void)srv;
  (void)total;
  m->gathering = 0;
  for (conn_t *c = m->conns, *next; c; c = next) {
    next = c->next; /* answer() may close c */
    if (!c->waiting)
      continue;
    c->waiting = 0;
    if (err)
      answer_text(c, 500, "Internal Server Error", "", cay_strerror(err));
    else
      answer(c, 200, "OK",
             "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n", text,
             len);
  }
  cay__free(text);
  maybe_freed(m);
}

/* @p c wants the counters: ask every shard, unless a gather of ours is
 * already out (it answers @p c too). */
static void
want_counters(conn_t *c)
{
  cay__metrics_t *m = c->m;
  int err;

  c->waiting = 1;
  if (m->gathering)
    return;
  m->gathering = 1; /* with one shard the answer comes before the return */
  err = cay_server_stats_gather(m->srv, on_gathered, m);
  if (err == 0)
    return;
  m->gathering = 0;
  for (conn_t *w = m->conns, *next; w; w = next) {
    next = w->next;
    if (w->waiting) {
      w->waiting = 0;
      answer_text(w, 503, "Service Unavailable", "Retry-After: 1\r\n",
                  err == CAY_ESTATE ? "the server is not running"
                                    : cay_strerror(err));
    }
  }
}

/* The request's headers are in: answer it. */
static void
on_request(conn_t *c)
{
  const char *method = http_method_str((enum http_method)c->hp.method);
  size_t path_len = strcspn(c->url, "?#");

  c->head = c->hp.method == HTTP_HEAD;
  if (path_len != 8 || memcmp(c->url, "/metrics", 8) != 0)
    answer_text(c, 404, "Not Found", "",
                "Not Found: the counters are at /metrics");
  else if (c->hp.method != HTTP_GET && !c->head)
    answer_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
                "Method Not Allowed: GET or HEAD");
  else
    want_counters(c);
  CAY_DEBUG(0, "metrics: %s: %s %s", c->peer, method, c->url);
}

/* -- reading -------------------------------------------------------------- */

static int
on_url(http_parser *p, const char *at, size_t len)
{
  conn_t *c = p->data;
  size_t room = sizeof c->url - 1 - c->url_len;

  if (len > room)
    len = room;
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = '\0';
  return 0;
}

/* The headers end the request (a body is not read): stop the parser. */
static int
on_headers_complete(http_parser *p)
{
  conn_t *c = p->data;

  c->complete = 1;
  http_parser_pause(p, 1);
  return 0;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  conn_t *c = h->data;

  (void)suggested;
  *buf = uv_buf_init(c->m->scratch, sizeof c->m->scratch);
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  static const http_parser_settings settings
      = { .on_url = on_url, .on_headers_complete = on_headers_complete };
  conn_t *c = s->data;
  enum http_errno e;

  if (nread < 0) {
    conn_close(c); /* EOF or an error before the request was whole */
    return;
  }
  if (nread == 0 || c->complete)
    return;
  c->got += (size_t)nread;
  (void)http_parser_execute(&c->hp, &settings, buf->base, (size_t)nread);
  e = HTTP_PARSER_ERRNO(&c->hp);
  if (c->complete)
    on_request(c);
  else if (e != HPE_OK)
    answer_text(c, 400, "Bad Request", "", http_errno_description(e));
  else if (c->got > CAY__METRICS_MAX_REQUEST)
    answer_text(c, 431, "Request Header Fields Too Large", "",
                "Request Header Fields Too Large");
}

static void
on_timeout(uv_timer_t *t)
{
  conn_t *c = t->data;

  CAY_DEBUG(0, "metrics: %s: no whole request in %llu ms, closed", c->peer,
            (unsigned long long)cay__metrics_timeout_ms);
  conn_close(c);
}

/* The peer's address as text, for the log. */
static void
name_peer(conn_t *c)
{
  cay__addr_t a;
  int len = sizeof a.u;

  memset(&a, 0, sizeof a);
  if (uv_tcp_getpeername(&c->tcp, &a.u.sa, &len) != 0
      || cay__addr_format(&a, c->peer, sizeof c->peer) != 0)
    snprintf(c->peer, sizeof c->peer, "?");
}

static void
on_connection(uv_stream_t *server, int status)
{
  cay__metrics_t *m = server->data;
  conn_t *c;

  if (status < 0 || m->closing || (c = cay__calloc(1, sizeof *c)) == NULL)
    return;
  c->m = m;
  uv_tcp_init(m->loop, &c->tcp);
  uv_timer_init(m->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles = 2;
  m->handles++;
  if ((c->next = m->conns) != NULL)
    c->next->pprev = &c->next;
  c->pprev = &m->conns;
  m->conns = c;
  m->n_conns++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  name_peer(c);
  http_parser_init(&c->hp, HTTP_REQUEST);
  c->hp.data = c;
  if (m->n_conns > CAY__METRICS_MAX_CONNS) {
    answer_text(c, 503, "Service Unavailable", "Retry-After: 1\r\n",
                "too many connections");
    return;
  }
  uv_timer_start(&c->timer, on_timeout, cay__metrics_timeout_ms, 0);
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    conn_close(c);
}

/* -- opening -------------------------------------------------------------- */

int
cay__metrics_open(cay__metrics_t **out, cay_server_t *srv, uv_loop_t *loop,
                  const char *addr)
{
  cay__metrics_t *m;
  cay__addr_t a;
  int err;

  if (cay__addr_parse_bind(&a, addr) != 0)
    return -EINVAL;
  if ((m = cay__calloc(1, sizeof *m)) == NULL)
    return -ENOMEM;
  m->srv = srv;
  m->loop = loop;
  uv_tcp_init(loop, &m->listener);
  m->listener.data = m;
  m->handles = 1;
  err = uv_tcp_bind(&m->listener, &a.u.sa, 0);
  if (err == 0)
    err = uv_listen((uv_stream_t *)&m->listener, 64, on_connection);
  if (err == 0) { /* the port the kernel picked for port 0 */
    int len = sizeof a.u;
    err = uv_tcp_getsockname(&m->listener, &a.u.sa, &len);
  }
  if (err == 0)
    err = cay__addr_format(&a, m->addr, sizeof m->addr);
  if (err) {
    cay__metrics_close(m, NULL, NULL);
    return err;
  }
  CAY_INFO(-1, "metrics: serving the counters at http://%s/metrics", m->addr);
  *out = m;
  return 0;
}
