//===- LowerToRT.h - the tensor step to the rt program ----------*- C++ -*-===//
//
// `fp8-lower-to-rt` (docs/memory-plan.md): plans one arena for every function
// of the module and lowers each to rt.kernel, rt.gemm and rt.copy over
// rt.buffer views.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_CONVERSION_LOWERTORT_LOWERTORT_H
#define FP8C_CONVERSION_LOWERTORT_LOWERTORT_H

#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace fp8c {

#define GEN_PASS_DECL_LOWERTORT
#include "fp8c/Conversion/Passes.h.inc"

} // namespace fp8c

#endif // FP8C_CONVERSION_LOWERTORT_LOWERTORT_H
