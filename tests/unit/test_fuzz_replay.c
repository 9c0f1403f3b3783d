/*
 * Every input a fuzzer found stays a regression test: the files under
 * tests/data/fuzz/NAME/ (minimized findings and a few interesting inputs)
 * and the seeds under tests/fuzz/corpus/NAME/ go through the same targets
 * the libFuzzer executables run (tests/fuzz/targets.h), in the gcc build
 * of `make test` and again under ASan and UBSan.
 *
 * What fails a test: a crash or a broken invariant (the targets abort), a
 * sanitizer report, an allocation through the shim left live after an
 * input, a leak (LeakSanitizer, asked explicitly after each target so that
 * the verdict does not depend on how Check's child exits), memory growing
 * by more than REPLAY_MAX_GROWTH_MB on one input (a finding may be an
 * allocation loop rather than a crash), and fewer saved files than
 * expected, so that a directory that went missing cannot pass by replaying
 * nothing.
 */
#define _GNU_SOURCE /* scandir */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "support/run.h"
#include "targets.h"

#if defined(__SANITIZE_ADDRESS__)
#define REPLAY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REPLAY_ASAN 1
#endif
#endif

#ifdef REPLAY_ASAN
#include <sanitizer/lsan_interface.h>

const char *__asan_default_options(void);

/* An input that makes the code under test allocate without bound must
 * fail here, not take the machine's memory: no single allocation above
 * 128 MiB (an allocator's table growing with the loop trips it early). */
const char *
__asan_default_options(void)
{
  return "max_allocation_size_mb=128:allocator_may_return_null=0";
}
#endif

/* Peak memory may grow by this much over one input. */
#define REPLAY_MAX_GROWTH_MB 256

/* Each target has at least this many seeds and saved findings. */
#define MIN_SEEDS 5
#define MIN_SAVED 2

typedef int (*target_fn)(const uint8_t *data, size_t size);

/* Peak resident set of this process, in KiB. */
static long
peak_rss_kib(void)
{
  struct rusage ru;

  ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
  return ru.ru_maxrss;
}

#ifndef REPLAY_ASAN
/* Without ASan nothing stops an allocation loop: cap the address space at
 * what the process has now plus 512 MiB, so that such an input fails its
 * allocations instead of exhausting the machine (and then fails the peak
 * memory check). */
static void
cap_address_space(void)
{
  struct rlimit rl;
  unsigned long pages = 0;
  rlim_t want;
  FILE *f = fopen("/proc/self/statm", "r");

  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
  fclose(f);
  want = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (512ul << 20);
  ck_assert_int_eq(getrlimit(RLIMIT_AS, &rl), 0);
  /* Only ever lower it (CK_FORK=no runs every test in one process). */
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= want)
    return;
  rl.rlim_cur = want;
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
}
#endif

/* The whole file in an allocation of exactly its size, so that ASan sees
 * a read past the end. */
static uint8_t *
read_input(const char *path, size_t *len)
{
  struct stat st;
  uint8_t *buf;
  FILE *f = fopen(path, "rb");

  ck_assert_msg(f != NULL, "cannot open %s", path);
  ck_assert_int_eq(fstat(fileno(f), &st), 0);
  *len = (size_t)st.st_size;
  buf = malloc(*len ? *len : 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
  fclose(f);
  return buf;
}

static int
is_input(const struct dirent *e)
{
  return e->d_name[0] != '.';
}

/* Run every file of @p dir through @p fn; @return how many. */
static unsigned
replay_dir(const char *dir, target_fn fn)
{
  struct dirent **names;
  char path[1024];
  long live, rss;
  int n;

  n = scandir(dir, &names, is_input, alphasort);
  if (n < 0)
    return 0;
  for (int i = 0; i < n; i++) {
    uint8_t *data;
    size_t len;

    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    /* Shown by ctest only when the test fails: names the input. */
    fprintf(stderr, "replay: %s\n", path);
    data = read_input(path, &len);
    live = cay__alloc_live();
    rss = peak_rss_kib();
    ck_assert_int_eq(fn(data, len), 0);
    ck_assert_msg(cay__alloc_live() == live,
                  "%s: %ld allocations through the shim left live", path,
                  cay__alloc_live() - live);
    ck_assert_msg(peak_rss_kib() - rss < REPLAY_MAX_GROWTH_MB * 1024L,
                  "%s: peak memory grew by %ld MiB", path,
                  (peak_rss_kib() - rss) / 1024);
    free(data);
    free(names[i]);
  }
  free(names);
  return (unsigned)n;
}

/* Replay the seeds and the saved findings of target @p name. */
static void
replay(const char *name, target_fn fn)
{
  char dir[1024];
  unsigned seeds, saved;

#ifndef REPLAY_ASAN
  cap_address_space();
#endif
  snprintf(dir, sizeof dir, "%s/../fuzz/corpus/%s", CAY_TEST_DATA, name);
  seeds = replay_dir(dir, fn);
  snprintf(dir, sizeof dir, "%s/fuzz/%s", CAY_TEST_DATA, name);
  saved = replay_dir(dir, fn);
  ck_assert_uint_ge(seeds, MIN_SEEDS);
  ck_assert_uint_ge(saved, MIN_SAVED);
#ifdef REPLAY_ASAN
  ck_assert_int_eq(__lsan_do_recoverable_leak_check(), 0);
#endif
}

START_TEST(fuzz_replay_msg_datagrams)
{
  /* RFC 3261 sections 7, 8.2 and 18: datagrams through parsing,
   * validation and the responses built from them. */
  replay("msg", cay_fuzz_msg);
}
END_TEST

START_TEST(fuzz_replay_sdp_offers)
{
  /* RFC 3264 section 6: offers answered, filtered and checked. */
  replay("sdp", cay_fuzz_sdp);
}
END_TEST

START_TEST(fuzz_replay_framer_streams)
{
  /* RFC 3261 section 18.3: streams framed at any split into reads. */
  replay("framer", cay_fuzz_framer);
}
END_TEST

START_TEST(fuzz_replay_config_files)
{
  /* cay.yaml files loaded, checked and turned into route tables. */
  replay("config", cay_fuzz_config);
}
END_TEST

START_TEST(fuzz_replay_dns_answers)
{
  /* RFC 1035 section 4.1, RFC 2308 section 5: DNS answers timed and kept
   * by the resolver's cache. */
  replay("dns", cay_fuzz_dns);
}
END_TEST

START_TEST(fuzz_replay_stun_datagrams)
{
  /* RFC 5389 section 7.3, RFC 5626 section 8: keep-alives answered. */
  replay("stun", cay_fuzz_stun);
}
END_TEST

START_TEST(fuzz_replay_ws_streams)
{
  /* RFC 6455 sections 4 and 5, RFC 7118: upgrades and frames. */
  replay("ws", cay_fuzz_ws);
}
END_TEST

static Suite *
fuzz_replay_suite(void)
{
  Suite *s = suite_create("fuzz_replay");
  TCase *tc = tcase_create("saved_inputs");

  tcase_add_test(tc, fuzz_replay_msg_datagrams);
  tcase_add_test(tc, fuzz_replay_sdp_offers);
  tcase_add_test(tc, fuzz_replay_framer_streams);
  tcase_add_test(tc, fuzz_replay_config_files);
  tcase_add_test(tc, fuzz_replay_dns_answers);
  tcase_add_test(tc, fuzz_replay_stun_datagrams);
  tcase_add_test(tc, fuzz_replay_ws_streams);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(fuzz_replay_suite());
}
