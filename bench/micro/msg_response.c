/*
 * ns per response built and serialized (cay__msg_response then
 * cay__msg_serialize, then msg_destroy): the 200 OK to a parsed INVITE,
 * with a To tag added, as the server builds it once per final response
 * (retransmissions reuse the bytes).
 */
#include "micro.h"

#include "sip/msg.h"

static uintptr_t
respond_once(void *p)
{
  msg_t *req = p, *resp;
  const char *data = NULL;
  size_t len = 0;

  resp = cay__msg_response(req, 200, NULL, "8f3a2b1c4d5e");
  if (resp == NULL || cay__msg_serialize(resp, &data, &len) != 0) {
    fprintf(stderr, "msg_response: building the 200 failed\n");
    exit(1);
  }
  msg_destroy(resp);
  return len;
}

int
main(int argc, char **argv)
{
  static const char invite[] = MICRO_INVITE;
  msg_t *req = NULL;
  micro_opts_t o;

  micro_opts_parse(argc, argv, &o, 200000);
  if (cay__msg_parse(invite, sizeof invite - 1, &req) != 0 || req == NULL) {
    fprintf(stderr, "msg_response: the INVITE did not parse\n");
    return 1;
  }
  micro_run("msg_response", &o, respond_once, req);
  msg_destroy(req);
  return 0;
}
