// RUN: fp8-opt %s --fp8-fuse-scaling -split-input-file | FileCheck %s
// RUN: fp8-opt %s --fp8-fuse-scaling -split-input-file | fp8-opt --fp8-fuse-scaling -split-input-file | FileCheck %s

// The input is what fp8-insert-casts emits: every operand of every FP8 GEMM
// quantized on its own (amax, compute_scale, then quantize, or cast_transpose
// with only its transposed copy used). The second RUN line checks that the pass
// is idempotent. Linear layer y = x·Wᵀ with x [M, K] = [64, 128], W [N, K] =
// [256, 128], dy [M, N] = [64, 256].

// A linear layer's three FP8 GEMMs, tensorwise current scaling: x, W and dy are
// each reduced, scaled and cast once, by one cast_transpose whose two layouts
// feed the two GEMMs that read the tensor: W forward and dgrad, x forward and
// wgrad, dy dgrad and wgrad. The amax of x (a layer_norm output) and of W (a
// conversion from the f32 master) run in their producers; dy is an argument.
// The casts cannot fuse: their scales need the whole tensor's amax first.
// CHECK-LABEL: func.func @linear_layer(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[G:[a-z0-9_]+]]: tensor<128xbf16>, %[[W:[a-z0-9_]+]]: tensor<256x128xf32>, %[[DY:[a-z0-9_]+]]: tensor<64x256xbf16>)
// CHECK-NEXT:    %[[X:.*]] = train.layer_norm %[[H]], %[[G]]
// CHECK-NEXT:    %[[WB:.*]] = train.convert %[[W]]
// CHECK-NEXT:    %[[AX:.*]] = fp8.amax %[[X]] recipe tensorwise {fused_into_producer} : tensor<64x128xbf16> -> tensor<f32>
// CHECK-NEXT:    %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<f32>
// CHECK-NEXT:    %[[QX:.*]], %[[XT:.*]] = fp8.cast_transpose %[[X]], %[[SX]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
// CHECK-NEXT:    %[[AW:.*]] = fp8.amax %[[WB]] recipe tensorwise {fused_into_producer} : tensor<256x128xbf16> -> tensor<f32>
// CHECK-NEXT:    %[[SW:.*]] = fp8.compute_scale %[[AW]] for f8E4M3FN : tensor<f32>
// CHECK-NEXT:    %[[QW:.*]], %[[WT:.*]] = fp8.cast_transpose %[[WB]], %[[SW]] recipe tensorwise : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>, tensor<128x256xf8E4M3FN>
// CHECK-NEXT:    %[[Y:.*]] = fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe tensorwise format hybrid {fp8.gemm = {decision = "fp8", kind = "forward", name = "fc"}, name = "fc.fwd"}
// CHECK-NEXT:    %[[ADY:.*]] = fp8.amax %[[DY]] recipe tensorwise : tensor<64x256xbf16> -> tensor<f32>
// CHECK-NEXT:    %[[SDY:.*]] = fp8.compute_scale %[[ADY]] for f8E5M2 : tensor<f32>
// CHECK-NEXT:    %[[QDY:.*]], %[[DYT:.*]] = fp8.cast_transpose %[[DY]], %[[SDY]] recipe tensorwise : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E5M2>, tensor<256x64xf8E5M2>
// CHECK-NEXT:    %[[DX:.*]] = fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SW]]) recipe tensorwise format hybrid {fp8.gemm = {decision = "fp8", kind = "dgrad", name = "fc"}, name = "fc.dgrad"}
// CHECK-NEXT:    %[[DW:.*]] = fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDY]], %[[SX]]) recipe tensorwise format hybrid {fp8.gemm = {decision = "fp8", kind = "wgrad", name = "fc"}, name = "fc.wgrad"}
// CHECK-NEXT:    return %[[Y]], %[[DX]], %[[DW]]
func.func @linear_layer(%h: tensor<64x128xbf16>, %g: tensor<128xbf16>, %w: tensor<256x128xf32>,
                        %dy: tensor<64x256xbf16>)
    -> (tensor<64x256xbf16>, tensor<64x128xbf16>, tensor<256x128xbf16>) {
  %x = train.layer_norm %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<64x128xbf16>, tensor<128xbf16>) -> tensor<64x128xbf16>
  %wb = train.convert %w : tensor<256x128xf32> -> tensor<256x128xbf16>
  // Forward, y = x·Wᵀ: both operands K-major as they are.
  %ax = fp8.amax %x recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  %sx = fp8.compute_scale %ax for f8E4M3FN : tensor<f32>
  %qx = fp8.quantize %x, %sx recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %aw = fp8.amax %wb recipe tensorwise : tensor<256x128xbf16> -> tensor<f32>
  %sw = fp8.compute_scale %aw for f8E4M3FN : tensor<f32>
  %qw = fp8.quantize %wb, %sw recipe tensorwise
      : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>
  %y = fp8.scaled_matmul %qx, %qw scales(%sx, %sw) recipe tensorwise format hybrid
      {name = "fc.fwd", fp8.gemm = {decision = "fp8", kind = "forward", name = "fc"}}
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<64x256xbf16>
  // Dgrad, dx = dy·W: dy as it is, Wᵀ [K, N].
  %ady = fp8.amax %dy recipe tensorwise : tensor<64x256xbf16> -> tensor<f32>
  %sdy = fp8.compute_scale %ady for f8E5M2 : tensor<f32>
  %qdy = fp8.quantize %dy, %sdy recipe tensorwise
      : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E5M2>
  %aw2 = fp8.amax %wb recipe tensorwise : tensor<256x128xbf16> -> tensor<f32>
  %sw2 = fp8.compute_scale %aw2 for f8E4M3FN : tensor<f32>
  %unused_w, %wt = fp8.cast_transpose %wb, %sw2 recipe tensorwise
      : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>, tensor<128x256xf8E4M3FN>
  %dx = fp8.scaled_matmul %qdy, %wt scales(%sdy, %sw2) recipe tensorwise format hybrid
      {name = "fc.dgrad", fp8.gemm = {decision = "fp8", kind = "dgrad", name = "fc"}}
      : (tensor<64x256xf8E5M2>, tensor<128x256xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<64x128xbf16>
  // Wgrad, dW = dyᵀ·x: dyᵀ [N, M] and xᵀ [K, M].
  %ady2 = fp8.amax %dy recipe tensorwise : tensor<64x256xbf16> -> tensor<f32>
  %sdy2 = fp8.compute_scale %ady2 for f8E5M2 : tensor<f32>
  %unused_dy, %dyt = fp8.cast_transpose %dy, %sdy2 recipe tensorwise
      : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E5M2>, tensor<256x64xf8E5M2>
  %ax2 = fp8.amax %x recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  %sx2 = fp8.compute_scale %ax2 for f8E4M3FN : tensor<f32>
  %unused_x, %xt = fp8.cast_transpose %x, %sx2 recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
  %dw = fp8.scaled_matmul %dyt, %xt scales(%sdy2, %sx2) recipe tensorwise format hybrid
      {name = "fc.wgrad", fp8.gemm = {decision = "fp8", kind = "wgrad", name = "fc"}}
      : (tensor<256x64xf8E5M2>, tensor<128x64xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<256x128xbf16>
  return %y, %dx, %dw : tensor<64x256xbf16>, tensor<64x128xbf16>, tensor<256x128xbf16>
}

// -----

// Only equal casts merge: the same tensor cast with another scale, FP8 type or
// recipe keeps its own op, and so does a cast of another tensor.
// CHECK-LABEL: func.func @merge_negative(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[T:[a-z0-9_]+]]: tensor<f32>, %[[Z:[a-z0-9_]+]]: tensor<64x128xbf16>)
func.func @merge_negative(%x: tensor<64x128xbf16>, %s: tensor<f32>, %t: tensor<f32>,
                          %z: tensor<64x128xbf16>)
    -> (tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>,
        tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>) {
  // CHECK: %[[OTHER_SCALE:.*]] = fp8.quantize %[[X]], %[[T]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %other_scale = fp8.quantize %x, %t recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %[[OTHER_TYPE:.*]] = fp8.quantize %[[X]], %[[S]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
  %other_type = fp8.quantize %x, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
  // CHECK: %[[OTHER_RECIPE:.*]] = fp8.quantize %[[X]], %[[S]] recipe delayed : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %other_recipe = fp8.quantize %x, %s recipe delayed
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %[[OTHER_TENSOR:.*]] = fp8.quantize %[[Z]], %[[S]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %other_tensor = fp8.quantize %z, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %{{.*}}, %[[XT:.*]] = fp8.cast_transpose %[[X]], %[[S]] recipe tensorwise
  %unused, %xt = fp8.cast_transpose %x, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
  // CHECK: return %[[OTHER_SCALE]], %[[OTHER_TYPE]], %[[OTHER_RECIPE]], %[[OTHER_TENSOR]], %[[XT]]
  return %other_scale, %other_type, %other_recipe, %other_tensor, %xt
      : tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>,
        tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
}

// -----

// Rowwise: the transposed copy has its own scales, from a transposed
// (columnwise) amax that fp8-insert-casts emits next to the wgrad cast. Merging
// with the forward's quantize moves that cast_transpose, and the scale chain
// only it reads, up to the quantize.
// CHECK-LABEL: func.func @rowwise_merge_hoists(
// CHECK-SAME:    %[[U:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[QW:[a-z0-9_]+]]: tensor<256x128xf8E4M3FN>, %[[SW:[a-z0-9_]+]]: tensor<256x1xf32>, %[[DYT:[a-z0-9_]+]]: tensor<256x64xf8E5M2>, %[[SDYT:[a-z0-9_]+]]: tensor<256x1xf32>)
// CHECK-NEXT:    %[[X:.*]] = train.gelu %[[U]]
// CHECK-NEXT:    %[[AX:.*]] = fp8.amax %[[X]] recipe rowwise {fused_into_producer} : tensor<64x128xbf16> -> tensor<64x1xf32>
// CHECK-NEXT:    %[[SX:.*]] = fp8.compute_scale %[[AX]] for f8E4M3FN : tensor<64x1xf32>
// CHECK-NEXT:    %[[AXT:.*]] = fp8.amax %[[X]] recipe rowwise {fused_into_producer, transposed} : tensor<64x128xbf16> -> tensor<128x1xf32>
// CHECK-NEXT:    %[[SXT:.*]] = fp8.compute_scale %[[AXT]] for f8E4M3FN : tensor<128x1xf32>
// CHECK-NEXT:    %[[QX:.*]], %[[XT:.*]] = fp8.cast_transpose %[[X]], %[[SX]], transposed_scale %[[SXT]] recipe rowwise
// CHECK-NEXT:    %[[Y:.*]] = fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe rowwise format hybrid
// CHECK-NEXT:    %[[DW:.*]] = fp8.scaled_matmul %[[DYT]], %[[XT]] scales(%[[SDYT]], %[[SXT]]) recipe rowwise format hybrid
// CHECK-NEXT:    return %[[Y]], %[[DW]]
func.func @rowwise_merge_hoists(%u: tensor<64x128xbf16>, %qw: tensor<256x128xf8E4M3FN>,
                                %sw: tensor<256x1xf32>, %dyt: tensor<256x64xf8E5M2>,
                                %sdyt: tensor<256x1xf32>)
    -> (tensor<64x256xbf16>, tensor<256x128xbf16>) {
  %x = train.gelu %u : tensor<64x128xbf16>
  %ax = fp8.amax %x recipe rowwise : tensor<64x128xbf16> -> tensor<64x1xf32>
  %sx = fp8.compute_scale %ax for f8E4M3FN : tensor<64x1xf32>
  %qx = fp8.quantize %x, %sx recipe rowwise
      : tensor<64x128xbf16>, tensor<64x1xf32> -> tensor<64x128xf8E4M3FN>
  %y = fp8.scaled_matmul %qx, %qw scales(%sx, %sw) recipe rowwise format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<64x1xf32>, tensor<256x1xf32>)
      -> tensor<64x256xbf16>
  %ax2 = fp8.amax %x recipe rowwise : tensor<64x128xbf16> -> tensor<64x1xf32>
  %sx2 = fp8.compute_scale %ax2 for f8E4M3FN : tensor<64x1xf32>
  %axt = fp8.amax %x recipe rowwise {transposed} : tensor<64x128xbf16> -> tensor<128x1xf32>
  %sxt = fp8.compute_scale %axt for f8E4M3FN : tensor<128x1xf32>
  %unused, %xt = fp8.cast_transpose %x, %sx2, transposed_scale %sxt recipe rowwise
      : tensor<64x128xbf16>, tensor<64x1xf32>, tensor<128x1xf32>
      -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
  %dw = fp8.scaled_matmul %dyt, %xt scales(%sdyt, %sxt) recipe rowwise format hybrid
      : (tensor<256x64xf8E5M2>, tensor<128x64xf8E4M3FN>, tensor<256x1xf32>, tensor<128x1xf32>)
      -> tensor<256x128xbf16>
  return %y, %dw : tensor<64x256xbf16>, tensor<256x128xbf16>
}

// -----

// The amax of a GEMM's bf16 output comes from the GEMM epilogue (cuBLASLt's
// amax-D), also through a reshape; the GEMM is rebuilt with its `amax` result
// and keeps its attributes and bias. A GEMM that already returns its amax is
// reused. Rowwise amax has no epilogue counterpart and stays, unmarked (a GEMM
// is not a fusible producer).
// CHECK-LABEL: func.func @amax_from_gemm_epilogue(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xf8E4M3FN>, %[[W:[a-z0-9_]+]]: tensor<256x128xf8E4M3FN>, %[[SX:[a-z0-9_]+]]: tensor<f32>, %[[SW:[a-z0-9_]+]]: tensor<f32>, %[[B:[a-z0-9_]+]]: tensor<256xbf16>)
// CHECK-NEXT:    %[[Y:.*]], %[[YA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) bias(%[[B]]) recipe tensorwise format hybrid {fast_accum, fp8.gemm = {decision = "fp8", kind = "forward", name = "fc1"}, name = "fc1.fwd"} : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>) -> (tensor<64x256xbf16>, tensor<f32>)
// CHECK-NEXT:    %[[SY:.*]] = fp8.compute_scale %[[YA]] for f8E4M3FN : tensor<f32>
// CHECK-NEXT:    %[[Z:.*]], %[[ZA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe delayed format hybrid
// CHECK-NEXT:    %[[SZ:.*]] = fp8.compute_scale %[[ZA]], previous %[[SX]] for f8E5M2 : tensor<f32>, tensor<f32>
// CHECK-NEXT:    %[[ZR:.*]] = fp8.amax %[[Z]] recipe rowwise : tensor<64x256xbf16> -> tensor<64x1xf32>
// CHECK-NEXT:    return %[[Y]], %[[SY]], %[[ZA]], %[[SZ]], %[[ZR]]
func.func @amax_from_gemm_epilogue(%x: tensor<64x128xf8E4M3FN>, %w: tensor<256x128xf8E4M3FN>,
                                   %sx: tensor<f32>, %sw: tensor<f32>, %b: tensor<256xbf16>)
    -> (tensor<64x256xbf16>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<64x1xf32>) {
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) bias(%b) recipe tensorwise format hybrid
      {fast_accum, name = "fc1.fwd", fp8.gemm = {decision = "fp8", kind = "forward", name = "fc1"}}
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>)
      -> tensor<64x256xbf16>
  %y3 = train.reshape %y : tensor<64x256xbf16> -> tensor<2x32x256xbf16>
  %ay = fp8.amax %y3 recipe tensorwise : tensor<2x32x256xbf16> -> tensor<f32>
  %sy = fp8.compute_scale %ay for f8E4M3FN : tensor<f32>
  %z, %za = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe delayed format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> (tensor<64x256xbf16>, tensor<f32>)
  %az = fp8.amax %z recipe delayed : tensor<64x256xbf16> -> tensor<f32>
  %sz = fp8.compute_scale %az, previous %sx for f8E5M2 : tensor<f32>, tensor<f32>
  %zr = fp8.amax %z recipe rowwise : tensor<64x256xbf16> -> tensor<64x1xf32>
  return %y, %sy, %za, %sz, %zr : tensor<64x256xbf16>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<64x1xf32>
}

// -----

// Which producers compute an amax in their epilogue: kernels fp8c generates
// that write each element once (norms, activations, residual adds, pointwise
// and norm gradients, the embedding gather), looking through reshapes. Not:
// function arguments, bf16 GEMMs (train.linear), attention (its lowering is
// not decided), a norm's weight gradient (a reduction over rows).
// CHECK-LABEL: func.func @amax_producers(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<2x32x128xbf16>, %[[G:[a-z0-9_]+]]: tensor<128xbf16>, %[[U:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[R:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[WTE:[a-z0-9_]+]]: tensor<512x128xbf16>, %[[TOK:[a-z0-9_]+]]: tensor<64xi32>, %[[WM:[a-z0-9_]+]]: tensor<128x128xbf16>)
func.func @amax_producers(%h: tensor<2x32x128xbf16>, %g: tensor<128xbf16>,
                          %u: tensor<64x128xbf16>, %r: tensor<64x128xbf16>,
                          %wte: tensor<512x128xbf16>, %tok: tensor<64xi32>,
                          %wm: tensor<128x128xbf16>)
    -> (tensor<f32>, tensor<64x1xf32>, tensor<128x1xf32>, tensor<64x1xf32>, tensor<f32>,
        tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>,
        tensor<f32>) {
  // CHECK: %[[LN:.*]] = train.layer_norm %[[H]], %[[G]]
  // CHECK: %[[LN2:.*]] = train.reshape %[[LN]]
  // CHECK: %[[A_LN:.*]] = fp8.amax %[[LN2]] recipe tensorwise {fused_into_producer}
  %ln = train.layer_norm %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x32x128xbf16>, tensor<128xbf16>) -> tensor<2x32x128xbf16>
  %ln2 = train.reshape %ln : tensor<2x32x128xbf16> -> tensor<64x128xbf16>
  %a_ln = fp8.amax %ln2 recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // Per-row and per-column (transposed) groups too.
  // CHECK: %[[GE:.*]] = train.gelu %[[U]]
  // CHECK: %[[A_GE:.*]] = fp8.amax %[[GE]] recipe rowwise {fused_into_producer}
  // CHECK: %[[A_GE_T:.*]] = fp8.amax %[[GE]] recipe rowwise {fused_into_producer, transposed}
  %ge = train.gelu %u : tensor<64x128xbf16>
  %a_ge = fp8.amax %ge recipe rowwise : tensor<64x128xbf16> -> tensor<64x1xf32>
  %a_ge_t = fp8.amax %ge recipe rowwise {transposed} : tensor<64x128xbf16> -> tensor<128x1xf32>
  // CHECK: %[[RES:.*]] = train.add %[[R]], %[[U]]
  // CHECK: %[[A_RES:.*]] = fp8.amax %[[RES]] recipe blockwise block [1, 128] {fused_into_producer}
  %res = train.add %r, %u : tensor<64x128xbf16>
  %a_res = fp8.amax %res recipe blockwise block [1, 128] : tensor<64x128xbf16> -> tensor<64x1xf32>
  // CHECK: %[[A_ARG:.*]] = fp8.amax %[[U]] recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  %a_arg = fp8.amax %u recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // CHECK: %[[EMB:.*]] = train.embedding %[[WTE]][%[[TOK]]]
  // CHECK: %[[A_EMB:.*]] = fp8.amax %[[EMB]] recipe tensorwise {fused_into_producer}
  %emb = train.embedding %wte[%tok] : tensor<512x128xbf16>, tensor<64xi32> -> tensor<64x128xbf16>
  %a_emb = fp8.amax %emb recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // CHECK: %[[LIN:.*]] = train.linear %[[U]], %[[WM]]
  // CHECK: %[[A_LIN:.*]] = fp8.amax %[[LIN]] recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  %lin = train.linear %u, %wm : (tensor<64x128xbf16>, tensor<128x128xbf16>) -> tensor<64x128xbf16>
  %a_lin = fp8.amax %lin recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // CHECK: %[[ATT:.*]] = train.attention
  // CHECK: %[[A_ATT:.*]] = fp8.amax %[[ATT]] recipe tensorwise : tensor<2x32x128xbf16> -> tensor<f32>
  %att = train.attention %h, %h, %h {n_heads = 2 : i64, n_kv_heads = 2 : i64, causal}
      : (tensor<2x32x128xbf16>, tensor<2x32x128xbf16>, tensor<2x32x128xbf16>)
      -> tensor<2x32x128xbf16>
  %a_att = fp8.amax %att recipe tensorwise : tensor<2x32x128xbf16> -> tensor<f32>
  // CHECK: %[[DX:[a-z0-9_]+]], %[[DG:[a-z0-9_]+]], %{{[a-z0-9_]+}} = train.layer_norm_grad %[[H]], %[[H]], %[[G]]
  // CHECK: %[[A_DX:.*]] = fp8.amax %[[DX]] recipe tensorwise {fused_into_producer}
  // CHECK: %[[A_DG:.*]] = fp8.amax %[[DG]] recipe tensorwise : tensor<128xbf16> -> tensor<f32>
  %dx, %dg, %db = train.layer_norm_grad %h, %h, %g {eps = 1.000000e-05 : f64}
      : (tensor<2x32x128xbf16>, tensor<2x32x128xbf16>, tensor<128xbf16>)
      -> (tensor<2x32x128xbf16>, tensor<128xbf16>, tensor<128xbf16>)
  %a_dx = fp8.amax %dx recipe tensorwise : tensor<2x32x128xbf16> -> tensor<f32>
  %a_dg = fp8.amax %dg recipe tensorwise : tensor<128xbf16> -> tensor<f32>
  // CHECK: %[[GG:.*]] = train.gelu_grad %[[R]], %[[U]]
  // CHECK: %[[A_GG:.*]] = fp8.amax %[[GG]] recipe tensorwise {fused_into_producer}
  %gg = train.gelu_grad %r, %u : tensor<64x128xbf16>
  %a_gg = fp8.amax %gg recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // CHECK: %{{[a-z0-9_]+}}, %[[UP:[a-z0-9_]+]] = train.swiglu_grad %[[R]], %[[U]], %[[U]]
  // CHECK: %[[A_UP:.*]] = fp8.amax %[[UP]] recipe tensorwise {fused_into_producer}
  %dgate, %dup = train.swiglu_grad %r, %u, %u : tensor<64x128xbf16>
  %a_up = fp8.amax %dup recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  // CHECK: return %[[A_LN]], %[[A_GE]], %[[A_GE_T]], %[[A_RES]], %[[A_ARG]], %[[A_EMB]], %[[A_LIN]], %[[A_ATT]], %[[A_DX]], %[[A_DG]], %[[A_GG]], %[[A_UP]]
  return %a_ln, %a_ge, %a_ge_t, %a_res, %a_arg, %a_emb, %a_lin, %a_att, %a_dx, %a_dg, %a_gg, %a_up
      : tensor<f32>, tensor<64x1xf32>, tensor<128x1xf32>, tensor<64x1xf32>, tensor<f32>,
        tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>,
        tensor<f32>
}

// -----

// Delayed scaling: the scales come from earlier steps (arguments here), so the
// producer's kernel can write the FP8 copies itself and record this step's
// amax. The weight's forward quantize and dgrad cast_transpose become one
// cast_transpose fused into the f32 -> bf16 conversion. A delayed cast of an
// argument has no producer; a tensorwise (current) cast of the same gelu output
// needs that output's amax first and cannot fuse, though its amax can.
// CHECK-LABEL: func.func @delayed_casts_fused(
// CHECK-SAME:    %[[U:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[W:[a-z0-9_]+]]: tensor<256x128xf32>, %[[DY:[a-z0-9_]+]]: tensor<64x256xbf16>, %[[SX:[a-z0-9_]+]]: tensor<f32>, %[[SW:[a-z0-9_]+]]: tensor<f32>, %[[SDY:[a-z0-9_]+]]: tensor<f32>, %[[HX:[a-z0-9_]+]]: tensor<16xf32>)
// CHECK-NEXT:    %[[X:.*]] = train.gelu %[[U]]
// CHECK-NEXT:    %[[WB:.*]] = train.convert %[[W]]
// CHECK-NEXT:    %[[QX:.*]] = fp8.quantize %[[X]], %[[SX]] recipe delayed {fused_into_producer}
// CHECK-NEXT:    %[[AX:.*]] = fp8.amax %[[X]] recipe delayed {fused_into_producer}
// CHECK-NEXT:    %[[HX2:.*]] = fp8.amax_history_update %[[HX]], %[[AX]]
// CHECK-NEXT:    %[[QW:.*]], %[[WT:.*]] = fp8.cast_transpose %[[WB]], %[[SW]] recipe delayed {fused_into_producer} : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>, tensor<128x256xf8E4M3FN>
// CHECK-NEXT:    %[[Y:.*]] = fp8.scaled_matmul %[[QX]], %[[QW]] scales(%[[SX]], %[[SW]]) recipe delayed
// CHECK-NEXT:    %[[QDY:.*]] = fp8.quantize %[[DY]], %[[SDY]] recipe delayed : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E5M2>
// CHECK-NEXT:    %[[DX:.*]] = fp8.scaled_matmul %[[QDY]], %[[WT]] scales(%[[SDY]], %[[SW]]) recipe delayed
// CHECK-NEXT:    %[[AT:.*]] = fp8.amax %[[X]] recipe tensorwise {fused_into_producer}
// CHECK-NEXT:    %[[ST:.*]] = fp8.compute_scale %[[AT]] for f8E4M3FN
// CHECK-NEXT:    %[[QT:.*]] = fp8.quantize %[[X]], %[[ST]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
// CHECK-NEXT:    return %[[Y]], %[[DX]], %[[HX2]], %[[QT]]
func.func @delayed_casts_fused(%u: tensor<64x128xbf16>, %w: tensor<256x128xf32>,
                               %dy: tensor<64x256xbf16>, %sx: tensor<f32>, %sw: tensor<f32>,
                               %sdy: tensor<f32>, %hx: tensor<16xf32>)
    -> (tensor<64x256xbf16>, tensor<64x128xbf16>, tensor<16xf32>, tensor<64x128xf8E4M3FN>) {
  %x = train.gelu %u : tensor<64x128xbf16>
  %wb = train.convert %w : tensor<256x128xf32> -> tensor<256x128xbf16>
  %qx = fp8.quantize %x, %sx recipe delayed
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %ax = fp8.amax %x recipe delayed : tensor<64x128xbf16> -> tensor<f32>
  %hx2 = fp8.amax_history_update %hx, %ax : tensor<16xf32>, tensor<f32>
  %qw = fp8.quantize %wb, %sw recipe delayed
      : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>
  %y = fp8.scaled_matmul %qx, %qw scales(%sx, %sw) recipe delayed format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<64x256xbf16>
  %qdy = fp8.quantize %dy, %sdy recipe delayed
      : tensor<64x256xbf16>, tensor<f32> -> tensor<64x256xf8E5M2>
  %unused, %wt = fp8.cast_transpose %wb, %sw recipe delayed
      : tensor<256x128xbf16>, tensor<f32> -> tensor<256x128xf8E4M3FN>, tensor<128x256xf8E4M3FN>
  %dx = fp8.scaled_matmul %qdy, %wt scales(%sdy, %sw) recipe delayed format hybrid
      : (tensor<64x256xf8E5M2>, tensor<128x256xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<64x128xbf16>
  %at = fp8.amax %x recipe tensorwise : tensor<64x128xbf16> -> tensor<f32>
  %st = fp8.compute_scale %at for f8E4M3FN : tensor<f32>
  %qt = fp8.quantize %x, %st recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  return %y, %dx, %hx2, %qt
      : tensor<64x256xbf16>, tensor<64x128xbf16>, tensor<16xf32>, tensor<64x128xf8E4M3FN>
}

// -----

// GEMMs kept in bf16 have no fp8 ops: the pass changes nothing.
// CHECK-LABEL: func.func @bf16_gemms_unchanged(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[G:[a-z0-9_]+]]: tensor<128xbf16>, %[[W:[a-z0-9_]+]]: tensor<256x128xbf16>)
// CHECK-NEXT:    %[[LN:.*]] = train.layer_norm %[[X]], %[[G]] {eps = 1.000000e-05 : f64} : (tensor<64x128xbf16>, tensor<128xbf16>) -> tensor<64x128xbf16>
// CHECK-NEXT:    %[[Y:.*]] = train.linear %[[LN]], %[[W]] {fp8.gemm = {decision = "bf16", kind = "forward", name = "fc", reason = "too small"}, name = "fc"} : (tensor<64x128xbf16>, tensor<256x128xbf16>) -> tensor<64x256xbf16>
// CHECK-NEXT:    %[[Z:.*]] = train.gelu %[[Y]] : tensor<64x256xbf16>
// CHECK-NEXT:    %[[DEAD:.*]] = train.reshape %[[Z]]
// CHECK-NEXT:    return %[[Z]] : tensor<64x256xbf16>
func.func @bf16_gemms_unchanged(%x: tensor<64x128xbf16>, %g: tensor<128xbf16>,
                                %w: tensor<256x128xbf16>) -> tensor<64x256xbf16> {
  %ln = train.layer_norm %x, %g {eps = 1.000000e-05 : f64}
      : (tensor<64x128xbf16>, tensor<128xbf16>) -> tensor<64x128xbf16>
  %y = train.linear %ln, %w
      {name = "fc", fp8.gemm = {decision = "bf16", kind = "forward", name = "fc", reason = "too small"}}
      : (tensor<64x128xbf16>, tensor<256x128xbf16>) -> tensor<64x256xbf16>
  %z = train.gelu %y : tensor<64x256xbf16>
  // Dead train ops are the pipeline's canonicalize's business, not this pass's.
  %dead = train.reshape %z : tensor<64x256xbf16> -> tensor<2x32x256xbf16>
  return %z : tensor<64x256xbf16>
}
