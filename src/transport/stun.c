/*
 * STUN Binding answers (stun.h) with libre's message codec.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* libre's headers need the standard types first. */
#include <re.h>

#include "transport/stun.h"

/* RFC 5389 section 15.6: ERROR-CODE 420 and its reason. */
#define UNKNOWN_ATTRIBUTE 420

int
cay__stun_answer(const char *req, size_t len, const cay__addr_t *from,
                 char out[CAY__STUN_ANSWER_MAX])
{
  struct stun_unknown_attr ua = { .typec = 0 };
  struct stun_errcode ec
      = { .code = UNKNOWN_ATTRIBUTE, .reason = "Unknown Attribute" };
  struct stun_msg *msg = NULL;
  struct mbuf *in, *mb = NULL;
  struct sa mapped;
  bool fp;
  int err, n = 0;

  /* A copy: the decoded message holds a reference to its buffer, which
   * must be libre's own (mem_ref). */
  in = mbuf_alloc(len);
  if (in == NULL)
    return -ENOMEM;
  err = mbuf_write_mem(in, (const uint8_t *)req, len);
  in->pos = 0;
  if (err == 0)
    err = stun_msg_decode(&msg, in, &ua);
  mem_deref(in);
  if (err == ENOMEM)
    return -ENOMEM;
  if (err)
    return 0;
  if (!stun_msg_mcookie(msg) || stun_msg_method(msg) != STUN_METHOD_BINDING
      || stun_msg_class(msg) != STUN_CLASS_REQUEST
      || sa_set_sa(&mapped, &from->u.sa) != 0)
    goto out;
  fp = stun_msg_attr(msg, STUN_ATTR_FINGERPRINT) != NULL;
  mb = mbuf_alloc(CAY__STUN_ANSWER_MAX);
  if (mb == NULL) {
    n = -ENOMEM;
    goto out;
  }
  if (ua.typec)
    err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_ERROR_RESP,
                          stun_msg_tid(msg), &ec, NULL, 0, fp, 0x20, 1,
                          STUN_ATTR_UNKNOWN_ATTR, &ua);
  else
    err = stun_msg_encode(mb, STUN_METHOD_BINDING, STUN_CLASS_SUCCESS_RESP,
                          stun_msg_tid(msg), NULL, NULL, 0, fp, 0x20, 1,
                          STUN_ATTR_XOR_MAPPED_ADDR, &mapped);
  if (err == 0 && mb->end <= CAY__STUN_ANSWER_MAX) {
    memcpy(out, mb->buf, mb->end);
    n = (int)mb->end;
  } else {
    n = err == ENOMEM ? -ENOMEM : 0;
  }
out:
  mem_deref(mb);
  mem_deref(msg);
  return n;
}
