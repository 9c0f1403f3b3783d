/*
 * Codec filtering of an SDP offer passed through a B2BUA (a route's
 * `codecs:`): each audio m-line keeps only the payload types whose
 * encoding name is on the list, with their a=rtpmap/a=fmtp lines. Text
 * in, text out: the rest of the offer is passed on byte for byte (RFC
 * 3264 section 5: the offerer's other choices stay its own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "dialog/sdp.h"

#define MAX_PT 128

/* RFC 3551 section 6, table 4: static payload types named without rtpmap. */
static const char *
static_name(unsigned pt)
{
  switch (pt) {
  case 0:
    return "PCMU";
  case 3:
    return "GSM";
  case 4:
    return "G723";
  case 8:
    return "PCMA";
  case 9:
    return "G722";
  case 18:
    return "G729";
  default:
    return NULL;
  }
}

static int
listed(const char *name, size_t n, const char *const *codecs, unsigned nc)
{
  for (unsigned i = 0; i < nc; i++)
    if (strlen(codecs[i]) == n && strncasecmp(codecs[i], name, n) == 0)
      return 1;
  return 0;
}

/* The payload type number at [p, end): its digits, at most MAX_PT (any
 * larger number is no payload type of ours), or -1 when there is no digit.
 * The text is not NUL-terminated: nothing past @p end is read. */
static int
pt_at(const char *p, const char *end)
{
  int v = -1;

  for (; p < end && *p >= '0' && *p <= '9'; p++)
    v = v < 0 ? *p - '0' : (v >= MAX_PT ? MAX_PT : v * 10 + (*p - '0'));
  return v;
}

/* The payload type an "a=rtpmap:PT ...", "a=fmtp:PT ..." or
 * "a=rtcp-fb:PT ..." line is for, or -1. */
static int
attr_pt(const char *line, size_t len)
{
  const char *p;

  if (len > 9 && strncmp(line, "a=rtpmap:", 9) == 0)
    p = line + 9;
  else if (len > 7 && strncmp(line, "a=fmtp:", 7) == 0)
    p = line + 7;
  else if (len > 11 && strncmp(line, "a=rtcp-fb:", 10) == 0)
    p = line + 10;
  else
    return -1;
  return pt_at(p, line + len);
}

/* Decide which payload types of the media section [sec, end) to keep. */
static void
choose(const char *sec, const char *end, const char *const *codecs, unsigned nc,
       unsigned char keep[MAX_PT])
{
  const char *l = sec;

  memset(keep, 0, MAX_PT);
  for (unsigned pt = 0; pt < MAX_PT; pt++) {
    const char *n = static_name(pt);
    if (n && listed(n, strlen(n), codecs, nc))
      keep[pt] = 1;
  }
  while (l < end) {
    const char *eol = memchr(l, '\n', (size_t)(end - l));
    size_t len = eol ? (size_t)(eol - l) : (size_t)(end - l);
    int pt = len > 9 && strncmp(l, "a=rtpmap:", 9) == 0 ? attr_pt(l, len) : -1;
    if (pt >= 0 && pt < MAX_PT) {
      const char *name = memchr(l, ' ', len);
      if (name) {
        name++;
        const char *slash = memchr(name, '/', len - (size_t)(name - l));
        size_t nl = slash ? (size_t)(slash - name) : 0;
        keep[pt] = nl && listed(name, nl, codecs, nc);
      }
    }
    l = eol ? eol + 1 : end;
  }
}

static int
append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
  if (*len + n + 1 > *cap) {
    size_t want = (*len + n + 1) * 2;
    char *nb = cay__realloc(*buf, want);
    if (nb == NULL)
      return -ENOMEM;
    *buf = nb;
    *cap = want;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

/* Rewrite "m=audio PORT PROTO pt pt ..." with the kept payload types. */
static int
put_mline(char **buf, size_t *len, size_t *cap, const char *l, size_t n,
          const unsigned char keep[MAX_PT], int *kept)
{
  const char *p = l, *end = l + n;
  int field = 0, err = 0;

  *kept = 0;
  while (p < end && !err) {
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    const char *tok_end = sp ? sp : end;
    size_t tl = (size_t)(tok_end - p);
    while (tl && (p[tl - 1] == '\r'))
      tl--;
    if (field < 3) {
      err = append(buf, len, cap, p, tl);
      if (!err && field < 2)
        err = append(buf, len, cap, " ", 1);
    } else {
      int pt = pt_at(p, p + tl);
      if (pt >= 0 && pt < MAX_PT && keep[pt]) {
        err = append(buf, len, cap, " ", 1);
        if (!err)
          err = append(buf, len, cap, p, tl);
        (*kept)++;
      }
    }
    field++;
    p = sp ? sp + 1 : end;
  }
  return err ? err : append(buf, len, cap, "\r\n", 2);
}

int
cay__sdp_filter(const char *sdp, size_t sdp_len, const char *const *codecs,
                unsigned n_codecs, char **out, size_t *out_len)
{
  const char *l = sdp, *end = sdp + sdp_len;
  unsigned char keep[MAX_PT];
  int in_audio = 0, audio_kept = 0, err = 0;
  char *buf = NULL;
  size_t len = 0, cap = 0;

  while (l < end && !err) {
    const char *eol = memchr(l, '\n', (size_t)(end - l));
    size_t n = eol ? (size_t)(eol - l) + 1 : (size_t)(end - l);
    if (n >= 2 && strncmp(l, "m=", 2) == 0) {
      in_audio = n > 8 && strncmp(l, "m=audio ", 8) == 0;
      if (in_audio) {
        const char *next = l + n;
        while (next < end
               && !(end - next >= 2 && next[0] == 'm' && next[1] == '=')) {
          const char *e2 = memchr(next, '\n', (size_t)(end - next));
          next = e2 ? e2 + 1 : end;
        }
        int kept;
        choose(l + n, next, codecs, n_codecs, keep);
        err = put_mline(&buf, &len, &cap, l, n - (eol ? 1 : 0), keep, &kept);
        audio_kept += kept;
        l += n;
        continue;
      }
    } else if (in_audio) {
      int pt = attr_pt(l, n);
      if (pt >= 0 && pt < MAX_PT && !keep[pt]) {
        l += n; /* the line of a payload type taken out */
        continue;
      }
    }
    err = append(&buf, &len, &cap, l, n);
    l += n;
  }
  /* No audio payload type left, or no audio stream at all (a video-only
   * offer): none of the listed codecs is offered (RFC 3264 section 6:
   * 488), which is not malformed SDP. */
  if (!err && audio_kept == 0)
    err = CAY_ENOCODEC;
  if (err) {
    cay__free(buf);
    return err;
  }
  *out = buf;
  *out_len = len;
  return 0;
}
