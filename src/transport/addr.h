/*
 * Socket addresses (IPv4 and IPv6) as the transport and SIP layers use
 * them. Only IP literals: Cay does no DNS in this layer.
 */
#ifndef CAY_TRANSPORT_ADDR_H
#define CAY_TRANSPORT_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct cay__addr {
  union {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_storage ss;
  } u;
} cay__addr_t;

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
/** IP only, without brackets: "::1". @return 0 or -ENOSPC. */
int cay__addr_ip(const cay__addr_t *a, char *buf, size_t len);
unsigned cay__addr_port(const cay__addr_t *a);
void cay__addr_set_port(cay__addr_t *a, unsigned port);
int cay__addr_family(const cay__addr_t *a); /* AF_INET or AF_INET6 */
socklen_t cay__addr_len(const cay__addr_t *a);
/** Same family, IP and port. */
int cay__addr_eq(const cay__addr_t *a, const cay__addr_t *b);
/** True when @p s (length @p n) is an IPv4 or IPv6 literal (brackets ok). */
int cay__is_ip_literal(const char *s, size_t n);

#endif
