/* libFuzzer entry point: one SIP datagram from the worker to the transaction
 * layer (targets.h, cay_fuzz_msg()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_msg(data, size);
}
