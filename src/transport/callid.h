/*
 * Cheap Call-ID scan (DESIGN.md section 3, step 2): finds the Call-ID value
 * of a raw SIP message without parsing the rest, so that a datagram can be
 * routed to its owner shard before anyone parses it.
 */
#ifndef CAY_TRANSPORT_CALLID_H
#define CAY_TRANSPORT_CALLID_H

#include <stddef.h>

/**
 * Find the Call-ID header value in the header section of @p msg.
 *
 * Accepts the full name "Call-ID" and the compact form "i" (RFC 3261
 * section 7.3.3), in any case, with whitespace before the colon and linear
 * whitespace (including a folded line, CRLF followed by SP or HTAB) after
 * it. Looks only at the start of header lines (the first line, the start
 * line, is skipped) and stops at the empty line that ends the headers.
 * Bare LF line ends are accepted as well as CRLF. The value returned is
 * stripped of leading and trailing whitespace.
 *
 * @param msg     Raw message. Borrowed; need not be NUL-terminated.
 * @param len     Bytes in @p msg.
 * @param callid  Receives a pointer into @p msg.
 * @param cidlen  Receives the value's length (>= 1).
 * @return 0, or CAY_EPARSE (no Call-ID header, or an empty value).
 * @thread any
 */
int cay__callid_scan(const char *msg, size_t len, const char **callid,
                     size_t *cidlen);

/**
 * Find the Call-ID named by the Replaces header (RFC 3891 section 6.1) of
 * an INVITE, without parsing the rest, so that the INVITE can be routed to
 * the shard of the dialog it replaces (DESIGN.md section 3).
 *
 * The start line must begin with "INVITE " (other methods, and responses,
 * are CAY_EPARSE). The header is found as cay__callid_scan() finds
 * Call-ID (full name "Replaces" in any case; it has no compact form); the
 * Call-ID is its value up to the first ';' or blank.
 *
 * @param msg     Raw message. Borrowed; need not be NUL-terminated.
 * @param len     Bytes in @p msg.
 * @param callid  Receives a pointer into @p msg.
 * @param cidlen  Receives the Call-ID's length (>= 1).
 * @return 0, or CAY_EPARSE (not an INVITE, no Replaces header, or one
 *         without a Call-ID).
 * @thread any
 */
int cay__replaces_scan(const char *msg, size_t len, const char **callid,
                       size_t *cidlen);

#endif
