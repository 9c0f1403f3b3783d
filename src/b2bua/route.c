/*
 * The route table: compile once per shard, match every new request.
 *
 * A table is a copy of cfg->routes plus what matching needs precompiled:
 * the user regex (PCRE2; for the common "^1000$" and "^1" forms, a
 * literal compared without it), the domain (binary when it is an IP
 * literal, so "::1" and "0::1" are one domain) and the source CIDR. It is
 * one allocation through the shim, plus PCRE2's own (also through it)
 * for each regex.
 */
#include "b2bua/route.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sofia-sip/url.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "transport/addr.h"
#include "transport/cidr.h"

#define PREVIEW 64 /* bytes of a bad value quoted in a message */

/* A user regex's match gives up (no match) past this many backtracking
 * steps or this depth, or this much heap (KiB): about a millisecond. */
#define USER_RE_MATCH_LIMIT 100000
#define USER_RE_HEAP_KIB    1024
#define USER_RE_NEST_LIMIT  32 /* parentheses nested in a pattern */

/* Sample values a target template is expanded with before it is parsed:
 * a user that any SIP URI accepts, and a domain that is no IP literal
 * (unless the route pins the domain), so that a host taken from
 * ${ruri_domain} is refused: Cay does no DNS. */
#define SAMPLE_USER   "1000"
#define SAMPLE_DOMAIN "example.com"

enum user_kind {
  USER_ANY,    /* no ruri_user key */
  USER_EXACT,  /* "^literal$": strcmp */
  USER_PREFIX, /* "^literal": prefix compare */
  USER_REGEX   /* anything else: pcre2_match */
};

/* A compiled user regex (PCRE2) and what matching it needs; every
 * pointer is allocated through the shim. */
struct user_re {
  pcre2_code *code;
  pcre2_match_data *md;    /* the shard's own: one match at a time */
  pcre2_match_context *mc; /* the limits */
};

static void
user_re_free(struct user_re *u)
{
  pcre2_match_context_free(u->mc);
  pcre2_match_data_free(u->md);
  pcre2_code_free(u->code);
  memset(u, 0, sizeof *u);
}

struct entry {
  cay_route_t route; /* the shard's own copy, returned by match */
  enum user_kind user_kind;
  const char *user_lit; /* USER_EXACT, USER_PREFIX: in route.ruri_user */
  size_t user_len;
  struct user_re user_re; /* USER_REGEX only */
  int has_domain;
  int domain_family;                /* AF_INET/AF_INET6 when an IP, else 0 */
  uint8_t domain_addr[16];          /* when domain_family != 0 */
  char domain[CAY_CONFIG_NAME_LEN]; /* without brackets */
  int has_source;
  cay__cidr_t source;
};

struct cay__routes {
  unsigned n;
  unsigned actions; /* bit 1 << action of each route: cay__routes_have() */
  unsigned refs;    /* the creator's, and one per cay__routes_hold() */
  struct entry e[];
};

/* ------------------------------------------------------------------ */
/* Values: user pattern, domain, source.                                */
/* ------------------------------------------------------------------ */

/* True when @p s has none of the characters that mean something in a
 * PCRE2 pattern (outside a character class), so that it
 * matches only itself. */
static int
is_literal(const char *s, size_t n)
{
  return strcspn(s, ".[]()*+?{}|^$\\") >= n;
}

static enum user_kind
classify_user(const char *re, const char **lit, size_t *len)
{
  size_t n = strlen(re);

  if (n == 0)
    return USER_ANY;
  if (re[0] != '^')
    return USER_REGEX;
  *lit = re + 1;
  if (n >= 2 && re[n - 1] == '$' && is_literal(re + 1, n - 2)) {
    *len = n - 2;
    return USER_EXACT;
  }
  if (is_literal(re + 1, n - 1)) {
    *len = n - 1;
    return USER_PREFIX;
  }
  return USER_REGEX;
}

/* PCRE2 allocates through Cay's shim: counted, and failed on purpose by
 * the tests' allocation failures. */
static void *
re_malloc(PCRE2_SIZE n, void *data)
{
  (void)data;
  return cay__malloc(n);
}

static void
re_free(void *p, void *data)
{
  (void)data;
  cay__free(p);
}

/* Compile user regex @p pattern into @p u with its match data and the
 * match limits, so that no Request-URI user can make a match cost more
 * than about USER_RE_MATCH_LIMIT steps (a pattern such as "^(a|aa)+$"
 * backtracks exponentially without one). PCRE2 compiles in time and
 * space bounded by the pattern's length: repetitions that glibc's
 * regcomp() expanded into gigabytes ("a*+*+*+*", "((a*){1,40}){1,40}")
 * compile small, or are refused as too large, here.
 * @return 0, -ENOMEM or CAY_ECONFIG with the message in @p err. */
static int
compile_user(struct user_re *u, const char *pattern, char *err, size_t errlen)
{
  pcre2_general_context *gc
      = pcre2_general_context_create(re_malloc, re_free, NULL);
  pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
  PCRE2_UCHAR why[128];
  PCRE2_SIZE at = 0;
  int code = 0;

  memset(u, 0, sizeof *u);
  if (cc) {
    pcre2_set_parens_nest_limit(cc, USER_RE_NEST_LIMIT);
    u->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
                            &code, &at, cc);
  }
  if (u->code) {
    u->md = pcre2_match_data_create(1, gc);
    u->mc = pcre2_match_context_create(gc);
  }
  pcre2_compile_context_free(cc);
  pcre2_general_context_free(gc);
  if (u->code && u->md && u->mc) {
    pcre2_set_match_limit(u->mc, USER_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(u->mc, USER_RE_MATCH_LIMIT);
    pcre2_set_heap_limit(u->mc, USER_RE_HEAP_KIB);
    return 0;
  }
  user_re_free(u);
  if (cc == NULL || code == 0 || code == PCRE2_ERROR_HEAP_FAILED) {
    cay__errmsg(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (pcre2_get_error_message(code, why, sizeof why) < 0)
    snprintf((char *)why, sizeof why, "error %d", code);
  cay__errmsg(err, errlen, "bad regular expression '%.*s' at offset %zu: %s",
              PREVIEW, pattern, (size_t)at, (const char *)why);
  return CAY_ECONFIG;
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */
/* ------------------------------------------------------------------ */

int
cay__route_check_user(const char *re, char *err, size_t errlen)
{
  struct user_re compiled;
  int rc = compile_user(&compiled, re, err, errlen);

  if (rc == 0)
    user_re_free(&compiled);
  return rc == -ENOMEM ? 0 : rc; /* not the pattern's fault */
}

int
cay__route_check_source(const char *source, char *err, size_t errlen)
{
  cay__cidr_t c;

  return cay__cidr_parse(source, &c, err, errlen);
}

/* The variable at @p s ("${name}..."): its length through '}', or 0 when
 * there is no '}'. */
static size_t
variable_len(const char *s)
{
  const char *end = strchr(s + 2, '}');

  return end ? (size_t)(end - s) + 1 : 0;
}

static int
is_variable(const char *s, size_t n, const char *name)
{
  size_t len = strlen(name);

  return n == len + 3 && memcmp(s + 2, name, len) == 0;
}

/* RFC 3261 section 25.1: no controls, spaces, quotes or angle brackets in
 * a SIP-URI; they would also break the header the target goes into. */
static int
is_uri_text(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '"' || *s == '<'
        || *s == '>')
      return 0;
  return 1;
}

static long expand(const char *tmpl, const cay__route_req_t *req, char *out,
                   size_t outlen);

/* cay__route_check_target() for template @p tmpl of route @p r. */
static int
check_template(const cay_route_t *r, const char *tmpl, char *err, size_t errlen)
{
  char uri[2 * CAY_CONFIG_TEXT_LEN];
  char domain[CAY_CONFIG_NAME_LEN + 2];
  cay__route_req_t sample;
  const char *host;
  long len;
  url_t url;

  /* Only the two variables of the contract; a typo such as ${ruri_usr}
   * would otherwise reach the wire. */
  for (const char *p = strstr(tmpl, "${"); p; p = strstr(p, "${")) {
    size_t n = variable_len(p);

    if (n == 0) {
      cay__errmsg(err, errlen, "'${' without a closing '}' in '%.*s'", PREVIEW,
                  tmpl);
      return CAY_ECONFIG;
    }
    if (!is_variable(p, n, "ruri_user") && !is_variable(p, n, "ruri_domain")) {
      cay__errmsg(err, errlen,
                  "unknown variable '%.*s' (expected ${ruri_user} or "
                  "${ruri_domain})",
                  (int)(n > PREVIEW ? PREVIEW : n), p);
      return CAY_ECONFIG;
    }
    p += n;
  }

  memset(&sample, 0, sizeof sample);
  sample.ruri_user = SAMPLE_USER;
  sample.ruri_domain = SAMPLE_DOMAIN;
  if (r->ruri_domain[0]) {
    /* The route only matches that domain: it is what ${ruri_domain}
     * will be. */
    size_t n = strlen(r->ruri_domain);
    const char *d = r->ruri_domain;

    if (n >= 2 && d[0] == '[' && d[n - 1] == ']') {
      d++;
      n -= 2;
    }
    memcpy(domain, d, n);
    domain[n] = '\0';
    sample.ruri_domain = domain;
  }
  len = expand(tmpl, &sample, uri, sizeof uri);
  if (len <= 0 || !is_uri_text(uri)) {
    cay__errmsg(err, errlen, "expected a sip: or sips: URI, got '%.*s'",
                PREVIEW, tmpl);
    return CAY_ECONFIG;
  }
  memset(&url, 0, sizeof url);
  if (url_d(&url, uri) < 0
      || (url.url_type != url_sip && url.url_type != url_sips)) {
    cay__errmsg(err, errlen, "expected a sip: or sips: URI, got '%.*s'",
                PREVIEW, tmpl);
    return CAY_ECONFIG;
  }
  host = url.url_host ? url.url_host : "";
  /* A name is located by RFC 3263 when a call is forwarded (locate.c). */
  if (!cay__is_ip_literal(host, strlen(host))
      && !cay__is_host_name(host, strlen(host), "")) {
    cay__errmsg(err, errlen,
                "target host '%.*s' is neither an IP address nor a host name",
                PREVIEW, host);
    return CAY_ECONFIG;
  }
  if (url.url_port) {
    unsigned port;

    if (cay__parse_port(url.url_port, &port) != 0 || port == 0) {
      cay__errmsg(err, errlen, "target port '%.*s' is not from 1 to 65535",
                  PREVIEW, url.url_port);
      return CAY_ECONFIG;
    }
  }
  return 0;
}

int
cay__route_check_target(const cay_route_t *r, char *err, size_t errlen)
{
  return check_template(r, r->target, err, errlen);
}

int
cay__route_check_failover(const cay_route_t *r, unsigned i, char *err,
                          size_t errlen)
{
  return check_template(r, r->failover[i], err, errlen);
}

/* ------------------------------------------------------------------ */
/* The table.                                                           */
/* ------------------------------------------------------------------ */

static void
free_entries(struct entry *e, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    if (e[i].user_kind == USER_REGEX)
      user_re_free(&e[i].user_re);
}

static int
has_nul(const char *s, size_t size)
{
  return memchr(s, '\0', size) != NULL;
}

/* Compile route @p i into @p e (route already copied). On error nothing
 * is left allocated in @p e. */
static int
compile_entry(struct entry *e, unsigned i, char *err, size_t errlen)
{
  const cay_route_t *r = &e->route;
  char why[256];
  size_t n;
  int rc;

  /* An embedder fills these in code: do not read past a field. */
  if (!has_nul(r->method, sizeof r->method)
      || !has_nul(r->ruri_user, sizeof r->ruri_user)
      || !has_nul(r->ruri_domain, sizeof r->ruri_domain)
      || !has_nul(r->source, sizeof r->source)
      || !has_nul(r->target, sizeof r->target)) {
    cay__errmsg(err, errlen, "routes[%u]: a string is not NUL-terminated", i);
    return CAY_ECONFIG;
  }

  e->user_kind = classify_user(r->ruri_user, &e->user_lit, &e->user_len);
  if (e->user_kind == USER_REGEX) {
    rc = compile_user(&e->user_re, r->ruri_user, why, sizeof why);
    if (rc != 0) {
      e->user_kind = USER_ANY;
      if (rc == -ENOMEM)
        cay__errmsg(err, errlen, "out of memory");
      else
        cay__errmsg(err, errlen, "routes[%u].match.ruri_user: %s", i, why);
      return rc;
    }
  }

  n = strlen(r->ruri_domain);
  if (n > 0) {
    const char *d = r->ruri_domain;

    e->has_domain = 1;
    if (n >= 2 && d[0] == '[' && d[n - 1] == ']') {
      d++;
      n -= 2;
    }
    memcpy(e->domain, d, n);
    e->domain[n] = '\0';
    if (cay__ip_parse(e->domain, n, &e->domain_family, e->domain_addr) != 0)
      e->domain_family = 0;
  }

  if (r->source[0]) {
    e->has_source = 1;
    rc = cay__cidr_parse(r->source, &e->source, why, sizeof why);
    if (rc != 0) {
      cay__errmsg(err, errlen, "routes[%u].match.source: %s", i, why);
      goto fail;
    }
  }
  return 0;

fail:
  free_entries(e, 1);
  e->user_kind = USER_ANY;
  return rc;
}

int
cay__routes_new(const cay_config_t *cfg, cay__routes_t **out, char *err,
                size_t errlen)
{
  cay__routes_t *t;
  unsigned n = cfg->n_routes;
  int rc;

  *out = NULL;
  if (n > CAY_CONFIG_MAX_ROUTES) {
    cay__errmsg(err, errlen, "routes: at most %d routes are allowed, got %u",
                CAY_CONFIG_MAX_ROUTES, n);
    return CAY_ECONFIG;
  }
  t = cay__calloc(1, sizeof *t + n * sizeof t->e[0]);
  if (t == NULL) {
    cay__errmsg(err, errlen, "out of memory");
    return -ENOMEM;
  }
  t->refs = 1;
  for (unsigned i = 0; i < n; i++) {
    t->e[i].route = cfg->routes[i];
    rc = compile_entry(&t->e[i], i, err, errlen);
    if (rc != 0) {
      free_entries(t->e, i);
      cay__free(t);
      return rc;
    }
    t->n = i + 1;
    t->actions |= 1u << cfg->routes[i].action;
  }
  *out = t;
  return 0;
}

void
cay__routes_free(cay__routes_t *r)
{
  if (r == NULL || --r->refs > 0)
    return;
  free_entries(r->e, r->n);
  cay__free(r);
}

cay__routes_t *
cay__routes_hold(cay__routes_t *r)
{
  if (r)
    r->refs++;
  return r;
}

int
cay__routes_have(const cay__routes_t *r, cay_route_action_t action)
{
  /* Per OPTIONS and 405 (their Allow): no walk over the routes. */
  return r && (r->actions >> action) & 1u;
}

unsigned
cay__routes_count(const cay__routes_t *r)
{
  return r ? r->n : 0;
}

static int
match_user(const struct entry *e, const char *user)
{
  switch (e->user_kind) {
  case USER_ANY:
    return 1;
  case USER_EXACT:
    return strlen(user) == e->user_len
           && memcmp(user, e->user_lit, e->user_len) == 0;
  case USER_PREFIX:
    return strncmp(user, e->user_lit, e->user_len) == 0;
  case USER_REGEX:
    /* Over the limits (PCRE2_ERROR_MATCHLIMIT and the like): no match. */
    return pcre2_match(e->user_re.code, (PCRE2_SPTR)user, strlen(user), 0, 0,
                       e->user_re.md, e->user_re.mc)
           >= 0;
  }
  return 0;
}

static int
match_domain(const struct entry *e, const char *domain)
{
  int family;
  uint8_t addr[16];

  if (!e->has_domain)
    return 1;
  if (e->domain_family == 0)
    return strcasecmp(domain, e->domain) == 0;
  /* Compare IP literals as addresses: "::1" is "0:0::1". */
  return cay__ip_parse(domain, strlen(domain), &family, addr) == 0
         && family == e->domain_family
         && memcmp(addr, e->domain_addr, family == AF_INET ? 4 : 16) == 0;
}

const cay_route_t *
cay__routes_match(const cay__routes_t *r, const cay__route_req_t *req)
{
  const char *method = req->method ? req->method : "";
  const char *user = req->ruri_user ? req->ruri_user : "";
  const char *domain = req->ruri_domain ? req->ruri_domain : "";

  if (r == NULL)
    return NULL;
  for (unsigned i = 0; i < r->n; i++) {
    const struct entry *e = &r->e[i];

    /* RFC 3261 section 7.1: the method name is case-sensitive. */
    if (e->route.method[0] && strcmp(method, e->route.method) != 0)
      continue;
    /* The registrar takes REGISTER only; a REGISTER is never a call. */
    if ((e->route.action == CAY_ROUTE_REGISTER)
            != (strcmp(method, "REGISTER") == 0)
        && e->route.action != CAY_ROUTE_REJECT)
      continue;
    if (e->has_source
        && (req->source == NULL
            || !cay__cidr_contains(&e->source, req->source)))
      continue;
    if (!match_domain(e, domain))
      continue;
    /* The user last: it is the only key that may cost a regex match. */
    if (!match_user(e, user))
      continue;
    return &e->route;
  }
  return NULL;
}

/* Append @p n bytes of @p s at @p *len; false once @p out is full. */
static int
append(char *out, size_t outlen, size_t *len, const char *s, size_t n)
{
  if (*len + n >= outlen) {
    *len += n;
    return 0;
  }
  memcpy(out + *len, s, n);
  *len += n;
  return 1;
}

/* Append the user part @p user, each octet that RFC 3261 section 25.1
 * does not allow in one (user = 1*( unreserved / escaped /
 * user-unreserved )) escaped as %XX: a Request-URI user sofia-sip took
 * ("a>b") must not end the target's URI early. An escape already there
 * stays. False once @p out is full. */
static int
append_user(char *out, size_t outlen, size_t *len, const char *user)
{
  static const char hex[] = "0123456789ABCDEF";
  int ok = 1;

  for (const unsigned char *u = (const unsigned char *)user; *u && ok; u++) {
    char esc[3] = { '%', hex[*u >> 4], hex[*u & 15] };

    if ((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z')
        || (*u >= '0' && *u <= '9') || strchr("-_.!~*'()&=+$,;?/%", *u))
      ok = append(out, outlen, len, (const char *)u, 1);
    else
      ok = append(out, outlen, len, esc, 3);
  }
  return ok;
}

long
cay__route_target(const cay_route_t *r, const cay__route_req_t *req, char *out,
                  size_t outlen)
{
  return expand(r->target, req, out, outlen);
}

long
cay__route_failover_target(const cay_route_t *r, unsigned i,
                           const cay__route_req_t *req, char *out,
                           size_t outlen)
{
  return expand(r->failover[i], req, out, outlen);
}

/* Template @p tmpl expanded for @p req (cay__route_target()). */
static long
expand(const char *tmpl, const cay__route_req_t *req, char *out, size_t outlen)
{
  const char *user = req->ruri_user ? req->ruri_user : "";
  const char *domain = req->ruri_domain ? req->ruri_domain : "";
  const char *p = tmpl;
  size_t len = 0;
  int ok = 1;

  while (*p && ok) {
    const char *var = strstr(p, "${");
    size_t n = var ? variable_len(var) : 0;

    if (var == NULL || n == 0) {
      ok = append(out, outlen, &len, p, strlen(p));
      break;
    }
    ok = append(out, outlen, &len, p, (size_t)(var - p));
    if (ok && is_variable(var, n, "ruri_user")) {
      ok = append_user(out, outlen, &len, user);
    } else if (ok && is_variable(var, n, "ruri_domain")) {
      /* RFC 3261 section 25.1: an IPv6 host goes in brackets. */
      int v6 = strchr(domain, ':') != NULL && domain[0] != '[';

      ok = (!v6 || append(out, outlen, &len, "[", 1))
           && append(out, outlen, &len, domain, strlen(domain))
           && (!v6 || append(out, outlen, &len, "]", 1));
    } else if (ok) {
      /* Unknown: cay__route_check_target() refuses it; copy it as is. */
      ok = append(out, outlen, &len, var, n);
    }
    p = var + n;
  }
  if (!ok) {
    if (outlen > 0)
      out[0] = '\0';
    return CAY_ELIMIT;
  }
  if (outlen == 0)
    return CAY_ELIMIT;
  out[len] = '\0';
  return (long)len;
}

void
cay__route_req_of(cay__route_req_t *req, const sip_t *sip,
                  const cay__addr_t *src)
{
  const url_t *ru = sip->sip_request->rq_url;

  req->method = sip->sip_request->rq_method_name;
  req->ruri_user = ru->url_user;
  req->ruri_domain = ru->url_host;
  req->source = src;
}
