/*
 * The TLS context a config asks for: shared by the config check
 * (config_tls.c), the server's start (server.c) and its reload
 * (server_reload.c).
 */
#ifndef CAY_SERVER_TLS_CONF_H
#define CAY_SERVER_TLS_CONF_H

#include <string.h>

#include "cay/config.h"
#include "transport/tls.h"

/**
 * Fill @p out from @p c's tls: section (its strings borrowed from @p c).
 * @return 1 when a listen address of @p c runs over TLS (tls, wss): the
 *         server makes a context; 0 when none does (the section is not
 *         used, its files are not read).
 * @thread any
 */
static inline int
cay__config_tls_conf(const cay_config_t *c, cay__tls_conf_t *out)
{
  int uses = 0;

  out->certificate = c->tls_certificate;
  out->private_key = c->tls_private_key;
  out->ca_file = c->tls_ca_file;
  out->crl_file = c->tls_crl_file;
  out->crl_chain = c->tls_crl_check == CAY_CRL_CHAIN;
  out->verify_server = (int)c->tls_verify_server;
  out->verify_client = (int)c->tls_verify_client;
  for (unsigned i = 0; i < c->n_listen && i < CAY_CONFIG_MAX_LISTEN; i++)
    uses |= strcmp(c->listen[i].proto, "tls") == 0
            || strcmp(c->listen[i].proto, "wss") == 0;
  return uses;
}

#endif
