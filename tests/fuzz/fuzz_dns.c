/* libFuzzer entry point: a DNS message timed and kept by the resolver's
 * cache (targets.h, cay_fuzz_dns()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_dns(data, size);
}
