//===- TrainDialect.cpp - the train dialect -------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainDialect.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
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
// attributes; the name must obey the same rules as `train.param`. State arguments
// (parameters, optimizer state) also say how to initialise them: `train.init`
// and, for normal initialisation, `train.init_std`.
LogicalResult TrainDialect::verifyRegionArgAttribute(Operation *op, unsigned, unsigned argIndex,
                                                     NamedAttribute attr) {
  if (attr.getName() == getInitAttrName()) {
    if (!isa<InitKindAttr>(attr.getValue()))
      return op->emitOpError() << "argument " << argIndex
                               << ": 'train.init' must be a #train<init ...> attribute";
    return success();
  }
  if (attr.getName() == getInitStdAttrName()) {
    auto std = dyn_cast<FloatAttr>(attr.getValue());
    if (!std || !(std.getValueAsDouble() > 0.0))
      return op->emitOpError() << "argument " << argIndex
                               << ": 'train.init_std' must be a positive float";
    return success();
  }
  if (attr.getName() == "train.shard_of") {
    // zero1/fsdp state: this rank's shard of a tensor of that full shape.
    auto full = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    if (!full || llvm::any_of(full.asArrayRef(), [](int64_t d) { return d < 1; }))
      return op->emitOpError() << "argument " << argIndex
                               << ": 'train.shard_of' must be an array of dimensions >= 1";
    return success();
  }
  if (attr.getName() != getNameAttrName())
    return op->emitOpError() << "unknown train dialect argument attribute '"
                             << attr.getName().getValue() << "'";
  auto name = dyn_cast<StringAttr>(attr.getValue());
  if (!name)
    return op->emitOpError() << "argument " << argIndex
                             << ": 'train.name' must be a string attribute";
  if (!isValidQualifiedName(name.getValue()))
    return op->emitOpError() << "argument " << argIndex << ": '" << name.getValue()
                             << "' is not a qualified name (dot-separated identifiers or numbers)";
  // Names identify checkpoint entries and metrics: two arguments may not share one.
  // Checked once per function, at its last named argument: linear, not quadratic.
  auto func = dyn_cast<FunctionOpInterface>(op);
  if (!func)
    return success();
  for (unsigned i = argIndex + 1, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, getNameAttrName()))
      return success();
  llvm::DenseMap<Attribute, unsigned> firstWithName;
  for (unsigned j = 0; j <= argIndex; ++j)
    if (Attribute n = func.getArgAttr(j, getNameAttrName()))
      if (auto [it, inserted] = firstWithName.try_emplace(n, j); !inserted)
        return op->emitOpError() << "arguments " << it->second << " and " << j
                                 << " are both named '" << cast<StringAttr>(n).getValue() << "'";
  return success();
}
