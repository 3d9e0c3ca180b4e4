// RUN: fp8-opt %s -canonicalize -split-input-file | FileCheck %s

// Folds of the train dialect (lib/Dialect/Train/IR/TrainFolds.cpp): ops that
// return their input, and layout chains that compose into one op.

// A reshape to the same type is its input; a reshape of a reshape is one
// reshape of the first input, or nothing when it comes back to that type.
// CHECK-LABEL: func.func @reshape_folds(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x64x768xbf16>)
func.func @reshape_folds(%x: tensor<8x64x768xbf16>)
    -> (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<8x64x12x64xbf16>) {
  // CHECK-NEXT: %[[R:.*]] = train.reshape %[[X]] : tensor<8x64x768xbf16> -> tensor<8x64x12x64xbf16>
  // CHECK-NEXT: return %[[X]], %[[X]], %[[R]]
  %same = train.reshape %x : tensor<8x64x768xbf16> -> tensor<8x64x768xbf16>
  %flat = train.reshape %x : tensor<8x64x768xbf16> -> tensor<512x768xbf16>
  %back = train.reshape %flat : tensor<512x768xbf16> -> tensor<8x64x768xbf16>
  %heads = train.reshape %flat : tensor<512x768xbf16> -> tensor<8x64x12x64xbf16>
  return %same, %back, %heads
      : tensor<8x64x768xbf16>, tensor<8x64x768xbf16>, tensor<8x64x12x64xbf16>
}

// -----

// A reshape of another op's result stays.
// CHECK-LABEL: func.func @reshape_negative(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x64x768xbf16>)
func.func @reshape_negative(%x: tensor<8x64x768xbf16>) -> tensor<512x768xbf16> {
  // CHECK-NEXT: %[[G:.*]] = train.gelu %[[X]]
  // CHECK-NEXT: %[[R:.*]] = train.reshape %[[G]] : tensor<8x64x768xbf16> -> tensor<512x768xbf16>
  // CHECK-NEXT: return %[[R]]
  %g = train.gelu %x : tensor<8x64x768xbf16>
  %r = train.reshape %g : tensor<8x64x768xbf16> -> tensor<512x768xbf16>
  return %r : tensor<512x768xbf16>
}

// -----

// The identity permutation is its input; two transposes that cancel are the
// first input; two that do not are one transpose with the composed permutation.
// CHECK-LABEL: func.func @transpose_folds(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x3x4x5xf32>)
func.func @transpose_folds(%x: tensor<2x3x4x5xf32>)
    -> (tensor<2x3x4x5xf32>, tensor<2x3x4x5xf32>, tensor<5x2x4x3xf32>) {
  // CHECK-NEXT: %[[T:.*]] = train.transpose %[[X]] [3, 0, 2, 1] : tensor<2x3x4x5xf32> -> tensor<5x2x4x3xf32>
  // CHECK-NEXT: return %[[X]], %[[X]], %[[T]]
  %id = train.transpose %x [0, 1, 2, 3] : tensor<2x3x4x5xf32> -> tensor<2x3x4x5xf32>
  %heads = train.transpose %x [0, 2, 1, 3] : tensor<2x3x4x5xf32> -> tensor<2x4x3x5xf32>
  %back = train.transpose %heads [0, 2, 1, 3] : tensor<2x4x3x5xf32> -> tensor<2x3x4x5xf32>
  // result dim i = heads dim p[i] = x dim [0, 2, 1, 3][p[i]]: [3, 0, 2, 1].
  %mixed = train.transpose %heads [3, 0, 1, 2] : tensor<2x4x3x5xf32> -> tensor<5x2x4x3xf32>
  return %id, %back, %mixed : tensor<2x3x4x5xf32>, tensor<2x3x4x5xf32>, tensor<5x2x4x3xf32>
}

// -----

// A transpose of another op's result stays.
// CHECK-LABEL: func.func @transpose_negative(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4x8xf32>)
func.func @transpose_negative(%x: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // CHECK-NEXT: %[[G:.*]] = train.gelu %[[X]]
  // CHECK-NEXT: %[[T:.*]] = train.transpose %[[G]] [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  // CHECK-NEXT: return %[[T]]
  %g = train.gelu %x : tensor<4x8xf32>
  %t = train.transpose %g [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  return %t : tensor<8x4xf32>
}

// -----

// A convert to the same type is its input, and so is a round trip through f32
// (widening bf16 or f16 to f32 is exact).
// CHECK-LABEL: func.func @convert_folds(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<64xbf16>, %[[H:[a-z0-9_]+]]: tensor<64xf16>)
func.func @convert_folds(%x: tensor<64xbf16>, %h: tensor<64xf16>)
    -> (tensor<64xbf16>, tensor<64xbf16>, tensor<64xf16>) {
  // CHECK-NEXT: return %[[X]], %[[X]], %[[H]]
  %same = train.convert %x : tensor<64xbf16> -> tensor<64xbf16>
  %wide = train.convert %x : tensor<64xbf16> -> tensor<64xf32>
  %back = train.convert %wide : tensor<64xf32> -> tensor<64xbf16>
  %hwide = train.convert %h : tensor<64xf16> -> tensor<64xf32>
  %hback = train.convert %hwide : tensor<64xf32> -> tensor<64xf16>
  return %same, %back, %hback : tensor<64xbf16>, tensor<64xbf16>, tensor<64xf16>
}

// -----

// Rounding is never folded away: f32 -> bf16 -> f32 loses bits, bf16 -> f16
// -> bf16 rounds (and can overflow) in f16, and bf16 -> f32 -> f16 is a
// conversion of its own.
// CHECK-LABEL: func.func @convert_negative(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<64xf32>, %[[X:[a-z0-9_]+]]: tensor<64xbf16>)
func.func @convert_negative(%w: tensor<64xf32>, %x: tensor<64xbf16>)
    -> (tensor<64xf32>, tensor<64xbf16>, tensor<64xf16>) {
  // CHECK-NEXT: %[[N:.*]] = train.convert %[[W]] : tensor<64xf32> -> tensor<64xbf16>
  // CHECK-NEXT: %[[NW:.*]] = train.convert %[[N]] : tensor<64xbf16> -> tensor<64xf32>
  // CHECK-NEXT: %[[H:.*]] = train.convert %[[X]] : tensor<64xbf16> -> tensor<64xf16>
  // CHECK-NEXT: %[[HB:.*]] = train.convert %[[H]] : tensor<64xf16> -> tensor<64xbf16>
  // CHECK-NEXT: %[[XW:.*]] = train.convert %[[X]] : tensor<64xbf16> -> tensor<64xf32>
  // CHECK-NEXT: %[[XH:.*]] = train.convert %[[XW]] : tensor<64xf32> -> tensor<64xf16>
  // CHECK-NEXT: return %[[NW]], %[[HB]], %[[XH]]
  %n = train.convert %w : tensor<64xf32> -> tensor<64xbf16>
  %nw = train.convert %n : tensor<64xbf16> -> tensor<64xf32>
  %h = train.convert %x : tensor<64xbf16> -> tensor<64xf16>
  %hb = train.convert %h : tensor<64xf16> -> tensor<64xbf16>
  %xw = train.convert %x : tensor<64xbf16> -> tensor<64xf32>
  %xh = train.convert %xw : tensor<64xf32> -> tensor<64xf16>
  return %nw, %hb, %xh : tensor<64xf32>, tensor<64xbf16>, tensor<64xf16>
}

// -----

// A slice of the whole dimension is its input, and so is the gradient of one.
// CHECK-LABEL: func.func @slice_folds(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x64x768xbf16>)
func.func @slice_folds(%x: tensor<8x64x768xbf16>)
    -> (tensor<8x64x768xbf16>, tensor<8x64x768xbf16>) {
  // CHECK-NEXT: return %[[X]], %[[X]]
  %s = train.slice %x dim 2 offset 0 size 768 : tensor<8x64x768xbf16> -> tensor<8x64x768xbf16>
  %g = train.slice_grad %x dim 1 offset 0 : tensor<8x64x768xbf16> -> tensor<8x64x768xbf16>
  return %s, %g : tensor<8x64x768xbf16>, tensor<8x64x768xbf16>
}

// -----

// A part of a dimension stays.
// CHECK-LABEL: func.func @slice_negative(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x64x2304xbf16>)
func.func @slice_negative(%x: tensor<8x64x2304xbf16>)
    -> (tensor<8x64x768xbf16>, tensor<8x64x2304xbf16>) {
  // CHECK-NEXT: %[[K:.*]] = train.slice %[[X]] dim 2 offset 768 size 768
  // CHECK-NEXT: %[[G:.*]] = train.slice_grad %[[K]] dim 2 offset 768
  // CHECK-NEXT: return %[[K]], %[[G]]
  %k = train.slice %x dim 2 offset 768 size 768 : tensor<8x64x2304xbf16> -> tensor<8x64x768xbf16>
  %g = train.slice_grad %k dim 2 offset 768 : tensor<8x64x768xbf16> -> tensor<8x64x2304xbf16>
  return %k, %g : tensor<8x64x768xbf16>, tensor<8x64x2304xbf16>
}
