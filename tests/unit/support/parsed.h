/*
 * SIP messages parsed with cay__msg_parse() for tests of functions that
 * read a sip_t (RFC 3262, RFC 4028 helpers). Every message is kept until
 * parsed_free_all(), which a test's teardown calls before it checks for
 * leaks.
 */
#ifndef CAY_TEST_PARSED_H
#define CAY_TEST_PARSED_H

#include <sofia-sip/sip.h>

/** Parse @p text; cay__msg_parse() must return @p want_err. */
const sip_t *parsed_text(const char *text, int want_err);
/**
 * A request @p method with CSeq @p cseq and the header lines @p extra
 * (each ending in CRLF, or ""); outside INVITE the To has a tag.
 */
const sip_t *parsed_request(const char *method, unsigned cseq,
                            const char *extra, int want_err);
/** A response @p status to "CSeq: 1 @p method" with header lines @p extra. */
const sip_t *parsed_response(int status, const char *method, const char *extra);
/** Destroy every message parsed so far. */
void parsed_free_all(void);

#endif
