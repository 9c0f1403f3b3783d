/* Socket address helpers: IP literals only, IPv4 and IPv6. */
#include "transport/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
cay__addr_setn(cay__addr_t *a, const char *host, size_t hostlen, unsigned port)
{
  char buf[INET6_ADDRSTRLEN + 1];

  if (port > 65535)
    return -EINVAL;
  if (hostlen >= 2 && host[0] == '[' && host[hostlen - 1] == ']') {
    host++;
    hostlen -= 2;
  }
  if (hostlen == 0 || hostlen >= sizeof buf)
    return -EINVAL;
  memcpy(buf, host, hostlen);
  buf[hostlen] = '\0';
  memset(a, 0, sizeof *a);
  if (inet_pton(AF_INET, buf, &a->u.sin.sin_addr) == 1) {
    a->u.sin.sin_family = AF_INET;
    a->u.sin.sin_port = htons((uint16_t)port);
    return 0;
  }
  if (inet_pton(AF_INET6, buf, &a->u.sin6.sin6_addr) == 1) {
    a->u.sin6.sin6_family = AF_INET6;
    a->u.sin6.sin6_port = htons((uint16_t)port);
    return 0;
  }
  return -EINVAL;
}

int
cay__addr_set(cay__addr_t *a, const char *host, unsigned port)
{
  return cay__addr_setn(a, host, strlen(host), port);
}

int
cay__parse_port(const char *s, unsigned *port)
{
  unsigned long v = 0;
  const char *p;

  for (p = s; *p >= '0' && *p <= '9' && v <= 65535; p++)
    v = v * 10 + (unsigned long)(*p - '0');
  if (p == s || *p || v > 65535)
    return -EINVAL;
  *port = (unsigned)v;
  return 0;
}

int
cay__addr_parse(cay__addr_t *a, const char *s, unsigned default_port)
{
  const char *colon = strrchr(s, ':'), *host_end;
  unsigned port = default_port;

  /* "IP", "IPv4:PORT", "[IPv6]", "[IPv6]:PORT"; a bare IPv6 has no port. */
  if (s[0] == '[') {
    host_end = strchr(s, ']');
    if (host_end == NULL || (host_end[1] != '\0' && host_end[1] != ':'))
      return -EINVAL;
    colon = host_end[1] == ':' ? host_end + 1 : NULL;
    host_end++;
  } else if (colon && strchr(s, ':') == colon) {
    host_end = colon;
  } else {
    host_end = s + strlen(s);
    colon = NULL;
  }
  if (colon && (cay__parse_port(colon + 1, &port) != 0 || port == 0))
    return -EINVAL;
  return cay__addr_setn(a, s, (size_t)(host_end - s), port);
}

int
cay__addr_parse_bind(cay__addr_t *a, const char *s)
{
  const char *colon = strrchr(s, ':');
  unsigned port;

  /* "IPv4:PORT" has one colon; "[IPv6]:PORT" has "]:" before the port. */
  if (colon == NULL || colon == s
      || (s[0] == '[' ? colon[-1] != ']' : strchr(s, ':') != colon)
      || cay__parse_port(colon + 1, &port) != 0)
    return -EINVAL;
  return cay__addr_setn(a, s, (size_t)(colon - s), port);
}

int
cay__is_ip_literal(const char *s, size_t n)
{
  cay__addr_t a;
  return cay__addr_setn(&a, s, n, 0) == 0;
}

int
cay__is_host_name(const char *s, size_t n, const char *extra)
{
  size_t label = 0, top = 0;

  if (n && s[n - 1] == '.')
    n--;
  if (n == 0 || n > 253)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || (c && strchr(extra, c));
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-')
        return 0;
      label = 0;
      top = i + 1;
    } else if ((alnum || (c == '-' && label > 0)) && ++label <= 63) {
      continue;
    } else {
      return 0;
    }
  }
  return label > 0 && s[n - 1] != '-' && !(s[top] >= '0' && s[top] <= '9');
}

int
cay__addr_family(const cay__addr_t *a)
{
  return a->u.sa.sa_family;
}

socklen_t
cay__addr_len(const cay__addr_t *a)
{
  return a->u.sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                       : sizeof(struct sockaddr_in);
}

unsigned
cay__addr_port(const cay__addr_t *a)
{
  if (a->u.sa.sa_family == AF_INET6)
    return ntohs(a->u.sin6.sin6_port);
  return ntohs(a->u.sin.sin_port);
}

void
cay__addr_set_port(cay__addr_t *a, unsigned port)
{
  if (a->u.sa.sa_family == AF_INET6)
    a->u.sin6.sin6_port = htons((uint16_t)port);
  else
    a->u.sin.sin_port = htons((uint16_t)port);
}

int
cay__addr_ip(const cay__addr_t *a, char *buf, size_t len)
{
  const void *src = a->u.sa.sa_family == AF_INET6
                        ? (const void *)&a->u.sin6.sin6_addr
                        : (const void *)&a->u.sin.sin_addr;
  if (inet_ntop(a->u.sa.sa_family, src, buf, (socklen_t)len) == NULL)
    return -ENOSPC;
  return 0;
}

int
cay__addr_format(const cay__addr_t *a, char *buf, size_t len)
{
  char ip[INET6_ADDRSTRLEN];
  int n;

  if (cay__addr_ip(a, ip, sizeof ip))
    return -ENOSPC;
  if (a->u.sa.sa_family == AF_INET6)
    n = snprintf(buf, len, "[%s]:%u", ip, cay__addr_port(a));
  else
    n = snprintf(buf, len, "%s:%u", ip, cay__addr_port(a));
  return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int
cay__addr_format_proto(int proto, const cay__addr_t *a, char *buf, size_t len)
{
  int n = snprintf(buf, len, "%s:", cay__proto_lname(proto));

  if (n < 0 || (size_t)n >= len)
    return -ENOSPC;
  return cay__addr_format(a, buf + n, len - (size_t)n);
}

int
cay__addr_same_ip(const cay__addr_t *a, const cay__addr_t *b)
{
  if (a->u.sa.sa_family != b->u.sa.sa_family)
    return 0;
  if (a->u.sa.sa_family == AF_INET6)
    return memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr, 16) == 0;
  return a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
}

int
cay__addr_eq(const cay__addr_t *a, const cay__addr_t *b)
{
  return cay__addr_same_ip(a, b) && cay__addr_port(a) == cay__addr_port(b);
}

int
cay__addr_private(const cay__addr_t *a)
{
  if (a->u.sa.sa_family == AF_INET6) {
    const uint8_t *b = a->u.sin6.sin6_addr.s6_addr;
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
  }
  uint32_t ip = ntohl(a->u.sin.sin_addr.s_addr);
  return (ip >> 24) == 10 || (ip >> 20) == (172u << 4 | 1)
         || (ip >> 16) == (192u << 8 | 168) || (ip >> 22) == (100u << 2 | 1)
         || (ip >> 16) == (169u << 8 | 254);
}

int
cay__socket_bound(const cay__addr_t *a, int type, int bufsize)
{
  int family = cay__addr_family(a);
  int on = 1, fd, err;

  fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0
      || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
    goto fail;
  if (family == AF_INET6
      && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
    goto fail;
  if (bufsize > 0) {
    /* Large buffers absorb bursts while the loop is busy. Best effort: the
     * kernel caps them at net.core.rmem_max / wmem_max. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  }
  if (bind(fd, &a->u.sa, cay__addr_len(a)) != 0)
    goto fail;
  return fd;

fail:
  err = -errno;
  close(fd);
  return err;
}
