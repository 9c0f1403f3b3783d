/*
 * RFC 4028 session timers as pure functions over parsed messages: what to
 * answer to a request that asks for a timer, what to put in the requests
 * we send, what a 2xx or a 422 decided, and when the next timer event is
 * due. Nothing here arms a timer or keeps state beyond the caller's
 * cay__stimer_t; the session layer owns the timer (DESIGN.md rule 6).
 *
 * "uac" and "uas" in a refresher parameter name the roles in the
 * transaction that carries it, not in the dialog: in a re-INVITE the
 * peer sends, the peer is the UAC even when we placed the call.
 *
 *   request with Session-Expires --cay__stimer_on_request()--> 2xx lines
 *                                 \--> 422 with Min-SE
 *   our request (cay__stimer_request_lines()) --2xx-->
 *                                   cay__stimer_on_response()
 *                                  --422--> cay__stimer_min_se_of_422(),
 *                                           retry with that Min-SE
 *   after either: cay__stimer_due_ms() -> refresh (we refresh) or BYE
 *   (the peer refreshes and no refresh came)
 */
#ifndef CAY_DIALOG_STIMER_H
#define CAY_DIALOG_STIMER_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

/* RFC 4028 section 4 and 5: no session interval and no Min-SE may be below
 * 90 seconds. */
#define CAY_STIMER_FLOOR_S 90u

/** The negotiated session timer of one dialog. */
typedef struct cay__stimer {
  uint32_t interval_s; /* negotiated Session-Expires in s; 0 = no timer */
  uint8_t we_refresh;  /* 1: we send the refreshes; 0: the peer does */
} cay__stimer_t;

/**
 * UAS side (RFC 4028 section 9): decide the session timer for a request
 * that may carry Session-Expires (initial INVITE, re-INVITE or UPDATE).
 *
 * The floor is the largest of 90 s, @p min_se_s and the request's own
 * Min-SE (section 5: a Session-Expires below the request's Min-SE breaks
 * the request's own contract).
 *
 * - No Session-Expires in the request: no timer; *st = {0, 0} and
 *   @p lines = "". (Cay never inserts a Session-Expires of its own as UAS;
 *   section 9 would let it, with the request's Min-SE as a floor.)
 * - Session-Expires below the floor and the UAC supports timer (Supported
 *   or Require lists "timer"): 422, @p lines = "Min-SE: <floor>\r\n".
 *   This includes Session-Expires 0 and anything below 90, which section 4
 *   forbids.
 * - Session-Expires below the floor and the UAC does not support timer (a
 *   proxy inserted the header): a 422 would only fail the call, since the
 *   UAC cannot retry with a larger interval. As section 8.1 tells a proxy
 *   and erratum 1687 tells the UAS, the interval is raised to the floor
 *   instead, and we refresh.
 * - Otherwise the interval is the request's Session-Expires (clamped to
 *   2^32-1 s: section 9 lets the UAS reduce it, never increase it).
 *
 * The refresher follows section 9's table: when the UAC supports timer,
 * the request's refresher parameter ("uac"/"uas", any case) when given,
 * else "uac"; when it does not, always "uas" (a refresher=uac it cannot
 * honour would leave nobody refreshing). An empty or unknown refresher
 * value counts as absent. We are the UAS, so we_refresh = (refresher ==
 * uas). On 0 with a timer, @p lines is
 *   "Session-Expires: N;refresher=uac|uas\r\n"
 * followed by "Require: timer\r\n" when the UAC supports timer (mandatory
 * for refresher=uac, section 9). Malformed Session-Expires or Min-SE
 * headers are in sip_error, invisible here: the caller's RFC 3261 section
 * 8.2 check answers such a request 400 first.
 *
 * @param min_se_s  Our configured Min-SE in s (>= 90; below 90 counts as
 *                  90).
 * @param req       The request. Borrowed.
 * @param st        Receives the negotiated timer, on 0 only.
 * @param lines     Receives NUL-terminated header lines (each ending in
 *                  CRLF), for the 2xx on 0 and for the 422 on 422.
 *                  Borrowed. On CAY_ELIMIT it holds "" when @p len > 0.
 * @param len       Bytes in @p lines (64 is always enough).
 * @return 0 (answer 2xx with @p lines), 422 (answer 422 Session Interval
 *         Too Small with @p lines), or CAY_ELIMIT (@p lines too small).
 * @thread any
 */
int cay__stimer_on_request(unsigned min_se_s, const sip_t *req,
                           cay__stimer_t *st, char *lines, size_t len);

/**
 * UAC side (RFC 4028 sections 7.1 and 7.4): the header lines for a
 * request we send (INVITE, re-INVITE or UPDATE).
 *
 * Section 7.1: a UAC supporting session timers lists "timer" in Supported
 * in every request; so the lines start with "Supported: timer\r\n".
 * Then, when asking for a timer, "Session-Expires: N\r\nMin-SE: M\r\n"
 * with M = max(90, @p min_se_s) and N = max(@p expires_s, M) (section 7.1:
 * Session-Expires MUST NOT be below Min-SE). For a refresh of a running
 * timer (@p cur not NULL and cur->interval_s > 0), N = max(cur->interval_s,
 * M) and Session-Expires gets ";refresher=uac" when cur->we_refresh, else
 * ";refresher=uas": section 7.4 keeps the refresher of the session, and
 * whoever sends the refresh is the UAC of that transaction. After a 422 to
 * the refresh, pass that 422's Min-SE as @p min_se_s: N rises with it.
 *
 * With @p expires_s 0 and no running timer: "Supported: timer\r\n" only
 * (we support timers but ask for none).
 *
 * @param expires_s  Interval to ask for in s, or 0; ignored when @p cur
 *                   is a running timer.
 * @param min_se_s   Min-SE in s: our configured one, or the largest Min-SE
 *                   a 422 or a request in this dialog carried (section
 *                   7.4).
 * @param cur        The running timer for a refresh, or NULL. Borrowed.
 * @param lines      Receives NUL-terminated header lines. Borrowed.
 * @param len        Bytes in @p lines (96 is always enough).
 * @return Bytes written (without the NUL), or CAY_ELIMIT (@p lines too
 *         small; it then holds "" when @p len > 0).
 * @thread any
 */
long cay__stimer_request_lines(unsigned expires_s, unsigned min_se_s,
                               const cay__stimer_t *cur, char *lines,
                               size_t len);

/**
 * UAC side (RFC 4028 section 7.2): what the 2xx to our INVITE or UPDATE
 * decided.
 *
 * Session-Expires in the 2xx: interval_s = its delta, clamped to
 * 90..2^32-1 s (section 9 forbids the UAS to answer below 90; the floor
 * keeps a broken peer from making us BYE at once); refresher=uac (any
 * case) -> we_refresh 1, refresher=uas -> 0. Section 9 obliges the UAS to
 * set the parameter; when it is missing, empty or unknown we refresh
 * anyway: a refresh nobody needed costs one request, while a refresh
 * nobody sends ends the call.
 *
 * No Session-Expires in the 2xx: *st = {0, 0}, no timer (section 7.2: the
 * UAS may turn the timer off, also in mid-dialog). Section 7.2 lets a UAC
 * that asked for a timer keep it for its own benefit, as refresher with
 * the interval it asked for; that choice is the caller's: set *st to
 * {asked, 1} itself.
 *
 * @param resp  The 2xx response. Borrowed.
 * @param st    Receives the timer. Borrowed.
 * @thread any
 */
void cay__stimer_on_response(const sip_t *resp, cay__stimer_t *st);

/**
 * RFC 4028 sections 6 and 7.3: the Min-SE of a 422 response, the interval
 * in s to retry with.
 *
 * @param resp  A response. Borrowed.
 * @return Its Min-SE in s (clamped to 2^32-1), or 0 when @p resp is not a
 *         422, has no Min-SE, a malformed one, or one below 90 (section 5
 *         forbids it): the caller gives up. The caller must also give up
 *         when the value is not above the Session-Expires it sent, or the
 *         retries would loop.
 * @thread any
 */
unsigned cay__stimer_min_se_of_422(const sip_t *resp);

/**
 * RFC 4028 section 10: when the next timer event of a session is due,
 * counted from a successful negotiation or refresh.
 *
 * We refresh: after half the interval (section 10 recommends one half).
 * The peer refreshes: we send BYE when no refresh came before the interval
 * minus the lesser of 32 s and a third of the interval (section 10),
 * computed in ms so that a third is exact to the ms.
 *
 * @param st  The timer. Borrowed.
 * @return Delay in ms, or 0 when st->interval_s is 0 (no timer).
 * @thread any
 */
uint64_t cay__stimer_due_ms(const cay__stimer_t *st);

/**
 * The end of every header-line writer here and in rel.c: @p n is what
 * snprintf returned for @p lines of @p len bytes.
 * @return @p n, or CAY_ELIMIT (with @p lines emptied) when it was cut.
 * @thread any
 */
long cay__lines_finish(char *lines, size_t len, int n);

#endif
