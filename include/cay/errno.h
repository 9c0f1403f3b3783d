/*
 * Cay error codes.
 *
 * Every Cay function that can fail returns an int: 0 on success, a negative
 * errno value (-ENOMEM, -EINVAL), a libuv error code passed through unchanged
 * (UV_EADDRINUSE, ...), or one of the CAY_E* codes below, all at or below
 * -5001 so they never collide with errno or libuv values. SIP outcomes (486,
 * a transaction timeout) are events, never error returns.
 */
#ifndef CAY_ERRNO_H
#define CAY_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

#define CAY_ESTATE    (-5001) /* object is not in a state that allows this */
#define CAY_ECONFIG   (-5002) /* the configuration is invalid */
#define CAY_EPARSE    (-5003) /* input does not parse (SIP, SDP, a spec) */
#define CAY_ELIMIT    (-5004) /* a configured or built-in limit was reached */
#define CAY_ENOCODEC  (-5005) /* an SDP offer shares no codec with ours */
#define CAY_ENOTFOUND (-5006) /* no object for that id or key */
#define CAY_ECONNECT  (-5007) /* a connection to the peer failed */
#define CAY_EMAX      (-5008) /* one past the last CAY_E* code */

/**
 * Describe an error code.
 *
 * @param err  0, a negative errno, a libuv error code or a CAY_E* code.
 * @return A static, NUL-terminated English string; never NULL ("unknown
 *         error" for a code nobody defines). Borrowed, valid forever.
 * @thread any
 */
const char *cay_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
