/*
 * Call detail records: the record a bridged call fills and its JSON line
 * (cdr.h says what each field means).
 */
#include "b2bua/cdr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"

static const char *const end_names[] = {
  [CAY_CDR_CALLER] = "caller",
  [CAY_CDR_CALLEE] = "callee",
  [CAY_CDR_RING_TIMEOUT] = "ring_timeout",
  [CAY_CDR_MAX_DURATION] = "max_duration",
  [CAY_CDR_ERROR] = "error",
  [CAY_CDR_SHUTDOWN] = "shutdown",
  [CAY_CDR_REFUSED] = "refused",
  [CAY_CDR_REJECTED] = "rejected",
};

const char *
cay_cdr_end_name(cay_cdr_end_t e)
{
  if ((unsigned)e >= sizeof end_names / sizeof end_names[0]
      || end_names[e] == NULL)
    return "unknown";
  return end_names[e];
}

/* @p u printed at @p o (NULL: only measured): its length. */
static size_t
uri_put(char *o, const url_t *u)
{
  isize_t n = u ? url_e(o, o ? INT32_MAX : 0, u) : 0;

  if (o)
    o[n > 0 ? n : 0] = '\0';
  return n > 0 ? (size_t)n : 0;
}

cay__cdr_t *
cay__cdr_begin(const sip_t *sip, const char *call_id, const char *source,
               unsigned shard, uint64_t now_ms)
{
  const url_t *from = sip->sip_from ? sip->sip_from->a_url : NULL;
  const url_t *to = sip->sip_to ? sip->sip_to->a_url : NULL;
  const url_t *ruri = sip->sip_request ? sip->sip_request->rq_url : NULL;
  size_t n_cid = strlen(call_id), n_src = source ? strlen(source) : 0;
  cay__cdr_t *r = cay__calloc(1, sizeof *r);
  struct timespec ts;
  char *o;

  if (r == NULL)
    return NULL;
  r->a_text = o = cay__malloc(n_cid + n_src + uri_put(NULL, from)
                              + uri_put(NULL, to) + uri_put(NULL, ruri) + 5);
  if (o == NULL) {
    cay__free(r);
    return NULL;
  }
  r->call_id = memcpy(o, call_id, n_cid + 1);
  o += n_cid + 1;
  r->from = o;
  o += uri_put(o, from) + 1;
  r->to = o;
  o += uri_put(o, to) + 1;
  r->ruri = o;
  o += uri_put(o, ruri) + 1;
  r->source = source ? memcpy(o, source, n_src + 1) : NULL;
  clock_gettime(CLOCK_REALTIME, &ts);
  r->wall_start_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  r->start_ms = now_ms;
  r->shard = shard;
  return r;
}

void
cay__cdr_placed(cay__cdr_t *r, const char *target, const char *b_call_id)
{
  char *t = cay__strdup(target), *c = cay__strdup(b_call_id);

  if (t == NULL || c == NULL) {
    cay__free(t);
    cay__free(c);
    return;
  }
  cay__free(r->target);
  cay__free(r->b_call_id);
  r->target = t;
  r->b_call_id = c;
  r->attempts++;
}

void
cay__cdr_ended(cay__cdr_t *r, cay__cdr_end_t who, uint64_t now_ms,
               const char *reason)
{
  if (r->ended_by != CAY__CDR_OPEN)
    return;
  r->ended_by = who;
  r->end_ms = now_ms;
  if (reason && reason[0] && (r->reason = cay__strdup(reason)) != NULL)
    r->q850 = cay__cdr_q850(reason);
}

/* Past the parameter name @p name (and the blanks around an '=' after
 * it) at @p p, or NULL when @p p does not start with it. */
static const char *
param_value(const char *p, const char *name)
{
  size_t n = strlen(name);

  p += strspn(p, " \t");
  if (strncasecmp(p, name, n) != 0)
    return NULL;
  p += n;
  p += strspn(p, " \t");
  if (*p != '=')
    return NULL;
  return p + 1 + strspn(p + 1, " \t");
}

int
cay__cdr_q850(const char *v)
{
  while (*v) {
    int quoted = 0, q850;

    v += strspn(v, " \t,");
    q850 = strncasecmp(v, "Q.850", 5) == 0 && v[5] && strchr(" \t;", v[5]);
    for (; *v && (quoted || *v != ','); v++) {
      const char *c;

      if (quoted && *v == '\\' && v[1]) {
        v++;
      } else if (*v == '"') {
        quoted = !quoted;
      } else if (!quoted && q850 && *v == ';'
                 && (c = param_value(v + 1, "cause")) != NULL) {
        char *end;
        long cause = strtol(c, &end, 10);

        if (end != c && *c != '-' && *c != '+' && cause >= 1 && cause <= 127)
          return (int)cause;
      }
    }
  }
  return 0;
}

int
cay__cdr_q850_of_status(int status)
{
  /* RFC 3398 section 8.2.6.1 ("Response received" -> "Cause value in
   * the REL"), in order; 487, 488 and 606 are not mapped there. */
  static const short map[][2] = {
    { 400, 41 },  { 401, 21 },  { 402, 21 }, { 403, 21 },  { 404, 1 },
    { 405, 63 },  { 406, 79 },  { 407, 21 }, { 408, 102 }, { 410, 22 },
    { 413, 127 }, { 414, 127 }, { 415, 79 }, { 416, 127 }, { 420, 127 },
    { 421, 127 }, { 423, 127 }, { 480, 18 }, { 481, 41 },  { 482, 25 },
    { 483, 25 },  { 484, 28 },  { 485, 1 },  { 486, 17 },  { 500, 41 },
    { 501, 79 },  { 502, 38 },  { 503, 41 }, { 504, 102 }, { 505, 127 },
    { 513, 127 }, { 600, 17 },  { 603, 21 }, { 604, 1 },
  };

  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i][0] == status)
      return map[i][1];
  return 0;
}

void
cay__cdr_free(cay__cdr_t *r)
{
  if (r == NULL)
    return;
  cay__free(r->a_text);
  cay__free(r->reason);
  cay__free(r->target);
  cay__free(r->b_call_id);
  cay__free(r);
}

/* -- JSON ----------------------------------------------------------------- */

/* The length of the UTF-8 sequence at @p s (at most @p n bytes) when it
 * is a well-formed one (RFC 3629 section 4), else 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
  size_t len;
  unsigned lo = 0x80, hi = 0xBF;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xC2 && s[0] <= 0xDF)
    len = 2;
  else if (s[0] >= 0xE0 && s[0] <= 0xEF)
    len = 3;
  else if (s[0] >= 0xF0 && s[0] <= 0xF4)
    len = 4;
  else
    return 0;
  /* No overlong form, no surrogate, nothing above U+10FFFF. */
  if (s[0] == 0xE0)
    lo = 0xA0;
  else if (s[0] == 0xED)
    hi = 0x9F;
  else if (s[0] == 0xF0)
    lo = 0x90;
  else if (s[0] == 0xF4)
    hi = 0x8F;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return len;
}

/* "key":"escaped value", or "key":null for NULL, at @p o: past its end.
 * @p o has room for 6 bytes per byte of @p v (RFC 8259 section 7: \u00XX
 * for a control character; U+FFFD, 3 bytes, for a byte that is not
 * UTF-8). */
static char *
put_str(char *o, const char *key, const char *v)
{
  o += sprintf(o, ",\"%s\":", key);
  if (v == NULL)
    return o + sprintf(o, "null");
  *o++ = '"';
  for (const unsigned char *s = (const unsigned char *)v, *end = s + strlen(v);
       s < end;) {
    size_t n = utf8_len(s, (size_t)(end - s));

    if (*s == '"' || *s == '\\') {
      *o++ = '\\';
      *o++ = (char)*s++;
    } else if (*s < 0x20 || *s == 0x7F) {
      o += sprintf(o, "\\u%04x", *s++);
    } else if (n == 0) {
      memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
      o += 3;
      s++;
    } else {
      memcpy(o, s, n);
      o += n;
      s += n;
    }
  }
  *o++ = '"';
  return o;
}

/* "key":"2026-11-25T10:00:00.123Z" for Unix time @p ms, or "key":null
 * for 0. */
static char *
put_time(char *o, const char *key, int64_t ms)
{
  time_t sec;
  struct tm tm;

  if (ms == 0)
    return o + sprintf(o, ",\"%s\":null", key);
  sec = (time_t)(ms / 1000);
  gmtime_r(&sec, &tm);
  return o
         + sprintf(o, ",\"%s\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", key,
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Shard-clock time @p at of @p r as Unix time (ms), or 0 for 0. */
static int64_t
unix_ms(const cay__cdr_t *r, uint64_t at)
{
  return at ? r->wall_start_ms + (int64_t)(at - r->start_ms) : 0;
}

/* The record as the embedder sees it (no JSON yet). */
static void
view_of(const cay__cdr_t *r, uint64_t now_ms, cay_cdr_t *v)
{
  uint64_t end = r->end_ms ? r->end_ms : now_ms;

  memset(v, 0, sizeof *v);
  /* The start is never 0 on the shard clock (it starts at the loop's
   * uv_now, or at 1,000,000 ms when virtual). */
  v->start_ms = unix_ms(r, r->start_ms);
  v->progress_ms = unix_ms(r, r->progress_ms);
  v->answer_ms = unix_ms(r, r->answer_ms);
  v->end_ms = unix_ms(r, end);
  v->setup_ms = r->answer_ms ? (int64_t)(r->answer_ms - r->start_ms) : -1;
  v->duration_ms
      = r->answer_ms && end > r->answer_ms ? (int64_t)(end - r->answer_ms) : 0;
  v->call_id = r->call_id;
  v->from = r->from;
  v->to = r->to;
  v->ruri = r->ruri;
  v->source = r->source;
  v->target = r->target;
  v->b_call_id = r->b_call_id;
  v->attempts = r->attempts;
  v->status = r->status;
  v->b_status = r->b_status;
  /* Never ended: cut at the end. */
  v->ended_by = r->ended_by == CAY__CDR_OPEN ? CAY_CDR_SHUTDOWN : r->ended_by;
  v->reason = r->reason;
  /* Without a Q.850 Reason, the cause a gateway would give (RFC 3398):
   * an answered call's BYE releases with 16 (normal call clearing); a
   * failure, with the cause of the final response the caller got. */
  v->q850 = r->q850        ? r->q850
            : r->answer_ms ? 16
                           : cay__cdr_q850_of_status(r->status);
  v->shard = r->shard;
}

char *
cay__cdr_format(const cay__cdr_t *r, uint64_t now_ms, cay_cdr_t *v)
{
  const char *strs[] = { r->call_id, r->from,   r->to,        r->ruri,
                         r->source,  r->target, r->b_call_id, r->reason };
  size_t room = 640;
  char *line, *o;

  view_of(r, now_ms, v);
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    room += strs[i] ? 6 * strlen(strs[i]) : 0;
  if ((line = cay__malloc(room)) == NULL)
    return NULL;
  o = put_time(line, "start", v->start_ms);
  line[0] = '{'; /* the first key's comma */
  o = put_time(o, "progress", v->progress_ms);
  o = put_time(o, "answer", v->answer_ms);
  o = put_time(o, "end", v->end_ms);
  if (v->setup_ms >= 0)
    o += sprintf(o, ",\"setup_ms\":%" PRId64 ",\"duration_ms\":%" PRId64,
                 v->setup_ms, v->duration_ms);
  else
    o += sprintf(o, ",\"setup_ms\":null,\"duration_ms\":0");
  o = put_str(o, "call_id", v->call_id);
  o = put_str(o, "from", v->from);
  o = put_str(o, "to", v->to);
  o = put_str(o, "ruri", v->ruri);
  o = put_str(o, "source", v->source);
  o = put_str(o, "target", v->target);
  o = put_str(o, "b_call_id", v->b_call_id);
  o += sprintf(o,
               ",\"attempts\":%u,\"status\":%d,\"b_status\":%d,"
               "\"ended_by\":\"%s\"",
               v->attempts, v->status, v->b_status,
               cay_cdr_end_name(v->ended_by));
  o = put_str(o, "reason", v->reason);
  o += v->q850 ? sprintf(o, ",\"q850\":%d", v->q850)
               : sprintf(o, ",\"q850\":null");
  o += sprintf(o, ",\"shard\":%u}\n", v->shard);
  v->json = line;
  v->json_len = (size_t)(o - line);
  return line;
}
