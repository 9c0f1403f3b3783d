/*
 * The resolver's cache (dns.c): answers kept for their TTL, so that a
 * shard forwarding many calls to one host name asks its DNS servers once
 * per TTL instead of once per call (up to 5 queries for a name without a
 * port: NAPTR, 2 x SRV, A and AAAA).
 *
 * It keeps what a server said, not what Cay made of it: the DNS message
 * of a NAPTR or SRV query, and the addresses of a name. So each lookup
 * still walks RFC 3263 section 4 and draws a new RFC 2782 weighted order
 * of SRV targets; only the network round trips go.
 *
 * An entry is keyed by (type, name), the name without case (RFC 4343).
 * It expires after its TTL (RFC 1035 section 3.2.1: the least of the
 * answer's records; RFC 2308 section 5: for a negative answer, the least
 * of the SOA record's TTL and MINIMUM field), capped by the cache's
 * max_ttl_s. A TTL of 0, a negative answer without SOA, a truncated or
 * malformed message, and data over CAY__DNS_CACHE_MAX_DATA bytes are not
 * kept. When full, the entry used longest ago goes (LRU).
 *
 * One cache per resolver, so per shard: no lock, the loop's thread only.
 * Times are the caller's clock in ms (uv_now() of the shard's loop).
 */
#ifndef CAY_TRANSPORT_DNS_CACHE_H
#define CAY_TRANSPORT_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CAY__DNS_CACHE_MAX_DATA 4096

typedef struct cay__dns_cache cay__dns_cache_t;

/**
 * A cache of at most @p max_entries entries, each kept at most
 * @p max_ttl_s seconds.
 * @return 0, -EINVAL (@p max_entries or @p max_ttl_s is 0), -ENOMEM.
 * @thread any; the cache is then its creator's
 */
int cay__dns_cache_create(cay__dns_cache_t **out, unsigned max_entries,
                          unsigned max_ttl_s);

/** Free @p c and its entries (NULL: nothing). */
void cay__dns_cache_free(cay__dns_cache_t *c);

/**
 * Keep @p len bytes of @p data (copied) with @p status (the caller's code
 * for the answer: found, no such name, ...) under (@p type, @p name) for
 * @p ttl_s seconds from @p now_ms, replacing an entry of that key.
 * @return 1 kept; 0 not kept (@p ttl_s is 0, @p len is over
 *         CAY__DNS_CACHE_MAX_DATA, @p name is empty or over 255 bytes);
 *         -ENOMEM (the old entry of the key, if any, is gone).
 */
int cay__dns_cache_put(cay__dns_cache_t *c, int type, const char *name,
                       int status, const void *data, size_t len, uint32_t ttl_s,
                       uint64_t now_ms);

/**
 * Look (@p type, @p name) up at @p now_ms; an expired entry is dropped.
 * On a hit, @p status gets the entry's status, and @p data (a buffer of
 * CAY__DNS_CACHE_MAX_DATA bytes) a copy of its data; @p len its length.
 * With @p data NULL, only whether there is one (@p status and @p len are
 * not touched and may be NULL).
 * @return 1 hit, 0 miss.
 */
int cay__dns_cache_get(cay__dns_cache_t *c, int type, const char *name,
                       uint64_t now_ms, int *status, void *data, size_t *len);

/**
 * Drop the entry of (@p type, @p name), expired or not.
 * @return 1 there was one, 0 there was none.
 */
int cay__dns_cache_remove(cay__dns_cache_t *c, int type, const char *name);

/** Entries held now (expired ones included until looked up or evicted). */
unsigned cay__dns_cache_count(const cay__dns_cache_t *c);

/**
 * How long a DNS message (RFC 1035 section 4.1) may be cached: the least
 * TTL of its answer records (RFC 2181 section 8: one with the top bit set
 * counts as 0); with no answer record (NOERROR or NXDOMAIN), the least of
 * the TTL and MINIMUM of the SOA record in its authority section (RFC 2308
 * section 5).
 * @return 0 with @p ttl_s set; -1 when it must not be cached: truncated
 *         (TC), another RCODE, a negative answer without SOA, malformed.
 */
int cay__dns_msg_ttl(const unsigned char *msg, size_t len, uint32_t *ttl_s);

#endif
