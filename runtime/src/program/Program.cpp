//===- Program.cpp - Small helpers of the in-memory program ---------------===//
//
// Names of roles (the program format's spellings, shared by the
// loader and by messages) and lookups over a loaded Program.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Program.h"

#include "fp8rt/Backend.h"

namespace fp8rt {

namespace {

// In the order of the BufferRole enumerators.
constexpr const char *kRoleNames[] = {
    "param", "optimizer", "fp8_state", "grad_accum", "constant",
    "input", "output",    "metric",    "grad",       "scratch",
};

} // namespace

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

Status Backend::zero(uint32_t buffer, size_t bytes) {
  std::vector<uint8_t> zeros(bytes, 0);
  return write(buffer, zeros.data(), bytes);
}

Status checkBufferAccess(const Program *program, uint32_t buffer, size_t bytes, const char *backend,
                         const char *what) {
  const std::string prefix = std::string(backend) + ": " + what;
  if (!program)
    return invalidArgumentError(prefix + " before a program was loaded");
  if (buffer >= program->buffers.size())
    return invalidArgumentError(prefix + " of buffer " + std::to_string(buffer) +
                                ": the program has " + std::to_string(program->buffers.size()) +
                                " buffers");
  const Buffer &b = program->buffers[buffer];
  if (bytes != b.bytes())
    return invalidArgumentError(prefix + " of buffer " + std::to_string(buffer) + " (\"" + b.name +
                                "\", " + b.type.str() + "): " + std::to_string(bytes) +
                                " bytes given, the buffer holds " + std::to_string(b.bytes()));
  return Status::success();
}

} // namespace fp8rt
