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
// What each op computes is its row of the CUDA column of the kernel-op table
// (KernelCodegenImpl.h): a pointwise expression (KernelCodegenPointwise.cpp)
// or the launches of a phase of its own (KernelCodegenLayers.cpp,
// KernelCodegenFP8.cpp, KernelCodegenShape.cpp), found by the op's id.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/ops/KernelOpTable.h"

#include "KernelCodegenImpl.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace fp8rt::cuda {
namespace detail {

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

namespace {

/// Ops computed one element at a time in a pointwise phase.
bool isPointwise(const KernelOp &op) { return emitterOf(ops::idOf(op)).pointwise != nullptr; }

/// Operand `k` of a pointwise op is read at the element's own index (true),
/// or at element 0 / a scale-grid index (false).
bool readsAtIndex(const KernelOp &op, size_t k, int64_t operandElements, int64_t n) {
  if (emitterOf(ops::idOf(op)).scaleOperand && k == 1)
    return false;
  return operandElements == n && !(n > 1 && operandElements == 1);
}

/// The CUDA column, one row per line of KernelOps.def; a row without an
/// emitter fails to link.
const OpEmitter *const kEmitters[] = {
#define KERNEL_OP(Id, Name) &emit##Id,
#include "fp8rt/ops/KernelOps.def"
};
static_assert(sizeof(kEmitters) / sizeof(kEmitters[0]) == ops::kNumOps);

} // namespace

const OpEmitter &emitterOf(ops::OpId id) {
  static const OpEmitter kNone;
  return ops::index(id) < ops::kNumOps ? *kEmitters[ops::index(id)] : kNone;
}

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
          if (phaseOf[op.operands[k]] == p && !readsAtIndex(op, k, elems(op.operands[k]), n))
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
      const bool overlap =
          in.offset < out.offset + out.bytes() && out.offset < in.offset + in.bytes();
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
      FP8RT_RETURN_IF_ERROR(emitWholeKernel(phase.ops[0]));
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
      const bool isInt = isInteger(types[v].dtype);
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
      if (emitterOf(ops::idOf(op)).scaleOperand && k == 1 && elems(v) > 1) {
        const Grid g = scaleGrid(op, types[op.operands[0]].shape);
        return fmt("ldf<F32>(%s, scaleIndex(i / %s, i %% %s, %s, %s, %s, false))", home[v].c_str(),
                   num(g.cols).c_str(), num(g.cols).c_str(), num(g.cols).c_str(),
                   num(g.segment).c_str(), num(g.rowBlock).c_str());
      }
      if (!hoisted.count(v)) {
        hoisted.insert(v);
        pre += fmt("  const %s s%u = %s<%s>(%s, 0); // %s\n", isInt ? "i64" : "float", v,
                   isInt ? "ldi" : "ldf", dt(v), home[v].c_str(), describe(v).c_str());
      }
      return fmt("s%u", v);
    };
    string code;
    FP8RT_RETURN_IF_ERROR(emitPointwiseOp(op, firstResult[j], ref, code));
    for (size_t r = 0; r < op.results.size(); ++r) {
      const uint32_t v = firstResult[j] + uint32_t(r);
      declared += fmt("    %s v%u[%d]; // %s\n", isInteger(types[v].dtype) ? "i64" : "float", v, V,
                      describe(v).c_str());
      if (!home[v].empty())
        stores += fmt("    %s<%s, %d>(%s, base, v%u);\n",
                      isInteger(types[v].dtype) ? "stvi" : "stv", dt(v), V, home[v].c_str(), v);
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

Status Generator::emitPointwiseOp(const KernelOp &op, uint32_t firstResult,
                                  const std::function<string(uint32_t, size_t)> &ref, string &out) {
  out = "      // " + op.op + "\n";
  const OpEmitter &emitter = emitterOf(ops::idOf(op));
  if (!emitter.pointwise)
    return error("no CUDA code for pointwise op '" + op.op + "'");
  return emitter.pointwise(PointwiseEmit{*this, op, firstResult, ref, out});
}

Status Generator::emitWholeKernel(size_t j) {
  const KernelOp &op = kernel.ops[j];
  const ops::OpId id = ops::idOf(op);
  uint32_t firstResult = uint32_t(kernel.inputs.size());
  for (size_t k = 0; k < j; ++k)
    firstResult += uint32_t(kernel.ops[k].results.size());
  string what = op.op + " (";
  for (size_t k = 0; k < op.operands.size(); ++k)
    what += (k ? ", " : "") + describe(op.operands[k]);
  what += ")";
  const OpEmitter &emitter = emitterOf(id);
  if (!emitter.wholeKernel)
    return error("no CUDA code for op '" + op.op + "'");
  return emitter.wholeKernel(KernelEmit{*this, op, id, firstResult, what, types, launches});
}

namespace {

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
} // namespace detail

using namespace detail;

StatusOr<GeneratedKernel> generateKernel(const Program &program, const Kernel &kernel) {
  Generator g(program, kernel);
  FP8RT_RETURN_IF_ERROR(g.run());
  // Entry names: the kernel's kind and a hash of its code, which names no
  // buffer (offsets are arguments): kernels of several functions share one
  // translation unit, and the same kernel over other buffers (each layer's)
  // is one entry, compiled once.
  const string prefix =
      fmt("%s_%08x", sanitize(kindOf(kernel.name)).c_str(), uint32_t(fnv1a(g.body) & 0xFFFFFFFFu));
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

bool hasEmitter(ops::OpId id) {
  const OpEmitter &e = emitterOf(id);
  return (e.pointwise != nullptr) != (e.wholeKernel != nullptr);
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
