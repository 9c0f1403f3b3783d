/*
 * The tls: section of the configuration (RFC 3261 section 26.2): its
 * schema, loading (pass 3 of config_apply.c) and checks (part of
 * cay_config_check()).
 *
 *   tls:
 *     certificate: /etc/cay/cert.pem   # PEM chain, leaf first
 *     private_key: /etc/cay/key.pem
 *     ca_file: ""                       # "" = the system's CAs
 *     crl_file: ""                      # "" = no revocation check
 *     crl_check: leaf                   # or chain (every CA's CRL)
 *     verify_server: true
 *     verify_client: false
 *
 * The check loads the files as the server will (transport/tls.c), so
 * that `cay -t` finds a missing file, a bad PEM or a key that is not the
 * certificate's before a start does.
 */
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "server/config_int.h"
#include "server/tls_conf.h"
#include "transport/tls.h"

const cyaml_schema_field_t cay__config_tls_fields[] = {
  STR("certificate", struct file_tls, certificate),
  STR("private_key", struct file_tls, private_key),
  STR("ca_file", struct file_tls, ca_file),
  STR("crl_file", struct file_tls, crl_file),
  STR("crl_check", struct file_tls, crl_check),
  STR("verify_server", struct file_tls, verify_server),
  STR("verify_client", struct file_tls, verify_client),
  CYAML_FIELD_END,
};

/* tls.crl_check's words, in the order of cay_crl_check_t. */
static const char *const crl_checks[] = { "leaf", "chain" };

int
cay__config_apply_tls(struct load_ctx *lc, const struct file_tls *f,
                      cay_config_t *c)
{
  int rc;

  if (f == NULL)
    return 0;
  if ((rc
       = cay__config_copy_text(lc, "tls.certificate", f->certificate,
                               c->tls_certificate, sizeof c->tls_certificate))
          != 0
      || (rc = cay__config_copy_text(lc, "tls.private_key", f->private_key,
                                     c->tls_private_key,
                                     sizeof c->tls_private_key))
             != 0
      || (rc = cay__config_copy_text(lc, "tls.ca_file", f->ca_file,
                                     c->tls_ca_file, sizeof c->tls_ca_file))
             != 0
      || (rc = cay__config_copy_text(lc, "tls.crl_file", f->crl_file,
                                     c->tls_crl_file, sizeof c->tls_crl_file))
             != 0
      || (rc = cay__config_parse_word(lc, "tls.crl_check", f->crl_check,
                                      crl_checks, 2, &c->tls_crl_check))
             != 0
      || (rc = cay__config_parse_bool(lc, "tls.verify_server", f->verify_server,
                                      &c->tls_verify_server))
             != 0)
    return rc;
  return cay__config_parse_bool(lc, "tls.verify_client", f->verify_client,
                                &c->tls_verify_client);
}

/* Which key of tls: a message of cay__tls_ctx_new() is about. */
static void
point_at(struct problem *pb, const char *msg)
{
  static const char *const keys[]
      = { "tls.certificate", "tls.private_key", "tls.ca_file", "tls.crl_file" };

  for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strncmp(msg, keys[i], strlen(keys[i])) == 0) {
      snprintf(pb->path, sizeof pb->path, "%s", keys[i]);
      return;
    }
}

int
cay__config_check_tls(const cay_config_t *c, struct problem *pb, char *err,
                      size_t errlen)
{
  cay__tls_conf_t conf;
  cay__tls_ctx_t *ctx;
  int rc;

  strcpy(pb->path, "tls.certificate");
  if (!HAS_NUL(c->tls_certificate) || !HAS_NUL(c->tls_private_key)
      || !HAS_NUL(c->tls_ca_file) || !HAS_NUL(c->tls_crl_file))
    FAIL("tls: a file name is not NUL-terminated");
  strcpy(pb->path, "tls.verify_server");
  if (c->tls_verify_server > 1 || c->tls_verify_client > 1)
    FAIL("tls.verify_server and tls.verify_client must be 0 or 1");
  strcpy(pb->path, "tls.crl_check");
  if (c->tls_crl_check > CAY_CRL_CHAIN)
    FAIL("tls.crl_check must be CAY_CRL_LEAF or CAY_CRL_CHAIN");
  if (c->tls_crl_check == CAY_CRL_CHAIN && c->tls_crl_file[0] == '\0')
    FAIL("tls.crl_check: chain needs tls.crl_file (the CRLs to check "
         "the chain against)");
  /* Files nobody will read are not opened: a config without a tls or
   * wss listen address has no TLS, whatever the section says. */
  if (!cay__config_tls_conf(c, &conf))
    return 0;
  strcpy(pb->path, "tls.certificate");
  rc = cay__tls_ctx_new(&ctx, &conf, err, errlen);
  if (rc == CAY_ECONFIG)
    point_at(pb, err);
  if (rc)
    return rc;
  cay__tls_ctx_unref(ctx);
  return 0;
}
