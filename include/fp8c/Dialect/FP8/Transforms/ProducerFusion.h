//===- ProducerFusion.h - which kernels can absorb amax and casts -*- C++ -*-===//
//
// The one definition of "this tensor's producer can compute its amax (and,
// when the scale is known in advance, write its FP8 copy) in its epilogue".
// `fp8-fuse-scaling` marks fp8 ops `fused_into_producer` with it; the cost
// model's `amaxFused` / `castFused` flags should be derived from it too, so
// that GEMM selection charges the casts the pass actually leaves.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_FP8_TRANSFORMS_PRODUCERFUSION_H
#define FP8C_DIALECT_FP8_TRANSFORMS_PRODUCERFUSION_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

namespace fp8c::fp8 {

/// The op whose kernel writes the elements of `value`, looking through
/// `train.reshape`, when that kernel can reduce |value| or cast value in its
/// epilogue; null otherwise (function arguments, GEMMs, attention, ...). The
/// list and its reasons are in docs/fp8-passes.md ("fp8-fuse-scaling").
mlir::Operation *getFusibleProducer(mlir::Value value);

} // namespace fp8c::fp8

#endif // FP8C_DIALECT_FP8_TRANSFORMS_PRODUCERFUSION_H
