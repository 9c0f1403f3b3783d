#include "support/register.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support/bridge_call.h"

int
reg_send(peer_t *p, const char *domain, const char *aor, const char *cid,
         unsigned cseq, const char *extra)
{
  static unsigned branch;
  char b[32], cs[16];

  snprintf(b, sizeof b, "z9hG4bK-reg%u", ++branch);
  snprintf(cs, sizeof cs, "%u", cseq);
  peer_send(p, "register.sip", "domain", domain, "aor", aor, "branch", b,
            "fromtag", "ft1", "callid", cid, "cseq", cs, "extra", extra, NULL);
  return peer_last_status(p);
}

cay_config_t
location_config(int voicemail)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  cay_route_t *r = &cfg.routes[0];

  r->target[0] = '\0';
  r->location = 1;
  if (voicemail) {
    snprintf(r->failover[0], sizeof r->failover[0],
             "sip:voicemail@127.0.0.1:5072");
    r->n_failover = 1;
  }
  r = &cfg.routes[cfg.n_routes++];
  r->action = CAY_ROUTE_REGISTER;
  cfg.reg_min_expires_s = 60;
  cfg.reg_max_expires_s = 3600;
  cfg.reg_default_expires_s = 3600;
  cfg.reg_max_bindings = 10;
  cfg.reg_max_aors = 10;
  return cfg;
}

void
invite_to(peer_t *p, int i, const char *uri)
{
  char line[128];

  ck_assert_int_ge(i, 0);
  snprintf(line, sizeof line, "INVITE %s SIP/2.0\r\n", uri);
  ck_assert_msg(strncmp(p->sent[i].data, line, strlen(line)) == 0,
                "not to %s: %.60s", uri, p->sent[i].data);
}

void
reg_told_record(void *arg, const cay__binding_change_t *c)
{
  reg_told_t *t = arg;

  t->n++;
  t->removed += c->expires_ms == 0;
  t->moved += c->expires_ms != 0 && c->flow == NULL;
  t->keepalive_s = c->keepalive_s;
}
