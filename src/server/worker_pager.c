/*
 * MESSAGEs kept for AORs not registered, across shards (b2bua/pager.h):
 * the shard whose relay found no contact hands the MESSAGE to the store
 * of the AOR's shard, which answers whether it kept it.
 *
 *   shard X (the MESSAGE's Call-ID): no contact
 *       -> MAIL_STORE to the AOR's shard -> cay__pager_store_put()
 *       -> MAIL_STORED back to X -> the sender gets 202 or 480
 *
 * Every function runs on the worker's own thread.
 */
#include <errno.h>
#include <string.h>

#include "b2bua/pager.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/server_int.h"

#define SHARD_NO(w) ((int)(w)->index)

/* Post a mail_store_t to @p to. @return 0 or -ENOMEM, -EPIPE (that shard
 * has stopped). */
static int
post(cay__worker_t *w, cay__worker_t *to, int kind, cay_id_t pager, int err,
     const char *aor, const char *msg, size_t len, const cay__addr_t *src)
{
  size_t alen = aor ? strlen(aor) : 0;
  mail_store_t *m = cay__calloc(1, sizeof *m + alen + len + 1);

  if (m == NULL)
    return -ENOMEM;
  m->m.kind = kind;
  m->from = w->index;
  m->pager = pager;
  m->err = err;
  if (src)
    m->src = *src;
  m->aor_len = alen;
  m->len = len;
  if (alen)
    memcpy(m->data, aor, alen);
  m->data[alen] = '\0';
  if (len)
    memcpy(m->data + alen + 1, msg, len);
  if (cay__mailbox_post(&to->mb, &m->m) != 0) {
    cay__free(m);
    return -EPIPE;
  }
  return 0;
}

int
cay__worker_store_hand(void *arg, unsigned to, cay_id_t pager, const char *aor,
                       const char *msg, size_t len, const cay__addr_t *src)
{
  cay__worker_t *w = arg;

  if (w->exiting || to >= w->srv->nshards || w->srv->workers[to] == NULL)
    return -EPIPE;
  return post(w, w->srv->workers[to], MAIL_STORE, pager, 0, aor, msg, len, src);
}

void
cay__worker_on_store(cay__worker_t *w, const mail_store_t *m)
{
  const char *msg = m->data + m->aor_len + 1;
  cay__worker_t *to;
  int err;

  /* Once this shard exits, shard 0 may free the others after our FINAL;
   * a sender's shard that exits answers 503 (cay__pager_fini()). */
  if (w->exiting)
    return;
  if (m->m.kind == MAIL_STORED) {
    cay__pager_store_answer(&w->ss, m->pager, m->err);
    return;
  }
  err = cay__pager_store_put(&w->ss, m->data, msg, m->len, &m->src);
  to = m->from < w->srv->nshards ? w->srv->workers[m->from] : NULL;
  if (to && post(w, to, MAIL_STORED, m->pager, err, NULL, NULL, 0, NULL) != 0)
    CAY_WARN(SHARD_NO(w),
             "no memory to tell shard %u whether a message for %s was kept",
             m->from, m->data);
}
