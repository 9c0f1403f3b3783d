/* Random damage to SIP messages for fuzz tests: see mutate.h. */
#include "support/mutate.h"

#include <string.h>

size_t
mutate_sip(cay__rand_t *r, const char *in, size_t len, char *out, size_t cap)
{
  size_t n = len < cap ? len : cap;
  unsigned kinds = 1 + cay__rand_u32(r) % 4;

  memcpy(out, in, n);
  for (unsigned k = 0; k < kinds && n > 0; k++) {
    size_t at = cay__rand_u32(r) % n;
    switch (cay__rand_u32(r) % 6) {
    case 0: /* flip a byte */
      out[at] = (char)cay__rand_u32(r);
      break;
    case 1: /* truncate */
      n = at + 1;
      break;
    case 2: /* delete a run */
    {
      size_t del = 1 + cay__rand_u32(r) % 16;
      if (at + del > n)
        del = n - at;
      memmove(out + at, out + at + del, n - at - del);
      n -= del;
      break;
    }
    case 3: /* insert a SIP-ish token */
    {
      static const char *const tok[]
          = { "\r\n", ";tag=", ":",       "<",       ">",  ",",
              " ",    "\0",    "SIP/2.0", "z9hG4bK", "%00" };
      const char *t = tok[cay__rand_u32(r) % (sizeof tok / sizeof tok[0])];
      size_t tl = t[0] ? strlen(t) : 1;
      if (n + tl < cap) {
        memmove(out + at + tl, out + at, n - at);
        memcpy(out + at, t, tl);
        n += tl;
      }
      break;
    }
    case 4: /* duplicate a run (a repeated header, say) */
    {
      size_t dup = 1 + cay__rand_u32(r) % 64;
      if (at + dup > n)
        dup = n - at;
      if (n + dup < cap) {
        memmove(out + at + dup, out + at, n - at);
        n += dup;
      }
      break;
    }
    default: /* digits: CSeq numbers, lengths, ports */
      out[at] = (char)('0' + cay__rand_u32(r) % 10);
      break;
    }
  }
  return n;
}
