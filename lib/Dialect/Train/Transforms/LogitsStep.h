//===- LogitsStep.h - logits_step from eval_step ----------------*- C++ -*-===//
//
// Private to fp8-autodiff. docs/autodiff.md ("logits_step") gives the contract.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H
#define FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace fp8c::train {

/// Builds `@logits_step` after `evalStep`: the same forward, with one more
/// argument, last: `rows` (i32 [batch], the flat row b x seq_len + t of each
/// sequence b, where [batch, seq_len...] is the shape of the loss's targets),
/// returning the logits of those rows only, [batch, vocab], named "logits":
/// the head (the train.linear that computes the logits operand of the
/// train.softmax_cross_entropy returned as the loss, seen through reshapes)
/// runs on the rows train.embedding gathers from its flattened input; any
/// other head's logits are gathered themselves. The arguments that no longer
/// matter (targets) are dropped. A loss computed any other way (no
/// softmax_cross_entropy right before the return) has no logits: nothing is
/// built, and the result is false.
bool buildLogitsStep(mlir::func::FuncOp evalStep);

} // namespace fp8c::train

#endif // FP8C_LIB_DIALECT_TRAIN_TRANSFORMS_LOGITSSTEP_H
