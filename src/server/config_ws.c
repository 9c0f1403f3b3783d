/*
 * The sections of the configuration that HTTP clients meet: websocket:
 * (RFC 7118 listeners) and metrics: (the counters' HTTP endpoint). Their
 * schemas, loading (pass 3 of config_apply.c) and checks (part of
 * cay_config_check()).
 *
 *   metrics:
 *     listen: 127.0.0.1:9090   # default none
 *
 *
 *   websocket:
 *     origins: [ "https://phone.example.com" ]   # default [] = any
 *
 * A browser names the page whose script opens a WebSocket in the
 * upgrade's Origin (RFC 6455 section 10.2), so a list of the pages that
 * are the server's own keeps another site's script, run in a user's
 * browser, from talking SIP in that user's name. Clients that are not
 * browsers may send any Origin: the list is no authentication.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "server/config_int.h"
#include "transport/addr.h"

const cyaml_schema_field_t cay__config_ws_fields[] = {
  CYAML_FIELD_SEQUENCE("origins", CYAML_FLAG_POINTER | OPT, struct file_ws,
                       origins, &cay__config_string_entry, 0,
                       CAY_CONFIG_MAX_ORIGINS),
  CYAML_FIELD_END,
};

const cyaml_schema_field_t cay__config_metrics_fields[] = {
  STR("listen", struct file_metrics, listen),
  CYAML_FIELD_END,
};

int
cay__config_apply_metrics(struct load_ctx *lc, const struct file_metrics *f,
                          cay_config_t *c)
{
  if (f == NULL || f->listen == NULL)
    return 0;
  return cay__config_copy_text(lc, "metrics.listen", f->listen,
                               c->metrics_listen, sizeof c->metrics_listen);
}

int
cay__config_check_metrics(const cay_config_t *c, struct problem *pb, char *err,
                          size_t errlen)
{
  const char *l = c->metrics_listen;
  cay__addr_t a;

  strcpy(pb->path, "metrics.listen");
  if (!HAS_NUL(c->metrics_listen))
    FAIL("metrics.listen: longer than %d bytes", CAY_CONFIG_TEXT_LEN - 1);
  if (l[0] && cay__addr_parse_bind(&a, l) != 0)
    FAIL("metrics.listen: expected IP:PORT or [IPv6]:PORT (an address "
         "literal; the port 0..65535, 0 for one the kernel picks), got "
         "'%.*s'",
         80, l);
  return 0;
}

int
cay__config_apply_ws(struct load_ctx *lc, const struct file_ws *f,
                     cay_config_t *c)
{
  char path[PATH_LEN];

  if (f == NULL || cay__config_find_node(lc, "websocket.origins") == NULL)
    return 0;
  /* The form is checked with the rest (cay__config_check_ws()). */
  for (unsigned i = 0; i < f->origins_count; i++) {
    int rc;

    snprintf(path, sizeof path, "websocket.origins[%u]", i);
    if ((rc = cay__config_copy_text(lc, path, f->origins[i], c->ws_origins[i],
                                    sizeof c->ws_origins[i]))
        != 0)
      return rc;
  }
  c->n_ws_origins = f->origins_count;
  return 0;
}

/* What is wrong with origin @p o as a browser sends it (RFC 6454 section
 * 6.2: scheme "://" host [":" port], the port only when not the scheme's
 * default), or NULL. */
static const char *
origin_problem(const char *o)
{
  const char *host, *end;
  unsigned long port;
  int https = strncasecmp(o, "https://", 8) == 0;

  if (!https && strncasecmp(o, "http://", 7) != 0)
    return "expected http:// or https:// and a host, the page's origin as "
           "the browser sends it (RFC 6454)";
  host = o + (https ? 8 : 7);
  if (*host == '[') {
    end = strchr(host, ']');
    if (end == NULL || end == host + 1
        || strspn(host + 1, "0123456789abcdefABCDEF:.")
               != (size_t)(end - host - 1))
      return "a bad IPv6 host";
    end++;
  } else {
    end = host
          + strspn(host, "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
    if (end == host)
      return "no host after the scheme";
  }
  if (*end == '\0')
    return NULL;
  if (*end != ':')
    return "an origin is scheme://host[:port], without a path, a query or "
           "spaces";
  if (end[1] == '\0' || strspn(end + 1, "0123456789") != strlen(end + 1)
      || strlen(end + 1) > 5 || (port = strtoul(end + 1, NULL, 10)) == 0
      || port > 65535)
    return "the port is not 1..65535";
  if (port == (https ? 443u : 80u))
    return "the scheme's default port: browsers leave it out of the Origin, "
           "so write the origin without it";
  return NULL;
}

int
cay__config_check_ws(const cay_config_t *c, struct problem *pb, char *err,
                     size_t errlen)
{
  strcpy(pb->path, "websocket.origins");
  if (c->n_ws_origins > CAY_CONFIG_MAX_ORIGINS)
    FAIL("websocket.origins: at most %d entries", CAY_CONFIG_MAX_ORIGINS);
  for (unsigned i = 0; i < c->n_ws_origins; i++) {
    const char *why;

    snprintf(pb->path, sizeof pb->path, "websocket.origins[%u]", i);
    if (!HAS_NUL(c->ws_origins[i]))
      FAIL("websocket.origins[%u] is not NUL-terminated", i);
    why = origin_problem(c->ws_origins[i]);
    if (why != NULL)
      FAIL("websocket.origins[%u] '%.*s': %s", i, 80, c->ws_origins[i], why);
  }
  return 0;
}
