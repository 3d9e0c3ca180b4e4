//===- Loader.h - Private to runtime/src/program/Load*.cpp ------*- C++ -*-===//
//
// The program file reader (ProgramLoader.cpp): one Loader per file, its
// sections read by ProgramLoader.cpp (typed reads, header, info),
// LoadBuffers.cpp, LoadFunctions.cpp (functions, instructions, kernels and
// their ops) and LoadGemm.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_PROGRAM_LOADER_H
#define FP8RT_SRC_PROGRAM_LOADER_H

#include "fp8rt/Program.h"

#include "support/Json.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace fp8rt::loader {

/// No arena (and hence no tensor) may exceed 1 TiB: far beyond any real
/// model, and small enough that sizes and offsets below it never overflow.
inline constexpr uint64_t kMaxArenaBytes = uint64_t(1) << 40;
inline constexpr size_t kMaxRank = 8;
/// Largest magnitude an integer constant may have: `Buffer::data` holds
/// doubles, which represent every integer up to 2^53 exactly.
inline constexpr double kMaxExactInteger = 9007199254740992.0;

inline const char *const kFunctionNames[] = {"train_step", "eval_step", "accumulate_step",
                                             "logits_step"};

inline std::string num(uint64_t v) { return std::to_string(v); }

/// "a, b or c".
inline std::string choiceList(std::initializer_list<const char *> choices) {
  std::string s;
  size_t i = 0;
  for (const char *c : choices) {
    if (i)
      s += i + 1 == choices.size() ? " or " : ", ";
    s += c;
    ++i;
  }
  return s;
}

/// A location in the document, "functions[0].instructions[3].ops[1]".
class JsonPath {
public:
  JsonPath() = default;
  JsonPath key(std::string_view k) const {
    JsonPath p;
    p.text_ = text_.empty() ? std::string(k) : text_ + "." + std::string(k);
    return p;
  }
  JsonPath index(size_t i) const {
    JsonPath p;
    p.text_ = text_ + "[" + num(i) + "]";
    return p;
  }
  const std::string &str() const { return text_; }

private:
  std::string text_;
};

/// The keys an object may have, for checkKeys.
struct KeySet {
  const char *what; ///< "a buffer", in messages
  std::initializer_list<const char *> required;
  std::initializer_list<const char *> optional = {};
};

class Loader {
public:
  explicit Loader(std::string_view fileName) : file_(fileName) {}

  StatusOr<Program> load(std::string_view text);

private:
  // Messages.
  Status fail(const JsonPath &p, const std::string &message,
              StatusCode code = StatusCode::kDataLoss) const {
    std::string m = file_ + ": ";
    if (!p.str().empty())
      m += p.str() + ": ";
    return Status(code, m + message);
  }
  Status expected(const JsonPath &p, const std::string &what, const json::Value &found) const {
    return fail(p, "expected " + what + ", found " + describe(found));
  }

  // Typed reads. `obj` is an object that has passed checkKeys, `p` its path.
  Status checkKeys(const json::Value &obj, const JsonPath &p, const KeySet &keys) const;
  Status readString(const json::Value &obj, const JsonPath &p, const char *key,
                    std::string &out) const;
  Status readChoice(const json::Value &obj, const JsonPath &p, const char *key,
                    std::initializer_list<const char *> choices, int &out) const;
  Status readBool(const json::Value &obj, const JsonPath &p, const char *key, bool &out) const;
  Status readUint(const json::Value &obj, const JsonPath &p, const char *key, uint64_t min,
                  uint64_t max, uint64_t &out) const;
  Status readInt(const json::Value &v, const JsonPath &p, int64_t &out) const;
  Status readFiniteNumber(const json::Value &v, const JsonPath &p, double &out) const;
  Status readBufferIndex(const json::Value &v, const JsonPath &p, uint32_t &out) const;
  /// A buffer index under `key`, or Gemm::kNone when the key is absent.
  Status readOptionalBufferIndex(const json::Value &obj, const JsonPath &p, const char *key,
                                 uint32_t &out) const;
  Status readIndexArray(const json::Value &obj, const JsonPath &p, const char *key,
                        std::vector<const json::Value *> &out) const;
  Status readShape(const json::Value &v, const JsonPath &p, DType dtype,
                   std::vector<int64_t> &out) const;
  /// {"dtype", "shape"}, and no other key.
  Status readTensorType(const json::Value &obj, const JsonPath &p, TensorType &out) const;
  /// The "dtype" and "shape" keys of a checked object.
  Status readDTypeAndShape(const json::Value &obj, const JsonPath &p, TensorType &out) const;

  // Sections.
  Status readHeader(const json::Value &root);
  Status readInfo(const json::Value &v, const JsonPath &p);
  Status readThroughputInfo(const json::Value &v, const JsonPath &p);
  Status readBuffer(const json::Value &v, const JsonPath &p, Buffer &out) const;
  Status readConstantData(const json::Value &v, const JsonPath &p, Buffer &b) const;
  Status readShardOf(const json::Value &v, const JsonPath &p, Buffer &b) const;
  Status checkBufferNames() const;
  Status checkBufferOverlaps() const;
  StatusOr<std::vector<bool>> gradsInAccumulators() const;
  Status readFunction(const json::Value &v, const JsonPath &p, Function &out) const;
  Status readFunctionBuffers(const json::Value &obj, const JsonPath &p, const char *key,
                             BufferRole role, std::vector<uint32_t> &out) const;
  Status readInstruction(const json::Value &v, const JsonPath &p, Instruction &out) const;
  Status readKernel(const json::Value &v, const JsonPath &p, Kernel &out) const;
  Status readKernelOp(const json::Value &v, const JsonPath &p, std::vector<TensorType> &values,
                      KernelOp &out) const;
  Status readAttr(const json::Value &v, const JsonPath &p, Attr &out) const;
  Status readGemm(const json::Value &v, const JsonPath &p, Gemm &out) const;
  Status checkGemmOperands(const Gemm &g, const JsonPath &p) const;
  /// Version 6's accumulate: an f32 D, no epilogue (an FP8 D is not f32).
  Status checkGemmAccumulate(const Gemm &g, const JsonPath &p) const;
  Status checkGemmScale(const Gemm &g, const JsonPath &p, bool isA) const;
  Status readCopy(const json::Value &v, const JsonPath &p, Copy &out) const;
  Status readAllReduce(const json::Value &v, const JsonPath &p, Instruction &out) const;
  Status readShardInstruction(const json::Value &v, const JsonPath &p, Instruction &out) const;

  /// "buffer 3 (\"w\", f32[4,8])", for messages about a buffer's type.
  std::string bufferDescription(uint32_t index) const {
    const Buffer &b = program_.buffers[index];
    std::string s = "buffer " + num(index) + " (";
    if (!b.name.empty())
      s += json::quote(b.name) + ", ";
    return s + b.type.str() + ")";
  }

  std::string file_;
  Program program_;
};

} // namespace fp8rt::loader

#endif // FP8RT_SRC_PROGRAM_LOADER_H
