// RUN: fp8-opt %s -split-input-file -verify-diagnostics | fp8-opt -split-input-file | FileCheck %s
// RUN: fp8-opt %s -split-input-file -verify-diagnostics --mlir-print-op-generic | fp8-opt -split-input-file | FileCheck %s --check-prefix=GENERIC

// train.slice: round trip (custom and generic form) of the GPT-2 qkv split and of
// other dimensions and element types; then every verifier diagnostic, one per
// split, matched in full (-verify-diagnostics prints only the valid splits).

// CHECK-LABEL: func.func @qkv_split(
// CHECK-SAME:    %[[QKV:[a-z0-9_]+]]: tensor<2x16x192xbf16>)
func.func @qkv_split(%qkv: tensor<2x16x192xbf16>)
    -> (tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>) {
  // CHECK: %[[Q:.*]] = train.slice %[[QKV]] dim 2 offset 0 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  %q = train.slice %qkv dim 2 offset 0 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  // CHECK: %[[K:.*]] = train.slice %[[QKV]] dim 2 offset 64 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  %k = train.slice %qkv dim 2 offset 64 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  // CHECK: %[[V:.*]] = train.slice %[[QKV]] dim 2 offset 128 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  %v = train.slice %qkv dim 2 offset 128 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  // CHECK: return %[[Q]], %[[K]], %[[V]]
  return %q, %k, %v : tensor<2x16x64xbf16>, tensor<2x16x64xbf16>, tensor<2x16x64xbf16>
}

// GENERIC-LABEL: func.func @qkv_split(
// GENERIC: train.slice %{{.*}} dim 2 offset 64 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>

// -----

// CHECK-LABEL: func.func @other_dims(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<8x64xf32>, %[[T:[a-z0-9_]+]]: tensor<4x16xi32>)
func.func @other_dims(%x: tensor<8x64xf32>, %t: tensor<4x16xi32>)
    -> (tensor<3x64xf32>, tensor<8x64xf32>, tensor<4x1xi32>) {
  // A leading dimension.
  // CHECK: train.slice %[[X]] dim 0 offset 5 size 3 : tensor<8x64xf32> -> tensor<3x64xf32>
  %a = train.slice %x dim 0 offset 5 size 3 : tensor<8x64xf32> -> tensor<3x64xf32>
  // The whole dimension.
  // CHECK: train.slice %[[X]] dim 1 offset 0 size 64 : tensor<8x64xf32> -> tensor<8x64xf32>
  %b = train.slice %x dim 1 offset 0 size 64 : tensor<8x64xf32> -> tensor<8x64xf32>
  // Integer tensors too; the last element.
  // CHECK: train.slice %[[T]] dim 1 offset 15 size 1 : tensor<4x16xi32> -> tensor<4x1xi32>
  %c = train.slice %t dim 1 offset 15 size 1 : tensor<4x16xi32> -> tensor<4x1xi32>
  return %a, %b, %c : tensor<3x64xf32>, tensor<8x64xf32>, tensor<4x1xi32>
}

// -----

func.func @dim_negative(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{'train.slice' op dim -1 is out of range for an input of rank 2}}
  %y = train.slice %x dim -1 offset 0 size 64 : tensor<8x64xf32> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @dim_too_large(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // expected-error @+1 {{'train.slice' op dim 2 is out of range for an input of rank 2}}
  %y = train.slice %x dim 2 offset 0 size 64 : tensor<8x64xf32> -> tensor<8x64xf32>
  return %y : tensor<8x64xf32>
}

// -----

func.func @past_the_end(%x: tensor<2x16x192xbf16>) -> tensor<2x16x64xbf16> {
  // expected-error @+1 {{'train.slice' op range [160, 160 + 64) does not fit in dimension 2 of size 192}}
  %y = train.slice %x dim 2 offset 160 size 64 : tensor<2x16x192xbf16> -> tensor<2x16x64xbf16>
  return %y : tensor<2x16x64xbf16>
}

// -----

func.func @negative_offset(%x: tensor<8x64xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'train.slice' op range [-4, -4 + 4) does not fit in dimension 1 of size 64}}
  %y = train.slice %x dim 1 offset -4 size 4 : tensor<8x64xf32> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

func.func @empty(%x: tensor<8x64xf32>) -> tensor<8x0xf32> {
  // expected-error @+1 {{'train.slice' op range [0, 0 + 0) does not fit in dimension 1 of size 64}}
  %y = train.slice %x dim 1 offset 0 size 0 : tensor<8x64xf32> -> tensor<8x0xf32>
  return %y : tensor<8x0xf32>
}

// -----

func.func @wrong_result_shape(%x: tensor<2x16x192xbf16>) -> tensor<2x64x64xbf16> {
  // expected-error @+1 {{'train.slice' op result has shape [2, 64, 64], expected [2, 16, 64]}}
  %y = train.slice %x dim 2 offset 0 size 64 : tensor<2x16x192xbf16> -> tensor<2x64x64xbf16>
  return %y : tensor<2x64x64xbf16>
}

// -----

func.func @element_type_changes(%x: tensor<8x64xf32>) -> tensor<8x32xbf16> {
  // expected-error @+1 {{'train.slice' op cannot change the element type ('f32' to 'bf16')}}
  %y = train.slice %x dim 1 offset 0 size 32 : tensor<8x64xf32> -> tensor<8x32xbf16>
  return %y : tensor<8x32xbf16>
}

// -----

func.func @dynamic(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  // expected-error @+1 {{'train.slice' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float or 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?x64xf32>'}}
  %y = train.slice %x dim 1 offset 0 size 32 : tensor<?x64xf32> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
