/*
 * Cheap Call-ID scan (DESIGN.md section 3, step 2).
 *
 * The scan walks the header section line by line and looks only at the
 * start of each line, so its cost is one pass over the header bytes with
 * no allocation. Every read is checked against the end of the buffer: the
 * input is a raw datagram from the network, possibly truncated, and need
 * not be NUL-terminated.
 */
#include "transport/callid.h"

#include <string.h>

#include "cay/errno.h"

static int
is_wsp(char c)
{
  return c == ' ' || c == '\t';
}

static char
lower_ascii(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Return the offset just past the LF ending the line that contains @p i, or
 * @p len when the line is the last one and has no LF.
 */
static size_t
next_line(const char *msg, size_t len, size_t i)
{
  while (i < len && msg[i] != '\n')
    i++;
  return i < len ? i + 1 : len;
}

/*
 * Return the length of the line end starting at @p i (2 for CRLF, 1 for a
 * bare LF), or 0 when there is none.
 */
static size_t
eol_len(const char *msg, size_t len, size_t i)
{
  if (i < len && msg[i] == '\n')
    return 1;
  if (i + 1 < len && msg[i] == '\r' && msg[i + 1] == '\n')
    return 2;
  return 0;
}

/*
 * If a header name equal to @p name (lower case, @p nlen bytes) starts at
 * @p i, followed by optional whitespace and a colon, return the offset just
 * past the colon; otherwise return 0 (a colon is never at offset 0 of a
 * header line, so 0 cannot be a real answer).
 */
static size_t
match_name(const char *msg, size_t len, size_t i, const char *name, size_t nlen)
{
  size_t k;

  if (len - i < nlen)
    return 0;
  /* RFC 3261 section 7.3.1: header field names are case-insensitive. */
  for (k = 0; k < nlen; k++)
    if (lower_ascii(msg[i + k]) != name[k])
      return 0;
  i += nlen;
  /* RFC 3261 section 7.3.1: whitespace is allowed before the colon
   * (HCOLON = *( SP / HTAB ) ":" SWS). Requiring the colon right after
   * the whitespace keeps "In-Reply-To" or "i-x" from matching "i". */
  while (i < len && is_wsp(msg[i]))
    i++;
  if (i < len && msg[i] == ':')
    return i + 1;
  return 0;
}

/*
 * The value of the first header named @p name (lower case, @p nlen bytes)
 * or its compact form @p compact (NULL: none), in the header section of
 * @p msg: trimmed, one line (a folded continuation after it is not part of
 * it). @return 0 or CAY_EPARSE (no such header, or an empty value).
 */
static int
header_scan(const char *msg, size_t len, const char *name, size_t nlen,
            const char *compact, const char **value, size_t *vlen)
{
  size_t i = 0;
  size_t after, end, n;

  /* RFC 3261 section 7.5: CRLFs before the start line are ignored (they
   * are keep-alives on some transports), so they are not the start line.
   * Any run of CR and LF, as the parser (sip/msg.c skip_crlf) skips. */
  while (i < len && (msg[i] == '\r' || msg[i] == '\n'))
    i++;

  /* The start line is skipped whatever it holds: a Request-URI may carry
   * "Call-ID:" in its text and must never be read as a header. */
  i = next_line(msg, len, i);

  while (i < len) {
    /* RFC 3261 section 7.5: an empty line ends the header section; what
     * follows is the body and never holds headers. A lone CR at the very
     * end of a truncated message is treated the same way. */
    if (eol_len(msg, len, i) != 0 || (msg[i] == '\r' && i + 1 == len))
      return CAY_EPARSE;

    /* RFC 3261 section 7.3.1: a line starting with whitespace continues
     * the previous header's value; it is never the start of a header. */
    if (is_wsp(msg[i])) {
      i = next_line(msg, len, i);
      continue;
    }

    after = match_name(msg, len, i, name, nlen);
    if (after == 0 && compact)
      after = match_name(msg, len, i, compact, 1);
    if (after == 0) {
      i = next_line(msg, len, i);
      continue;
    }

    /* RFC 3261 section 7.3.1 and 25.1: LWS after the colon, which may be
     * folded onto a continuation line (line end followed by SP or HTAB). */
    i = after;
    for (;;) {
      while (i < len && is_wsp(msg[i]))
        i++;
      n = eol_len(msg, len, i);
      if (n != 0 && i + n < len && is_wsp(msg[i + n]))
        i += n;
      else
        break;
    }

    /* The value runs to the end of its line. */
    end = i;
    while (end < len && msg[end] != '\n')
      end++;
    while (end > i && (is_wsp(msg[end - 1]) || msg[end - 1] == '\r'))
      end--;
    if (end == i)
      return CAY_EPARSE;

    *value = msg + i;
    *vlen = end - i;
    return 0;
  }
  return CAY_EPARSE;
}

int
cay__callid_scan(const char *msg, size_t len, const char **callid,
                 size_t *cidlen)
{
  /* RFC 3261 sections 20.8 and 7.3.3: "Call-ID", or its compact form
   * "i". A Call-ID is one word (section 25.1, callid = word [ "@" word
   * ]), so the line holds all of it. */
  return header_scan(msg, len, "call-id", 7, "i", callid, cidlen);
}

int
cay__replaces_scan(const char *msg, size_t len, const char **callid,
                   size_t *cidlen)
{
  const char *v;
  size_t i = 0, n;

  while (i < len && (msg[i] == '\r' || msg[i] == '\n'))
    i++;
  /* RFC 3261 section 7.1: the method is case-sensitive; Replaces means
   * something in an INVITE only (RFC 3891 section 3). */
  if (len - i < 7 || memcmp(msg + i, "INVITE ", 7) != 0)
    return CAY_EPARSE;
  /* RFC 3891 section 6.1: Replaces = "Replaces" HCOLON callid *(SEMI
   * replaces-param); no compact form. The Call-ID (a word, RFC 3261
   * section 25.1) holds no ';' or blank. */
  if (header_scan(msg, len, "replaces", 8, NULL, &v, &n) != 0)
    return CAY_EPARSE;
  for (i = 0; i < n && v[i] != ';' && !is_wsp(v[i]); i++)
    ;
  if (i == 0)
    return CAY_EPARSE;
  *callid = v;
  *cidlen = i;
  return 0;
}
