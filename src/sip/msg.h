/*
 * Helpers over sofia-sip msg/sip: parse, validate, build, serialize.
 *
 * A msg_t owns its memory (its su_home); msg_destroy() frees it and every
 * header in it. Nothing here keeps pointers into a message.
 */
#ifndef CAY_SIP_MSG_H
#define CAY_SIP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>

#include "transport/addr.h"

#define CAY_SERVER_NAME "Cay/0.1.0"
#define CAY_ALLOW       "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO"
/* A bridged leg's: the bridge relays REFER (RFC 3515) and NOTIFY (RFC
 * 6665) to the other side, so that a UA offering transfers only to peers
 * that allow REFER offers them across the bridge. */
#define CAY_ALLOW_BRIDGED CAY_ALLOW ", REFER, NOTIFY, MESSAGE"
#define CAY_ACCEPT        "application/sdp"
#define CAY_SUPPORTED     "100rel, timer" /* RFC 3262, RFC 4028 */

/**
 * Parse one complete SIP message (RFC 3261 section 7) with msg_make().
 *
 * Multipart bodies are never handed to sofia-sip's multipart parser: the
 * body stays an opaque payload.
 *
 * @param data  Raw bytes. Borrowed; copied.
 * @param len   Bytes in @p data.
 * @param out   Receives the message (caller owns; msg_destroy()), also on
 *              CAY_EPARSE when enough parsed to answer with 400; NULL when
 *              nothing usable parsed.
 * @return 0 (well-formed), CAY_EPARSE (some header or the start line did
 *         not parse), -ENOMEM.
 * @thread any
 */
int cay__msg_parse(const char *data, size_t len, msg_t **out);

/**
 * True when a response to @p sip can be sent: it has a request line and a
 * parsed Via to route the response by (RFC 3261 section 18.2.2). The
 * response copies whichever of From, To, Call-ID and CSeq parsed: RFC 4475
 * section 3.3.1 asks for a 400 even when they are missing.
 */
int cay__msg_answerable(const sip_t *sip);

/**
 * Validate a request per RFC 3261 section 8.2 (mandatory headers of section
 * 8.1.1 parsed, CSeq method equals the request method, SIP/2.0, a sip or
 * sips Request-URI, Content-Length not beyond the body, headers that failed
 * to parse), and that the sip/sips URIs of the Request-URI, From and To
 * print back as they must (19.1.1: valid host, numeric port, no path).
 *
 * @param msg     The message. Borrowed.
 * @param phrase  Receives a static reason phrase when the result is not 0,
 *                such as "Bad Request - Missing Call-ID".
 * @return 0 (valid) or the status code to answer: 400, 416 (Request-URI
 *         scheme), 505 (version).
 * @thread any
 */
int cay__msg_check_request(msg_t *msg, const char **phrase);

/** Validate a response: status line, Via, From, To, Call-ID, CSeq, and
 * From and To URIs as for a request. 0 or CAY_EPARSE. */
int cay__msg_check_response(msg_t *msg);

/**
 * Build a response to @p req (RFC 3261 section 8.2.6.2): the same Via
 * headers in order, From, To (with @p to_tag added when the request's To
 * has no tag and @p to_tag is not NULL), Call-ID, CSeq, Server,
 * Content-Length 0. For 101-299 to a dialog-creating request the
 * Record-Route headers are copied too (section 12.1.1).
 *
 * @param req     The request. Borrowed.
 * @param status  100..699.
 * @param phrase  Reason phrase, or NULL for the standard one. Borrowed.
 * @param to_tag  Tag to add, or NULL. Borrowed; copied.
 * @return The response (caller owns), or NULL on allocation failure.
 * @thread any
 */
msg_t *cay__msg_response(msg_t *req, int status, const char *phrase,
                         const char *to_tag);

/**
 * Encode a response to @p req straight into @p buf, without building a
 * msg_t: the same headers as cay__msg_response() (Via list, Record-Route
 * for 101-299 to a dialog-creating request, From, To with @p to_tag added
 * when the request's To has none, Call-ID, CSeq), then Server, the lines
 * of @p extra, and the body. The fast path for responses that no outgoing
 * hook needs to see: it allocates nothing.
 *
 * @param extra     Header lines, each ending in CRLF, or NULL. Borrowed.
 * @param ctype     Content-Type of @p body, or NULL for no body.
 * @param buf       Output. Borrowed.
 * @param size      Bytes in @p buf.
 * @return Bytes written (no NUL), -ENOSPC (@p buf too small), -EINVAL
 *         (no request line, a header that cannot be encoded).
 * @thread any
 */
long cay__msg_response_encode(msg_t *req, int status, const char *phrase,
                              const char *to_tag, const char *extra,
                              const char *ctype, const char *body,
                              size_t body_len, char *buf, size_t size);

/** What a request Cay sends (BYE, ACK, CANCEL) is made of. */
typedef struct cay__req_spec {
  sip_method_t method;     /* sip_method_bye, ... */
  const char *method_name; /* "BYE" */
  const url_t *ruri;       /* Request-URI. Borrowed. */
  const char *via_host;    /* sent-by host (IP literal) */
  unsigned via_port;       /* sent-by port */
  int proto;               /* CAY__UDP (0), CAY__TCP or CAY__TLS (Via) */
  const char *branch;      /* z9hG4bK... */
  const sip_from_t *from;  /* with tag. Borrowed. */
  const sip_to_t *to;      /* with tag when in a dialog. Borrowed. */
  const char *call_id;     /* Borrowed. */
  uint32_t cseq;
  const sip_route_t *route;     /* route set, or NULL. Borrowed. */
  const sip_contact_t *contact; /* or NULL. Borrowed. */
  const char *content_type;     /* or NULL */
  const char *body;             /* or NULL */
  size_t body_len;
} cay__req_spec_t;

/** A request as text pieces, for cay__msg_request_encode(). */
typedef struct cay__req_text {
  const char *method_name; /* "BYE" */
  const char *ruri;        /* Request-URI, encoded */
  const char *sent_by;     /* "host:port" ("[v6]:port") for the Via */
  int proto;               /* CAY__UDP, CAY__TCP or CAY__TLS */
  const char *branch;
  const char *route;     /* "<uri1>, <uri2>" or NULL */
  unsigned max_forwards; /* + 1, or 0 for 70 */
  const char *from, *to; /* header values, with tags */
  const char *call_id;
  uint32_t cseq;
  const char *contact; /* header value, or NULL */
  const char *extra;   /* header lines ending in CRLF, or NULL */
  const char *ctype;   /* or NULL */
  const char *body;
  size_t body_len;
} cay__req_text_t;

/**
 * Encode a request straight from text pieces, the same headers in the
 * same order as cay__msg_request(), without a msg_t: the fast path for a
 * request in a dialog (ACK, BYE, ...) that no outgoing hook must see.
 * The pieces are trusted (Cay's own dialog state).
 *
 * @return Bytes written (no NUL), -ENOSPC (@p buf too small), -EINVAL (a
 *         mandatory piece is NULL).
 * @thread any
 */
long cay__msg_request_encode(const cay__req_text_t *r, char *buf, size_t size);

/**
 * Change the transport of the top Via of the serialized request @p data
 * between UDP and TCP, in place (both names are three bytes, so nothing
 * moves): RFC 3261 section 18.1.1, a request sent over another transport
 * than its top Via names must have that Via changed. The top Via is the
 * first header line named Via or v (any case); its value must begin
 * "SIP/2.0/UDP" or "SIP/2.0/TCP" (any case) followed by white space: a
 * request over TLS is never moved.
 *
 * @param data   The request's bytes (request line, headers, ...). Changed
 *               in place; never read past @p len.
 * @param proto  CAY__UDP or CAY__TCP: the transport to write.
 * @return 0, or -EINVAL: no header section end, no Via, or a top Via that
 *         is not SIP/2.0 over UDP or TCP (@p data is then unchanged).
 * @thread any
 */
int cay__msg_set_via_transport(char *data, size_t len, int proto);

/**
 * Build a request (RFC 3261 section 8.1.1 and, in a dialog, 12.2.1.1):
 * Request-URI, one Via (SIP/2.0/UDP with rport), Max-Forwards 70, From, To,
 * Call-ID, CSeq, Route, Contact, User-Agent, body with Content-Type and
 * Content-Length. Everything is copied.
 *
 * @return The request (caller owns), or NULL on allocation failure.
 * @thread any
 */
msg_t *cay__msg_request(const cay__req_spec_t *spec);

/**
 * The ACK for a non-2xx final response to @p invite (RFC 3261 section
 * 17.1.1.3): the INVITE's Request-URI, top Via (same branch), Route, From,
 * Call-ID and CSeq number, the response's To (with its tag).
 * @return The ACK (caller owns), or NULL (allocation, or headers missing).
 */
msg_t *cay__msg_ack_for(msg_t *invite, msg_t *response);

/**
 * The CANCEL for @p invite (RFC 3261 section 9.1): the same Request-URI,
 * top Via, Route, From, To, Call-ID and CSeq number as the INVITE.
 * @return The CANCEL (caller owns), or NULL.
 */
msg_t *cay__msg_cancel_for(msg_t *invite);

/**
 * Put @p body (with Content-Type @p ctype) into @p msg and set its
 * Content-Length. @return 0 or -ENOMEM.
 */
int cay__msg_set_body(msg_t *msg, const char *ctype, const char *body,
                      size_t len);

/**
 * Add a header given as text ("Allow: INVITE, ACK") to @p msg.
 * @return 0, -EINVAL (does not parse), -ENOMEM.
 */
int cay__msg_add_header(msg_t *msg, const char *text);

/**
 * Add header lines @p lines ("Name: value\r\n"..., the last CRLF
 * optional; NULL or "" adds none) to @p msg, in order.
 * @return 0, -EINVAL (a line does not parse), -ENOMEM; on an error the
 *         lines before the failing one stay.
 * @thread any
 */
int cay__msg_add_lines(msg_t *msg, const char *lines);

/**
 * Encode @p msg once into wire bytes.
 *
 * @param data  Receives a pointer to the bytes, valid while @p msg lives
 *              and is not changed. Returned, owned by @p msg.
 * @param len   Receives their length.
 * @return 0, -ENOMEM, CAY_EPARSE (a header cannot be encoded).
 */
int cay__msg_serialize(msg_t *msg, const char **data, size_t *len);

/**
 * Append header @p h ("Name: value\r\n", its full name, without its list
 * successors) to @p buf (@p size bytes, *@p off used, NUL-terminated
 * after). @return 0, -EINVAL (sofia-sip cannot encode it) or -ENOSPC
 * (it does not fit; *@p off unchanged).
 * @thread any
 */
int cay__msg_header_append(char *buf, size_t size, size_t *off,
                           const msg_header_t *h);

/**
 * The value of @p sip's Content-Type as it came, parameters included
 * ("text/plain;charset=UTF-8": a relayed body keeps its charset, RFC
 * 3261 section 20.15), into @p buf.
 * @return @p buf, or NULL: no Content-Type, or it does not fit in
 *         @p size bytes (NUL included).
 * @thread any
 */
const char *cay__msg_content_type(const sip_t *sip, char *buf, size_t size);

/**
 * RFC 3261 section 18.2.1 and RFC 3581 section 4: on a request received
 * from @p src, add "received=<src ip>" to the top Via when its sent-by host
 * differs from the source IP, and fill an empty "rport" with the source
 * port (adding "received" as well). A "received" the sender put in its own
 * Via is replaced by the source IP: it would otherwise aim the responses
 * at any address the sender chose.
 *
 * @return 0, -EINVAL (no Via), -ENOMEM.
 */
int cay__via_fix_received(msg_t *msg, const cay__addr_t *src);

/**
 * RFC 3261 section 18.2.2 and RFC 3581 section 4 for an unreliable
 * transport: where to send a response, from the top Via of the request.
 * received+rport, else received + sent-by port (5060 by default), else
 * sent-by itself when it is an IP literal.
 *
 * @return 0, or -EINVAL (no usable address: sent-by is a host name and
 *         there is no received parameter).
 */
int cay__via_response_dest(const sip_via_t *via, cay__addr_t *dst);

/**
 * RFC 3261 section 18.2.2: where the responses to a request go. @p dst
 * holds the peer the request came from on entry (address, transport,
 * connection); over UDP its address becomes cay__via_response_dest()'s,
 * over a stream the connection stays and the address becomes
 * cay__via_stream_dest()'s (a bad sent-by port keeps the source's, the
 * best guess left).
 *
 * @return 0, or -EINVAL over UDP (no usable address).
 */
int cay__response_dest(const sip_via_t *via, cay__peer_t *dst);

/**
 * RFC 3261 section 18.2.2 for a reliable transport: where a response goes
 * when the connection its request came on has closed. @p dst holds the
 * request's source address on entry (its IP is what "received" names, or
 * sent-by when they are equal); its port becomes the top Via's sent-by
 * port, or the transport's default (5060, 5061 for TLS). rport is not
 * used (RFC 3581 section 4 covers unreliable transports only).
 *
 * Any thread; no allocation.
 *
 * @return 0, or -EINVAL (no Via, or a sent-by port that is not a port):
 *         @p dst is then unchanged.
 */
int cay__via_stream_dest(const sip_via_t *via, cay__addr_t *dst);

/**
 * Destination of a request sent to @p url (RFC 3263 without DNS): maddr if
 * present, else the host, which must be an IP literal; port from the URI or
 * 5060.
 *
 * @return 0, or -EINVAL (host is a name: no DNS here).
 */
int cay__url_dest(const url_t *url, cay__addr_t *dst);

/**
 * The transport of a first request to an IP-literal @p url (RFC 3261
 * sections 18.1.1, 19.1.1, 26.2): CAY__TLS for sips: or transport=tls,
 * CAY__TCP for transport=tcp, else CAY__UDP.
 * @thread any
 */
int cay__url_proto(const url_t *url);

/**
 * True when @p contact can be a dialog's remote target (RFC 3261 sections
 * 12.1.1 and 12.1.2: the Contact of an INVITE, of its 2xx, of a target
 * refresh): a sip or sips URI with a valid host, no path, and a port of
 * 1..65535 when it gives one. A host name is allowed here (cay__url_dest()
 * refuses it when a request is sent). Anything else (no Contact, "*",
 * another scheme, port 0, what sofia-sip's lenient parser takes but prints
 * differently) would make Cay build requests no peer can parse.
 *
 * @param contact  The first Contact, or NULL. Borrowed.
 * @thread any
 */
int cay__contact_usable(const sip_contact_t *contact);

/**
 * Write @p v in decimal at @p p (no NUL); returns the digits written.
 * @p p must hold 20 bytes. The hot paths use it instead of snprintf.
 */
static inline size_t
cay__fmt_u64(char *p, unsigned long long v)
{
  char tmp[20];
  size_t n = 0, i;

  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (i = 0; i < n; i++)
    p[i] = tmp[n - 1 - i];
  return n;
}

/** True when @p branch starts with the RFC 3261 magic cookie "z9hG4bK". */
int cay__branch_is_rfc3261(const char *branch);

#endif
