/* cay_session_invite() and lookup: the server side of cay/session.h. */
#include "cay/errno.h"
#include "cay/session.h"
#include "server/server_int.h"

int
cay_session_invite(cay_server_t *srv, const char *uri, const char *from,
                   const char *sdp, cay_session_cb cb, void *arg, cay_id_t *id)
{
  cay__session_t *s;
  int err;

  if (!srv->started || srv->closing)
    return CAY_ESTATE;
  if (uri == NULL || from == NULL)
    return -EINVAL;
  err = cay__session_invite(&srv->workers[0]->ss, uri, from, sdp, cb, arg, &s);
  if (err == 0 && id)
    *id = cay__session_id(s);
  /* No flush here: the embedder may call this from inside a callback of
   * ours, and the shard frees deferred objects at the end of the event. */
  return err;
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
cay_server_on_session(cay_server_t *srv, cay_incoming_cb cb, void *arg)
{
  if (srv->started)
    return CAY_ESTATE;
  srv->on_incoming = cb;
  srv->incoming_arg = arg;
  return 0;
}
