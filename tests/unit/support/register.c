#include "support/register.h"

#include <stdio.h>

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
