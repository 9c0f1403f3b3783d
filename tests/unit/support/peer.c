/* Scripted SIP peer for unit tests: see peer.h. */
#include "support/peer.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

const char peer_callee_sdp[] = "v=0\r\n"
                               "o=callee 1 1 IN IP4 127.0.0.9\r\n"
                               "s=-\r\n"
                               "c=IN IP4 127.0.0.9\r\n"
                               "t=0 0\r\n"
                               "m=audio 7000 RTP/AVP 0\r\n";

static int
capture(void *arg, const cay__peer_t *dst, const char *data, size_t len)
{
  peer_t *p = arg;

  if (p->fail_sends || (p->fail_tcp && dst->proto == CAY__TCP))
    return -EIO;
  if (p->discard) {
    p->ndiscarded++;
    return 0;
  }
  ck_assert_uint_lt(p->nsent, PEER_MAX_SENT);
  p->sent[p->nsent].data = malloc(len + 1);
  memcpy(p->sent[p->nsent].data, data, len);
  p->sent[p->nsent].data[len] = '\0';
  p->sent[p->nsent].len = len;
  p->sent[p->nsent].dst = dst->addr;
  p->sent[p->nsent].proto = dst->proto;
  p->sent[p->nsent].conn = dst->conn;
  p->sent[p->nsent].flow = dst->flow;
  p->nsent++;
  return 0;
}

peer_t *
peer_new(const cay_config_t *cfg)
{
  peer_t *p = calloc(1, sizeof *p);
  cay__tu_t none = { 0 };

  p->alloc_start = cay__alloc_live();
  if (cfg)
    p->cfg = *cfg;
  else
    cay_config_init(&p->cfg);
  ck_assert_int_eq(uv_loop_init(&p->loop), 0);
  ck_assert_int_eq(cay__shard_init(&p->shard, &p->loop, 0, 1), 0);
  ck_assert_int_eq(cay__endpoint_init(&p->ep, &p->shard, &none, capture, p,
                                      "127.0.0.1:5060"),
                   0);
  ck_assert_int_eq(cay__sessions_init(&p->ss, &p->ep, &p->cfg), 0);
  ck_assert_int_eq(cay__addr_set(&p->addr, "127.0.0.1", 5070), 0);
  p->src.addr = p->addr;
  p->src.proto = CAY__UDP;
  return p;
}

void
peer_clear(peer_t *p)
{
  for (unsigned i = 0; i < p->nsent; i++)
    free(p->sent[i].data);
  p->nsent = 0;
}

const char *
peer_padded_sdp(char *buf, size_t size, const char *sdp)
{
  size_t off = (size_t)snprintf(buf, size, "%s", sdp);

  for (int i = 0; off + 40 < size; i++)
    off += (size_t)snprintf(buf + off, size - off,
                            "a=x-pad:%03d 0123456789abcdef\r\n", i);
  return buf;
}

void
peer_free(peer_t *p)
{
  cay__sessions_fini(&p->ss);
  cay__endpoint_fini(&p->ep);
  ck_assert_int_eq(cay__shard_fini(&p->shard, NULL, NULL), 0);
  ck_assert_int_eq(uv_loop_close(&p->loop), 0);
  peer_clear(p);
  /* Every allocation made through the shim was given back. */
  ck_assert_int_eq(cay__alloc_live(), p->alloc_start);
  free(p);
}

static char *
read_template(const char *name)
{
  char path[512];
  FILE *f;
  long n;
  char *buf;

  snprintf(path, sizeof path, "%s/%s", CAY_TEST_DATA, name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* Replace every $key by its value; keys are [a-z_]+. */
static char *
substitute(const char *tmpl, const char **kv, unsigned nkv)
{
  size_t cap = strlen(tmpl) * 2 + 1024, off = 0;
  char *out = malloc(cap);

  for (const char *s = tmpl; *s;) {
    if (*s == '$') {
      size_t k = 1;
      while ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '_')
        k++;
      int done = 0;
      for (unsigned i = 0; i + 1 < nkv; i += 2) {
        if (strlen(kv[i]) == k - 1 && memcmp(kv[i], s + 1, k - 1) == 0) {
          size_t vl = strlen(kv[i + 1]);
          if (off + vl + 1 > cap)
            out = realloc(out, cap = (off + vl) * 2 + 1);
          memcpy(out + off, kv[i + 1], vl);
          off += vl;
          s += k;
          done = 1;
          break;
        }
      }
      if (done)
        continue;
    }
    if (off + 2 > cap)
      out = realloc(out, cap *= 2);
    out[off++] = *s++;
  }
  out[off] = '\0';
  return out;
}

void
peer_send(peer_t *p, const char *name, ...)
{
  const char *kv[64];
  unsigned nkv = 0;
  char *tmpl = read_template(name), *msg, *body, clen[32];
  va_list ap;

  va_start(ap, name);
  for (const char *k; (k = va_arg(ap, const char *)) != NULL && nkv < 60;) {
    kv[nkv++] = k;
    kv[nkv++] = va_arg(ap, const char *);
  }
  va_end(ap);
  /* Body length after substitution, then $clen. */
  msg = substitute(tmpl, kv, nkv);
  body = strstr(msg, "\r\n\r\n");
  snprintf(clen, sizeof clen, "%zu", body ? strlen(body + 4) : 0);
  kv[nkv++] = "clen";
  kv[nkv++] = clen;
  free(msg);
  msg = substitute(tmpl, kv, nkv);
  peer_send_raw(p, msg, strlen(msg));
  free(msg);
  free(tmpl);
}

void
peer_send_raw(peer_t *p, const char *data, size_t len)
{
  cay__endpoint_recv(&p->ep, data, len, &p->src);
  cay__shard_flush(&p->shard);
}

void
peer_advance(peer_t *p, uint64_t ms)
{
  cay__shard_advance(&p->shard, ms);
}

msg_t *
peer_msg(peer_t *p, unsigned i)
{
  msg_t *m;

  ck_assert_uint_lt(i, p->nsent);
  ck_assert_int_eq(cay__msg_parse(p->sent[i].data, p->sent[i].len, &m), 0);
  return m;
}

int
peer_status(peer_t *p, unsigned i)
{
  msg_t *m = peer_msg(p, i);
  sip_t *sip = sip_object(m);
  int st = sip->sip_status ? sip->sip_status->st_status : 0;

  msg_destroy(m);
  return st;
}

const char *
peer_method(peer_t *p, unsigned i)
{
  static char name[32];
  msg_t *m = peer_msg(p, i);
  sip_t *sip = sip_object(m);

  snprintf(name, sizeof name, "%s",
           sip->sip_request ? sip->sip_request->rq_method_name : "");
  msg_destroy(m);
  return name;
}

int
peer_last_status(peer_t *p)
{
  return p->nsent ? peer_status(p, p->nsent - 1) : -1;
}

unsigned
peer_count(peer_t *p, int status, const char *method)
{
  unsigned n = 0;

  for (unsigned i = 0; i < p->nsent; i++) {
    if (status && peer_status(p, i) == status)
      n++;
    else if (!status && method && strcmp(peer_method(p, i), method) == 0)
      n++;
  }
  return n;
}

int
peer_find_last(peer_t *p, int status, const char *method)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    if (status && peer_status(p, (unsigned)i) == status)
      return i;
    if (!status && method && strcmp(peer_method(p, (unsigned)i), method) == 0)
      return i;
  }
  return -1;
}

int
peer_find_request(peer_t *p, const char *method, const char *call_id)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    if (peer_status(p, (unsigned)i) != 0
        || strcmp(peer_method(p, (unsigned)i), method) != 0)
      continue;
    if (call_id == NULL)
      return i;
    char *cid = peer_header(p, (unsigned)i, "Call-ID");
    int same = cid && strcmp(cid, call_id) == 0;
    free(cid);
    if (same)
      return i;
  }
  return -1;
}

char *
peer_header(peer_t *p, unsigned i, const char *name)
{
  /* Plain text search of the header section: enough for tests. */
  const char *data = p->sent[i].data;
  size_t nl = strlen(name);

  for (const char *line = strstr(data, "\r\n"); line && line[2] != '\r';
       line = strstr(line + 2, "\r\n")) {
    const char *h = line + 2;
    if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
      const char *v = h + nl + 1, *end = strstr(v, "\r\n");
      while (*v == ' ')
        v++;
      return strndup(v, (size_t)(end - v));
    }
  }
  return NULL;
}

void
peer_header_is(peer_t *p, unsigned i, const char *name, const char *want)
{
  char *v = peer_header(p, i, name);

  ck_assert_msg(v != NULL, "message %u has no %s header", i, name);
  ck_assert_str_eq(v, want);
  free(v);
}

const char *
peer_to_tag(peer_t *p, unsigned i, char *buf, size_t n)
{
  char *to = peer_header(p, i, "To");
  const char *tag;

  ck_assert_ptr_nonnull(to);
  tag = strstr(to, ";tag=");
  ck_assert_ptr_nonnull(tag);
  snprintf(buf, n, "%s", tag);
  free(to);
  return buf;
}

void
peer_respond(peer_t *p, unsigned i, const char *status, const char *totag,
             const char *extra)
{
  peer_respond_sdp(p, i, status, totag, extra, NULL);
}

void
peer_respond_sdp(peer_t *p, unsigned i, const char *status, const char *totag,
                 const char *extra, const char *sdp)
{
  char *via = peer_header(p, i, "Via");
  char *from = peer_header(p, i, "From");
  char *to = peer_header(p, i, "To");
  char *cid = peer_header(p, i, "Call-ID");
  char *cseq = peer_header(p, i, "CSeq");
  char tob[512];

  snprintf(tob, sizeof tob, "%s%s%s", to, totag ? ";tag=" : "",
           totag ? totag : "");
  if (sdp)
    peer_send(p, "response_sdp.sip", "status", status, "phrase", "X", "via",
              via, "from", from, "to", tob, "callid", cid, "cseq", cseq,
              "extra", extra ? extra : "", "body", sdp, NULL);
  else
    peer_send(p, "response_extra.sip", "status", status, "phrase", "X", "via",
              via, "from", from, "to", tob, "callid", cid, "cseq", cseq,
              "extra", extra ? extra : "", NULL);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
}
