/*
 * SDP offer/answer (RFC 3264): the answers Cay's UAS gives to sample
 * offers in tests/data/sdp/, and the offer it makes when the INVITE has
 * none. Every answer a test produces is parsed back with sofia-sip.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "dialog/sdp.h"

static const char *const our_codecs[] = {
  "PCMU", "PCMA", "G722", "G729", "telephone-event",
};

static cay__sdp_opts_t opts;
static long live_at_start;
static char *answer;
static size_t answer_len;

static void
setup(void)
{
  opts.codecs = our_codecs;
  opts.n_codecs = sizeof our_codecs / sizeof our_codecs[0];
  opts.media_ip = "203.0.113.5";
  opts.port_base = 30000;
  answer = NULL;
  answer_len = 0;
  live_at_start = cay__alloc_live();
}

static void
teardown(void)
{
  cay__free(answer);
  answer = NULL;
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Read tests/data/sdp/<name> into a static buffer. */
static const char *
load(const char *name, size_t *len)
{
  static char buf[8192];
  char path[1024];
  FILE *f;

  snprintf(path, sizeof path, "%s/sdp/%s", CAY_TEST_DATA, name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  *len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[*len] = '\0';
  return buf;
}

/* Every SDP Cay produces must be valid SDP to sofia-sip as well. */
static void
assert_parses(const char *text)
{
  sdp_parser_t *p = sdp_parse(NULL, text, (issize_t)strlen(text), 0);
  const char *e;

  ck_assert_ptr_nonnull(p);
  e = sdp_parsing_error(p);
  ck_assert_msg(e == NULL, "SDP does not parse (%s):\n%s", e, text);
  sdp_parser_free(p);
  ck_assert_int_eq(cay__sdp_check(text, strlen(text)), 0);
}

/* Answer the offer in file @p name with the fixture's options; a produced
 * answer is checked to parse and to report its length right. */
static int
answer_file(const char *name)
{
  size_t len;
  const char *offer = load(name, &len);
  int err = cay__sdp_answer(offer, len, &opts, 42, &answer, &answer_len);

  if (err == 0) {
    ck_assert_ptr_nonnull(answer);
    ck_assert_uint_eq(answer_len, strlen(answer));
    assert_parses(answer);
  } else {
    ck_assert_ptr_null(answer);
  }
  return err;
}

/* The @p n-th line (from 0) of @p text that starts with @p prefix, without
 * its CRLF; "" when there is none. */
static const char *
line(const char *text, const char *prefix, int n)
{
  static char out[512];
  size_t plen = strlen(prefix);
  const char *p = text;

  while (p && *p) {
    const char *eol = strstr(p, "\r\n");
    size_t l = eol ? (size_t)(eol - p) : strlen(p);

    if (strncmp(p, prefix, plen) == 0 && n-- == 0) {
      if (l >= sizeof out)
        l = sizeof out - 1;
      memcpy(out, p, l);
      out[l] = '\0';
      return out;
    }
    p = eol ? eol + 2 : NULL;
  }
  return "";
}

static int
count_lines(const char *text, const char *prefix)
{
  int n = 0;

  while (*line(text, prefix, n))
    n++;
  return n;
}

/* ---- answers (RFC 3264 section 6) ---- */

/* Found by the fuzzers (tests/fuzz): an m= format that is no token made
 * sofia-sip ask for about 128 MiB; now it is refused before. */
START_TEST(answer_mline_format_not_a_token_eparse)
{
  static const char offer[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.3\r\ns=-\r\n"
                              "c=IN IP4 192.0.2.4\r\nt=0 0\r\n"
                              "m=video 3227 TCP :31\r\n";
  char *answer = NULL;
  size_t len;

  ck_assert_int_eq(
      cay__sdp_answer(offer, sizeof offer - 1, &opts, 1, &answer, &len),
      CAY_EPARSE);
  ck_assert_ptr_null(answer);
  ck_assert_int_eq(cay__sdp_check(offer, sizeof offer - 1), CAY_EPARSE);
}
END_TEST

/* The filter works on text that need not end in NUL: an offer whose last
 * byte is a payload type digit is read to its end, not past it (ASan
 * checks, on an exact-size copy). */
START_TEST(filter_reads_nothing_past_the_offer)
{
  static const char *const codecs[] = { "PCMU" };
  static const char *const texts[] = {
    "v=0\r\nm=audio 4000 RTP/AVP 0 8",
    "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:8",
    "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=fmtp:0",
    "v=0\r\nm=audio 4000 RTP/AVP 0\r\nm",
  };

  for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    size_t n = strlen(texts[i]), out_len;
    char *copy = malloc(n), *out = NULL;
    memcpy(copy, texts[i], n);
    ck_assert_int_eq(cay__sdp_filter(copy, n, codecs, 1, &out, &out_len), 0);
    ck_assert_ptr_nonnull(strstr(out, "RTP/AVP 0"));
    cay__free(out);
    free(copy);
  }
}
END_TEST

START_TEST(answer_6_1_our_codec_order_with_telephone_event)
{
  /* RFC 3264 section 6.1: the answerer picks from the offered formats; we
   * take our first preference (PCMU) although the offer lists PCMA first,
   * plus telephone-event with the offer's fmtp. */
  ck_assert_int_eq(answer_file("pcmu_pcma_te.sdp"), 0);
  ck_assert_str_eq(answer, "v=0\r\n"
                           "o=cay 42 1 IN IP4 203.0.113.5\r\n"
                           "s=cay\r\n"
                           "c=IN IP4 203.0.113.5\r\n"
                           "t=0 0\r\n"
                           "m=audio 30000 RTP/AVP 0 101\r\n"
                           "a=rtpmap:0 PCMU/8000\r\n"
                           "a=rtpmap:101 telephone-event/8000\r\n"
                           "a=fmtp:101 0-15\r\n");
}
END_TEST

START_TEST(answer_6_1_only_pcma_offered_gets_pcma)
{
  /* RFC 3264 section 6.1: static payload type 8 without a=rtpmap is PCMA
   * (RFC 3551 section 6). */
  ck_assert_int_eq(answer_file("pcma_only.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 8");
  ck_assert_str_eq(line(answer, "a=rtpmap:", 0), "a=rtpmap:8 PCMA/8000");
  ck_assert_int_eq(count_lines(answer, "a=rtpmap:"), 1);
}
END_TEST

START_TEST(answer_6_1_keeps_dynamic_payload_type)
{
  /* RFC 3264 section 6.1: the answer uses the offer's payload type
   * numbers; the encoding name is matched case-insensitively and the
   * telephone-event fmtp defaults to 0-16 when the offer has none. */
  ck_assert_int_eq(answer_file("te_dynamic_96.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0 96");
  ck_assert_str_eq(line(answer, "a=rtpmap:", 1),
                   "a=rtpmap:96 TELEPHONE-EVENT/8000");
  ck_assert_str_eq(line(answer, "a=fmtp:", 0), "a=fmtp:96 0-16");
}
END_TEST

START_TEST(answer_6_audio_accepted_video_rejected)
{
  /* RFC 3264 section 6: one m= line per offered stream, in order; a
   * rejected stream has port 0 and keeps the first offered format. */
  ck_assert_int_eq(answer_file("audio_video.sdp"), 0);
  ck_assert_int_eq(count_lines(answer, "m="), 2);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0 101");
  ck_assert_str_eq(line(answer, "m=", 1), "m=video 0 RTP/AVP 97");
}
END_TEST

START_TEST(answer_6_no_common_codec_is_enocodec)
{
  /* RFC 3264 section 6: nothing in common (GSM, opus) leaves no stream to
   * accept; the UAS answers 488. */
  ck_assert_int_eq(answer_file("no_common.sdp"), CAY_ENOCODEC);
}
END_TEST

START_TEST(answer_6_telephone_event_alone_is_enocodec)
{
  /* RFC 4733 section 2.1: telephone-event carries no audio, so a stream
   * offering only it has no usable codec. */
  ck_assert_int_eq(answer_file("te_only.sdp"), CAY_ENOCODEC);
}
END_TEST

START_TEST(answer_6_every_stream_rejected_is_enocodec)
{
  /* RFC 3264 section 6: video, T.38 image and a disabled audio stream:
   * nothing to accept. */
  ck_assert_int_eq(answer_file("all_rejected.sdp"), CAY_ENOCODEC);
}
END_TEST

START_TEST(answer_6_unconfigured_telephone_event_is_left_out)
{
  /* RFC 3264 section 6.1: telephone-event goes in only when both sides
   * list it. */
  static const char *const pcmu_only[] = { "PCMU" };

  opts.codecs = pcmu_only;
  opts.n_codecs = 1;
  ck_assert_int_eq(answer_file("pcmu_pcma_te.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0");
  ck_assert_int_eq(count_lines(answer, "a=fmtp:"), 0);
}
END_TEST

START_TEST(answer_garbage_is_eparse)
{
  static const char garbage[] = "hello world\r\n";

  ck_assert_int_eq(cay__sdp_answer(garbage, sizeof garbage - 1, &opts, 42,
                                   &answer, &answer_len),
                   CAY_EPARSE);
  ck_assert_ptr_null(answer);
}
END_TEST

START_TEST(answer_empty_is_eparse)
{
  ck_assert_int_eq(cay__sdp_answer("", 0, &opts, 42, &answer, &answer_len),
                   CAY_EPARSE);
}
END_TEST

START_TEST(answer_missing_t_line_is_eparse)
{
  /* RFC 4566 section 5: t= is required. */
  ck_assert_int_eq(answer_file("no_t.sdp"), CAY_EPARSE);
}
END_TEST

START_TEST(answer_missing_m_line_is_eparse)
{
  /* RFC 3264 section 5: an offer without streams cannot be answered. */
  ck_assert_int_eq(answer_file("no_m.sdp"), CAY_EPARSE);
}
END_TEST

START_TEST(answer_6_1_sendonly_gets_recvonly)
{
  ck_assert_int_eq(answer_file("sendonly.sdp"), 0);
  ck_assert_str_eq(line(answer, "a=recvonly", 0), "a=recvonly");
  ck_assert_int_eq(count_lines(answer, "a=sendonly"), 0);
}
END_TEST

START_TEST(answer_6_1_session_recvonly_gets_sendonly)
{
  /* RFC 3264 section 6.1, with RFC 4566 section 6: a session-level
   * direction applies to every stream. */
  ck_assert_int_eq(answer_file("session_recvonly.sdp"), 0);
  ck_assert_str_eq(line(answer, "a=sendonly", 0), "a=sendonly");
  ck_assert_int_eq(count_lines(answer, "a=recvonly"), 0);
}
END_TEST

START_TEST(answer_6_1_inactive_gets_inactive)
{
  ck_assert_int_eq(answer_file("inactive.sdp"), 0);
  ck_assert_str_eq(line(answer, "a=inactive", 0), "a=inactive");
}
END_TEST

START_TEST(answer_6_1_sendrecv_has_no_direction_attribute)
{
  ck_assert_int_eq(answer_file("pcma_only.sdp"), 0);
  ck_assert_int_eq(count_lines(answer, "a=sendrecv"), 0);
  ck_assert_int_eq(count_lines(answer, "a=sendonly"), 0);
  ck_assert_int_eq(count_lines(answer, "a=recvonly"), 0);
  ck_assert_int_eq(count_lines(answer, "a=inactive"), 0);
}
END_TEST

START_TEST(answer_8_4_hold_with_zero_address_answered_normally)
{
  /* RFC 3264 section 8.4: c=0.0.0.0 is the old hold signal; the stream is
   * still answered with our address and no direction change. */
  ck_assert_int_eq(answer_file("hold_0000.sdp"), 0);
  ck_assert_str_eq(line(answer, "c=", 0), "c=IN IP4 203.0.113.5");
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0");
  ck_assert_int_eq(count_lines(answer, "a=recvonly"), 0);
}
END_TEST

START_TEST(answer_ipv6_media_ip_gives_ip6)
{
  /* RFC 4566 section 5.7: addrtype IP6 for an IPv6 address. */
  opts.media_ip = "2001:db8::5";
  ck_assert_int_eq(answer_file("ipv6.sdp"), 0);
  ck_assert_str_eq(line(answer, "c=", 0), "c=IN IP6 2001:db8::5");
  ck_assert_str_eq(line(answer, "o=", 0), "o=cay 42 1 IN IP6 2001:db8::5");
  /* Our order: PCMU before G722 although the offer lists G722 first. */
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0");
}
END_TEST

START_TEST(answer_6_g722_chosen_when_preferred)
{
  static const char *const g722_first[] = { "G722", "PCMU" };

  opts.codecs = g722_first;
  opts.n_codecs = 2;
  ck_assert_int_eq(answer_file("ipv6.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 9");
  ck_assert_str_eq(line(answer, "a=rtpmap:", 0), "a=rtpmap:9 G722/8000");
}
END_TEST

START_TEST(answer_6_disabled_stream_stays_disabled)
{
  /* RFC 3264 section 6: an offered stream with port 0 is answered with
   * port 0; the next stream is stream 1 and gets port_base + 2. */
  ck_assert_int_eq(answer_file("port0_stream.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 0 RTP/AVP 8");
  ck_assert_str_eq(line(answer, "m=", 1), "m=audio 30002 RTP/AVP 18");
  ck_assert_str_eq(line(answer, "a=rtpmap:", 0), "a=rtpmap:18 G729/8000");
  /* The offerer's G729 parameters are echoed. */
  ck_assert_str_eq(line(answer, "a=fmtp:", 0), "a=fmtp:18 annexb=no");
}
END_TEST

START_TEST(answer_6_srtp_stream_rejected)
{
  /* RFC 3264 section 6: RTP/SAVP needs keys Cay has none of; the stream
   * is rejected with its transport kept, the RTP/AVP one accepted. */
  ck_assert_int_eq(answer_file("srtp.sdp"), 0);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 0 RTP/SAVP 0");
  ck_assert_str_eq(line(answer, "m=", 1), "m=audio 30002 RTP/AVP 0");
}
END_TEST

START_TEST(answer_origin_carries_session_id)
{
  size_t len;
  const char *offer = load("pcma_only.sdp", &len);

  ck_assert_int_eq(
      cay__sdp_answer(offer, len, &opts, UINT64_MAX, &answer, &answer_len), 0);
  ck_assert_str_eq(line(answer, "o=", 0),
                   "o=cay 18446744073709551615 1 IN IP4 203.0.113.5");
}
END_TEST

START_TEST(answer_offer_need_not_be_nul_terminated)
{
  size_t len;
  const char *offer = load("pcma_only.sdp", &len);
  char *copy = malloc(len + 16);

  memcpy(copy, offer, len);
  memcpy(copy + len, "m=video 9 RTP/A", 15); /* junk past len */
  ck_assert_int_eq(cay__sdp_answer(copy, len, &opts, 42, &answer, &answer_len),
                   0);
  free(copy);
  ck_assert_int_eq(count_lines(answer, "m="), 1);
  assert_parses(answer);
}
END_TEST

/* An offer of @p n audio streams, each PCMU. */
static char *
many_streams(int n)
{
  size_t cap = 256 + (size_t)n * 64;
  char *s = malloc(cap);
  int len = snprintf(s, cap,
                     "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
                     "c=IN IP4 192.0.2.1\r\nt=0 0\r\n");

  for (int i = 0; i < n; i++)
    len += snprintf(s + len, cap - (size_t)len,
                    "m=audio %d RTP/AVP 0 101\r\n"
                    "a=rtpmap:101 telephone-event/8000\r\n",
                    40000 + 2 * i);
  return s;
}

START_TEST(answer_6_many_streams_grow_the_buffer)
{
  char *offer = many_streams(20);

  ck_assert_int_eq(
      cay__sdp_answer(offer, strlen(offer), &opts, 42, &answer, &answer_len),
      0);
  free(offer);
  assert_parses(answer);
  ck_assert_uint_gt(answer_len, 512);
  ck_assert_int_eq(count_lines(answer, "m="), 20);
  ck_assert_str_eq(line(answer, "m=", 19), "m=audio 30038 RTP/AVP 0 101");
}
END_TEST

START_TEST(answer_6_stream_beyond_port_range_rejected)
{
  char *offer = many_streams(2);

  opts.port_base = 65534;
  ck_assert_int_eq(
      cay__sdp_answer(offer, strlen(offer), &opts, 42, &answer, &answer_len),
      0);
  free(offer);
  assert_parses(answer);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 65534 RTP/AVP 0 101");
  ck_assert_str_eq(line(answer, "m=", 1), "m=audio 0 RTP/AVP 0");
}
END_TEST

START_TEST(answer_enomem_on_every_allocation)
{
  /* Each allocation in turn fails: -ENOMEM and nothing leaked, until the
   * answer needs no more allocations than were allowed. */
  char *offer = many_streams(20);
  int err;
  long n;

  for (n = 1;; n++) {
    cay__alloc_fail_nth(n);
    err = cay__sdp_answer(offer, strlen(offer), &opts, 42, &answer,
                          &answer_len);
    cay__alloc_fail_nth(0);
    if (err == 0)
      break;
    ck_assert_int_eq(err, -ENOMEM);
    ck_assert_ptr_null(answer);
    ck_assert_int_eq(cay__alloc_live(), live_at_start);
  }
  free(offer);
  ck_assert_int_gt(n, 1);
  assert_parses(answer);
}
END_TEST

/* ---- offers (RFC 3264 section 5) ---- */

START_TEST(offer_5_1_lists_every_codec_in_order)
{
  sdp_parser_t *p;
  sdp_session_t *s;
  const sdp_rtpmap_t *r;
  static const unsigned pts[] = { 0, 8, 9, 18, 101 };
  static const char *const names[] = {
    "PCMU", "PCMA", "G722", "G729", "telephone-event",
  };
  unsigned i = 0;

  ck_assert_int_eq(cay__sdp_offer(&opts, 7, &answer, &answer_len), 0);
  ck_assert_uint_eq(answer_len, strlen(answer));
  assert_parses(answer);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0 8 9 18 101");
  ck_assert_str_eq(line(answer, "a=fmtp:", 0), "a=fmtp:101 0-16");

  p = sdp_parse(NULL, answer, (issize_t)answer_len, 0);
  s = sdp_session(p);
  ck_assert_ptr_nonnull(s);
  ck_assert_ptr_nonnull(s->sdp_media);
  ck_assert_ptr_null(s->sdp_media->m_next);
  ck_assert_uint_eq(s->sdp_media->m_mode, sdp_sendrecv);
  for (r = s->sdp_media->m_rtpmaps; r; r = r->rm_next, i++) {
    ck_assert_uint_lt(i, 5);
    ck_assert_uint_eq(r->rm_pt, pts[i]);
    ck_assert_str_eq(r->rm_encoding, names[i]);
    ck_assert_uint_eq(r->rm_rate, 8000);
  }
  ck_assert_uint_eq(i, 5);
  sdp_parser_free(p);
}
END_TEST

START_TEST(offer_5_answered_by_ourselves)
{
  /* RFC 3264 sections 5 and 6: our own offer, answered by our own rules,
   * gives our first codec and telephone-event. */
  char *offer;
  size_t len;

  ck_assert_int_eq(cay__sdp_offer(&opts, 7, &offer, &len), 0);
  ck_assert_int_eq(cay__sdp_answer(offer, len, &opts, 8, &answer, &answer_len),
                   0);
  cay__free(offer);
  assert_parses(answer);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 0 101");
}
END_TEST

START_TEST(offer_5_skips_unknown_and_repeated_codecs)
{
  static const char *const odd[] = { "opus", "pcma", "PCMA", "G729" };

  opts.codecs = odd;
  opts.n_codecs = 4;
  ck_assert_int_eq(cay__sdp_offer(&opts, 7, &answer, &answer_len), 0);
  assert_parses(answer);
  ck_assert_str_eq(line(answer, "m=", 0), "m=audio 30000 RTP/AVP 8 18");
}
END_TEST

START_TEST(offer_5_telephone_event_alone_is_enocodec)
{
  static const char *const te[] = { "telephone-event" };

  opts.codecs = te;
  opts.n_codecs = 1;
  ck_assert_int_eq(cay__sdp_offer(&opts, 7, &answer, &answer_len),
                   CAY_ENOCODEC);
  ck_assert_ptr_null(answer);
}
END_TEST

START_TEST(offer_enomem)
{
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__sdp_offer(&opts, 7, &answer, &answer_len), -ENOMEM);
  ck_assert_ptr_null(answer);
}
END_TEST

/* ---- codec names and answer checks ---- */

START_TEST(codec_known_names)
{
  ck_assert_int_eq(cay__sdp_codec_known("PCMU"), 1);
  ck_assert_int_eq(cay__sdp_codec_known("pcma"), 1);
  ck_assert_int_eq(cay__sdp_codec_known("G722"), 1);
  ck_assert_int_eq(cay__sdp_codec_known("g729"), 1);
  ck_assert_int_eq(cay__sdp_codec_known("Telephone-Event"), 1);
  ck_assert_int_eq(cay__sdp_codec_known("opus"), 0);
  ck_assert_int_eq(cay__sdp_codec_known("PCM"), 0);
  ck_assert_int_eq(cay__sdp_codec_known(""), 0);
}
END_TEST

START_TEST(check_accepts_an_answer)
{
  size_t len;
  const char *sdp = load("audio_video.sdp", &len);

  ck_assert_int_eq(cay__sdp_check(sdp, len), 0);
}
END_TEST

START_TEST(check_rejects_garbage)
{
  static const char garbage[] = "v=0\r\nthis is not sdp\r\n";

  ck_assert_int_eq(cay__sdp_check(garbage, sizeof garbage - 1), CAY_EPARSE);
}
END_TEST

static Suite *
sdp_suite(void)
{
  Suite *s = suite_create("sdp");
  TCase *tc = tcase_create("rfc3264");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, answer_6_1_our_codec_order_with_telephone_event);
  tcase_add_test(tc, answer_6_1_only_pcma_offered_gets_pcma);
  tcase_add_test(tc, answer_6_1_keeps_dynamic_payload_type);
  tcase_add_test(tc, answer_6_audio_accepted_video_rejected);
  tcase_add_test(tc, answer_6_no_common_codec_is_enocodec);
  tcase_add_test(tc, answer_6_telephone_event_alone_is_enocodec);
  tcase_add_test(tc, answer_6_every_stream_rejected_is_enocodec);
  tcase_add_test(tc, answer_6_unconfigured_telephone_event_is_left_out);
  tcase_add_test(tc, answer_garbage_is_eparse);
  tcase_add_test(tc, answer_empty_is_eparse);
  tcase_add_test(tc, answer_missing_t_line_is_eparse);
  tcase_add_test(tc, answer_missing_m_line_is_eparse);
  tcase_add_test(tc, answer_6_1_sendonly_gets_recvonly);
  tcase_add_test(tc, answer_6_1_session_recvonly_gets_sendonly);
  tcase_add_test(tc, answer_6_1_inactive_gets_inactive);
  tcase_add_test(tc, answer_6_1_sendrecv_has_no_direction_attribute);
  tcase_add_test(tc, answer_8_4_hold_with_zero_address_answered_normally);
  tcase_add_test(tc, answer_ipv6_media_ip_gives_ip6);
  tcase_add_test(tc, answer_6_g722_chosen_when_preferred);
  tcase_add_test(tc, answer_6_disabled_stream_stays_disabled);
  tcase_add_test(tc, answer_6_srtp_stream_rejected);
  tcase_add_test(tc, answer_origin_carries_session_id);
  tcase_add_test(tc, answer_offer_need_not_be_nul_terminated);
  tcase_add_test(tc, answer_6_many_streams_grow_the_buffer);
  tcase_add_test(tc, answer_6_stream_beyond_port_range_rejected);
  tcase_add_test(tc, answer_enomem_on_every_allocation);
  tcase_add_test(tc, offer_5_1_lists_every_codec_in_order);
  tcase_add_test(tc, offer_5_answered_by_ourselves);
  tcase_add_test(tc, offer_5_skips_unknown_and_repeated_codecs);
  tcase_add_test(tc, offer_5_telephone_event_alone_is_enocodec);
  tcase_add_test(tc, offer_enomem);
  tcase_add_test(tc, codec_known_names);
  tcase_add_test(tc, check_accepts_an_answer);
  tcase_add_test(tc, check_rejects_garbage);
  tcase_add_test(tc, answer_mline_format_not_a_token_eparse);
  tcase_add_test(tc, filter_reads_nothing_past_the_offer);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(sdp_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
