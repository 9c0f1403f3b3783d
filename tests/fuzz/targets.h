/*
 * Fuzz targets: Cay's input parsers driven the way the server drives them,
 * one function per entry point. Each takes arbitrary bytes, returns 0, frees
 * everything it allocated, and calls abort() (after a line on stderr) when
 * an invariant of the code under test does not hold, so that a fuzzer or
 * the replay test (tests/unit/test_fuzz_replay.c) sees a crash.
 *
 * Plain C: the libFuzzer executables (tests/fuzz/fuzz_<name>.c, clang) and
 * the replay test (gcc, ASan in `make test`) share this file.
 */
#ifndef CAY_TESTS_FUZZ_TARGETS_H
#define CAY_TESTS_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/**
 * One datagram, from the worker to the transaction layer (src/server/
 * worker_route.c cay__worker_route(), src/sip/endpoint.c
 * cay__endpoint_recv()): the Call-ID
 * scan that steers it, cay__msg_parse(), then for a response
 * cay__msg_check_response() and what the dialog layer reads from one; for
 * a request the Via fix-up, cay__msg_check_request() and either the
 * stateless 400 (reject_bad()) or, when valid, the server key, the
 * destinations, the 100 and the 180/200 as the session layer encodes them,
 * with the offer answered and filtered.
 *
 * Invariants: a response Cay builds to a valid request parses back as a
 * valid response with the request's Call-ID and CSeq (and the To tag Cay
 * added); the Call-ID that steers a valid message is the one it parses to;
 * cay__msg_set_via_transport() reads no byte past the message, changes at
 * most 3 bytes or none, and what it switched to TCP it switches back.
 */
int cay_fuzz_msg(const uint8_t *data, size_t size);

/**
 * One SDP body: cay__sdp_check(), cay__sdp_answer() with the built-in
 * options (src/dialog/layer.c) and with an IPv6 set whose later streams
 * get ports above 65535, cay__sdp_filter() with two codec lists, and the
 * answer of a filtered offer (src/dialog/request.c answer_filtered()).
 *
 * Invariant: an answer Cay writes passes cay__sdp_check().
 */
int cay_fuzz_sdp(const uint8_t *data, size_t size);

/**
 * A TCP byte stream through cay__framer_*, the way src/transport/
 * tcp_conn.c deliver() uses it. The first 4 bytes are the split plan
 * (chunk lengths, used in turn; bit 0 of the first also picks max_msg 300
 * or 4096); the rest is the stream.
 *
 * Invariant: what the framer hands out (messages, keep-alives, the first
 * error) does not depend on how the stream was split into reads: the same
 * stream pushed in one piece gives the same sequence.
 */
int cay_fuzz_framer(const uint8_t *data, size_t size);

/**
 * A YAML configuration file through cay_config_load() (from a memfd), then,
 * when it loaded, cay_config_check(), cay__routes_new() and
 * cay__routes_match() / cay__route_target() for three sample requests.
 *
 * Invariants: a loaded configuration passes cay_config_check() and
 * compiles into a route table (route.h: CAY_ECONFIG "cannot happen");
 * cay__route_target() returns strlen of what it wrote, or "" on
 * CAY_ELIMIT.
 */
int cay_fuzz_config(const uint8_t *data, size_t size);

/**
 * One DNS message from the network, the way the resolver's cache takes it
 * (src/transport/dns.c on_query()): cay__dns_msg_ttl(), and when it may
 * be kept, cay__dns_cache_put() and _get() in a cache of 2 entries with a
 * 60 s cap, then c-ares's SRV and NAPTR parsers on what came back (as a
 * lookup from the cache does).
 *
 * Invariants: the TTL is the same on a second call, never has the top bit
 * set (RFC 2181 section 8); a message that may be kept is kept and comes
 * back byte for byte until its TTL (at most 60 s) ends, and not after.
 */
int cay_fuzz_dns(const uint8_t *data, size_t size);

/**
 * One datagram on a UDP SIP port taken for STUN (cay__stun_maybe()):
 * cay__stun_answer() for a source of each family (src/transport/stun.c,
 * RFC 5389 with RFC 5626 section 8).
 *
 * Invariants: an answer is a STUN response of the Binding method (a
 * success or an error) whose length field counts what follows the
 * header, with the magic cookie and the request's transaction id, and
 * fits CAY__STUN_ANSWER_MAX; only a datagram cay__stun_maybe() takes
 * gets one.
 */
int cay_fuzz_stun(const uint8_t *data, size_t size);

/**
 * Bytes a client sends on a ws listen port (src/transport/ws.c, RFC 6455,
 * RFC 7118): data[0] bit 0 set, frames after a valid upgrade, else the
 * upgrade request itself; data[0] >> 1 says where the rest is cut in two
 * reads. The session allows messages of 4096 bytes.
 *
 * Invariants: cay__ws_feed() returns CAY__WS_GO_ON, CAY__WS_DONE or
 * -ENOMEM (its sends never fail here); the first bytes sent are an HTTP/1.1
 * response; no message over 4096 bytes is handed out; an ended session
 * neither sends nor reads; an open one sends.
 */
int cay_fuzz_ws(const uint8_t *data, size_t size);

#endif
