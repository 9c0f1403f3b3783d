/*
 * Pass 3 of loading a configuration file (config_load.c): the strings
 * libcyaml loaded are parsed strictly (libcyaml 1.3.1 reads "500ms" as
 * 500 and "0x10" as 16) and copied into a cay_config_t; each error takes
 * its position from the index of pass 1 (config_yaml.c). The sections
 * with more than numbers have their own files (config_tls.c,
 * config_routes.c, config_registrar.c, ...).
 */
#include "cay/config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "server/config_int.h"
#include "transport/addr.h"

/* ------------------------------------------------------------------ */
/* Pass 3: strings to values.                                           */
/* ------------------------------------------------------------------ */

/* Decimal digits only, no sign, no base prefix, no unit. */
int
cay__config_parse_uint(struct load_ctx *lc, const char *path, const char *text,
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
      return cay__config_fail_value(lc, path,
                                    "expected an unsigned integer, got '%.*s'",
                                    VALUE_PREVIEW, text);
    if (max == UINT_MAX)
      return cay__config_fail_value(
          lc, path, "expected an integer of at least %u, got '%.*s'", min,
          VALUE_PREVIEW, text);
    return cay__config_fail_value(
        lc, path, "expected an integer from %u to %u, got '%.*s'", min, max,
        VALUE_PREVIEW, text);
  }
  *out = (unsigned)value;
  return 0;
}

int
cay__config_parse_word(struct load_ctx *lc, const char *path, const char *text,
                       const char *const *words, unsigned n, unsigned *out)
{
  char list[160] = "";
  size_t off = 0;

  if (text == NULL)
    return 0;
  for (unsigned i = 0; i < n; i++)
    if (strcmp(text, words[i]) == 0) {
      *out = i;
      return 0;
    }
  /* "a, b or c", as the message lists them. */
  for (unsigned i = 0; i < n && off < sizeof list; i++)
    off += (size_t)snprintf(list + off, sizeof list - off, "%s%s",
                            i == 0       ? ""
                            : i + 1 == n ? " or "
                                         : ", ",
                            words[i]);
  return cay__config_fail_value(lc, path, "expected %s, got '%.*s'", list,
                                VALUE_PREVIEW, text);
}

int
cay__config_copy_text(struct load_ctx *lc, const char *path, const char *text,
                      char *dst, size_t size)
{
  size_t n;

  if (text == NULL)
    return 0;
  n = strlen(text);
  if (n >= size)
    return cay__config_fail_value(lc, path, "longer than %zu bytes", size - 1);
  memcpy(dst, text, n + 1);
  return 0;
}

int
cay__config_parse_numbers(struct load_ctx *lc,
                          const struct cay__config_number *n, size_t count)
{
  int rc;

  for (size_t i = 0; i < count; i++) {
    const struct cay__config_range *r = cay__config_range_of(n[i].path);

    if ((rc = cay__config_parse_uint(lc, n[i].path, n[i].text, r ? r->lo : 0,
                                     r ? r->hi : UINT_MAX, n[i].out))
        != 0)
      return rc;
  }
  return 0;
}

/* The text of key @p k of section @p sec, NULL when either is absent. */
#define KEY(sec, k) (t->sec ? t->sec->k : NULL)

/* The numbers of the file, each parsed strictly in its bounds (those of
 * cay__config_ranges in config.c, or none; the shards' own); the ranges
 * that depend on each other (T1 <= T2, RFC 4028's Min-SE) are checked
 * with the rest (config.c), so that values set in code meet them too. */
static int
apply_numbers(struct load_ctx *lc, const struct file_top *t, cay_config_t *c)
{
  /* "auto" (one shard per CPU) is the one word a number here may be. */
  int auto_shards = t->shards && strcmp(t->shards, "auto") == 0;
  const struct cay__config_number n[] = {
    { "timers.t1_ms", KEY(timers, t1_ms), &c->t1_ms },
    { "timers.t2_ms", KEY(timers, t2_ms), &c->t2_ms },
    { "timers.t4_ms", KEY(timers, t4_ms), &c->t4_ms },
    { "dialog.max_duration_s", KEY(dialog, max_duration_s),
      &c->dialog_max_duration_s },
    { "answer.ring_ms", KEY(answer, ring_ms), &c->ring_ms },
    { "answer.answer_after_ms", KEY(answer, answer_after_ms),
      &c->answer_after_ms },
    { "answer.hangup_after_ms", KEY(answer, hangup_after_ms),
      &c->hangup_after_ms },
    { "limits.mailbox_messages", KEY(limits, mailbox_messages),
      &c->mailbox_messages },
    { "limits.udp_max_request_bytes", KEY(limits, udp_max_request_bytes),
      &c->udp_max_request_bytes },
    { "limits.udp_overload_percent", KEY(limits, udp_overload_percent),
      &c->udp_overload_percent },
    { "limits.tcp_overload_kib", KEY(limits, tcp_overload_kib),
      &c->tcp_overload_kib },
    { "limits.source_requests", KEY(limits, source_requests),
      &c->source_requests },
    { "limits.source_window_s", KEY(limits, source_window_s),
      &c->source_window_s },
    { "limits.source_block_s", KEY(limits, source_block_s),
      &c->source_block_s },
    { "limits.max_transactions", KEY(limits, max_transactions),
      &c->max_transactions },
    { "limits.max_message_bytes", KEY(limits, max_message_bytes),
      &c->max_message_bytes },
    { "limits.max_headers", KEY(limits, max_headers), &c->max_headers },
    { "limits.tcp_max_connections", KEY(limits, tcp_max_connections),
      &c->tcp_max_connections },
    { "limits.tcp_idle_timeout_s", KEY(limits, tcp_idle_timeout_s),
      &c->tcp_idle_timeout_s },
    { "limits.tcp_connect_timeout_ms", KEY(limits, tcp_connect_timeout_ms),
      &c->tcp_connect_timeout_ms },
    { "session_timers.expires_s", KEY(session_timers, expires_s),
      &c->session_expires_s },
    { "session_timers.min_se_s", KEY(session_timers, min_se_s), &c->min_se_s },
    { "dns.timeout_ms", KEY(dns, timeout_ms), &c->dns_timeout_ms },
    { "dns.cache_entries", KEY(dns, cache_entries), &c->dns_cache_entries },
    { "dns.cache_max_ttl_s", KEY(dns, cache_max_ttl_s),
      &c->dns_cache_max_ttl_s },
    { "dns.failed_target_s", KEY(dns, failed_target_s),
      &c->dns_failed_target_s },
  };
  int rc;

  if ((rc = cay__config_parse_numbers(lc, n, sizeof n / sizeof n[0])) != 0)
    return rc;
  if ((rc = cay__config_parse_uint(lc, "shards", auto_shards ? NULL : t->shards,
                                   1, CONFIG_MAX_SHARDS, &c->shards))
      != 0)
    return rc;
  if (auto_shards)
    c->shards = 0;
  return 0;
}
#undef KEY

/* answer: codecs (a list replaces the defaults) and media_ip. */
static int
apply_answer(struct load_ctx *lc, const struct file_answer *a, cay_config_t *c)
{
  char path[PATH_LEN];

  if (a == NULL)
    return 0;
  if (cay__config_find_node(lc, "answer.codecs") != NULL) {
    for (unsigned i = 0; i < a->codecs_count; i++) {
      snprintf(path, sizeof path, "answer.codecs[%u]", i);
      if (strlen(a->codecs[i]) >= CAY_CONFIG_NAME_LEN)
        return cay__config_fail_value(lc, path,
                                      "codec name longer than %d bytes",
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
      return cay__config_fail_value(lc, "answer.media_ip",
                                    "expected an IP address, got '%.*s'",
                                    VALUE_PREVIEW, a->media_ip);
    memcpy(c->media_ip, ip, n);
    c->media_ip[n] = '\0';
  }
  return 0;
}

/* dns: servers (a list replaces the one before); its numbers are
 * apply_numbers()'s. */
static int
apply_dns(struct load_ctx *lc, const struct file_dns *f, cay_config_t *c)
{
  char path[PATH_LEN];

  if (f == NULL || cay__config_find_node(lc, "dns.servers") == NULL)
    return 0;
  for (unsigned i = 0; i < f->servers_count; i++) {
    snprintf(path, sizeof path, "dns.servers[%u]", i);
    /* The address itself is checked with the rest (config.c). */
    if (strlen(f->servers[i]) >= CAY_CONFIG_NAME_LEN)
      return cay__config_fail_value(lc, path,
                                    "a DNS server's address is at most %d "
                                    "bytes",
                                    CAY_CONFIG_NAME_LEN - 1);
    strcpy(c->dns_servers[i], f->servers[i]);
  }
  c->n_dns_servers = f->servers_count;
  return 0;
}

int
cay__config_apply_file(struct load_ctx *lc, const struct file_top *t,
                       cay_config_t *c)
{
  char path[PATH_LEN], msg[256];
  int rc;

  if (t == NULL) /* an empty document: nothing to change */
    return 0;

  /* A listen list replaces the defaults rather than adding to them: the
   * default 127.0.0.1:5060 would otherwise always be bound. An empty list
   * is kept empty, and cay_config_check() then refuses it. */
  if (cay__config_find_node(lc, "listen") != NULL) {
    for (unsigned i = 0; i < t->listen_count; i++) {
      snprintf(path, sizeof path, "listen[%u]", i);
      if (cay_config_parse_listen(t->listen[i], &c->listen[i], msg, sizeof msg)
          != 0)
        return cay__config_fail_value(lc, path, "%s", msg);
    }
    c->n_listen = t->listen_count;
  }
  if ((rc = apply_numbers(lc, t, c)) != 0
      || (rc = apply_answer(lc, t->answer, c)) != 0)
    return rc;

  if (t->log && t->log->level) {
    int level = cay__log_level_parse(t->log->level);

    if (level < 0)
      return cay__config_fail_value(
          lc, "log.level", "expected error, warn, info or debug, got '%.*s'",
          VALUE_PREVIEW, t->log->level);
    c->log_level = (cay_log_level_t)level;
  }

  if (t->udp_steering) {
    if (strcmp(t->udp_steering, "auto") == 0)
      c->udp_steering = 1;
    else if (strcmp(t->udp_steering, "off") == 0)
      c->udp_steering = 0;
    else
      return cay__config_fail_value(lc, "udp_steering",
                                    "expected auto or off, got '%.*s'",
                                    VALUE_PREVIEW, t->udp_steering);
  }

  if (t->dialog
      && (rc = cay__config_parse_flows(lc, "dialog.flows", t->dialog->flows,
                                       &c->dialog_flows))
             != 0)
    return rc;
  if ((rc = apply_dns(lc, t->dns, c)) != 0
      || (rc = cay__config_apply_routes(lc, t, c)) != 0)
    return rc;
  if ((rc = cay__config_apply_tls(lc, t->tls, c)) != 0
      || (rc = cay__config_apply_ws(lc, t->websocket, c)) != 0
      || (rc = cay__config_apply_metrics(lc, t->metrics, c)) != 0
      || (rc = cay__config_apply_cdr(lc, t->cdr, c)) != 0)
    return rc;
  return cay__config_apply_registrar(lc, t->registrar, c);
}
