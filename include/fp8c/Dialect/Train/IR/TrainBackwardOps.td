//===- TrainBackwardOps.td - ops autodiff and the optimizer emit -*- tablegen -*-===//
//
// Included by TrainOps.td at the place of its backward section; the forward ops
// and the optimizer updates stay there.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_TRAIN_IR_TRAINBACKWARDOPS_TD
#define FP8C_DIALECT_TRAIN_IR_TRAINBACKWARDOPS_TD

include "fp8c/Dialect/Train/IR/TrainBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Backward
//
// Ops that `fp8-autodiff` emits where forward ops cannot express a VJP, and the
// scalar arithmetic of the optimizer step. They compute in f32 whatever their
// operands' type and round once to the result type; none is differentiable.
//===----------------------------------------------------------------------===//

def Train_EmbeddingGradOp : Train_Op<"embedding_grad", [Pure]> {
  let summary = "scatter-add of gradient rows into an embedding table's shape";
  let description = [{
    The VJP of `train.embedding` with respect to its table:
    `result = 0; result[indices[i...], :] += grad[i..., :]` for every position,
    accumulated in f32. `grad` has the shape of `indices` with `dim` appended; the
    result is `[vocab, dim]` with the gradient's element type. Rows whose id never
    occurs are zero; ids must lie in `[0, vocab)`.

    Example:

    ```mlir
    %dwte = train.embedding_grad %dh[%tokens]
        : tensor<8x64x768xbf16>, tensor<8x64xi32> -> tensor<50304x768xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_IndexTensor:$indices);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `[` $indices `]` attr-dict `:` type($grad) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Train_ReduceSumOp : Train_Op<"reduce_sum", [Pure]> {
  let summary = "sum over leading dimensions down to a trailing shape";
  let description = [{
    Sums `input` over its leading dimensions so that the result keeps the trailing
    dimensions given by the result type (for example a bias gradient `[out]` from
    `[batch, seq, out]`). The sum is accumulated in f32; the element type does not
    change. A result of the input's own shape copies it.

    Example:

    ```mlir
    %db = train.reduce_sum %dy : tensor<8x64x3072xbf16> -> tensor<3072xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Train_GeluGradOp : Train_Op<"gelu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "VJP of train.gelu: grad · gelu'(input)";
  let description = [{
    `result = grad · gelu'(input)` with the same `approximate` formula as the
    forward op. With `Φ`, `φ` the normal CDF and density:

    ```
    none:  gelu'(x) = Φ(x) + x·φ(x)
    tanh:  u = √(2/π)·(x + 0.044715·x³), t = tanh(u)
           gelu'(x) = 0.5·(1 + t) + 0.5·x·(1 - t²)·√(2/π)·(1 + 3·0.044715·x²)
    ```

    Example:

    ```mlir
    %dx = train.gelu_grad %dy, %x : tensor<512x3072xbf16>
    %dz = train.gelu_grad %dy, %x approximate none : tensor<512x3072xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$input,
                       DefaultValuedAttr<Train_GeluApproximationAttr,
                                         "GeluApproximation::tanh">:$approximate);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $input (`approximate` `` $approximate^)? attr-dict `:` type($result)
  }];
}

def Train_SiluGradOp : Train_Op<"silu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "VJP of train.silu: grad · σ(x)·(1 + x·(1 - σ(x)))";
  let description = [{
    Example:

    ```mlir
    %dx = train.silu_grad %dy, %x : tensor<512x8192xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$input);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($result)";
}

def Train_Relu2GradOp : Train_Op<"relu2_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "VJP of train.relu2: grad · 2·max(x, 0)";
  let description = [{
    Example:

    ```mlir
    %dx = train.relu2_grad %dy, %x : tensor<512x3072xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$input);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($result)";
}

def Train_SwigluGradOp : Train_Op<"swiglu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "VJP of train.swiglu: gradients of gate and up";
  let description = [{
    For `y = silu(gate) · up` and `σ = sigmoid(gate)`:

    ```
    gate_grad = grad · up · σ·(1 + gate·(1 - σ))
    up_grad   = grad · gate·σ
    ```

    Example:

    ```mlir
    %dg, %du = train.swiglu_grad %dy, %gate, %up : tensor<512x8192xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$gate,
                       Train_FloatTensor:$up);
  let results = (outs Train_FloatTensor:$gate_grad, Train_FloatTensor:$up_grad);
  let assemblyFormat = "$grad `,` $gate `,` $up attr-dict `:` type($grad)";
}

def Train_LayerNormGradOp : Train_Op<"layer_norm_grad", [Pure]> {
  let summary = "VJP of train.layer_norm: input, weight and bias gradients";
  let description = [{
    Recomputes the statistics of `input` over its last dimension (`D` elements)
    with the forward's `eps`. With `r = 1/sqrt(var + eps)`, `x̂ = (x - mean)·r`,
    `g = grad · weight` and means over the last dimension:

    ```
    input_grad  = r · (g - mean(g) - x̂ · mean(g · x̂))
    weight_grad = sum over leading dimensions of grad · x̂
    bias_grad   = sum over leading dimensions of grad
    ```

    `bias_grad` is produced whether or not the forward op had a bias; it is dead
    code otherwise. The forward bias does not enter any gradient.

    Example:

    ```mlir
    %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.000000e-05 : f64}
        : (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>)
        -> (tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>)
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$input,
                       Train_FloatTensor:$weight, F64Attr:$eps);
  let results = (outs Train_FloatTensor:$input_grad, Train_FloatTensor:$weight_grad,
                      Train_FloatTensor:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_RMSNormGradOp : Train_Op<"rms_norm_grad", [Pure]> {
  let summary = "VJP of train.rms_norm: input and weight gradients";
  let description = [{
    Recomputes `r = 1/sqrt(mean(x²) + eps)` over the last dimension. With
    `x̂ = x·r` and `g = grad · weight`:

    ```
    input_grad  = r · (g - x̂ · mean(g · x̂))
    weight_grad = sum over leading dimensions of grad · x̂
    ```

    Example:

    ```mlir
    %dx, %dw = train.rms_norm_grad %dy, %x, %w {eps = 1.000000e-05 : f64}
        : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<2048xbf16>)
        -> (tensor<4x128x2048xbf16>, tensor<2048xbf16>)
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$input,
                       Train_FloatTensor:$weight, F64Attr:$eps);
  let results = (outs Train_FloatTensor:$input_grad, Train_FloatTensor:$weight_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $weight attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_AttentionGradOp : Train_Op<"attention_grad", [Pure]> {
  let summary = "VJP of train.attention: query, key and value gradients";
  let description = [{
    Takes the forward operands and attributes and the gradient of the output, and
    recomputes the attention probabilities (no saved softmax). Per batch and query
    head `h` with key/value head `k = h / (n_heads / n_kv_heads)`, after RoPE when
    `rope_theta` is set (`q'`, `k'`), with `s = 1/sqrt(head_dim)`:

    ```
    P   = softmax(s · q'·k'ᵀ)            (causal positions j > i masked out)
    dV  = Σ_{h in group k} Pᵀ · dO
    dP  = dO · Vᵀ
    dS  = P ∘ (dP - rowsum(dP ∘ P))
    dq' = s · dS · k'             dk' = Σ_{h in group k} s · dSᵀ · q'
    ```

    RoPE is a rotation per position, so its VJP rotates `dq'` and `dk'` back by
    the same angles (the transpose of the rotation). Key and value gradients of a
    grouped head sum the contributions of every query head that shares it.

    Example:

    ```mlir
    %dq, %dk, %dv = train.attention_grad %do, %q, %k, %v
        {n_heads = 32 : i64, n_kv_heads = 8 : i64, causal, rope_theta = 5.000000e+05 : f64}
        : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>,
           tensor<4x128x512xbf16>)
        -> (tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>)
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, Train_FloatTensor:$query,
                       Train_FloatTensor:$key, Train_FloatTensor:$value,
                       I64Attr:$n_heads, I64Attr:$n_kv_heads, UnitAttr:$causal,
                       OptionalAttr<F64Attr>:$rope_theta);
  let results = (outs Train_FloatTensor:$query_grad, Train_FloatTensor:$key_grad,
                      Train_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $grad `,` $query `,` $key `,` $value attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_SoftmaxCrossEntropyGradOp : Train_Op<"softmax_cross_entropy_grad", [Pure]> {
  let summary = "VJP of train.softmax_cross_entropy with respect to the logits";
  let description = [{
    With `N` the number of positions whose target is not `ignore_index` (all
    positions when it is absent) and `loss_grad` the f32 scalar gradient of the
    mean loss, for every position `i`:

    ```
    result[i, :] = loss_grad / N · (softmax(logits[i, :]) - onehot(targets[i]))
    ```

    and zero rows at ignored positions. Computed in f32, rounded to the logits'
    type; the result has the logits' type.

    Example:

    ```mlir
    %dlogits = train.softmax_cross_entropy_grad %logits, %targets, %dloss
        : (tensor<8x64x50304xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x50304xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$logits, Train_IndexTensor:$targets,
                       Train_F32Scalar:$loss_grad, OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $targets `,` $loss_grad attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Train_MulScalarOp : Train_Op<"mul_scalar", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiplies every element by an f32 scalar tensor";
  let description = [{
    `result = input · scale`, computed in f32 and rounded to the input's type;
    gradient clipping scales every gradient by the clip coefficient with it.

    Example:

    ```mlir
    %g1 = train.mul_scalar %g, %coef : tensor<768x768xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$input, Train_F32Scalar:$scale);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale)";
}

def Train_ClipCoefOp : Train_Op<"clip_coef", [Pure, SameOperandsAndResultType]> {
  let summary = "gradient-clipping coefficient min(1, max_norm / (norm + 1e-6))";
  let description = [{
    The factor by which `torch.nn.utils.clip_grad_norm_` multiplies every gradient:
    `min(1, max_norm / (norm + 1e-6))` for the global norm `norm` (an f32 scalar).
    `max_norm` must be positive.

    Example:

    ```mlir
    %coef = train.clip_coef %norm {max_norm = 1.000000e+00 : f64} : tensor<f32>
    ```
  }];
  let arguments = (ins Train_F32Scalar:$norm, F64Attr:$max_norm);
  let results = (outs Train_F32Scalar:$result);
  let assemblyFormat = "$norm attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Train_LRScheduleOp : Train_Op<"lr_schedule", [Pure]> {
  let summary = "learning rate of a step: linear warmup, then constant or cosine decay";
  let description = [{
    Returns the learning rate (an f32 scalar) for the 1-based `step` (the `t` of
    `train.adamw_update`), as nanoGPT's `get_lr(it)` with `it = step - 1`:

    ```
    it < warmup_steps:           lr · (it + 1) / (warmup_steps + 1)
    constant:                    lr
    cosine, it > total_steps:    min_lr
    cosine, otherwise:           r = (it - warmup_steps) / (total_steps - warmup_steps)
                                 min_lr + 0.5 · (1 + cos(π · r)) · (lr - min_lr)
    ```

    `lr` must be positive and `warmup_steps` non-negative. The cosine schedule
    needs `total_steps > warmup_steps` and `0 <= min_lr <= lr`; `total_steps`
    and `min_lr` are rejected with the constant schedule.

    Example:

    ```mlir
    %lr = train.lr_schedule %step cosine {lr = 6.000000e-04 : f64, warmup_steps = 100 : i64,
                                          total_steps = 5000 : i64, min_lr = 6.000000e-05 : f64}
        : tensor<i64> -> tensor<f32>
    %c = train.lr_schedule %step constant {lr = 1.000000e-03 : f64} : tensor<i64> -> tensor<f32>
    ```
  }];
  let arguments = (ins Train_StepScalar:$step, Train_LRScheduleKindAttr:$kind, F64Attr:$lr,
                       DefaultValuedAttr<I64Attr, "0">:$warmup_steps,
                       DefaultValuedAttr<I64Attr, "0">:$total_steps,
                       DefaultValuedAttr<F64Attr, "0.0">:$min_lr);
  let results = (outs Train_F32Scalar:$result);
  let assemblyFormat = "$step `` $kind attr-dict `:` type($step) `->` type($result)";
  let hasVerifier = 1;
}

def Train_SliceGradOp : Train_Op<"slice_grad", [Pure]> {
  let summary = "VJP of train.slice: the gradient placed into zeros of the input's shape";
  let description = [{
    `result` has the shape of the sliced input: zero everywhere except
    `result[..., offset + i, ...] = grad[..., i, ...]` along dimension `dim` for
    `i` in `[0, size)`, where `size` is the extent of `grad` along `dim`. The
    gradients of several slices of one tensor (queries, keys and values of a fused
    projection) are summed by autodiff. When `grad` covers the whole dimension it
    is the result: the op folds away.

    Example:

    ```mlir
    %dqkv = train.slice_grad %dk dim 2 offset 768
        : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
    ```
  }];
  let arguments = (ins Train_FloatTensor:$grad, I64Attr:$dim, I64Attr:$offset);
  let results = (outs Train_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `dim` $dim `offset` $offset attr-dict `:` type($grad) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // FP8C_DIALECT_TRAIN_IR_TRAINBACKWARDOPS_TD
