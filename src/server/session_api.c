/* cay_session_invite() and lookup: the server side of cay/session.h. */
#include "cay/errno.h"
#include "cay/session.h"
#include "dialog/auth.h"
#include "server/server_int.h"

/* The bounds of cay_invite_opts_t (a route's, config_routes.c). */
static int
opts_ok(const cay_invite_opts_t *o)
{
  const char *user = o->auth_username, *pass = o->auth_password;

  if (o->uri == NULL || o->from == NULL || o->no_response_timeout_ms > 600000)
    return 0;
  if (user == NULL || *user == '\0')
    return 1;
  return pass && *pass && cay__auth_refusal(user, pass) == NULL;
}

int
cay_session_invite_with(cay_server_t *srv, const cay_invite_opts_t *opts,
                        cay_session_cb cb, void *arg, cay_id_t *id)
{
  cay__invite_opts_t o = { 0 };
  cay__session_t *s;
  int err;

  if (!srv->started || srv->closing)
    return CAY_ESTATE;
  if (opts == NULL || !opts_ok(opts))
    return -EINVAL;
  o.uri = opts->uri;
  o.from = opts->from;
  o.sdp = opts->sdp;
  o.cb = cb;
  o.arg = arg;
  o.no_response_ms = opts->no_response_timeout_ms;
  o.auth_username = opts->auth_username;
  o.auth_password = opts->auth_password;
  o.record = 1;
  err = cay__session_invite_opts(&srv->workers[0]->ss, &o, &s);
  if (err == 0 && id)
    *id = cay__session_id(s);
  /* No flush here: the embedder may call this from inside a callback of
   * ours, and the shard frees deferred objects at the end of the event. */
  return err;
}

int
cay_session_invite(cay_server_t *srv, const char *uri, const char *from,
                   const char *sdp, cay_session_cb cb, void *arg, cay_id_t *id)
{
  cay_invite_opts_t o = { .uri = uri, .from = from, .sdp = sdp };

  return cay_session_invite_with(srv, &o, cb, arg, id);
}

cay_session_t *
cay_session_lookup(cay_server_t *srv, cay_id_t id)
{
  unsigned shard = cay__id_shard(id);

  if (shard >= srv->nshards || srv->workers[shard] == NULL)
    return NULL;
  return cay__session_lookup(&srv->workers[shard]->ss, id);
}

int
cay_server_on_cdr(cay_server_t *srv, cay_cdr_cb cb, void *arg)
{
  if (srv->started)
    return CAY_ESTATE;
  srv->on_cdr = cb;
  srv->cdr_arg = arg;
  return 0;
}

int
cay_server_on_session(cay_server_t *srv, cay_incoming_cb cb, void *arg)
{
  if (srv->started)
    return CAY_ESTATE;
  srv->on_incoming = cb;
  srv->incoming_arg = arg;
  return 0;
}
