/*
 * The location service of one shard: AOR -> bindings, each binding with
 * its expiry timer on the shard's heap (one timer per binding: a refresh
 * moves it, O(log n)). An AOR lives while it has a binding.
 *
 * Two tables: the AORs this shard owns (their REGISTERs come here), and
 * copies of the other shards' AORs, which their owners keep up to date
 * by message (cay__registrar_learn()). A copy expires on its own timer
 * too, so a lost removal cannot leave it for longer than its owner's.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <sofia-sip/url.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registrar/registrar_int.h"

#define SHARD_NO(reg) ((int)(reg)->shard->index)

int
cay__registrar_create(cay__shard_t *shard, cay__registrar_t **out)
{
  cay__registrar_t *reg = cay__calloc(1, sizeof *reg);

  *out = NULL;
  if (reg == NULL)
    return -ENOMEM;
  if (cay__htab_init(&reg->aors, 64) != 0
      || cay__htab_init(&reg->copies, 64) != 0
      || cay__htab_init(&reg->flows, 64) != 0
      || cay__htab_init(&reg->udp_flows, 64) != 0) {
    /* Fini of a table never made (zeroed) is a no-op. */
    cay__htab_fini(&reg->aors);
    cay__htab_fini(&reg->copies);
    cay__htab_fini(&reg->flows);
    cay__free(reg);
    return -ENOMEM;
  }
  reg->shard = shard;
  cay__rand_bytes(&shard->rand, reg->key, sizeof reg->key);
  *out = reg;
  return 0;
}

static void
remove_all(cay__htab_t *tab)
{
  for (size_t i = 0; i < tab->nbuckets; i++)
    while (tab->buckets[i]) {
      reg_aor_t *a = (reg_aor_t *)tab->buckets[i];
      for (unsigned n = a->n; n > 0; n--)
        cay__loc_remove(a->bindings); /* the last one frees a */
    }
}

void
cay__registrar_destroy(cay__registrar_t *reg)
{
  if (reg == NULL)
    return;
  reg->share = NULL; /* the other shards are stopping too */
  reg->store = NULL; /* the bindings outlive the process */
  remove_all(&reg->aors);
  remove_all(&reg->copies);
  cay__htab_fini(&reg->aors);
  cay__htab_fini(&reg->copies);
  cay__htab_fini(&reg->flows);
  cay__htab_fini(&reg->udp_flows);
  cay__ban_free(reg->ban);
  cay__free(reg);
}

void
cay__registrar_set_share(cay__registrar_t *reg, cay__registrar_share_fn share,
                         void *arg)
{
  reg->share = share;
  reg->share_arg = arg;
}

void
cay__registrar_set_store(cay__registrar_t *reg, cay__registrar_store_fn store,
                         void *arg)
{
  reg->store = store;
  reg->store_arg = arg;
}

void
cay__loc_stored(const reg_aor_t *a)
{
  if (!a->copy && a->reg->store)
    a->reg->store(a->reg->store_arg, a->name);
}

unsigned
cay__registrar_aors(const cay__registrar_t *reg)
{
  return reg->n_aors;
}

unsigned
cay__registrar_bindings(const cay__registrar_t *reg)
{
  return reg->n_bindings;
}

static cay__htab_t *
table_of(cay__registrar_t *reg, int copy)
{
  return copy ? &reg->copies : &reg->aors;
}

reg_aor_t *
cay__loc_find(cay__registrar_t *reg, const char *name, int copy)
{
  uint64_t h = cay__hash(name, strlen(name));

  for (cay__hnode_t *n = cay__htab_first(table_of(reg, copy), h); n;
       n = cay__htab_next(n)) {
    reg_aor_t *a = (reg_aor_t *)n;
    if (strcmp(a->name, name) == 0)
      return a;
  }
  return NULL;
}

reg_aor_t *
cay__loc_add_aor(cay__registrar_t *reg, const char *name, int copy)
{
  size_t len = strlen(name);
  reg_aor_t *a = cay__calloc(1, sizeof *a + len + 1);

  if (a == NULL)
    return NULL;
  a->reg = reg;
  a->copy = copy;
  memcpy(a->name, name, len + 1);
  cay__htab_insert(table_of(reg, copy), &a->hnode, cay__hash(name, len));
  if (!copy)
    reg->n_aors++;
  return a;
}

reg_binding_t *
cay__loc_binding(const reg_aor_t *a, const url_t *uri)
{
  char buf[REG_CONTACT_MAX];
  url_t u;

  for (reg_binding_t *b = a->bindings; b; b = b->next) {
    /* url_d() decodes in place: a copy each time, nothing allocated. */
    strcpy(buf, b->contact);
    if (url_d(&u, buf) == 0 && url_cmp_all(&u, uri) == 0)
      return b;
  }
  return NULL;
}

reg_binding_t *
cay__loc_binding_flow(const reg_aor_t *a, const char *instance, unsigned reg_id)
{
  for (reg_binding_t *b = a->bindings; b; b = b->next)
    if (b->instance && b->reg_id == reg_id
        && strcmp(b->instance, instance) == 0)
      return b;
  return NULL;
}

reg_binding_t *
cay__loc_binding_text(const reg_aor_t *a, const char *uri)
{
  char buf[REG_CONTACT_MAX];
  url_t u;

  if (strlen(uri) >= sizeof buf)
    return NULL;
  strcpy(buf, uri);
  return url_d(&u, buf) == 0 ? cay__loc_binding(a, &u) : NULL;
}

static uint64_t
flow_hash(cay_id_t conn)
{
  return cay__hash(&conn, sizeof conn);
}

/* Keep @p b on the flows table while its calls take a TCP connection
 * (an own binding only: copies follow their owner). */
static void
index_flow(reg_binding_t *b)
{
  cay__registrar_t *reg = b->aor->reg;
  int want = !b->aor->copy && b->by_flow && cay__proto_stream(b->flow.proto)
             && b->flow.conn != 0;

  if (b->in_flows)
    cay__htab_remove(&reg->flows, &b->fnode);
  b->in_flows = want;
  if (want)
    cay__htab_insert(&reg->flows, &b->fnode, flow_hash(b->flow.conn));
}

/* This shard's own binding @p b changed: the other shards' copies
 * follow (@p gone: it is removed). */
static void
share(const reg_binding_t *b, int gone)
{
  cay__registrar_t *reg = b->aor->reg;
  uint64_t now = cay__shard_now(reg->shard);

  cay__binding_change_t c = {
    .aor = b->aor->name,
    .contact = b->contact,
    .q = b->q,
    .expires_ms = gone || b->expires_ms <= now ? 0 : b->expires_ms - now,
    .flow = b->by_flow ? &b->flow : NULL,
    .flow_only = b->flow_only,
    .path = b->path,
    .keepalive_s = b->keepalive_s,
  };

  if (reg->share == NULL || b->aor->copy)
    return;
  reg->share(reg->share_arg, &c);
}

/* A binding's time is up (RFC 3261 section 10.2.1: the UA did not
 * refresh it): it goes, and its AOR with its last one. */
static void
on_expire(cay__timer_t *t)
{
  reg_binding_t *b = t->data;
  cay__registrar_t *reg = b->aor->reg;

  if (!b->aor->copy)
    CAY_INFO(SHARD_NO(reg), "AOR %s: binding %s expired", b->aor->name,
             b->contact);
  cay__loc_remove(b);
}

static reg_binding_t *
binding_new(reg_aor_t *a, const char *contact)
{
  size_t len = strlen(contact);
  reg_binding_t *b = cay__calloc(1, sizeof *b + len + 1);

  if (b == NULL)
    return NULL;
  memcpy(b->contact, contact, len + 1);
  b->aor = a;
  cay__timer_init(&b->t_expire, on_expire, b);
  cay__timer_init(&b->t_flow, cay__ka_on_silent, b);
  b->next = a->bindings;
  a->bindings = b;
  a->n++;
  if (!a->copy) {
    a->reg->n_bindings++;
    a->reg->shard->stats.bindings_live = a->reg->n_bindings;
  }
  return b;
}

int
cay__loc_set(reg_aor_t *a, reg_binding_t *b, const cay__binding_change_t *c,
             const char *call_id, uint32_t cseq)
{
  cay__registrar_t *reg = a->reg;
  char *cid = cay__strdup(call_id);
  char *inst = c->instance ? cay__strdup(c->instance) : NULL;
  char *path = c->path && c->path[0] ? cay__strdup(c->path) : NULL;

  if (cid == NULL || (c->instance && inst == NULL)
      || (c->path && c->path[0] && path == NULL)
      || (b == NULL && (b = binding_new(a, c->contact)) == NULL)) {
    cay__free(cid);
    cay__free(inst);
    cay__free(path);
    return -ENOMEM;
  }
  cay__free(b->path);
  b->path = path;
  cay__free(b->call_id);
  b->call_id = cid;
  cay__free(b->instance);
  b->instance = inst;
  b->reg_id = c->reg_id;
  b->cseq = cseq;
  b->q = c->q;
  /* A refresh may come on another flow (a NAT that mapped the UA
   * anew, a new TCP connection): the newest one counts. */
  b->by_flow = c->flow != NULL;
  b->flow_only = c->flow_only;
  if (c->flow)
    b->flow = *c->flow;
  b->keepalive_s = c->keepalive_s;
  index_flow(b);
  cay__ka_watch(b);
  b->expires_ms = cay__shard_now(reg->shard) + c->expires_ms;
  cay__shard_timer_stop(reg->shard, &b->t_expire);
  /* A timer that cannot be armed (no memory for the heap to grow): the
   * binding stays until the AOR is next registered or the shard stops. */
  if (cay__shard_timer_start(reg->shard, &b->t_expire, c->expires_ms) != 0)
    CAY_WARN(SHARD_NO(reg), "AOR %s: no memory for the expiry of %s", a->name,
             c->contact);
  share(b, 0);
  cay__loc_stored(a);
  return 0;
}

void
cay__loc_remove(reg_binding_t *b)
{
  reg_aor_t *a = b->aor;
  cay__registrar_t *reg = a->reg;
  reg_binding_t **pp = &a->bindings;

  share(b, 1);
  while (*pp != b)
    pp = &(*pp)->next;
  *pp = b->next;
  a->n--;
  b->by_flow = 0;
  index_flow(b);
  cay__ka_unwatch(b);
  if (!a->copy) {
    reg->n_bindings--;
    reg->shard->stats.bindings_live = reg->n_bindings;
  }
  cay__shard_timer_stop(reg->shard, &b->t_expire);
  cay__free(b->call_id);
  cay__free(b->instance);
  cay__free(b->path);
  cay__free(b);
  cay__loc_stored(a);
  cay__loc_drop_if_empty(a);
}

void
cay__loc_drop_if_empty(reg_aor_t *a)
{
  if (a->n)
    return;
  cay__htab_remove(table_of(a->reg, a->copy), &a->hnode);
  if (!a->copy)
    a->reg->n_aors--;
  cay__free(a);
}

unsigned
cay__loc_remaining_s(const reg_binding_t *b)
{
  uint64_t now = cay__shard_now(b->aor->reg->shard);

  /* Rounded up: a binding that still is has at least a second left
   * in what the UA is told. */
  return b->expires_ms <= now ? 0
                              : (unsigned)((b->expires_ms - now + 999) / 1000);
}

void
cay__registrar_learn(cay__registrar_t *reg, const cay__binding_change_t *c)
{
  const char *aor = c->aor, *contact = c->contact;
  reg_aor_t *a = cay__loc_find(reg, aor, 1);
  reg_binding_t *b = a ? cay__loc_binding_text(a, contact) : NULL;

  if (c->expires_ms == 0) {
    if (b)
      cay__loc_remove(b);
    return;
  }
  if (a == NULL && (a = cay__loc_add_aor(reg, aor, 1)) == NULL) {
    CAY_WARN(SHARD_NO(reg),
             "no memory for a copy of AOR %s: calls to it "
             "from this shard find it unregistered",
             aor);
    return;
  }
  if (cay__loc_set(a, b, c, "", 0) != 0) {
    CAY_WARN(SHARD_NO(reg), "no memory for a copy of %s's binding %s", aor,
             contact);
    cay__loc_drop_if_empty(a);
  }
}

unsigned
cay__registrar_flow_failed(cay__registrar_t *reg, cay_id_t conn)
{
  uint64_t h = flow_hash(conn);
  cay__hnode_t *n, *next;
  unsigned changed = 0;

  for (n = cay__htab_first(&reg->flows, h); n; n = next) {
    reg_binding_t *b
        = (reg_binding_t *)((char *)n - offsetof(reg_binding_t, fnode));

    next = cay__htab_next(n); /* b may go */
    if (b->flow.conn != conn)
      continue;
    changed++;
    cay__loc_flow_lost(b, "closed");
  }
  return changed;
}

void
cay__loc_flow_lost(reg_binding_t *b, const char *what)
{
  cay__registrar_t *reg = b->aor->reg;
  char where[80];

  reg->shard->stats.flows_failed++;
  if (cay__addr_format_proto(b->flow.proto, &b->flow.addr, where, sizeof where)
      != 0)
    strcpy(where, "?");
  if (b->flow_only) {
    CAY_INFO(SHARD_NO(reg),
             "AOR %s: binding %s removed: the flow it registered over "
             "(%s) %s, and nothing else reaches it (RFC 5626 section 7)",
             b->aor->name, b->contact, where, what);
    cay__loc_remove(b);
    return;
  }
  CAY_INFO(SHARD_NO(reg),
           "AOR %s: binding %s: the flow it registered over (%s) %s: "
           "calls go to the contact now",
           b->aor->name, b->contact, where, what);
  b->by_flow = 0;
  index_flow(b);
  cay__ka_watch(b);
  share(b, 0);
  cay__loc_stored(b->aor);
}

/* Does @p x go before @p y in a call's order (higher q first)? */
static int
before(const reg_binding_t *x, const reg_binding_t *y)
{
  return (x->q < 0 ? 1000 : x->q) > (y->q < 0 ? 1000 : y->q);
}

unsigned
cay__registrar_lookup(cay__registrar_t *reg, const char *aor,
                      cay__contact_t *out, unsigned max)
{
  reg_aor_t *a = cay__loc_find(reg, aor, 0);
  const reg_binding_t *sorted[64];
  unsigned n = 0;

  if (a == NULL)
    a = cay__loc_find(reg, aor, 1);
  /* Insertion sort of a short list, stable: the newest first among
   * equals, as the list holds them. */
  for (const reg_binding_t *b = a ? a->bindings : NULL; b && n < 64;
       b = b->next) {
    unsigned i = n++;
    while (i > 0 && before(b, sorted[i - 1])) {
      sorted[i] = sorted[i - 1];
      i--;
    }
    sorted[i] = b;
  }
  if (n > max)
    n = max;
  for (unsigned i = 0; i < n; i++) {
    strcpy(out[i].uri, sorted[i]->contact);
    out[i].q = sorted[i]->q;
    out[i].by_flow = sorted[i]->by_flow;
    out[i].flow = sorted[i]->flow;
    snprintf(out[i].path, sizeof out[i].path, "%s",
             sorted[i]->path ? sorted[i]->path : "");
  }
  return n;
}
