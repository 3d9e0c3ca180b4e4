// RUN: fp8-opt %s | fp8-opt | FileCheck %s
// RUN: fp8-opt %s --mlir-print-op-generic | fp8-opt | FileCheck %s

// Round trip of every fp8 op, in its custom form and through the generic form.
// Shapes: activations x [M, K] = [256, 512], weights w [N, K] = [1024, 512].

// CHECK-LABEL: func.func @amax(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xbf16>, %[[W:[a-z0-9_]+]]: tensor<1024x512xf32>, %[[G:[a-z0-9_]+]]: tensor<256x512xf16>)
func.func @amax(%x: tensor<256x512xbf16>, %w: tensor<1024x512xf32>, %g: tensor<256x512xf16>)
    -> (tensor<f32>, tensor<f32>, tensor<256x1xf32>, tensor<256x4xf32>, tensor<8x4xf32>) {
  // CHECK: %[[T:.*]] = fp8.amax %[[X]] recipe tensorwise : tensor<256x512xbf16> -> tensor<f32>
  %t = fp8.amax %x recipe tensorwise : tensor<256x512xbf16> -> tensor<f32>
  // CHECK: %[[D:.*]] = fp8.amax %[[G]] recipe delayed : tensor<256x512xf16> -> tensor<f32>
  %d = fp8.amax %g recipe delayed : tensor<256x512xf16> -> tensor<f32>
  // CHECK: %[[R:.*]] = fp8.amax %[[X]] recipe rowwise : tensor<256x512xbf16> -> tensor<256x1xf32>
  %r = fp8.amax %x recipe rowwise : tensor<256x512xbf16> -> tensor<256x1xf32>
  // CHECK: %[[B1:.*]] = fp8.amax %[[X]] recipe blockwise block [1, 128] : tensor<256x512xbf16> -> tensor<256x4xf32>
  %b1 = fp8.amax %x recipe blockwise block [1, 128] : tensor<256x512xbf16> -> tensor<256x4xf32>
  // CHECK: %[[B128:.*]] = fp8.amax %[[W]] recipe blockwise block [128, 128] : tensor<1024x512xf32> -> tensor<8x4xf32>
  %b128 = fp8.amax %w recipe blockwise block [128, 128] : tensor<1024x512xf32> -> tensor<8x4xf32>
  // CHECK: return %[[T]], %[[D]], %[[R]], %[[B1]], %[[B128]] : tensor<f32>, tensor<f32>, tensor<256x1xf32>, tensor<256x4xf32>, tensor<8x4xf32>
  return %t, %d, %r, %b1, %b128
      : tensor<f32>, tensor<f32>, tensor<256x1xf32>, tensor<256x4xf32>, tensor<8x4xf32>
}

// `transposed`: the groups of xᵀ [512, 256], as cast_transpose's transposed_scale needs.
// CHECK-LABEL: func.func @amax_transposed(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xbf16>, %[[W:[a-z0-9_]+]]: tensor<1024x512xf32>)
func.func @amax_transposed(%x: tensor<256x512xbf16>, %w: tensor<1024x512xf32>)
    -> (tensor<512x1xf32>, tensor<512x2xf32>, tensor<4x8xf32>) {
  // CHECK: %[[R:.*]] = fp8.amax %[[X]] recipe rowwise {transposed} : tensor<256x512xbf16> -> tensor<512x1xf32>
  %r = fp8.amax %x recipe rowwise {transposed} : tensor<256x512xbf16> -> tensor<512x1xf32>
  // CHECK: %[[B1:.*]] = fp8.amax %[[X]] recipe blockwise block [1, 128] {transposed} : tensor<256x512xbf16> -> tensor<512x2xf32>
  %b1 = fp8.amax %x recipe blockwise block [1, 128] {transposed} : tensor<256x512xbf16> -> tensor<512x2xf32>
  // CHECK: %[[B128:.*]] = fp8.amax %[[W]] recipe blockwise block [128, 128] {transposed} : tensor<1024x512xf32> -> tensor<4x8xf32>
  %b128 = fp8.amax %w recipe blockwise block [128, 128] {transposed} : tensor<1024x512xf32> -> tensor<4x8xf32>
  // CHECK: return %[[R]], %[[B1]], %[[B128]]
  return %r, %b1, %b128 : tensor<512x1xf32>, tensor<512x2xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @compute_scale(
// CHECK-SAME:    %[[A:[a-z0-9_]+]]: tensor<f32>, %[[AB:[a-z0-9_]+]]: tensor<256x4xf32>)
func.func @compute_scale(%amax: tensor<f32>, %amax_blocks: tensor<256x4xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<256x4xf32>, tensor<256x4xf32>) {
  // The default margin (0) and an absent power_of_2 are not printed.
  // CHECK: %[[S0:.*]] = fp8.compute_scale %[[A]] for f8E4M3FN : tensor<f32>
  %s0 = fp8.compute_scale %amax for f8E4M3FN : tensor<f32>
  // CHECK: %[[S1:.*]] = fp8.compute_scale %[[A]] for f8E5M2 : tensor<f32>
  %s1 = fp8.compute_scale %amax for f8E5M2 {margin = 0 : i64} : tensor<f32>
  // CHECK: %[[S2:.*]] = fp8.compute_scale %[[A]], previous %[[S0]] for f8E4M3FN {margin = 2 : i64} : tensor<f32>, tensor<f32>
  %s2 = fp8.compute_scale %amax, previous %s0 for f8E4M3FN {margin = 2 : i64} : tensor<f32>, tensor<f32>
  // CHECK: %[[S3:.*]] = fp8.compute_scale %[[A]], previous %[[S1]] for f8E5M2 {margin = 1 : i64, power_of_2} : tensor<f32>, tensor<f32>
  %s3 = fp8.compute_scale %amax, previous %s1 for f8E5M2 {margin = 1 : i64, power_of_2}
      : tensor<f32>, tensor<f32>
  // One scale per block: compute_scale is elementwise over amax.
  // CHECK: %[[S4:.*]] = fp8.compute_scale %[[AB]] for f8E4M3FN {power_of_2} : tensor<256x4xf32>
  %s4 = fp8.compute_scale %amax_blocks for f8E4M3FN {power_of_2} : tensor<256x4xf32>
  // CHECK: %[[S5:.*]] = fp8.compute_scale %[[AB]], previous %[[S4]] for f8E5M2 : tensor<256x4xf32>, tensor<256x4xf32>
  %s5 = fp8.compute_scale %amax_blocks, previous %s4 for f8E5M2 : tensor<256x4xf32>, tensor<256x4xf32>
  // CHECK: return %[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]], %[[S5]] : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<256x4xf32>, tensor<256x4xf32>
  return %s0, %s1, %s2, %s3, %s4, %s5
      : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<256x4xf32>, tensor<256x4xf32>
}

// CHECK-LABEL: func.func @quantize_dequantize(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xbf16>, %[[W:[a-z0-9_]+]]: tensor<1024x512xf32>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[SR:[a-z0-9_]+]]: tensor<256x1xf32>, %[[S1:[a-z0-9_]+]]: tensor<256x4xf32>, %[[S128:[a-z0-9_]+]]: tensor<8x4xf32>)
func.func @quantize_dequantize(%x: tensor<256x512xbf16>, %w: tensor<1024x512xf32>,
                               %s: tensor<f32>, %s_rows: tensor<256x1xf32>,
                               %s_1x128: tensor<256x4xf32>, %s_128x128: tensor<8x4xf32>)
    -> (tensor<256x512xbf16>, tensor<256x512xf16>, tensor<256x512xf32>, tensor<256x512xbf16>,
        tensor<1024x512xf32>) {
  // CHECK: %[[QT:.*]] = fp8.quantize %[[X]], %[[S]] recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>
  %qt = fp8.quantize %x, %s recipe tensorwise
      : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>
  // CHECK: %[[QD:.*]] = fp8.quantize %[[X]], %[[S]] recipe delayed : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E5M2>
  %qd = fp8.quantize %x, %s recipe delayed
      : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E5M2>
  // CHECK: %[[QR:.*]] = fp8.quantize %[[X]], %[[SR]] recipe rowwise : tensor<256x512xbf16>, tensor<256x1xf32> -> tensor<256x512xf8E4M3FN>
  %qr = fp8.quantize %x, %s_rows recipe rowwise
      : tensor<256x512xbf16>, tensor<256x1xf32> -> tensor<256x512xf8E4M3FN>
  // CHECK: %[[QB1:.*]] = fp8.quantize %[[X]], %[[S1]] recipe blockwise block [1, 128] : tensor<256x512xbf16>, tensor<256x4xf32> -> tensor<256x512xf8E5M2>
  %qb1 = fp8.quantize %x, %s_1x128 recipe blockwise block [1, 128]
      : tensor<256x512xbf16>, tensor<256x4xf32> -> tensor<256x512xf8E5M2>
  // CHECK: %[[QB128:.*]] = fp8.quantize %[[W]], %[[S128]] recipe blockwise block [128, 128] : tensor<1024x512xf32>, tensor<8x4xf32> -> tensor<1024x512xf8E4M3FN>
  %qb128 = fp8.quantize %w, %s_128x128 recipe blockwise block [128, 128]
      : tensor<1024x512xf32>, tensor<8x4xf32> -> tensor<1024x512xf8E4M3FN>

  // CHECK: %[[DT:.*]] = fp8.dequantize %[[QT]], %[[S]] recipe tensorwise : tensor<256x512xf8E4M3FN>, tensor<f32> -> tensor<256x512xbf16>
  %dt = fp8.dequantize %qt, %s recipe tensorwise
      : tensor<256x512xf8E4M3FN>, tensor<f32> -> tensor<256x512xbf16>
  // CHECK: %[[DD:.*]] = fp8.dequantize %[[QD]], %[[S]] recipe delayed : tensor<256x512xf8E5M2>, tensor<f32> -> tensor<256x512xf16>
  %dd = fp8.dequantize %qd, %s recipe delayed
      : tensor<256x512xf8E5M2>, tensor<f32> -> tensor<256x512xf16>
  // CHECK: %[[DR:.*]] = fp8.dequantize %[[QR]], %[[SR]] recipe rowwise : tensor<256x512xf8E4M3FN>, tensor<256x1xf32> -> tensor<256x512xf32>
  %dr = fp8.dequantize %qr, %s_rows recipe rowwise
      : tensor<256x512xf8E4M3FN>, tensor<256x1xf32> -> tensor<256x512xf32>
  // CHECK: %[[DB1:.*]] = fp8.dequantize %[[QB1]], %[[S1]] recipe blockwise block [1, 128] : tensor<256x512xf8E5M2>, tensor<256x4xf32> -> tensor<256x512xbf16>
  %db1 = fp8.dequantize %qb1, %s_1x128 recipe blockwise block [1, 128]
      : tensor<256x512xf8E5M2>, tensor<256x4xf32> -> tensor<256x512xbf16>
  // CHECK: %[[DB128:.*]] = fp8.dequantize %[[QB128]], %[[S128]] recipe blockwise block [128, 128] : tensor<1024x512xf8E4M3FN>, tensor<8x4xf32> -> tensor<1024x512xf32>
  %db128 = fp8.dequantize %qb128, %s_128x128 recipe blockwise block [128, 128]
      : tensor<1024x512xf8E4M3FN>, tensor<8x4xf32> -> tensor<1024x512xf32>
  // CHECK: return %[[DT]], %[[DD]], %[[DR]], %[[DB1]], %[[DB128]] : tensor<256x512xbf16>, tensor<256x512xf16>, tensor<256x512xf32>, tensor<256x512xbf16>, tensor<1024x512xf32>
  return %dt, %dd, %dr, %db1, %db128
      : tensor<256x512xbf16>, tensor<256x512xf16>, tensor<256x512xf32>, tensor<256x512xbf16>,
        tensor<1024x512xf32>
}

// CHECK-LABEL: func.func @cast_transpose(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[S128:[a-z0-9_]+]]: tensor<2x4xf32>, %[[SR:[a-z0-9_]+]]: tensor<256x1xf32>, %[[SRT:[a-z0-9_]+]]: tensor<512x1xf32>, %[[S1:[a-z0-9_]+]]: tensor<256x4xf32>, %[[S1T:[a-z0-9_]+]]: tensor<512x2xf32>)
func.func @cast_transpose(%x: tensor<256x512xbf16>, %s: tensor<f32>, %s_128x128: tensor<2x4xf32>,
                          %s_rows: tensor<256x1xf32>, %s_rows_t: tensor<512x1xf32>,
                          %s_1x128: tensor<256x4xf32>, %s_1x128_t: tensor<512x2xf32>)
    -> (tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>,
        tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>,
        tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>,
        tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>) {
  // Tensorwise: one scalar scale serves both copies.
  // CHECK: %[[T:.*]], %[[TT:.*]] = fp8.cast_transpose %[[X]], %[[S]] recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  %t, %tt = fp8.cast_transpose %x, %s recipe tensorwise
      : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  // 128x128 blocks are closed under transposition: no transposed_scale.
  // CHECK: %[[B:.*]], %[[BT:.*]] = fp8.cast_transpose %[[X]], %[[S128]] recipe blockwise block [128, 128] : tensor<256x512xbf16>, tensor<2x4xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  %b, %bt = fp8.cast_transpose %x, %s_128x128 recipe blockwise block [128, 128]
      : tensor<256x512xbf16>, tensor<2x4xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  // Rowwise: the transposed copy has its own per-row scales, [C, 1].
  // CHECK: %[[R:.*]], %[[RT:.*]] = fp8.cast_transpose %[[X]], %[[SR]], transposed_scale %[[SRT]] recipe rowwise : tensor<256x512xbf16>, tensor<256x1xf32>, tensor<512x1xf32> -> tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  %r, %rt = fp8.cast_transpose %x, %s_rows, transposed_scale %s_rows_t recipe rowwise
      : tensor<256x512xbf16>, tensor<256x1xf32>, tensor<512x1xf32>
      -> tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  // 1x128 blocks: the transposed copy has its own [C, R / 128] scales.
  // CHECK: %[[B1:.*]], %[[B1T:.*]] = fp8.cast_transpose %[[X]], %[[S1]], transposed_scale %[[S1T]] recipe blockwise block [1, 128] : tensor<256x512xbf16>, tensor<256x4xf32>, tensor<512x2xf32> -> tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  %b1, %b1t = fp8.cast_transpose %x, %s_1x128, transposed_scale %s_1x128_t recipe blockwise
      block [1, 128]
      : tensor<256x512xbf16>, tensor<256x4xf32>, tensor<512x2xf32>
      -> tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  // CHECK: return %[[T]], %[[TT]], %[[B]], %[[BT]], %[[R]], %[[RT]], %[[B1]], %[[B1T]] : tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>, tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>, tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>, tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  return %t, %tt, %b, %bt, %r, %rt, %b1, %b1t
      : tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>,
        tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>,
        tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>,
        tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
}

// CHECK-LABEL: func.func @scaled_matmul(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xf8E4M3FN>, %[[W:[a-z0-9_]+]]: tensor<1024x512xf8E4M3FN>, %[[WT:[a-z0-9_]+]]: tensor<512x1024xf8E4M3FN>, %[[XT:[a-z0-9_]+]]: tensor<512x256xf8E4M3FN>, %[[G:[a-z0-9_]+]]: tensor<256x1024xf8E5M2>, %[[GT:[a-z0-9_]+]]: tensor<1024x256xf8E5M2>, %[[SX:[a-z0-9_]+]]: tensor<f32>, %[[SW:[a-z0-9_]+]]: tensor<f32>, %[[SG:[a-z0-9_]+]]: tensor<f32>, %[[SY:[a-z0-9_]+]]: tensor<f32>)
func.func @scaled_matmul(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>,
                         %wt: tensor<512x1024xf8E4M3FN>, %xt: tensor<512x256xf8E4M3FN>,
                         %g: tensor<256x1024xf8E5M2>, %gt: tensor<1024x256xf8E5M2>,
                         %sx: tensor<f32>, %sw: tensor<f32>, %sg: tensor<f32>, %sy: tensor<f32>)
    -> (tensor<256x1024xbf16>, tensor<256x1024xf32>, tensor<256x1024xf16>,
        tensor<256x1024xf8E4M3FN>, tensor<f32>, tensor<256x1024xbf16>, tensor<f32>,
        tensor<256x512xbf16>, tensor<512x1024xf32>) {
  // Forward y = x . w^T, bf16 result, with the optional attributes.
  // CHECK: %[[Y:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe tensorwise format hybrid {fast_accum, name = "transformer.h.0.mlp.c_fc.fwd"} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1024xbf16>
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe tensorwise format hybrid
      {fast_accum, name = "transformer.h.0.mlp.c_fc.fwd"}
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<256x1024xbf16>
  // f32 result, format e4m3, delayed scaling.
  // CHECK: %[[YF:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe delayed format e4m3 : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1024xf32>
  %yf = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe delayed format e4m3
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<256x1024xf32>
  // CHECK: %[[YH:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe tensorwise format e4m3 : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1024xf16>
  %yh = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe tensorwise format e4m3
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<256x1024xf16>
  // FP8 result: needs result_scale; the epilogue also returns the result's amax.
  // CHECK: %[[Q:.*]], %[[QA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]], %[[SY]]) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<256x1024xf8E4M3FN>, tensor<f32>)
  %q, %qa = fp8.scaled_matmul %x, %w scales(%sx, %sw, %sy) recipe tensorwise format hybrid
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<f32>)
      -> (tensor<256x1024xf8E4M3FN>, tensor<f32>)
  // A high-precision result may return its amax too.
  // CHECK: %[[YB:.*]], %[[YBA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> (tensor<256x1024xbf16>, tensor<f32>)
  %yb, %yba = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe tensorwise format hybrid
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> (tensor<256x1024xbf16>, tensor<f32>)
  // Hybrid dgrad, E5M2 x E4M3: dx = g . (w^T)^T, with g [M, N] and w^T [K, N].
  // CHECK: %[[DX:.*]] = fp8.scaled_matmul %[[G]], %[[WT]] scales(%[[SG]], %[[SW]]) recipe tensorwise format hybrid : (tensor<256x1024xf8E5M2>, tensor<512x1024xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x512xbf16>
  %dx = fp8.scaled_matmul %g, %wt scales(%sg, %sw) recipe tensorwise format hybrid
      : (tensor<256x1024xf8E5M2>, tensor<512x1024xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> tensor<256x512xbf16>
  // Hybrid wgrad, E4M3 x E5M2: dw^T = x^T . (g^T)^T, with x^T [K, M] and g^T [N, M].
  // CHECK: %[[DW:.*]] = fp8.scaled_matmul %[[XT]], %[[GT]] scales(%[[SX]], %[[SG]]) recipe tensorwise format hybrid : (tensor<512x256xf8E4M3FN>, tensor<1024x256xf8E5M2>, tensor<f32>, tensor<f32>) -> tensor<512x1024xf32>
  %dw = fp8.scaled_matmul %xt, %gt scales(%sx, %sg) recipe tensorwise format hybrid
      : (tensor<512x256xf8E4M3FN>, tensor<1024x256xf8E5M2>, tensor<f32>, tensor<f32>)
      -> tensor<512x1024xf32>
  // CHECK: return %[[Y]], %[[YF]], %[[YH]], %[[Q]], %[[QA]], %[[YB]], %[[YBA]], %[[DX]], %[[DW]] : tensor<256x1024xbf16>, tensor<256x1024xf32>, tensor<256x1024xf16>, tensor<256x1024xf8E4M3FN>, tensor<f32>, tensor<256x1024xbf16>, tensor<f32>, tensor<256x512xbf16>, tensor<512x1024xf32>
  return %y, %yf, %yh, %q, %qa, %yb, %yba, %dx, %dw
      : tensor<256x1024xbf16>, tensor<256x1024xf32>, tensor<256x1024xf16>,
        tensor<256x1024xf8E4M3FN>, tensor<f32>, tensor<256x1024xbf16>, tensor<f32>,
        tensor<256x512xbf16>, tensor<512x1024xf32>
}

// CHECK-LABEL: func.func @scaled_matmul_rowwise_blockwise(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xf8E4M3FN>, %[[W:[a-z0-9_]+]]: tensor<1024x512xf8E4M3FN>, %[[SXR:[a-z0-9_]+]]: tensor<256x1xf32>, %[[SWR:[a-z0-9_]+]]: tensor<1024x1xf32>, %[[SXB:[a-z0-9_]+]]: tensor<256x4xf32>, %[[SWB:[a-z0-9_]+]]: tensor<8x4xf32>, %[[SY:[a-z0-9_]+]]: tensor<f32>)
func.func @scaled_matmul_rowwise_blockwise(
    %x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>,
    %sx_rows: tensor<256x1xf32>, %sw_rows: tensor<1024x1xf32>,
    %sx_blocks: tensor<256x4xf32>, %sw_blocks: tensor<8x4xf32>, %sy: tensor<f32>)
    -> (tensor<256x1024xbf16>, tensor<256x1024xbf16>, tensor<256x1024xf8E5M2>, tensor<f32>) {
  // Rowwise: one scale per row of each K-major operand.
  // CHECK: %[[YR:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SXR]], %[[SWR]]) recipe rowwise format e4m3 : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x1xf32>, tensor<1024x1xf32>) -> tensor<256x1024xbf16>
  %yr = fp8.scaled_matmul %x, %w scales(%sx_rows, %sw_rows) recipe rowwise format e4m3
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x1xf32>, tensor<1024x1xf32>)
      -> tensor<256x1024xbf16>
  // Blockwise: 1x128 activation blocks, 128x128 weight blocks.
  // CHECK: %[[YB:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SXB]], %[[SWB]]) recipe blockwise format hybrid {lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>) -> tensor<256x1024xbf16>
  %yb = fp8.scaled_matmul %x, %w scales(%sx_blocks, %sw_blocks) recipe blockwise format hybrid
      {lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>}
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>)
      -> tensor<256x1024xbf16>
  // Blockwise with an FP8 (E5M2) result, its scale and amax.
  // CHECK: %[[YQ:.*]], %[[YA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SXB]], %[[SWB]], %[[SY]]) recipe blockwise format hybrid {fast_accum, lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>, tensor<f32>) -> (tensor<256x1024xf8E5M2>, tensor<f32>)
  %yq, %ya = fp8.scaled_matmul %x, %w scales(%sx_blocks, %sw_blocks, %sy) recipe blockwise
      format hybrid {fast_accum, lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>}
      : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>,
         tensor<f32>) -> (tensor<256x1024xf8E5M2>, tensor<f32>)
  // CHECK: return %[[YR]], %[[YB]], %[[YQ]], %[[YA]] : tensor<256x1024xbf16>, tensor<256x1024xbf16>, tensor<256x1024xf8E5M2>, tensor<f32>
  return %yr, %yb, %yq, %ya
      : tensor<256x1024xbf16>, tensor<256x1024xbf16>, tensor<256x1024xf8E5M2>, tensor<f32>
}

// CHECK-LABEL: func.func @amax_history(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<16xf32>, %[[A:[a-z0-9_]+]]: tensor<f32>, %[[H1:[a-z0-9_]+]]: tensor<1xf32>)
func.func @amax_history(%h: tensor<16xf32>, %amax: tensor<f32>, %h_one: tensor<1xf32>)
    -> (tensor<16xf32>, tensor<f32>, tensor<f32>, tensor<1xf32>, tensor<f32>) {
  // CHECK: %[[U:.*]] = fp8.amax_history_update %[[H]], %[[A]] : tensor<16xf32>, tensor<f32>
  %u = fp8.amax_history_update %h, %amax : tensor<16xf32>, tensor<f32>
  // CHECK: %[[MAX:.*]] = fp8.amax_from_history %[[U]] algo max : tensor<16xf32> -> tensor<f32>
  %max = fp8.amax_from_history %u algo max : tensor<16xf32> -> tensor<f32>
  // CHECK: %[[RECENT:.*]] = fp8.amax_from_history %[[U]] algo most_recent : tensor<16xf32> -> tensor<f32>
  %recent = fp8.amax_from_history %u algo most_recent : tensor<16xf32> -> tensor<f32>
  // A history of length one: delayed scaling with the previous step's amax.
  // CHECK: %[[U1:.*]] = fp8.amax_history_update %[[H1]], %[[MAX]] : tensor<1xf32>, tensor<f32>
  %u1 = fp8.amax_history_update %h_one, %max : tensor<1xf32>, tensor<f32>
  // CHECK: %[[ONE:.*]] = fp8.amax_from_history %[[U1]] algo max : tensor<1xf32> -> tensor<f32>
  %one = fp8.amax_from_history %u1 algo max : tensor<1xf32> -> tensor<f32>
  // CHECK: return %[[U]], %[[MAX]], %[[RECENT]], %[[U1]], %[[ONE]] : tensor<16xf32>, tensor<f32>, tensor<f32>, tensor<1xf32>, tensor<f32>
  return %u, %max, %recent, %u1, %one
      : tensor<16xf32>, tensor<f32>, tensor<f32>, tensor<1xf32>, tensor<f32>
}

// A delayed-scaling cast, end to end: the ops compose as fp8-insert-casts emits them.
// CHECK-LABEL: func.func @delayed_scaling_step(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<256x512xbf16>, %[[H:[a-z0-9_]+]]: tensor<16xf32>, %[[S:[a-z0-9_]+]]: tensor<f32>)
func.func @delayed_scaling_step(%x: tensor<256x512xbf16>, %h: tensor<16xf32>, %s: tensor<f32>)
    -> (tensor<256x512xf8E4M3FN>, tensor<16xf32>, tensor<f32>) {
  // CHECK: %[[Q:.*]] = fp8.quantize %[[X]], %[[S]] recipe delayed : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>
  %q = fp8.quantize %x, %s recipe delayed : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>
  // CHECK: %[[A:.*]] = fp8.amax %[[X]] recipe delayed : tensor<256x512xbf16> -> tensor<f32>
  %a = fp8.amax %x recipe delayed : tensor<256x512xbf16> -> tensor<f32>
  // CHECK: %[[H2:.*]] = fp8.amax_history_update %[[H]], %[[A]] : tensor<16xf32>, tensor<f32>
  %h2 = fp8.amax_history_update %h, %a : tensor<16xf32>, tensor<f32>
  // CHECK: %[[M:.*]] = fp8.amax_from_history %[[H2]] algo max : tensor<16xf32> -> tensor<f32>
  %m = fp8.amax_from_history %h2 algo max : tensor<16xf32> -> tensor<f32>
  // CHECK: %[[S2:.*]] = fp8.compute_scale %[[M]], previous %[[S]] for f8E4M3FN : tensor<f32>, tensor<f32>
  %s2 = fp8.compute_scale %m, previous %s for f8E4M3FN : tensor<f32>, tensor<f32>
  // CHECK: return %[[Q]], %[[H2]], %[[S2]] : tensor<256x512xf8E4M3FN>, tensor<16xf32>, tensor<f32>
  return %q, %h2, %s2 : tensor<256x512xf8E4M3FN>, tensor<16xf32>, tensor<f32>
}

// The bias epilogue: a whole train.linear as one scaled GEMM.
// CHECK-LABEL: func.func @scaled_matmul_bias(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xf8E4M3FN>, %[[W:[a-z0-9_]+]]: tensor<256x128xf8E4M3FN>, %[[SX:[a-z0-9_]+]]: tensor<f32>, %[[SW:[a-z0-9_]+]]: tensor<f32>, %[[B:[a-z0-9_]+]]: tensor<256xbf16>)
func.func @scaled_matmul_bias(%x: tensor<64x128xf8E4M3FN>, %w: tensor<256x128xf8E4M3FN>,
                              %sx: tensor<f32>, %sw: tensor<f32>, %b: tensor<256xbf16>)
    -> tensor<64x256xbf16> {
  // CHECK: %[[Y:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) bias(%[[B]]) recipe tensorwise format hybrid : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>) -> tensor<64x256xbf16>
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) bias(%b) recipe tensorwise format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>)
      -> tensor<64x256xbf16>
  // CHECK: return %[[Y]]
  return %y : tensor<64x256xbf16>
}
