/*
 * RFC 4475 (SIP torture tests) and RFC 5118 (IPv6 torture tests): every
 * message goes through cay__msg_parse() and cay__msg_check_request() or
 * cay__msg_check_response(), under ASan and UBSan in `make test`, and the
 * outcome must be the verdict in the tables below.
 *
 * Verdicts:
 *   ACCEPT       request parses (0) and passes cay__msg_check_request().
 *   REJECT n     request is answerable and cay__msg_check_request() gives
 *                status n, which the caller sends.
 *   RESPONSE_OK  response parses (0) and passes cay__msg_check_response().
 *   DROP         Cay sends nothing: nothing usable parsed, or a request
 *                without a Via to send a response back by (RFC 3261
 *                section 18.2.2), or a response that fails
 *                cay__msg_check_response().
 *
 * Where RFC 4475 leaves a choice, or asks for a response that cannot be
 * built, the comment on the row says which choice Cay makes and why.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "sip/msg.h"

enum verdict { ACCEPT, REJECT, RESPONSE_OK, DROP };

struct torture {
  const char *file;
  enum verdict verdict;
  int status; /* REJECT only */
};

static const struct torture rfc4475[] = {
  /* 3.1.1 Valid messages. */
  { "wsinv.dat", ACCEPT, 0 }, /* 3.1.1.1 */
  /* 3.1.1.2: sofia-sip rejects "+" and "`" in methods and a NUL in a
   * header; msg.c restores the request line and CSeq from the raw bytes
   * and rewrites the escaped NUL of the To display name. */
  { "intmeth.dat", ACCEPT, 0 },
  { "esc01.dat", ACCEPT, 0 },         /* 3.1.1.3 */
  { "escnull.dat", ACCEPT, 0 },       /* 3.1.1.4 */
  { "esc02.dat", ACCEPT, 0 },         /* 3.1.1.5 */
  { "lwsdisp.dat", ACCEPT, 0 },       /* 3.1.1.6 */
  { "longreq.dat", ACCEPT, 0 },       /* 3.1.1.7 */
  { "dblreq.dat", ACCEPT, 0 },        /* 3.1.1.8: the REGISTER; rest ignored */
  { "semiuri.dat", ACCEPT, 0 },       /* 3.1.1.9 */
  { "transports.dat", ACCEPT, 0 },    /* 3.1.1.10 */
  { "mpart01.dat", ACCEPT, 0 },       /* 3.1.1.11: body stays opaque */
  { "unreason.dat", RESPONSE_OK, 0 }, /* 3.1.1.12 */
  { "noreason.dat", RESPONSE_OK, 0 }, /* 3.1.1.13 */

  /* 3.1.2 Invalid messages. */
  /* 3.1.2.1 asks for 400, but the only Via does not parse, so there is
   * no address to send a response to (RFC 3261 section 18.2.2). */
  { "badinv01.dat", DROP, 0 },
  { "clerr.dat", REJECT, 400 }, /* 3.1.2.2 */
  { "ncl.dat", REJECT, 400 },   /* 3.1.2.3 */
  /* 3.1.2.4: 400 because of the CSeq (above 2**32-1); the response goes
   * back by the Via and carries what did parse. */
  { "scalar02.dat", REJECT, 400 },
  { "scalarlg.dat", DROP, 0 }, /* 3.1.2.5: a response; discarded */
  /* 3.1.2.6: 400; the To that does not parse is left out of it. */
  { "quotbal.dat", REJECT, 400 },
  { "ltgtruri.dat", REJECT, 400 }, /* 3.1.2.7 */
  { "lwsruri.dat", REJECT, 400 },  /* 3.1.2.8 */
  { "lwsstart.dat", REJECT, 400 }, /* 3.1.2.9 */
  /* 3.1.2.10 lets an element ignore the trailing SP; Cay is strict. */
  { "trws.dat", REJECT, 400 },
  /* 3.1.2.11 lets an element ignore the escaped headers; Cay rejects
   * (RFC 3261 section 19.1.1 table 1 forbids them). */
  { "escruri.dat", REJECT, 400 },
  /* 3.1.2.12 lets an element that does not use Date ignore it; Cay
   * rejects every header that does not parse. */
  { "baddate.dat", REJECT, 400 },
  { "regbadct.dat", REJECT, 400 }, /* 3.1.2.13 */
  /* 3.1.2.14 lets an element ignore the spaces; sofia-sip does. */
  { "badaspec.dat", ACCEPT, 0 },
  /* 3.1.2.15 allows 400 or inferring the quotes; Cay answers 400 (From and
   * To do not parse and are left out of it). */
  { "baddn.dat", REJECT, 400 },
  { "badvers.dat", REJECT, 505 },    /* 3.1.2.16 */
  { "mismatch01.dat", REJECT, 400 }, /* 3.1.2.17 */
  /* 3.1.2.18 prefers 501 and accepts 400; the CSeq check runs before
   * any method dispatch, so Cay answers 400. */
  { "mismatch02.dat", REJECT, 400 },
  { "bigcode.dat", DROP, 0 }, /* 3.1.2.19: a response; dropped */

  /* 3.2 Transaction layer semantics. */
  { "badbranch.dat", ACCEPT, 0 }, /* 3.2.1: the transaction layer's call */

  /* 3.3 Application layer semantics. */
  /* 3.3.1: 400, though From, To and Call-ID are all missing: the Via is
   * enough to send it back. */
  { "insuf.dat", REJECT, 400 },
  { "unkscm.dat", REJECT, 416 },   /* 3.3.2 */
  { "novelsc.dat", REJECT, 416 },  /* 3.3.3 */
  { "unksm2.dat", ACCEPT, 0 },     /* 3.3.4: a registrar rejects it later */
  { "bext01.dat", ACCEPT, 0 },     /* 3.3.5: 420 comes from the UAS */
  { "invut.dat", ACCEPT, 0 },      /* 3.3.6: 415 comes from the UAS */
  { "regaut01.dat", ACCEPT, 0 },   /* 3.3.7: 401 comes from the registrar */
  { "multi01.dat", REJECT, 400 },  /* 3.3.8 */
  { "mcl01.dat", REJECT, 400 },    /* 3.3.9 */
  { "bcast.dat", RESPONSE_OK, 0 }, /* 3.3.10: where it goes is not parsing */
  { "zeromf.dat", ACCEPT, 0 },     /* 3.3.11: OPTIONS with Max-Forwards 0 */
  { "cparam01.dat", ACCEPT, 0 },   /* 3.3.12 */
  { "cparam02.dat", ACCEPT, 0 },   /* 3.3.13 */
  { "regescrt.dat", ACCEPT, 0 },   /* 3.3.14 */
  { "sdp01.dat", ACCEPT, 0 },      /* 3.3.15: 406 comes from the UAS */

  /* 3.4 Backward compatibility. */
  { "inv2543.dat", ACCEPT, 0 }, /* 3.4.1 */

  /* In the archive but in no section: no SIP-Version in the request line
   * and neither Via nor CSeq. */
  { "test.dat", DROP, 0 },
};

static const struct torture rfc5118[] = {
  { "ipv6-good.dat", ACCEPT, 0 },        /* 4.1 */
  { "port-ambiguous.dat", ACCEPT, 0 },   /* 4.2: no port in the brackets */
  { "port-unambiguous.dat", ACCEPT, 0 }, /* 4.3 */
  { "ipv6-bad.dat", REJECT, 400 },       /* 4.4: IPv6 host without [] */
  { "ipv6-correct-abnf-2-colons.dat", ACCEPT, 0 }, /* 4.5 */
  /* 4.5 asks parsers to accept the form the RFC 3261 ABNF bug allowed
   * (RFC 5954 later fixed the ABNF). */
  { "ipv6-bug-abnf-3-colons.dat", ACCEPT, 0 },
  { "via-received-param-with-delim.dat", ACCEPT, 0 }, /* 4.6 */
  { "via-received-param-no-delim.dat", ACCEPT, 0 },   /* 4.6 */
  { "ipv4-mapped-ipv6.dat", ACCEPT, 0 },              /* 4.7 */
  { "mult-ip-in-header.dat", ACCEPT, 0 },             /* 4.8 */
  { "mult-ip-in-sdp.dat", ACCEPT, 0 },                /* 4.9 */
  { "ipv6-in-sdp.dat", ACCEPT, 0 },                   /* 4.10 */
};

#define N_4475 (sizeof rfc4475 / sizeof rfc4475[0])
#define N_5118 (sizeof rfc5118 / sizeof rfc5118[0])

static char *
load(const char *dir, const char *file, size_t *len)
{
  char path[512];
  FILE *f;
  char *b;
  long n;

  snprintf(path, sizeof path, "%s/%s/%s", CAY_TEST_DATA, dir, file);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = malloc((size_t)n ? (size_t)n : 1);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(fread(b, 1, (size_t)n, f), n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* Answer the request (status from validation, or 200) and serialize: the
 * builders must survive whatever the parser let through. */
static void
answer(msg_t *req, int status)
{
  msg_t *rsp = cay__msg_response(req, status ? status : 200, NULL, "tt1");
  const char *data;
  size_t len;
  msg_t *back = NULL;

  ck_assert_ptr_nonnull(rsp);
  ck_assert_int_eq(cay__msg_serialize(rsp, &data, &len), 0);
  /* A response to a request that lacked some of From, To, Call-ID and
   * CSeq lacks them too: it only has to carry its status line and Via. */
  cay__msg_parse(data, len, &back);
  ck_assert_ptr_nonnull(back);
  ck_assert_ptr_nonnull(sip_object(back)->sip_via);
  if (sip_object(req)->sip_from && sip_object(req)->sip_to
      && sip_object(req)->sip_call_id && sip_object(req)->sip_cseq)
    ck_assert_int_eq(cay__msg_check_response(back), 0);
  ck_assert_int_eq(sip_object(back)->sip_status->st_status,
                   status ? status : 200);
  msg_destroy(back);
  msg_destroy(rsp);
}

static void
run(const char *dir, const struct torture *t)
{
  long live = cay__alloc_live();
  const char *phrase = NULL;
  size_t len;
  char *b = load(dir, t->file, &len);
  msg_t *msg = NULL;
  int err = cay__msg_parse(b, len, &msg), status = -1, answerable = 0;
  sip_t *sip;

  free(b);
  ck_assert_msg(err == 0 || err == CAY_EPARSE, "%s: parse gave %d", t->file,
                err);
  sip = msg ? sip_object(msg) : NULL;
  /* The body is never handed to sofia-sip's multipart parser. */
  if (sip)
    ck_assert_ptr_null(sip->sip_multipart);
  if (sip && sip->sip_request) {
    status = cay__msg_check_request(msg, &phrase);
    answerable = cay__msg_answerable(sip);
    /* A rejected request always says why, and a request that did not
     * parse cleanly is always rejected. */
    ck_assert_msg(status == 0 || phrase != NULL, "%s: no phrase", t->file);
    ck_assert_msg(err == 0 || status != 0, "%s: EPARSE but valid", t->file);
  } else if (sip) {
    status = cay__msg_check_response(msg);
  }

  switch (t->verdict) {
  case ACCEPT:
    ck_assert_msg(err == 0 && sip && sip->sip_request && answerable
                      && status == 0,
                  "%s: expected ACCEPT, got parse %d status %d (%s)", t->file,
                  err, status, phrase ? phrase : "-");
    answer(msg, 0);
    break;
  case REJECT:
    ck_assert_msg(sip && sip->sip_request && answerable,
                  "%s: expected an answerable request, parse gave %d", t->file,
                  err);
    ck_assert_msg(status == t->status, "%s: expected %d, got %d (%s)", t->file,
                  t->status, status, phrase ? phrase : "-");
    answer(msg, status);
    break;
  case RESPONSE_OK:
    ck_assert_msg(err == 0 && sip && sip->sip_status && status == 0,
                  "%s: expected RESPONSE_OK, got parse %d check %d", t->file,
                  err, status);
    break;
  case DROP:
    ck_assert_msg(!msg || (sip->sip_request && !answerable)
                      || (sip->sip_status && status != 0),
                  "%s: expected DROP, got parse %d status %d", t->file, err,
                  status);
    break;
  }
  if (msg)
    msg_destroy(msg);
  ck_assert_int_eq(cay__alloc_live(), live);
}

START_TEST(rfc4475_verdict)
{
  run("rfc4475", &rfc4475[_i]);
}
END_TEST

START_TEST(rfc5118_verdict)
{
  run("rfc5118", &rfc5118[_i]);
}
END_TEST

/* Every file in @p dir has exactly one row, so that no message escapes. */
static void
assert_table_covers(const char *dir, const struct torture *t, size_t n)
{
  char path[512];
  struct dirent *de;
  size_t files = 0, i;
  DIR *d;

  snprintf(path, sizeof path, "%s/%s", CAY_TEST_DATA, dir);
  d = opendir(path);
  ck_assert_ptr_nonnull(d);
  while ((de = readdir(d))) {
    size_t l = strlen(de->d_name);
    if (l < 5 || strcmp(de->d_name + l - 4, ".dat") != 0)
      continue;
    for (i = 0; i < n && strcmp(t[i].file, de->d_name) != 0; i++)
      ;
    ck_assert_msg(i < n, "%s/%s has no verdict", dir, de->d_name);
    files++;
  }
  closedir(d);
  ck_assert_uint_eq(files, n);
}

START_TEST(rfc4475_every_file_has_a_verdict)
{
  assert_table_covers("rfc4475", rfc4475, N_4475);
}
END_TEST

START_TEST(rfc5118_every_file_has_a_verdict)
{
  assert_table_covers("rfc5118", rfc5118, N_5118);
}
END_TEST

START_TEST(rfc4475_3_1_1_2_intmeth_method_kept_verbatim)
{
  /* The unusual method survives into the response's CSeq. */
  static const char method[] = "!interesting-Method0123456789_*+`.%indeed'~";
  size_t len;
  char *b = load("rfc4475", "intmeth.dat", &len);
  msg_t *msg = NULL, *rsp;
  sip_t *sip;

  ck_assert_int_eq(cay__msg_parse(b, len, &msg), 0);
  free(b);
  sip = sip_object(msg);
  ck_assert_int_eq(sip->sip_request->rq_method, sip_method_unknown);
  ck_assert_str_eq(sip->sip_request->rq_method_name, method);
  ck_assert_str_eq(sip->sip_cseq->cs_method_name, method);
  ck_assert_uint_eq(sip->sip_cseq->cs_seq, 139122385);
  ck_assert_str_eq(sip->sip_request->rq_url->url_host, "example.com");
  rsp = cay__msg_response(msg, 501, NULL, "x");
  ck_assert_str_eq(sip_object(rsp)->sip_cseq->cs_method_name, method);
  msg_destroy(rsp);
  msg_destroy(msg);
}
END_TEST

START_TEST(rfc4475_3_3_1_insuf_gets_400_by_its_via)
{
  size_t len;
  char *b = load("rfc4475", "insuf.dat", &len);
  msg_t *msg = NULL;
  const char *phrase;

  ck_assert_int_eq(cay__msg_parse(b, len, &msg), 0);
  free(b);
  ck_assert_int_eq(cay__msg_check_request(msg, &phrase), 400);
  ck_assert_str_eq(phrase, "Bad Request - Missing From");
  ck_assert(cay__msg_answerable(sip_object(msg)));
  /* The 400 copies the Via and CSeq it has, and nothing it lacks. */
  msg_t *rsp = cay__msg_response(msg, 400, phrase, NULL);
  ck_assert_ptr_nonnull(rsp);
  ck_assert_ptr_nonnull(sip_object(rsp)->sip_via);
  ck_assert_ptr_nonnull(sip_object(rsp)->sip_cseq);
  ck_assert_ptr_null(sip_object(rsp)->sip_from);
  msg_destroy(rsp);
  msg_destroy(msg);
}
END_TEST

START_TEST(rfc5118_4_6_received_with_brackets_is_a_destination)
{
  size_t len;
  char *b = load("rfc5118", "via-received-param-with-delim.dat", &len);
  msg_t *msg = NULL;
  cay__addr_t dst;
  char buf[64];

  ck_assert_int_eq(cay__msg_parse(b, len, &msg), 0);
  free(b);
  ck_assert_int_eq(cay__via_response_dest(sip_object(msg)->sip_via, &dst), 0);
  ck_assert_int_eq(cay__addr_format(&dst, buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "[2001:db8::9:255]:5060");
  msg_destroy(msg);
}
END_TEST

static Suite *
torture_suite(void)
{
  Suite *s = suite_create("sip_torture");
  TCase *tc = tcase_create("rfc4475");

  tcase_add_loop_test(tc, rfc4475_verdict, 0, N_4475);
  tcase_add_test(tc, rfc4475_every_file_has_a_verdict);
  tcase_add_test(tc, rfc4475_3_1_1_2_intmeth_method_kept_verbatim);
  tcase_add_test(tc, rfc4475_3_3_1_insuf_gets_400_by_its_via);
  suite_add_tcase(s, tc);

  tc = tcase_create("rfc5118");
  tcase_add_loop_test(tc, rfc5118_verdict, 0, N_5118);
  tcase_add_test(tc, rfc5118_every_file_has_a_verdict);
  tcase_add_test(tc, rfc5118_4_6_received_with_brackets_is_a_destination);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(torture_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
