/*
 * Parsing of SIP messages over sofia-sip (RFC 3261 section 7 and the
 * torture cases of RFC 4475 and RFC 5118), and where responses and requests
 * go (18.2, RFC 3581). Validation lives in msg_check.c, building and
 * serializing in msg_build.c.
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
 * sip_error list, so that cay__msg_check_request() (msg_check.c) sees one
 * list.
 *
 * The multipart parser (msg_multipart_parse()) is never called: msg_make()
 * only extracts the body as one payload, and nothing here looks inside it.
 */
#include "sip/msg.h"
#include "sip/msg_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/bnf.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_parser.h>
#include <sofia-sip/msg_protos.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/url.h>

#include "cay/errno.h"
#include "core/alloc.h"

/* Names of the error entries this file adds (msg_int.h). */
const char cay__err_request_line[] = "Request-Line";
const char cay__err_nul[] = "NUL octet";
const char cay__err_bare_cr[] = "bare CR";
const char cay__err_name_folded[] = "folded header name";

/* What is wrong with the header lines, up to the empty line that ends
 * them (the body may hold anything), in one walk; NULL when nothing.
 * Both errors are lines sofia-sip reads otherwise than the Call-ID scan
 * that picks the owner shard (transport/callid.c), so the two could name
 * different Call-IDs:
 * - cay__err_bare_cr: a CR not followed by LF (RFC 3261 section 7: lines
 *   end in CRLF; sofia-sip also ends one at a lone CR);
 * - cay__err_name_folded: a header name folded onto the next line before
 *   its colon ("Call-ID\r\n : x"; section 7.3.1's HCOLON allows only SP
 *   and HTAB there; sofia-sip unfolds the line and takes the header).
 * @p b starts at the start line. */
static const char *
header_line_error(const char *b, size_t len)
{
  const char *end = b + len, *line, *nl;
  size_t n;

  for (line = b; line < end; line = nl + 1) {
    nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL)
      return memchr(line, '\r', (size_t)(end - line)) ? cay__err_bare_cr : NULL;
    n = (size_t)(nl - line);
    if (n == 0 || (n == 1 && *line == '\r'))
      return NULL; /* the empty line */
    if (memchr(line, '\r', n - 1))
      return cay__err_bare_cr;
    if (line != b && *line != ' ' && *line != '\t' && nl + 1 < end
        && (nl[1] == ' ' || nl[1] == '\t') && memchr(line, ':', n) == NULL)
      return cay__err_name_folded;
  }
  return NULL;
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

/* True when the header line at @p b (up to @p n bytes) holds a Call-ID
 * the owner-shard scans hash: a Call-ID ("Call-ID" or "i", RFC 3261
 * section 20.8) or a Replaces (RFC 3891 section 6.1), then blanks and a
 * colon. */
static int
is_callid_line(const char *b, size_t n)
{
  size_t k = n >= 7 && strncasecmp(b, "call-id", 7) == 0    ? 7
             : n >= 8 && strncasecmp(b, "replaces", 8) == 0 ? 8
             : n >= 1 && (b[0] == 'i' || b[0] == 'I')       ? 1
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
 * does every NUL of a Call-ID or Replaces line, where a quote is part of
 * the Call-ID (a word may hold DQUOTE): the scans that pick the owner
 * shard hash the raw bytes.
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
  const char *b = data, *nul, *bad_line;
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
  if (bad_nul && (err = add_error(msg, sip, cay__err_nul)))
    goto out;
  /* The CRs and LFs sofia-sip skips before the start line (7.5) are no
   * header line ends: the check starts after them. */
  if ((bad_line = header_line_error(b + lead, len - lead)) != NULL
      && (err = add_error(msg, sip, bad_line)))
    goto out;
  if (sip->sip_request && !request_line_is_strict(b, len)
      && (err = add_error(msg, sip, cay__err_request_line)))
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

  if (!v || !v->v_host)
    return -EINVAL;
  /* RFC 3261 section 18.2.1: add received when sent-by is a name or an
   * address other than the source. RFC 5118 section 4.6: the IPv6 address
   * goes in without brackets, as the received ABNF says. */
  received
      = cay__addr_set(&sent_by, v->v_host, 0) != 0 || !same_ip(&sent_by, src);
  /* A received the sender wrote itself is not where it sent from (only
   * the receiver can know): replaced by the source, or it would aim every
   * response at a third party. */
  received |= v->v_received != NULL;
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
    size_t iplen;
    /* Formatted only here: most requests come from their sent-by, and
     * inet_ntop() costs as much as the rest of this function. */
    if (cay__addr_ip(src, ip, sizeof ip) != 0)
      return -EINVAL;
    iplen = strlen(ip);
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
  if (via->v_port && via->v_port[0] && cay__parse_port(via->v_port, &port) != 0)
    return -EINVAL;
  if (via->v_received && via->v_received[0]) {
    /* RFC 3581 section 4: received plus the port from rport. */
    if (via->v_rport && via->v_rport[0]
        && cay__parse_port(via->v_rport, &port) != 0)
      return -EINVAL;
    /* RFC 5118 section 4.6: received may come with or without brackets. */
    return cay__addr_set(dst, via->v_received, port);
  }
  /* Otherwise sent-by itself, which needs DNS when it is a name. */
  return cay__addr_set(dst, via->v_host, port);
}

int
cay__via_stream_dest(const sip_via_t *via, cay__addr_t *dst)
{
  unsigned port;

  if (!via || !via->v_host)
    return -EINVAL;
  /* RFC 3261 section 18.2.2: the IP of received (that is, the source's,
   * which *dst holds; see cay__via_fix_received()) and the sent-by port,
   * or the transport's default. rport is for unreliable transports only
   * (RFC 3581 section 4). */
  port = via->v_protocol && strcasecmp(via->v_protocol, "SIP/2.0/TLS") == 0
             ? 5061
             : 5060;
  if (via->v_port && via->v_port[0] && cay__parse_port(via->v_port, &port) != 0)
    return -EINVAL;
  cay__addr_set_port(dst, port);
  return 0;
}

int
cay__response_dest(const sip_via_t *via, cay__peer_t *dst)
{
  if (!cay__proto_reliable(dst->proto))
    return cay__via_response_dest(via, &dst->addr);
  (void)cay__via_stream_dest(via, &dst->addr);
  return 0;
}

int
cay__url_proto(const url_t *url)
{
  if (url->url_type == url_sips || url_has_param(url, "transport=tls"))
    return CAY__TLS;
  return url_has_param(url, "transport=tcp") ? CAY__TCP : CAY__UDP;
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
      && cay__parse_port(url->url_port, &port) != 0)
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
