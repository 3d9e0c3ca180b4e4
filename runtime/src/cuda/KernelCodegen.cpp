//===- KernelCodegen.cpp - CUDA C++ for the kernels of a program ----------===//
//
// A kernel's op list becomes a sequence of phases, each one or more launches:
//
//  - pointwise phases: consecutive (or independent) elementwise ops over the
//    same element count, one thread per V elements (V = 8 when the count
//    allows: 16-byte loads and stores), values in registers, each rounded to
//    its dtype after every op as the CPU interpreter does;
//  - one phase per other op (reductions, norms, attention, cross-entropy,
//    embedding, shape ops, cast-transpose, amax history, small GEMMs), calling
//    the prelude's templates; a reduction whose result is consumed in the same
//    kernel ends its phase, so the consumers see the finished value.
//
// Values cross phases through memory: their output buffer when the kernel
// yields them, otherwise the scratch allocation. docs/cuda-backend.md.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cuda/KernelCodegen.h"

#include "KernelCodegenImpl.h"

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <functional>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace fp8rt::cuda {
namespace {

using std::string;
using std::vector;

constexpr uint32_t kBlock = 256;
constexpr uint64_t kMaxGrid = 65535;

const char *dtCode(DType t) {
  switch (t) {
  case DType::F32: return "F32";
  case DType::BF16: return "BF16";
  case DType::F16: return "F16";
  case DType::F8E4M3: return "E4M3";
  case DType::F8E5M2: return "E5M2";
  case DType::I32: return "I32";
  case DType::I64: return "I64";
  case DType::I8: return "I8";
  }
  return "F32";
}
bool isIntType(DType t) { return t == DType::I32 || t == DType::I64 || t == DType::I8; }

string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
string fmt(const char *f, ...) {
  va_list ap, again;
  va_start(ap, f);
  va_copy(again, ap);
  const int n = vsnprintf(nullptr, 0, f, ap);
  va_end(ap);
  string s(size_t(n > 0 ? n : 0) + 1, '\0');
  vsnprintf(s.data(), s.size(), f, again);
  va_end(again);
  s.pop_back();
  return s;
}
string num(int64_t v) { return std::to_string(v) + "LL"; }
/// An exact f32 literal.
string floatLit(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if (std::isfinite(x))
    return fmt("fp8rt::fromBits(0x%08Xu) /* %.9g */", u, double(x));
  return fmt("fp8rt::fromBits(0x%08Xu)", u);
}
/// An exact f64 literal.
string doubleLit(double d) {
  if (!std::isfinite(d)) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return fmt("__longlong_as_double(0x%016" PRIX64 "LL)", u);
  }
  string s = fmt("%.17g", d);
  if (s.find_first_of(".en") == string::npos)
    s += ".0";
  return s;
}
uint64_t alignUp(uint64_t v) { return (v + 255) / 256 * 256; }
uint32_t gridFor(uint64_t work, uint64_t perBlock) {
  const uint64_t g = (work + perBlock - 1) / perBlock;
  return uint32_t(std::max<uint64_t>(1, std::min(g, kMaxGrid)));
}

/// What the generator knows of one op's attributes.
double attrF(const KernelOp &op, const char *name, double dflt = 0) {
  const Attr *a = op.attr(name);
  return a ? a->f : dflt;
}
int64_t attrI(const KernelOp &op, const char *name, int64_t dflt = 0) {
  const Attr *a = op.attr(name);
  return a ? a->i : dflt;
}
bool attrB(const KernelOp &op, const char *name) {
  const Attr *a = op.attr(name);
  return a && a->b;
}
string attrS(const KernelOp &op, const char *name, const string &dflt = "") {
  const Attr *a = op.attr(name);
  return a ? a->s : dflt;
}

/// The scale grid of a recipe over an operand shape (KernelOpsFP8.cpp ScaleGrid).
struct Grid {
  int64_t rows = 1, cols = 1, segment = 1, rowBlock = 1;
  bool single = true;
  int64_t groups() const { return single ? 1 : (rows / rowBlock) * (cols / segment); }
};
Grid scaleGrid(const KernelOp &op, const vector<int64_t> &shape) {
  Grid g;
  const string recipe = attrS(op, "recipe", "tensorwise");
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (recipe == "tensorwise" || recipe == "delayed") {
    g.cols = g.segment = n;
    return g;
  }
  g.single = false;
  g.rows = shape[0];
  g.cols = shape[1];
  if (recipe == "rowwise") {
    g.segment = g.cols;
  } else {
    const Attr *block = op.attr("block");
    g.rowBlock = block && block->array.size() == 2 ? int64_t(block->array[0]) : 1;
    g.segment = block && block->array.size() == 2 ? int64_t(block->array[1]) : 128;
  }
  return g;
}

/// Ops computed one element at a time in a pointwise phase.
bool isPointwise(const KernelOp &op) {
  static const std::set<string> kOps = {
      "train.gelu", "train.gelu_grad", "train.silu", "train.silu_grad", "train.relu2",
      "train.relu2_grad", "train.swiglu", "train.swiglu_grad", "train.add", "train.mul",
      "train.mul_scalar", "train.convert", "train.reshape", "train.adamw_update",
      "train.sgd_update", "train.clip_coef", "train.lr_schedule", "fp8.compute_scale",
      "fp8.quantize", "fp8.dequantize", "arith.constant", "arith.addi", "arith.subi",
      "arith.muli", "arith.divsi", "arith.remsi", "arith.cmpi", "arith.select",
      "arith.extsi", "arith.trunci", "arith.sitofp", "arith.addf", "arith.subf",
      "arith.mulf", "arith.divf"};
  return kOps.count(op.op) != 0;
}

/// Operand `k` of a pointwise op is read at the element's own index (true),
/// or at element 0 / a scale-grid index (false).
bool readsAtIndex(const KernelOp &op, size_t k, int64_t operandElements, int64_t n) {
  if ((op.op == "fp8.quantize" || op.op == "fp8.dequantize") && k == 1)
    return false;
  return operandElements == n && !(n > 1 && operandElements == 1);
}

struct Phase {
  bool pointwise = false;
  int64_t n = 0;       ///< pointwise: the element count
  vector<size_t> ops;  ///< op indices, in program order
};

struct Generator {
  const Program &program;
  const Kernel &kernel;
  vector<TensorType> types;  ///< per value
  vector<int> defOp;         ///< per value: op index, -1 for an input
  vector<int> phaseOf;       ///< per value: defining phase, -1 for an input
  vector<string> home;       ///< per value: memory expression, "" if none
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
  string describe(uint32_t v) const {
    return fmt("value %u: %s", v, types[v].str().c_str());
  }

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
  Status emitComplex(size_t opIndex);
  Status emitPointwiseOp(const KernelOp &op, size_t opIndex, uint32_t firstResult,
                         const std::function<string(uint32_t, size_t)> &ref, string &out);
};

Status Generator::plan() {
  const size_t numInputs = kernel.inputs.size();
  for (uint32_t b : kernel.inputs) {
    types.push_back(program.buffers[b].type);
    defOp.push_back(-1);
    phaseOf.push_back(-1);
  }
  for (size_t j = 0; j < kernel.ops.size(); ++j)
    for (const TensorType &t : kernel.ops[j].results) {
      types.push_back(t);
      defOp.push_back(int(j));
      phaseOf.push_back(-1);
    }
  home.assign(types.size(), "");
  for (size_t i = 0; i < numInputs; ++i)
    home[i] = inputAt(i);

  // Phases. A pointwise op joins the first pointwise phase of its element
  // count at or after the phases defining its operands, where every operand
  // it reads at another index than its own is already in memory.
  vector<uint32_t> firstResult(kernel.ops.size());
  uint32_t next = uint32_t(numInputs);
  for (size_t j = 0; j < kernel.ops.size(); ++j) {
    firstResult[j] = next;
    next += uint32_t(kernel.ops[j].results.size());
  }
  for (size_t j = 0; j < kernel.ops.size(); ++j) {
    const KernelOp &op = kernel.ops[j];
    int chosen = -1;
    if (isPointwise(op)) {
      const int64_t n = op.results.empty() ? 1 : op.results[0].numElements();
      int dep = -1;
      for (uint32_t v : op.operands)
        dep = std::max(dep, phaseOf[v]);
      for (int p = std::max(dep, 0); p < int(phases.size()) && chosen < 0; ++p) {
        if (!phases[size_t(p)].pointwise || phases[size_t(p)].n != n)
          continue;
        bool ok = true;
        for (size_t k = 0; k < op.operands.size(); ++k)
          if (phaseOf[op.operands[k]] == p &&
              !readsAtIndex(op, k, elems(op.operands[k]), n))
            ok = false;
        if (ok)
          chosen = p;
      }
      if (chosen < 0) {
        phases.push_back({true, n, {}});
        chosen = int(phases.size()) - 1;
      }
    } else {
      phases.push_back({false, 0, {}});
      chosen = int(phases.size()) - 1;
    }
    phases[size_t(chosen)].ops.push_back(j);
    for (size_t r = 0; r < op.results.size(); ++r)
      phaseOf[firstResult[j] + r] = chosen;
  }

  // Homes: yielded values write their (first) output buffer, unless that
  // buffer overlaps an input read by a later phase; every other value that
  // leaves its phase (or is a non-pointwise op's result) gets scratch.
  vector<int> lastRead(numInputs, -1);
  vector<bool> usedElsewhere(types.size(), false);
  for (size_t p = 0; p < phases.size(); ++p)
    for (size_t j : phases[p].ops)
      for (uint32_t v : kernel.ops[j].operands) {
        if (v < numInputs)
          lastRead[v] = std::max(lastRead[v], int(p));
        if (phaseOf[v] != int(p) || !phases[p].pointwise)
          usedElsewhere[v] = true;
      }
  vector<bool> homed(types.size(), false);
  for (size_t i = 0; i < numInputs; ++i)
    homed[i] = true;
  for (size_t y = 0; y < kernel.yields.size(); ++y) {
    const uint32_t v = kernel.yields[y];
    if (homed[v])
      continue;
    const Buffer &out = program.buffers[kernel.outputs[y]];
    bool clobbers = false;
    for (size_t i = 0; i < numInputs; ++i) {
      const Buffer &in = program.buffers[kernel.inputs[i]];
      const bool overlap = in.offset < out.offset + out.bytes() && out.offset < in.offset + in.bytes();
      if (overlap && lastRead[i] > phaseOf[v])
        clobbers = true;
    }
    if (!clobbers) {
      home[v] = outputAt(y);
      homed[v] = true;
    }
  }
  for (uint32_t v = uint32_t(numInputs); v < types.size(); ++v) {
    if (homed[v])
      continue;
    const bool yielded =
        std::find(kernel.yields.begin(), kernel.yields.end(), v) != kernel.yields.end();
    const bool complexResult = !phases[size_t(phaseOf[v])].pointwise;
    if (yielded || usedElsewhere[v] || complexResult)
      home[v] = "scratch + " + num(int64_t(allocScratch(types[v].bytes())));
  }
  return Status::success();
}

Status Generator::run() {
  FP8RT_RETURN_IF_ERROR(plan());
  for (const Phase &phase : phases) {
    if (phase.pointwise)
      FP8RT_RETURN_IF_ERROR(emitPointwise(phase));
    else
      FP8RT_RETURN_IF_ERROR(emitComplex(phase.ops[0]));
  }
  // Yields not written in place: byte copies at the end.
  for (size_t y = 0; y < kernel.yields.size(); ++y) {
    const uint32_t v = kernel.yields[y];
    const Buffer &out = program.buffers[kernel.outputs[y]];
    const string dst = outputAt(y);
    if (home[v] == dst)
      continue;
    const uint64_t bytes = out.bytes();
    addEntry("yield " + describe(v) + " -> output " + std::to_string(y),
             fmt("  const u8 *src = %s;\n  u8 *dst = %s;\n"
                 "  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < %s; "
                 "i += (i64)gridDim.x * blockDim.x)\n    dst[i] = src[i];\n",
                 home[v].c_str(), dst.c_str(), num(int64_t(bytes)).c_str()),
             gridFor(bytes, kBlock), kBlock);
  }
  return Status::success();
}

Status Generator::emitPointwise(const Phase &phase) {
  const int64_t n = phase.n;
  const int V = n % 8 == 0 ? 8 : 1;
  const size_t numInputs = kernel.inputs.size();
  std::set<uint32_t> inPhase, loaded, hoisted;
  string pre, loads, ops, stores;
  vector<uint32_t> firstResult(kernel.ops.size());
  {
    uint32_t next = uint32_t(numInputs);
    for (size_t j = 0; j < kernel.ops.size(); ++j) {
      firstResult[j] = next;
      next += uint32_t(kernel.ops[j].results.size());
    }
  }
  for (size_t j : phase.ops)
    for (size_t r = 0; r < kernel.ops[j].results.size(); ++r)
      inPhase.insert(firstResult[j] + uint32_t(r));

  std::string declared;
  for (size_t j : phase.ops) {
    const KernelOp &op = kernel.ops[j];
    // Operand references: registers, a vector load, a hoisted scalar, or an
    // indexed read of a scale grid.
    std::function<string(uint32_t, size_t)> ref = [&](uint32_t v, size_t k) -> string {
      const bool isInt = isIntType(types[v].dtype);
      if (inPhase.count(v))
        return fmt("v%u[e]", v);
      if (readsAtIndex(op, k, elems(v), n)) {
        if (!loaded.count(v)) {
          loaded.insert(v);
          loads += fmt("    %s v%u[%d];\n    %s<%s, %d>(%s, base, v%u); // %s\n",
                       isInt ? "i64" : "float", v, V, isInt ? "ldvi" : "ldv", dt(v), V,
                       home[v].c_str(), v, describe(v).c_str());
        }
        return fmt("v%u[e]", v);
      }
      if ((op.op == "fp8.quantize" || op.op == "fp8.dequantize") && k == 1 && elems(v) > 1) {
        const Grid g = scaleGrid(op, types[op.operands[0]].shape);
        return fmt("ldf<F32>(%s, scaleIndex(i / %s, i %% %s, %s, %s, %s, false))",
                   home[v].c_str(), num(g.cols).c_str(), num(g.cols).c_str(),
                   num(g.cols).c_str(), num(g.segment).c_str(), num(g.rowBlock).c_str());
      }
      if (!hoisted.count(v)) {
        hoisted.insert(v);
        pre += fmt("  const %s s%u = %s<%s>(%s, 0); // %s\n", isInt ? "i64" : "float", v,
                   isInt ? "ldi" : "ldf", dt(v), home[v].c_str(), describe(v).c_str());
      }
      return fmt("s%u", v);
    };
    string code;
    FP8RT_RETURN_IF_ERROR(emitPointwiseOp(op, j, firstResult[j], ref, code));
    for (size_t r = 0; r < op.results.size(); ++r) {
      const uint32_t v = firstResult[j] + uint32_t(r);
      declared += fmt("    %s v%u[%d]; // %s\n", isIntType(types[v].dtype) ? "i64" : "float", v,
                      V, describe(v).c_str());
      if (!home[v].empty())
        stores += fmt("    %s<%s, %d>(%s, base, v%u);\n",
                      isIntType(types[v].dtype) ? "stvi" : "stv", dt(v), V, home[v].c_str(), v);
    }
    ops += code;
  }
  string names;
  for (size_t j : phase.ops)
    names += (names.empty() ? "" : ", ") + kernel.ops[j].op;
  string code = pre;
  code += fmt("  for (i64 base = (blockIdx.x * (i64)blockDim.x + threadIdx.x) * %d; base < %s;"
              " base += (i64)gridDim.x * blockDim.x * %d) {\n",
              V, num(n).c_str(), V);
  code += loads + declared;
  code += fmt("#pragma unroll\n    for (int e = 0; e < %d; ++e) {\n      const i64 i = base + e;\n"
              "      (void)i;\n",
              V);
  code += ops;
  code += "    }\n" + stores + "  }\n";
  addEntry(fmt("pointwise over %" PRId64 " elements, %d per thread: ", n, V) + names, code,
           gridFor(uint64_t(n), uint64_t(kBlock) * uint64_t(V)), kBlock);
  return Status::success();
}

Status Generator::emitPointwiseOp(const KernelOp &op, size_t opIndex, uint32_t r0,
                                  const std::function<string(uint32_t, size_t)> &ref,
                                  string &out) {
  auto a = [&](size_t k) { return ref(op.operands[k], k); };
  auto res = [&](size_t r) { return fmt("v%u[e]", r0 + uint32_t(r)); };
  auto rdt = [&](size_t r) { return dtCode(op.results[r].dtype); };
  auto rounded = [&](size_t r, const string &expr) {
    return fmt("      %s = rnd<%s>(%s);\n", res(r).c_str(), rdt(r), expr.c_str());
  };
  const string &name = op.op;
  out = "      // " + name + "\n";
  const bool tanhApprox = attrS(op, "approximate", "tanh") == "tanh";
  const DType inT = op.operands.empty() ? DType::F32 : types[op.operands[0]].dtype;
  (void)opIndex;
  if (name == "train.gelu")
    out += rounded(0, fmt("gelu(%s, %s)", a(0).c_str(), tanhApprox ? "true" : "false"));
  else if (name == "train.gelu_grad")
    out += rounded(0, fmt("geluGrad(%s, %s, %s)", a(0).c_str(), a(1).c_str(),
                          tanhApprox ? "true" : "false"));
  else if (name == "train.silu")
    out += rounded(0, "silu(" + a(0) + ")");
  else if (name == "train.silu_grad")
    out += rounded(0, "siluGrad(" + a(0) + ", " + a(1) + ")");
  else if (name == "train.relu2")
    out += rounded(0, "relu2(" + a(0) + ")");
  else if (name == "train.relu2_grad")
    out += rounded(0, "relu2Grad(" + a(0) + ", " + a(1) + ")");
  else if (name == "train.swiglu")
    out += rounded(0, "swiglu(" + a(0) + ", " + a(1) + ")");
  else if (name == "train.swiglu_grad") {
    out += "      { float dgate, dup;\n        swigluGrad(" + a(0) + ", " + a(1) + ", " + a(2) +
           ", dgate, dup);\n  " + rounded(0, "dgate") + "  " + rounded(1, "dup") + "      }\n";
  } else if (name == "train.add" || name == "arith.addf")
    out += rounded(0, "__fadd_rn(" + a(0) + ", " + a(1) + ")");
  else if (name == "arith.subf")
    out += rounded(0, "__fsub_rn(" + a(0) + ", " + a(1) + ")");
  else if (name == "train.mul" || name == "train.mul_scalar" || name == "arith.mulf")
    out += rounded(0, "__fmul_rn(" + a(0) + ", " + a(1) + ")");
  else if (name == "arith.divf")
    out += rounded(0, "__fdiv_rn(" + a(0) + ", " + a(1) + ")");
  else if (name == "train.convert")
    out += rounded(0, a(0));
  else if (name == "train.reshape") {
    if (isIntType(inT))
      out += "      " + res(0) + " = " + a(0) + ";\n";
    else
      out += rounded(0, a(0));
  } else if (name == "fp8.compute_scale") {
    DType f = DType::F8E4M3;
    parseDType(attrS(op, "fp8_type", "f8e4m3"), f);
    const float mx = f == DType::F8E5M2 ? 57344.0f : 448.0f;
    out += rounded(0, fmt("computeScale(%s, %s, %d, %s, %s)", a(0).c_str(), floatLit(mx).c_str(),
                          int(std::min<int64_t>(attrI(op, "margin", 0), 4096)),
                          attrB(op, "power_of_2") ? "true" : "false",
                          op.operands.size() == 2 ? a(1).c_str() : "1.0f"));
  } else if (name == "fp8.quantize")
    out += fmt("      %s = quantize<%s>(%s, %s);\n", res(0).c_str(), rdt(0), a(0).c_str(),
               a(1).c_str());
  else if (name == "fp8.dequantize")
    out += rounded(0, fmt("dequantize<%s>(%s, %s)", dtCode(inT), a(0).c_str(), a(1).c_str()));
  else if (name == "train.adamw_update")
    out += fmt("      adamw(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n", a(0).c_str(),
               a(1).c_str(), a(2).c_str(), a(3).c_str(), a(4).c_str(), a(5).c_str(),
               doubleLit(attrF(op, "beta1")).c_str(), doubleLit(attrF(op, "beta2")).c_str(),
               doubleLit(attrF(op, "eps")).c_str(), doubleLit(attrF(op, "weight_decay")).c_str(),
               res(0).c_str(), res(1).c_str(), res(2).c_str());
  else if (name == "train.sgd_update") {
    const bool buffer = op.operands.size() == 4;
    out += fmt("      { float newBuffer = 0.0f;\n        sgd(%s, %s, %s, %s, %s, %s, %s, newBuffer);\n",
               a(0).c_str(), a(1).c_str(), buffer ? a(3).c_str() : "0.0f", a(2).c_str(),
               doubleLit(attrF(op, "momentum")).c_str(),
               doubleLit(attrF(op, "weight_decay")).c_str(), res(0).c_str());
    if (buffer)
      out += "        " + res(1) + " = newBuffer;\n";
    out += "      }\n";
  } else if (name == "train.clip_coef")
    out += rounded(0, fmt("clipCoef(%s, %s)", a(0).c_str(), doubleLit(attrF(op, "max_norm")).c_str()));
  else if (name == "train.lr_schedule")
    out += rounded(0, fmt("lrSchedule(%s, %s, %s, %s, %s, %s)", a(0).c_str(),
                          attrS(op, "kind") == "cosine" ? "true" : "false",
                          doubleLit(attrF(op, "lr")).c_str(), num(attrI(op, "warmup_steps")).c_str(),
                          num(attrI(op, "total_steps")).c_str(),
                          doubleLit(attrF(op, "min_lr")).c_str()));
  else if (name == "arith.constant") {
    const Attr *value = op.attr("value");
    const TensorType &t = op.results[0];
    if (!value)
      return error("arith.constant without a value");
    if (value->kind == Attr::Kind::Array) {
      // A table in the entry: element i of the constant.
      string table;
      for (size_t k = 0; k < value->array.size(); ++k) {
        if (k)
          table += ", ";
        table += isIntType(t.dtype) ? num(int64_t(value->array[k]))
                                    : floatLit(float(value->array[k]));
      }
      out += fmt("      { const %s table[] = {%s};\n  ", isIntType(t.dtype) ? "i64" : "float",
                 table.c_str());
      if (isIntType(t.dtype))
        out += fmt("      %s = wrapTo<%s>(u64(table[i]));\n      }\n", res(0).c_str(), rdt(0));
      else
        out += rounded(0, "table[i]") + "      }\n";
    } else if (isIntType(t.dtype)) {
      const int64_t v = value->kind == Attr::Kind::Bool ? (value->b ? 1 : 0) : value->i;
      out += fmt("      %s = wrapTo<%s>(u64(%s));\n", res(0).c_str(), rdt(0), num(v).c_str());
    } else {
      out += rounded(0, floatLit(float(value->f)));
    }
  } else if (name == "arith.addi" || name == "arith.subi" || name == "arith.muli") {
    const char *o = name == "arith.addi" ? "+" : name == "arith.subi" ? "-" : "*";
    out += fmt("      %s = wrapTo<%s>(u64(asSigned<%s>(%s)) %s u64(asSigned<%s>(%s)));\n",
               res(0).c_str(), dtCode(inT), dtCode(inT), a(0).c_str(), o, dtCode(inT),
               a(1).c_str());
  } else if (name == "arith.divsi" || name == "arith.remsi")
    out += fmt("      %s = divsi<%s>(asSigned<%s>(%s), asSigned<%s>(%s), %s);\n", res(0).c_str(),
               dtCode(inT), dtCode(inT), a(0).c_str(), dtCode(inT), a(1).c_str(),
               name == "arith.remsi" ? "true" : "false");
  else if (name == "arith.cmpi") {
    const string p = attrS(op, "predicate");
    static const std::map<string, std::pair<bool, const char *>> kPred = {
        {"eq", {true, "=="}}, {"ne", {true, "!="}}, {"slt", {true, "<"}}, {"sle", {true, "<="}},
        {"sgt", {true, ">"}}, {"sge", {true, ">="}}, {"ult", {false, "<"}}, {"ule", {false, "<="}},
        {"ugt", {false, ">"}}, {"uge", {false, ">="}}};
    auto it = kPred.find(p);
    if (it == kPred.end())
      return error("arith.cmpi: unknown predicate '" + p + "'");
    const char *conv = it->second.first ? "asSigned" : "asUnsigned";
    out += fmt("      %s = (%s<%s>(%s) %s %s<%s>(%s)) ? 1 : 0;\n", res(0).c_str(), conv,
               dtCode(inT), a(0).c_str(), it->second.second, conv, dtCode(inT), a(1).c_str());
  } else if (name == "arith.select") {
    const bool isInt = isIntType(op.results[0].dtype);
    const string pick = fmt("(%s & 1) != 0 ? %s : %s", a(0).c_str(), a(1).c_str(), a(2).c_str());
    if (isInt)
      out += "      " + res(0) + " = " + pick + ";\n";
    else
      out += rounded(0, pick);
  } else if (name == "arith.extsi" || name == "arith.trunci")
    out += fmt("      %s = wrapTo<%s>(u64(asSigned<%s>(%s)));\n", res(0).c_str(), rdt(0),
               dtCode(inT), a(0).c_str());
  else if (name == "arith.sitofp") {
    if (op.results[0].dtype == DType::F32)
      out += fmt("      %s = __ll2float_rn(asSigned<%s>(%s));\n", res(0).c_str(), dtCode(inT),
                 a(0).c_str());
    else
      out += rounded(0, fmt("int64ToFloatRoundToOdd(asSigned<%s>(%s))", dtCode(inT), a(0).c_str()));
  } else
    return error("no CUDA code for pointwise op '" + name + "'");
  return Status::success();
}

Status Generator::emitComplex(size_t j) {
  const KernelOp &op = kernel.ops[j];
  const string &name = op.op;
  uint32_t r0 = uint32_t(kernel.inputs.size());
  for (size_t k = 0; k < j; ++k)
    r0 += uint32_t(kernel.ops[k].results.size());
  auto in = [&](size_t k) { return home[op.operands[k]]; };
  auto inDt = [&](size_t k) { return dt(op.operands[k]); };
  auto out = [&](size_t r) { return home[r0 + r]; };
  auto outDt = [&](size_t r) { return dtCode(op.results[r].dtype); };
  string what = name + " (";
  for (size_t k = 0; k < op.operands.size(); ++k)
    what += (k ? ", " : "") + describe(op.operands[k]);
  what += ")";

  if (name == "fp8.amax") {
    const bool transposed = attrB(op, "transposed");
    vector<int64_t> shape = types[op.operands[0]].shape;
    if (transposed)
      shape = {shape[1], shape[0]};
    const Grid g = scaleGrid(op, shape);
    const int64_t n = elems(op.operands[0]);
    if (g.single) {
      const uint32_t parts = gridFor(uint64_t(n), uint64_t(kBlock) * 8);
      const uint64_t partial = allocScratch(uint64_t(parts) * 4);
      addEntry(what + ", phase 1: per-block maxima",
               fmt("  amaxPartial<%s>(%s, %s, reinterpret_cast<u32 *>(scratch + %s));\n", inDt(0),
                   in(0).c_str(), num(n).c_str(), num(int64_t(partial)).c_str()),
               parts, kBlock);
      addEntry(what + ", phase 2: the maximum",
               fmt("  amaxFinal(reinterpret_cast<const u32 *>(scratch + %s), %u, %s);\n",
                   num(int64_t(partial)).c_str(), parts, out(0).c_str()),
               1, kBlock);
      return Status::success();
    }
    addEntry(what + ": one block per scale group",
             fmt("  amaxGroups<%s>(%s, %s, %s, %s, %s, %s, %s, %s);\n", inDt(0), in(0).c_str(),
                 out(0).c_str(), num(g.groups()).c_str(), num(g.rows).c_str(), num(g.cols).c_str(),
                 num(g.segment).c_str(), num(g.rowBlock).c_str(), transposed ? "true" : "false"),
             gridFor(uint64_t(g.groups()), 1), g.segment * g.rowBlock >= 256 ? kBlock : 128);
    return Status::success();
  }
  if (name == "train.reduce_sum") {
    const int64_t inner = op.results[0].numElements(), outer = elems(op.operands[0]) / inner;
    addEntry(what + ": one thread per column, in order",
             fmt("  reduceSumColumns<%s, %s>(%s, %s, %s, %s);\n", inDt(0), outDt(0), in(0).c_str(),
                 num(outer).c_str(), num(inner).c_str(), out(0).c_str()),
             gridFor(uint64_t(inner), kBlock), kBlock);
    return Status::success();
  }
  if (name == "train.global_norm") {
    string cases;
    uint64_t total = 0;
    uint32_t maxParts = 1;
    vector<uint32_t> parts;
    for (size_t k = 0; k < op.operands.size(); ++k) {
      const uint32_t p = std::min<uint32_t>(256, gridFor(uint64_t(elems(op.operands[k])), kBlock * 16));
      parts.push_back(p);
      maxParts = std::max(maxParts, p);
    }
    const uint64_t partial = allocScratch(8 * 256 * op.operands.size());
    for (size_t k = 0; k < op.operands.size(); ++k) {
      cases += fmt("  case %zu: if (blockIdx.x < %u) sumSquaresPartial<%s>(%s, %s, blockIdx.x, %u, "
                   "partial + %" PRIu64 " + blockIdx.x); break; // %s\n",
                   k, parts[k], inDt(k), in(k).c_str(), num(elems(op.operands[k])).c_str(), parts[k],
                   total, describe(op.operands[k]).c_str());
      total += parts[k];
    }
    addEntry("train.global_norm, phase 1: partial sums of squares (blockIdx.y: the tensor)",
             fmt("  double *partial = reinterpret_cast<double *>(scratch + %s);\n"
                 "  switch (blockIdx.y) {\n%s  }\n",
                 num(int64_t(partial)).c_str(), cases.c_str()),
             maxParts, kBlock);
    launches.back().grid[1] = uint32_t(op.operands.size());
    addEntry("train.global_norm, phase 2: the partials in a fixed order, square root",
             fmt("  globalNormFinal(reinterpret_cast<const double *>(scratch + %s), %" PRIu64
                 ", %s);\n",
                 num(int64_t(partial)).c_str(), total, out(0).c_str()),
             1, 1024);
    return Status::success();
  }
  if (name == "train.softmax_cross_entropy" || name == "train.softmax_cross_entropy_grad") {
    const int64_t vocab = types[op.operands[0]].shape.back();
    const int64_t n = elems(op.operands[1]);
    const Attr *ignore = op.attr("ignore_index");
    const string ig = ignore ? "true, " + num(ignore->i) : "false, 0LL";
    if (name == "train.softmax_cross_entropy") {
      const uint64_t loss = allocScratch(uint64_t(n) * 4), counted = allocScratch(uint64_t(n) * 4);
      addEntry(what + ", phase 1: one block per row",
               fmt("  crossEntropyRows<%s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<float *>(scratch + "
                   "%s), reinterpret_cast<int *>(scratch + %s));\n",
                   inDt(0), inDt(1), in(0).c_str(), in(1).c_str(), num(n).c_str(), num(vocab).c_str(),
                   ig.c_str(), num(int64_t(loss)).c_str(), num(int64_t(counted)).c_str()),
               gridFor(uint64_t(n), 1), kBlock);
      addEntry(what + ", phase 2: the mean over counted rows",
               fmt("  crossEntropyFinal(reinterpret_cast<const float *>(scratch + %s), "
                   "reinterpret_cast<const int *>(scratch + %s), %s, %s);\n",
                   num(int64_t(loss)).c_str(), num(int64_t(counted)).c_str(), num(n).c_str(),
                   out(0).c_str()),
               1, 1024);
      return Status::success();
    }
    const uint64_t coef = allocScratch(4);
    addEntry(what + ", phase 1: loss_grad / counted rows",
             fmt("  crossEntropyCoef<%s>(%s, %s, %s, %s, reinterpret_cast<float *>(scratch + %s));\n",
                 inDt(1), in(1).c_str(), num(n).c_str(), ig.c_str(), in(2).c_str(),
                 num(int64_t(coef)).c_str()),
             1, 1024);
    addEntry(what + ", phase 2: one block per row",
             fmt("  crossEntropyGradRows<%s, %s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<const float "
                 "*>(scratch + %s), %s);\n",
                 inDt(0), inDt(1), outDt(0), in(0).c_str(), in(1).c_str(), num(n).c_str(),
                 num(vocab).c_str(), ig.c_str(), num(int64_t(coef)).c_str(), out(0).c_str()),
             gridFor(uint64_t(n), 1), kBlock);
    return Status::success();
  }
  if (name == "train.layer_norm" || name == "train.rms_norm") {
    const int64_t d = types[op.operands[0]].shape.back(), rows = elems(op.operands[0]) / d;
    const uint32_t block = d > 128 ? kBlock : 128;
    const string eps = doubleLit(attrF(op, "eps"));
    if (name == "train.layer_norm") {
      const bool bias = op.operands.size() == 3;
      addEntry(what + ": one block per row",
               fmt("  layerNormRows<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s);\n", inDt(0),
                   inDt(1), bias ? inDt(2) : "F32", outDt(0), in(0).c_str(), in(1).c_str(),
                   bias ? in(2).c_str() : "nullptr", bias ? "true" : "false", num(rows).c_str(),
                   num(d).c_str(), eps.c_str(), out(0).c_str()),
               gridFor(uint64_t(rows), 1), block);
    } else {
      addEntry(what + ": one block per row",
               fmt("  rmsNormRows<%s, %s, %s>(%s, %s, %s, %s, %s, %s);\n", inDt(0), inDt(1), outDt(0),
                   in(0).c_str(), in(1).c_str(), num(rows).c_str(), num(d).c_str(), eps.c_str(),
                   out(0).c_str()),
               gridFor(uint64_t(rows), 1), block);
    }
    return Status::success();
  }
  if (name == "train.layer_norm_grad" || name == "train.rms_norm_grad") {
    const bool layer = name == "train.layer_norm_grad";
    const int64_t d = types[op.operands[1]].shape.back(), rows = elems(op.operands[1]) / d;
    const uint32_t block = d > 128 ? kBlock : 128;
    const uint64_t stats = allocScratch(uint64_t(rows) * 16);
    addEntry(what + ", phase 1: input gradient, one block per row",
             fmt("  normGradRows<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, "
                 "reinterpret_cast<double *>(scratch + %s));\n",
                 inDt(0), inDt(1), inDt(2), outDt(0), in(0).c_str(), in(1).c_str(), in(2).c_str(),
                 num(rows).c_str(), num(d).c_str(), doubleLit(attrF(op, "eps")).c_str(),
                 layer ? "true" : "false", out(0).c_str(), num(int64_t(stats)).c_str()),
             gridFor(uint64_t(rows), 1), block);
    addEntry(what + ", phase 2: weight" + (layer ? " and bias" : "") +
                 " gradients, one thread per column",
             fmt("  normGradColumns<%s, %s, %s>(%s, %s, reinterpret_cast<const double *>(scratch + "
                 "%s), %s, %s, %s, %s);\n",
                 inDt(0), inDt(1), outDt(1), in(0).c_str(), in(1).c_str(),
                 num(int64_t(stats)).c_str(), num(rows).c_str(), num(d).c_str(), out(1).c_str(),
                 layer ? out(2).c_str() : "nullptr"),
             gridFor(uint64_t(d), kBlock), kBlock);
    return Status::success();
  }
  if (name == "train.embedding") {
    const int64_t vocab = types[op.operands[0]].shape[0], dim = types[op.operands[0]].shape[1];
    const int64_t n = elems(op.operands[1]);
    addEntry(what + ": one thread per element",
             fmt("  embeddingRows<%s, %s, %s>(%s, %s, %s, %s, %s, %s);\n", inDt(0), inDt(1), outDt(0),
                 in(0).c_str(), num(vocab).c_str(), num(dim).c_str(), in(1).c_str(), num(n).c_str(),
                 out(0).c_str()),
             gridFor(uint64_t(n * dim), kBlock), kBlock);
    return Status::success();
  }
  if (name == "train.embedding_grad") {
    const int64_t vocab = op.results[0].shape[0], dim = op.results[0].shape[1];
    const int64_t n = elems(op.operands[1]);
    const uint64_t start = allocScratch(uint64_t(vocab + 1) * 4),
                   cursor = allocScratch(uint64_t(vocab) * 4), order = allocScratch(uint64_t(n) * 4);
    addEntry(what + ", phase 1: positions sorted by id (one block, integer counts)",
             fmt("  embeddingGradSort<%s>(%s, %s, %s, reinterpret_cast<int *>(scratch + %s), "
                 "reinterpret_cast<int *>(scratch + %s), reinterpret_cast<int *>(scratch + %s));\n",
                 inDt(1), in(1).c_str(), num(n).c_str(), num(vocab).c_str(),
                 num(int64_t(start)).c_str(), num(int64_t(cursor)).c_str(),
                 num(int64_t(order)).c_str()),
             1, 1024);
    addEntry(what + ", phase 2: one thread per table element, its rows in order",
             fmt("  embeddingGradRows<%s, %s>(%s, %s, %s, reinterpret_cast<const int *>(scratch + %s), "
                 "reinterpret_cast<const int *>(scratch + %s), %s);\n",
                 inDt(0), outDt(0), in(0).c_str(), num(vocab).c_str(), num(dim).c_str(),
                 num(int64_t(start)).c_str(), num(int64_t(order)).c_str(), out(0).c_str()),
             gridFor(uint64_t(vocab * dim), kBlock), kBlock);
    return Status::success();
  }
  if (name == "train.attention" || name == "train.attention_grad") {
    const bool grad = name == "train.attention_grad";
    const size_t qi = grad ? 1 : 0;
    const vector<int64_t> &q = types[op.operands[qi]].shape;
    const int64_t heads = attrI(op, "n_heads"), kvHeads = attrI(op, "n_kv_heads");
    const int64_t B = q[0], T = q[1], D = q[2] / heads;
    const Attr *theta = op.attr("rope_theta");
    const string rope = theta ? "true, " + doubleLit(theta->f) : "false, 0.0";
    const uint64_t qr = allocScratch(uint64_t(B * T * heads * D) * 4),
                   kr = allocScratch(uint64_t(B * T * kvHeads * D) * 4);
    const string shape = fmt("AttentionShape{%s, %s, %s, %s, %s, %s}", num(B).c_str(),
                             num(T).c_str(), num(heads).c_str(), num(kvHeads).c_str(),
                             num(D).c_str(), attrB(op, "causal") ? "true" : "false");
    for (int which = 0; which < 2; ++which) {
      const int64_t h = which == 0 ? heads : kvHeads;
      const int64_t work = B * T * h * (theta ? D / 2 : D);
      addEntry(what + (which == 0 ? ", query" : ", key") + " in f32" +
                   (theta ? " with RoPE" : ""),
               fmt("  ropeCopy<%s>(%s, %s, %s, %s, %s, %s, reinterpret_cast<float *>(scratch + "
                   "%s));\n",
                   inDt(qi + size_t(which)), in(qi + size_t(which)).c_str(), num(B).c_str(),
                   num(T).c_str(), num(h).c_str(), num(D).c_str(), rope.c_str(),
                   num(int64_t(which == 0 ? qr : kr)).c_str()),
               gridFor(uint64_t(work), kBlock), kBlock);
    }
    const uint32_t block = D > 64 ? 128 : 64;
    const string qrs = fmt("reinterpret_cast<const float *>(scratch + %s)", num(int64_t(qr)).c_str());
    const string krs = fmt("reinterpret_cast<const float *>(scratch + %s)", num(int64_t(kr)).c_str());
    if (!grad) {
      addEntry(what + ": one block per (batch, head, query row)",
               fmt("  attentionForward<%s, %s>(%s, %s, %s, %s, %s);\n", inDt(2), outDt(0),
                   shape.c_str(), qrs.c_str(), krs.c_str(), in(2).c_str(), out(0).c_str()),
               uint32_t(std::min<int64_t>(B * heads * T, 1 << 20)), block, 1,
               uint32_t(T * 4));
      return Status::success();
    }
    const uint64_t stats = allocScratch(uint64_t(B * heads * T) * 12);
    addEntry(what + ", query gradient: one block per (batch, head, query row)",
             fmt("  attentionBackwardQuery<%s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, "
                 "reinterpret_cast<float *>(scratch + %s));\n",
                 inDt(0), inDt(3), outDt(0), shape.c_str(), in(0).c_str(), qrs.c_str(), krs.c_str(),
                 in(3).c_str(), rope.c_str(), out(0).c_str(), num(int64_t(stats)).c_str()),
             uint32_t(std::min<int64_t>(B * heads * T, 1 << 20)), block, 1,
             uint32_t((2 * T + D) * 4));
    addEntry(what + ", key and value gradients: one block per (batch, kv head, key row)",
             fmt("  attentionBackwardKeyValue<%s, %s, %s>(%s, %s, %s, %s, %s, reinterpret_cast<const "
                 "float *>(scratch + %s), %s, %s, %s);\n",
                 inDt(0), inDt(3), outDt(1), shape.c_str(), in(0).c_str(), qrs.c_str(), krs.c_str(),
                 in(3).c_str(), num(int64_t(stats)).c_str(), rope.c_str(), out(1).c_str(),
                 out(2).c_str()),
             uint32_t(std::min<int64_t>(B * kvHeads * T, 1 << 20)), block, 1,
             uint32_t((2 * T + 2 * D) * 4));
    return Status::success();
  }
  if (name == "train.slice" || name == "train.slice_grad" || name == "train.transpose") {
    const vector<int64_t> &inShape = types[op.operands[0]].shape, &outShape = op.results[0].shape;
    const bool isInt = isIntType(op.results[0].dtype);
    const int64_t n = op.results[0].numElements();
    string index; // the source index of output element i, or -1
    if (name == "train.transpose") {
      const Attr *perm = op.attr("permutation");
      const size_t rank = inShape.size();
      vector<int64_t> inStride(rank, 1);
      for (size_t d = rank; d-- > 1;)
        inStride[d - 1] = inStride[d] * inShape[d];
      index = "    i64 rest = i, src = 0;\n";
      for (size_t d = rank; d-- > 0;) {
        const int64_t p = perm ? int64_t(perm->array[d]) : int64_t(d);
        index += fmt("    src += (rest %% %s) * %s; rest /= %s; // result dim %zu = input dim %" PRId64 "\n",
                     num(outShape[d]).c_str(), num(inStride[size_t(p)]).c_str(),
                     num(outShape[d]).c_str(), d, p);
      }
    } else {
      const size_t dim = size_t(attrI(op, "dim"));
      const int64_t offset = attrI(op, "offset");
      const vector<int64_t> &full = name == "train.slice" ? inShape : outShape;
      const vector<int64_t> &part = name == "train.slice" ? outShape : inShape;
      int64_t inner = 1;
      for (size_t d = dim + 1; d < full.size(); ++d)
        inner *= full[d];
      if (name == "train.slice")
        index = fmt("    const i64 outer = i / %s, k = (i / %s) %% %s, in = i %% %s;\n"
                    "    const i64 src = (outer * %s + %s + k) * %s + in;\n",
                    num(part[dim] * inner).c_str(), num(inner).c_str(), num(part[dim]).c_str(),
                    num(inner).c_str(), num(full[dim]).c_str(), num(offset).c_str(),
                    num(inner).c_str());
      else
        index = fmt("    const i64 outer = i / %s, k = (i / %s) %% %s - %s, in = i %% %s;\n"
                    "    const i64 src = (k >= 0 && k < %s) ? (outer * %s + k) * %s + in : -1;\n",
                    num(full[dim] * inner).c_str(), num(inner).c_str(), num(full[dim]).c_str(),
                    num(offset).c_str(), num(inner).c_str(), num(part[dim]).c_str(),
                    num(part[dim]).c_str(), num(inner).c_str());
    }
    string code = fmt("  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < %s; "
                      "i += (i64)gridDim.x * blockDim.x) {\n",
                      num(n).c_str()) +
                  index;
    if (isInt)
      code += fmt("    sti<%s>(%s, i, src < 0 ? 0 : ldi<%s>(%s, src));\n", outDt(0), out(0).c_str(),
                  inDt(0), in(0).c_str());
    else
      code += fmt("    put<%s>(%s, i, src < 0 ? 0.0f : ldf<%s>(%s, src));\n", outDt(0),
                  out(0).c_str(), inDt(0), in(0).c_str());
    code += "  }\n";
    addEntry(what + ": one thread per result element", code, gridFor(uint64_t(n), kBlock), kBlock);
    return Status::success();
  }
  if (name == "fp8.cast_transpose") {
    const vector<int64_t> &shape = types[op.operands[0]].shape;
    const Grid g = scaleGrid(op, shape), gt = scaleGrid(op, {shape[1], shape[0]});
    const bool own = op.operands.size() == 3;
    const int64_t tiles = ((shape[0] + 31) / 32) * ((shape[1] + 31) / 32);
    addEntry(what + ": 32 x 32 tiles through shared memory",
             fmt("  castTranspose<%s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n",
                 inDt(0), outDt(0), in(0).c_str(), in(1).c_str(), own ? in(2).c_str() : "nullptr",
                 num(shape[0]).c_str(), num(shape[1]).c_str(), num(g.segment).c_str(),
                 num(g.rowBlock).c_str(), num(gt.segment).c_str(), num(gt.rowBlock).c_str(),
                 g.single ? "true" : "false", own ? "true" : "false", out(0).c_str(),
                 out(1).c_str()),
             gridFor(uint64_t(tiles), 1), 32, 8);
    return Status::success();
  }
  if (name == "fp8.amax_history_update") {
    const int64_t len = elems(op.operands[0]);
    addEntry(what + ": shift, newest first",
             fmt("  for (i64 k = blockIdx.x * (i64)blockDim.x + threadIdx.x; k < %s; "
                 "k += (i64)gridDim.x * blockDim.x)\n"
                 "    put<F32>(%s, k, k == 0 ? ldf<F32>(%s, 0) : ldf<F32>(%s, k - 1));\n",
                 num(len).c_str(), out(0).c_str(), in(1).c_str(), in(0).c_str()),
             gridFor(uint64_t(len), kBlock), kBlock);
    return Status::success();
  }
  if (name == "fp8.amax_from_history") {
    const int64_t len = elems(op.operands[0]);
    const bool mostRecent = attrS(op, "algo") == "most_recent";
    addEntry(what + (mostRecent ? ": the newest entry" : ": the maximum, in order"),
             fmt("  if (blockIdx.x != 0 || threadIdx.x != 0) return;\n"
                 "  float result = ldf<F32>(%s, 0);\n"
                 "  for (i64 k = 1; k < %s; ++k) result = maxAmax(result, ldf<F32>(%s, k));\n"
                 "  put<F32>(%s, 0, result);\n",
                 in(0).c_str(), mostRecent ? "1LL" : num(len).c_str(), in(0).c_str(),
                 out(0).c_str()),
             1, 32);
    return Status::success();
  }
  if (name == "train.matmul" || name == "train.batch_matmul" || name == "train.linear") {
    const vector<int64_t> &lhs = types[op.operands[0]].shape, &rhs = types[op.operands[1]].shape;
    int64_t M, N, K, batch = 1;
    bool tA = false, tB = true;
    if (name == "train.linear") {
      K = lhs.back();
      M = elems(op.operands[0]) / K;
      N = rhs[0];
    } else {
      tA = attrB(op, "transpose_lhs");
      tB = attrB(op, "transpose_rhs");
      const size_t r = lhs.size();
      M = tA ? lhs[r - 1] : lhs[r - 2];
      K = tA ? lhs[r - 2] : lhs[r - 1];
      N = tB ? rhs[r - 2] : rhs[r - 1];
      batch = op.results[0].numElements() / (M * N);
    }
    const bool bias = op.operands.size() == 3;
    addEntry(what + ": one thread per result element, f32 accumulation",
             fmt("  gemmSimple<%s, %s, %s, %s>(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s);\n", inDt(0),
                 inDt(1), bias ? inDt(2) : "F32", outDt(0), in(0).c_str(), in(1).c_str(),
                 bias ? in(2).c_str() : "nullptr", out(0).c_str(), num(batch).c_str(),
                 num(M).c_str(), num(N).c_str(), num(K).c_str(), tA ? "true" : "false",
                 tB ? "true" : "false"),
             gridFor(uint64_t(batch * M * N), kBlock), kBlock);
    return Status::success();
  }
  return error("no CUDA code for op '" + name +
               "' (fp8.scaled_matmul inside a kernel runs on the CPU backend only; "
               "the compiler emits FP8 GEMMs as gemm instructions)");
}

uint64_t fnv1a(const string &s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

string sanitize(const string &name) {
  string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0])))
    s = "k_" + s;
  return s;
}

void replaceAll(string &s, const string &from, const string &to) {
  for (size_t at = s.find(from); at != string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

/// A kernel's name without the number the compiler gives each kernel and
/// fusion ("k9_softmax_cross_entropy" -> "softmax_cross_entropy",
/// "f96_layer_norm_grad" -> "layer_norm_grad").
string kindOf(const string &name) {
  if (name.size() > 2 && std::isalpha(static_cast<unsigned char>(name[0])) &&
      std::isdigit(static_cast<unsigned char>(name[1]))) {
    size_t i = 1;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])))
      ++i;
    if (i + 1 < name.size() && name[i] == '_')
      return name.substr(i + 1);
  }
  return name;
}

} // namespace

StatusOr<GeneratedKernel> generateKernel(const Program &program, const Kernel &kernel) {
  Generator g(program, kernel);
  FP8RT_RETURN_IF_ERROR(g.run());
  // Entry names: the kernel's kind and a hash of its code, which names no
  // buffer (offsets are arguments): kernels of several functions share one
  // translation unit, and the same kernel over other buffers (each layer's)
  // is one entry, compiled once.
  const string prefix = fmt("%s_%08x", sanitize(kindOf(kernel.name)).c_str(),
                            uint32_t(fnv1a(g.body) & 0xFFFFFFFFu));
  GeneratedKernel out;
  out.name = kernel.name;
  out.body = g.body;
  for (uint32_t b : kernel.inputs) {
    out.offsets.push_back(int64_t(program.buffers[b].offset));
    out.offsetBuffers.push_back(b);
  }
  for (uint32_t b : kernel.outputs) {
    out.offsets.push_back(int64_t(program.buffers[b].offset));
    out.offsetBuffers.push_back(b);
  }
  replaceAll(out.body, "@K@", prefix);
  for (Launch &l : g.launches) {
    replaceAll(l.entry, "@K@", prefix);
    out.launches.push_back(l);
  }
  out.scratchBytes = alignUp(g.scratch);
  out.source = cudaPrelude() + out.body;
  return out;
}

StatusOr<std::vector<GeneratedKernel>> generateAllKernels(const Program &program) {
  std::vector<GeneratedKernel> all;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions) {
      if (inst.kind != Instruction::Kind::Kernel)
        continue;
      StatusOr<GeneratedKernel> k = generateKernel(program, inst.kernel);
      if (!k.ok())
        return k.status().withContext(f.name);
      all.push_back(std::move(*k));
    }
  return all;
}

std::string cudaPrelude() { return detail::preludeSource(); }

std::string combinedSource(const std::vector<GeneratedKernel> &kernels) {
  std::string source = cudaPrelude();
  std::set<std::string> seen;
  for (const GeneratedKernel &k : kernels)
    if (seen.insert(k.body).second)
      source += k.body;
  return source;
}

std::string nvrtcArch(int major, int minor) {
  if (major == 9 && minor == 0)
    return "sm_90a";
  return "sm_" + std::to_string(major) + std::to_string(minor);
}

std::string nvrtcArchOption(int major, int minor) {
  return "--gpu-architecture=" + nvrtcArch(major, minor);
}

} // namespace fp8rt::cuda
