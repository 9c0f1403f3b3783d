/*
 * A scripted SIP peer for unit tests: a shard with a virtual clock, the
 * endpoint and session layer on it, and a capture of everything Cay sends.
 * The peer injects raw messages from tests/data/ templates (.sip files), where
 * $name is replaced by the value given for name; $clen becomes the body's
 * length. Time moves only through peer_advance().
 */
#ifndef CAY_TEST_PEER_H
#define CAY_TEST_PEER_H

#include <stddef.h>

#include "cay/config.h"
#include "dialog/session.h"
#include "shard/shard.h"
#include "sip/txn.h"

#define PEER_MAX_SENT 512

/** A callee's SDP answer (PCMU on 127.0.0.9:7000, o= "callee 1 1"), for
 * the 2xx a test sends as the B leg. */
extern const char peer_callee_sdp[];

typedef struct peer_sent {
  char *data;
  size_t len;
  cay__addr_t dst;
  int proto;
  uint64_t conn;
  int flow; /* cay__peer_t.flow: a closed connection is not replaced */
} peer_sent_t;

typedef struct peer {
  uv_loop_t loop;
  cay_config_t cfg;
  cay__shard_t shard;
  cay__endpoint_t ep;
  cay__sessions_t ss;
  cay__addr_t addr; /* the peer: 127.0.0.1:5070 */
  cay__peer_t src;  /* where injected messages come from (UDP by default) */
  peer_sent_t sent[PEER_MAX_SENT];
  unsigned nsent;
  int fail_sends; /* the transport refuses sends while set */
  int fail_tcp;   /* the transport refuses sends over TCP while set */
  int discard;    /* count sends (ndiscarded) without keeping them */
  unsigned long ndiscarded;
  long alloc_start;
} peer_t;

/** New fixture; @p cfg NULL means the built-in defaults. */
peer_t *peer_new(const cay_config_t *cfg);
/** Tear down and prove cleanliness (no live allocations, loop closed). */
void peer_free(peer_t *p);

/**
 * Inject the template tests/data/@p name with key/value substitutions
 * (NULL-terminated list of const char * pairs) from the peer's address.
 */
void peer_send(peer_t *p, const char *name, ...);
/** Inject raw bytes from the peer's address. */
void peer_send_raw(peer_t *p, const char *data, size_t len);
void peer_advance(peer_t *p, uint64_t ms);

/** Parse what Cay sent as message @p i (0-based); caller msg_destroy()s. */
msg_t *peer_msg(peer_t *p, unsigned i);
/** Status of sent message @p i, or 0 for a request. */
int peer_status(peer_t *p, unsigned i);
/** Method name of sent message @p i (static), or "" for a response. */
const char *peer_method(peer_t *p, unsigned i);
/** Status of the last message sent, 0 if it was a request, -1 if none. */
int peer_last_status(peer_t *p);
/** How many sent messages have this status (or this method, if status
 * is 0 and @p method is not NULL). */
unsigned peer_count(peer_t *p, int status, const char *method);
/** Value of header @p name of sent message @p i (dup, free()) or NULL. */
char *peer_header(peer_t *p, unsigned i, const char *name);
/** Assert that sent message @p i has header @p name with value @p want. */
void peer_header_is(peer_t *p, unsigned i, const char *name, const char *want);
/**
 * Answer what Cay sent as message @p i (a request) with @p status ("503"),
 * its Via, From, To (with ";tag=@p totag" unless NULL), Call-ID and CSeq,
 * and the header lines @p extra (NULL: none).
 */
void peer_respond(peer_t *p, unsigned i, const char *status, const char *totag,
                  const char *extra);
/** peer_respond() with @p sdp as an application/sdp body (NULL: none). */
void peer_respond_sdp(peer_t *p, unsigned i, const char *status,
                      const char *totag, const char *extra, const char *sdp);
/** Index of the last sent message with @p status / @p method, or -1. */
int peer_find_last(peer_t *p, int status, const char *method);
/** Index of the last request @p method Cay sent with Call-ID @p call_id
 * (NULL: any), or -1. */
int peer_find_request(peer_t *p, const char *method, const char *call_id);
/** ";tag=X" from the To of sent message @p i, in @p buf (size @p n). */
const char *peer_to_tag(peer_t *p, unsigned i, char *buf, size_t n);
/** Forget captured messages. */
void peer_clear(peer_t *p);

/** An SDP too large for UDP (RFC 3261 18.1.1): @p sdp, then "a=x-pad:"
 * lines until @p buf (@p size bytes, about 1,400) is nearly full. */
const char *peer_padded_sdp(char *buf, size_t size, const char *sdp);

#endif
