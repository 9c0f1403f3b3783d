/*
 * Tests of the kernel steering program (src/transport/steer.c): N sockets
 * bound like Cay's shards (cay__socket_bound, SO_REUSEPORT, in shard
 * order) on loopback, the program attached, datagrams sent from one
 * socket. Each must arrive on the socket of cay__callid_shard() of its
 * Call-ID: the hash in the kernel and the hash in the shards must agree.
 * Every wait is bounded by poll().
 *
 * Loading the program needs CAP_BPF (root here and in CI) and Linux 5.17;
 * a machine without them fails the load test with the kernel's reason.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/hash.h"
#include "transport/addr.h"
#include "transport/steer.h"

#define MAX_SOCKS 8
#define WAIT_MS   2000

typedef struct {
  unsigned n;
  int fd[MAX_SOCKS];
  int client;
  cay__addr_t addr;
} group_t;

static void
group_open(group_t *g, unsigned n, const char *host)
{
  char why[200];
  int prog;

  memset(g, 0, sizeof *g);
  g->n = n;
  ck_assert_int_eq(cay__addr_set(&g->addr, host, 0), 0);
  for (unsigned i = 0; i < n; i++) {
    g->fd[i] = cay__socket_bound(&g->addr, SOCK_DGRAM, 0);
    ck_assert_int_ge(g->fd[i], 0);
    if (i == 0) {
      /* The others join the port the first one got. */
      socklen_t len = sizeof g->addr.u;
      ck_assert_int_eq(getsockname(g->fd[0], &g->addr.u.sa, &len), 0);
    }
  }
  ck_assert_msg(cay__steer_load(n, &prog, why, sizeof why) == 0,
                "steering program not loaded: %s", why);
  ck_assert_int_eq(cay__steer_attach(prog, g->fd[0]), 0);
  close(prog);
  g->client = socket(cay__addr_family(&g->addr), SOCK_DGRAM, 0);
  ck_assert_int_ge(g->client, 0);
}

static void
group_close(group_t *g)
{
  for (unsigned i = 0; i < g->n; i++)
    close(g->fd[i]);
  close(g->client);
}

/* Send @p msg and return the index of the one socket it arrived on. */
static int
deliver(group_t *g, const char *msg, size_t len)
{
  struct pollfd pfd[MAX_SOCKS];
  char buf[4096];
  int got = -1, n;

  ck_assert_int_eq(
      sendto(g->client, msg, len, 0, &g->addr.u.sa, cay__addr_len(&g->addr)),
      (ssize_t)len);
  for (unsigned i = 0; i < g->n; i++) {
    pfd[i].fd = g->fd[i];
    pfd[i].events = POLLIN;
  }
  n = poll(pfd, g->n, WAIT_MS);
  ck_assert_int_eq(n, 1); /* exactly one socket has it */
  for (unsigned i = 0; i < g->n; i++) {
    if (pfd[i].revents & POLLIN) {
      ck_assert_int_eq(recv(g->fd[i], buf, sizeof buf, 0), (ssize_t)len);
      got = (int)i;
    }
  }
  return got;
}

/* A request whose Call-ID header line is @p line, after @p pad bytes of
 * other headers. */
static size_t
request(char *out, size_t cap, const char *line, size_t pad)
{
  size_t len
      = (size_t)snprintf(out, cap,
                         "INVITE sip:bob@example.com SIP/2.0\r\n"
                         "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1\r\n"
                         "Contact: <sip:alice@127.0.0.1:5061>\r\n"
                         "In-Reply-To: 70710@saturn.example.com\r\n"
                         "Content-Type: application/sdp\r\n"
                         "Call-Info: <http://x/a.png>;purpose=icon\r\n"
                         "Subject: ");
  for (size_t i = 0; i < pad && len + 1 < cap; i++)
    out[len++] = 'x';
  len += (size_t)snprintf(out + len, cap - len,
                          "\r\n%s\r\nCSeq: 1 INVITE\r\n"
                          "Content-Length: 0\r\n\r\n",
                          line);
  ck_assert_uint_lt(len, cap);
  return len;
}

static unsigned
owner(const char *callid, unsigned n)
{
  return cay__callid_shard(callid, strlen(callid), n);
}

START_TEST(test_each_datagram_reaches_its_owner)
{
  /* 2, 3 and 4 sockets: the modulo is the shard count's. */
  static const unsigned counts[] = { 2, 3, 4 };
  unsigned n = counts[_i];
  unsigned seen[MAX_SOCKS] = { 0 };
  char cid[64], line[96], msg[1024];
  group_t g;

  group_open(&g, n, "127.0.0.1");
  for (int k = 0; k < 48; k++) {
    snprintf(cid, sizeof cid, "%d-4711@127.0.0.%d", k, k % 7);
    snprintf(line, sizeof line, "Call-ID: %s", cid);
    int at = deliver(&g, msg, request(msg, sizeof msg, line, 0));
    ck_assert_int_eq(at, (int)owner(cid, n));
    seen[at]++;
  }
  for (unsigned i = 0; i < n; i++)
    ck_assert_uint_gt(seen[i], 0);
  group_close(&g);
}
END_TEST

/* RFC 3261 sections 7.3.1 and 7.3.3: the compact form, any case, blanks
 * before the colon, trailing blanks that are not part of the value. */
START_TEST(test_header_forms)
{
  static const struct {
    const char *line, *callid;
  } forms[] = {
    { "i: a84b4c76e66710@pc33.atlanta.com", "a84b4c76e66710@pc33.atlanta.com" },
    { "CALL-ID :\t f81d4fae-7dec", "f81d4fae-7dec" },
    { "call-id:3848276298220188511@atlanta.example.com \t",
      "3848276298220188511@atlanta.example.com" },
    { "I  :  1-2-3", "1-2-3" },
  };
  char msg[1024];
  group_t g;

  group_open(&g, 4, "127.0.0.1");
  for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
    int at = deliver(&g, msg, request(msg, sizeof msg, forms[k].line, 0));
    ck_assert_msg(at == (int)owner(forms[k].callid, 4),
                  "%s: on socket %d, owner %u", forms[k].line, at,
                  owner(forms[k].callid, 4));
  }
  group_close(&g);
}
END_TEST

/* A Call-ID late in the scanned bytes is still found; one after them, or
 * none at all, still arrives (on some socket: the shards hand it on). */
START_TEST(test_late_or_missing_callid)
{
  char msg[4096];
  size_t len;
  group_t g;

  group_open(&g, 4, "127.0.0.1");
  len = request(msg, sizeof msg, "Call-ID: late-1", 1700);
  ck_assert_uint_lt(len, CAY__STEER_SCAN_BYTES);
  ck_assert_int_eq(deliver(&g, msg, len), (int)owner("late-1", 4));

  len = request(msg, sizeof msg, "Call-ID: beyond-1", 2100);
  ck_assert_uint_gt(len, CAY__STEER_SCAN_BYTES);
  ck_assert_int_ge(deliver(&g, msg, len), 0);

  len = request(msg, sizeof msg, "X-No-Call-ID: here", 0);
  ck_assert_int_ge(deliver(&g, msg, len), 0);
  ck_assert_int_ge(deliver(&g, "\r\n\r\n", 4), 0); /* a keep-alive */
  group_close(&g);
}
END_TEST

START_TEST(test_ipv6)
{
  char msg[1024];
  group_t g;
  cay__addr_t a;
  int fd;

  /* Skip quietly only where the host has no IPv6 loopback at all. */
  ck_assert_int_eq(cay__addr_set(&a, "::1", 0), 0);
  fd = cay__socket_bound(&a, SOCK_DGRAM, 0);
  if (fd < 0)
    return;
  close(fd);
  group_open(&g, 3, "::1");
  for (int k = 0; k < 12; k++) {
    char cid[32], line[64];
    snprintf(cid, sizeof cid, "v6-%d", k);
    snprintf(line, sizeof line, "Call-ID: %s", cid);
    ck_assert_int_eq(deliver(&g, msg, request(msg, sizeof msg, line, 0)),
                     (int)owner(cid, 3));
  }
  group_close(&g);
}
END_TEST

START_TEST(test_load_refuses_bad_counts)
{
  char why[200];
  int prog = 7;

  ck_assert_int_eq(cay__steer_load(1, &prog, why, sizeof why), -EINVAL);
  ck_assert_int_eq(prog, -1);
  ck_assert_ptr_nonnull(strstr(why, "2..64"));
  ck_assert_int_eq(cay__steer_load(65, &prog, why, sizeof why), -EINVAL);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("steer");
  TCase *tc = tcase_create("steer");
  SRunner *sr;
  int failed;

  tcase_add_loop_test(tc, test_each_datagram_reaches_its_owner, 0, 3);
  tcase_add_test(tc, test_header_forms);
  tcase_add_test(tc, test_late_or_missing_callid);
  tcase_add_test(tc, test_ipv6);
  tcase_add_test(tc, test_load_refuses_bad_counts);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
