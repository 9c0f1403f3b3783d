/* libFuzzer entry point: bytes from a client of a ws listen port
 * (targets.h, cay_fuzz_ws()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_ws(data, size);
}
