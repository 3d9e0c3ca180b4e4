//===- KernelOps.cpp - The CPU backend's kernel ops -----------------------===//
//
// runKernelOp (fp8rt/cpu/KernelOps.h): the op's check (fp8rt/ops), then its
// row of the CPU column (KernelOpsImpl.h), then the results rounded to their
// dtypes. The implementations live in KernelOpsTrain.cpp, KernelOpsFP8.cpp
// and KernelOpsArith.cpp.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/KernelOps.h"
#include "fp8rt/ops/KernelOpTable.h"

#include "KernelOpsImpl.h"

#include <cmath>
#include <cstring>

namespace fp8rt::cpu {

//===----------------------------------------------------------------------===//
// Dtype conversions
//===----------------------------------------------------------------------===//

float roundToDType(float x, DType t) {
  switch (t) {
  case DType::BF16:
    return bf16ToFloat(floatToBf16(x));
  case DType::F16:
    return f16ToFloat(floatToF16(x));
  case DType::F8E4M3:
    return e4m3ToFloat(floatToE4M3(x));
  case DType::F8E5M2:
    return e5m2ToFloat(floatToE5M2(x));
  default:
    return x;
  }
}

float decodeFp8Exact(uint8_t code, Fp8Format f) {
  const float x = fp8ToFloat(code, f);
  if (f == Fp8Format::E5M2 && std::isnan(x)) // keep the 2 payload bits
    return floatFromBits((uint32_t(code & 0x80u) << 24) | 0x7F800000u |
                         (uint32_t(code & 0x3u) << 21));
  return x;
}

uint8_t encodeFp8Exact(float x, Fp8Format f) {
  const uint32_t bits = floatBits(x);
  const uint8_t sign = uint8_t((bits >> 24) & 0x80u);
  if (std::isnan(x)) {
    const uint32_t payload = (bits >> 21) & 0x3u;
    return uint8_t(sign | (f == Fp8Format::E5M2 && payload ? 0x7Cu | payload : 0x7Fu));
  }
  if (std::isinf(x) && f == Fp8Format::E5M2)
    return uint8_t(sign | 0x7Cu);
  return floatToFp8(x, f);
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

namespace {

using RunFn = Status (*)(const OpRun &);

const RunFn kRun[] = {
#define KERNEL_OP(Id, Name) run##Id,
#include "fp8rt/ops/KernelOps.def"
};
static_assert(sizeof(kRun) / sizeof(kRun[0]) == ops::kNumOps);

/// One loop per dtype (not a switch per element): these loops are a large
/// share of an interpreted step.
void roundResults(std::vector<Value> &results) {
  for (Value &result : results) {
    std::vector<float> &f = result.f;
    switch (result.type.dtype) {
    case DType::BF16:
      for (float &x : f)
        x = bf16ToFloat(floatToBf16(x));
      break;
    case DType::F16:
      for (float &x : f)
        x = roundToDType(x, DType::F16);
      break;
    case DType::F8E4M3:
      for (float &x : f)
        x = e4m3ToFloat(floatToE4M3(x));
      break;
    case DType::F8E5M2:
      for (float &x : f)
        x = e5m2ToFloat(floatToE5M2(x));
      break;
    default:
      break;
    }
  }
}

} // namespace

bool hasImplementation(ops::OpId id) {
  return ops::index(id) < ops::kNumOps && kRun[ops::index(id)] != nullptr;
}

Status runKernelOp(const KernelOp &op, const std::vector<const Value *> &operands,
                   std::vector<Value> &results) {
  results.clear();
  const ops::OpId id = ops::idOf(op);
  if (id == ops::kUnresolvedOp)
    return unimplementedError("unsupported kernel op '" + op.op + "'");
  // The checks run again (they are cheap next to the arithmetic) so that a
  // caller that skipped them still cannot make an op index out of bounds.
  std::vector<TensorType> types;
  types.reserve(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    const Value *v = operands[i];
    if (!v)
      return internalError(op.op + ": operand " + std::to_string(i) + " is null");
    FP8RT_RETURN_IF_ERROR(checkTypeBounds(v->type, op.op + ": operand " + std::to_string(i)));
    const size_t n = size_t(elementCount(v->type));
    const bool isInt = isInteger(v->type.dtype);
    if ((isInt ? v->i.size() : v->f.size()) != n)
      return internalError(op.op + ": operand " + std::to_string(i) + " of type " +
                           typeString(v->type) + " holds " +
                           std::to_string(isInt ? v->i.size() : v->f.size()) + " elements");
    types.push_back(v->type);
  }
  for (size_t i = 0; i < op.results.size(); ++i)
    FP8RT_RETURN_IF_ERROR(checkTypeBounds(op.results[i], op.op + ": result " + std::to_string(i)));
  FP8RT_RETURN_IF_ERROR(ops::runCheck(id, OpContext(op, types)));

  results.resize(op.results.size());
  for (size_t r = 0; r < results.size(); ++r) {
    results[r].type = op.results[r];
    const size_t n = size_t(elementCount(op.results[r]));
    if (isInteger(op.results[r].dtype))
      results[r].i.assign(n, 0);
    else
      results[r].f.assign(n, 0.0f);
  }
  if (Status s = kRun[ops::index(id)](OpRun(op, types, operands, results)); !s.ok()) {
    results.clear();
    return s;
  }
  roundResults(results);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Values and bytes
//===----------------------------------------------------------------------===//

void storeConstant(const Buffer &constant, uint8_t *bytes) {
  Value v;
  v.type = constant.type;
  if (isFloat(constant.type.dtype))
    v.f.assign(constant.data.begin(), constant.data.end());
  else
    for (double x : constant.data)
      v.i.push_back(int64_t(x));
  storeValue(v, bytes);
}

Value loadValue(const TensorType &type, const uint8_t *bytes) {
  Value v;
  v.type = type;
  const size_t n = size_t(elementCount(type));
  switch (type.dtype) {
  case DType::F32:
    v.f.resize(n);
    std::memcpy(v.f.data(), bytes, n * 4);
    break;
  case DType::BF16:
  case DType::F16:
    v.f.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const uint16_t h = uint16_t(bytes[2 * k] | (uint16_t(bytes[2 * k + 1]) << 8));
      v.f[k] = type.dtype == DType::BF16 ? bf16ToFloat(h) : f16ToFloat(h);
    }
    break;
  case DType::F8E4M3:
  case DType::F8E5M2:
    v.f.resize(n);
    for (size_t k = 0; k < n; ++k)
      v.f[k] = decodeFp8Exact(bytes[k], fp8Format(type.dtype));
    break;
  case DType::I8:
    v.i.resize(n);
    for (size_t k = 0; k < n; ++k)
      v.i[k] = int8_t(bytes[k]);
    break;
  case DType::U8: // checkpoint-only; no program holds it
    v.i.resize(n);
    for (size_t k = 0; k < n; ++k)
      v.i[k] = bytes[k];
    break;
  case DType::I32:
    v.i.resize(n);
    for (size_t k = 0; k < n; ++k) {
      int32_t x;
      std::memcpy(&x, bytes + 4 * k, 4);
      v.i[k] = x;
    }
    break;
  case DType::I64:
    v.i.resize(n);
    std::memcpy(v.i.data(), bytes, n * 8);
    break;
  }
  return v;
}

void storeValue(const Value &value, uint8_t *bytes) {
  const size_t n = size_t(elementCount(value.type));
  switch (value.type.dtype) {
  case DType::F32:
    std::memcpy(bytes, value.f.data(), n * 4);
    break;
  case DType::BF16:
    for (size_t k = 0; k < n; ++k) {
      const float x = value.f[k];
      // A NaN keeps its payload (it is held exactly); numbers round as usual,
      // which is the identity on the bf16 numbers a Value holds.
      const uint16_t h = std::isnan(x) ? uint16_t(floatBits(x) >> 16) : floatToBf16(x);
      bytes[2 * k] = uint8_t(h);
      bytes[2 * k + 1] = uint8_t(h >> 8);
    }
    break;
  case DType::F16:
    for (size_t k = 0; k < n; ++k) {
      const uint16_t h = floatToF16(value.f[k]);
      bytes[2 * k] = uint8_t(h);
      bytes[2 * k + 1] = uint8_t(h >> 8);
    }
    break;
  case DType::F8E4M3:
  case DType::F8E5M2:
    for (size_t k = 0; k < n; ++k)
      bytes[k] = encodeFp8Exact(value.f[k], fp8Format(value.type.dtype));
    break;
  case DType::I8:
  case DType::U8:
    for (size_t k = 0; k < n; ++k)
      bytes[k] = uint8_t(value.i[k]);
    break;
  case DType::I32:
    for (size_t k = 0; k < n; ++k) {
      const int32_t x = int32_t(uint32_t(uint64_t(value.i[k])));
      std::memcpy(bytes + 4 * k, &x, 4);
    }
    break;
  case DType::I64:
    std::memcpy(bytes, value.i.data(), n * 8);
    break;
  }
}

} // namespace fp8rt::cpu
