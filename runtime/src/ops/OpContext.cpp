//===- OpContext.cpp - The helpers every kernel op's check uses -----------===//
//
// Types as messages print them, the type bounds of every operand and result,
// and the OpContext helpers (OpContext.h).
//
//===----------------------------------------------------------------------===//

#include "OpContext.h"

#include <cmath>

namespace fp8rt::ops {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

std::string typeString(const TensorType &type) {
  return dtypeName(type.dtype) + shapeString(type.shape);
}

int64_t elementCount(const TensorType &type) { return elementCount(type.shape); }

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
    return isFp8(t);
  case TypeClass::GemmResult:
    return isFloatDType(t) || isFp8(t);
  case TypeClass::F32:
    return t == DType::F32;
  case TypeClass::Int:
    return isInteger(t);
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
    return error("expected " + std::to_string(n) + " operand" + (n == 1 ? "" : "s") + ", got " +
                 std::to_string(types.size()));
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

Status OpContext::expectShape(size_t i, const char *what, const std::vector<int64_t> &shape) const {
  if (types[i].shape != shape)
    return error(std::string(what) + " has shape " + shapeString(types[i].shape) + ", expected " +
                 shapeString(shape));
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
    return error(std::string(what) + " must be an f32 scalar (f32[]), got " + typeString(types[i]));
  return Status::success();
}

Status OpContext::expectI64Scalar(size_t i, const char *what) const {
  if (types[i] != TensorType{DType::I64, {}})
    return error(std::string(what) + " must be an i64 scalar (i64[]), got " + typeString(types[i]));
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
                   dtypeName(types[first].dtype) + ", " + *name + " is " +
                   dtypeName(types[i].dtype));
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

Status OpContext::enumAttr(const char *name, std::initializer_list<const char *> choices, int &out,
                           int defaultIndex) const {
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
  for (DType t : {DType::F32, DType::BF16, DType::F16, DType::F8E4M3, DType::F8E5M2, DType::I32,
                  DType::I64, DType::I8})
    if (a->s == dtypeName(t)) {
      out = t;
      return Status::success();
    }
  return error(std::string("attribute '") + name + "' is '" + a->s + "', which is not a dtype");
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

} // namespace fp8rt::ops
