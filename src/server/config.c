/*
 * Cay configuration: built-in defaults, the listen spec, and the checks
 * every configuration passes, whether it came from a file or from code.
 *
 * Loading a YAML file is in config_load.c, config_yaml.c and
 * config_apply.c, the routes: list in config_routes.c, the registrar:
 * section in config_registrar.c; config_int.h says what each file holds.
 */
#include "cay/config.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "server/config_int.h"
#include "transport/addr.h"

/* Codec names Cay can put in an SDP answer (RFC 3551 section 6 static
 * payload types, RFC 4733 telephone-event). Kept here rather than asking
 * the SDP layer so that the config has no dependency below it. */
static const char *const known_codecs[] = {
  "PCMU", "PCMA", "G722", "G729", "telephone-event",
};

/* The transports Cay listens on (RFC 3261 section 18, RFC 7118), and one
 * a SIP listen spec may name that Cay does not implement yet. */
static const char *const transports[] = { "udp", "tcp", "tls", "ws", "wss" };
static const char *const later_transports[] = { "sctp" };
#define TRANSPORT_LIST "udp, tcp, tls, ws and wss"

/* The name in transports[] that @p name (@p n bytes, any case) is, or
 * NULL. */
static const char *
known_transport(const char *name, size_t n)
{
  for (size_t i = 0; i < sizeof transports / sizeof *transports; i++)
    if (strlen(transports[i]) == n && strncasecmp(name, transports[i], n) == 0)
      return transports[i];
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Messages.                                                            */
/* ------------------------------------------------------------------ */

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
  cfg->tls_verify_server = 1;
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
  cfg->udp_steering = 1;
  cfg->mailbox_messages = 65536;
  cfg->udp_max_request_bytes = 1300;
  cfg->udp_overload_percent = 50;
  cfg->tcp_overload_kib = 256;
  cfg->max_transactions = 100000;
  cfg->max_message_bytes = 65535;
  cfg->max_headers = 256;
  cfg->tcp_max_connections = 10000;
  cfg->tcp_idle_timeout_s = 300;
  cfg->tcp_connect_timeout_ms = 5000;
  cfg->dns_timeout_ms = 2000;
  cfg->dns_cache_entries = 1024;
  cfg->dns_cache_max_ttl_s = 3600;
  cfg->dns_failed_target_s = 60; /* as Kamailio's dst_blacklist_expire */
  /* RFC 4028 section 4 recommends 30 minutes for Session-Expires;
   * section 5 makes 90 s the smallest Min-SE. */
  cfg->session_expires_s = 1800;
  cfg->min_se_s = CONFIG_MIN_SE_S;
  /* No routes: every INVITE is answered. Every slot still holds a
   * route's defaults, for code that fills routes[n_routes++]. */
  for (unsigned i = 0; i < CAY_CONFIG_MAX_ROUTES; i++)
    cay__config_route_init(&cfg->routes[i]);
  cfg->n_routes = 0;
  /* The registrar: realm "" is the REGISTER's Request-URI host. RFC 3261
   * section 10.3 step 7 leaves the intervals to the registrar: a binding
   * lives an hour unless it asks for less, and at least a minute. */
  cfg->reg_min_expires_s = 60;
  cfg->reg_max_expires_s = 3600;
  cfg->reg_default_expires_s = 3600;
  cfg->reg_max_bindings = 10;
  cfg->reg_max_aors = 100000;
  cfg->n_reg_users = 0; /* every REGISTER is taken without authentication */
  /* No ban unless asked: one misconfigured phone would ban its NAT. */
  cfg->reg_ban_failures = 0;
  cfg->reg_ban_window_s = 60;
  cfg->reg_ban_s = 600;
  cfg->reg_offline_message_s = 604800;
  /* No flood limit unless asked: behind a front proxy it would block
   * the proxy. */
  cfg->source_requests = 0;
  cfg->source_window_s = 2;
  cfg->source_block_s = 60;
  snprintf(cfg->reg_store_prefix, sizeof cfg->reg_store_prefix, "cay:aor:");
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

/* The transport of listen spec @p spec into @p l->proto; *@p rest is set
 * to what follows "PROTO:". */
static int
listen_proto(const char *spec, cay_listen_t *l, const char **rest, char *err,
             size_t errlen)
{
  const char *p = spec;
  size_t proto_len;
  const char *known;
  int is_later, has_proto;

  while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
    p++;
  proto_len = (size_t)(p - spec);
  *rest = *p ? p + 1 : p;
  known = known_transport(spec, proto_len);
  is_later = is_later_transport(spec, proto_len);
  /* "127.0.0.1:5060" and "[::1]:5060" have no letters-then-colon prefix;
   * in "localhost:5060" the prefix is no transport's name and no HOST:PORT
   * follows it. Both lack the transport. */
  has_proto
      = proto_len > 0 && *p == ':'
        && (known || is_later || **rest == '[' || strchr(*rest, ':') != NULL);
  if (!has_proto) {
    cay__errmsg(err, errlen,
                "missing transport: expected udp:HOST:PORT, tcp:, tls:, ws: "
                "or wss:HOST:PORT (such as udp:127.0.0.1:5060), got '%.*s'",
                VALUE_PREVIEW, spec);
    return CAY_ECONFIG;
  }
  if (!known) {
    if (is_later)
      cay__errmsg(err, errlen,
                  "transport '%.*s' is not supported yet (" TRANSPORT_LIST
                  " are)",
                  (int)proto_len, spec);
    else
      cay__errmsg(
          err, errlen,
          "unknown transport '%.*s' (expected udp, tcp, tls, ws or wss)",
          (int)(proto_len > VALUE_PREVIEW ? VALUE_PREVIEW : proto_len), spec);
    return CAY_ECONFIG;
  }
  strcpy(l->proto, known);
  return 0;
}

/* Split "HOST:PORT" or "[V6]:PORT" (@p rest): the host is *@p host up to
 * *@p host_end, the port starts at *@p port. */
static int
listen_split(const char *rest, const char **host, const char **host_end,
             const char **port, char *err, size_t errlen)
{
  if (*rest == '[') {
    /* RFC 3986 section 3.2.2: an IPv6 literal is enclosed in brackets, so
     * its colons do not clash with the port's. */
    *host = rest + 1;
    *host_end = strchr(*host, ']');
    if (*host_end == NULL) {
      cay__errmsg(err, errlen, "missing ']' after the IPv6 address");
      return CAY_ECONFIG;
    }
    if (memchr(*host, ':', (size_t)(*host_end - *host)) == NULL) {
      cay__errmsg(err, errlen,
                  "brackets are only for IPv6 addresses, got '%.*s'",
                  (int)(*host_end - *host), *host);
      return CAY_ECONFIG;
    }
    if ((*host_end)[1] != ':') {
      cay__errmsg(err, errlen, "missing port: expected udp:[HOST]:PORT");
      return CAY_ECONFIG;
    }
    *port = *host_end + 2;
    return 0;
  }
  *host = rest;
  *host_end = strrchr(rest, ':');
  if (*host_end == NULL) {
    cay__errmsg(err, errlen, "missing port: expected udp:HOST:PORT");
    return CAY_ECONFIG;
  }
  if (memchr(*host, ':', (size_t)(*host_end - *host)) != NULL) {
    cay__errmsg(err, errlen,
                "an IPv6 address needs brackets, as in udp:[::1]:5060");
    return CAY_ECONFIG;
  }
  *port = *host_end + 1;
  return 0;
}

int
cay_config_parse_listen(const char *spec, cay_listen_t *out, char *err,
                        size_t errlen)
{
  cay_listen_t l;
  const char *p, *rest, *host, *host_end, *port;
  size_t host_len;
  unsigned long value;
  int rc;

  memset(&l, 0, sizeof l);
  if ((rc = listen_proto(spec, &l, &rest, err, errlen)) != 0
      || (rc = listen_split(rest, &host, &host_end, &port, err, errlen)) != 0)
    return rc;

  host_len = (size_t)(host_end - host);
  if (host_len == 0) {
    cay__errmsg(err, errlen, "missing host: expected an IP address");
    return CAY_ECONFIG;
  }
  if (host_len >= sizeof l.host || !cay__is_ip_literal(host, host_len)) {
    cay__errmsg(
        err, errlen,
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
    cay__errmsg(err, errlen, "port '%.*s' is not a number from 0 to 65535",
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

int
cay__config_is_known_codec(const char *name)
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
    cay__errmsg(err, errlen, "timers.%s (%u) must be at least 1", name, value);
    return CAY_ECONFIG;
  }
  if (value > CONFIG_MAX_TIMER_MS) {
    cay__errmsg(err, errlen, "timers.%s (%u) must not exceed %u", name, value,
                CONFIG_MAX_TIMER_MS);
    return CAY_ECONFIG;
  }
  return 0;
}

/* listen: 1..CAY_CONFIG_MAX_LISTEN addresses, each udp or tcp on a bare
 * IP and a port. */
static int
check_listen(const cay_config_t *c, struct problem *pb, char *err,
             size_t errlen)
{
  strcpy(pb->path, "listen");
  if (c->n_listen == 0) {
    cay__errmsg(err, errlen, "listen: at least one listen address is required");
    return CAY_ECONFIG;
  }
  if (c->n_listen > CAY_CONFIG_MAX_LISTEN) {
    cay__errmsg(err, errlen, "listen: at most %d addresses are allowed, got %u",
                CAY_CONFIG_MAX_LISTEN, c->n_listen);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_listen; i++) {
    const cay_listen_t *l = &c->listen[i];

    snprintf(pb->path, sizeof pb->path, "listen[%u]", i);
    size_t plen = strnlen(l->proto, sizeof l->proto);
    if (known_transport(l->proto, plen) == NULL) {
      if (is_later_transport(l->proto, plen))
        cay__errmsg(err, errlen,
                    "listen[%u]: transport '%.*s' is not supported yet "
                    "(" TRANSPORT_LIST " are)",
                    i, (int)sizeof l->proto, l->proto);
      else
        cay__errmsg(err, errlen,
                    "listen[%u]: unknown transport '%.*s' (expected udp, tcp, "
                    "tls, ws or wss)",
                    i, (int)sizeof l->proto, l->proto);
      return CAY_ECONFIG;
    }
    if ((strcmp(l->proto, "tls") == 0 || strcmp(l->proto, "wss") == 0)
        && c->tls_certificate[0] == '\0')
      FAIL("listen[%u]: a %s listen address needs tls.certificate and "
           "tls.private_key",
           i, l->proto);
    if (!is_bare_ip(l->host)) {
      cay__errmsg(err, errlen,
                  "listen[%u]: host '%.*s' is not an IP address without "
                  "brackets",
                  i, CAY_CONFIG_NAME_LEN, l->host);
      return CAY_ECONFIG;
    }
    if (l->port > 65535) {
      cay__errmsg(err, errlen, "listen[%u]: port %u is not from 0 to 65535", i,
                  l->port);
      return CAY_ECONFIG;
    }
  }
  return 0;
}

/* timers: each 1..CONFIG_MAX_TIMER_MS, T1 <= T2. */
static int
check_timers(const cay_config_t *c, struct problem *pb, char *err,
             size_t errlen)
{
  int rc;

  if ((rc = check_timer("t1_ms", c->t1_ms, pb, err, errlen)) != 0
      || (rc = check_timer("t2_ms", c->t2_ms, pb, err, errlen)) != 0
      || (rc = check_timer("t4_ms", c->t4_ms, pb, err, errlen)) != 0)
    return rc;
  /* RFC 3261 section 17.1.2.2: retransmissions start at T1 and double up
   * to T2, which is meaningless if T1 is already above T2. */
  if (c->t1_ms > c->t2_ms) {
    strcpy(pb->path, "timers.t1_ms");
    strcpy(pb->alt, "timers.t2_ms");
    cay__errmsg(err, errlen,
                "timers.t1_ms (%u) must not exceed timers.t2_ms (%u)", c->t1_ms,
                c->t2_ms);
    return CAY_ECONFIG;
  }
  return 0;
}

/* answer: 1..CAY_CONFIG_MAX_CODECS known codecs, media_ip an IP. */
static int
check_answer(const cay_config_t *c, struct problem *pb, char *err,
             size_t errlen)
{
  strcpy(pb->path, "answer.codecs");
  if (c->n_codecs == 0) {
    cay__errmsg(err, errlen, "answer.codecs: at least one codec is required");
    return CAY_ECONFIG;
  }
  if (c->n_codecs > CAY_CONFIG_MAX_CODECS) {
    cay__errmsg(err, errlen,
                "answer.codecs: at most %d codecs are allowed, got %u",
                CAY_CONFIG_MAX_CODECS, c->n_codecs);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_codecs; i++) {
    if (memchr(c->codecs[i], '\0', CAY_CONFIG_NAME_LEN) != NULL
        && cay__config_is_known_codec(c->codecs[i]))
      continue;
    snprintf(pb->path, sizeof pb->path, "answer.codecs[%u]", i);
    cay__errmsg(
        err, errlen,
        "answer.codecs[%u]: unknown codec '%.*s' (expected " CONFIG_CODEC_NAMES
        ")",
        i, CAY_CONFIG_NAME_LEN, c->codecs[i]);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "answer.media_ip");
  if (!is_bare_ip(c->media_ip)) {
    cay__errmsg(err, errlen, "answer.media_ip: '%.*s' is not an IP address",
                CAY_CONFIG_NAME_LEN, c->media_ip);
    return CAY_ECONFIG;
  }
  return 0;
}

/* The offset of field @p f of cay_config_t, which must be unsigned
 * (check_ranges() reads it as one): another type does not compile. */
#define UNSIGNED_FIELD(f)                                                      \
  _Generic(((cay_config_t *)0)->f, unsigned : offsetof(cay_config_t, f))
#define RANGE(path, field, lo, hi)                                             \
  {                                                                            \
    path, UNSIGNED_FIELD(field), lo, hi                                        \
  }

const struct cay__config_range cay__config_ranges[] = {
  RANGE("limits.mailbox_messages", mailbox_messages, 1, UINT_MAX),
  RANGE("limits.udp_max_request_bytes", udp_max_request_bytes, 0, 65535),
  RANGE("limits.udp_overload_percent", udp_overload_percent, 0, 100),
  RANGE("limits.tcp_overload_kib", tcp_overload_kib, 0, 65536),
  RANGE("limits.source_requests", source_requests, 0, 1000000),
  RANGE("limits.source_window_s", source_window_s, 1, 3600),
  RANGE("limits.source_block_s", source_block_s, 1, 86400),
  RANGE("limits.max_transactions", max_transactions, 1, UINT_MAX),
  /* RFC 3261 section 18.3 framing limits and TCP connection limits. */
  RANGE("limits.max_message_bytes", max_message_bytes, 1024, 1u << 24),
  RANGE("limits.max_headers", max_headers, 16, 65535),
  RANGE("limits.tcp_max_connections", tcp_max_connections, 1, 1000000),
  RANGE("limits.tcp_idle_timeout_s", tcp_idle_timeout_s, 1, 86400),
  RANGE("limits.tcp_connect_timeout_ms", tcp_connect_timeout_ms, 100, 600000),
  RANGE("dns.timeout_ms", dns_timeout_ms, 100, 60000),
  RANGE("dns.cache_entries", dns_cache_entries, 0, 1000000),
  RANGE("dns.cache_max_ttl_s", dns_cache_max_ttl_s, 1, 604800),
  RANGE("dns.failed_target_s", dns_failed_target_s, 0, 86400),
  /* RFC 3261 section 10.3: the registrar's bounds on a binding's life. */
  RANGE("registrar.min_expires_s", reg_min_expires_s, 1, 86400),
  RANGE("registrar.max_expires_s", reg_max_expires_s, 1, 604800),
  RANGE("registrar.default_expires_s", reg_default_expires_s, 1, 604800),
  RANGE("registrar.max_bindings", reg_max_bindings, 1, 1000),
  RANGE("registrar.max_aors", reg_max_aors, 1, 10000000),
  RANGE("registrar.flow_timer_s", reg_flow_timer_s, 0, 3600),
  RANGE("registrar.offline_messages", reg_offline_messages, 0, 1000),
  RANGE("registrar.offline_message_s", reg_offline_message_s, 1, 2592000),
  RANGE("registrar.ban_after_failures", reg_ban_failures, 0, 1000),
  RANGE("registrar.ban_window_s", reg_ban_window_s, 1, 86400),
  RANGE("registrar.ban_s", reg_ban_s, 1, 604800),
  RANGE("registrar.store.db", reg_store_db, 0, 65535),
};
#undef RANGE
#undef UNSIGNED_FIELD

const size_t cay__config_n_ranges
    = sizeof cay__config_ranges / sizeof cay__config_ranges[0];

const struct cay__config_range *
cay__config_range_of(const char *path)
{
  for (size_t i = 0; i < cay__config_n_ranges; i++)
    if (strcmp(cay__config_ranges[i].path, path) == 0)
      return &cay__config_ranges[i];
  return NULL;
}

/* The numbers of @p c whose bounds stand alone (cay__config_ranges). */
static int
check_ranges(const cay_config_t *c, struct problem *pb, char *err,
             size_t errlen)
{
  for (size_t i = 0; i < cay__config_n_ranges; i++) {
    const struct cay__config_range *r = &cay__config_ranges[i];
    unsigned value = *(const unsigned *)((const char *)c + r->offset);

    if (value >= r->lo && value <= r->hi)
      continue;
    snprintf(pb->path, sizeof pb->path, "%s", r->path);
    if (r->hi == UINT_MAX)
      cay__errmsg(err, errlen, "%s (%u) must be at least %u", r->path, value,
                  r->lo);
    else
      cay__errmsg(err, errlen, "%s (%u) must be %u to %u", r->path, value,
                  r->lo, r->hi);
    return CAY_ECONFIG;
  }
  return 0;
}

/* dns.servers: at most CAY_CONFIG_MAX_DNS, each IP[:PORT]. */
static int
check_dns_servers(const cay_config_t *c, struct problem *pb, char *err,
                  size_t errlen)
{
  strcpy(pb->path, "dns.servers");
  if (c->n_dns_servers > CAY_CONFIG_MAX_DNS) {
    cay__errmsg(err, errlen, "dns.servers: at most %d servers",
                CAY_CONFIG_MAX_DNS);
    return CAY_ECONFIG;
  }
  for (unsigned i = 0; i < c->n_dns_servers; i++) {
    cay__addr_t a;
    snprintf(pb->path, sizeof pb->path, "dns.servers[%u]", i);
    if (memchr(c->dns_servers[i], '\0', CAY_CONFIG_NAME_LEN) == NULL
        || cay__addr_parse(&a, c->dns_servers[i], 53) != 0) {
      cay__errmsg(err, errlen,
                  "dns.servers[%u]: expected IP, IP:PORT or [IPv6]:PORT (a "
                  "DNS server's address), got '%.*s'",
                  i, VALUE_PREVIEW, c->dns_servers[i]);
      return CAY_ECONFIG;
    }
  }
  return 0;
}

/* session_timers: RFC 4028's bounds. */
static int
check_session_timers(const cay_config_t *c, struct problem *pb, char *err,
                     size_t errlen)
{
  /* RFC 4028 section 5: Min-SE is at least 90 s. */
  strcpy(pb->path, "session_timers.min_se_s");
  if (c->min_se_s < CONFIG_MIN_SE_S) {
    cay__errmsg(err, errlen,
                "session_timers.min_se_s (%u) must be at least %d "
                "(RFC 4028 section 5)",
                c->min_se_s, CONFIG_MIN_SE_S);
    return CAY_ECONFIG;
  }
  /* RFC 4028 section 7.1: the Session-Expires a UAC asks for is never
   * below its own Min-SE. 0 turns the request for a session timer off. */
  strcpy(pb->path, "session_timers.expires_s");
  strcpy(pb->alt, "session_timers.min_se_s");
  if (c->session_expires_s != 0 && c->session_expires_s < c->min_se_s) {
    cay__errmsg(err, errlen,
                "session_timers.expires_s (%u) must be 0 or at least "
                "session_timers.min_se_s (%u)",
                c->session_expires_s, c->min_se_s);
    return CAY_ECONFIG;
  }
  pb->alt[0] = '\0';
  return 0;
}

int
cay__config_check_values(const cay_config_t *c, struct problem *pb, char *err,
                         size_t errlen)
{
  int rc;

  memset(pb, 0, sizeof *pb);
  if ((rc = check_listen(c, pb, err, errlen)) != 0
      || (rc = check_timers(c, pb, err, errlen)) != 0
      || (rc = check_answer(c, pb, err, errlen)) != 0)
    return rc;

  strcpy(pb->path, "log.level");
  if ((int)c->log_level < CAY_LOG_ERROR || c->log_level > CAY_LOG_DEBUG) {
    cay__errmsg(err, errlen, "log.level: unknown level %d", (int)c->log_level);
    return CAY_ECONFIG;
  }
  /* 0 is "auto": one shard per CPU. */
  strcpy(pb->path, "shards");
  if (c->shards > CONFIG_MAX_SHARDS) {
    cay__errmsg(err, errlen, "shards (%u) must be at most %d", c->shards,
                CONFIG_MAX_SHARDS);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "dialog.flows");
  if (c->dialog_flows > CAY_REG_FLOWS_NEVER) {
    cay__errmsg(err, errlen,
                "dialog.flows (%u) must be 0 (auto), 1 (always) or 2 (never)",
                c->dialog_flows);
    return CAY_ECONFIG;
  }
  strcpy(pb->path, "udp_steering");
  if (c->udp_steering > 1) {
    cay__errmsg(err, errlen, "udp_steering (%u) must be 1 (auto) or 0 (off)",
                c->udp_steering);
    return CAY_ECONFIG;
  }

  if ((rc = check_ranges(c, pb, err, errlen)) != 0
      || (rc = check_dns_servers(c, pb, err, errlen)) != 0
      || (rc = check_session_timers(c, pb, err, errlen)) != 0
      || (rc = cay__config_check_routes(c, pb, err, errlen)) != 0
      || (rc = cay__config_check_tls(c, pb, err, errlen)) != 0
      || (rc = cay__config_check_ws(c, pb, err, errlen)) != 0
      || (rc = cay__config_check_metrics(c, pb, err, errlen)) != 0
      || (rc = cay__config_check_cdr(c, pb, err, errlen)) != 0)
    return rc;
  return cay__config_check_registrar(c, pb, err, errlen);
}

int
cay_config_check(const cay_config_t *cfg, char *err, size_t errlen)
{
  struct problem pb;

  return cay__config_check_values(cfg, &pb, err, errlen);
}
