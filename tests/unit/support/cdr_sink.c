/* The records calls leave in unit tests: support/cdr_sink.h. */
#include "support/cdr_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cdr_sink_t cdr_recs;

static void
sink(void *arg, const cay_cdr_t *cdr)
{
  cdr_sink_t *s = arg;
  const char *line = cdr->json;
  size_t len = cdr->json_len;

  ck_assert_uint_lt(s->n, CDR_SINK_MAX);
  /* One line: no newline but the last byte. */
  ck_assert_uint_gt(len, 2);
  ck_assert_int_eq(line[len - 1], '\n');
  ck_assert_int_eq(line[len], '\0');
  ck_assert_ptr_null(memchr(line, '\n', len - 1));
  s->line[s->n++] = strndup(line, len);
  s->last = *cdr; /* its pointers are good only now */
  snprintf(s->reason, sizeof s->reason, "%s",
           cdr->reason ? cdr->reason : "(null)");
  s->last.reason = NULL;
  s->last.json = NULL;
  s->last.call_id = s->last.from = s->last.to = s->last.ruri = NULL;
  s->last.source = s->last.target = s->last.b_call_id = NULL;
}

peer_t *
peer_with_sink(const cay_config_t *cfg)
{
  peer_t *p = peer_new(cfg);

  for (unsigned i = 0; i < cdr_recs.n; i++)
    free(cdr_recs.line[i]);
  memset(&cdr_recs, 0, sizeof cdr_recs);
  p->ss.cdr_sink = sink;
  p->ss.cdr_arg = &cdr_recs;
  return p;
}

/* The one record of the test: the call is over and left exactly one. */
const char *
the_record(peer_t *p)
{
  ck_assert_uint_eq(cdr_recs.n, 1);
  ck_assert_uint_eq(p->ss.shard->stats.cdrs, 1);
  return cdr_recs.line[0];
}

/* Value of @p key in record @p line as written (a string with its
 * quotes, a number, null) into @p buf. */
const char *
field(const char *line, const char *key, char *buf, size_t n)
{
  char pat[64];
  const char *v, *e;

  snprintf(pat, sizeof pat, "\"%s\":", key);
  v = strstr(line, pat);
  ck_assert_msg(v != NULL, "no %s in %s", key, line);
  v += strlen(pat);
  if (*v == '"') {
    for (e = v + 1; *e && *e != '"'; e++)
      if (*e == '\\')
        e++;
    e++;
  } else {
    e = v + strcspn(v, ",}");
  }
  ck_assert_uint_lt((size_t)(e - v), n);
  memcpy(buf, v, (size_t)(e - v));
  buf[e - v] = '\0';
  return buf;
}

/* A time field as ms since 1970 ("2026-11-25T10:00:00.123Z"). */
long long
time_ms(const char *line, const char *key)
{
  char buf[64];
  struct tm tm;
  int ms;
  const char *v = field(line, key, buf, sizeof buf);

  memset(&tm, 0, sizeof tm);
  ck_assert_int_eq(sscanf(v, "\"%4d-%2d-%2dT%2d:%2d:%2d.%3dZ\"", &tm.tm_year,
                          &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                          &tm.tm_sec, &ms),
                   7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (long long)timegm(&tm) * 1000 + ms;
}

/* Record @p r is of a call that got no B leg: status @p status, ended
 * by @p ended_by (as written, quoted), no B leg named, not answered, no
 * time passed. */
void
no_b_leg_is(const char *r, const char *status, const char *ended_by)
{
  field_is(r, "status", status);
  field_is(r, "b_status", "0");
  field_is(r, "attempts", "0");
  field_is(r, "target", "null");
  field_is(r, "b_call_id", "null");
  field_is(r, "answer", "null");
  field_is(r, "ended_by", ended_by);
  ck_assert_int_eq(time_ms(r, "end"), time_ms(r, "start"));
}
