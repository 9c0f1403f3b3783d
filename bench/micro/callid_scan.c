/*
 * ns per Call-ID scan (cay__callid_scan, DESIGN.md section 3 step 2): the
 * work every datagram costs before it is routed to its owner shard.
 *
 * Two figures: the Call-ID in the full form at the fifth header line of a
 * SIPp INVITE, and a worst case with the compact form "i:" as the last
 * header after 10 long ones, so the scan walks the whole header section.
 */
#include "micro.h"

#include "transport/callid.h"

struct scan_arg {
  const char *msg;
  size_t len;
};

static uintptr_t
scan_once(void *p)
{
  struct scan_arg *a = p;
  const char *cid = NULL;
  size_t cidlen = 0;

  if (cay__callid_scan(a->msg, a->len, &cid, &cidlen) != 0) {
    fprintf(stderr, "callid_scan: no Call-ID found\n");
    exit(1);
  }
  return (uintptr_t)cid + cidlen;
}

int
main(int argc, char **argv)
{
  static const char late[]
      = "BYE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-24580-1-5;rport\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK-9f8e7d6c5b4a\r\n"
        "Via: SIP/2.0/UDP 10.0.0.2:5063;branch=z9hG4bK-0a1b2c3d4e5f\r\n"
        "Record-Route: <sip:127.0.0.1:5070;lr;did=a1b.c2d3e4f5>\r\n"
        "Record-Route: <sip:10.0.0.1:5062;lr>\r\n"
        "From: sipp <sip:sipp@127.0.0.1:5061>;tag=24580SIPpTag001\r\n"
        "To: service <sip:service@127.0.0.1:5060>;tag=abcdef0123456789\r\n"
        "CSeq: 2 BYE\r\n"
        "Contact: sip:sipp@127.0.0.1:5061\r\n"
        "Max-Forwards: 70\r\n"
        "i: 1-24580@127.0.0.1\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
  static const char invite[] = MICRO_INVITE;
  struct scan_arg a;
  micro_opts_t o;

  micro_opts_parse(argc, argv, &o, 2000000);
  a.msg = invite;
  a.len = sizeof invite - 1;
  micro_run("callid_scan", &o, scan_once, &a);
  a.msg = late;
  a.len = sizeof late - 1;
  micro_run("callid_scan_compact_last", &o, scan_once, &a);
  return 0;
}
