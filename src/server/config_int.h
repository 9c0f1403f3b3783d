/*
 * Internals shared by the configuration's files:
 *
 *   config.c         defaults, the listen spec, cay_config_check()
 *   config_yaml.c    pass 1 of a load: the position index (libyaml), and
 *                    the FILE:LINE:COLUMN messages built from it
 *   config_load.c    the schema, pass 2 (libcyaml, its backtrace turned
 *                    into a message), and cay_config_load()
 *   config_apply.c   pass 3: strings to values, the sections of numbers
 *                    (the others are in their own files, below)
 *   config_routes.c  the routes: list: its schema, loading and checks
 *   config_registrar.c  the registrar: section: its schema, loading and
 *                    checks
 *   config_tls.c     the tls: section: its schema, loading and checks
 *   config_ws.c      the websocket: section: its schema, loading and checks
 *
 * Not part of the API: only src/server/config*.c include this.
 */
#ifndef CAY_SERVER_CONFIG_INT_H
#define CAY_SERVER_CONFIG_INT_H

#include <cyaml/cyaml.h>
#include <stddef.h>
#include <yaml.h>

#include "cay/config.h"
#include "core/log.h"

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

/* RFC 4028 section 5: Min-SE "MUST NOT be less than 90 seconds". */
#define CONFIG_MIN_SE_S 90

/* The codec names Cay knows, as a message lists them. */
#define CONFIG_CODEC_NAMES "PCMU, PCMA, G722, G729 or telephone-event"

/* A number whose bounds stand alone: the one list both the file's parse
 * (config_apply.c apply_numbers()) and cay_config_check() use, so a value
 * out of bounds is refused the same way whether it came from a file or
 * was set in code. Bounds that depend on other values (T1 <= T2, RFC
 * 4028's Min-SE) are checked in config.c. hi UINT_MAX: none. */
struct cay__config_range {
  const char *path;
  size_t offset; /* of the unsigned field in cay_config_t */
  unsigned lo, hi;
};

extern const struct cay__config_range cay__config_ranges[];
extern const size_t cay__config_n_ranges;

/* The entry for dotted @p path, or NULL. */
const struct cay__config_range *cay__config_range_of(const char *path);

#define PATH_LEN      128  /* "routes[31].match.ruri_domain" and room */
#define MAX_DEPTH     16   /* the schema is 4 deep; deeper is an error */
#define MAX_NODES     1024 /* a valid file has a few hundred values */
#define LOG_LINES     16
#define LOG_LINE_LEN  256
#define VALUE_PREVIEW 64 /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* The file's shape, as libcyaml loads it.                              */
/* ------------------------------------------------------------------ */

/* Every leaf is a string: the numbers are parsed by
 * cay__config_parse_uint(), strictly, and a NULL pointer means the key is
 * absent. */
struct file_timers {
  char *t1_ms;
  char *t2_ms;
  char *t4_ms;
};

struct file_dialog {
  char *max_duration_s;
  char *flows;
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
  char *tcp_connect_timeout_ms;
  char *mailbox_messages;
  char *udp_max_request_bytes;
  char *udp_overload_percent;
  char *tcp_overload_kib;
  char *source_requests;
  char *source_window_s;
  char *source_block_s;
};

struct file_dns {
  char **servers;
  unsigned servers_count;
  char *timeout_ms;
  char *cache_entries;
  char *cache_max_ttl_s;
  char *failed_target_s;
};

struct file_session_timers {
  char *expires_s;
  char *min_se_s;
};

struct file_match {
  char *method;
  char *ruri_user;
  char *ruri_domain;
  char *source;
};

struct file_auth {
  char *username;
  char *password;
};

struct file_route {
  struct file_match *match;
  struct file_auth *auth;
  char *action;
  char *target;
  char *location;
  char *authenticate;
  char *code;
  char *reason;
  char *max_duration_s;
  char *ring_timeout_s;
  char *no_response_timeout_ms;
  char **codecs;
  unsigned codecs_count;
  char **pass_headers;
  unsigned pass_headers_count;
  char **failover;
  unsigned failover_count;
};

struct file_reg_user {
  char *username;
  char *password;
};

struct file_reg_store {
  char *redis;
  char *prefix;
  char *db;
  char *password;
};

struct file_registrar {
  char *realm;
  char *min_expires_s;
  char *max_expires_s;
  char *default_expires_s;
  char *max_bindings;
  char *max_aors;
  char *flow_timer_s;
  char *offline_messages;
  char *offline_message_s;
  char *ban_after_failures;
  char *ban_window_s;
  char *ban_s;
  char *flows;
  char **ban_exempt;
  unsigned ban_exempt_count;
  struct file_reg_user *users;
  unsigned users_count;
  struct file_reg_store *store;
};

struct file_tls {
  char *certificate;
  char *private_key;
  char *ca_file;
  char *crl_file;
  char *crl_check;
  char *verify_server;
  char *verify_client;
};

struct file_ws {
  char **origins;
  unsigned origins_count;
};

struct file_metrics {
  char *listen;
};

struct file_cdr {
  char *file;
};

struct file_top {
  char **listen;
  unsigned listen_count;
  struct file_timers *timers;
  struct file_dialog *dialog;
  struct file_answer *answer;
  struct file_log *log;
  char *shards;
  char *udp_steering;
  struct file_limits *limits;
  struct file_session_timers *session_timers;
  struct file_dns *dns;
  struct file_route *routes;
  unsigned routes_count;
  struct file_registrar *registrar;
  struct file_tls *tls;
  struct file_ws *websocket;
  struct file_metrics *metrics;
  struct file_cdr *cdr;
};

#define OPT CYAML_FLAG_OPTIONAL
#define STR(key, type, member)                                                 \
  CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)

/* A sequence entry that is a string (config_load.c). */
extern const cyaml_schema_value_t cay__config_string_entry;
/* A routes: entry (config_routes.c). */
extern const cyaml_schema_value_t cay__config_route_entry;
/* The registrar: mapping's keys (config_registrar.c). */
extern const cyaml_schema_field_t cay__config_registrar_fields[];
/* The tls: mapping's keys (config_tls.c). */
extern const cyaml_schema_field_t cay__config_tls_fields[];
/* The websocket: mapping's keys (config_ws.c). */
extern const cyaml_schema_field_t cay__config_ws_fields[];
/* The metrics: mapping's keys (config_ws.c). */
extern const cyaml_schema_field_t cay__config_metrics_fields[];
/* The cdr: mapping's keys (config_cdr.c). */
extern const cyaml_schema_field_t cay__config_cdr_fields[];

/* ------------------------------------------------------------------ */
/* Checks (config.c).                                                   */
/* ------------------------------------------------------------------ */

/* Where a failed check points: the path of the offending value and, for a
 * rule between two values, the other one (used when the first came from
 * the defaults rather than the file). */
struct problem {
  char path[PATH_LEN];
  char alt[PATH_LEN];
};

/* In a check: the fixed-size string @p field ends within its array. */
#define HAS_NUL(field) (memchr((field), '\0', sizeof(field)) != NULL)

/* In a check with `err` and `errlen` in scope: the message, and return
 * CAY_ECONFIG. */
#define FAIL(...)                                                              \
  do {                                                                         \
    cay__errmsg(err, errlen, __VA_ARGS__);                                     \
    return CAY_ECONFIG;                                                        \
  } while (0)

int cay__config_is_known_codec(const char *name);
/* cay_config_check(), telling where the problem is. */
int cay__config_check_values(const cay_config_t *c, struct problem *pb,
                             char *err, size_t errlen);
/* A route's defaults: action answer, code 403, max_duration_s -1 (the
 * dialog's), ring_timeout_s 60, no match keys (config_routes.c). */
void cay__config_route_init(cay_route_t *r);
/* The routes: part of cay_config_check() (config_routes.c). */
int cay__config_check_routes(const cay_config_t *c, struct problem *pb,
                             char *err, size_t errlen);
/* The websocket: part of cay_config_check(): each origin is one a browser
 * sends (config_ws.c). */
int cay__config_check_ws(const cay_config_t *c, struct problem *pb, char *err,
                         size_t errlen);
/* The metrics: part of cay_config_check(): an IP:PORT (config_ws.c). */
int cay__config_check_metrics(const cay_config_t *c, struct problem *pb,
                              char *err, size_t errlen);
/* The cdr: part of cay_config_check(): the file can be written
 * (config_cdr.c). */
int cay__config_check_cdr(const cay_config_t *c, struct problem *pb, char *err,
                          size_t errlen);
/* The tls: part of cay_config_check(): its files load (config_tls.c). */
int cay__config_check_tls(const cay_config_t *c, struct problem *pb, char *err,
                          size_t errlen);
/* The registrar: part of cay_config_check() (config_registrar.c). */
int cay__config_check_registrar(const cay_config_t *c, struct problem *pb,
                                char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Loading.                                                             */
/* ------------------------------------------------------------------ */

enum node_kind { NODE_NULL, NODE_SCALAR, NODE_SEQUENCE, NODE_MAPPING };

/* One value of the document, found by its dotted path ("timers.t1_ms",
 * "listen[1]", "routes[0].match.source"). For a mapping value the key
 * position is the key's; for a sequence entry or the root it is the
 * value's own. */
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
  cay_config_t next; /* the result, copied to the caller's when all is
                        well (some 30 KiB: kept off the caller's stack) */
};

/* config_yaml.c */
int cay__config_build_index(struct load_ctx *lc);
const struct node_pos *cay__config_find_node(const struct load_ctx *lc,
                                             const char *path);
const struct node_pos *cay__config_find_node_at(const struct load_ctx *lc,
                                                unsigned line, unsigned col);
void cay__config_join_path(char *out, size_t outlen, const char *parent,
                           const char *key);
/* "FILE:LINE:COLUMN: message", or "FILE: message" when @p line is 0.
 * @return CAY_ECONFIG. */
int cay__config_fail_at(struct load_ctx *lc, unsigned line, unsigned col,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "FILE:LINE:COLUMN: PATH: message" at the value at @p path.
 * @return CAY_ECONFIG. */
/* @p v (NULL: absent, nothing changes) as auto, always or never
 * (cay_reg_flows_t) into *@p out; a config error at @p path otherwise. */
int cay__config_parse_flows(struct load_ctx *lc, const char *path,
                            const char *v, unsigned *out);

int cay__config_fail_value(struct load_ctx *lc, const char *path,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* config_apply.c: decimal digits only, @p min to @p max; NULL @p text (the
 * key is absent) leaves @p out alone. @return 0 or CAY_ECONFIG. */
int cay__config_parse_uint(struct load_ctx *lc, const char *path,
                           const char *text, unsigned min, unsigned max,
                           unsigned *out);

/* config_apply.c: @p text (NULL: the key is absent, @p out stays) as one
 * of the @p n @p words: its index into *@p out, else an error at
 * @p path listing them ("expected leaf or chain, got 'all'").
 * @return 0 or CAY_ECONFIG. */
int cay__config_parse_word(struct load_ctx *lc, const char *path,
                           const char *text, const char *const *words,
                           unsigned n, unsigned *out);

/* config_apply.c: copy @p text (NULL: the key is absent, nothing to do)
 * into @p dst of @p size bytes; longer is an error at @p path.
 * @return 0 or CAY_ECONFIG. */
int cay__config_copy_text(struct load_ctx *lc, const char *path,
                          const char *text, char *dst, size_t size);

/* A number of the file: its dotted path, its text (NULL: the key is
 * absent, the value stays) and where it goes. */
struct cay__config_number {
  const char *path;
  const char *text;
  unsigned *out;
};

/* config_apply.c: each of @p n parsed strictly in its bounds of
 * cay__config_ranges (none: any unsigned). @return 0 or CAY_ECONFIG. */
int cay__config_parse_numbers(struct load_ctx *lc,
                              const struct cay__config_number *n, size_t count);

/* config_apply.c: pass 3, every section of @p t (the file as libcyaml
 * loaded it) into @p c. @return 0 or CAY_ECONFIG (the message in @p lc). */
int cay__config_apply_file(struct load_ctx *lc, const struct file_top *t,
                           cay_config_t *c);
/* config_routes.c: pass 3 for the routes: list. */
int cay__config_apply_routes(struct load_ctx *lc, const struct file_top *t,
                             cay_config_t *c);
/* config_tls.c: pass 3 for the tls: section (NULL @p f: absent). */
int cay__config_apply_tls(struct load_ctx *lc, const struct file_tls *f,
                          cay_config_t *c);
/* config_ws.c: pass 3 for the websocket: section (NULL @p f: absent). */
int cay__config_apply_ws(struct load_ctx *lc, const struct file_ws *f,
                         cay_config_t *c);
/* config_cdr.c: pass 3 for the cdr: section (NULL @p f: absent). */
int cay__config_apply_cdr(struct load_ctx *lc, const struct file_cdr *f,
                          cay_config_t *c);
/* config_ws.c: pass 3 for the metrics: section (NULL @p f: absent). */
int cay__config_apply_metrics(struct load_ctx *lc, const struct file_metrics *f,
                              cay_config_t *c);
/* config_routes.c: "true" or "false" (NULL: absent, @p out stays). */
int cay__config_parse_bool(struct load_ctx *lc, const char *path,
                           const char *text, unsigned *out);
/* config_registrar.c: pass 3 for the registrar: section (NULL @p f: the
 * section is absent, nothing changes). */
int cay__config_apply_registrar(struct load_ctx *lc,
                                const struct file_registrar *f,
                                cay_config_t *c);

#endif
