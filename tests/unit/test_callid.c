/*
 * Tests of the cheap Call-ID scan (src/transport/callid.c): header name
 * forms of RFC 3261 sections 7.3 and 20.8, line folding, bounds, and the
 * RFC 4475 torture messages.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "transport/callid.h"

#define TORTURE_DIR CAY_TEST_DATA "/rfc4475"

/* Scan a NUL-terminated message; the value is copied into @p out. */
static int
scan(const char *msg, char *out, size_t outlen)
{
  const char *cid = NULL;
  size_t n = 0;
  int err;

  err = cay__callid_scan(msg, strlen(msg), &cid, &n);
  out[0] = '\0';
  if (err == 0) {
    ck_assert_ptr_nonnull(cid);
    ck_assert_uint_ge(n, 1);
    ck_assert(cid >= msg && cid + n <= msg + strlen(msg));
    ck_assert_uint_lt(n, outlen);
    memcpy(out, cid, n);
    out[n] = '\0';
  }
  return err;
}

/* Read a whole file into an exactly-sized heap buffer. */
static char *
read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long sz;

  ck_assert_msg(f != NULL, "cannot open %s", path);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  sz = ftell(f);
  ck_assert_int_ge(sz, 0);
  rewind(f);
  buf = malloc(sz > 0 ? (size_t)sz : 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  *len = (size_t)sz;
  return buf;
}

/* Scan a torture file and compare the value found with @p want. */
static void
check_torture(const char *name, const char *want)
{
  char path[512];
  char got[256];
  const char *cid = NULL;
  size_t len, n = 0;
  char *buf;
  int err;

  snprintf(path, sizeof path, "%s/%s", TORTURE_DIR, name);
  buf = read_file(path, &len);
  err = cay__callid_scan(buf, len, &cid, &n);
  ck_assert_int_eq(err, 0);
  ck_assert_uint_lt(n, sizeof got);
  memcpy(got, cid, n);
  got[n] = '\0';
  ck_assert_str_eq(got, want);
  free(buf);
}

START_TEST(callid_20_8_full_form)
{
  char v[128];

  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\r\n"
                        "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                        "Call-ID: abc123@host\r\n"
                        "CSeq: 1 INVITE\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "abc123@host");
}
END_TEST

START_TEST(callid_7_3_3_compact_form)
{
  char v[128];

  /* RFC 3261 section 7.3.3 and 20.8: "i" is the compact form. */
  ck_assert_int_eq(scan("OPTIONS sip:a@b SIP/2.0\r\n"
                        "v: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                        "i:compact-1\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "compact-1");
}
END_TEST

START_TEST(callid_7_3_3_compact_form_upper_case)
{
  char v[128];

  ck_assert_int_eq(
      scan("OPTIONS sip:a@b SIP/2.0\r\nI: UPPER\r\n\r\n", v, sizeof v), 0);
  ck_assert_str_eq(v, "UPPER");
}
END_TEST

START_TEST(callid_7_3_1_mixed_case_name)
{
  char v[128];

  /* RFC 3261 section 7.3.1: field names are case-insensitive. */
  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\n"
                        "cALL-iD: Mixed.Case@x\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "Mixed.Case@x");
}
END_TEST

START_TEST(callid_7_3_1_whitespace_before_colon)
{
  char v[128];

  /* RFC 3261 section 7.3.1: HCOLON allows SP and HTAB before ':'. */
  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\n"
                        "Call-ID \t \t: \t spaced\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "spaced");
}
END_TEST

START_TEST(callid_7_3_3_compact_whitespace_before_colon)
{
  char v[128];

  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\ni\t :x9\r\n\r\n", v, sizeof v),
                   0);
  ck_assert_str_eq(v, "x9");
}
END_TEST

START_TEST(callid_7_3_1_folded_value_crlf_sp)
{
  char v[128];

  /* RFC 3261 section 7.3.1: a value may start on a continuation line. */
  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\n"
                        "Call-ID:\r\n"
                        " folded@host\r\n"
                        "CSeq: 2 BYE\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "folded@host");
}
END_TEST

START_TEST(callid_7_3_1_folded_value_twice_htab)
{
  char v[128];

  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\n"
                        "Call-ID:  \r\n"
                        "\t\r\n"
                        "\t  twice\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "twice");
}
END_TEST

START_TEST(callid_lf_only_line_ends)
{
  char v[128];

  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\n"
                        "Via: SIP/2.0/UDP h\n"
                        "Call-ID: lf-only\n"
                        "\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "lf-only");
}
END_TEST

START_TEST(callid_lf_only_folded_value)
{
  char v[128];

  ck_assert_int_eq(
      scan("INVITE sip:a@b SIP/2.0\nCall-ID:\n lf-fold\n\n", v, sizeof v), 0);
  ck_assert_str_eq(v, "lf-fold");
}
END_TEST

START_TEST(callid_trailing_whitespace_trimmed)
{
  char v[128];

  ck_assert_int_eq(
      scan("BYE sip:a@b SIP/2.0\r\nCall-ID: trail \t \r\n\r\n", v, sizeof v),
      0);
  ck_assert_str_eq(v, "trail");
}
END_TEST

START_TEST(callid_after_long_header_list)
{
  char *msg;
  char v[128];
  size_t off = 0, cap = 64 * 1024;
  int k;

  msg = malloc(cap);
  ck_assert_ptr_nonnull(msg);
  off += (size_t)snprintf(msg + off, cap - off, "INVITE sip:a@b SIP/2.0\r\n");
  for (k = 0; k < 200; k++)
    off += (size_t)snprintf(msg + off, cap - off,
                            "X-Filler-%03d: value %d; i: no; Call-ID: no\r\n",
                            k, k);
  off += (size_t)snprintf(msg + off, cap - off,
                          "Call-ID: late@host\r\nContent-Length: 0\r\n\r\n");
  ck_assert_uint_lt(off, cap);
  ck_assert_int_eq(scan(msg, v, sizeof v), 0);
  ck_assert_str_eq(v, "late@host");
  free(msg);
}
END_TEST

START_TEST(callid_7_5_only_in_body_not_found)
{
  char v[128];

  /* RFC 3261 section 7.5: the empty line ends the headers; a "Call-ID:"
   * line in the body is body text. */
  ck_assert_int_eq(scan("MESSAGE sip:a@b SIP/2.0\r\n"
                        "Content-Type: text/plain\r\n"
                        "Content-Length: 20\r\n"
                        "\r\n"
                        "Call-ID: in-the-body\r\n",
                        v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_lf_only_body_not_found)
{
  char v[128];

  ck_assert_int_eq(scan("MESSAGE sip:a@b SIP/2.0\nCSeq: 1 MESSAGE\n\ni: body\n",
                        v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_in_reply_to_not_matched)
{
  char v[128];

  /* "In-Reply-To" starts with "i" but is not the compact Call-ID. */
  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\r\n"
                        "In-Reply-To: wrong@host\r\n"
                        "\r\n",
                        v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_i_dash_x_not_matched)
{
  char v[128];

  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\r\n"
                        "i-x: wrong\r\n"
                        "I-am-not-callid: wrong\r\n"
                        "Call-IDX: wrong\r\n"
                        "\r\n",
                        v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_in_reply_to_before_real_one)
{
  char v[128];

  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\r\n"
                        "In-Reply-To: wrong@host\r\n"
                        "i-x: wrong\r\n"
                        "i: right@host\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "right@host");
}
END_TEST

START_TEST(callid_7_3_1_continuation_line_not_a_header)
{
  char v[128];

  /* RFC 3261 section 7.3.1: a line starting with whitespace continues the
   * previous value, even when its text looks like a Call-ID header. */
  ck_assert_int_eq(scan("INVITE sip:a@b SIP/2.0\r\n"
                        "Subject: hello\r\n"
                        " Call-ID: wrong\r\n"
                        "\ti: wrong\r\n"
                        "Call-ID: right\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "right");
}
END_TEST

START_TEST(callid_start_line_ignored)
{
  char v[128];

  ck_assert_int_eq(scan("Call-ID: sip:start@line SIP/2.0\r\n"
                        "CSeq: 1 Call-ID\r\n"
                        "\r\n",
                        v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_7_5_leading_crlf_skipped)
{
  char v[128];

  /* RFC 3261 section 7.5: CRLFs before the start line are ignored, so the
   * start line after them is still skipped. */
  ck_assert_int_eq(scan("\r\n\r\nCall-ID: start-line\r\n"
                        "Call-ID: header\r\n"
                        "\r\n",
                        v, sizeof v),
                   0);
  ck_assert_str_eq(v, "header");
}
END_TEST

START_TEST(callid_empty_value_is_eparse)
{
  char v[128];

  ck_assert_int_eq(
      scan("BYE sip:a@b SIP/2.0\r\nCall-ID:\r\nCSeq: 1 BYE\r\n\r\n", v,
           sizeof v),
      CAY_EPARSE);
}
END_TEST

START_TEST(callid_whitespace_value_is_eparse)
{
  char v[128];

  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\ni:  \t \r\n\r\n", v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_no_header_is_eparse)
{
  char v[128];

  ck_assert_int_eq(scan("", v, sizeof v), CAY_EPARSE);
  ck_assert_int_eq(scan("\r\n\r\n", v, sizeof v), CAY_EPARSE);
  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0", v, sizeof v), CAY_EPARSE);
  ck_assert_int_eq(scan("BYE sip:a@b SIP/2.0\r\nCSeq: 1 BYE\r\n", v, sizeof v),
                   CAY_EPARSE);
}
END_TEST

START_TEST(callid_not_nul_terminated)
{
  static const char msg[] = "BYE sip:a@b SIP/2.0\r\nCall-ID: abcdef\r\n\r\n";
  const char *cid = NULL;
  size_t n = 0;
  size_t len = strlen("BYE sip:a@b SIP/2.0\r\nCall-ID: abc");

  /* A length that cuts the value short yields the bytes within it. */
  ck_assert_int_eq(cay__callid_scan(msg, len, &cid, &n), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_int_eq(memcmp(cid, "abc", 3), 0);
}
END_TEST

static const char *const prefix_msgs[] = {
  "INVITE sip:a@b SIP/2.0\r\n"
  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
  "In-Reply-To: x\r\n"
  "Subject: s\r\n"
  " i: cont\r\n"
  "Call-ID  :\r\n"
  " \t folded@host  \r\n"
  "\r\n"
  "body Call-ID: b\r\n",
  "\r\nBYE sip:a@b SIP/2.0\ni\t:\n\n",
  "BYE sip:a@b SIP/2.0\r\ni :\r\n\r\n",
  "X\rCall-ID:\r",
};

START_TEST(callid_every_prefix_in_bounds)
{
  const char *full = prefix_msgs[_i];
  size_t len = strlen(full), k;

  /* Each prefix sits in a heap buffer of exactly its size, so that ASan
   * reports any read past the end. */
  for (k = 0; k <= len; k++) {
    char *buf = malloc(k > 0 ? k : 1);
    const char *cid = NULL;
    size_t n = 0;
    int err;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, full, k);
    err = cay__callid_scan(buf, k, &cid, &n);
    if (err == 0) {
      ck_assert_uint_ge(n, 1);
      ck_assert(cid >= buf && cid + n <= buf + k);
    } else {
      ck_assert_int_eq(err, CAY_EPARSE);
    }
    free(buf);
  }
}
END_TEST

START_TEST(callid_full_message_after_prefixes)
{
  char v[128];

  ck_assert_int_eq(scan(prefix_msgs[0], v, sizeof v), 0);
  ck_assert_str_eq(v, "folded@host");
}
END_TEST

START_TEST(callid_rfc4475_all_files_scanned)
{
  DIR *d = opendir(TORTURE_DIR);
  struct dirent *e;
  int files = 0, found = 0;

  ck_assert_msg(d != NULL, "cannot open %s", TORTURE_DIR);
  while ((e = readdir(d)) != NULL) {
    size_t nl = strlen(e->d_name), len, k;
    char path[512];
    char *buf;

    if (nl < 4 || strcmp(e->d_name + nl - 4, ".dat") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", TORTURE_DIR, e->d_name);
    buf = read_file(path, &len);
    /* The whole file, then every prefix, each in an exactly-sized heap
     * buffer so that ASan reports any read past the end. */
    for (k = len + 1; k-- > 0;) {
      char *p = malloc(k > 0 ? k : 1);
      const char *cid = NULL;
      size_t n = 0;
      int err;

      ck_assert_ptr_nonnull(p);
      memcpy(p, buf, k);
      err = cay__callid_scan(p, k, &cid, &n);
      if (err == 0) {
        ck_assert(cid >= p && cid + n <= p + k && n >= 1);
        if (k == len)
          found++;
      } else {
        ck_assert_int_eq(err, CAY_EPARSE);
      }
      free(p);
    }
    free(buf);
    files++;
  }
  closedir(d);
  ck_assert_int_ge(files, 49);
  /* Every RFC 4475 message carries a Call-ID except insuf.dat (section
   * 3.3.1, missing required headers). */
  ck_assert_int_eq(found, files - 1);
}
END_TEST

START_TEST(callid_rfc4475_3_1_1_1_wsinv)
{
  /* RFC 4475 section 3.1.1.1: a short tortuous INVITE. */
  check_torture("wsinv.dat", "wsinv.ndaksdj@192.0.2.1");
}
END_TEST

START_TEST(callid_rfc4475_3_1_1_2_intmeth)
{
  /* RFC 4475 section 3.1.1.2: a wide range of valid characters. */
  check_torture("intmeth.dat", "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
}
END_TEST

START_TEST(callid_rfc4475_3_1_1_3_esc01_compact)
{
  /* RFC 4475 section 3.1.1.3: "i:" compact form. */
  check_torture("esc01.dat", "esc01.239409asdfakjkn23onasd0-3234");
}
END_TEST

START_TEST(callid_rfc4475_3_1_1_8_dblreq_first_message)
{
  /* RFC 4475 section 3.1.1.8: two requests in one datagram; the scan stops
   * at the first message's header end ("I:" upper-case compact form). */
  check_torture("dblreq.dat", "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
}
END_TEST

START_TEST(callid_rfc4475_3_1_1_6_lwsdisp)
{
  check_torture("lwsdisp.dat", "lwsdisp.1234abcd@funky.example.com");
}
END_TEST

START_TEST(callid_rfc4475_3_3_1_insuf_has_none)
{
  /* RFC 4475 section 3.3.1: a request missing Call-ID, From and To. */
  char path[512];
  const char *cid = NULL;
  size_t len, n = 0;
  char *buf;

  snprintf(path, sizeof path, "%s/insuf.dat", TORTURE_DIR);
  buf = read_file(path, &len);
  ck_assert_int_eq(cay__callid_scan(buf, len, &cid, &n), CAY_EPARSE);
  free(buf);
}
END_TEST

/* -- the Call-ID a Replaces header names (RFC 3891 section 6.1) ---------- */

/* cay__replaces_scan() of a NUL-terminated message, the Call-ID copied
 * into @p out. */
static int
scan_replaces(const char *msg, char *out, size_t outlen)
{
  const char *cid = NULL;
  size_t n = 0;
  int err = cay__replaces_scan(msg, strlen(msg), &cid, &n);

  out[0] = '\0';
  if (err == 0) {
    ck_assert(cid >= msg && cid + n <= msg + strlen(msg));
    ck_assert_uint_ge(n, 1);
    ck_assert_uint_lt(n, outlen);
    memcpy(out, cid, n);
    out[n] = '\0';
  }
  return err;
}

START_TEST(replaces_call_id_ends_at_the_first_param)
{
  char v[128];

  ck_assert_int_eq(
      scan_replaces("INVITE sip:a@b SIP/2.0\r\nCall-ID: new@h\r\n"
                    "Replaces: 425928@bobster.example.org;to-tag=7743;"
                    "from-tag=6472\r\nContent-Length: 0\r\n\r\n",
                    v, sizeof v),
      0);
  ck_assert_str_eq(v, "425928@bobster.example.org");
  ck_assert_int_eq(scan_replaces("INVITE sip:a@b SIP/2.0\r\n"
                                 "Replaces: abc ; to-tag=1\r\n\r\n",
                                 v, sizeof v),
                   0);
  ck_assert_str_eq(v, "abc");
  ck_assert_int_eq(scan_replaces("INVITE sip:a@b SIP/2.0\r\n"
                                 "Replaces: only-a-call-id\r\n\r\n",
                                 v, sizeof v),
                   0);
  ck_assert_str_eq(v, "only-a-call-id");
}
END_TEST

/* RFC 3261 section 7.3.1: any case, blanks before the colon, a folded
 * value; "Replaces-X" is another header. */
START_TEST(replaces_7_3_1_name_forms)
{
  char v[128];

  ck_assert_int_eq(scan_replaces("INVITE sip:a@b SIP/2.0\n"
                                 "Replaces-X: no\n"
                                 "rePLACES \t:\n \t x@y;early-only\n\n",
                                 v, sizeof v),
                   0);
  ck_assert_str_eq(v, "x@y");
}
END_TEST

/* Only an INVITE (method case-sensitive, section 7.1) with a Replaces
 * header in its header section that names a Call-ID. */
START_TEST(replaces_none_is_eparse)
{
  char v[128];

  ck_assert_int_eq(
      scan_replaces("BYE sip:a@b SIP/2.0\r\nReplaces: x;to-tag=1\r\n\r\n", v,
                    sizeof v),
      CAY_EPARSE);
  ck_assert_int_eq(
      scan_replaces("invite sip:a@b SIP/2.0\r\nReplaces: x\r\n\r\n", v,
                    sizeof v),
      CAY_EPARSE);
  ck_assert_int_eq(
      scan_replaces("SIP/2.0 200 OK\r\nReplaces: x\r\n\r\n", v, sizeof v),
      CAY_EPARSE);
  ck_assert_int_eq(scan_replaces("INVITE sip:a@b SIP/2.0\r\nCall-ID: c\r\n\r\n"
                                 "Replaces: x\r\n",
                                 v, sizeof v),
                   CAY_EPARSE);
  ck_assert_int_eq(scan_replaces("INVITE sip:a@b SIP/2.0\r\n"
                                 "Replaces: ;to-tag=1\r\n\r\n",
                                 v, sizeof v),
                   CAY_EPARSE);
  ck_assert_int_eq(scan_replaces("INVITE", v, sizeof v), CAY_EPARSE);
  ck_assert_int_eq(scan_replaces("", v, sizeof v), CAY_EPARSE);
}
END_TEST

/* Every prefix of a message is scanned within its bounds (ASan), and a
 * prefix that cuts the Call-ID short yields the bytes within it. */
START_TEST(replaces_every_prefix_in_bounds)
{
  static const char msg[] = "\r\nINVITE sip:a@b SIP/2.0\r\n"
                            "Replaces:\r\n abc;to-tag=1\r\n\r\n";
  size_t full = strlen(msg);

  for (size_t len = 0; len <= full; len++) {
    char *copy = malloc(len ? len : 1);
    const char *cid = NULL;
    size_t n = 0;
    int err;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, msg, len);
    err = cay__replaces_scan(copy, len, &cid, &n);
    if (err == 0) {
      ck_assert(cid >= copy && cid + n <= copy + len);
      ck_assert_int_eq(memcmp(cid, "abc", n), 0);
    }
    free(copy);
  }
}
END_TEST

static Suite *
callid_suite(void)
{
  Suite *s = suite_create("callid");
  TCase *tc = tcase_create("scan");

  tcase_add_test(tc, callid_20_8_full_form);
  tcase_add_test(tc, callid_7_3_3_compact_form);
  tcase_add_test(tc, callid_7_3_3_compact_form_upper_case);
  tcase_add_test(tc, callid_7_3_1_mixed_case_name);
  tcase_add_test(tc, callid_7_3_1_whitespace_before_colon);
  tcase_add_test(tc, callid_7_3_3_compact_whitespace_before_colon);
  tcase_add_test(tc, callid_7_3_1_folded_value_crlf_sp);
  tcase_add_test(tc, callid_7_3_1_folded_value_twice_htab);
  tcase_add_test(tc, callid_lf_only_line_ends);
  tcase_add_test(tc, callid_lf_only_folded_value);
  tcase_add_test(tc, callid_trailing_whitespace_trimmed);
  tcase_add_test(tc, callid_after_long_header_list);
  tcase_add_test(tc, callid_7_5_only_in_body_not_found);
  tcase_add_test(tc, callid_lf_only_body_not_found);
  tcase_add_test(tc, callid_in_reply_to_not_matched);
  tcase_add_test(tc, callid_i_dash_x_not_matched);
  tcase_add_test(tc, callid_in_reply_to_before_real_one);
  tcase_add_test(tc, callid_7_3_1_continuation_line_not_a_header);
  tcase_add_test(tc, callid_start_line_ignored);
  tcase_add_test(tc, callid_7_5_leading_crlf_skipped);
  tcase_add_test(tc, callid_empty_value_is_eparse);
  tcase_add_test(tc, callid_whitespace_value_is_eparse);
  tcase_add_test(tc, callid_no_header_is_eparse);
  tcase_add_test(tc, callid_not_nul_terminated);
  tcase_add_loop_test(tc, callid_every_prefix_in_bounds, 0,
                      (int)(sizeof prefix_msgs / sizeof prefix_msgs[0]));
  tcase_add_test(tc, callid_full_message_after_prefixes);
  suite_add_tcase(s, tc);

  tc = tcase_create("rfc4475");
  tcase_add_test(tc, callid_rfc4475_all_files_scanned);
  tcase_add_test(tc, callid_rfc4475_3_1_1_1_wsinv);
  tcase_add_test(tc, callid_rfc4475_3_1_1_2_intmeth);
  tcase_add_test(tc, callid_rfc4475_3_1_1_3_esc01_compact);
  tcase_add_test(tc, callid_rfc4475_3_1_1_8_dblreq_first_message);
  tcase_add_test(tc, callid_rfc4475_3_1_1_6_lwsdisp);
  tcase_add_test(tc, callid_rfc4475_3_3_1_insuf_has_none);
  suite_add_tcase(s, tc);

  tc = tcase_create("replaces");
  tcase_add_test(tc, replaces_call_id_ends_at_the_first_param);
  tcase_add_test(tc, replaces_7_3_1_name_forms);
  tcase_add_test(tc, replaces_none_is_eparse);
  tcase_add_test(tc, replaces_every_prefix_in_bounds);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(callid_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
