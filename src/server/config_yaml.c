/*
 * Pass 1 of loading a configuration file: the position index.
 *
 * libyaml reads the document event by event; for every value we record
 * its dotted path ("timers.t1_ms", "listen[1]", "routes[0].match.source")
 * and where its key and value start, so that every later error, from
 * libcyaml or from our own checks, can say FILE:LINE:COLUMN. This pass
 * also reports syntax errors, duplicate keys and aliases with their exact
 * position.
 *
 * Positions are 1-based, as editors count; libyaml's marks are 0-based.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "server/config_int.h"

int
cay__config_fail_at(struct load_ctx *lc, unsigned line, unsigned col,
                    const char *fmt, ...)
{
  va_list ap;
  int n;

  if (lc->err == NULL || lc->errlen == 0)
    return CAY_ECONFIG;
  if (line > 0)
    n = snprintf(lc->err, lc->errlen, "%s:%u:%u: ", lc->file, line, col);
  else
    n = snprintf(lc->err, lc->errlen, "%s: ", lc->file);
  if (n < 0 || (size_t)n >= lc->errlen)
    return CAY_ECONFIG;
  va_start(ap, fmt);
  vsnprintf(lc->err + n, lc->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return CAY_ECONFIG;
}

const struct node_pos *
cay__config_find_node(const struct load_ctx *lc, const char *path)
{
  for (size_t i = 0; i < lc->n_nodes; i++)
    if (strcmp(lc->nodes[i].path, path) == 0)
      return &lc->nodes[i];
  return NULL;
}

const struct node_pos *
cay__config_find_node_at(const struct load_ctx *lc, unsigned line, unsigned col)
{
  for (size_t i = 0; i < lc->n_nodes; i++)
    if (lc->nodes[i].line == line && lc->nodes[i].col == col)
      return &lc->nodes[i];
  return NULL;
}

void
cay__config_join_path(char *out, size_t outlen, const char *parent,
                      const char *key)
{
  size_t n = 0;

  /* By hand rather than snprintf(): a truncated path only shortens a
   * message, and gcc cannot be told so. */
  for (const char *s = parent; *s && n + 1 < outlen; s++)
    out[n++] = *s;
  if (*parent && n + 1 < outlen)
    out[n++] = '.';
  for (const char *s = key; *s && n + 1 < outlen; s++)
    out[n++] = *s;
  out[n] = '\0';
}

static int
add_node(struct load_ctx *lc, const char *path, yaml_mark_t key,
         const yaml_event_t *ev)
{
  struct node_pos *np;

  if (lc->n_nodes == MAX_NODES)
    return cay__config_fail_at(
        lc, (unsigned)ev->start_mark.line + 1,
        (unsigned)ev->start_mark.column + 1,
        "too many values (a valid configuration has at most a "
        "few dozen)");
  if (lc->n_nodes == lc->cap_nodes) {
    size_t cap = lc->cap_nodes ? lc->cap_nodes * 2 : 32;
    struct node_pos *v = cay__realloc(lc->nodes, cap * sizeof *v);

    if (v == NULL) {
      cay__config_fail_at(lc, 0, 0, "out of memory");
      return -ENOMEM;
    }
    lc->nodes = v;
    lc->cap_nodes = cap;
  }
  np = &lc->nodes[lc->n_nodes++];
  snprintf(np->path, sizeof np->path, "%s", path);
  np->key_line = (unsigned)key.line + 1;
  np->key_col = (unsigned)key.column + 1;
  np->line = (unsigned)ev->start_mark.line + 1;
  np->col = (unsigned)ev->start_mark.column + 1;
  switch (ev->type) {
  case YAML_MAPPING_START_EVENT:
    np->kind = NODE_MAPPING;
    break;
  case YAML_SEQUENCE_START_EVENT:
    np->kind = NODE_SEQUENCE;
    break;
  default:
    /* YAML 1.1 null: an empty plain scalar, "~" or "null". */
    np->kind
        = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                  && (ev->data.scalar.length == 0
                      || strcmp((char *)ev->data.scalar.value, "~") == 0
                      || strcasecmp((char *)ev->data.scalar.value, "null") == 0)
              ? NODE_NULL
              : NODE_SCALAR;
    break;
  }
  return 0;
}

/* Record one node (scalar, or the start of a mapping or sequence). */
static int
index_node(struct load_ctx *lc, const yaml_event_t *ev)
{
  struct frame *f = lc->depth ? &lc->stack[lc->depth - 1] : NULL;
  char path[PATH_LEN];
  yaml_mark_t key = ev->start_mark;
  int rc;

  if (f == NULL) {
    path[0] = '\0';
  } else if (f->is_mapping && f->want_key) {
    if (ev->type != YAML_SCALAR_EVENT)
      return cay__config_fail_at(
          lc, (unsigned)ev->start_mark.line + 1,
          (unsigned)ev->start_mark.column + 1, "expected a key name, got a %s",
          ev->type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
    cay__config_join_path(f->child, sizeof f->child, f->path,
                          (const char *)ev->data.scalar.value);
    /* YAML 1.2 section 3.2.1.1 requires unique keys; libyaml does not
     * check it, and a second "timers:" silently winning is a trap. */
    if (cay__config_find_node(lc, f->child) != NULL)
      return cay__config_fail_at(lc, (unsigned)ev->start_mark.line + 1,
                                 (unsigned)ev->start_mark.column + 1,
                                 "duplicate key '%.*s'", VALUE_PREVIEW,
                                 (const char *)ev->data.scalar.value);
    f->key_mark = ev->start_mark;
    f->want_key = 0;
    return 0;
  } else if (f->is_mapping) {
    snprintf(path, sizeof path, "%s", f->child);
    key = f->key_mark;
    f->want_key = 1;
  } else {
    rc = snprintf(path, sizeof path, "%s[%u]", f->path, f->next_index++);
    (void)rc; /* a truncated path only shortens a message */
  }

  if ((rc = add_node(lc, path, key, ev)) != 0)
    return rc;
  if (ev->type == YAML_MAPPING_START_EVENT
      || ev->type == YAML_SEQUENCE_START_EVENT) {
    if (lc->depth == MAX_DEPTH)
      return cay__config_fail_at(lc, (unsigned)ev->start_mark.line + 1,
                                 (unsigned)ev->start_mark.column + 1,
                                 "too deeply nested");
    f = &lc->stack[lc->depth++];
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->is_mapping = ev->type == YAML_MAPPING_START_EVENT;
    f->want_key = 1;
  }
  return 0;
}

/* Turn a byte offset into a 1-based line and column, for libyaml's reader
 * errors (bad UTF-8), which carry an offset but no mark. */
static void
offset_position(const struct load_ctx *lc, size_t offset, unsigned *line,
                unsigned *col)
{
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && i < lc->len; i++) {
    if (lc->buf[i] == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

static int
fail_syntax(struct load_ctx *lc, const yaml_parser_t *parser)
{
  unsigned line, col;
  const char *problem = parser->problem ? parser->problem : "unknown error";

  if (parser->error == YAML_MEMORY_ERROR) {
    cay__config_fail_at(lc, 0, 0, "out of memory");
    return -ENOMEM;
  }
  if (parser->error == YAML_READER_ERROR) {
    offset_position(lc, parser->problem_offset, &line, &col);
    return cay__config_fail_at(lc, line, col, "YAML syntax error: %s", problem);
  }
  line = (unsigned)parser->problem_mark.line + 1;
  col = (unsigned)parser->problem_mark.column + 1;
  if (parser->context != NULL)
    return cay__config_fail_at(
        lc, line, col, "YAML syntax error: %s (%s at %u:%u)", problem,
        parser->context, (unsigned)parser->context_mark.line + 1,
        (unsigned)parser->context_mark.column + 1);
  return cay__config_fail_at(lc, line, col, "YAML syntax error: %s", problem);
}

int
cay__config_build_index(struct load_ctx *lc)
{
  yaml_parser_t parser;
  yaml_event_t ev;
  int done = 0, rc = 0;

  if (!yaml_parser_initialize(&parser)) {
    cay__config_fail_at(lc, 0, 0, "out of memory");
    return -ENOMEM;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)lc->buf,
                               lc->len);
  while (!done && rc == 0) {
    if (!yaml_parser_parse(&parser, &ev)) {
      rc = fail_syntax(lc, &parser);
      break;
    }
    switch (ev.type) {
    case YAML_DOCUMENT_START_EVENT:
      if (++lc->documents > 1)
        rc = cay__config_fail_at(lc, (unsigned)ev.start_mark.line + 1,
                                 (unsigned)ev.start_mark.column + 1,
                                 "only one YAML document is allowed");
      break;
    case YAML_ALIAS_EVENT:
      rc = cay__config_fail_at(lc, (unsigned)ev.start_mark.line + 1,
                               (unsigned)ev.start_mark.column + 1,
                               "aliases (*%.*s) are not supported",
                               VALUE_PREVIEW,
                               (const char *)ev.data.alias.anchor);
      break;
    case YAML_SCALAR_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      rc = index_node(lc, &ev);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
      lc->depth--;
      break;
    case YAML_STREAM_END_EVENT:
      done = 1;
      break;
    default:
      break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  return rc;
}

int
cay__config_fail_value(struct load_ctx *lc, const char *path, const char *fmt,
                       ...)
{
  const struct node_pos *np = cay__config_find_node(lc, path);
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cay__config_fail_at(lc, np ? np->line : 0, np ? np->col : 0, "%s: %s",
                             path, msg);
}
