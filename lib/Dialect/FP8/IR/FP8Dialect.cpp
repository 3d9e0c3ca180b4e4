//===- FP8Dialect.cpp - the fp8 dialect -----------------------------------===//

#include "fp8c/Dialect/FP8/IR/FP8Dialect.h"
#include "fp8c/Dialect/FP8/IR/FP8Ops.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace fp8c::fp8;

#include "fp8c/Dialect/FP8/IR/FP8Dialect.cpp.inc"
#include "fp8c/Dialect/FP8/IR/FP8Enums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/FP8/IR/FP8Attrs.cpp.inc"

void FP8Dialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fp8c/Dialect/FP8/IR/FP8Ops.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fp8c/Dialect/FP8/IR/FP8Attrs.cpp.inc"
      >();
}
