/*
 * What a shard sends (DESIGN.md section 3, rule 1): UDP from its own
 * socket; over TCP, TLS or WebSocket on the connection's shard, which is
 * this one or gets the bytes by mailbox; a new connection from this shard
 * (never a WebSocket one), named for TLS by the next hop's host (RFC 5922
 * section 7.2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "server/server_int.h"

static int
tcp_write_local(cay__worker_t *w, cay_id_t conn, const char *data, size_t len)
{
  int err = CAY_ENOTFOUND;

  /* The connection is in one of this shard's listeners' tables. */
  for (unsigned i = 0; i < w->n_tcp && err == CAY_ENOTFOUND; i++)
    err = cay__tcp_send(w->tcp[i], conn, data, len);
  return err;
}

/* RFC 5922 section 7.2: a TLS connection Cay opens must reach the host
 * of the URI it resolved: for a request its first Route when that is a
 * loose router, else its Request-URI; for a response the top Via's
 * sent-by (RFC 3261 section 18.2.2). Into @p buf; NULL when @p data does
 * not parse (then the chain alone is checked). */
static const char *
next_hop_host(const char *data, size_t len, char *buf, size_t size)
{
  msg_t *msg = NULL;
  sip_t *sip;
  const char *host = NULL;

  if (cay__msg_parse(data, len, &msg) != 0 || (sip = sip_object(msg)) == NULL)
    goto out;
  if (sip->sip_request == NULL)
    host = sip->sip_via ? sip->sip_via->v_host : NULL;
  else if (sip->sip_route && url_has_param(sip->sip_route->r_url, "lr"))
    host = sip->sip_route->r_url->url_host;
  else
    host = sip->sip_request->rq_url->url_host;
  /* A bracketed IPv6 reference: the address inside. */
  if (host && host[0] == '[') {
    size_t n = strcspn(host + 1, "]");
    snprintf(buf, size, "%.*s", (int)n, host + 1);
    host = buf;
  } else if (host) {
    snprintf(buf, size, "%s", host);
    host = buf;
  }
out:
  if (msg)
    msg_destroy(msg);
  return host;
}

/* Bytes for @p dst over a stream (TCP, TLS, WebSocket) from this shard: on
 * its connection while that lives; once it is gone, on a live connection
 * to the same address or a new one (RFC 3261 sections 18.1.1 and 18.2.2
 * allow any), except for a flow or a WebSocket: CAY_ECONNECT. */
int
cay__worker_send_stream(cay__worker_t *w, const cay__peer_t *dst,
                        const char *data, size_t len)
{
  char host[256];
  const char *name = NULL;
  cay__tcp_t *tcp = NULL;
  int kind = 0;

  if (dst->conn) {
    int err = tcp_write_local(w, dst->conn, data, len);
    if (err != CAY_ENOTFOUND)
      return err;
    /* RFC 5626 section 5.3: a flow is the connection the UA opened from
     * behind its NAT; once it is gone, no new one reaches the UA there.
     * The request fails at once, a transport error (RFC 3261 section
     * 8.1.3.1), instead of at the connect timeout. */
    if (dst->flow)
      return CAY_ECONNECT;
  }
  for (unsigned i = 0; i < w->n_tcp && tcp == NULL; i++) {
    if (cay__tcp_proto(w->tcp[i]) != dst->proto)
      continue;
    kind = 1;
    if (cay__addr_family(&w->tcp_addr[i]) == cay__addr_family(&dst->addr))
      tcp = w->tcp[i];
  }
  /* No listen address of that transport at all (a registered contact
   * with transport=tls, and no tls listen): say so. */
  if (tcp == NULL)
    return kind ? -EAFNOSUPPORT : -EPROTONOSUPPORT;
  /* Only a new TLS connection needs the name, which costs a parse. */
  if (dst->proto == CAY__TLS && !cay__tcp_has_conn_to(tcp, &dst->addr))
    name = next_hop_host(data, len, host, sizeof host);
  return cay__tcp_send_to(tcp, &dst->addr, name, data, len, NULL);
}

int
cay__worker_send(void *arg, const cay__peer_t *dst, const char *data,
                 size_t len)
{
  cay__worker_t *w = arg;

  if (dst->proto == CAY__UDP) {
    /* Any shard sends UDP from its own socket of the right family. */
    for (unsigned i = 0; i < w->n_udp; i++)
      if (cay__addr_family(&w->udp_addr[i]) == cay__addr_family(&dst->addr))
        return cay__udp_send(w->udp[i], &dst->addr, data, len);
    return -EAFNOSUPPORT;
  }
  if (dst->conn) {
    unsigned owner = cay__id_shard(dst->conn);
    if (owner != w->index && owner < w->srv->nshards)
      /* The connection belongs to another shard: it writes (rule 1). */
      return cay__worker_post_bytes(w->srv->workers[owner], MAIL_TCP_WRITE, dst,
                                    data, len, 0, 0);
  }
  return cay__worker_send_stream(w, dst, data, len);
}
