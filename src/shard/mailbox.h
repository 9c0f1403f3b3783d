/*
 * A shard's mailbox (DESIGN.md rule 3): a multi-producer single-consumer
 * queue plus one uv_async_t. Any thread posts; the owner shard drains the
 * whole queue per wake-up (uv_async_send coalesces wake-ups) and dispatches
 * in posting order per producer.
 *
 * Mail is intrusive: the payload embeds a cay__mail_t. Ownership of the
 * payload passes to the mailbox when post returns 0 and stays with the
 * sender on error. The dispatch function owns it afterwards (it frees it).
 */
#ifndef CAY_SHARD_MAILBOX_H
#define CAY_SHARD_MAILBOX_H

#include <pthread.h>
#include <stddef.h>
#include <uv.h>

typedef struct cay__mail cay__mail_t;

struct cay__mail {
  cay__mail_t *next; /* owned by the mailbox while posted */
  int kind;          /* what the payload is; the dispatcher switches on it */
};

/** Called on the owner shard for each mail, in order. Takes @p m. */
typedef void (*cay__mail_fn)(cay__mail_t *m, void *arg);

typedef struct cay__mailbox {
  pthread_mutex_t lock;
  cay__mail_t *head, *tail; /* guarded by lock */
  size_t pending;           /* guarded by lock */
  size_t max_pending;       /* 0 = unbounded */
  int closed;               /* guarded by lock: posts fail */
  uv_async_t async;
  cay__mail_fn dispatch;
  void *arg;
  void (*close_cb)(void *arg);
  void *close_arg;
  /* Owner-thread counters (read them on the owner, or after close). */
  unsigned long long drained; /* mails dispatched */
  unsigned long long wakeups; /* async callbacks that found mail */
} cay__mailbox_t;

/**
 * Initialise a mailbox on the owner's @p loop.
 * @param max_pending  Mails waiting at most (0: no bound); a post above it
 *                     fails with CAY_ELIMIT.
 * @return 0 or a libuv / pthread error (negative).
 * @thread owner (setup)
 */
int cay__mailbox_init(cay__mailbox_t *mb, uv_loop_t *loop,
                      cay__mail_fn dispatch, void *arg, size_t max_pending);

/**
 * Post @p m (Moved on success). Wakes the owner only when the queue was
 * empty (a non-empty queue already has a wake-up on its way).
 * @return 0, CAY_ELIMIT (full: @p m stays the caller's), CAY_ESTATE
 *         (closed: @p m stays the caller's).
 * @thread any
 */
int cay__mailbox_post(cay__mailbox_t *mb, cay__mail_t *m);

/**
 * Post @p m unless @p limit mails are already waiting (0: no limit; the
 * mailbox's own max_pending applies too). Lets data be bounded while
 * control mail to the same mailbox never is.
 * @return as cay__mailbox_post(); CAY_ELIMIT also above @p limit.
 * @thread any
 */
int cay__mailbox_post_within(cay__mailbox_t *mb, cay__mail_t *m, size_t limit);

/**
 * Dispatch everything queued now (also what the async callback does).
 * Mail posted while dispatching waits for the next drain.
 * @return mails dispatched.
 * @thread owner
 */
size_t cay__mailbox_drain(cay__mailbox_t *mb);

/**
 * Refuse further posts, dispatch what is queued (nothing posted before
 * the close is lost), close the uv_async_t; @p cb runs once it is closed.
 * @thread owner
 */
void cay__mailbox_close(cay__mailbox_t *mb, void (*cb)(void *arg), void *arg);

#endif
