/*
 * A shard's mailbox (DESIGN.md rule 3): a mutex-protected intrusive FIFO
 * list and one uv_async_t.
 *
 * Why a mutex and not a lock-free queue: the critical section is four
 * pointer stores, the consumer takes the whole list in one step, and the
 * "was the queue empty" decision that gates the wake-up has to be made
 * atomically with the append. bench/micro/mailbox.c measures this against
 * liburcu's wait-free concurrent queue (wfcqueue).
 *
 * The wake-up rule. A post sends a wake-up only when it finds the list
 * empty; a drain takes the whole list. Both decisions are made under the
 * same lock, so they are totally ordered:
 *  - a post that finds the list non-empty comes after some post P0 that
 *    found it empty and before the drain that will take the list; P0's
 *    uv_async_send() is (or will be) issued, and libuv runs the async
 *    callback at least once after any uv_async_send() call, so the drain
 *    it triggers takes this mail too;
 *  - a post that finds the list empty comes after the last drain took the
 *    list (or before any drain), so its own wake-up is the one that counts.
 * No post can therefore leave mail in the list without a wake-up on its
 * way. The converse, a wake-up without mail, happens and is harmless: a
 * drain called directly by the owner (or by close) takes mail whose async
 * callback then finds the list empty; such callbacks are not counted in
 * `wakeups`.
 *
 * Why uv_async_send() is called with the lock held (as h2o's
 * multithread.c does): the mailbox lives in the owner's memory, which the
 * owner frees once close_cb has run. If a producer sent the wake-up after
 * unlocking, it could be preempted between the unlock and the send while
 * the owner closes the mailbox, runs close_cb and frees it; the late send
 * would then touch freed memory. close() takes the lock to set `closed`,
 * so every send issued under the lock has returned before close() goes
 * on. The price is one eventfd write inside the critical section, paid
 * only by the post that finds the list empty: under load the list is
 * rarely empty and the wake-ups coalesce.
 */
#include "shard/mailbox.h"

#include <assert.h>

#include "cay/errno.h"

static void
on_async(uv_async_t *async)
{
  cay__mailbox_t *mb = async->data;

  if (cay__mailbox_drain(mb) > 0)
    mb->wakeups++;
}

static void
on_async_closed(uv_handle_t *h)
{
  cay__mailbox_t *mb = h->data;

  pthread_mutex_destroy(&mb->lock);
  if (mb->close_cb)
    mb->close_cb(mb->close_arg);
}

int
cay__mailbox_init(cay__mailbox_t *mb, uv_loop_t *loop, cay__mail_fn dispatch,
                  void *arg, size_t max_pending)
{
  int err;

  assert(dispatch != NULL);
  mb->head = mb->tail = NULL;
  mb->pending = 0;
  mb->max_pending = max_pending;
  mb->closed = 0;
  mb->dispatch = dispatch;
  mb->arg = arg;
  mb->close_cb = NULL;
  mb->close_arg = NULL;
  mb->drained = 0;
  mb->wakeups = 0;
  err = pthread_mutex_init(&mb->lock, NULL);
  if (err)
    return -err;
  err = uv_async_init(loop, &mb->async, on_async);
  if (err) {
    pthread_mutex_destroy(&mb->lock);
    return err;
  }
  mb->async.data = mb;
  return 0;
}

int
cay__mailbox_post(cay__mailbox_t *mb, cay__mail_t *m)
{
  return cay__mailbox_post_within(mb, m, 0);
}

int
cay__mailbox_post_within(cay__mailbox_t *mb, cay__mail_t *m, size_t limit)
{
  int err = 0;

  pthread_mutex_lock(&mb->lock);
  if (mb->closed) {
    err = CAY_ESTATE;
    goto out;
  }
  if ((mb->max_pending != 0 && mb->pending >= mb->max_pending)
      || (limit != 0 && mb->pending >= limit)) {
    err = CAY_ELIMIT;
    goto out;
  }
  m->next = NULL;
  if (mb->tail)
    mb->tail->next = m;
  else
    mb->head = m;
  mb->tail = m;
  mb->pending++;
  /* The list went from empty to non-empty: this post owns the wake-up
   * (see the top of the file for why that is enough, and why the send is
   * under the lock). */
  if (mb->pending == 1)
    uv_async_send(&mb->async);
out:
  pthread_mutex_unlock(&mb->lock);
  return err;
}

size_t
cay__mailbox_drain(cay__mailbox_t *mb)
{
  cay__mail_t *m, *next;
  size_t n = 0;

  /* Take the whole list in one step, then dispatch outside the lock so
   * that producers never wait for the owner's work, and mail posted by a
   * dispatch function (or by another thread meanwhile) lands in a fresh
   * list with its own wake-up. */
  pthread_mutex_lock(&mb->lock);
  m = mb->head;
  mb->head = mb->tail = NULL;
  mb->pending = 0;
  pthread_mutex_unlock(&mb->lock);

  for (; m != NULL; m = next) {
    next = m->next; /* the dispatch function may free m */
    m->next = NULL;
    mb->dispatch(m, mb->arg);
    n++;
  }
  mb->drained += n;
  return n;
}

void
cay__mailbox_close(cay__mailbox_t *mb, void (*cb)(void *arg), void *arg)
{
  assert(!uv_is_closing((uv_handle_t *)&mb->async));
  /* Posts that got the lock before this point are in the list and are
   * dispatched below; any later post fails with CAY_ESTATE, so nothing is
   * lost. Taking the lock also waits for a producer inside its
   * uv_async_send(), so none touches the handle after it is closed. */
  pthread_mutex_lock(&mb->lock);
  mb->closed = 1;
  pthread_mutex_unlock(&mb->lock);
  cay__mailbox_drain(mb);
  mb->close_cb = cb;
  mb->close_arg = arg;
  uv_close((uv_handle_t *)&mb->async, on_async_closed);
}
