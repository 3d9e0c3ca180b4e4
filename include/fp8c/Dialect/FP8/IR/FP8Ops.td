//===- FP8Ops.td - operations of the fp8 dialect ------------*- tablegen -*-===//

#ifndef FP8C_DIALECT_FP8_IR_FP8OPS_TD
#define FP8C_DIALECT_FP8_IR_FP8OPS_TD

include "fp8c/Dialect/FP8/IR/FP8Base.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def FP8_AmaxOp : FP8_Op<"amax", [Pure]> {
  let summary = "maximum absolute value, per tensor, row or block";
  let description = [{
    Reduces `|input|` to the granularity of the recipe (see the dialect
    description); NaN propagates. `block` is required with the blockwise recipe
    and refused otherwise.

    With `transposed` (rowwise and blockwise, 2-D input), the groups are those
    of `inputᵀ` and the result is shaped by the recipe applied to `[C, R]`:
    the `transposed_scale` of a `cast_transpose` (a rowwise amax of `xᵀ` is a
    columnwise amax of `x`) without a transposed copy in high precision.

    Example:

    ```mlir
    %a = fp8.amax %x recipe tensorwise : tensor<512x768xbf16> -> tensor<f32>
    %r = fp8.amax %x recipe rowwise : tensor<512x768xbf16> -> tensor<512x1xf32>
    %b = fp8.amax %x recipe blockwise block [1, 128] : tensor<512x768xbf16> -> tensor<512x6xf32>
    %c = fp8.amax %x recipe rowwise {transposed} : tensor<512x768xbf16> -> tensor<768x1xf32>
    %f = fp8.amax %y recipe tensorwise {fused_into_producer} : tensor<512x768xbf16> -> tensor<f32>
    ```

    `fused_into_producer` (set by `fp8-fuse-scaling`) says where the reduction
    runs, not what it computes: the kernel that produces `input` (a norm,
    activation, residual add, conversion, gather or pointwise/norm gradient,
    looking through `train.reshape`) reduces `|input|` as it writes the tensor,
    so no kernel reads `input` back for it. The result is the same value.
  }];
  let arguments = (ins FP8_HighTensor:$input, FP8_RecipeAttr:$recipe,
                       OptionalAttr<FP8_Block>:$block, UnitAttr:$transposed,
                       UnitAttr:$fused_into_producer);
  let results = (outs FP8_ScaleTensor:$result);
  let assemblyFormat = [{
    $input `recipe` `` $recipe (`block` $block^)? attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def FP8_ComputeScaleOp : FP8_Op<"compute_scale", [Pure, AllTypesMatch<["amax", "result"]>]> {
  let summary = "scale = fp8_max / (amax · 2^margin), per element of amax";
  let description = [{
    Computes the multiplier that maps `amax` onto the largest finite value of
    `fp8_type` (448 for E4M3FN, 57344 for E5M2), lowered by `2^margin`. Where
    amax is zero, subnormal-tiny or not finite, the result is the `previous` scale
    when given, else 1. With `power_of_2`, the scale is rounded down to a power of
    two, so that scaling is exact in any format.

    Example:

    ```mlir
    %s = fp8.compute_scale %amax for f8E4M3FN : tensor<f32>
    %t = fp8.compute_scale %amax, previous %s for f8E5M2 {margin = 1 : i64, power_of_2}
        : tensor<f32>, tensor<f32>
    ```
  }];
  let arguments = (ins FP8_ScaleTensor:$amax, Optional<FP8_ScaleTensor>:$previous,
                       TypeAttr:$fp8_type, DefaultValuedAttr<I64Attr, "0">:$margin,
                       UnitAttr:$power_of_2);
  let results = (outs FP8_ScaleTensor:$result);
  let assemblyFormat = [{
    $amax (`,` `previous` $previous^)? `for` $fp8_type attr-dict `:` type($amax)
    (`,` type($previous)^)?
  }];
  let hasVerifier = 1;
}

def FP8_QuantizeOp : FP8_Op<"quantize", [Pure]> {
  let summary = "casts to FP8 with a scale: saturate(round(x · scale))";
  let description = [{
    Multiplies by the scale (broadcast over rows or blocks per the recipe), rounds
    to nearest even and saturates to the finite range of the result type.

    Example:

    ```mlir
    %q = fp8.quantize %x, %s recipe tensorwise
        : tensor<512x768xbf16>, tensor<f32> -> tensor<512x768xf8E4M3FN>
    ```

    `fused_into_producer` (set by `fp8-fuse-scaling` when the scale is known
    before `input` is produced, as with delayed scaling) says that the kernel
    producing `input` also writes the FP8 result, so no kernel reads `input`
    back to cast it. The result is the same value.

    `quantize(dequantize(q, s), s)` folds to `q` when the dequantized type has
    f32's exponent range and at least two more significand bits than `q`'s type
    (bf16 and f32, not f16): re-rounding returns `q`. The other order,
    `dequantize(quantize(x))`, rounds `x` and never folds.
  }];
  let arguments = (ins FP8_HighTensor:$input, FP8_ScaleTensor:$scale,
                       FP8_RecipeAttr:$recipe, OptionalAttr<FP8_Block>:$block,
                       UnitAttr:$fused_into_producer);
  let results = (outs FP8_LowTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `recipe` `` $recipe (`block` $block^)? attr-dict `:` type($input) `,`
    type($scale) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def FP8_DequantizeOp : FP8_Op<"dequantize", [Pure]> {
  let summary = "widens FP8 values: q / scale";
  let description = [{
    The inverse of `fp8.quantize` up to rounding: divides by the scale that was
    used to quantize.

    Example:

    ```mlir
    %x = fp8.dequantize %q, %s recipe tensorwise
        : tensor<512x768xf8E4M3FN>, tensor<f32> -> tensor<512x768xbf16>
    ```
  }];
  let arguments = (ins FP8_LowTensor:$input, FP8_ScaleTensor:$scale,
                       FP8_RecipeAttr:$recipe, OptionalAttr<FP8_Block>:$block);
  let results = (outs FP8_HighTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `recipe` `` $recipe (`block` $block^)? attr-dict `:` type($input) `,`
    type($scale) `->` type($result)
  }];
  let hasVerifier = 1;
}

def FP8_CastTransposeOp : FP8_Op<"cast_transpose", [Pure]> {
  let summary = "quantizes a matrix and its transpose in one pass";
  let description = [{
    Produces `quantize(x)` and `quantize(xᵀ)` from one read of `x` `[R, C]`, the
    pair a backward pass needs to feed K-major FP8 GEMMs. With tensorwise and
    delayed scaling both use the scalar `scale`; with 128×128 blocks the
    transposed copy uses the transposed block scales. Rowwise and 1×128 scaling
    group different elements once transposed, so they take the transposed copy's
    own `transposed_scale` (shape of the recipe applied to `[C, R]`).

    Example:

    ```mlir
    %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise
        : tensor<512x768xbf16>, tensor<f32> -> tensor<512x768xf8E4M3FN>, tensor<768x512xf8E4M3FN>
    ```

    `fused_into_producer` has the meaning it has on `fp8.quantize`: the kernel
    producing `input` writes both FP8 layouts (or the first, from which the
    lowering may transpose the second in FP8), because the scales were known
    before it ran. Canonicalization turns a `cast_transpose` whose `transposed`
    result is unused into `fp8.quantize` with `scale`.
  }];
  let arguments = (ins FP8_HighTensor:$input, FP8_ScaleTensor:$scale,
                       Optional<FP8_ScaleTensor>:$transposed_scale,
                       FP8_RecipeAttr:$recipe, OptionalAttr<FP8_Block>:$block,
                       UnitAttr:$fused_into_producer);
  let results = (outs FP8_LowTensor:$result, FP8_LowTensor:$transposed);
  let assemblyFormat = [{
    $input `,` $scale (`,` `transposed_scale` $transposed_scale^)? `recipe` `` $recipe
    (`block` $block^)? attr-dict `:` type($input) `,` type($scale)
    (`,` type($transposed_scale)^)? `->` type($result) `,` type($transposed)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def FP8_ScaledMatmulOp : FP8_Op<"scaled_matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "FP8 GEMM in Hopper's TN layout: (lhs / lhs_scale) · (rhs / rhs_scale)ᵀ";
  let description = [{
    `lhs` is `[M, K]` and `rhs` is `[N, K]`: both K-major, the only layout FP8
    tensor cores run. The result is `[M, N]`, accumulated in f32. Scales are the
    quantization scales of the operands (the GEMM divides by them), shaped per the
    recipe; blockwise GEMMs give each operand's block (`lhs_block`, `rhs_block`).
    At most one operand may be E5M2 (cuBLASLt has no E5M2×E5M2 GEMM), none
    with format `e4m3`. M, N and K must be multiples of 16.

    The optional `bias` (`[N]`, added in the GEMM epilogue as cuBLASLt's bias
    epilogue does) lets a `train.linear` become one scaled GEMM. An FP8 result
    needs `result_scale` (scalar). `amax` returns the result's
    maximum absolute value before scaling, computed in the GEMM epilogue
    (cuBLASLt's amax-D). For a high-precision result it equals `fp8.amax` of
    the result as stored, bias included: rounding is monotonic, so that is the
    epilogue's f32 maximum rounded to the result type. An unused `amax` result
    is dropped by canonicalization.
    `fast_accum` allows the faster, less precise accumulation of Hopper FP8 GEMMs.

    Example:

    ```mlir
    %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe tensorwise format hybrid
        {fast_accum, name = "transformer.h.0.mlp.c_fc.fwd"}
        : (tensor<512x768xf8E4M3FN>, tensor<3072x768xf8E4M3FN>, tensor<f32>, tensor<f32>)
        -> tensor<512x3072xbf16>
    ```
  }];
  let arguments = (ins FP8_LowTensor:$lhs, FP8_LowTensor:$rhs,
                       FP8_ScaleTensor:$lhs_scale, FP8_ScaleTensor:$rhs_scale,
                       Optional<FP8_F32Scalar>:$result_scale,
                       Optional<FP8_HighTensor>:$bias,
                       FP8_RecipeAttr:$recipe, FP8_FormatAttr:$format,
                       OptionalAttr<FP8_Block>:$lhs_block,
                       OptionalAttr<FP8_Block>:$rhs_block,
                       UnitAttr:$fast_accum, OptionalAttr<StrAttr>:$name);
  let results = (outs FP8_GemmResultTensor:$result, Optional<FP8_F32Scalar>:$amax);
  let assemblyFormat = [{
    $lhs `,` $rhs `scales` `(` $lhs_scale `,` $rhs_scale (`,` $result_scale^)? `)`
    (`bias` `(` $bias^ `)`)? `recipe` `` $recipe `format` `` $format attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def FP8_AmaxHistoryUpdateOp : FP8_Op<"amax_history_update",
    [Pure, AllTypesMatch<["history", "result"]>]> {
  let summary = "pushes the newest amax into a delayed-scaling history";
  let description = [{
    Returns the history shifted by one with `amax` at index 0 (the newest entry,
    as in Transformer Engine); the oldest entry drops out.

    Example:

    ```mlir
    %h1 = fp8.amax_history_update %h0, %amax : tensor<16xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins FP8_F32Vector:$history, FP8_F32Scalar:$amax);
  let results = (outs FP8_F32Vector:$result);
  let assemblyFormat = [{
    $history `,` $amax attr-dict `:` type($history) `,` type($amax)
  }];
  let hasVerifier = 1;
}

def FP8_AmaxFromHistoryOp : FP8_Op<"amax_from_history", [Pure]> {
  let summary = "the amax delayed scaling uses: history max or most recent";
  let description = [{
    `max` takes the largest entry of the history, `most_recent` entry 0.

    Example:

    ```mlir
    %a = fp8.amax_from_history %h algo max : tensor<16xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins FP8_F32Vector:$history, FP8_AmaxComputeAlgoAttr:$algo);
  let results = (outs FP8_F32Scalar:$result);
  let assemblyFormat = [{
    $history `algo` `` $algo attr-dict `:` type($history) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // FP8C_DIALECT_FP8_IR_FP8OPS_TD
