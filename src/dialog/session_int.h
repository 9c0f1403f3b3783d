/* Private to the session layer (session.c, uac.c, request.c). */
#ifndef CAY_DIALOG_SESSION_INT_H
#define CAY_DIALOG_SESSION_INT_H

#include <stddef.h>

#include "dialog/session.h"
#include "dialog/stimer.h"

typedef struct cay__mod cay__mod_t;

struct cay__session {
  cay__hnode_t hnode; /* in ss->dialogs, by Call-ID and both tags */
  cay__hnode_t mnode; /* incoming: in ss->merge, by Call-ID and From tag */
  cay__defer_t defer;
  cay__sessions_t *ss;
  cay_id_t id;
  cay_id_t invite_txn;
  cay__session_state_t state;
  unsigned ring_waited : 1;
  unsigned answer_waited : 1;
  unsigned offer_in_invite : 1;
  unsigned uac : 1;           /* we sent the INVITE */
  unsigned in_table : 1;      /* in ss->dialogs (a UAC once the tag is known) */
  unsigned in_merge : 1;      /* in ss->merge */
  unsigned manual : 1;        /* the embedder answers (cay_server_on_session) */
  unsigned rel : 2;           /* UAS: 100rel required (1) / supported (2) */
  unsigned prack_wait : 1;    /* UAS: a reliable 1xx awaits its PRACK */
  unsigned early_dialog : 1;  /* UAC: remote tag/target from a 1xx */
  unsigned peer_update : 1;   /* the peer's Allow lists UPDATE */
  unsigned stimer_422 : 2;    /* UAC: INVITE retries after 422 */
  unsigned answer_wanted : 1; /* UAS: answer once the PRACK is in */
  unsigned bridged : 1;       /* a B2BUA leg: the bridge keeps the time */
  unsigned foreign : 1;       /* its Call-ID hashes to another shard */
  unsigned ack_pending : 1;   /* UAC: the 2xx held an offer, not yet ACKed */
  unsigned ack_deferred : 1;  /* UAC: the embedder answers it later */
  unsigned max_forwards : 8;  /* UAC: Max-Forwards + 1 to send, 0 = 70 */
  unsigned locating : 1;      /* UAC: DNS is finding the INVITE's next hop */
  unsigned located : 1;       /* UAC: peer is the hop DNS found (RFC 3263) */
  unsigned n_targets : 3;     /* UAC: entries left in targets */
  unsigned cancelled : 1;     /* UAC: hung up before the answer: no other
                                 target is tried */
  unsigned by_flow : 1;       /* UAC: every request goes to peer, the
                                 callee's registered flow (RFC 5626
                                 section 5.3), whatever its Contact says */
  /* The INVITE's offer was answered in a reliable provisional (RFC 3262;
   * UAS: ours is sent, UAC: theirs is PRACKed): an UPDATE may change the
   * session in the early dialog (RFC 3311 section 5.1), and a UAS's 2xx
   * repeats the SDP last sent in it (s->sdp). */
  unsigned early_oa : 1;
  /* UAS: the INVITE came over TLS for a sips Request-URI: our Contact is
   * sips too (RFC 3261 section 12.1.1). */
  unsigned sips : 1;
  /* Who ended a call of a record (its ended_by, b2bua/cdr.h) when not
   * the other party: answered here, the callee (Cay's hangup_after_ms,
   * the embedder's hang-up or rejection); placed by the embedder, the
   * caller (its hang-up); max_duration, error; 0: the other party, or not
   * known yet (cay__session_ended_by()). */
  unsigned end_by : 4;
  int end_status;    /* the status that ended it, for the callback */
  cay_session_cb cb; /* the embedder's, or NULL */
  void *cb_arg;
  cay__mod_t *mod;         /* a re-INVITE/UPDATE in progress, either way */
  cay__stimer_t st;        /* RFC 4028 session timer (interval 0: none) */
  char *origin;            /* "user id" of o= when the embedder's SDP went
                              first (RFC 3264 section 8), else NULL */
  uint32_t max_s;          /* dialog max duration, s (0: none) */
  uint32_t sdp_version;    /* o= version of our last SDP (RFC 3264 s.8) */
  uint32_t rseq;           /* UAS: RSeq of our last reliable 1xx; UAC: the
                              last RSeq PRACKed */
  uint32_t no_response_ms; /* UAC: give a target up after this long
                              without any response (0: timer B only) */
  struct cay__auth *auth;  /* UAC: credentials for a 401/407 to the INVITE
                              (dialog/auth.h), or NULL */
  /* The dialog state of RFC 3261 section 12.1.1, as text in one block
   * (memory per dialog is a goal: sofia-sip headers in an su_home cost
   * about 2 KB, this about 300 bytes). Headers are parsed again only for
   * the rare request Cay sends in the dialog (BYE). */
  char *text;                /* cay__malloc'd block holding the strings */
  const char *call_id;       /* Call-ID */
  const char *local_tag;     /* our To tag */
  const char *remote_tag;    /* their From tag */
  const char *local_party;   /* the INVITE's To with our tag: our From */
  const char *remote_party;  /* the INVITE's From: our To */
  const char *remote_target; /* the INVITE's Contact URI */
  const char *route_set;     /* Record-Route values in order, or NULL */
  uint32_t remote_cseq;
  uint32_t invite_cseq;
  uint32_t local_cseq;
  cay__peer_t peer;                /* where the INVITE's responses went (and its
                                      connection over TCP) */
  struct cay__dns_target *targets; /* UAC: the next hops DNS found after
                                      peer, to try in order when the
                                      INVITE fails (RFC 3263 4.3), or NULL
                                      (cay__malloc) */
  /* Our answer (or offer) until the 200 is out. A bridged session keeps
   * here, once confirmed, the SDP it last sent that took effect, which a
   * session refresh by re-INVITE repeats (cay__session_keep_sdp()); a
   * UAS whose early dialog completed offer/answer (early_oa) keeps here
   * the SDP it last sent in that dialog, which its 2xx repeats. */
  char *sdp;
  size_t sdp_len;
  const cay_route_t *pass_route; /* a bridged leg's route, whose
                                    pass_headers of its peer's responses
                                    (UAC: cay__invite_opts_t.pass), BYE
                                    and CANCEL are reported, or NULL */
  char *pass_lines; /* UAS: header lines our next provisional or final
                       response carries (cay__session_set_pass_lines());
                       UAC: header lines every INVITE of ours carries
                       (a bridge's pass_headers); either, once ending:
                       those of our BYE, also when it goes again with
                       credentials; or NULL (cay__malloc) */
  char *reason;     /* what ended it, as a Reason header field value (RFC
                       3326): the peer's BYE, CANCEL or final response's
                       (cay__session_note_reason()), or our own BYE's
                       (cay__session_bye()); its TERMINATING and
                       TERMINATED events carry it (ev->reason); or NULL
                       (cay__malloc) */
  char *ok_bytes;   /* UAS: the 2xx as sent, for retransmission; UAC: the
                       ACK as sent, again for each 2xx copy (cay__malloc) */
  struct cay__reack *reack; /* the ACK of our last re-INVITE's 2xx, again
                               for each copy (modify.c), or NULL */
  struct cay__info *infos;  /* INFOs either way awaiting their final
                               response (info.c) */
  struct cay__cdr *cdr;     /* a call answered here (no bridge) or placed
                               by the embedder: its detail record, or
                               NULL (session_cdr.c) */
  size_t ok_len;
  unsigned ok_interval;
  cay__timer_t t_step;  /* UAS: ring delay, answer delay, 2xx retransmit;
                           UAC calling: no_response_ms; once CONFIRMED the
                           session timer (RFC 4028) */
  cay__timer_t t_guard; /* 64*T1 without ACK; after the ACK, hangup_after */
  cay__timer_t t_max;   /* dialog max duration */
};

/* A session modification in progress (RFC 3261 section 14, RFC 3311), on
 * the heap only while one runs: most sessions never see one. */
struct cay__mod {
  /* Theirs: the re-INVITE/UPDATE we answer. */
  cay_id_t in_txn;        /* its server transaction, 0 when none */
  unsigned in_invite : 1; /* a re-INVITE (2xx needs its ACK) */
  unsigned in_deferred : 1;
  unsigned in_answered : 1; /* 2xx sent, waiting for the ACK */
  unsigned in_no_offer : 1; /* a re-INVITE without an offer: our 2xx has
                               one, its ACK the answer (EV_ANSWER) */
  uint32_t in_cseq;
  char *in_ok; /* our 2xx to a re-INVITE, retransmitted until the ACK */
  size_t in_ok_len;
  unsigned in_interval;
  cay__timer_t t_in;     /* 2xx retransmission (13.3.1.4) */
  cay__timer_t t_in_end; /* 64*T1 without the ACK */
  /* Ours: the re-INVITE/UPDATE we sent. */
  cay_id_t out_txn;
  unsigned out_invite : 1;
  unsigned out_refresh : 1;   /* a session-timer refresh, not the embedder's */
  unsigned out_tries : 2;     /* 491 retries so far (14.1) */
  unsigned out_auth : 1;      /* sent with credentials after a 401/407 (22.2) */
  unsigned out_cancelled : 1; /* cay_session_modify_cancel() (9.1) */
  unsigned out_no_offer : 1;  /* cay_session_modify_without_offer() */
  /* Its 2xx held the peer's offer: the ACK waits for the answer
   * (cay_session_answer_offer(), deferred or not). */
  unsigned out_ack_pending : 1;
  unsigned out_ack_deferred : 1;
  uint32_t out_ack_cseq; /* the re-INVITE's CSeq, for that ACK */
  char *out_peer_offer;  /* that offer, for Cay's own answer */
  char *out_sdp;         /* our offer, kept for a retry after 491 */
  char *out_lines;       /* header lines it carries (the other leg's
                            pass_headers), also when it goes again, or
                            NULL (cay__malloc) */
  cay__timer_t t_out;    /* the 14.1 retry delay */
  cay__session_t *s;
};

/* 13.2.2.4: the ACK for the 2xx of our re-INVITE, as sent, for copies of
 * that 2xx (our ACK was lost); kept until the next one or the end. */
struct cay__reack {
  uint32_t cseq;   /* the re-INVITE's */
  cay__peer_t dst; /* where it went */
  size_t len;
  char data[];
};

/* An INFO, REFER or NOTIFY either way whose final response is still to
 * come (info.c). Ours: kept to report that response (a request id was
 * asked for), to end the session on 408/481 (12.2.1.2), and with
 * credentials to go again after a 401/407 (22.2). Theirs: deferred by
 * the embedder (cay_session_defer_request()), answered 487 if the
 * session ends first. */
struct cay__info {
  struct cay__info *next;
  cay_id_t txn;     /* ours: the client transaction of the last send;
                       theirs: the server transaction */
  cay_id_t request; /* ours: the id given to the embedder, or 0 */
  unsigned theirs : 1;
  unsigned method : 2; /* ours: index into info.c's method table */
  size_t ctype_len, body_len, hdrs_len; /* ours */
  char data[]; /* ours: the content type, '\0', the body, the header
                  lines, '\0' */
};

/* info.c: their INFO, REFER or NOTIFY @p sip (transaction @p t),
 * reported, and answered when the owner did not take it: an INFO 200,
 * a REFER or NOTIFY 405. */
void cay__info_received(cay__session_t *s, cay__txn_t *t, sip_t *sip);
/* request.c: 405 with the Allow of Cay's UAS (RFC 3261 section 8.2.1). */
void cay__reply_405(cay__txn_t *t);
/* Send @p method ("INFO", "REFER" or "NOTIFY") with header lines @p hdrs
 * (or NULL), @p ctype (NULL: no body) and @p body (@p len bytes) in the
 * dialog, kept until its final response; @p request (or NULL) receives
 * the id its EV_REQUEST_ANSWERED will carry. -EINVAL for another
 * method. */
int cay__info_send(cay__session_t *s, const char *method, const char *hdrs,
                   const char *ctype, const char *body, size_t len,
                   cay_id_t *request);
/* The session ends, or our BYE goes out: their deferred requests get 487
 * (15.1.2), and every kept one is freed. */
void cay__info_end(cay__session_t *s);
/* Free the kept requests without answering any (the session is freed). */
void cay__info_free_all(cay__session_t *s);
/* The final response to our INFO, REFER or NOTIFY (@p txn_id): after a
 * 401/407 it goes again with credentials, else it is reported (when
 * asked) and done. @return 1 when @p txn_id was one. */
int cay__info_response(cay__session_t *s, cay_id_t txn_id, int status,
                       const sip_t *sip);

/* When to end or refresh, from s->st (modify.c). */
void cay__session_stimer_start(cay__session_t *s);

/* The session that owns hash node @p n (hnode is not the first member:
 * the su_home is). */
#define SESSION_OF(n)                                                          \
  ((cay__session_t *)((char *)(n)-offsetof(cay__session_t, hnode)))

/* A request in the dialog (12.2.1.1). */
typedef struct cay__dreq {
  sip_method_t method;
  const char *name; /* "BYE" */
  uint32_t cseq;
  int contact;       /* carry our Contact (target refresh requests) */
  const char *extra; /* header lines "Name: value\r\n...", or NULL */
  const char *ctype; /* body type, or NULL */
  const char *body;
  size_t body_len;
} cay__dreq_t;

/* The Contact and Allow lines of our 2xx to an INVITE or re-INVITE in
 * @p s (layer.c builds them per transport): a bridged leg allows REFER
 * and NOTIFY too, which the bridge relays. */
static inline const char *
cay__session_ok_lines(const cay__session_t *s)
{
  unsigned at = s->sips ? CAY__LINES_SIPS : s->peer.proto;

  return s->bridged ? s->ss->lines_200_bridged[at] : s->ss->lines_200[at];
}

/* RFC 3311 section 5.1: an UPDATE may change the session in its early
 * dialog now (a reliable provisional answered the INVITE's offer); one
 * of ours (@p sending) from the UAS waits for that provisional's PRACK
 * too. */
static inline int
cay__session_early_update(const cay__session_t *s, int sending)
{
  return s->state == CAY__SESSION_EARLY && s->early_oa
         && (s->uac ? s->early_dialog : !(sending && s->prack_wait));
}

/* session.c */
/* A bridged session sent @p sdp (@p len bytes) and it took effect (its
 * INVITE's answered offer, an answer, an accepted change's offer): kept
 * in s->sdp, so that a session refresh by re-INVITE offers it again (RFC
 * 4028 section 7.4, RFC 3264 section 8: the same SDP, the same version,
 * changes nothing) instead of Cay's own SDP, which would move the peer's
 * media to an address where nothing listens. A UAS in an early dialog
 * with its offer/answer done (early_oa) keeps it too: its 2xx repeats it
 * (RFC 6337 section 3.1.1). No-op for other sessions, or @p sdp NULL;
 * without memory the older copy stays. */
void cay__session_keep_sdp(cay__session_t *s, const char *sdp, size_t len);
/* RFC 3261 section 22.2: our request @p method got 401/407 (@p status,
 * @p sip): 1 when the session has credentials and took the challenge (the
 * request goes again with cay__auth_line()), else 0, and the log says
 * why. */
int cay__session_challenged(cay__session_t *s, int status, const sip_t *sip,
                            const char *method);
/* RFC 3261 section 22.2: our BYE got 401/407 (@p status, @p sip) and the
 * session has credentials: the BYE again with them (CSeq + 1). @return 1
 * when it went (the session waits for its answer), else 0. */
int cay__session_bye_challenged(cay__session_t *s, int status,
                                const sip_t *sip);
cay__session_t *cay__session_find(cay__sessions_t *ss, const sip_t *sip);
/** The session whose dialog (RFC 3261 section 12) has Call-ID @p cid,
 * local tag @p ltag and remote tag @p rtag, or NULL. */
cay__session_t *cay__session_find_dialog(cay__sessions_t *ss, const char *cid,
                                         const char *ltag, const char *rtag);
/** RFC 3261 section 8.2.2.2: an incoming session whose INVITE had the
 * Call-ID, From tag and CSeq of @p sip (a new INVITE without a To tag
 * that no transaction matched: the same request by another path), or
 * NULL. */
cay__session_t *cay__session_merged(cay__sessions_t *ss, const sip_t *sip);
int cay__session_create(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
                        int manual, cay__session_t **out);
void cay__session_destroy(cay__session_t *s);
/* cay__session_destroy() whose TERMINATED event carries @p headers (the
 * pass_headers of the request or response that ended it), or NULL. */
void cay__session_end(cay__session_t *s, const char *headers);
/* Cay ends the session on its own (why: for the log): a BYE with a Reason
 * (RFC 3326) of @p cause, a Q.850 cause (1..127: 102 recovery on timer
 * expiry, 16 normal clearing) or a SIP status (300..699), and @p why as
 * its text; 0: no Reason. Its TERMINATING event carries that line in
 * ev->headers (a bridge gives the other leg the same). */
void cay__session_bye(cay__session_t *s, int cause, const char *why);
/* Q.850 causes of RFC 3326 Reason lines (ITU-T Q.850 table 1). */
#define CAY__Q850_NORMAL    16
#define CAY__Q850_NO_ANSWER 19
#define CAY__Q850_TIMER     102
/* Room for the Reason value a session keeps (s->reason). */
#define CAY__REASON_MAX 256
/* "Q.850;cause=N;text=\"why\"" (or SIP;cause= for a status 300..699,
 * see cay__session_bye()) in @p buf (@p size bytes); "" for @p cause 0
 * or when it does not fit. @return buf. */
const char *cay__reason_value(char *buf, size_t size, int cause,
                              const char *why);
/* Reason value @p value (cay__reason_value()) as a header line in @p buf
 * (@p size bytes): "Reason: " value "\r\n"; "" for "" or when it does
 * not fit. @return buf. */
const char *cay__reason_line(char *buf, size_t size, const char *value);
/* s->reason from the Reason header fields of @p msg (the peer's BYE,
 * CANCEL or final response), every value joined by ", " (those that fit
 * in CAY__REASON_MAX bytes); nothing when it has none, when @p msg is
 * NULL, when s->reason is set (the first end counts) or on -ENOMEM. */
void cay__session_note_reason(cay__session_t *s, msg_t *msg);
/* A BYE carrying header lines @p lines (a bridge's pass_headers of the
 * other leg's BYE, or Cay's Reason), or NULL; reported in the
 * TERMINATING event's ev->headers. */
void cay__session_bye_with(cay__session_t *s, const char *why,
                           const char *lines);
void cay__session_ack(cay__session_t *s, const sip_t *sip);
/* 9.2: CANCEL @p cancel of @p invite, our session's INVITE. */
void cay__session_cancel(cay__session_t *s, cay__txn_t *invite, msg_t *cancel);
void cay__session_remote_bye(cay__session_t *s, cay__txn_t *t);
int cay__session_timer(cay__session_t *s, cay__timer_t *t, uint64_t ms);
void cay__session_reply(cay__txn_t *t, int status, const char *phrase,
                        const char *tag, const char *const *headers);
/* The URI the next request of @p s goes to (12.2.1.1 with loose
 * routing): the first of the route set (a preloaded one for the first
 * INVITE, 8.1.2), else the remote target; into @p buf. @return 0, or
 * -1 when it does not fit (encode.c). */
int cay__session_next_hop(const cay__session_t *s, char *buf, size_t size);
/* The same for route set @p route ("<uri>, <uri>", or NULL) and target
 * @p target. */
int cay__next_hop(const char *route, const char *target, char *buf,
                  size_t size);
/* cay_session_reject() with header line @p line (no CRLF; NULL: none)
 * in the response, before the bridge's pass_headers. @return 0 or
 * CAY_ESTATE. */
int cay__session_reject_line(cay__session_t *s, int status, const char *reason,
                             const char *line);
void cay__session_init_timers(cay__session_t *s);
void cay__session_start_max(cay__session_t *s);
/* Send request @p r in the dialog as a client transaction; its final
 * response reaches the session when @p report is set. */
int cay__session_send(cay__session_t *s, const cay__dreq_t *r, int report,
                      cay_id_t *txn_id);
/* Send the ACK @p r (of a 2xx) to the dialog's next hop (@p dst receives
 * it); with @p keep, a copy of the bytes (cay__malloc'd) for resending. */
int cay__session_send_ack(cay__session_t *s, const cay__dreq_t *r,
                          cay__peer_t *dst, char **keep, size_t *keep_len);
/* Encode @p r into @p buf and say where it goes. @return bytes or < 0. */
long cay__session_encode(cay__session_t *s, const cay__dreq_t *r,
                         const char *branch, char *buf, size_t size,
                         cay__peer_t *dst);
/* Bytes of header lines a bridge passes from one leg's INVITE or response
 * to the other's (a route's pass_headers): with Cay's own, well inside
 * the largest message Cay encodes. */
#define CAY__PASS_MAX 4096
/* UAS: our next provisional and 2xx responses to the INVITE carry
 * @p lines ("Name: value\r\n"..., NULL: none), copied, until the next
 * call (a bridge sets the other leg's passed headers before each).
 * @return 0, -ENOMEM (none are carried then). */
int cay__session_set_pass_lines(cay__session_t *s, const char *lines);
/* 1 when @p h is lines "Name: value\r\n" (a token, a colon, no CR or LF
 * inside) none of which names a header Cay writes, else 0. */
int cay__session_headers_ok(const char *h);
int cay__session_set_target(cay__session_t *s, const url_t *url);
uint64_t cay__dialog_hash(const char *call_id, const char *local_tag,
                          const char *remote_tag);

/* session_api.c */
void cay__session_notify(cay__session_t *s, int status);
/* The state event of @p s with @p status, carrying @p headers. */
void cay__session_notify_with(cay__session_t *s, int status,
                              const char *headers);
/* The header lines of @p msg, a request or response from the peer of
 * bridged leg @p s, that its route passes to the other leg (written to
 * @p buf of @p size bytes, at least CAY__PASS_MAX), or NULL: none, no
 * route, or no one to tell. A header that could not be passed is logged.
 * Nothing but a pointer test without a route that passes headers. */
const char *cay__session_pass_of(cay__session_t *s, msg_t *msg, char *buf,
                                 size_t size);
void cay__session_event(cay__session_t *s, const cay_session_event_t *ev);
/* Point @p ev's body at @p sip's (when it has one), typed @p ctype. */
void cay__session_event_body(cay_session_event_t *ev, const sip_t *sip,
                             const char *ctype);
int cay__session_set_text(cay__session_t *s, const char *const v[7]);

/* session_cdr.c: the record of incoming session @p s answered here
 * (handle_invite(): no forward route takes it; none without ss->cdr_sink, or on
 * -ENOMEM: counted lost), begun from its INVITE @p sip and transaction @p t;
 * or of outgoing session @p s the embedder placed (no source; its From, To
 * and Request-URI); its first provisional above 100 sent or received; its
 * 2xx sent or received; who ended it (the first call counts; none: the
 * other party); its end (the first call counts: the BYE we sent, or the
 * end; a drain or close: shutdown), with s->reason; and, once the session
 * has ended, the record written with its final status (200 when answered,
 * else s->end_status). Each is a no-op without a record. */
void cay__session_cdr_begin(cay__session_t *s, const cay__txn_t *t,
                            const sip_t *sip);
void cay__session_cdr_placed(cay__session_t *s);
void cay__session_cdr_progress(cay__session_t *s);
void cay__session_cdr_answered(cay__session_t *s);
void cay__session_ended_by(cay__session_t *s, cay_cdr_end_t who);
void cay__session_cdr_ended(cay__session_t *s);
void cay__session_cdr_write(cay__session_t *s);

/* uas.c */
int cay__session_auto_sdp(cay__session_t *s, const sip_t *sip);
void cay__session_start(cay__session_t *s);
void cay__session_step(cay__session_t *s);
void cay__session_prack(cay__session_t *s, cay__txn_t *t, const sip_t *sip);
void cay__session_prack_timeout(cay__session_t *s);
void cay__session_origin(cay__session_t *s, const char *sdp);
/* The answer an ACK carries to @p offer, the offer of a 2xx to our INVITE
 * or re-INVITE without one (RFC 3261 13.2.1): @p given, the embedder's
 * (whose o= is ours from now, RFC 3264 section 8), else Cay's own from
 * its configured codecs (in *own, cay__free() it), else NULL (none can
 * be given: the ACK goes without). *len receives its length. */
const char *cay__session_ack_answer(cay__session_t *s, const char *offer,
                                    const char *given, char **own, size_t *len);
int cay__session_answer_sdp(cay__session_t *s, const char *offer, size_t len,
                            char **out, size_t *out_len);
int cay__session_offer_sdp(cay__session_t *s, char **out, size_t *out_len);

/* modify.c */
/* The session's modification record, made when missing (NULL: no
 * memory); freed again by cay__mod_put() once neither direction is
 * busy. */
cay__mod_t *cay__mod_get(cay__session_t *s);
void cay__mod_put(cay__session_t *s);
/* modify_out.c: the 14.1 retry timer of our re-INVITE/UPDATE. */
void cay__mod_out_retry(cay__timer_t *tm);
/* modify_out.c: the ACK held for the answer to the offer in the 2xx of
 * our re-INVITE without one (out_ack_pending) goes now, with @p sdp
 * (NULL: Cay's own answer to that offer); no-op when none is held. */
void cay__mod_send_held_ack(cay__session_t *s, const char *sdp);
/* modify_out.c: cay_session_answer_offer() for that held ACK: @p status
 * 200 sends it with @p sdp (NULL: Cay's own answer); a refusal (300 to
 * 699) sends Cay's own answer and then BYE (13.2.2.4: a 2xx cannot be
 * refused). @return 0. */
int cay__mod_ack_answer(cay__session_t *s, int status, const char *sdp);
void cay__mod_request(cay__session_t *s, cay__txn_t *t, sip_t *sip);
/* RFC 3261 section 9.2: a CANCEL for re-INVITE server transaction
 * @p invite of session @p s: reported (EV_CANCEL) when its offer waits
 * for the embedder, then 487 unless the embedder keeps it open. */
void cay__mod_cancelled(cay__session_t *s, const cay__txn_t *invite);
int cay__mod_ack(cay__session_t *s, const sip_t *sip);
int cay__mod_response(cay__session_t *s, cay_id_t txn_id, int status,
                      msg_t *msg);
int cay__mod_send(cay__session_t *s, const char *sdp, int update, int refresh);
/* cay_session_modify(), cay_session_modify_without_offer() and
 * cay_session_answer_offer() whose request or response carries header
 * lines @p lines ("Name: value\r\n"..., NULL: none; a bridge's
 * pass_headers of the other leg's), copied; the request's also when it
 * goes again (491, credentials). Same returns. */
int cay__session_modify_with(cay__session_t *s, const char *sdp, int update,
                             const char *lines);
int cay__session_modify_without_offer_with(cay__session_t *s,
                                           const char *lines);
int cay__session_answer_offer_with(cay__session_t *s, int status,
                                   const char *sdp, const char *lines);
int cay__mod_busy(const cay__session_t *s);
void cay__mod_free(cay__session_t *s);
void cay__session_stimer_fire(cay__session_t *s);
void cay__session_stimer_lines(const cay__session_t *s, const sip_t *req,
                               char *buf, size_t len);

/* uac.c */
/* 13.2.1: ACK the 2xx whose offer is pending, with @p sdp as the answer
 * (NULL: Cay's own); @p status >= 300 ACKs without one and ends the
 * session. @return 0, CAY_ESTATE (no ACK pending) or the send's error. */
int cay__uac_ack_answer(cay__session_t *s, int status, const char *sdp);
/* RFC 3261 section 13.2.2.4: a 2xx of an INVITE client transaction whose
 * session has ended (or that the session gave up) gets its ACK, built
 * from the 2xx alone; the dialog it makes (@p copy 0) then gets a BYE, a
 * copy of a 2xx already ACKed (@p copy 1) does not. @p peer is where the
 * INVITE went; @p why ends the log line ("after its session ended"). A
 * 2xx without a usable Contact or From tag is dropped. @p msg stays the
 * caller's. Shard thread. */
void cay__uac_stray_2xx(cay__sessions_t *ss, const cay__peer_t *peer,
                        msg_t *msg, int copy, const char *why);
/* Send the first INVITE of outgoing session @p s (its next hop is known)
 * and log it. @return 0 or the send's error. */
int cay__uac_start(cay__session_t *s);
/* The INVITE of @p s (calling) had no response in s->no_response_ms: give
 * its transaction up (cay__txn_give_up()) and go on as after timer B's
 * 408: the next target DNS found, or the call fails. No-op when the
 * INVITE has had a response. */
void cay__uac_no_response(cay__session_t *s);

/* A new Call-ID that hashes to this shard (DESIGN.md rule 2), for a
 * request Cay begins (uac.c): random tokens "@" our sent-by until one
 * does. */
void cay__uac_call_id(cay__sessions_t *ss, char *buf, size_t len);

/* locate.c */
/* RFC 3263: when the first INVITE's next hop (its maddr, else its host)
 * is a name and the shard has a resolver, look it up; the INVITE goes
 * once it is found (locate.c), or the session ends as after a transport
 * error (503). @return 1 (located later), 0 (no lookup: send now; a name
 * without a resolver is refused by the send), -EINVAL (a URI that does
 * not parse, port 0, a transport Cay does not send over), -ENOMEM. */
int cay__uac_locate(cay__session_t *s);
/* The RFC 3263 question for a first request to @p url (section 4: its
 * maddr, copied into @p maddr, else its host; sips; the transport
 * parameter; the port) into @p q. @return 1 (ask DNS), 0 (an IP literal
 * host or maddr: no DNS, cay__url_dest() gives the address), -EINVAL (no
 * host, port 0, a transport Cay does not send over). */
struct cay__dns_query;
int cay__uac_query(const url_t *url, struct cay__dns_query *q, char *maddr,
                   size_t maddr_len);

/* RFC 3263 section 4.3 for any first request whose next hop DNS found
 * (an outgoing session's INVITE, uac.c; a relayed MESSAGE,
 * b2bua/pager.c): the addresses after the one tried, walked in DNS's
 * order when a try fails, and what the resolver learns from each try. */
/* Who the request is, for the log lines: "<kind> <call_id>: <method> to
 * <uri> ...". Every pointer is borrowed for the call. */
typedef struct cay__locate_who {
  const cay__sessions_t *ss;
  const char *kind;    /* "session", "message" */
  const char *call_id; /* the request's own Call-ID */
  const char *method;  /* "INVITE", "MESSAGE" */
  const char *uri;     /* the target it goes to */
} cay__locate_who_t;
/* Keep targets @p t[1..n-1] (the first is the one tried now) in *@p rest,
 * cay__malloc'd (the caller frees it), for cay__locate_next(). @return
 * how many (at most CAY__DNS_MAX_TARGETS - 1), 0 with *@p rest NULL when
 * @p n < 2 or without memory (no failover then, as with one address). */
unsigned cay__locate_keep(const struct cay__dns_target *t, size_t n,
                          struct cay__dns_target **rest);
/* The try of request @p w at one address failed with @p status (503 or
 * 408, from the target or from the transaction): take the next address
 * from @p rest (*@p n entries, shifted down) into @p out and log which,
 * as RFC 3263 section 4.3 asks. @return 1 when there was one, 0 when none
 * is left (@p rest may be NULL). */
int cay__locate_next(const cay__locate_who_t *w, int status,
                     struct cay__dns_target *rest, unsigned *n,
                     struct cay__dns_target *out);
/* A response of request @p w from address @p addr, which DNS found
 * (@p sip NULL when made inside Cay: a 408 of timer B or F or of the
 * route's no_response_timeout_ms, a 503 of a transport error): the
 * shard's resolver gives @p addr last to later lookups for
 * dns.failed_target_s after such a 408 or 503, and for the seconds of a
 * target's 503 with Retry-After (RFC 3261 section 21.5.4); any other
 * response makes it forget @p addr. No-op without a resolver. */
void cay__locate_heard(const cay__locate_who_t *w, const cay__addr_t *addr,
                       int status, const sip_t *sip);

/* End outgoing session @p s still being located with @p status (487
 * when hung up, 503 when no target was found). */
void cay__uac_locate_end(cay__session_t *s, int status);

/* The answer for session @p s (locating): send the INVITE to @p t[0] and
 * keep @p t[1..n-1] for cay__uac_next_target(). Ends the session (503)
 * when the INVITE cannot be sent. @p t is borrowed. */
void cay__uac_located(cay__session_t *s, const struct cay__dns_target *t,
                      size_t n);

/* RFC 3263 section 4.3: the INVITE of @p s failed with @p status (408 or
 * 503, from the peer or from the transaction: timeout, transport error)
 * before any answer with a tag: send a new INVITE (a new transaction,
 * the next CSeq) to the next target DNS found. @return 1 when one went,
 * 0 when there is none left (the call fails). */
int cay__uac_next_target(cay__session_t *s, int status);

/* A response of the INVITE to the hop DNS found for @p s, while no
 * answer with a tag came (no-op for an IP literal, and called by uac.c
 * only then): @p sip from the target, or NULL when made inside
 * Cay (a 408 of timer B, a 503 of a transport error). The resolver then
 * gives that target last to later lookups for dns.failed_target_s, and
 * for the seconds of a 503's Retry-After (RFC 3261 section 21.5.4); any
 * other answer makes it forget the target. */
void cay__uac_target_heard(cay__session_t *s, int status, const sip_t *sip);

/* Forget the targets left (the call was answered or ended). */
void cay__uac_targets_free(cay__session_t *s);

void cay__uac_response(cay__session_t *s, cay_id_t txn_id, int status,
                       msg_t *msg);

/* request.c: the TU's on_request. */
void cay__sessions_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip);

#endif
