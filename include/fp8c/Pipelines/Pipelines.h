//===- Pipelines.h - fp8c's named compilation pipeline ----------*- C++ -*-===//
//
// The compiler is one pipeline cut into stages; `fp8c --emit=<stage>` stops after
// a stage and every tool (fp8c, fp8-opt) registers the same dialects and passes
// from here, so that what a lit test runs is what a user runs.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_PIPELINES_PIPELINES_H
#define FP8C_PIPELINES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace fp8c {

/// Registers every dialect a fp8c program may contain.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers fp8c's passes, the upstream passes the pipeline uses, and the
/// `fp8c-pipeline` pass pipeline.
void registerAllPasses();

/// One stop of the pipeline, in order. `input` runs nothing.
struct Stage {
  llvm::StringLiteral name;
  llvm::StringLiteral description;
  /// Adds the passes that lead from the previous stage to this one.
  void (*addPasses)(mlir::OpPassManager &pm);
  /// Whether a module is already at (or past) this stage, so that fp8c can take
  /// its own output back as input; null for stages that leave no mark.
  bool (*isReachedBy)(mlir::ModuleOp module);
};

/// All stages, in pipeline order.
llvm::ArrayRef<Stage> getStages();

/// The stage called `name`, or null.
const Stage *findStage(llvm::StringRef name);

/// The latest stage `module` has reached (`input` when none leaves a mark).
const Stage &detectStage(mlir::ModuleOp module);

/// Adds the passes of the stages after `from` up to and including `to`.
void buildPipeline(mlir::OpPassManager &pm, const Stage &from, const Stage &to);

/// Adds the passes of every stage up to and including `last`.
void buildPipelineUpTo(mlir::OpPassManager &pm, const Stage &last);

/// The passes `fp8c --fp8-report` runs: the stages after `from` up to `train`,
/// then fp8-select-gemms alone (its `fp8.gemm` attributes are what the report
/// reads); nothing for an input already at the `fp8` stage.
void buildGemmReportPipeline(mlir::OpPassManager &pm, const Stage &from);

} // namespace fp8c

#endif // FP8C_PIPELINES_PIPELINES_H
