// RUN: fp8-opt %s -split-input-file -verify-diagnostics

// Every diagnostic of lib/Dialect/FP8/IR/FP8Ops.cpp, matched in full, plus a
// few ODS constraint errors. Shapes: x [256, 512], w [1024, 512].

//===----------------------------------------------------------------------===//
// Scale shapes (getScaleShape), as they surface through the ops
//===----------------------------------------------------------------------===//

func.func @amax_blockwise_without_block(%x: tensor<256x512xbf16>) -> tensor<256x4xf32> {
  // expected-error @+1 {{'fp8.amax' op input: blockwise scaling needs a block ([1, 128] or [128, 128])}}
  %a = fp8.amax %x recipe blockwise : tensor<256x512xbf16> -> tensor<256x4xf32>
  return %a : tensor<256x4xf32>
}

// -----

func.func @amax_block_with_rowwise(%x: tensor<256x512xbf16>) -> tensor<256x1xf32> {
  // expected-error @+1 {{'fp8.amax' op input: a block is only meaningful with blockwise scaling, not rowwise}}
  %a = fp8.amax %x recipe rowwise block [1, 128] : tensor<256x512xbf16> -> tensor<256x1xf32>
  return %a : tensor<256x1xf32>
}

// -----

func.func @quantize_block_with_tensorwise(%x: tensor<256x512xbf16>, %s: tensor<f32>) -> tensor<256x512xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op input: a block is only meaningful with blockwise scaling, not tensorwise}}
  %q = fp8.quantize %x, %s recipe tensorwise block [128, 128] : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>
  return %q : tensor<256x512xf8E4M3FN>
}

// -----

func.func @dequantize_block_with_delayed(%q: tensor<256x512xf8E4M3FN>, %s: tensor<f32>) -> tensor<256x512xbf16> {
  // expected-error @+1 {{'fp8.dequantize' op input: a block is only meaningful with blockwise scaling, not delayed}}
  %x = fp8.dequantize %q, %s recipe delayed block [1, 128] : tensor<256x512xf8E4M3FN>, tensor<f32> -> tensor<256x512xbf16>
  return %x : tensor<256x512xbf16>
}

// -----

func.func @amax_rowwise_3d(%x: tensor<4x256x512xbf16>) -> tensor<4x1xf32> {
  // expected-error @+1 {{'fp8.amax' op input: rowwise scaling needs a 2-D operand, got shape [4, 256, 512]}}
  %a = fp8.amax %x recipe rowwise : tensor<4x256x512xbf16> -> tensor<4x1xf32>
  return %a : tensor<4x1xf32>
}

// -----

func.func @quantize_blockwise_1d(%x: tensor<512xf32>, %s: tensor<4xf32>) -> tensor<512xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op input: blockwise scaling needs a 2-D operand, got shape [512]}}
  %q = fp8.quantize %x, %s recipe blockwise block [1, 128] : tensor<512xf32>, tensor<4xf32> -> tensor<512xf8E4M3FN>
  return %q : tensor<512xf8E4M3FN>
}

// -----

func.func @amax_unsupported_block(%x: tensor<256x512xbf16>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'fp8.amax' op input: block [64, 128] is not supported; use [1, 128] or [128, 128]}}
  %a = fp8.amax %x recipe blockwise block [64, 128] : tensor<256x512xbf16> -> tensor<4x4xf32>
  return %a : tensor<4x4xf32>
}

// -----

func.func @dequantize_unsupported_block(%q: tensor<256x512xf8E5M2>, %s: tensor<256x8xf32>) -> tensor<256x512xf32> {
  // expected-error @+1 {{'fp8.dequantize' op input: block [1, 64] is not supported; use [1, 128] or [128, 128]}}
  %x = fp8.dequantize %q, %s recipe blockwise block [1, 64] : tensor<256x512xf8E5M2>, tensor<256x8xf32> -> tensor<256x512xf32>
  return %x : tensor<256x512xf32>
}

// -----

func.func @amax_block_does_not_divide_cols(%x: tensor<256x320xbf16>) -> tensor<256x3xf32> {
  // expected-error @+1 {{'fp8.amax' op input: blockwise scaling with block [1, 128] needs dimension 1 (size 320) to be a multiple of 128}}
  %a = fp8.amax %x recipe blockwise block [1, 128] : tensor<256x320xbf16> -> tensor<256x3xf32>
  return %a : tensor<256x3xf32>
}

// -----

func.func @quantize_block_does_not_divide_rows(%w: tensor<192x512xf32>, %s: tensor<1x4xf32>) -> tensor<192x512xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op input: blockwise scaling with block [128, 128] needs dimension 0 (size 192) to be a multiple of 128}}
  %q = fp8.quantize %w, %s recipe blockwise block [128, 128] : tensor<192x512xf32>, tensor<1x4xf32> -> tensor<192x512xf8E4M3FN>
  return %q : tensor<192x512xf8E4M3FN>
}

// -----

//===----------------------------------------------------------------------===//
// Scale shape mismatches (verifyScaleFor)
//===----------------------------------------------------------------------===//

func.func @amax_wrong_result_shape(%x: tensor<256x512xbf16>) -> tensor<256x4xf32> {
  // expected-error @+1 {{'fp8.amax' op result has shape [256, 4], but rowwise scaling of input [256, 512] needs [256, 1]}}
  %a = fp8.amax %x recipe rowwise : tensor<256x512xbf16> -> tensor<256x4xf32>
  return %a : tensor<256x4xf32>
}

// -----

func.func @amax_tensorwise_not_scalar(%x: tensor<256x512xbf16>) -> tensor<1xf32> {
  // expected-error @+1 {{'fp8.amax' op result has shape [1], but tensorwise scaling of input [256, 512] needs []}}
  %a = fp8.amax %x recipe tensorwise : tensor<256x512xbf16> -> tensor<1xf32>
  return %a : tensor<1xf32>
}

// -----

func.func @quantize_wrong_scale_shape(%x: tensor<256x512xbf16>, %s: tensor<2x4xf32>) -> tensor<256x512xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op scale has shape [2, 4], but blockwise scaling of input [256, 512] needs [256, 4]}}
  %q = fp8.quantize %x, %s recipe blockwise block [1, 128] : tensor<256x512xbf16>, tensor<2x4xf32> -> tensor<256x512xf8E4M3FN>
  return %q : tensor<256x512xf8E4M3FN>
}

// -----

func.func @dequantize_wrong_scale_shape(%q: tensor<256x512xf8E4M3FN>, %s: tensor<f32>) -> tensor<256x512xbf16> {
  // expected-error @+1 {{'fp8.dequantize' op scale has shape [], but rowwise scaling of input [256, 512] needs [256, 1]}}
  %x = fp8.dequantize %q, %s recipe rowwise : tensor<256x512xf8E4M3FN>, tensor<f32> -> tensor<256x512xbf16>
  return %x : tensor<256x512xbf16>
}

// -----

//===----------------------------------------------------------------------===//
// compute_scale
//===----------------------------------------------------------------------===//

func.func @compute_scale_not_fp8(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.compute_scale' op fp8_type must be f8E4M3FN or f8E5M2, got 'bf16'}}
  %s = fp8.compute_scale %a for bf16 : tensor<f32>
  return %s : tensor<f32>
}

// -----

func.func @compute_scale_other_fp8(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.compute_scale' op fp8_type must be f8E4M3FN or f8E5M2, got 'f8E4M3FNUZ'}}
  %s = fp8.compute_scale %a for f8E4M3FNUZ : tensor<f32>
  return %s : tensor<f32>
}

// -----

func.func @compute_scale_previous_shape(%a: tensor<f32>, %p: tensor<256x1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.compute_scale' op previous scale type 'tensor<256x1xf32>' differs from amax type 'tensor<f32>'}}
  %s = fp8.compute_scale %a, previous %p for f8E4M3FN : tensor<f32>, tensor<256x1xf32>
  return %s : tensor<f32>
}

// -----

func.func @compute_scale_negative_margin(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.compute_scale' op margin must be >= 0, got -1}}
  %s = fp8.compute_scale %a for f8E5M2 {margin = -1 : i64} : tensor<f32>
  return %s : tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// quantize / dequantize
//===----------------------------------------------------------------------===//

func.func @quantize_shape_changes(%x: tensor<256x512xbf16>, %s: tensor<f32>) -> tensor<512x256xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op result shape [512, 256] differs from input shape [256, 512]}}
  %q = fp8.quantize %x, %s recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<512x256xf8E4M3FN>
  return %q : tensor<512x256xf8E4M3FN>
}

// -----

func.func @dequantize_shape_changes(%q: tensor<256x512xf8E4M3FN>, %s: tensor<f32>) -> tensor<256x256xbf16> {
  // expected-error @+1 {{'fp8.dequantize' op result shape [256, 256] differs from input shape [256, 512]}}
  %x = fp8.dequantize %q, %s recipe tensorwise : tensor<256x512xf8E4M3FN>, tensor<f32> -> tensor<256x256xbf16>
  return %x : tensor<256x256xbf16>
}

// -----

//===----------------------------------------------------------------------===//
// cast_transpose
//===----------------------------------------------------------------------===//

func.func @cast_transpose_3d(%x: tensor<2x256x512xbf16>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op input must be 2-D, got shape [2, 256, 512]}}
  %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise : tensor<2x256x512xbf16>, tensor<f32> -> tensor<2x256x512xf8E4M3FN>, tensor<2x512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_mixed_types(%x: tensor<256x512xbf16>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op both results must have one FP8 type, got 'f8E4M3FN' and 'f8E5M2'}}
  %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E5M2>
  return
}

// -----

func.func @cast_transpose_result_shape(%x: tensor<256x512xbf16>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op result shape [512, 256] differs from input shape [256, 512]}}
  %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<512x256xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_not_transposed(%x: tensor<256x512xbf16>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op transposed result has shape [256, 512], expected [512, 256]}}
  %q, %qt = fp8.cast_transpose %x, %s recipe tensorwise : tensor<256x512xbf16>, tensor<f32> -> tensor<256x512xf8E4M3FN>, tensor<256x512xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_scale_shape(%x: tensor<256x512xbf16>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op scale has shape [4, 2], but blockwise scaling of input [256, 512] needs [2, 4]}}
  %q, %qt = fp8.cast_transpose %x, %s recipe blockwise block [128, 128] : tensor<256x512xbf16>, tensor<4x2xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_blockwise_without_block(%x: tensor<256x512xbf16>, %s: tensor<2x4xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op input: blockwise scaling needs a block ([1, 128] or [128, 128])}}
  %q, %qt = fp8.cast_transpose %x, %s recipe blockwise : tensor<256x512xbf16>, tensor<2x4xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_rowwise_needs_transposed_scale(%x: tensor<256x512xbf16>, %s: tensor<256x1xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op rowwise scaling groups other elements once transposed: 'transposed_scale' is required}}
  %q, %qt = fp8.cast_transpose %x, %s recipe rowwise : tensor<256x512xbf16>, tensor<256x1xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_1x128_needs_transposed_scale(%x: tensor<256x512xbf16>, %s: tensor<256x4xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op blockwise scaling groups other elements once transposed: 'transposed_scale' is required}}
  %q, %qt = fp8.cast_transpose %x, %s recipe blockwise block [1, 128] : tensor<256x512xbf16>, tensor<256x4xf32> -> tensor<256x512xf8E5M2>, tensor<512x256xf8E5M2>
  return
}

// -----

func.func @cast_transpose_tensorwise_transposed_scale(%x: tensor<256x512xbf16>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op 'transposed_scale' is only used with rowwise or 1x128 blockwise scaling}}
  %q, %qt = fp8.cast_transpose %x, %s, transposed_scale %s recipe tensorwise : tensor<256x512xbf16>, tensor<f32>, tensor<f32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_128x128_transposed_scale(%x: tensor<256x512xbf16>, %s: tensor<2x4xf32>, %st: tensor<4x2xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op 'transposed_scale' is only used with rowwise or 1x128 blockwise scaling}}
  %q, %qt = fp8.cast_transpose %x, %s, transposed_scale %st recipe blockwise block [128, 128] : tensor<256x512xbf16>, tensor<2x4xf32>, tensor<4x2xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

func.func @cast_transpose_transposed_scale_shape(%x: tensor<256x512xbf16>, %s: tensor<256x1xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op transposed_scale has shape [256, 1], but rowwise scaling of transposed input [512, 256] needs [512, 1]}}
  %q, %qt = fp8.cast_transpose %x, %s, transposed_scale %s recipe rowwise : tensor<256x512xbf16>, tensor<256x1xf32>, tensor<256x1xf32> -> tensor<256x512xf8E4M3FN>, tensor<512x256xf8E4M3FN>
  return
}

// -----

// 1x128 blocks of x [64, 512] are fine, but x^T [512, 64] has rows of 64.
func.func @cast_transpose_transposed_not_divisible(%x: tensor<64x512xbf16>, %s: tensor<64x4xf32>, %st: tensor<512x1xf32>) {
  // expected-error @+1 {{'fp8.cast_transpose' op transposed input: blockwise scaling with block [1, 128] needs dimension 1 (size 64) to be a multiple of 128}}
  %q, %qt = fp8.cast_transpose %x, %s, transposed_scale %st recipe blockwise block [1, 128] : tensor<64x512xbf16>, tensor<64x4xf32>, tensor<512x1xf32> -> tensor<64x512xf8E4M3FN>, tensor<512x64xf8E4M3FN>
  return
}

// -----

//===----------------------------------------------------------------------===//
// scaled_matmul
//===----------------------------------------------------------------------===//

func.func @scaled_matmul_not_2d(%x: tensor<2x256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op operands must be 2-D ([M, K] and [N, K]), got [2, 256, 512] and [1024, 512]}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<2x256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<2x256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_e5m2_e5m2(%g: tensor<256x1024xf8E5M2>, %h: tensor<512x1024xf8E5M2>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op f8E5M2 x f8E5M2 GEMMs are not supported by cuBLASLt; one operand must be f8E4M3FN}}
  %y = fp8.scaled_matmul %g, %h scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x1024xf8E5M2>, tensor<512x1024xf8E5M2>, tensor<f32>, tensor<f32>) -> tensor<256x512xbf16>
  return
}

// -----

func.func @scaled_matmul_e4m3_format_with_e5m2(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E5M2>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op format e4m3 uses f8E4M3FN for every operand, got 'f8E4M3FN' and 'f8E5M2'}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format e4m3 : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E5M2>, tensor<f32>, tensor<f32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_not_k_major(%x: tensor<256x512xf8E4M3FN>, %w: tensor<512x1024xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op rhs must be [N, K] with K = 512 (both operands K-major), got [512, 1024]}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<512x1024xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x512xbf16>
  return
}

// -----

func.func @scaled_matmul_m_not_multiple_of_16(%x: tensor<100x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op FP8 GEMM dimension M = 100 is not a multiple of 16}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<100x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<100x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_n_not_multiple_of_16(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1000x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op FP8 GEMM dimension N = 1000 is not a multiple of 16}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1000x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1000xbf16>
  return
}

// -----

func.func @scaled_matmul_k_not_multiple_of_16(%x: tensor<256x520xf8E4M3FN>, %w: tensor<1024x520xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op FP8 GEMM dimension K = 520 is not a multiple of 16}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x520xf8E4M3FN>, tensor<1024x520xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_result_shape(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op result has shape [1024, 256], expected [256, 1024]}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<1024x256xbf16>
  return
}

// -----

func.func @scaled_matmul_fp8_result_without_scale(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op an FP8 result needs 'result_scale'}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>) -> tensor<256x1024xf8E4M3FN>
  return
}

// -----

func.func @scaled_matmul_result_scale_without_fp8(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op 'result_scale' is only used with an FP8 result}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s, %s) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_lhs_scale_shape(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %sx: tensor<512x1xf32>, %sw: tensor<1024x1xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op lhs_scale has shape [512, 1], but rowwise scaling of lhs [256, 512] needs [256, 1]}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe rowwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<512x1xf32>, tensor<1024x1xf32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_rhs_scale_shape(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %sx: tensor<256x4xf32>, %sw: tensor<1024x4xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op rhs_scale has shape [1024, 4], but blockwise scaling of rhs [1024, 512] needs [8, 4]}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe blockwise format hybrid {lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<1024x4xf32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_missing_rhs_block(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %sx: tensor<256x4xf32>, %sw: tensor<8x4xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op rhs: blockwise scaling needs a block ([1, 128] or [128, 128])}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe blockwise format hybrid {lhs_block = array<i64: 1, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_block_with_rowwise(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %sx: tensor<256x1xf32>, %sw: tensor<1024x1xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op lhs: a block is only meaningful with blockwise scaling, not rowwise}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe rowwise format hybrid {lhs_block = array<i64: 1, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x1xf32>, tensor<1024x1xf32>) -> tensor<256x1024xbf16>
  return
}

// -----

func.func @scaled_matmul_unsupported_block(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %sx: tensor<256x4xf32>, %sw: tensor<8x4xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op lhs: block [128, 1] is not supported; use [1, 128] or [128, 128]}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe blockwise format hybrid {lhs_block = array<i64: 128, 1>, rhs_block = array<i64: 128, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>) -> tensor<256x1024xbf16>
  return
}

// -----

// N = 1040 is a multiple of 16, but not of the 128-row weight blocks.
func.func @scaled_matmul_block_does_not_divide(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1040x512xf8E4M3FN>, %sx: tensor<256x4xf32>, %sw: tensor<8x4xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op rhs: blockwise scaling with block [128, 128] needs dimension 0 (size 1040) to be a multiple of 128}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) recipe blockwise format hybrid {lhs_block = array<i64: 1, 128>, rhs_block = array<i64: 128, 128>} : (tensor<256x512xf8E4M3FN>, tensor<1040x512xf8E4M3FN>, tensor<256x4xf32>, tensor<8x4xf32>) -> tensor<256x1040xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// amax history
//===----------------------------------------------------------------------===//

func.func @amax_history_update_empty(%h: tensor<0xf32>, %a: tensor<f32>) -> tensor<0xf32> {
  // expected-error @+1 {{'fp8.amax_history_update' op amax history must hold at least one entry}}
  %u = fp8.amax_history_update %h, %a : tensor<0xf32>, tensor<f32>
  return %u : tensor<0xf32>
}

// -----

func.func @amax_from_history_empty(%h: tensor<0xf32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.amax_from_history' op amax history must hold at least one entry}}
  %a = fp8.amax_from_history %h algo max : tensor<0xf32> -> tensor<f32>
  return %a : tensor<f32>
}

// -----

func.func @amax_history_update_dynamic(%h: tensor<?xf32>, %a: tensor<f32>) -> tensor<?xf32> {
  // expected-error @+1 {{'fp8.amax_history_update' op amax history must have a static length, got 'tensor<?xf32>'}}
  %u = fp8.amax_history_update %h, %a : tensor<?xf32>, tensor<f32>
  return %u : tensor<?xf32>
}

// -----

func.func @amax_from_history_dynamic(%h: tensor<?xf32>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.amax_from_history' op amax history must have a static length, got 'tensor<?xf32>'}}
  %a = fp8.amax_from_history %h algo most_recent : tensor<?xf32> -> tensor<f32>
  return %a : tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// ODS constraints
//===----------------------------------------------------------------------===//

func.func @quantize_to_bf16(%x: tensor<256x512xf32>, %s: tensor<f32>) -> tensor<256x512xbf16> {
  // expected-error @+1 {{'fp8.quantize' op result #0 must be statically shaped tensor of f8E4M3FN type or f8E5M2 type values, but got 'tensor<256x512xbf16>'}}
  %q = fp8.quantize %x, %s recipe tensorwise : tensor<256x512xf32>, tensor<f32> -> tensor<256x512xbf16>
  return %q : tensor<256x512xbf16>
}

// -----

func.func @block_of_three(%x: tensor<256x512xbf16>) -> tensor<256x4xf32> {
  // expected-error @+1 {{'fp8.amax' op attribute 'block' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %a = fp8.amax %x recipe blockwise block [1, 128, 1] : tensor<256x512xbf16> -> tensor<256x4xf32>
  return %a : tensor<256x4xf32>
}

// -----

func.func @bf16_scale(%x: tensor<256x512xbf16>, %s: tensor<bf16>) -> tensor<256x512xf8E4M3FN> {
  // expected-error @+1 {{'fp8.quantize' op operand #1 must be statically shaped tensor of 32-bit float values, but got 'tensor<bf16>'}}
  %q = fp8.quantize %x, %s recipe tensorwise : tensor<256x512xbf16>, tensor<bf16> -> tensor<256x512xf8E4M3FN>
  return %q : tensor<256x512xf8E4M3FN>
}

// -----

func.func @dynamic_input(%x: tensor<?x512xbf16>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.amax' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x512xbf16>'}}
  %a = fp8.amax %x recipe tensorwise : tensor<?x512xbf16> -> tensor<f32>
  return %a : tensor<f32>
}

// -----

func.func @result_scale_not_scalar(%x: tensor<256x512xf8E4M3FN>, %w: tensor<1024x512xf8E4M3FN>, %s: tensor<f32>, %r: tensor<1xf32>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op operand #4 must be 0D tensor of 32-bit float values, but got 'tensor<1xf32>'}}
  %y = fp8.scaled_matmul %x, %w scales(%s, %s, %r) recipe tensorwise format hybrid : (tensor<256x512xf8E4M3FN>, tensor<1024x512xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<1xf32>) -> tensor<256x1024xf8E4M3FN>
  return
}

// -----

func.func @history_not_f32(%h: tensor<16xbf16>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.amax_from_history' op operand #0 must be 1D tensor of 32-bit float values, but got 'tensor<16xbf16>'}}
  %a = fp8.amax_from_history %h algo max : tensor<16xbf16> -> tensor<f32>
  return %a : tensor<f32>
}

// -----

func.func @scaled_matmul_bias_shape(%x: tensor<64x128xf8E4M3FN>, %w: tensor<256x128xf8E4M3FN>,
                                    %sx: tensor<f32>, %sw: tensor<f32>, %b: tensor<128xbf16>) {
  // expected-error @+1 {{'fp8.scaled_matmul' op bias has shape [128], expected [256]}}
  %y = fp8.scaled_matmul %x, %w scales(%sx, %sw) bias(%b) recipe tensorwise format hybrid
      : (tensor<64x128xf8E4M3FN>, tensor<256x128xf8E4M3FN>, tensor<f32>, tensor<f32>, tensor<128xbf16>)
      -> tensor<64x256xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// fp8.amax {transposed}: the groups of inputᵀ
//===----------------------------------------------------------------------===//

func.func @amax_transposed_tensorwise(%x: tensor<256x512xbf16>) -> tensor<f32> {
  // expected-error @+1 {{'fp8.amax' op 'transposed' only applies to rowwise and blockwise amax, not tensorwise}}
  %a = fp8.amax %x recipe tensorwise {transposed} : tensor<256x512xbf16> -> tensor<f32>
  return %a : tensor<f32>
}

// -----

func.func @amax_transposed_3d(%x: tensor<4x256x512xbf16>) -> tensor<512x1xf32> {
  // expected-error @+1 {{'fp8.amax' op 'transposed' needs a 2-D input, got shape [4, 256, 512]}}
  %a = fp8.amax %x recipe rowwise {transposed} : tensor<4x256x512xbf16> -> tensor<512x1xf32>
  return %a : tensor<512x1xf32>
}

// -----

func.func @amax_transposed_rowwise_shape(%x: tensor<256x512xbf16>) -> tensor<256x1xf32> {
  // expected-error @+1 {{'fp8.amax' op result has shape [256, 1], but rowwise scaling of transposed input [512, 256] needs [512, 1]}}
  %a = fp8.amax %x recipe rowwise {transposed} : tensor<256x512xbf16> -> tensor<256x1xf32>
  return %a : tensor<256x1xf32>
}

// -----

func.func @amax_transposed_block_does_not_divide(%x: tensor<320x512xbf16>) -> tensor<512x2xf32> {
  // expected-error @+1 {{'fp8.amax' op transposed input: blockwise scaling with block [1, 128] needs dimension 1 (size 320) to be a multiple of 128}}
  %a = fp8.amax %x recipe blockwise block [1, 128] {transposed} : tensor<320x512xbf16> -> tensor<512x2xf32>
  return %a : tensor<512x2xf32>
}
