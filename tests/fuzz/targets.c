/*
 * Fuzz targets (targets.h): each mirrors what the server does with one
 * untrusted input, step by step, so that a crash found here is one the
 * server has too. Where the code under test promises something checkable
 * (a response Cay builds parses back, an answer Cay writes is valid SDP,
 * framing does not depend on read boundaries), the target checks it and
 * aborts, which is what turns a wrong result into a fuzzer finding.
 */
#define _GNU_SOURCE /* memfd_create */
#include "targets.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "b2bua/route.h"
#include "cay/config.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "dialog/rel.h"
#include "dialog/sdp.h"
#include "dialog/stimer.h"
#include "sip/msg.h"
#include "sip/txn_int.h"
#include "transport/addr.h"
#include "transport/callid.h"
#include "transport/dns_cache.h"
#include "transport/framing.h"
#include "transport/stun.h"

#include <ares.h>

/* An invariant of the code under test failed: say which, then crash so
 * that the fuzzer saves the input and the replay test fails. */
static void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fuzz_fail(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fputs("fuzz invariant failed: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

/* ------------------------------------------------------------------ */
/* SIP messages                                                         */
/* ------------------------------------------------------------------ */

/* The options the dialog layer answers with (src/dialog/layer.c), and a
 * route's codec filters (src/dialog/request.c answer_filtered()). */
static const char *const default_codecs[]
    = { "PCMU", "PCMA", "telephone-event" };
static const cay__sdp_opts_t default_sdp = {
  .codecs = default_codecs,
  .n_codecs = 3,
  .media_ip = "127.0.0.1",
  .port_base = 40000,
};
static const char *const filter_a[] = { "PCMA", "telephone-event" };
static const char *const filter_b[] = { "PCMU" };

/* The To tag Cay adds to the responses built below. */
#define FUZZ_TO_TAG "fz7tag0001"

/* An INVITE's Replaces as the worker scans it to hand the INVITE to the
 * shard of the dialog it names (src/server/worker_route.c) must name the
 * Call-ID the parser reads, or a transfer could look for its dialog on
 * the wrong shard. */
static void
check_replaces(const char *data, size_t size, const sip_t *sip)
{
  const sip_replaces_t *rp = sip->sip_replaces;
  const char *cid;
  size_t cidlen;

  if (sip->sip_request == NULL
      || sip->sip_request->rq_method != sip_method_invite || rp == NULL
      || rp->rp_call_id == NULL)
    return;
  if (cay__replaces_scan(data, size, &cid, &cidlen) != 0)
    fuzz_fail("Replaces naming \"%s\" parsed, but cay__replaces_scan() "
              "found none",
              rp->rp_call_id);
  if (strlen(rp->rp_call_id) != cidlen
      || memcmp(rp->rp_call_id, cid, cidlen) != 0)
    fuzz_fail("Replaces Call-ID parsed as \"%s\", scanned as \"%.*s\"",
              rp->rp_call_id, (int)cidlen, cid);
}

/* The datagram's Call-ID as the worker scans it to pick the owner shard
 * must be the Call-ID the message parses to, or the messages of one call
 * could be handled by different shards. */
static void
check_steering(const char *data, size_t size, const sip_t *sip)
{
  const char *cid;
  size_t cidlen;

  if (sip->sip_call_id == NULL || sip->sip_call_id->i_id == NULL)
    return;
  if (cay__callid_scan(data, size, &cid, &cidlen) != 0)
    fuzz_fail("Call-ID \"%s\" parsed, but cay__callid_scan() found none",
              sip->sip_call_id->i_id);
  if (strlen(sip->sip_call_id->i_id) != cidlen
      || memcmp(sip->sip_call_id->i_id, cid, cidlen) != 0)
    fuzz_fail("Call-ID parsed as \"%s\", scanned as \"%.*s\"",
              sip->sip_call_id->i_id, (int)cidlen, cid);
  check_replaces(data, size, sip);
}

static int
count_vias(const sip_t *sip)
{
  int n = 0;

  for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
    n++;
  return n;
}

/*
 * A response Cay built to the valid request @p rq must parse as a valid
 * response carrying the request's Via list, Call-ID and CSeq, and the To
 * tag: the request's, else @p tag when Cay added one.
 */
static void
check_response_bytes(const char *what, const char *data, size_t len,
                     const sip_t *rq, const char *tag)
{
  msg_t *m = NULL;
  const sip_t *rs;
  int err;

  err = cay__msg_parse(data, len, &m);
  if (err != 0 || m == NULL)
    fuzz_fail("%s to a valid request does not parse (%d): %.*s", what, err,
              (int)len, data);
  rs = sip_object(m);
  if (rs->sip_status == NULL || cay__msg_check_response(m) != 0)
    fuzz_fail("%s to a valid request is not a valid response (first error "
              "in %s): %.*s",
              what,
              rs->sip_error ? msg_is_error((msg_header_t *)rs->sip_error)
                                  ? rs->sip_error->er_name
                                  : rs->sip_error->er_common->h_class->hc_name
                            : "(none)",
              (int)len, data);
  if (strcmp(rs->sip_call_id->i_id, rq->sip_call_id->i_id) != 0)
    fuzz_fail("%s: Call-ID \"%s\" became \"%s\"", what, rq->sip_call_id->i_id,
              rs->sip_call_id->i_id);
  if (rs->sip_cseq->cs_seq != rq->sip_cseq->cs_seq
      || strcmp(rs->sip_cseq->cs_method_name, rq->sip_cseq->cs_method_name)
             != 0)
    fuzz_fail("%s: CSeq %u %s became %u %s", what, rq->sip_cseq->cs_seq,
              rq->sip_cseq->cs_method_name, rs->sip_cseq->cs_seq,
              rs->sip_cseq->cs_method_name);
  if (count_vias(rs) != count_vias(rq))
    fuzz_fail("%s: %d Via headers became %d", what, count_vias(rq),
              count_vias(rs));
  if (rq->sip_to->a_tag) {
    if (rs->sip_to->a_tag == NULL
        || strcmp(rs->sip_to->a_tag, rq->sip_to->a_tag) != 0)
      fuzz_fail("%s: To tag \"%s\" became \"%s\"", what, rq->sip_to->a_tag,
                rs->sip_to->a_tag ? rs->sip_to->a_tag : "(none)");
  } else if (tag) {
    if (rs->sip_to->a_tag == NULL || strcmp(rs->sip_to->a_tag, tag) != 0)
      fuzz_fail("%s: To tag \"%s\" added, \"%s\" parsed: %.*s", what, tag,
                rs->sip_to->a_tag ? rs->sip_to->a_tag : "(none)", (int)len,
                data);
  }
  msg_destroy(m);
}

/* A response built as a msg_t (cay__msg_response()), serialized. */
static void
respond_msg(msg_t *req, int status, const char *phrase, const char *tag,
            int valid)
{
  msg_t *resp = cay__msg_response(req, status, phrase, NULL);
  sip_t *rs;
  const char *data;
  size_t len;

  if (resp == NULL)
    return;
  rs = sip_object(resp);
  /* cay__endpoint_tag_response(): a tag for everything above 100. */
  if (tag && status > 100 && rs->sip_to && !rs->sip_to->a_tag) {
    if (sip_to_tag(msg_home(resp), rs->sip_to, tag) < 0) {
      msg_destroy(resp);
      return;
    }
    msg_fragment_clear(rs->sip_to->a_common);
  }
  if (cay__msg_serialize(resp, &data, &len) == 0 && valid)
    check_response_bytes("cay__msg_response()", data, len, sip_object(req),
                         status > 100 ? tag : NULL);
  msg_destroy(resp);
}

/* A response encoded straight from the request (the session layer's fast
 * path, cay__txn_reply_encoded()), into a buffer of the endpoint's
 * scratch size. */
static void
respond_encoded(msg_t *req, int status, const char *extra, const char *body,
                size_t body_len, int valid)
{
  static char buf[65536];
  long n;

  n = cay__msg_response_encode(req, status, NULL, FUZZ_TO_TAG, extra,
                               body ? "application/sdp" : NULL, body, body_len,
                               buf, sizeof buf);
  if (n < 0 || !valid)
    return;
  if ((size_t)n > sizeof buf)
    fuzz_fail("cay__msg_response_encode() wrote %ld bytes into %zu", n,
              sizeof buf);
  check_response_bytes("cay__msg_response_encode()", buf, (size_t)n,
                       sip_object(req), status > 100 ? FUZZ_TO_TAG : NULL);
}

/* What the dialog layer reads from a response (src/dialog/uac.c). */
static void
take_response(msg_t *msg, const sip_t *sip)
{
  cay__stimer_t st;
  cay__addr_t dst;
  uint32_t rseq;

  (void)msg;
  (void)cay__via_response_dest(sip->sip_via, &dst);
  (void)cay__rel_provisional(sip, &rseq);
  if (sip->sip_status->st_status >= 200 && sip->sip_status->st_status < 300)
    cay__stimer_on_response(sip, &st);
  (void)cay__stimer_min_se_of_422(sip);
}

/* The SDP body of a valid INVITE, as the session layer takes it:
 * answered (cay__session_auto_sdp()), or filtered and then answered. The
 * answer goes into the 200 when there is one. */
static char *
take_offer(const sip_t *sip, size_t *answer_len)
{
  const char *offer = sip->sip_payload->pl_data;
  size_t len = sip->sip_payload->pl_len;
  char *answer = NULL, *filtered = NULL, *a2 = NULL;
  size_t flen, a2len;

  *answer_len = 0;
  if (cay__sdp_answer(offer, len, &default_sdp, 1234567890123456ull, &answer,
                      answer_len)
      != 0)
    answer = NULL;
  if (cay__sdp_filter(offer, len, filter_a, 2, &filtered, &flen) == 0) {
    if (cay__sdp_answer(filtered, flen, &default_sdp, 1, &a2, &a2len) == 0)
      cay__free(a2);
    cay__free(filtered);
  }
  return answer;
}

/* A request that passed cay__msg_check_request(): the transaction key,
 * the destinations, and the responses the server sends. */
static void
take_request(msg_t *msg, sip_t *sip)
{
  const sip_request_t *rq = sip->sip_request;
  char lines[400], *key, *answer = NULL;
  cay__stimer_t st;
  cay__addr_t dst;
  size_t keylen, answer_len = 0, n;
  int status = 200;

  key = cay__txn_server_key(
      sip, rq->rq_method == sip_method_ack ? "INVITE" : rq->rq_method_name,
      &keylen);
  cay__free(key);
  (void)cay__url_dest(rq->rq_url, &dst);
  (void)cay__via_response_dest(sip->sip_via, &dst);
  /* Over a stream the source's IP with the sent-by port (18.2.2). */
  (void)cay__addr_set(&dst, "192.0.2.1", 40000);
  if (cay__via_stream_dest(sip->sip_via, &dst) != 0
      && cay__addr_port(&dst) != 40000)
    fuzz_fail("cay__via_stream_dest() failed but changed the address");
  if (sip->sip_contact)
    (void)cay__url_dest(sip->sip_contact->m_url, &dst);
  if (rq->rq_method == sip_method_ack)
    return; /* never answered */
  if (rq->rq_method == sip_method_prack)
    (void)cay__rel_prack_matches(sip, 1, sip->sip_cseq->cs_seq);

  lines[0] = '\0';
  if (rq->rq_method == sip_method_invite
      || rq->rq_method == sip_method_update) {
    respond_msg(msg, 100, NULL, NULL, 1);
    status = cay__stimer_on_request(90, sip, &st, lines, sizeof lines);
    if (status == 0 && cay__rel_wanted(sip) == 1) {
      n = strlen(lines);
      (void)cay__rel_lines(1, lines + n, sizeof lines - n);
    }
    if (status == 0) {
      respond_encoded(msg, 180, lines, NULL, 0, 1);
      status = 200;
    } else if (status < 0) {
      status = 500;
    }
    if (sip->sip_payload && sip->sip_payload->pl_len > 0)
      answer = take_offer(sip, &answer_len);
  }
  respond_encoded(msg, status, lines, answer, answer_len, 1);
  /* The slow path (a hook wants the response as a msg_t). */
  respond_msg(msg, status, NULL, FUZZ_TO_TAG, 1);
  cay__free(answer);
}

/* src/sip/txn_transport.c: the top Via's transport changed in place
 * (RFC 3261 18.1.1), on a copy of exactly @p size bytes so that a read
 * past the end is caught. */
static void
switch_via(const char *d, size_t size)
{
  char *copy = size ? malloc(size) : NULL;
  size_t changed = 0;

  if (copy == NULL)
    return;
  memcpy(copy, d, size);
  if (cay__msg_set_via_transport(copy, size, CAY__TCP) != 0) {
    if (memcmp(copy, d, size) != 0)
      fuzz_fail("cay__msg_set_via_transport() failed but changed bytes");
  } else {
    for (size_t i = 0; i < size; i++)
      changed += copy[i] != d[i];
    if (changed > 3)
      fuzz_fail("cay__msg_set_via_transport() changed %zu bytes", changed);
    if (cay__msg_set_via_transport(copy, size, CAY__UDP) != 0)
      fuzz_fail("cay__msg_set_via_transport() cannot switch back");
  }
  free(copy);
}

int
cay_fuzz_msg(const uint8_t *data, size_t size)
{
  const char *d = (const char *)data, *cid, *phrase = "Bad Request";
  cay__addr_t src;
  msg_t *msg = NULL;
  sip_t *sip;
  size_t cidlen;
  int err, status;

  /* src/server/worker_route.c cay__worker_route(): steering by Call-ID,
   * before parsing. */
  if (cay__callid_scan(d, size, &cid, &cidlen) == 0) {
    if (cidlen == 0 || cid < d || cid + cidlen > d + size)
      fuzz_fail("cay__callid_scan() returned %zu bytes at offset %td", cidlen,
                cid - d);
    (void)cay__callid_shard(cid, cidlen, 4);
  }
  if (cay__addr_set(&src, "192.0.2.1", 5070) != 0)
    abort();
  switch_via(d, size);

  /* src/sip/endpoint.c cay__endpoint_recv(). */
  err = cay__msg_parse(d, size, &msg);
  if (msg == NULL)
    return 0;
  sip = sip_object(msg);
  if (sip->sip_status && err == 0) {
    if (cay__msg_check_response(msg) == 0) {
      check_steering(d, size, sip);
      take_response(msg, sip);
    }
    msg_destroy(msg);
    return 0;
  }
  if (sip->sip_request && sip->sip_via)
    (void)cay__via_fix_received(msg, &src);
  status = cay__msg_check_request(msg, &phrase);
  if (err && status == 0)
    status = 400;
  if (status) {
    /* reject_bad(): answerable requests but ACK get the status. */
    if (cay__msg_answerable(sip)
        && sip->sip_request->rq_method != sip_method_ack) {
      respond_msg(msg, status, phrase, FUZZ_TO_TAG, 0);
      respond_encoded(msg, status, NULL, NULL, 0, 0);
    }
  } else {
    check_steering(d, size, sip);
    take_request(msg, sip);
  }
  msg_destroy(msg);
  return 0;
}

/* ------------------------------------------------------------------ */
/* SDP                                                                  */
/* ------------------------------------------------------------------ */

/* An answer Cay wrote is valid SDP by Cay's own check. */
static void
check_answer(const char *what, const char *answer, size_t len)
{
  if (strlen(answer) != len)
    fuzz_fail("%s: answer_len %zu, strlen %zu", what, len, strlen(answer));
  if (cay__sdp_check(answer, len) != 0)
    fuzz_fail("%s: Cay's answer is not valid SDP:\n%s", what, answer);
}

static void
answer_with(const char *what, const char *sdp, size_t len,
            const cay__sdp_opts_t *o)
{
  char *answer = NULL;
  size_t alen = 0;

  if (cay__sdp_answer(sdp, len, o, 1234567890123456ull, &answer, &alen) == 0)
    check_answer(what, answer, alen);
  else if (answer)
    fuzz_fail("%s: failed, but *answer is set", what);
  cay__free(answer);
}

static void
filter_with(const char *sdp, size_t len, const char *const *codecs, unsigned n)
{
  char *out = NULL;
  size_t olen = 0;
  int err;

  err = cay__sdp_filter(sdp, len, codecs, n, &out, &olen);
  if (err != 0)
    return;
  if (out[olen] != '\0')
    fuzz_fail("cay__sdp_filter(): result not NUL-terminated");
  /* answer_filtered(): the filtered offer is answered. */
  answer_with("answer of a filtered offer", out, olen, &default_sdp);
  cay__free(out);
}

int
cay_fuzz_sdp(const uint8_t *data, size_t size)
{
  static const char *const v6_codecs[]
      = { "G729", "G722", "telephone-event", "PCMU", "PCMA" };
  /* Stream k gets port_base + 2k: from the fourth stream on, above 65535,
   * which must be rejected rather than written. */
  static const cay__sdp_opts_t v6 = {
    .codecs = v6_codecs,
    .n_codecs = 5,
    .media_ip = "2001:db8::1",
    .port_base = 65530,
  };
  const char *sdp = (const char *)data;

  /* The SDP functions take a pointer and a length; an empty body is not
   * an offer (the session layer tests pl_len first). */
  if (size == 0)
    return 0;
  (void)cay__sdp_check(sdp, size);
  answer_with("answer (layer.c options)", sdp, size, &default_sdp);
  answer_with("answer (IPv6, high ports)", sdp, size, &v6);
  filter_with(sdp, size, filter_a, 2);
  filter_with(sdp, size, filter_b, 1);
  return 0;
}

/* ------------------------------------------------------------------ */
/* TCP framing                                                          */
/* ------------------------------------------------------------------ */

#define FRAMER_MAX_HEADERS 32

/* What a framer handed out, folded into a count and a hash so that two
 * runs can be compared without keeping the items. */
struct frame_log {
  unsigned items;
  uint64_t hash;
  int last; /* last result of cay__framer_next() or a failed push */
};

static void
log_item(struct frame_log *l, int kind, const char *p, size_t len)
{
  uint64_t h = l->hash ^ (uint64_t)(unsigned)kind;

  h = (h ^ len) * 0x100000001b3ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
  l->hash = h;
  l->items++;
  l->last = kind;
}

/* Push one read, then take items until the framer wants more; as
 * tcp_conn.c deliver(), stop at the first error. @return 0 to go on. */
static int
feed(cay__framer_t *f, const char *p, size_t len, struct frame_log *l)
{
  const char *msg;
  size_t mlen;
  int r = cay__framer_push(f, p, len);

  if (r) {
    log_item(l, r, NULL, 0);
    return r;
  }
  for (;;) {
    r = cay__framer_next(f, &msg, &mlen);
    if (r == CAY__FRAME_NONE)
      return 0;
    if (r == CAY__FRAME_MESSAGE && (mlen == 0 || mlen > f->max_msg))
      fuzz_fail("framer: message of %zu bytes (max_msg %zu)", mlen, f->max_msg);
    log_item(l, r, msg, msg ? mlen : 0);
    if (r < 0)
      return r;
  }
}

int
cay_fuzz_framer(const uint8_t *data, size_t size)
{
  const char *stream = (const char *)data + 4;
  struct frame_log split = { 0, 0xcbf29ce484222325ull, 0 };
  struct frame_log whole = split;
  cay__framer_t f;
  size_t len, off = 0, max_msg;
  unsigned i = 0;

  if (size < 4)
    return 0;
  len = size - 4;
  max_msg = (data[0] & 1) ? 4096 : 300;

  /* The stream in reads of the plan's lengths: a plan byte b gives
   * b + 1 bytes (b < 128) or ((b & 127) + 1) * 64 bytes. */
  cay__framer_init(&f, max_msg, FRAMER_MAX_HEADERS);
  while (off < len) {
    unsigned b = data[i++ % 4];
    size_t n = b & 0x80 ? ((b & 0x7f) + 1) * 64 : b + 1;

    if (n > len - off)
      n = len - off;
    if (feed(&f, stream + off, n, &split) != 0)
      break;
    off += n;
  }
  cay__framer_fini(&f);

  /* The same stream in one read. */
  cay__framer_init(&f, max_msg, FRAMER_MAX_HEADERS);
  if (len > 0)
    (void)feed(&f, stream, len, &whole);
  cay__framer_fini(&f);

  if (split.items != whole.items || split.hash != whole.hash
      || split.last != whole.last)
    fuzz_fail("framer: split reads gave %u items (last %d), one read %u "
              "(last %d)",
              split.items, split.last, whole.items, whole.last);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                        */
/* ------------------------------------------------------------------ */

static void
check_target(const cay_route_t *r, const cay__route_req_t *req, size_t outlen)
{
  char out[CAY_CONFIG_TEXT_LEN + 64];
  long n;

  n = cay__route_target(r, req, out, outlen);
  if (n >= 0 && ((size_t)n >= outlen || strlen(out) != (size_t)n))
    fuzz_fail("cay__route_target() returned %ld for \"%s\" in %zu bytes", n,
              out, outlen);
  if (n < 0 && (n != CAY_ELIMIT || out[0] != '\0'))
    fuzz_fail("cay__route_target() returned %ld, out \"%s\"", n, out);
}

static void
match_routes(const cay__routes_t *routes)
{
  cay__addr_t v4, v6;
  cay__route_req_t reqs[3] = {
    { "INVITE", "1000", "example.com", &v4 },
    { "OPTIONS", NULL, "2001:db8::5", &v6 },
    { "INVITE", "", "127.0.0.1", NULL },
  };

  if (cay__addr_set(&v4, "10.1.2.3", 5060) != 0
      || cay__addr_set(&v6, "::1", 5060) != 0)
    abort();
  for (unsigned i = 0; i < 3; i++) {
    const cay_route_t *r = cay__routes_match(routes, &reqs[i]);

    if (r == NULL || r->action != CAY_ROUTE_FORWARD)
      continue;
    /* src/dialog/request.c pick_route()'s buffer, and one too small. */
    check_target(r, &reqs[i], CAY_CONFIG_TEXT_LEN + 64);
    check_target(r, &reqs[i], 12);
  }
}

int
cay_fuzz_config(const uint8_t *data, size_t size)
{
  cay_config_t *cfg;
  cay__routes_t *routes = NULL;
  char path[64], err[512];
  int fd, rc;

  cfg = malloc(sizeof *cfg);
  if (cfg == NULL)
    abort();
  fd = memfd_create("cay-fuzz-config", MFD_CLOEXEC);
  if (fd < 0)
    abort();
  for (size_t off = 0; off < size;) {
    ssize_t n = write(fd, data + off, size - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      abort();
    off += (size_t)n;
  }
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

  cay_config_init(cfg);
  rc = cay_config_load(cfg, path, err, sizeof err);
  if (rc == 0) {
    if (cay_config_check(cfg, err, sizeof err) != 0)
      fuzz_fail("loaded configuration fails cay_config_check(): %s", err);
    rc = cay__routes_new(cfg, &routes, err, sizeof err);
    if (rc == CAY_ECONFIG)
      fuzz_fail("loaded configuration, but cay__routes_new(): %s", err);
    if (rc == 0 && cay__routes_count(routes) > 0)
      match_routes(routes);
    cay__routes_free(routes);
  } else if (rc != CAY_ECONFIG && rc != -ENOMEM) {
    fuzz_fail("cay_config_load() returned %d: %s", rc, err);
  }
  close(fd);
  free(cfg);
  return 0;
}

/* -- dns ------------------------------------------------------------------- */

int
cay_fuzz_dns(const uint8_t *data, size_t size)
{
  static unsigned char back[CAY__DNS_CACHE_MAX_DATA];
  cay__dns_cache_t *c = NULL;
  uint32_t ttl = 0, again = 0;
  size_t len = 0;
  int rc, status = -1, kept;

  rc = cay__dns_msg_ttl(data, size, &ttl);
  if (cay__dns_msg_ttl(data, size, &again) != rc || (rc == 0 && ttl != again))
    fuzz_fail("dns: the TTL of one message changed (%d %u, then %u)", rc, ttl,
              again);
  if (rc != 0 && rc != -1)
    fuzz_fail("dns: cay__dns_msg_ttl returned %d", rc);
  if (rc != 0)
    return 0;
  if (ttl & 0x80000000u)
    fuzz_fail("dns: TTL %u has the top bit set", ttl);
  if (cay__dns_cache_create(&c, 2, 60) != 0)
    return 0;
  kept = cay__dns_cache_put(c, 33, "_sip._udp.example.test", 7, data, size, ttl,
                            1000);
  if (kept < 0) { /* out of memory only */
    cay__dns_cache_free(c);
    return 0;
  }
  if (kept != (ttl > 0 && size <= CAY__DNS_CACHE_MAX_DATA))
    fuzz_fail("dns: put gave %d for TTL %u, %zu bytes", kept, ttl, size);
  if (kept) {
    uint64_t end = 1000 + (uint64_t)(ttl < 60 ? ttl : 60) * 1000;

    if (!cay__dns_cache_get(c, 33, "_SIP._udp.example.test", end - 1, &status,
                            back, &len)
        || status != 7 || len != size || memcmp(back, data, size) != 0)
      fuzz_fail("dns: a kept message did not come back as it went in");
    {
      struct ares_srv_reply *srv = NULL;
      struct ares_naptr_reply *naptr = NULL;

      if (ares_parse_srv_reply(back, (int)len, &srv) == ARES_SUCCESS)
        ares_free_data(srv);
      if (ares_parse_naptr_reply(back, (int)len, &naptr) == ARES_SUCCESS)
        ares_free_data(naptr);
    }
    if (cay__dns_cache_get(c, 33, "_sip._udp.example.test", end, &status, back,
                           &len))
      fuzz_fail("dns: a message was still kept after its TTL");
  }
  cay__dns_cache_free(c);
  return 0;
}

/* ------------------------------------------------------------------ */
/* STUN keep-alives.                                                    */
/* ------------------------------------------------------------------ */

static void
check_stun_answer(const uint8_t *req, size_t size, const uint8_t *a, int n)
{
  unsigned type;

  if (n < 0 && n != -ENOMEM)
    fuzz_fail("stun: cay__stun_answer returned %d", n);
  if (n <= 0)
    return;
  if (!cay__stun_maybe((const char *)req, size))
    fuzz_fail("stun: answered a datagram that is not STUN");
  if (n < 20 || n > CAY__STUN_ANSWER_MAX)
    fuzz_fail("stun: an answer of %d bytes", n);
  type = (unsigned)a[0] << 8 | a[1];
  if (type != 0x0101 && type != 0x0111)
    fuzz_fail("stun: answer type 0x%04x", type);
  if (((unsigned)a[2] << 8 | a[3]) != (unsigned)n - 20)
    fuzz_fail("stun: the length field does not count the attributes");
  if (memcmp(a + 4, "\x21\x12\xa4\x42", 4) != 0
      || memcmp(a + 8, req + 8, 12) != 0)
    fuzz_fail("stun: not the request's cookie and transaction id");
}

int
cay_fuzz_stun(const uint8_t *data, size_t size)
{
  uint8_t a[CAY__STUN_ANSWER_MAX];
  cay__addr_t from;

  if (cay__addr_set(&from, "192.0.2.7", 40001) == 0)
    check_stun_answer(
        data, size, a,
        cay__stun_answer((const char *)data, size, &from, (char *)a));
  if (cay__addr_set(&from, "2001:db8::7", 5060) == 0)
    check_stun_answer(
        data, size, a,
        cay__stun_answer((const char *)data, size, &from, (char *)a));
  return 0;
}
