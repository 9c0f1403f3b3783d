/*
 * Tests of stream framing (src/transport/framing.c): SIP messages cut from
 * a byte stream by Content-Length (RFC 3261 section 18.3), CRLF keep-alives
 * (RFC 5626 section 3.5.1), and the bounds on size and header count.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "transport/framing.h"

#define MAX_MSG 65535
#define MAX_HDR 256

#define MSG_A                                                                  \
  "OPTIONS sip:alice@example.com SIP/2.0\r\n"                                  \
  "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-a\r\n"                       \
  "Call-ID: a@192.0.2.1\r\n"                                                   \
  "CSeq: 1 OPTIONS\r\n"                                                        \
  "Content-Length: 4\r\n"                                                      \
  "\r\n"                                                                       \
  "body"
#define MSG_B                                                                  \
  "SIP/2.0 200 OK\r\n"                                                         \
  "Call-ID: b@192.0.2.1\r\n"                                                   \
  "Content-Length: 0\r\n"                                                      \
  "\r\n"

static long live_at_start;
static cay__framer_t fr;

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  ck_assert_int_eq(cay__framer_init(&fr, MAX_MSG, MAX_HDR), 0);
}

static void
teardown(void)
{
  cay__framer_fini(&fr);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

static void
push(const char *s, size_t n)
{
  ck_assert_int_eq(cay__framer_push(&fr, s, n), 0);
}

static void
push_str(const char *s)
{
  push(s, strlen(s));
}

/* Take the next item and check it is the message @p want. */
static void
expect_msg_in(cay__framer_t *f, const char *want)
{
  const char *msg;
  size_t len;

  ck_assert_int_eq(cay__framer_next(f, &msg, &len), CAY__FRAME_MESSAGE);
  ck_assert_uint_eq(len, strlen(want));
  ck_assert_mem_eq(msg, want, len);
}

static void
expect_msg(const char *want)
{
  expect_msg_in(&fr, want);
}

static void
expect(int want)
{
  const char *msg;
  size_t len;

  ck_assert_int_eq(cay__framer_next(&fr, &msg, &len), want);
}

START_TEST(framing_18_3_one_message)
{
  push_str(MSG_A);
  expect_msg(MSG_A);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_18_3_two_messages_in_one_push)
{
  push_str(MSG_A MSG_B);
  expect_msg(MSG_A);
  expect_msg(MSG_B);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_18_3_split_at_every_byte)
{
  const char *all = MSG_A MSG_B;
  size_t n = strlen(all);

  /* Wherever TCP splits the stream, the same two messages come out. */
  for (size_t cut = 0; cut <= n; cut++) {
    cay__framer_t f;
    const char *msg;
    size_t len;
    int r, got = 0;

    ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, MAX_HDR), 0);
    ck_assert_int_eq(cay__framer_push(&f, all, cut), 0);
    while ((r = cay__framer_next(&f, &msg, &len)) == CAY__FRAME_MESSAGE) {
      ck_assert_mem_eq(msg, got == 0 ? MSG_A : MSG_B, len);
      got++;
    }
    ck_assert_int_eq(r, CAY__FRAME_NONE);
    ck_assert_int_lt(got, cut == n ? 3 : 2);
    ck_assert_int_eq(cay__framer_push(&f, all + cut, n - cut), 0);
    while ((r = cay__framer_next(&f, &msg, &len)) == CAY__FRAME_MESSAGE) {
      ck_assert_uint_eq(len, strlen(got == 0 ? MSG_A : MSG_B));
      ck_assert_mem_eq(msg, got == 0 ? MSG_A : MSG_B, len);
      got++;
    }
    ck_assert_int_eq(r, CAY__FRAME_NONE);
    ck_assert_int_eq(got, 2);
    cay__framer_fini(&f);
  }
}
END_TEST

START_TEST(framing_18_3_one_byte_per_push)
{
  const char *all = MSG_A MSG_B;
  size_t n = strlen(all);
  const char *msg;
  size_t len;
  int r, got = 0;

  for (size_t i = 0; i < n; i++) {
    push(all + i, 1);
    r = cay__framer_next(&fr, &msg, &len);
    if (i == strlen(MSG_A) - 1 || i == n - 1) {
      ck_assert_int_eq(r, CAY__FRAME_MESSAGE);
      ck_assert_mem_eq(msg, got == 0 ? MSG_A : MSG_B, len);
      got++;
    } else {
      ck_assert_int_eq(r, CAY__FRAME_NONE);
    }
  }
  ck_assert_int_eq(got, 2);
}
END_TEST

START_TEST(framing_18_3_body_split)
{
  const char *hdr = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n";
  char want[128];

  push_str(hdr);
  expect(CAY__FRAME_NONE);
  push_str("01234");
  expect(CAY__FRAME_NONE);
  push_str("56789MESS");
  snprintf(want, sizeof want, "%s0123456789", hdr);
  expect_msg(want);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_7_3_3_compact_l_and_any_case)
{
  const char *m1 = "INFO sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi";
  const char *m2 = "INFO sip:a@b SIP/2.0\r\ncontent-LENGTH:3\r\n\r\nabc";
  const char *m3 = "INFO sip:a@b SIP/2.0\r\nL :1\r\n\r\nx";

  push_str(m1);
  push_str(m2);
  push_str(m3);
  expect_msg(m1);
  expect_msg(m2);
  expect_msg(m3);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_7_3_1_folded_content_length)
{
  /* RFC 3261 section 7.3.1: the value may be folded onto continuation
   * lines, and white space may precede the colon. */
  const char *m = "INFO sip:a@b SIP/2.0\r\n"
                  "Content-Length \t\r\n"
                  " :\r\n"
                  "\t 5 \r\n"
                  "Call-ID: x\r\n"
                  "\r\n"
                  "hello";

  push_str(m);
  expect_msg(m);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_similar_names_are_not_content_length)
{
  /* "Content-Lengthy" and "lx" are other headers; only the real one
   * counts. */
  const char *m = "INFO sip:a@b SIP/2.0\r\n"
                  "Content-Lengthy: 99\r\n"
                  "lx: 7\r\n"
                  "Content-Length: 1\r\n"
                  "\r\n"
                  "z";

  push_str(m);
  expect_msg(m);
}
END_TEST

START_TEST(framing_18_3_missing_content_length_returns_headers)
{
  const char *hdr = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n";
  const char *msg;
  size_t len;

  /* RFC 3261 section 18.3: Content-Length is mandatory on a stream; the
   * header section comes back so that the caller can answer 400. */
  push_str(hdr);
  push_str("trailing");
  ck_assert_int_eq(cay__framer_next(&fr, &msg, &len), CAY_EPARSE);
  ck_assert_uint_eq(len, strlen(hdr));
  ck_assert_mem_eq(msg, hdr, len);
}
END_TEST

START_TEST(framing_errors_are_sticky)
{
  const char *msg;
  size_t len;

  push_str("OPTIONS sip:a@b SIP/2.0\r\n\r\n");
  ck_assert_int_eq(cay__framer_next(&fr, &msg, &len), CAY_EPARSE);
  ck_assert_int_eq(cay__framer_next(&fr, &msg, &len), CAY_EPARSE);
  ck_assert_uint_eq(len, 27);
}
END_TEST

START_TEST(framing_20_14_bad_values_are_eparse)
{
  static const char *const bad[] = {
    "abc",
    "12x",
    "-1",
    "",
    "1 2",
    "0x10",
    "+5",
    /* Does not fit in size_t. */
    "99999999999999999999999999",
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cay__framer_t f;
    char m[200];
    const char *msg;
    size_t len;

    snprintf(m, sizeof m, "INFO sip:a@b SIP/2.0\r\nContent-Length: %s\r\n\r\n",
             bad[i]);
    ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, MAX_HDR), 0);
    ck_assert_int_eq(cay__framer_push(&f, m, strlen(m)), 0);
    ck_assert_msg(cay__framer_next(&f, &msg, &len) == CAY_EPARSE,
                  "Content-Length \"%s\" was accepted", bad[i]);
    ck_assert_uint_eq(len, strlen(m));
    cay__framer_fini(&f);
  }
}
END_TEST

START_TEST(framing_conflicting_content_lengths_are_eparse)
{
  /* Two different lengths make the message boundary ambiguous. */
  push_str("INFO sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nxy");
  expect(CAY_EPARSE);
}
END_TEST

START_TEST(framing_repeated_equal_content_length_is_accepted)
{
  const char *m
      = "INFO sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 02\r\n\r\nxy";

  push_str(m);
  expect_msg(m);
}
END_TEST

START_TEST(framing_body_over_max_msg_is_elimit)
{
  push_str("INFO sip:a@b SIP/2.0\r\nContent-Length: 65536\r\n\r\n");
  expect(CAY_ELIMIT);
}
END_TEST

START_TEST(framing_message_of_exactly_max_msg_is_accepted)
{
  cay__framer_t f;
  const char *hdr = "INFO sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\n";
  char m[128];
  const char *msg;
  size_t len;

  snprintf(m, sizeof m, "%s0123456789", hdr);
  ck_assert_int_eq(cay__framer_init(&f, strlen(m), MAX_HDR), 0);
  ck_assert_int_eq(cay__framer_push(&f, m, strlen(m)), 0);
  ck_assert_int_eq(cay__framer_next(&f, &msg, &len), CAY__FRAME_MESSAGE);
  ck_assert_uint_eq(len, strlen(m));
  cay__framer_fini(&f);

  /* One byte less of room and the same message is too large. */
  ck_assert_int_eq(cay__framer_init(&f, strlen(m) - 1, MAX_HDR), 0);
  ck_assert_int_eq(cay__framer_push(&f, m, strlen(m)), 0);
  ck_assert_int_eq(cay__framer_next(&f, &msg, &len), CAY_ELIMIT);
  cay__framer_fini(&f);
}
END_TEST

START_TEST(framing_too_many_header_lines_is_elimit)
{
  cay__framer_t f;
  char m[512];
  size_t n = 0;

  n += (size_t)snprintf(m + n, sizeof m - n, "INFO sip:a@b SIP/2.0\r\n");
  for (int i = 0; i < 4; i++)
    n += (size_t)snprintf(m + n, sizeof m - n, "X-H%d: v\r\n folded\r\n", i);
  n += (size_t)snprintf(m + n, sizeof m - n, "Content-Length: 0\r\n\r\n");

  /* Five header lines; continuation lines do not count. */
  ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, 5), 0);
  ck_assert_int_eq(cay__framer_push(&f, m, n), 0);
  expect_msg_in(&f, m);
  cay__framer_fini(&f);

  ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, 4), 0);
  ck_assert_int_eq(cay__framer_push(&f, m, n), 0);
  {
    const char *msg;
    size_t len;
    ck_assert_int_eq(cay__framer_next(&f, &msg, &len), CAY_ELIMIT);
  }
  cay__framer_fini(&f);
}
END_TEST

START_TEST(framing_5626_3_5_1_keepalive_between_messages)
{
  push_str(MSG_B "\r\n\r\n" MSG_A);
  expect_msg(MSG_B);
  expect(CAY__FRAME_KEEPALIVE);
  expect_msg(MSG_A);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_5626_3_5_1_keepalive_split_over_pushes)
{
  push_str("\r\n");
  expect(CAY__FRAME_NONE);
  push_str("\r");
  expect(CAY__FRAME_NONE);
  push_str("\n");
  expect(CAY__FRAME_KEEPALIVE);
  expect(CAY__FRAME_NONE);
  push_str("\r\n\r\n\r\n\r\n");
  expect(CAY__FRAME_KEEPALIVE);
  expect(CAY__FRAME_KEEPALIVE);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_7_5_single_crlf_skipped)
{
  /* RFC 3261 section 7.5: CRLF before a start line is ignored. */
  push_str(MSG_B "\r\n" MSG_A);
  expect_msg(MSG_B);
  expect_msg(MSG_A);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_garbage_without_end_of_headers_is_elimit)
{
  cay__framer_t f;
  char chunk[100];
  const char *msg;
  size_t len;
  int r = CAY__FRAME_NONE, pushes = 0;

  memset(chunk, 'g', sizeof chunk);
  chunk[50] = '\r';
  chunk[51] = '\n';
  ck_assert_int_eq(cay__framer_init(&f, 1000, MAX_HDR), 0);
  while (r == CAY__FRAME_NONE && pushes < 100) {
    ck_assert_int_eq(cay__framer_push(&f, chunk, sizeof chunk), 0);
    pushes++;
    r = cay__framer_next(&f, &msg, &len);
  }
  ck_assert_int_eq(r, CAY_ELIMIT);
  /* It gives up as soon as 1000 bytes hold no empty line. */
  ck_assert_int_eq(pushes, 10);
  /* And refuses to buffer more once past the bound. */
  ck_assert_int_eq(cay__framer_push(&f, chunk, sizeof chunk), 0);
  ck_assert_int_eq(cay__framer_push(&f, chunk, sizeof chunk), CAY_ELIMIT);
  cay__framer_fini(&f);
}
END_TEST

START_TEST(framing_lf_only_line_ends)
{
  const char *m1 = "INFO sip:a@b SIP/2.0\nl:\n 3\nCall-ID: x\n\nabc";
  const char *m2 = "INFO sip:a@b SIP/2.0\nContent-Length: 0\n\r\n";

  push_str(m1);
  push_str("\n");
  push_str(m2);
  expect_msg(m1);
  expect_msg(m2);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_push_of_zero_bytes)
{
  long live = cay__alloc_live();

  /* Nothing is allocated for nothing. */
  ck_assert_int_eq(cay__framer_push(&fr, "", 0), 0);
  ck_assert_int_eq(cay__alloc_live(), live);
  ck_assert_ptr_null(fr.buf);
  expect(CAY__FRAME_NONE);
}
END_TEST

START_TEST(framing_push_out_of_memory)
{
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__framer_push(&fr, MSG_A, strlen(MSG_A)), -ENOMEM);
  cay__alloc_fail_nth(0);
  expect(CAY__FRAME_NONE);
  push_str(MSG_A);
  expect_msg(MSG_A);
}
END_TEST

START_TEST(framing_buffer_stays_compact)
{
  /* A long-lived connection receiving many messages in odd pieces keeps
   * a small buffer: consumed bytes are moved out, not accumulated. */
  const char *all = MSG_A MSG_B;
  size_t n = strlen(all), pos = 0;
  int got = 0, r;
  const char *msg;
  size_t len;

  for (int round = 0; round < 2000; round++) {
    size_t step = 1 + (size_t)(round * 7) % 61;
    for (size_t i = 0; i < step; i++) {
      push(all + pos, 1);
      pos = (pos + 1) % n;
    }
    while ((r = cay__framer_next(&fr, &msg, &len)) == CAY__FRAME_MESSAGE)
      got++;
    ck_assert_int_eq(r, CAY__FRAME_NONE);
    ck_assert_uint_le(fr.cap, 4096);
  }
  ck_assert_int_gt(got, 500);
}
END_TEST

/* Results of framing one input: a list of (kind, length) until the first
 * NONE or error (errors are sticky). */
struct outcome {
  int kind[64];
  size_t len[64];
  int n;
};

static void
drain(cay__framer_t *f, const char *data, size_t size, struct outcome *o)
{
  const char *msg;
  size_t len;
  int r;

  for (;;) {
    r = cay__framer_next(f, &msg, &len);
    if (r == CAY__FRAME_NONE)
      return;
    ck_assert_int_lt(o->n, 64);
    o->kind[o->n] = r;
    o->len[o->n] = len;
    o->n++;
    if (r == CAY__FRAME_MESSAGE || r == CAY_EPARSE) {
      /* What comes out is bytes of the input, never from past it. */
      ck_assert_uint_le(len, size);
      ck_assert_ptr_nonnull(memmem(data, size, msg, len));
    }
    if (r < 0)
      return;
  }
}

static char *
read_file(const char *path, size_t *size)
{
  FILE *fp = fopen(path, "rb");
  char *data;
  long n;

  ck_assert_ptr_nonnull(fp);
  ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
  n = ftell(fp);
  ck_assert_int_ge(n, 0);
  rewind(fp);
  data = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(data);
  ck_assert_uint_eq(fread(data, 1, (size_t)n, fp), (size_t)n);
  fclose(fp);
  *size = (size_t)n;
  return data;
}

START_TEST(framing_rfc4475_torture_random_chunks)
{
  const char *dir = CAY_TEST_DATA "/rfc4475";
  DIR *d = opendir(dir);
  struct dirent *e;
  unsigned seed = 4475;
  int files = 0;

  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL) {
    size_t nl = strlen(e->d_name), size;
    char path[512];
    char *data;
    struct outcome whole = { 0 };
    cay__framer_t f;

    if (nl < 4 || strcmp(e->d_name + nl - 4, ".dat") != 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    data = read_file(path, &size);
    files++;

    ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, MAX_HDR), 0);
    ck_assert_int_eq(cay__framer_push(&f, data, size), 0);
    drain(&f, data, size, &whole);
    cay__framer_fini(&f);

    /* However the bytes are chunked, the outcome is the same. Each chunk
     * is an exact-size heap copy, so ASan catches any read past it. */
    for (int round = 0; round < 20; round++) {
      struct outcome o = { 0 };
      size_t pos = 0;

      ck_assert_int_eq(cay__framer_init(&f, MAX_MSG, MAX_HDR), 0);
      while (pos < size && (o.n == 0 || o.kind[o.n - 1] >= 0)) {
        size_t n = 1 + (size_t)rand_r(&seed) % (round < 10 ? 8 : 300);
        char *chunk;

        if (n > size - pos)
          n = size - pos;
        chunk = malloc(n);
        ck_assert_ptr_nonnull(chunk);
        memcpy(chunk, data + pos, n);
        ck_assert_int_eq(cay__framer_push(&f, chunk, n), 0);
        free(chunk);
        pos += n;
        drain(&f, data, size, &o);
      }
      ck_assert_msg(o.n == whole.n, "%s: %d items in chunks, %d whole",
                    e->d_name, o.n, whole.n);
      for (int i = 0; i < o.n; i++) {
        ck_assert_int_eq(o.kind[i], whole.kind[i]);
        ck_assert_uint_eq(o.len[i], whole.len[i]);
      }
      cay__framer_fini(&f);
    }
    free(data);
  }
  closedir(d);
  ck_assert_int_ge(files, 40);
}
END_TEST

static Suite *
framing_suite(void)
{
  Suite *s = suite_create("framing");
  TCase *tc = tcase_create("framing");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, framing_18_3_one_message);
  tcase_add_test(tc, framing_18_3_two_messages_in_one_push);
  tcase_add_test(tc, framing_18_3_split_at_every_byte);
  tcase_add_test(tc, framing_18_3_one_byte_per_push);
  tcase_add_test(tc, framing_18_3_body_split);
  tcase_add_test(tc, framing_7_3_3_compact_l_and_any_case);
  tcase_add_test(tc, framing_7_3_1_folded_content_length);
  tcase_add_test(tc, framing_similar_names_are_not_content_length);
  tcase_add_test(tc, framing_18_3_missing_content_length_returns_headers);
  tcase_add_test(tc, framing_errors_are_sticky);
  tcase_add_test(tc, framing_20_14_bad_values_are_eparse);
  tcase_add_test(tc, framing_conflicting_content_lengths_are_eparse);
  tcase_add_test(tc, framing_repeated_equal_content_length_is_accepted);
  tcase_add_test(tc, framing_body_over_max_msg_is_elimit);
  tcase_add_test(tc, framing_message_of_exactly_max_msg_is_accepted);
  tcase_add_test(tc, framing_too_many_header_lines_is_elimit);
  tcase_add_test(tc, framing_5626_3_5_1_keepalive_between_messages);
  tcase_add_test(tc, framing_5626_3_5_1_keepalive_split_over_pushes);
  tcase_add_test(tc, framing_7_5_single_crlf_skipped);
  tcase_add_test(tc, framing_garbage_without_end_of_headers_is_elimit);
  tcase_add_test(tc, framing_lf_only_line_ends);
  tcase_add_test(tc, framing_push_of_zero_bytes);
  tcase_add_test(tc, framing_push_out_of_memory);
  tcase_add_test(tc, framing_buffer_stays_compact);
  tcase_add_test(tc, framing_rfc4475_torture_random_chunks);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(framing_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
