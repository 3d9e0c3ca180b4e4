//===- Passes.h - from the FP8 training step to the rt program --*- C++ -*-===//

#ifndef FP8C_DIALECT_RT_TRANSFORMS_PASSES_H
#define FP8C_DIALECT_RT_TRANSFORMS_PASSES_H

#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace fp8c::rt {

#define GEN_PASS_DECL
#include "fp8c/Dialect/RT/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "fp8c/Dialect/RT/Transforms/Passes.h.inc"

} // namespace fp8c::rt

#endif // FP8C_DIALECT_RT_TRANSFORMS_PASSES_H
