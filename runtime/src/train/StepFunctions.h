//===- StepFunctions.h - The program's functions as the trainer calls them ===//
//
// Private to the trainer. Which buffers the trainer writes before a call of
// train_step / accumulate_step / eval_step (tokens, targets, step) and reads
// after it (loss, grad_norm, lr, the metrics and gradients it writes), found
// by name and checked once, before the first step.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_TRAIN_STEPFUNCTIONS_H
#define FP8RT_SRC_TRAIN_STEPFUNCTIONS_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstdint>
#include <vector>

namespace fp8rt {
namespace trainer {

/// A function with the buffers the trainer writes before and reads after it;
/// -1: the function has no such buffer.
struct BoundFunction {
  const Function *fn = nullptr;
  int64_t tokens = -1, targets = -1, step = -1; // inputs
  int64_t loss = -1, gradNorm = -1, lr = -1;    // outputs
  std::vector<uint32_t> metrics, grads;         // written by the function
};

/// Binds `fn` of `program`: inputs 'tokens' and 'targets' (i32[batch,
/// seqLen]) and optionally 'step' (i64[]), output 'loss' and optionally
/// 'grad_norm' and 'lr' (f32[]). Errors name the function and the buffer.
Status bindFunction(const Program &program, const Function &fn, int64_t batch, int64_t seqLen,
                    BoundFunction &out);

/// Buffer values as doubles (floating-point dtypes only).
Status readAsDoubles(const Program &program, Backend &backend, uint32_t index,
                     std::vector<double> &out);

/// An f32[] buffer's value.
StatusOr<float> readScalar(Backend &backend, uint32_t index);

} // namespace trainer
} // namespace fp8rt

#endif // FP8RT_SRC_TRAIN_STEPFUNCTIONS_H
