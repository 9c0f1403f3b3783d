/*
 * RFC 4028 session timers: negotiation rules as pure functions over
 * sofia-sip's parsed Session-Expires and Min-SE headers. See stimer.h.
 */
#include "dialog/stimer.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "cay/errno.h"

enum refresher { REFRESHER_NONE, REFRESHER_UAC, REFRESHER_UAS };

/* sofia-sip keeps delta-seconds in an unsigned long, so a 64-bit build
 * parses values past 2^32-1. RFC 3261 section 25.1 bounds no delta, but
 * our state is 32 bits: clamp rather than wrap. */
static uint32_t
clamp_u32(unsigned long v)
{
#if ULONG_MAX > UINT32_MAX
  if (v > UINT32_MAX)
    return UINT32_MAX;
#endif
  return (uint32_t)v;
}

/* The refresher parameter of @p se. RFC 3261 section 7.3.1: tokens are
 * case-insensitive, so "UAC" is "uac". An empty or unknown value is no
 * choice at all. */
static enum refresher
refresher_of(const sip_session_expires_t *se)
{
  if (!se->x_refresher)
    return REFRESHER_NONE;
  if (strcasecmp(se->x_refresher, "uac") == 0)
    return REFRESHER_UAC;
  if (strcasecmp(se->x_refresher, "uas") == 0)
    return REFRESHER_UAS;
  return REFRESHER_NONE;
}

/* RFC 4028 section 7.1: a UAC that supports session timers lists "timer"
 * in Supported; one that demands them lists it in Require, which implies
 * support. sip_has_feature() compares option tags case-insensitively, as
 * tokens are (RFC 3261 section 7.3.1). */
static int
supports_timer(const sip_t *req)
{
  return sip_has_feature(req->sip_supported, "timer")
         || sip_has_feature(req->sip_require, "timer");
}

long
cay__lines_finish(char *lines, size_t len, int n)
{
  if (n < 0 || (size_t)n >= len) {
    if (len > 0)
      lines[0] = '\0';
    return CAY_ELIMIT;
  }
  return n;
}

int
cay__stimer_on_request(unsigned min_se_s, const sip_t *req, cay__stimer_t *st,
                       char *lines, size_t len)
{
  const sip_session_expires_t *se;
  enum refresher who;
  uint32_t floor_s, interval;
  int uac_supports, n;

  assert(req && st && (lines || len == 0));
  if (len == 0)
    return CAY_ELIMIT;

  se = req->sip_session_expires;
  if (!se) {
    /* RFC 4028 section 9: no Session-Expires, no timer asked for. The UAS
     * MAY insert one; Cay only honours the peer's (cay_config_t). */
    st->interval_s = 0;
    st->we_refresh = 0;
    lines[0] = '\0';
    return 0;
  }

  /* RFC 4028 section 5: no Min-SE is below 90 s; a caller's smaller value
   * is lifted rather than sent out illegal. */
  floor_s = min_se_s < CAY_STIMER_FLOOR_S ? CAY_STIMER_FLOOR_S : min_se_s;
  /* RFC 4028 section 9: the UAS MUST NOT answer with an interval below the
   * request's Min-SE. A request whose Session-Expires is already below its
   * own Min-SE is asked to come back above both. */
  if (req->sip_min_se && req->sip_min_se->min_delta > floor_s)
    floor_s = clamp_u32(req->sip_min_se->min_delta);

  uac_supports = supports_timer(req);
  interval = clamp_u32(se->x_delta);
  if (interval < floor_s) {
    if (uac_supports) {
      /* RFC 4028 section 9: reject with 422 and our minimum in Min-SE.
       * Section 4 forbids intervals below 90 s, so 0..89 land here too. */
      n = snprintf(lines, len, "Min-SE: %" PRIu32 "\r\n", floor_s);
      return cay__lines_finish(lines, len, n) < 0 ? CAY_ELIMIT : 422;
    }
    /* RFC 4028 section 8.1 (for proxies) and erratum 1687 (for the UAS): a
     * UAC without timer support cannot retry after a 422, so the call
     * would just fail. Raise the interval to our minimum instead; the
     * refresher is then us (below). */
    interval = floor_s;
  }

  /* RFC 4028 section 9, table 2: a UAC without timer support gets "uas"
   * whatever the request says (it would never send the refreshes); one
   * with support gets its own choice, or "uac" when it made none (the
   * table allows either; the UAC asked for the timer, so it does the
   * work). */
  who = uac_supports ? refresher_of(se) : REFRESHER_UAS;
  if (who == REFRESHER_NONE)
    who = REFRESHER_UAC;

  /* RFC 4028 section 9: refresher=uac obliges Require: timer in the 2xx;
   * with refresher=uas it is harmless when the UAC supports timer, and it
   * tells the UAC that we do too. A UAC without support would not
   * understand it, so it gets none. */
  n = snprintf(lines, len, "Session-Expires: %" PRIu32 ";refresher=%s\r\n%s",
               interval, who == REFRESHER_UAC ? "uac" : "uas",
               uac_supports ? "Require: timer\r\n" : "");
  if (cay__lines_finish(lines, len, n) < 0)
    return CAY_ELIMIT;

  st->interval_s = interval;
  /* We are the UAS of this transaction. */
  st->we_refresh = who == REFRESHER_UAS;
  return 0;
}

long
cay__stimer_request_lines(unsigned expires_s, unsigned min_se_s,
                          const cay__stimer_t *cur, char *lines, size_t len)
{
  unsigned min_se, interval;
  const char *refresher = "";
  int n;

  assert(lines || len == 0);
  /* RFC 4028 section 5: Min-SE is never below 90 s. */
  min_se = min_se_s < CAY_STIMER_FLOOR_S ? CAY_STIMER_FLOOR_S : min_se_s;

  if (cur && cur->interval_s) {
    /* RFC 4028 section 7.4: a refresh keeps the session's refresher. The
     * sender of the refresh is the UAC of its transaction, so "uac" names
     * us when we refresh and "uas" names the peer when it does. */
    interval = cur->interval_s;
    refresher = cur->we_refresh ? ";refresher=uac" : ";refresher=uas";
  } else if (expires_s) {
    interval = expires_s;
  } else {
    /* RFC 4028 section 7.1: support is listed in every request, even
     * when no timer is asked for. */
    n = snprintf(lines, len, "Supported: timer\r\n");
    return cay__lines_finish(lines, len, n);
  }
  /* RFC 4028 section 7.1 and 7.4: Session-Expires MUST NOT be below the
   * Min-SE we send (after a 422, the Min-SE it carried). */
  if (interval < min_se)
    interval = min_se;

  n = snprintf(lines, len,
               "Supported: timer\r\nSession-Expires: %u%s\r\n"
               "Min-SE: %u\r\n",
               interval, refresher, min_se);
  return cay__lines_finish(lines, len, n);
}

void
cay__stimer_on_response(const sip_t *resp, cay__stimer_t *st)
{
  const sip_session_expires_t *se;
  uint32_t interval;

  assert(resp && st);
  se = resp->sip_session_expires;
  if (!se) {
    /* RFC 4028 section 7.2: a 2xx without Session-Expires means no session
     * expiration, on an initial request or a refresh alike. */
    st->interval_s = 0;
    st->we_refresh = 0;
    return;
  }
  interval = clamp_u32(se->x_delta);
  /* RFC 4028 section 9: the UAS MUST NOT answer with less than 90 s. A
   * peer that does anyway would make us BYE at once (interval 0) or
   * refresh in a tight loop; hold it to the floor. */
  if (interval < CAY_STIMER_FLOOR_S)
    interval = CAY_STIMER_FLOOR_S;
  st->interval_s = interval;
  /* RFC 4028 section 7.2: the refresher parameter says who refreshes; we
   * are the UAC of this transaction. Section 9 makes the UAS set it, so a
   * missing one is the peer's error: we take the work, since a spare
   * refresh is cheap and a missing one ends the call. */
  st->we_refresh = refresher_of(se) != REFRESHER_UAS;
}

unsigned
cay__stimer_min_se_of_422(const sip_t *resp)
{
  assert(resp);
  if (!resp->sip_status || resp->sip_status->st_status != 422)
    return 0;
  /* RFC 4028 section 6: a 422 MUST carry Min-SE. A malformed one is in
   * sip_error, not in sip_min_se, and counts as missing. */
  if (!resp->sip_min_se)
    return 0;
  /* RFC 4028 section 5: a Min-SE below 90 s is illegal; retrying with it
   * would earn the same 422 again. */
  if (resp->sip_min_se->min_delta < CAY_STIMER_FLOOR_S)
    return 0;
  return clamp_u32(resp->sip_min_se->min_delta);
}

uint64_t
cay__stimer_due_ms(const cay__stimer_t *st)
{
  uint64_t interval_ms, margin_ms;

  assert(st);
  interval_ms = (uint64_t)st->interval_s * 1000;
  if (!interval_ms)
    return 0;
  /* RFC 4028 section 10: the refresher sends its refresh at half the
   * session interval. */
  if (st->we_refresh)
    return interval_ms / 2;
  /* RFC 4028 section 10: the other side sends BYE when no refresh came
   * before the interval minus the lesser of 32 s and a third of it. */
  margin_ms = interval_ms / 3;
  if (margin_ms > 32000)
    margin_ms = 32000;
  return interval_ms - margin_ms;
}
