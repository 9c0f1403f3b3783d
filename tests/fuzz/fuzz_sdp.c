/* libFuzzer entry point: one SDP body through check, answer and codec filter
 * (targets.h, cay_fuzz_sdp()). */
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return cay_fuzz_sdp(data, size);
}
