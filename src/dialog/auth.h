/*
 * Client digest authentication (RFC 3261 section 22.2, digest per RFC
 * 2617 with sofia-sip's helpers): the credentials a UAC sends again with
 * INVITE (or BYE) after a 401 or 407 challenge.
 *
 *   401/407 -> cay__auth_challenge() -> the request again, CSeq + 1, with
 *   cay__auth_line() ("Authorization: Digest ...") -> for an INVITE (the
 *   first or a re-INVITE), the same line in the ACK of its 2xx (section
 *   13.2.2.4); any other final response -> cay__auth_settled()
 *
 * Requests answered: INVITE, re-INVITE, UPDATE, INFO, BYE.
 *
 * One per session that has credentials (a forward route's auth:), owned
 * by it: nothing here is shared.
 */
#ifndef CAY_DIALOG_AUTH_H
#define CAY_DIALOG_AUTH_H

#include <stddef.h>
#include <sofia-sip/sip.h>

#include "core/rand.h"

typedef struct cay__auth cay__auth_t;

/**
 * Why @p username and @p password cannot be used, or NULL when they can:
 * the username goes between quotes in Authorization (RFC 2617 section
 * 3.2.2), so it has no '"', '\\' or line break; each is at most 127
 * bytes. The phrase names the field: "username: longer than 127 bytes".
 * The one rule for the config check and the embedder's API.
 * @thread any
 */
const char *cay__auth_refusal(const char *username, const char *password);

/**
 * Credentials for a session.
 * @param username  Non-empty, passing cay__auth_refusal(). Copied.
 * @param password  Copied.
 * @return The credentials (free with cay__auth_free()), or NULL: out of
 *         memory, or values cay__auth_refusal() refuses.
 * @thread any (then the owner's)
 */
cay__auth_t *cay__auth_new(const char *username, const char *password);

/** Free; NULL is a no-op. */
void cay__auth_free(cay__auth_t *a);

/**
 * Take the challenge of a 401 (WWW-Authenticate) or 407
 * (Proxy-Authenticate) to a request of ours: the first Digest challenge
 * with algorithm MD5 or MD5-sess (or none) and qop auth (or none).
 *
 * @param status  401 or 407.
 * @param sip     The response. Borrowed.
 * @param rand    For a new client nonce when the server's nonce is new.
 * @param why     Receives, on refusal, why (a static string), or NULL.
 * @return 0: send the request again with cay__auth_line(); -EINVAL: no
 *         challenge Cay can answer; -EACCES: our credentials were already
 *         sent for this very nonce and refused (not stale=true), or three
 *         challenges were answered already for this request (since the
 *         last cay__auth_settled()): they are wrong.
 * @thread owner
 */
int cay__auth_challenge(cay__auth_t *a, int status, const sip_t *sip,
                        cay__rand_t *rand, const char **why);

/**
 * The credentials line for the next request after a challenge:
 * "Authorization: Digest username=..., realm=..., nonce=..., uri=...,
 * response=...[, opaque=...][, algorithm=MD5-sess][, qop=auth, nc=...,
 * cnonce=...]\r\n" (Proxy-Authorization after a 407), the nonce count
 * one more each time. Kept: cay__auth_last() gives it again.
 *
 * @param method  "INVITE", "UPDATE", "INFO" or "BYE".
 * @param uri     The request's Request-URI, as sent. Borrowed.
 * @return The line (borrowed from @p a until the next call), or "" when
 *         no challenge has been taken.
 * @thread owner
 */
const char *cay__auth_line(cay__auth_t *a, const char *method, const char *uri);

/**
 * A request of the session got a final response other than 401/407: the
 * next challenge (to a later request: a re-INVITE, an UPDATE, the BYE)
 * starts a new count of three. The nonce and its count are kept.
 * @thread owner
 */
void cay__auth_settled(cay__auth_t *a);

/** The last line cay__auth_line() made ("" before any): the ACK of a 2xx
 * carries the INVITE's credentials (RFC 3261 section 13.2.2.4). */
const char *cay__auth_last(const cay__auth_t *a);

#endif
