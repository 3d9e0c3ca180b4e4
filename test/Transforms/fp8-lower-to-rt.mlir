// RUN: fp8-opt %s -split-input-file --fp8-lower-to-rt | FileCheck %s

// fp8-lower-to-rt on small step functions; offsets are worked out in
// docs/memory-plan.md's terms: persistent state from 0, then inputs, then
// first fit over live ranges, every range 256-byte aligned.

// Persistent state first, at the same offsets in both functions; then the
// inputs; activations reuse freed ranges (loss lands where %wb was).
// CHECK-LABEL: func.func @train_step()
// CHECK-NEXT:    %[[A:.*]] = rt.arena size 5888 : !rt.arena
// CHECK-NEXT:    %[[W:.*]] = rt.buffer %[[A]][0] {init = #rt<init normal>, init_std = 2.000000e-02 : f64, name = "w", role = #rt<role param>} : memref<16x16xf32>
// CHECK-NEXT:    %[[WB:.*]] = rt.buffer %[[A]][3840] : memref<16x16xbf16>
// CHECK-NEXT:    %[[Y:.*]] = rt.buffer %[[A]][4352] : memref<16x16xbf16>
// The rank-3 input read by the GEMM as a 2-D view of the same bytes.
// CHECK-NEXT:    %[[X:.*]] = rt.buffer %[[A]][3072] {name = "x", role = #rt<role input>} : memref<16x16xbf16>
// CHECK-NEXT:    %[[G:.*]] = rt.buffer %[[A]][4864] {name = "grad.w", role = #rt<role grad>} : memref<16x16xf32>
// CHECK-NEXT:    %[[LOSS:.*]] = rt.buffer %[[A]][3840] {name = "loss", role = #rt<role output>} : memref<f32>
// CHECK-NEXT:    %[[M:.*]] = rt.buffer %[[A]][1024] {init = #rt<init zeros>, name = "optimizer.exp_avg.w", role = #rt<role optimizer>} : memref<16x16xf32>
// CHECK-NEXT:    %[[V:.*]] = rt.buffer %[[A]][2048] {init = #rt<init zeros>, name = "optimizer.exp_avg_sq.w", role = #rt<role optimizer>} : memref<16x16xf32>
// CHECK-NEXT:    %[[STEP:.*]] = rt.buffer %[[A]][3584] {name = "step", role = #rt<role input>} : memref<i64>
// CHECK-NEXT:    rt.kernel "k0_convert" ins(%[[W]] : memref<16x16xf32>) outs(%[[WB]] : memref<16x16xbf16>) {
// CHECK-NEXT:    ^bb0(%[[WA:.*]]: tensor<16x16xf32>):
// CHECK-NEXT:      %[[C:.*]] = train.convert %[[WA]] : tensor<16x16xf32> -> tensor<16x16xbf16>
// CHECK-NEXT:      rt.yield %[[C]] : tensor<16x16xbf16>
// CHECK-NEXT:    }
// bf16 train.linear: x . W^T as a TN GEMM, the reshape of its result a view.
// CHECK-NEXT:    rt.gemm %[[X]], %[[WB]] -> %[[Y]] {name = "fc", transpose_b} : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x16xbf16>
// CHECK-NEXT:    rt.kernel "k2_convert" ins(%[[Y]] : memref<16x16xbf16>) outs(%[[G]] : memref<16x16xf32>)
// CHECK:         rt.kernel "k3_global_norm" ins(%[[G]] : memref<16x16xf32>) outs(%[[LOSS]] : memref<f32>)
// The update writes the parameter and both moments in place; the splat
// learning rate is cloned into the kernel body.
// CHECK:         rt.kernel "k4_adamw_update" ins(%[[W]], %[[G]], %[[M]], %[[V]], %[[STEP]] : {{.*}}) outs(%[[W]], %[[M]], %[[V]] : memref<16x16xf32>, memref<16x16xf32>, memref<16x16xf32>) {
// CHECK-NEXT:    ^bb0(%[[P0:.*]]: tensor<16x16xf32>, %[[P1:.*]]: tensor<16x16xf32>, %[[P2:.*]]: tensor<16x16xf32>, %[[P3:.*]]: tensor<16x16xf32>, %[[P4:.*]]: tensor<i64>):
// CHECK-NEXT:      %[[LR:.*]] = arith.constant dense<1.000000e-03> : tensor<f32>
// CHECK-NEXT:      %[[NP:[a-z0-9_]+]], %[[NM:[a-z0-9_]+]], %[[NV:[a-z0-9_]+]] = train.adamw_update %[[P0]], %[[P1]], %[[P2]], %[[P3]], %[[LR]], %[[P4]]
// CHECK-NEXT:      rt.yield %[[NP]], %[[NM]], %[[NV]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return

// Same arena size, same offsets for "w", "x" and "loss".
// CHECK-LABEL: func.func @eval_step()
// CHECK-NEXT:    %[[A:.*]] = rt.arena size 5888 : !rt.arena
// CHECK-NEXT:    %[[W:.*]] = rt.buffer %[[A]][0] {init = #rt<init normal>, init_std = 2.000000e-02 : f64, name = "w", role = #rt<role param>} : memref<16x16xf32>
// CHECK-NEXT:    %[[WB:.*]] = rt.buffer %[[A]][3584] : memref<16x16xbf16>
// CHECK-NEXT:    %[[Y:.*]] = rt.buffer %[[A]][4096] : memref<16x16xbf16>
// CHECK-NEXT:    %[[G:.*]] = rt.buffer %[[A]][4608] : memref<16x16xf32>
// CHECK-NEXT:    %[[LOSS:.*]] = rt.buffer %[[A]][3840] {name = "loss", role = #rt<role output>} : memref<f32>
// CHECK:         rt.gemm %[[WB]], %[[WB]] -> %[[Y]] {name = "sq", transpose_b} : memref<16x16xbf16>, memref<16x16xbf16>, memref<16x16xbf16>
// CHECK:         rt.kernel "k3_global_norm" ins(%[[G]] : memref<16x16xf32>) outs(%[[LOSS]] : memref<f32>)


module attributes {train.config = {batch_size = 2 : i64}} {
  func.func @train_step(%w: tensor<16x16xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "w"},
                        %m: tensor<16x16xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg.w"},
                        %v: tensor<16x16xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg_sq.w"},
                        %x: tensor<2x8x16xbf16> {train.name = "x"},
                        %step: tensor<i64> {train.name = "step"})
      -> (tensor<f32> {train.name = "loss"}, tensor<16x16xf32> {train.name = "w"},
          tensor<16x16xf32> {train.name = "optimizer.exp_avg.w"},
          tensor<16x16xf32> {train.name = "optimizer.exp_avg_sq.w"}) {
    %lr = arith.constant dense<1.000000e-03> : tensor<f32>
    %wb = train.convert %w : tensor<16x16xf32> -> tensor<16x16xbf16>
    %y = train.linear %x, %wb {name = "fc"} : (tensor<2x8x16xbf16>, tensor<16x16xbf16>) -> tensor<2x8x16xbf16>
    %r = train.reshape %y : tensor<2x8x16xbf16> -> tensor<16x16xbf16>
    %g = train.convert %r : tensor<16x16xbf16> -> tensor<16x16xf32>
    %loss = train.global_norm %g : (tensor<16x16xf32>) -> tensor<f32>
    %w1, %m1, %v1 = train.adamw_update %w, %g, %m, %v, %lr, %step {beta1 = 9.000000e-01 : f64, beta2 = 9.900000e-01 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<f32>, tensor<i64>) -> (tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>)
    return %loss, %w1, %m1, %v1 : tensor<f32>, tensor<16x16xf32>, tensor<16x16xf32>, tensor<16x16xf32>
  }
  func.func @eval_step(%w: tensor<16x16xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "w"},
                       %x: tensor<2x8x16xbf16> {train.name = "x"}) -> (tensor<f32> {train.name = "loss"}) {
    %wb = train.convert %w : tensor<16x16xf32> -> tensor<16x16xbf16>
    %y = train.matmul %wb, %wb {transpose_rhs, name = "sq"} : (tensor<16x16xbf16>, tensor<16x16xbf16>) -> tensor<16x16xbf16>
    %g = train.convert %y : tensor<16x16xbf16> -> tensor<16x16xf32>
    %loss = train.global_norm %g : (tensor<16x16xf32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// The old parameter is read after its update: the new value goes to scratch
// and is copied back at the end. The amax history shift is not elementwise:
// copied back too.
// CHECK-LABEL: func.func @train_step()
// CHECK-NEXT:    %[[A:.*]] = rt.arena size 1792 : !rt.arena
// CHECK-NEXT:    %[[P:.*]] = rt.buffer %[[A]][0] {init = #rt<init zeros>, name = "p", role = #rt<role param>} : memref<64xf32>
// CHECK-NEXT:    %[[D:.*]] = rt.buffer %[[A]][512] {name = "d", role = #rt<role input>} : memref<64xf32>
// CHECK-NEXT:    %[[NEW:.*]] = rt.buffer %[[A]][768] : memref<64xf32>
// CHECK-NEXT:    %[[TWICE:.*]] = rt.buffer %[[A]][1024] {name = "old_p_twice", role = #rt<role output>} : memref<64xf32>
// CHECK-NEXT:    %[[AMAX:.*]] = rt.buffer %[[A]][1280] : memref<f32>
// CHECK-NEXT:    %[[H:.*]] = rt.buffer %[[A]][256] {init = #rt<init zeros>, name = "fp8.amax_history.p", role = #rt<role fp8_state>} : memref<16xf32>
// CHECK-NEXT:    %[[H1:.*]] = rt.buffer %[[A]][1536] : memref<16xf32>
// CHECK-NEXT:    rt.kernel "k0_add" ins(%[[P]], %[[D]] : memref<64xf32>, memref<64xf32>) outs(%[[NEW]] : memref<64xf32>)
// CHECK:         rt.kernel "k1_add" ins(%[[P]] : memref<64xf32>) outs(%[[TWICE]] : memref<64xf32>)
// CHECK:         rt.kernel "k2_amax" ins(%[[D]] : memref<64xf32>) outs(%[[AMAX]] : memref<f32>)
// CHECK:         rt.kernel "k3_amax_history_update" ins(%[[H]], %[[AMAX]] : memref<16xf32>, memref<f32>) outs(%[[H1]] : memref<16xf32>)
// CHECK:         rt.copy %[[NEW]], %[[P]] : memref<64xf32>, memref<64xf32>
// CHECK-NEXT:    rt.copy %[[H1]], %[[H]] : memref<16xf32>, memref<16xf32>
// CHECK-NEXT:    return


module {
  func.func @train_step(%p: tensor<64xf32> {train.init = #train<init zeros>, train.name = "p"},
                        %h: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fp8.amax_history.p"},
                        %d: tensor<64xf32> {train.name = "d"})
      -> (tensor<64xf32> {train.name = "p"}, tensor<16xf32> {train.name = "fp8.amax_history.p"},
          tensor<64xf32> {train.name = "old_p_twice"}) {
    %new = train.add %p, %d : tensor<64xf32>
    %twice = train.add %p, %p : tensor<64xf32>
    %a = fp8.amax %d recipe tensorwise : tensor<64xf32> -> tensor<f32>
    %h1 = fp8.amax_history_update %h, %a : tensor<16xf32>, tensor<f32>
    return %new, %h1, %twice : tensor<64xf32>, tensor<16xf32>, tensor<64xf32>
  }
}

// -----

// FP8 tensorwise: amax and scale of each operand are metrics named after the
// GEMM; bias epilogue, fast accumulation, TN layout, tensorwise scale modes.
// CHECK-LABEL: func.func @train_step()
// CHECK-NEXT:    %[[A:.*]] = rt.arena size 15616 : !rt.arena
// CHECK-NEXT:    %[[X:.*]] = rt.buffer %[[A]][0] {name = "x", role = #rt<role input>} : memref<32x64xbf16>
// CHECK-NEXT:    %[[AX:.*]] = rt.buffer %[[A]][8448] {name = "l0.forward.a.amax", role = #rt<role metric>} : memref<f32>
// CHECK-NEXT:    %[[SX:.*]] = rt.buffer %[[A]][8704] {name = "l0.forward.a.scale", role = #rt<role metric>} : memref<f32>
// CHECK-NEXT:    %[[QX:.*]] = rt.buffer %[[A]][8960] : memref<32x64xf8E4M3FN>
// CHECK-NEXT:    %[[W:.*]] = rt.buffer %[[A]][4096] {name = "w", role = #rt<role input>} : memref<32x64xbf16>
// CHECK-NEXT:    %[[AW:.*]] = rt.buffer %[[A]][11008] {name = "l0.forward.b.amax", role = #rt<role metric>} : memref<f32>
// CHECK-NEXT:    %[[SW:.*]] = rt.buffer %[[A]][11264] {name = "l0.forward.b.scale", role = #rt<role metric>} : memref<f32>
// CHECK-NEXT:    %[[QW:.*]] = rt.buffer %[[A]][11520] : memref<32x64xf8E4M3FN>
// CHECK-NEXT:    %[[B:.*]] = rt.buffer %[[A]][8192] {name = "b", role = #rt<role input>} : memref<32xbf16>
// CHECK-NEXT:    %[[Y:.*]] = rt.buffer %[[A]][13568] {name = "y", role = #rt<role output>} : memref<32x32xbf16>
// CHECK:         rt.kernel "k0_amax" ins(%[[X]] : memref<32x64xbf16>) outs(%[[AX]] : memref<f32>)
// CHECK:         rt.kernel "k1_compute_scale" ins(%[[AX]] : memref<f32>) outs(%[[SX]] : memref<f32>)
// CHECK:         rt.kernel "k2_quantize" ins(%[[X]], %[[SX]] : memref<32x64xbf16>, memref<f32>) outs(%[[QX]] : memref<32x64xf8E4M3FN>)
// CHECK:         rt.gemm %[[QX]], %[[QW]] -> %[[Y]] bias(%[[B]]) a_scale(%[[SX]]) b_scale(%[[SW]]) {a_scale_mode = #rt<scale_mode tensorwise>, b_scale_mode = #rt<scale_mode tensorwise>, epilogue = #rt<epilogue bias>, fast_accum, name = "l0.forward", transpose_b} : memref<32x64xf8E4M3FN>, memref<32x64xf8E4M3FN>, memref<32x32xbf16>, memref<32xbf16>, memref<f32>, memref<f32>
// CHECK-NEXT:    return


module {
  func.func @train_step(%x: tensor<2x16x64xbf16> {train.name = "x"},
                        %w: tensor<32x64xbf16> {train.name = "w"},
                        %b: tensor<32xbf16> {train.name = "b"})
      -> (tensor<32x32xbf16> {train.name = "y"}) {
    %x2 = train.reshape %x : tensor<2x16x64xbf16> -> tensor<32x64xbf16>
    %ax = fp8.amax %x2 recipe tensorwise : tensor<32x64xbf16> -> tensor<f32>
    %sx = fp8.compute_scale %ax for f8E4M3FN : tensor<f32>
    %qx = fp8.quantize %x2, %sx recipe tensorwise : tensor<32x64xbf16>, tensor<f32> -> tensor<32x64xf8E4M3FN>
    %aw = fp8.amax %w recipe tensorwise : tensor<32x64xbf16> -> tensor<f32>
    %sw = fp8.compute_scale %aw for f8E4M3FN : tensor<f32>
    %qw = fp8.quantize %w, %sw recipe tensorwise : tensor<32x64xbf16>, tensor<f32> -> tensor<32x64xf8E4M3FN>
    %y = fp8.scaled_matmul %qx, %qw scales(%sx, %sw) bias(%b) recipe tensorwise format hybrid {fast_accum, fp8.gemm = {decision = "fp8", k = 64 : i64, kind = "forward", m = 32 : i64, n = 32 : i64, name = "l0", reason = "r", speedup = 1.0 : f64, t_bf16_us = 1.0 : f64, t_fp8_us = 1.0 : f64}} : (tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<32xbf16>) -> tensor<32x32xbf16>
    return %y : tensor<32x32xbf16>
  }
}

// -----

// FP8 rowwise: [rows, 1] scales and rowwise modes; without an fp8.gemm
// annotation the GEMM keeps the op's name.
// CHECK-LABEL: func.func @train_step()
// CHECK:         %[[SX:.*]] = rt.buffer %{{.*}}[8448] {name = "l0.fwd.a.scale", role = #rt<role metric>} : memref<32x1xf32>
// CHECK-NEXT:    %[[QX:.*]] = rt.buffer %{{.*}}[8704] : memref<32x64xf8E4M3FN>
// CHECK:         %[[SW:.*]] = rt.buffer %{{.*}}[11008] {name = "l0.fwd.b.scale", role = #rt<role metric>} : memref<32x1xf32>
// CHECK-NEXT:    %[[QW:.*]] = rt.buffer %{{.*}}[11264] : memref<32x64xf8E4M3FN>
// CHECK-NEXT:    %[[Y:.*]] = rt.buffer %{{.*}}[13312] {name = "y", role = #rt<role output>} : memref<32x32xbf16>
// CHECK:         rt.gemm %[[QX]], %[[QW]] -> %[[Y]] a_scale(%[[SX]]) b_scale(%[[SW]]) {a_scale_mode = #rt<scale_mode rowwise>, b_scale_mode = #rt<scale_mode rowwise>, name = "l0.fwd", transpose_b} : memref<32x64xf8E4M3FN>, memref<32x64xf8E4M3FN>, memref<32x32xbf16>, memref<32x1xf32>, memref<32x1xf32>


module {
  func.func @train_step(%x: tensor<32x64xbf16> {train.name = "x"},
                        %w: tensor<32x64xbf16> {train.name = "w"})
      -> (tensor<32x32xbf16> {train.name = "y"}) {
    %ax = fp8.amax %x recipe rowwise : tensor<32x64xbf16> -> tensor<32x1xf32>
    %sx = fp8.compute_scale %ax for f8E4M3FN : tensor<32x1xf32>
    %qx = fp8.quantize %x, %sx recipe rowwise : tensor<32x64xbf16>, tensor<32x1xf32> -> tensor<32x64xf8E4M3FN>
    %aw = fp8.amax %w recipe rowwise : tensor<32x64xbf16> -> tensor<32x1xf32>
    %sw = fp8.compute_scale %aw for f8E4M3FN : tensor<32x1xf32>
    %qw = fp8.quantize %w, %sw recipe rowwise : tensor<32x64xbf16>, tensor<32x1xf32> -> tensor<32x64xf8E4M3FN>
    %y = fp8.scaled_matmul %qx, %qw scales(%sx, %sw) recipe rowwise format hybrid {name = "l0.fwd"} : (tensor<32x64xf8E4M3FN>, tensor<32x64xf8E4M3FN>, tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<32x32xbf16>
    return %y : tensor<32x32xbf16>
  }
}

// -----

// An rt.fusion becomes one kernel with its name and body; its splat operand is
// cloned into the body. A non-splat constant is a constant buffer with data.
// CHECK-LABEL: func.func @train_step()
// CHECK-NEXT:    %[[A:.*]] = rt.arena size 3072 : !rt.arena
// CHECK-NEXT:    %[[X:.*]] = rt.buffer %[[A]][256] {name = "x", role = #rt<role input>} : memref<4x128xbf16>
// CHECK-NEXT:    %[[Y:.*]] = rt.buffer %[[A]][1536] {name = "y", role = #rt<role output>} : memref<4x128xbf16>
// CHECK-NEXT:    %[[M:.*]] = rt.buffer %[[A]][2560] {name = "m", role = #rt<role output>} : memref<f32>
// CHECK-NEXT:    %[[C:.*]] = rt.buffer %[[A]][0] {data = dense<[0, 1, 2, 3]> : tensor<4xi32>, name = "constant.0", role = #rt<role constant>} : memref<4xi32>
// CHECK-NEXT:    %[[T:.*]] = rt.buffer %[[A]][1280] {name = "t", role = #rt<role input>} : memref<4xi32>
// CHECK-NEXT:    %[[P:.*]] = rt.buffer %[[A]][2816] {name = "pos", role = #rt<role output>} : memref<4xi32>
// CHECK-NEXT:    rt.kernel "gelu_scale_amax" ins(%[[X]] : memref<4x128xbf16>) outs(%[[Y]], %[[M]] : memref<4x128xbf16>, memref<f32>) {
// CHECK-NEXT:    ^bb0(%[[XA:.*]]: tensor<4x128xbf16>):
// CHECK-NEXT:      %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<4x128xbf16>
// CHECK-NEXT:      %[[G:.*]] = train.gelu %[[XA]] approximate none : tensor<4x128xbf16>
// CHECK-NEXT:      %[[S:.*]] = train.mul %[[G]], %[[HALF]] : tensor<4x128xbf16>
// CHECK-NEXT:      %[[R:.*]] = fp8.amax %[[S]] recipe tensorwise : tensor<4x128xbf16> -> tensor<f32>
// CHECK-NEXT:      rt.yield %[[S]], %[[R]] : tensor<4x128xbf16>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    rt.kernel "k1_addi" ins(%[[C]], %[[T]] : memref<4xi32>, memref<4xi32>) outs(%[[P]] : memref<4xi32>)


module {
  func.func @train_step(%x: tensor<4x128xbf16> {train.name = "x"}, %t: tensor<4xi32> {train.name = "t"})
      -> (tensor<4x128xbf16> {train.name = "y"}, tensor<f32> {train.name = "m"}, tensor<4xi32> {train.name = "pos"}) {
    %half = arith.constant dense<5.000000e-01> : tensor<4x128xbf16>
    %pos = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi32>
    %y, %m = rt.fusion "gelu_scale_amax" (%x, %half) : (tensor<4x128xbf16>, tensor<4x128xbf16>) -> (tensor<4x128xbf16>, tensor<f32>) {
    ^bb0(%a: tensor<4x128xbf16>, %h: tensor<4x128xbf16>):
      %g = train.gelu %a approximate none : tensor<4x128xbf16>
      %s = train.mul %g, %h : tensor<4x128xbf16>
      %r = fp8.amax %s recipe tensorwise : tensor<4x128xbf16> -> tensor<f32>
      rt.yield %s, %r : tensor<4x128xbf16>, tensor<f32>
    }
    %p = arith.addi %pos, %t : tensor<4xi32>
    return %y, %m, %p : tensor<4x128xbf16>, tensor<f32>, tensor<4xi32>
  }
}

// -----

// The clipped gradient an update reads inside its own fusion is a result
// nobody else reads: it still gets a buffer, named for --dump, and the kernel
// writes it.
// CHECK-LABEL: func.func @train_step()
// CHECK-DAG:     %[[W:.*]] = rt.buffer %{{.*}}[0] {{{.*}}name = "w", role = #rt<role param>}
// CHECK-DAG:     %[[GRAD:.*]] = rt.buffer %{{.*}} {name = "grad.w", role = #rt<role grad>} : memref<16xf32>
// CHECK:         rt.kernel "f0_mul_scalar_sgd_update" ins({{.*}}) outs(%[[GRAD]], %[[W]] : memref<16xf32>, memref<16xf32>)
// CHECK:           %[[C:.*]] = train.mul_scalar
// CHECK:           %[[NW:.*]] = train.sgd_update
// CHECK:           rt.yield %[[C]], %[[NW]]
module {
  func.func @train_step(%w: tensor<16xf32> {train.init = #train<init zeros>, train.name = "w"},
                        %g: tensor<16xf32> {train.name = "g"},
                        %c: tensor<f32> {train.name = "clip"},
                        %lr: tensor<f32> {train.name = "lr"})
      -> (tensor<16xf32> {train.name = "w"}) {
    %r:2 = rt.fusion "f0_mul_scalar_sgd_update"(%g, %c, %w, %lr) : (tensor<16xf32>, tensor<f32>, tensor<16xf32>, tensor<f32>) -> (tensor<16xf32>, tensor<16xf32>) {
    ^bb0(%a: tensor<16xf32>, %b: tensor<f32>, %p: tensor<16xf32>, %l: tensor<f32>):
      %clipped = train.mul_scalar %a, %b : tensor<16xf32>, tensor<f32>
      %new = train.sgd_update %p, %clipped, %l {momentum = 0.0 : f64, weight_decay = 0.0 : f64} : (tensor<16xf32>, tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
      rt.yield %clipped, %new : tensor<16xf32>, tensor<16xf32>
    }
    return %r#1 : tensor<16xf32>
  }
}

// -----

// A result returned as a reshape of a GEMM's output (logits_step returns the
// [B, T, V] view of the [B*T, V] head GEMM): the GEMM writes the output buffer
// itself, declared in the GEMM's shape (the same bytes); no copy.
// CHECK-LABEL: func.func @logits_step()
// CHECK:         %[[OUT:.*]] = rt.buffer %{{.*}}[{{[0-9]+}}] {name = "logits", role = #rt<role output>} : memref<16x16xbf16>
// CHECK:         rt.gemm %{{.*}}, %{{.*}} -> %[[OUT]] {name = "head", transpose_b}
// CHECK-NOT:     rt.copy
// CHECK:         return
func.func @logits_step(%w: tensor<16x16xbf16> {train.name = "w"},
                       %x: tensor<16x16xbf16> {train.name = "x"})
    -> (tensor<2x8x16xbf16> {train.name = "logits"}) {
  %y = train.linear %x, %w {name = "head"} : (tensor<16x16xbf16>, tensor<16x16xbf16>) -> tensor<16x16xbf16>
  %r = train.reshape %y : tensor<16x16xbf16> -> tensor<2x8x16xbf16>
  return %r : tensor<2x8x16xbf16>
}
