//===- TrainDialect.cpp - the train dialect -------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainDialect.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace fp8c::train;

#include "fp8c/Dialect/Train/IR/TrainDialect.cpp.inc"
#include "fp8c/Dialect/Train/IR/TrainEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "fp8c/Dialect/Train/IR/TrainAttrs.cpp.inc"

void TrainDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "fp8c/Dialect/Train/IR/TrainOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "fp8c/Dialect/Train/IR/TrainAttrs.cpp.inc"
      >();
}

// Step functions name their parameters and inputs through `train.name` argument
// attributes; the name must obey the same rules as `train.param`.
LogicalResult TrainDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                     unsigned argIndex,
                                                     NamedAttribute attr) {
  if (attr.getName() != getNameAttrName())
    return op->emitOpError() << "unknown train dialect argument attribute '"
                             << attr.getName().getValue() << "'";
  auto name = dyn_cast<StringAttr>(attr.getValue());
  if (!name)
    return op->emitOpError() << "argument " << argIndex
                             << ": 'train.name' must be a string attribute";
  if (!isValidQualifiedName(name.getValue()))
    return op->emitOpError()
           << "argument " << argIndex << ": '" << name.getValue()
           << "' is not a qualified name (dot-separated identifiers or numbers)";
  return success();
}
