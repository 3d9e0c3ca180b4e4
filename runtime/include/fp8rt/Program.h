//===- Program.h - A loaded, validated program file -------------*- C++ -*-===//
//
// The in-memory form of an `.fp8prog` file (docs/program-format.md). Every
// index in it has been checked by parseProgram: buffer indices are in range,
// views lie inside the arena, kernel value numbers refer to earlier values,
// and every kernel op has passed its op's shape and attribute checks
// (ops::checkKernelOp, fp8rt/ops/KernelOpTable.h). Backends may therefore trust it.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_PROGRAM_H
#define FP8RT_PROGRAM_H

#include "fp8rt/Status.h"
#include "fp8rt/ops/OpId.h"
#include "fp8rt/support/DType.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fp8rt {

struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  ///< empty: a scalar
  int64_t numElements() const; ///< product of shape (1 for a scalar)
  uint64_t bytes() const { return uint64_t(numElements()) * dtypeSize(dtype); }
  bool operator==(const TensorType &o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
  std::string str() const; ///< "bf16[8,64,128]", "f32[]"
};

enum class BufferRole : uint8_t {
  Param,
  Optimizer,
  FP8State,
  GradAccum,
  Constant, // persistent
  Input,
  Output,
  Metric,
  Grad,
  Scratch // valid during a call
};
const char *roleName(BufferRole r); ///< "param", "optimizer", "fp8_state", ...
bool parseRole(std::string_view name, BufferRole &out);
inline bool isPersistent(BufferRole r) { return r <= BufferRole::Constant; }

enum class InitKind : uint8_t { None, Zeros, Ones, Normal };

struct Buffer {
  std::string name;
  BufferRole role = BufferRole::Scratch;
  TensorType type;
  uint64_t offset = 0; ///< bytes into the arena, a multiple of 256
  InitKind init = InitKind::None;
  double initStd = 0.0;
  std::vector<double> data; ///< role Constant: every element
  /// Version 5 (zero1, fsdp): the full shape this persistent buffer holds this
  /// rank's shard of (docs/distributed.md "The shard rule"); empty: not a shard.
  std::vector<int64_t> shardOf;
  uint64_t bytes() const { return type.bytes(); }
};

/// Elements of one rank's shard of a tensor of `elements` over `worldSize`
/// ranks: ceil(elements / worldSize). Rank r holds [r*c, min((r+1)*c, n)).
inline int64_t shardElements(int64_t elements, int64_t worldSize) {
  return (elements + worldSize - 1) / worldSize;
}

/// A kernel op attribute value (docs/program-format.md, "Attribute values").
struct Attr {
  enum class Kind : uint8_t { Int, Float, Bool, String, Array };
  Kind kind = Kind::Int;
  int64_t i = 0;             ///< Int (also set, truncated, for a Float)
  double f = 0.0;            ///< Float (also set for an Int)
  bool b = false;            ///< Bool
  std::string s;             ///< String
  std::vector<double> array; ///< Array of numbers
};

struct KernelOp {
  std::string op;                 ///< "train.layer_norm", "fp8.quantize", "arith.addi", ...
  std::vector<uint32_t> operands; ///< kernel value numbers
  std::vector<TensorType> results;
  std::vector<std::pair<std::string, Attr>> attrs;
  /// The op's row in the kernel-op table (fp8rt/ops/KernelOpTable.h): set by
  /// the loader, so that backends dispatch without comparing names.
  ops::OpId id = ops::kUnresolvedOp;
  /// The attribute or nullptr.
  const Attr *attr(std::string_view name) const;
};

struct Kernel {
  std::string name;
  std::vector<uint32_t> inputs, outputs; ///< buffer indices
  std::vector<KernelOp> ops;
  std::vector<uint32_t> yields; ///< kernel value numbers, one per output
};

enum class GemmScaleMode : uint8_t { None, Tensorwise, Rowwise, Block1x128, Block128x128 };
enum class GemmEpilogue : uint8_t { None, Bias, Gelu, BiasGelu };

struct Gemm {
  static constexpr uint32_t kNone = UINT32_MAX;
  std::string name;
  int64_t m = 0, n = 0, k = 0;
  uint32_t a = kNone, b = kNone, d = kNone;
  uint32_t bias = kNone, aScale = kNone, bScale = kNone, dScale = kNone, amaxD = kNone;
  bool transposeA = false, transposeB = false, fastAccum = false;
  GemmScaleMode aScaleMode = GemmScaleMode::None, bScaleMode = GemmScaleMode::None;
  GemmEpilogue epilogue = GemmEpilogue::None;
  /// Version 6: D = op(A) · op(B) + D (f32 D only, no bias or GELU epilogue).
  bool accumulate = false;
};

struct Copy {
  uint32_t source = 0, target = 0;
};

/// Version 4: combines an f32 buffer across the ranks of a data-parallel job
/// (docs/distributed.md). `copy` holds its source and target.
enum class Reduction : uint8_t { Sum, Avg, Max };

struct Instruction {
  /// Version 5: ReduceScatter (f32 full -> this rank's shard), AllGather
  /// (shard -> full, any dtype) and Shard (full -> this rank's shard, local).
  enum class Kind : uint8_t { Kernel, Gemm, Copy, AllReduce, ReduceScatter, AllGather, Shard };
  Kind kind = Kind::Kernel;
  Kernel kernel; ///< Kind::Kernel
  Gemm gemm;     ///< Kind::Gemm
  /// Kind::Copy and the collectives: source and target.
  Copy copy;
  Reduction reduction = Reduction::Avg; ///< Kind::AllReduce, Kind::ReduceScatter
  /// Kind::AllReduce, version 5: the gradient bucket (fp8-bucket-gradients),
  /// -1 for none. A bucket's all-reduces are adjacent; a backend may send
  /// them as one message.
  int64_t bucket = -1;
};

struct Function {
  std::string name;
  std::vector<uint32_t> inputs, outputs; ///< buffer indices
  std::vector<Instruction> instructions;
};

/// docs/program-format.md, "info".
struct ProgramInfo {
  std::string family;
  int64_t batchSize = 0, seqLen = 0, vocabSize = 0, gradAccumSteps = 1, totalSteps = 0,
          initSeed = 0;
  std::string fp8Recipe = "none", fp8Format = "hybrid";
  /// Version 3: training FLOPs per token of the model (0: unknown), and the
  /// device the program was compiled for with its dense tensor-core peaks
  /// in TFLOP/s ("" and 0: unknown). The trainer's MFU uses them.
  int64_t modelFlopsPerToken = 0;
  std::string device;
  double peakBF16TFlops = 0, peakFP8TFlops = 0;
  /// Version 4: ranks the program was compiled for (1: one process).
  int64_t worldSize = 1;
};

struct Program {
  static constexpr int64_t kVersion = 6;
  static constexpr uint64_t kAlignment = 256;
  int64_t version = kVersion;
  std::string producer;
  ProgramInfo info;
  std::string configJson; ///< the "config" object, re-serialised compactly
  uint64_t arenaBytes = 0;
  std::vector<Buffer> buffers;
  std::vector<Function> functions;

  /// The function or nullptr.
  const Function *function(std::string_view name) const;
  /// Index of the first buffer with this name and role, or -1.
  int64_t findBuffer(std::string_view name, BufferRole role) const;
};

/// Parses and validates a program file's text. `fileName` only prefixes the
/// messages: "<fileName>: functions[0].instructions[3].gemm.k: expected ...".
StatusOr<Program> parseProgram(std::string_view text, std::string_view fileName);
/// Reads and parses a file (kNotFound / kIoError when it cannot be read).
StatusOr<Program> loadProgram(const std::string &path);

} // namespace fp8rt

#endif // FP8RT_PROGRAM_H
