//===- TrainOps.td - operations of the train dialect -------*- tablegen -*-===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAINOPS_TD
#define FP8C_DIALECT_TRAIN_IR_TRAINOPS_TD

include "fp8c/Dialect/Train/IR/TrainBase.td"
include "fp8c/Dialect/Train/IR/TrainInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// Forward ops that build their own vector-Jacobian product (lib/Dialect/Train/IR/TrainVJPs.cpp).
defvar Train_Differentiable = DeclareOpInterfaceMethods<DifferentiableOpInterface>;

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

def Train_ParamOp : Train_Op<"param", [Pure]> {
  let summary = "declares a named, trainable parameter";
  let description = [{
    Declares a parameter of the model by its fully qualified name, with its shape,
    master-weight element type and initialisation. Names are dot-separated
    identifiers (`transformer.h.3.mlp.c_fc.weight`); segments may be layer numbers.
    Names are unique within a function. `normal` initialisation requires `std`.

    Example:

    ```mlir
    %w = train.param "transformer.h.0.mlp.c_fc.weight" init normal std 2.000000e-02
        : tensor<3072x768xf32>
    %b = train.param "transformer.h.0.mlp.c_fc.bias" init zeros : tensor<3072xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Train_InitKindAttr:$init,
                       OptionalAttr<F64Attr>:$std);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $name `init` `` $init (`std` $std^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def Train_InputOp : Train_Op<"input", [Pure]> {
  let summary = "declares a named input of the step (tokens, targets)";
  let description = [{
    Declares a per-step input such as the token ids of a batch. Names follow the
    same rules as `train.param` and share its namespace.

    Example:

    ```mlir
    %tokens = train.input "tokens" : tensor<8x64xi32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Train_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def Train_EmbeddingOp : Train_Op<"embedding", [Pure, Train_Differentiable]> {
  let summary = "row gather from an embedding table";
  let description = [{
    `result[i..., :] = table[indices[i...], :]`. The table is `[vocab, dim]`; the
    result has the shape of `indices` with `dim` appended and the table's element
    type.

    Example:

    ```mlir
    %h = train.embedding %wte[%tokens]
        : tensor<50304x768xbf16>, tensor<8x64xi32> -> tensor<8x64x768xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$table, Train_IndexTensor:$indices);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $table `[` $indices `]` attr-dict `:` type($table) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Train_LinearOp : Train_Op<"linear", [Pure, Train_Differentiable]> {
  let summary = "affine layer x·Wᵀ + b with PyTorch's [out, in] weight";
  let description = [{
    `result[..., o] = sum_i x[..., i] * weight[o, i] + bias[o]`. The weight is
    `[out, in]` as in `torch.nn.Linear`; the bias is optional. The optional `name`
    is the layer's qualified name (`transformer.h.0.mlp.c_fc`), used to name its
    GEMMs in reports and filters.

    Example:

    ```mlir
    %y = train.linear %x, %w, %b {name = "transformer.h.0.mlp.c_fc"}
        : (tensor<512x768xbf16>, tensor<3072x768xbf16>, tensor<3072xbf16>) -> tensor<512x3072xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input, Train_FloatTensor:$weight,
                       Optional<Train_FloatTensor>:$bias,
                       OptionalAttr<StrAttr>:$name);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_MatmulOp : Train_Op<"matmul", [Pure, Train_Differentiable]> {
  let summary = "2-D matrix product with optional operand transposes and accumulator";
  let description = [{
    `result = op(lhs) · op(rhs)` where `op` transposes when `transpose_lhs` /
    `transpose_rhs` is set. With both unset, `[M, K] · [K, N] -> [M, N]`. The
    result has the operands' element type, or f32 for bf16 and f16 operands
    (the GEMM's accumulator, unrounded).

    With `acc`, `result = acc + op(lhs) · op(rhs)`: the product is rounded to
    f32 and then added to `acc` in f32, so the result is the same as a matmul
    followed by a `train.add`. `acc` has the result's type, which must be f32.
    fp8-chunk-loss sums lm_head's weight gradient over chunks this way, in one
    f32 buffer (fp8-lower-to-rt writes the result over a dying `acc`).

    Example:

    ```mlir
    %dw = train.matmul %dy, %x {transpose_lhs, name = "lm_head"}
        : (tensor<512x1024xbf16>, tensor<512x768xbf16>) -> tensor<1024x768xbf16>
    %dw1 = train.matmul %dy1, %x1 acc(%dw0) {transpose_lhs, name = "lm_head.wgrad"}
        : (tensor<512x1024xbf16>, tensor<512x768xbf16>, tensor<1024x768xf32>)
        -> tensor<1024x768xf32>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$lhs, Train_FloatTensor:$rhs,
                       Optional<Train_FloatTensor>:$acc,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs,
                       OptionalAttr<StrAttr>:$name);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`acc` `(` $acc^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_BatchMatmulOp : Train_Op<"batch_matmul", [Pure, Train_Differentiable]> {
  let summary = "batched matrix product over equal leading dimensions";
  let description = [{
    Like `train.matmul` on the two trailing dimensions; every leading (batch)
    dimension must match between operands and result. Operands have rank ≥ 3.

    Example:

    ```mlir
    %s = train.batch_matmul %q, %k {transpose_rhs}
        : (tensor<8x12x64x64xbf16>, tensor<8x12x64x64xbf16>) -> tensor<8x12x64x64xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$lhs, Train_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Train_AttentionOp : Train_Op<"attention", [Pure, Train_Differentiable]> {
  let summary = "scaled dot-product self-attention, multi-head or grouped-query";
  let description = [{
    Queries `[B, T, n_heads·head_dim]`, keys and values `[B, T, n_kv_heads·head_dim]`;
    the result has the query's shape. Each group of `n_heads / n_kv_heads` query
    heads shares one key/value head (grouped-query attention; equal counts give
    multi-head attention). Scores are scaled by `1/sqrt(head_dim)`. `causal` masks
    future positions. When `rope_theta` is present, rotary position embeddings
    (rotate-half convention, as in Hugging Face Llama) are applied to queries and
    keys first; this needs an even `head_dim`.

    Example:

    ```mlir
    %o = train.attention %q, %k, %v {n_heads = 32 : i64, n_kv_heads = 8 : i64,
                                      causal, rope_theta = 5.000000e+05 : f64}
        : (tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>)
        -> tensor<4x128x2048xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$query, Train_FloatTensor:$key,
                       Train_FloatTensor:$value, I64Attr:$n_heads, I64Attr:$n_kv_heads,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$rope_theta);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_LayerNormOp : Train_Op<"layer_norm", [Pure, Train_Differentiable]> {
  let summary = "layer normalisation over the last dimension";
  let description = [{
    `(x - mean) / sqrt(var + eps) * weight + bias` over the last dimension, with
    the biased variance as in PyTorch. `weight` and the optional `bias` are `[D]`.

    Example:

    ```mlir
    %y = train.layer_norm %x, %g, %b {eps = 1.000000e-05 : f64}
        : (tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>) -> tensor<8x64x768xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input, Train_FloatTensor:$weight,
                       Optional<Train_FloatTensor>:$bias, F64Attr:$eps);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_RMSNormOp : Train_Op<"rms_norm", [Pure, Train_Differentiable]> {
  let summary = "root-mean-square normalisation over the last dimension";
  let description = [{
    `x / sqrt(mean(x²) + eps) * weight` over the last dimension (Llama's RMSNorm).

    Example:

    ```mlir
    %y = train.rms_norm %x, %g {eps = 1.000000e-05 : f64}
        : (tensor<4x128x2048xbf16>, tensor<2048xbf16>) -> tensor<4x128x2048xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input, Train_FloatTensor:$weight, F64Attr:$eps);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

class Train_UnaryPointwiseOp<string mnemonic, list<Trait> traits = []>
    : Train_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let arguments = (ins Train_FloatTensor:$input);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

class Train_BinaryPointwiseOp<string mnemonic, list<Trait> traits = []>
    : Train_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let arguments = (ins Train_FloatTensor:$lhs, Train_FloatTensor:$rhs);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Train_GeluOp : Train_Op<"gelu", [Pure, SameOperandsAndResultType, Train_Differentiable]> {
  let summary = "Gaussian error linear unit";
  let description = [{
    `x · Φ(x)`; with `approximate = tanh` (the default, GPT-2's choice) the tanh
    approximation `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.

    Example:

    ```mlir
    %y = train.gelu %x : tensor<512x3072xbf16>
    %z = train.gelu %x approximate none : tensor<512x3072xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input,
                       DefaultValuedAttr<Train_GeluApproximationAttr,
                                         "GeluApproximation::tanh">:$approximate);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`approximate` `` $approximate^)? attr-dict `:` type($result)
  }];
}

def Train_SiluOp : Train_UnaryPointwiseOp<"silu", [Train_Differentiable]> {
  let summary = "sigmoid linear unit x·σ(x)";
  let description = [{
    Example:

    ```mlir
    %y = train.silu %x : tensor<512x8192xbf16>
    ```
  }];
}

def Train_Relu2Op : Train_UnaryPointwiseOp<"relu2", [Train_Differentiable]> {
  let summary = "squared ReLU max(x, 0)²";
  let description = [{
    The squared ReLU of Primer and modded-nanoGPT.

    Example:

    ```mlir
    %y = train.relu2 %x : tensor<512x3072xbf16>
    ```
  }];
}

def Train_SwigluOp : Train_BinaryPointwiseOp<"swiglu", [Train_Differentiable]> {
  let summary = "gated SiLU: silu(gate) · up";
  let description = [{
    The SwiGLU activation of Llama's MLP, with the gate and up projections as two
    operands of the same shape.

    Example:

    ```mlir
    %y = train.swiglu %gate, %up : tensor<512x8192xbf16>
    ```
  }];
}

def Train_AddOp : Train_BinaryPointwiseOp<"add", [Commutative, Train_Differentiable]> {
  let summary = "elementwise sum of two tensors of the same type";
  let description = [{
    Example:

    ```mlir
    %r = train.add %x, %y : tensor<8x64x768xbf16>
    ```
  }];
}

def Train_MulOp : Train_BinaryPointwiseOp<"mul", [Commutative, Train_Differentiable]> {
  let summary = "elementwise product of two tensors of the same type";
  let description = [{
    Example:

    ```mlir
    %r = train.mul %x, %y : tensor<8x64x768xbf16>
    ```
  }];
}

def Train_ConvertOp : Train_Op<"convert", [Pure, Train_Differentiable]> {
  let summary = "elementwise conversion between floating-point types";
  let description = [{
    Rounds to nearest even when narrowing (f32 → bf16). Shapes are unchanged.
    Folds away when the types are equal, and a round trip through a wider type
    (bf16 → f32 → bf16, f16 → f32 → f16) folds to its input: widening is exact.

    Example:

    ```mlir
    %wb = train.convert %w : tensor<3072x768xf32> -> tensor<3072x768xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

def Train_ReshapeOp : Train_Op<"reshape", [Pure, Train_Differentiable]> {
  let summary = "reinterprets a tensor with another shape of the same size";
  let description = [{
    Row-major reshape: the element count and element type are unchanged.
    A reshape to the input's type folds away, and a reshape of a reshape folds
    into one reshape of the first input.

    Example:

    ```mlir
    %flat = train.reshape %x : tensor<8x64x768xbf16> -> tensor<512x768xbf16>
    ```
  }];
  let arguments = (ins Train_AnyTensor:$input);
  let results = (outs Train_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Train_TransposeOp : Train_Op<"transpose", [Pure, Train_Differentiable]> {
  let summary = "permutes the dimensions of a tensor";
  let description = [{
    `result` dimension `i` is `input` dimension `permutation[i]`. The identity
    permutation folds away, and a transpose of a transpose folds into one
    transpose (away entirely when the two permutations cancel).

    Example:

    ```mlir
    %t = train.transpose %x [0, 2, 1, 3]
        : tensor<8x64x12x64xbf16> -> tensor<8x12x64x64xbf16>
    ```
  }];
  // FP8 too: fsdp's FP8 all-gather transposes the gathered codes for backward.
  let arguments = (ins StaticShapeTensorOf<[F32, BF16, F16, F8E4M3FN, F8E5M2, I32, I64]>:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs StaticShapeTensorOf<[F32, BF16, F16, F8E4M3FN, F8E5M2, I32, I64]>:$result);
  let assemblyFormat = [{
    $input $permutation attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

def Train_SoftmaxCrossEntropyOp
    : Train_Op<"softmax_cross_entropy", [Pure, Train_Differentiable]> {
  let summary = "mean cross-entropy of softmax(logits) against integer targets";
  let description = [{
    Logits are `[..., V]`, targets have the logits' shape without the last
    dimension. The result is the mean negative log-likelihood, an f32 scalar,
    computed in f32 whatever the logits' type. Positions whose target equals
    `ignore_index` (when given) are left out of the mean, as in PyTorch.

    Example:

    ```mlir
    %loss = train.softmax_cross_entropy %logits, %targets
        : (tensor<8x64x50304xbf16>, tensor<8x64xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$logits, Train_IndexTensor:$targets,
                       OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Train_F32Scalar:$loss);
  let assemblyFormat = [{
    $logits `,` $targets attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

def Train_GlobalNormOp : Train_Op<"global_norm", [Pure]> {
  let summary = "L2 norm over the concatenation of all operands";
  let description = [{
    `sqrt(sum over tensors of sum(t²))`, accumulated in f32; used for gradient
    clipping and logged as the grad norm.

    Example:

    ```mlir
    %n = train.global_norm %g0, %g1 : (tensor<768x768xf32>, tensor<768xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<Train_FloatTensor>:$inputs);
  let results = (outs Train_F32Scalar:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Train_AdamWUpdateOp : Train_Op<"adamw_update", [Pure]> {
  let summary = "one AdamW step for one parameter (decoupled weight decay)";
  let description = [{
    With `t = step` (1-based) and learning rate `lr`, as `torch.optim.AdamW`:

    ```
    m' = beta1·m + (1-beta1)·g
    v' = beta2·v + (1-beta2)·g²
    p' = p·(1 - lr·weight_decay) - lr · (m'/(1-beta1^t)) / (sqrt(v'/(1-beta2^t)) + eps)
    ```

    Parameter, gradient and both moments are f32 tensors of one shape; `lr` is an
    f32 scalar (it follows the schedule at run time) and `step` an i64 scalar.

    Example:

    ```mlir
    %p1, %m1, %v1 = train.adamw_update %p, %g, %m, %v, %lr, %step
        {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
         weight_decay = 1.000000e-01 : f64}
        : (tensor<768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<768xf32>, tensor<f32>,
           tensor<i64>) -> (tensor<768xf32>, tensor<768xf32>, tensor<768xf32>)
    ```
  }];
  let arguments = (ins Train_FloatTensor:$param, Train_FloatTensor:$grad,
                       Train_FloatTensor:$exp_avg, Train_FloatTensor:$exp_avg_sq,
                       Train_F32Scalar:$lr, Train_StepScalar:$step,
                       F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps, F64Attr:$weight_decay);
  let results = (outs Train_FloatTensor:$new_param, Train_FloatTensor:$new_exp_avg,
                      Train_FloatTensor:$new_exp_avg_sq);
  let assemblyFormat = [{
    $param `,` $grad `,` $exp_avg `,` $exp_avg_sq `,` $lr `,` $step attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_SGDUpdateOp : Train_Op<"sgd_update", [Pure]> {
  let summary = "one SGD step for one parameter, with optional momentum";
  let description = [{
    As `torch.optim.SGD` (no dampening, no Nesterov): `g' = g + weight_decay·p`;
    with `momentum > 0`, `buf' = momentum·buf + g'` and the step uses `buf'`, and
    the momentum buffer is both an operand and a result; `p' = p - lr·step`.

    Example:

    ```mlir
    %p1 = train.sgd_update %p, %g, %lr {momentum = 0.000000e+00 : f64, weight_decay = 0.000000e+00 : f64}
        : (tensor<768xf32>, tensor<768xf32>, tensor<f32>) -> tensor<768xf32>
    %p2, %b2 = train.sgd_update %p, %g, %lr, %buf {momentum = 9.000000e-01 : f64, weight_decay = 0.000000e+00 : f64}
        : (tensor<768xf32>, tensor<768xf32>, tensor<f32>, tensor<768xf32>) -> (tensor<768xf32>, tensor<768xf32>)
    ```
  }];
  let arguments = (ins Train_FloatTensor:$param, Train_FloatTensor:$grad,
                       Train_F32Scalar:$lr, Optional<Train_FloatTensor>:$momentum_buffer,
                       F64Attr:$momentum, F64Attr:$weight_decay);
  let results = (outs Train_FloatTensor:$new_param,
                      Optional<Train_FloatTensor>:$new_momentum_buffer);
  let assemblyFormat = [{
    $param `,` $grad `,` $lr (`,` $momentum_buffer^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

// The backward ops (VJP helpers, gradient clipping, the learning rate).
include "fp8c/Dialect/Train/IR/TrainBackwardOps.td"

//===----------------------------------------------------------------------===//
// Slicing
//===----------------------------------------------------------------------===//

def Train_SliceOp : Train_Op<"slice", [Pure, Train_Differentiable]> {
  let summary = "a contiguous range of one dimension";
  let description = [{
    `result[..., i, ...] = input[..., offset + i, ...]` along dimension `dim`, for
    `i` in `[0, size)`; every other dimension is kept whole and the element type
    is unchanged. The front end uses it to split fused projections, such as the
    `[B, T, 3·D]` output of GPT-2's `c_attn`, into queries, keys and values.
    A slice of the whole dimension folds away.

    Example:

    ```mlir
    %k = train.slice %qkv dim 2 offset 768 size 768
        : tensor<8x64x2304xbf16> -> tensor<8x64x768xbf16>
    ```
  }];
  let arguments = (ins Train_AnyTensor:$input, I64Attr:$dim, I64Attr:$offset, I64Attr:$size);
  let results = (outs Train_AnyTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim `offset` $offset `size` $size attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

def Train_AllReduceOp : Train_Op<"all_reduce", [SameOperandsAndResultType,
                                                 MemoryEffects<[MemWrite]>,
                                                 Train_CollectiveOpInterface]> {
  let summary = "combines one tensor across the world_size ranks of a data-parallel job";
  let description = [{
    Every rank passes its `input`; every rank gets the elementwise `sum`,
    `avg` (the sum divided by `world_size`) or `max` over all ranks.
    fp8-insert-collectives places one per gradient (and one on the loss) when
    `train.config` asks for `distributed.world_size` > 1 (docs/distributed.md).
    It is a collective, not a pure function: every rank must reach the same
    all-reduces in the same order, so it is never moved, merged or erased
    (the write effect says so to CSE and canonicalization); only
    `fp8-bucket-gradients` moves gradient averages, every rank alike, and marks
    each with its `bucket`: the all-reduces of one bucket are adjacent and a
    backend may issue them as one message (docs/distributed.md, "Buckets").

    Example:

    ```mlir
    %g = train.all_reduce %grad reduction avg world_size 2 : tensor<512x128xf32>
    %h = train.all_reduce %grad2 reduction avg world_size 2 bucket 0 : tensor<512xf32>
    ```
  }];
  let arguments = (ins Train_F32Tensor:$input, Train_ReductionAttr:$reduction,
                       I64Attr:$world_size, OptionalAttr<I64Attr>:$bucket);
  let results = (outs Train_F32Tensor:$result);
  let assemblyFormat = [{
    $input `reduction` `` $reduction `world_size` $world_size (`bucket` $bucket^)? attr-dict `:`
    type($result)
  }];
  let hasVerifier = 1;
  // Without a bucket (fp8-insert-collectives' form).
  let builders = [OpBuilder<(ins "::mlir::Type":$type, "::mlir::Value":$input,
                                 "ReductionAttr":$reduction, "::mlir::IntegerAttr":$world_size), [{
    build($_builder, $_state, type, input, reduction, world_size, ::mlir::IntegerAttr());
  }]>];
  let extraClassDeclaration = [{
    // CollectiveOpInterface.
    ::llvm::StringRef getCollectiveKind() { return "all_reduce"; }
    ::llvm::StringRef getReductionName() { return stringifyReduction(getReduction()); }
    int64_t getCollectiveBytes() {
      auto type = ::llvm::cast<::mlir::RankedTensorType>(getInput().getType());
      return type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
    }
    int64_t getCollectiveWorldSize() { return int64_t(getWorldSize()); }
  }];
}


// Sharded strategies (zero1, fsdp; docs/distributed.md "The shard rule"): a tensor
// of n elements on W ranks is cut into W flat, contiguous shards of
// c = ceil(n / W) elements; rank r holds elements [r*c, min((r+1)*c, n)), padded
// with zeros to c. A shard is the 1-D tensor<c x T>.
def Train_ShardableTensor : StaticShapeTensorOf<[F32, BF16, F16, F8E4M3FN, F8E5M2, I32, I64]>;

def Train_ReduceScatterOp : Train_Op<"reduce_scatter", [MemoryEffects<[MemWrite]>,
                                                         Train_CollectiveOpInterface]> {
  let summary = "reduces a full tensor across ranks; each rank keeps its shard";
  let description = [{
    Every rank passes its full `input` (n elements); rank r gets shard r
    (elements [r*c, min((r+1)*c, n)), zero-padded to c = ceil(n / world_size))
    of the elementwise `sum`, `avg` or `max` over all ranks. The result is
    `tensor<c x f32>`. A collective like `train.all_reduce`: never moved,
    merged or erased.

    Example:

    ```mlir
    %s = train.reduce_scatter %grad reduction avg world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
    %t = train.reduce_scatter %grad2 reduction avg world_size 2 bucket 0 : tensor<5xf32> -> tensor<3xf32>
    ```

    `bucket` (optional, CollectiveOpInterface's): a gradient bucket. No pass
    sets it yet: `fp8-bucket-gradients` buckets all-reduces only, since no
    backend packs reduce-scatters (docs/distributed.md, "Buckets").
  }];
  let arguments = (ins Train_F32Tensor:$input, Train_ReductionAttr:$reduction,
                       I64Attr:$world_size, OptionalAttr<I64Attr>:$bucket);
  let results = (outs Train_F32Tensor:$result);
  let assemblyFormat = [{
    $input `reduction` `` $reduction `world_size` $world_size (`bucket` $bucket^)? attr-dict `:`
    type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  // Without a bucket (fp8-insert-collectives' form).
  let builders = [OpBuilder<(ins "::mlir::Type":$type, "::mlir::Value":$input,
                                 "ReductionAttr":$reduction, "::mlir::IntegerAttr":$world_size), [{
    build($_builder, $_state, type, input, reduction, world_size, ::mlir::IntegerAttr());
  }]>];
  let extraClassDeclaration = [{
    // CollectiveOpInterface: the bytes are the full input's.
    ::llvm::StringRef getCollectiveKind() { return "reduce_scatter"; }
    ::llvm::StringRef getReductionName() { return stringifyReduction(getReduction()); }
    int64_t getCollectiveBytes() {
      auto type = ::llvm::cast<::mlir::RankedTensorType>(getInput().getType());
      return type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
    }
    int64_t getCollectiveWorldSize() { return int64_t(getWorldSize()); }
  }];
}

def Train_AllGatherOp : Train_Op<"all_gather", [MemoryEffects<[MemWrite]>,
                                                 Train_CollectiveOpInterface]> {
  let summary = "concatenates every rank's shard into the full tensor";
  let description = [{
    Every rank passes its shard `input` (`tensor<c x T>`); every rank gets the
    full tensor of the result's shape and the same element type: shard r's
    elements at [r*c, min((r+1)*c, n)), the padding dropped. Any element type
    (FP8 codes included: fsdp gathers FP8 weight shards). A collective: never
    moved, merged or erased.

    Example:

    ```mlir
    %w = train.all_gather %shard world_size 2 : tensor<8xbf16> -> tensor<3x5xbf16>
    ```

    `fp8_all_gather`: on fsdp's weight gathers under `fp8_all_gather: auto`,
    the cost model's decision for this weight and its predicted times
    (`estimateFP8AllGather`), shown by `fp8c --comm-report`. `bucket` as on
    `train.reduce_scatter` (fp8-bucket-gradients does not bucket gathers).
  }];
  let arguments = (ins Train_ShardableTensor:$input, I64Attr:$world_size,
                       OptionalAttr<I64Attr>:$bucket, OptionalAttr<StrAttr>:$fp8_all_gather);
  let results = (outs Train_ShardableTensor:$result);
  let assemblyFormat = [{
    $input `world_size` $world_size (`bucket` $bucket^)? attr-dict `:` type($input) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Type":$type, "::mlir::Value":$input,
                                 "::mlir::IntegerAttr":$world_size), [{
    build($_builder, $_state, type, input, world_size, ::mlir::IntegerAttr(), ::mlir::StringAttr());
  }]>];
  let extraClassDeclaration = [{
    // CollectiveOpInterface: the bytes are the full output's; no reduction.
    ::llvm::StringRef getCollectiveKind() { return "all_gather"; }
    ::llvm::StringRef getReductionName() { return ""; }
    int64_t getCollectiveBytes() {
      auto type = ::llvm::cast<::mlir::RankedTensorType>(getResult().getType());
      return type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
    }
    int64_t getCollectiveWorldSize() { return int64_t(getWorldSize()); }
  }];
}

def Train_ShardOp : Train_Op<"shard", [MemoryEffects<[MemWrite]>]> {
  let summary = "this rank's shard of a full tensor, without communication";
  let description = [{
    Rank r gets elements [r*c, min((r+1)*c, n)) of `input`, zero-padded to
    c = ceil(n / world_size). The rank is known only when the program runs
    (the communicator's), so this is its own instruction rather than a slice;
    the write effect keeps it out of kernels and in place.

    Example:

    ```mlir
    %p = train.shard %param world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Train_ShardableTensor:$input, I64Attr:$world_size);
  let results = (outs Train_ShardableTensor:$result);
  let assemblyFormat = [{
    $input `world_size` $world_size attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // FP8C_DIALECT_TRAIN_IR_TRAINOPS_TD
