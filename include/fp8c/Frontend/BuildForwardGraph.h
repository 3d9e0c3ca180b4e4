//===- BuildForwardGraph.h - model description → train dialect --*- C++ -*-===//
//
// The front end's second half: a validated ModelConfig becomes a module holding
// `func.func @forward(tokens, targets) -> loss` in the `train` dialect, with
// parameter names and layouts as in nanoGPT / Hugging Face, and the training
// settings attached as the `train.config` dictionary for later passes.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_FRONTEND_BUILDFORWARDGRAPH_H
#define FP8C_FRONTEND_BUILDFORWARDGRAPH_H

#include "fp8c/Frontend/ModelConfig.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace fp8c {

/// The `train.config` dictionary (docs/model-description.md gives its shape;
/// the train dialect verifies it): every resolved setting of `config`, defaults
/// included.
mlir::DictionaryAttr buildTrainConfigAttr(mlir::MLIRContext *context, const ModelConfig &config);

/// Builds the module with `@forward` and `train.config`. Ops are located at
/// `loc`, named by their layer. Returns null, with a diagnostic, when the built
/// module fails to verify (a front-end bug, never a user error).
mlir::OwningOpRef<mlir::ModuleOp> buildForwardGraph(mlir::MLIRContext *context,
                                                    const ModelConfig &config, mlir::Location loc);

/// Parses the YAML model description in `sourceMgr`'s main buffer and builds
/// its module. YAML errors are reported through `sourceMgr`; returns null on
/// any error.
mlir::OwningOpRef<mlir::ModuleOp> importModelDescription(llvm::SourceMgr &sourceMgr,
                                                         mlir::MLIRContext *context);

} // namespace fp8c

#endif // FP8C_FRONTEND_BUILDFORWARDGRAPH_H
