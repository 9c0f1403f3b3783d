/*
 * SDP offer/answer (RFC 3264) over sofia-sip's SDP parser.
 *
 * The offer is parsed with sdp_parse(); the answer is written directly as
 * text from the parsed offer. Building an sdp_session_t and running
 * sdp_print() would need a second home and a copy of every kept field,
 * while the answer Cay gives is a few fixed lines per stream: snprintf into
 * one growing buffer is shorter and does one allocation in the usual case.
 */
#include "dialog/sdp.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <sofia-sip/sdp.h>

#include "cay/errno.h"
#include "core/alloc.h"

/* Large enough for a two-stream answer, so that the usual answer costs one
 * allocation. */
#define SDP_BUF_START 512

/* The RTP payload type Cay offers for telephone-event: any dynamic number
 * (RFC 3551 section 6: 96-127) works; 101 is the one most peers use. */
#define SDP_TE_PT 101

/* RFC 4733 section 2.4.1: events 0-15 are the DTMF digits, 16 is flash. */
#define SDP_TE_EVENTS "0-16"

static const char te_name[] = "telephone-event";

/* Codecs Cay can name in SDP. The static payload types are those of
 * RFC 3551 section 6, table 4; G722's RTP clock is 8000 Hz although it
 * samples at 16000 (RFC 3551 section 4.5.2). */
static const struct known_codec {
  const char *name;
  unsigned pt;
} known_codecs[] = {
  { "PCMU", 0 },  { "PCMA", 8 },          { "G722", 9 },
  { "G729", 18 }, { te_name, SDP_TE_PT },
};

#define N_KNOWN (sizeof known_codecs / sizeof known_codecs[0])

/* A growing text buffer; the first failed allocation sticks in err, so the
 * writer checks once at the end. */
struct sbuf {
  char *p;
  size_t len;
  size_t cap;
  int err;
};

static void put(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (b->err)
    return;
  for (;;) {
    size_t room = b->cap - b->len;

    va_start(ap, fmt);
    n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->err = -EINVAL;
      return;
    }
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap : SDP_BUF_START;
    while (cap - b->len <= (size_t)n)
      cap *= 2;
    char *p = cay__realloc(b->p, cap);
    if (p == NULL) {
      b->err = -ENOMEM;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

static int
is_te(const char *name)
{
  return strcasecmp(name, te_name) == 0;
}

static const struct known_codec *
find_known(const char *name)
{
  for (size_t i = 0; i < N_KNOWN; i++)
    if (strcasecmp(known_codecs[i].name, name) == 0)
      return &known_codecs[i];
  return NULL;
}

static const char *
ip_family(const char *ip)
{
  /* RFC 4566 section 5.7: addrtype IP6 for an IPv6 literal, IP4 else. */
  return strchr(ip, ':') ? "IP6" : "IP4";
}

static void
put_session_head(struct sbuf *b, const cay__sdp_opts_t *o, uint64_t session_id)
{
  const char *fam = ip_family(o->media_ip);

  /* RFC 4566 section 5: v, o, s, c, t in this order. o= carries the
   * session id and version 1 (RFC 3264 section 5: the version starts
   * anywhere and grows by one with each new offer or answer). */
  put(b,
      "v=0\r\n"
      "o=cay %" PRIu64 " 1 IN %s %s\r\n"
      "s=cay\r\n"
      "c=IN %s %s\r\n"
      "t=0 0\r\n",
      session_id, fam, o->media_ip, fam, o->media_ip);
}

/* RFC 4566 section 9: token-char. */
static int
is_token_char(unsigned char c)
{
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B
         || c == 0x2D || c == 0x2E || (c >= 0x30 && c <= 0x39)
         || (c >= 0x41 && c <= 0x5A) || (c >= 0x5E && c <= 0x7E);
}

/* One field of an m= line, [p, e): 0 media, 1 port ["/" count], 2 proto
 * (tokens joined by single "/"), 3.. fmt (a token). */
static int
mfield_ok(const char *p, const char *e, unsigned field)
{
  const char *q;

  if (p == e)
    return 0;
  if (field == 1) {
    for (q = p; q < e && *q >= '0' && *q <= '9'; q++)
      ;
    if (q == p)
      return 0;
    if (q < e && *q == '/') {
      const char *d = ++q;
      for (; q < e && *q >= '0' && *q <= '9'; q++)
        ;
      if (q == d)
        return 0;
    }
    return q == e;
  }
  for (q = p; q < e; q++) {
    if (*q == '/' && field == 2 && q > p && q + 1 < e && q[1] != '/')
      continue;
    if (!is_token_char((unsigned char)*q))
      return 0;
  }
  return 1;
}

/* Every m= line is "media SP port[/count] SP proto SP fmt *(SP fmt)"
 * (RFC 4566 section 5.14), checked field by field before sofia-sip sees
 * the text: its format loop does not move on from a format that starts
 * with another character (":31", "/b", bytes above 0x7F, a port run into
 * its proto as in "0P /") and allocates list entries until memory runs
 * out. Lines are split as sofia-sip may split them: at CR, LF or NUL,
 * leading and trailing blanks dropped. */
static int
mlines_are_tokens(const char *text, size_t len)
{
  const char *l = text, *end = text + len;

  while (l < end) {
    const char *le = l;
    while (le < end && *le != '\r' && *le != '\n' && *le != '\0')
      le++;
    const char *next = le < end ? le + 1 : end;
    while (l < le && (*l == ' ' || *l == '\t'))
      l++;
    while (le > l && (le[-1] == ' ' || le[-1] == '\t'))
      le--;
    if (le - l >= 2 && l[0] == 'm' && l[1] == '=') {
      unsigned field = 0;
      const char *f = l + 2;
      for (const char *p = f;; p++) {
        if (p == le || *p == ' ') {
          if (!mfield_ok(f, p, field > 3 ? 3 : field))
            return 0;
          field++;
          f = p + 1;
          if (p == le)
            break;
        }
      }
      if (field < 4)
        return 0;
    }
    l = next;
  }
  return 1;
}

/*
 * Parse @p text and check that the essentials are present. sofia-sip
 * already insists on v= and o= and, through its sanity check, on c= for
 * every stream; s= and t= (RFC 4566 section 5) and at least one m= with a
 * format we check here.
 */
static int
parse_sdp(const char *text, size_t len, sdp_parser_t **parser,
          sdp_session_t **session)
{
  sdp_session_t *s;
  sdp_media_t *m;

  *parser = NULL;
  if (len > (size_t)SSIZE_MAX || !mlines_are_tokens(text, len))
    return CAY_EPARSE;
  /* Without a parent home the parser is its own home, freed whole by
   * sdp_parser_free(). sdp_f_mode_0000 stays off: RFC 3264 section 8.4
   * deprecates c=0.0.0.0 as the hold signal, and the direction attributes
   * alone say what the offerer wants. */
  *parser = sdp_parse(NULL, text, (issize_t)len, 0);
  if (*parser == NULL)
    return -ENOMEM;
  if (sdp_parsing_error(*parser))
    return CAY_EPARSE;
  s = sdp_session(*parser);
  if (s == NULL || s->sdp_origin == NULL || s->sdp_subject == NULL
      || s->sdp_time == NULL || s->sdp_media == NULL)
    return CAY_EPARSE;
  for (m = s->sdp_media; m; m = m->m_next)
    /* RFC 4566 section 5.14: an m= line lists at least one format. */
    if (m->m_rtpmaps == NULL && m->m_format == NULL)
      return CAY_EPARSE;
  *session = s;
  return 0;
}

static void
put_rtpmap(struct sbuf *b, const sdp_rtpmap_t *r)
{
  put(b, "a=rtpmap:%u %s/%lu%s%s\r\n", r->rm_pt, r->rm_encoding, r->rm_rate,
      r->rm_params ? "/" : "", r->rm_params ? r->rm_params : "");
}

/* The first codec of @p o, in our order, that the offer lists; never
 * telephone-event, which carries no audio (RFC 4733 section 2.1). */
static const sdp_rtpmap_t *
choose_codec(const sdp_media_t *m, const cay__sdp_opts_t *o)
{
  for (unsigned i = 0; i < o->n_codecs; i++) {
    if (is_te(o->codecs[i]))
      continue;
    /* sofia-sip fills in the name of a static payload type listed without
     * a=rtpmap (RFC 3551 section 6), so matching by name matches 0, 8, 9
     * and 18 by number too; a dynamic type without a=rtpmap has an empty
     * name and matches nothing. */
    for (const sdp_rtpmap_t *r = m->m_rtpmaps; r; r = r->rm_next)
      if (r->rm_encoding && strcasecmp(r->rm_encoding, o->codecs[i]) == 0)
        return r;
  }
  return NULL;
}

/* The offer's telephone-event, when we list it too; the one with the
 * chosen codec's clock rate if the offer has several (RFC 4733 section
 * 2.4.1: the event clock is the audio clock). */
static const sdp_rtpmap_t *
choose_te(const sdp_media_t *m, const cay__sdp_opts_t *o,
          const sdp_rtpmap_t *codec)
{
  const sdp_rtpmap_t *first = NULL;
  unsigned i;

  for (i = 0; i < o->n_codecs; i++)
    if (is_te(o->codecs[i]))
      break;
  if (i == o->n_codecs)
    return NULL;
  for (const sdp_rtpmap_t *r = m->m_rtpmaps; r; r = r->rm_next) {
    if (r->rm_encoding == NULL || !is_te(r->rm_encoding))
      continue;
    if (r->rm_rate == codec->rm_rate)
      return r;
    if (first == NULL)
      first = r;
  }
  return first;
}

static void
put_rejected(struct sbuf *b, const sdp_media_t *m)
{
  /* RFC 3264 section 6: a rejected stream keeps its m= line with port 0
   * and at least one of the offered formats; we keep the first. */
  if (m->m_rtpmaps)
    put(b, "m=%s 0 %s %u\r\n", m->m_type_name, m->m_proto_name,
        m->m_rtpmaps->rm_pt);
  else
    put(b, "m=%s 0 %s %s\r\n", m->m_type_name, m->m_proto_name,
        m->m_format->l_text);
}

/* Answer one stream; returns 1 when it was accepted. */
static int
put_stream(struct sbuf *b, const sdp_media_t *m, const cay__sdp_opts_t *o,
           unsigned long port)
{
  const sdp_rtpmap_t *codec, *te;

  /* RFC 3264 section 6: a stream the offer disabled (port 0) stays
   * disabled. Only RTP/AVP audio can carry our codecs: video, image (T.38)
   * and application streams are rejected, and so is RTP/SAVP, whose answer
   * would need keys Cay does not have. */
  if (m->m_port == 0 || m->m_rejected || m->m_type != sdp_media_audio
      || m->m_proto != sdp_proto_rtp || port > 65535) {
    put_rejected(b, m);
    return 0;
  }
  codec = choose_codec(m, o);
  if (codec == NULL) {
    put_rejected(b, m);
    return 0;
  }
  te = choose_te(m, o, codec);

  /* RFC 3264 section 6.1: the answer uses the offer's payload type
   * numbers, and lists the formats it accepts from the offer. */
  if (te)
    put(b, "m=audio %lu %s %u %u\r\n", port, m->m_proto_name, codec->rm_pt,
        te->rm_pt);
  else
    put(b, "m=audio %lu %s %u\r\n", port, m->m_proto_name, codec->rm_pt);
  put_rtpmap(b, codec);
  /* Echo the offerer's format parameters (e.g. G729 annexb=no), so that
   * both sides agree on the variant in use. */
  if (codec->rm_fmtp)
    put(b, "a=fmtp:%u %s\r\n", codec->rm_pt, codec->rm_fmtp);
  if (te) {
    put_rtpmap(b, te);
    put(b, "a=fmtp:%u %s\r\n", te->rm_pt,
        te->rm_fmtp ? te->rm_fmtp : SDP_TE_EVENTS);
  }

  /* RFC 3264 section 6.1: sendonly is answered recvonly, recvonly
   * sendonly, inactive inactive; sendrecv, said or implied, needs no
   * attribute. sofia-sip has already applied a session-level direction to
   * every stream. */
  switch (m->m_mode) {
  case sdp_sendonly:
    put(b, "a=recvonly\r\n");
    break;
  case sdp_recvonly:
    put(b, "a=sendonly\r\n");
    break;
  case sdp_inactive:
    put(b, "a=inactive\r\n");
    break;
  default:
    break;
  }
  return 1;
}

int
cay__sdp_answer(const char *offer, size_t len, const cay__sdp_opts_t *o,
                uint64_t session_id, char **answer, size_t *answer_len)
{
  struct sbuf b = { 0 };
  sdp_parser_t *parser;
  sdp_session_t *s = NULL;
  const sdp_media_t *m;
  unsigned long k;
  int accepted = 0;
  int err;

  assert(offer && o && o->media_ip && answer);
  *answer = NULL;
  if (answer_len)
    *answer_len = 0;
  err = parse_sdp(offer, len, &parser, &s);
  if (err)
    goto out;

  put_session_head(&b, o, session_id);
  /* RFC 3264 section 6: one m= line per offered stream, in the offer's
   * order; stream k gets port port_base + 2k, leaving the odd port to
   * RTCP (RFC 3550 section 11). */
  for (m = s->sdp_media, k = 0; m; m = m->m_next, k++)
    accepted += put_stream(&b, m, o, o->port_base + 2 * k);
  err = b.err;
  if (err)
    goto out;
  if (accepted == 0) {
    err = CAY_ENOCODEC;
    goto out;
  }
  *answer = b.p;
  if (answer_len)
    *answer_len = b.len;
  b.p = NULL;

out:
  cay__free(b.p);
  if (parser)
    sdp_parser_free(parser);
  return err;
}

int
cay__sdp_offer(const cay__sdp_opts_t *o, uint64_t session_id, char **offer,
               size_t *offer_len)
{
  const struct known_codec *list[N_KNOWN];
  struct sbuf b = { 0 };
  unsigned n = 0, n_audio = 0;
  int err;

  assert(o && o->media_ip && offer);
  *offer = NULL;
  if (offer_len)
    *offer_len = 0;

  /* Our preference order, each known codec once; a name we cannot map to
   * a payload type is left out. */
  for (unsigned i = 0; i < o->n_codecs; i++) {
    const struct known_codec *c = find_known(o->codecs[i]);
    unsigned j;

    if (c == NULL)
      continue;
    for (j = 0; j < n; j++)
      if (list[j] == c)
        break;
    if (j < n)
      continue;
    list[n++] = c;
    if (c->name != te_name)
      n_audio++;
  }
  /* telephone-event alone carries no audio (RFC 4733 section 2.1). */
  if (n_audio == 0)
    return CAY_ENOCODEC;

  put_session_head(&b, o, session_id);
  /* RFC 3264 section 5.1: the formats in preference order. */
  put(&b, "m=audio %u RTP/AVP", o->port_base);
  for (unsigned i = 0; i < n; i++)
    put(&b, " %u", list[i]->pt);
  put(&b, "\r\n");
  /* rtpmap is optional for static payload types (RFC 4566 section 6) but
   * some peers look for it; it costs a line each. */
  for (unsigned i = 0; i < n; i++) {
    put(&b, "a=rtpmap:%u %s/8000\r\n", list[i]->pt, list[i]->name);
    if (list[i]->name == te_name)
      put(&b, "a=fmtp:%u " SDP_TE_EVENTS "\r\n", list[i]->pt);
  }
  put(&b, "a=sendrecv\r\n");
  err = b.err;
  if (err) {
    cay__free(b.p);
    return err;
  }
  *offer = b.p;
  if (offer_len)
    *offer_len = b.len;
  return 0;
}

int
cay__sdp_codec_known(const char *name)
{
  return name != NULL && find_known(name) != NULL;
}

int
cay__sdp_check(const char *sdp, size_t len)
{
  sdp_parser_t *parser;
  sdp_session_t *s;
  int err;

  assert(sdp);
  err = parse_sdp(sdp, len, &parser, &s);
  if (parser)
    sdp_parser_free(parser);
  return err;
}
