/*
 * A route's pass_headers (cay_route_t.pass_headers): which header fields
 * of one leg's INVITE or response the other leg's carries, and the check
 * of the names for cay_config_check(). See route.h.
 */
#include "b2bua/route.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>

#include "cay/errno.h"
#include "core/log.h"
#include "sip/msg.h"

int
cay__route_header_ours(const char *name)
{
  static const char *const ours[] = {
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Contact",
    "Route",
    "Record-Route",
    "Content-Type",
    "Content-Length",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "MIME-Version",
    "Allow",
    "Supported",
    "Require",
    "Proxy-Require",
    "Session-Expires",
    "Min-SE",
    "Authorization",
    "Proxy-Authorization",
    "RAck",
    "RSeq",
    "Replaces",
    "Accept",
  };

  for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
    if (strcasecmp(name, ours[i]) == 0)
      return 1;
  return 0;
}

/* RFC 3261 section 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" /
 * "*" / "_" / "+" / "`" / "'" / "~"); here without '*', which a pattern
 * gives its own meaning. */
static int
is_name_char(int c)
{
  return isalnum(c) || (c && strchr("-.!%_+`'~", c) != NULL);
}

/* CAY_ECONFIG with @p why in @p err. */
static int
fail(char *err, size_t errlen, const char *why)
{
  cay__errmsg(err, errlen, "%s", why);
  return CAY_ECONFIG;
}

int
cay__route_check_header(const char *name, char *err, size_t errlen)
{
  size_t n = strlen(name), len = n;

  if (n && name[n - 1] == '*')
    len--;
  for (size_t i = 0; i < len; i++)
    if (!is_name_char((unsigned char)name[i]))
      return fail(err, errlen, "not a header name (RFC 3261 token)");
  if (len == 0)
    return fail(err, errlen,
                "not a header name (\"X-*\" is a prefix; "
                "\"*\" alone would pass everything)");
  if (len == 1 && len == n)
    return fail(err, errlen,
                "a compact form: give the full name "
                "(Subject, not s)");
  if (len == n && cay__route_header_ours(name))
    return fail(err, errlen, "Cay writes this header itself");
  return 0;
}

int
cay__route_passes(const cay_route_t *r, const char *name)
{
  for (unsigned i = 0; i < r->n_pass_headers; i++) {
    const char *p = r->pass_headers[i];
    size_t n = strlen(p);
    if (n && p[n - 1] == '*' ? strncasecmp(name, p, n - 1) == 0
                             : strcasecmp(name, p) == 0)
      return !cay__route_header_ours(name);
  }
  return 0;
}

int
cay__route_pass_lines(const cay_route_t *r, msg_t *msg, char *buf, size_t size)
{
  msg_header_t **head = msg ? msg_chain_head(msg) : NULL;
  size_t off = 0;
  int err = 0;

  buf[0] = '\0';
  if (r->n_pass_headers == 0 || head == NULL)
    return 0;
  for (msg_header_t *h = *head; h; h = h->sh_succ) {
    const msg_hclass_t *hc = h->sh_class;
    const char *name
        = hc == sip_unknown_class ? h->sh_unknown->un_name : hc->hc_name;
    if (hc == sip_request_class || hc == sip_status_class
        || hc == sip_separator_class || hc == sip_payload_class
        || hc == sip_error_class || name == NULL || !cay__route_passes(r, name))
      continue;
    if (cay__msg_header_append(buf, size, &off, h) != 0)
      err = -ENOSPC;
  }
  return err;
}
