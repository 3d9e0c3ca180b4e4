//===- RTOps.h - operations of the rt dialect -------------------*- C++ -*-===//

#ifndef FP8C_DIALECT_RT_IR_RTOPS_H
#define FP8C_DIALECT_RT_IR_RTOPS_H

#include "fp8c/Dialect/RT/IR/RTDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_TYPEDEF_CLASSES
#include "fp8c/Dialect/RT/IR/RTTypes.h.inc"

#include "fp8c/Dialect/RT/IR/RTEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/RT/IR/RTAttrs.h.inc"

#define GET_OP_CLASSES
#include "fp8c/Dialect/RT/IR/RTOps.h.inc"

#endif // FP8C_DIALECT_RT_IR_RTOPS_H
