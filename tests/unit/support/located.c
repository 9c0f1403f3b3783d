/* Outgoing sessions whose targets DNS found; see located.h. */
#include "support/located.h"

#include <check.h>
#include <string.h>

#include "transport/dns.h"

void
record_event(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  record_t *r = arg;

  (void)s;
  if (r->n < 8) {
    r->states[r->n] = ev->state;
    r->statuses[r->n] = ev->status;
    r->n++;
  }
}

peer_t *
peer_with_resolver(unsigned failed_s)
{
  peer_t *p = peer_new(NULL);
  /* Port 9 (discard) on loopback is closed: a query gets ICMP port
   * unreachable, so a name not in /etc/hosts fails at once. */
  cay__dns_opts_t o = { .servers = "127.0.0.1:9",
                        .timeout_ms = 300,
                        .tries = 1,
                        .family = AF_INET,
                        .failed_target_s = failed_s };
  char err[128];

  ck_assert_int_eq(cay__dns_create(&p->ss.dns, &p->loop, &o, err, sizeof err),
                   0);
  return p;
}

static int dns_closed;

static void
on_dns_closed(void *arg)
{
  (void)arg;
  dns_closed++;
}

void
peer_without_resolver(peer_t *p)
{
  cay__sessions_fini(&p->ss); /* the sessions first, as the worker does */
  dns_closed = 0;
  cay__dns_close(p->ss.dns, on_dns_closed, NULL);
  p->ss.dns = NULL;
  for (int i = 0; i < 8 && !dns_closed; i++)
    uv_run(&p->loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(dns_closed, 1);
  /* peer_free() ends the session layer again: it is empty. */
  ck_assert_int_eq(cay__sessions_init(&p->ss, &p->ep, &p->cfg), 0);
  peer_free(p);
}

/* The real answer for the session's name, a failure, comes later and
 * finds the session no longer locating. */
void
located(cay__session_t *s, size_t n, int second_tcp)
{
  cay__dns_target_t t[4];

  ck_assert_uint_le(n, 4);
  memset(t, 0, sizeof t);
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(
        cay__addr_set(&t[i].addr, "127.0.0.1", (unsigned)(5071 + i)), 0);
    t[i].proto = i == 1 && second_tcp ? CAY__TCP : CAY__UDP;
  }
  ck_assert(s->locating);
  cay__uac_located(s, t, n);
}

void
expect_sent(peer_t *p, unsigned i, const char *method, unsigned port, int proto,
            uint32_t cseq)
{
  msg_t *m;

  ck_assert_uint_gt(p->nsent, i);
  m = peer_msg(p, i);
  ck_assert_str_eq(sip_object(m)->sip_request->rq_method_name, method);
  ck_assert_uint_eq(sip_object(m)->sip_cseq->cs_seq, cseq);
  ck_assert_uint_eq(cay__addr_port(&p->sent[i].dst), port);
  ck_assert_int_eq(p->sent[i].proto, proto);
  msg_destroy(m);
}

int
was_failed(peer_t *p, unsigned port)
{
  cay__addr_t a;

  ck_assert_int_eq(cay__addr_set(&a, "127.0.0.1", port), 0);
  return cay__dns_target_answered(p->ss.dns, &a);
}
