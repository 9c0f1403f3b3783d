/*
 * SDP offer/answer for Cay's UAS (RFC 3264), over sofia-sip's SDP parser.
 * Cay is signalling only: the answer names an address and ports, but Cay
 * sends and receives no media.
 */
#ifndef CAY_DIALOG_SDP_H
#define CAY_DIALOG_SDP_H

#include <stddef.h>
#include <stdint.h>

typedef struct cay__sdp_opts {
  const char *const *codecs; /* encoding names in preference order, such
                                as "PCMU", "PCMA", "telephone-event" */
  unsigned n_codecs;
  const char *media_ip; /* c= address (IPv4 or IPv6 literal) */
  unsigned port_base;   /* RTP port of the first stream; stream k gets
                           port_base + 2k */
} cay__sdp_opts_t;

/**
 * Answer an offer (RFC 3264 section 6): the same number of m-lines in the
 * same order; each audio stream accepts the first codec of
 * @p o->codecs (in that order) that the offer has, plus telephone-event
 * when both sides list it, with the offer's payload type numbers; a stream
 * with no common codec, or of another media type, is rejected with port 0.
 * Direction attributes are mirrored (sendonly <-> recvonly). o= carries
 * @p session_id and version 1.
 *
 * @param offer       SDP text. Borrowed; need not be NUL-terminated.
 * @param len         Bytes in @p offer.
 * @param answer      Receives the NUL-terminated answer. Returned: caller
 *                    frees with cay__free().
 * @param answer_len  Receives strlen(*answer).
 * @return 0, CAY_EPARSE (not valid SDP: answer 400 or 488),
 *         CAY_ENOCODEC (no stream could be accepted: answer 488),
 *         -ENOMEM.
 * @thread any
 */
int cay__sdp_answer(const char *offer, size_t len, const cay__sdp_opts_t *o,
                    uint64_t session_id, char **answer, size_t *answer_len);

/**
 * Build an offer (RFC 3264 section 5) with one audio stream listing every
 * codec of @p o in order (for an INVITE without an offer: the offer goes in
 * the 200 and the answer comes in the ACK).
 *
 * @return 0 or -ENOMEM (or CAY_ENOCODEC when no codec is known).
 * @thread any
 */
int cay__sdp_offer(const cay__sdp_opts_t *o, uint64_t session_id, char **offer,
                   size_t *offer_len);

/** True when @p name is a codec Cay can put in SDP (static or known). */
int cay__sdp_codec_known(const char *name);

/**
 * Keep only the listed codecs in an offer passed on (a B2BUA route's
 * `codecs:`): each audio m-line keeps the payload types whose encoding
 * name (rtpmap, or the static name of RFC 3551 table 4) is in @p codecs
 * (case-insensitive), with their a=rtpmap/a=fmtp/a=rtcp-fb lines;
 * everything else is copied as it is.
 *
 * @param codecs  Names, e.g. "PCMU", "telephone-event". Borrowed.
 * @param out     Receives the NUL-terminated result (cay__free()).
 * @return 0, CAY_ENOCODEC (no audio payload type left, or no audio
 *         m-line: answer 488), -ENOMEM.
 * @thread any
 */
int cay__sdp_filter(const char *sdp, size_t sdp_len, const char *const *codecs,
                    unsigned n_codecs, char **out, size_t *out_len);

/**
 * Parse an answer (in an ACK) well enough to accept it.
 * @return 0 or CAY_EPARSE.
 */
int cay__sdp_check(const char *sdp, size_t len);

#endif
