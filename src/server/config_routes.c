/*
 * The routes: list of the configuration: its schema, loading (pass 3 of
 * config_apply.c) and checks (part of cay_config_check()).
 *
 *   routes:
 *     - match: { method: INVITE, ruri_user: "^1", ruri_domain: example.com,
 *                source: 10.0.0.0/8 }
 *       action: forward
 *       target: "sip:${ruri_user}@127.0.0.1:5070"
 *       auth: { username: cay, password: secret }
 *
 * Action register (the registrar, config_registrar.c) takes REGISTER
 * only, and a REGISTER goes to a register or a reject route only.
 *
 * A value that only the loader can see (a key given with an action that
 * does not use it, a number out of range) is refused while loading; all
 * the rest is refused by cay__config_check_routes(), so that routes an
 * embedder fills in code are checked the same way. What the matcher
 * compiles (regexes, CIDRs, target templates) is checked by the matcher's
 * own helpers (b2bua/route.h), so the two cannot disagree.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/bnf.h>

#include "b2bua/route.h"
#include "dialog/auth.h"
#include "cay/errno.h"
#include "server/config_int.h"
#include "transport/addr.h"

/* A forward rings this long when the route does not say (RFC 3261
 * section 13.3.1.1 leaves the time to the UAS; 60 s is what phones use). */
#define ROUTE_RING_TIMEOUT_S 60
#define ROUTE_MAX_RING_S     86400 /* a day: ring_timeout_s * 1000 fits */
/* Ten minutes: far past timer B (64*T1, 32 s with the default T1), which
 * ends a silent INVITE first anyway. */
#define ROUTE_MAX_NO_RESPONSE_MS 600000
#define ROUTE_REJECT_CODE        403

/* ------------------------------------------------------------------ */
/* Schema.                                                              */
/* ------------------------------------------------------------------ */

static const cyaml_schema_field_t match_fields[] = {
  STR("method", struct file_match, method),
  STR("ruri_user", struct file_match, ruri_user),
  STR("ruri_domain", struct file_match, ruri_domain),
  STR("source", struct file_match, source),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t auth_fields[] = {
  STR("username", struct file_auth, username),
  STR("password", struct file_auth, password),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t route_fields[] = {
  CYAML_FIELD_MAPPING_PTR("match", OPT, struct file_route, match, match_fields),
  STR("action", struct file_route, action),
  STR("target", struct file_route, target),
  STR("location", struct file_route, location),
  STR("authenticate", struct file_route, authenticate),
  STR("code", struct file_route, code),
  STR("reason", struct file_route, reason),
  STR("max_duration_s", struct file_route, max_duration_s),
  STR("ring_timeout_s", struct file_route, ring_timeout_s),
  STR("no_response_timeout_ms", struct file_route, no_response_timeout_ms),
  CYAML_FIELD_SEQUENCE("codecs", CYAML_FLAG_POINTER | OPT, struct file_route,
                       codecs, &cay__config_string_entry, 0,
                       CAY_ROUTE_MAX_CODECS),
  CYAML_FIELD_MAPPING_PTR("auth", OPT, struct file_route, auth, auth_fields),
  CYAML_FIELD_SEQUENCE("pass_headers", CYAML_FLAG_POINTER | OPT,
                       struct file_route, pass_headers,
                       &cay__config_string_entry, 0, CAY_ROUTE_MAX_PASS),
  CYAML_FIELD_SEQUENCE("failover", CYAML_FLAG_POINTER | OPT, struct file_route,
                       failover, &cay__config_string_entry, 0,
                       CAY_ROUTE_MAX_FAILOVER),
  CYAML_FIELD_END,
};

const cyaml_schema_value_t cay__config_route_entry = {
  CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct file_route, route_fields),
};

/* ------------------------------------------------------------------ */
/* Which keys go with which action.                                     */
/* ------------------------------------------------------------------ */

/* Indexed by cay_route_action_t. */
static const char *const action_names[]
    = { "answer", "reject", "forward", "register" };

/* What action: may be, as a message says it. It starts with the whole
 * list of before register ("answer, reject or forward"), which logs and
 * scripts look for (tests/integration/b2bua.cmake). */
#define ACTIONS_EXPECTED                                                       \
  "answer, reject or forward, or register for REGISTER requests"

static const char *
action_name(cay_route_action_t a)
{
  return (unsigned)a < sizeof action_names / sizeof *action_names
             ? action_names[a]
             : "unknown";
}

/* Keys that only some actions use; any other key goes with every action. */
static const struct {
  const char *key;
  const char *noun; /* as a message names it */
  unsigned actions; /* bit per cay_route_action_t */
  const char *which;
} action_keys[] = {
  { "target", "a target", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "location", "location", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "authenticate", "authenticate",
    1u << CAY_ROUTE_ANSWER | 1u << CAY_ROUTE_FORWARD,
    "only actions answer and forward take" },
  { "ring_timeout_s", "ring_timeout_s", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "no_response_timeout_ms", "no_response_timeout_ms", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "auth", "auth", 1u << CAY_ROUTE_FORWARD, "only action forward takes" },
  { "pass_headers", "pass_headers", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "failover", "failover", 1u << CAY_ROUTE_FORWARD,
    "only action forward takes" },
  { "code", "a code", 1u << CAY_ROUTE_REJECT, "only action reject takes" },
  { "reason", "a reason", 1u << CAY_ROUTE_REJECT, "only action reject takes" },
  { "max_duration_s", "max_duration_s",
    1u << CAY_ROUTE_ANSWER | 1u << CAY_ROUTE_FORWARD,
    "only actions answer and forward take" },
  { "codecs", "codecs", 1u << CAY_ROUTE_ANSWER | 1u << CAY_ROUTE_FORWARD,
    "only actions answer and forward take" },
};

/* 0 when route @p i may have @p key with @p action; else CAY_ECONFIG and
 * "routes[I].KEY: only action ... takes a KEY (this route's action is
 * A)". */
static int
check_key_action(unsigned i, const char *key, cay_route_action_t action,
                 char *err, size_t errlen)
{
  for (size_t k = 0; k < sizeof action_keys / sizeof *action_keys; k++) {
    if (strcmp(action_keys[k].key, key) != 0
        || (action_keys[k].actions & 1u << action))
      continue;
    cay__errmsg(err, errlen, "routes[%u].%s: %s %s (this route's action is %s)",
                i, key, action_keys[k].which, action_keys[k].noun,
                action_name(action));
    return CAY_ECONFIG;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

void
cay__config_route_init(cay_route_t *r)
{
  memset(r, 0, sizeof *r);
  r->action = CAY_ROUTE_ANSWER;
  r->code = ROUTE_REJECT_CODE;
  r->max_duration_s = -1; /* dialog: max_duration_s */
  r->ring_timeout_s = ROUTE_RING_TIMEOUT_S;
}

/* A key only the loader knows was given: does it go with the action? */
static int
check_given(struct load_ctx *lc, unsigned i, const char *key, const char *value,
            cay_route_action_t action)
{
  char path[PATH_LEN], msg[256];
  const struct node_pos *np;

  if (value == NULL || check_key_action(i, key, action, msg, sizeof msg) == 0)
    return 0;
  snprintf(path, sizeof path, "routes[%u].%s", i, key);
  np = cay__config_find_node(lc, path);
  return cay__config_fail_at(lc, np ? np->line : 0, np ? np->col : 0, "%s",
                             msg);
}

/* A YAML boolean, spelt as YAML 1.2's core schema spells it: true or
 * false (NULL: absent, @p out stays). */
int
cay__config_parse_bool(struct load_ctx *lc, const char *path, const char *text,
                       unsigned *out)
{
  if (text == NULL)
    return 0;
  if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
    return cay__config_fail_value(
        lc, path, "expected true or false, got '%.*s'", VALUE_PREVIEW, text);
  *out = strcmp(text, "true") == 0;
  return 0;
}

/* "routes[I].KEY" into @p path (PATH_LEN bytes); returns @p path. */
static const char *
route_path(char *path, unsigned i, const char *key)
{
  snprintf(path, PATH_LEN, "routes[%u].%s", i, key);
  return path;
}

/* Route @p i's action and match keys. */
static int
apply_route_head(struct load_ctx *lc, unsigned i, const struct file_route *f,
                 cay_route_t *r)
{
  char path[PATH_LEN], base[32];
  const struct file_match *m = f->match;
  size_t a;
  int rc;

  snprintf(base, sizeof base, "routes[%u]", i);
  if (f->action == NULL)
    return cay__config_fail_value(
        lc, base, "missing action (expected " ACTIONS_EXPECTED ")");
  for (a = 0; a < sizeof action_names / sizeof *action_names; a++)
    if (strcmp(f->action, action_names[a]) == 0)
      break;
  if (a == sizeof action_names / sizeof *action_names)
    return cay__config_fail_value(lc, route_path(path, i, "action"),
                                  "expected " ACTIONS_EXPECTED ", got '%.*s'",
                                  VALUE_PREVIEW, f->action);
  r->action = (cay_route_action_t)a;
  if (m == NULL)
    return 0;
  if ((rc = cay__config_copy_text(lc, route_path(path, i, "match.method"),
                                  m->method, r->method, sizeof r->method))
          != 0
      || (rc = cay__config_copy_text(lc, route_path(path, i, "match.ruri_user"),
                                     m->ruri_user, r->ruri_user,
                                     sizeof r->ruri_user))
             != 0
      || (rc = cay__config_copy_text(
              lc, route_path(path, i, "match.ruri_domain"), m->ruri_domain,
              r->ruri_domain, sizeof r->ruri_domain))
             != 0)
    return rc;
  return cay__config_copy_text(lc, route_path(path, i, "match.source"),
                               m->source, r->source, sizeof r->source);
}

/* Route @p i's keys after the match: which go with its action, then their
 * values. */
static int
apply_route_values(struct load_ctx *lc, unsigned i, const struct file_route *f,
                   cay_route_t *r)
{
  char path[PATH_LEN];
  unsigned value;
  int rc;

#define AT(key) route_path(path, i, key)
  /* Keys whose default the struct cannot tell from a given value. */
  if ((rc = check_given(lc, i, "code", f->code, r->action)) != 0
      || (rc
          = check_given(lc, i, "ring_timeout_s", f->ring_timeout_s, r->action))
             != 0
      || (rc = check_given(lc, i, "no_response_timeout_ms",
                           f->no_response_timeout_ms, r->action))
             != 0
      || (rc
          = check_given(lc, i, "max_duration_s", f->max_duration_s, r->action))
             != 0)
    return rc;

  /* RFC 3261 section 21: a rejection is a 4xx, 5xx or 6xx final
   * response. */
  if ((rc = cay__config_parse_uint(lc, AT("code"), f->code, 400, 699, &r->code))
          != 0
      || (rc = cay__config_copy_text(lc, AT("reason"), f->reason, r->reason,
                                     sizeof r->reason))
             != 0
      || (rc = cay__config_copy_text(lc, AT("target"), f->target, r->target,
                                     sizeof r->target))
             != 0
      || (rc
          = cay__config_parse_uint(lc, AT("ring_timeout_s"), f->ring_timeout_s,
                                   0, ROUTE_MAX_RING_S, &r->ring_timeout_s))
             != 0
      || (rc = cay__config_parse_uint(
              lc, AT("no_response_timeout_ms"), f->no_response_timeout_ms, 0,
              ROUTE_MAX_NO_RESPONSE_MS, &r->no_response_timeout_ms))
             != 0)
    return rc;
  if ((rc
       = cay__config_parse_bool(lc, AT("location"), f->location, &r->location))
          != 0
      || (rc = cay__config_parse_bool(lc, AT("authenticate"), f->authenticate,
                                      &r->authenticate))
             != 0)
    return rc;
  if (f->max_duration_s) {
    rc = cay__config_parse_uint(lc, AT("max_duration_s"), f->max_duration_s, 0,
                                INT_MAX, &value);
    if (rc != 0)
      return rc;
    r->max_duration_s = (long)value;
  }
#undef AT

  /* Without a codecs list (or with an empty one) the route keeps every
   * codec of the answer: section. */
  for (unsigned j = 0; j < f->codecs_count; j++) {
    snprintf(path, sizeof path, "routes[%u].codecs[%u]", i, j);
    if ((rc = cay__config_copy_text(lc, path, f->codecs[j], r->codecs[j],
                                    sizeof r->codecs[j]))
        != 0)
      return rc;
  }
  r->n_codecs = f->codecs_count;
  for (unsigned j = 0; j < f->pass_headers_count; j++) {
    snprintf(path, sizeof path, "routes[%u].pass_headers[%u]", i, j);
    if ((rc
         = cay__config_copy_text(lc, path, f->pass_headers[j],
                                 r->pass_headers[j], sizeof r->pass_headers[j]))
        != 0)
      return rc;
  }
  r->n_pass_headers = f->pass_headers_count;
  for (unsigned j = 0; j < f->failover_count; j++) {
    snprintf(path, sizeof path, "routes[%u].failover[%u]", i, j);
    if ((rc = cay__config_copy_text(lc, path, f->failover[j], r->failover[j],
                                    sizeof r->failover[j]))
        != 0)
      return rc;
  }
  r->n_failover = f->failover_count;
  if (f->auth == NULL)
    return 0;
  if ((rc = cay__config_copy_text(lc, route_path(path, i, "auth.username"),
                                  f->auth->username, r->auth_username,
                                  sizeof r->auth_username))
      != 0)
    return rc;
  return cay__config_copy_text(lc, route_path(path, i, "auth.password"),
                               f->auth->password, r->auth_password,
                               sizeof r->auth_password);
}

static int
apply_route(struct load_ctx *lc, unsigned i, const struct file_route *f,
            cay_route_t *r)
{
  int rc = apply_route_head(lc, i, f, r);

  return rc ? rc : apply_route_values(lc, i, f, r);
}

int
cay__config_apply_routes(struct load_ctx *lc, const struct file_top *t,
                         cay_config_t *c)
{
  char path[PATH_LEN];
  const struct node_pos *np;
  int rc;

  /* A routes: list replaces the one before it, as listen: does; an empty
   * list means every INVITE is answered. */
  if (cay__config_find_node(lc, "routes") == NULL)
    return 0;
  for (unsigned i = 0; i < CAY_CONFIG_MAX_ROUTES; i++)
    cay__config_route_init(&c->routes[i]);
  c->n_routes = 0;
  for (unsigned i = 0; i < t->routes_count; i++) {
    cay_route_t *r = &c->routes[i];

    snprintf(path, sizeof path, "routes[%u]", i);
    np = cay__config_find_node(lc, path);
    if (np) {
      r->line = np->line;
      r->column = np->col;
    }
    if ((rc = apply_route(lc, i, &t->routes[i], r)) != 0)
      return rc;
  }
  c->n_routes = t->routes_count;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */
/* ------------------------------------------------------------------ */

/* RFC 3261 section 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" /
 * "*" / "_" / "+" / "`" / "'" / "~"); a Method is a token. */
static int
is_token(const char *s)
{
  return *s != '\0' && s[span_token(s)] == '\0';
}

/* A host name or an IP literal, IPv6 with or without brackets. */
static int
is_host(const char *s)
{
  size_t n = strlen(s);

  return cay__is_ip_literal(s, n) || cay__is_host_name(s, n, "");
}

/* RFC 3261 section 25.1: a Reason-Phrase has no CR, LF or other control
 * characters but HTAB. */
static int
is_reason(const char *s)
{
  for (; *s; s++)
    if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
      return 0;
  return 1;
}

#define AT(key) snprintf(pb->path, sizeof pb->path, "routes[%u].%s", i, key)

/* Route @p i's strings, action and match keys. */
static int
check_route_match(const cay_route_t *r, unsigned i, struct problem *pb,
                  char *err, size_t errlen)
{
  char why[256];

  /* An embedder fills these in code: never read past a field. */
  AT("match");
  if (!HAS_NUL(r->method) || !HAS_NUL(r->ruri_user) || !HAS_NUL(r->ruri_domain)
      || !HAS_NUL(r->source) || !HAS_NUL(r->reason) || !HAS_NUL(r->target))
    FAIL("routes[%u]: a string field is not NUL-terminated", i);

  AT("action");
  if ((unsigned)r->action > CAY_ROUTE_REGISTER)
    FAIL("routes[%u].action: unknown action %d", i, (int)r->action);

  AT("match.method");
  if (r->method[0] && !is_token(r->method))
    FAIL("routes[%u].match.method: '%s' is not a SIP method (a token, RFC "
         "3261 section 25.1)",
         i, r->method);
  /* RFC 3261 section 10.3: a REGISTER's bindings are a registrar's; a
   * call is not a registration, nor the other way round. A reject route
   * takes any method. The method is case-sensitive (section 7.1). */
  if (r->action == CAY_ROUTE_REGISTER && r->method[0]
      && strcmp(r->method, "REGISTER") != 0)
    FAIL("routes[%u].match.method: action register takes REGISTER "
         "requests, got '%s'",
         i, r->method);
  if ((r->action == CAY_ROUTE_ANSWER || r->action == CAY_ROUTE_FORWARD)
      && strcmp(r->method, "REGISTER") == 0)
    FAIL("routes[%u].match.method: action %s does not take REGISTER "
         "requests (REGISTER needs action register or reject)",
         i, action_name(r->action));
  AT("match.ruri_user");
  if (r->ruri_user[0] && cay__route_check_user(r->ruri_user, why, sizeof why))
    FAIL("routes[%u].match.ruri_user: %s", i, why);
  AT("match.ruri_domain");
  if (r->ruri_domain[0] && !is_host(r->ruri_domain))
    FAIL("routes[%u].match.ruri_domain: '%s' is not a host name or IP "
         "address",
         i, r->ruri_domain);
  AT("match.source");
  if (r->source[0] && cay__route_check_source(r->source, why, sizeof why))
    FAIL("routes[%u].match.source: %s", i, why);
  return 0;
}

/* Route @p i's target, code and reason. */
static int
check_route_answer(const cay_route_t *r, unsigned i, struct problem *pb,
                   char *err, size_t errlen)
{
  char why[256];
  int rc;

  AT("target");
  if (r->target[0]
      && (rc = check_key_action(i, "target", r->action, err, errlen)) != 0)
    return rc;
  if (r->location
      && (rc = check_key_action(i, "location", r->action, err, errlen)) != 0) {
    AT("location");
    return rc;
  }
  if (r->authenticate
      && (rc = check_key_action(i, "authenticate", r->action, err, errlen))
             != 0) {
    AT("authenticate");
    return rc;
  }
  if (r->location && r->target[0])
    FAIL("routes[%u].target: a route with location: true takes its targets "
         "from the registrar, not a target",
         i);
  if (r->action == CAY_ROUTE_FORWARD && r->target[0] == '\0' && !r->location) {
    AT("action");
    FAIL("routes[%u]: action forward needs a target (or location: true)", i);
  }
  if (r->target[0] && cay__route_check_target(r, why, sizeof why))
    FAIL("routes[%u].target: %s", i, why);

  AT("code");
  /* RFC 3261 section 21: a rejection is a 4xx, 5xx or 6xx response. */
  if (r->action == CAY_ROUTE_REJECT && (r->code < 400 || r->code > 699))
    FAIL("routes[%u].code (%u) must be 400 to 699", i, r->code);
  AT("reason");
  if (r->reason[0]
      && (rc = check_key_action(i, "reason", r->action, err, errlen)) != 0)
    return rc;
  if (!is_reason(r->reason))
    FAIL("routes[%u].reason: control characters are not allowed in a "
         "reason phrase (RFC 3261 section 25.1)",
         i);
  return 0;
}

/* Route @p i's credentials: with a forward, both or neither, and
 * nothing a header line could not carry. */
static int
check_route_auth(const cay_route_t *r, unsigned i, struct problem *pb,
                 char *err, size_t errlen)
{
  const char *why;
  int rc;

  AT("auth");
  if (!HAS_NUL(r->auth_username) || !HAS_NUL(r->auth_password))
    FAIL("routes[%u].auth: username and password must be NUL-terminated", i);
  if (r->auth_username[0] == '\0' && r->auth_password[0] == '\0')
    return 0;
  if ((rc = check_key_action(i, "auth", r->action, err, errlen)) != 0)
    return rc;
  if (r->auth_username[0] == '\0' || r->auth_password[0] == '\0')
    FAIL("routes[%u].auth: needs both username and password", i);
  if ((why = cay__auth_refusal(r->auth_username, r->auth_password)) != NULL)
    FAIL("routes[%u].auth.%s", i, why);
  return 0;
}

/* Route @p i's times and codecs. */
static int
check_route_limits(const cay_route_t *r, unsigned i, struct problem *pb,
                   char *err, size_t errlen)
{
  int rc;

  AT("max_duration_s");
  if (r->max_duration_s < -1)
    FAIL("routes[%u].max_duration_s (%ld) must be -1 (the dialog's) or "
         "more",
         i, r->max_duration_s);
  AT("ring_timeout_s");
  if (r->ring_timeout_s > ROUTE_MAX_RING_S)
    FAIL("routes[%u].ring_timeout_s (%u) must be at most %d", i,
         r->ring_timeout_s, ROUTE_MAX_RING_S);
  AT("no_response_timeout_ms");
  if (r->no_response_timeout_ms > ROUTE_MAX_NO_RESPONSE_MS)
    FAIL("routes[%u].no_response_timeout_ms (%u) must be 0 to %d", i,
         r->no_response_timeout_ms, ROUTE_MAX_NO_RESPONSE_MS);
  if (r->no_response_timeout_ms
      && (rc = check_key_action(i, "no_response_timeout_ms", r->action, err,
                                errlen))
             != 0)
    return rc;

  AT("codecs");
  if (r->n_codecs > CAY_ROUTE_MAX_CODECS)
    FAIL("routes[%u].codecs: at most %d codecs are allowed, got %u", i,
         CAY_ROUTE_MAX_CODECS, r->n_codecs);
  if (r->n_codecs
      && (rc = check_key_action(i, "codecs", r->action, err, errlen)) != 0)
    return rc;
  for (unsigned j = 0; j < r->n_codecs; j++) {
    if (HAS_NUL(r->codecs[j]) && cay__config_is_known_codec(r->codecs[j]))
      continue;
    snprintf(pb->path, sizeof pb->path, "routes[%u].codecs[%u]", i, j);
    FAIL("routes[%u].codecs[%u]: unknown codec '%.*s' (expected "
         "" CONFIG_CODEC_NAMES ")",
         i, j, (int)sizeof r->codecs[j], r->codecs[j]);
  }
  return check_route_auth(r, i, pb, err, errlen);
}

/* Route @p i's failover targets: templates as its target. */
static int
check_route_failover(const cay_route_t *r, unsigned i, struct problem *pb,
                     char *err, size_t errlen)
{
  char why[256];
  int rc;

  AT("failover");
  if (r->n_failover > CAY_ROUTE_MAX_FAILOVER)
    FAIL("routes[%u].failover: at most %d targets are allowed, got %u", i,
         CAY_ROUTE_MAX_FAILOVER, r->n_failover);
  if (r->n_failover
      && (rc = check_key_action(i, "failover", r->action, err, errlen)) != 0)
    return rc;
  for (unsigned j = 0; j < r->n_failover; j++) {
    if (HAS_NUL(r->failover[j]) && r->failover[j][0]
        && cay__route_check_failover(r, j, why, sizeof why) == 0)
      continue;
    if (!HAS_NUL(r->failover[j]) || r->failover[j][0] == '\0')
      snprintf(why, sizeof why, "expected a sip: or sips: URI");
    snprintf(pb->path, sizeof pb->path, "routes[%u].failover[%u]", i, j);
    FAIL("routes[%u].failover[%u]: %s", i, j, why);
  }
  return 0;
}

/* Route @p i's pass_headers: names B's INVITE may carry from A's. */
static int
check_route_pass(const cay_route_t *r, unsigned i, struct problem *pb,
                 char *err, size_t errlen)
{
  char why[160];
  int rc;

  AT("pass_headers");
  if (r->n_pass_headers > CAY_ROUTE_MAX_PASS)
    FAIL("routes[%u].pass_headers: at most %d names are allowed, got %u", i,
         CAY_ROUTE_MAX_PASS, r->n_pass_headers);
  if (r->n_pass_headers
      && (rc = check_key_action(i, "pass_headers", r->action, err, errlen))
             != 0)
    return rc;
  for (unsigned j = 0; j < r->n_pass_headers; j++) {
    if (HAS_NUL(r->pass_headers[j])
        && cay__route_check_header(r->pass_headers[j], why, sizeof why) == 0)
      continue;
    if (!HAS_NUL(r->pass_headers[j]))
      snprintf(why, sizeof why, "not a header name");
    snprintf(pb->path, sizeof pb->path, "routes[%u].pass_headers[%u]", i, j);
    FAIL("routes[%u].pass_headers[%u]: '%.*s': %s", i, j,
         (int)sizeof r->pass_headers[j], r->pass_headers[j], why);
  }
  return 0;
}
#undef AT

static int
check_route(const cay_route_t *r, unsigned i, struct problem *pb, char *err,
            size_t errlen)
{
  int rc = check_route_match(r, i, pb, err, errlen);

  if (rc == 0)
    rc = check_route_answer(r, i, pb, err, errlen);
  if (rc == 0)
    rc = check_route_limits(r, i, pb, err, errlen);
  if (rc == 0)
    rc = check_route_failover(r, i, pb, err, errlen);
  return rc ? rc : check_route_pass(r, i, pb, err, errlen);
}

/* True when target template @p tmpl has ;transport=@p name (any case,
 * the whole value). */
static int
has_transport(const char *tmpl, const char *name)
{
  size_t n = strlen(name);

  for (const char *p = tmpl; (p = strchr(p, ';')) != NULL; p++)
    if (strncasecmp(p, ";transport=", 11) == 0
        && strncasecmp(p + 11, name, n) == 0
        && strchr(";>?", p[11 + n]) != NULL)
      return 1;
  return 0;
}

/* Target template @p tmpl at @p what (routes[i].target or
 * .failover[j]) can be called: over TLS only with a tls listen address
 * (RFC 3261 section 26.2: Cay sends from it, its Via and Contact name
 * it), never over a WebSocket (RFC 7118 section 5: the client connects,
 * Cay opens none). */
static int
check_target(const char *tmpl, int has_tls, const char *what,
             struct problem *pb, char *err, size_t errlen)
{
  snprintf(pb->path, sizeof pb->path, "%s", what);
  if (has_transport(tmpl, "ws") || has_transport(tmpl, "wss"))
    FAIL("%s: Cay opens no WebSocket connections (RFC 7118): a WebSocket "
         "client is reached on its registration, by a route with "
         "location: true",
         what);
  if (!has_tls
      && (strncasecmp(tmpl, "sips:", 5) == 0 || has_transport(tmpl, "tls")))
    FAIL("%s: a sips: or ;transport=tls target needs a tls listen address "
         "(listen: tls:HOST:PORT)",
         what);
  return 0;
}

static int
check_targets(const cay_config_t *c, unsigned i, struct problem *pb, char *err,
              size_t errlen)
{
  const cay_route_t *r = &c->routes[i];
  char what[64];
  int has_tls = 0, rc;

  for (unsigned k = 0; k < c->n_listen && k < CAY_CONFIG_MAX_LISTEN; k++)
    has_tls |= strcmp(c->listen[k].proto, "tls") == 0;
  snprintf(what, sizeof what, "routes[%u].target", i);
  if (r->target[0]
      && (rc = check_target(r->target, has_tls, what, pb, err, errlen)) != 0)
    return rc;
  for (unsigned j = 0; j < r->n_failover && j < CAY_ROUTE_MAX_FAILOVER; j++) {
    snprintf(what, sizeof what, "routes[%u].failover[%u]", i, j);
    if ((rc = check_target(r->failover[j], has_tls, what, pb, err, errlen))
        != 0)
      return rc;
  }
  return 0;
}

int
cay__config_check_routes(const cay_config_t *c, struct problem *pb, char *err,
                         size_t errlen)
{
  int rc;

  strcpy(pb->path, "routes");
  if (c->n_routes > CAY_CONFIG_MAX_ROUTES) {
    cay__errmsg(err, errlen, "routes: at most %d routes are allowed, got %u",
                CAY_CONFIG_MAX_ROUTES, c->n_routes);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_routes; i++) {
    /* A route's own position, when its offending key is not in the file
     * (a forward without a target). */
    snprintf(pb->alt, sizeof pb->alt, "routes[%u]", i);
    if ((rc = check_route(&c->routes[i], i, pb, err, errlen)) != 0
        || (rc = check_targets(c, i, pb, err, errlen)) != 0)
      return rc;
    if (c->routes[i].authenticate && c->n_reg_users == 0) {
      snprintf(pb->path, sizeof pb->path, "routes[%u].authenticate", i);
      cay__errmsg(err, errlen,
                  "routes[%u].authenticate: the callers' credentials are "
                  "registrar.users, and there is none",
                  i);
      return CAY_ECONFIG;
    }
  }
  pb->alt[0] = '\0';
  return 0;
}
