/*
 * Cay configuration: built-in defaults, the YAML file, and its checks.
 *
 * Loading a file takes three passes over one in-memory copy:
 *
 *   1. libyaml builds a position index: for every value, its dotted path
 *      ("timers.t1_ms", "listen[1]") and where its key and value start.
 *      This pass also reports syntax errors, duplicate keys and aliases
 *      with their exact position.
 *   2. libcyaml checks the document's shape against the schema below
 *      (unknown keys, a sequence where a mapping belongs, too many
 *      entries) and loads it into an intermediate struct whose leaves are
 *      all strings. libcyaml tells where an error is only through its log
 *      callback, as a backtrace; we capture it and turn it into
 *      "FILE:LINE:COLUMN: what was expected".
 *   3. The strings are parsed strictly (libcyaml 1.3.1 reads "500ms" as
 *      500 and "0x10" as 16) and copied into a cay_config_t, which is then
 *      checked as a whole. Errors of this pass take their position from
 *      the index of pass 1.
 *
 * Positions are 1-based, as editors count. libyaml's marks are 0-based;
 * libcyaml's backtrace already adds one to both.
 */
#include "cay/config.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "transport/addr.h"

/* A configuration file is a few dozen lines; refuse to slurp anything that
 * is obviously not one (a log file given by mistake, /dev/zero). */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)

/* The loader accepts this many shards; cay_config_check() narrows it to
 * what the current version runs. */
#define CONFIG_MAX_SHARDS 64

/* Upper bound for T1, T2 and T4, so that 64*T1 (RFC 3261 section 17.1.1.2,
 * Timer B) and friends fit in 32 bits. One hour is far beyond any sane
 * value. */
#define CONFIG_MAX_TIMER_MS 3600000u

#define PATH_LEN      128  /* "answer.codecs[15]" and room for long keys */
#define MAX_DEPTH     16   /* the schema is 3 deep; deeper is an error */
#define MAX_NODES     1024 /* a valid file has well under 100 values */
#define LOG_LINES     16
#define LOG_LINE_LEN  256
#define VALUE_PREVIEW 64 /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* The file's shape, as libcyaml loads it.                              */
/* ------------------------------------------------------------------ */

/* Every leaf is a string: the numbers are parsed by parse_uint() below,
 * strictly, and a NULL pointer means the key is absent. */
struct file_timers {
  char *t1_ms;
  char *t2_ms;
  char *t4_ms;
};

struct file_dialog {
  char *max_duration_s;
};

struct file_answer {
  char *ring_ms;
  char *answer_after_ms;
  char *hangup_after_ms;
  char **codecs;
  unsigned codecs_count;
  char *media_ip;
};

struct file_log {
  char *level;
};

struct file_limits {
  char *max_transactions;
  char *max_message_bytes;
  char *max_headers;
  char *tcp_max_connections;
  char *tcp_idle_timeout_s;
};

struct file_top {
  char **listen;
  unsigned listen_count;
  struct file_timers *timers;
  struct file_dialog *dialog;
  struct file_answer *answer;
  struct file_log *log;
  char *shards;
  struct file_limits *limits;
};

#define OPT CYAML_FLAG_OPTIONAL
#define STR(key, type, member)                                                 \
  CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t string_entry = {
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
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t answer_fields[] = {
  STR("ring_ms", struct file_answer, ring_ms),
  STR("answer_after_ms", struct file_answer, answer_after_ms),
  STR("hangup_after_ms", struct file_answer, hangup_after_ms),
  CYAML_FIELD_SEQUENCE("codecs", CYAML_FLAG_POINTER | OPT, struct file_answer,
                       codecs, &string_entry, 0, CAY_CONFIG_MAX_CODECS),
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
  CYAML_FIELD_END,
};

static const cyaml_schema_field_t top_fields[] = {
  CYAML_FIELD_SEQUENCE("listen", CYAML_FLAG_POINTER | OPT, struct file_top,
                       listen, &string_entry, 0, CAY_CONFIG_MAX_LISTEN),
  CYAML_FIELD_MAPPING_PTR("timers", OPT, struct file_top, timers,
                          timers_fields),
  CYAML_FIELD_MAPPING_PTR("dialog", OPT, struct file_top, dialog,
                          dialog_fields),
  CYAML_FIELD_MAPPING_PTR("answer", OPT, struct file_top, answer,
                          answer_fields),
  CYAML_FIELD_MAPPING_PTR("log", OPT, struct file_top, log, log_fields),
  STR("shards", struct file_top, shards),
  CYAML_FIELD_MAPPING_PTR("limits", OPT, struct file_top, limits,
                          limits_fields),
  CYAML_FIELD_END,
};

static const cyaml_schema_value_t top_schema = {
  CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct file_top, top_fields),
};

/* Codec names Cay can put in an SDP answer (RFC 3551 section 6 static
 * payload types, RFC 4733 telephone-event). Kept here rather than asking
 * the SDP layer so that the config has no dependency below it. */
static const char *const known_codecs[] = {
  "PCMU", "PCMA", "G722", "G729", "telephone-event",
};

/* Transports a SIP listen spec may name (RFC 3261 section 18, RFC 7118)
 * that Cay does not implement yet (udp and tcp it does). */
static const char *const later_transports[] = { "tls", "sctp", "ws", "wss" };

/* ------------------------------------------------------------------ */
/* Messages.                                                            */
/* ------------------------------------------------------------------ */

static void set_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_msg(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Defaults and the listen spec.                                        */
/* ------------------------------------------------------------------ */

void
cay_config_init(cay_config_t *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  /* DESIGN.md section 6: UDP and TCP on 127.0.0.1:5060. */
  strcpy(cfg->listen[0].proto, "udp");
  strcpy(cfg->listen[0].host, "127.0.0.1");
  cfg->listen[0].port = 5060;
  cfg->listen[1] = cfg->listen[0];
  strcpy(cfg->listen[1].proto, "tcp");
  cfg->n_listen = 2;
  /* RFC 3261 section 17.1.1.1 and table 4: T1 500 ms, T2 4 s, T4 5 s. */
  cfg->t1_ms = 500;
  cfg->t2_ms = 4000;
  cfg->t4_ms = 5000;
  cfg->dialog_max_duration_s = 7200;
  cfg->ring_ms = 0;
  cfg->answer_after_ms = 0;
  cfg->hangup_after_ms = 0;
  strcpy(cfg->codecs[0], "PCMU");
  strcpy(cfg->codecs[1], "PCMA");
  strcpy(cfg->codecs[2], "telephone-event");
  cfg->n_codecs = 3;
  strcpy(cfg->media_ip, "127.0.0.1");
  cfg->log_level = CAY_LOG_INFO;
  cfg->shards = 1;
  cfg->max_transactions = 100000;
  cfg->max_message_bytes = 65535;
  cfg->max_headers = 256;
  cfg->tcp_max_connections = 10000;
  cfg->tcp_idle_timeout_s = 300;
}

static int
is_later_transport(const char *name, size_t n)
{
  for (size_t i = 0; i < sizeof later_transports / sizeof *later_transports;
       i++)
    if (strlen(later_transports[i]) == n
        && strncasecmp(name, later_transports[i], n) == 0)
      return 1;
  return 0;
}

int
cay_config_parse_listen(const char *spec, cay_listen_t *out, char *err,
                        size_t errlen)
{
  cay_listen_t l;
  const char *p = spec, *rest, *host, *host_end, *port;
  size_t proto_len, host_len;
  unsigned long value;
  int is_udp, is_later, has_proto;

  memset(&l, 0, sizeof l);
  while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
    p++;
  proto_len = (size_t)(p - spec);
  rest = *p ? p + 1 : p;
  is_udp = proto_len == 3
           && (strncasecmp(spec, "udp", 3) == 0
               || strncasecmp(spec, "tcp", 3) == 0);
  is_later = is_later_transport(spec, proto_len);
  /* "127.0.0.1:5060" and "[::1]:5060" have no letters-then-colon prefix;
   * in "localhost:5060" the prefix is no transport's name and no HOST:PORT
   * follows it. Both lack the transport. */
  has_proto
      = proto_len > 0 && *p == ':'
        && (is_udp || is_later || *rest == '[' || strchr(rest, ':') != NULL);
  if (!has_proto) {
    set_msg(err, errlen,
            "missing transport: expected udp:HOST:PORT or tcp:HOST:PORT "
            "(such as udp:127.0.0.1:5060), got '%.*s'",
            VALUE_PREVIEW, spec);
    return CAY_ECONFIG;
  }
  if (!is_udp) {
    if (is_later)
      set_msg(err, errlen,
              "transport '%.*s' is not supported yet (udp and tcp are)",
              (int)proto_len, spec);
    else
      set_msg(err, errlen, "unknown transport '%.*s' (expected udp or tcp)",
              (int)(proto_len > VALUE_PREVIEW ? VALUE_PREVIEW : proto_len),
              spec);
    return CAY_ECONFIG;
  }
  strcpy(l.proto, strncasecmp(spec, "tcp", 3) == 0 ? "tcp" : "udp");

  if (*rest == '[') {
    /* RFC 3986 section 3.2.2: an IPv6 literal is enclosed in brackets, so
     * its colons do not clash with the port's. */
    host = rest + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL) {
      set_msg(err, errlen, "missing ']' after the IPv6 address");
      return CAY_ECONFIG;
    }
    if (memchr(host, ':', (size_t)(host_end - host)) == NULL) {
      set_msg(err, errlen, "brackets are only for IPv6 addresses, got '%.*s'",
              (int)(host_end - host), host);
      return CAY_ECONFIG;
    }
    if (host_end[1] != ':') {
      set_msg(err, errlen, "missing port: expected udp:[HOST]:PORT");
      return CAY_ECONFIG;
    }
    port = host_end + 2;
  } else {
    host = rest;
    host_end = strrchr(rest, ':');
    if (host_end == NULL) {
      set_msg(err, errlen, "missing port: expected udp:HOST:PORT");
      return CAY_ECONFIG;
    }
    if (memchr(host, ':', (size_t)(host_end - host)) != NULL) {
      set_msg(err, errlen,
              "an IPv6 address needs brackets, as in udp:[::1]:5060");
      return CAY_ECONFIG;
    }
    port = host_end + 1;
  }

  host_len = (size_t)(host_end - host);
  if (host_len == 0) {
    set_msg(err, errlen, "missing host: expected an IP address");
    return CAY_ECONFIG;
  }
  if (host_len >= sizeof l.host || !cay__is_ip_literal(host, host_len)) {
    set_msg(err, errlen,
            "host '%.*s' is not an IP address (host names are not resolved)",
            (int)(host_len > VALUE_PREVIEW ? VALUE_PREVIEW : host_len), host);
    return CAY_ECONFIG;
  }
  memcpy(l.host, host, host_len);
  l.host[host_len] = '\0';

  /* Digits only: strtoul() would accept " 5060", "+5060" and "0x13c4". */
  value = 0;
  for (p = port; *p >= '0' && *p <= '9' && value <= 65535; p++)
    value = value * 10 + (unsigned long)(*p - '0');
  if (p == port || *p != '\0' || value > 65535) {
    set_msg(err, errlen, "port '%.*s' is not a number from 0 to 65535",
            VALUE_PREVIEW, port);
    return CAY_ECONFIG;
  }
  l.port = (unsigned)value;
  *out = l;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Checks.                                                              */
/* ------------------------------------------------------------------ */

/* Where a failed check points: the path of the offending value and, for a
 * rule between two values, the other one (used when the first came from
 * the defaults rather than the file). */
struct problem {
  char path[PATH_LEN];
  char alt[PATH_LEN];
};

static int
is_known_codec(const char *name)
{
  for (size_t i = 0; i < sizeof known_codecs / sizeof *known_codecs; i++)
    if (strcasecmp(name, known_codecs[i]) == 0)
      return 1;
  return 0;
}

static int
is_bare_ip(const char *s)
{
  size_t n = strnlen(s, CAY_CONFIG_NAME_LEN);

  /* A stored address has no brackets: it goes into an SDP c= line
   * (RFC 4566 section 5.7) and into bind(), neither of which wants them. */
  return n < CAY_CONFIG_NAME_LEN && n > 0 && s[0] != '['
         && cay__is_ip_literal(s, n);
}

static int
check_timer(const char *name, unsigned value, struct problem *pb, char *err,
            size_t errlen)
{
  snprintf(pb->path, sizeof pb->path, "timers.%s", name);
  if (value < 1) {
    set_msg(err, errlen, "timers.%s (%u) must be at least 1", name, value);
    return CAY_ECONFIG;
  }
  if (value > CONFIG_MAX_TIMER_MS) {
    set_msg(err, errlen, "timers.%s (%u) must not exceed %u", name, value,
            CONFIG_MAX_TIMER_MS);
    return CAY_ECONFIG;
  }
  return 0;
}

static int
check_values(const cay_config_t *c, struct problem *pb, char *err,
             size_t errlen)
{
  int rc;

  memset(pb, 0, sizeof *pb);
  strcpy(pb->path, "listen");
  if (c->n_listen == 0) {
    set_msg(err, errlen, "listen: at least one listen address is required");
    return CAY_ECONFIG;
  }
  if (c->n_listen > CAY_CONFIG_MAX_LISTEN) {
    set_msg(err, errlen, "listen: at most %d addresses are allowed, got %u",
            CAY_CONFIG_MAX_LISTEN, c->n_listen);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_listen; i++) {
    const cay_listen_t *l = &c->listen[i];

    snprintf(pb->path, sizeof pb->path, "listen[%u]", i);
    if (strcmp(l->proto, "udp") != 0 && strcmp(l->proto, "tcp") != 0) {
      if (is_later_transport(l->proto, strnlen(l->proto, sizeof l->proto)))
        set_msg(err, errlen,
                "listen[%u]: transport '%.*s' is not supported yet "
                "(udp and tcp are)",
                i, (int)sizeof l->proto, l->proto);
      else
        set_msg(err, errlen,
                "listen[%u]: unknown transport '%.*s' (expected udp or tcp)", i,
                (int)sizeof l->proto, l->proto);
      return CAY_ECONFIG;
    }
    if (!is_bare_ip(l->host)) {
      set_msg(err, errlen,
              "listen[%u]: host '%.*s' is not an IP address without "
              "brackets",
              i, CAY_CONFIG_NAME_LEN, l->host);
      return CAY_ECONFIG;
    }
    if (l->port > 65535) {
      set_msg(err, errlen, "listen[%u]: port %u is not from 0 to 65535", i,
              l->port);
      return CAY_ECONFIG;
    }
  }

  if ((rc = check_timer("t1_ms", c->t1_ms, pb, err, errlen)) != 0
      || (rc = check_timer("t2_ms", c->t2_ms, pb, err, errlen)) != 0
      || (rc = check_timer("t4_ms", c->t4_ms, pb, err, errlen)) != 0)
    return rc;
  /* RFC 3261 section 17.1.2.2: retransmissions start at T1 and double up
   * to T2, which is meaningless if T1 is already above T2. */
  if (c->t1_ms > c->t2_ms) {
    strcpy(pb->path, "timers.t1_ms");
    strcpy(pb->alt, "timers.t2_ms");
    set_msg(err, errlen, "timers.t1_ms (%u) must not exceed timers.t2_ms (%u)",
            c->t1_ms, c->t2_ms);
    return CAY_ECONFIG;
  }

  strcpy(pb->path, "answer.codecs");
  if (c->n_codecs == 0) {
    set_msg(err, errlen, "answer.codecs: at least one codec is required");
    return CAY_ECONFIG;
  }
  if (c->n_codecs > CAY_CONFIG_MAX_CODECS) {
    set_msg(err, errlen, "answer.codecs: at most %d codecs are allowed, got %u",
            CAY_CONFIG_MAX_CODECS, c->n_codecs);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_codecs; i++) {
    if (memchr(c->codecs[i], '\0', CAY_CONFIG_NAME_LEN) != NULL
        && is_known_codec(c->codecs[i]))
      continue;
    snprintf(pb->path, sizeof pb->path, "answer.codecs[%u]", i);
    set_msg(err, errlen,
            "answer.codecs[%u]: unknown codec '%.*s' (expected PCMU, PCMA, "
            "G722, G729 or telephone-event)",
            i, CAY_CONFIG_NAME_LEN, c->codecs[i]);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "answer.media_ip");
  if (!is_bare_ip(c->media_ip)) {
    set_msg(err, errlen, "answer.media_ip: '%.*s' is not an IP address",
            CAY_CONFIG_NAME_LEN, c->media_ip);
    return CAY_ECONFIG;
  }

  strcpy(pb->path, "log.level");
  if ((int)c->log_level < CAY_LOG_ERROR || c->log_level > CAY_LOG_DEBUG) {
    set_msg(err, errlen, "log.level: unknown level %d", (int)c->log_level);
    return CAY_ECONFIG;
  }

  /* 0 is "auto": one shard per CPU. */
  strcpy(pb->path, "shards");
  if (c->shards > CONFIG_MAX_SHARDS) {
    set_msg(err, errlen, "shards (%u) must be at most %d", c->shards,
            CONFIG_MAX_SHARDS);
    return CAY_ECONFIG;
  }

  strcpy(pb->path, "limits.max_transactions");
  if (c->max_transactions < 1) {
    set_msg(err, errlen, "limits.max_transactions (%u) must be at least 1",
            c->max_transactions);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "limits.max_message_bytes");
  if (c->max_message_bytes < 1024 || c->max_message_bytes > (1u << 24)) {
    set_msg(err, errlen,
            "limits.max_message_bytes (%u) must be 1024 to 16777216",
            c->max_message_bytes);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "limits.max_headers");
  if (c->max_headers < 16 || c->max_headers > 65535) {
    set_msg(err, errlen, "limits.max_headers (%u) must be 16 to 65535",
            c->max_headers);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "limits.tcp_max_connections");
  if (c->tcp_max_connections < 1) {
    set_msg(err, errlen, "limits.tcp_max_connections must be at least 1");
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "limits.tcp_idle_timeout_s");
  if (c->tcp_idle_timeout_s < 1 || c->tcp_idle_timeout_s > 86400) {
    set_msg(err, errlen, "limits.tcp_idle_timeout_s (%u) must be 1 to 86400",
            c->tcp_idle_timeout_s);
    return CAY_ECONFIG;
  }
  return 0;
}

int
cay_config_check(const cay_config_t *cfg, char *err, size_t errlen)
{
  struct problem pb;

  return check_values(cfg, &pb, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Pass 1: the position index (libyaml).                                */
/* ------------------------------------------------------------------ */

enum node_kind { NODE_NULL, NODE_SCALAR, NODE_SEQUENCE, NODE_MAPPING };

/* One value of the document. For a mapping value the key position is the
 * key's; for a sequence entry or the root it is the value's own. */
struct node_pos {
  char path[PATH_LEN];
  unsigned key_line, key_col; /* 1-based */
  unsigned line, col;         /* 1-based */
  enum node_kind kind;
};

struct frame {
  char path[PATH_LEN];
  int is_mapping;
  int want_key;         /* mapping: the next node is a key */
  char child[PATH_LEN]; /* mapping: path of the value after the key */
  yaml_mark_t key_mark; /* mapping: where that key starts */
  unsigned next_index;  /* sequence: index of the next entry */
};

struct load_ctx {
  const char *file;
  char *err;
  size_t errlen;
  const char *buf;
  size_t len;
  struct node_pos *nodes;
  size_t n_nodes, cap_nodes;
  struct frame stack[MAX_DEPTH];
  unsigned depth;
  unsigned documents;
  char log[LOG_LINES][LOG_LINE_LEN];
  unsigned n_log;
};

static int fail_at(struct load_ctx *lc, unsigned line, unsigned col,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "FILE:LINE:COLUMN: message", or "FILE: message" when line is 0. */
static int
fail_at(struct load_ctx *lc, unsigned line, unsigned col, const char *fmt, ...)
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

static const struct node_pos *
find_node(const struct load_ctx *lc, const char *path)
{
  for (size_t i = 0; i < lc->n_nodes; i++)
    if (strcmp(lc->nodes[i].path, path) == 0)
      return &lc->nodes[i];
  return NULL;
}

static const struct node_pos *
find_node_at(const struct load_ctx *lc, unsigned line, unsigned col)
{
  for (size_t i = 0; i < lc->n_nodes; i++)
    if (lc->nodes[i].line == line && lc->nodes[i].col == col)
      return &lc->nodes[i];
  return NULL;
}

static void
join_path(char *out, size_t outlen, const char *parent, const char *key)
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
    return fail_at(lc, (unsigned)ev->start_mark.line + 1,
                   (unsigned)ev->start_mark.column + 1,
                   "too many values (a valid configuration has at most a "
                   "few dozen)");
  if (lc->n_nodes == lc->cap_nodes) {
    size_t cap = lc->cap_nodes ? lc->cap_nodes * 2 : 32;
    struct node_pos *v = cay__realloc(lc->nodes, cap * sizeof *v);

    if (v == NULL) {
      fail_at(lc, 0, 0, "out of memory");
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
      return fail_at(
          lc, (unsigned)ev->start_mark.line + 1,
          (unsigned)ev->start_mark.column + 1, "expected a key name, got a %s",
          ev->type == YAML_MAPPING_START_EVENT ? "mapping" : "sequence");
    join_path(f->child, sizeof f->child, f->path,
              (const char *)ev->data.scalar.value);
    /* YAML 1.2 section 3.2.1.1 requires unique keys; libyaml does not
     * check it, and a second "timers:" silently winning is a trap. */
    if (find_node(lc, f->child) != NULL)
      return fail_at(lc, (unsigned)ev->start_mark.line + 1,
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
      return fail_at(lc, (unsigned)ev->start_mark.line + 1,
                     (unsigned)ev->start_mark.column + 1, "too deeply nested");
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
    fail_at(lc, 0, 0, "out of memory");
    return -ENOMEM;
  }
  if (parser->error == YAML_READER_ERROR) {
    offset_position(lc, parser->problem_offset, &line, &col);
    return fail_at(lc, line, col, "YAML syntax error: %s", problem);
  }
  line = (unsigned)parser->problem_mark.line + 1;
  col = (unsigned)parser->problem_mark.column + 1;
  if (parser->context != NULL)
    return fail_at(lc, line, col, "YAML syntax error: %s (%s at %u:%u)",
                   problem, parser->context,
                   (unsigned)parser->context_mark.line + 1,
                   (unsigned)parser->context_mark.column + 1);
  return fail_at(lc, line, col, "YAML syntax error: %s", problem);
}

static int
build_index(struct load_ctx *lc)
{
  yaml_parser_t parser;
  yaml_event_t ev;
  int done = 0, rc = 0;

  if (!yaml_parser_initialize(&parser)) {
    fail_at(lc, 0, 0, "out of memory");
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
        rc = fail_at(lc, (unsigned)ev.start_mark.line + 1,
                     (unsigned)ev.start_mark.column + 1,
                     "only one YAML document is allowed");
      break;
    case YAML_ALIAS_EVENT:
      rc = fail_at(lc, (unsigned)ev.start_mark.line + 1,
                   (unsigned)ev.start_mark.column + 1,
                   "aliases (*%.*s) are not supported", VALUE_PREVIEW,
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

static const cyaml_schema_field_t *
fields_at(const char *path)
{
  const cyaml_schema_field_t *fields = top_fields;
  const char *p = path;

  while (*p) {
    size_t n = strcspn(p, ".");
    const cyaml_schema_field_t *f = fields;

    while (f->key && (strlen(f->key) != n || strncmp(f->key, p, n) != 0))
      f++;
    if (f->key == NULL || f->value.type != CYAML_MAPPING)
      return NULL;
    fields = f->value.mapping.fields;
    p += n;
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

static int
fail_cyaml(struct load_ctx *lc, cyaml_err_t cerr)
{
  const char *msg = NULL;
  char path[PATH_LEN] = "", name[PATH_LEN], child[PATH_LEN];
  char want[32], got[32], keys[256];
  unsigned line = 0, col = 0, l, c, idx;
  const struct node_pos *np;

  if (cerr == CYAML_ERR_OOM) {
    fail_at(lc, 0, 0, "out of memory");
    return -ENOMEM;
  }
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
      join_path(child, sizeof child, path, name);
      memcpy(path, child, sizeof path);
      line = l;
      col = c;
    } else if (sscanf(s, "  in sequence entry '%u' (line: %u, column: %u)",
                      &idx, &l, &c)
               == 3) {
      np = find_node_at(lc, l, c);
      if (np)
        memcpy(path, np->path, sizeof path);
      line = l;
      col = c;
    } else if (sscanf(s, "  in mapping (line: %u, column: %u)", &l, &c) == 2) {
      line = l;
      col = c;
    } else if (strncmp(s, "Load: ", 6) == 0
               && strcmp(s, "Load: Backtrace:") != 0) {
      msg = s + 6;
    }
  }
  if (msg == NULL)
    return fail_at(lc, 0, 0, "%s", cyaml_strerror(cerr));

  if (strncmp(msg, "Unexpected key: ", 16) == 0) {
    const cyaml_schema_field_t *fields = fields_at(path);

    /* libcyaml points at the previous value here, not at the key: take
     * the key's own position from the index. */
    join_path(child, sizeof child, path, msg + 16);
    np = find_node(lc, child);
    if (np) {
      line = np->key_line;
      col = np->key_col;
    }
    if (fields)
      format_keys(keys, sizeof keys, fields);
    else
      keys[0] = '\0';
    return fail_at(lc, line, col, "%s%sunknown key '%.*s'%s%s%s", path,
                   *path ? ": " : "", VALUE_PREVIEW, msg + 16,
                   *keys ? " (expected " : "", keys, *keys ? ")" : "");
  }

  if (line == 0 && (np = find_node(lc, path)) != NULL) {
    line = np->line;
    col = np->col;
  }
  if (sscanf(msg, "Expecting %31s got event: %31s", want, got) == 2) {
    size_t n = strlen(want);

    if (n > 0 && want[n - 1] == ',')
      want[n - 1] = '\0';
    return fail_at(lc, line, col, "%s: expected %s, got %s",
                   *path ? path : "top level", type_phrase(want),
                   event_phrase(got, find_node_at(lc, line, col)));
  }
  if (sscanf(msg, "Excessive entries (%u max)", &idx) == 1) {
    /* The position is the first entry too many; name the sequence. */
    char *bracket = strrchr(path, '[');

    if (bracket)
      *bracket = '\0';
    return fail_at(lc, line, col, "%s: too many entries (at most %u)", path,
                   idx);
  }
  return fail_at(lc, line, col, "%s%s%s", path, *path ? ": " : "", msg);
}

/* ------------------------------------------------------------------ */
/* Pass 3: strings to values.                                           */
/* ------------------------------------------------------------------ */

static int fail_value(struct load_ctx *lc, const char *path, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

/* An error about the value at @p path, at that value's position. */
static int
fail_value(struct load_ctx *lc, const char *path, const char *fmt, ...)
{
  const struct node_pos *np = find_node(lc, path);
  char msg[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fail_at(lc, np ? np->line : 0, np ? np->col : 0, "%s: %s", path, msg);
}

/* Decimal digits only, no sign, no base prefix, no unit. */
static int
parse_uint(struct load_ctx *lc, const char *path, const char *text,
           unsigned min, unsigned max, unsigned *out)
{
  unsigned long long value = 0;
  const char *p;

  if (text == NULL)
    return 0;
  for (p = text; *p >= '0' && *p <= '9'; p++) {
    value = value * 10 + (unsigned)(*p - '0');
    if (value > UINT_MAX)
      break;
  }
  if (p == text || *p != '\0' || value < min || value > max) {
    if (min == 0 && max == UINT_MAX)
      return fail_value(lc, path, "expected an unsigned integer, got '%.*s'",
                        VALUE_PREVIEW, text);
    return fail_value(lc, path, "expected an integer from %u to %u, got '%.*s'",
                      min, max, VALUE_PREVIEW, text);
  }
  *out = (unsigned)value;
  return 0;
}

static int
apply_file(struct load_ctx *lc, const struct file_top *t, cay_config_t *c)
{
  char path[PATH_LEN], msg[256];
  int rc = 0;

  if (t == NULL) /* an empty document: nothing to change */
    return 0;

  /* A listen list replaces the defaults rather than adding to them: the
   * default 127.0.0.1:5060 would otherwise always be bound. An empty list
   * is kept empty, and cay_config_check() then refuses it. */
  if (find_node(lc, "listen") != NULL) {
    for (unsigned i = 0; i < t->listen_count; i++) {
      snprintf(path, sizeof path, "listen[%u]", i);
      if (cay_config_parse_listen(t->listen[i], &c->listen[i], msg, sizeof msg)
          != 0)
        return fail_value(lc, path, "%s", msg);
    }
    c->n_listen = t->listen_count;
  }

  if (t->timers
      && ((rc = parse_uint(lc, "timers.t1_ms", t->timers->t1_ms, 0, UINT_MAX,
                           &c->t1_ms))
              != 0
          || (rc = parse_uint(lc, "timers.t2_ms", t->timers->t2_ms, 0, UINT_MAX,
                              &c->t2_ms))
                 != 0
          || (rc = parse_uint(lc, "timers.t4_ms", t->timers->t4_ms, 0, UINT_MAX,
                              &c->t4_ms))
                 != 0))
    return rc;

  if (t->dialog
      && (rc
          = parse_uint(lc, "dialog.max_duration_s", t->dialog->max_duration_s,
                       0, UINT_MAX, &c->dialog_max_duration_s))
             != 0)
    return rc;

  if (t->answer) {
    const struct file_answer *a = t->answer;

    if ((rc = parse_uint(lc, "answer.ring_ms", a->ring_ms, 0, UINT_MAX,
                         &c->ring_ms))
            != 0
        || (rc = parse_uint(lc, "answer.answer_after_ms", a->answer_after_ms, 0,
                            UINT_MAX, &c->answer_after_ms))
               != 0
        || (rc = parse_uint(lc, "answer.hangup_after_ms", a->hangup_after_ms, 0,
                            UINT_MAX, &c->hangup_after_ms))
               != 0)
      return rc;
    if (find_node(lc, "answer.codecs") != NULL) {
      for (unsigned i = 0; i < a->codecs_count; i++) {
        snprintf(path, sizeof path, "answer.codecs[%u]", i);
        if (strlen(a->codecs[i]) >= CAY_CONFIG_NAME_LEN)
          return fail_value(lc, path, "codec name longer than %d bytes",
                            CAY_CONFIG_NAME_LEN - 1);
        strcpy(c->codecs[i], a->codecs[i]);
      }
      c->n_codecs = a->codecs_count;
    }
    if (a->media_ip) {
      const char *ip = a->media_ip;
      size_t n = strlen(ip);

      /* Accept "[::1]" as people write it in URIs; store it bare. */
      if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
        ip++;
        n -= 2;
      }
      if (n >= CAY_CONFIG_NAME_LEN || !cay__is_ip_literal(ip, n))
        return fail_value(lc, "answer.media_ip",
                          "expected an IP address, got '%.*s'", VALUE_PREVIEW,
                          a->media_ip);
      memcpy(c->media_ip, ip, n);
      c->media_ip[n] = '\0';
    }
  }

  if (t->log && t->log->level) {
    int level = cay__log_level_parse(t->log->level);

    if (level < 0)
      return fail_value(lc, "log.level",
                        "expected error, warn, info or debug, got '%.*s'",
                        VALUE_PREVIEW, t->log->level);
    c->log_level = (cay_log_level_t)level;
  }

  if (t->shards && strcmp(t->shards, "auto") == 0)
    c->shards = 0; /* one per CPU */
  else if ((rc = parse_uint(lc, "shards", t->shards, 1, CONFIG_MAX_SHARDS,
                            &c->shards))
           != 0)
    return rc;

  if (t->limits
      && (rc = parse_uint(lc, "limits.max_transactions",
                          t->limits->max_transactions, 0, UINT_MAX,
                          &c->max_transactions))
             != 0)
    return rc;
  /* RFC 3261 section 18.3 framing limits and TCP connection limits. */
  if (t->limits
      && ((rc = parse_uint(lc, "limits.max_message_bytes",
                           t->limits->max_message_bytes, 1024, 1u << 24,
                           &c->max_message_bytes))
              != 0
          || (rc = parse_uint(lc, "limits.max_headers", t->limits->max_headers,
                              16, 65535, &c->max_headers))
                 != 0
          || (rc = parse_uint(lc, "limits.tcp_max_connections",
                              t->limits->tcp_max_connections, 1, 1000000,
                              &c->tcp_max_connections))
                 != 0
          || (rc = parse_uint(lc, "limits.tcp_idle_timeout_s",
                              t->limits->tcp_idle_timeout_s, 1, 86400,
                              &c->tcp_idle_timeout_s))
                 != 0))
    return rc;
  return 0;
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
    fail_at(lc, 0, 0, "cannot open: %s", strerror(-rc));
    return rc;
  }
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    fail_at(lc, 0, 0, "cannot read: %s", strerror(-rc));
    goto out;
  }
  if (S_ISDIR(st.st_mode)) {
    rc = -EISDIR;
    fail_at(lc, 0, 0, "cannot read: %s", strerror(EISDIR));
    goto out;
  }
  buf = cay__malloc(CONFIG_MAX_FILE_BYTES + 1);
  if (buf == NULL) {
    rc = -ENOMEM;
    fail_at(lc, 0, 0, "out of memory");
    goto out;
  }
  /* Read until EOF rather than trusting st_size: it may be a pipe. */
  for (;;) {
    ssize_t n = read(fd, buf + len, CONFIG_MAX_FILE_BYTES + 1 - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = -errno;
      fail_at(lc, 0, 0, "cannot read: %s", strerror(-rc));
      goto out;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (len > CONFIG_MAX_FILE_BYTES) {
      rc = fail_at(lc, 0, 0, "file is larger than %d bytes",
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
  cay_config_t next;
  char *buf = NULL, msg[256];
  size_t len = 0;
  cyaml_err_t cerr;
  int rc;

  memset(&cc, 0, sizeof cc);
  set_msg(err, errlen, "%s", "");
  /* The context holds the backtrace lines and the parser stack: about
   * 8 KiB, too much for a caller's stack in an embedding application. */
  lc = cay__calloc(1, sizeof *lc);
  if (lc == NULL) {
    set_msg(err, errlen, "%s: out of memory", path);
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

  rc = build_index(lc);
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
  next = *cfg;
  rc = apply_file(lc, top, &next);
  if (rc != 0)
    goto out;
  rc = check_values(&next, &pb, msg, sizeof msg);
  if (rc != 0) {
    np = find_node(lc, pb.path);
    if (np == NULL && pb.alt[0])
      np = find_node(lc, pb.alt);
    fail_at(lc, np ? np->line : 0, np ? np->col : 0, "%s", msg);
    goto out;
  }
  *cfg = next;

out:
  if (top != NULL)
    cyaml_free(&cc, &top_schema, top, 0);
  cay__free(buf);
  cay__free(lc->nodes);
  cay__free(lc);
  return rc;
}
