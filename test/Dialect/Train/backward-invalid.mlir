// RUN: fp8-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the backward ops, and of the step-function argument
// attributes that fp8-autodiff writes (train.init, train.init_std).

func.func @embedding_grad_table_rank(%dy: tensor<8x64x768xbf16>, %ids: tensor<8x64xi32>) {
  // expected-error@+1 {{'train.embedding_grad' op result must be [vocab, dim], got shape [50304]}}
  %g = train.embedding_grad %dy[%ids] : tensor<8x64x768xbf16>, tensor<8x64xi32> -> tensor<50304xbf16>
  return
}

// -----

func.func @embedding_grad_shape(%dy: tensor<8x64x512xbf16>, %ids: tensor<8x64xi32>) {
  // expected-error@+1 {{'train.embedding_grad' op grad has shape [8, 64, 512], expected [8, 64, 768]}}
  %g = train.embedding_grad %dy[%ids] : tensor<8x64x512xbf16>, tensor<8x64xi32> -> tensor<50304x768xbf16>
  return
}

// -----

func.func @embedding_grad_type(%dy: tensor<8x64x768xbf16>, %ids: tensor<8x64xi32>) {
  // expected-error@+1 {{'train.embedding_grad' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %g = train.embedding_grad %dy[%ids] : tensor<8x64x768xbf16>, tensor<8x64xi32> -> tensor<50304x768xf32>
  return
}

// -----

func.func @reduce_sum_not_trailing(%dy: tensor<8x3072xbf16>) {
  // expected-error@+1 {{'train.reduce_sum' op result shape [768] is not a trailing part of the input shape [8, 3072]}}
  %b = train.reduce_sum %dy : tensor<8x3072xbf16> -> tensor<768xbf16>
  return
}

// -----

func.func @reduce_sum_rank(%dy: tensor<3072xbf16>) {
  // expected-error@+1 {{'train.reduce_sum' op result shape [1, 3072] is not a trailing part of the input shape [3072]}}
  %b = train.reduce_sum %dy : tensor<3072xbf16> -> tensor<1x3072xbf16>
  return
}

// -----

func.func @reduce_sum_type(%dy: tensor<8x3072xbf16>) {
  // expected-error@+1 {{'train.reduce_sum' op cannot change the element type ('bf16' to 'f32')}}
  %b = train.reduce_sum %dy : tensor<8x3072xbf16> -> tensor<3072xf32>
  return
}

// -----

func.func @layer_norm_grad_rank(%dy: tensor<f32>, %x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op input must have rank >= 1}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<f32>, tensor<f32>, tensor<1xf32>) -> (tensor<f32>, tensor<1xf32>, tensor<1xf32>)
  return
}

// -----

func.func @layer_norm_grad_grad(%dy: tensor<8x64xf32>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op grad has shape [8, 64], expected [8, 768]}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x64xf32>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @layer_norm_grad_weight(%dy: tensor<8x768xf32>, %x: tensor<8x768xf32>, %w: tensor<512xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op weight has shape [512], expected [768]}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<512xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @layer_norm_grad_input_grad(%dy: tensor<8x768xf32>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op input_grad has shape [768, 8], expected [8, 768]}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<768x8xf32>, tensor<768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @layer_norm_grad_weight_grad(%dy: tensor<8x768xf32>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op weight_grad has shape [8, 768], expected [768]}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @layer_norm_grad_bias_grad(%dy: tensor<8x768xf32>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op bias_grad has shape [8], expected [768]}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<8xf32>)
  return
}

// -----

func.func @layer_norm_grad_eps(%dy: tensor<8x768xf32>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op 'eps' must be positive, got 0}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 0.0 : f64}
      : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @layer_norm_grad_type(%dy: tensor<8x768xbf16>, %x: tensor<8x768xf32>, %w: tensor<768xf32>) {
  // expected-error@+1 {{'train.layer_norm_grad' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %dx, %dw, %db = train.layer_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xbf16>, tensor<8x768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>)
  return
}

// -----

func.func @rms_norm_grad_weight_grad(%dy: tensor<8x768xbf16>, %x: tensor<8x768xbf16>, %w: tensor<768xbf16>) {
  // expected-error@+1 {{'train.rms_norm_grad' op weight_grad has shape [1], expected [768]}}
  %dx, %dw = train.rms_norm_grad %dy, %x, %w {eps = 1.0e-05 : f64}
      : (tensor<8x768xbf16>, tensor<8x768xbf16>, tensor<768xbf16>) -> (tensor<8x768xbf16>, tensor<1xbf16>)
  return
}

// -----

func.func @rms_norm_grad_eps(%dy: tensor<8x768xbf16>, %x: tensor<8x768xbf16>, %w: tensor<768xbf16>) {
  // expected-error@+1 {{'train.rms_norm_grad' op 'eps' must be positive, got -1}}
  %dx, %dw = train.rms_norm_grad %dy, %x, %w {eps = -1.0 : f64}
      : (tensor<8x768xbf16>, tensor<8x768xbf16>, tensor<768xbf16>) -> (tensor<8x768xbf16>, tensor<768xbf16>)
  return
}

// -----

func.func @attention_grad_rank(%do: tensor<4x128xbf16>, %q: tensor<4x128xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op query, key and value must be [batch, seq, width]}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64}
      : (tensor<4x128xbf16>, tensor<4x128xbf16>, tensor<4x128xbf16>, tensor<4x128xbf16>)
      -> (tensor<4x128xbf16>, tensor<4x128xbf16>, tensor<4x128xbf16>)
  return
}

// -----

func.func @attention_grad_heads(%do: tensor<2x16x64xbf16>, %q: tensor<2x16x64xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op n_kv_heads (3) must divide n_heads (4)}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 3 : i64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>)
      -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>)
  return
}

// -----

func.func @attention_grad_grad(%do: tensor<2x16x32xbf16>, %q: tensor<2x16x64xbf16>, %kv: tensor<2x16x32xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op grad has shape [2, 16, 32], expected [2, 16, 64]}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %kv, %kv {n_heads = 4 : i64, n_kv_heads = 2 : i64}
      : (tensor<2x16x32xbf16>, tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
      -> (tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
  return
}

// -----

func.func @attention_grad_query_grad(%do: tensor<2x16x64xbf16>, %q: tensor<2x16x64xbf16>, %kv: tensor<2x16x32xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op query_grad has shape [2, 16, 32], expected [2, 16, 64]}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %kv, %kv {n_heads = 4 : i64, n_kv_heads = 2 : i64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
      -> (tensor<2x16x32xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
  return
}

// -----

func.func @attention_grad_key_grad(%do: tensor<2x16x64xbf16>, %q: tensor<2x16x64xbf16>, %kv: tensor<2x16x32xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op key_grad has shape [2, 16, 64], expected [2, 16, 32]}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %kv, %kv {n_heads = 4 : i64, n_kv_heads = 2 : i64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
      -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x32xbf16>)
  return
}

// -----

func.func @attention_grad_value_grad(%do: tensor<2x16x64xbf16>, %q: tensor<2x16x64xbf16>, %kv: tensor<2x16x32xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op value_grad has shape [2, 16, 64], expected [2, 16, 32]}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %kv, %kv {n_heads = 4 : i64, n_kv_heads = 2 : i64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x32xbf16>)
      -> (tensor<2x16x64xbf16>, tensor<2x16x32xbf16>, tensor<2x16x64xbf16>)
  return
}

// -----

func.func @attention_grad_rope(%do: tensor<2x16x12xbf16>, %q: tensor<2x16x12xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op rotary embeddings need an even head_dim, got 3}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, rope_theta = 1.0e+04 : f64}
      : (tensor<2x16x12xbf16>, tensor<2x16x12xbf16>, tensor<2x16x12xbf16>, tensor<2x16x12xbf16>)
      -> (tensor<2x16x12xbf16>, tensor<2x16x12xbf16>, tensor<2x16x12xbf16>)
  return
}

// -----

func.func @attention_grad_type(%do: tensor<2x16x64xf32>, %q: tensor<2x16x64xbf16>) {
  // expected-error@+1 {{'train.attention_grad' op expects one floating-point element type, got 'f32' and 'bf16' (insert a train.convert)}}
  %dq, %dk, %dv = train.attention_grad %do, %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64}
      : (tensor<2x16x64xf32>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>)
      -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>)
  return
}

// -----

func.func @softmax_cross_entropy_grad_rank(%l: tensor<256xbf16>, %t: tensor<i32>, %d: tensor<f32>) {
  // expected-error@+1 {{'train.softmax_cross_entropy_grad' op logits must be [..., vocab] with rank >= 2, got [256]}}
  %g = train.softmax_cross_entropy_grad %l, %t, %d : (tensor<256xbf16>, tensor<i32>, tensor<f32>) -> tensor<256xbf16>
  return
}

// -----

func.func @softmax_cross_entropy_grad_targets(%l: tensor<8x64x256xbf16>, %t: tensor<8x32xi32>, %d: tensor<f32>) {
  // expected-error@+1 {{'train.softmax_cross_entropy_grad' op targets has shape [8, 32], expected [8, 64]}}
  %g = train.softmax_cross_entropy_grad %l, %t, %d
      : (tensor<8x64x256xbf16>, tensor<8x32xi32>, tensor<f32>) -> tensor<8x64x256xbf16>
  return
}

// -----

func.func @softmax_cross_entropy_grad_result(%l: tensor<8x64x256xbf16>, %t: tensor<8x64xi32>, %d: tensor<f32>) {
  // expected-error@+1 {{'train.softmax_cross_entropy_grad' op result has shape [512, 256], expected [8, 64, 256]}}
  %g = train.softmax_cross_entropy_grad %l, %t, %d
      : (tensor<8x64x256xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<512x256xbf16>
  return
}

// -----

func.func @softmax_cross_entropy_grad_type(%l: tensor<8x64x256xbf16>, %t: tensor<8x64xi32>, %d: tensor<f32>) {
  // expected-error@+1 {{'train.softmax_cross_entropy_grad' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %g = train.softmax_cross_entropy_grad %l, %t, %d
      : (tensor<8x64x256xbf16>, tensor<8x64xi32>, tensor<f32>) -> tensor<8x64x256xf32>
  return
}

// -----

func.func @clip_coef_max_norm(%n: tensor<f32>) {
  // expected-error@+1 {{'train.clip_coef' op 'max_norm' must be positive, got 0}}
  %c = train.clip_coef %n {max_norm = 0.0 : f64} : tensor<f32>
  return
}

// -----

func.func @lr_schedule_lr(%step: tensor<i64>) {
  // expected-error@+1 {{'train.lr_schedule' op 'lr' must be positive, got -1.000000e-03}}
  %lr = train.lr_schedule %step constant {lr = -1.0e-03 : f64} : tensor<i64> -> tensor<f32>
  return
}

// -----

func.func @lr_schedule_warmup(%step: tensor<i64>) {
  // expected-error@+1 {{'train.lr_schedule' op 'warmup_steps' must be >= 0, got -5}}
  %lr = train.lr_schedule %step constant {lr = 1.0e-03 : f64, warmup_steps = -5 : i64} : tensor<i64> -> tensor<f32>
  return
}

// -----

func.func @lr_schedule_constant_extras(%step: tensor<i64>) {
  // expected-error@+1 {{'train.lr_schedule' op 'total_steps' and 'min_lr' only apply to the cosine schedule}}
  %lr = train.lr_schedule %step constant {lr = 1.0e-03 : f64, total_steps = 100 : i64} : tensor<i64> -> tensor<f32>
  return
}

// -----

func.func @lr_schedule_cosine_total(%step: tensor<i64>) {
  // expected-error@+1 {{'train.lr_schedule' op the cosine schedule needs 'total_steps' > 'warmup_steps', got 100 and 100}}
  %lr = train.lr_schedule %step cosine {lr = 1.0e-03 : f64, warmup_steps = 100 : i64, total_steps = 100 : i64}
      : tensor<i64> -> tensor<f32>
  return
}

// -----

func.func @lr_schedule_cosine_min_lr(%step: tensor<i64>) {
  // expected-error@+1 {{'train.lr_schedule' op 'min_lr' must be in [0, lr], got 1.000000e-02}}
  %lr = train.lr_schedule %step cosine {lr = 1.0e-03 : f64, total_steps = 100 : i64, min_lr = 1.0e-02 : f64}
      : tensor<i64> -> tensor<f32>
  return
}

// -----

// expected-error@+1 {{'func.func' op argument 0: 'train.init' must be a #train<init ...> attribute}}
func.func @init_kind(%w: tensor<8xf32> {train.name = "w", train.init = "normal"}) {
  return
}

// -----

// expected-error@+1 {{'func.func' op argument 0: 'train.init_std' must be a positive float}}
func.func @init_std(%w: tensor<8xf32> {train.name = "w", train.init = #train<init normal>, train.init_std = 0.0 : f64}) {
  return
}

// -----

func.func @slice_grad_rank(%dk: tensor<8x768xbf16>) {
  // expected-error@+1 {{'train.slice_grad' op grad [8, 768] and result [8, 64, 2304] differ in rank}}
  %g = train.slice_grad %dk dim 2 offset 0 : tensor<8x768xbf16> -> tensor<8x64x2304xbf16>
  return
}

// -----

func.func @slice_grad_dim(%dk: tensor<8x64x768xbf16>) {
  // expected-error@+1 {{'train.slice_grad' op dim 3 is out of range for a result of rank 3}}
  %g = train.slice_grad %dk dim 3 offset 0 : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
  return
}

// -----

func.func @slice_grad_range(%dk: tensor<8x64x768xbf16>) {
  // expected-error@+1 {{'train.slice_grad' op range [1600, 1600 + 768) does not fit in dimension 2 of size 2304}}
  %g = train.slice_grad %dk dim 2 offset 1600 : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
  return
}

// -----

func.func @slice_grad_shape(%dk: tensor<8x32x768xbf16>) {
  // expected-error@+1 {{'train.slice_grad' op grad has shape [8, 32, 768], expected [8, 64, 768]}}
  %g = train.slice_grad %dk dim 2 offset 0 : tensor<8x32x768xbf16> -> tensor<8x64x2304xbf16>
  return
}

// -----

func.func @slice_grad_type(%dk: tensor<8x64x768xbf16>) {
  // expected-error@+1 {{'train.slice_grad' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %g = train.slice_grad %dk dim 2 offset 0 : tensor<8x64x768xbf16> -> tensor<8x64x2304xf32>
  return
}
