/*
 * Digest authentication of a REGISTER (RFC 3261 section 22.1, RFC 2617):
 * 401 with a challenge, then the credentials checked against
 * cay_config_t.reg_users.
 *
 * A nonce is "TTTTTTTTTTTTTTTTMMMMMMMMMMMMMMMM": the shard clock in s
 * when it was issued and a keyed hash (SipHash, the registrar's random
 * key) of that time and the realm, both in hex. Cay keeps no nonce: it
 * recomputes the hash, so a nonce of another key (a restart) or another
 * realm is not Cay's and gets a new challenge, and one older than
 * REG_NONCE_TTL_S gets one with stale=true (the UA answers it without
 * asking its user again). Nonce counts are not tracked: a REGISTER sent
 * again with the same credentials is taken only if its CSeq is newer
 * than the binding's (section 10.3 item 7), so a replay changes nothing.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_alloc.h>

#include "core/log.h"
#include "dialog/session_int.h"
#include "registrar/registrar_int.h"
#include "transport/cidr.h"

#define SHARD_NO(reg) ((int)(reg)->shard->index)
#define NONCE_LEN     32

static const char not_own_user[] = "another user's AOR or From";

void
cay__reg_reply(cay__registrar_t *reg, cay__txn_t *t, int status,
               const char *phrase, const char *lines)
{
  const char *const hdrs[] = { lines, NULL };

  if (status >= 200 && status < 300)
    reg->shard->stats.registers++;
  else if (status >= 300 && status != 401)
    reg->shard->stats.registers_refused++;
  cay__session_reply(t, status, phrase, NULL, lines ? hdrs : NULL);
}

static void
make_nonce(const cay__registrar_t *reg, uint64_t issued_s, const char *realm,
           char out[NONCE_LEN + 1])
{
  char in[16 + CAY_CONFIG_NAME_LEN];
  int n = snprintf(in, sizeof in, "%016llx%s", (unsigned long long)issued_s,
                   realm);
  uint64_t mac = cay__hash_keyed(reg->key, in, (size_t)n);

  snprintf(out, NONCE_LEN + 1, "%016llx%016llx", (unsigned long long)issued_s,
           (unsigned long long)mac);
}

/* 1: @p nonce is Cay's for @p realm and fresh; 0: Cay's but older than
 * REG_NONCE_TTL_S (stale); -1: not Cay's. */
static int
check_nonce(const cay__registrar_t *reg, const char *nonce, const char *realm)
{
  char want[NONCE_LEN + 1];
  unsigned long long issued;
  uint64_t now_s = cay__shard_now(reg->shard) / 1000;

  if (nonce == NULL || strlen(nonce) != NONCE_LEN
      || strspn(nonce, "0123456789abcdef") != NONCE_LEN
      || sscanf(nonce, "%16llx", &issued) != 1)
    return -1;
  make_nonce(reg, issued, realm, want);
  if (strcmp(want, nonce) != 0 || issued > now_s)
    return -1;
  return now_s - issued <= REG_NONCE_TTL_S ? 1 : 0;
}

/* The answer to a request that digest_check() took: a REGISTER's
 * counted by cay__reg_reply(); a call's (@p proxy) 403 counted as a call
 * refused. */
static void
digest_reply(cay__registrar_t *reg, cay__txn_t *t, int proxy, int status,
             const char *phrase, const char *line)
{
  const char *const hdrs[] = { line, NULL };

  if (!proxy) {
    cay__reg_reply(reg, t, status, phrase, line);
    return;
  }
  if (status == 403)
    reg->shard->stats.calls_rejected++;
  cay__session_reply(t, status, phrase, NULL, line ? hdrs : NULL);
}

/* 401 (407 for a call, @p proxy) with a fresh challenge (RFC 2617
 * section 3.2.1: MD5, qop auth). */
static void
challenge(cay__registrar_t *reg, cay__txn_t *t, int proxy, const char *realm,
          int stale)
{
  char nonce[NONCE_LEN + 1], line[256];

  reg->shard->stats.auth_challenges++;
  make_nonce(reg, cay__shard_now(reg->shard) / 1000, realm, nonce);
  snprintf(line, sizeof line,
           "%s: Digest realm=\"%s\", nonce=\"%s\", "
           "algorithm=MD5, qop=\"auth\"%s",
           proxy ? "Proxy-Authenticate" : "WWW-Authenticate", realm, nonce,
           stale ? ", stale=true" : "");
  digest_reply(reg, t, proxy, proxy ? 407 : 401, NULL, line);
}

static const cay_registrar_user_t *
find_user(const cay_config_t *cfg, const char *name)
{
  for (unsigned i = 0; name && i < cfg->n_reg_users; i++)
    if (strcmp(cfg->reg_users[i].username, name) == 0)
      return &cfg->reg_users[i];
  return NULL;
}

/* 1 when the response of @p ar is the digest of @p password for
 * @p method (RFC 2617 section 3.2.2.1; MD5 or MD5-sess, qop auth,
 * auth-int or none, as sofia-sip computes it). */
static int
response_ok(auth_response_t *ar, const char *password, const char *method,
            const sip_t *sip)
{
  auth_hexmd5_t ha1, want;
  const char *body = sip->sip_payload ? sip->sip_payload->pl_data : "";
  size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;

  if (ar->ar_response == NULL || ar->ar_uri == NULL
      || (ar->ar_algorithm && !ar->ar_md5 && !ar->ar_md5sess))
    return 0;
  if (ar->ar_algorithm == NULL)
    ar->ar_md5 = 1; /* RFC 2617 section 3.2.1: absent means MD5 */
  if (auth_digest_sessionkey(ar, ha1, password) < 0
      || auth_digest_response(ar, want, ha1, method, body, (isize_t)len) < 0)
    return 0;
  return strcasecmp(want, ar->ar_response) == 0;
}

/* The credentials of @p sip for @p realm (Proxy-Authorization for a
 * call, @p proxy; Authorization), parsed into @p ar (strings in
 * @p home). 0 or -1: none for this realm. */
static int
credentials(su_home_t *home, const sip_t *sip, int proxy, const char *realm,
            auth_response_t *ar)
{
  for (const msg_auth_t *au
       = proxy ? sip->sip_proxy_authorization : sip->sip_authorization;
       au; au = au->au_next) {
    if (au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
      continue;
    memset(ar, 0, sizeof *ar);
    ar->ar_size = sizeof *ar;
    if (auth_digest_response_get(home, ar, au->au_params) < 0)
      continue;
    if (ar->ar_realm && strcmp(ar->ar_realm, realm) == 0)
      return 0;
  }
  return -1;
}

/* Why credentials that are Cay's own are refused, or NULL when they
 * are good for @p user. */
static const char *
refusal(const cay_config_t *cfg, auth_response_t *ar, const sip_t *sip,
        const char *user)
{
  const cay_registrar_user_t *u = find_user(cfg, ar->ar_username);

  if (u == NULL)
    return "unknown user";
  if (!response_ok(ar, u->password, sip->sip_request->rq_method_name, sip))
    return "wrong password";
  /* Section 10.3 item 4: a user may bind its own AOR only; and a caller
   * may call as itself only. */
  if (user == NULL || strcmp(u->username, user) != 0)
    return not_own_user;
  return NULL;
}

/* Whether @p src is in a block of registrar.ban_exempt. Parsed here,
 * checked (cay_config_check()): asked only of a refusal or a ban. */
static int
exempt(const cay_config_t *cfg, const cay__addr_t *src)
{
  cay__cidr_t block;

  for (unsigned i = 0; i < cfg->n_reg_ban_exempt; i++)
    if (cay__cidr_parse(cfg->reg_ban_exempt[i], &block, NULL, 0) == 0
        && cay__cidr_contains(&block, src))
      return 1;
  return 0;
}

/* Whether the source of @p t is banned (registrar.ban_after_failures)
 * and not exempt: then answered 403 at once, counted in auth_banned. */
static int
banned(cay__registrar_t *reg, const cay_config_t *cfg, cay__txn_t *t, int proxy)
{
  cay__addr_t src;

  if (cfg->reg_ban_failures == 0 || reg->ban == NULL)
    return 0;
  cay__txn_source(t, &src);
  if (cay__ban_left(reg->ban, &src, cay__shard_now(reg->shard)) == 0
      || exempt(cfg, &src))
    return 0;
  reg->shard->stats.auth_banned++;
  digest_reply(reg, t, proxy, 403, "Forbidden - Too Many Failures", NULL);
  return 1;
}

/* @p reg's ban table, made at its first use; NULL: no memory (logged:
 * no ban on this shard then). */
static cay__ban_t *
ban_table(cay__registrar_t *reg)
{
  if (reg->ban == NULL && (reg->ban = cay__ban_new(reg->key)) == NULL)
    CAY_WARN(SHARD_NO(reg), "auth: no memory for the ban table: no ban");
  return reg->ban;
}

/* One more refusal of the credentials of @p t's source (named
 * @p source): banned when it is the registrar.ban_after_failures-th
 * within ban_window_s, logged once; not counted when the source is
 * exempt (registrar.ban_exempt). */
static void
note_refusal(cay__registrar_t *reg, const cay_config_t *cfg, cay__txn_t *t,
             const char *source)
{
  cay__addr_t src;

  if (cfg->reg_ban_failures == 0)
    return;
  cay__txn_source(t, &src);
  if (exempt(cfg, &src) || ban_table(reg) == NULL)
    return;
  if (!cay__ban_failure(reg->ban, &src, cay__shard_now(reg->shard),
                        cfg->reg_ban_failures, 1000ull * cfg->reg_ban_window_s,
                        1000ull * cfg->reg_ban_s))
    return;
  CAY_WARN(SHARD_NO(reg),
           "auth: %s banned, its address on every port, for %u s: %u "
           "refused credentials within %u s (registrar.ban_after_failures)",
           source, cfg->reg_ban_s, cfg->reg_ban_failures,
           cfg->reg_ban_window_s);
  if (reg->ban_share) /* every shard refuses it from now on */
    reg->ban_share(reg->ban_share_arg, &src, 1000ull * cfg->reg_ban_s);
}

void
cay__registrar_set_ban_share(cay__registrar_t *reg, cay__registrar_ban_fn share,
                             void *arg)
{
  reg->ban_share = share;
  reg->ban_share_arg = arg;
}

void
cay__registrar_ban(cay__registrar_t *reg, const cay__addr_t *src,
                   uint64_t ban_ms)
{
  if (ban_table(reg) != NULL)
    cay__ban_set(reg->ban, src, cay__shard_now(reg->shard), ban_ms);
}

int
cay__digest_check(cay__registrar_t *reg, const cay_config_t *cfg, cay__txn_t *t,
                  const sip_t *sip, const char *user, int proxy)
{
  su_home_t home[1] = { SU_HOME_INIT(home) };
  const url_t *ruri = sip->sip_request->rq_url;
  const char *realm = cfg->reg_realm[0]        ? cfg->reg_realm
                      : ruri && ruri->url_host ? ruri->url_host
                                               : "cay";
  const char *why = NULL;
  auth_response_t ar;
  int fresh, rc = 1;

  if (cfg->n_reg_users == 0)
    return 0;
  if (banned(reg, cfg, t, proxy))
    return 1;
  if (credentials(home, sip, proxy, realm, &ar) != 0
      || (fresh = check_nonce(reg, ar.ar_nonce, realm)) < 0) {
    challenge(reg, t, proxy, realm, 0);
  } else if ((why = refusal(cfg, &ar, sip, user)) != NULL) {
    char source[80];

    if (cay__txn_source_name(t, source, sizeof source))
      snprintf(source, sizeof source, "?");
    reg->shard->stats.auth_failures++;
    /* One line per refusal, the source first (a fail2ban filter:
     * README.md, "Password guessing"). */
    CAY_INFO(SHARD_NO(reg),
             "auth: %s from %s refused: %s (user '%s', Call-ID %s)",
             sip->sip_request->rq_method_name, source, why,
             ar.ar_username ? ar.ar_username : "", sip->sip_call_id->i_id);
    note_refusal(reg, cfg, t, source);
    /* The same phrase for an unknown user and a wrong password: a
     * guesser learns nothing of which users there are. */
    digest_reply(reg, t, proxy, 403,
                 why != not_own_user ? "Forbidden - Wrong Credentials"
                 : proxy             ? "Forbidden - Not the From's User"
                                     : "Forbidden - Not the AOR's User",
                 NULL);
  } else if (!fresh) {
    challenge(reg, t, proxy, realm, 1); /* good credentials, old nonce */
  } else {
    rc = 0;
  }
  su_home_deinit(home);
  return rc;
}
