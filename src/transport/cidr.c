/*
 * Address blocks (cidr.h): parsed once, from the configuration, then
 * matched against each source address with a byte compare.
 */
#include "transport/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "core/log.h"

#define PREVIEW 64 /* bytes of a bad value quoted in a message */

int
cay__ip_parse(const char *s, size_t n, int *family, uint8_t addr[16])
{
  int bracketed = n >= 2 && s[0] == '[' && s[n - 1] == ']';
  cay__addr_t a;

  if (cay__addr_setn(&a, s, n, 0) != 0)
    return -EINVAL;
  *family = cay__addr_family(&a);
  if (*family == AF_INET) {
    if (bracketed)
      return -EINVAL; /* brackets hold IPv6 only (RFC 3986 3.2.2) */
    memcpy(addr, &a.u.sin.sin_addr, 4);
  } else {
    memcpy(addr, &a.u.sin6.sin6_addr, 16);
  }
  return 0;
}

/* How many of the 8 bits of byte @p i a prefix of @p bits bits keeps. */
static unsigned
kept_bits(unsigned bits, unsigned i)
{
  return bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
}

int
cay__cidr_parse(const char *s, cay__cidr_t *out, char *err, size_t errlen)
{
  const char *slash = strchr(s, '/');
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  unsigned max, bits = 0;
  cay__cidr_t c;
  const char *p;

  memset(&c, 0, sizeof c);
  /* No brackets: this is an address, not the host part of a URI. */
  if (n == 0 || s[0] == '[' || cay__ip_parse(s, n, &c.family, c.net) != 0) {
    cay__errmsg(err, errlen,
                "expected an IP address or a CIDR such as 10.0.0.0/8 or "
                "2001:db8::/32, got '%.*s'",
                PREVIEW, s);
    return CAY_ECONFIG;
  }
  max = c.family == AF_INET ? 32 : 128;
  if (slash == NULL) {
    bits = max; /* one address */
  } else {
    /* Digits only: no sign, no spaces, no netmask form. */
    for (p = slash + 1; *p >= '0' && *p <= '9' && bits <= max; p++)
      bits = bits * 10 + (unsigned)(*p - '0');
    if (p == slash + 1 || *p != '\0' || bits > max) {
      cay__errmsg(err, errlen, "prefix length '%.*s' is not from 0 to %u",
                  PREVIEW, slash + 1, max);
      return CAY_ECONFIG;
    }
  }
  c.bits = bits;
  for (unsigned i = 0; i < max / 8; i++) {
    if ((c.net[i] & (uint8_t) ~(0xff00u >> kept_bits(bits, i))) == 0)
      continue;
    char net[INET6_ADDRSTRLEN];

    for (unsigned j = i; j < max / 8; j++)
      c.net[j] &= (uint8_t)(0xff00u >> kept_bits(bits, j));
    inet_ntop(c.family, c.net, net, sizeof net);
    cay__errmsg(err, errlen,
                "'%.*s' has bits set beyond the prefix (the network is %s/%u)",
                PREVIEW, s, net, bits);
    return CAY_ECONFIG;
  }
  *out = c;
  return 0;
}

int
cay__cidr_contains(const cay__cidr_t *c, const cay__addr_t *a)
{
  const uint8_t *ip;
  unsigned full = c->bits / 8, rest = c->bits % 8;

  if (a->u.sa.sa_family != c->family)
    return 0;
  ip = c->family == AF_INET ? (const uint8_t *)&a->u.sin.sin_addr
                            : (const uint8_t *)&a->u.sin6.sin6_addr;
  if (memcmp(ip, c->net, full) != 0)
    return 0;
  return rest == 0 || (ip[full] & (uint8_t)(0xff00u >> rest)) == c->net[full];
}
