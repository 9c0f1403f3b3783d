/* Client digest authentication: see auth.h. */
#include "dialog/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_alloc.h>

#include "core/alloc.h"

#define AUTH_TEXT      128 /* username, password, realm, opaque */
#define AUTH_NONCE     256
#define AUTH_LINE      1024
#define AUTH_MAX_TRIES 3 /* challenges answered per request */

struct cay__auth {
  char username[AUTH_TEXT];
  char password[AUTH_TEXT];
  /* The challenge taken last. */
  char realm[AUTH_TEXT];
  char nonce[AUTH_NONCE];
  char opaque[AUTH_TEXT];
  char cnonce[24];
  unsigned has_challenge : 1, proxy : 1, qop_auth : 1, md5sess : 1,
      has_opaque : 1, answered : 1;
  unsigned tries; /* challenges taken since a request last got through */
  unsigned nc;    /* requests sent with this nonce (RFC 2617 3.2.2) */
  char line[AUTH_LINE];
};

static int
copy(char *dst, size_t size, const char *src)
{
  size_t n = src ? strlen(src) : 0;

  if (n >= size)
    return -1;
  memcpy(dst, src ? src : "", n + 1);
  return 0;
}

const char *
cay__auth_refusal(const char *username, const char *password)
{
  if (strpbrk(username, "\"\\\r\n"))
    return "username: '\"', '\\' and line breaks are not allowed";
  if (strlen(username) >= AUTH_TEXT)
    return "username: longer than 127 bytes";
  if (strlen(password) >= AUTH_TEXT)
    return "password: longer than 127 bytes";
  return NULL;
}

cay__auth_t *
cay__auth_new(const char *username, const char *password)
{
  cay__auth_t *a;

  if (cay__auth_refusal(username, password)
      || (a = cay__calloc(1, sizeof *a)) == NULL)
    return NULL;
  (void)copy(a->username, sizeof a->username, username);
  (void)copy(a->password, sizeof a->password, password);
  return a;
}

void
cay__auth_free(cay__auth_t *a)
{
  cay__free(a);
}

/* The first challenge of @p list Cay can answer, parsed into @p ac (its
 * strings in @p home), or NULL. */
static const msg_auth_t *
usable(const msg_auth_t *list, su_home_t *home, auth_challenge_t *ac)
{
  for (const msg_auth_t *au = list; au; au = au->au_next) {
    if (au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
      continue;
    memset(ac, 0, sizeof *ac);
    ac->ac_size = sizeof *ac;
    if (auth_digest_challenge_get(home, ac, au->au_params) < 0)
      continue;
    /* MD5-sess hashes the client nonce, which only qop sends. */
    if (ac->ac_realm && ac->ac_nonce && (ac->ac_qop == NULL || ac->ac_auth)
        && (ac->ac_md5 || (ac->ac_md5sess && ac->ac_auth)))
      return au;
    auth_digest_challenge_free_params(home, ac);
  }
  return NULL;
}

/* Keep challenge @p ac; a new nonce starts a new client nonce and count. */
static int
take(cay__auth_t *a, const auth_challenge_t *ac, int proxy, cay__rand_t *rand)
{
  int same = a->has_challenge && strcmp(a->nonce, ac->ac_nonce) == 0;

  if (copy(a->realm, sizeof a->realm, ac->ac_realm) != 0
      || copy(a->nonce, sizeof a->nonce, ac->ac_nonce) != 0
      || copy(a->opaque, sizeof a->opaque, ac->ac_opaque) != 0)
    return -EINVAL;
  a->has_opaque = ac->ac_opaque != NULL;
  a->qop_auth = ac->ac_qop != NULL;
  a->md5sess = ac->ac_md5sess && !ac->ac_md5;
  a->proxy = proxy != 0;
  a->has_challenge = 1;
  if (!same) {
    cay__rand_token(rand, a->cnonce, 16);
    a->nc = 0;
  }
  return 0;
}

int
cay__auth_challenge(cay__auth_t *a, int status, const sip_t *sip,
                    cay__rand_t *rand, const char **why)
{
  const msg_auth_t *list = status == 407
                               ? (const msg_auth_t *)sip->sip_proxy_authenticate
                               : (const msg_auth_t *)sip->sip_www_authenticate;
  su_home_t home[1] = { SU_HOME_INIT(home) };
  auth_challenge_t ac;
  const char *no = NULL;
  int err = 0;

  if (a->tries >= AUTH_MAX_TRIES) {
    no = "challenged again and again";
    err = -EACCES;
  } else if (usable(list, home, &ac) == NULL) {
    no = "no Digest challenge with algorithm MD5 or MD5-sess and qop auth";
    err = -EINVAL;
  } else {
    /* RFC 2617 section 3.2.1: stale=true says the credentials were good
     * and only the nonce was old; the same nonce again says they were
     * not. */
    if (a->answered && !ac.ac_stale && strcmp(a->nonce, ac.ac_nonce) == 0) {
      no = "the credentials were refused";
      err = -EACCES;
    } else if (take(a, &ac, status == 407, rand) != 0) {
      no = "a challenge value is too long";
      err = -EINVAL;
    }
    auth_digest_challenge_free_params(home, &ac);
  }
  su_home_deinit(home);
  if (err == 0)
    a->tries++;
  if (why)
    *why = no;
  return err;
}

const char *
cay__auth_line(cay__auth_t *a, const char *method, const char *uri)
{
  auth_response_t ar;
  auth_hexmd5_t ha1, response;
  char nc[9] = "", opaque[AUTH_TEXT + 16] = "", qop[64] = "";
  int n;

  if (!a->has_challenge)
    return "";
  memset(&ar, 0, sizeof ar);
  ar.ar_size = sizeof ar;
  ar.ar_username = a->username;
  ar.ar_realm = a->realm;
  ar.ar_nonce = a->nonce;
  ar.ar_uri = uri;
  ar.ar_md5 = !a->md5sess;
  ar.ar_md5sess = a->md5sess;
  ar.ar_auth = a->qop_auth;
  if (a->qop_auth) {
    snprintf(nc, sizeof nc, "%08x", ++a->nc);
    ar.ar_cnonce = a->cnonce;
    ar.ar_nc = nc;
    ar.ar_qop = "auth";
    snprintf(qop, sizeof qop, ", qop=auth, nc=%s, cnonce=\"%s\"", nc,
             a->cnonce);
  }
  auth_digest_sessionkey(&ar, ha1, a->password);
  auth_digest_response(&ar, response, ha1, method, "", 0);
  if (a->has_opaque)
    snprintf(opaque, sizeof opaque, ", opaque=\"%s\"", a->opaque);
  n = snprintf(a->line, sizeof a->line,
               "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
               "uri=\"%s\", response=\"%s\", algorithm=%s%s%s\r\n",
               a->proxy ? "Proxy-Authorization" : "Authorization", a->username,
               a->realm, a->nonce, uri, response,
               a->md5sess ? "MD5-sess" : "MD5", opaque, qop);
  if (n < 0 || (size_t)n >= sizeof a->line) {
    a->line[0] = '\0';
    return "";
  }
  a->answered = 1;
  return a->line;
}

void
cay__auth_settled(cay__auth_t *a)
{
  a->tries = 0;
}

const char *
cay__auth_last(const cay__auth_t *a)
{
  return a->line;
}
