//===- RTDialect.h - the rt dialect -----------------------------*- C++ -*-===//

#ifndef FP8C_DIALECT_RT_IR_RTDIALECT_H
#define FP8C_DIALECT_RT_IR_RTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "fp8c/Dialect/RT/IR/RTDialect.h.inc"

#endif // FP8C_DIALECT_RT_IR_RTDIALECT_H
