// RUN: fp8-opt %s | fp8-opt | FileCheck %s
// RUN: fp8-opt %s --mlir-print-op-generic | fp8-opt | FileCheck %s

// Round trip of every rt op, in its custom form and through the generic form.

// CHECK-LABEL: func.func @arena_buffer(
// CHECK-SAME:    %[[EXT:[a-z0-9_]+]]: !rt.arena)
func.func @arena_buffer(%external: !rt.arena)
    -> (memref<256x512xbf16>, memref<1024x512xf8E4M3FN>, memref<f32>, memref<1024xbf16>,
        memref<32xi64>, memref<3x5xi8>, memref<16xi32>, memref<2x2xf16>, memref<8x8xf8E5M2>) {
  // CHECK: %[[A:.*]] = rt.arena size 1051648 : !rt.arena
  %arena = rt.arena size 1051648 : !rt.arena
  // CHECK: %[[X:.*]] = rt.buffer %[[A]][0] : memref<256x512xbf16>
  %x = rt.buffer %arena[0] : memref<256x512xbf16>
  // CHECK: %[[W:.*]] = rt.buffer %[[A]][262144] : memref<1024x512xf8E4M3FN>
  %w = rt.buffer %arena[262144] : memref<1024x512xf8E4M3FN>
  // A 4-byte scale still takes a 256-byte slot.
  // CHECK: %[[S:.*]] = rt.buffer %[[A]][786432] : memref<f32>
  %s = rt.buffer %arena[786432] : memref<f32>
  // CHECK: %[[B:.*]] = rt.buffer %[[A]][786688] : memref<1024xbf16>
  %b = rt.buffer %arena[786688] : memref<1024xbf16>
  // Views may alias (liveness-based reuse); this one ends exactly at the arena's end.
  // CHECK: %[[I:.*]] = rt.buffer %[[A]][1051392] : memref<32xi64>
  %i = rt.buffer %arena[1051392] : memref<32xi64>
  // CHECK: %[[J:.*]] = rt.buffer %[[A]][1051392] : memref<3x5xi8>
  %j = rt.buffer %arena[1051392] : memref<3x5xi8>
  // CHECK: %[[K:.*]] = rt.buffer %[[A]][1051392] : memref<16xi32>
  %k = rt.buffer %arena[1051392] : memref<16xi32>
  // The arena size is only known for an rt.arena; a block argument is not checked.
  // CHECK: %[[H:.*]] = rt.buffer %[[EXT]][512] : memref<2x2xf16>
  %h = rt.buffer %external[512] : memref<2x2xf16>
  // CHECK: %[[E:.*]] = rt.buffer %[[EXT]][1024] : memref<8x8xf8E5M2>
  %e = rt.buffer %external[1024] : memref<8x8xf8E5M2>
  // CHECK: return %[[X]], %[[W]], %[[S]], %[[B]], %[[I]], %[[J]], %[[K]], %[[H]], %[[E]] : memref<256x512xbf16>, memref<1024x512xf8E4M3FN>, memref<f32>, memref<1024xbf16>, memref<32xi64>, memref<3x5xi8>, memref<16xi32>, memref<2x2xf16>, memref<8x8xf8E5M2>
  return %x, %w, %s, %b, %i, %j, %k, %h, %e
      : memref<256x512xbf16>, memref<1024x512xf8E4M3FN>, memref<f32>, memref<1024xbf16>,
        memref<32xi64>, memref<3x5xi8>, memref<16xi32>, memref<2x2xf16>, memref<8x8xf8E5M2>
}

// CHECK-LABEL: func.func @empty_arena(
func.func @empty_arena() -> !rt.arena {
  // CHECK: %[[A:.*]] = rt.arena size 0 : !rt.arena
  %arena = rt.arena size 0 : !rt.arena
  // CHECK: return %[[A]] : !rt.arena
  return %arena : !rt.arena
}

// CHECK-LABEL: func.func @kernel(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: memref<512x3072xbf16>, %[[Y:[a-z0-9_]+]]: memref<512x3072xbf16>, %[[S:[a-z0-9_]+]]: memref<f32>, %[[Q:[a-z0-9_]+]]: memref<512x3072xf8E4M3FN>, %[[A:[a-z0-9_]+]]: memref<f32>)
func.func @kernel(%x: memref<512x3072xbf16>, %y: memref<512x3072xbf16>, %s: memref<f32>,
                  %q: memref<512x3072xf8E4M3FN>, %amax: memref<f32>) {
  // CHECK: rt.kernel "gelu_0" ins(%[[X]] : memref<512x3072xbf16>) outs(%[[Y]] : memref<512x3072xbf16>) {
  // CHECK-NEXT: ^bb0(%[[XA:.*]]: tensor<512x3072xbf16>):
  // CHECK-NEXT:   %[[G:.*]] = train.gelu %[[XA]] approximate none : tensor<512x3072xbf16>
  // CHECK-NEXT:   rt.yield %[[G]] : tensor<512x3072xbf16>
  // CHECK-NEXT: }
  rt.kernel "gelu_0" ins(%x : memref<512x3072xbf16>) outs(%y : memref<512x3072xbf16>) {
  ^bb0(%a: tensor<512x3072xbf16>):
    %g = train.gelu %a approximate none : tensor<512x3072xbf16>
    rt.yield %g : tensor<512x3072xbf16>
  }
  // Several inputs and outputs: a cast with a fused amax.
  // CHECK: rt.kernel "_cast_amax_1" ins(%[[Y]], %[[S]] : memref<512x3072xbf16>, memref<f32>) outs(%[[Q]], %[[A]] : memref<512x3072xf8E4M3FN>, memref<f32>) {
  // CHECK:   fp8.quantize
  // CHECK:   fp8.amax
  // CHECK:   rt.yield %{{.*}}, %{{.*}} : tensor<512x3072xf8E4M3FN>, tensor<f32>
  rt.kernel "_cast_amax_1" ins(%y, %s : memref<512x3072xbf16>, memref<f32>)
      outs(%q, %amax : memref<512x3072xf8E4M3FN>, memref<f32>) {
  ^bb0(%v: tensor<512x3072xbf16>, %sc: tensor<f32>):
    %c = fp8.quantize %v, %sc recipe tensorwise : tensor<512x3072xbf16>, tensor<f32> -> tensor<512x3072xf8E4M3FN>
    %m = fp8.amax %v recipe tensorwise : tensor<512x3072xbf16> -> tensor<f32>
    rt.yield %c, %m : tensor<512x3072xf8E4M3FN>, tensor<f32>
  }
  // No inputs: a fill; extra attributes are kept.
  // CHECK: rt.kernel "zero_amax" outs(%[[A]] : memref<f32>) {
  // CHECK-NEXT:   %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<f32>
  // CHECK-NEXT:   rt.yield %[[Z]] : tensor<f32>
  // CHECK-NEXT: } {note = "fill"}
  rt.kernel "zero_amax" outs(%amax : memref<f32>) {
    %z = arith.constant dense<0.0> : tensor<f32>
    rt.yield %z : tensor<f32>
  } {note = "fill"}
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @gemm(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: memref<256x512xbf16>, %[[XT:[a-z0-9_]+]]: memref<512x256xbf16>, %[[W:[a-z0-9_]+]]: memref<1024x512xbf16>, %[[WT:[a-z0-9_]+]]: memref<512x1024xbf16>, %[[Y:[a-z0-9_]+]]: memref<256x1024xbf16>, %[[YF:[a-z0-9_]+]]: memref<256x1024xf32>)
func.func @gemm(%x: memref<256x512xbf16>, %xt: memref<512x256xbf16>, %w: memref<1024x512xbf16>,
                %wt: memref<512x1024xbf16>, %y: memref<256x1024xbf16>, %yf: memref<256x1024xf32>) {
  // D [M, N] = A [M, K] . B [K, N]
  // CHECK: rt.gemm %[[X]], %[[WT]] -> %[[Y]] : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  rt.gemm %x, %wt -> %y : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  // The default epilogue (none) is not printed.
  // CHECK: rt.gemm %[[X]], %[[WT]] -> %[[YF]] : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xf32>
  rt.gemm %x, %wt -> %yf {epilogue = #rt<epilogue none>}
      : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xf32>
  // A linear layer: x . w^T with w stored [N, K].
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] {transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  rt.gemm %x, %w -> %y {transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  // Accumulating into an f32 D: D = A . B + D.
  // CHECK: rt.gemm %[[X]], %[[WT]] -> %[[YF]] {accumulate} : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xf32>
  rt.gemm %x, %wt -> %yf {accumulate} : memref<256x512xbf16>, memref<512x1024xbf16>, memref<256x1024xf32>
  // CHECK: rt.gemm %[[XT]], %[[WT]] -> %[[Y]] {transpose_a} : memref<512x256xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  rt.gemm %xt, %wt -> %y {transpose_a} : memref<512x256xbf16>, memref<512x1024xbf16>, memref<256x1024xbf16>
  // CHECK: rt.gemm %[[XT]], %[[W]] -> %[[YF]] {transpose_a, transpose_b} : memref<512x256xbf16>, memref<1024x512xbf16>, memref<256x1024xf32>
  rt.gemm %xt, %w -> %yf {transpose_a, transpose_b}
      : memref<512x256xbf16>, memref<1024x512xbf16>, memref<256x1024xf32>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @gemm_fp8(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: memref<256x512xf8E4M3FN>, %[[W:[a-z0-9_]+]]: memref<1024x512xf8E4M3FN>, %[[G:[a-z0-9_]+]]: memref<256x1024xf8E5M2>, %[[WT:[a-z0-9_]+]]: memref<512x1024xf8E4M3FN>, %[[Y:[a-z0-9_]+]]: memref<256x1024xbf16>, %[[YQ:[a-z0-9_]+]]: memref<256x1024xf8E4M3FN>, %[[DX:[a-z0-9_]+]]: memref<256x512xbf16>, %[[SX:[a-z0-9_]+]]: memref<f32>, %[[SW:[a-z0-9_]+]]: memref<f32>, %[[SY:[a-z0-9_]+]]: memref<f32>, %[[AMAX:[a-z0-9_]+]]: memref<f32>)
func.func @gemm_fp8(%x: memref<256x512xf8E4M3FN>, %w: memref<1024x512xf8E4M3FN>,
                    %g: memref<256x1024xf8E5M2>, %wt: memref<512x1024xf8E4M3FN>,
                    %y: memref<256x1024xbf16>, %yq: memref<256x1024xf8E4M3FN>,
                    %dx: memref<256x512xbf16>,
                    %sx: memref<f32>, %sw: memref<f32>, %sy: memref<f32>, %amax: memref<f32>) {
  // FP8 operands with their scales, bf16 D, fast accumulation.
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[SX]]) b_scale(%[[SW]]) {fast_accum, transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>
  rt.gemm %x, %w -> %y a_scale(%sx) b_scale(%sw) {fast_accum, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<f32>, memref<f32>
  // FP8 D: d_scale, and D's amax from the epilogue.
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[YQ]] a_scale(%[[SX]]) b_scale(%[[SW]]) d_scale(%[[SY]]) amax_d(%[[AMAX]]) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xf8E4M3FN>, memref<f32>, memref<f32>, memref<f32>, memref<f32>
  rt.gemm %x, %w -> %yq a_scale(%sx) b_scale(%sw) d_scale(%sy) amax_d(%amax) {transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xf8E4M3FN>,
        memref<f32>, memref<f32>, memref<f32>, memref<f32>
  // amax_d alone, with a bf16 D.
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[SX]]) b_scale(%[[SW]]) amax_d(%[[AMAX]]) {transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>, memref<f32>, memref<f32>, memref<f32>
  rt.gemm %x, %w -> %y a_scale(%sx) b_scale(%sw) amax_d(%amax) {transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<f32>, memref<f32>, memref<f32>
  // Hybrid dgrad: E5M2 gradient times E4M3 weight.
  // CHECK: rt.gemm %[[G]], %[[WT]] -> %[[DX]] a_scale(%[[SY]]) b_scale(%[[SW]]) {transpose_b} : memref<256x1024xf8E5M2>, memref<512x1024xf8E4M3FN>, memref<256x512xbf16>, memref<f32>, memref<f32>
  rt.gemm %g, %wt -> %dx a_scale(%sy) b_scale(%sw) {transpose_b}
      : memref<256x1024xf8E5M2>, memref<512x1024xf8E4M3FN>, memref<256x512xbf16>,
        memref<f32>, memref<f32>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @gemm_epilogue(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: memref<256x512xbf16>, %[[W:[a-z0-9_]+]]: memref<1024x512xbf16>, %[[Y:[a-z0-9_]+]]: memref<256x1024xbf16>, %[[B:[a-z0-9_]+]]: memref<1024xbf16>, %[[XQ:[a-z0-9_]+]]: memref<256x512xf8E4M3FN>, %[[WQ:[a-z0-9_]+]]: memref<1024x512xf8E4M3FN>, %[[YQ:[a-z0-9_]+]]: memref<256x1024xf8E4M3FN>, %[[S:[a-z0-9_]+]]: memref<f32>)
func.func @gemm_epilogue(%x: memref<256x512xbf16>, %w: memref<1024x512xbf16>,
                         %y: memref<256x1024xbf16>, %bias: memref<1024xbf16>,
                         %xq: memref<256x512xf8E4M3FN>, %wq: memref<1024x512xf8E4M3FN>,
                         %yq: memref<256x1024xf8E4M3FN>, %s: memref<f32>) {
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] bias(%[[B]]) {epilogue = #rt<epilogue bias>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  rt.gemm %x, %w -> %y bias(%bias) {epilogue = #rt<epilogue bias>, transpose_b}
      : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] bias(%[[B]]) {epilogue = #rt<epilogue bias_gelu>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  rt.gemm %x, %w -> %y bias(%bias) {epilogue = #rt<epilogue bias_gelu>, transpose_b}
      : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>, memref<1024xbf16>
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] {epilogue = #rt<epilogue gelu>, transpose_b} : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  rt.gemm %x, %w -> %y {epilogue = #rt<epilogue gelu>, transpose_b}
      : memref<256x512xbf16>, memref<1024x512xbf16>, memref<256x1024xbf16>
  // Every optional operand at once: FP8 GEMM with bias+GELU, FP8 D and its amax.
  // CHECK: rt.gemm %[[XQ]], %[[WQ]] -> %[[YQ]] bias(%[[B]]) a_scale(%[[S]]) b_scale(%[[S]]) d_scale(%[[S]]) amax_d(%[[S]]) {epilogue = #rt<epilogue bias_gelu>, fast_accum, transpose_b} : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xf8E4M3FN>, memref<1024xbf16>, memref<f32>, memref<f32>, memref<f32>, memref<f32>
  rt.gemm %xq, %wq -> %yq bias(%bias) a_scale(%s) b_scale(%s) d_scale(%s) amax_d(%s)
      {epilogue = #rt<epilogue bias_gelu>, fast_accum, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xf8E4M3FN>,
        memref<1024xbf16>, memref<f32>, memref<f32>, memref<f32>, memref<f32>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @buffer_attributes(
func.func @buffer_attributes() {
  // CHECK: %[[A:.*]] = rt.arena size 4096 : !rt.arena
  %arena = rt.arena size 4096 : !rt.arena
  // CHECK: rt.buffer %[[A]][0] {init = #rt<init normal>, init_std = 2.000000e-02 : f64, name = "h.0.weight", role = #rt<role param>} : memref<64xf32>
  %w = rt.buffer %arena[0] {name = "h.0.weight", role = #rt<role param>, init = #rt<init normal>, init_std = 2.000000e-02 : f64} : memref<64xf32>
  // CHECK: rt.buffer %[[A]][256] {init = #rt<init zeros>, name = "optimizer.exp_avg.h.0.weight", role = #rt<role optimizer>} : memref<64xf32>
  %m = rt.buffer %arena[256] {name = "optimizer.exp_avg.h.0.weight", role = #rt<role optimizer>, init = #rt<init zeros>} : memref<64xf32>
  // CHECK: rt.buffer %[[A]][512] {init = #rt<init ones>, name = "fp8.scale.h.0.input", role = #rt<role fp8_state>} : memref<f32>
  %s = rt.buffer %arena[512] {name = "fp8.scale.h.0.input", role = #rt<role fp8_state>, init = #rt<init ones>} : memref<f32>
  // CHECK: rt.buffer %[[A]][768] {init = #rt<init zeros>, name = "grad_accum.h.0.weight", role = #rt<role grad_accum>} : memref<64xf32>
  %g = rt.buffer %arena[768] {name = "grad_accum.h.0.weight", role = #rt<role grad_accum>, init = #rt<init zeros>} : memref<64xf32>
  // CHECK: rt.buffer %[[A]][1024] {data = dense<[0, 1, 2, 3]> : tensor<4xi32>, name = "constant.0", role = #rt<role constant>} : memref<4xi32>
  %c = rt.buffer %arena[1024] {name = "constant.0", role = #rt<role constant>, data = dense<[0, 1, 2, 3]> : tensor<4xi32>} : memref<4xi32>
  // CHECK: rt.buffer %[[A]][1280] {name = "tokens", role = #rt<role input>} : memref<2x4xi32>
  %t = rt.buffer %arena[1280] {name = "tokens", role = #rt<role input>} : memref<2x4xi32>
  // CHECK: rt.buffer %[[A]][1536] {name = "loss", role = #rt<role output>} : memref<f32>
  %l = rt.buffer %arena[1536] {name = "loss", role = #rt<role output>} : memref<f32>
  // CHECK: rt.buffer %[[A]][1792] {name = "h.0.forward.a.amax", role = #rt<role metric>} : memref<f32>
  %x = rt.buffer %arena[1792] {name = "h.0.forward.a.amax", role = #rt<role metric>} : memref<f32>
  // CHECK: rt.buffer %[[A]][2048] {name = "grad.h.0.weight", role = #rt<role grad>} : memref<64xf32>
  %d = rt.buffer %arena[2048] {name = "grad.h.0.weight", role = #rt<role grad>} : memref<64xf32>
  // CHECK: rt.buffer %[[A]][2304] {role = #rt<role scratch>} : memref<64xbf16>
  %r = rt.buffer %arena[2304] {role = #rt<role scratch>} : memref<64xbf16>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @gemm_scale_modes(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: memref<256x512xf8E4M3FN>, %[[W:[a-z0-9_]+]]: memref<1024x512xf8E4M3FN>, %[[Y:[a-z0-9_]+]]: memref<256x1024xbf16>, %[[RX:[a-z0-9_]+]]: memref<256x1xf32>, %[[RW:[a-z0-9_]+]]: memref<1024x1xf32>, %[[BX:[a-z0-9_]+]]: memref<256x4xf32>, %[[BW:[a-z0-9_]+]]: memref<8x4xf32>, %[[S:[a-z0-9_]+]]: memref<f32>)
func.func @gemm_scale_modes(%x: memref<256x512xf8E4M3FN>, %w: memref<1024x512xf8E4M3FN>,
                            %y: memref<256x1024xbf16>, %rx: memref<256x1xf32>,
                            %rw: memref<1024x1xf32>, %bx: memref<256x4xf32>,
                            %bw: memref<8x4xf32>, %s: memref<f32>) {
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[S]]) b_scale(%[[S]]) {a_scale_mode = #rt<scale_mode tensorwise>, b_scale_mode = #rt<scale_mode tensorwise>, name = "h.0.mlp.c_fc.forward", transpose_b}
  rt.gemm %x, %w -> %y a_scale(%s) b_scale(%s)
      {name = "h.0.mlp.c_fc.forward", a_scale_mode = #rt<scale_mode tensorwise>,
       b_scale_mode = #rt<scale_mode tensorwise>, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<f32>, memref<f32>
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[RX]]) b_scale(%[[RW]]) {a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode rowwise>, transpose_b}
  rt.gemm %x, %w -> %y a_scale(%rx) b_scale(%rw)
      {a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode rowwise>, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<256x1xf32>, memref<1024x1xf32>
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[BX]]) b_scale(%[[BW]]) {a_scale_mode = #rt<scale_mode block_1x128>, b_scale_mode = #rt<scale_mode block_128x128>, transpose_b}
  rt.gemm %x, %w -> %y a_scale(%bx) b_scale(%bw)
      {a_scale_mode = #rt<scale_mode block_1x128>, b_scale_mode = #rt<scale_mode block_128x128>, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<256x4xf32>, memref<8x4xf32>
  // Mixed modes: rowwise activations, tensorwise weights.
  // CHECK: rt.gemm %[[X]], %[[W]] -> %[[Y]] a_scale(%[[RX]]) b_scale(%[[S]]) {a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode tensorwise>, transpose_b}
  rt.gemm %x, %w -> %y a_scale(%rx) b_scale(%s)
      {a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode tensorwise>, transpose_b}
      : memref<256x512xf8E4M3FN>, memref<1024x512xf8E4M3FN>, memref<256x1024xbf16>,
        memref<256x1xf32>, memref<f32>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @copy(
// CHECK-SAME:    %[[A:[a-z0-9_]+]]: memref<64x64xf32>, %[[B:[a-z0-9_]+]]: memref<4096xf32>, %[[C:[a-z0-9_]+]]: memref<32x256xbf16>, %[[D:[a-z0-9_]+]]: memref<16xf8E4M3FN>, %[[E:[a-z0-9_]+]]: memref<4xf32>)
func.func @copy(%a: memref<64x64xf32>, %b: memref<4096xf32>, %c: memref<32x256xbf16>,
                %d: memref<16xf8E4M3FN>, %e: memref<4xf32>) {
  // CHECK: rt.copy %[[A]], %[[A]] : memref<64x64xf32>, memref<64x64xf32>
  rt.copy %a, %a : memref<64x64xf32>, memref<64x64xf32>
  // Only the byte sizes have to agree: shapes and element types may differ.
  // CHECK: rt.copy %[[A]], %[[B]] : memref<64x64xf32>, memref<4096xf32>
  rt.copy %a, %b : memref<64x64xf32>, memref<4096xf32>
  // CHECK: rt.copy %[[B]], %[[C]] : memref<4096xf32>, memref<32x256xbf16>
  rt.copy %b, %c : memref<4096xf32>, memref<32x256xbf16>
  // CHECK: rt.copy %[[D]], %[[E]] : memref<16xf8E4M3FN>, memref<4xf32>
  rt.copy %d, %e : memref<16xf8E4M3FN>, memref<4xf32>
  // CHECK: return
  return
}

// CHECK-LABEL: func.func @fusion(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<512x3072xbf16>)
func.func @fusion(%x: tensor<512x3072xbf16>) -> (tensor<512x3072xbf16>, tensor<f32>) {
  // CHECK: %[[R:.*]]:2 = rt.fusion "gelu_amax_3"(%[[X]]) : (tensor<512x3072xbf16>) -> (tensor<512x3072xbf16>, tensor<f32>) {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<512x3072xbf16>):
  // CHECK-NEXT:   %[[G:.*]] = train.gelu %[[A]] approximate none : tensor<512x3072xbf16>
  // CHECK-NEXT:   %[[M:.*]] = fp8.amax %[[G]] recipe tensorwise : tensor<512x3072xbf16> -> tensor<f32>
  // CHECK-NEXT:   rt.yield %[[G]], %[[M]] : tensor<512x3072xbf16>, tensor<f32>
  // CHECK-NEXT: }
  %y, %amax = rt.fusion "gelu_amax_3" (%x) : (tensor<512x3072xbf16>) -> (tensor<512x3072xbf16>, tensor<f32>) {
  ^bb0(%a: tensor<512x3072xbf16>):
    %g = train.gelu %a approximate none : tensor<512x3072xbf16>
    %m = fp8.amax %g recipe tensorwise : tensor<512x3072xbf16> -> tensor<f32>
    rt.yield %g, %m : tensor<512x3072xbf16>, tensor<f32>
  }
  // CHECK: return %[[R]]#0, %[[R]]#1
  return %y, %amax : tensor<512x3072xbf16>, tensor<f32>
}

// A predicate passed between kernels lives in an i1 buffer (one byte each).
// CHECK-LABEL: func.func @predicate_buffer(
// CHECK: %[[P:.*]] = rt.buffer %{{.*}}[256] : memref<i1>
// CHECK: rt.kernel "k" ins(%[[P]] : memref<i1>)
func.func @predicate_buffer(%x: memref<f32>) {
  %arena = rt.arena size 512 : !rt.arena
  %p = rt.buffer %arena[256] : memref<i1>
  rt.kernel "k" ins(%p : memref<i1>) outs(%x : memref<f32>) {
  ^bb0(%c: tensor<i1>):
    %one = arith.constant dense<1.0> : tensor<f32>
    %zero = arith.constant dense<0.0> : tensor<f32>
    %r = arith.select %c, %one, %zero : tensor<i1>, tensor<f32>
    rt.yield %r : tensor<f32>
  }
  return
}

// CHECK-LABEL: func.func @all_reduce(
// CHECK-SAME:    %[[A:[a-z0-9_]+]]: memref<64x64xf32>, %[[B:[a-z0-9_]+]]: memref<64x64xf32>)
func.func @all_reduce(%a: memref<64x64xf32>, %b: memref<64x64xf32>) {
  // CHECK: rt.all_reduce %[[A]], %[[B]] reduction avg world_size 2 : memref<64x64xf32>, memref<64x64xf32>
  rt.all_reduce %a, %b reduction avg world_size 2 : memref<64x64xf32>, memref<64x64xf32>
  // In place.
  // CHECK: rt.all_reduce %[[A]], %[[A]] reduction max world_size 4 : memref<64x64xf32>, memref<64x64xf32>
  rt.all_reduce %a, %a reduction max world_size 4 : memref<64x64xf32>, memref<64x64xf32>
  return
}

// CHECK-LABEL: func.func @shards(
// CHECK-SAME:    %[[F:[a-z0-9_]+]]: memref<3x5xf32>, %[[S:[a-z0-9_]+]]: memref<8xf32>, %[[B:[a-z0-9_]+]]: memref<8xbf16>, %[[W:[a-z0-9_]+]]: memref<3x5xbf16>)
func.func @shards(%f: memref<3x5xf32>, %s: memref<8xf32>, %b: memref<8xbf16>, %w: memref<3x5xbf16>) {
  // CHECK: rt.reduce_scatter %[[F]], %[[S]] reduction avg world_size 2 : memref<3x5xf32>, memref<8xf32>
  rt.reduce_scatter %f, %s reduction avg world_size 2 : memref<3x5xf32>, memref<8xf32>
  // CHECK: rt.all_gather %[[B]], %[[W]] world_size 2 : memref<8xbf16>, memref<3x5xbf16>
  rt.all_gather %b, %w world_size 2 : memref<8xbf16>, memref<3x5xbf16>
  // CHECK: rt.shard %[[W]], %[[B]] world_size 2 : memref<3x5xbf16>, memref<8xbf16>
  rt.shard %w, %b world_size 2 : memref<3x5xbf16>, memref<8xbf16>
  return
}
