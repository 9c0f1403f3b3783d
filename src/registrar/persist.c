/*
 * The bindings of an AOR as a record that outlives the process
 * (registrar.h: cay__registrar_record(), cay__registrar_restore()), for
 * the store (server/reg_store.c) to keep.
 *
 * A record is text: a first line "cay-bindings 2", then one line per
 * binding, twelve fields separated by a tab:
 *
 *   expires    the wall-clock time it ends at, in ms since 1970 (the
 *              shard's clock does not survive a restart)
 *   cseq q flags proto flow reg_id call_id instance path contact
 *   keepalive  cay__binding_change_t.keepalive_s (0: not watched)
 *
 * A record of version 1 (Cay before keep-alives were watched) has the
 * first eleven only, and is read with keepalive 0.
 *
 * flags: 1 calls go over the flow, 2 nothing but the flow reaches the
 * contact, 4 the flow is a NAT's (cay__peer_t.flow). flow is "-" or the
 * address "ip:port". Empty text fields are NULL. '%', tab, CR and LF in a
 * field are written %25, %09, %0D, %0A.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registrar/registrar_int.h"

#define SHARD_NO(reg) ((int)(reg)->shard->index)

#define RECORD_HEAD    "cay-bindings 2\n"
#define RECORD_HEAD_V1 "cay-bindings 1\n"
#define FIELDS         12
#define FIELDS_V1      11
/* A record's bindings, at most: registrar.max_bindings' bound. */
#define RECORD_MAX_BINDINGS 1000

enum { FLAG_BY_FLOW = 1, FLAG_FLOW_ONLY = 2, FLAG_NAT = 4 };

/* -- writing -------------------------------------------------------------- */

static size_t
escaped_len(const char *s)
{
  size_t n = 0;

  for (; s && *s; s++)
    n += strchr("%\t\r\n", *s) ? 3 : 1;
  return n;
}

static char *
put_escaped(char *o, const char *s)
{
  for (; s && *s; s++)
    if (strchr("%\t\r\n", *s))
      o += sprintf(o, "%%%02X", (unsigned char)*s);
    else
      *o++ = *s;
  return o;
}

/* The room binding @p b's line needs, at most. */
static size_t
line_room(const reg_binding_t *b)
{
  return 160 + escaped_len(b->call_id) + escaped_len(b->instance)
         + escaped_len(b->path) + escaped_len(b->contact);
}

static char *
put_line(char *o, const reg_binding_t *b, uint64_t expires_wall)
{
  char where[64] = "-";
  unsigned flags = (b->by_flow ? FLAG_BY_FLOW : 0)
                   | (b->flow_only ? FLAG_FLOW_ONLY : 0)
                   | (b->flow.flow ? FLAG_NAT : 0);

  if (b->by_flow && cay__addr_format(&b->flow.addr, where, sizeof where) != 0)
    strcpy(where, "-");
  o += sprintf(o, "%" PRIu64 "\t%" PRIu32 "\t%d\t%u\t%u\t%s\t%u\t",
               expires_wall, b->cseq, b->q, flags, (unsigned)b->flow.proto,
               where, b->reg_id);
  o = put_escaped(o, b->call_id);
  *o++ = '\t';
  o = put_escaped(o, b->instance);
  *o++ = '\t';
  o = put_escaped(o, b->path);
  *o++ = '\t';
  o = put_escaped(o, b->contact);
  o += sprintf(o, "\t%u\n", b->keepalive_s);
  return o;
}

int
cay__registrar_record(cay__registrar_t *reg, const char *aor, uint64_t wall_ms,
                      char **out, size_t *len, uint64_t *ttl_ms)
{
  reg_aor_t *a = cay__loc_find(reg, aor, 0);
  uint64_t now = cay__shard_now(reg->shard), last = 0;
  size_t room = sizeof RECORD_HEAD;
  char *buf, *o;

  *out = NULL;
  *len = 0;
  *ttl_ms = 0;
  if (a == NULL || a->n == 0)
    return 0;
  for (const reg_binding_t *b = a->bindings; b; b = b->next)
    room += line_room(b);
  if ((buf = cay__malloc(room)) == NULL)
    return -ENOMEM;
  o = buf + sprintf(buf, "%s", RECORD_HEAD);
  for (const reg_binding_t *b = a->bindings; b; b = b->next) {
    uint64_t left = b->expires_ms > now ? b->expires_ms - now : 0;
    o = put_line(o, b, wall_ms + left);
    if (left > last)
      last = left;
  }
  *out = buf;
  *len = (size_t)(o - buf);
  *ttl_ms = last ? last : 1;
  return 0;
}

void
cay__registrar_each_aor(cay__registrar_t *reg,
                        void (*fn)(void *arg, const char *aor), void *arg)
{
  cay__htab_t *tab = &reg->aors;

  for (size_t i = 0; i < tab->nbuckets; i++)
    for (cay__hnode_t *n = tab->buckets[i]; n; n = n->next)
      fn(arg, ((reg_aor_t *)n)->name);
}

/* -- reading -------------------------------------------------------------- */

/* One binding of a record, its text fields pointing into the record's
 * copy. */
typedef struct {
  uint64_t expires_wall;
  uint32_t cseq;
  int q;
  unsigned flags, proto, reg_id, keepalive_s;
  cay__peer_t flow;
  char *call_id, *instance, *path, *contact;
} entry_t;

static int
hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Undo put_escaped() in place. -EINVAL: a '%' not followed by two hex
 * digits, or one that decodes to NUL. */
static int
unescape(char *s)
{
  char *o = s;

  for (; *s; s++) {
    int hi, lo;
    if (*s != '%') {
      *o++ = *s;
      continue;
    }
    if ((hi = hex_digit(s[1])) < 0 || (lo = hex_digit(s[2])) < 0
        || (hi | lo) == 0)
      return -EINVAL;
    *o++ = (char)(hi << 4 | lo);
    s += 2;
  }
  *o = '\0';
  return 0;
}

/* A decimal number of at most @p max. */
static int
number(const char *s, uint64_t max, uint64_t *out)
{
  char *end;

  if (*s < '0' || *s > '9')
    return -EINVAL;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno || *end || *out > max ? -EINVAL : 0;
}

/* "ip:port" or "[ip6]:port". */
static int
parse_addr(const char *s, cay__addr_t *a)
{
  const char *colon = strrchr(s, ':');
  uint64_t port;

  if (colon == NULL || number(colon + 1, 65535, &port) != 0)
    return -EINVAL;
  return cay__addr_setn(a, s, (size_t)(colon - s), (unsigned)port);
}

/* NULL for an empty field. */
static char *
text_or_null(char *s)
{
  return s[0] ? s : NULL;
}

static int
parse_numbers(char **f, entry_t *e)
{
  uint64_t v[6] = { 0 };
  int q;

  if (number(f[0], UINT64_MAX, &v[0]) != 0
      || number(f[1], UINT32_MAX, &v[1]) != 0
      || (strcmp(f[2], "-1") != 0 && number(f[2], 1000, &v[2]) != 0)
      || number(f[3], 7, &v[3]) != 0 || number(f[4], CAY__WSS, &v[4]) != 0
      || number(f[6], UINT32_MAX, &v[5]) != 0)
    return -EINVAL;
  q = strcmp(f[2], "-1") == 0 ? -1 : (int)v[2];
  e->expires_wall = v[0];
  e->cseq = (uint32_t)v[1];
  e->q = q;
  e->flags = (unsigned)v[3];
  e->proto = (unsigned)v[4];
  e->reg_id = (unsigned)v[5];
  return 0;
}

/* Line @p line (NUL-terminated, no LF) of @p fields fields (FIELDS or
 * FIELDS_V1) into @p e. */
static int
parse_line(char *line, unsigned fields, entry_t *e)
{
  char *f[FIELDS];
  uint64_t ka = 0;
  unsigned n = 0;

  for (char *p = line;; p++) {
    if (n == fields)
      return -EINVAL; /* a tab too many */
    f[n++] = p;
    if ((p = strchr(p, '\t')) == NULL)
      break;
    *p = '\0';
  }
  if (n != fields || parse_numbers(f, e) != 0
      || (fields == FIELDS && number(f[11], UINT32_MAX, &ka) != 0))
    return -EINVAL;
  e->keepalive_s = (unsigned)ka;
  memset(&e->flow, 0, sizeof e->flow);
  e->flow.proto = (uint8_t)e->proto;
  e->flow.flow = (e->flags & FLAG_NAT) != 0;
  if (e->flags & FLAG_BY_FLOW) {
    if (parse_addr(f[5], &e->flow.addr) != 0)
      return -EINVAL;
  } else if (strcmp(f[5], "-") != 0) {
    return -EINVAL;
  }
  for (unsigned i = 7; i < FIELDS_V1; i++)
    if (unescape(f[i]) != 0)
      return -EINVAL;
  e->call_id = f[7];
  e->instance = text_or_null(f[8]);
  e->path = text_or_null(f[9]);
  e->contact = f[10];
  if (e->contact[0] == '\0' || strlen(e->contact) >= CAY__CONTACT_MAX
      || (e->path && strlen(e->path) >= CAY__PATH_MAX)
      || (e->instance && e->reg_id == 0))
    return -EINVAL;
  return 0;
}

/* Split @p text (NUL-terminated, with @p room lines at most after the
 * first) into entries. @return how many, or -EINVAL. */
static int
parse_record(char *text, entry_t *e, size_t room)
{
  size_t head = sizeof RECORD_HEAD - 1;
  unsigned fields = FIELDS;
  int n = 0;

  if (strncmp(text, RECORD_HEAD_V1, head) == 0)
    fields = FIELDS_V1;
  else if (strncmp(text, RECORD_HEAD, head) != 0)
    return -EINVAL;
  for (char *p = text + head; *p;) {
    char *lf = strchr(p, '\n');
    if (lf == NULL || (size_t)n == room)
      return -EINVAL; /* a record ends with a line break */
    *lf = '\0';
    if (parse_line(p, fields, &e[n++]) != 0)
      return -EINVAL;
    p = lf + 1;
  }
  return n;
}

/* A canonical AOR (cay__aor_of()) as far as text shows: "sip:user@host"
 * (its user unescaped: any byte but NUL, a space too). */
static int
plausible_aor(const char *aor)
{
  return strlen(aor) < CAY__AOR_MAX && strncmp(aor, "sip:", 4) == 0
         && strchr(aor, '@') != NULL;
}

/* Bind entry @p e to @p a for the time it has left after @p wall_ms. */
static int
restore_entry(reg_aor_t *a, entry_t *e, uint64_t wall_ms,
              cay__restore_counts_t *n)
{
  int by_flow = (e->flags & FLAG_BY_FLOW) != 0;
  cay__binding_change_t c = { .aor = a->name,
                              .contact = e->contact,
                              .q = e->q,
                              .flow_only = (e->flags & FLAG_FLOW_ONLY) != 0,
                              .instance = e->instance,
                              .reg_id = e->reg_id,
                              .path = e->path,
                              .keepalive_s = e->keepalive_s };

  if (e->expires_wall <= wall_ms) {
    n->expired++;
    return 0;
  }
  /* A TCP, TLS or WebSocket flow was a connection of the process that
   * wrote the record: gone. RFC 5626 section 7 as when it closes. */
  if (by_flow && cay__proto_stream(e->flow.proto)) {
    if (c.flow_only) {
      CAY_INFO(SHARD_NO(a->reg),
               "AOR %s: binding %s not restored: the connection it "
               "registered over is gone, and nothing else reaches it",
               a->name, e->contact);
      n->dropped++;
      return 0;
    }
    by_flow = 0;
  }
  c.flow = by_flow ? &e->flow : NULL;
  c.expires_ms = e->expires_wall - wall_ms;
  if (cay__loc_set(a, cay__loc_binding_text(a, e->contact), &c, e->call_id,
                   e->cseq)
      != 0)
    return -ENOMEM;
  n->restored++;
  return 0;
}

int
cay__registrar_restore(cay__registrar_t *reg, const char *aor,
                       const char *record, size_t len, uint64_t wall_ms,
                       cay__restore_counts_t *n)
{
  cay__registrar_store_fn store = reg->store;
  size_t lines = 0;
  char *text;
  entry_t *e;
  reg_aor_t *a = NULL;
  int count, rc = 0;

  if (!plausible_aor(aor) || memchr(record, '\0', len))
    return -EINVAL;
  for (size_t i = 0; i < len; i++)
    lines += record[i] == '\n';
  if (lines == 0 || lines > RECORD_MAX_BINDINGS + 1)
    return -EINVAL;
  text = cay__malloc(len + 1);
  e = cay__calloc(lines, sizeof *e);
  if (text == NULL || e == NULL) {
    cay__free(text);
    cay__free(e);
    return -ENOMEM;
  }
  memcpy(text, record, len);
  text[len] = '\0';
  count = parse_record(text, e, lines - 1);
  if (count < 0)
    rc = count;
  else if ((a = cay__loc_find(reg, aor, 0)) == NULL
           && (a = cay__loc_add_aor(reg, aor, 0)) == NULL)
    rc = -ENOMEM;
  /* The oldest first: the list keeps the newest at its head. The store
   * has them already. */
  reg->store = NULL;
  for (int i = count - 1; rc == 0 && i >= 0; i--)
    rc = restore_entry(a, &e[i], wall_ms, n);
  reg->store = store;
  if (a)
    cay__loc_drop_if_empty(a); /* every binding expired or dropped */
  cay__free(e);
  cay__free(text);
  return rc;
}
