/*
 * RFC 3262 reliable provisional responses (100rel, PRACK) as pure
 * functions over parsed messages: whether an INVITE wants them, the header
 * lines of a reliable provisional and of its PRACK, and the matching of a
 * PRACK to the provisional it acknowledges. Retransmission (section 3: T1
 * doubling, give up after 64*T1) and the per-dialog sequence state stay
 * with the session layer.
 *
 *   UAS: INVITE --cay__rel_wanted()--> 1xx with cay__rel_lines(rseq)
 *        rseq = cay__rel_first_rseq(rand), then +1 per reliable 1xx
 *        PRACK --cay__rel_prack_matches()--> 200 / 481 / 400
 *   UAC: 1xx --cay__rel_provisional()--> PRACK with cay__rel_rack_line()
 */
#ifndef CAY_DIALOG_REL_H
#define CAY_DIALOG_REL_H

#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

/** cay__rel_wanted() results. */
#define CAY_REL_NONE 0 /* the UAC did not mention 100rel */
#define CAY_REL_REQUIRED                                                       \
  1                         /* Require: 100rel: provisionals MUST be reliable  \
                             */
#define CAY_REL_SUPPORTED 2 /* Supported: 100rel: they MAY be */

/**
 * RFC 3262 section 3: does @p invite require or only support reliable
 * provisional responses? Option tags compare case-insensitively (RFC 3261
 * section 7.3.1: tokens).
 *
 * @param invite  The INVITE. Borrowed.
 * @return CAY_REL_REQUIRED (1) when Require lists 100rel, else
 *         CAY_REL_SUPPORTED (2) when Supported lists it, else CAY_REL_NONE
 *         (0).
 * @thread any
 */
int cay__rel_wanted(const sip_t *invite);

/**
 * RFC 3262 section 3: the header lines that make a 101-199 response
 * reliable: "Require: 100rel\r\nRSeq: N\r\n". The caller must not use them
 * on a 100 (section 3) nor on a response to anything but INVITE.
 *
 * @param rseq   RSeq of this provisional: cay__rel_first_rseq() for the
 *               first, one more for each later one (section 3).
 * @param lines  Receives the NUL-terminated lines. Borrowed.
 * @param len    Bytes in @p lines (40 is always enough).
 * @return Bytes written (without the NUL), or CAY_ELIMIT (@p lines too
 *         small; it then holds "" when @p len > 0).
 * @thread any
 */
long cay__rel_lines(uint32_t rseq, char *lines, size_t len);

/**
 * RFC 3262 section 3: the RSeq of the first reliable provisional response
 * of a transaction, between 1 and 2^31-1 and (RECOMMENDED) uniform over
 * that range. Taking @p random modulo 2^31-1 is uniform to within
 * 2^-33, well below what matters here.
 *
 * @param random  64 random bits from the shard's generator.
 * @return 1..2^31-1.
 * @thread any
 */
uint32_t cay__rel_first_rseq(uint64_t random);

/**
 * UAS side (RFC 3262 section 3): does @p prack acknowledge our reliable
 * provisional with RSeq @p rseq to the INVITE with CSeq number
 * @p invite_cseq? Its RAck must carry exactly that RSeq, that CSeq number
 * and the method INVITE (case-sensitive, RFC 3261 section 7.1).
 *
 * Only the caller knows whether the provisional is still unacknowledged:
 * a PRACK for one already acknowledged also gets 481 (section 3: "does not
 * match any unacknowledged reliable provisional response").
 *
 * Caveat: sofia-sip 1.12 reads RAck numbers above 2^32-1 modulo 2^32
 * without flagging an error, so "RAck: 4294967297 1 INVITE" reads as RSeq
 * 1; nothing here can see the raw digits.
 *
 * @param prack        The PRACK. Borrowed.
 * @param rseq         RSeq of our provisional.
 * @param invite_cseq  CSeq number of the INVITE it answered.
 * @return 1 (matches: answer the PRACK 2xx, stop retransmitting), 0 (no
 *         match: answer 481), -1 (no RAck that parsed: answer 400).
 * @thread any
 */
int cay__rel_prack_matches(const sip_t *prack, uint32_t rseq,
                           uint32_t invite_cseq);

/**
 * UAC side (RFC 3262 section 4): is @p resp a reliable provisional, one to
 * acknowledge with PRACK?
 *
 * Reliable means: a 101-199 response to INVITE (section 4: a 100's
 * Require: 100rel MUST be ignored; the RFC defines reliable provisionals
 * for INVITE only) with Require listing 100rel. Its RSeq (section
 * 7.1: 1..2^32-1) goes to @p rseq. When the RSeq is missing, 0 or
 * malformed, the response cannot be acknowledged (the RAck needs the
 * number): the RFC gives no rule, so -1 lets the caller log it and treat
 * the response as unreliable (process it, send no PRACK); the UAS then
 * retransmits it and finally gives up with 5xx per section 3.
 *
 * The caller still applies section 4's ordering: PRACK only the first
 * reliable provisional of the dialog or one whose RSeq is one above the
 * last one acknowledged; discard others (retransmissions included).
 *
 * @param resp  The response. Borrowed.
 * @param rseq  Receives the RSeq on 1; untouched otherwise. Borrowed.
 * @return 1 (reliable), 0 (not reliable), -1 (Require: 100rel without a
 *         usable RSeq).
 * @thread any
 */
int cay__rel_provisional(const sip_t *resp, uint32_t *rseq);

/**
 * UAC side (RFC 3262 section 7.2): the RAck line of a PRACK,
 * "RAck: <rseq> <cseq> INVITE\r\n".
 *
 * @param rseq   RSeq of the provisional being acknowledged.
 * @param cseq   CSeq number of the INVITE (the provisional's CSeq).
 * @param lines  Receives the NUL-terminated line. Borrowed.
 * @param len    Bytes in @p lines (40 is always enough).
 * @return Bytes written (without the NUL), or CAY_ELIMIT (@p lines too
 *         small; it then holds "" when @p len > 0).
 * @thread any
 */
long cay__rel_rack_line(uint32_t rseq, uint32_t cseq, char *lines, size_t len);

#endif
