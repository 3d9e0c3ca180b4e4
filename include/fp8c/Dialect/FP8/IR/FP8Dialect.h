//===- FP8Dialect.h - the fp8 dialect ---------------------------*- C++ -*-===//

#ifndef FP8C_DIALECT_FP8_IR_FP8DIALECT_H
#define FP8C_DIALECT_FP8_IR_FP8DIALECT_H

#include "mlir/IR/Dialect.h"

#include "fp8c/Dialect/FP8/IR/FP8Dialect.h.inc"

#endif // FP8C_DIALECT_FP8_IR_FP8DIALECT_H
