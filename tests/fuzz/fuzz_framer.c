/* libFuzzer entry point: a TCP byte stream cut into SIP messages, split at
 * varying reads (targets.h, cay_fuzz_framer()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_framer(data, size);
}
