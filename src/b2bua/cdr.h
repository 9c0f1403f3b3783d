/*
 * Call detail records of the B2BUA: one record per call a forward route
 * took (from A's INVITE to the end of its last leg), made on the call's
 * shard when the bridge is freed (at once when no B leg could be placed,
 * cay__bridge_refused(), or the routes refused the INVITE,
 * cay__bridge_rejected()) and handed to the shard's sink
 * (cay__sessions_t.cdr_sink) as a cay_cdr_t (cay/cdr.h) that carries it
 * as one line of JSON (RFC 8259) too:
 *
 *   {"start":"2026-11-25T10:00:00.123Z","progress":"...","answer":"...",
 *    "end":"...","setup_ms":1333,"duration_ms":5000,
 *    "call_id":"a-leg@host","from":"sip:alice@example.com",
 *    "to":"sip:bob@example.com","ruri":"sip:bob@example.com",
 *    "source":"udp:192.0.2.1:5060","target":"sip:bob@10.0.0.5:5070",
 *    "b_call_id":"...","attempts":1,"status":200,"b_status":200,
 *    "ended_by":"caller",
 *    "reason":"Q.850;cause=16;text=\"Normal call clearing\"",
 *    "q850":16,"shard":0}
 *
 *   start      A's INVITE taken by the route (UTC, ms)
 *   progress   the callee's first provisional above 100 relayed, or null
 *   answer     A answered (2xx sent), or null
 *   end        the call ended: the first leg ended, or Cay ended both
 *   setup_ms   answer - start, or null; duration_ms: end - answer, 0
 *              when not answered (what is billed)
 *   from, to, ruri   A's From URI, To URI and Request-URI
 *   source     where A's INVITE came from (transport:address:port)
 *   target     the last B leg's Request-URI, b_call_id its Call-ID (null
 *              when none was placed); attempts: B legs placed (failover)
 *   status     the final response A got (200 when answered); b_status the
 *              last B leg's final response to its INVITE (0: none)
 *   ended_by   caller (A's BYE or CANCEL, or A's transaction failed),
 *              callee (B's BYE or failure), ring_timeout, max_duration,
 *              error (B's answer could not be relayed), shutdown,
 *              refused (no B leg could be placed: not registered, no
 *              common codec, ...; attempts 0, target null), rejected
 *              (the routes refused the INVITE: no route, 404; a reject
 *              route; a forward that loops, 482; attempts 0)
 *   reason     the Reason header field value (RFC 3326) of what ended
 *              the call: the BYE, CANCEL or final failure (RFC 6432) of
 *              the leg that ended first, or the one Cay sent when it
 *              ended the call (ring_timeout: Q.850 19, max_duration:
 *              Q.850 102, shutdown: SIP 503), or null: none
 *   q850       the cause of reason's Q.850 value (1..127), or null
 *
 * Times come from the shard clock (uv_now, ms) anchored to the wall clock
 * once, at start: durations do not jump when the system time is set.
 * Everything here runs on the call's shard.
 */
#ifndef CAY_B2BUA_CDR_H
#define CAY_B2BUA_CDR_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

#include "cay/cdr.h"

/* Who ended a call (the record's ended_by): a cay_cdr_end_t, or this
 * while the call runs. */
typedef cay_cdr_end_t cay__cdr_end_t;
#define CAY__CDR_OPEN ((cay_cdr_end_t)0)

/* One call's record, filled while the call runs (the bridge owns it). */
typedef struct cay__cdr {
  int64_t wall_start_ms;                   /* Unix time of start, ms */
  uint64_t start_ms;                       /* shard clock, ms */
  uint64_t progress_ms, answer_ms, end_ms; /* shard clock; 0: not yet */
  int status, b_status;
  unsigned attempts;
  unsigned shard;
  cay__cdr_end_t ended_by;
  char *reason;             /* cay__malloc, or NULL: none */
  int q850;                 /* reason's Q.850 cause, 0: none */
  char *a_text;             /* cay__malloc: the five strings below */
  const char *call_id;      /* A's Call-ID */
  const char *from, *to;    /* A's From and To URIs */
  const char *ruri;         /* A's Request-URI */
  const char *source;       /* "udp:192.0.2.1:5060" */
  char *target, *b_call_id; /* cay__malloc, or NULL */
} cay__cdr_t;

/* A new record for A's INVITE @p sip (Call-ID @p call_id, from @p source,
 * "proto:addr:port", or NULL), started now (@p now_ms, shard clock) on
 * shard @p shard: the record, or NULL (-ENOMEM; the call goes on without
 * one). */
cay__cdr_t *cay__cdr_begin(const sip_t *sip, const char *call_id,
                           const char *source, unsigned shard, uint64_t now_ms);
/* A B leg was placed to @p target with Call-ID @p b_call_id (copied; on
 * -ENOMEM the record keeps the previous ones). */
void cay__cdr_placed(cay__cdr_t *r, const char *target, const char *b_call_id);
/* The call ended now, by @p who, for @p reason (a Reason header field
 * value, RFC 3326, copied; NULL or "": none; on -ENOMEM the record has
 * none); the first call counts. */
void cay__cdr_ended(cay__cdr_t *r, cay__cdr_end_t who, uint64_t now_ms,
                    const char *reason);
/* The cause of the first Q.850 value in Reason header field value @p v
 * (RFC 3326 section 2: protocol *(";" param), values joined by commas;
 * quoted strings skipped), 1..127, or 0: none. */
int cay__cdr_q850(const char *v);
/* The ISUP cause (ITU-T Q.850) that RFC 3398 section 8.2.6.1 maps final
 * response @p status to (486: 17, 404: 1, ...), or 0: none (487, 488,
 * 606, a status the table does not list). */
int cay__cdr_q850_of_status(int status);
/* The record as the embedder sees it, in *@p view (its strings point
 * into @p r; Unix times), and as one line of JSON, '\n' included,
 * NUL-terminated (view->json, view->json_len): the line, cay__malloc'd,
 * the caller frees it; NULL on -ENOMEM. A record not ended gets end =
 * @p now_ms and ended_by shutdown. Strings are escaped (RFC 8259 section
 * 7); a byte that is not UTF-8 becomes U+FFFD. */
char *cay__cdr_format(const cay__cdr_t *r, uint64_t now_ms, cay_cdr_t *view);
/* Free @p r (NULL: nothing). */
void cay__cdr_free(cay__cdr_t *r);

#endif
