//===- TrainInterfaces.td - interfaces of the train dialect -*- tablegen -*-===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAININTERFACES_TD
#define FP8C_DIALECT_TRAIN_IR_TRAININTERFACES_TD

include "mlir/IR/OpBase.td"

def DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::fp8c::train";
  let description = [{
    An op that knows its own vector-Jacobian product. Reverse-mode autodiff
    (`fp8-autodiff`) walks the forward graph backwards and asks each op to build the
    cotangents of its operands from the cotangents of its results; it never matches
    op names. Implementations must be checkable by finite differences: the runtime
    tests compare every VJP against a numerical derivative in f32.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the cotangent of every operand.
        `resultGrads` has one entry per result; an entry is null when no gradient
        flows into that result. On success `operandGrads` holds one entry per
        operand, null for operands that are not differentiable (token ids, the
        step counter). Emits a diagnostic on the op and fails otherwise.
      }],
      "::llvm::LogicalResult", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // FP8C_DIALECT_TRAIN_IR_TRAININTERFACES_TD
