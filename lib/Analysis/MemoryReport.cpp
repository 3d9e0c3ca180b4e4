//===- MemoryReport.cpp - where the planned bytes go ----------------------===//

#include "fp8c/Analysis/MemoryReport.h"
#include "fp8c/Analysis/ShardingReport.h"

#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>
#include <map>
#include <optional>

using namespace mlir;
using namespace fp8c::rt;

namespace {

struct LiveView {
  int64_t begin, end;  // byte range
  int64_t first, last; // instruction range
  enum Kind { Activation, FP8Copy, HostVisible } kind;
};

using ByteRange = std::pair<int64_t, int64_t>;

bool overlaps(ByteRange a, ByteRange b) { return a.first < b.second && b.first < a.second; }

std::optional<ByteRange> rangeOf(Value v) {
  auto buffer = v ? v.getDefiningOp<BufferOp>() : BufferOp();
  if (!buffer)
    return std::nullopt;
  return ByteRange{buffer.getOffset(), buffer.getOffset() + buffer.getSizeInBytes()};
}

/// The buffers an instruction reads and writes (kernels read all their inputs
/// before writing any output).
struct Operands {
  SmallVector<Value> reads, writes;
};

Operands operandsOf(Operation *op) {
  Operands access;
  auto add = [](SmallVector<Value> &to, Value v) {
    if (v)
      to.push_back(v);
  };
  if (auto kernel = dyn_cast<KernelOp>(op)) {
    for (Value v : kernel.getInputs())
      add(access.reads, v);
    for (Value v : kernel.getOutputs())
      add(access.writes, v);
  } else if (auto gemm = dyn_cast<GemmOp>(op)) {
    for (Value v : {gemm.getA(), gemm.getB(), gemm.getBias(), gemm.getAScale(), gemm.getBScale(),
                    gemm.getDScale()})
      add(access.reads, v);
    if (gemm.getAccumulate())
      add(access.reads, gemm.getD());
    add(access.writes, gemm.getD());
    add(access.writes, gemm.getAmaxD());
  } else if (auto copy = dyn_cast<CopyOp>(op)) {
    add(access.reads, copy.getSource());
    add(access.writes, copy.getTarget());
  }
  return access;
}

/// The byte ranges of operandsOf(op).
struct Access {
  SmallVector<ByteRange> reads, writes;
};

Access accessOf(Operation *op) {
  Operands operands = operandsOf(op);
  Access access;
  for (auto [from, to] :
       {std::pair{&operands.reads, &access.reads}, std::pair{&operands.writes, &access.writes}})
    for (Value v : *from)
      if (std::optional<ByteRange> r = rangeOf(v))
        to->push_back(*r);
  return access;
}

std::string instructionName(Operation *op) {
  if (auto kernel = dyn_cast<KernelOp>(op))
    return kernel.getName().str();
  if (auto gemm = dyn_cast<GemmOp>(op))
    return "gemm " + gemm.getName().value_or("").str();
  return "copy";
}

bool isBackward(Operation *op) {
  std::string name = instructionName(op);
  StringRef n(name);
  return n.contains("_grad") || n.ends_with(".dgrad") || n.ends_with(".wgrad");
}

bool isFP8(Type type) {
  return isa<Float8E4M3FNType, Float8E5M2Type>(cast<MemRefType>(type).getElementType());
}

/// Where the bf16 value that `writer` quantised into its output `fp8` is
/// stored: an input buffer of the kernel, an output it also writes, or nowhere
/// (null: computed inside the kernel and only quantised).
/// Sets `source` to the quantised tensor inside the body.
Value bf16InputOf(KernelOp writer, ByteRange fp8, Value &source) {
  Block &body = writer.getBody().front();
  for (auto [i, out] : llvm::enumerate(writer.getOutputs())) {
    std::optional<ByteRange> r = rangeOf(out);
    if (!r || *r != fp8)
      continue;
    Operation *quantise = body.getTerminator()->getOperand(i).getDefiningOp();
    if (!quantise || quantise->getNumOperands() == 0)
      return {};
    // Through reshapes (views) to an input, or to a value computed here, which
    // is stored only if the kernel also writes it out.
    source = quantise->getOperand(0);
    for (;;) {
      for (auto [j, yielded] : llvm::enumerate(body.getTerminator()->getOperands()))
        if (yielded == source)
          return writer.getOutputs()[j];
      Operation *def = source.getDefiningOp();
      if (!def)
        return writer.getInputs()[cast<BlockArgument>(source).getArgNumber()];
      if (def->getName().getStringRef() != "train.reshape")
        return {};
      source = def->getOperand(0);
    }
  }
  return {};
}

int64_t tensorBytes(Value v) {
  auto type = dyn_cast_or_null<ShapedType>(v ? v.getType() : Type());
  if (!type || !type.hasStaticShape())
    return 0;
  return type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
}

/// The activation operand (B: dW = dyᵀ · x) of every wgrad GEMM, how it was
/// saved, and whether a backward instruction still reads its bf16 source.
std::vector<SavedActivation> savedActivations(ArrayRef<Operation *> instructions) {
  std::vector<SavedActivation> saved;
  auto first = llvm::find_if(instructions, isBackward);
  int64_t backwardStart = first - instructions.begin();
  for (auto [at, op] : llvm::enumerate(instructions)) {
    auto gemm = dyn_cast<GemmOp>(op);
    StringRef name = gemm ? gemm.getName().value_or("") : "";
    if (!name.consume_back(".wgrad"))
      continue;
    std::optional<ByteRange> b = rangeOf(gemm.getB());
    if (!b)
      continue;
    SavedActivation s;
    s.gemm = name.str();
    s.wgrad = at;
    auto bType = cast<MemRefType>(gemm.getB().getType());
    llvm::raw_string_ostream typeOs(s.savedType);
    for (int64_t d : bType.getShape())
      typeOs << d << "x";
    typeOs << bType.getElementType();
    s.savedBytes = b->second - b->first;
    if (!isFP8(gemm.getB().getType())) {
      s.status = SavedActivation::BF16Gemm;
      saved.push_back(s);
      continue;
    }
    // The instruction that wrote the FP8 copy: the last writer before the wgrad.
    for (int64_t t = at - 1; t >= 0 && s.writer < 0; --t)
      for (ByteRange w : accessOf(instructions[t]).writes)
        if (overlaps(w, *b))
          s.writer = t;
    auto writer = s.writer >= 0 ? dyn_cast<KernelOp>(instructions[s.writer]) : KernelOp();
    if (!writer)
      continue;
    s.where = writer.getName().str();
    if (s.writer >= backwardStart) {
      s.status = SavedActivation::Recomputed;
      saved.push_back(s);
      continue;
    }
    Value source;
    Value input = bf16InputOf(writer, *b, source);
    s.bf16Bytes = tensorBytes(source);
    s.status = input ? SavedActivation::FP8Only : SavedActivation::FP8Fused;
    // A stored source is kept if a backward instruction reads it before
    // anything overwrites it.
    std::optional<ByteRange> src = rangeOf(input);
    for (int64_t t = s.writer + 1; src && t < static_cast<int64_t>(instructions.size()); ++t) {
      Access access = accessOf(instructions[t]);
      if (t >= backwardStart &&
          llvm::any_of(access.reads, [&](ByteRange r) { return overlaps(r, *src); })) {
        s.status = SavedActivation::BF16Kept;
        s.where = instructionName(instructions[t]);
        break;
      }
      if (llvm::any_of(access.writes, [&](ByteRange w) { return overlaps(w, *src); }))
        break;
    }
    saved.push_back(s);
  }
  return saved;
}

/// Bytes covered by the union of `ranges`.
int64_t unionBytes(std::vector<std::pair<int64_t, int64_t>> &ranges) {
  std::sort(ranges.begin(), ranges.end());
  int64_t total = 0, coveredTo = INT64_MIN;
  for (auto [b, e] : ranges) {
    b = std::max(b, coveredTo);
    if (e > b) {
      total += e - b;
      coveredTo = e;
    }
  }
  return total;
}

LiveView::Kind kindOf(BufferOp buffer) {
  if (buffer.getRoleOrScratch() != Role::scratch)
    return LiveView::HostVisible;
  auto type = cast<MemRefType>(buffer.getType());
  return isa<Float8E4M3FNType, Float8E5M2Type>(type.getElementType()) ? LiveView::FP8Copy
                                                                      : LiveView::Activation;
}

/// When each non-persistent byte range holds a value: from a write to the last
/// read before the next write. The lowering gives every view of a storage (a
/// reshape: another type at the same offset) an rt.buffer of its own, so the
/// reads of one value can come through several buffers: ranges are followed by
/// their bytes, not by buffer. A range read and written by one instruction (an
/// in-place update) keeps its value's interval.
std::vector<LiveView> liveViews(ArrayRef<Operation *> instructions,
                                const llvm::DenseSet<Value> &inAccumulator) {
  struct Open {
    LiveView view;
    bool isOpen = false;
  };
  std::map<ByteRange, Open> open;
  std::vector<LiveView> done;
  auto touch = [&](Value v, int64_t at, bool isWrite) {
    auto buffer = v ? v.getDefiningOp<BufferOp>() : BufferOp();
    if (!buffer)
      return;
    Role role = buffer.getRoleOrScratch();
    if (role == Role::param || role == Role::optimizer || role == Role::fp8_state ||
        role == Role::grad_accum || role == Role::constant || inAccumulator.contains(v))
      return;
    ByteRange range{buffer.getOffset(), buffer.getOffset() + buffer.getSizeInBytes()};
    Open &o = open[range];
    if (o.isOpen && isWrite && o.view.last < at) {
      done.push_back(o.view); // overwritten: the value before is over
      o.isOpen = false;
    }
    if (!o.isOpen) {
      o.view = {range.first, range.second, role == Role::input ? 0 : at, at, kindOf(buffer)};
      o.isOpen = true;
    }
    o.view.last = at;
  };
  for (auto [at, op] : llvm::enumerate(instructions)) {
    // Reads first: an instruction reads all its inputs before writing.
    Operands operands = operandsOf(op);
    for (Value v : operands.reads)
      touch(v, at, /*isWrite=*/false);
    for (Value v : operands.writes)
      touch(v, at, /*isWrite=*/true);
  }
  for (auto &entry : open)
    if (entry.second.isOpen)
      done.push_back(entry.second.view);
  // Host-visible buffers stay until the end of the call.
  for (LiveView &v : done)
    if (v.kind == LiveView::HostVisible)
      v.last = instructions.size();
  return done;
}

FunctionMemory functionMemory(func::FuncOp func, int64_t &arenaBytes) {
  FunctionMemory m;
  m.name = func.getSymName().str();
  SmallVector<Operation *> instructions;
  // grad.X in the bytes of grad_accum.X: persistent bytes, counted once there.
  llvm::StringMap<std::pair<int64_t, int64_t>> accumulators;
  for (auto buffer : func.front().getOps<BufferOp>())
    if (buffer.getRoleOrScratch() == Role::grad_accum && buffer.getName())
      accumulators[*buffer.getName()] = {buffer.getOffset(), buffer.getSizeInBytes()};
  llvm::DenseSet<Value> inAccumulator;
  llvm::StringSet<> gradNames;
  for (auto buffer : func.front().getOps<BufferOp>()) {
    if (buffer.getRoleOrScratch() != Role::grad || !buffer.getName() ||
        !buffer.getName()->starts_with("grad."))
      continue;
    auto it = accumulators.find(("grad_accum." + buffer.getName()->drop_front(5)).str());
    if (it == accumulators.end() ||
        it->second != std::make_pair<int64_t, int64_t>(buffer.getOffset(), buffer.getSizeInBytes()))
      continue;
    inAccumulator.insert(buffer.getResult());
    if (gradNames.insert(*buffer.getName()).second)
      m.gradsInAccumulators += buffer.getSizeInBytes();
  }
  for (Operation &op : func.front()) {
    if (auto arena = dyn_cast<ArenaOp>(op))
      arenaBytes = std::max<int64_t>(arenaBytes, arena.getSize());
    if (isa<KernelOp, GemmOp, CopyOp>(op))
      instructions.push_back(&op);
  }
  std::vector<LiveView> views = liveViews(instructions, inAccumulator);

  // What saving the bf16 sources instead would add, instruction by instruction
  // (a source quantised once and read by several wgrads counts once).
  m.saved = savedActivations(instructions);
  std::vector<int64_t> ifBF16Saved(instructions.size() + 1, 0);
  std::map<int64_t, const SavedActivation *> bySource;
  for (const SavedActivation &s : m.saved)
    if (s.status == SavedActivation::FP8Only || s.status == SavedActivation::FP8Fused) {
      const SavedActivation *&last = bySource[s.writer];
      if (!last || last->wgrad < s.wgrad)
        last = &s;
    }
  for (auto &[writer, s] : bySource)
    for (int64_t t = writer; t <= s->wgrad; ++t)
      ifBF16Saved[t] += s->bf16Bytes;

  int64_t best = -1;
  for (int64_t t = 0; t < static_cast<int64_t>(instructions.size()); ++t) {
    std::vector<std::pair<int64_t, int64_t>> byKind[3];
    for (const LiveView &v : views) {
      if (v.first <= t && t <= v.last)
        byKind[v.kind].push_back({v.begin, v.end});
    }
    int64_t act = unionBytes(byKind[LiveView::Activation]);
    int64_t fp8 = unionBytes(byKind[LiveView::FP8Copy]);
    int64_t host = unionBytes(byKind[LiveView::HostVisible]);
    m.peakLiveIfBF16Saved = std::max(m.peakLiveIfBF16Saved, act + fp8 + host + ifBF16Saved[t]);
    if (act + fp8 + host > best) {
      best = act + fp8 + host;
      m.activations = act;
      m.fp8Copies = fp8;
      m.hostVisible = host;
      m.peakInstruction = t;
      m.peakInstructionName = instructionName(instructions[t]);
    }
  }
  m.peakLive = std::max<int64_t>(best, 0);
  return m;
}

} // namespace

MemoryReport fp8c::rt::computeMemoryReport(ModuleOp lowered) {
  MemoryReport report;
  int64_t arenaBytes = 0;
  // Persistent buffers are shared by all functions: count each name once.
  llvm::StringSet<> seen;
  FunctionMemory persistent;
  lowered.walk([&](BufferOp buffer) {
    Role role = buffer.getRoleOrScratch();
    int64_t *slot = role == Role::param        ? &persistent.parameters
                    : role == Role::optimizer  ? &persistent.optimizerState
                    : role == Role::fp8_state  ? &persistent.fp8State
                    : role == Role::grad_accum ? &persistent.gradAccumulators
                    : role == Role::constant   ? &persistent.constants
                                               : nullptr;
    if (slot && buffer.getName() && seen.insert(*buffer.getName()).second)
      *slot += buffer.getSizeInBytes();
  });
  for (auto func : lowered.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    FunctionMemory m = functionMemory(func, arenaBytes);
    m.parameters = persistent.parameters;
    m.optimizerState = persistent.optimizerState;
    m.fp8State = persistent.fp8State;
    m.gradAccumulators = persistent.gradAccumulators;
    m.constants = persistent.constants;
    report.functions.push_back(std::move(m));
  }
  for (FunctionMemory &m : report.functions)
    m.arenaBytes = arenaBytes;
  return report;
}

/// Per wgrad, the activation saved for it; then what saving FP8 instead of
/// bf16 gains at the peak.
template <typename Line>
static void printSaved(const FunctionMemory &m, llvm::raw_ostream &os, Line &line) {
  if (m.saved.empty())
    return;
  os << "  saved for backward (the activation each weight gradient reads):\n";
  int64_t fp8Only = 0, bf16Kept = 0, bf16Gemms = 0, recomputed = 0;
  for (const SavedActivation &s : m.saved) {
    os << "    " << llvm::left_justify(s.gemm, 40) << " " << llvm::left_justify(s.savedType, 20)
       << llvm::format("%9.2f MiB  ", mib(s.savedBytes));
    switch (s.status) {
    case SavedActivation::FP8Only:
      os << "FP8 only: bf16 source dead after forward (quantised by " << s.where << ")";
      fp8Only += s.savedBytes;
      break;
    case SavedActivation::FP8Fused:
      os << "FP8 only: bf16 source never stored (computed in " << s.where << ")";
      fp8Only += s.savedBytes;
      break;
    case SavedActivation::BF16Kept:
      os << llvm::format("FP8 + bf16 source (%.2f MiB): read in backward by ", mib(s.bf16Bytes))
         << s.where;
      bf16Kept += s.bf16Bytes;
      break;
    case SavedActivation::BF16Gemm:
      os << "bf16 wgrad (see --fp8-report): saved in bf16";
      bf16Gemms += s.savedBytes;
      break;
    case SavedActivation::Recomputed:
      os << "not saved: recomputed in backward (by " << s.where << ")";
      recomputed += s.savedBytes;
      break;
    }
    os << "\n";
  }
  line("wgrad operands saved as FP8 only", fp8Only);
  line("bf16 sources kept too (backward reads them)", bf16Kept);
  line("wgrad operands of bf16 GEMMs (bf16)", bf16Gemms);
  if (recomputed > 0)
    line("wgrad operands recomputed in backward", recomputed);
  line("live at the peak", m.peakLive);
  line("live at the peak had bf16 sources been saved", m.peakLiveIfBF16Saved);
}

/// What fp8-recompute chose for this function (its `fp8c.recompute` entry)
/// and the planned peak without and with it.
template <typename Line>
static void printRecompute(ModuleOp lowered, const FunctionMemory &m,
                           const MemoryReport *withoutRecompute, llvm::raw_ostream &os,
                           Line &line) {
  auto all = lowered->getAttrOfType<DictionaryAttr>("fp8c.recompute");
  auto r = all ? all.getAs<DictionaryAttr>(m.name) : DictionaryAttr();
  if (!r)
    return;
  auto integer = [&](StringRef key) {
    auto a = r.getAs<IntegerAttr>(key);
    return a ? a.getInt() : 0;
  };
  auto number = [&](StringRef key) {
    auto a = r.getAs<FloatAttr>(key);
    return a ? a.getValueAsDouble() : 0.0;
  };
  auto mode = r.getAs<StringAttr>("mode");
  os << "  recomputed in backward (fp8-recompute, mode " << (mode ? mode.getValue() : "?");
  if (int64_t budget = integer("budget"))
    os << llvm::format(", budget %.2f MiB", static_cast<double>(budget) / (1 << 20));
  os << "):\n";
  os << "  " << llvm::left_justify("values recomputed", 44)
     << llvm::format("%12lld", static_cast<long long>(integer("values")));
  if (int64_t blocks = integer("blocks"))
    os << "  (" << blocks << " whole blocks)";
  os << "\n";
  line("bytes of the values recomputed", integer("bytes"));
  double flops = number("flops"), stepFlops = number("step_flops");
  os << "  " << llvm::left_justify("recompute FLOPs", 44)
     << llvm::format("%12.3g      (%.2f%% of the step's %.3g)\n", flops,
                     stepFlops > 0 ? 100 * flops / stepFlops : 0.0, stepFlops);
  line("estimated peak before (fp8-recompute sweep)", integer("estimate_before"));
  line("estimated peak after", integer("estimate_after"));
  if (withoutRecompute) {
    auto before = llvm::find_if(withoutRecompute->functions,
                                [&](const FunctionMemory &f) { return f.name == m.name; });
    if (before != withoutRecompute->functions.end()) {
      line("live at the peak without recompute (planned)", before->peakLive);
      line("arena without recompute (planned)", before->arenaBytes);
    }
  }
  line("live at the peak with recompute (planned)", m.peakLive);
  line("arena with recompute (planned)", m.arenaBytes);
}

void fp8c::rt::printBytesRow(llvm::raw_ostream &os, StringRef what, int64_t bytes) {
  os << "  " << llvm::left_justify(what, 44)
     << llvm::format("%12.2f MiB  (%lld bytes)\n", mib(bytes), static_cast<long long>(bytes));
}

void fp8c::rt::printMemoryReport(ModuleOp lowered, llvm::raw_ostream &os,
                                 const MemoryReport *withoutRecompute) {
  MemoryReport report = computeMemoryReport(lowered);
  auto line = [&](StringRef what, int64_t bytes) { printBytesRow(os, what, bytes); };
  if (report.functions.empty()) {
    os << "memory report: no function (run fp8-lower-to-rt first)\n";
    return;
  }
  os << "Memory plan: one arena, planned statically (docs/memory-plan.md)"
     << perRankHeading(lowered) << "\n";
  for (const FunctionMemory &m : report.functions) {
    os << "\n@" << m.name << ": peak at instruction " << m.peakInstruction;
    if (!m.peakInstructionName.empty())
      os << " (" << m.peakInstructionName << ")";
    os << "\n";
    line("parameters", m.parameters);
    line("optimizer state", m.optimizerState);
    line("FP8 scaling state", m.fp8State);
    line("gradient accumulators", m.gradAccumulators);
    line("constants", m.constants);
    line("activations (live at the peak)", m.activations);
    line("FP8 copies (live at the peak)", m.fp8Copies);
    line("inputs, outputs, metrics, grads (at the peak)", m.hostVisible);
    if (m.gradsInAccumulators > 0)
      line("grads, sharing the gradient accumulators", m.gradsInAccumulators);
    line("unused at the peak (reuse gaps, other calls)",
         m.arenaBytes - m.persistent() - m.liveAtPeak());
    line("arena (planned peak)", m.arenaBytes);
    line("cuBLASLt workspace (CUDA, Hopper; beside)", report.workspaceBytes);
    line("device memory in all", m.arenaBytes + report.workspaceBytes);
    printSaved(m, os, line);
    printRecompute(lowered, m, withoutRecompute, os, line);
  }
  printShardingReport(lowered, os);
}
