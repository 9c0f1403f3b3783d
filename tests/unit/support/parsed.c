/* SIP messages parsed for tests; see parsed.h. */
#include "support/parsed.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sip/msg.h"

static msg_t *msgs[8];
static unsigned n_msgs;

const sip_t *
parsed_text(const char *text, int want_err)
{
  msg_t *msg = NULL;

  ck_assert_int_eq(cay__msg_parse(text, strlen(text), &msg), want_err);
  ck_assert_ptr_nonnull(msg);
  ck_assert_uint_lt(n_msgs, sizeof msgs / sizeof msgs[0]);
  msgs[n_msgs++] = msg;
  return sip_object(msg);
}

const sip_t *
parsed_request(const char *method, unsigned cseq, const char *extra,
               int want_err)
{
  char buf[2048];

  snprintf(buf, sizeof buf,
           "%s sip:bob@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-unit-%u\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
           "To: <sip:bob@127.0.0.1>%s\r\n"
           "Call-ID: unit-1@127.0.0.1\r\n"
           "CSeq: %u %s\r\n"
           "Contact: <sip:alice@127.0.0.1:5061>\r\n"
           "%s"
           "Content-Length: 0\r\n"
           "\r\n",
           method, cseq, strcmp(method, "INVITE") ? ";tag=b1" : "", cseq,
           method, extra);
  return parsed_text(buf, want_err);
}

const sip_t *
parsed_response(int status, const char *method, const char *extra)
{
  char buf[2048];

  snprintf(buf, sizeof buf,
           "SIP/2.0 %d Whatever\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-unit-1\r\n"
           "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
           "To: <sip:bob@127.0.0.1>;tag=b1\r\n"
           "Call-ID: unit-1@127.0.0.1\r\n"
           "CSeq: 1 %s\r\n"
           "%s"
           "Content-Length: 0\r\n"
           "\r\n",
           status, method, extra);
  return parsed_text(buf, 0);
}

void
parsed_free_all(void)
{
  while (n_msgs)
    msg_destroy(msgs[--n_msgs]);
}
