//===- LogitsStep.h - logits_step from eval_step ----------------*- C++ -*-===//
//
// Private to fp8-autodiff. docs/autodiff.md ("logits_step") gives the contract.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H
#define FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace fp8c::train {

/// Builds `@logits_step` after `evalStep`: the same forward, returning the
/// logits operand of the train.softmax_cross_entropy that computes the loss
/// (named "logits") instead of the loss, with the arguments that no longer
/// matter (targets) dropped. A loss computed any other way (no
/// softmax_cross_entropy right before the return) has no logits: nothing is
/// built, and the result is false.
bool buildLogitsStep(mlir::func::FuncOp evalStep);

} // namespace fp8c::train

#endif // FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H
