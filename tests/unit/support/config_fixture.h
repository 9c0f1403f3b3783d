/*
 * The fixture of the configuration tests (test_config.c,
 * test_config_routes.c): a config loaded over the defaults, the defaults
 * to compare with, an error buffer, and no allocation left behind. Each
 * test program includes it once.
 */
#ifndef CAY_TEST_CONFIG_FIXTURE_H
#define CAY_TEST_CONFIG_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/config.h"
#include "cay/errno.h"
#include "core/alloc.h"

#define DATA CAY_TEST_DATA "/config/"

static long live_at_start;
static cay_config_t cfg;
static cay_config_t defaults;
static char err[512];

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  cay_config_init(&cfg);
  cay_config_init(&defaults);
  memset(err, 0, sizeof err);
}

static void
teardown(void)
{
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Load tests/data/config/NAME, expect CAY_ECONFIG and the message
 * "FULLPATH:" followed by @p where_what ("3:10: timers.t1_ms: ..."), and
 * expect @p cfg untouched. */
static inline void
expect_bad(const char *name, const char *where_what)
{
  char path[512], want[1024];

  snprintf(path, sizeof path, DATA "%s", name);
  snprintf(want, sizeof want, "%s:%s", path, where_what);
  ck_assert_int_eq(cay_config_load(&cfg, path, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, want);
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}

/* Load tests/data/config/NAME with the n-th allocation failing, for
 * n = 1, 2, ... until it loads: each failed load says so ("out of
 * memory"), leaves @p cfg untouched and no allocation behind (the file,
 * the index, libcyaml: each fails once); the last one leaves the file's values
 * in
 * @p cfg. */
static inline void
expect_every_enomem_path(const char *name)
{
  char path[512];
  int rc = -ENOMEM;
  long n;

  snprintf(path, sizeof path, DATA "%s", name);
  for (n = 1; rc == -ENOMEM && n < 1000; n++) {
    cay__alloc_fail_nth(n);
    rc = cay_config_load(&cfg, path, err, sizeof err);
    cay__alloc_fail_nth(0);
    if (rc == -ENOMEM) {
      ck_assert_ptr_nonnull(strstr(err, "out of memory"));
      ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
      ck_assert_int_eq(cay__alloc_live(), live_at_start);
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_gt(n, 3);
}

#endif
