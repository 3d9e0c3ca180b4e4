//===- LossChunkReport.h - the loss chunking in --memory-report -*- C++ -*-===//
//
// The section of `fp8c MODEL --memory-report` about fp8-chunk-loss: per
// function, how the loss was chunked (or why not), and the planner's peak and
// arena with the loss whole and chunked (docs/memory-plan.md, "Chunked loss").
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_LOSSCHUNKREPORT_H
#define FP8C_ANALYSIS_LOSSCHUNKREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace fp8c::rt {

/// Prints the section for `lowered` (nothing when no function carries a
/// decision worth reporting). When a loss was chunked, `compileWhole` returns
/// the input (the module as it was before the pipeline) lowered with the loss
/// left whole, or null on failure, so that both peaks are the planner's; it
/// runs at most once.
mlir::LogicalResult
printLossChunkReport(mlir::ModuleOp lowered,
                     llvm::function_ref<mlir::OwningOpRef<mlir::ModuleOp>()> compileWhole,
                     llvm::raw_ostream &os);

} // namespace fp8c::rt

#endif // FP8C_ANALYSIS_LOSSCHUNKREPORT_H
