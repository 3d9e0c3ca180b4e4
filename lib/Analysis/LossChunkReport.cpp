//===- LossChunkReport.cpp - the loss chunking in --memory-report ---------===//

#include "fp8c/Analysis/LossChunkReport.h"

#include "fp8c/Analysis/MemoryReport.h"
#include "fp8c/Dialect/Train/Transforms/ChunkLoss.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;

namespace {

const fp8c::rt::FunctionMemory *functionNamed(const fp8c::rt::MemoryReport &report,
                                              StringRef name) {
  for (const fp8c::rt::FunctionMemory &m : report.functions)
    if (m.name == name)
      return &m;
  return nullptr;
}

void printPeak(llvm::raw_ostream &os, StringRef what, const fp8c::rt::FunctionMemory *m) {
  if (!m)
    return;
  os << "    " << llvm::left_justify(what, 42)
     << llvm::format("%12.2f MiB  at instruction %lld", fp8c::rt::mib(m->peakLive),
                     static_cast<long long>(m->peakInstruction));
  if (!m->peakInstructionName.empty())
    os << " (" << m->peakInstructionName << ")";
  os << "\n";
}

} // namespace

LogicalResult
fp8c::rt::printLossChunkReport(ModuleOp lowered,
                               llvm::function_ref<OwningOpRef<ModuleOp>()> compileWhole,
                               llvm::raw_ostream &os) {
  SmallVector<std::pair<func::FuncOp, DictionaryAttr>> decisions;
  bool chunked = false;
  for (auto func : lowered.getOps<func::FuncOp>())
    if (auto d = func->getAttrOfType<DictionaryAttr>(train::kLossChunkingAttrName)) {
      decisions.push_back({func, d});
      chunked |= d.get("chunks") != nullptr;
    }
  if (decisions.empty())
    return success();
  MemoryReport after = computeMemoryReport(lowered), before;
  if (chunked) {
    OwningOpRef<ModuleOp> whole = compileWhole();
    if (!whole)
      return failure();
    before = computeMemoryReport(*whole);
  }
  os << "\nLoss chunking (fp8-chunk-loss; docs/memory-plan.md, \"Chunked loss\")\n";
  for (auto [func, d] : decisions) {
    os << "  @" << func.getSymName() << ": loss: ";
    if (auto reason = d.getAs<StringAttr>("reason")) {
      os << "not chunked: " << reason.getValue() << "\n";
      continue;
    }
    auto get = [&](StringRef key) { return d.getAs<IntegerAttr>(key).getInt(); };
    os << get("chunks") << " chunks of " << get("chunk_tokens") << " tokens"
       << llvm::format(" (logits chunk %.2f MiB instead of %.2f MiB)\n",
                       mib(get("chunk_logits_bytes")), mib(get("logits_bytes")));
    if (d.get("wgrad_into_accumulator"))
      os << "    lm_head's weight gradient: the chunks' GEMMs add it into its f32 accumulator "
            "(memory budget; not rounded to bf16 as with the loss whole)\n";
    printPeak(os, "peak live, loss whole (planned)", functionNamed(before, func.getSymName()));
    printPeak(os, "peak live, loss chunked (planned)", functionNamed(after, func.getSymName()));
  }
  if (!chunked)
    return success();
  auto arena = [](const MemoryReport &r) {
    return r.functions.empty() ? int64_t(0) : r.functions.front().arenaBytes;
  };
  for (auto [what, bytes] : {std::pair<StringRef, int64_t>{"arena, loss whole", arena(before)},
                             {"arena, loss chunked", arena(after)}})
    printBytesRow(os, what, bytes);
  return success();
}
