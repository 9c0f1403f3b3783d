/* An outgoing call for the UAC unit tests: support/uac_call.h. */
#include "support/uac_call.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
uac_on_state(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  uac_record_t *r = arg;
  cay_session_state_t state = ev->state;
  int status = ev->status;

  (void)s;
  if (state == CAY_SESSION_TERMINATING || state == CAY_SESSION_TERMINATED)
    snprintf(r->reason, sizeof r->reason, "%s", ev->reason ? ev->reason : "");
  if (r->n < 16) {
    r->states[r->n] = state;
    r->statuses[r->n] = status;
    r->n++;
  }
}

cay__session_t *
uac_call(peer_t *p, uac_record_t *r)
{
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>",
                                       "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
                                       "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                       "m=audio 4000 RTP/AVP 0\r\n",
                                       uac_on_state, r, &s),
                   0);
  ck_assert_ptr_nonnull(s);
  return s;
}

/* An INVITE of about 1,500 bytes (an SDP with many a= lines). */
cay__session_t *
uac_large_call(peer_t *p, uac_record_t *r)
{
  char sdp[1400];
  cay__session_t *s = NULL;

  peer_padded_sdp(sdp, sizeof sdp,
                  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", sdp, uac_on_state,
                                       r, &s),
                   0);
  return s;
}

/* The transport of sent message @p i's top Via ("UDP", "TCP"), in @p buf. */
const char *
uac_via_transport(peer_t *p, unsigned i, char *buf)
{
  char *via = peer_header(p, i, "Via");

  ck_assert_ptr_nonnull(via);
  ck_assert_int_eq(strncmp(via, "SIP/2.0/", 8), 0);
  memcpy(buf, via + 8, 3);
  buf[3] = '\0';
  free(via);
  return buf;
}

/* The callee's BYE in the dialog of our INVITE: support/uac_call.h. */
void
uac_their_bye(peer_t *p, unsigned inv, const char *from_tag, const char *extra)
{
  char *from = peer_header(p, inv, "From");
  char *cid = peer_header(p, inv, "Call-ID");
  char req[1024];

  snprintf(req, sizeof req,
           "BYE sip:cay@127.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-theirbye\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:svc@127.0.0.1:5070>%s\r\n"
           "To: <sip:cay@127.0.0.1>%s\r\nCall-ID: %s\r\nCSeq: 9 BYE\r\n"
           "%sContent-Length: 0\r\n\r\n",
           from_tag, strstr(from, ";tag="), cid, extra);
  peer_send_raw(p, req, strlen(req));
  free(from);
  free(cid);
}
