/*
 * Tests of TLS (RFC 3261 section 26.2, RFC 5922): the sessions of
 * src/transport/tls.c on their own (two sessions joined in memory, one
 * byte at a time), and the TCP transport with a TLS context on a real
 * libuv loop over loopback: a message each way, what waits for the
 * handshake, certificates that must not pass (unknown CA, another name),
 * a name given as an IP literal, verification off, plaintext on the TLS
 * port, a handshake that never comes, client certificates, a new
 * context for new connections (a reload). The
 * certificates are tests/data/tls/ (README there).
 */
#include <uv.h>

#include "support/tcp_fixture.h"
#include "core/log.h"
#include "server/server_int.h"
#include "transport/tls.h"
#include <time.h>

#define PEM(name) CAY_TEST_DATA "/tls/" name

/* A context; @p cert NULL: none (a client that shows no certificate);
 * @p crl NULL: no revocation check; @p crl_chain: the whole chain's
 * revocation checked (tls.crl_check: chain). */
static cay__tls_ctx_t *
make_ctx_crl_chain(const char *cert, const char *key, int verify_server,
                   int verify_client, const char *crl, int crl_chain)
{
  cay__tls_conf_t conf = { .certificate = cert,
                           .private_key = key,
                           .ca_file = PEM("ca.pem"),
                           .crl_file = crl,
                           .crl_chain = crl_chain,
                           .verify_server = verify_server,
                           .verify_client = verify_client };
  cay__tls_ctx_t *ctx = NULL;
  char err[256] = "";

  ck_assert_msg(cay__tls_ctx_new(&ctx, &conf, err, sizeof err) == 0, "%s", err);
  return ctx;
}

static cay__tls_ctx_t *
make_ctx_crl(const char *cert, const char *key, int verify_server,
             int verify_client, const char *crl)
{
  return make_ctx_crl_chain(cert, key, verify_server, verify_client, crl, 0);
}

static cay__tls_ctx_t *
make_ctx(const char *cert, const char *key, int verify_server,
         int verify_client)
{
  return make_ctx_crl(cert, key, verify_server, verify_client, NULL);
}

static cay__tls_ctx_t *
server_ctx(const char *name, int verify_client)
{
  char cert[256], key[256];

  snprintf(cert, sizeof cert, PEM("%s.pem"), name);
  snprintf(key, sizeof key, PEM("%s.key"), name);
  return make_ctx(cert, key, 1, verify_client);
}

/* -- sessions alone ------------------------------------------------------ */

/* Move what @p from has for its peer into @p to, @p chunk bytes at a time
 * (a read of that size each). @return the bytes moved. */
static size_t
pump(cay__tls_t *from, cay__tls_t *to, size_t chunk)
{
  const char *out;
  size_t n = cay__tls_output(from, &out), moved = 0;
  char copy[32768];

  ck_assert_uint_le(n, sizeof copy);
  memcpy(copy, out, n);
  cay__tls_output_done(from);
  for (; moved < n; moved += chunk) {
    size_t k = n - moved < chunk ? n - moved : chunk;
    ck_assert_int_eq(cay__tls_feed(to, copy + moved, k), 0);
    if (cay__tls_handshake(to) < 0)
      break;
  }
  return n;
}

START_TEST(tls_sessions_byte_by_byte)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  cay__tls_t *srv, *cli;
  char big[3000], got[4096];
  size_t have = 0;
  long n;

  ck_assert_int_eq(cay__tls_new(&cli, cctx, 1, "cay.test"), 0);
  ck_assert_int_eq(cay__tls_new(&srv, sctx, 0, NULL), 0);
  ck_assert_int_eq(cay__tls_handshake(cli), 0); /* ClientHello waits */
  for (int round = 0; round < 8; round++) {
    pump(cli, srv, 1);
    pump(srv, cli, 1);
  }
  ck_assert_int_eq(cay__tls_handshake(cli), 1);
  ck_assert_int_eq(cay__tls_handshake(srv), 1);

  /* A message longer than one read, split into single bytes. */
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  ck_assert_int_eq(cay__tls_write(cli, big, sizeof big), 0);
  pump(cli, srv, 1);
  while ((n = cay__tls_read(srv, got + have, sizeof got - have)) > 0)
    have += (size_t)n;
  ck_assert_int_eq(n, 0); /* nothing more until more is fed */
  ck_assert_uint_eq(have, sizeof big);
  ck_assert_mem_eq(got, big, sizeof big);

  /* close_notify reads as the end. */
  cay__tls_shutdown(cli);
  pump(cli, srv, 7);
  ck_assert_int_eq(cay__tls_read(srv, got, sizeof got), UV_EOF);

  cay__tls_free(srv);
  cay__tls_free(cli);
  cay__tls_ctx_unref(sctx);
  cay__tls_ctx_unref(cctx);
}
END_TEST

START_TEST(tls_session_not_tls_fails_the_handshake)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  cay__tls_t *srv;
  static const char options[] = "OPTIONS sip:cay@127.0.0.1 SIP/2.0\r\n\r\n";

  ck_assert_int_eq(cay__tls_new(&srv, sctx, 0, NULL), 0);
  ck_assert_int_eq(cay__tls_feed(srv, options, sizeof options - 1), 0);
  ck_assert_int_eq(cay__tls_handshake(srv), CAY_EPARSE);
  ck_assert_str_ne(cay__tls_why(srv), "unknown reason");
  cay__tls_free(srv);
  cay__tls_ctx_unref(sctx);
}
END_TEST

START_TEST(tls_ctx_errors_name_the_file)
{
  cay__tls_conf_t conf
      = { .certificate = PEM("server.pem"), .private_key = PEM("rogue.key") };
  cay__tls_ctx_t *ctx = NULL;
  char err[256] = "";

  /* A key that is not the certificate's. */
  ck_assert_int_eq(cay__tls_ctx_new(&ctx, &conf, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_null(ctx);
  ck_assert_msg(strstr(err, "tls.private_key") && strstr(err, "rogue.key"),
                "%s", err);
  /* A file that is not there. */
  conf.private_key = PEM("server.key");
  conf.ca_file = PEM("missing.pem");
  ck_assert_int_eq(cay__tls_ctx_new(&ctx, &conf, err, sizeof err), CAY_ECONFIG);
  ck_assert_msg(strstr(err, "tls.ca_file") && strstr(err, "missing.pem"), "%s",
                err);
  /* A certificate without its key. */
  conf.ca_file = NULL;
  conf.private_key = NULL;
  ck_assert_int_eq(cay__tls_ctx_new(&ctx, &conf, err, sizeof err), CAY_ECONFIG);
  ck_assert_msg(strstr(err, "go together"), "%s", err);
}
END_TEST

/* tls.crl_file: a file that is not there, one without a CRL, and a CRL
 * past its nextUpdate each fail the context, naming the file. */
START_TEST(tls_crl_file_errors)
{
  static const struct {
    const char *file, *why;
  } cases[] = {
    { PEM("missing.crl"), "no PEM CRL could be read" },
    { PEM("ca.pem"), "no PEM CRL could be read" },
    { PEM("stale.crl"), "the CRL of /CN=Cay Test CA is past its nextUpdate" },
  };
  cay__tls_conf_t conf = { .certificate = PEM("server.pem"),
                           .private_key = PEM("server.key"),
                           .ca_file = PEM("ca.pem") };
  cay__tls_ctx_t *ctx = NULL;
  char err[256] = "";

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    conf.crl_file = cases[i].file;
    ck_assert_int_eq(cay__tls_ctx_new(&ctx, &conf, err, sizeof err),
                     CAY_ECONFIG);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strncmp(err, "tls.crl_file ", 13) == 0
                      && strstr(err, cases[i].file)
                      && strstr(err, cases[i].why),
                  "%s", err);
  }
  conf.crl_file = PEM("ca.crl");
  ck_assert_int_eq(cay__tls_ctx_new(&ctx, &conf, err, sizeof err), 0);
  cay__tls_ctx_unref(ctx);
}
END_TEST

/* What the log said (cay__log_set_sink()). */
static char logged[1024];

static void
log_into(int level, const char *line, void *arg)
{
  (void)level;
  (void)arg;
  snprintf(logged, sizeof logged, "%s", line);
}

/* The certificate's end (RFC 5280 section 4.1.2.5), and what the server
 * logs of it at start and at each reload: expired (expired.pem ended on
 * 2020-01-02, which OpenSSL loads without complaint), within 14 days, or
 * an info line. */
START_TEST(tls_certificate_end_logged)
{
  cay__tls_conf_t conf = { .certificate = PEM("expired.pem"),
                           .private_key = PEM("expired.key") };
  cay__tls_ctx_t *ctx = NULL;
  const long long jan2 = 1577923200; /* 2020-01-02 00:00 UTC */
  char err[256] = "";

  ck_assert_msg(cay__tls_ctx_new(&ctx, &conf, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(cay__tls_ctx_not_after(ctx), jan2);
  cay__log_set_level(CAY_LOG_INFO);
  cay__log_set_sink(log_into, NULL);
  cay__server_log_certificate(ctx, "expired.pem", jan2 + 1, 0);
  ck_assert_msg(strstr(logged, "WARN")
                    && strstr(logged, "expired.pem expired "
                                      "on 2020-01-02 00:00 "
                                      "UTC"),
                "%s", logged);
  cay__server_log_certificate(ctx, "expired.pem", jan2 - 3 * 86400 - 5, 1);
  ck_assert_msg(strstr(logged, "WARN") && strstr(logged, "in 3 days"), "%s",
                logged);
  cay__server_log_certificate(ctx, "expired.pem", jan2 - 15 * 86400, 0);
  ck_assert_msg(strstr(logged, "INFO")
                    && strstr(logged, "valid until 2020-01-02 00:00 UTC"),
                "%s", logged);
  /* The daily recheck says nothing of a certificate that is fine. */
  logged[0] = '\0';
  cay__server_log_certificate(ctx, "expired.pem", jan2 - 15 * 86400, 1);
  ck_assert_str_eq(logged, "");
  cay__log_set_sink(NULL, NULL);
  cay__tls_ctx_unref(ctx);
  /* server.pem: 100 years; a context without a certificate: none. */
  ctx = make_ctx(PEM("server.pem"), PEM("server.key"), 1, 0);
  ck_assert_int_gt(cay__tls_ctx_not_after(ctx),
                   time(NULL) + 90LL * 365 * 86400);
  cay__tls_ctx_unref(ctx);
  ctx = make_ctx(NULL, NULL, 1, 0);
  ck_assert_int_eq(cay__tls_ctx_not_after(ctx), 0);
  cay__tls_ctx_unref(ctx);
}
END_TEST

/* What the server logs of the CRLs' nextUpdate (ca.crl: 100 years from
 * when it was made): ran out, within CAY__CRL_WARN_HOURS, or an info
 * line; a context without CRLs logs nothing. */
START_TEST(tls_crl_end_logged)
{
  cay__tls_conf_t conf = { .certificate = PEM("server.pem"),
                           .private_key = PEM("server.key"),
                           .ca_file = PEM("ca.pem"),
                           .crl_file = PEM("ca.crl") };
  cay__tls_ctx_t *ctx = NULL;
  long long next;
  char err[256] = "";

  ck_assert_msg(cay__tls_ctx_new(&ctx, &conf, err, sizeof err) == 0, "%s", err);
  next = cay__tls_ctx_crl_next_update(ctx);
  ck_assert_int_gt(next, time(NULL) + 90LL * 365 * 86400);
  cay__log_set_level(CAY_LOG_INFO);
  cay__log_set_sink(log_into, NULL);
  cay__server_log_crl(ctx, "ca.crl", next + 1, 1);
  ck_assert_msg(strstr(logged, "WARN") && strstr(logged, "ca.crl ran out on")
                    && strstr(logged, "every peer's certificate fails"),
                "%s", logged);
  cay__server_log_crl(ctx, "ca.crl", next - 5 * 3600 - 5, 1);
  ck_assert_msg(strstr(logged, "WARN") && strstr(logged, "in 5 hours"), "%s",
                logged);
  logged[0] = '\0';
  cay__server_log_crl(ctx, "ca.crl", next - 3 * 86400, 1);
  ck_assert_str_eq(logged, "");
  cay__server_log_crl(ctx, "ca.crl", next - 3 * 86400, 0);
  ck_assert_msg(strstr(logged, "INFO") && strstr(logged, "current until"), "%s",
                logged);
  cay__tls_ctx_unref(ctx);
  ctx = make_ctx(PEM("server.pem"), PEM("server.key"), 1, 0);
  ck_assert_int_eq(cay__tls_ctx_crl_next_update(ctx), 0);
  logged[0] = '\0';
  cay__server_log_crl(ctx, "none", time(NULL), 0);
  ck_assert_str_eq(logged, "");
  cay__log_set_sink(NULL, NULL);
  cay__tls_ctx_unref(ctx);
}
END_TEST

/* A server that runs on with an expired certificate says so again each
 * cay__tls_recheck_ms (lowered here from a day), not only at start. */
static unsigned expired_lines;

static void
count_expired(int level, const char *line, void *arg)
{
  (void)level;
  (void)arg;
  if (strstr(line, "tls: certificate") && strstr(line, "expired on"))
    expired_lines++;
}

static void
on_server_closed(cay_server_t *srv, void *arg)
{
  (void)srv;
  *(int *)arg = 1;
}

START_TEST(tls_certificate_rechecked_while_running)
{
  cay_server_t *srv = NULL;
  cay_config_t cfg;
  uint64_t was = cay__tls_recheck_ms;
  int closed = 0;

  cay_config_init(&cfg);
  cfg.n_listen = 1;
  snprintf(cfg.listen[0].proto, sizeof cfg.listen[0].proto, "tls");
  snprintf(cfg.listen[0].host, sizeof cfg.listen[0].host, "127.0.0.1");
  cfg.listen[0].port = 0;
  snprintf(cfg.tls_certificate, sizeof cfg.tls_certificate, "%s",
           PEM("expired.pem"));
  snprintf(cfg.tls_private_key, sizeof cfg.tls_private_key, "%s",
           PEM("expired.key"));
  cay__tls_recheck_ms = 40;
  expired_lines = 0;
  cay__log_set_sink(count_expired, NULL);
  ck_assert_int_eq(cay_server_create(&srv, &loop, &cfg), 0);
  ck_assert_uint_eq(expired_lines, 1); /* at start */
  ck_assert_int_eq(cay_server_start(srv), 0);
  /* Three rechecks (at 40 ms each), well within the wait. */
  RUN_UNTIL(expired_lines >= 4, WAIT_MS);
  ck_assert_uint_ge(expired_lines, 4);
  cay_server_close(srv, 0, on_server_closed, &closed);
  RUN_UNTIL(closed, WAIT_MS);
  ck_assert_int_eq(closed, 1);
  cay__log_set_sink(NULL, NULL);
  cay__tls_recheck_ms = was;
}
END_TEST

/* -- the transport --------------------------------------------------------- */

static cay__tcp_t *
open_tls(cay__tls_ctx_t *ctx, unsigned timeout_ms, struct srv *s,
         cay__addr_t *local)
{
  cay__tcp_opts_t o;

  cay__tcp_opts_init(&o);
  o.tls = ctx;
  if (timeout_ms)
    o.connect_timeout_ms = timeout_ms;
  return open_tcp("127.0.0.1", 0, &o, s, local);
}

START_TEST(tls_26_2_message_each_way)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  struct srv s = { .reply = MSG_B }, c = { 0 };
  cay__addr_t at, cat;
  cay__tcp_t *server = open_tls(sctx, 0, &s, &at);
  cay__tcp_t *client = open_tls(cctx, 0, &c, &cat);
  cay_id_t id = CAY_ID_NONE, id2 = CAY_ID_NONE;

  ck_assert_int_eq(cay__tcp_proto(server), CAY__TLS);
  /* Two messages before the handshake: both wait for it, in order. */
  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, "cay.test", MSG_A, strlen(MSG_A), &id), 0);
  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, "cay.test", MSG_A, strlen(MSG_A), &id2), 0);
  ck_assert_uint_eq(id2, id);
  RUN_UNTIL(s.count >= 2 && c.count >= 2, WAIT_MS);
  ck_assert_int_eq(s.count, 2);
  ck_assert_int_eq(s.status[0], 0);
  ck_assert_str_eq(s.data[0], MSG_A); /* the plaintext */
  ck_assert_str_eq(s.data[1], MSG_A);
  ck_assert_int_eq(s.reply_err, 0);
  /* The replies came back on the client's connection. */
  ck_assert_int_eq(c.count, 2);
  ck_assert_uint_eq(c.conn[0], id);
  ck_assert_str_eq(c.data[0], MSG_B);
  ck_assert_uint_eq(cay__tcp_conns(server), 1);

  close_tcp(client, &c);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
  cay__tls_ctx_unref(cctx);
}
END_TEST

/* A client of @p ctx sends to a server with certificate @p cert, naming
 * @p name: the number of messages the server got, and the client's
 * callbacks in *@p c. */
static int
try_server(cay__tls_ctx_t *ctx, const char *cert, const char *name,
           struct srv *c)
{
  cay__tls_ctx_t *sctx = server_ctx(cert, 0);
  struct srv s = { 0 };
  cay__addr_t at, cat;
  cay__tcp_t *server = open_tls(sctx, 0, &s, &at);
  cay__tcp_t *client = open_tls(ctx, 0, c, &cat);

  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, name, MSG_A, strlen(MSG_A), NULL), 0);
  RUN_UNTIL(s.count >= 1 || c->count >= 1, WAIT_MS);
  /* Whatever the server would still get has arrived by now. */
  RUN_UNTIL(0, 100);
  close_tcp(client, c);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
  return s.count;
}

START_TEST(tls_5922_certificates_that_must_not_pass)
{
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  struct srv c = { 0 };

  /* Signed by a CA Cay does not trust: the connection fails as a
   * refused one does, and the message is not sent. */
  ck_assert_int_eq(try_server(cctx, "rogue", "cay.test", &c), 0);
  ck_assert_int_eq(c.count, 1);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  /* Trusted, but for another name. */
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(try_server(cctx, "wrong_name", "cay.test", &c), 0);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  /* The right certificate for another name than the one Cay resolved. */
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(try_server(cctx, "server", "other.test", &c), 0);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  cay__tls_ctx_unref(cctx);
}
END_TEST

START_TEST(tls_5922_names_that_pass)
{
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  cay__tls_ctx_t *lax = make_ctx(NULL, NULL, 0, 0);
  struct srv c = { 0 };

  /* An IP literal is matched against the certificate's IP addresses. */
  ck_assert_int_eq(try_server(cctx, "server", "127.0.0.1", &c), 1);
  ck_assert_int_eq(c.count, 0);
  ck_assert_int_eq(try_server(cctx, "server", "localhost", &c), 1);
  /* verify_server off: any certificate. */
  ck_assert_int_eq(try_server(lax, "rogue", "cay.test", &c), 1);
  ck_assert_int_eq(c.count, 0);
  cay__tls_ctx_unref(cctx);
  cay__tls_ctx_unref(lax);
}
END_TEST

START_TEST(tls_plaintext_on_the_tls_port_is_closed)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  struct srv s = { 0 };
  struct client cl = { 0 };
  cay__addr_t at;
  cay__tcp_t *server = open_tls(sctx, 0, &s, &at);

  client_connect(&cl, &at);
  client_write_str(&cl, MSG_A);
  RUN_UNTIL(cl.eof, WAIT_MS);
  ck_assert(cl.eof);
  ck_assert_int_eq(s.count, 0);
  /* At most a TLS alert came back, never SIP. */
  ck_assert_ptr_null(strstr(cl.rx, "SIP/2.0"));
  client_close(&cl);
  RUN_UNTIL(cay__tcp_conns(server) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(server), 0);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
}
END_TEST

START_TEST(tls_handshake_that_never_comes)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  struct srv s = { 0 }, c = { 0 };
  struct client cl = { 0 };
  struct peer p;
  cay__addr_t at, cat;
  cay__tcp_t *server = open_tls(sctx, 200, &s, &at);
  cay__tcp_t *client = open_tls(cctx, 200, &c, &cat);
  uint64_t t0 = uv_now(&loop);

  /* Accepted, silent: closed after the connect timeout, not the idle
   * timeout (300 s). */
  client_connect(&cl, &at);
  RUN_UNTIL(cl.eof, WAIT_MS);
  ck_assert(cl.eof);
  ck_assert_uint_lt(uv_now(&loop) - t0, 2000);
  client_close(&cl);
  /* Opened to a server that takes the connection but never answers
   * the ClientHello: fails as a refused connection does. */
  peer_listen(&p);
  ck_assert_int_eq(
      cay__tcp_send_to(client, &p.addr, "cay.test", MSG_A, strlen(MSG_A), NULL),
      0);
  RUN_UNTIL(c.count >= 1, WAIT_MS);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  ck_assert_ptr_null(strstr(p.conn.rx, "OPTIONS")); /* never in clear */
  peer_close(&p);
  close_tcp(client, &c);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
  cay__tls_ctx_unref(cctx);
}
END_TEST

/* Server context @p sctx (it verifies clients): a client of context
 * @p refused never gets a message in, one of @p taken does. The
 * contexts are unreferenced. */
static void
client_refused_then_taken(cay__tls_ctx_t *sctx, cay__tls_ctx_t *refused,
                          cay__tls_ctx_t *taken)
{
  struct srv s = { 0 }, c = { 0 }, c2 = { 0 };
  cay__addr_t at, cat, cat2;
  cay__tcp_t *server = open_tls(sctx, 0, &s, &at);
  cay__tcp_t *bad = open_tls(refused, 0, &c, &cat);
  cay__tcp_t *known = open_tls(taken, 0, &c2, &cat2);

  ck_assert_int_eq(
      cay__tcp_send_to(bad, &at, "cay.test", MSG_A, strlen(MSG_A), NULL), 0);
  RUN_UNTIL(cay__tcp_conns(bad) == 0, WAIT_MS);
  ck_assert_uint_eq(cay__tcp_conns(bad), 0);
  ck_assert_int_eq(s.count, 0);
  ck_assert_int_eq(
      cay__tcp_send_to(known, &at, "cay.test", MSG_A, strlen(MSG_A), NULL), 0);
  RUN_UNTIL(s.count >= 1, WAIT_MS);
  ck_assert_int_eq(s.count, 1);
  ck_assert_str_eq(s.data[0], MSG_A);
  close_tcp(known, &c2);
  close_tcp(bad, &c);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
  cay__tls_ctx_unref(refused);
  cay__tls_ctx_unref(taken);
}

/* verify_client: a client without a certificate is refused, one the CAs
 * verify is taken. */
START_TEST(tls_client_certificate_when_asked)
{
  client_refused_then_taken(
      server_ctx("server", 1), make_ctx(NULL, NULL, 1, 0),
      make_ctx(PEM("client.pem"), PEM("client.key"), 1, 0));
}
END_TEST

/* RFC 5280 revocation, as a server (verify_client): a client showing a
 * revoked certificate never gets a message in, one with a good one
 * does. */
START_TEST(tls_revoked_client_certificate_refused)
{
  client_refused_then_taken(
      make_ctx_crl(PEM("server.pem"), PEM("server.key"), 1, 1, PEM("ca.crl")),
      make_ctx(PEM("revoked.pem"), PEM("revoked.key"), 1, 0),
      make_ctx(PEM("client.pem"), PEM("client.key"), 1, 0));
}
END_TEST

/* tls.crl_check: chain (RFC 5280 section 6.3 for every certificate of
 * the path): chain_revoked.crl has the CA's CRL, which revokes the
 * intermediate CA, and the intermediate's, which revokes nothing. A
 * client whose certificate that intermediate issued is refused; one the
 * CA issued itself is taken. */
START_TEST(tls_crl_chain_refuses_a_revoked_intermediate)
{
  client_refused_then_taken(
      make_ctx_crl_chain(PEM("server.pem"), PEM("server.key"), 1, 1,
                         PEM("chain_revoked.crl"), 1),
      make_ctx(PEM("inter_client.pem"), PEM("inter_client.key"), 1, 0),
      make_ctx(PEM("client.pem"), PEM("client.key"), 1, 0));
}
END_TEST

/* tls.crl_check: leaf (the default) reads only the CRL of the client's
 * own issuer: with the same CRLs, the client under the revoked
 * intermediate is taken (a client without a certificate still is not). */
START_TEST(tls_crl_leaf_checks_the_issuer_only)
{
  client_refused_then_taken(
      make_ctx_crl(PEM("server.pem"), PEM("server.key"), 1, 1,
                   PEM("chain_revoked.crl")),
      make_ctx(NULL, NULL, 1, 0),
      make_ctx(PEM("inter_client.pem"), PEM("inter_client.key"), 1, 0));
}
END_TEST

/* As a client (verify_server): a server showing a revoked certificate
 * fails as a refused connection does; the good one passes. */
START_TEST(tls_revoked_server_certificate_refused)
{
  cay__tls_ctx_t *cctx = make_ctx_crl(NULL, NULL, 1, 0, PEM("ca.crl"));
  struct srv c = { 0 };

  ck_assert_int_eq(try_server(cctx, "revoked", "cay.test", &c), 0);
  ck_assert_int_eq(c.count, 1);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  memset(&c, 0, sizeof c);
  ck_assert_int_eq(try_server(cctx, "server", "cay.test", &c), 1);
  cay__tls_ctx_unref(cctx);
}
END_TEST

START_TEST(tls_set_tls_takes_new_connections_only)
{
  cay__tls_ctx_t *sctx = server_ctx("server", 0);
  cay__tls_ctx_t *other = server_ctx("wrong_name", 0);
  cay__tls_ctx_t *cctx = make_ctx(NULL, NULL, 1, 0);
  struct srv s = { .reply = MSG_B }, c = { 0 }, plain_s = { 0 };
  cay__addr_t at, cat, pat;
  cay__tcp_t *server = open_tls(sctx, 0, &s, &at);
  cay__tcp_t *client = open_tls(cctx, 0, &c, &cat);
  cay__tcp_t *plain = open_tcp("127.0.0.1", 0, NULL, &plain_s, &pat);
  cay_id_t first = CAY_ID_NONE, id = CAY_ID_NONE;

  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, "cay.test", MSG_A, strlen(MSG_A), &first),
      0);
  RUN_UNTIL(c.count >= 1, WAIT_MS);
  ck_assert_int_eq(c.status[0], 0);
  /* A reload's context (a certificate for other.test): the transport
   * holds it, the caller may drop its own reference at once. */
  ck_assert_int_eq(cay__tcp_set_tls(server, other), 0);
  cay__tls_ctx_unref(other);
  ck_assert_int_eq(cay__tcp_set_tls(plain, sctx), CAY_ESTATE);
  ck_assert_int_eq(cay__tcp_set_tls(server, NULL), CAY_ESTATE);
  /* The live connection keeps its session. */
  ck_assert_int_eq(cay__tcp_send(client, first, MSG_A, strlen(MSG_A)), 0);
  RUN_UNTIL(c.count >= 2, WAIT_MS);
  ck_assert_int_eq(c.status[1], 0);
  ck_assert_uint_eq(c.conn[1], first);
  /* A new one gets the new certificate: not cay.test's any more... */
  close_tcp(client, &c);
  memset(&c, 0, sizeof c);
  client = open_tls(cctx, 0, &c, &cat);
  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, "cay.test", MSG_A, strlen(MSG_A), &id), 0);
  RUN_UNTIL(c.count >= 1, WAIT_MS);
  ck_assert_int_eq(c.status[0], CAY_ECONNECT);
  /* ...but other.test's. */
  ck_assert_int_eq(
      cay__tcp_send_to(client, &at, "other.test", MSG_A, strlen(MSG_A), &id),
      0);
  RUN_UNTIL(c.count >= 2, WAIT_MS);
  ck_assert_int_eq(c.status[1], 0);
  ck_assert_str_eq(c.data[1], MSG_B);
  close_tcp(plain, &plain_s);
  close_tcp(client, &c);
  close_tcp(server, &s);
  cay__tls_ctx_unref(sctx);
  cay__tls_ctx_unref(cctx);
}
END_TEST

static Suite *
tls_suite(void)
{
  Suite *s = suite_create("tls");
  TCase *mem = tcase_create("sessions");
  TCase *tc = tcase_create("loopback");

  tcase_add_test(mem, tls_sessions_byte_by_byte);
  tcase_add_test(mem, tls_session_not_tls_fails_the_handshake);
  tcase_add_test(mem, tls_ctx_errors_name_the_file);
  tcase_add_test(mem, tls_crl_file_errors);
  tcase_add_test(mem, tls_crl_end_logged);
  tcase_add_test(mem, tls_certificate_end_logged);
  suite_add_tcase(s, mem);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, tls_26_2_message_each_way);
  tcase_add_test(tc, tls_5922_certificates_that_must_not_pass);
  tcase_add_test(tc, tls_5922_names_that_pass);
  tcase_add_test(tc, tls_plaintext_on_the_tls_port_is_closed);
  tcase_add_test(tc, tls_handshake_that_never_comes);
  tcase_add_test(tc, tls_client_certificate_when_asked);
  tcase_add_test(tc, tls_revoked_client_certificate_refused);
  tcase_add_test(tc, tls_certificate_rechecked_while_running);
  tcase_add_test(tc, tls_revoked_server_certificate_refused);
  tcase_add_test(tc, tls_crl_chain_refuses_a_revoked_intermediate);
  tcase_add_test(tc, tls_crl_leaf_checks_the_issuer_only);
  tcase_add_test(tc, tls_set_tls_takes_new_connections_only);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(tls_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
