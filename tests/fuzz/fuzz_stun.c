/* libFuzzer entry point: a datagram answered as a STUN keep-alive
 * (targets.h, cay_fuzz_stun()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_stun(data, size);
}
