//===- TrainBase.td - train dialect definition and attributes -*- tablegen -*-===//
//
// The `train` dialect describes one training step as a graph on statically shaped
// tensors with value semantics. It is what the front end builds and what autodiff
// differentiates; FP8 decisions happen later, in the `fp8` dialect.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAINBASE_TD
#define FP8C_DIALECT_TRAIN_IR_TRAINBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Train_Dialect : Dialect {
  let name = "train";
  let cppNamespace = "::fp8c::train";
  let summary = "Training graphs on statically shaped tensors";
  let description = [{
    The `train` dialect holds a model's forward graph and, after `fp8-autodiff`, a whole
    training step: forward, backward and optimizer update. All tensors have static
    shapes and value semantics. Parameters and inputs are declared with `train.param`
    and `train.input`, each carrying a fully qualified name (for example
    `transformer.h.3.mlp.c_fc.weight`): names are how users filter GEMMs, read metrics
    and load checkpoints. Linear weights are `[out, in]`, as in PyTorch.

    Floating-point operands of one op share one element type; precision changes are
    explicit `train.convert` ops, so a bf16 forward over f32 master weights is visible
    in the IR.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Module attribute holding every resolved training setting (a dictionary
    /// whose shape docs/model-description.md gives; the dialect verifies it).
    static constexpr ::llvm::StringLiteral getConfigAttrName() { return "train.config"; }

    /// Step functions. The front end builds `@forward` (inputs -> loss);
    /// fp8-autodiff turns it into `@train_step` (forward, backward, optimizer
    /// update), `@accumulate_step` (gradients added into accumulators, with
    /// grad_accum_steps > 1) and `@eval_step` (forward only). The runtime calls
    /// them by these names.
    static constexpr ::llvm::StringLiteral getForwardFuncName() { return "forward"; }
    static constexpr ::llvm::StringLiteral getTrainStepFuncName() { return "train_step"; }
    static constexpr ::llvm::StringLiteral getAccumulateStepFuncName() {
      return "accumulate_step";
    }
    static constexpr ::llvm::StringLiteral getEvalStepFuncName() { return "eval_step"; }
    /// `@logits_step`: eval_step's forward returning the logits of the
    /// softmax cross-entropy instead of the loss (generation samples from them).
    static constexpr ::llvm::StringLiteral getLogitsStepFuncName() { return "logits_step"; }

    /// Argument attribute naming a parameter or input of a step function.
    static constexpr ::llvm::StringLiteral getNameAttrName() { return "train.name"; }
    /// Argument attributes of step-function state (parameters, optimizer state):
    /// how the runtime initialises it (`#train<init ...>`) and, for `normal`, the
    /// standard deviation (f64).
    static constexpr ::llvm::StringLiteral getInitAttrName() { return "train.init"; }
    static constexpr ::llvm::StringLiteral getInitStdAttrName() { return "train.init_std"; }
  }];
}

def Train_InitKind : I32EnumAttr<"InitKind", "parameter initialisation", [
    I32EnumAttrCase<"normal", 0>,
    I32EnumAttrCase<"zeros", 1>,
    I32EnumAttrCase<"ones", 2>
  ]> {
  let cppNamespace = "::fp8c::train";
  let genSpecializedAttr = 0;
}
def Train_InitKindAttr : EnumAttr<Train_Dialect, Train_InitKind, "init">;

def Train_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU formula", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"tanh", 1>
  ]> {
  let cppNamespace = "::fp8c::train";
  let genSpecializedAttr = 0;
}
def Train_GeluApproximationAttr
    : EnumAttr<Train_Dialect, Train_GeluApproximation, "gelu_approximation">;

def Train_Reduction : I32EnumAttr<"Reduction",
    "how a collective combines the ranks' values", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"avg", 1>,
    I32EnumAttrCase<"max", 2>
  ]> {
  let cppNamespace = "::fp8c::train";
  let genSpecializedAttr = 0;
}
def Train_ReductionAttr : EnumAttr<Train_Dialect, Train_Reduction, "reduction">;

def Train_LRScheduleKind : I32EnumAttr<"LRScheduleKind",
    "learning-rate schedule", [
    I32EnumAttrCase<"constant", 0>,
    I32EnumAttrCase<"cosine", 1>
  ]> {
  let cppNamespace = "::fp8c::train";
  let genSpecializedAttr = 0;
}
def Train_LRScheduleKindAttr
    : EnumAttr<Train_Dialect, Train_LRScheduleKind, "lr_schedule">;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Train_FloatTensor : StaticShapeTensorOf<[F32, BF16, F16]>;
def Train_IndexTensor : StaticShapeTensorOf<[I32, I64]>;
def Train_AnyTensor : StaticShapeTensorOf<[F32, BF16, F16, I32, I64]>;
def Train_F32Scalar : 0DTensorOf<[F32]>;
def Train_F32Tensor : StaticShapeTensorOf<[F32]>;
def Train_StepScalar : 0DTensorOf<[I64]>;

class Train_Op<string mnemonic, list<Trait> traits = []>
    : Op<Train_Dialect, mnemonic, traits>;

#endif // FP8C_DIALECT_TRAIN_IR_TRAINBASE_TD
