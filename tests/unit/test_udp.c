/*
 * Tests of the UDP transport (src/transport/udp.c) on a real libuv loop
 * over loopback. Every wait is bounded by a uv_timer; nothing sleeps.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "transport/addr.h"
#include "transport/udp.h"

#define MAX_RX  64
#define WAIT_MS 5000

struct rx {
  int count;
  char data[MAX_RX][128];
  size_t len[MAX_RX];
  uintptr_t ptr[MAX_RX]; /* where each datagram lay in the receive buffer */
  cay__addr_t from[MAX_RX];
  int close_after; /* close the socket after this many datagrams (0: no) */
  int closed;
};

static uv_loop_t loop;
static long live_at_start;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void
teardown(void)
{
  /* Every handle was closed by its test; finish the close callbacks. */
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static void
on_closed(void *arg)
{
  int *n = arg;

  (*n)++;
}

static void
on_rx(cay__udp_t *u, const char *data, size_t len, const cay__addr_t *from,
      void *arg)
{
  struct rx *rx = arg;
  int i = rx->count;

  ck_assert_uint_gt(len, 0);
  ck_assert_int_lt(i, MAX_RX);
  ck_assert_uint_lt(len, sizeof rx->data[i]);
  memcpy(rx->data[i], data, len);
  rx->data[i][len] = '\0';
  rx->len[i] = len;
  rx->ptr[i] = (uintptr_t)data;
  rx->from[i] = *from;
  rx->count++;
  if (rx->close_after > 0 && rx->count == rx->close_after)
    cay__udp_close(u, on_closed, &rx->closed);
}

struct wait {
  const int *a;
  const int *b; /* optional second counter, summed with *a */
  int want;
  int timed_out;
};

static void
on_timeout(uv_timer_t *t)
{
  struct wait *w = t->data;

  w->timed_out = 1;
}

static int
wait_count(const struct wait *w)
{
  return *w->a + (w->b != NULL ? *w->b : 0);
}

/*
 * Run the loop until the counters reach @p want or @p ms pass. Returns the
 * count reached.
 */
static int
run_until(const int *a, const int *b, int want, uint64_t ms)
{
  struct wait w = { a, b, want, 0 };
  uv_timer_t timer;

  ck_assert_int_eq(uv_timer_init(&loop, &timer), 0);
  timer.data = &w;
  ck_assert_int_eq(uv_timer_start(&timer, on_timeout, ms, 0), 0);
  while (wait_count(&w) < want && !w.timed_out)
    uv_run(&loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return wait_count(&w);
}

/* Create a socket on @p ip port @p port, started, with its bound address. */
static cay__udp_t *
open_udp(const char *ip, unsigned port, struct rx *rx, cay__addr_t *local)
{
  cay__udp_t *u = NULL;
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, ip, port), 0);
  ck_assert_int_eq(cay__udp_create(&u, &loop, &a, on_rx, rx), 0);
  ck_assert_ptr_nonnull(u);
  ck_assert_int_eq(cay__udp_start(u), 0);
  ck_assert_int_eq(cay__udp_local(u, local), 0);
  ck_assert_uint_ne(cay__addr_port(local), 0);
  return u;
}

static void
close_udp(cay__udp_t *u)
{
  int closed = 0;

  cay__udp_close(u, on_closed, &closed);
  ck_assert_int_eq(run_until(&closed, NULL, 1, WAIT_MS), 1);
}

START_TEST(udp_ipv4_loopback_send_to_self)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);

  ck_assert_int_eq(cay__addr_family(&local), AF_INET);
  ck_assert_int_eq(cay__udp_send(u, &local, "OPTIONS hello", 13), 0);
  ck_assert_int_eq(run_until(&rx.count, NULL, 1, WAIT_MS), 1);
  ck_assert_uint_eq(rx.len[0], 13);
  ck_assert_str_eq(rx.data[0], "OPTIONS hello");
  /* The source is the socket itself: same IP and port. */
  ck_assert(cay__addr_eq(&rx.from[0], &local));
  close_udp(u);
}
END_TEST

START_TEST(udp_two_sockets_share_port_with_reuseport)
{
  struct rx ra = { 0 }, rb = { 0 }, rs = { 0 };
  cay__addr_t la, lb, ls;
  cay__udp_t *a = open_udp("127.0.0.1", 0, &ra, &la);
  cay__udp_t *b;
  cay__udp_t *s = open_udp("127.0.0.1", 0, &rs, &ls);

  /* SO_REUSEPORT: a second socket binds the very same address and port,
   * as every shard does (DESIGN.md section 3). */
  b = open_udp("127.0.0.1", cay__addr_port(&la), &rb, &lb);
  ck_assert(cay__addr_eq(&la, &lb));

  /* The kernel hands the datagram to exactly one of the two. */
  ck_assert_int_eq(cay__udp_send(s, &la, "one", 3), 0);
  ck_assert_int_eq(run_until(&ra.count, &rb.count, 1, WAIT_MS), 1);
  ck_assert_int_eq(ra.count + rb.count, 1);
  ck_assert_str_eq(ra.count ? ra.data[0] : rb.data[0], "one");
  close_udp(a);
  close_udp(b);
  close_udp(s);
}
END_TEST

START_TEST(udp_binds_beside_a_reuseport_only_socket)
{
  struct rx rx = { 0 };
  cay__addr_t a, local;
  socklen_t alen = sizeof a.u;
  cay__udp_t *u;
  int fd, on = 1;

  /* On Linux, SO_REUSEADDR alone also lets UDP sockets share a port, so
   * sharing with a socket that set only SO_REUSEPORT is what proves the
   * option is set: the kernel allows that only when both set it. */
  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
  ck_assert_int_eq(bind(fd, &a.u.sa, cay__addr_len(&a)), 0);
  ck_assert_int_eq(getsockname(fd, &a.u.sa, &alen), 0);

  u = open_udp("127.0.0.1", cay__addr_port(&a), &rx, &local);
  ck_assert(cay__addr_eq(&local, &a));
  close_udp(u);
  close(fd);
}
END_TEST

START_TEST(udp_port_held_without_reuseport_is_eaddrinuse)
{
  cay__addr_t a;
  socklen_t alen = sizeof a.u;
  cay__udp_t *u = (cay__udp_t *)(uintptr_t)1; /* must be reset */
  int fd;

  /* A socket bound without SO_REUSEPORT keeps the port to itself. */
  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, &a.u.sa, cay__addr_len(&a)), 0);
  ck_assert_int_eq(getsockname(fd, &a.u.sa, &alen), 0);

  ck_assert_int_eq(cay__udp_create(&u, &loop, &a, on_rx, NULL), UV_EADDRINUSE);
  ck_assert_ptr_null(u);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
  close(fd);
}
END_TEST

START_TEST(udp_ipv6_loopback_send_to_self)
{
  struct rx rx = { 0 };
  cay__addr_t a, local;
  cay__udp_t *u = NULL;
  int err;

  ck_assert_int_eq(cay__addr_set(&a, "::1", 0), 0);
  err = cay__udp_create(&u, &loop, &a, on_rx, &rx);
  if (err == UV_EADDRNOTAVAIL || err == UV_EAFNOSUPPORT) {
    fprintf(stderr,
            "SKIP udp_ipv6_loopback_send_to_self: ::1 is unavailable on "
            "this host (%s)\n",
            uv_strerror(err));
    return;
  }
  ck_assert_int_eq(err, 0);
  ck_assert_int_eq(cay__udp_start(u), 0);
  ck_assert_int_eq(cay__udp_local(u, &local), 0);
  ck_assert_int_eq(cay__addr_family(&local), AF_INET6);

  ck_assert_int_eq(cay__udp_send(u, &local, "v6 datagram", 11), 0);
  ck_assert_int_eq(run_until(&rx.count, NULL, 1, WAIT_MS), 1);
  ck_assert_str_eq(rx.data[0], "v6 datagram");
  ck_assert_int_eq(cay__addr_family(&rx.from[0]), AF_INET6);
  ck_assert(cay__addr_eq(&rx.from[0], &local));
  close_udp(u);
}
END_TEST

START_TEST(udp_batch_of_50_in_order_via_recvmmsg)
{
  struct rx rr = { 0 }, rs = { 0 };
  cay__addr_t lr, ls;
  cay__udp_t *r = open_udp("127.0.0.1", 0, &rr, &lr);
  cay__udp_t *s = open_udp("127.0.0.1", 0, &rs, &ls);
  char msg[32], want[32];
  int k, slotted = 0;

  /* All 50 wait in the receiver's kernel buffer before the loop runs, so
   * they are read in batches. */
  for (k = 0; k < 50; k++) {
    int n = snprintf(msg, sizeof msg, "dgram-%02d", k);
    ck_assert_int_eq(cay__udp_send(s, &lr, msg, (size_t)n), 0);
  }
  ck_assert_int_eq(run_until(&rr.count, NULL, 50, WAIT_MS), 50);
  for (k = 0; k < 50; k++) {
    snprintf(want, sizeof want, "dgram-%02d", k);
    ck_assert_str_eq(rr.data[k], want);
    ck_assert(cay__addr_eq(&rr.from[k], &ls));
  }
  /* recvmmsg puts consecutive datagrams of one batch in consecutive
   * 64 KiB slots of the buffer; plain recvmsg would reuse its start. */
  for (k = 1; k < 50; k++)
    if (rr.ptr[k] == rr.ptr[k - 1] + 65536)
      slotted++;
  ck_assert_int_gt(slotted, 0);
  close_udp(r);
  close_udp(s);
}
END_TEST

/* -- overload: the receive queue behind a full batch (DESIGN.md 7) -------- */

#define BACKLOG_MAX 8192

struct backlog_rx {
  int count;
  unsigned char
      flagged[BACKLOG_MAX]; /* cay__udp_backlogged() in the callback */
};

static void
on_rx_backlog(cay__udp_t *u, const char *data, size_t len,
              const cay__addr_t *from, void *arg)
{
  struct backlog_rx *rx = arg;

  (void)data;
  (void)len;
  (void)from;
  ck_assert_int_lt(rx->count, BACKLOG_MAX);
  rx->flagged[rx->count++] = (unsigned char)cay__udp_backlogged(u);
}

/* A receiver (not started) with @p rx, and a sender. */
static cay__udp_t *
open_backlog_pair(struct backlog_rx *rx, cay__addr_t *lr, cay__udp_t **s,
                  struct rx *rs)
{
  cay__udp_t *r = NULL;
  cay__addr_t a, ls;

  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  ck_assert_int_eq(cay__udp_create(&r, &loop, &a, on_rx_backlog, rx), 0);
  ck_assert_int_eq(cay__udp_local(r, lr), 0);
  *s = open_udp("127.0.0.1", 0, rs, &ls);
  return r;
}

/* Send 1000-byte datagrams to @p to until the receiver's queue holds
 * @p pct % of its buffer (and at least 48 datagrams, three batches).
 * @return how many were sent. */
static int
fill_queue(cay__udp_t *s, cay__udp_t *r, const cay__addr_t *to, unsigned pct)
{
  static char payload[1000];
  unsigned queued = 0, rcvbuf = 0, drops = 0;
  int n = 0;

  memset(payload, 'q', sizeof payload);
  while (n < 48 || (uint64_t)queued * 100 < (uint64_t)rcvbuf * pct) {
    ck_assert_int_lt(n, BACKLOG_MAX);
    ck_assert_int_eq(cay__udp_send(s, to, payload, sizeof payload), 0);
    n++;
    ck_assert_int_eq(cay__udp_meminfo(r, &queued, &rcvbuf, &drops), 0);
  }
  ck_assert_uint_gt(rcvbuf, 0);
  ck_assert_uint_eq(drops, 0); /* the buffer is not full: nothing lost */
  return n;
}

START_TEST(udp_backlogged_from_a_full_batch_until_the_queue_is_empty)
{
  struct backlog_rx *rx = calloc(1, sizeof *rx);
  struct rx rs = { 0 };
  cay__addr_t lr;
  cay__udp_t *s, *r = open_backlog_pair(rx, &lr, &s, &rs);
  int n, k;

  cay__udp_set_backlog_percent(r, 5, -1);
  n = fill_queue(s, r, &lr, 20);
  ck_assert_int_eq(cay__udp_start(r), 0);
  ck_assert_int_eq(run_until(&rx->count, NULL, n, WAIT_MS), n);
  /* The first batch is read before anything is known of the queue
   * behind it; its last datagram finds it over 5% (20% less 16). */
  for (k = 0; k < 15; k++)
    ck_assert_msg(!rx->flagged[k], "datagram %d flagged", k);
  ck_assert(rx->flagged[15]);
  /* From there on, until a read finds the queue empty. */
  for (k = 15; k < n; k++)
    ck_assert_msg(rx->flagged[k], "datagram %d of %d not flagged", k, n);
  ck_assert_int_eq(cay__udp_backlogged(r), 0);

  /* A datagram on an empty queue is not. */
  ck_assert_int_eq(cay__udp_send(s, &lr, "x", 1), 0);
  ck_assert_int_eq(run_until(&rx->count, NULL, n + 1, WAIT_MS), n + 1);
  ck_assert(!rx->flagged[n]);
  close_udp(r);
  close_udp(s);
  free(rx);
}
END_TEST

START_TEST(udp_backlog_under_the_threshold_or_off_is_not_flagged)
{
  unsigned pcts[] = { 0, 90 }; /* off (the default), above the fill */

  for (unsigned i = 0; i < 2; i++) {
    struct backlog_rx *rx = calloc(1, sizeof *rx);
    struct rx rs = { 0 };
    cay__addr_t lr;
    cay__udp_t *s, *r = open_backlog_pair(rx, &lr, &s, &rs);
    int n;

    if (pcts[i])
      cay__udp_set_backlog_percent(r, pcts[i], -1);
    n = fill_queue(s, r, &lr, 20);
    ck_assert_int_eq(cay__udp_start(r), 0);
    ck_assert_int_eq(run_until(&rx->count, NULL, n, WAIT_MS), n);
    for (int k = 0; k < n; k++)
      ck_assert_msg(!rx->flagged[k], "%u%%: datagram %d flagged", pcts[i], k);
    close_udp(r);
    close_udp(s);
    free(rx);
  }
}
END_TEST

START_TEST(udp_meminfo_counts_what_the_kernel_dropped)
{
  struct backlog_rx *rx = calloc(1, sizeof *rx);
  struct rx rs = { 0 };
  cay__addr_t lr;
  cay__udp_t *s, *r = open_backlog_pair(rx, &lr, &s, &rs);
  char payload[1000];
  unsigned queued, rcvbuf, drops;
  int small = 4096, fd = cay__udp_fd(r);

  /* The kernel's smallest receive buffer holds a few datagrams. */
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small),
                   0);
  memset(payload, 'd', sizeof payload);
  for (int k = 0; k < 64; k++)
    ck_assert_int_eq(cay__udp_send(s, &lr, payload, sizeof payload), 0);
  ck_assert_int_eq(cay__udp_meminfo(r, &queued, &rcvbuf, &drops), 0);
  ck_assert_uint_le(rcvbuf, 65536);
  ck_assert_uint_gt(queued, 0);
  ck_assert_uint_gt(drops, 0);
  ck_assert_uint_lt(drops, 64);
  /* Any out pointer may be NULL. */
  ck_assert_int_eq(cay__udp_meminfo(r, NULL, NULL, NULL), 0);
  close_udp(r);
  close_udp(s);
  free(rx);
}
END_TEST

START_TEST(udp_empty_datagram_not_delivered)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);

  /* The empty one is read first (loopback keeps order); only "x" is
   * passed on. */
  ck_assert_int_eq(cay__udp_send(u, &local, "", 0), 0);
  ck_assert_int_eq(cay__udp_send(u, &local, "x", 1), 0);
  ck_assert_int_eq(run_until(&rx.count, NULL, 1, WAIT_MS), 1);
  ck_assert_str_eq(rx.data[0], "x");
  ck_assert_uint_eq(rx.len[0], 1);
  close_udp(u);
}
END_TEST

START_TEST(udp_stop_holds_datagrams_until_start)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);

  cay__udp_stop(u);
  ck_assert_int_eq(cay__udp_send(u, &local, "held", 4), 0);
  ck_assert_int_eq(run_until(&rx.count, NULL, 1, 100), 0);
  ck_assert_int_eq(cay__udp_start(u), 0);
  ck_assert_int_eq(run_until(&rx.count, NULL, 1, WAIT_MS), 1);
  ck_assert_str_eq(rx.data[0], "held");
  close_udp(u);
}
END_TEST

START_TEST(udp_close_in_callback_stops_the_batch)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);
  int k;

  /* Five datagrams arrive in one batch; the owner closes on the first,
   * and the rest of the batch must not reach it. */
  rx.close_after = 1;
  for (k = 0; k < 5; k++)
    ck_assert_int_eq(cay__udp_send(u, &local, "b", 1), 0);
  ck_assert_int_eq(run_until(&rx.closed, NULL, 1, WAIT_MS), 1);
  ck_assert_int_eq(rx.count, 1);
}
END_TEST

START_TEST(udp_close_frees_everything)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);
  int closed = 0;

  ck_assert_int_gt(cay__alloc_live(), live_at_start);
  ck_assert_int_eq(cay__udp_send(u, &local, "bye", 3), 0);
  cay__udp_close(u, on_closed, &closed);
  /* Close is asynchronous: nothing is freed before the loop runs. */
  ck_assert_int_eq(closed, 0);
  ck_assert_int_gt(cay__alloc_live(), live_at_start);
  ck_assert_int_eq(run_until(&closed, NULL, 1, WAIT_MS), 1);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
  ck_assert_int_eq(uv_loop_alive(&loop), 0);
}
END_TEST

START_TEST(udp_create_out_of_memory)
{
  cay__addr_t a;
  cay__udp_t *u = NULL;
  long n;

  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", 0), 0);
  /* The first allocation is the socket object, the second its receive
   * buffer; either failing leaves nothing behind. */
  for (n = 1; n <= 2; n++) {
    cay__alloc_fail_nth(n);
    ck_assert_int_eq(cay__udp_create(&u, &loop, &a, on_rx, NULL), -ENOMEM);
    ck_assert_ptr_null(u);
    ck_assert_int_eq(cay__alloc_live(), live_at_start);
  }
  cay__alloc_fail_nth(0);
}
END_TEST

START_TEST(udp_send_oversize_is_emsgsize)
{
  struct rx rx = { 0 };
  cay__addr_t local;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);
  char *big = calloc(1, 70000);

  ck_assert_ptr_nonnull(big);
  ck_assert_int_eq(cay__udp_send(u, &local, big, 70000), UV_EMSGSIZE);
  free(big);
  close_udp(u);
}
END_TEST

START_TEST(udp_send_to_other_family_fails)
{
  struct rx rx = { 0 };
  cay__addr_t local, v6;
  cay__udp_t *u = open_udp("127.0.0.1", 0, &rx, &local);
  int err;

  /* An IPv4 socket cannot reach an IPv6 address; the kernel's error comes
   * back unchanged and nothing is queued. */
  ck_assert_int_eq(cay__addr_set(&v6, "::1", cay__addr_port(&local)), 0);
  err = cay__udp_send(u, &v6, "x", 1);
  ck_assert_int_lt(err, 0);
  ck_assert_int_ne(err, UV_EAGAIN);
  ck_assert_int_ne(err, -ENOMEM);
  close_udp(u);
}
END_TEST

static Suite *
udp_suite(void)
{
  Suite *s = suite_create("udp");
  TCase *tc = tcase_create("loopback");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, udp_ipv4_loopback_send_to_self);
  tcase_add_test(tc, udp_two_sockets_share_port_with_reuseport);
  tcase_add_test(tc, udp_binds_beside_a_reuseport_only_socket);
  tcase_add_test(tc, udp_port_held_without_reuseport_is_eaddrinuse);
  tcase_add_test(tc, udp_ipv6_loopback_send_to_self);
  tcase_add_test(tc, udp_batch_of_50_in_order_via_recvmmsg);
  tcase_add_test(tc, udp_backlogged_from_a_full_batch_until_the_queue_is_empty);
  tcase_add_test(tc, udp_backlog_under_the_threshold_or_off_is_not_flagged);
  tcase_add_test(tc, udp_meminfo_counts_what_the_kernel_dropped);
  tcase_add_test(tc, udp_empty_datagram_not_delivered);
  tcase_add_test(tc, udp_stop_holds_datagrams_until_start);
  tcase_add_test(tc, udp_close_in_callback_stops_the_batch);
  tcase_add_test(tc, udp_close_frees_everything);
  tcase_add_test(tc, udp_create_out_of_memory);
  tcase_add_test(tc, udp_send_oversize_is_emsgsize);
  tcase_add_test(tc, udp_send_to_other_family_fails);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(udp_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
