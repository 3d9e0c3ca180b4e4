// RUN: fp8-opt %s --fp8-fuse-kernels -split-input-file | FileCheck %s
// RUN: fp8-opt %s --fp8-fuse-kernels -split-input-file | fp8-opt --fp8-fuse-kernels -split-input-file | FileCheck %s

// The input is what fp8-fuse-scaling emits. The second RUN line checks that the
// pass is idempotent: fusions are never members, and what could not join the
// first time cannot join the second. docs/kernel-fusion.md has the rules.

// A layer_norm whose amax fp8-fuse-scaling marked fused_into_producer, through a
// reshape: the amax and its scale join the norm's kernel, which clones the
// reshape. The cast_transpose is a second anchor and stays out; the original
// reshape stays for it, moved after the fusion. Every amax and scale is a result.
// CHECK-LABEL: func.func @layer_norm_amax_through_reshape(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<8x64x128xbf16>, %[[G:[a-z0-9_]+]]: tensor<128xbf16>)
// CHECK-NEXT:    %[[F:.*]]:3 = rt.fusion "f0_layer_norm_amax"(%[[H]], %[[G]]) : (tensor<8x64x128xbf16>, tensor<128xbf16>) -> (tensor<8x64x128xbf16>, tensor<f32>, tensor<f32>) {
// CHECK-NEXT:    ^bb0(%[[BH:.*]]: tensor<8x64x128xbf16>, %[[BG:.*]]: tensor<128xbf16>):
// CHECK-NEXT:      %[[Y:.*]] = train.layer_norm %[[BH]], %[[BG]]
// CHECK-NEXT:      %[[Y2:.*]] = train.reshape %[[Y]] : tensor<8x64x128xbf16> -> tensor<512x128xbf16>
// CHECK-NEXT:      %[[A:.*]] = fp8.amax %[[Y2]] recipe tensorwise {fused_into_producer}
// CHECK-NEXT:      %[[S:.*]] = fp8.compute_scale %[[A]] for f8E4M3FN
// CHECK-NEXT:      rt.yield %[[Y]], %[[A]], %[[S]] : tensor<8x64x128xbf16>, tensor<f32>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[R:.*]] = train.reshape %[[F]]#0 : tensor<8x64x128xbf16> -> tensor<512x128xbf16>
// CHECK-NEXT:    %[[Q:.*]], %[[QT:.*]] = fp8.cast_transpose %[[R]], %[[F]]#2 recipe tensorwise
// CHECK-NEXT:    return %[[Q]], %[[QT]], %[[F]]#1
func.func @layer_norm_amax_through_reshape(%h: tensor<8x64x128xbf16>, %g: tensor<128xbf16>)
    -> (tensor<512x128xf8E4M3FN>, tensor<128x512xf8E4M3FN>, tensor<f32>) {
  %y = train.layer_norm %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<8x64x128xbf16>, tensor<128xbf16>) -> tensor<8x64x128xbf16>
  %y2 = train.reshape %y : tensor<8x64x128xbf16> -> tensor<512x128xbf16>
  %a = fp8.amax %y2 recipe tensorwise {fused_into_producer} : tensor<512x128xbf16> -> tensor<f32>
  %s = fp8.compute_scale %a for f8E4M3FN : tensor<f32>
  %q, %qt = fp8.cast_transpose %y2, %s recipe tensorwise
      : tensor<512x128xbf16>, tensor<f32> -> tensor<512x128xf8E4M3FN>, tensor<128x512xf8E4M3FN>
  return %q, %qt, %a : tensor<512x128xf8E4M3FN>, tensor<128x512xf8E4M3FN>, tensor<f32>
}

// -----

// A GELU with its amax, scale and quantize (current scaling): one kernel. The
// GELU output is read by nothing outside, so it is no result; the amax and the
// scale are, although only the fusion reads the amax.
// CHECK-LABEL: func.func @gelu_amax_quantize(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x256xbf16>)
// CHECK-NEXT:    %[[F:.*]]:3 = rt.fusion "f0_gelu_amax_quantize"(%[[X]]) : (tensor<64x256xbf16>) -> (tensor<f32>, tensor<f32>, tensor<64x256xf8E4M3FN>) {
// CHECK-NEXT:    ^bb0(%[[BX:.*]]: tensor<64x256xbf16>):
// CHECK-NEXT:      %[[Y:.*]] = train.gelu %[[BX]] approximate none
// CHECK-NEXT:      %[[A:.*]] = fp8.amax %[[Y]] recipe tensorwise {fused_into_producer}
// CHECK-NEXT:      %[[S:.*]] = fp8.compute_scale %[[A]] for f8E4M3FN
// CHECK-NEXT:      %[[Q:.*]] = fp8.quantize %[[Y]], %[[S]] recipe tensorwise
// CHECK-NEXT:      rt.yield %[[A]], %[[S]], %[[Q]] : tensor<f32>, tensor<f32>, tensor<64x256xf8E4M3FN>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F]]#2, %[[F]]#1
func.func @gelu_amax_quantize(%x: tensor<64x256xbf16>) -> (tensor<64x256xf8E4M3FN>, tensor<f32>) {
  %y = train.gelu %x approximate none : tensor<64x256xbf16>
  %a = fp8.amax %y recipe tensorwise {fused_into_producer} : tensor<64x256xbf16> -> tensor<f32>
  %s = fp8.compute_scale %a for f8E4M3FN : tensor<f32>
  %q = fp8.quantize %y, %s recipe tensorwise : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E4M3FN>
  return %q, %s : tensor<64x256xf8E4M3FN>, tensor<f32>
}

// -----

// Delayed scaling: the scale is an argument, known before the GELU runs, so
// the marked cast_transpose joins as the kernel's epilogue although it is an
// anchor kind; the scale becomes an operand. The GELU output is read outside.
// CHECK-LABEL: func.func @gelu_delayed_cast(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x256xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>)
// CHECK-NEXT:    %[[F:.*]]:4 = rt.fusion "f0_gelu_cast_transpose"(%[[X]], %[[S]]) : (tensor<64x256xbf16>, tensor<f32>) -> (tensor<64x256xbf16>, tensor<64x256xf8E4M3FN>, tensor<256x64xf8E4M3FN>, tensor<f32>) {
// CHECK-NEXT:    ^bb0(%[[BX:.*]]: tensor<64x256xbf16>, %[[BS:.*]]: tensor<f32>):
// CHECK-NEXT:      %[[Y:.*]] = train.gelu %[[BX]]
// CHECK-NEXT:      %[[Q:.*]], %[[QT:.*]] = fp8.cast_transpose %[[Y]], %[[BS]] recipe delayed {fused_into_producer}
// CHECK-NEXT:      %[[A:.*]] = fp8.amax %[[Y]] recipe delayed {fused_into_producer}
// CHECK-NEXT:      rt.yield %[[Y]], %[[Q]], %[[QT]], %[[A]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F]]#0, %[[F]]#1, %[[F]]#2, %[[F]]#3
func.func @gelu_delayed_cast(%x: tensor<64x256xbf16>, %s: tensor<f32>)
    -> (tensor<64x256xbf16>, tensor<64x256xf8E4M3FN>, tensor<256x64xf8E4M3FN>, tensor<f32>) {
  %y = train.gelu %x approximate none : tensor<64x256xbf16>
  %q, %qt = fp8.cast_transpose %y, %s recipe delayed {fused_into_producer}
      : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E4M3FN>, tensor<256x64xf8E4M3FN>
  %a = fp8.amax %y recipe delayed {fused_into_producer} : tensor<64x256xbf16> -> tensor<f32>
  return %y, %q, %qt, %a : tensor<64x256xbf16>, tensor<64x256xf8E4M3FN>, tensor<256x64xf8E4M3FN>, tensor<f32>
}

// -----

// A chain of conversions and adds (gradient accumulation): one kernel. Only
// the last value is read outside. The reduce_sum is an anchor and starts its
// own kernel with the conversion after it.
// CHECK-LABEL: func.func @convert_add_chain(
// CHECK-SAME:    %[[DW:[a-z0-9_]+]]: tensor<128x512xbf16>, %[[ACC:[a-z0-9_]+]]: tensor<128x512xf32>, %[[DY:[a-z0-9_]+]]: tensor<64x512xbf16>, %[[BACC:[a-z0-9_]+]]: tensor<512xf32>)
// CHECK-NEXT:    %[[F0:.*]] = rt.fusion "f0_convert_add"(%[[DW]], %[[ACC]]) : (tensor<128x512xbf16>, tensor<128x512xf32>) -> tensor<128x512xf32> {
// CHECK-NEXT:    ^bb0(%[[A0:.*]]: tensor<128x512xbf16>, %[[A1:.*]]: tensor<128x512xf32>):
// CHECK-NEXT:      %[[C:.*]] = train.convert %[[A0]] : tensor<128x512xbf16> -> tensor<128x512xf32>
// CHECK-NEXT:      %[[S:.*]] = train.add %[[A1]], %[[C]] : tensor<128x512xf32>
// CHECK-NEXT:      %[[H:.*]] = train.convert %[[S]] : tensor<128x512xf32> -> tensor<128x512xbf16>
// CHECK-NEXT:      %[[W:.*]] = train.convert %[[H]] : tensor<128x512xbf16> -> tensor<128x512xf32>
// CHECK-NEXT:      rt.yield %[[W]] : tensor<128x512xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[F1:.*]] = rt.fusion "f1_reduce_sum_convert_add"(%[[DY]], %[[BACC]]) : (tensor<64x512xbf16>, tensor<512xf32>) -> tensor<512xf32> {
// CHECK-NEXT:    ^bb0(%[[B0:.*]]: tensor<64x512xbf16>, %[[B1:.*]]: tensor<512xf32>):
// CHECK-NEXT:      %[[R:.*]] = train.reduce_sum %[[B0]]
// CHECK-NEXT:      %[[RC:.*]] = train.convert %[[R]]
// CHECK-NEXT:      %[[RS:.*]] = train.add %[[B1]], %[[RC]]
// CHECK-NEXT:      rt.yield %[[RS]] : tensor<512xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F0]], %[[F1]]
func.func @convert_add_chain(%dw: tensor<128x512xbf16>, %acc: tensor<128x512xf32>,
                             %dy: tensor<64x512xbf16>, %bacc: tensor<512xf32>)
    -> (tensor<128x512xf32>, tensor<512xf32>) {
  %c = train.convert %dw : tensor<128x512xbf16> -> tensor<128x512xf32>
  %s = train.add %acc, %c : tensor<128x512xf32>
  %h = train.convert %s : tensor<128x512xf32> -> tensor<128x512xbf16>
  %w = train.convert %h : tensor<128x512xbf16> -> tensor<128x512xf32>
  %r = train.reduce_sum %dy : tensor<64x512xbf16> -> tensor<512xbf16>
  %rc = train.convert %r : tensor<512xbf16> -> tensor<512xf32>
  %rs = train.add %bacc, %rc : tensor<512xf32>
  return %w, %rs : tensor<128x512xf32>, tensor<512xf32>
}

// -----

// Gradient clipping and AdamW: the global norm and the clip coefficient are one
// kernel (scalar on scalar); each clipped gradient joins its update, and stays
// a result although only the update reads it (`--dump` shows the gradient the
// optimizer received). The lr schedule is a lone op.
// CHECK-LABEL: func.func @clip_adamw(
// CHECK-SAME:    %[[P:[a-z0-9_]+]]: tensor<256xf32>, %[[G:[a-z0-9_]+]]: tensor<256xf32>, %[[M:[a-z0-9_]+]]: tensor<256xf32>, %[[V:[a-z0-9_]+]]: tensor<256xf32>, %[[STEP:[a-z0-9_]+]]: tensor<i64>)
// CHECK-NEXT:    %[[N:.*]]:2 = rt.fusion "f0_global_norm_clip_coef"(%[[G]]) : (tensor<256xf32>) -> (tensor<f32>, tensor<f32>) {
// CHECK-NEXT:    ^bb0(%[[BG:.*]]: tensor<256xf32>):
// CHECK-NEXT:      %[[NORM:.*]] = train.global_norm %[[BG]]
// CHECK-NEXT:      %[[COEF:.*]] = train.clip_coef %[[NORM]]
// CHECK-NEXT:      rt.yield %[[NORM]], %[[COEF]] : tensor<f32>, tensor<f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[LR:.*]] = train.lr_schedule %[[STEP]] constant
// CHECK-NEXT:    %[[U:.*]]:4 = rt.fusion "f1_mul_scalar_adamw_update"(%[[G]], %[[N]]#1, %[[P]], %[[M]], %[[V]], %[[LR]], %[[STEP]])
// CHECK-SAME:      -> (tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>)
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      %[[CG:.*]] = train.mul_scalar
// CHECK-NEXT:      %[[NP:.*]], %[[NM:.*]], %[[NV:.*]] = train.adamw_update %{{.*}}, %[[CG]],
// CHECK-NEXT:      rt.yield %[[CG]], %[[NP]], %[[NM]], %[[NV]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[N]]#0, %[[U]]#1, %[[U]]#2, %[[U]]#3
func.func @clip_adamw(%p: tensor<256xf32>, %g: tensor<256xf32>, %m: tensor<256xf32>,
                      %v: tensor<256xf32>, %step: tensor<i64>)
    -> (tensor<f32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>) {
  %norm = train.global_norm %g : (tensor<256xf32>) -> tensor<f32>
  %coef = train.clip_coef %norm {max_norm = 1.000000e+00 : f64} : tensor<f32>
  %cg = train.mul_scalar %g, %coef : tensor<256xf32>, tensor<f32>
  %lr = train.lr_schedule %step constant {lr = 1.000000e-03 : f64} : tensor<i64> -> tensor<f32>
  %np, %nm, %nv = train.adamw_update %p, %cg, %m, %v, %lr, %step
      {beta1 = 9.000000e-01 : f64, beta2 = 9.500000e-01 : f64, eps = 1.000000e-08 : f64,
       weight_decay = 1.000000e-01 : f64}
      : (tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>, tensor<f32>,
         tensor<i64>) -> (tensor<256xf32>, tensor<256xf32>, tensor<256xf32>)
  return %norm, %np, %nm, %nv : tensor<f32>, tensor<256xf32>, tensor<256xf32>, tensor<256xf32>
}

// -----

// An illegal join: the GEMM between the GELU and the add reads the GELU's
// output, and the add reads the GEMM's. The add can go neither where the GELU
// is (the GEMM result does not exist yet) nor the GELU where the add is (the
// GEMM would read it before it exists). Nothing else can join either op: no
// fusion of a single op.
// CHECK-LABEL: func.func @use_in_between(
// CHECK-NEXT:    %[[Y:.*]] = train.gelu
// CHECK-NEXT:    %[[Z:.*]] = train.matmul %[[Y]]
// CHECK-NEXT:    %[[S:.*]] = train.add %[[Y]], %[[Z]]
// CHECK-NEXT:    return %[[S]]
// CHECK-NOT:   rt.fusion
func.func @use_in_between(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
  %y = train.gelu %x approximate none : tensor<64x64xbf16>
  %z = train.matmul %y, %w : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
  %s = train.add %y, %z : tensor<64x64xbf16>
  return %s : tensor<64x64xbf16>
}

// -----

// The same GEMM between a norm and its marked amax: the amax reads only the
// norm's output, so it moves up into the norm's kernel, before the GEMM.
// CHECK-LABEL: func.func @amax_moves_up(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<64x64xbf16>, %[[G:[a-z0-9_]+]]: tensor<64xbf16>, %[[W:[a-z0-9_]+]]: tensor<64x64xbf16>)
// CHECK-NEXT:    %[[F:.*]]:3 = rt.fusion "f0_rms_norm_amax"(%[[H]], %[[G]])
// CHECK:         %[[Z:.*]] = train.matmul %[[F]]#0, %[[W]]
// CHECK-NEXT:    return %[[Z]], %[[F]]#2
func.func @amax_moves_up(%h: tensor<64x64xbf16>, %g: tensor<64xbf16>, %w: tensor<64x64xbf16>)
    -> (tensor<64x64xbf16>, tensor<f32>) {
  %y = train.rms_norm %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<64x64xbf16>, tensor<64xbf16>) -> tensor<64x64xbf16>
  %z = train.matmul %y, %w : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
  %a = fp8.amax %y recipe tensorwise {fused_into_producer} : tensor<64x64xbf16> -> tensor<f32>
  %s = fp8.compute_scale %a for f8E4M3FN : tensor<f32>
  return %z, %s : tensor<64x64xbf16>, tensor<f32>
}

// -----

// Lone ops stay plain ops: a norm whose output only a GEMM reads, an amax of an
// argument with nothing after it, and an attention output's amax, which
// fp8-fuse-scaling did not mark (attention cannot absorb it): it forms a kernel
// of its own with its scale.
// CHECK-LABEL: func.func @lone_ops(
// CHECK-NEXT:    %[[Y:.*]] = train.layer_norm
// CHECK-NEXT:    %[[Z:.*]] = train.matmul %[[Y]]
// CHECK-NEXT:    %[[A:.*]] = fp8.amax %{{.*}} recipe tensorwise
// CHECK-NEXT:    %[[O:.*]] = train.attention
// CHECK-NEXT:    %[[F:.*]]:2 = rt.fusion "f0_amax"(%[[O]])
// CHECK:         return %[[Z]], %[[A]], %[[F]]#1
func.func @lone_ops(%h: tensor<64x64xbf16>, %g: tensor<64xbf16>, %w: tensor<64x64xbf16>,
                    %q: tensor<2x32x64xbf16>) -> (tensor<64x64xbf16>, tensor<f32>, tensor<f32>) {
  %y = train.layer_norm %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<64x64xbf16>, tensor<64xbf16>) -> tensor<64x64xbf16>
  %z = train.matmul %y, %w : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
  %a = fp8.amax %w recipe tensorwise : tensor<64x64xbf16> -> tensor<f32>
  %o = train.attention %q, %q, %q {causal, n_heads = 2 : i64, n_kv_heads = 2 : i64}
      : (tensor<2x32x64xbf16>, tensor<2x32x64xbf16>, tensor<2x32x64xbf16>) -> tensor<2x32x64xbf16>
  %ao = fp8.amax %o recipe tensorwise : tensor<2x32x64xbf16> -> tensor<f32>
  %so = fp8.compute_scale %ao for f8E4M3FN : tensor<f32>
  return %z, %a, %so : tensor<64x64xbf16>, tensor<f32>, tensor<f32>
}

// -----

// Splat constants are cloned into the kernel; the original stays only while
// something outside reads it. A dense constant is an operand like any value.
// The name takes the first op and two more words: mul_scalar fills them.
// CHECK-LABEL: func.func @constants(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64xf32>)
// CHECK-NEXT:    %[[TWO:.*]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[D:.*]] = arith.constant dense<[
// CHECK-NEXT:    %[[F:.*]] = rt.fusion "f0_silu_mul_scalar"(%[[X]], %[[D]]) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32> {
// CHECK-NEXT:    ^bb0(%[[BX:.*]]: tensor<64xf32>, %[[BD:.*]]: tensor<64xf32>):
// CHECK-NEXT:      %[[Y:.*]] = train.silu %[[BX]]
// CHECK-NEXT:      %[[C2:.*]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:      %[[M:.*]] = train.mul_scalar %[[Y]], %[[C2]]
// CHECK-NEXT:      %[[C3:.*]] = arith.constant dense<3.000000e+00> : tensor<f32>
// CHECK-NEXT:      %[[M3:.*]] = train.mul_scalar %[[M]], %[[C3]]
// CHECK-NEXT:      %[[S:.*]] = train.add %[[M3]], %[[BD]]
// CHECK-NEXT:      rt.yield %[[S]]
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F]], %[[TWO]]
func.func @constants(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<f32>) {
  %two = arith.constant dense<2.000000e+00> : tensor<f32>
  %three = arith.constant dense<3.000000e+00> : tensor<f32>
  %d = arith.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]> : tensor<64xf32>
  %y = train.silu %x : tensor<64xf32>
  %m = train.mul_scalar %y, %two : tensor<64xf32>, tensor<f32>
  %m3 = train.mul_scalar %m, %three : tensor<64xf32>, tensor<f32>
  %s = train.add %m3, %d : tensor<64xf32>
  return %s, %two : tensor<64xf32>, tensor<f32>
}

// -----

// Delayed scaling's state update: the history push, the amax it yields and the
// new scale are one small kernel; the amax history push is its anchor. Names
// restart at f0 in every function.
// CHECK-LABEL: func.func @history(
// CHECK-NEXT:    %[[F:.*]]:2 = rt.fusion "f0_amax_history_update"(
// CHECK-NEXT:    ^bb0(
// CHECK-NEXT:      fp8.amax_history_update
// CHECK-NEXT:      fp8.amax_from_history
// CHECK-NEXT:      fp8.compute_scale
// CHECK-NEXT:      rt.yield
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[F]]#0, %[[F]]#1
// CHECK-LABEL: func.func @second_function(
// CHECK-NEXT:    rt.fusion "f0_convert_add"
func.func @history(%h: tensor<16xf32>, %a: tensor<f32>, %s: tensor<f32>) -> (tensor<16xf32>, tensor<f32>) {
  %h1 = fp8.amax_history_update %h, %a : tensor<16xf32>, tensor<f32>
  %am = fp8.amax_from_history %h1 algo max : tensor<16xf32> -> tensor<f32>
  %s1 = fp8.compute_scale %am, previous %s for f8E4M3FN : tensor<f32>, tensor<f32>
  return %h1, %s1 : tensor<16xf32>, tensor<f32>
}
func.func @second_function(%x: tensor<64xbf16>, %y: tensor<64xf32>) -> tensor<64xf32> {
  %c = train.convert %x : tensor<64xbf16> -> tensor<64xf32>
  %s = train.add %c, %y : tensor<64xf32>
  return %s : tensor<64xf32>
}

// -----

// Ops nobody reads (canonicalize removes them in the pipeline) would make a
// fusion without results: they are left as they are.
// CHECK-LABEL: func.func @dead_ops(
// CHECK-NEXT:    train.gelu
// CHECK-NEXT:    train.add
// CHECK-NEXT:    return
func.func @dead_ops(%x: tensor<64xf32>) -> tensor<64xf32> {
  %y = train.gelu %x approximate none : tensor<64xf32>
  %z = train.add %y, %y : tensor<64xf32>
  return %x : tensor<64xf32>
}
