/*
 * Loading a configuration file: three passes over one in-memory copy.
 *
 *   1. libyaml builds a position index (config_yaml.c): for every value,
 *      its dotted path ("timers.t1_ms", "listen[1]") and where its key
 *      and value start. This pass also reports syntax errors, duplicate
 *      keys and aliases with their exact position.
 *   2. libcyaml checks the document's shape against the schema below
 *      (unknown keys, a sequence where a mapping belongs, too many
 *      entries) and loads it into an intermediate struct whose leaves are
 *      all strings. libcyaml tells where an error is only through its log
 *      callback, as a backtrace; we capture it and turn it into
 *      "FILE:LINE:COLUMN: what was expected".
 *   3. The strings are parsed strictly (libcyaml 1.3.1 reads "500ms" as
 *      500 and "0x10" as 16) and copied into a cay_config_t, which is then
 *      checked as a whole (cay__config_check_values(), config.c). Errors
 *      of this pass take their position from the index of pass 1. This
 *      pass is config_apply.c (with a file per section: config_tls.c,
 *      config_routes.c, ...).
 *
 * Positions are 1-based, as editors count. libyaml's marks are 0-based;
 * libcyaml's backtrace already adds one to both.
 */
#include "cay/config.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/alloc.h"
#include "server/config_int.h"

/* ------------------------------------------------------------------ */
/* The file's shape, as libcyaml loads it.                              */
/* ------------------------------------------------------------------ */

const cyaml_schema_value_t cay__config_string_entry = {
  CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t timers_fields[] = {
  STR("t1_ms", struct file_timers, t1_ms),
  STR("t2_ms", struct file_timers, t2_ms),
  STR("t4_ms", struct file_timers, t4_ms),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t dialog_fields[] = {
  STR("max_duration_s", struct file_dialog, max_duration_s),
  STR("flows", struct file_dialog, flows),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t answer_fields[] = {
  STR("ring_ms", struct file_answer, ring_ms),
  STR("answer_after_ms", struct file_answer, answer_after_ms),
  STR("hangup_after_ms", struct file_answer, hangup_after_ms),
  CYAML_FIELD_SEQUENCE("codecs", CYAML_FLAG_POINTER | OPT, struct file_answer,
                       codecs, &cay__config_string_entry, 0,
                       CAY_CONFIG_MAX_CODECS),
  STR("media_ip", struct file_answer, media_ip),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t log_fields[] = {
  STR("level", struct file_log, level),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t limits_fields[] = {
  STR("max_transactions", struct file_limits, max_transactions),
  STR("max_message_bytes", struct file_limits, max_message_bytes),
  STR("max_headers", struct file_limits, max_headers),
  STR("tcp_max_connections", struct file_limits, tcp_max_connections),
  STR("tcp_idle_timeout_s", struct file_limits, tcp_idle_timeout_s),
  STR("tcp_connect_timeout_ms", struct file_limits, tcp_connect_timeout_ms),
  STR("mailbox_messages", struct file_limits, mailbox_messages),
  STR("udp_max_request_bytes", struct file_limits, udp_max_request_bytes),
  STR("udp_overload_percent", struct file_limits, udp_overload_percent),
  STR("tcp_overload_kib", struct file_limits, tcp_overload_kib),
  STR("source_requests", struct file_limits, source_requests),
  STR("source_window_s", struct file_limits, source_window_s),
  STR("source_block_s", struct file_limits, source_block_s),
  CYAML_FIELD_END,
};

/* RFC 4028 session timers. */
static const cyaml_schema_field_t session_timers_fields[] = {
  STR("expires_s", struct file_session_timers, expires_s),
  STR("min_se_s", struct file_session_timers, min_se_s),
  CYAML_FIELD_END,
};

/* RFC 3263 name lookups. */
static const cyaml_schema_field_t dns_fields[] = {
  CYAML_FIELD_SEQUENCE("servers", CYAML_FLAG_POINTER | OPT, struct file_dns,
                       servers, &cay__config_string_entry, 0,
                       CAY_CONFIG_MAX_DNS),
  STR("timeout_ms", struct file_dns, timeout_ms),
  STR("cache_entries", struct file_dns, cache_entries),
  STR("cache_max_ttl_s", struct file_dns, cache_max_ttl_s),
  STR("failed_target_s", struct file_dns, failed_target_s),
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
  CYAML_FIELD_SEQUENCE("listen", CYAML_FLAG_POINTER | OPT, struct file_top,
                       listen, &cay__config_string_entry, 0,
                       CAY_CONFIG_MAX_LISTEN),
  CYAML_FIELD_MAPPING_PTR("timers", OPT, struct file_top, timers,
                          timers_fields),
  CYAML_FIELD_MAPPING_PTR("dialog", OPT, struct file_top, dialog,
                          dialog_fields),
  CYAML_FIELD_MAPPING_PTR("answer", OPT, struct file_top, answer,
                          answer_fields),
  CYAML_FIELD_MAPPING_PTR("log", OPT, struct file_top, log, log_fields),
  STR("shards", struct file_top, shards),
  STR("udp_steering", struct file_top, udp_steering),
  CYAML_FIELD_MAPPING_PTR("limits", OPT, struct file_top, limits,
                          limits_fields),
  CYAML_FIELD_MAPPING_PTR("session_timers", OPT, struct file_top,
                          session_timers, session_timers_fields),
  CYAML_FIELD_MAPPING_PTR("dns", OPT, struct file_top, dns, dns_fields),
  CYAML_FIELD_SEQUENCE("routes", CYAML_FLAG_POINTER | OPT, struct file_top,
                       routes, &cay__config_route_entry, 0,
                       CAY_CONFIG_MAX_ROUTES),
  CYAML_FIELD_MAPPING_PTR("registrar", OPT, struct file_top, registrar,
                          cay__config_registrar_fields),
  CYAML_FIELD_MAPPING_PTR("tls", OPT, struct file_top, tls,
                          cay__config_tls_fields),
  CYAML_FIELD_MAPPING_PTR("websocket", OPT, struct file_top, websocket,
                          cay__config_ws_fields),
  CYAML_FIELD_MAPPING_PTR("metrics", OPT, struct file_top, metrics,
                          cay__config_metrics_fields),
  CYAML_FIELD_MAPPING_PTR("cdr", OPT, struct file_top, cdr,
                          cay__config_cdr_fields),
  CYAML_FIELD_END,
};

static const cyaml_schema_value_t top_schema = {
  CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct file_top, top_fields),
};

/* ------------------------------------------------------------------ */
/* Pass 2: libcyaml, and its backtrace turned into a message.           */
/* ------------------------------------------------------------------ */

static void
capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
  struct load_ctx *lc = ctx;
  char *line;
  size_t n;

  if (level < CYAML_LOG_ERROR || lc->n_log == LOG_LINES)
    return;
  line = lc->log[lc->n_log++];
  vsnprintf(line, LOG_LINE_LEN, fmt, args);
  n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
}

/* libcyaml allocates through the shim, so tests see its leaks and can fail
 * its allocations. */
static void *
cyaml_mem_shim(void *ctx, void *ptr, size_t size)
{
  (void)ctx;
  if (size == 0) {
    cay__free(ptr);
    return NULL;
  }
  return cay__realloc(ptr, size);
}

/* The schema fields of the mapping at @p path ("answer", "routes[2].match"),
 * or NULL when that is no mapping. */
static const cyaml_schema_field_t *
fields_at(const char *path)
{
  const cyaml_schema_field_t *fields = top_fields;
  const char *p = path;

  while (*p) {
    size_t n = strcspn(p, ".["), len = strcspn(p, ".");
    const cyaml_schema_field_t *f = fields;
    const cyaml_schema_value_t *v;

    while (f->key && (strlen(f->key) != n || strncmp(f->key, p, n) != 0))
      f++;
    if (f->key == NULL)
      return NULL;
    v = &f->value;
    /* "routes[2]": an entry of a sequence of mappings. */
    if (n < len && v->type == CYAML_SEQUENCE)
      v = v->sequence.entry;
    if (v->type != CYAML_MAPPING)
      return NULL;
    fields = v->mapping.fields;
    p += len;
    if (*p == '.')
      p++;
  }
  return fields;
}

/* "a, b or c" from a schema's field names. */
static void
format_keys(char *out, size_t outlen, const cyaml_schema_field_t *fields)
{
  size_t n = 0, count = 0;

  out[0] = '\0';
  while (fields[count].key)
    count++;
  for (size_t i = 0; i < count && n < outlen; i++) {
    const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
    int m = snprintf(out + n, outlen - n, "%s%s", sep, fields[i].key);

    if (m < 0)
      break;
    n += (size_t)m;
  }
}

static const char *
event_phrase(const char *event, const struct node_pos *np)
{
  if (strcmp(event, "SEQUENCE_START") == 0)
    return "a sequence";
  if (strcmp(event, "MAPPING_START") == 0)
    return "a mapping";
  if (strcmp(event, "SCALAR") == 0)
    return np && np->kind == NODE_NULL ? "nothing" : "a single value";
  if (strcmp(event, "ALIAS") == 0)
    return "an alias";
  return "something else";
}

static const char *
type_phrase(const char *type)
{
  if (strcmp(type, "MAPPING") == 0)
    return "a mapping of keys";
  if (strcmp(type, "SEQUENCE") == 0)
    return "a sequence";
  return "a single value";
}

/* Where libcyaml's last error is, from its log (lc->log): the path of
 * the innermost node into @p path (PATH_LEN bytes), its position into
 * *@p line and *@p col (0 when none). @return the message ("Load: ...")
 * after its prefix, or NULL. */
static const char *
cyaml_error_at(struct load_ctx *lc, char *path, unsigned *line, unsigned *col)
{
  const char *msg = NULL;
  char name[PATH_LEN], child[PATH_LEN];
  unsigned l, c, idx;
  const struct node_pos *np;

  /* The backtrace lists the innermost frame first: walk it outermost
   * first to build the path, keeping the innermost position. Sequence
   * entry numbers in libcyaml 1.3.1 backtraces are not reliable (they are
   * sometimes 1-based), so an entry's path comes from the index, found by
   * its position. */
  for (unsigned i = lc->n_log; i-- > 0;) {
    const char *s = lc->log[i];

    if (sscanf(s, "  in mapping field '%127[^']' (line: %u, column: %u)", name,
               &l, &c)
        == 3) {
      cay__config_join_path(child, sizeof child, path, name);
      memcpy(path, child, PATH_LEN);
      *line = l;
      *col = c;
    } else if (sscanf(s, "  in sequence entry '%u' (line: %u, column: %u)",
                      &idx, &l, &c)
               == 3) {
      np = cay__config_find_node_at(lc, l, c);
      if (np)
        memcpy(path, np->path, PATH_LEN);
      *line = l;
      *col = c;
    } else if (sscanf(s, "  in mapping (line: %u, column: %u)", &l, &c) == 2) {
      *line = l;
      *col = c;
    } else if (strncmp(s, "Load: ", 6) == 0
               && strcmp(s, "Load: Backtrace:") != 0) {
      msg = s + 6;
    }
  }
  return msg;
}

/* "Unexpected key: KEY" at @p path: the key's own position, and the keys
 * the mapping takes. */
static int
fail_unknown_key(struct load_ctx *lc, const char *path, const char *key,
                 unsigned line, unsigned col)
{
  const cyaml_schema_field_t *fields = fields_at(path);
  char child[PATH_LEN], keys[256];
  const struct node_pos *np;

  /* libcyaml points at the previous value here, not at the key: take
   * the key's own position from the index. */
  cay__config_join_path(child, sizeof child, path, key);
  np = cay__config_find_node(lc, child);
  if (np) {
    line = np->key_line;
    col = np->key_col;
  }
  if (fields)
    format_keys(keys, sizeof keys, fields);
  else
    keys[0] = '\0';
  return cay__config_fail_at(
      lc, line, col, "%s%sunknown key '%.*s'%s%s%s", path, *path ? ": " : "",
      VALUE_PREVIEW, key, *keys ? " (expected " : "", keys, *keys ? ")" : "");
}

static int
fail_cyaml(struct load_ctx *lc, cyaml_err_t cerr)
{
  const char *msg;
  char path[PATH_LEN] = "", want[32], got[32];
  unsigned line = 0, col = 0, idx;
  const struct node_pos *np;

  if (cerr == CYAML_ERR_OOM) {
    cay__config_fail_at(lc, 0, 0, "out of memory");
    return -ENOMEM;
  }
  msg = cyaml_error_at(lc, path, &line, &col);
  if (msg == NULL)
    return cay__config_fail_at(lc, 0, 0, "%s", cyaml_strerror(cerr));
  if (strncmp(msg, "Unexpected key: ", 16) == 0)
    return fail_unknown_key(lc, path, msg + 16, line, col);

  if (line == 0 && (np = cay__config_find_node(lc, path)) != NULL) {
    line = np->line;
    col = np->col;
  }
  if (sscanf(msg, "Expecting %31s got event: %31s", want, got) == 2) {
    size_t n = strlen(want);

    if (n > 0 && want[n - 1] == ',')
      want[n - 1] = '\0';
    return cay__config_fail_at(
        lc, line, col, "%s: expected %s, got %s", *path ? path : "top level",
        type_phrase(want),
        event_phrase(got, cay__config_find_node_at(lc, line, col)));
  }
  if (sscanf(msg, "Excessive entries (%u max)", &idx) == 1) {
    /* The position is the first entry too many; name the sequence. */
    char *bracket = strrchr(path, '[');

    if (bracket)
      *bracket = '\0';
    return cay__config_fail_at(lc, line, col,
                               "%s: too many entries (at most %u)", path, idx);
  }
  return cay__config_fail_at(lc, line, col, "%s%s%s", path, *path ? ": " : "",
                             msg);
}

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

static int
read_file(struct load_ctx *lc, char **out, size_t *outlen)
{
  struct stat st;
  char *buf = NULL;
  size_t len = 0;
  int fd, rc = 0;

  fd = open(lc->file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    cay__config_fail_at(lc, 0, 0, "cannot open: %s", strerror(-rc));
    return rc;
  }
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    cay__config_fail_at(lc, 0, 0, "cannot read: %s", strerror(-rc));
    goto out;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = -EISDIR;
    cay__config_fail_at(lc, 0, 0, "cannot read: %s", strerror(EISDIR));
    goto out;
  }
  buf = cay__malloc(CONFIG_MAX_FILE_BYTES + 1);
  if (buf == NULL) {
    rc = -ENOMEM;
    cay__config_fail_at(lc, 0, 0, "out of memory");
    goto out;
  }
  /* Read until EOF rather than trusting st_size: it may be a pipe. */
  for (;;) {
    ssize_t n = read(fd, buf + len, CONFIG_MAX_FILE_BYTES + 1 - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = -errno;
      cay__config_fail_at(lc, 0, 0, "cannot read: %s", strerror(-rc));
      goto out;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (len > CONFIG_MAX_FILE_BYTES) {
      rc = cay__config_fail_at(lc, 0, 0, "file is larger than %d bytes",
                               CONFIG_MAX_FILE_BYTES);
      goto out;
    }
  }
  buf[len] = '\0';
  *out = buf;
  *outlen = len;
  buf = NULL;
out:
  cay__free(buf);
  close(fd);
  return rc;
}

int
cay_config_load(cay_config_t *cfg, const char *path, char *err, size_t errlen)
{
  cyaml_config_t cc;
  struct load_ctx *lc;
  struct file_top *top = NULL;
  struct problem pb;
  const struct node_pos *np;
  char *buf = NULL, msg[512];
  size_t len = 0;
  cyaml_err_t cerr;
  int rc;

  memset(&cc, 0, sizeof cc);
  cay__errmsg(err, errlen, "%s", "");
  /* The context holds the backtrace lines, the parser stack and the new
   * configuration: about 40 KiB, too much for a caller's stack in an
   * embedding application. */
  lc = cay__calloc(1, sizeof *lc);
  if (lc == NULL) {
    cay__errmsg(err, errlen, "%s: out of memory", path);
    return -ENOMEM;
  }
  lc->file = path;
  lc->err = err;
  lc->errlen = errlen;

  rc = read_file(lc, &buf, &len);
  if (rc != 0)
    goto out;
  lc->buf = buf;
  lc->len = len;

  rc = cay__config_build_index(lc);
  if (rc != 0)
    goto out;

  cc.log_fn = capture_log;
  cc.log_ctx = lc;
  cc.mem_fn = cyaml_mem_shim;
  cc.log_level = CYAML_LOG_ERROR;
  cc.flags = CYAML_CFG_NO_ALIAS;
  cerr = cyaml_load_data((const uint8_t *)buf, len, &cc, &top_schema,
                         (cyaml_data_t **)&top, NULL);
  if (cerr != CYAML_OK) {
    rc = fail_cyaml(lc, cerr);
    goto out;
  }

  /* Work on a copy so that a bad file leaves @p cfg as it was. */
  lc->next = *cfg;
  rc = cay__config_apply_file(lc, top, &lc->next);
  if (rc != 0)
    goto out;
  rc = cay__config_check_values(&lc->next, &pb, msg, sizeof msg);
  if (rc != 0) {
    np = cay__config_find_node(lc, pb.path);
    if (np == NULL && pb.alt[0])
      np = cay__config_find_node(lc, pb.alt);
    cay__config_fail_at(lc, np ? np->line : 0, np ? np->col : 0, "%s", msg);
    goto out;
  }
  *cfg = lc->next;

out:
  if (top != NULL)
    cyaml_free(&cc, &top_schema, top, 0);
  cay__free(buf);
  cay__free(lc->nodes);
  cay__free(lc);
  return rc;
}
