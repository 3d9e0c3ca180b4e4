//===- safetensors_fuzz.cpp - libFuzzer target for the safetensors reader -===//
//
// Any input must give either a validated file whose every tensor lies inside
// the buffer, or an error whose message names the file. Built with
// scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Safetensors.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  fp8rt::StatusOr<fp8rt::SafetensorsReader> r =
      fp8rt::SafetensorsReader::parse(std::move(bytes), "fuzz.safetensors");
  if (!r.ok()) {
    if (r.status().message().rfind("fuzz.safetensors: ", 0) != 0)
      std::abort(); // every error names the file
    return 0;
  }
  // Touch every byte of every tensor (ASan catches any out-of-bounds view)
  // and check the invariants the reader promises.
  uint64_t expectedBegin = 0;
  unsigned sum = 0;
  for (const fp8rt::SafetensorsEntry &e : r->tensors()) {
    if (e.begin != expectedBegin ||
        e.numBytes() != e.numElements() * fp8rt::dtypeSize(e.dtype) ||
        r->find(e.name) == nullptr)
      std::abort();
    const uint8_t *p = r->data(e);
    for (uint64_t i = 0; i < e.numBytes(); ++i)
      sum += p[i];
    expectedBegin = e.end;
  }
  if (8 + r->headerLength() + expectedBegin != r->bytes().size())
    std::abort();
  for (const auto &kv : r->metadata())
    if (r->metadataValue(kv.first) == std::nullopt)
      std::abort();
  static volatile unsigned sink;
  sink = sum;
  return 0;
}
