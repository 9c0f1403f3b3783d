/*
 * ns per full parse (cay__msg_parse: sofia-sip msg_make plus Cay's checks)
 * of the INVITE SIPp's benchmark UAC sends, including creating and
 * destroying the msg_t, as the server does for every datagram it owns.
 */
#include "micro.h"

#include "sip/msg.h"

static uintptr_t
parse_once(void *p)
{
  const char *invite = p;
  msg_t *msg = NULL;
  uintptr_t keep;

  if (cay__msg_parse(invite, strlen(invite), &msg) != 0 || msg == NULL) {
    fprintf(stderr, "msg_parse: the INVITE did not parse\n");
    exit(1);
  }
  keep = (uintptr_t)sip_object(msg)->sip_call_id;
  msg_destroy(msg);
  return keep;
}

int
main(int argc, char **argv)
{
  static const char invite[] = MICRO_INVITE;
  micro_opts_t o;

  micro_opts_parse(argc, argv, &o, 200000);
  micro_run("msg_parse", &o, parse_once, (void *)invite);
  return 0;
}
