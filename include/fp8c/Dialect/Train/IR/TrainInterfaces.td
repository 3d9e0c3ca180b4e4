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

def Train_CollectiveOpInterface : OpInterface<"CollectiveOpInterface"> {
  let cppNamespace = "::fp8c::train";
  let description = [{
    A collective of a data-parallel job: what the communication cost model
    (lib/CostModel/CommModel.cpp), the communication report (`fp8c
    --comm-report`) and `fp8-bucket-gradients` need to know about it, so that
    they never match op names. `bytes` is the full tensor the ring formulas
    take: an all-reduce's input, a reduce-scatter's input, an all-gather's
    output (docs/distributed.md, "Communication cost model").
  }];
  let methods = [
    InterfaceMethod<[{
        The collective: "all_reduce", "reduce_scatter" or "all_gather"
        (fp8c::cost::parseCollectiveKind reads it).
      }],
      "::llvm::StringRef", "getCollectiveKind">,
    InterfaceMethod<[{
        The reduction ("sum", "avg", "max"), or "" for a collective without one.
      }],
      "::llvm::StringRef", "getReductionName">,
    InterfaceMethod<[{
        Bytes of the full tensor the collective moves per rank in the ring
        formulas (see above).
      }],
      "int64_t", "getCollectiveBytes">,
    InterfaceMethod<[{ Ranks taking part. }],
      "int64_t", "getCollectiveWorldSize">,
    InterfaceMethod<[{
        The gradient bucket `fp8-bucket-gradients` put the collective in (its
        optional `bucket` attribute), or nothing.
      }],
      "std::optional<int64_t>", "getBucketIndex", (ins), [{}], [{
        if (auto bucket = $_op->template getAttrOfType<::mlir::IntegerAttr>("bucket"))
          return bucket.getInt();
        return std::nullopt;
      }]>,
    InterfaceMethod<[{ Puts the collective in gradient bucket `bucket`. }],
      "void", "setBucketIndex", (ins "int64_t":$bucket), [{}], [{
        ::mlir::Builder b($_op->getContext());
        $_op->setAttr("bucket", b.getI64IntegerAttr(bucket));
      }]>
  ];
}

#endif // FP8C_DIALECT_TRAIN_IR_TRAININTERFACES_TD
