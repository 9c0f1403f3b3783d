/* Private to msg.c and msg_check.c. */
#ifndef CAY_SIP_MSG_INT_H
#define CAY_SIP_MSG_INT_H

/* Names of the error entries cay__msg_parse() adds to a message's
 * sip_error list next to sofia-sip's own; compared by pointer. */
extern const char cay__err_request_line[]; /* RFC 4475 3.1.2.8-3.1.2.10 */
extern const char cay__err_nul[];          /* an octet 0 in the headers */
extern const char cay__err_bare_cr[];      /* a CR without LF */
extern const char cay__err_name_folded[];  /* a fold before a colon */

#endif
