/*
 * RFC 3262 reliable provisional responses: option tags, RSeq and RAck as
 * pure functions over sofia-sip's parsed headers. See rel.h.
 */
#include "dialog/rel.h"
#include "dialog/stimer.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>

#include "cay/errno.h"

/* RFC 3262 section 3: the first RSeq lies in 1..2^31-1. */
#define RSEQ_FIRST_MAX 0x7fffffffu

int
cay__rel_wanted(const sip_t *invite)
{
  assert(invite);
  /* RFC 3262 section 3: with Require: 100rel the UAS MUST send its
   * 101-199 responses reliably; with Supported: 100rel it MAY. Require
   * wins when both list it. */
  if (sip_has_feature(invite->sip_require, "100rel"))
    return CAY_REL_REQUIRED;
  if (sip_has_feature(invite->sip_supported, "100rel"))
    return CAY_REL_SUPPORTED;
  return CAY_REL_NONE;
}

long
cay__rel_lines(uint32_t rseq, char *lines, size_t len)
{
  int n;

  assert(lines || len == 0);
  /* RFC 3262 section 3: a reliable provisional carries Require: 100rel
   * and an RSeq. */
  n = snprintf(lines, len, "Require: 100rel\r\nRSeq: %" PRIu32 "\r\n", rseq);
  return cay__lines_finish(lines, len, n);
}

uint32_t
cay__rel_first_rseq(uint64_t random)
{
  /* RFC 3262 section 3: between 1 and 2^31-1, RECOMMENDED uniform. */
  return (uint32_t)(random % RSEQ_FIRST_MAX) + 1;
}

int
cay__rel_prack_matches(const sip_t *prack, uint32_t rseq, uint32_t invite_cseq)
{
  const sip_rack_t *rack;

  assert(prack);
  /* RFC 3262 section 7.2: RAck is mandatory in a PRACK. One that does not
   * parse ends up in sip_error, not here. */
  rack = prack->sip_rack;
  if (!rack)
    return -1;
  /* RFC 3262 section 3: the PRACK matches when its RAck carries the
   * provisional's RSeq, and the CSeq number and method of the response.
   * Methods are case-sensitive (RFC 3261 section 7.1), and so is
   * sofia-sip: "invite" parses as sip_method_unknown. */
  if (rack->ra_response != rseq || rack->ra_cseq != invite_cseq
      || rack->ra_method != sip_method_invite)
    return 0;
  return 1;
}

int
cay__rel_provisional(const sip_t *resp, uint32_t *rseq)
{
  int status;

  assert(resp && rseq);
  if (!resp->sip_status)
    return 0;
  status = resp->sip_status->st_status;
  /* RFC 3262 section 4: a 100 (Trying)'s Require: 100rel MUST be ignored
   * (section 3: only 101-199 may be sent reliably). */
  if (status < 101 || status > 199)
    return 0;
  /* RFC 3262 defines reliable provisionals for INVITE only: the RAck names
   * the INVITE's CSeq. A response without a CSeq never got past the
   * transaction layer; be strict anyway. */
  if (!resp->sip_cseq || resp->sip_cseq->cs_method != sip_method_invite)
    return 0;
  if (!sip_has_feature(resp->sip_require, "100rel"))
    return 0;
  /* RFC 3262 section 7.1: RSeq is 1..2^32-1. sofia-sip rejects larger
   * values itself (the header lands in sip_error); 0 is ours to refuse. */
  if (!resp->sip_rseq || resp->sip_rseq->rs_response == 0)
    return -1;
#if ULONG_MAX > UINT32_MAX
  if (resp->sip_rseq->rs_response > UINT32_MAX)
    return -1;
#endif
  *rseq = (uint32_t)resp->sip_rseq->rs_response;
  return 1;
}

long
cay__rel_rack_line(uint32_t rseq, uint32_t cseq, char *lines, size_t len)
{
  int n;

  assert(lines || len == 0);
  /* RFC 3262 section 7.2: RAck = response-num CSeq-num Method. */
  n = snprintf(lines, len, "RAck: %" PRIu32 " %" PRIu32 " INVITE\r\n", rseq,
               cseq);
  return cay__lines_finish(lines, len, n);
}
