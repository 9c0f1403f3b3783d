/* libFuzzer entry point: a YAML configuration file, then the route table built
 * from it (targets.h, cay_fuzz_config()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_config(data, size);
}
