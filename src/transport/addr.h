/*
 * Socket addresses (IPv4 and IPv6) as the transport and SIP layers use
 * them. Only IP literals: Cay does no DNS in this layer.
 */
#ifndef CAY_TRANSPORT_ADDR_H
#define CAY_TRANSPORT_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct cay__addr {
  union {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6; /* 28 bytes, not a 128-byte sockaddr_storage:
                                 every session and transaction holds one */
  } u;
} cay__addr_t;

/** Transport protocols (WS and WSS: SIP over WebSocket, RFC 7118, over
 * TCP and over TLS). */
enum { CAY__UDP = 0, CAY__TCP = 1, CAY__TLS = 2, CAY__WS = 3, CAY__WSS = 4 };

/** True when @p proto is a stream (every transport over TCP:
 * connections). */
static inline int
cay__proto_stream(int proto)
{
  return proto != CAY__UDP;
}

/** True when @p proto runs over TLS (TLS, WSS). */
static inline int
cay__proto_secure(int proto)
{
  return proto == CAY__TLS || proto == CAY__WSS;
}

/** True when @p proto is a WebSocket (WS, WSS): Cay reaches the peer on
 * its own connection only. */
static inline int
cay__proto_ws(int proto)
{
  return proto == CAY__WS || proto == CAY__WSS;
}

/**
 * Where a message came from or goes to: an address, a transport, and for
 * a stream transport the connection (0 = none: open or find one).
 */
typedef struct cay__peer {
  cay__addr_t addr;
  uint8_t proto; /* CAY__UDP .. CAY__WSS */
  uint8_t flow;  /* 1: a flow (RFC 5626 section 3) to a peer behind a NAT:
                    requests keep this transport, never TCP for their size
                    (RFC 3261 18.1.1), since the NAT takes no connection */
  uint64_t conn; /* a cay_id_t naming the connection, or 0 */
} cay__peer_t;

/** True when @p proto delivers reliably (RFC 3261 section 17 timers). */
static inline int
cay__proto_reliable(int proto)
{
  return proto != CAY__UDP;
}

/** "UDP", "TCP", "TLS", "WS" or "WSS", as in a Via (RFC 3261 section
 * 20.42, RFC 7118 section 5.1). */
static inline const char *
cay__proto_name(int proto)
{
  static const char *const names[] = { "UDP", "TCP", "TLS", "WS", "WSS" };

  return proto >= CAY__UDP && proto <= CAY__WSS ? names[proto] : "UDP";
}

/** "udp", "tcp", "tls", "ws" or "wss": the name in config and logs. */
static inline const char *
cay__proto_lname(int proto)
{
  static const char *const names[] = { "udp", "tcp", "tls", "ws", "wss" };

  return proto >= CAY__UDP && proto <= CAY__WSS ? names[proto] : "udp";
}

/**
 * Set @p a from an IP literal ("1.2.3.4", "::1" or "[::1]") and a port.
 * @return 0 or -EINVAL (not an IP literal, port > 65535).
 */
int cay__addr_set(cay__addr_t *a, const char *host, unsigned port);
/** Same with a host that is not NUL-terminated. */
int cay__addr_setn(cay__addr_t *a, const char *host, size_t hostlen,
                   unsigned port);
/** "1.2.3.4:5060" or "[::1]:5060". @return 0 or -ENOSPC. */
int cay__addr_format(const cay__addr_t *a, char *buf, size_t len);
/** With its transport, as config and logs name it: "udp:1.2.3.4:5060",
 * "tls:[::1]:5061" (@p proto CAY__UDP .. CAY__WSS). @return 0 or
 * -ENOSPC. */
int cay__addr_format_proto(int proto, const cay__addr_t *a, char *buf,
                           size_t len);
/** IP only, without brackets: "::1". @return 0 or -ENOSPC. */
int cay__addr_ip(const cay__addr_t *a, char *buf, size_t len);
unsigned cay__addr_port(const cay__addr_t *a);
void cay__addr_set_port(cay__addr_t *a, unsigned port);
int cay__addr_family(const cay__addr_t *a); /* AF_INET or AF_INET6 */
socklen_t cay__addr_len(const cay__addr_t *a);
/** Same family, IP and port. */
int cay__addr_eq(const cay__addr_t *a, const cay__addr_t *b);
/** Same family and IP, whatever the ports. */
int cay__addr_same_ip(const cay__addr_t *a, const cay__addr_t *b);
/**
 * True when @p a is an address a NAT usually hides, which nobody outside
 * its own network can reach: IPv4 private (RFC 1918: 10/8, 172.16/12,
 * 192.168/16), shared (RFC 6598: 100.64/10) or link-local (RFC 3927:
 * 169.254/16); IPv6 unique local (RFC 4193: fc00::/7) or link-local
 * (RFC 4291: fe80::/10). Loopback is not: it is the host's own.
 * @thread any
 */
int cay__addr_private(const cay__addr_t *a);
/**
 * A non-blocking socket of @p type (SOCK_DGRAM, SOCK_STREAM) bound to
 * @p a with SO_REUSEADDR and SO_REUSEPORT (every shard binds the same
 * address, DESIGN.md section 3) and, for IPv6, IPV6_V6ONLY (an IPv4
 * listener on the same port stays a separate socket). @p rcvbuf, when not
 * 0, asks for that receive and send buffer size first (best effort).
 * libuv 1.44 has no REUSEPORT flag, hence the socket made by hand.
 * @return the file descriptor, or -errno.
 */
int cay__socket_bound(const cay__addr_t *a, int type, int bufsize);

/**
 * A port number (1*DIGIT, at most 65535; 0 included) from @p s into
 * *@p port. @return 0 or -EINVAL.
 * @thread any
 */
int cay__parse_port(const char *s, unsigned *port);

/**
 * Set @p a from "IP", "IPv4:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare IPv6
 * literal has no port); @p default_port when none is given.
 * @return 0 or -EINVAL (not that shape, a port not from 1 to 65535).
 * @thread any
 */
int cay__addr_parse(cay__addr_t *a, const char *s, unsigned default_port);

/**
 * Set @p a from an address to bind: "IPv4:PORT" or "[IPv6]:PORT", the
 * port required, 0 allowed (the kernel picks one).
 * @return 0 or -EINVAL (not that shape, a port above 65535).
 * @thread any
 */
int cay__addr_parse_bind(cay__addr_t *a, const char *s);

/** True when @p s (length @p n) is an IPv4 or IPv6 literal (brackets ok). */
int cay__is_ip_literal(const char *s, size_t n);

/**
 * True when @p s (length @p n) is a host name (RFC 3261 section 25.1
 * hostname, RFC 1035 section 2.3.4): dot-separated labels of 1 to 63
 * letters, digits and inner hyphens, the last one starting with a letter;
 * a final dot allowed; at most 253 bytes. The characters of @p extra
 * (NUL-terminated, "" for none) count as letters and digits: "_" for the
 * names of containers and hosts files that hold one.
 * @thread any
 */
int cay__is_host_name(const char *s, size_t n, const char *extra);

#endif
