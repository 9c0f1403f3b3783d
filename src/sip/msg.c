/*
 * Parsing and validation of SIP messages over sofia-sip (RFC 3261 sections
 * 7, 8.2 and 18.2, RFC 3581, and the torture cases of RFC 4475 and RFC
 * 5118). Building and serializing live in msg_build.c.
 *
 * sofia-sip's msg_make() does the parsing. Around it this file fills the
 * gaps that the torture tests expose:
 *
 * - sofia-sip keeps values as C strings, so an octet 0 in the header
 *   section would end the parse early. An escaped NUL in a quoted string
 *   (legal: RFC 3261 section 25.1, quoted-pair) is rewritten before
 *   parsing; any other NUL makes the message malformed.
 * - sofia-sip's method parser rejects the token characters "+" and "`"
 *   (RFC 4475 section 3.1.1.2). When the request line or the CSeq fails
 *   that way, the start line is parsed again with a placeholder and
 *   restored from the raw bytes, and CSeq is rebuilt from its raw value.
 * - sofia-sip tolerates extra whitespace in the request line, which RFC
 *   4475 sections 3.1.2.8-3.1.2.10 call malformed; a strict check of the
 *   raw line records that as an error entry.
 *
 * Errors are recorded the way sofia-sip records them, as entries of the
 * sip_error list, so that cay__msg_check_request() sees one list.
 *
 * The multipart parser (msg_multipart_parse()) is never called: msg_make()
 * only extracts the body as one payload, and nothing here looks inside it.
 */
#include "sip/msg.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/bnf.h>
#include <sofia-sip/hostdomain.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/msg_protos.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/url.h>

#include "cay/errno.h"
#include "core/alloc.h"

/* Names of the error entries this file adds; compared by pointer. */
static const char err_request_line[] = "Request-Line";
static const char err_nul[] = "NUL octet";
static const char err_bare_cr[] = "bare CR";

/* A static reason phrase per header, so that cay__msg_check_request() can
 * name the header without building a string. */
#define PHRASE(name)                                                           \
  {                                                                            \
    name, "Malformed header: " name, "Multiple " name                          \
  }
static const struct {
  const char *name;
  const char *malformed;
  const char *multiple;
} header_phrases[] = {
  PHRASE("Via"),
  PHRASE("From"),
  PHRASE("To"),
  PHRASE("Call-ID"),
  { "CSeq", "Bad CSeq", "Multiple CSeq" },
  PHRASE("Max-Forwards"),
  PHRASE("Contact"),
  PHRASE("Content-Length"),
  PHRASE("Content-Type"),
  PHRASE("Content-Disposition"),
  PHRASE("Content-Encoding"),
  PHRASE("Route"),
  PHRASE("Record-Route"),
  PHRASE("Require"),
  PHRASE("Proxy-Require"),
  PHRASE("Supported"),
  PHRASE("Unsupported"),
  PHRASE("Allow"),
  PHRASE("Accept"),
  PHRASE("Accept-Encoding"),
  PHRASE("Accept-Language"),
  PHRASE("Expires"),
  PHRASE("Min-Expires"),
  PHRASE("Date"),
  PHRASE("Timestamp"),
  PHRASE("Retry-After"),
  PHRASE("Session-Expires"),
  PHRASE("Min-SE"),
  PHRASE("Event"),
  PHRASE("Allow-Events"),
  PHRASE("Subscription-State"),
  PHRASE("Authorization"),
  PHRASE("Proxy-Authorization"),
  PHRASE("WWW-Authenticate"),
  PHRASE("Proxy-Authenticate"),
  PHRASE("RSeq"),
  PHRASE("RAck"),
  PHRASE("Refer-To"),
  PHRASE("Referred-By"),
  PHRASE("Replaces"),
  PHRASE("Reason"),
  PHRASE("Privacy"),
  PHRASE("Priority"),
  PHRASE("Warning"),
  PHRASE("Server"),
  PHRASE("User-Agent"),
  PHRASE("MIME-Version"),
};
#undef PHRASE

/* A CR not followed by LF before the CRLFCRLF that ends the headers. */
static int
has_bare_cr(const char *b, size_t len)
{
  const char *p = b, *end = b + len;

  while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
    if (p + 1 == end || p[1] != '\n')
      return 1;
    if (end - p >= 4 && p[2] == '\r' && p[3] == '\n')
      return 0; /* the body may hold anything */
    p += 2;
  }
  return 0;
}

static const char *
phrase_for(const msg_header_t *h)
{
  const char *name;
  int multiple;
  size_t i;

  /* A header that failed to parse is an msg_error_t naming it; a second
   * instance of a single-valued header keeps its own class (sofia-sip's
   * append_parsed()). */
  multiple = !msg_is_error(h);
  name = multiple ? h->sh_class->hc_name : h->sh_error->er_name;
  if (name == err_request_line)
    return "Bad Request - Malformed Request-Line";
  if (name == err_nul)
    return "Bad Request - NUL octet in header";
  if (name == err_bare_cr)
    return "Bad Request - CR without LF in header";
  for (i = 0; name && i < sizeof header_phrases / sizeof header_phrases[0]; i++)
    if (strcasecmp(name, header_phrases[i].name) == 0)
      return multiple ? header_phrases[i].multiple
                      : header_phrases[i].malformed;
  return multiple ? "Bad Request - Multiple header" : "Malformed header";
}

/* Offset just past the empty line that ends the header section, or len. */
static size_t
header_end(const char *b, size_t len)
{
  size_t i;

  for (i = 0; i + 1 < len; i++) {
    if (b[i] != '\n')
      continue;
    if (b[i + 1] == '\n')
      return i + 2;
    if (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')
      return i + 3;
  }
  return len;
}

/* True when the header line at @p b (up to @p n bytes) is a Call-ID
 * ("Call-ID" or "i", RFC 3261 section 20.8, then blanks and a colon). */
static int
is_callid_line(const char *b, size_t n)
{
  size_t k = n >= 7 && strncasecmp(b, "call-id", 7) == 0 ? 7
             : n >= 1 && (b[0] == 'i' || b[0] == 'I')    ? 1
                                                         : 0;

  if (k == 0)
    return 0;
  while (k < n && (b[k] == ' ' || b[k] == '\t'))
    k++;
  return k < n && b[k] == ':';
}

/*
 * Rewrite octets 0 in the header section of @p b. RFC 3261 section 25.1
 * allows %x00 only as a quoted-pair inside a quoted string; that NUL
 * becomes "0" (the display name changes, nothing Cay matches on does).
 * Any other NUL becomes a space and makes the message malformed, and so
 * does every NUL of a Call-ID, which has no quoted strings: the Call-ID
 * scan that picks the owner shard hashes the raw bytes.
 * @return 1 when a NUL outside a quoted-pair was found, else 0.
 */
static int
fix_nul_octets(char *b, size_t hlen)
{
  int quoted = 0, bad = 0, callid = 0;
  size_t i;

  for (i = 0; i < hlen; i++) {
    if (i == 0 || (b[i - 1] == '\n' && b[i] != ' ' && b[i] != '\t'))
      callid = is_callid_line(b + i, hlen - i);
    if (quoted && !callid && b[i] == '\\' && i + 1 < hlen) {
      if (b[++i] == '\0')
        b[i] = '0';
    } else if (b[i] == '"' && !callid) {
      quoted = !quoted;
    } else if (b[i] == '\n' && i + 1 < hlen && b[i + 1] != ' '
               && b[i + 1] != '\t') {
      quoted = 0; /* an unterminated quote ends with its header line */
    } else if (b[i] == '\0') {
      b[i] = ' ';
      bad = 1;
    }
  }
  return bad;
}

/* Skip the CRLFs that RFC 3261 section 7.5 lets precede a start line. */
static size_t
skip_crlf(const char *b, size_t len)
{
  size_t i = 0;

  while (i < len && (b[i] == '\r' || b[i] == '\n'))
    i++;
  return i;
}

/* Length of the first line from @p b (without CRLF), and where the next
 * line starts in *next (len when there is none). */
static size_t
first_line(const char *b, size_t len, size_t *next)
{
  const char *lf = memchr(b, '\n', len);
  size_t n = lf ? (size_t)(lf - b) : len;

  *next = lf ? n + 1 : len;
  if (n > 0 && b[n - 1] == '\r')
    n--;
  return n;
}

/*
 * RFC 3261 section 25.1: Request-Line = Method SP Request-URI SP
 * SIP-Version CRLF, with exactly one SP between the elements. sofia-sip
 * accepts any run of whitespace, which RFC 4475 sections 3.1.2.8 (lwsruri),
 * 3.1.2.9 (lwsstart) and 3.1.2.10 (trws) say to reject.
 */
static int
request_line_is_strict(const char *b, size_t len)
{
  size_t skip = skip_crlf(b, len), next, n, i = 0, j;
  const char *s = b + skip;

  n = first_line(s, len - skip, &next);
  while (i < n && IS_TOKEN(s[i]))
    i++;
  if (i == 0 || i >= n || s[i] != ' ')
    return 0;
  /* The Request-URI is visible ASCII: RFC 3986 escapes everything else. */
  for (j = ++i; i < n && s[i] > ' ' && s[i] < 0x7f; i++)
    ;
  if (i == j || i >= n || s[i] != ' ')
    return 0;
  /* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT */
  if (n - ++i < 7 || strncasecmp(s + i, "SIP/", 4) != 0)
    return 0;
  for (j = i += 4; i < n && IS_DIGIT(s[i]); i++)
    ;
  if (i == j || i >= n || s[i] != '.')
    return 0;
  for (j = ++i; i < n && IS_DIGIT(s[i]); i++)
    ;
  return i > j && i == n;
}

/* Append an error entry named @p name (a static string) to sip_error. */
static int
add_error(msg_t *msg, sip_t *sip, const char *name)
{
  msg_error_t *er, **tail;

  er = (msg_error_t *)msg_header_alloc(msg_home(msg), msg_error_class, 0);
  if (!er)
    return -ENOMEM;
  er->er_name = name;
  for (tail = &sip->sip_error; *tail; tail = &(*tail)->er_next)
    ;
  *tail = er;
  return 0;
}

/* Method code for a method token; sofia-sip calls tokens with "+" or "`"
 * invalid, but they are extension methods (RFC 3261 section 25.1). */
static sip_method_t
method_code(const char *name)
{
  sip_method_t m = sip_method_code(name);
  return m < 0 ? sip_method_unknown : m;
}

/*
 * Fill @p rq from the raw request line @p line (@p n bytes), split leniently
 * (method, last word as version, the rest as Request-URI) so that a
 * malformed line still leaves an answerable request. A Request-URI that does
 * not parse is kept as url_invalid for cay__msg_check_request().
 */
static int
restore_request_line(su_home_t *home, sip_request_t *rq, const char *line,
                     size_t n)
{
  char *s = su_strndup(home, line, n), *uri, *end, *ver;
  const char *version;
  size_t m;

  if (!s)
    return -ENOMEM;
  end = s + n;
  while (end > s && IS_LWS(end[-1]))
    *--end = '\0';
  for (m = 0; s[m] && !IS_LWS(s[m]); m++)
    ;
  if (m == 0 || !s[m])
    return CAY_EPARSE;
  s[m] = '\0';
  uri = s + m + 1 + span_lws(s + m + 1);
  for (ver = end; ver > uri && !IS_LWS(ver[-1]); ver--)
    ;
  if (ver == uri)
    return CAY_EPARSE;
  for (end = ver; end > uri && IS_LWS(end[-1]); end--)
    end[-1] = '\0';
  if (sip_version_d(&ver, &version) < 0 || *ver)
    return CAY_EPARSE;
  rq->rq_method = method_code(s);
  rq->rq_method_name = rq->rq_method ? sip_method_name(rq->rq_method, s) : s;
  rq->rq_version = version;
  memset(rq->rq_url, 0, sizeof rq->rq_url);
  if (url_d(rq->rq_url, uri) < 0) {
    memset(rq->rq_url, 0, sizeof rq->rq_url);
    rq->rq_url->url_type = url_invalid;
  }
  return 0;
}

/*
 * sofia-sip gives up on the whole message when the request line does not
 * parse. Parse the headers again behind a placeholder request line, then
 * put the real one back, so that a bad request line can still get its 400
 * (RFC 4475 sections 3.1.1.2 and 3.1.2.8). NULL when that fails too.
 */
static msg_t *
reparse_request(const char *b, size_t len, int *err)
{
  /* No known method starts with X: sofia-sip 1.12.11 rejects an unknown
   * method shorter than a known one with the same initial. */
  static const char placeholder[] = "X-CAY sip:cay.invalid SIP/2.0\r\n";
  size_t skip = skip_crlf(b, len), next, n, k, plen = sizeof placeholder - 1;
  msg_t *msg;
  char *buf;
  int rc;

  n = first_line(b + skip, len - skip, &next);
  for (k = 0; k < n && IS_TOKEN(b[skip + k]); k++)
    ;
  /* A first token followed by "/" makes a status line (sofia-sip's
   * extract_first()): responses that do not parse are dropped. */
  if (k < n && b[skip + k] == '/')
    return NULL;
  if (skip + next >= len)
    return NULL;
  buf = cay__malloc(plen + len - skip - next);
  if (!buf) {
    *err = -ENOMEM;
    return NULL;
  }
  memcpy(buf, placeholder, plen);
  memcpy(buf + plen, b + skip + next, len - skip - next);
  msg = msg_make(sip_default_mclass(), 0, buf, plen + len - skip - next);
  cay__free(buf);
  if (!msg) {
    *err = -ENOMEM;
    return NULL;
  }
  rc = sip_object(msg)->sip_request ? restore_request_line(
           msg_home(msg), sip_object(msg)->sip_request, b + skip, n)
                                    : CAY_EPARSE;
  if (rc != 0) {
    if (rc == -ENOMEM)
      *err = rc;
    msg_destroy(msg);
    return NULL;
  }
  return msg;
}

/* Find the value of the only header named @p name in the raw header
 * section. @return 1 when there is exactly one, else 0. */
static int
find_raw_header(const char *b, size_t hlen, const char *name,
                const char **value, size_t *vlen)
{
  size_t nlen = strlen(name), i, next, end, found = 0;

  first_line(b, hlen, &next);
  for (i = next; i < hlen; i = next) {
    /* A header field ends at a line end not followed by whitespace. */
    for (end = i; end < hlen; end++)
      if (b[end] == '\n'
          && (end + 1 >= hlen || (b[end + 1] != ' ' && b[end + 1] != '\t')))
        break;
    next = end + 1;
    if (hlen - i > nlen && strncasecmp(b + i, name, nlen) == 0) {
      size_t c = i + nlen;
      while (c < end && IS_WS(b[c]))
        c++;
      if (c < end && b[c] == ':') {
        found++;
        *value = b + c + 1;
        for (*vlen = end - c - 1; *vlen > 0 && IS_LWS((*value)[*vlen - 1]);)
          --*vlen;
      }
    }
  }
  return found == 1;
}

/*
 * sofia-sip's CSeq parser rejects methods with "+" or "`" (RFC 4475 section
 * 3.1.1.2). When CSeq failed to parse, rebuild it from the raw value if
 * that is 1*DIGIT LWS token (RFC 3261 section 20.16) with a 32-bit number.
 */
static int
recover_cseq(msg_t *msg, sip_t *sip, const char *b, size_t len)
{
  su_home_t *home = msg_home(msg);
  msg_error_t **e;
  const char *raw;
  sip_cseq_t *cs;
  uint32_t seq;
  size_t vlen, n;
  char *s;

  for (e = &sip->sip_error; *e; e = &(*e)->er_next)
    if (msg_is_error((msg_header_t *)*e) && (*e)->er_name
        && strcasecmp((*e)->er_name, "CSeq") == 0)
      break;
  if (!*e || !find_raw_header(b, header_end(b, len), "CSeq", &raw, &vlen))
    return 0;
  s = su_strndup(home, raw, vlen);
  if (!s)
    return -ENOMEM;
  s += span_lws(s);
  if (msg_uint32_d(&s, &seq) < 0)
    return 0;
  n = span_token(s);
  if (n == 0 || s[n + span_lws(s + n)] != '\0')
    return 0;
  s[n] = '\0';
  cs = sip_cseq_create(home, seq, method_code(s), s);
  if (!cs || msg_header_insert(msg, (msg_pub_t *)sip, (msg_header_t *)cs) < 0)
    return -ENOMEM;
  *e = (*e)->er_next;
  return 0;
}

int
cay__msg_answerable(const sip_t *sip)
{
  /* A response needs only a Via to find its way back (RFC 3261 section
   * 18.2.2); it copies whatever of From, To, Call-ID and CSeq parsed. RFC
   * 4475 section 3.3.1 wants a 400 even for a request that lacks them. */
  return sip && sip->sip_request && sip->sip_via;
}

int
cay__msg_parse(const char *data, size_t len, msg_t **out)
{
  const char *b = data, *nul;
  char *copy = NULL;
  msg_t *msg = NULL;
  int err = 0, bad_nul = 0;
  size_t lead;
  sip_t *sip;

  *out = NULL;
  if (!data || len == 0)
    return CAY_EPARSE;
  /* RFC 3261 section 7.5 allows CRLFs before the start line, nothing else.
   * sofia-sip also skips a line of blanks there, which the Call-ID scan
   * that picks the owner shard would take for the start line: such a
   * message is not SIP, and is dropped. */
  lead = skip_crlf(data, len);
  if (lead < len && (data[lead] == ' ' || data[lead] == '\t'))
    return CAY_EPARSE;
  nul = memchr(data, '\0', len);
  if (nul && (size_t)(nul - data) < header_end(data, len)) {
    copy = cay__malloc(len);
    if (!copy)
      return -ENOMEM;
    memcpy(copy, data, len);
    bad_nul = fix_nul_octets(copy, header_end(copy, len));
    b = copy;
  }

  msg = msg_make(sip_default_mclass(), 0, b, len);
  if (!msg) {
    err = -ENOMEM;
    goto out;
  }
  sip = sip_object(msg);
  if (!sip->sip_request && !sip->sip_status) {
    msg_destroy(msg);
    msg = reparse_request(b, len, &err);
    if (!msg) {
      err = err ? err : CAY_EPARSE;
      goto out;
    }
    sip = sip_object(msg);
  }
  if (!sip->sip_cseq && sip->sip_error) {
    if ((err = recover_cseq(msg, sip, b, len)))
      goto out;
  }
  if (bad_nul && (err = add_error(msg, sip, err_nul)))
    goto out;
  /* RFC 3261 section 7: header lines end in CRLF. sofia-sip also ends one
   * at a lone CR, where the Call-ID scan that picks the owner shard does
   * not (transport/callid.c): the two could name different Call-IDs. */
  /* The CRs and LFs sofia-sip skips before the start line (7.5) are no
   * header line ends: the check starts after them. */
  if (has_bare_cr(b + lead, len - lead)
      && (err = add_error(msg, sip, err_bare_cr)))
    goto out;
  if (sip->sip_request && !request_line_is_strict(b, len)
      && (err = add_error(msg, sip, err_request_line)))
    goto out;

  if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE)
      || sip->sip_error
      || (sip->sip_request
          && sip->sip_request->rq_url->url_type == url_invalid))
    err = CAY_EPARSE;
  /* Keep a request that is broken but answerable: its sender gets a 400
   * (RFC 3261 section 8.2). Anything else that does not parse is dropped. */
  if (err == CAY_EPARSE && !cay__msg_answerable(sip))
    goto out;
  *out = msg;
  msg = NULL;

out:
  if (msg)
    msg_destroy(msg);
  cay__free(copy);
  return err;
}

/* The error entry about @p name, if any. */
static const msg_header_t *
find_error(const sip_t *sip, const char *name)
{
  const msg_error_t *e;

  for (e = sip->sip_error; e; e = e->er_next)
    if (msg_is_error((msg_header_t *)e) && e->er_name
        && strcasecmp(e->er_name, name) == 0)
      return (const msg_header_t *)e;
  return NULL;
}

static int parse_port(const char *s, unsigned *port);

static int
callid_is_word(const char *id)
{
  if (id == NULL || *id == '\0')
    return 0;
  for (; *id; id++)
    if ((unsigned char)*id <= 0x20 || (unsigned char)*id >= 0x7F)
      return 0;
  return 1;
}

/* A URI of another scheme (tel:, or one Cay does not know) as printed
 * back: RFC 3986 section 3.1's scheme (sofia-sip takes "s/ip:" and prints
 * "sip:") and no control character or inner space. Spaces at either end
 * are what RFC 4475 section 3.1.2.14 lets an element ignore. */
static int
other_url_sane(const url_t *u)
{
  char text[512];
  const char *p = u->url_scheme;
  isize_t n;

  while (p && *p == ' ')
    p++;
  if (p == NULL || !IS_ALPHA(*p)
      || p[strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789+-.")]
             != '\0')
    return 0;
  n = url_e(text, sizeof text, u);
  if (n <= 0 || n >= (isize_t)sizeof text)
    return 0;
  /* '<', '>' and '"' too: a From or To without brackets is printed
   * without them, so one of these would end the URI early ("foo:%20/>"
   * prints as "foo:%20>"). */
  for (p = text + strspn(text, " "); *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7F || *p == '<'
        || *p == '>' || *p == '"' || (*p == ' ' && p[strspn(p, " ")] != '\0'))
      return 0;
  return 1;
}

static int
has_ctl_or_space(const char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7F)
      return 1;
  return 0;
}

/* RFC 3261 section 20.42: host a name or an address, bracketed for IPv6
 * (RFC 5118 section 4.4's one colon too many included, see url_sane()). */
static int
host_sane(const char *h)
{
  size_t n;

  if (h == NULL)
    return 0;
  if (host_is_valid(h))
    return 1;
  n = h[0] == '[' ? 1 + strspn(h + 1, "0123456789abcdefABCDEF:.") : 0;
  return n != 0 && h[n] == ']' && h[n + 1] == '\0';
}

/* A Via Cay copies into its responses as sofia-sip prints it: "SIP/2.0/"
 * and a transport token (section 20.42), a valid host. sofia-sip takes
 * "SIP/2.0/UDP[2001:db8::20]" and prints it with the address twice. */
static int
via_sane(const sip_via_t *v)
{
  const char *t;

  if (v->v_protocol == NULL || strncasecmp(v->v_protocol, "SIP/2.0/", 8) != 0)
    return 0;
  t = v->v_protocol + 8;
  if (*t == '\0'
      || t[strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                     "TUVWXYZ0123456789-.!%*_+`'~")]
             != '\0')
    return 0;
  return host_sane(v->v_host);
}

/* A sip or sips URI Cay can print back so that a peer parses it (RFC 3261
 * section 19.1.1: a valid host, a port of digits, no path); other schemes
 * are not judged. sofia-sip's URI parser is lenient: "sip:a@b/c" parses,
 * and prints as "sip:a@bc". */
static int
url_sane(const url_t *u)
{
  unsigned port;

  if (u->url_type != url_sip && u->url_type != url_sips)
    return other_url_sane(u);
  /* RFC 5118 section 4.4 asks that a reference with one colon too many
   * ("[2001:db8:::192.0.2.1]") be taken, which host_is_valid() does not:
   * host_sane() takes a bracketed run of hex digits, colons and dots. */
  if (!host_sane(u->url_host) || u->url_path)
    return 0;
  /* Escaped or not, no control character or space (19.1.1, 25.1). */
  if (has_ctl_or_space(u->url_user) || has_ctl_or_space(u->url_password)
      || has_ctl_or_space(u->url_params) || has_ctl_or_space(u->url_headers))
    return 0;
  return u->url_port == NULL || parse_port(u->url_port, &port) == 0;
}

int
cay__msg_check_request(msg_t *msg, const char **phrase)
{
  static const struct {
    size_t offset;
    const char *name;
    const char *missing;
  } mandatory[] = {
    /* RFC 3261 section 8.1.1: Max-Forwards is mandatory too, but section
     * 16.6 step 3 lets an element add it, so its absence is tolerated. */
    { offsetof(sip_t, sip_via), "Via", "Bad Request - Missing Via" },
    { offsetof(sip_t, sip_from), "From", "Bad Request - Missing From" },
    { offsetof(sip_t, sip_to), "To", "Bad Request - Missing To" },
    { offsetof(sip_t, sip_call_id), "Call-ID",
      "Bad Request - Missing Call-ID" },
    { offsetof(sip_t, sip_cseq), "CSeq", "Bad Request - Missing CSeq" },
  };
  sip_t const *sip = sip_object(msg);
  sip_request_t const *rq = sip ? sip->sip_request : NULL;
  const msg_header_t *e;
  size_t i;

  *phrase = "Bad Request";
  if (!rq)
    return 400;
  /* RFC 3261 section 21.5.7: a version other than SIP/2.0 gets 505 (RFC
   * 4475 section 3.1.2.16), before anything else is judged by 2.0
   * rules. */
  if (!rq->rq_version || strcasecmp(rq->rq_version, "SIP/2.0") != 0) {
    *phrase = "Version Not Supported";
    return 505;
  }
  if ((e = find_error(sip, err_request_line))) {
    *phrase = phrase_for(e);
    return 400;
  }
  /* RFC 3261 section 18.3 / RFC 4475 section 3.1.2.2: a Content-Length
   * larger than the datagram's body. */
  if (sip->sip_flags & MSG_FLG_TRUNC) {
    *phrase = "Bad Request - Content-Length exceeds body";
    return 400;
  }
  for (i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++) {
    if (*(void *const *)((const char *)sip + mandatory[i].offset))
      continue;
    e = find_error(sip, mandatory[i].name);
    *phrase = e ? phrase_for(e) : mandatory[i].missing;
    return 400;
  }
  /* Any other header that did not parse, or a second instance of a
   * single-valued header (RFC 4475 sections 3.3.8 and 3.3.9). */
  if (sip->sip_error) {
    *phrase = phrase_for((const msg_header_t *)sip->sip_error);
    return 400;
  }
  if ((sip->sip_flags & MSG_FLG_ERROR) || !(sip->sip_flags & MSG_FLG_COMPLETE))
    return 400;
  /* RFC 3261 section 8.1.1.5: the CSeq method matches the request method
   * (RFC 4475 sections 3.1.2.17 and 3.1.2.18). Methods are
   * case-sensitive. */
  if (sip->sip_cseq->cs_method != rq->rq_method
      || (rq->rq_method == sip_method_unknown
          && strcmp(sip->sip_cseq->cs_method_name, rq->rq_method_name) != 0)) {
    *phrase = "CSeq method does not match";
    return 400;
  }
  /* RFC 3261 section 25.1: callid = word [ "@" word ], not empty, no
   * whitespace (a folded value keeps its CRLF SP in sofia-sip's i_id, and
   * the Call-ID scan that picks the owner shard stops at the fold). */
  if (!callid_is_word(sip->sip_call_id->i_id)) {
    *phrase = "Bad Request - Malformed Call-ID";
    return 400;
  }
  /* RFC 4475 section 3.1.2.7: a Request-URI that is not a URI at all. */
  if (rq->rq_url->url_type == url_invalid) {
    *phrase = "Bad Request - Malformed Request-URI";
    return 400;
  }
  /* RFC 3261 section 19.1.1 table 1: headers are not allowed in a
   * Request-URI (RFC 4475 section 3.1.2.11). */
  if (rq->rq_url->url_headers) {
    *phrase = "Bad Request - Headers in Request-URI";
    return 400;
  }
  /* RFC 3261 section 8.2.2.1 (RFC 4475 sections 3.3.2 and 3.3.3). */
  if (rq->rq_url->url_type != url_sip && rq->rq_url->url_type != url_sips) {
    *phrase = "Unsupported URI Scheme";
    return 416;
  }
  if (!url_sane(rq->rq_url)) {
    *phrase = "Bad Request - Malformed Request-URI";
    return 400;
  }
  /* The response, and a B2BUA's other leg, carry these back. */
  if (!url_sane(sip->sip_from->a_url)) {
    *phrase = "Bad Request - Malformed From URI";
    return 400;
  }
  if (!url_sane(sip->sip_to->a_url)) {
    *phrase = "Bad Request - Malformed To URI";
    return 400;
  }
  for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
    if (!via_sane(v)) {
      *phrase = "Bad Request - Malformed Via";
      return 400;
    }
  /* 12.1.1: a 1xx or 2xx copies them, and the route set is built of them:
   * sip or sips URIs (16.4) that print back. */
  for (const sip_record_route_t *r = sip->sip_record_route; r; r = r->r_next)
    if ((r->r_url->url_type != url_sip && r->r_url->url_type != url_sips)
        || !url_sane(r->r_url)) {
      *phrase = "Bad Request - Malformed Record-Route";
      return 400;
    }
  *phrase = NULL;
  return 0;
}

int
cay__msg_check_response(msg_t *msg)
{
  sip_t const *sip = sip_object(msg);
  static const char *const needed[]
      = { "Via", "From", "To", "Call-ID", "CSeq" };
  const msg_error_t *e;
  size_t i;

  if (!sip || !sip->sip_status || sip->sip_status->st_status < 100
      || sip->sip_status->st_status > 699)
    return CAY_EPARSE;
  if ((sip->sip_flags & MSG_FLG_ERROR) || !sip->sip_via || !sip->sip_from
      || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq)
    return CAY_EPARSE;
  /* As for a request: the scan that picks the owner shard must read the
   * same Call-ID. */
  if (!callid_is_word(sip->sip_call_id->i_id))
    return CAY_EPARSE;
  /* An ACK or CANCEL copies them (17.1.1.3, 9.1). */
  if (!url_sane(sip->sip_from->a_url) || !url_sane(sip->sip_to->a_url))
    return CAY_EPARSE;
  /* A second instance of a mandatory header makes the response ambiguous;
   * errors in other headers do not keep it from its transaction. */
  for (e = sip->sip_error; e; e = e->er_next) {
    const char *name = msg_is_error((msg_header_t *)e)
                           ? e->er_name
                           : e->er_common->h_class->hc_name;
    if (!name || name == err_nul)
      return CAY_EPARSE;
    for (i = 0; i < sizeof needed / sizeof needed[0]; i++)
      if (strcasecmp(name, needed[i]) == 0)
        return CAY_EPARSE;
  }
  return 0;
}

/* Parse a port number (1*DIGIT, at most 65535). */
static int
parse_port(const char *s, unsigned *port)
{
  unsigned long v = 0;
  const char *p;

  for (p = s; IS_DIGIT(*p) && v <= 65535; p++)
    v = v * 10 + (unsigned long)(*p - '0');
  if (p == s || *p || v > 65535)
    return -EINVAL;
  *port = (unsigned)v;
  return 0;
}

/* Same IP address, ports ignored. */
static int
same_ip(const cay__addr_t *a, const cay__addr_t *b)
{
  if (cay__addr_family(a) != cay__addr_family(b))
    return 0;
  if (cay__addr_family(a) == AF_INET)
    return a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
  return memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr,
                sizeof a->u.sin6.sin6_addr)
         == 0;
}

int
cay__via_fix_received(msg_t *msg, const cay__addr_t *src)
{
  sip_t *sip = sip_object(msg);
  sip_via_t *v = sip ? sip->sip_via : NULL;
  su_home_t *home = msg_home(msg);
  char ip[INET6_ADDRSTRLEN];
  cay__addr_t sent_by;
  char *param;
  int received;

  if (!v || !v->v_host || cay__addr_ip(src, ip, sizeof ip) != 0)
    return -EINVAL;
  /* RFC 3261 section 18.2.1: add received when sent-by is a name or an
   * address other than the source. RFC 5118 section 4.6: the IPv6 address
   * goes in without brackets, as the received ABNF says. */
  received
      = cay__addr_set(&sent_by, v->v_host, 0) != 0 || !same_ip(&sent_by, src);
  /* RFC 3581 section 4: an rport without value gets the source port, and
   * then received is added even when it equals sent-by. */
  if (v->v_rport && !v->v_rport[0]) {
    /* "rport=" and at most 5 digits, without the cost of a printf. */
    param = su_alloc(home, 6 + 20 + 1);
    if (!param)
      return -ENOMEM;
    memcpy(param, "rport=", 6);
    param[6 + cay__fmt_u64(param + 6, cay__addr_port(src))] = '\0';
    if (msg_header_replace_param(home, v->v_common, param) < 0)
      return -ENOMEM;
    received = 1;
  }
  if (received) {
    size_t iplen = strlen(ip);
    param = su_alloc(home, 9 + iplen + 1);
    if (!param)
      return -ENOMEM;
    memcpy(param, "received=", 9);
    memcpy(param + 9, ip, iplen + 1);
    if (msg_header_replace_param(home, v->v_common, param) < 0)
      return -ENOMEM;
  }
  return 0;
}

int
cay__via_response_dest(const sip_via_t *via, cay__addr_t *dst)
{
  unsigned port = 5060;

  if (!via || !via->v_host)
    return -EINVAL;
  /* RFC 3261 section 18.2.2: the maddr case is left out on purpose. Cay
   * does not send multicast, and honouring maddr would let any request
   * aim its responses at a third party. */
  if (via->v_port && via->v_port[0] && parse_port(via->v_port, &port) != 0)
    return -EINVAL;
  if (via->v_received && via->v_received[0]) {
    /* RFC 3581 section 4: received plus the port from rport. */
    if (via->v_rport && via->v_rport[0] && parse_port(via->v_rport, &port) != 0)
      return -EINVAL;
    /* RFC 5118 section 4.6: received may come with or without brackets. */
    return cay__addr_set(dst, via->v_received, port);
  }
  /* Otherwise sent-by itself, which needs DNS when it is a name. */
  return cay__addr_set(dst, via->v_host, port);
}

int
cay__url_dest(const url_t *url, cay__addr_t *dst)
{
  char maddr[INET6_ADDRSTRLEN + 2];
  unsigned port;
  isize_t n;

  if (!url || !url->url_host)
    return -EINVAL;
  /* RFC 3263 section 4.2: without a port, 5060, or 5061 for sips (TLS). */
  port = url->url_type == url_sips ? 5061 : 5060;
  if (url->url_port && url->url_port[0]
      && parse_port(url->url_port, &port) != 0)
    return -EINVAL;
  /* RFC 3263 section 4: maddr, when present, replaces the host. */
  if (url->url_params) {
    /* url_param() counts the NUL: 0 is absent, 1 an empty maddr. */
    n = url_param(url->url_params, "maddr", maddr, sizeof maddr);
    if (n == 1 || n > (isize_t)sizeof maddr)
      return -EINVAL;
    if (n > 1)
      return cay__addr_set(dst, maddr, port);
  }
  return cay__addr_set(dst, url->url_host, port);
}

int
cay__contact_usable(const sip_contact_t *contact)
{
  const url_t *u = contact ? contact->m_url : NULL;
  unsigned port = 1;

  if (u == NULL || (u->url_type != url_sip && u->url_type != url_sips))
    return 0;
  if (!url_sane(u)
      || (u->url_port && parse_port(u->url_port, &port) == 0 && port == 0))
    return 0;
  return 1;
}

int
cay__branch_is_rfc3261(const char *branch)
{
  /* RFC 3261 section 8.1.1.7: the magic cookie. */
  return branch && strncmp(branch, "z9hG4bK", 7) == 0;
}
