// RUN: fp8-opt %s | fp8-opt | FileCheck %s
// RUN: fp8-opt %s --mlir-print-op-generic | fp8-opt | FileCheck %s

// Round trip of every backward op of the train dialect (the ops fp8-autodiff
// emits), in its custom form and through the generic form.

// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<8x64x768xbf16>, %[[IDS:[a-z0-9_]+]]: tensor<8x64xi32>)
func.func @embedding_grad(%dy: tensor<8x64x768xbf16>, %ids: tensor<8x64xi32>) -> tensor<50304x768xbf16> {
  // CHECK: %[[G:.*]] = train.embedding_grad %[[DY]][%[[IDS]]] : tensor<8x64x768xbf16>, tensor<8x64xi32> -> tensor<50304x768xbf16>
  %g = train.embedding_grad %dy[%ids] : tensor<8x64x768xbf16>, tensor<8x64xi32> -> tensor<50304x768xbf16>
  // CHECK: return %[[G]]
  return %g : tensor<50304x768xbf16>
}

// CHECK-LABEL: func.func @reduce_sum(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<8x64x3072xbf16>)
func.func @reduce_sum(%dy: tensor<8x64x3072xbf16>) -> (tensor<3072xbf16>, tensor<64x3072xbf16>, tensor<8x64x3072xbf16>) {
  // CHECK: %[[B:.*]] = train.reduce_sum %[[DY]] : tensor<8x64x3072xbf16> -> tensor<3072xbf16>
  %b = train.reduce_sum %dy : tensor<8x64x3072xbf16> -> tensor<3072xbf16>
  // CHECK: %[[R:.*]] = train.reduce_sum %[[DY]] : tensor<8x64x3072xbf16> -> tensor<64x3072xbf16>
  %r = train.reduce_sum %dy : tensor<8x64x3072xbf16> -> tensor<64x3072xbf16>
  // CHECK: %[[S:.*]] = train.reduce_sum %[[DY]] : tensor<8x64x3072xbf16> -> tensor<8x64x3072xbf16>
  %s = train.reduce_sum %dy : tensor<8x64x3072xbf16> -> tensor<8x64x3072xbf16>
  // CHECK: return %[[B]], %[[R]], %[[S]]
  return %b, %r, %s : tensor<3072xbf16>, tensor<64x3072xbf16>, tensor<8x64x3072xbf16>
}

// The tanh approximation is the default and is not printed.
// CHECK-LABEL: func.func @activation_grads(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<512x3072xbf16>, %[[X:[a-z0-9_]+]]: tensor<512x3072xbf16>)
func.func @activation_grads(%dy: tensor<512x3072xbf16>, %x: tensor<512x3072xbf16>)
    -> (tensor<512x3072xbf16>, tensor<512x3072xbf16>, tensor<512x3072xbf16>, tensor<512x3072xbf16>) {
  // CHECK: %[[G0:.*]] = train.gelu_grad %[[DY]], %[[X]] : tensor<512x3072xbf16>
  %g0 = train.gelu_grad %dy, %x : tensor<512x3072xbf16>
  // CHECK: %[[G1:.*]] = train.gelu_grad %[[DY]], %[[X]] approximate none : tensor<512x3072xbf16>
  %g1 = train.gelu_grad %dy, %x approximate none : tensor<512x3072xbf16>
  // CHECK: %[[S:.*]] = train.silu_grad %[[DY]], %[[X]] : tensor<512x3072xbf16>
  %s = train.silu_grad %dy, %x : tensor<512x3072xbf16>
  // CHECK: %[[R:.*]] = train.relu2_grad %[[DY]], %[[X]] : tensor<512x3072xbf16>
  %r = train.relu2_grad %dy, %x : tensor<512x3072xbf16>
  // CHECK: return %[[G0]], %[[G1]], %[[S]], %[[R]]
  return %g0, %g1, %s, %r
      : tensor<512x3072xbf16>, tensor<512x3072xbf16>, tensor<512x3072xbf16>, tensor<512x3072xbf16>
}

// CHECK-LABEL: func.func @swiglu_grad(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<512x8192xbf16>, %[[G:[a-z0-9_]+]]: tensor<512x8192xbf16>, %[[U:[a-z0-9_]+]]: tensor<512x8192xbf16>)
func.func @swiglu_grad(%dy: tensor<512x8192xbf16>, %gate: tensor<512x8192xbf16>, %up: tensor<512x8192xbf16>)
    -> (tensor<512x8192xbf16>, tensor<512x8192xbf16>) {
  // CHECK: %[[DG:[a-z0-9_]+]], %[[DU:[a-z0-9_]+]] = train.swiglu_grad %[[DY]], %[[G]], %[[U]] : tensor<512x8192xbf16>
  %dg, %du = train.swiglu_grad %dy, %gate, %up : tensor<512x8192xbf16>
  // CHECK: return %[[DG]], %[[DU]]
  return %dg, %du : tensor<512x8192xbf16>, tensor<512x8192xbf16>
}

// CHECK-LABEL: func.func @norm_grads(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<8x64x768xbf16>, %[[X:[a-z0-9_]+]]: tensor<8x64x768xbf16>, %[[W:[a-z0-9_]+]]: tensor<768xbf16>)
func.func @norm_grads(%dy: tensor<8x64x768xbf16>, %x: tensor<8x64x768xbf16>, %w: tensor<768xbf16>)
    -> (tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>) {
  // CHECK: %[[LX:[a-z0-9_]+]], %[[LW:[a-z0-9_]+]], %[[LB:[a-z0-9_]+]] = train.layer_norm_grad %[[DY]], %[[X]], %[[W]] {eps = 1.000000e-05 : f64} : (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>) -> (tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>)
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.000000e-05 : f64}
      : (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>)
      -> (tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>)
  // CHECK: %[[RX:[a-z0-9_]+]], %[[RW:[a-z0-9_]+]] = train.rms_norm_grad %[[DY]], %[[X]], %[[W]] {eps = 9.9999999747524271E-7 : f64} : (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>) -> (tensor<8x64x768xbf16>, tensor<768xbf16>)
  %rx, %rw = train.rms_norm_grad %dy, %x, %w {eps = 9.9999999747524271E-7 : f64}
      : (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>)
      -> (tensor<8x64x768xbf16>, tensor<768xbf16>)
  // CHECK: return %[[LX]], %[[LW]], %[[LB]], %[[RX]], %[[RW]]
  return %dx, %dw, %db, %rx, %rw
      : tensor<8x64x768xbf16>, tensor<768xbf16>, tensor<768xbf16>, tensor<8x64x768xbf16>, tensor<768xbf16>
}

// CHECK-LABEL: func.func @attention_grad(
// CHECK-SAME:    %[[DO:[a-z0-9_]+]]: tensor<4x128x2048xbf16>, %[[Q:[a-z0-9_]+]]: tensor<4x128x2048xbf16>, %[[K:[a-z0-9_]+]]: tensor<4x128x512xbf16>, %[[V:[a-z0-9_]+]]: tensor<4x128x512xbf16>)
func.func @attention_grad(%do: tensor<4x128x2048xbf16>, %q: tensor<4x128x2048xbf16>,
                          %k: tensor<4x128x512xbf16>, %v: tensor<4x128x512xbf16>)
    -> (tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>, tensor<4x128x2048xbf16>) {
  // CHECK: %[[DQ:[a-z0-9_]+]], %[[DK:[a-z0-9_]+]], %[[DV:[a-z0-9_]+]] = train.attention_grad %[[DO]], %[[Q]], %[[K]], %[[V]] {causal, n_heads = 32 : i64, n_kv_heads = 8 : i64, rope_theta = 5.000000e+05 : f64} : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>) -> (tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>)
  %dq, %dk, %dv = train.attention_grad %do, %q, %k, %v
      {n_heads = 32 : i64, n_kv_heads = 8 : i64, causal, rope_theta = 5.000000e+05 : f64}
      : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>)
      -> (tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>)
  // Multi-head, not causal, no RoPE.
  // CHECK: %[[MQ:[a-z0-9_]+]], %{{.*}}, %{{.*}} = train.attention_grad %[[DO]], %[[Q]], %[[Q]], %[[Q]] {n_heads = 16 : i64, n_kv_heads = 16 : i64} : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>) -> (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>)
  %mq, %mk, %mv = train.attention_grad %do, %q, %q, %q {n_heads = 16 : i64, n_kv_heads = 16 : i64}
      : (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>)
      -> (tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>, tensor<4x128x2048xbf16>)
  // CHECK: return %[[DQ]], %[[DK]], %[[DV]], %[[MQ]]
  return %dq, %dk, %dv, %mq
      : tensor<4x128x2048xbf16>, tensor<4x128x512xbf16>, tensor<4x128x512xbf16>, tensor<4x128x2048xbf16>
}

// CHECK-LABEL: func.func @softmax_cross_entropy_grad(
// CHECK-SAME:    %[[L:[a-z0-9_]+]]: tensor<8x64x50304xbf16>, %[[T:[a-z0-9_]+]]: tensor<8x64xi32>, %[[D:[a-z0-9_]+]]: tensor<f32>)
func.func @softmax_cross_entropy_grad(%logits: tensor<8x64x50304xbf16>, %targets: tensor<8x64xi32>,
                                      %dloss: tensor<f32>) -> (tensor<8x64x50304xbf16>, tensor<8x64x50304xbf16>) {
  // CHECK: %[[G:.*]] = train.softmax_cross_entropy_grad %[[L]], %[[T]], %[[D]] : (tensor<8x64x50304xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x50304xbf16>
  %g = train.softmax_cross_entropy_grad %logits, %targets, %dloss
      : (tensor<8x64x50304xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x50304xbf16>
  // CHECK: %[[I:.*]] = train.softmax_cross_entropy_grad %[[L]], %[[T]], %[[D]] {ignore_index = -1 : i64} : (tensor<8x64x50304xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x50304xbf16>
  %i = train.softmax_cross_entropy_grad %logits, %targets, %dloss {ignore_index = -1 : i64}
      : (tensor<8x64x50304xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x50304xbf16>
  // CHECK: return %[[G]], %[[I]]
  return %g, %i : tensor<8x64x50304xbf16>, tensor<8x64x50304xbf16>
}

// CHECK-LABEL: func.func @clipping(
// CHECK-SAME:    %[[G:[a-z0-9_]+]]: tensor<768x768xf32>, %[[H:[a-z0-9_]+]]: tensor<768xbf16>, %[[N:[a-z0-9_]+]]: tensor<f32>)
func.func @clipping(%g: tensor<768x768xf32>, %h: tensor<768xbf16>, %norm: tensor<f32>)
    -> (tensor<768x768xf32>, tensor<768xbf16>) {
  // CHECK: %[[C:.*]] = train.clip_coef %[[N]] {max_norm = 1.000000e+00 : f64} : tensor<f32>
  %coef = train.clip_coef %norm {max_norm = 1.000000e+00 : f64} : tensor<f32>
  // CHECK: %[[G1:.*]] = train.mul_scalar %[[G]], %[[C]] : tensor<768x768xf32>, tensor<f32>
  %g1 = train.mul_scalar %g, %coef : tensor<768x768xf32>, tensor<f32>
  // CHECK: %[[H1:.*]] = train.mul_scalar %[[H]], %[[C]] : tensor<768xbf16>, tensor<f32>
  %h1 = train.mul_scalar %h, %coef : tensor<768xbf16>, tensor<f32>
  // CHECK: return %[[G1]], %[[H1]]
  return %g1, %h1 : tensor<768x768xf32>, tensor<768xbf16>
}

// Defaults (warmup_steps = 0, total_steps = 0, min_lr = 0) are not printed.
// CHECK-LABEL: func.func @lr_schedule(
// CHECK-SAME:    %[[S:[a-z0-9_]+]]: tensor<i64>)
func.func @lr_schedule(%step: tensor<i64>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
  // CHECK: %[[C:.*]] = train.lr_schedule %[[S]] constant {lr = 1.000000e-03 : f64} : tensor<i64> -> tensor<f32>
  %c = train.lr_schedule %step constant {lr = 1.000000e-03 : f64} : tensor<i64> -> tensor<f32>
  // CHECK: %[[W:.*]] = train.lr_schedule %[[S]] constant {lr = 1.000000e-03 : f64, warmup_steps = 10 : i64} : tensor<i64> -> tensor<f32>
  %w = train.lr_schedule %step constant {lr = 1.000000e-03 : f64, warmup_steps = 10 : i64}
      : tensor<i64> -> tensor<f32>
  // CHECK: %[[COS:.*]] = train.lr_schedule %[[S]] cosine {lr = 6.000000e-04 : f64, min_lr = 6.000000e-05 : f64, total_steps = 5000 : i64, warmup_steps = 100 : i64} : tensor<i64> -> tensor<f32>
  %cos = train.lr_schedule %step cosine {lr = 6.000000e-04 : f64, warmup_steps = 100 : i64,
                                         total_steps = 5000 : i64, min_lr = 6.000000e-05 : f64}
      : tensor<i64> -> tensor<f32>
  // CHECK: return %[[C]], %[[W]], %[[COS]]
  return %c, %w, %cos : tensor<f32>, tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @slice_grad(
// CHECK-SAME:    %[[DK:[a-z0-9_]+]]: tensor<8x64x768xbf16>)
func.func @slice_grad(%dk: tensor<8x64x768xbf16>) -> tensor<8x64x2304xbf16> {
  // CHECK: %[[G:.*]] = train.slice_grad %[[DK]] dim 2 offset 768 : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
  %g = train.slice_grad %dk dim 2 offset 768 : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
  // CHECK: return %[[G]]
  return %g : tensor<8x64x2304xbf16>
}
