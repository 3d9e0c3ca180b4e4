//===- KernelOps.cpp - Checks and CPU semantics of kernel ops -------------===//
//
// The entry points of fp8rt/cpu/KernelOps.h and the OpContext helpers the op
// families share (KernelOpsImpl.h). The ops themselves live in
// KernelOpsTrain.cpp, KernelOpsFP8.cpp and KernelOpsArith.cpp.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/KernelOps.h"

#include "KernelOpsImpl.h"

#include <cmath>
#include <cstring>

namespace fp8rt {
namespace kernelops {

//===----------------------------------------------------------------------===//
// Types and dtype conversions
//===----------------------------------------------------------------------===//

const char *dtypeString(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::BF16:
    return "bf16";
  case DType::F16:
    return "f16";
  case DType::F8E4M3:
    return "f8e4m3";
  case DType::F8E5M2:
    return "f8e5m2";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::I8:
    return "i8";
  }
  return "?";
}

std::string typeString(const TensorType &type) {
  return dtypeString(type.dtype) + shapeString(type.shape);
}

int64_t elementCount(const TensorType &type) { return elementCount(type.shape); }

uint16_t floatToF16(float x) {
  const uint32_t u = floatBits(x);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) { // NaN: sign and the top payload bits kept
    const uint32_t payload = (a >> 13) & 0x3FFu;
    return uint16_t(sign | 0x7C00u | (payload ? payload : 0x200u));
  }
  // 65520 = 0x477FF000 lies halfway between 65504 (the largest half, odd
  // significand) and 65536: it and everything above round to infinity.
  if (a >= 0x477FF000u)
    return uint16_t(sign | 0x7C00u);
  if (a >= 0x38800000u) { // >= 2^-14: a normal half
    const uint32_t rounded = a + 0xFFFu + ((a >> 13) & 1u);
    return uint16_t(sign | ((rounded >> 13) - (112u << 10)));
  }
  // Subnormal (or zero): 0.5 has an ulp of 2^-24, the subnormal spacing, so
  // the f32 addition rounds to nearest even and leaves the code in the low
  // bits; the largest subnormals round up to 0x400, the smallest normal.
  const float sum = floatFromBits(a) + 0.5f;
  return uint16_t(sign | (floatBits(sum) - 0x3F000000u));
}

float f16ToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31)
    return floatFromBits(sign | 0x7F800000u | (m << 13));
  if (e == 0) // zero or subnormal: m * 2^-24, exact in f32
    return floatFromBits(sign | floatBits(float(m) * 0x1p-24f));
  return floatFromBits(sign | ((e + 112u) << 23) | (m << 13));
}

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
// OpContext
//===----------------------------------------------------------------------===//

namespace {

const char *className(TypeClass cls) {
  switch (cls) {
  case TypeClass::Float:
    return "a float tensor (f32, bf16 or f16)";
  case TypeClass::Index:
    return "an index tensor (i32 or i64)";
  case TypeClass::Any:
    return "an f32, bf16, f16, i32 or i64 tensor";
  case TypeClass::Fp8:
    return "an FP8 tensor (f8e4m3 or f8e5m2)";
  case TypeClass::GemmResult:
    return "an f32, bf16, f16, f8e4m3 or f8e5m2 tensor";
  case TypeClass::F32:
    return "an f32 tensor";
  case TypeClass::Int:
    return "an integer tensor (i8 for i1, i32 or i64)";
  }
  return "?";
}

bool inClass(DType t, TypeClass cls) {
  switch (cls) {
  case TypeClass::Float:
    return isFloatDType(t);
  case TypeClass::Index:
    return t == DType::I32 || t == DType::I64;
  case TypeClass::Any:
    return isFloatDType(t) || t == DType::I32 || t == DType::I64;
  case TypeClass::Fp8:
    return isFp8DType(t);
  case TypeClass::GemmResult:
    return isFloatDType(t) || isFp8DType(t);
  case TypeClass::F32:
    return t == DType::F32;
  case TypeClass::Int:
    return isIntDType(t);
  }
  return false;
}

const char *attrKindName(Attr::Kind k) {
  switch (k) {
  case Attr::Kind::Int:
    return "an integer";
  case Attr::Kind::Float:
    return "a float";
  case Attr::Kind::Bool:
    return "a boolean";
  case Attr::Kind::String:
    return "a string";
  case Attr::Kind::Array:
    return "an array";
  }
  return "?";
}

} // namespace

Status OpContext::error(const std::string &message) const {
  return invalidArgumentError(op.op + ": " + message);
}

Status OpContext::expectOperandCount(size_t n) const {
  if (types.size() != n)
    return error("expected " + std::to_string(n) + " operand" + (n == 1 ? "" : "s") +
                 ", got " + std::to_string(types.size()));
  return Status::success();
}

Status OpContext::expectOperandCount(size_t min, size_t max) const {
  if (types.size() < min || types.size() > max)
    return error("expected " + std::to_string(min) + " to " + std::to_string(max) +
                 " operands, got " + std::to_string(types.size()));
  return Status::success();
}

Status OpContext::expectClass(size_t i, const char *what, TypeClass cls) const {
  if (!inClass(types[i].dtype, cls))
    return error(std::string(what) + " must be " + className(cls) + ", got " +
                 typeString(types[i]));
  return Status::success();
}

Status OpContext::expectShape(size_t i, const char *what,
                              const std::vector<int64_t> &shape) const {
  if (types[i].shape != shape)
    return error(std::string(what) + " has shape " + shapeString(types[i].shape) +
                 ", expected " + shapeString(shape));
  return Status::success();
}

Status OpContext::expectRank(size_t i, const char *what, size_t rank, bool atLeast) const {
  const size_t r = types[i].shape.size();
  if (atLeast ? r < rank : r != rank)
    return error(std::string(what) + " must have rank " + (atLeast ? ">= " : "") +
                 std::to_string(rank) + ", got shape " + shapeString(types[i].shape));
  return Status::success();
}

Status OpContext::expectF32Scalar(size_t i, const char *what) const {
  if (types[i] != TensorType{DType::F32, {}})
    return error(std::string(what) + " must be an f32 scalar (f32[]), got " +
                 typeString(types[i]));
  return Status::success();
}

Status OpContext::expectI64Scalar(size_t i, const char *what) const {
  if (types[i] != TensorType{DType::I64, {}})
    return error(std::string(what) + " must be an i64 scalar (i64[]), got " +
                 typeString(types[i]));
  return Status::success();
}

Status OpContext::expectSameDType(std::initializer_list<size_t> indices,
                                  std::initializer_list<const char *> names) const {
  const size_t first = *indices.begin();
  const char *firstName = *names.begin();
  auto name = names.begin();
  for (size_t i : indices) {
    if (types[i].dtype != types[first].dtype)
      return error("expects one element type: " + std::string(firstName) + " is " +
                   dtypeString(types[first].dtype) + ", " + *name + " is " +
                   dtypeString(types[i].dtype));
    ++name;
  }
  return Status::success();
}

const Attr *OpContext::attr(std::string_view name) const {
  for (const auto &[key, value] : op.attrs)
    if (key == name)
      return &value;
  return nullptr;
}

Status OpContext::f64Attr(const char *name, double &out) const {
  const Attr *a = attr(name);
  if (!a)
    return error(std::string("attribute '") + name + "' is missing");
  std::optional<double> value;
  FP8RT_RETURN_IF_ERROR(optionalF64Attr(name, value));
  out = *value;
  return Status::success();
}

Status OpContext::f64Attr(const char *name, double &out, double defaultValue) const {
  std::optional<double> value;
  FP8RT_RETURN_IF_ERROR(optionalF64Attr(name, value));
  out = value ? *value : defaultValue;
  return Status::success();
}

Status OpContext::optionalF64Attr(const char *name, std::optional<double> &out) const {
  out.reset();
  const Attr *a = attr(name);
  if (!a)
    return Status::success();
  if (a->kind != Attr::Kind::Float && a->kind != Attr::Kind::Int)
    return error(std::string("attribute '") + name + "' must be a number, got " +
                 attrKindName(a->kind));
  out = a->f;
  return Status::success();
}

Status OpContext::i64Attr(const char *name, int64_t &out) const {
  if (!attr(name))
    return error(std::string("attribute '") + name + "' is missing");
  std::optional<int64_t> value;
  FP8RT_RETURN_IF_ERROR(optionalI64Attr(name, value));
  out = *value;
  return Status::success();
}

Status OpContext::i64Attr(const char *name, int64_t &out, int64_t defaultValue) const {
  std::optional<int64_t> value;
  FP8RT_RETURN_IF_ERROR(optionalI64Attr(name, value));
  out = value ? *value : defaultValue;
  return Status::success();
}

Status OpContext::optionalI64Attr(const char *name, std::optional<int64_t> &out) const {
  out.reset();
  const Attr *a = attr(name);
  if (!a)
    return Status::success();
  if (a->kind != Attr::Kind::Int)
    return error(std::string("attribute '") + name + "' must be an integer, got " +
                 attrKindName(a->kind));
  out = a->i;
  return Status::success();
}

Status OpContext::unitAttr(const char *name, bool &out) const {
  out = false;
  const Attr *a = attr(name);
  if (!a)
    return Status::success();
  if (a->kind != Attr::Kind::Bool)
    return error(std::string("attribute '") + name + "' must be a boolean, got " +
                 attrKindName(a->kind));
  out = a->b;
  return Status::success();
}

namespace {

std::string choiceList(std::initializer_list<const char *> choices) {
  std::string s;
  size_t i = 0;
  for (const char *c : choices) {
    if (i++)
      s += i == choices.size() ? " or " : ", ";
    s += std::string("'") + c + "'";
  }
  return s;
}

} // namespace

Status OpContext::enumAttr(const char *name, std::initializer_list<const char *> choices,
                           int &out) const {
  if (!attr(name))
    return error(std::string("attribute '") + name + "' is missing");
  return enumAttr(name, choices, out, 0);
}

Status OpContext::enumAttr(const char *name, std::initializer_list<const char *> choices,
                           int &out, int defaultIndex) const {
  out = defaultIndex;
  const Attr *a = attr(name);
  if (!a)
    return Status::success();
  if (a->kind != Attr::Kind::String)
    return error(std::string("attribute '") + name + "' must be a string (one of " +
                 choiceList(choices) + "), got " + attrKindName(a->kind));
  int index = 0;
  for (const char *c : choices) {
    if (a->s == c) {
      out = index;
      return Status::success();
    }
    ++index;
  }
  return error(std::string("attribute '") + name + "' is '" + a->s + "', expected " +
               choiceList(choices));
}

Status OpContext::i64ArrayAttr(const char *name, std::vector<int64_t> &out) const {
  std::optional<std::vector<int64_t>> value;
  FP8RT_RETURN_IF_ERROR(optionalI64ArrayAttr(name, value));
  if (!value)
    return error(std::string("attribute '") + name + "' is missing");
  out = std::move(*value);
  return Status::success();
}

Status OpContext::optionalI64ArrayAttr(const char *name,
                                       std::optional<std::vector<int64_t>> &out) const {
  out.reset();
  const Attr *a = attr(name);
  if (!a)
    return Status::success();
  if (a->kind != Attr::Kind::Array)
    return error(std::string("attribute '") + name + "' must be an array of integers, got " +
                 attrKindName(a->kind));
  std::vector<int64_t> values;
  values.reserve(a->array.size());
  for (double d : a->array) {
    // Integers beyond 2^53 are not exact in a double; no attribute needs them.
    if (!(d >= -0x1p53 && d <= 0x1p53) || d != std::floor(d))
      return error(std::string("attribute '") + name + "' must be an array of integers, got " +
                   "element " + std::to_string(d));
    values.push_back(int64_t(d));
  }
  out = std::move(values);
  return Status::success();
}

Status OpContext::dtypeAttr(const char *name, DType &out) const {
  const Attr *a = attr(name);
  if (!a)
    return error(std::string("attribute '") + name + "' is missing");
  if (a->kind != Attr::Kind::String)
    return error(std::string("attribute '") + name + "' must be a dtype string, got " +
                 attrKindName(a->kind));
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::F8E4M3, DType::F8E5M2,
                  DType::I32, DType::I64, DType::I8})
    if (a->s == dtypeString(t)) {
      out = t;
      return Status::success();
    }
  return error(std::string("attribute '") + name + "' is '" + a->s +
               "', which is not a dtype");
}

Status OpContext::expectResultCount(size_t n) const {
  if (op.results.size() != n)
    return error("produces " + std::to_string(n) + " result" + (n == 1 ? "" : "s") +
                 ", the program declares " + std::to_string(op.results.size()));
  return Status::success();
}

Status OpContext::expectResults(const std::vector<TensorType> &expected,
                                std::initializer_list<const char *> names) const {
  FP8RT_RETURN_IF_ERROR(expectResultCount(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    if (op.results[i] == expected[i])
      continue;
    std::string what = "result " + std::to_string(i);
    if (i < names.size())
      what += std::string(" (") + names.begin()[i] + ")";
    return error(what + " is declared " + typeString(op.results[i]) + ", expected " +
                 typeString(expected[i]));
  }
  return Status::success();
}

Status OpContext::expectResultClass(size_t i, const char *what, TypeClass cls) const {
  if (!inClass(op.results[i].dtype, cls))
    return error(std::string(what) + " must be " + className(cls) + ", got " +
                 typeString(op.results[i]));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

namespace {

const OpEntry *findOp(std::string_view name) {
  using TableFn = const OpEntry *(*)(size_t &);
  for (TableFn table : {TableFn(trainOps), TableFn(fp8Ops), TableFn(arithOps)}) {
    size_t count = 0;
    const OpEntry *entries = table(count);
    for (size_t i = 0; i < count; ++i)
      if (name == entries[i].name)
        return &entries[i];
  }
  return nullptr;
}

/// Rank, dimensions and size limits of one operand or result type.
Status checkTypeBounds(const TensorType &type, const std::string &what) {
  if (type.shape.size() > kMaxRank)
    return invalidArgumentError(what + " has rank " + std::to_string(type.shape.size()) +
                                ", at most " + std::to_string(kMaxRank) + " is supported");
  int64_t n = 1;
  for (int64_t d : type.shape) {
    if (d < 1)
      return invalidArgumentError(what + " has shape " + shapeString(type.shape) +
                                  ": every dimension must be >= 1");
    if (d > kMaxElements || n > kMaxElements / d)
      return invalidArgumentError(what + " has shape " + shapeString(type.shape) +
                                  ": more than 2^32 elements");
    n *= d;
  }
  return Status::success();
}

} // namespace
} // namespace kernelops

using namespace kernelops;

Status checkKernelOp(const KernelOp &op, const std::vector<TensorType> &operandTypes) {
  const OpEntry *entry = findOp(op.op);
  if (!entry)
    return unimplementedError("unsupported kernel op '" + op.op + "'");
  for (size_t i = 0; i < operandTypes.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        checkTypeBounds(operandTypes[i], op.op + ": operand " + std::to_string(i)));
  for (size_t i = 0; i < op.results.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        checkTypeBounds(op.results[i], op.op + ": result " + std::to_string(i)));
  OpContext context(op, operandTypes);
  return entry->fn(context);
}

namespace cpu {

Status runKernelOp(const KernelOp &op, const std::vector<const Value *> &operands,
                   std::vector<Value> &results) {
  results.clear();
  const OpEntry *entry = findOp(op.op);
  if (!entry)
    return unimplementedError("unsupported kernel op '" + op.op + "'");
  // The checks run again (they are cheap next to the arithmetic) so that a
  // caller that skipped them still cannot make an op index out of bounds.
  std::vector<TensorType> types;
  types.reserve(operands.size());
  for (size_t i = 0; i < operands.size(); ++i) {
    const Value *v = operands[i];
    if (!v)
      return internalError(op.op + ": operand " + std::to_string(i) + " is null");
    FP8RT_RETURN_IF_ERROR(
        checkTypeBounds(v->type, op.op + ": operand " + std::to_string(i)));
    const size_t n = size_t(elementCount(v->type));
    const bool isInt = isIntDType(v->type.dtype);
    if ((isInt ? v->i.size() : v->f.size()) != n)
      return internalError(op.op + ": operand " + std::to_string(i) + " of type " +
                           typeString(v->type) + " holds " +
                           std::to_string(isInt ? v->i.size() : v->f.size()) + " elements");
    types.push_back(v->type);
  }
  for (size_t i = 0; i < op.results.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        checkTypeBounds(op.results[i], op.op + ": result " + std::to_string(i)));
  OpContext context(op, types);
  FP8RT_RETURN_IF_ERROR(entry->fn(context));

  results.resize(op.results.size());
  for (size_t r = 0; r < results.size(); ++r) {
    results[r].type = op.results[r];
    const size_t n = size_t(elementCount(op.results[r]));
    if (isIntDType(op.results[r].dtype))
      results[r].i.assign(n, 0);
    else
      results[r].f.assign(n, 0.0f);
  }
  context.bindValues(operands, results);
  if (Status s = entry->fn(context); !s.ok()) {
    results.clear();
    return s;
  }
  // One loop per dtype (not a switch per element): these loops are a large
  // share of an interpreted step.
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
  return Status::success();
}

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
      const uint16_t h =
          std::isnan(x) ? uint16_t(floatBits(x) >> 16) : floatToBf16(x);
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

} // namespace cpu
} // namespace fp8rt
