//===- Init.cpp - Initial values of persistent buffers --------------------===//
//
// normal(0, std) comes from a generator fixed here (docs/runtime.md,
// "Parameter initialisation"), so a program's init_seed gives the same
// parameters on every machine and every backend:
//
//   rng = Rng(init_seed XOR FNV-1a-64(buffer name))     (fp8rt/Rng.h)
//   per pair of elements (row-major):
//     u1 = rng.openDouble(), u2 = rng.uniformDouble()
//     r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2)
//     x[i] = float(std * z0), x[i+1] = float(std * z1)  (z1 unused for an odd tail)
//
// Seeding each buffer from its name keeps a parameter's initial value
// independent of the other buffers and of their order in the file.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Numerics.h"
#include "fp8rt/Rng.h"
#include "fp8rt/Trainer.h"
#include "fp8rt/comm/Shard.h"

#include <cmath>
#include <cstring>

namespace fp8rt {

namespace {

uint64_t fnv1a64(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void storeElement(DType dtype, double value, uint8_t *out) {
  const float f = static_cast<float>(value);
  switch (dtype) {
  case DType::F32:
    std::memcpy(out, &f, 4);
    return;
  case DType::BF16: {
    uint16_t b = floatToBf16(f);
    std::memcpy(out, &b, 2);
    return;
  }
  case DType::F16: {
    uint16_t h = floatToF16(f);
    std::memcpy(out, &h, 2);
    return;
  }
  case DType::F8E4M3:
    *out = floatToE4M3(f);
    return;
  case DType::F8E5M2:
    *out = floatToE5M2(f);
    return;
  case DType::I32: {
    int32_t i = static_cast<int32_t>(std::llround(value));
    std::memcpy(out, &i, 4);
    return;
  }
  case DType::I64: {
    int64_t i = std::llround(value);
    std::memcpy(out, &i, 8);
    return;
  }
  case DType::I8:
    *out = static_cast<uint8_t>(static_cast<int8_t>(std::llround(value)));
    return;
  case DType::U8: // checkpoint-only; no program holds it
    *out = static_cast<uint8_t>(std::llround(value));
    return;
  }
}

} // namespace

std::vector<uint8_t> initialBufferBytes(const Program &program, const Buffer &buffer) {
  const size_t elemSize = dtypeSize(buffer.type.dtype);
  if (!buffer.shardOf.empty()) {
    // zero1/fsdp: this rank's shard of the full tensor's initial values, so
    // that every world size starts from the one-process initialisation.
    Buffer full = buffer;
    full.type.shape = buffer.shardOf;
    full.shardOf.clear();
    const std::vector<uint8_t> all = initialBufferBytes(program, full);
    std::vector<uint8_t> shard(buffer.bytes());
    comm::copyShard(all.data(), size_t(full.type.numElements()), elemSize,
                    comm::processCommunicator().rank(), int(program.info.worldSize), shard.data());
    return shard;
  }
  const int64_t n = buffer.type.numElements();
  std::vector<uint8_t> bytes(buffer.bytes(), 0);
  switch (buffer.init) {
  case InitKind::None:
  case InitKind::Zeros:
    break; // all-zero bytes are zero in every dtype
  case InitKind::Ones:
    for (int64_t i = 0; i < n; ++i)
      storeElement(buffer.type.dtype, 1.0, bytes.data() + size_t(i) * elemSize);
    break;
  case InitKind::Normal: {
    Rng rng(uint64_t(program.info.initSeed) ^ fnv1a64(buffer.name));
    const double twoPi = 6.283185307179586476925286766559;
    for (int64_t i = 0; i < n; i += 2) {
      const double u1 = rng.openDouble(), u2 = rng.uniformDouble();
      const double r = std::sqrt(-2.0 * std::log(u1));
      storeElement(buffer.type.dtype, buffer.initStd * r * std::cos(twoPi * u2),
                   bytes.data() + size_t(i) * elemSize);
      if (i + 1 < n)
        storeElement(buffer.type.dtype, buffer.initStd * r * std::sin(twoPi * u2),
                     bytes.data() + size_t(i + 1) * elemSize);
    }
    break;
  }
  }
  return bytes;
}

} // namespace fp8rt
