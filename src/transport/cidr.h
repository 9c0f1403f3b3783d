/*
 * Address blocks in CIDR notation (RFC 4632 section 3.1 for IPv4, RFC
 * 4291 section 2.3 for IPv6): "10.0.0.0/8", "2001:db8::/32", or one
 * address ("192.0.2.7", "::1"), as the configuration names sources (a
 * route's match.source, registrar.ban_exempt).
 */
#ifndef CAY_TRANSPORT_CIDR_H
#define CAY_TRANSPORT_CIDR_H

#include <stddef.h>
#include <stdint.h>

#include "transport/addr.h"

/** An address block: the @c bits leading bits of @c net, in network
 * order (the bits after them are zero). */
typedef struct cay__cidr {
  int family; /* AF_INET or AF_INET6 */
  unsigned bits;
  uint8_t net[16]; /* 4 bytes used for AF_INET */
} cay__cidr_t;

/**
 * Parse the IP literal of @p n bytes at @p s ("192.0.2.7", "::1", or
 * "[::1]" in brackets) into @p family (AF_INET or AF_INET6) and @p addr
 * (4 or 16 bytes, network order). Neither a port nor a zone index
 * ("fe80::1%eth0") is an IP literal here.
 *
 * @return 0, or -EINVAL (not an IP literal; *@p family and @p addr are
 *         then undefined).
 * @thread any
 */
int cay__ip_parse(const char *s, size_t n, int *family, uint8_t addr[16]);

/**
 * Parse @p s, NUL-terminated: an address block "IP/LEN" (LEN 0 to 32
 * for IPv4, 0 to 128 for IPv6, decimal digits only) or one IP address
 * (the block of just it), without brackets, into *@p out.
 *
 * @return 0, or CAY_ECONFIG with why in @p err (@p errlen bytes, NUL
 *         included; @p err may be NULL): not an IP address, a prefix
 *         length out of range or not a number, or bits set past the
 *         prefix ("10.0.0.1/8": the message names the network,
 *         10.0.0.0/8, since a typo for one host is likelier than a way
 *         of writing the network). *@p out is untouched then.
 * @thread any
 */
int cay__cidr_parse(const char *s, cay__cidr_t *out, char *err, size_t errlen);

/**
 * Whether address @p a (its port is not looked at) is in block @p c: an
 * IPv4 block never holds an IPv6 address, nor the other way (Cay's IPv6
 * sockets are IPV6_V6ONLY, so no source is an IPv4-mapped address).
 *
 * @return 1 or 0.
 * @thread any
 */
int cay__cidr_contains(const cay__cidr_t *c, const cay__addr_t *a);

#endif
