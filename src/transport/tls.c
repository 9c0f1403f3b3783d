/*
 * TLS sessions on OpenSSL memory BIOs (tls.h). The socket side is the TCP
 * transport's: what it reads is fed here, what SSL wants written waits in
 * the write BIO until the transport takes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <uv.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "transport/tls.h"

struct cay__tls_ctx {
  atomic_uint refs; /* the server's, each TLS transport's, reload mail */
  SSL_CTX *ssl_ctx;
  int can_accept;
  int verify_server;
  int verify_client;
  long long not_after; /* the certificate's, seconds since 1970; 0: none */
  long long crl_next;  /* the earliest nextUpdate of the CRLs; 0: none */
};

struct cay__tls {
  SSL *ssl;
  BIO *rbio; /* ciphertext from the peer, owned by ssl */
  BIO *wbio; /* ciphertext for the peer, owned by ssl */
  char why[160];
};

/* OpenSSL's first queued error as text into @p buf (and the queue
 * cleared: it is per thread, and the next failure must not read this
 * one's reason). */
static void
take_error(char *buf, size_t len, const char *fallback)
{
  unsigned long e = ERR_get_error();

  if (e != 0)
    ERR_error_string_n(e, buf, len);
  else
    snprintf(buf, len, "%s", fallback);
  ERR_clear_error();
}

static int
ctx_fail(cay__tls_ctx_t *ctx, const char *what, const char *file, char *err,
         size_t errlen)
{
  char why[160];

  take_error(why, sizeof why, "unknown reason");
  snprintf(err, errlen, "%s %s: %s", what, file, why);
  cay__tls_ctx_unref(ctx);
  return CAY_ECONFIG;
}

/* The end of @p cert's validity (RFC 5280 section 4.1.2.5), seconds since
 * 1970; 0 when it cannot be read. */
static long long
seconds_of(const ASN1_TIME *at)
{
  ASN1_TIME *epoch;
  int days = 0, secs = 0;
  long long t = 0;

  if (at == NULL || (epoch = ASN1_TIME_set(NULL, 0)) == NULL)
    return 0;
  if (ASN1_TIME_diff(&days, &secs, epoch, at) == 1)
    t = (long long)days * 86400 + secs;
  ASN1_TIME_free(epoch);
  return t;
}

static long long
not_after_of(const X509 *cert)
{
  return cert != NULL ? seconds_of(X509_get0_notAfter(cert)) : 0;
}

/* The certificate chain and its key, checked to belong together. */
static int
load_identity(cay__tls_ctx_t *ctx, const cay__tls_conf_t *conf, char *err,
              size_t errlen)
{
  int has_cert = conf->certificate && conf->certificate[0];
  int has_key = conf->private_key && conf->private_key[0];

  if (has_cert != has_key) {
    snprintf(err, errlen, "tls.certificate and tls.private_key go together");
    cay__tls_ctx_unref(ctx);
    return CAY_ECONFIG;
  }
  if (!has_cert)
    return 0;
  if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, conf->certificate) != 1)
    return ctx_fail(ctx, "tls.certificate", conf->certificate, err, errlen);
  if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, conf->private_key,
                                  SSL_FILETYPE_PEM)
      != 1)
    return ctx_fail(ctx, "tls.private_key", conf->private_key, err, errlen);
  if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1)
    return ctx_fail(ctx, "tls.private_key", conf->private_key, err, errlen);
  ctx->can_accept = 1;
  ctx->not_after = not_after_of(SSL_CTX_get0_certificate(ctx->ssl_ctx));
  return 0;
}

long long
cay__tls_ctx_not_after(const cay__tls_ctx_t *ctx)
{
  return ctx->not_after;
}

long long
cay__tls_ctx_crl_next_update(const cay__tls_ctx_t *ctx)
{
  return ctx->crl_next;
}

/* The CAs that verify peers, and the names a server asks clients for. */
static int
load_cas(cay__tls_ctx_t *ctx, const cay__tls_conf_t *conf, char *err,
         size_t errlen)
{
  STACK_OF(X509_NAME) * names;

  if (conf->ca_file == NULL || conf->ca_file[0] == '\0') {
    if (SSL_CTX_set_default_verify_paths(ctx->ssl_ctx) != 1)
      return ctx_fail(ctx, "tls.ca_file", "(system default)", err, errlen);
    return 0;
  }
  if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, conf->ca_file, NULL) != 1)
    return ctx_fail(ctx, "tls.ca_file", conf->ca_file, err, errlen);
  names = SSL_load_client_CA_file(conf->ca_file);
  if (names != NULL)
    SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
  ERR_clear_error();
  return 0;
}

/* A CRL of @p st past its nextUpdate (RFC 5280 section 5.1.2.5), or NULL.
 * OpenSSL fails every chain checked against one ("CRL has expired").
 * *@p earliest: the earliest nextUpdate, seconds since 1970 (0: none). */
static X509_CRL *
stale_crl(X509_STORE *st, long long *earliest)
{
  STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
  X509_CRL *stale = NULL;

  *earliest = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
    X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
    const ASN1_TIME *next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
    long long t = seconds_of(next);

    if (next != NULL && X509_cmp_current_time(next) < 0 && stale == NULL)
      stale = crl;
    if (t != 0 && (*earliest == 0 || t < *earliest))
      *earliest = t;
  }
  return stale;
}

/* The CRLs, and revocation checked for every peer's certificate (its
 * issuer's CRL must be among them); with conf->crl_chain for every CA
 * certificate of its chain too (each issuer's CRL must be among them). */
static int
load_crls(cay__tls_ctx_t *ctx, const cay__tls_conf_t *conf, char *err,
          size_t errlen)
{
  X509_STORE *st = SSL_CTX_get_cert_store(ctx->ssl_ctx);
  X509_LOOKUP *lu;
  X509_CRL *crl;
  char issuer[96];

  if (conf->crl_file == NULL || conf->crl_file[0] == '\0')
    return 0;
  lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());
  if (lu == NULL)
    return ctx_fail(ctx, "tls.crl_file", conf->crl_file, err, errlen);
  if (X509_load_crl_file(lu, conf->crl_file, X509_FILETYPE_PEM) <= 0) {
    char why[160];

    take_error(why, sizeof why, "no CRL in it");
    snprintf(err, errlen, "tls.crl_file %s: no PEM CRL could be read (%s)",
             conf->crl_file, why);
    cay__tls_ctx_unref(ctx);
    return CAY_ECONFIG;
  }
  if ((crl = stale_crl(st, &ctx->crl_next)) != NULL) {
    X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof issuer);
    snprintf(err, errlen,
             "tls.crl_file %s: the CRL of %s is past its nextUpdate; every "
             "peer would fail verification: fetch a new one",
             conf->crl_file, issuer);
    cay__tls_ctx_unref(ctx);
    return CAY_ECONFIG;
  }
  X509_STORE_set_flags(st,
                       X509_V_FLAG_CRL_CHECK
                           | (conf->crl_chain ? X509_V_FLAG_CRL_CHECK_ALL : 0));
  return 0;
}

int
cay__tls_ctx_new(cay__tls_ctx_t **out, const cay__tls_conf_t *conf, char *err,
                 size_t errlen)
{
  cay__tls_ctx_t *ctx;
  int rc;

  *out = NULL;
  ctx = cay__calloc(1, sizeof *ctx);
  if (ctx == NULL)
    return -ENOMEM;
  atomic_init(&ctx->refs, 1);
  ctx->ssl_ctx = SSL_CTX_new(TLS_method());
  if (ctx->ssl_ctx == NULL) {
    cay__free(ctx);
    return -ENOMEM;
  }
  /* RFC 8996: nothing older than TLS 1.2. */
  SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
  /* An idle connection keeps no 34 KiB of record buffers. */
  SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
  ctx->verify_server = conf->verify_server;
  ctx->verify_client = conf->verify_client;
  if ((rc = load_identity(ctx, conf, err, errlen)) != 0
      || (rc = load_cas(ctx, conf, err, errlen)) != 0
      || (rc = load_crls(ctx, conf, err, errlen)) != 0)
    return rc;
  *out = ctx;
  return 0;
}

cay__tls_ctx_t *
cay__tls_ctx_ref(cay__tls_ctx_t *ctx)
{
  atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
  return ctx;
}

void
cay__tls_ctx_unref(cay__tls_ctx_t *ctx)
{
  /* acq_rel: the last owner sees every other owner's use before it. */
  if (ctx == NULL
      || atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
    return;
  SSL_CTX_free(ctx->ssl_ctx);
  cay__free(ctx);
}

int
cay__tls_ctx_can_accept(const cay__tls_ctx_t *ctx)
{
  return ctx != NULL && ctx->can_accept;
}

/* RFC 5922 section 7.2: the certificate must name the host Cay resolved;
 * an IP literal against its IP addresses (SNI is for names only, RFC 6066
 * section 3). */
static int
expect_name(SSL *ssl, const char *name)
{
  unsigned char ip[16];

  if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set1_host(ssl, name) == 1
         && SSL_set_tlsext_host_name(ssl, name) == 1;
}

int
cay__tls_new(cay__tls_t **out, cay__tls_ctx_t *ctx, int client,
             const char *name)
{
  cay__tls_t *t = cay__calloc(1, sizeof *t);

  *out = NULL;
  if (t == NULL)
    return -ENOMEM;
  t->ssl = SSL_new(ctx->ssl_ctx);
  t->rbio = BIO_new(BIO_s_mem());
  t->wbio = BIO_new(BIO_s_mem());
  if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
    BIO_free(t->rbio);
    BIO_free(t->wbio);
    SSL_free(t->ssl);
    cay__free(t);
    ERR_clear_error();
    return -ENOMEM;
  }
  SSL_set_bio(t->ssl, t->rbio, t->wbio);
  if (client) {
    SSL_set_connect_state(t->ssl);
    SSL_set_verify(
        t->ssl, ctx->verify_server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (name != NULL && name[0] && !expect_name(t->ssl, name)) {
      cay__tls_free(t);
      ERR_clear_error();
      return CAY_ECONFIG;
    }
  } else {
    SSL_set_accept_state(t->ssl);
    SSL_set_verify(t->ssl,
                   ctx->verify_client
                       ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                       : SSL_VERIFY_NONE,
                   NULL);
  }
  *out = t;
  return 0;
}

void
cay__tls_free(cay__tls_t *t)
{
  if (t == NULL)
    return;
  SSL_free(t->ssl); /* and both BIOs */
  cay__free(t);
}

int
cay__tls_feed(cay__tls_t *t, const char *data, size_t len)
{
  if (len > INT32_MAX)
    return -EINVAL;
  if (BIO_write(t->rbio, data, (int)len) != (int)len) {
    ERR_clear_error();
    return -ENOMEM;
  }
  return 0;
}

/* Why @p t failed, kept for cay__tls_why(): a certificate that did not
 * verify says what was wrong with it. */
static void
note_failure(cay__tls_t *t, int ssl_err)
{
  long v = SSL_get_verify_result(t->ssl);

  if (v != X509_V_OK) {
    snprintf(t->why, sizeof t->why, "certificate verify failed: %s",
             X509_verify_cert_error_string(v));
    ERR_clear_error();
  } else if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_SSL) {
    take_error(t->why, sizeof t->why, "protocol error");
  } else {
    snprintf(t->why, sizeof t->why, "SSL error %d", ssl_err);
    ERR_clear_error();
  }
}

int
cay__tls_handshake(cay__tls_t *t)
{
  int r, e;

  if (SSL_is_init_finished(t->ssl))
    return 1;
  r = SSL_do_handshake(t->ssl);
  if (r == 1)
    return 1;
  e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
    return 0;
  note_failure(t, e);
  return CAY_EPARSE;
}

long
cay__tls_read(cay__tls_t *t, char *buf, size_t size)
{
  int r, e;

  r = SSL_read(t->ssl, buf, size > INT32_MAX ? INT32_MAX : (int)size);
  if (r > 0)
    return r;
  e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
    return 0;
  if (e == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    return UV_EOF;
  }
  note_failure(t, e);
  return CAY_EPARSE;
}

int
cay__tls_write(cay__tls_t *t, const char *data, size_t len)
{
  int r;

  if (len == 0)
    return 0;
  if (len > INT32_MAX)
    return -EINVAL;
  /* A memory BIO takes everything: one call writes all or fails. */
  r = SSL_write(t->ssl, data, (int)len);
  if (r == (int)len)
    return 0;
  note_failure(t, SSL_get_error(t->ssl, r));
  return CAY_EPARSE;
}

void
cay__tls_shutdown(cay__tls_t *t)
{
  if (SSL_is_init_finished(t->ssl))
    (void)SSL_shutdown(t->ssl);
  ERR_clear_error();
}

size_t
cay__tls_output(cay__tls_t *t, const char **data)
{
  char *p = NULL;
  long n = BIO_get_mem_data(t->wbio, &p);

  *data = p;
  return n > 0 ? (size_t)n : 0;
}

void
cay__tls_output_done(cay__tls_t *t)
{
  (void)BIO_reset(t->wbio);
}

const char *
cay__tls_why(cay__tls_t *t)
{
  return t->why[0] ? t->why : "unknown reason";
}
