/*
 * The registrar across shards (src/registrar/registrar.h): the shard
 * that owns an AOR tells every other shard of each change to its
 * bindings, and each keeps a copy, so that a call to the AOR finds its
 * contacts on the call's own shard.
 *
 *   REGISTER -> AOR's shard: binding set/removed/expired
 *            -> MAIL_BINDING to every other shard -> copy set/removed
 *
 * Every function runs on the worker's own thread.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registrar/registrar.h"
#include "server/server_int.h"

#define SHARD_NO(w) ((int)(w)->index)

void
cay__worker_share_binding(void *arg, const char *aor, const char *contact,
                          int q, uint64_t expires_ms)
{
  cay__worker_t *w = arg;
  size_t alen = strlen(aor), clen = strlen(contact);

  /* Once this shard exits, shard 0 may free the others after our FINAL. */
  if (w->exiting)
    return;
  for (unsigned i = 0; i < w->srv->nshards; i++) {
    cay__worker_t *to = w->srv->workers[i];
    mail_binding_t *m;

    if (i == w->index || to == NULL)
      continue;
    m = cay__malloc(sizeof *m + alen + clen + 2);
    if (m == NULL) {
      /* That shard's copy lags until the next change or its expiry. */
      CAY_WARN(SHARD_NO(w), "no memory to tell shard %u of AOR %s", i, aor);
      return;
    }
    m->m.kind = MAIL_BINDING;
    m->q = q;
    m->expires_ms = expires_ms;
    m->aor_len = alen;
    memcpy(m->text, aor, alen + 1);
    memcpy(m->text + alen + 1, contact, clen + 1);
    if (cay__mailbox_post(&to->mb, &m->m) != 0)
      cay__free(m); /* that shard has stopped */
  }
}

void
cay__worker_on_binding(cay__worker_t *w, const mail_binding_t *m)
{
  cay__registrar_learn(w->ss.reg, m->text, m->text + m->aor_len + 1, m->q,
                       m->expires_ms);
}
