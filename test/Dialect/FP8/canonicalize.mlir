// RUN: fp8-opt %s -canonicalize -split-input-file | FileCheck %s

// Folds and canonicalization patterns of the fp8 dialect. Shapes: x [M, K] = [64, 128].

// quantize(dequantize(q, s), s) -> q through bf16 and f32: re-rounding a value
// within half an FP8 ulp of q returns q.
// CHECK-LABEL: func.func @requantize_folds(
// CHECK-SAME:    %[[Q:[a-z0-9_]+]]: tensor<64x128xf8E4M3FN>, %[[G:[a-z0-9_]+]]: tensor<64x128xf8E5M2>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[SR:[a-z0-9_]+]]: tensor<64x1xf32>)
func.func @requantize_folds(%q: tensor<64x128xf8E4M3FN>, %g: tensor<64x128xf8E5M2>,
                            %s: tensor<f32>, %s_rows: tensor<64x1xf32>)
    -> (tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>) {
  // CHECK-NOT: fp8.dequantize
  // CHECK-NOT: fp8.quantize
  %d = fp8.dequantize %q, %s recipe tensorwise
      : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xbf16>
  %r = fp8.quantize %d, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %dg = fp8.dequantize %g, %s recipe delayed
      : tensor<64x128xf8E5M2>, tensor<f32> -> tensor<64x128xf32>
  %rg = fp8.quantize %dg, %s recipe delayed
      : tensor<64x128xf32>, tensor<f32> -> tensor<64x128xf8E5M2>
  // Per-row scales: the argument is per element, any recipe qualifies.
  %dr = fp8.dequantize %q, %s_rows recipe rowwise
      : tensor<64x128xf8E4M3FN>, tensor<64x1xf32> -> tensor<64x128xbf16>
  %rr = fp8.quantize %dr, %s_rows recipe rowwise
      : tensor<64x128xbf16>, tensor<64x1xf32> -> tensor<64x128xf8E4M3FN>
  // CHECK: return %[[Q]], %[[G]], %[[Q]]
  return %r, %rg, %rr
      : tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>, tensor<64x128xf8E4M3FN>
}

// -----

// What must not fold: another scale, recipe or FP8 type, an f16 round trip
// (q / s leaves f16's exponent range for ordinary scales), and dequantize of
// quantize, which is lossy.
// CHECK-LABEL: func.func @requantize_negative(
// CHECK-SAME:    %[[Q:[a-z0-9_]+]]: tensor<64x128xf8E4M3FN>, %[[X:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[T:[a-z0-9_]+]]: tensor<f32>)
func.func @requantize_negative(%q: tensor<64x128xf8E4M3FN>, %x: tensor<64x128xbf16>,
                               %s: tensor<f32>, %t: tensor<f32>)
    -> (tensor<64x128xf8E4M3FN>, tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>,
        tensor<64x128xf8E4M3FN>, tensor<64x128xbf16>) {
  // CHECK: %[[D:.*]] = fp8.dequantize %[[Q]], %[[S]] recipe tensorwise : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xbf16>
  %d = fp8.dequantize %q, %s recipe tensorwise
      : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xbf16>
  // CHECK: %[[OTHER_SCALE:.*]] = fp8.quantize %[[D]], %[[T]] recipe tensorwise
  %other_scale = fp8.quantize %d, %t recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %[[OTHER_RECIPE:.*]] = fp8.quantize %[[D]], %[[S]] recipe delayed
  %other_recipe = fp8.quantize %d, %s recipe delayed
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %[[OTHER_TYPE:.*]] = fp8.quantize %[[D]], %[[S]] recipe tensorwise : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
  %other_type = fp8.quantize %d, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>
  // CHECK: %[[DH:.*]] = fp8.dequantize %[[Q]], %[[S]] recipe tensorwise : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xf16>
  // CHECK: %[[F16:.*]] = fp8.quantize %[[DH]], %[[S]] recipe tensorwise
  %dh = fp8.dequantize %q, %s recipe tensorwise
      : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xf16>
  %f16 = fp8.quantize %dh, %s recipe tensorwise
      : tensor<64x128xf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  // CHECK: %[[QX:.*]] = fp8.quantize %[[X]], %[[S]] recipe tensorwise
  // CHECK: %[[LOSSY:.*]] = fp8.dequantize %[[QX]], %[[S]] recipe tensorwise
  %qx = fp8.quantize %x, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %lossy = fp8.dequantize %qx, %s recipe tensorwise
      : tensor<64x128xf8E4M3FN>, tensor<f32> -> tensor<64x128xbf16>
  // CHECK: return %[[OTHER_SCALE]], %[[OTHER_RECIPE]], %[[OTHER_TYPE]], %[[F16]], %[[LOSSY]]
  return %other_scale, %other_recipe, %other_type, %f16, %lossy
      : tensor<64x128xf8E4M3FN>, tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>,
        tensor<64x128xf8E4M3FN>, tensor<64x128xbf16>
}

// -----

// A cast_transpose whose transposed copy is unused is a quantize; with rowwise
// scaling the transposed_scale goes with the dropped copy. The marker stays.
// CHECK-LABEL: func.func @cast_transpose_without_transposed(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>, %[[SR:[a-z0-9_]+]]: tensor<64x1xf32>, %[[SRT:[a-z0-9_]+]]: tensor<128x1xf32>)
func.func @cast_transpose_without_transposed(%x: tensor<64x128xbf16>, %s: tensor<f32>,
                                             %s_rows: tensor<64x1xf32>,
                                             %s_rows_t: tensor<128x1xf32>)
    -> (tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>) {
  // CHECK-NOT: fp8.cast_transpose
  // CHECK: %[[Q:.*]] = fp8.quantize %[[X]], %[[S]] recipe delayed {fused_into_producer} : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>
  %q, %qt = fp8.cast_transpose %x, %s recipe delayed {fused_into_producer}
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
  // CHECK: %[[R:.*]] = fp8.quantize %[[X]], %[[SR]] recipe rowwise : tensor<64x128xbf16>, tensor<64x1xf32> -> tensor<64x128xf8E5M2>
  %r, %rt = fp8.cast_transpose %x, %s_rows, transposed_scale %s_rows_t recipe rowwise
      : tensor<64x128xbf16>, tensor<64x1xf32>, tensor<128x1xf32>
      -> tensor<64x128xf8E5M2>, tensor<128x64xf8E5M2>
  // CHECK-NOT: fp8.cast_transpose
  // CHECK: return %[[Q]], %[[R]]
  return %q, %r : tensor<64x128xf8E4M3FN>, tensor<64x128xf8E5M2>
}

// -----

// Only the transposed copy used: kept (a quantize of a bf16 transpose would
// read and write the tensor twice). Nothing used: removed as dead code.
// CHECK-LABEL: func.func @cast_transpose_kept(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xbf16>, %[[S:[a-z0-9_]+]]: tensor<f32>)
func.func @cast_transpose_kept(%x: tensor<64x128xbf16>, %s: tensor<f32>)
    -> tensor<128x64xf8E4M3FN> {
  // CHECK: %{{.*}}, %[[QT:.*]] = fp8.cast_transpose %[[X]], %[[S]] recipe tensorwise
  %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E4M3FN>, tensor<128x64xf8E4M3FN>
  // CHECK-NOT: fp8.
  %dead, %dead_t = fp8.cast_transpose %x, %s recipe delayed
      : tensor<64x128xbf16>, tensor<f32> -> tensor<64x128xf8E5M2>, tensor<128x64xf8E5M2>
  // CHECK: return %[[QT]]
  return %qt : tensor<128x64xf8E4M3FN>
}

// -----

// An unused GEMM amax is dropped; everything else of the GEMM is kept. A used
// one stays.
// CHECK-LABEL: func.func @gemm_amax(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64x128xf8E4M3FN>, %[[W:[a-z0-9_]+]]: tensor<256x128xf8E4M3FN>, %[[SX:[a-z0-9_]+]]: tensor<f32>, %[[SW:[a-z0-9_]+]]: tensor<f32>, %[[B:[a-z0-9_]+]]: tensor<256xbf16>)
func.func @gemm_amax(%x: tensor<64x128xf8E4M3FN>, %w: tensor<256x128xf8E4M3FN>,
                     %sx: tensor<f32>, %sw: tensor<f32>, %b: tensor<256xbf16>)
    -> (tensor<64x256xbf16>, tensor<64x256xbf16>, tensor<f32>) {
  // CHECK: %[[Y:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) bias(%[[B]]) recipe tensorwise format hybrid {fast_accum, fp8.gemm = {kind = "forward"}, name = "h.0.mlp.c_fc.fwd"} : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>) -> tensor<64x256xbf16>
  %y, %unused = fp8.scaled_matmul %x, %w scales(%sx, %sw) bias(%b) recipe tensorwise format hybrid
      {fast_accum, name = "h.0.mlp.c_fc.fwd", fp8.gemm = {kind = "forward"}}
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<256xbf16>)
      -> (tensor<64x256xbf16>, tensor<f32>)
  // CHECK: %[[Z:.*]], %[[ZA:.*]] = fp8.scaled_matmul %[[X]], %[[W]] scales(%[[SX]], %[[SW]]) recipe delayed format hybrid : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>) -> (tensor<64x256xbf16>, tensor<f32>)
  %z, %za = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe delayed format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>)
      -> (tensor<64x256xbf16>, tensor<f32>)
  // CHECK: return %[[Y]], %[[Z]], %[[ZA]]
  return %y, %z, %za : tensor<64x256xbf16>, tensor<64x256xbf16>, tensor<f32>
}
