/*
 * Call detail records as the library hands them to an embedder: one per
 * call a `forward` route took, one per call answered here (by an
 * `answer` route or no routes: Cay's own answering; or by the embedder,
 * cay_server_on_session()), one per call the embedder placed
 * (cay_session_invite(), cay_session_invite_with(): no source, no B
 * leg; the embedder is the caller), and one per INVITE the routes
 * refused, made when the call is over (README "Call detail records"
 * says what each field means). The same record goes, as one line of
 * JSON, to cdr.file when one is configured.
 */
#ifndef CAY_CDR_H
#define CAY_CDR_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Who ended a call (the record's ended_by). */
typedef enum cay_cdr_end {
  CAY_CDR_CALLER = 1,   /* A's BYE or CANCEL, or A's transaction failed;
                           a call the embedder placed: its hang-up */
  CAY_CDR_CALLEE,       /* B's BYE, or B's final failure; a call answered
                           here: Cay's hangup_after_ms, or the embedder's
                           hang-up or rejection; a call the embedder
                           placed: the callee's BYE or failure (timer B's
                           408 too) */
  CAY_CDR_RING_TIMEOUT, /* the route's ring_timeout_s */
  CAY_CDR_MAX_DURATION, /* the route's (or dialog:) max_duration_s */
  CAY_CDR_ERROR,        /* B's answer could not be relayed to A */
  CAY_CDR_SHUTDOWN,     /* Cay's drain or close ended it */
  CAY_CDR_REFUSED,      /* a forward route took it, no B leg could be
                           placed (not registered, no common codec, ...) */
  CAY_CDR_REJECTED,     /* the routes refused it: no route matched (404),
                           a reject route, a forward that loops (482); or
                           its session timer is below Min-SE (422) */
} cay_cdr_end_t;

/**
 * One call's record. Times are Unix time in ms (UTC), taken from the
 * shard's clock anchored to the wall clock at the start, so that
 * differences do not jump when the system time is set.
 */
typedef struct cay_cdr {
  int64_t start_ms;      /* A's INVITE taken by the routes (placed by
                            the embedder: the call placed) */
  int64_t progress_ms;   /* the callee's first provisional above 100
                            relayed to A (sent, for a call answered
                            here), or 0 */
  int64_t answer_ms;     /* A's 2xx sent, or 0 */
  int64_t end_ms;        /* the first leg ended, or Cay ended both */
  int64_t setup_ms;      /* answer_ms - start_ms, or -1: not answered */
  int64_t duration_ms;   /* end_ms - answer_ms (billed), 0: not answered */
  const char *call_id;   /* A's Call-ID (placed by the embedder: its
                            INVITE's, and so the next three) */
  const char *from;      /* A's From URI ("" when it has none) */
  const char *to;        /* A's To URI */
  const char *ruri;      /* A's Request-URI */
  const char *source;    /* "udp:192.0.2.1:5060" (tcp, tls, ws, wss), or
                            NULL: none (a call the embedder placed) */
  const char *target;    /* the last B leg's Request-URI, or NULL: none
                            (also a call answered here) */
  const char *b_call_id; /* the last B leg's Call-ID, or NULL: none */
  unsigned attempts;     /* B legs placed (failover counted); 0: none,
                            as for a call answered here */
  int status;            /* the final response A got (200: answered) */
  int b_status;          /* the last B leg's final response, 0: none */
  cay_cdr_end_t ended_by;
  unsigned shard; /* the shard that owned the call */
  /* The record as cdr.file gets it: one line of JSON (RFC 8259), '\n'
   * included, NUL-terminated; json_len bytes without the NUL. */
  const char *json;
  size_t json_len;
  /* The Reason header field value (RFC 3326) of what ended the call: the
   * BYE, CANCEL or final failure (RFC 6432) of the leg that ended first,
   * or the one Cay sent when it ended the call (ring_timeout: Q.850 19;
   * max_duration: Q.850 102; shutdown: SIP 503), every Reason field
   * joined by ", "; NULL: none. */
  const char *reason;
  /* The hang-up cause (ITU-T Q.850, 1..127): the cause in reason's Q.850
   * value; without one, the cause a gateway would give (RFC 3398): 16
   * (normal call clearing) for an answered call, else the one section
   * 8.2.6.1 maps status to (486: 17, 404: 1, 480: 18, ...); 0: none
   * (487, 488, 606, a status not in that table). */
  int q850;
} cay_cdr_t;

/**
 * Receives each record. Every pointer in @p cdr is borrowed for the call
 * only: copy what you keep.
 *
 * @thread the shard that owned the call (shard 0 runs on the embedder's
 *         loop; the others on Cay's threads): with more than one shard,
 *         calls come from several threads at once. Return soon: the shard
 *         waits.
 */
typedef void (*cay_cdr_cb)(const cay_cdr_t *cdr, void *arg);

/**
 * Take every call detail record (with or without cdr.file; a record
 * made counts in cay_stats_t.cdrs).
 *
 * @param cb   Called once per record; NULL: none. Borrowed.
 * @param arg  Passed to @p cb. Borrowed.
 * @return 0 or CAY_ESTATE (already started).
 * @thread the thread that created @p srv, before cay_server_start()
 */
int cay_server_on_cdr(cay_server_t *srv, cay_cdr_cb cb, void *arg);

/**
 * The name of @p e as the JSON record writes it ("caller", "callee",
 * "ring_timeout", "max_duration", "error", "shutdown", "refused",
 * "rejected"), or "unknown". Static storage.
 * @thread any
 */
const char *cay_cdr_end_name(cay_cdr_end_t e);

#ifdef __cplusplus
}
#endif

#endif
