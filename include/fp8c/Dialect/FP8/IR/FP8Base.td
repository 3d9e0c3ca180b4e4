//===- FP8Base.td - fp8 dialect definition and attributes ---*- tablegen -*-===//

#ifndef FP8C_DIALECT_FP8_IR_FP8BASE_TD
#define FP8C_DIALECT_FP8_IR_FP8BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def FP8_Dialect : Dialect {
  let name = "fp8";
  let cppNamespace = "::fp8c::fp8";
  let summary = "FP8 quantization: amax, scales, casts and scaled GEMMs";
  let description = [{
    The `fp8` dialect spells out FP8 training numerics on the builtin `f8E4M3FN`
    (max 448) and `f8E5M2` (max 57344) types: the amax reductions, the scale
    computation (`scale = fp8_max / (amax · 2^margin)`), quantize / dequantize
    (`q = saturate(round_nearest_even(x · scale))`, `x ≈ q / scale`), the fused
    cast+transpose that Hopper's K-major ("TN") FP8 GEMMs need, the scaled GEMM
    itself and the amax history of delayed scaling.

    The scaling recipe decides the shape of amax and scale tensors for an operand
    `[rows, cols]` (cols is the contraction dimension K of a GEMM operand):
    tensorwise and delayed: a scalar; rowwise: `[rows, 1]`; blockwise with block
    `[br, bc]` (`[1, 128]` for activations and gradients, `[128, 128]` for
    weights): `[rows / br, cols / bc]`.
  }];
  let useDefaultAttributePrinterParser = 1;
}

def FP8_Recipe : I32EnumAttr<"Recipe", "FP8 scaling recipe", [
    I32EnumAttrCase<"tensorwise", 0>,
    I32EnumAttrCase<"delayed", 1>,
    I32EnumAttrCase<"rowwise", 2>,
    I32EnumAttrCase<"blockwise", 3>
  ]> {
  let cppNamespace = "::fp8c::fp8";
  let genSpecializedAttr = 0;
}
def FP8_RecipeAttr : EnumAttr<FP8_Dialect, FP8_Recipe, "recipe">;

def FP8_Format : I32EnumAttr<"Format", "FP8 format assignment", [
    // E4M3 for activations and weights, E5M2 for gradients.
    I32EnumAttrCase<"hybrid", 0>,
    // E4M3 everywhere.
    I32EnumAttrCase<"e4m3", 1>
  ]> {
  let cppNamespace = "::fp8c::fp8";
  let genSpecializedAttr = 0;
}
def FP8_FormatAttr : EnumAttr<FP8_Dialect, FP8_Format, "format">;

def FP8_AmaxComputeAlgo : I32EnumAttr<"AmaxComputeAlgo",
    "how delayed scaling reads its amax history", [
    I32EnumAttrCase<"max", 0>,
    I32EnumAttrCase<"most_recent", 1>
  ]> {
  let cppNamespace = "::fp8c::fp8";
  let genSpecializedAttr = 0;
}
def FP8_AmaxComputeAlgoAttr
    : EnumAttr<FP8_Dialect, FP8_AmaxComputeAlgo, "amax_compute_algo">;

def FP8_HighTensor : StaticShapeTensorOf<[F32, BF16, F16]>;
def FP8_LowTensor : StaticShapeTensorOf<[F8E4M3FN, F8E5M2]>;
def FP8_GemmResultTensor : StaticShapeTensorOf<[F32, BF16, F16, F8E4M3FN, F8E5M2]>;
def FP8_ScaleTensor : StaticShapeTensorOf<[F32]>;
def FP8_F32Scalar : 0DTensorOf<[F32]>;
def FP8_F32Vector : TensorRankOf<[F32], [1]>;
def FP8_Block : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;

class FP8_Op<string mnemonic, list<Trait> traits = []>
    : Op<FP8_Dialect, mnemonic, traits>;

#endif // FP8C_DIALECT_FP8_IR_FP8BASE_TD
