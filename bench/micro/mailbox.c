/*
 * The shard mailbox (src/shard/mailbox.h), post + drain, against the
 * alternative its issue named: liburcu's wait-free concurrent queue
 * (urcu/wfcqueue.h) with the same uv_async_t wake-up rule.
 *
 * Figures (ns per mail, median of the repeats):
 *  - *_post_drain: one thread posts a batch of 1,000 mails, then one loop
 *    iteration (UV_RUN_NOWAIT) wakes up and drains them, wake-up
 *    included: the uncontended cost of the queue itself.
 *  - *_1p: one producer thread posts, the loop thread is woken by
 *    uv_async_send() and drains; from the start of the producer to the
 *    last dispatch (mails_per_s and mails_per_wakeup are printed too).
 *  - *_3p: the same with three producer threads.
 * In the threaded runs the consumer is pinned to CPU 0 and the producers
 * to CPU 1, and each producer reuses a ring of 1,024 mails, so the two
 * sides really run at the same time and exchange cache lines, as two
 * shards do. Three producers on one CPU also measure preemption: a
 * producer preempted while holding the mutex stalls the others.
 *
 * wfcqueue's consumer (splice, next) spins for a producer caught between
 * its tail exchange and its next-pointer store, then sleeps 10 ms; the
 * wfcq_* runs count those waits (consumer_waits=). wfcq_yield_* replace
 * the sleep with sched_yield() through the header's CDS_WFCQ_WAIT_SLEEP
 * hook: the best case for wfcqueue.
 *
 * The wfcqueue variant is built only with -DCAY_HAVE_URCU (bench/run adds
 * it when pkg-config finds liburcu, Debian package liburcu-dev). It lives
 * here, not in src/: it is a measurement, not a second implementation.
 */
#define _GNU_SOURCE /* CPU affinity */

#include "micro.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <uv.h>

#include "shard/mailbox.h"

#ifdef CAY_HAVE_URCU
#include <poll.h>
/* The consumer side of wfcqueue (splice, next) busy-waits for a producer
 * caught between its tail exchange and its next-pointer store; after 10
 * spins it sleeps 10 ms in poll(). Count those waits: on a shard loop
 * each sleep is a 10 ms stall of everything else the shard does. */
static unsigned long long wfcq_sleeps;
static int wfcq_yield_mode;

static void
wfcq_wait(int msec)
{
  wfcq_sleeps++;
  if (wfcq_yield_mode)
    sched_yield();
  else
    poll(NULL, 0, msec);
}

#define CDS_WFCQ_WAIT_SLEEP(msec) wfcq_wait(msec)
/* The inline fast paths, as a user would build it. */
#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>
#endif

#define BATCH         1000
#define MAX_PRODUCERS 3

typedef struct bench_mail {
  cay__mail_t mail;
#ifdef CAY_HAVE_URCU
  struct cds_wfcq_node wnode;
#endif
  unsigned seq;
} bench_mail_t;

/* One queue under test: post from any thread, drain on the loop. */
typedef struct queue_ops {
  const char *name;
  int (*init)(uv_loop_t *loop);
  int (*post)(bench_mail_t *m);
  void (*close)(void);
  unsigned long long (*wakeups)(void); /* so far, that found mail */
  unsigned long long (*stalls)(void);  /* consumer sleeps so far, or NULL */
} queue_ops_t;

static uv_loop_t loop;
static size_t got;     /* mails dispatched (loop thread) */
static size_t want;    /* uv_stop() the loop at this count, 0: never */
static int out_of_seq; /* a producer's mails came out of order */
static unsigned last_seq[MAX_PRODUCERS];
static long ncpu;
static cpu_set_t all_cpus; /* the main thread's affinity at start */

/* Per producer: how many of its mails were dispatched, written by the
 * consumer only; one cache line each. */
static struct {
  _Alignas(64) atomic_long n;
} consumed[MAX_PRODUCERS];

static void
fail(const char *what)
{
  fprintf(stderr, "mailbox: %s\n", what);
  exit(1);
}

/* The consumer's work per mail: count, check order, nothing else. */
static void
consume(bench_mail_t *m, int producer)
{
  unsigned seq = m->seq;

  if (seq != last_seq[producer] + 1)
    out_of_seq = 1;
  last_seq[producer] = seq;
  micro_sink += seq;
  /* Last touch of @p m: from here on its producer may reuse it. */
  atomic_store_explicit(&consumed[producer].n, seq, memory_order_release);
  if (++got == want)
    uv_stop(&loop);
}

/* ---- Cay's mailbox: mutex + intrusive list ---- */

static cay__mailbox_t mb;

static void
on_cay_mail(cay__mail_t *m, void *arg)
{
  (void)arg;
  consume((bench_mail_t *)m, m->kind);
}

static int
cay_init(uv_loop_t *l)
{
  return cay__mailbox_init(&mb, l, on_cay_mail, NULL, 0);
}

static int
cay_post(bench_mail_t *m)
{
  return cay__mailbox_post(&mb, &m->mail);
}

static void
cay_close(void)
{
  cay__mailbox_close(&mb, NULL, NULL);
}

static unsigned long long
cay_wakeups(void)
{
  return mb.wakeups;
}

static const queue_ops_t cay_ops
    = { "mailbox", cay_init, cay_post, cay_close, cay_wakeups, NULL };

#ifdef CAY_HAVE_URCU
/* ---- liburcu wfcqueue: wait-free enqueue, splice to drain ---- */

static struct {
  struct cds_wfcq_head head; /* its mutex is unused: one consumer */
  struct cds_wfcq_tail tail;
  uv_async_t async;
  unsigned long long wakeups;
} wq;

static void
drain_wfcq(uv_async_t *a)
{
  struct __cds_wfcq_head batch_head;
  struct cds_wfcq_tail batch_tail;
  struct cds_wfcq_node *node, *next;

  (void)a;
  /* Take everything queued now, as the mailbox does; mail enqueued
   * during the dispatch waits for the next wake-up. */
  __cds_wfcq_init(&batch_head, &batch_tail);
  if (__cds_wfcq_splice_blocking(&batch_head, &batch_tail, &wq.head, &wq.tail)
      == CDS_WFCQ_RET_SRC_EMPTY)
    return;
  wq.wakeups++;
  __cds_wfcq_for_each_blocking_safe(&batch_head, &batch_tail, node, next)
  {
    bench_mail_t *m = caa_container_of(node, bench_mail_t, wnode);
    consume(m, m->mail.kind);
  }
}

static int
wfcq_init(uv_loop_t *l)
{
  cds_wfcq_init(&wq.head, &wq.tail);
  return uv_async_init(l, &wq.async, drain_wfcq);
}

static int
wfcq_post(bench_mail_t *m)
{
  cds_wfcq_node_init(&m->wnode);
  /* enqueue returns false when the queue was empty: the same wake-up
   * rule as the mailbox. The splice and the enqueue both exchange the
   * tail pointer, so the "was empty" answer is consistent with what the
   * consumer took. Unlike the mailbox, nothing orders this send against
   * a close of the queue: a production version would need its own guard
   * against sending on a closed and freed uv_async_t. */
  if (!cds_wfcq_enqueue(&wq.head, &wq.tail, &m->wnode))
    uv_async_send(&wq.async);
  return 0;
}

static void
wfcq_close(void)
{
  drain_wfcq(&wq.async);
  uv_close((uv_handle_t *)&wq.async, NULL);
  cds_wfcq_destroy(&wq.head, &wq.tail);
}

static unsigned long long
wfcq_wakeups(void)
{
  return wq.wakeups;
}

static unsigned long long
wfcq_stalls(void)
{
  return wfcq_sleeps;
}

static const queue_ops_t wfcq_ops
    = { "wfcq", wfcq_init, wfcq_post, wfcq_close, wfcq_wakeups, wfcq_stalls };
static const queue_ops_t wfcq_yield_ops
    = { "wfcq_yield", wfcq_init,    wfcq_post,
        wfcq_close,   wfcq_wakeups, wfcq_stalls };
#endif

/* ---- the runs ---- */

static void
reset_counts(void)
{
  got = 0;
  want = 0;
  out_of_seq = 0;
  memset(last_seq, 0, sizeof last_seq);
  for (int i = 0; i < MAX_PRODUCERS; i++)
    atomic_store(&consumed[i].n, 0);
}

static void
fill(bench_mail_t *mails, long n, int producer)
{
  for (long i = 0; i < n; i++) {
    mails[i].mail.kind = producer;
    mails[i].seq = (unsigned)i + 1;
  }
}

static void
close_queue(const queue_ops_t *q)
{
  q->close();
  uv_run(&loop, UV_RUN_DEFAULT);
}

/* (a) post a batch, then one loop iteration drains it. */
static void
run_post_drain(const queue_ops_t *q, const micro_opts_t *o)
{
  static bench_mail_t mails[BATCH];
  double ns[MICRO_MAX_REPS];
  int reps = o->reps < MICRO_MAX_REPS ? o->reps : MICRO_MAX_REPS;
  long rounds = o->iters / BATCH > 0 ? o->iters / BATCH : 1;
  char name[64];

  if (q->init(&loop) != 0)
    fail("init");
  for (int r = -1; r < reps; r++) {
    uint64_t t0 = micro_now_ns();

    for (long k = 0; k < rounds; k++) {
      reset_counts();
      fill(mails, BATCH, 0);
      for (long i = 0; i < BATCH; i++)
        if (q->post(&mails[i]) != 0)
          fail("post");
      uv_run(&loop, UV_RUN_NOWAIT);
      if (got != BATCH || out_of_seq)
        fail("batch not drained in order by one wake-up");
    }
    if (r >= 0)
      ns[r] = (double)(micro_now_ns() - t0) / (double)(rounds * BATCH);
  }
  close_queue(q);
  snprintf(name, sizeof name, "%s_post_drain", q->name);
  micro_report(name, ns, reps, rounds * BATCH);
}

/* Each producer reuses a ring of RING mails, so that a run of millions of
 * mails stays in cache-sized memory and the producers cannot run
 * arbitrarily far ahead of the consumer: like a bounded mailbox, it forces
 * the two sides to run concurrently, which is the case to measure. */
#define RING 1024

typedef struct producer {
  pthread_t thread;
  const queue_ops_t *q;
  int index;
  long n;
  bench_mail_t ring[RING];
} producer_t;

/* Put the calling thread on @p cpu, so that the consumer (CPU 0) and the
 * producers (CPU 1) really run side by side, as two shards do, instead of
 * taking turns on one core whenever the scheduler feels like it: taking
 * turns hides the cache-line transfers and makes the figure bimodal. */
static void
pin_to(int cpu)
{
  cpu_set_t set;

  if (ncpu < 2)
    return;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *
run_producer(void *arg)
{
  producer_t *p = arg;
  long done = 0;

  pin_to(1);
  for (long i = 0; i < p->n; i++) {
    bench_mail_t *m = &p->ring[i % RING];

    /* Mail i reuses the slot of mail i - RING: wait until it was
     * dispatched. The acquire pairs with the consumer's release. */
    while (i - done >= RING) {
      done = atomic_load_explicit(&consumed[p->index].n, memory_order_acquire);
      if (i - done >= RING)
        sched_yield();
    }
    m->mail.kind = p->index;
    m->seq = (unsigned)i + 1;
    if (p->q->post(m) != 0)
      fail("post");
  }
  return NULL;
}

/* (b), (c): producer threads post, the loop thread drains on wake-ups. */
static void
run_threads(const queue_ops_t *q, const micro_opts_t *o, int nprod)
{
  static producer_t prod[MAX_PRODUCERS];
  double ns[MICRO_MAX_REPS];
  int reps = o->reps < MICRO_MAX_REPS ? o->reps : MICRO_MAX_REPS;
  long each = o->iters / nprod;
  long total = each * nprod;
  unsigned long long w0, s0;
  char name[64];

  if (q->init(&loop) != 0)
    fail("init");
  pin_to(0);
  w0 = q->wakeups();
  s0 = q->stalls ? q->stalls() : 0;
  for (int r = -1; r < reps; r++) {
    uint64_t t0;

    reset_counts();
    want = (size_t)total;
    t0 = micro_now_ns();
    for (int i = 0; i < nprod; i++) {
      prod[i].q = q;
      prod[i].index = i;
      prod[i].n = each;
      if (pthread_create(&prod[i].thread, NULL, run_producer, &prod[i]))
        fail("pthread_create");
    }
    uv_run(&loop, UV_RUN_DEFAULT); /* returns at uv_stop(): all arrived */
    if (r >= 0)
      ns[r] = (double)(micro_now_ns() - t0) / (double)total;
    for (int i = 0; i < nprod; i++)
      pthread_join(prod[i].thread, NULL);
    if (got != (size_t)total || out_of_seq)
      fail("lost, duplicated or reordered mail");
  }
  /* Mails per wake-up: how much the coalescing saved. */
  w0 = q->wakeups() - w0;
  s0 = q->stalls ? q->stalls() - s0 : 0;
  pthread_setaffinity_np(pthread_self(), sizeof all_cpus, &all_cpus);
  close_queue(q);
  snprintf(name, sizeof name, "%s_%dp", q->name, nprod);
  /* micro_report's line plus the median as mails/s. */
  qsort(ns, (size_t)reps, sizeof ns[0], micro_cmp_double);
  printf("micro=%s ns_per_op=%.1f min_ns=%.1f max_ns=%.1f iters=%ld "
         "reps=%d mails_per_s=%.0f mails_per_wakeup=%.1f",
         name, ns[reps / 2], ns[0], ns[reps - 1], total, reps,
         1e9 / ns[reps / 2],
         w0 ? (double)total * (reps + 1) / (double)w0 : 0.0);
  if (q->stalls)
    printf(" consumer_waits=%llu", s0);
  printf("\n");
  fflush(stdout);
}

static void
run_all(const queue_ops_t *q, const micro_opts_t *one,
        const micro_opts_t *cross)
{
  run_post_drain(q, one);
  run_threads(q, cross, 1);
  run_threads(q, cross, MAX_PRODUCERS);
}

int
main(int argc, char **argv)
{
  micro_opts_t one, cross;

  micro_opts_parse(argc, argv, &one, 1000000);
  micro_opts_parse(argc, argv, &cross, 3000000);
  if (uv_loop_init(&loop) != 0)
    fail("uv_loop_init");
  pthread_getaffinity_np(pthread_self(), sizeof all_cpus, &all_cpus);
  ncpu = CPU_COUNT(&all_cpus);
  run_all(&cay_ops, &one, &cross);
#ifdef CAY_HAVE_URCU
  run_all(&wfcq_ops, &one, &cross);
  /* Single-threaded, the consumer never waits: only the threaded runs
   * differ. */
  wfcq_yield_mode = 1;
  run_threads(&wfcq_yield_ops, &cross, 1);
  run_threads(&wfcq_yield_ops, &cross, MAX_PRODUCERS);
#else
  printf("# mailbox: built without liburcu: no wfcqueue comparison\n");
#endif
  if (uv_loop_close(&loop) != 0)
    fail("handles left open");
  return 0;
}
