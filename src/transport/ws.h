/*
 * SIP over WebSocket, the server side (RFC 7118 on RFC 6455), for the
 * stream transport: the TCP transport (tcp_conn.c) reads and writes the
 * connection (through TLS first for WSS), and this layer only answers the
 * HTTP upgrade (its request parsed by http-parser) and turns WebSocket
 * frames into whole SIP messages and back (wslay). No socket, no loop, no
 * thread of its own: a session belongs to its connection's shard.
 *
 * Every WebSocket message carries one whole SIP message (RFC 7118 section
 * 5.2), so no Content-Length framing is done here. Cay sends a message in
 * a text frame when it is ASCII and in a binary frame otherwise (section
 * 5.2 allows either; a binary body need not be UTF-8). Pings are answered;
 * a close frame is answered and ends the session.
 */
#ifndef CAY_TRANSPORT_WS_H
#define CAY_TRANSPORT_WS_H

#include <stddef.h>

typedef struct cay__ws cay__ws_t;

/** Where a session's bytes and messages go (its connection). */
typedef struct cay__ws_io {
  /* Bytes for the peer (the 101 or the error of the handshake, frames),
   * in order, all of them: @return 0, or a negative errno when the
   * connection cannot take them (then the session fails). */
  int (*send)(void *arg, const char *data, size_t len);
  /* A whole SIP message read (borrowed for the call): @return 0 to go
   * on, nonzero when the connection is gone (nothing more is read). */
  int (*message)(void *arg, const char *data, size_t len);
  /* The handshake's Origin (RFC 6455 sections 4.2.1 and 10.2: the page a
   * browser runs; NULL when the request has none, which browsers always
   * send), borrowed for the call: @return 1 to go on with the upgrade, 0
   * to refuse it with 403 Forbidden. A NULL member takes every origin. */
  int (*origin)(void *arg, const char *origin);
} cay__ws_io_t;

/** cay__ws_feed() results besides a negative errno. */
enum {
  CAY__WS_GO_ON = 0, /* read more */
  CAY__WS_STOP = 1,  /* io.message said the connection is gone */
  CAY__WS_DONE = 2   /* the session ended: a refused handshake (its HTTP
                        error sent), a close frame answered, or a protocol
                        error (its close frame sent); close the connection
                        once that is written */
};

/**
 * A session for one accepted connection, waiting for the HTTP upgrade.
 * @param max_msg_bytes  The largest message read; a larger one fails the
 *                       session (close code 1009, RFC 6455 section 7.4.1).
 * @param io             Copied; @p arg is handed to it.
 * @return 0 or -ENOMEM.
 * @thread the connection's shard
 */
int cay__ws_new(cay__ws_t **out, size_t max_msg_bytes, const cay__ws_io_t *io,
                void *arg);

/** Free a session (NULL: nothing). */
void cay__ws_free(cay__ws_t *ws);

/**
 * Bytes read from the connection (plaintext, after TLS for WSS).
 * Before the upgrade they are the HTTP request (RFC 6455 section 4.2.1,
 * at most 8 KiB): a valid GET with Upgrade: websocket, Connection:
 * Upgrade, Sec-WebSocket-Version: 13, a Sec-WebSocket-Key of 16 bytes and
 * the "sip" subprotocol (RFC 7118 section 4.1), from an origin io.origin
 * takes, gets the 101 (section 4.2.2); anything else gets 400 (426 for
 * another version, 403 for an origin refused) with the reason and
 * CAY__WS_DONE. After it they are frames: each whole text or
 * binary message goes to io.message.
 * @return CAY__WS_GO_ON, CAY__WS_STOP, CAY__WS_DONE, or a negative errno
 *         (-ENOMEM, io.send's error): close the connection now.
 * @thread the connection's shard
 */
int cay__ws_feed(cay__ws_t *ws, const char *data, size_t len);

/**
 * Send one SIP message as one WebSocket message (RFC 7118 section 5.2).
 * Called from inside io.message, it is sent once that returns.
 * @return 0; -ENOTCONN before the upgrade or after a close; -ENOMEM; or
 *         io.send's error.
 * @thread the connection's shard
 */
int cay__ws_send(cay__ws_t *ws, const char *data, size_t len);

/**
 * Send a ping (RFC 6455 section 5.5.2), to learn that an idle peer is
 * still there: its pong is a read like any other.
 * @return as cay__ws_send().
 * @thread the connection's shard
 */
int cay__ws_ping(cay__ws_t *ws);

/** 1 once the upgrade is done, until the session ends. */
int cay__ws_open(const cay__ws_t *ws);

/** Why the session failed or ended, for the log: a static string. */
const char *cay__ws_why(const cay__ws_t *ws);

#endif
