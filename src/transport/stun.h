/*
 * STUN keep-alives on the SIP port (RFC 5626 sections 4.4.2 and 8): a UA
 * on an outbound flow over UDP sends STUN Binding requests (RFC 5389) to
 * the address it registered with, and the answer's XOR-MAPPED-ADDRESS
 * tells it that its NAT mapping holds (and whether it moved). SIP and
 * STUN share the socket: a SIP message starts with a letter, a STUN
 * message with a byte below 4 (RFC 7983 section 7). Encoding and
 * decoding are libre's (Debian libre-dev).
 */
#ifndef CAY_TRANSPORT_STUN_H
#define CAY_TRANSPORT_STUN_H

#include <stddef.h>
#include <stdint.h>

#include "transport/addr.h"

/* Room for any answer cay__stun_answer() writes. */
#define CAY__STUN_ANSWER_MAX 128

/**
 * 1 when datagram @p data (@p len bytes) is for STUN, not SIP: at least
 * a STUN header (20 bytes) whose first byte is below 4 (RFC 7983).
 * @thread any
 */
static inline int
cay__stun_maybe(const char *data, size_t len)
{
  return len >= 20 && (uint8_t)data[0] < 4;
}

/**
 * The answer to STUN request @p req (@p len bytes, RFC 5389 section
 * 7.3.1) that came from @p from: for a Binding request, a success
 * response with XOR-MAPPED-ADDRESS = @p from, with FINGERPRINT when the
 * request had one (section 7.3.1); for one with attributes Cay must
 * understand and does not (unknown comprehension-required ones), a 420
 * error response listing them (section 7.3.1). No authentication: a
 * keep-alive carries none (RFC 5626 section 8).
 *
 * @param out   Room for CAY__STUN_ANSWER_MAX bytes. Borrowed.
 * @return The answer's length in bytes; 0: nothing to answer (not STUN
 *         with the RFC 5389 magic cookie, a response or an indication,
 *         another method: dropped, section 7.3); -ENOMEM.
 * @thread any
 */
int cay__stun_answer(const char *req, size_t len, const cay__addr_t *from,
                     char out[CAY__STUN_ANSWER_MAX]);

#endif
