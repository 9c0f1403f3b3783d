/*
 * Stream framing of SIP messages (RFC 3261 section 18.3).
 *
 * The buffer holds the unconsumed bytes in [start, len). A message is cut
 * in two steps, and each step's result is remembered in the framer so that
 * bytes arriving one per read cost linear time, not quadratic: first the
 * end of the header section is searched for, resuming where the previous
 * search stopped (scan); then the header section is parsed once for its
 * line count and Content-Length, which fixes the message length (msg_len).
 *
 * Errors are sticky: after CAY_EPARSE or CAY_ELIMIT nothing is consumed,
 * so calling next again returns the same error. The stream has lost its
 * framing by then and the only way on is to close the connection.
 */
#include "transport/framing.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"

/* First allocation: a typical SIP message (1-2 KiB) fits with room to
 * spare, so most connections allocate once. */
#define FRAMER_MIN_CAP 4096u
/* A buffer that grew beyond this for one large message is released once it
 * is empty again, so that an idle connection holds little memory. */
#define FRAMER_KEEP_CAP (16u * 1024u)

/* The keep-alive "ping" of RFC 5626 section 3.5.1. */
static const char ping[] = "\r\n\r\n";
#define PING_LEN 4u

int
cay__framer_init(cay__framer_t *f, size_t max_msg, unsigned max_headers)
{
  memset(f, 0, sizeof *f);
  f->max_msg = max_msg;
  f->max_headers = max_headers;
  return 0;
}

void
cay__framer_fini(cay__framer_t *f)
{
  cay__free(f->buf);
  f->buf = NULL;
  f->len = f->cap = f->start = 0;
  f->scan = f->msg_len = 0;
}

int
cay__framer_push(cay__framer_t *f, const char *data, size_t len)
{
  size_t used, need, cap;
  char *nb;

  if (len == 0)
    return 0;
  used = f->len - f->start;
  /* Whatever is buffered after next() returned NONE is one incomplete
   * message, at most max_msg bytes; more means the caller kept pushing
   * past an error. */
  if (used > f->max_msg)
    return CAY_ELIMIT;

  if (used == 0) {
    f->start = f->len = 0;
    if (f->cap > FRAMER_KEEP_CAP) {
      cay__free(f->buf);
      f->buf = NULL;
      f->cap = 0;
    }
  } else if (f->start > 0 && (f->start > f->cap / 2 || f->len + len > f->cap)) {
    /* Keep the buffer compact: move the unconsumed bytes to the front
     * once the consumed part is the larger half or the push would not
     * fit. scan and msg_len are relative to start and stay valid. */
    memmove(f->buf, f->buf + f->start, used);
    f->len = used;
    f->start = 0;
  }

  if (len > SIZE_MAX - f->len)
    return CAY_ELIMIT;
  need = f->len + len;
  if (need > f->cap) {
    cap = f->cap ? f->cap : FRAMER_MIN_CAP;
    while (cap < need)
      cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    nb = cay__realloc(f->buf, cap);
    if (nb == NULL)
      return -ENOMEM;
    f->buf = nb;
    f->cap = cap;
  }
  memcpy(f->buf + f->len, data, len);
  f->len += len;
  return 0;
}

/*
 * Search @p p (@p avail bytes) for the empty line that ends the header
 * section, from *scan on. A line ends with LF, optionally preceded by CR
 * (RFC 3261 section 7 wants CRLF; bare LF is accepted as robustness), so
 * the section ends at LF LF or LF CR LF. On success *end is the offset
 * just past it; otherwise *scan is where the next search resumes.
 */
static int
find_headers_end(const char *p, size_t avail, size_t *scan, size_t *end)
{
  size_t i = *scan;
  const char *nl;

  while (i < avail) {
    nl = memchr(p + i, '\n', avail - i);
    if (nl == NULL) {
      i = avail;
      break;
    }
    i = (size_t)(nl - p);
    if (i + 1 >= avail)
      break;
    if (p[i + 1] == '\n') {
      *scan = i;
      *end = i + 2;
      return 1;
    }
    if (p[i + 1] == '\r') {
      if (i + 2 >= avail)
        break;
      if (p[i + 2] == '\n') {
        *scan = i;
        *end = i + 3;
        return 1;
      }
    }
    i++;
  }
  *scan = i;
  return 0;
}

/* Offset just past the LF ending the line that holds offset @p i. */
static size_t
line_end(const char *p, size_t end, size_t i)
{
  const char *nl = memchr(p + i, '\n', end - i);

  return nl != NULL ? (size_t)(nl - p) + 1 : end;
}

static int
is_lws(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skip linear white space, folds included (RFC 3261 section 7.3.1). The
 * range is one logical header line, so any CR or LF inside it is part of
 * a fold or the line's own end. */
static size_t
skip_lws(const char *p, size_t i, size_t end)
{
  while (i < end && is_lws(p[i]))
    i++;
  return i;
}

/*
 * Parse the Content-Length header in [hs, he), one logical header line
 * whose name has already been matched at [hs, k).
 */
static int
parse_content_length(const char *p, size_t k, size_t he, size_t *out)
{
  size_t val = 0, d;

  /* RFC 3261 section 7.3.1: white space, folded or not, may surround the
   * colon. */
  k = skip_lws(p, k, he);
  if (k >= he || p[k] != ':')
    return CAY_EPARSE;
  k = skip_lws(p, k + 1, he);
  /* RFC 3261 section 20.14: Content-Length = ( "Content-Length" / "l" )
   * HCOLON 1*DIGIT. */
  if (k >= he || p[k] < '0' || p[k] > '9')
    return CAY_EPARSE;
  while (k < he && p[k] >= '0' && p[k] <= '9') {
    d = (size_t)(p[k] - '0');
    if (val > (SIZE_MAX - d) / 10)
      return CAY_EPARSE;
    val = val * 10 + d;
    k++;
  }
  if (skip_lws(p, k, he) != he)
    return CAY_EPARSE;
  *out = val;
  return 0;
}

/*
 * Walk the header section [0, hend): count the header lines and find the
 * body length. The start line is not a header line; a line beginning with
 * SP or HT continues the previous header (RFC 3261 section 7.3.1).
 */
static int
parse_headers(const cay__framer_t *f, const char *p, size_t hend, size_t *cl)
{
  size_t i, k, hs, he, val;
  unsigned count = 0;
  int have_cl = 0, err;

  i = line_end(p, hend, 0);
  while (i < hend) {
    if (p[i] == '\n' || (p[i] == '\r' && i + 1 < hend && p[i + 1] == '\n'))
      break;
    if (p[i] == ' ' || p[i] == '\t') {
      /* A fold of the start line: not a header line of its own. */
      i = line_end(p, hend, i);
      continue;
    }
    if (++count > f->max_headers)
      return CAY_ELIMIT;
    hs = i;
    he = line_end(p, hend, hs);
    while (he < hend && (p[he] == ' ' || p[he] == '\t'))
      he = line_end(p, hend, he);
    i = he;

    for (k = hs; k < he && p[k] != ':' && !is_lws(p[k]); k++)
      ;
    /* RFC 3261 section 7.3.1: header names are case-insensitive;
     * section 7.3.3: "l" is the compact form of Content-Length. */
    if (!(k - hs == 14 && strncasecmp(p + hs, "content-length", 14) == 0)
        && !(k - hs == 1 && (p[hs] == 'l' || p[hs] == 'L')))
      continue;
    err = parse_content_length(p, k, he, &val);
    if (err)
      return err;
    /* Two different lengths leave the message boundary ambiguous; a
     * repeated equal value is harmless. */
    if (have_cl && val != *cl)
      return CAY_EPARSE;
    have_cl = 1;
    *cl = val;
  }
  /* RFC 3261 section 18.3: on a stream Content-Length MUST be present. */
  return have_cl ? 0 : CAY_EPARSE;
}

int
cay__framer_next(cay__framer_t *f, const char **msg, size_t *len)
{
  const char *p;
  size_t avail, hend, cl = 0;
  int err;

  *msg = NULL;
  *len = 0;

  /* Between messages: RFC 5626 section 3.5.1 makes CRLFCRLF a keep-alive
   * ping; RFC 3261 section 7.5 says a CRLF before a start line is ignored.
   * A lone LF is skipped the same way. scan is 0 only at a message's
   * first byte. */
  while (f->scan == 0 && f->start < f->len) {
    p = f->buf + f->start;
    avail = f->len - f->start;
    if (p[0] != '\r' && p[0] != '\n')
      break;
    if (avail >= PING_LEN && memcmp(p, ping, PING_LEN) == 0) {
      f->start += PING_LEN;
      return CAY__FRAME_KEEPALIVE;
    }
    /* Could still become a ping: wait for the rest. */
    if (avail < PING_LEN && memcmp(p, ping, avail) == 0)
      return CAY__FRAME_NONE;
    if (p[0] == '\n') {
      f->start += 1;
      continue;
    }
    if (p[1] == '\n') {
      f->start += 2;
      continue;
    }
    /* A CR not followed by LF starts whatever follows; the header search
     * below decides. */
    break;
  }
  if (f->start == f->len)
    return CAY__FRAME_NONE;
  p = f->buf + f->start;
  avail = f->len - f->start;

  if (f->msg_len == 0) {
    if (!find_headers_end(p, avail, &f->scan, &hend)) {
      /* The header section would end past max_msg. */
      if (avail >= f->max_msg)
        return CAY_ELIMIT;
      return CAY__FRAME_NONE;
    }
    if (hend > f->max_msg)
      return CAY_ELIMIT;
    err = parse_headers(f, p, hend, &cl);
    if (err == CAY_EPARSE) {
      /* Hand out the header section so that the caller can answer 400
       * (RFC 3261 section 18.3) before it closes. */
      *msg = p;
      *len = hend;
      return CAY_EPARSE;
    }
    if (err)
      return err;
    if (cl > f->max_msg - hend)
      return CAY_ELIMIT;
    f->msg_len = hend + cl;
  }
  if (avail < f->msg_len)
    return CAY__FRAME_NONE;

  *msg = p;
  *len = f->msg_len;
  f->start += f->msg_len;
  f->scan = 0;
  f->msg_len = 0;
  return CAY__FRAME_MESSAGE;
}
