/*
 * The bridge relays INFO (RFC 6086), REFER (RFC 3515), NOTIFY (RFC 6665)
 * and MESSAGE (RFC 3428 section 4) of one leg to the other and the
 * answer back; a NOTIFY about a relayed REFER names the sender's REFER
 * (Event: refer;id=).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b2bua/bridge_int.h"
#include "cay/errno.h"
#include "core/alloc.h"

/* REFER number @p orig_cseq of one side went to leg @p to as number
 * @p copy_cseq: remembered for the NOTIFYs that leg sends about it. */
static void
note_refer(bridge_t *br, cay_id_t to, uint32_t orig_cseq, uint32_t copy_cseq)
{
  refer_map_t *m = cay__calloc(1, sizeof *m), **pp = &br->refers;
  unsigned n = 0;

  if (m == NULL)
    return; /* its NOTIFYs go with the copy's id */
  m->to = to;
  m->orig_cseq = orig_cseq;
  m->copy_cseq = copy_cseq;
  m->next = br->refers;
  br->refers = m;
  while (*pp && n++ < MAX_REFERS) /* past the newest MAX_REFERS */
    pp = &(*pp)->next;
  if (*pp) {
    cay__free(*pp); /* the oldest: at most one past the limit */
    *pp = NULL;
  }
}

/* A NOTIFY's header lines @p h from leg @p from, with "Event: refer;id=N"
 * naming the REFER the other side sent when N is the CSeq of its copy to
 * @p from (RFC 3515 section 2.4.6), written to @p buf; @p h itself when
 * there is nothing to change or no room. */
static const char *
notify_headers(bridge_t *br, cay_id_t from, const char *h, char *buf,
               size_t size)
{
  const char *ev = strncmp(h, "Event:", 6) == 0 ? h : strstr(h, "\nEvent:");
  const char *id, *end;
  char *after;
  unsigned long n;

  if (ev == NULL)
    return h;
  ev += *ev == '\n' ? 7 : 6;
  ev += strspn(ev, " \t");
  end = ev + strcspn(ev, "\r");
  if (strncasecmp(ev, "refer", 5) != 0 || strchr(";\r \t", ev[5]) == NULL)
    return h;
  for (id = ev; (id = strchr(id, ';')) != NULL && id < end; id++)
    if (strncasecmp(id + 1 + strspn(id + 1, " \t"), "id=", 3) == 0)
      break;
  if (id == NULL || id >= end)
    return h;
  id = strchr(id, '=') + 1;
  n = strtoul(id, &after, 10);
  for (const refer_map_t *m = br->refers; m; m = m->next)
    if (m->to == from && m->copy_cseq == n) {
      int len = snprintf(buf, size, "%.*s%u%s", (int)(id - h), h,
                         (unsigned)m->orig_cseq, after);
      return len > 0 && (size_t)len < size ? buf : h;
    }
  return h;
}

/* An INFO (RFC 6086), REFER (RFC 3515), NOTIFY (RFC 6665) or MESSAGE
 * from one side: a copy to the other side, whose final response answers it
 * (cay__bridge_relay_request_answer()). One that cannot go (the other
 * side has no early dialog yet; a REFER or NOTIFY before the answer) gets
 * 500, a failure of the transaction only (RFC 5057); an empty INFO gets
 * 200 (legacy keep-alive: our dialog with the sender is there). */
void
cay__bridge_relay_request(bridge_t *br, cay__session_t *from, cay_id_t to_id,
                          const cay_session_event_t *ev)
{
  cay__session_t *to = bridge_leg(br, to_id);
  info_relay_t *r = cay__calloc(1, sizeof *r);
  const char *hdrs = ev->headers;
  int refer = strcmp(ev->method, "REFER") == 0;
  char buf[4200];

  if (r == NULL) {
    cay_session_answer_request(from, ev->request, 500, NULL, NULL);
    return;
  }
  if (strcmp(ev->method, "NOTIFY") == 0)
    hdrs = notify_headers(br, from->id, hdrs, buf, sizeof buf);
  int err = to ? cay_session_request(to, ev->method, hdrs, ev->content_type,
                                     ev->body, ev->body_len, &r->copy)
               : CAY_ESTATE;
  if (err == 0) {
    if (refer)
      note_refer(br, to_id, from->remote_cseq, to->local_cseq);
    if (cay_session_defer_request(from) == 0) {
      r->orig = ev->request;
      r->to = to_id;
      r->next = br->infos;
      br->infos = r;
      return;
    }
    /* No memory to wait: the sender gets Cay's own answer. */
  } else if (ev->body_len || ev->kind == CAY_SESSION_EV_REQUEST) {
    /* Before the answer: the other side has no early dialog yet, or the
     * method waits for the confirmed one (cay_session_request()). */
    int early = to
                && (to->state == CAY__SESSION_CALLING
                    || to->state == CAY__SESSION_EARLY);
    cay_session_answer_request(from, ev->request, 500,
                               err == CAY_ESTATE && early
                                   ? "Server Internal Error - Not Before The "
                                     "Answer"
                                   : "Server Internal Error - Not Relayed",
                               NULL);
  }
  cay__free(r);
}

/* The other side answered our copy (@p ev->request) of a request of
 * @p from_id's side: that request gets the answer (a REFER's 202 stays
 * 202), a failure mapped as for a re-INVITE. */
void
cay__bridge_relay_request_answer(bridge_t *br, cay_id_t from_id,
                                 const cay_session_event_t *ev)
{
  info_relay_t **pp = &br->infos, *r;
  cay__session_t *from;
  int status = ev->status;

  while (*pp && (*pp)->copy != ev->request)
    pp = &(*pp)->next;
  if ((r = *pp) == NULL)
    return;
  *pp = r->next;
  /* A 420 names what the other side does not support (RFC 3261 section
   * 8.2.2.3): a Require the bridge relayed (norefersub, RFC 4488), so the
   * sender gets it as it is, with its Unsupported. */
  if (status >= 300 && !(status == 420 && ev->headers))
    status = cay__bridge_map_in_dialog(status);
  if ((from = bridge_leg(br, from_id)) != NULL)
    cay_session_answer_request(from, r->orig, status, NULL, ev->headers);
  cay__free(r);
}

void
cay__bridge_requests_free(bridge_t *br)
{
  while (br->infos) {
    info_relay_t *r = br->infos;
    br->infos = r->next;
    cay__free(r);
  }
  while (br->refers) {
    refer_map_t *m = br->refers;
    br->refers = m->next;
    cay__free(m);
  }
}

void
cay__bridge_requests_leg_gone(bridge_t *br, cay_id_t gone, cay_id_t from_id)
{
  cay__session_t *from = bridge_leg(br, from_id);
  info_relay_t **pp = &br->infos, *r;

  while ((r = *pp) != NULL) {
    if (r->to != gone) {
      pp = &r->next;
      continue;
    }
    *pp = r->next;
    if (from)
      cay_session_answer_request(from, r->orig, 500,
                                 "Server Internal Error - Callee Gone", NULL);
    cay__free(r);
  }
}
