/* cay_strerror(): CAY_E* codes here, errno and libuv codes via libuv. */
#include "cay/errno.h"

#include <string.h>
#include <uv.h>

static const char *const cay_messages[] = {
  "object is in the wrong state",     /* CAY_ESTATE */
  "invalid configuration",            /* CAY_ECONFIG */
  "input does not parse",             /* CAY_EPARSE */
  "limit reached",                    /* CAY_ELIMIT */
  "no common codec in the SDP offer", /* CAY_ENOCODEC */
  "no such object",                   /* CAY_ENOTFOUND */
  "connection to the peer failed",    /* CAY_ECONNECT */
};

const char *
cay_strerror(int err)
{
  if (err == 0)
    return "success";
  if (err <= CAY_ESTATE && err > CAY_EMAX)
    return cay_messages[CAY_ESTATE - err];
  if (err <= -5000 || err > 0)
    return "unknown error";
  /* libuv codes are negated errno values on Unix; uv_strerror knows both,
   * but for a code it does not know it allocates a string nobody frees.
   * uv_err_name_r() never allocates: ask it first. */
  char name[64];
  uv_err_name_r(err, name, sizeof name);
  if (strncmp(name, "Unknown", 7) == 0)
    return "unknown error";
  return uv_strerror(err);
}
