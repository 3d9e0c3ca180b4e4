//===- MemoryBudget.h - the planned arena against a memory budget -*- C++ -*-===//
//
// fp8-recompute chooses what to recompute from an estimate at tensor level;
// the arena that fp8-lower-to-rt plans is the real number. These recompile a
// module with another recompute setting and compare the real plan with the
// budget (fp8c --memory-budget, train.memory_budget; docs/memory-plan.md).
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_COMPILER_MEMORYBUDGET_H
#define FP8C_COMPILER_MEMORYBUDGET_H

#include "fp8c/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <optional>

namespace fp8c {

/// The memory budget in `module`'s train.config (0: none).
int64_t memoryBudgetOf(mlir::ModuleOp module);

/// Sets train.config's memory_budget (creating train.config if needed).
void setMemoryBudget(mlir::ModuleOp module, int64_t bytes);

/// The planned arena of a lowered module (0 when not lowered).
int64_t plannedArenaBytes(mlir::ModuleOp lowered);

/// `input` (a module at stage `from`, untouched) compiled to the last stage,
/// without recompute (`withoutRecompute`) or with fp8-recompute's target
/// forced to `target` bytes (0: recompute everything it can). Null on failure.
mlir::OwningOpRef<mlir::ModuleOp> recompile(mlir::ModuleOp input, const Stage &from,
                                            std::optional<int64_t> target,
                                            bool withoutRecompute = false);

/// What fitting `lowered` into `budget` came to.
struct BudgetFit {
  bool fits = false;
  int64_t arena = 0;      // the plan kept
  int64_t smallest = 0;   // with everything recomputed (when it does not fit)
  int64_t persistent = 0; // parameters, optimizer and FP8 state, accumulators
};

/// When the plan of `lowered` exceeds `budget`, recompiles `input` with
/// everything recomputed (the smallest plan reachable) and, when that fits,
/// searches the estimate's target (12 halvings) for the largest one whose plan
/// fits; replaces `lowered` by the plan that fits with the fewest recompute
/// FLOPs of those tried.
BudgetFit fitMemoryBudget(mlir::ModuleOp input, const Stage &from,
                          mlir::OwningOpRef<mlir::ModuleOp> &lowered, int64_t budget);

} // namespace fp8c

#endif // FP8C_COMPILER_MEMORYBUDGET_H
