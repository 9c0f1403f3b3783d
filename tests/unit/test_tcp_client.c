/*
 * Tests of the connections the TCP transport (src/transport/tcp.c) opens
 * itself (RFC 3261 section 18.1.1: reuse a live connection to the target
 * or open one), on a real libuv loop over loopback: reuse, refusal, the
 * connect timeout, the connection limit, unknown ids, closing while
 * connecting.
 */
#include "support/tcp_fixture.h"

START_TEST(tcp_18_1_send_to_opens_then_reuses)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  cay_id_t c1 = CAY_ID_NONE, c2 = CAY_ID_NONE;

  peer_listen(&p);
  /* The first send opens a connection; the data waits for it. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "hello ", 6, &c1), 0);
  ck_assert_uint_ne(c1, CAY_ID_NONE);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  /* The second, even before the connect completed, reuses it. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "world ", 6, &c2), 0);
  ck_assert_uint_eq(c2, c1);
  RUN_UNTIL(p.conn.rxlen >= 12, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "hello world ");
  /* And once connected, too. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "again", 5, &c2), 0);
  ck_assert_uint_eq(c2, c1);
  RUN_UNTIL(p.conn.rxlen >= 17, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "hello world again");
  ck_assert_int_eq(p.accepted, 1);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);

  /* The connection is two-way: what the peer sends arrives under the same
   * id, from the peer's address. */
  client_write_str(&p.conn, MSG_B);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_uint_eq(s.conn[0], c1);
  ck_assert(cay__addr_eq(&s.from[0], &p.addr));

  peer_close(&p);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_refused_drops_the_data)
{
  struct srv s = { 0 };
  cay__addr_t local, dst;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  socklen_t alen = sizeof dst.u;
  cay_id_t id = CAY_ID_NONE;
  int fd;

  /* A bound port that does not listen refuses connections. */
  ck_assert_int_eq(cay__addr_set(&dst, "127.0.0.1", 0), 0);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, &dst.u.sa, cay__addr_len(&dst)), 0);
  ck_assert_int_eq(getsockname(fd, &dst.u.sa, &alen), 0);

  ck_assert_int_eq(cay__tcp_send_to(tcp, &dst, NULL, "lost", 4, &id), 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  ck_assert_int_eq(cay__tcp_send(tcp, id, "x", 1), CAY_ENOTFOUND);
  /* The owner was told, with the address (RFC 3261 section 17.1.4). */
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.status[0], CAY_ECONNECT);
  ck_assert_int_eq(cay__addr_eq(&s.from[0], &dst), 1);
  close(fd);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_over_max_conns_is_elimit)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local, other;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;

  cay__tcp_opts_init(&o);
  o.max_conns = 1;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  peer_listen(&p);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "a", 1, NULL), 0);
  other = p.addr;
  cay__addr_set_port(&other, cay__addr_port(&p.addr) == 65535 ? 1 : 65535);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &other, NULL, "b", 1, NULL),
                   CAY_ELIMIT);
  RUN_UNTIL(p.conn.rxlen >= 1, WAIT_MS);
  ck_assert_str_eq(p.conn.rx, "a");
  peer_close(&p);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_unknown_id_is_enotfound)
{
  struct srv s = { 0 };
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);
  struct {
    void *first;
    char rest[64];
  } other = { 0 };
  cay_id_t foreign;

  ck_assert_int_eq(cay__tcp_send(tcp, CAY_ID_NONE, "x", 1), CAY_ENOTFOUND);
  /* An id of another object kind in the shard's shared table is not a
   * connection. */
  ck_assert_int_eq(cay__idtab_add(&shard.ids, &other, &foreign), 0);
  ck_assert_int_eq(cay__tcp_send(tcp, foreign, "x", 1), CAY_ENOTFOUND);
  cay__idtab_remove(&shard.ids, foreign);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_send_to_connect_timeout_fails_like_refused)
{
  struct srv s = { 0 };
  cay__addr_t local, dst;
  cay__tcp_opts_t o;
  cay__tcp_t *tcp;
  socklen_t alen = sizeof dst.u;
  cay_id_t id = CAY_ID_NONE;
  int lfd, filler;

  /* A listener with a backlog of 0 whose one queue slot a connection
   * that is never accepted holds: Linux drops the SYNs that find the
   * accept queue full, so connecting hangs as behind a dropping
   * firewall. */
  ck_assert_int_eq(cay__addr_set(&dst, "127.0.0.1", 0), 0);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(bind(lfd, &dst.u.sa, cay__addr_len(&dst)), 0);
  ck_assert_int_eq(listen(lfd, 0), 0);
  ck_assert_int_eq(getsockname(lfd, &dst.u.sa, &alen), 0);
  filler = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(filler, 0);
  ck_assert_int_eq(connect(filler, &dst.u.sa, cay__addr_len(&dst)), 0);

  cay__tcp_opts_init(&o);
  ck_assert_uint_eq(o.connect_timeout_ms, 5000);
  o.connect_timeout_ms = 300;
  tcp = open_tcp("127.0.0.1", 0, &o, &s, &local);
  ck_assert_int_eq(cay__tcp_send_to(tcp, &dst, NULL, "lost", 4, &id), 0);
  /* Still trying well before the timeout... */
  RUN_UNTIL(s.count > 0, 100);
  ck_assert_int_eq(s.count, 0);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 1);
  /* ... then given up: the owner is told as for a refusal (RFC 3261
   * section 17.1.4), the connection and its queued data are gone. */
  RUN_UNTIL(s.count > 0, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_int_eq(s.status[0], CAY_ECONNECT);
  ck_assert_int_eq(cay__addr_eq(&s.from[0], &dst), 1);
  RUN_UNTIL(cay__tcp_conns(tcp) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(tcp), 0);
  ck_assert_int_eq(cay__tcp_send(tcp, id, "x", 1), CAY_ENOTFOUND);
  close(filler);
  close(lfd);
  close_tcp(tcp, &s);
}
END_TEST

START_TEST(tcp_close_while_connecting)
{
  struct srv s = { 0 };
  struct peer p;
  cay__addr_t local;
  cay__tcp_t *tcp = open_tcp("127.0.0.1", 0, NULL, &s, &local);

  peer_listen(&p);
  /* Closed before the loop ever ran the connect: the queued copy is
   * freed, the connect cancelled. */
  ck_assert_int_eq(cay__tcp_send_to(tcp, &p.addr, NULL, "never", 5, NULL), 0);
  close_tcp(tcp, &s);
  uv_run(&loop, UV_RUN_NOWAIT);
  peer_close(&p);
}
END_TEST

static Suite *
tcp_client_suite(void)
{
  Suite *s = suite_create("tcp_client");
  TCase *tc = tcase_create("loopback");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, tcp_18_1_send_to_opens_then_reuses);
  tcase_add_test(tc, tcp_send_to_refused_drops_the_data);
  tcase_add_test(tc, tcp_send_to_over_max_conns_is_elimit);
  tcase_add_test(tc, tcp_send_to_unknown_id_is_enotfound);
  tcase_add_test(tc, tcp_send_to_connect_timeout_fails_like_refused);
  tcase_add_test(tc, tcp_close_while_connecting);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(tcp_client_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
