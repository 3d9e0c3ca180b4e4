//===- Program.cpp - Small helpers of the in-memory program ---------------===//
//
// Names of dtypes and roles (the program format's spellings, shared by the
// loader and by messages) and lookups over a loaded Program.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Program.h"

#include "fp8rt/Backend.h"

namespace fp8rt {

namespace {

struct DTypeInfo {
  DType dtype;
  const char *name;
  size_t size;
};

// In the order of the DType enumerators, so that a DType indexes the table.
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "f32", 4},       {DType::BF16, "bf16", 2},
    {DType::F16, "f16", 2},       {DType::F8E4M3, "f8e4m3", 1},
    {DType::F8E5M2, "f8e5m2", 1}, {DType::I32, "i32", 4},
    {DType::I64, "i64", 8},       {DType::I8, "i8", 1},
};

// In the order of the BufferRole enumerators.
constexpr const char *kRoleNames[] = {
    "param", "optimizer", "fp8_state", "grad_accum", "constant",
    "input", "output",    "metric",    "grad",       "scratch",
};

} // namespace

size_t dtypeSize(DType t) { return kDTypes[static_cast<size_t>(t)].size; }

const char *dtypeName(DType t) { return kDTypes[static_cast<size_t>(t)].name; }

bool parseDType(std::string_view name, DType &out) {
  for (const DTypeInfo &d : kDTypes)
    if (name == d.name) {
      out = d.dtype;
      return true;
    }
  return false;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t TensorType::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d; // the loader bounds every shape, so this cannot overflow
  return n;
}

std::string TensorType::str() const {
  std::string s = dtypeName(dtype);
  s += '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ',';
    s += std::to_string(shape[i]);
  }
  return s + ']';
}

const char *roleName(BufferRole r) { return kRoleNames[static_cast<size_t>(r)]; }

bool parseRole(std::string_view name, BufferRole &out) {
  for (size_t i = 0; i < sizeof kRoleNames / sizeof kRoleNames[0]; ++i)
    if (name == kRoleNames[i]) {
      out = static_cast<BufferRole>(i);
      return true;
    }
  return false;
}

const Attr *KernelOp::attr(std::string_view name) const {
  for (const auto &[key, value] : attrs)
    if (key == name)
      return &value;
  return nullptr;
}

const Function *Program::function(std::string_view name) const {
  for (const Function &f : functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

int64_t Program::findBuffer(std::string_view name, BufferRole role) const {
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].role == role && buffers[i].name == name)
      return int64_t(i);
  return -1;
}

Status checkBufferAccess(const Program *program, uint32_t buffer, size_t bytes,
                         const char *backend, const char *what) {
  const std::string prefix = std::string(backend) + ": " + what;
  if (!program)
    return invalidArgumentError(prefix + " before a program was loaded");
  if (buffer >= program->buffers.size())
    return invalidArgumentError(prefix + " of buffer " + std::to_string(buffer) +
                                ": the program has " +
                                std::to_string(program->buffers.size()) + " buffers");
  const Buffer &b = program->buffers[buffer];
  if (bytes != b.bytes())
    return invalidArgumentError(prefix + " of buffer " + std::to_string(buffer) + " (\"" +
                                b.name + "\", " + b.type.str() + "): " +
                                std::to_string(bytes) + " bytes given, the buffer holds " +
                                std::to_string(b.bytes()));
  return Status::success();
}

} // namespace fp8rt
