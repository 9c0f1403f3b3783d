/*
 * TLS for the stream transport (RFC 3261 section 26.2, RFC 5922) on
 * OpenSSL, with memory BIOs: the TCP transport (tcp_conn.c) reads and
 * writes the socket, and this layer only turns ciphertext into plaintext
 * and back. No socket, no loop, no thread of its own.
 *
 * A context (cay__tls_ctx_t) holds the certificate, the key and the CAs;
 * it is made once per server (and again at each reload) and shared by
 * every shard's TLS transport (OpenSSL 3 contexts may be used from
 * several threads once set up), counted by references. A
 * session (cay__tls_t) is one connection's TLS state and belongs to that
 * connection's shard.
 */
#ifndef CAY_TRANSPORT_TLS_H
#define CAY_TRANSPORT_TLS_H

#include <stddef.h>

typedef struct cay__tls_ctx cay__tls_ctx_t;
typedef struct cay__tls cay__tls_t;

/** What a TLS context is made of (the config's tls: section). */
typedef struct cay__tls_conf {
  const char *certificate; /* PEM file: Cay's certificate chain, leaf
                              first; NULL or "" = none (then Cay cannot
                              accept TLS, only open connections) */
  const char *private_key; /* PEM file: its key; required with it */
  const char *ca_file;     /* PEM file of the CAs that verify peers; NULL
                              or "" = the system's default paths */
  const char *crl_file;    /* PEM file of CRLs (RFC 5280 section 5): a
                              peer's certificate that the CRL of its
                              issuer revokes fails verification, and so
                              does one whose issuer has no CRL in it;
                              NULL or "" = no revocation check */
  int crl_chain;           /* with crl_file: every certificate of the
                              chain is checked against its issuer's CRL,
                              the intermediate CAs too (RFC 5280 section
                              6.3); 0: only the peer's own */
  int verify_server;       /* connections Cay opens: verify the chain and
                              the name (RFC 5922 section 7.2) */
  int verify_client;       /* connections Cay accepts: the peer must show a
                              certificate the CAs verify (mutual TLS) */
} cay__tls_conf_t;

/**
 * Make a context: TLS 1.2 or later, the certificate and key loaded and
 * checked against each other, the CAs loaded.
 * @param out     Receives the context with one reference, the caller's
 *                (cay__tls_ctx_unref()).
 * @param err     Receives a message naming the file and OpenSSL's reason
 *                on failure ("tls.certificate /x.pem: No such file ...").
 * @return 0, -ENOMEM, or CAY_ECONFIG (a file that cannot be read or used,
 *         a key that does not match the certificate, a CRL file with no
 *         CRL or with one past its nextUpdate: verifying against it would
 *         fail every peer).
 * @thread any (once; then shared read-only)
 */
int cay__tls_ctx_new(cay__tls_ctx_t **out, const cay__tls_conf_t *conf,
                     char *err, size_t errlen);

/** One more reference to @p ctx. @return @p ctx. @thread any */
cay__tls_ctx_t *cay__tls_ctx_ref(cay__tls_ctx_t *ctx);

/**
 * When the context's certificate stops being valid (its notAfter, RFC
 * 5280 section 4.1.2.5): seconds since 1970 (UTC), or 0 when the context
 * has no certificate. OpenSSL loads an expired one without complaint;
 * the server logs it (peers that verify refuse it).
 * @thread any
 */
long long cay__tls_ctx_not_after(const cay__tls_ctx_t *ctx);

/**
 * The earliest nextUpdate (RFC 5280 section 5.1.2.5) of the context's
 * CRLs (cay__tls_conf_t.crl_file): seconds since 1970 (UTC), or 0 when it
 * has none. From then on every verification against that CRL fails
 * until a new one is loaded.
 * @thread any
 */
long long cay__tls_ctx_crl_next_update(const cay__tls_ctx_t *ctx);

/** Drop a reference (NULL: nothing); the last one frees the context.
 *  Sessions made from it keep what they need (OpenSSL counts its own
 *  context), so it may go before them. @thread any */
void cay__tls_ctx_unref(cay__tls_ctx_t *ctx);

/** 1 when the context has a certificate (it can accept connections). */
int cay__tls_ctx_can_accept(const cay__tls_ctx_t *ctx);

/**
 * A session for one connection.
 * @param client  1: Cay opened the connection (it starts the handshake,
 *                sends SNI and, with verify_server, checks the peer's
 *                certificate names @p name); 0: Cay accepted it.
 * @param name    The next hop's host as Cay resolved it (RFC 5922
 *                section 7.2): a DNS name, or an IP literal matched
 *                against the certificate's IP addresses; NULL = none
 *                (the chain only). Copied.
 * @return 0, -ENOMEM, or CAY_ECONFIG (OpenSSL refused the name).
 * @thread the connection's shard
 */
int cay__tls_new(cay__tls_t **out, cay__tls_ctx_t *ctx, int client,
                 const char *name);

/** Free a session (NULL: nothing). */
void cay__tls_free(cay__tls_t *t);

/**
 * Ciphertext read from the socket, taken in (copied).
 * @return 0 or -ENOMEM.
 */
int cay__tls_feed(cay__tls_t *t, const char *data, size_t len);

/**
 * Move the handshake on with what was fed.
 * @return 1 (established, now or before), 0 (waiting for the peer), or
 *         CAY_EPARSE (the handshake failed: not TLS, a certificate that
 *         does not verify, no shared cipher; cay__tls_why() says which).
 */
int cay__tls_handshake(cay__tls_t *t);

/**
 * Plaintext of what was fed, into @p buf.
 * @return bytes (> 0), 0 (none until more is fed), UV_EOF (the peer sent
 *         close_notify) or CAY_EPARSE (a bad record).
 */
long cay__tls_read(cay__tls_t *t, char *buf, size_t size);

/**
 * Encrypt @p len bytes of plaintext (all of them) for the peer; the
 * ciphertext waits in cay__tls_output().
 * @return 0, or CAY_EPARSE (the session failed).
 */
int cay__tls_write(cay__tls_t *t, const char *data, size_t len);

/** Start a close (close_notify); its bytes wait in cay__tls_output(). */
void cay__tls_shutdown(cay__tls_t *t);

/**
 * The ciphertext waiting to be written (handshake messages, records,
 * alerts): *@p data points into the session, valid until the next call on
 * it. The caller writes it, then calls cay__tls_output_done().
 * @return its length (0: none).
 */
size_t cay__tls_output(cay__tls_t *t, const char **data);
void cay__tls_output_done(cay__tls_t *t);

/** Why the handshake or a read failed, for the log ("certificate verify
 *  failed: unable to get local issuer certificate"). Never NULL. */
const char *cay__tls_why(cay__tls_t *t);

#endif
