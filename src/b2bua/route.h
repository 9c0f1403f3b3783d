/*
 * The route table: which route of the configuration a new request takes.
 *
 * cay_config_t.routes (include/cay/config.h) is plain data. Each shard
 * has its own compiled copy (regexes, CIDRs, IP literals): compiled at
 * start, and at a reload compiled by shard 0 and handed over by message
 * (src/server/server_reload.c). A shard matches every new request against
 * its copy on its own thread: nothing here is shared between shards, so
 * matching a regex needs no lock. A table is reference-counted, on its
 * owner's thread only: a bridged call holds the table it was routed by.
 *
 * The check helpers below are what cay_config_check() uses for the same
 * values, so that a table refused by the matcher is already refused, with
 * a message, when the configuration is loaded or checked.
 */
#ifndef CAY_B2BUA_ROUTE_H
#define CAY_B2BUA_ROUTE_H

#include <stddef.h>

#include <sofia-sip/sip.h>

#include "cay/config.h"
#include "transport/addr.h"

typedef struct cay__routes cay__routes_t; /* opaque */

/**
 * Compile cfg->routes (regexes, CIDRs) into a table of the caller's own.
 * The routes are copied: the table does not refer to @p cfg afterwards.
 *
 * @param cfg     Configuration. Borrowed.
 * @param out     Receives the table. Returned (free with cay__routes_free).
 * @param err     Buffer for "routes[N].FIELD: what is wrong", or NULL.
 * @param errlen  Size of @p err in bytes.
 * @return 0, -ENOMEM, CAY_ECONFIG (with a message; cannot happen after
 *         cay_config_load() or cay_config_check() passed).
 * @thread any (the table then belongs to that thread)
 */
int cay__routes_new(const cay_config_t *cfg, cay__routes_t **out, char *err,
                    size_t errlen);

/**
 * Drop a reference to a table: the creator's (cay__routes_new()) or one
 * taken by cay__routes_hold(). The table is freed with the last one, so
 * a call that took a route keeps it after a reload has put a new table
 * in its shard (cay_server_reload()). NULL is a no-op.
 * @thread the table's owner
 */
void cay__routes_free(cay__routes_t *r);

/**
 * Take a reference to @p r (NULL is a no-op): its routes stay valid until
 * the matching cay__routes_free().
 * @return @p r.
 * @thread the table's owner
 */
cay__routes_t *cay__routes_hold(cay__routes_t *r);

/** Number of routes in the table (0: every INVITE is answered). */
unsigned cay__routes_count(const cay__routes_t *r);

/** 1 when a route of @p r has action @p action (CAY_ROUTE_REGISTER: Cay
 * is a registrar; CAY_ROUTE_FORWARD: it relays MESSAGE), else 0. NULL: 0. */
int cay__routes_have(const cay__routes_t *r, cay_route_action_t action);

/** What a route is matched against. Every pointer is borrowed. */
typedef struct cay__route_req {
  const char *method;        /* "INVITE" */
  const char *ruri_user;     /* NULL or "" when the R-URI has no user */
  const char *ruri_domain;   /* R-URI host (IPv6 without brackets) */
  const cay__addr_t *source; /* where the request came from, or NULL */
} cay__route_req_t;

/**
 * @p req for request @p sip (method, Request-URI user and host, borrowed
 * from it) received from @p src (borrowed).
 * @thread any
 */
void cay__route_req_of(cay__route_req_t *req, const sip_t *sip,
                       const cay__addr_t *src);

/**
 * The first route of @p r that matches @p req: every match key the route
 * gives matches (method exact and case-sensitive, RFC 3261 section 7.1;
 * user by regex; domain case-insensitive; source by CIDR). A register
 * route matches only a REGISTER, and a REGISTER only a register or a
 * reject route.
 *
 * @return The route, borrowed from the table (valid while a reference to
 *         the table is held),
 *         or NULL: no route matches, and the caller answers 404.
 * @thread the table's owner
 */
const cay_route_t *cay__routes_match(const cay__routes_t *r,
                                     const cay__route_req_t *req);

/**
 * Expand r->target: ${ruri_user} becomes the request's user ("" when it
 * has none; an octet RFC 3261 section 25.1 does not allow in a user part
 * escaped as %XX), ${ruri_domain} its domain, in brackets when it is an
 * IPv6 address (section 25.1, IPv6reference).
 *
 * @param r       A route (returned by cay__routes_match). Borrowed.
 * @param req     The request. Borrowed.
 * @param out     Buffer for the URI, NUL-terminated. Borrowed.
 * @param outlen  Size of @p out in bytes.
 * @return The URI's length (without the NUL), or CAY_ELIMIT when it does
 *         not fit in @p outlen (NUL included); @p out is then "" if
 *         @p outlen > 0.
 * @thread any
 */
long cay__route_target(const cay_route_t *r, const cay__route_req_t *req,
                       char *out, size_t outlen);

/**
 * cay__route_target() for r->failover[@p i] (i < r->n_failover): the
 * target tried when the one before it failed (cay_route_t.failover).
 * @thread any
 */
long cay__route_failover_target(const cay_route_t *r, unsigned i,
                                const cay__route_req_t *req, char *out,
                                size_t outlen);

/*
 * Checks of single values, for cay_config_check(). Each returns 0, or
 * CAY_ECONFIG with "what is wrong" in @p err (no field name: the caller
 * prefixes it).
 */

/** A PCRE2 regular expression (PCRE2's own message, with the offset). */
int cay__route_check_user(const char *re, char *err, size_t errlen);
/** "10.0.0.0/8", "2001:db8::/32", or one IP literal (/32 or /128). */
int cay__route_check_source(const char *source, char *err, size_t errlen);
/**
 * A target template: known ${variables} only, and once they are replaced
 * by a sample (user "1000"; domain the route's match.ruri_domain, or
 * "example.com"), a sip: or sips: URI whose host is an IP literal.
 */
int cay__route_check_target(const cay_route_t *r, char *err, size_t errlen);
/** The same for r->failover[@p i]. */
int cay__route_check_failover(const cay_route_t *r, unsigned i, char *err,
                              size_t errlen);

/**
 * A pass_headers name (cay_route_t.pass_headers): a header name (an RFC
 * 3261 section 25.1 token) of more than one character (a compact form
 * would not match its full name), optionally ending in '*' (a prefix of
 * at least one character), and not a header Cay writes itself
 * (cay__route_header_ours()).
 */
int cay__route_check_header(const char *name, char *err, size_t errlen);

/**
 * 1 when @p name (a full header name, case-insensitive) is one that Cay
 * writes or that goes with what Cay does in an INVITE it sends (Via,
 * From, To, Call-ID, CSeq, Max-Forwards, Contact, Route, Record-Route,
 * the body's headers, Allow, Supported, Require, Proxy-Require,
 * Session-Expires, Min-SE, credentials, RAck, RSeq, Replaces, Accept):
 * never passed from A's INVITE, whatever a pattern says. Else 0.
 * @thread any
 */
int cay__route_header_ours(const char *name);

/**
 * 1 when header @p name (full name) is one that route @p r passes from
 * A's INVITE to B's (its pass_headers, case-insensitive, '*' a prefix),
 * and not one of Cay's own (cay__route_header_ours()). Else 0.
 * @thread any
 */
int cay__route_passes(const cay_route_t *r, const char *name);

/**
 * The header fields of message @p msg (A's INVITE, or B's provisional or
 * 2xx response) that route @p r passes (cay__route_passes()), in their
 * order, each as "Full-Name: value\r\n", into @p buf (NUL-terminated).
 * A header that did not parse is not passed.
 * @param msg  The message, or NULL (nothing). Borrowed.
 * @return 0, or -ENOSPC: a header that did not fit in @p size bytes, or
 *         that sofia-sip could not encode, was left out (the others are
 *         there).
 * @thread any
 */
int cay__route_pass_lines(const cay_route_t *r, msg_t *msg, char *buf,
                          size_t size);

#endif
