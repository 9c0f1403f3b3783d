/*
 * The WebSocket fuzz target (targets.h, cay_fuzz_ws()): bytes a client
 * sends on a ws listen port, through src/transport/ws.c.
 */
#include "targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/ws.h"

#define WS_FUZZ_MAX_MSG 4096

/* A valid upgrade (RFC 6455 section 1.3's key), for the frames mode. */
static const char upgrade[]
    = "GET / HTTP/1.1\r\nHost: cay.test\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n";

struct ws_fuzz {
  size_t sent;
  int first_send_checked;
  int messages;
};

static void
ws_fail(const char *what)
{
  fprintf(stderr, "fuzz invariant failed: ws: %s\n", what);
  abort();
}

static int
fuzz_send(void *arg, const char *data, size_t len)
{
  struct ws_fuzz *f = arg;

  /* The first bytes Cay writes are its HTTP answer to the upgrade. */
  if (!f->first_send_checked) {
    f->first_send_checked = 1;
    if (len < 9 || memcmp(data, "HTTP/1.1 ", 9) != 0)
      ws_fail("the first bytes sent are no HTTP/1.1 response");
  }
  f->sent += len;
  return 0;
}

static int
fuzz_message(void *arg, const char *data, size_t len)
{
  struct ws_fuzz *f = arg;

  (void)data;
  if (len > WS_FUZZ_MAX_MSG)
    ws_fail("a message over max_msg_bytes was handed out");
  f->messages++;
  return 0;
}

/* One feed's result: one of the documented ones. */
static void
check_result(int r)
{
  if (r != CAY__WS_GO_ON && r != CAY__WS_DONE && r != -ENOMEM)
    ws_fail("cay__ws_feed returned something else");
}

int
cay_fuzz_ws(const uint8_t *data, size_t size)
{
  static const cay__ws_io_t io = { .send = fuzz_send, .message = fuzz_message };
  struct ws_fuzz f = { 0 };
  cay__ws_t *ws = NULL;
  size_t cut;
  int r;

  if (size < 2 || cay__ws_new(&ws, WS_FUZZ_MAX_MSG, &io, &f) != 0)
    return 0;
  /* data[0]: bit 0, frames after a valid upgrade (else the input is the
   * upgrade itself); the rest, where the input is cut in two feeds. */
  cut = size > 2 ? (size_t)(data[0] >> 1) % (size - 1) : 0;
  r = CAY__WS_GO_ON;
  if (data[0] & 1) {
    r = cay__ws_feed(ws, upgrade, sizeof upgrade - 1);
    if (r != CAY__WS_GO_ON || !cay__ws_open(ws))
      ws_fail("a valid upgrade was not taken");
  }
  data++;
  size--;
  if (r == CAY__WS_GO_ON && cut > 0) {
    r = cay__ws_feed(ws, (const char *)data, cut);
    check_result(r);
  }
  if (r == CAY__WS_GO_ON) {
    r = cay__ws_feed(ws, (const char *)data + cut, size - cut);
    check_result(r);
  }
  if (r == CAY__WS_DONE) {
    if (cay__ws_open(ws) || cay__ws_send(ws, "x", 1) != -ENOTCONN)
      ws_fail("an ended session still sends");
    if (cay__ws_feed(ws, "x", 1) != CAY__WS_DONE)
      ws_fail("an ended session reads on");
  } else if (r == CAY__WS_GO_ON && cay__ws_open(ws)) {
    if (cay__ws_send(ws, "OPTIONS", 7) != 0)
      ws_fail("an open session does not send");
  }
  if (f.messages > 0 && !cay__ws_open(ws) && r == CAY__WS_GO_ON)
    ws_fail("messages before the upgrade");
  cay__ws_free(ws);
  return 0;
}
