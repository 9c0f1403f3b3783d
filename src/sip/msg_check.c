/*
 * Validation of parsed SIP messages (RFC 3261 sections 8.1.1, 8.2, 12.1.1,
 * 19.1.1, 20 and 25.1): what cay__msg_check_request() answers with 400,
 * 416 or 505, what cay__msg_check_response() discards, and whether a
 * Contact can be a remote target.
 *
 * Beyond the grammar sofia-sip enforces, its parser is lenient in ways that
 * matter here: it takes values it then prints back in a form no peer parses
 * ("sip:a@b/c" as "sip:a@bc"), and a Call-ID the owner-shard scan
 * (transport/callid.c) would read otherwise. Such messages are refused
 * here, since a response or a B2BUA's other leg would carry them on.
 */
#include "sip/msg.h"
#include "sip/msg_int.h"

#include <string.h>
#include <strings.h>

#include <sofia-sip/bnf.h>
#include <sofia-sip/hostdomain.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/url.h>

#include "cay/errno.h"

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
  if (name == cay__err_request_line)
    return "Bad Request - Malformed Request-Line";
  if (name == cay__err_nul)
    return "Bad Request - NUL octet in header";
  if (name == cay__err_bare_cr)
    return "Bad Request - CR without LF in header";
  if (name == cay__err_name_folded)
    return "Bad Request - Folded header name";
  for (i = 0; name && i < sizeof header_phrases / sizeof header_phrases[0]; i++)
    if (strcasecmp(name, header_phrases[i].name) == 0)
      return multiple ? header_phrases[i].multiple
                      : header_phrases[i].malformed;
  return multiple ? "Bad Request - Multiple header" : "Malformed header";
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

/* Every octet of @p s (may be NULL) is visible ASCII, %x21-7E: no space,
 * control character or raw octet above 0x7E (RFC 3261 section 25.1: such
 * octets are escaped in a URI, and a Call-ID is a word of them). */
static int
visible_ascii(const char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7F)
      return 0;
  return 1;
}

/* RFC 3261 section 25.1: callid = word [ "@" word ]. */
static int
callid_is_word(const char *id)
{
  return id && id[0] && visible_ascii(id);
}

/* RFC 3891 section 6.1: Replaces = callid *(SEMI replaces-param), with
 * exactly one to-tag and one from-tag. sofia-sip takes a value it cannot
 * split at its first ';' (a blank or '=' in the Call-ID) whole as the
 * Call-ID: one with a ';' or a blank in it is no callid, and the scan that
 * hands the INVITE to the dialog's shard (cay__replaces_scan()) would read
 * another. */
static int
replaces_sane(const sip_replaces_t *rp)
{
  return callid_is_word(rp->rp_call_id) && strchr(rp->rp_call_id, ';') == NULL
         && rp->rp_to_tag && rp->rp_to_tag[0] && rp->rp_from_tag
         && rp->rp_from_tag[0];
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
  /* sofia-sip prints "x:a/b" as "x:ab": a path after a host without "//"
   * loses its "/", and what is left may not parse ("x:a/\xe9" prints as
   * "x:a\xe9", a host of a non-ASCII byte). */
  if (u->url_path && u->url_host && !u->url_root)
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
  if (*t == '\0' || t[span_token(t)] != '\0')
    return 0;
  return host_sane(v->v_host);
}

/* A sip or sips URI Cay can print back so that a peer parses it (RFC 3261
 * section 19.1.1: a valid host, a port of 1..65535, no path); other schemes
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
  if (!visible_ascii(u->url_user) || !visible_ascii(u->url_password)
      || !visible_ascii(u->url_params) || !visible_ascii(u->url_headers))
    return 0;
  /* Port 0 is no port a request can go to. */
  return u->url_port == NULL
         || (cay__parse_port(u->url_port, &port) == 0 && port != 0);
}

/* The parse itself: the version (505 first), the request line, the
 * framing, the mandatory headers, any header that did not parse, and the
 * CSeq method. */
static int
check_parsed(sip_t const *sip, sip_request_t const *rq, const char **phrase)
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
  const msg_header_t *e;

  /* RFC 3261 section 21.5.7: a version other than SIP/2.0 gets 505 (RFC
   * 4475 section 3.1.2.16), before anything else is judged by 2.0
   * rules. */
  if (!rq->rq_version || strcasecmp(rq->rq_version, "SIP/2.0") != 0) {
    *phrase = "Version Not Supported";
    return 505;
  }
  if ((e = find_error(sip, cay__err_request_line))) {
    *phrase = phrase_for(e);
    return 400;
  }
  /* RFC 3261 section 18.3 / RFC 4475 section 3.1.2.2: a Content-Length
   * larger than the datagram's body. */
  if (sip->sip_flags & MSG_FLG_TRUNC) {
    *phrase = "Bad Request - Content-Length exceeds body";
    return 400;
  }
  for (size_t i = 0; i < sizeof mandatory / sizeof mandatory[0]; i++) {
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
  return 0;
}

/* The values a response or the other leg carries back: Call-ID, the
 * Request-URI, From, To, Via and Record-Route URIs. */
static int
check_values(sip_t const *sip, sip_request_t const *rq, const char **phrase)
{
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
  if (sip->sip_replaces && !replaces_sane(sip->sip_replaces)) {
    *phrase = "Bad Request - Malformed Replaces";
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
  return 0;
}

int
cay__msg_check_request(msg_t *msg, const char **phrase)
{
  sip_t const *sip = sip_object(msg);
  sip_request_t const *rq = sip ? sip->sip_request : NULL;
  int status;

  *phrase = "Bad Request";
  if (!rq)
    return 400;
  if ((status = check_parsed(sip, rq, phrase)) != 0
      || (status = check_values(sip, rq, phrase)) != 0)
    return status;
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
    if (!name || name == cay__err_nul)
      return CAY_EPARSE;
    for (i = 0; i < sizeof needed / sizeof needed[0]; i++)
      if (strcasecmp(name, needed[i]) == 0)
        return CAY_EPARSE;
  }
  return 0;
}

int
cay__contact_usable(const sip_contact_t *contact)
{
  const url_t *u = contact ? contact->m_url : NULL;

  return u && (u->url_type == url_sip || u->url_type == url_sips)
         && url_sane(u);
}

int
cay__branch_is_rfc3261(const char *branch)
{
  /* RFC 3261 section 8.1.1.7: the magic cookie. */
  return branch && strncmp(branch, "z9hG4bK", 7) == 0;
}
