// RUN: fp8-opt %s -split-input-file --fp8-insert-casts -verify-diagnostics | FileCheck %s
// RUN: fp8-opt %S/Inputs/fp8-insert-casts-errors.mlir -split-input-file --fp8-insert-casts -verify-diagnostics
// RUN: fp8c %examples/gpt-tiny.yaml --emit=train -o %t
// RUN: fp8-opt %t --fp8-select-gemms --fp8-insert-casts | FileCheck %s --check-prefix=GPT

// A real module: gpt-tiny after autodiff and GEMM selection (every GEMM FP8 but
// lm_head's, by filter_fqns). @train_step: 8 forward scaled GEMMs with fast
// accumulation, lm_head's bf16 linear, then 16 backward ones; @eval_step: 8;
// @logits_step (eval_step without the loss): the same 8.
// GPT-LABEL:   func.func @train_step(
// GPT-COUNT-8: fp8.scaled_matmul {{.*}}fast_accum
// GPT:         train.linear {{.*}}decision = "bf16"{{.*}}name = "lm_head"
// GPT-COUNT-16: fp8.scaled_matmul
// GPT-NOT:     fp8.scaled_matmul
// GPT-LABEL:   func.func @eval_step(
// GPT-COUNT-8: fp8.scaled_matmul {{.*}}fast_accum
// GPT-NOT:     fp8.scaled_matmul
// GPT-LABEL:   func.func @logits_step(
// GPT-COUNT-8: fp8.scaled_matmul {{.*}}fast_accum
// GPT-NOT:     fp8.scaled_matmul

// fp8-insert-casts rewrites every GEMM whose `fp8.gemm` decision is "fp8" into
// amax → compute_scale → quantize / cast_transpose → fp8.scaled_matmul in the TN
// layout (lhs [M, K], rhs [N, K]). One module per case; the `fp8.gemm`
// dictionaries are written by hand, as fp8-select-gemms would write them.
// Shapes: x [rows, in] = [64, 64], W [out, in] = [128, 64], dy [rows, out] = [64, 128].

// A linear layer's forward GEMM, tensorwise, hybrid: x (3-D, flattened) and W
// are E4M3, quantized as stored; the bias goes into the GEMM epilogue; the
// result is reshaped back; fast accumulation in forward.

// CHECK-LABEL: module @linear_forward
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x32x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[B:[a-z0-9_]+]]: tensor<128xbf16>)
// CHECK:         %[[X2:.*]] = train.reshape %[[X]] : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
// CHECK:         %[[AX:.*]] = fp8.amax %[[X2]] recipe tensorwise : tensor<64x64xbf16> -> tensor<f32>
// CHECK:         %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<f32>
// CHECK:         %[[QX:.*]] = fp8.quantize %[[X2]], %[[SX]] recipe tensorwise : tensor<64x64xbf16>, tensor<f32> -> tensor<64x64xf8E4M3FN>
// CHECK:         %[[AW:.*]] = fp8.amax %[[W]] recipe tensorwise : tensor<128x64xbf16> -> tensor<f32>
// CHECK:         %[[SW:.*]] = fp8.compute_scale %[[AW]] for f8E4M3FN : tensor<f32>
// CHECK:         %[[QW:.*]] = fp8.quantize %[[W]], %[[SW]] recipe tensorwise : tensor<128x64xbf16>, tensor<f32> -> tensor<128x64xf8E4M3FN>
// CHECK:         %[[Y2:.*]] = fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) bias(%[[B]]) recipe tensorwise format hybrid
// CHECK-SAME:      {fast_accum, fp8.gemm = {decision = "fp8", kind = "forward", name = "fc"}, name = "fc.fwd"}
// CHECK-SAME:      : (tensor<64x64xf8E4M3FN>, tensor<128x64xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<128xbf16>) -> tensor<64x128xbf16>
// CHECK:         %[[Y:.*]] = train.reshape %[[Y2]] : tensor<64x128xbf16> -> tensor<2x32x128xbf16>
// CHECK-NOT:     train.linear
// CHECK:         return %[[Y]]
module @linear_forward attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", format = "hybrid"}}} {
  func.func @train_step(%x: tensor<2x32x64xbf16>, %w: tensor<128x64xbf16>, %b: tensor<128xbf16>) -> tensor<2x32x128xbf16> {
    %y = train.linear %x, %w, %b {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<2x32x64xbf16>, tensor<128x64xbf16>, tensor<128xbf16>) -> tensor<2x32x128xbf16>
    return %y : tensor<2x32x128xbf16>
  }
}

// -----

// dgrad dx = dy·W: dy is the lhs as stored, E5M2 (a gradient); the rhs Wᵀ comes
// from cast_transpose(W) — no bf16 transpose. No fast accumulation in backward.
// The forward GEMM stays bf16 (its decision), untouched.

// CHECK-LABEL: module @linear_dgrad
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[DY:[a-z0-9_]+]]: tensor<64x128xbf16>)
// CHECK:         %[[Y:.*]] = train.linear %[[X]], %[[W]] {fp8.gemm = {decision = "bf16", kind = "forward", name = "fc"}, name = "fc"}
// CHECK:         %[[ADY:.*]] = fp8.amax %[[DY]] recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
// CHECK:         %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E5M2 : tensor<f32>
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY]], %[[SDY]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
// CHECK:         %[[AW:.*]] = fp8.amax %[[W]] recipe tensorwise : tensor<128x64xbf16> -> tensor<f32>
// CHECK:         %[[SW:.*]] = fp8.compute_scale %[[AW]] for f8E4M3FN : tensor<f32>
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[W]], %[[SW]] recipe tensorwise : tensor<128x64xbf16>, tensor<f32> -> tensor<128x64xf8E4M3FN>, tensor<64x128xf8E4M3FN>
// CHECK:         %[[DX:.*]] = fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SW]]) recipe tensorwise format hybrid
// CHECK-SAME:      {fp8.gemm = {decision = "fp8", kind = "dgrad", name = "fc"}, name = "fc.dgrad"}
// CHECK-SAME:      : (tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<64x64xbf16>
// CHECK-NOT:     train.transpose
// CHECK:         return %[[Y]], %[[DX]]
module @linear_dgrad attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", format = "hybrid"}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<64x128xbf16>) -> (tensor<64x128xbf16>, tensor<64x64xbf16>) {
    %y = train.linear %x, %w {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "bf16"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    %dx = train.matmul %dy, %w {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    return %y, %dx : tensor<64x128xbf16>, tensor<64x64xbf16>
  }
}

// -----

// wgrad dW = dyᵀ·x (transpose_lhs): both TN operands are transposes, dyᵀ (E5M2)
// and xᵀ (E4M3), each the `transposed` result of a cast_transpose.

// CHECK-LABEL: module @linear_wgrad
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x32x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[DY:[a-z0-9_]+]]: tensor<2x32x128xbf16>)
// CHECK-DAG:     %[[X2:.*]] = train.reshape %[[X]] : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
// CHECK-DAG:     %[[DY2:.*]] = train.reshape %[[DY]] : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
// CHECK:         %[[ADY:.*]] = fp8.amax %[[DY2]] recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
// CHECK:         %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E5M2 : tensor<f32>
// CHECK:         %{{.*}}, %[[DYT:.*]] = fp8.cast_transpose %[[DY2]], %[[SDY]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>, tensor<128x64xf8E5M2>
// CHECK:         %[[AX:.*]] = fp8.amax %[[X2]] recipe tensorwise : tensor<64x64xbf16> -> tensor<f32>
// CHECK:         %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<f32>
// CHECK:         %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X2]], %[[SX]] recipe tensorwise : tensor<64x64xbf16>, tensor<f32> -> tensor<64x64xf8E4M3FN>, tensor<64x64xf8E4M3FN>
// CHECK:         %[[DW:.*]] = fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDY]], %[[SX]]) recipe tensorwise format hybrid
// CHECK-SAME:      {fp8.gemm = {decision = "fp8", kind = "wgrad", name = "fc"}, name = "fc.wgrad"}
// CHECK-SAME:      : (tensor<128x64xf8E5M2>, tensor<64x64xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<128x64xbf16>
// CHECK:         return %{{.*}}, %[[DW]]
module @linear_wgrad attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", format = "hybrid"}}} {
  func.func @train_step(%x: tensor<2x32x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<2x32x128xbf16>) -> (tensor<2x32x128xbf16>, tensor<128x64xbf16>) {
    %y = train.linear %x, %w {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "bf16"}}
        : (tensor<2x32x64xbf16>, tensor<128x64xbf16>) -> tensor<2x32x128xbf16>
    %x2 = train.reshape %x : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
    %dy2 = train.reshape %dy : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
    %dw = train.matmul %dy2, %x2 {name = "fc.wgrad", transpose_lhs, fp8.gemm = {name = "fc", kind = "wgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<64x64xbf16>) -> tensor<128x64xbf16>
    return %y, %dw : tensor<2x32x128xbf16>, tensor<128x64xbf16>
  }
}

// -----

// All three GEMMs of a layer: one amax and scale per tensor, shared between the
// GEMMs that quantize it (W: forward and dgrad; dy: dgrad and wgrad; x: forward
// and wgrad, whose flattened views become one value). fp8-fuse-scaling merges
// the quantize and the cast_transpose of one tensor.

// CHECK-LABEL: module @linear_layer
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x32x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[DY:[a-z0-9_]+]]: tensor<2x32x128xbf16>)
// CHECK:         %[[X2:.*]] = train.reshape %[[X]] : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
// CHECK:         %[[SX:.*]] = fp8.compute_scale
// CHECK:         %[[QX:.*]] = fp8.quantize %[[X2]], %[[SX]]
// CHECK:         %[[SW:.*]] = fp8.compute_scale
// CHECK:         %[[QW:.*]] = fp8.quantize %[[W]], %[[SW]]
// CHECK:         fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) {{.*}}name = "fc.fwd"
// The wgrad's own view of x is dead and erased.
// CHECK-NOT:     train.reshape %[[X]]
// CHECK:         %[[DY2:.*]] = train.reshape %[[DY]] : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
// CHECK:         %[[SDY:.*]] = fp8.compute_scale
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY2]], %[[SDY]]
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[W]], %[[SW]]
// CHECK:         fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SW]]) {{.*}}name = "fc.dgrad"
// CHECK:         %{{.*}}, %[[DYT:.*]] = fp8.cast_transpose %[[DY2]], %[[SDY]]
// CHECK:         %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X2]], %[[SX]]
// CHECK:         fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDY]], %[[SX]]) {{.*}}name = "fc.wgrad"
// CHECK:         return
module @linear_layer attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<2x32x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<2x32x128xbf16>)
      -> (tensor<2x32x128xbf16>, tensor<2x32x64xbf16>, tensor<128x64xbf16>) {
    %y = train.linear %x, %w {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<2x32x64xbf16>, tensor<128x64xbf16>) -> tensor<2x32x128xbf16>
    %x2 = train.reshape %x : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
    %dy2 = train.reshape %dy : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
    %dx2 = train.matmul %dy2, %w {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    %dx = train.reshape %dx2 : tensor<64x64xbf16> -> tensor<2x32x64xbf16>
    %dw = train.matmul %dy2, %x2 {name = "fc.wgrad", transpose_lhs, fp8.gemm = {name = "fc", kind = "wgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<64x64xbf16>) -> tensor<128x64xbf16>
    return %y, %dx, %dw : tensor<2x32x128xbf16>, tensor<2x32x64xbf16>, tensor<128x64xbf16>
  }
}

// -----

// Format e4m3: the gradient is E4M3 too.

// CHECK-LABEL: module @format_e4m3
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[DY:[a-z0-9_]+]]: tensor<64x128xbf16>)
// CHECK:         %[[ADY:.*]] = fp8.amax %[[DY]] recipe tensorwise
// CHECK:         %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E4M3FN : tensor<f32>
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY]], %[[SDY]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[W]]
// CHECK:         fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %{{.*}}) recipe tensorwise format e4m3
// CHECK-SAME:      : (tensor<64x128xf8E4M3FN>, tensor<64x128xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<64x64xbf16>
// CHECK-NOT:     f8E5M2
module @format_e4m3 attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", format = "e4m3"}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<64x128xbf16>) -> (tensor<64x128xbf16>, tensor<64x64xbf16>) {
    %y = train.linear %x, %w {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "bf16"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    %dx = train.matmul %dy, %w {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    return %y, %dx : tensor<64x128xbf16>, tensor<64x64xbf16>
  }
}

// -----

// Margin and power-of-two rounding reach every compute_scale.

// CHECK-LABEL: module @margin_power_of_2
// CHECK:         fp8.compute_scale %{{.*}} for f8E4M3FN {margin = 2 : i64, power_of_2} : tensor<f32>
// CHECK:         fp8.compute_scale %{{.*}} for f8E4M3FN {margin = 2 : i64, power_of_2} : tensor<f32>
// CHECK:         fp8.scaled_matmul
// CHECK-NOT:     fp8.compute_scale
module @margin_power_of_2 attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", margin = 2, power_of_2_scales = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<128x64xbf16>) -> tensor<64x128xbf16> {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    return %y : tensor<64x128xbf16>
  }
}

// -----

// Rowwise: one scale per row of each TN operand. A cast_transpose's transposed
// copy needs the rows of xᵀ, i.e. the columns of x: `fp8.amax {transposed}`.

// CHECK-LABEL: module @rowwise
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[DY:[a-z0-9_]+]]: tensor<64x128xbf16>)
// CHECK:         %[[AX:.*]] = fp8.amax %[[X]] recipe rowwise : tensor<64x64xbf16> -> tensor<64x1xf32>
// CHECK:         %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<64x1xf32>
// CHECK:         %[[QX:.*]] = fp8.quantize %[[X]], %[[SX]] recipe rowwise : tensor<64x64xbf16>, tensor<64x1xf32> -> tensor<64x64xf8E4M3FN>
// CHECK:         %[[AW:.*]] = fp8.amax %[[W]] recipe rowwise : tensor<128x64xbf16> -> tensor<128x1xf32>
// CHECK:         %[[SW:.*]] = fp8.compute_scale %[[AW]] for f8E4M3FN : tensor<128x1xf32>
// CHECK:         %[[QW:.*]] = fp8.quantize %[[W]], %[[SW]] recipe rowwise
// CHECK:         fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe rowwise format hybrid
// CHECK-SAME:      : (tensor<64x64xf8E4M3FN>, tensor<128x64xf8E4M3FN>, tensor<64x1xf32>, tensor<128x1xf32>) -> tensor<64x128xbf16>
// dgrad: Wᵀ [64, 128] is scaled per row of Wᵀ = per column of W.
// CHECK:         %[[ADY:.*]] = fp8.amax %[[DY]] recipe rowwise : tensor<64x128xbf16> -> tensor<64x1xf32>
// CHECK:         %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E5M2 : tensor<64x1xf32>
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY]], %[[SDY]] recipe rowwise
// CHECK:         %[[AWT:.*]] = fp8.amax %[[W]] recipe rowwise {transposed} : tensor<128x64xbf16> -> tensor<64x1xf32>
// CHECK:         %[[SWT:.*]] = fp8.compute_scale %[[AWT]] for f8E4M3FN : tensor<64x1xf32>
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[W]], %[[SW]], transposed_scale %[[SWT]] recipe rowwise
// CHECK-SAME:      : tensor<128x64xbf16>, tensor<128x1xf32>, tensor<64x1xf32> -> tensor<128x64xf8E4M3FN>, tensor<64x128xf8E4M3FN>
// CHECK:         fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SWT]]) recipe rowwise format hybrid
// CHECK-SAME:      : (tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>, tensor<64x1xf32>, tensor<64x1xf32>) -> tensor<64x64xbf16>
// wgrad: dyᵀ [128, 64] and xᵀ [64, 64], each with its transposed scale.
// CHECK:         %[[ADYT:.*]] = fp8.amax %[[DY]] recipe rowwise {transposed} : tensor<64x128xbf16> -> tensor<128x1xf32>
// CHECK:         %[[SDYT:.*]] = fp8.compute_scale %[[ADYT]] for f8E5M2 : tensor<128x1xf32>
// CHECK:         %{{.*}}, %[[DYT:.*]] = fp8.cast_transpose %[[DY]], %[[SDY]], transposed_scale %[[SDYT]] recipe rowwise
// CHECK:         %[[AXT:.*]] = fp8.amax %[[X]] recipe rowwise {transposed} : tensor<64x64xbf16> -> tensor<64x1xf32>
// CHECK:         %[[SXT:.*]] = fp8.compute_scale %[[AXT]] for f8E4M3FN : tensor<64x1xf32>
// CHECK:         %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X]], %[[SX]], transposed_scale %[[SXT]] recipe rowwise
// CHECK:         fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDYT]], %[[SXT]]) recipe rowwise format hybrid
// CHECK-SAME:      : (tensor<128x64xf8E5M2>, tensor<64x64xf8E4M3FN>, tensor<128x1xf32>, tensor<64x1xf32>) -> tensor<128x64xbf16>
module @rowwise attributes {train.config = {fp8 = {enabled = true, recipe = "rowwise"}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<64x128xbf16>)
      -> (tensor<64x128xbf16>, tensor<64x64xbf16>, tensor<128x64xbf16>) {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    %dx = train.matmul %dy, %w {fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    %dw = train.matmul %dy, %x {transpose_lhs, fp8.gemm = {name = "fc", kind = "wgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<64x64xbf16>) -> tensor<128x64xbf16>
    return %y, %dx, %dw : tensor<64x128xbf16>, tensor<64x64xbf16>, tensor<128x64xbf16>
  }
}

// -----

// Blockwise: activations and gradients in 1×128 blocks, weights in 128×128
// blocks (x [256, 128], W [384, 128], dy [256, 384]). A 128×128 block is the
// same set of elements in W and Wᵀ: dgrad uses W's block scales transposed (a
// [3, 1] f32 tensor, not the data). 1×128 blocks of dyᵀ and xᵀ run down the
// columns of dy and x: they need their own `transposed_scale`.

// CHECK-LABEL: module @blockwise
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x128xbf16>, %[[W:[a-z0-9_]+]]: tensor<384x128xbf16>, %[[DY:[a-z0-9_]+]]: tensor<256x384xbf16>)
// CHECK:         %[[AX:.*]] = fp8.amax %[[X]] recipe blockwise block [1, 128] : tensor<256x128xbf16> -> tensor<256x1xf32>
// CHECK:         %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<256x1xf32>
// CHECK:         %[[QX:.*]] = fp8.quantize %[[X]], %[[SX]] recipe blockwise block [1, 128]
// CHECK:         %[[AW:.*]] = fp8.amax %[[W]] recipe blockwise block [128, 128] : tensor<384x128xbf16> -> tensor<3x1xf32>
// CHECK:         %[[SW:.*]] = fp8.compute_scale %[[AW]] for f8E4M3FN : tensor<3x1xf32>
// CHECK:         %[[QW:.*]] = fp8.quantize %[[W]], %[[SW]] recipe blockwise block [128, 128]
// CHECK:         fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe blockwise format hybrid
// CHECK-SAME:      lhs_block = array<i64: 1, 128>, name = "fc.fwd", rhs_block = array<i64: 128, 128>
// CHECK-SAME:      : (tensor<256x128xf8E4M3FN>, tensor<384x128xf8E4M3FN>, tensor<256x1xf32>, tensor<3x1xf32>) -> tensor<256x384xbf16>
// CHECK:         %[[ADY:.*]] = fp8.amax %[[DY]] recipe blockwise block [1, 128] : tensor<256x384xbf16> -> tensor<256x3xf32>
// CHECK:         %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E5M2 : tensor<256x3xf32>
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY]], %[[SDY]] recipe blockwise block [1, 128]
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[W]], %[[SW]] recipe blockwise block [128, 128] : tensor<384x128xbf16>, tensor<3x1xf32> -> tensor<384x128xf8E4M3FN>, tensor<128x384xf8E4M3FN>
// CHECK:         %[[SWT:.*]] = train.transpose %[[SW]] [1, 0] : tensor<3x1xf32> -> tensor<1x3xf32>
// CHECK:         fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SWT]]) recipe blockwise format hybrid
// CHECK-SAME:      lhs_block = array<i64: 1, 128>, name = "fc.dgrad", rhs_block = array<i64: 128, 128>
// CHECK-SAME:      : (tensor<256x384xf8E5M2>, tensor<128x384xf8E4M3FN>, tensor<256x3xf32>, tensor<1x3xf32>) -> tensor<256x128xbf16>
// CHECK:         %[[ADYT:.*]] = fp8.amax %[[DY]] recipe blockwise block [1, 128] {transposed} : tensor<256x384xbf16> -> tensor<384x2xf32>
// CHECK:         %[[SDYT:.*]] = fp8.compute_scale %[[ADYT]] for f8E5M2 : tensor<384x2xf32>
// CHECK:         %{{.*}}, %[[DYT:.*]] = fp8.cast_transpose %[[DY]], %[[SDY]], transposed_scale %[[SDYT]] recipe blockwise block [1, 128]
// CHECK:         %[[AXT:.*]] = fp8.amax %[[X]] recipe blockwise block [1, 128] {transposed} : tensor<256x128xbf16> -> tensor<128x2xf32>
// CHECK:         %[[SXT:.*]] = fp8.compute_scale %[[AXT]] for f8E4M3FN : tensor<128x2xf32>
// CHECK:         %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X]], %[[SX]], transposed_scale %[[SXT]] recipe blockwise block [1, 128]
// CHECK:         fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDYT]], %[[SXT]]) recipe blockwise format hybrid
// CHECK-SAME:      lhs_block = array<i64: 1, 128>, name = "fc.wgrad", rhs_block = array<i64: 1, 128>
// CHECK-SAME:      : (tensor<384x256xf8E5M2>, tensor<128x256xf8E4M3FN>, tensor<384x2xf32>, tensor<128x2xf32>) -> tensor<384x128xbf16>
module @blockwise attributes {train.config = {fp8 = {enabled = true, recipe = "blockwise"}}} {
  func.func @train_step(%x: tensor<256x128xbf16>, %w: tensor<384x128xbf16>, %dy: tensor<256x384xbf16>)
      -> (tensor<256x384xbf16>, tensor<256x128xbf16>, tensor<384x128xbf16>) {
    %y = train.linear %x, %w {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<256x128xbf16>, tensor<384x128xbf16>) -> tensor<256x384xbf16>
    %dx = train.matmul %dy, %w {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<256x384xbf16>, tensor<384x128xbf16>) -> tensor<256x128xbf16>
    %dw = train.matmul %dy, %x {name = "fc.wgrad", transpose_lhs, fp8.gemm = {name = "fc", kind = "wgrad", decision = "fp8"}}
        : (tensor<256x384xbf16>, tensor<256x128xbf16>) -> tensor<384x128xbf16>
    return %y, %dx, %dw : tensor<256x384xbf16>, tensor<256x128xbf16>, tensor<384x128xbf16>
  }
}

// -----

// A GEMM the recipe cannot express (K = 64 is no multiple of the 128-element
// block; M = 8 is no multiple of 16) stays bf16, with a warning and its
// `fp8.gemm` decision and reason rewritten, instead of invalid fp8 IR.

// CHECK-LABEL: module @fallback
// CHECK:         train.linear {{.*}}fp8.gemm = {decision = "bf16", kind = "forward", name = "fc", reason = "fp8-insert-casts: input [256, 64]: blockwise scaling with block [1, 128] needs dimension 1 (size 64) to be a multiple of 128"}
// CHECK:         train.linear {{.*}}fp8.gemm = {decision = "bf16", kind = "forward", name = "small", reason = "fp8-insert-casts: FP8 GEMM dimension M = 8 is not a multiple of 16"}
// CHECK-NOT:     fp8.
module @fallback attributes {train.config = {fp8 = {enabled = true, recipe = "blockwise"}}} {
  func.func @train_step(%x: tensor<256x64xbf16>, %w: tensor<128x64xbf16>, %x8: tensor<8x128xbf16>, %w2: tensor<128x128xbf16>)
      -> (tensor<256x128xbf16>, tensor<8x128xbf16>) {
    // expected-warning @+1 {{GEMM 'fc.fwd' stays in bf16: input [256, 64]: blockwise scaling with block [1, 128] needs dimension 1 (size 64) to be a multiple of 128}}
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8", reason = "forced"}}
        : (tensor<256x64xbf16>, tensor<128x64xbf16>) -> tensor<256x128xbf16>
    // expected-warning @+1 {{GEMM 'small.fwd' stays in bf16: FP8 GEMM dimension M = 8 is not a multiple of 16}}
    %z = train.linear %x8, %w2 {fp8.gemm = {name = "small", kind = "forward", decision = "fp8"}}
        : (tensor<8x128xbf16>, tensor<128x128xbf16>) -> tensor<8x128xbf16>
    return %y, %z : tensor<256x128xbf16>, tensor<8x128xbf16>
  }
}

// -----

// bf16 decisions and GEMMs without `fp8.gemm` are left exactly as they are.

// CHECK-LABEL: module @bf16_untouched
// CHECK:         train.linear %{{.*}}, %{{.*}} {fp8.gemm = {decision = "bf16", kind = "forward", name = "fc", reason = "too small"}}
// CHECK:         train.matmul %{{.*}}, %{{.*}} {fp8.gemm = {decision = "bf16", kind = "dgrad", name = "fc"}}
// CHECK:         train.matmul %{{.*}}, %{{.*}} {transpose_lhs}
// CHECK-NOT:     fp8.
module @bf16_untouched attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<128x64xbf16>, %dy: tensor<64x128xbf16>)
      -> (tensor<64x128xbf16>, tensor<64x64xbf16>, tensor<128x64xbf16>) {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "bf16", reason = "too small"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    %dx = train.matmul %dy, %w {fp8.gemm = {name = "fc", kind = "dgrad", decision = "bf16"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    %dw = train.matmul %dy, %x {transpose_lhs} : (tensor<64x128xbf16>, tensor<64x64xbf16>) -> tensor<128x64xbf16>
    return %y, %dx, %dw : tensor<64x128xbf16>, tensor<64x64xbf16>, tensor<128x64xbf16>
  }
}

// -----

// A train.matmul layer C = A·B (A [64, 32], B [32, 48]): forward B is [K, N] and
// needs a cast_transpose. The backward GEMMs come from autodiff's product rule
// (dA = dC·Bᵀ, dB = Aᵀ·dC): the gradient is the operand that is neither A nor B
// of the layer's forward GEMM — the lhs of dgrad, the rhs of wgrad (E5M2 there).

// CHECK-LABEL: module @matmul_layer
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[A:[a-z0-9_]+]]: tensor<64x32xbf16>, %[[B:[a-z0-9_]+]]: tensor<32x48xbf16>, %[[DC:[a-z0-9_]+]]: tensor<64x48xbf16>)
// CHECK:         %[[QA:.*]] = fp8.quantize %[[A]], %[[SA:[^ ]*]] recipe tensorwise : tensor<64x32xbf16>, tensor<f32> -> tensor<64x32xf8E4M3FN>
// CHECK:         %{{.*}}, %[[BT:.*]] = fp8.cast_transpose %[[B]], %[[SB:[^ ]*]] recipe tensorwise : tensor<32x48xbf16>, tensor<f32> -> tensor<32x48xf8E4M3FN>, tensor<48x32xf8E4M3FN>
// CHECK:         fp8.scaled_matmul %[[QA]], %[[BT]] scales(%[[SA]], %[[SB]]) {{.*}}name = "mm.fwd"
// CHECK:         %[[QDC:.*]] = fp8.quantize %[[DC]], %[[SDC:[^ ]*]] recipe tensorwise : tensor<64x48xbf16>, tensor<f32> -> tensor<64x48xf8E5M2>
// CHECK:         %[[QB:.*]] = fp8.quantize %[[B]], %[[SB]] recipe tensorwise : tensor<32x48xbf16>, tensor<f32> -> tensor<32x48xf8E4M3FN>
// CHECK:         fp8.scaled_matmul %[[QDC]], %[[QB]] scales(%[[SDC]], %[[SB]]) {{.*}}name = "mm.dgrad"
// CHECK-SAME:      : (tensor<64x48xf8E5M2>, tensor<32x48xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<64x32xbf16>
// CHECK:         %{{.*}}, %[[AT:.*]] = fp8.cast_transpose %[[A]], %[[SA]] recipe tensorwise : tensor<64x32xbf16>, tensor<f32> -> tensor<64x32xf8E4M3FN>, tensor<32x64xf8E4M3FN>
// CHECK:         %{{.*}}, %[[DCT:.*]] = fp8.cast_transpose %[[DC]], %[[SDC]] recipe tensorwise : tensor<64x48xbf16>, tensor<f32> -> tensor<64x48xf8E5M2>, tensor<48x64xf8E5M2>
// CHECK:         fp8.scaled_matmul %[[AT]], %[[DCT]] scales(%[[SA]], %[[SDC]]) {{.*}}name = "mm.wgrad"
// CHECK-SAME:      : (tensor<32x64xf8E4M3FN>, tensor<48x64xf8E5M2>, tensor<f32>, tensor<f32>) -> tensor<32x48xbf16>
module @matmul_layer attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise"}}} {
  func.func @train_step(%a: tensor<64x32xbf16>, %b: tensor<32x48xbf16>, %dc: tensor<64x48xbf16>)
      -> (tensor<64x48xbf16>, tensor<64x32xbf16>, tensor<32x48xbf16>) {
    %c = train.matmul %a, %b {name = "mm", fp8.gemm = {name = "mm", kind = "forward", decision = "fp8"}}
        : (tensor<64x32xbf16>, tensor<32x48xbf16>) -> tensor<64x48xbf16>
    %da = train.matmul %dc, %b {name = "mm.dgrad", transpose_rhs, fp8.gemm = {name = "mm", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x48xbf16>, tensor<32x48xbf16>) -> tensor<64x32xbf16>
    %db = train.matmul %a, %dc {name = "mm.wgrad", transpose_lhs, fp8.gemm = {name = "mm", kind = "wgrad", decision = "fp8"}}
        : (tensor<64x32xbf16>, tensor<64x48xbf16>) -> tensor<32x48xbf16>
    return %c, %da, %db : tensor<64x48xbf16>, tensor<64x32xbf16>, tensor<32x48xbf16>
  }
}

// -----

// Delayed scaling: per (layer, role) an amax history and a scale are threaded
// through @train_step (inserted before `step`, returned at the end). This step
// quantizes with the incoming scale; it pushes this step's amax, and the next
// scale comes from the updated history (most_recent here) with the incoming
// scale as fallback — refreshed only when (step - 1) % interval == 0. The other
// step functions read the scales only.

// CHECK-LABEL: module @delayed
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<128x64xf32> {{{.*}}train.name = "fc.weight"},
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x32x64xbf16> {train.name = "x"}, %[[DY:[a-z0-9_]+]]: tensor<2x32x128xbf16> {train.name = "dy"},
// CHECK-SAME:    %[[HX:[a-z0-9_]+]]: tensor<4xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.fc.input"},
// CHECK-SAME:    %[[SX:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.input"},
// CHECK-SAME:    %[[HW:[a-z0-9_]+]]: tensor<4xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.fc.weight"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.weight"},
// CHECK-SAME:    %[[HG:[a-z0-9_]+]]: tensor<4xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.fc.grad_output"},
// CHECK-SAME:    %[[SG:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.grad_output"},
// CHECK-SAME:    %[[STEP:[a-z0-9_]+]]: tensor<i64> {train.name = "step"})
// CHECK-SAME:    -> (tensor<2x32x128xbf16> {train.name = "loss"}, tensor<2x32x64xbf16> {train.name = "dx"}, tensor<128x64xbf16> {train.name = "dw"},
// CHECK-SAME:        tensor<4xf32> {train.name = "fp8.amax_history.fc.input"}, tensor<f32> {train.name = "fp8.scale.fc.input"},
// CHECK-SAME:        tensor<4xf32> {train.name = "fp8.amax_history.fc.weight"}, tensor<f32> {train.name = "fp8.scale.fc.weight"},
// CHECK-SAME:        tensor<4xf32> {train.name = "fp8.amax_history.fc.grad_output"}, tensor<f32> {train.name = "fp8.scale.fc.grad_output"})
// CHECK:         %[[WB:.*]] = train.convert %[[W]]
// CHECK:         %[[X2:.*]] = train.reshape %[[X]]
// CHECK:         %[[QX:.*]] = fp8.quantize %[[X2]], %[[SX]] recipe delayed : tensor<64x64xbf16>, tensor<f32> -> tensor<64x64xf8E4M3FN>
// CHECK:         %[[AX:.*]] = fp8.amax %[[X2]] recipe delayed : tensor<64x64xbf16> -> tensor<f32>
// CHECK:         %[[QW:.*]] = fp8.quantize %[[WB]], %[[SW]] recipe delayed
// CHECK:         %[[AW:.*]] = fp8.amax %[[WB]] recipe delayed
// CHECK:         fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe delayed format hybrid {fast_accum, {{.*}}name = "fc.fwd"}
// CHECK:         %[[DY2:.*]] = train.reshape %[[DY]]
// CHECK:         %[[QDY:.*]] = fp8.quantize %[[DY2]], %[[SG]] recipe delayed : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
// CHECK:         %[[AG:.*]] = fp8.amax %[[DY2]] recipe delayed
// CHECK:         %{{.*}}, %[[WT:.*]] = fp8.cast_transpose %[[WB]], %[[SW]] recipe delayed
// CHECK:         fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SG]], %[[SW]]) recipe delayed {{.*}}name = "fc.dgrad"
// CHECK:         %{{.*}}, %[[DYT:.*]] = fp8.cast_transpose %[[DY2]], %[[SG]] recipe delayed
// CHECK:         %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X2]], %[[SX]] recipe delayed
// CHECK:         fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SG]], %[[SX]]) recipe delayed {{.*}}name = "fc.wgrad"
// CHECK-NOT:     fp8.amax
// CHECK:         %[[ONE:.*]] = arith.constant dense<1> : tensor<i64>
// CHECK:         %[[T:.*]] = arith.subi %[[STEP]], %[[ONE]] : tensor<i64>
// CHECK:         %[[INTERVAL:.*]] = arith.constant dense<2> : tensor<i64>
// CHECK:         %[[PHASE:.*]] = arith.remsi %[[T]], %[[INTERVAL]] : tensor<i64>
// CHECK:         %[[ZERO:.*]] = arith.constant dense<0> : tensor<i64>
// CHECK:         %[[REFRESH:.*]] = arith.cmpi eq, %[[PHASE]], %[[ZERO]] : tensor<i64>
// CHECK:         %[[HX2:.*]] = fp8.amax_history_update %[[HX]], %[[AX]] : tensor<4xf32>, tensor<f32>
// CHECK:         %[[MX:.*]] = fp8.amax_from_history %[[HX2]] algo most_recent : tensor<4xf32> -> tensor<f32>
// CHECK:         %[[NX:.*]] = fp8.compute_scale %[[MX]], previous %[[SX]] for f8E4M3FN {margin = 1 : i64} : tensor<f32>, tensor<f32>
// CHECK:         %[[SX2:.*]] = arith.select %[[REFRESH]], %[[NX]], %[[SX]] : tensor<i1>, tensor<f32>
// CHECK:         %[[HW2:.*]] = fp8.amax_history_update %[[HW]], %[[AW]]
// CHECK:         %[[MW:.*]] = fp8.amax_from_history %[[HW2]] algo most_recent
// CHECK:         %[[NW:.*]] = fp8.compute_scale %[[MW]], previous %[[SW]] for f8E4M3FN {margin = 1 : i64}
// CHECK:         %[[SW2:.*]] = arith.select %[[REFRESH]], %[[NW]], %[[SW]]
// CHECK:         %[[HG2:.*]] = fp8.amax_history_update %[[HG]], %[[AG]]
// CHECK:         %[[MG:.*]] = fp8.amax_from_history %[[HG2]] algo most_recent
// CHECK:         %[[NG:.*]] = fp8.compute_scale %[[MG]], previous %[[SG]] for f8E5M2 {margin = 1 : i64}
// CHECK:         %[[SG2:.*]] = arith.select %[[REFRESH]], %[[NG]], %[[SG]]
// CHECK:         return %{{.*}}, %{{.*}}, %{{.*}}, %[[HX2]], %[[SX2]], %[[HW2]], %[[SW2]], %[[HG2]], %[[SG2]] :
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<128x64xf32> {train.name = "fc.weight"}, %[[X:[a-z0-9_]+]]: tensor<2x32x64xbf16> {train.name = "x"},
// CHECK-SAME:    %[[SX:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.input"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.weight"})
// CHECK-SAME:    -> (tensor<2x32x128xbf16> {train.name = "loss"})
// CHECK:         %[[QX:.*]] = fp8.quantize %{{.*}}, %[[SX]] recipe delayed
// CHECK:         %[[QW:.*]] = fp8.quantize %{{.*}}, %[[SW]] recipe delayed
// CHECK:         fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]])
// CHECK-NOT:     fp8.amax
// CHECK-LABEL: func.func @accumulate_step(
// CHECK-SAME:    %[[SG:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.grad_output"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.weight"})
// CHECK-SAME:    -> (tensor<64x64xbf16> {train.name = "dx"})
// CHECK:         fp8.scaled_matmul %{{.*}}, %{{.*}} scales(%[[SG]], %[[SW]])
// CHECK-NOT:     fp8.amax
module @delayed attributes {train.config = {fp8 = {enabled = true, recipe = "delayed", format = "hybrid", amax_history_len = 4,
                                                   amax_compute_algo = "most_recent", interval = 2, margin = 1}}} {
  func.func @train_step(%w: tensor<128x64xf32> {train.init = #train<init normal>, train.init_std = 2.0e-02 : f64, train.name = "fc.weight"},
                        %x: tensor<2x32x64xbf16> {train.name = "x"}, %dy: tensor<2x32x128xbf16> {train.name = "dy"},
                        %step: tensor<i64> {train.name = "step"})
      -> (tensor<2x32x128xbf16> {train.name = "loss"}, tensor<2x32x64xbf16> {train.name = "dx"}, tensor<128x64xbf16> {train.name = "dw"}) {
    %wb = train.convert %w : tensor<128x64xf32> -> tensor<128x64xbf16>
    %y = train.linear %x, %wb {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<2x32x64xbf16>, tensor<128x64xbf16>) -> tensor<2x32x128xbf16>
    %x2 = train.reshape %x : tensor<2x32x64xbf16> -> tensor<64x64xbf16>
    %dy2 = train.reshape %dy : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
    %dx2 = train.matmul %dy2, %wb {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    %dx = train.reshape %dx2 : tensor<64x64xbf16> -> tensor<2x32x64xbf16>
    %dw = train.matmul %dy2, %x2 {name = "fc.wgrad", transpose_lhs, fp8.gemm = {name = "fc", kind = "wgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<64x64xbf16>) -> tensor<128x64xbf16>
    return %y, %dx, %dw : tensor<2x32x128xbf16>, tensor<2x32x64xbf16>, tensor<128x64xbf16>
  }
  func.func @eval_step(%w: tensor<128x64xf32> {train.name = "fc.weight"}, %x: tensor<2x32x64xbf16> {train.name = "x"})
      -> (tensor<2x32x128xbf16> {train.name = "loss"}) {
    %wb = train.convert %w : tensor<128x64xf32> -> tensor<128x64xbf16>
    %y = train.linear %x, %wb {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<2x32x64xbf16>, tensor<128x64xbf16>) -> tensor<2x32x128xbf16>
    return %y : tensor<2x32x128xbf16>
  }
  func.func @accumulate_step(%w: tensor<128x64xf32> {train.name = "fc.weight"}, %dy: tensor<64x128xbf16> {train.name = "dy"})
      -> (tensor<64x64xbf16> {train.name = "dx"}) {
    %wb = train.convert %w : tensor<128x64xf32> -> tensor<128x64xbf16>
    %dx = train.matmul %dy, %wb {name = "fc.dgrad", fp8.gemm = {name = "fc", kind = "dgrad", decision = "fp8"}}
        : (tensor<64x128xbf16>, tensor<128x64xbf16>) -> tensor<64x64xbf16>
    return %dx : tensor<64x64xbf16>
  }
}

// -----

// Delayed scaling with grad_accum_steps G > 1: @accumulate_step pushes each
// micro-batch's amax into `fp8.amax_pending.<key>` (a history of G entries that
// the trainer zeroes before every optimizer step), and @train_step pushes its
// own amax there too and the max of the pending history into the real one, so
// one optimizer step records all its micro-batches.

// CHECK-LABEL: module @delayed_accumulate
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[HX:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.fc.input"},
// CHECK-SAME:    %[[SX:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.input"},
// CHECK-SAME:    %[[PX:[a-z0-9_]+]]: tensor<2xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_pending.fc.input"},
// CHECK-SAME:    %[[HW:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.fc.weight"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.weight"},
// CHECK-SAME:    %[[PW:[a-z0-9_]+]]: tensor<2xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_pending.fc.weight"},
// CHECK-SAME:    %{{[a-z0-9_]+}}: tensor<i64> {train.name = "step"})
// CHECK-NOT:     amax_pending
// CHECK-SAME:    {
// CHECK:         %[[AX:.*]] = fp8.amax %{{.*}} recipe delayed
// CHECK:         %[[AW:.*]] = fp8.amax %{{.*}} recipe delayed
// CHECK:         %[[PX2:.*]] = fp8.amax_history_update %[[PX]], %[[AX]] : tensor<2xf32>, tensor<f32>
// CHECK:         %[[MX:.*]] = fp8.amax_from_history %[[PX2]] algo max : tensor<2xf32> -> tensor<f32>
// CHECK:         %[[HX2:.*]] = fp8.amax_history_update %[[HX]], %[[MX]] : tensor<16xf32>, tensor<f32>
// CHECK:         fp8.compute_scale %{{.*}}, previous %[[SX]]
// CHECK:         %[[PW2:.*]] = fp8.amax_history_update %[[PW]], %[[AW]] : tensor<2xf32>, tensor<f32>
// CHECK:         %[[MW:.*]] = fp8.amax_from_history %[[PW2]] algo max
// CHECK:         %[[HW2:.*]] = fp8.amax_history_update %[[HW]], %[[MW]] : tensor<16xf32>, tensor<f32>
// CHECK:         return %{{.*}}, %[[HX2]], %{{.*}}, %[[HW2]], %{{.*}} :
// CHECK-LABEL: func.func @accumulate_step(
// CHECK-SAME:    %[[SX:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.input"},
// CHECK-SAME:    %[[PX:[a-z0-9_]+]]: tensor<2xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_pending.fc.input"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.weight"},
// CHECK-SAME:    %[[PW:[a-z0-9_]+]]: tensor<2xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_pending.fc.weight"})
// CHECK-SAME:    -> (tensor<64x128xbf16> {train.name = "loss"}, tensor<2xf32> {train.name = "fp8.amax_pending.fc.input"},
// CHECK-SAME:        tensor<2xf32> {train.name = "fp8.amax_pending.fc.weight"})
// CHECK:         fp8.quantize %{{.*}}, %[[SX]] recipe delayed
// CHECK:         %[[AX:.*]] = fp8.amax %{{.*}} recipe delayed
// CHECK:         fp8.quantize %{{.*}}, %[[SW]] recipe delayed
// CHECK:         %[[AW:.*]] = fp8.amax %{{.*}} recipe delayed
// CHECK:         %[[NX:.*]] = fp8.amax_history_update %[[PX]], %[[AX]] : tensor<2xf32>, tensor<f32>
// CHECK:         %[[NW:.*]] = fp8.amax_history_update %[[PW]], %[[AW]] : tensor<2xf32>, tensor<f32>
// CHECK:         return %{{.*}}, %[[NX]], %[[NW]] :
// CHECK-NOT:     fp8.compute_scale
module @delayed_accumulate attributes {train.config = {grad_accum_steps = 2 : i64, fp8 = {enabled = true, recipe = "delayed", format = "e4m3"}}} {
  func.func @train_step(%w: tensor<128x64xf32> {train.init = #train<init normal>, train.init_std = 2.0e-02 : f64, train.name = "fc.weight"},
                        %x: tensor<64x64xbf16> {train.name = "x"}, %step: tensor<i64> {train.name = "step"})
      -> (tensor<64x128xbf16> {train.name = "loss"}) {
    %wb = train.convert %w : tensor<128x64xf32> -> tensor<128x64xbf16>
    %y = train.linear %x, %wb {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    return %y : tensor<64x128xbf16>
  }
  func.func @accumulate_step(%w: tensor<128x64xf32> {train.name = "fc.weight"}, %x: tensor<64x64xbf16> {train.name = "x"})
      -> (tensor<64x128xbf16> {train.name = "loss"}) {
    %wb = train.convert %w : tensor<128x64xf32> -> tensor<128x64xbf16>
    %y = train.linear %x, %wb {name = "fc", fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<128x64xbf16>) -> tensor<64x128xbf16>
    return %y : tensor<64x128xbf16>
  }
}

// -----

// Delayed scaling with the defaults (history 16, max, interval 1: no step
// arithmetic) and power-of-two scales. A layer applied twice quantizes both
// inputs with one scale and pushes the larger of their amaxes.

// CHECK-LABEL: module @delayed_shared_layer
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[X1:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[X2:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<64x64xbf16>,
// CHECK-SAME:    %[[HX:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.shared.input"},
// CHECK-SAME:    %[[SX:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.shared.input"},
// CHECK-SAME:    %[[HW:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.shared.weight"},
// CHECK-SAME:    %[[SW:[a-z0-9_]+]]: tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.shared.weight"})
// CHECK:         fp8.quantize %[[X1]], %[[SX]]
// CHECK:         %[[A1:.*]] = fp8.amax %[[X1]] recipe delayed
// CHECK:         %[[QW:.*]] = fp8.quantize %[[W]], %[[SW]]
// CHECK:         %[[AW:.*]] = fp8.amax %[[W]] recipe delayed
// CHECK:         fp8.scaled_matmul %{{.*}}, %[[QW]] {{.*}} format e4m3
// CHECK:         fp8.quantize %[[X2]], %[[SX]]
// CHECK:         %[[A2:.*]] = fp8.amax %[[X2]] recipe delayed
// CHECK:         fp8.scaled_matmul %{{.*}}, %[[QW]] {{.*}} format e4m3
// CHECK-NOT:     arith.cmpi
// CHECK:         %[[A:.*]] = arith.maximumf %[[A1]], %[[A2]] : tensor<f32>
// CHECK:         %[[HX2:.*]] = fp8.amax_history_update %[[HX]], %[[A]] : tensor<16xf32>, tensor<f32>
// CHECK:         %[[MX:.*]] = fp8.amax_from_history %[[HX2]] algo max : tensor<16xf32> -> tensor<f32>
// CHECK:         %[[SX2:.*]] = fp8.compute_scale %[[MX]], previous %[[SX]] for f8E4M3FN {power_of_2} : tensor<f32>, tensor<f32>
// CHECK:         %[[HW2:.*]] = fp8.amax_history_update %[[HW]], %[[AW]]
// CHECK:         %[[MW:.*]] = fp8.amax_from_history %[[HW2]] algo max
// CHECK:         %[[SW2:.*]] = fp8.compute_scale %[[MW]], previous %[[SW]] for f8E4M3FN {power_of_2}
// CHECK:         return %{{.*}}, %{{.*}}, %[[HX2]], %[[SX2]], %[[HW2]], %[[SW2]] :
module @delayed_shared_layer attributes {train.config = {fp8 = {enabled = true, recipe = "delayed", format = "e4m3", power_of_2_scales = true}}} {
  func.func @train_step(%x1: tensor<64x64xbf16>, %x2: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> (tensor<64x64xbf16>, tensor<64x64xbf16>) {
    %y1 = train.linear %x1, %w {fp8.gemm = {name = "shared", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    %y2 = train.linear %x2, %w {fp8.gemm = {name = "shared", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y1, %y2 : tensor<64x64xbf16>, tensor<64x64xbf16>
  }
}

// -----

// A scale that @eval_step reads but @train_step never updates (its GEMM is bf16
// there) would stay 1 forever: a warning says so.

// CHECK-LABEL: module @delayed_stale_scale
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:    tensor<f32> {train.init = #train<init ones>, train.name = "fp8.scale.fc.input"}
module @delayed_stale_scale attributes {train.config = {fp8 = {enabled = true, recipe = "delayed"}}} {
  func.func @train_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "bf16"}}
        : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
  // expected-warning @+2 {{delayed scaling: 'fp8.scale.fc.input' is not updated by @train_step; it keeps its initial value 1}}
  // expected-warning @+1 {{delayed scaling: 'fp8.scale.fc.weight' is not updated by @train_step; it keeps its initial value 1}}
  func.func @eval_step(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %y = train.linear %x, %w {fp8.gemm = {name = "fc", kind = "forward", decision = "fp8"}}
        : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %y : tensor<64x64xbf16>
  }
}
