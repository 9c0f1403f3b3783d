/*
 * Cutting SIP messages out of a byte stream (RFC 3261 section 18.3): the
 * header section ends at the first empty line, and Content-Length (full or
 * compact "l" form, any case) gives the body length. Stream framing is
 * mandatory: a message without Content-Length on a stream is an error (400
 * and close). CRLF keep-alives (RFC 5626 section 3.5.1) are recognised: a
 * double CRLF "ping" between messages is reported so that the transport
 * can answer with a single CRLF "pong"; a lone CRLF between messages is
 * skipped (RFC 3261 section 7.5).
 */
#ifndef CAY_TRANSPORT_FRAMING_H
#define CAY_TRANSPORT_FRAMING_H

#include <stddef.h>

typedef struct cay__framer {
  char *buf; /* bytes received and not yet consumed */
  size_t len, cap;
  size_t start;         /* offset of the first unconsumed byte */
  size_t max_msg;       /* largest message (headers + body), bytes */
  unsigned max_headers; /* most header lines in one message */
  /* Resumable state, so that a message trickled in one byte per read
   * costs linear, not quadratic, time. Both are relative to start and
   * reset when a message is taken. */
  size_t scan;    /* bytes already searched for the end of the headers */
  size_t msg_len; /* whole message length once its headers parsed, or 0 */
} cay__framer_t;

#define CAY__FRAME_NONE      0 /* need more bytes */
#define CAY__FRAME_MESSAGE   1 /* a whole message */
#define CAY__FRAME_KEEPALIVE 2 /* a CRLFCRLF ping was consumed: send CRLF */

/** @return 0 or -ENOMEM. Nothing is allocated before the first push. */
int cay__framer_init(cay__framer_t *f, size_t max_msg, unsigned max_headers);
void cay__framer_fini(cay__framer_t *f);

/**
 * Append @p len received bytes.
 * @return 0, -ENOMEM, CAY_ELIMIT (what is buffered would exceed max_msg
 *         plus one read: close the connection).
 */
int cay__framer_push(cay__framer_t *f, const char *data, size_t len);

/**
 * Take the next item out of the buffer.
 *
 * @param msg  On CAY__FRAME_MESSAGE: the message (headers and body); on
 *             CAY_EPARSE: the header section that lacked Content-Length,
 *             so that a 400 can be built. Valid until the next call.
 * @param len  Its length.
 * @return CAY__FRAME_NONE, CAY__FRAME_MESSAGE, CAY__FRAME_KEEPALIVE, or
 *         CAY_EPARSE (no or bad Content-Length: answer 400, then close),
 *         CAY_ELIMIT (message larger than max_msg or more header lines
 *         than max_headers: close).
 */
int cay__framer_next(cay__framer_t *f, const char **msg, size_t *len);

#endif
