/*
 * The registrar: section of the configuration: its schema, loading (pass
 * 3 of config_apply.c) and checks (part of cay_config_check()).
 *
 *   registrar:
 *     realm: example.com
 *     min_expires_s: 60
 *     max_expires_s: 3600
 *     default_expires_s: 3600
 *     max_bindings: 10
 *     max_aors: 100000
 *     flows: auto            # auto | always | never
 *     flow_timer_s: 0        # Flow-Timer for outbound UAs; 0 = none
 *     offline_messages: 0    # MESSAGEs kept per AOR not registered
 *     offline_message_s: 604800
 *     ban_after_failures: 0  # refusals of a source IP that ban it; 0 = off
 *     ban_window_s: 60
 *     ban_s: 600
 *     ban_exempt: [ 10.0.0.0/8 ]  # sources never banned; default none
 *     users:
 *       - { username: alice, password: secret }
 *     store: { redis: "127.0.0.1:6379", prefix: "cay:aor:", db: 0,
 *              password: secret }
 *
 * The numbers' bounds are in the shared table (cay__config_ranges,
 * config.c), so a file and code meet the same ones. The loader refuses
 * only what cannot be stored (a string too long for its field); every
 * rule about the values themselves is cay__config_check_registrar()'s, so
 * that users an embedder fills in code are checked the same way.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "server/config_int.h"
#include "transport/addr.h"
#include "transport/cidr.h"

/* ------------------------------------------------------------------ */
/* Schema.                                                              */
/* ------------------------------------------------------------------ */

static const cyaml_schema_field_t user_fields[] = {
  STR("username", struct file_reg_user, username),
  STR("password", struct file_reg_user, password),
  CYAML_FIELD_END,
};

static const cyaml_schema_value_t user_entry = {
  CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct file_reg_user, user_fields),
};

static const cyaml_schema_field_t store_fields[] = {
  STR("redis", struct file_reg_store, redis),
  STR("prefix", struct file_reg_store, prefix),
  STR("db", struct file_reg_store, db),
  STR("password", struct file_reg_store, password),
  CYAML_FIELD_END,
};

const cyaml_schema_field_t cay__config_registrar_fields[] = {
  STR("realm", struct file_registrar, realm),
  STR("min_expires_s", struct file_registrar, min_expires_s),
  STR("max_expires_s", struct file_registrar, max_expires_s),
  STR("default_expires_s", struct file_registrar, default_expires_s),
  STR("max_bindings", struct file_registrar, max_bindings),
  STR("max_aors", struct file_registrar, max_aors),
  STR("flows", struct file_registrar, flows),
  STR("flow_timer_s", struct file_registrar, flow_timer_s),
  STR("offline_messages", struct file_registrar, offline_messages),
  STR("offline_message_s", struct file_registrar, offline_message_s),
  STR("ban_after_failures", struct file_registrar, ban_after_failures),
  STR("ban_window_s", struct file_registrar, ban_window_s),
  STR("ban_s", struct file_registrar, ban_s),
  CYAML_FIELD_SEQUENCE("ban_exempt", CYAML_FLAG_POINTER | OPT,
                       struct file_registrar, ban_exempt,
                       &cay__config_string_entry, 0, CAY_CONFIG_MAX_BAN_EXEMPT),
  CYAML_FIELD_SEQUENCE("users", CYAML_FLAG_POINTER | OPT, struct file_registrar,
                       users, &user_entry, 0, CAY_CONFIG_MAX_USERS),
  CYAML_FIELD_MAPPING_PTR("store", OPT, struct file_registrar, store,
                          store_fields),
  CYAML_FIELD_END,
};

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

/* The numbers, each strictly in its bounds of cay__config_ranges. */
static int
apply_numbers(struct load_ctx *lc, const struct file_registrar *f,
              cay_config_t *c)
{
  const struct cay__config_number n[] = {
    { "registrar.min_expires_s", f->min_expires_s, &c->reg_min_expires_s },
    { "registrar.max_expires_s", f->max_expires_s, &c->reg_max_expires_s },
    { "registrar.default_expires_s", f->default_expires_s,
      &c->reg_default_expires_s },
    { "registrar.max_bindings", f->max_bindings, &c->reg_max_bindings },
    { "registrar.max_aors", f->max_aors, &c->reg_max_aors },
    { "registrar.flow_timer_s", f->flow_timer_s, &c->reg_flow_timer_s },
    { "registrar.offline_messages", f->offline_messages,
      &c->reg_offline_messages },
    { "registrar.offline_message_s", f->offline_message_s,
      &c->reg_offline_message_s },
    { "registrar.ban_after_failures", f->ban_after_failures,
      &c->reg_ban_failures },
    { "registrar.ban_window_s", f->ban_window_s, &c->reg_ban_window_s },
    { "registrar.ban_s", f->ban_s, &c->reg_ban_s },
    { "registrar.store.db", f->store ? f->store->db : NULL, &c->reg_store_db },
  };

  return cay__config_parse_numbers(lc, n, sizeof n / sizeof n[0]);
}

int
cay__config_parse_flows(struct load_ctx *lc, const char *path, const char *v,
                        unsigned *out)
{
  /* In the order of cay_reg_flows_t. */
  static const char *const names[] = { "auto", "always", "never" };

  return cay__config_parse_word(lc, path, v, names, 3, out);
}

/* registrar.store's texts (its db is a number). */
static int
apply_store(struct load_ctx *lc, const struct file_reg_store *s,
            cay_config_t *c)
{
  int rc;

  if (s == NULL)
    return 0;
  if ((rc
       = cay__config_copy_text(lc, "registrar.store.redis", s->redis,
                               c->reg_store_redis, sizeof c->reg_store_redis))
          != 0
      || (rc = cay__config_copy_text(lc, "registrar.store.prefix", s->prefix,
                                     c->reg_store_prefix,
                                     sizeof c->reg_store_prefix))
             != 0)
    return rc;
  return cay__config_copy_text(lc, "registrar.store.password", s->password,
                               c->reg_store_password,
                               sizeof c->reg_store_password);
}

/* registrar.ban_exempt, when the file has it: it replaces the list
 * before (an empty one exempts none). The blocks are checked with the
 * rest (cay__config_check_registrar()). */
static int
apply_ban_exempt(struct load_ctx *lc, const struct file_registrar *f,
                 cay_config_t *c)
{
  char path[PATH_LEN];
  int rc;

  if (cay__config_find_node(lc, "registrar.ban_exempt") == NULL)
    return 0;
  memset(c->reg_ban_exempt, 0, sizeof c->reg_ban_exempt);
  for (unsigned i = 0; i < f->ban_exempt_count; i++) {
    snprintf(path, sizeof path, "registrar.ban_exempt[%u]", i);
    if ((rc = cay__config_copy_text(lc, path, f->ban_exempt[i],
                                    c->reg_ban_exempt[i],
                                    sizeof c->reg_ban_exempt[i]))
        != 0)
      return rc;
  }
  c->n_reg_ban_exempt = f->ban_exempt_count;
  return 0;
}

int
cay__config_apply_registrar(struct load_ctx *lc, const struct file_registrar *f,
                            cay_config_t *c)
{
  char path[PATH_LEN];
  int rc;

  if (f == NULL)
    return 0;
  if ((rc = apply_numbers(lc, f, c)) != 0
      || (rc = apply_store(lc, f->store, c)) != 0
      || (rc = cay__config_parse_flows(lc, "registrar.flows", f->flows,
                                       &c->reg_flows))
             != 0
      || (rc = cay__config_copy_text(lc, "registrar.realm", f->realm,
                                     c->reg_realm, sizeof c->reg_realm))
             != 0
      || (rc = apply_ban_exempt(lc, f, c)) != 0)
    return rc;
  /* A users: list replaces the one before it, as routes: does; an empty
   * list turns authentication off. */
  if (cay__config_find_node(lc, "registrar.users") == NULL)
    return 0;
  memset(c->reg_users, 0, sizeof c->reg_users);
  for (unsigned i = 0; i < f->users_count; i++) {
    const struct file_reg_user *u = &f->users[i];
    cay_registrar_user_t *to = &c->reg_users[i];

    /* A missing username or password stays "", which the check refuses
     * at the entry's position. */
    snprintf(path, sizeof path, "registrar.users[%u].username", i);
    if ((rc = cay__config_copy_text(lc, path, u->username, to->username,
                                    sizeof to->username))
        != 0)
      return rc;
    snprintf(path, sizeof path, "registrar.users[%u].password", i);
    if ((rc = cay__config_copy_text(lc, path, u->password, to->password,
                                    sizeof to->password))
        != 0)
      return rc;
  }
  c->n_reg_users = f->users_count;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */
/* ------------------------------------------------------------------ */

/* 1 when @p s has a character of @p set or a control character (RFC 3261
 * section 25.1: a quoted-string's qdtext has no CTL but LWS, and Cay
 * writes realm and username between quotes). */
static int
has_any(const char *s, const char *set)
{
  for (; *s; s++)
    if (strchr(set, *s) || (unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

/* min_expires_s <= default_expires_s <= max_expires_s, and the realm. */
static int
check_expires_realm(const cay_config_t *c, struct problem *pb, char *err,
                    size_t errlen)
{
  /* RFC 3261 section 10.3 step 7: a binding shorter than the registrar's
   * minimum gets 423; the default a REGISTER gets when it names none must
   * not be refused or cut by the registrar's own bounds. */
  strcpy(pb->path, "registrar.min_expires_s");
  strcpy(pb->alt, "registrar.default_expires_s");
  if (c->reg_min_expires_s > c->reg_default_expires_s)
    FAIL("registrar.min_expires_s (%u) must not exceed "
         "registrar.default_expires_s (%u)",
         c->reg_min_expires_s, c->reg_default_expires_s);
  strcpy(pb->path, "registrar.default_expires_s");
  strcpy(pb->alt, "registrar.max_expires_s");
  if (c->reg_default_expires_s > c->reg_max_expires_s)
    FAIL("registrar.default_expires_s (%u) must not exceed "
         "registrar.max_expires_s (%u)",
         c->reg_default_expires_s, c->reg_max_expires_s);
  pb->alt[0] = '\0';

  /* RFC 2617 section 3.2.1: realm is a quoted-string of the challenge. */
  strcpy(pb->path, "registrar.realm");
  if (!HAS_NUL(c->reg_realm))
    FAIL("registrar.realm: longer than %d bytes", CAY_CONFIG_NAME_LEN - 1);
  if (has_any(c->reg_realm, "\"\\"))
    FAIL("registrar.realm: '\"', '\\' and control characters (line breaks "
         "too) are not allowed");
  return 0;
}

/* User @p i: a username that goes between quotes in Authorization and
 * into HA1 = MD5(username ":" realm ":" password) (RFC 2617 section
 * 3.2.2.2), unlike any before it; a password on one line. */
static int
check_user(const cay_config_t *c, unsigned i, struct problem *pb, char *err,
           size_t errlen)
{
  const cay_registrar_user_t *u = &c->reg_users[i];

  /* A key missing from the file: the entry's own position. */
  snprintf(pb->alt, sizeof pb->alt, "registrar.users[%u]", i);
  snprintf(pb->path, sizeof pb->path, "registrar.users[%u].username", i);
  if (!HAS_NUL(u->username))
    FAIL("registrar.users[%u].username: longer than %d bytes", i,
         CAY_CONFIG_NAME_LEN - 1);
  if (u->username[0] == '\0')
    FAIL("registrar.users[%u].username: missing or empty", i);
  if (has_any(u->username, "\"\\: \t"))
    FAIL("registrar.users[%u].username: '\"', '\\', ':', spaces and control "
         "characters are not allowed",
         i);
  for (unsigned j = 0; j < i; j++)
    if (strcmp(c->reg_users[j].username, u->username) == 0)
      FAIL("registrar.users[%u].username: '%s' is registrar.users[%u]'s too", i,
           u->username, j);

  snprintf(pb->path, sizeof pb->path, "registrar.users[%u].password", i);
  if (!HAS_NUL(u->password))
    FAIL("registrar.users[%u].password: longer than %d bytes", i,
         CAY_CONFIG_NAME_LEN - 1);
  if (u->password[0] == '\0')
    FAIL("registrar.users[%u].password: missing or empty", i);
  if (strpbrk(u->password, "\r\n"))
    FAIL("registrar.users[%u].password: line breaks are not allowed", i);
  pb->alt[0] = '\0';
  return 0;
}

/* "host:port" (a host name or an IPv4 literal) or "[v6]:port", the port
 * 1..65535. */
static int
host_port(const char *s)
{
  const char *colon = strrchr(s, ':');
  char *end;
  unsigned long port;

  if (colon == NULL || colon == s || colon[1] < '0' || colon[1] > '9')
    return 0;
  port = strtoul(colon + 1, &end, 10);
  if (*end || port == 0 || port > 65535)
    return 0;
  if (s[0] == '[')
    return colon[-1] == ']' && colon - s > 2
           && memchr(s + 1, ':', (size_t)(colon - s - 2)) != NULL
           && cay__is_ip_literal(s + 1, (size_t)(colon - s - 2));
  /* v6 needs []; a name may hold '_' (a container's, say). */
  return memchr(s, ':', (size_t)(colon - s)) == NULL
         && (cay__is_ip_literal(s, (size_t)(colon - s))
             || cay__is_host_name(s, (size_t)(colon - s), "_"));
}

/* registrar.store: where Redis is, and the keys' prefix. */
static int
check_store(const cay_config_t *c, struct problem *pb, char *err, size_t errlen)
{
  const char *r = c->reg_store_redis;

  strcpy(pb->path, "registrar.store.redis");
  if (!HAS_NUL(c->reg_store_redis))
    FAIL("registrar.store.redis: longer than %d bytes",
         CAY_CONFIG_TEXT_LEN - 1);
  if (has_any(r, " "))
    FAIL("registrar.store.redis: spaces and control characters are not "
         "allowed");
  if (r[0] == '/' && strlen(r) >= 108) /* sockaddr_un.sun_path */
    FAIL("registrar.store.redis: a Unix socket's path is at most 107 bytes");
  if (r[0] && r[0] != '/' && !host_port(r))
    FAIL("registrar.store.redis: expected host:port ([v6]:port, the port "
         "1..65535) or a Unix socket's path (/...), got '%s'",
         r);
  strcpy(pb->path, "registrar.store.prefix");
  if (!HAS_NUL(c->reg_store_prefix))
    FAIL("registrar.store.prefix: longer than %d bytes",
         CAY_CONFIG_NAME_LEN - 1);
  if (c->reg_store_prefix[0] == '\0')
    FAIL("registrar.store.prefix: empty (every key of the database would "
         "be taken for an AOR)");
  if (has_any(c->reg_store_prefix, " *?[]\\"))
    FAIL("registrar.store.prefix: '*', '?', '[', ']', '\\', spaces and "
         "control characters are not allowed");
  strcpy(pb->path, "registrar.store.password");
  if (!HAS_NUL(c->reg_store_password))
    FAIL("registrar.store.password: longer than %d bytes",
         CAY_CONFIG_NAME_LEN - 1);
  if (has_any(c->reg_store_password, ""))
    FAIL("registrar.store.password: control characters are not allowed");
  return 0;
}

/* registrar.ban_exempt: address blocks (cidr.h). */
static int
check_ban_exempt(const cay_config_t *c, struct problem *pb, char *err,
                 size_t errlen)
{
  char why[200];
  cay__cidr_t block;

  strcpy(pb->path, "registrar.ban_exempt");
  if (c->n_reg_ban_exempt > CAY_CONFIG_MAX_BAN_EXEMPT)
    FAIL("registrar.ban_exempt: at most %d entries are allowed, got %u",
         CAY_CONFIG_MAX_BAN_EXEMPT, c->n_reg_ban_exempt);
  for (unsigned i = 0; i < c->n_reg_ban_exempt; i++) {
    snprintf(pb->path, sizeof pb->path, "registrar.ban_exempt[%u]", i);
    if (!HAS_NUL(c->reg_ban_exempt[i]))
      FAIL("registrar.ban_exempt[%u]: longer than %d bytes", i,
           CAY_CONFIG_NAME_LEN - 1);
    if (cay__cidr_parse(c->reg_ban_exempt[i], &block, why, sizeof why) != 0)
      FAIL("registrar.ban_exempt[%u]: %s", i, why);
  }
  return 0;
}

int
cay__config_check_registrar(const cay_config_t *c, struct problem *pb,
                            char *err, size_t errlen)
{
  int rc;

  if ((rc = check_expires_realm(c, pb, err, errlen)) != 0
      || (rc = check_store(c, pb, err, errlen)) != 0
      || (rc = check_ban_exempt(c, pb, err, errlen)) != 0)
    return rc;
  strcpy(pb->path, "registrar.flows");
  if (c->reg_flows > CAY_REG_FLOWS_NEVER) {
    cay__errmsg(err, errlen,
                "registrar.flows (%u) must be 0 (auto), 1 (always) or 2 "
                "(never)",
                c->reg_flows);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "registrar.users");
  if (c->n_reg_users > CAY_CONFIG_MAX_USERS) {
    cay__errmsg(err, errlen,
                "registrar.users: at most %d users are allowed, got %u",
                CAY_CONFIG_MAX_USERS, c->n_reg_users);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_reg_users; i++)
    if ((rc = check_user(c, i, pb, err, errlen)) != 0)
      return rc;
  return 0;
}
