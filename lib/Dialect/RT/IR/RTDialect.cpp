//===- RTDialect.cpp - the rt dialect -------------------------------------===//

#include "fp8c/Dialect/RT/IR/RTDialect.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace fp8c::rt;

#include "fp8c/Dialect/RT/IR/RTDialect.cpp.inc"
#include "fp8c/Dialect/RT/IR/RTEnums.cpp.inc"
#define GET_TYPEDEF_CLASSES
#include "fp8c/Dialect/RT/IR/RTTypes.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/RT/IR/RTAttrs.cpp.inc"

void RTDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fp8c/Dialect/RT/IR/RTOps.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "fp8c/Dialect/RT/IR/RTTypes.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fp8c/Dialect/RT/IR/RTAttrs.cpp.inc"
      >();
}
