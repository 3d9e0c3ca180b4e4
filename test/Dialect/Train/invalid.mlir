// RUN: fp8-opt %s -split-input-file -verify-diagnostics

// Every diagnostic of the train dialect's verifiers (lib/Dialect/Train/IR), one per
// split, matched in full; then a few of the ODS-generated type constraints.

//===----------------------------------------------------------------------===//
// train.param, train.input
//===----------------------------------------------------------------------===//

func.func @param_name_empty_segment() {
  // expected-error @+1 {{'train.param' op name 'transformer..weight' is not a qualified name (dot-separated identifiers or numbers)}}
  %w = train.param "transformer..weight" init zeros : tensor<4xf32>
  return
}

// -----

func.func @param_name_empty() {
  // expected-error @+1 {{'train.param' op name '' is not a qualified name (dot-separated identifiers or numbers)}}
  %w = train.param "" init zeros : tensor<4xf32>
  return
}

// -----

func.func @param_name_segment_starts_with_digit() {
  // expected-error @+1 {{'train.param' op name 'h.3a.weight' is not a qualified name (dot-separated identifiers or numbers)}}
  %w = train.param "h.3a.weight" init zeros : tensor<4xf32>
  return
}

// -----

func.func @param_name_bad_character() {
  // expected-error @+1 {{'train.param' op name 'mlp/c_fc.weight' is not a qualified name (dot-separated identifiers or numbers)}}
  %w = train.param "mlp/c_fc.weight" init zeros : tensor<4xf32>
  return
}

// -----

func.func @param_name_trailing_dot() {
  // expected-error @+1 {{'train.param' op name 'lm_head.' is not a qualified name (dot-separated identifiers or numbers)}}
  %w = train.param "lm_head." init zeros : tensor<4xf32>
  return
}

// -----

func.func @param_duplicate_name() {
  %a = train.param "transformer.h.0.ln_1.weight" init ones : tensor<4xf32>
  // expected-error @+1 {{'train.param' op name 'transformer.h.0.ln_1.weight' is already declared}}
  %b = train.param "transformer.h.0.ln_1.weight" init zeros : tensor<4xf32>
  return
}

// -----

// Parameters and inputs share one namespace.
func.func @input_duplicates_param() {
  %a = train.param "tokens" init zeros : tensor<4xf32>
  // expected-error @+1 {{'train.input' op name 'tokens' is already declared}}
  %b = train.input "tokens" : tensor<4xi32>
  return
}

// -----

func.func @param_duplicates_input() {
  %a = train.input "targets" : tensor<4xi64>
  // expected-error @+1 {{'train.param' op name 'targets' is already declared}}
  %b = train.param "targets" init zeros : tensor<4xf32>
  return
}

// -----

func.func @input_name_invalid() {
  // expected-error @+1 {{'train.input' op name 'batch tokens' is not a qualified name (dot-separated identifiers or numbers)}}
  %t = train.input "batch tokens" : tensor<4xi32>
  return
}

// -----

func.func @param_normal_without_std() {
  // expected-error @+1 {{'train.param' op 'normal' initialisation of 'lm_head.weight' requires 'std'}}
  %w = train.param "lm_head.weight" init normal : tensor<8x4xf32>
  return
}

// -----

func.func @param_std_zero() {
  // expected-error @+1 {{'train.param' op 'std' must be positive, got 0.000000e+00}}
  %w = train.param "lm_head.weight" init normal std 0.0 : tensor<8x4xf32>
  return
}

// -----

func.func @param_std_negative() {
  // expected-error @+1 {{'train.param' op 'std' must be positive, got -2.000000e-02}}
  %w = train.param "lm_head.weight" init normal std -0.02 : tensor<8x4xf32>
  return
}

// -----

func.func @param_std_with_zeros() {
  // expected-error @+1 {{'train.param' op 'std' is only meaningful with 'normal' initialisation}}
  %b = train.param "lm_head.bias" init zeros std 2.000000e-02 : tensor<8xf32>
  return
}

// -----

func.func @param_std_with_ones() {
  // expected-error @+1 {{'train.param' op 'std' is only meaningful with 'normal' initialisation}}
  %g = train.param "ln_f.weight" init ones std 1.0 : tensor<8xf32>
  return
}

//===----------------------------------------------------------------------===//
// train.name argument attributes (TrainDialect.cpp)
//===----------------------------------------------------------------------===//

// -----

// expected-error @+1 {{'func.func' op unknown train dialect argument attribute 'train.label'}}
func.func @arg_attr_unknown(%x: tensor<4xf32> {train.label = "x"}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 1: 'train.name' must be a string attribute}}
func.func @arg_attr_not_string(%x: tensor<4xf32> {train.name = "x"}, %y: tensor<4xf32> {train.name = 3 : i64}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'transformer.h.0..weight' is not a qualified name (dot-separated identifiers or numbers)}}
func.func @arg_attr_invalid_name(%x: tensor<4xf32> {train.name = "transformer.h.0..weight"}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op arguments 0 and 2 are both named 'tokens'}}
func.func @arg_attr_duplicate_name(%x: tensor<4xi32> {train.name = "tokens"}, %y: tensor<4xi32> {train.name = "targets"}, %z: tensor<4xi32> {train.name = "tokens"}) {
  return
}

//===----------------------------------------------------------------------===//
// train.embedding
//===----------------------------------------------------------------------===//

// -----

func.func @embedding_table_rank(%table: tensor<128xbf16>, %ids: tensor<2x16xi32>) {
  // expected-error @+1 {{'train.embedding' op table must be [vocab, dim], got shape [128]}}
  %h = train.embedding %table[%ids] : tensor<128xbf16>, tensor<2x16xi32> -> tensor<2x16xbf16>
  return
}

// -----

func.func @embedding_result_shape(%table: tensor<128x64xbf16>, %ids: tensor<2x16xi32>) {
  // expected-error @+1 {{'train.embedding' op result has shape [2, 16, 128], expected [2, 16, 64]}}
  %h = train.embedding %table[%ids] : tensor<128x64xbf16>, tensor<2x16xi32> -> tensor<2x16x128xbf16>
  return
}

// -----

func.func @embedding_result_element_type(%table: tensor<128x64xf32>, %ids: tensor<2x16xi32>) {
  // expected-error @+1 {{'train.embedding' op expects one floating-point element type, got 'f32' and 'bf16' (insert a train.convert)}}
  %h = train.embedding %table[%ids] : tensor<128x64xf32>, tensor<2x16xi32> -> tensor<2x16x64xbf16>
  return
}

//===----------------------------------------------------------------------===//
// train.linear
//===----------------------------------------------------------------------===//

// -----

func.func @linear_input_rank_0(%x: tensor<bf16>, %w: tensor<8x1xbf16>) {
  // expected-error @+1 {{'train.linear' op input must have rank >= 1}}
  %y = train.linear %x, %w : (tensor<bf16>, tensor<8x1xbf16>) -> tensor<8xbf16>
  return
}

// -----

func.func @linear_weight_not_2d(%x: tensor<32x64xbf16>, %w: tensor<4x64x64xbf16>) {
  // expected-error @+1 {{'train.linear' op weight must be [out, in], got shape [4, 64, 64]}}
  %y = train.linear %x, %w : (tensor<32x64xbf16>, tensor<4x64x64xbf16>) -> tensor<32x64xbf16>
  return
}

// -----

// A weight written [in, out] (the transpose of PyTorch's layout) is caught here.
func.func @linear_in_features(%x: tensor<32x64xbf16>, %w: tensor<64x256xbf16>) {
  // expected-error @+1 {{'train.linear' op weight [64, 256] expects 256 input features, input has 64}}
  %y = train.linear %x, %w : (tensor<32x64xbf16>, tensor<64x256xbf16>) -> tensor<32x64xbf16>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<32x64xbf16>, %w: tensor<256x64xbf16>, %b: tensor<64xbf16>) {
  // expected-error @+1 {{'train.linear' op bias has shape [64], expected [256]}}
  %y = train.linear %x, %w, %b
      : (tensor<32x64xbf16>, tensor<256x64xbf16>, tensor<64xbf16>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<32x64xbf16>, %w: tensor<256x64xbf16>, %b: tensor<1x256xbf16>) {
  // expected-error @+1 {{'train.linear' op bias has shape [1, 256], expected [256]}}
  %y = train.linear %x, %w, %b
      : (tensor<32x64xbf16>, tensor<256x64xbf16>, tensor<1x256xbf16>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<2x16x64xbf16>, %w: tensor<256x64xbf16>) {
  // expected-error @+1 {{'train.linear' op result has shape [32, 256], expected [2, 16, 256]}}
  %y = train.linear %x, %w : (tensor<2x16x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xbf16>
  return
}

// -----

// f32 master weights must be converted before a bf16 forward.
func.func @linear_mixed_weight(%x: tensor<32x64xbf16>, %w: tensor<256x64xf32>) {
  // expected-error @+1 {{'train.linear' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %y = train.linear %x, %w : (tensor<32x64xbf16>, tensor<256x64xf32>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @linear_mixed_bias(%x: tensor<32x64xbf16>, %w: tensor<256x64xbf16>, %b: tensor<256xf32>) {
  // expected-error @+1 {{'train.linear' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %y = train.linear %x, %w, %b
      : (tensor<32x64xbf16>, tensor<256x64xbf16>, tensor<256xf32>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @linear_mixed_result(%x: tensor<32x64xbf16>, %w: tensor<256x64xbf16>) {
  // expected-error @+1 {{'train.linear' op expects one floating-point element type, got 'bf16' and 'f16' (insert a train.convert)}}
  %y = train.linear %x, %w : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xf16>
  return
}

//===----------------------------------------------------------------------===//
// train.matmul, train.batch_matmul
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_not_2d(%a: tensor<2x32x64xbf16>, %b: tensor<64x256xbf16>) {
  // expected-error @+1 {{'train.matmul' op operands must be 2-D, got [2, 32, 64] and [64, 256] (use train.batch_matmul for batches)}}
  %y = train.matmul %a, %b : (tensor<2x32x64xbf16>, tensor<64x256xbf16>) -> tensor<2x32x256xbf16>
  return
}

// -----

func.func @matmul_rhs_not_2d(%a: tensor<32x64xbf16>, %b: tensor<64xbf16>) {
  // expected-error @+1 {{'train.matmul' op operands must be 2-D, got [32, 64] and [64] (use train.batch_matmul for batches)}}
  %y = train.matmul %a, %b : (tensor<32x64xbf16>, tensor<64xbf16>) -> tensor<32xbf16>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<32x64xbf16>, %b: tensor<256x64xbf16>) {
  // expected-error @+1 {{'train.matmul' op contraction dimensions differ: lhs [32, 64] has K = 64, rhs [256, 64] has K = 256}}
  %y = train.matmul %a, %b : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x64xbf16>
  return
}

// -----

func.func @matmul_contraction_transposed(%a: tensor<32x64xbf16>, %b: tensor<64x256xbf16>) {
  // expected-error @+1 {{'train.matmul' op contraction dimensions differ: lhs [32, 64] (transposed) has K = 32, rhs [64, 256] (transposed) has K = 256}}
  %y = train.matmul %a, %b {transpose_lhs, transpose_rhs}
      : (tensor<32x64xbf16>, tensor<64x256xbf16>) -> tensor<64x64xbf16>
  return
}

// -----

func.func @matmul_acc_type(%a: tensor<32x64xbf16>, %b: tensor<64x256xbf16>, %c: tensor<32x256xbf16>) {
  // expected-error @+1 {{'train.matmul' op acc has type 'tensor<32x256xbf16>', expected the result's type 'tensor<32x256xf32>'}}
  %y = train.matmul %a, %b acc(%c)
      : (tensor<32x64xbf16>, tensor<64x256xbf16>, tensor<32x256xbf16>) -> tensor<32x256xf32>
  return
}

// -----

func.func @matmul_acc_not_f32(%a: tensor<32x64xbf16>, %b: tensor<64x256xbf16>, %c: tensor<32x256xbf16>) {
  // expected-error @+1 {{'train.matmul' op with acc the result must be f32 (the unrounded accumulator), got 'bf16'}}
  %y = train.matmul %a, %b acc(%c)
      : (tensor<32x64xbf16>, tensor<64x256xbf16>, tensor<32x256xbf16>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @matmul_result_shape(%dy: tensor<32x256xbf16>, %x: tensor<32x64xbf16>) {
  // expected-error @+1 {{'train.matmul' op result has shape [64, 256], expected [256, 64]}}
  %dw = train.matmul %dy, %x {transpose_lhs}
      : (tensor<32x256xbf16>, tensor<32x64xbf16>) -> tensor<64x256xbf16>
  return
}

// -----

func.func @matmul_mixed(%a: tensor<32x64xbf16>, %b: tensor<64x256xf16>) {
  // expected-error @+1 {{'train.matmul' op expects one floating-point element type, got 'bf16' and 'f16' (insert a train.convert)}}
  %y = train.matmul %a, %b : (tensor<32x64xbf16>, tensor<64x256xf16>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @batch_matmul_rank_2(%a: tensor<32x64xbf16>, %b: tensor<64x256xbf16>) {
  // expected-error @+1 {{'train.batch_matmul' op operands must have one rank >= 3, got [32, 64] and [64, 256]}}
  %y = train.batch_matmul %a, %b : (tensor<32x64xbf16>, tensor<64x256xbf16>) -> tensor<32x256xbf16>
  return
}

// -----

func.func @batch_matmul_rank_differs(%a: tensor<2x4x16x16xbf16>, %b: tensor<8x16x16xbf16>) {
  // expected-error @+1 {{'train.batch_matmul' op operands must have one rank >= 3, got [2, 4, 16, 16] and [8, 16, 16]}}
  %y = train.batch_matmul %a, %b
      : (tensor<2x4x16x16xbf16>, tensor<8x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  return
}

// -----

func.func @batch_matmul_batch_dims(%a: tensor<2x4x16x16xbf16>, %b: tensor<2x8x16x16xbf16>) {
  // expected-error @+1 {{'train.batch_matmul' op batch dimensions differ: [2, 4] and [2, 8]}}
  %y = train.batch_matmul %a, %b
      : (tensor<2x4x16x16xbf16>, tensor<2x8x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  return
}

// -----

func.func @batch_matmul_contraction(%a: tensor<2x16x8xf32>, %b: tensor<2x16x8xf32>) {
  // expected-error @+1 {{'train.batch_matmul' op contraction dimensions differ: lhs [2, 16, 8] has K = 8, rhs [2, 16, 8] has K = 16}}
  %y = train.batch_matmul %a, %b : (tensor<2x16x8xf32>, tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  return
}

// -----

func.func @batch_matmul_result_shape(%a: tensor<2x16x8xf32>, %b: tensor<2x16x8xf32>) {
  // expected-error @+1 {{'train.batch_matmul' op result has shape [2, 8, 8], expected [2, 16, 16]}}
  %y = train.batch_matmul %a, %b {transpose_rhs}
      : (tensor<2x16x8xf32>, tensor<2x16x8xf32>) -> tensor<2x8x8xf32>
  return
}

// -----

func.func @batch_matmul_mixed(%a: tensor<2x16x8xf32>, %b: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'train.batch_matmul' op expects one floating-point element type, got 'f32' and 'bf16' (insert a train.convert)}}
  %y = train.batch_matmul %a, %b : (tensor<2x16x8xf32>, tensor<2x8x16xf32>) -> tensor<2x16x16xbf16>
  return
}

//===----------------------------------------------------------------------===//
// train.attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_rank(%q: tensor<32x64xbf16>, %k: tensor<32x64xbf16>, %v: tensor<32x64xbf16>) {
  // expected-error @+1 {{'train.attention' op query, key and value must be [batch, seq, width]}}
  %o = train.attention %q, %k, %v {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<32x64xbf16>, tensor<32x64xbf16>, tensor<32x64xbf16>) -> tensor<32x64xbf16>
  return
}

// -----

func.func @attention_value_rank(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x64xbf16>, %v: tensor<2x16x4x16xbf16>) {
  // expected-error @+1 {{'train.attention' op query, key and value must be [batch, seq, width]}}
  %o = train.attention %q, %k, %v {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x4x16xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_zero_heads(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op head counts must be positive, got n_heads = 0, n_kv_heads = 4}}
  %o = train.attention %q, %q, %q {n_heads = 0 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_zero_width(%q: tensor<2x16x0xbf16>) {
  // expected-error @+1 {{'train.attention' op query width must be positive}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x0xbf16>, tensor<2x16x0xbf16>, tensor<2x16x0xbf16>) -> tensor<2x16x0xbf16>
  return
}

// -----

func.func @attention_negative_kv_heads(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op head counts must be positive, got n_heads = 4, n_kv_heads = -1}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = -1 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_kv_heads_do_not_divide(%q: tensor<2x16x96xbf16>, %k: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op n_kv_heads (4) must divide n_heads (6)}}
  %o = train.attention %q, %k, %k {n_heads = 6 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x96xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x96xbf16>
  return
}

// -----

func.func @attention_more_kv_heads_than_heads(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x128xbf16>) {
  // expected-error @+1 {{'train.attention' op n_kv_heads (8) must divide n_heads (4)}}
  %o = train.attention %q, %k, %k {n_heads = 4 : i64, n_kv_heads = 8 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x128xbf16>, tensor<2x16x128xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_width_not_divisible(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op query width 64 is not divisible by n_heads 6}}
  %o = train.attention %q, %q, %q {n_heads = 6 : i64, n_kv_heads = 6 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

// GQA: 8 query heads of 8 with 2 key/value heads need keys of width 2 * 8 = 16.
func.func @attention_key_shape(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x64xbf16>, %v: tensor<2x16x16xbf16>) {
  // expected-error @+1 {{'train.attention' op key has shape [2, 16, 64], expected [2, 16, 16]}}
  %o = train.attention %q, %k, %v {n_heads = 8 : i64, n_kv_heads = 2 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x16xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_key_sequence(%q: tensor<2x16x64xbf16>, %k: tensor<2x8x64xbf16>) {
  // expected-error @+1 {{'train.attention' op key has shape [2, 8, 64], expected [2, 16, 64]}}
  %o = train.attention %q, %k, %k {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x8x64xbf16>, tensor<2x8x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_value_shape(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x16xbf16>, %v: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op value has shape [2, 16, 64], expected [2, 16, 16]}}
  %o = train.attention %q, %k, %v {n_heads = 8 : i64, n_kv_heads = 2 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x16xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_result_shape(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op result has shape [2, 16, 4, 16], expected [2, 16, 64]}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x4x16xbf16>
  return
}

// -----

func.func @attention_rope_theta_zero(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op 'rope_theta' must be positive, got 0.000000e+00}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal,
                                   rope_theta = 0.0 : f64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @attention_rope_theta_negative(%q: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.attention' op 'rope_theta' must be positive, got -1.000000e+04}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal,
                                   rope_theta = -10000.0 : f64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

// 4 heads of 15: fine without RoPE, rejected with it.
func.func @attention_rope_odd_head_dim(%q: tensor<2x16x60xbf16>) {
  %ok = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x60xbf16>, tensor<2x16x60xbf16>, tensor<2x16x60xbf16>) -> tensor<2x16x60xbf16>
  // expected-error @+1 {{'train.attention' op rotary embeddings need an even head_dim, got 15}}
  %o = train.attention %q, %q, %q {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal,
                                   rope_theta = 10000.0 : f64}
      : (tensor<2x16x60xbf16>, tensor<2x16x60xbf16>, tensor<2x16x60xbf16>) -> tensor<2x16x60xbf16>
  return
}

// -----

func.func @attention_mixed(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x64xbf16>, %v: tensor<2x16x64xf32>) {
  // expected-error @+1 {{'train.attention' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %o = train.attention %q, %k, %v {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xf32>) -> tensor<2x16x64xbf16>
  return
}

//===----------------------------------------------------------------------===//
// train.layer_norm, train.rms_norm
//===----------------------------------------------------------------------===//

// -----

func.func @layer_norm_rank_0(%x: tensor<bf16>, %g: tensor<1xbf16>) {
  // expected-error @+1 {{'train.layer_norm' op input must have rank >= 1}}
  %y = train.layer_norm %x, %g {eps = 1.000000e-05 : f64} : (tensor<bf16>, tensor<1xbf16>) -> tensor<bf16>
  return
}

// -----

func.func @layer_norm_weight_shape(%x: tensor<2x16x64xbf16>, %g: tensor<16x64xbf16>) {
  // expected-error @+1 {{'train.layer_norm' op weight has shape [16, 64], expected [64]}}
  %y = train.layer_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<16x64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @layer_norm_bias_shape(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>, %b: tensor<16xbf16>) {
  // expected-error @+1 {{'train.layer_norm' op bias has shape [16], expected [64]}}
  %y = train.layer_norm %x, %g, %b {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>, tensor<16xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @layer_norm_result_shape(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>) {
  // expected-error @+1 {{'train.layer_norm' op result has shape [32, 64], expected [2, 16, 64]}}
  %y = train.layer_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<32x64xbf16>
  return
}

// -----

func.func @layer_norm_eps_zero(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>) {
  // expected-error @+1 {{'train.layer_norm' op 'eps' must be positive, got 0.000000e+00}}
  %y = train.layer_norm %x, %g {eps = 0.0 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @layer_norm_mixed_bias(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'train.layer_norm' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %y = train.layer_norm %x, %g, %b {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>, tensor<64xf32>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @rms_norm_rank_0(%x: tensor<f32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{'train.rms_norm' op input must have rank >= 1}}
  %y = train.rms_norm %x, %g {eps = 1.000000e-05 : f64} : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @rms_norm_weight_shape(%x: tensor<2x16x64xbf16>, %g: tensor<16xbf16>) {
  // expected-error @+1 {{'train.rms_norm' op weight has shape [16], expected [64]}}
  %y = train.rms_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<16xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @rms_norm_result_shape(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>) {
  // expected-error @+1 {{'train.rms_norm' op result has shape [2, 64, 16], expected [2, 16, 64]}}
  %y = train.rms_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x64x16xbf16>
  return
}

// -----

func.func @rms_norm_eps_negative(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>) {
  // expected-error @+1 {{'train.rms_norm' op 'eps' must be positive, got -1.000000e-05}}
  %y = train.rms_norm %x, %g {eps = -1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  return
}

// -----

func.func @rms_norm_mixed_weight(%x: tensor<2x16x64xbf16>, %g: tensor<64xf32>) {
  // expected-error @+1 {{'train.rms_norm' op expects one floating-point element type, got 'bf16' and 'f32' (insert a train.convert)}}
  %y = train.rms_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xf32>) -> tensor<2x16x64xbf16>
  return
}

//===----------------------------------------------------------------------===//
// train.convert, train.reshape, train.transpose
//===----------------------------------------------------------------------===//

// -----

func.func @convert_shape(%w: tensor<256x64xf32>) {
  // expected-error @+1 {{'train.convert' op result has shape [64, 256], expected [256, 64]}}
  %wb = train.convert %w : tensor<256x64xf32> -> tensor<64x256xbf16>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.reshape' op cannot change the element type ('bf16' to 'f32')}}
  %y = train.reshape %x : tensor<2x16x64xbf16> -> tensor<32x64xf32>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.reshape' op cannot reshape [2, 16, 64] (2048 elements) to [32, 32] (1024 elements)}}
  %y = train.reshape %x : tensor<2x16x64xbf16> -> tensor<32x32xbf16>
  return
}

// -----

func.func @transpose_permutation_size(%x: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.transpose' op permutation has 2 entries, input has rank 3}}
  %y = train.transpose %x [1, 0] : tensor<2x16x64xbf16> -> tensor<16x2x64xbf16>
  return
}

// -----

func.func @transpose_permutation_repeated(%x: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.transpose' op permutation [0, 1, 1] is not a permutation of 0..2}}
  %y = train.transpose %x [0, 1, 1] : tensor<2x16x64xbf16> -> tensor<2x16x16xbf16>
  return
}

// -----

func.func @transpose_permutation_out_of_range(%x: tensor<2x16x64xbf16>) {
  // expected-error @+1 {{'train.transpose' op permutation [0, 3, 1] is not a permutation of 0..2}}
  %y = train.transpose %x [0, 3, 1] : tensor<2x16x64xbf16> -> tensor<2x64x16xbf16>
  return
}

// -----

func.func @transpose_permutation_negative(%x: tensor<16x64xbf16>) {
  // expected-error @+1 {{'train.transpose' op permutation [-1, 0] is not a permutation of 0..1}}
  %y = train.transpose %x [-1, 0] : tensor<16x64xbf16> -> tensor<64x16xbf16>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<16x64xbf16>) {
  // expected-error @+1 {{'train.transpose' op cannot change the element type ('bf16' to 'f16')}}
  %y = train.transpose %x [1, 0] : tensor<16x64xbf16> -> tensor<64x16xf16>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<2x16x4x16xbf16>) {
  // expected-error @+1 {{'train.transpose' op result has shape [2, 16, 4, 16], expected [2, 4, 16, 16]}}
  %y = train.transpose %x [0, 2, 1, 3] : tensor<2x16x4x16xbf16> -> tensor<2x16x4x16xbf16>
  return
}

//===----------------------------------------------------------------------===//
// train.softmax_cross_entropy, train.global_norm
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_cross_entropy_rank(%logits: tensor<128xbf16>, %t: tensor<i32>) {
  // expected-error @+1 {{'train.softmax_cross_entropy' op logits must be [..., vocab] with rank >= 2, got [128]}}
  %l = train.softmax_cross_entropy %logits, %t : (tensor<128xbf16>, tensor<i32>) -> tensor<f32>
  return
}

// -----

func.func @softmax_cross_entropy_targets(%logits: tensor<2x16x128xbf16>, %t: tensor<32xi32>) {
  // expected-error @+1 {{'train.softmax_cross_entropy' op targets has shape [32], expected [2, 16]}}
  %l = train.softmax_cross_entropy %logits, %t : (tensor<2x16x128xbf16>, tensor<32xi32>) -> tensor<f32>
  return
}

// -----

func.func @global_norm_empty() {
  // expected-error @+1 {{'train.global_norm' op needs at least one tensor}}
  %n = train.global_norm : () -> tensor<f32>
  return
}

//===----------------------------------------------------------------------===//
// train.adamw_update
//===----------------------------------------------------------------------===//

// -----

func.func @adamw_grad_not_f32(%p: tensor<64xf32>, %g: tensor<64xbf16>, %m: tensor<64xf32>,
                              %v: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op grad must be f32 (master weights and optimizer state are f32), got 'bf16'}}
  %p1, %m1, %v1 = train.adamw_update %p, %g, %m, %v, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xbf16>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_param_not_f32(%p: tensor<64xbf16>, %g: tensor<64xf32>, %m: tensor<64xf32>,
                               %v: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op param must be f32 (master weights and optimizer state are f32), got 'bf16'}}
  %p1, %m1, %v1 = train.adamw_update %p, %g, %m, %v, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xbf16>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xbf16>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_state_shape(%p: tensor<64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>,
                             %v: tensor<32xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op exp_avg_sq has shape [32], expected [64]}}
  %p1, %m1, %v1 = train.adamw_update %p, %g, %m, %v, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<32xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_result_shape(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op new_exp_avg has shape [8, 8], expected [64]}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<8x8xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_beta1_one(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op 'beta1' must be in [0, 1), got 1.000000e+00}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 1.0 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_beta2_negative(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op 'beta2' must be in [0, 1), got -5.000000e-01}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = -0.5 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_eps_zero(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op 'eps' must be positive, got 0.000000e+00}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 0.0 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @adamw_weight_decay_negative(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i64>) {
  // expected-error @+1 {{'train.adamw_update' op 'weight_decay' must be >= 0, got -1.000000e-01}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = -0.1 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i64>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

//===----------------------------------------------------------------------===//
// train.sgd_update
//===----------------------------------------------------------------------===//

// -----

func.func @sgd_momentum_one(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op 'momentum' must be in [0, 1), got 1.000000e+00}}
  %p1, %b1 = train.sgd_update %p, %p, %lr, %p {momentum = 1.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @sgd_momentum_negative(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op 'momentum' must be in [0, 1), got -9.000000e-01}}
  %p1 = train.sgd_update %p, %p, %lr {momentum = -0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  return
}

// -----

func.func @sgd_buffer_operand_only(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op momentum buffer must be both an operand and a result}}
  %p1 = train.sgd_update %p, %p, %lr, %p {momentum = 0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<64xf32>) -> tensor<64xf32>
  return
}

// -----

func.func @sgd_buffer_result_only(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op momentum buffer must be both an operand and a result}}
  %p1, %b1 = train.sgd_update %p, %p, %lr {momentum = 0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @sgd_buffer_without_momentum(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op a momentum buffer needs 'momentum' > 0}}
  %p1, %b1 = train.sgd_update %p, %p, %lr, %p {momentum = 0.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @sgd_momentum_without_buffer(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op 'momentum' > 0 needs a momentum buffer}}
  %p1 = train.sgd_update %p, %p, %lr {momentum = 0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  return
}

// -----

func.func @sgd_grad_not_f32(%p: tensor<64xf32>, %g: tensor<64xf16>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op grad must be f32 (master weights and optimizer state are f32), got 'f16'}}
  %p1 = train.sgd_update %p, %g, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf16>, tensor<f32>) -> tensor<64xf32>
  return
}

// -----

func.func @sgd_buffer_not_f32(%p: tensor<64xf32>, %lr: tensor<f32>, %buf: tensor<64xbf16>) {
  // expected-error @+1 {{'train.sgd_update' op momentum_buffer must be f32 (master weights and optimizer state are f32), got 'bf16'}}
  %p1, %b1 = train.sgd_update %p, %p, %lr, %buf {momentum = 0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<64xbf16>) -> (tensor<64xf32>, tensor<64xbf16>)
  return
}

// -----

func.func @sgd_new_buffer_shape(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op new_momentum_buffer has shape [32], expected [64]}}
  %p1, %b1 = train.sgd_update %p, %p, %lr, %p {momentum = 0.9 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<64xf32>) -> (tensor<64xf32>, tensor<32xf32>)
  return
}

// -----

func.func @sgd_new_param_shape(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op new_param has shape [8, 8], expected [64]}}
  %p1 = train.sgd_update %p, %p, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @sgd_weight_decay_negative(%p: tensor<64xf32>, %lr: tensor<f32>) {
  // expected-error @+1 {{'train.sgd_update' op 'weight_decay' must be >= 0, got -1.000000e-02}}
  %p1 = train.sgd_update %p, %p, %lr {momentum = 0.0 : f64, weight_decay = -0.01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  return
}

//===----------------------------------------------------------------------===//
// ODS-generated constraints
//===----------------------------------------------------------------------===//

// -----

// Shapes are static: no dynamic dimensions.
func.func @dynamic_shape(%x: tensor<?x64xbf16>) {
  // expected-error @+1 {{'train.gelu' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x64xbf16>'}}
  %y = train.gelu %x : tensor<?x64xbf16>
  return
}

// -----

func.func @unranked(%x: tensor<*xbf16>) {
  // expected-error @+1 {{'train.relu2' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<*xbf16>'}}
  %y = "train.relu2"(%x) : (tensor<*xbf16>) -> tensor<*xbf16>
  return
}

// -----

// Float ops take float tensors only: integers are for token ids and targets.
func.func @integer_operand(%x: tensor<4x8xi32>) {
  // expected-error @+1 {{'train.add' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4x8xi32>'}}
  %y = train.add %x, %x : tensor<4x8xi32>
  return
}

// -----

func.func @integer_param() {
  // expected-error @+1 {{'train.param' op result #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4xi32>'}}
  %w = train.param "w" init zeros : tensor<4xi32>
  return
}

// -----

// FP8 types belong to the fp8 dialect, not to train.
func.func @fp8_operand(%x: tensor<4x8xf8E4M3FN>) {
  // expected-error @+1 {{'train.convert' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<4x8xf8E4M3FN>'}}
  %y = train.convert %x : tensor<4x8xf8E4M3FN> -> tensor<4x8xbf16>
  return
}

// -----

func.func @float_indices(%t: tensor<128x64xbf16>, %i: tensor<16xf32>) {
  // expected-error @+1 {{'train.embedding' op operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<16xf32>'}}
  %h = train.embedding %t[%i] : tensor<128x64xbf16>, tensor<16xf32> -> tensor<16x64xbf16>
  return
}

// -----

func.func @input_i8() {
  // expected-error @+1 {{'train.input' op result #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xi8>'}}
  %t = train.input "tokens" : tensor<4xi8>
  return
}

// -----

// Pointwise ops do not broadcast and do not mix precisions.
func.func @pointwise_mixed(%x: tensor<4x8xbf16>, %y: tensor<4x8xf32>) {
  // expected-error @+1 {{'train.mul' op requires the same type for all operands and results}}
  %z = "train.mul"(%x, %y) : (tensor<4x8xbf16>, tensor<4x8xf32>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @pointwise_broadcast(%x: tensor<4x8xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'train.add' op requires the same type for all operands and results}}
  %z = "train.add"(%x, %b) : (tensor<4x8xbf16>, tensor<8xbf16>) -> tensor<4x8xbf16>
  return
}

// -----

func.func @unary_result_type(%x: tensor<4x8xbf16>) {
  // expected-error @+1 {{'train.silu' op requires the same type for all operands and results}}
  %y = "train.silu"(%x) : (tensor<4x8xbf16>) -> tensor<4x8xf32>
  return
}

// -----

// The loss is an f32 scalar whatever the logits' type.
func.func @loss_not_f32(%l: tensor<4x8xbf16>, %t: tensor<4xi32>) {
  // expected-error @+1 {{'train.softmax_cross_entropy' op result #0 must be 0D tensor of 32-bit float values, but got 'tensor<bf16>'}}
  %y = train.softmax_cross_entropy %l, %t : (tensor<4x8xbf16>, tensor<4xi32>) -> tensor<bf16>
  return
}

// -----

func.func @adamw_step_i32(%p: tensor<64xf32>, %lr: tensor<f32>, %t: tensor<i32>) {
  // expected-error @+1 {{'train.adamw_update' op operand #5 must be 0D tensor of 64-bit signless integer values, but got 'tensor<i32>'}}
  %p1, %m1, %v1 = train.adamw_update %p, %p, %p, %p, %lr, %t
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<f32>, tensor<i32>)
      -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  return
}

// -----

func.func @sgd_lr_not_scalar(%p: tensor<64xf32>, %lr: tensor<1xf32>) {
  // expected-error @+1 {{'train.sgd_update' op operand #2 must be 0D tensor of 32-bit float values, but got 'tensor<1xf32>'}}
  %p1 = train.sgd_update %p, %p, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<64xf32>, tensor<64xf32>, tensor<1xf32>) -> tensor<64xf32>
  return
}

// -----

func.func @attention_missing_heads(%x: tensor<2x4x8xbf16>) {
  // expected-error @+1 {{'train.attention' op requires attribute 'n_heads'}}
  %y = train.attention %x, %x, %x {n_kv_heads = 1 : i64}
      : (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>, tensor<2x4x8xbf16>) -> tensor<2x4x8xbf16>
  return
}

// -----

func.func @param_unknown_init() {
  // expected-error @+2 {{expected ::fp8c::train::InitKind to be one of: normal, zeros, ones}}
  // expected-error @+1 {{failed to parse Train_InitKindAttr parameter 'value' which is to be a `::fp8c::train::InitKind`}}
  %w = train.param "w" init uniform : tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// train.config: the module's training settings (docs/model-description.md)
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'train.config' is a module attribute, found on 'func.func'}}
func.func @config_on_function() attributes {train.config = {batch_size = 8}} {
  return
}

// -----

// expected-error @+1 {{unknown train dialect attribute 'train.settings'}}
module attributes {train.settings = {batch_size = 8}} {
}

// -----

// expected-error @+1 {{train.config must be a dictionary, got [8]}}
module attributes {train.config = [8]} {
}

// -----

// expected-error @+1 {{train.config: 'seed' is not a known key; expected one of: model, batch_size, grad_accum_steps, precision, optimizer, lr_schedule, init, fp8}}
module attributes {train.config = {seed = 1337}} {
}

// -----

// expected-error @+1 {{train.config: 'model' must be a dictionary, got "gpt"}}
module attributes {train.config = {model = "gpt"}} {
}

// -----

// expected-error @+1 {{train.config: 'model.seq_len' must be an integer, got 6.400000e+01 : f64}}
module attributes {train.config = {model = {family = "gpt", seq_len = 64.0}}} {
}

// -----

// expected-error @+1 {{train.config: 'model.n_experts' is not a known key; expected one of: family, vocab_size, seq_len, d_model, n_layers, ffn_dim, n_heads, n_kv_heads, norm_eps, bias, tie_embeddings, rope_theta, gelu}}
module attributes {train.config = {model = {n_experts = 8}}} {
}

// -----

// A flag is not an integer.
// expected-error @+1 {{train.config: 'batch_size' must be an integer, got true}}
module attributes {train.config = {batch_size = true}} {
}

// -----

// expected-error @+1 {{train.config: 'precision' must be a string, got 16 : i64}}
module attributes {train.config = {precision = 16}} {
}

// -----

// expected-error @+1 {{train.config: 'init.std' must be a number, got "small"}}
module attributes {train.config = {init = {std = "small", seed = 1337}}} {
}

// -----

// expected-error @+1 {{train.config: 'fp8.enabled' must be a boolean, got 1 : i64}}
module attributes {train.config = {fp8 = {enabled = 1}}} {
}

// -----

// expected-error @+1 {{train.config: 'fp8.filter_fqns' must be a list of strings, got ["lm_head", 3]}}
module attributes {train.config = {fp8 = {enabled = true, filter_fqns = ["lm_head", 3]}}} {
}

// -----

// expected-error @+1 {{train.config: 'fp8.overrides' must be a list of dictionaries, got "mlp"}}
module attributes {train.config = {fp8 = {overrides = "mlp"}}} {
}

// -----

// expected-error @+1 {{train.config: 'fp8.overrides[1].backward' is not a known key; expected one of: match, forward, dgrad, wgrad}}
module attributes {train.config = {fp8 = {overrides = [{match = "lm_head", forward = "bf16"},
                                                       {match = "mlp", backward = "bf16"}]}}} {
}

// -----

// expected-error @+1 {{train.config: 'fp8.overrides[0].match' must be a string, got 0 : i64}}
module attributes {train.config = {fp8 = {overrides = [{match = 0, forward = "bf16"}]}}} {
}

// -----

func.func @all_reduce_one_rank(%g: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'train.all_reduce' op world_size must be at least 2, got 1}}
  %r = train.all_reduce %g reduction avg world_size 1 : tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

func.func @all_reduce_bf16(%g: tensor<64xbf16>) -> tensor<64xbf16> {
  // Gradients are averaged in f32.
  // expected-error @+1 {{'train.all_reduce' op operand #0 must be statically shaped tensor of 32-bit float values, but got 'tensor<64xbf16>'}}
  %r = "train.all_reduce"(%g) {reduction = #train<reduction avg>, world_size = 2 : i64} : (tensor<64xbf16>) -> tensor<64xbf16>
  return %r : tensor<64xbf16>
}

// -----

func.func @all_reduce_reduction(%g: tensor<64xf32>) -> tensor<64xf32> {
  // expected-error @+2 {{expected ::fp8c::train::Reduction to be one of: sum, avg, max}}
  // expected-error @+1 {{failed to parse Train_ReductionAttr parameter 'value' which is to be a `::fp8c::train::Reduction`}}
  %r = train.all_reduce %g reduction min world_size 2 : tensor<64xf32>
  return %r : tensor<64xf32>
}

// -----

func.func @reduce_scatter_shard_size(%g: tensor<3x5xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{'train.reduce_scatter' op the shard of 'tensor<3x5xf32>' over 2 ranks is 'tensor<8xf32>' (ceil(15 / 2) elements), got 'tensor<7xf32>'}}
  %s = train.reduce_scatter %g reduction avg world_size 2 : tensor<3x5xf32> -> tensor<7xf32>
  return %s : tensor<7xf32>
}

// -----

func.func @all_gather_dtype(%s: tensor<8xbf16>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'train.all_gather' op the full tensor 'tensor<3x5xf32>' and the shard 'tensor<8xbf16>' must have the same element type}}
  %g = train.all_gather %s world_size 2 : tensor<8xbf16> -> tensor<3x5xf32>
  return %g : tensor<3x5xf32>
}

// -----

func.func @shard_one_rank(%p: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'train.shard' op world_size must be at least 2, got 1}}
  %s = train.shard %p world_size 1 : tensor<8xf32> -> tensor<8xf32>
  return %s : tensor<8xf32>
}
