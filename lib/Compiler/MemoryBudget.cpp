//===- MemoryBudget.cpp - the planned arena against a memory budget -------===//

#include "fp8c/Compiler/MemoryBudget.h"

#include "fp8c/Analysis/MemoryReport.h"
#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kTargetAttr = "fp8c.recompute_target";

DictionaryAttr configOf(ModuleOp module) {
  return module->getAttrOfType<DictionaryAttr>(fp8c::train::TrainDialect::getConfigAttrName());
}

/// The recompute FLOPs fp8-recompute recorded, over all functions.
double recomputeFlops(ModuleOp module) {
  double flops = 0;
  if (auto all = module->getAttrOfType<DictionaryAttr>("fp8c.recompute"))
    for (NamedAttribute function : all)
      if (auto d = dyn_cast<DictionaryAttr>(function.getValue()))
        if (auto f = d.getAs<FloatAttr>("flops"))
          flops += f.getValueAsDouble();
  return flops;
}

/// True when fp8-recompute took every candidate in some function because its
/// estimate fit the target nowhere; `before` gets the largest estimate
/// without recompute (a target at or above it recomputes nothing).
bool estimateFitNowhere(ModuleOp module, int64_t &before) {
  bool nowhere = false;
  before = 0;
  if (auto all = module->getAttrOfType<DictionaryAttr>("fp8c.recompute"))
    for (NamedAttribute function : all)
      if (auto d = dyn_cast<DictionaryAttr>(function.getValue())) {
        if (auto fits = d.getAs<BoolAttr>("fits_estimate"); fits && !fits.getValue())
          nowhere = true;
        if (auto b = d.getAs<IntegerAttr>("estimate_before"))
          before = std::max(before, b.getInt());
      }
  return nowhere;
}

} // namespace

int64_t fp8c::memoryBudgetOf(ModuleOp module) {
  DictionaryAttr config = configOf(module);
  auto budget = config ? config.getAs<IntegerAttr>("memory_budget") : IntegerAttr();
  return budget ? budget.getInt() : 0;
}

void fp8c::setMemoryBudget(ModuleOp module, int64_t bytes) {
  Builder b(module.getContext());
  NamedAttrList entries(configOf(module) ? configOf(module).getValue()
                                         : ArrayRef<NamedAttribute>{});
  entries.set("memory_budget", b.getI64IntegerAttr(bytes));
  module->setAttr(train::TrainDialect::getConfigAttrName(), entries.getDictionary(b.getContext()));
}

int64_t fp8c::plannedArenaBytes(ModuleOp lowered) {
  rt::MemoryReport report = rt::computeMemoryReport(lowered);
  return report.functions.empty() ? 0 : report.functions.front().arenaBytes;
}

OwningOpRef<ModuleOp> fp8c::recompile(ModuleOp input, const Stage &from,
                                      std::optional<int64_t> target, bool withoutRecompute) {
  OwningOpRef<ModuleOp> module = input.clone();
  if (withoutRecompute) {
    if (DictionaryAttr config = configOf(*module)) {
      NamedAttrList entries(config.getValue());
      entries.erase("memory_budget");
      entries.erase("recompute");
      (*module)->setAttr(train::TrainDialect::getConfigAttrName(),
                         entries.getDictionary(module->getContext()));
    }
  } else if (target) {
    (*module)->setAttr(kTargetAttr, Builder(module->getContext()).getI64IntegerAttr(*target));
  }
  PassManager pm(module->getContext());
  buildPipeline(pm, from, getStages().back());
  if (failed(pm.run(*module)))
    return nullptr;
  (*module)->removeAttr(kTargetAttr);
  return module;
}

namespace {
/// Halves its way (12 compiles) from the estimate targets `fitting` (its plan
/// fits `budget`) and `tooBig` (its plan does not) towards the largest target
/// whose plan still fits: the shortest candidate prefixes. First fit is not
/// monotone, so `best` keeps the plan with the fewest recompute FLOPs of those
/// tried that fit; with `replaceOnTie` a later plan as cheap replaces it.
void searchTargets(ModuleOp input, const fp8c::Stage &from, int64_t budget, int64_t fitting,
                   int64_t tooBig, bool replaceOnTie, OwningOpRef<ModuleOp> &best) {
  for (int step = 0; step < 12 && tooBig - fitting > 1; ++step) {
    int64_t target = fitting + (tooBig - fitting) / 2;
    OwningOpRef<ModuleOp> retry = fp8c::recompile(input, from, target);
    if (retry && fp8c::plannedArenaBytes(*retry) <= budget) {
      fitting = target;
      double flops = recomputeFlops(*retry), bestFlops = recomputeFlops(*best);
      if (flops < bestFlops || (replaceOnTie && flops == bestFlops))
        best = std::move(retry);
    } else {
      tooBig = target;
    }
  }
}
} // namespace

fp8c::BudgetFit fp8c::fitMemoryBudget(ModuleOp input, const Stage &from,
                                      OwningOpRef<ModuleOp> &lowered, int64_t budget) {
  BudgetFit fit;
  rt::MemoryReport report = rt::computeMemoryReport(*lowered);
  if (!report.functions.empty())
    fit.persistent = report.functions.front().persistent();
  fit.arena = plannedArenaBytes(*lowered);
  if (fit.arena <= budget) {
    fit.fits = true;
    // The estimate fit the budget nowhere, so every candidate was recomputed,
    // yet the plan fits: the estimate is pessimistic (it knows nothing of
    // values written in place, gradients in their accumulators, fusion). Look
    // between the budget and the estimate without recompute for a target
    // whose shorter prefix still fits the plan: fewer recompute FLOPs.
    int64_t before = 0;
    if (!estimateFitNowhere(*lowered, before))
      return fit;
    searchTargets(input, from, budget, /*fitting=*/budget, /*tooBig=*/before + 1,
                  /*replaceOnTie=*/false, lowered);
    fit.arena = plannedArenaBytes(*lowered);
    return fit;
  }
  // The estimate missed the plan (first-fit gaps, fusion). Everything
  // recomputed is the smallest plan reachable; if it fits, search the
  // estimate's target for the largest one whose plan still fits.
  OwningOpRef<ModuleOp> most = recompile(input, from, /*target=*/0);
  fit.smallest = most ? plannedArenaBytes(*most) : fit.arena;
  if (!most || fit.smallest > budget)
    return fit;
  searchTargets(input, from, budget, /*fitting=*/0, /*tooBig=*/budget, /*replaceOnTie=*/true, most);
  lowered = std::move(most);
  fit.fits = true;
  fit.arena = plannedArenaBytes(*lowered);
  return fit;
}
