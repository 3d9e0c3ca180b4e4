//===- KernelCodegenImpl.h - Private to runtime/src/cuda/KernelCodegen*.cpp ===//
//
// The generator of a kernel's CUDA code (KernelCodegen.cpp) and the CUDA
// column of the kernel-op table: one emitter per row of
// fp8rt/ops/KernelOps.def, cuda::emit<Id>, either a pointwise expression
// (KernelCodegenPointwise.cpp) or the launches of an op of its own phase
// (KernelCodegenLayers.cpp, KernelCodegenShape.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H
#define FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H

#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/ops/OpId.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fp8rt::cuda::detail {

/// The device code every generated translation unit starts with (Prelude.cpp).
const char *preludeSource();

using std::string;
using std::vector;

inline constexpr uint32_t kBlock = 256;
inline constexpr uint64_t kMaxGrid = 65535;

inline const char *dtCode(DType t) {
  switch (t) {
  case DType::F32:
    return "F32";
  case DType::BF16:
    return "BF16";
  case DType::F16:
    return "F16";
  case DType::F8E4M3:
    return "E4M3";
  case DType::F8E5M2:
    return "E5M2";
  case DType::I32:
    return "I32";
  case DType::I64:
    return "I64";
  case DType::I8:
    return "I8";
  case DType::U8:
    return "U8"; // no program holds it
  }
  return "F32";
}

/// printf into a string.
string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
inline string num(int64_t v) { return std::to_string(v) + "LL"; }
/// An exact f32 literal.
string floatLit(float x);
/// An exact f64 literal.
string doubleLit(double d);
inline uint64_t alignUp(uint64_t v) { return (v + 255) / 256 * 256; }
inline uint32_t gridFor(uint64_t work, uint64_t perBlock) {
  const uint64_t g = (work + perBlock - 1) / perBlock;
  return uint32_t(std::max<uint64_t>(1, std::min(g, kMaxGrid)));
}

/// What the generator knows of one op's attributes.
inline double attrF(const KernelOp &op, const char *name, double dflt = 0) {
  const Attr *a = op.attr(name);
  return a ? a->f : dflt;
}
inline int64_t attrI(const KernelOp &op, const char *name, int64_t dflt = 0) {
  const Attr *a = op.attr(name);
  return a ? a->i : dflt;
}
inline bool attrB(const KernelOp &op, const char *name) {
  const Attr *a = op.attr(name);
  return a && a->b;
}
inline string attrS(const KernelOp &op, const char *name, const string &dflt = "") {
  const Attr *a = op.attr(name);
  return a ? a->s : dflt;
}

/// The scale grid of a recipe over an operand shape (ops/OpParams.h ScaleGrid).
struct Grid {
  int64_t rows = 1, cols = 1, segment = 1, rowBlock = 1;
  bool single = true;
  int64_t groups() const { return single ? 1 : (rows / rowBlock) * (cols / segment); }
};
Grid scaleGrid(const KernelOp &op, const vector<int64_t> &shape);

struct Phase {
  bool pointwise = false;
  int64_t n = 0;      ///< pointwise: the element count
  vector<size_t> ops; ///< op indices, in program order
};

struct Generator {
  const Program &program;
  const Kernel &kernel;
  vector<TensorType> types; ///< per value
  vector<int> defOp;        ///< per value: op index, -1 for an input
  vector<int> phaseOf;      ///< per value: defining phase, -1 for an input
  vector<string> home;      ///< per value: memory expression, "" if none
  vector<Phase> phases;
  uint64_t scratch = 0;
  string body;
  vector<Launch> launches;
  int entryCount = 0;

  Generator(const Program &p, const Kernel &k) : program(p), kernel(k) {}

  Status error(const string &m) const {
    return unimplementedError("kernel '" + kernel.name + "': " + m);
  }
  uint64_t allocScratch(uint64_t bytes) {
    const uint64_t at = scratch;
    scratch += alignUp(std::max<uint64_t>(bytes, 1));
    return at;
  }
  int64_t elems(uint32_t v) const { return types[v].numElements(); }
  const char *dt(uint32_t v) const { return dtCode(types[v].dtype); }
  string describe(uint32_t v) const { return fmt("value %u: %s", v, types[v].str().c_str()); }

  /// Where input `i` / output `y` of the kernel is: its byte offset in the
  /// arena is a launch argument (GeneratedKernel::offsets), so that the same
  /// kernel over other buffers is the same code.
  string inputAt(size_t i) const { return "arena + off[" + std::to_string(i) + "]"; }
  string outputAt(size_t y) const {
    return "arena + off[" + std::to_string(kernel.inputs.size() + y) + "]";
  }

  /// A new extern "C" entry; `@K@` is replaced by the kernel's entry prefix.
  void addEntry(const string &comment, const string &code, uint32_t gx, uint32_t bx,
                uint32_t by = 1, uint32_t shared = 0) {
    const string entry = "@K@_p" + std::to_string(entryCount++);
    body += "\n// " + comment + "\nextern \"C\" __global__ void " + entry +
            "(u8 *arena, u8 *scratch, const i64 *__restrict__ off) {\n  using namespace fp8rt;\n" +
            code + "}\n";
    Launch l;
    l.entry = entry;
    l.grid[0] = gx;
    l.block[0] = bx;
    l.block[1] = by;
    l.sharedBytes = shared;
    launches.push_back(l);
  }

  Status run();
  Status plan();
  Status emitPointwise(const Phase &phase);
  /// An op of its own phase: its emitter's launches.
  Status emitWholeKernel(size_t opIndex);
  /// An op of a pointwise phase: its emitter's statements for element `i`.
  Status emitPointwiseOp(const KernelOp &op, uint32_t firstResult,
                         const std::function<string(uint32_t, size_t)> &ref, string &out);
};

/// What a pointwise emitter sees: the op, its operands as expressions
/// (registers, loads, hoisted scalars), and `out`, which it appends the
/// statements computing its results for element `i` to.
struct PointwiseEmit {
  Generator &g;
  const KernelOp &op;
  uint32_t firstResult;
  const std::function<string(uint32_t, size_t)> &ref;
  string &out;

  /// Operand k as an expression.
  string a(size_t k) const { return ref(op.operands[k], k); }
  /// Result r's register.
  string res(size_t r) const { return fmt("v%u[e]", firstResult + uint32_t(r)); }
  const char *rdt(size_t r) const { return dtCode(op.results[r].dtype); }
  /// "res(r) = rnd<dtype>(expr);": every float result rounded to its dtype.
  string rounded(size_t r, const string &expr) const {
    return fmt("      %s = rnd<%s>(%s);\n", res(r).c_str(), rdt(r), expr.c_str());
  }
  /// The element type of operand 0.
  DType inT() const { return op.operands.empty() ? DType::F32 : g.types[op.operands[0]].dtype; }
};

/// What the emitter of an op of its own phase sees: the op, where its
/// operands and results live, and the generator's launches and scratch.
struct KernelEmit {
  Generator &g;
  const KernelOp &op;
  ops::OpId id;
  uint32_t firstResult;
  string what; ///< "train.layer_norm (value 3: bf16[8,64], ...)", for comments
  const vector<TensorType> &types;
  vector<Launch> &launches;

  string in(size_t k) const { return g.home[op.operands[k]]; }
  const char *inDt(size_t k) const { return g.dt(op.operands[k]); }
  string out(size_t r) const { return g.home[firstResult + r]; }
  const char *outDt(size_t r) const { return dtCode(op.results[r].dtype); }
  int64_t elems(uint32_t v) const { return g.elems(v); }
  string describe(uint32_t v) const { return g.describe(v); }
  uint64_t allocScratch(uint64_t bytes) const { return g.allocScratch(bytes); }
  void addEntry(const string &comment, const string &code, uint32_t gx, uint32_t bx,
                uint32_t by = 1, uint32_t shared = 0) const {
    g.addEntry(comment, code, gx, bx, by, shared);
  }
  Status error(const string &m) const { return g.error(m); }
};

/// One row of the CUDA column: exactly one of the two is set.
struct OpEmitter {
  Status (*pointwise)(const PointwiseEmit &) = nullptr;
  Status (*wholeKernel)(const KernelEmit &) = nullptr;
  /// A pointwise op whose operand 1 is a scale read at the element's group
  /// of a scale grid (fp8.quantize, fp8.dequantize), not at its index.
  bool scaleOperand = false;
};

#define KERNEL_OP(Id, Name) extern const OpEmitter emit##Id;
#include "fp8rt/ops/KernelOps.def"

/// Row `id`'s emitter.
const OpEmitter &emitterOf(ops::OpId id);

} // namespace fp8rt::cuda::detail

#endif // FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H
