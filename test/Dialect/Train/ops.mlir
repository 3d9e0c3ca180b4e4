// RUN: fp8-opt %s | fp8-opt | FileCheck %s
// RUN: fp8-opt %s --mlir-print-op-generic | fp8-opt | FileCheck %s

// Round trip of every train op, in its custom form and through the generic form.
// Shapes are a small GPT-2/Llama-like block: batch B = 2, sequence T = 16, width
// D = 64, vocabulary V = 128, MLP width 256.

// CHECK-LABEL: func.func @declarations(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x16x64xbf16> {train.name = "transformer.wte.out"},
// CHECK-SAME:    %[[T:[a-z0-9_]+]]: tensor<2x16xi32> {train.name = "tokens"},
// CHECK-SAME:    %[[Y:[a-z0-9_]+]]: tensor<2x16xi64>)
func.func @declarations(%x: tensor<2x16x64xbf16> {train.name = "transformer.wte.out"},
                        %tokens: tensor<2x16xi32> {train.name = "tokens"},
                        %targets: tensor<2x16xi64>)
    -> (tensor<256x64xf32>, tensor<256xf32>, tensor<64xf32>, tensor<64xbf16>,
        tensor<256x64xf32>, tensor<2x16xi32>, tensor<2x16xi64>) {
  // CHECK: %[[W:.*]] = train.param "transformer.h.0.mlp.c_fc.weight" init normal std 2.000000e-02 : tensor<256x64xf32>
  %w = train.param "transformer.h.0.mlp.c_fc.weight" init normal std 2.000000e-02
      : tensor<256x64xf32>
  // CHECK: %[[B:.*]] = train.param "transformer.h.0.mlp.c_fc.bias" init zeros : tensor<256xf32>
  %b = train.param "transformer.h.0.mlp.c_fc.bias" init zeros : tensor<256xf32>
  // CHECK: %[[G:.*]] = train.param "transformer.h.0.ln_1.weight" init ones : tensor<64xf32>
  %g = train.param "transformer.h.0.ln_1.weight" init ones : tensor<64xf32>
  // Master weights are usually f32, but any float type may be declared.
  // CHECK: %[[GB:.*]] = train.param "_private.h.10.scale_2" init ones : tensor<64xbf16>
  %gb = train.param "_private.h.10.scale_2" init ones : tensor<64xbf16>
  // Segments may be numbers; a name can be a single segment.
  // CHECK: %[[W3:.*]] = train.param "3.weight" init normal std 1.000000e+00 : tensor<256x64xf32>
  %w3 = train.param "3.weight" init normal std 1.0 : tensor<256x64xf32>
  // CHECK: %[[TOK:.*]] = train.input "batch.tokens" : tensor<2x16xi32>
  %tok = train.input "batch.tokens" : tensor<2x16xi32>
  // CHECK: %[[TGT:.*]] = train.input "targets" : tensor<2x16xi64>
  %tgt = train.input "targets" : tensor<2x16xi64>
  // CHECK: return %[[W]], %[[B]], %[[G]], %[[GB]], %[[W3]], %[[TOK]], %[[TGT]] :
  return %w, %b, %g, %gb, %w3, %tok, %tgt
      : tensor<256x64xf32>, tensor<256xf32>, tensor<64xf32>, tensor<64xbf16>,
        tensor<256x64xf32>, tensor<2x16xi32>, tensor<2x16xi64>
}

// CHECK-LABEL: func.func @embedding(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<128x64xbf16>, %[[T32:[a-z0-9_]+]]: tensor<2x16xi32>, %[[T64:[a-z0-9_]+]]: tensor<16xi64>, %[[T0:[a-z0-9_]+]]: tensor<i32>)
func.func @embedding(%wte: tensor<128x64xbf16>, %tokens: tensor<2x16xi32>,
                     %positions: tensor<16xi64>, %one: tensor<i32>)
    -> (tensor<2x16x64xbf16>, tensor<16x64xbf16>, tensor<64xbf16>) {
  // CHECK: %[[H:.*]] = train.embedding %[[WTE]][%[[T32]]] : tensor<128x64xbf16>, tensor<2x16xi32> -> tensor<2x16x64xbf16>
  %h = train.embedding %wte[%tokens] : tensor<128x64xbf16>, tensor<2x16xi32> -> tensor<2x16x64xbf16>
  // CHECK: %[[P:.*]] = train.embedding %[[WTE]][%[[T64]]] : tensor<128x64xbf16>, tensor<16xi64> -> tensor<16x64xbf16>
  %p = train.embedding %wte[%positions] : tensor<128x64xbf16>, tensor<16xi64> -> tensor<16x64xbf16>
  // A scalar index gathers one row.
  // CHECK: %[[R:.*]] = train.embedding %[[WTE]][%[[T0]]] : tensor<128x64xbf16>, tensor<i32> -> tensor<64xbf16>
  %r = train.embedding %wte[%one] : tensor<128x64xbf16>, tensor<i32> -> tensor<64xbf16>
  // CHECK: return %[[H]], %[[P]], %[[R]] :
  return %h, %p, %r : tensor<2x16x64xbf16>, tensor<16x64xbf16>, tensor<64xbf16>
}

// CHECK-LABEL: func.func @linear(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[X2:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[W:[a-z0-9_]+]]: tensor<256x64xbf16>, %[[B:[a-z0-9_]+]]: tensor<256xbf16>, %[[V:[a-z0-9_]+]]: tensor<64xf32>, %[[WV:[a-z0-9_]+]]: tensor<8x64xf32>)
func.func @linear(%x: tensor<2x16x64xbf16>, %x2: tensor<32x64xbf16>, %w: tensor<256x64xbf16>,
                  %b: tensor<256xbf16>, %v: tensor<64xf32>, %wv: tensor<8x64xf32>)
    -> (tensor<2x16x256xbf16>, tensor<32x256xbf16>, tensor<8xf32>) {
  // CHECK: %[[Y:.*]] = train.linear %[[X]], %[[W]], %[[B]] {name = "transformer.h.0.mlp.c_fc"} : (tensor<2x16x64xbf16>, tensor<256x64xbf16>, tensor<256xbf16>) -> tensor<2x16x256xbf16>
  %y = train.linear %x, %w, %b {name = "transformer.h.0.mlp.c_fc"}
      : (tensor<2x16x64xbf16>, tensor<256x64xbf16>, tensor<256xbf16>) -> tensor<2x16x256xbf16>
  // Without bias and without name.
  // CHECK: %[[Z:.*]] = train.linear %[[X2]], %[[W]] : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xbf16>
  %z = train.linear %x2, %w : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xbf16>
  // A rank-1 input is a single row.
  // CHECK: %[[U:.*]] = train.linear %[[V]], %[[WV]] {name = "head"} : (tensor<64xf32>, tensor<8x64xf32>) -> tensor<8xf32>
  %u = train.linear %v, %wv {name = "head"} : (tensor<64xf32>, tensor<8x64xf32>) -> tensor<8xf32>
  // CHECK: return %[[Y]], %[[Z]], %[[U]] :
  return %y, %z, %u : tensor<2x16x256xbf16>, tensor<32x256xbf16>, tensor<8xf32>
}

// CHECK-LABEL: func.func @matmul(
// CHECK-SAME:    %[[A:[a-z0-9_]+]]: tensor<32x64xbf16>, %[[B:[a-z0-9_]+]]: tensor<64x256xbf16>, %[[DY:[a-z0-9_]+]]: tensor<32x256xbf16>, %[[W:[a-z0-9_]+]]: tensor<256x64xbf16>)
func.func @matmul(%a: tensor<32x64xbf16>, %b: tensor<64x256xbf16>, %dy: tensor<32x256xbf16>,
                  %w: tensor<256x64xbf16>)
    -> (tensor<32x256xbf16>, tensor<256x64xbf16>, tensor<32x256xbf16>, tensor<64x32xbf16>) {
  // [M, K] · [K, N]
  // CHECK: %[[Y:.*]] = train.matmul %[[A]], %[[B]] : (tensor<32x64xbf16>, tensor<64x256xbf16>) -> tensor<32x256xbf16>
  %y = train.matmul %a, %b : (tensor<32x64xbf16>, tensor<64x256xbf16>) -> tensor<32x256xbf16>
  // Weight gradient of a linear: dyᵀ · x.
  // CHECK: %[[DW:.*]] = train.matmul %[[DY]], %[[A]] {name = "transformer.h.0.mlp.c_fc", transpose_lhs} : (tensor<32x256xbf16>, tensor<32x64xbf16>) -> tensor<256x64xbf16>
  %dw = train.matmul %dy, %a {transpose_lhs, name = "transformer.h.0.mlp.c_fc"}
      : (tensor<32x256xbf16>, tensor<32x64xbf16>) -> tensor<256x64xbf16>
  // Forward of a linear: x · Wᵀ.
  // CHECK: %[[F:.*]] = train.matmul %[[A]], %[[W]] {transpose_rhs} : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xbf16>
  %f = train.matmul %a, %w {transpose_rhs} : (tensor<32x64xbf16>, tensor<256x64xbf16>) -> tensor<32x256xbf16>
  // Both transposed: [K, M]ᵀ · [N, K]ᵀ = [M, N].
  // CHECK: %[[TT:.*]] = train.matmul %[[B]], %[[A]] {transpose_lhs, transpose_rhs} : (tensor<64x256xbf16>, tensor<32x64xbf16>) -> tensor<256x32xbf16>
  %tt = train.matmul %b, %a {transpose_lhs, transpose_rhs}
      : (tensor<64x256xbf16>, tensor<32x64xbf16>) -> tensor<256x32xbf16>
  // CHECK: %[[TR:.*]] = train.transpose %[[TT]] [1, 0] : tensor<256x32xbf16> -> tensor<32x256xbf16>
  %tr = train.transpose %tt [1, 0] : tensor<256x32xbf16> -> tensor<32x256xbf16>
  // CHECK: %[[DX:.*]] = train.matmul %[[B]], %[[DY]] {transpose_rhs} : (tensor<64x256xbf16>, tensor<32x256xbf16>) -> tensor<64x32xbf16>
  %dx = train.matmul %b, %dy {transpose_rhs} : (tensor<64x256xbf16>, tensor<32x256xbf16>) -> tensor<64x32xbf16>
  // CHECK: return %[[Y]], %[[DW]], %[[TR]], %[[DX]] :
  return %y, %dw, %tr, %dx : tensor<32x256xbf16>, tensor<256x64xbf16>, tensor<32x256xbf16>, tensor<64x32xbf16>
}

// A chain of weight-gradient GEMMs summing into one f32 accumulator.
// CHECK-LABEL: func.func @matmul_acc(
// CHECK-SAME:    %[[DY:[a-z0-9_]+]]: tensor<32x256xbf16>, %[[X:[a-z0-9_]+]]: tensor<32x64xbf16>)
func.func @matmul_acc(%dy: tensor<32x256xbf16>, %x: tensor<32x64xbf16>) -> tensor<256x64xf32> {
  // CHECK: %[[DW0:.*]] = train.matmul %[[DY]], %[[X]] {name = "lm_head.wgrad", transpose_lhs} : (tensor<32x256xbf16>, tensor<32x64xbf16>) -> tensor<256x64xf32>
  %dw0 = train.matmul %dy, %x {transpose_lhs, name = "lm_head.wgrad"}
      : (tensor<32x256xbf16>, tensor<32x64xbf16>) -> tensor<256x64xf32>
  // CHECK: %[[DW1:.*]] = train.matmul %[[DY]], %[[X]] acc(%[[DW0]]) {name = "lm_head.wgrad", transpose_lhs} : (tensor<32x256xbf16>, tensor<32x64xbf16>, tensor<256x64xf32>) -> tensor<256x64xf32>
  %dw1 = train.matmul %dy, %x acc(%dw0) {transpose_lhs, name = "lm_head.wgrad"}
      : (tensor<32x256xbf16>, tensor<32x64xbf16>, tensor<256x64xf32>) -> tensor<256x64xf32>
  // CHECK: return %[[DW1]] :
  return %dw1 : tensor<256x64xf32>
}

// CHECK-LABEL: func.func @batch_matmul(
// CHECK-SAME:    %[[Q:[a-z0-9_]+]]: tensor<2x4x16x16xbf16>, %[[K:[a-z0-9_]+]]: tensor<2x4x16x16xbf16>, %[[P:[a-z0-9_]+]]: tensor<2x16x16xf32>, %[[V:[a-z0-9_]+]]: tensor<2x16x8xf32>)
func.func @batch_matmul(%q: tensor<2x4x16x16xbf16>, %k: tensor<2x4x16x16xbf16>,
                        %p: tensor<2x16x16xf32>, %v: tensor<2x16x8xf32>)
    -> (tensor<2x4x16x16xbf16>, tensor<2x16x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16x16xbf16>) {
  // CHECK: %[[S:.*]] = train.batch_matmul %[[Q]], %[[K]] {transpose_rhs} : (tensor<2x4x16x16xbf16>, tensor<2x4x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  %s = train.batch_matmul %q, %k {transpose_rhs}
      : (tensor<2x4x16x16xbf16>, tensor<2x4x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  // CHECK: %[[O:.*]] = train.batch_matmul %[[P]], %[[V]] : (tensor<2x16x16xf32>, tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  %o = train.batch_matmul %p, %v : (tensor<2x16x16xf32>, tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  // CHECK: %[[OT:.*]] = train.batch_matmul %[[V]], %[[P]] {transpose_lhs} : (tensor<2x16x8xf32>, tensor<2x16x16xf32>) -> tensor<2x8x16xf32>
  %ot = train.batch_matmul %v, %p {transpose_lhs} : (tensor<2x16x8xf32>, tensor<2x16x16xf32>) -> tensor<2x8x16xf32>
  // CHECK: %[[TT:.*]] = train.batch_matmul %[[Q]], %[[K]] {transpose_lhs, transpose_rhs} : (tensor<2x4x16x16xbf16>, tensor<2x4x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  %tt = train.batch_matmul %q, %k {transpose_lhs, transpose_rhs}
      : (tensor<2x4x16x16xbf16>, tensor<2x4x16x16xbf16>) -> tensor<2x4x16x16xbf16>
  // CHECK: return %[[S]], %[[O]], %[[OT]], %[[TT]] :
  return %s, %o, %ot, %tt
      : tensor<2x4x16x16xbf16>, tensor<2x16x8xf32>, tensor<2x8x16xf32>, tensor<2x4x16x16xbf16>
}

// CHECK-LABEL: func.func @attention(
// CHECK-SAME:    %[[Q:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[K:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[V:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[KG:[a-z0-9_]+]]: tensor<2x16x16xbf16>, %[[VG:[a-z0-9_]+]]: tensor<2x16x16xbf16>)
func.func @attention(%q: tensor<2x16x64xbf16>, %k: tensor<2x16x64xbf16>, %v: tensor<2x16x64xbf16>,
                     %kg: tensor<2x16x16xbf16>, %vg: tensor<2x16x16xbf16>)
    -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) {
  // Multi-head, causal (GPT-2): 4 heads of 16.
  // CHECK: %[[MHA:.*]] = train.attention %[[Q]], %[[K]], %[[V]] {causal, n_heads = 4 : i64, n_kv_heads = 4 : i64} : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  %mha = train.attention %q, %k, %v {n_heads = 4 : i64, n_kv_heads = 4 : i64, causal}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  // Not causal.
  // CHECK: %[[BI:.*]] = train.attention %[[Q]], %[[K]], %[[V]] {n_heads = 1 : i64, n_kv_heads = 1 : i64} : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  %bi = train.attention %q, %k, %v {n_heads = 1 : i64, n_kv_heads = 1 : i64}
      : (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) -> tensor<2x16x64xbf16>
  // Grouped-query with RoPE (Llama): 8 query heads of 8, 2 key/value heads.
  // CHECK: %[[GQA:.*]] = train.attention %[[Q]], %[[KG]], %[[VG]] {causal, n_heads = 8 : i64, n_kv_heads = 2 : i64, rope_theta = 5.000000e+05 : f64} : (tensor<2x16x64xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) -> tensor<2x16x64xbf16>
  %gqa = train.attention %q, %kg, %vg {n_heads = 8 : i64, n_kv_heads = 2 : i64, causal,
                                       rope_theta = 500000.0 : f64}
      : (tensor<2x16x64xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) -> tensor<2x16x64xbf16>
  // Multi-query: one key/value head of 16 shared by all 4 query heads; RoPE.
  // CHECK: %[[MQA:.*]] = train.attention %[[Q]], %[[KG]], %[[VG]] {causal, n_heads = 4 : i64, n_kv_heads = 1 : i64, rope_theta = 1.000000e+04 : f64} : (tensor<2x16x64xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) -> tensor<2x16x64xbf16>
  %mqa = train.attention %q, %kg, %vg {n_heads = 4 : i64, n_kv_heads = 1 : i64, causal,
                                       rope_theta = 10000.0 : f64}
      : (tensor<2x16x64xbf16>, tensor<2x16x16xbf16>, tensor<2x16x16xbf16>) -> tensor<2x16x64xbf16>
  // CHECK: return %[[MHA]], %[[BI]], %[[GQA]], %[[MQA]] :
  return %mha, %bi, %gqa, %mqa
      : tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>
}

// CHECK-LABEL: func.func @norms(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[G:[a-z0-9_]+]]: tensor<64xbf16>, %[[B:[a-z0-9_]+]]: tensor<64xbf16>, %[[V:[a-z0-9_]+]]: tensor<64xf32>, %[[GV:[a-z0-9_]+]]: tensor<64xf32>)
func.func @norms(%x: tensor<2x16x64xbf16>, %g: tensor<64xbf16>, %b: tensor<64xbf16>,
                 %v: tensor<64xf32>, %gv: tensor<64xf32>)
    -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<64xf32>) {
  // CHECK: %[[LN:.*]] = train.layer_norm %[[X]], %[[G]], %[[B]] {eps = 1.000000e-05 : f64} : (tensor<2x16x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  %ln = train.layer_norm %x, %g, %b {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  // Without bias. 1e-06 is not exact in binary: the printer writes every digit
  // needed to read the same double back.
  // CHECK: %[[LN2:.*]] = train.layer_norm %[[X]], %[[G]] {eps = 9.9999999999999995E-7 : f64} : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  %ln2 = train.layer_norm %x, %g {eps = 1.000000e-06 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  // CHECK: %[[RMS:.*]] = train.rms_norm %[[X]], %[[G]] {eps = 1.000000e-05 : f64} : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  %rms = train.rms_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x16x64xbf16>, tensor<64xbf16>) -> tensor<2x16x64xbf16>
  // CHECK: %[[RMS1:.*]] = train.rms_norm %[[V]], %[[GV]] {eps = 9.9999999999999995E-7 : f64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %rms1 = train.rms_norm %v, %gv {eps = 1.000000e-06 : f64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  // CHECK: return %[[LN]], %[[LN2]], %[[RMS]], %[[RMS1]] :
  return %ln, %ln2, %rms, %rms1
      : tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<64xf32>
}

// CHECK-LABEL: func.func @pointwise(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<32x256xbf16>, %[[Y:[a-z0-9_]+]]: tensor<32x256xbf16>, %[[H:[a-z0-9_]+]]: tensor<8x16xf16>)
func.func @pointwise(%x: tensor<32x256xbf16>, %y: tensor<32x256xbf16>, %h: tensor<8x16xf16>)
    -> (tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>,
        tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<8x16xf16>) {
  // The default approximation (tanh) is not printed, whether given or not.
  // CHECK: %[[G0:.*]] = train.gelu %[[X]] : tensor<32x256xbf16>
  %g0 = train.gelu %x : tensor<32x256xbf16>
  // CHECK: %[[G1:.*]] = train.gelu %[[X]] : tensor<32x256xbf16>
  %g1 = train.gelu %x approximate tanh : tensor<32x256xbf16>
  // CHECK: %[[G2:.*]] = train.gelu %[[X]] approximate none : tensor<32x256xbf16>
  %g2 = train.gelu %x approximate none : tensor<32x256xbf16>
  // CHECK: %[[S:.*]] = train.silu %[[X]] : tensor<32x256xbf16>
  %s = train.silu %x : tensor<32x256xbf16>
  // CHECK: %[[R:.*]] = train.relu2 %[[X]] : tensor<32x256xbf16>
  %r = train.relu2 %x : tensor<32x256xbf16>
  // CHECK: %[[SW:.*]] = train.swiglu %[[X]], %[[Y]] : tensor<32x256xbf16>
  %sw = train.swiglu %x, %y : tensor<32x256xbf16>
  // CHECK: %[[A:.*]] = train.add %[[G0]], %[[Y]] : tensor<32x256xbf16>
  %a = train.add %g0, %y : tensor<32x256xbf16>
  // CHECK: %[[M:.*]] = train.mul %[[H]], %[[H]] : tensor<8x16xf16>
  %m = train.mul %h, %h : tensor<8x16xf16>
  // CHECK: return %[[G1]], %[[G2]], %[[S]], %[[R]], %[[SW]], %[[A]], %[[G0]], %[[M]] :
  return %g1, %g2, %s, %r, %sw, %a, %g0, %m
      : tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>,
        tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<32x256xbf16>, tensor<8x16xf16>
}

// CHECK-LABEL: func.func @convert(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<256x64xf32>, %[[S:[a-z0-9_]+]]: tensor<f32>)
func.func @convert(%w: tensor<256x64xf32>, %s: tensor<f32>)
    -> (tensor<256x64xbf16>, tensor<256x64xf16>, tensor<256x64xf32>, tensor<bf16>) {
  // CHECK: %[[WB:.*]] = train.convert %[[W]] : tensor<256x64xf32> -> tensor<256x64xbf16>
  %wb = train.convert %w : tensor<256x64xf32> -> tensor<256x64xbf16>
  // CHECK: %[[WH:.*]] = train.convert %[[WB]] : tensor<256x64xbf16> -> tensor<256x64xf16>
  %wh = train.convert %wb : tensor<256x64xbf16> -> tensor<256x64xf16>
  // CHECK: %[[WF:.*]] = train.convert %[[WH]] : tensor<256x64xf16> -> tensor<256x64xf32>
  %wf = train.convert %wh : tensor<256x64xf16> -> tensor<256x64xf32>
  // CHECK: %[[SB:.*]] = train.convert %[[S]] : tensor<f32> -> tensor<bf16>
  %sb = train.convert %s : tensor<f32> -> tensor<bf16>
  // CHECK: return %[[WB]], %[[WH]], %[[WF]], %[[SB]] :
  return %wb, %wh, %wf, %sb : tensor<256x64xbf16>, tensor<256x64xf16>, tensor<256x64xf32>, tensor<bf16>
}

// CHECK-LABEL: func.func @shape(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x16x64xbf16>, %[[T:[a-z0-9_]+]]: tensor<2x16xi32>, %[[S:[a-z0-9_]+]]: tensor<1xf32>)
func.func @shape(%x: tensor<2x16x64xbf16>, %tokens: tensor<2x16xi32>, %s: tensor<1xf32>)
    -> (tensor<2x4x16x16xbf16>, tensor<32xi32>, tensor<f32>, tensor<2x64x16xbf16>, tensor<16x2xi32>) {
  // CHECK: %[[FLAT:.*]] = train.reshape %[[X]] : tensor<2x16x64xbf16> -> tensor<32x64xbf16>
  %flat = train.reshape %x : tensor<2x16x64xbf16> -> tensor<32x64xbf16>
  // CHECK: %[[SPLIT:.*]] = train.reshape %[[FLAT]] : tensor<32x64xbf16> -> tensor<2x16x4x16xbf16>
  %split = train.reshape %flat : tensor<32x64xbf16> -> tensor<2x16x4x16xbf16>
  // CHECK: %[[HEADS:.*]] = train.transpose %[[SPLIT]] [0, 2, 1, 3] : tensor<2x16x4x16xbf16> -> tensor<2x4x16x16xbf16>
  %heads = train.transpose %split [0, 2, 1, 3] : tensor<2x16x4x16xbf16> -> tensor<2x4x16x16xbf16>
  // Integer tensors may be reshaped and transposed.
  // CHECK: %[[TF:.*]] = train.reshape %[[T]] : tensor<2x16xi32> -> tensor<32xi32>
  %tf = train.reshape %tokens : tensor<2x16xi32> -> tensor<32xi32>
  // CHECK: %[[TT:.*]] = train.transpose %[[T]] [1, 0] : tensor<2x16xi32> -> tensor<16x2xi32>
  %tt = train.transpose %tokens [1, 0] : tensor<2x16xi32> -> tensor<16x2xi32>
  // CHECK: %[[SC:.*]] = train.reshape %[[S]] : tensor<1xf32> -> tensor<f32>
  %sc = train.reshape %s : tensor<1xf32> -> tensor<f32>
  // CHECK: %[[XT:.*]] = train.transpose %[[X]] [0, 2, 1] : tensor<2x16x64xbf16> -> tensor<2x64x16xbf16>
  %xt = train.transpose %x [0, 2, 1] : tensor<2x16x64xbf16> -> tensor<2x64x16xbf16>
  // CHECK: return %[[HEADS]], %[[TF]], %[[SC]], %[[XT]], %[[TT]] :
  return %heads, %tf, %sc, %xt, %tt
      : tensor<2x4x16x16xbf16>, tensor<32xi32>, tensor<f32>, tensor<2x64x16xbf16>, tensor<16x2xi32>
}

// CHECK-LABEL: func.func @softmax_cross_entropy(
// CHECK-SAME:    %[[L:[a-z0-9_]+]]: tensor<2x16x128xbf16>, %[[T:[a-z0-9_]+]]: tensor<2x16xi32>, %[[L2:[a-z0-9_]+]]: tensor<32x128xf32>, %[[T2:[a-z0-9_]+]]: tensor<32xi64>)
func.func @softmax_cross_entropy(%logits: tensor<2x16x128xbf16>, %targets: tensor<2x16xi32>,
                                 %logits2: tensor<32x128xf32>, %targets2: tensor<32xi64>)
    -> (tensor<f32>, tensor<f32>) {
  // CHECK: %[[LOSS:.*]] = train.softmax_cross_entropy %[[L]], %[[T]] : (tensor<2x16x128xbf16>, tensor<2x16xi32>) -> tensor<f32>
  %loss = train.softmax_cross_entropy %logits, %targets
      : (tensor<2x16x128xbf16>, tensor<2x16xi32>) -> tensor<f32>
  // CHECK: %[[IGN:.*]] = train.softmax_cross_entropy %[[L2]], %[[T2]] {ignore_index = -100 : i64} : (tensor<32x128xf32>, tensor<32xi64>) -> tensor<f32>
  %ign = train.softmax_cross_entropy %logits2, %targets2 {ignore_index = -100 : i64}
      : (tensor<32x128xf32>, tensor<32xi64>) -> tensor<f32>
  // CHECK: return %[[LOSS]], %[[IGN]] : tensor<f32>, tensor<f32>
  return %loss, %ign : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @global_norm(
// CHECK-SAME:    %[[G0:[a-z0-9_]+]]: tensor<256x64xf32>, %[[G1:[a-z0-9_]+]]: tensor<256xf32>, %[[G2:[a-z0-9_]+]]: tensor<64xbf16>)
func.func @global_norm(%g0: tensor<256x64xf32>, %g1: tensor<256xf32>, %g2: tensor<64xbf16>)
    -> (tensor<f32>, tensor<f32>) {
  // CHECK: %[[N:.*]] = train.global_norm %[[G0]], %[[G1]] : (tensor<256x64xf32>, tensor<256xf32>) -> tensor<f32>
  %n = train.global_norm %g0, %g1 : (tensor<256x64xf32>, tensor<256xf32>) -> tensor<f32>
  // Operands may have different element types: the norm accumulates in f32.
  // CHECK: %[[M:.*]] = train.global_norm %[[G2]], %[[G1]], %[[G0]] : (tensor<64xbf16>, tensor<256xf32>, tensor<256x64xf32>) -> tensor<f32>
  %m = train.global_norm %g2, %g1, %g0 : (tensor<64xbf16>, tensor<256xf32>, tensor<256x64xf32>) -> tensor<f32>
  // CHECK: return %[[N]], %[[M]] : tensor<f32>, tensor<f32>
  return %n, %m : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @adamw_update(
// CHECK-SAME:    %[[P:[a-z0-9_]+]]: tensor<256x64xf32>, %[[G:[a-z0-9_]+]]: tensor<256x64xf32>, %[[M:[a-z0-9_]+]]: tensor<256x64xf32>, %[[V:[a-z0-9_]+]]: tensor<256x64xf32>, %[[LR:[a-z0-9_]+]]: tensor<f32>, %[[STEP:[a-z0-9_]+]]: tensor<i64>)
func.func @adamw_update(%p: tensor<256x64xf32>, %g: tensor<256x64xf32>, %m: tensor<256x64xf32>,
                        %v: tensor<256x64xf32>, %lr: tensor<f32>, %step: tensor<i64>)
    -> (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>) {
  // CHECK: %[[P1:[a-z0-9_#]+]], %[[M1:[a-z0-9_#]+]], %[[V1:[a-z0-9_#]+]] = train.adamw_update %[[P]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[STEP]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64} : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<f32>, tensor<i64>) -> (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>)
  %p1, %m1, %v1 = train.adamw_update %p, %g, %m, %v, %lr, %step
      {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64}
      : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>,
         tensor<f32>, tensor<i64>) -> (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>)
  // The boundary values: beta = 0 and no weight decay.
  // CHECK: %[[P2:[a-z0-9_#]+]], %{{.*}}, %{{.*}} = train.adamw_update %[[P1]], %[[G]], %[[M1]], %[[V1]], %[[LR]], %[[STEP]] {beta1 = 0.000000e+00 : f64, beta2 = 0.000000e+00 : f64, eps = 9.9999999999999995E-7 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<f32>, tensor<i64>) -> (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>)
  %p2, %m2, %v2 = train.adamw_update %p1, %g, %m1, %v1, %lr, %step
      {beta1 = 0.0 : f64, beta2 = 0.0 : f64, eps = 1.0e-06 : f64, weight_decay = 0.0 : f64}
      : (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>,
         tensor<f32>, tensor<i64>) -> (tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>)
  // CHECK: return %[[P1]], %[[M1]], %[[V1]], %[[P2]] :
  return %p1, %m1, %v1, %p2 : tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>, tensor<256x64xf32>
}

// CHECK-LABEL: func.func @sgd_update(
// CHECK-SAME:    %[[P:[a-z0-9_]+]]: tensor<256xf32>, %[[G:[a-z0-9_]+]]: tensor<256xf32>, %[[LR:[a-z0-9_]+]]: tensor<f32>, %[[BUF:[a-z0-9_]+]]: tensor<256xf32>)
func.func @sgd_update(%p: tensor<256xf32>, %g: tensor<256xf32>, %lr: tensor<f32>,
                      %buf: tensor<256xf32>) -> (tensor<256xf32>, tensor<256xf32>, tensor<256xf32>) {
  // Plain SGD: no momentum buffer.
  // CHECK: %[[P1:.*]] = train.sgd_update %[[P]], %[[G]], %[[LR]] {momentum = 0.000000e+00 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<256xf32>, tensor<256xf32>, tensor<f32>) -> tensor<256xf32>
  %p1 = train.sgd_update %p, %g, %lr {momentum = 0.0 : f64, weight_decay = 0.0 : f64}
      : (tensor<256xf32>, tensor<256xf32>, tensor<f32>) -> tensor<256xf32>
  // With momentum, the buffer is both an operand and a result.
  // CHECK: %[[P2:[a-z0-9_#]+]], %[[B2:[a-z0-9_#]+]] = train.sgd_update %[[P1]], %[[G]], %[[LR]], %[[BUF]] {momentum = 9.000000e-01 : f64, weight_decay = 1.000000e-02 : f64} : (tensor<256xf32>, tensor<256xf32>, tensor<f32>, tensor<256xf32>) -> (tensor<256xf32>, tensor<256xf32>)
  %p2, %b2 = train.sgd_update %p1, %g, %lr, %buf {momentum = 0.9 : f64, weight_decay = 0.01 : f64}
      : (tensor<256xf32>, tensor<256xf32>, tensor<f32>, tensor<256xf32>) -> (tensor<256xf32>, tensor<256xf32>)
  // CHECK: return %[[P1]], %[[P2]], %[[B2]] : tensor<256xf32>, tensor<256xf32>, tensor<256xf32>
  return %p1, %p2, %b2 : tensor<256xf32>, tensor<256xf32>, tensor<256xf32>
}

// CHECK-LABEL: func.func @all_reduce(
// CHECK-SAME:    %[[G:[a-z0-9_]+]]: tensor<512x128xf32>, %[[L:[a-z0-9_]+]]: tensor<f32>)
func.func @all_reduce(%g: tensor<512x128xf32>, %loss: tensor<f32>)
    -> (tensor<512x128xf32>, tensor<f32>, tensor<f32>) {
  // CHECK: %[[A:.*]] = train.all_reduce %[[G]] reduction avg world_size 2 : tensor<512x128xf32>
  %a = train.all_reduce %g reduction avg world_size 2 : tensor<512x128xf32>
  // CHECK: %[[S:.*]] = train.all_reduce %[[L]] reduction sum world_size 8 : tensor<f32>
  %s = train.all_reduce %loss reduction sum world_size 8 : tensor<f32>
  // CHECK: %[[M:.*]] = train.all_reduce %[[L]] reduction max world_size 4 : tensor<f32>
  %m = train.all_reduce %loss reduction max world_size 4 : tensor<f32>
  return %a, %s, %m : tensor<512x128xf32>, tensor<f32>, tensor<f32>
}

// The shard rule: 15 elements over 2 ranks are shards of 8 (rank 1's padded).
// CHECK-LABEL: func.func @shards(
// CHECK-SAME:    %[[G:[a-z0-9_]+]]: tensor<3x5xf32>, %[[W:[a-z0-9_]+]]: tensor<8xf8E4M3FN>)
func.func @shards(%g: tensor<3x5xf32>, %w: tensor<8xf8E4M3FN>)
    -> (tensor<8xf32>, tensor<3x5xf8E4M3FN>, tensor<8xf32>) {
  // CHECK: train.reduce_scatter %[[G]] reduction avg world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
  %s = train.reduce_scatter %g reduction avg world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
  // CHECK: train.all_gather %[[W]] world_size 2 : tensor<8xf8E4M3FN> -> tensor<3x5xf8E4M3FN>
  %a = train.all_gather %w world_size 2 : tensor<8xf8E4M3FN> -> tensor<3x5xf8E4M3FN>
  // CHECK: train.shard %[[G]] world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
  %p = train.shard %g world_size 2 : tensor<3x5xf32> -> tensor<8xf32>
  return %s, %a, %p : tensor<8xf32>, tensor<3x5xf8E4M3FN>, tensor<8xf32>
}
