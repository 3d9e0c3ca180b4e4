//===- MemoryReport.cpp - where the planned bytes go ----------------------===//

#include "fp8c/Analysis/MemoryReport.h"

#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

#include <algorithm>

using namespace mlir;
using namespace fp8c::rt;

namespace {

struct LiveView {
  int64_t begin, end; // byte range
  int64_t first, last; // instruction range
  enum Kind { Activation, FP8Copy, HostVisible } kind;
};

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

FunctionMemory functionMemory(func::FuncOp func, int64_t &arenaBytes) {
  FunctionMemory m;
  m.name = func.getSymName().str();
  SmallVector<Operation *> instructions;
  llvm::DenseMap<Value, LiveView> views;
  for (Operation &op : func.front()) {
    if (auto arena = dyn_cast<ArenaOp>(op))
      arenaBytes = std::max<int64_t>(arenaBytes, arena.getSize());
    if (!isa<KernelOp, GemmOp, CopyOp>(op))
      continue;
    int64_t at = instructions.size();
    instructions.push_back(&op);
    for (Value operand : op.getOperands()) {
      auto buffer = operand.getDefiningOp<BufferOp>();
      if (!buffer)
        continue;
      Role role = buffer.getRoleOrScratch();
      if (role == Role::param || role == Role::optimizer || role == Role::fp8_state ||
          role == Role::grad_accum || role == Role::constant)
        continue;
      auto [it, inserted] = views.try_emplace(operand);
      LiveView &v = it->second;
      if (inserted) {
        v.begin = buffer.getOffset();
        v.end = v.begin + buffer.getSizeInBytes();
        v.first = v.last = at;
        auto type = cast<MemRefType>(buffer.getType());
        v.kind = role != Role::scratch ? LiveView::HostVisible
                 : isa<Float8E4M3FNType, Float8E5M2Type>(type.getElementType())
                     ? LiveView::FP8Copy
                     : LiveView::Activation;
        if (role == Role::input)
          v.first = 0;
      }
      v.last = at;
    }
  }
  // Host-visible buffers stay until the end of the call.
  for (auto &entry : views)
    if (entry.second.kind == LiveView::HostVisible)
      entry.second.last = instructions.size();

  int64_t best = -1;
  for (int64_t t = 0; t < static_cast<int64_t>(instructions.size()); ++t) {
    std::vector<std::pair<int64_t, int64_t>> byKind[3];
    for (auto &entry : views) {
      const LiveView &v = entry.second;
      if (v.first <= t && t <= v.last)
        byKind[v.kind].push_back({v.begin, v.end});
    }
    int64_t act = unionBytes(byKind[LiveView::Activation]);
    int64_t fp8 = unionBytes(byKind[LiveView::FP8Copy]);
    int64_t host = unionBytes(byKind[LiveView::HostVisible]);
    if (act + fp8 + host > best) {
      best = act + fp8 + host;
      m.activations = act;
      m.fp8Copies = fp8;
      m.hostVisible = host;
      m.peakInstruction = t;
      Operation *op = instructions[t];
      if (auto kernel = dyn_cast<KernelOp>(op))
        m.peakInstructionName = kernel.getName().str();
      else if (auto gemm = dyn_cast<GemmOp>(op))
        m.peakInstructionName = "gemm " + gemm.getName().value_or("").str();
      else
        m.peakInstructionName = "copy";
    }
  }
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

void fp8c::rt::printMemoryReport(ModuleOp lowered, llvm::raw_ostream &os) {
  MemoryReport report = computeMemoryReport(lowered);
  auto line = [&](StringRef what, int64_t bytes) {
    os << "  " << llvm::left_justify(what, 44)
       << llvm::format("%12.2f MiB  (%lld bytes)\n", static_cast<double>(bytes) / (1 << 20),
                       static_cast<long long>(bytes));
  };
  if (report.functions.empty()) {
    os << "memory report: no function (run fp8-lower-to-rt first)\n";
    return;
  }
  os << "Memory plan: one arena, planned statically (docs/memory-plan.md)\n";
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
    line("unused at the peak (reuse gaps, other calls)",
         m.arenaBytes - m.persistent() - m.liveAtPeak());
    line("arena (planned peak)", m.arenaBytes);
    line("cuBLASLt workspace (CUDA, Hopper; beside)", report.workspaceBytes);
    line("device memory in all", m.arenaBytes + report.workspaceBytes);
  }
}
