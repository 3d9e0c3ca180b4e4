// RUN: fp8-opt %s -split-input-file --fp8-autodiff -verify-diagnostics | FileCheck %s

// The VJP of train.matmul with acc (result = acc + op(lhs)·op(rhs)): acc's gradient is
// the result's, lhs and rhs get the usual product gradients.

// CHECK-LABEL: module @matmul_acc
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<8x16xf32> {{[^}]*}}train.name = "w"},
// CHECK-SAME:    %[[C:[a-z0-9_]+]]: tensor<4x16xf32> {{[^}]*}}train.name = "c"},
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4x8xf32> {train.name = "x"},
// CHECK-SAME:    %[[T:[a-z0-9_]+]]: tensor<4xi32> {train.name = "targets"},
// CHECK:         %[[Y:.*]] = train.matmul %[[X]], %[[W]] acc(%[[C]]) {name = "fc"}
// CHECK:         %[[DY:.*]] = train.softmax_cross_entropy_grad %[[Y]], %[[T]]
// CHECK:         %[[DW:.*]] = train.matmul %[[X]], %[[DY]] {name = "fc.wgrad", transpose_lhs} : (tensor<4x8xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
// CHECK:         train.global_norm %[[DW]], %[[DY]] : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<f32>
module @matmul_acc {
  func.func @forward(%x: tensor<4x8xf32> {train.name = "x"},
                     %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "w" init normal std 2.000000e-02 : tensor<8x16xf32>
    %c = train.param "c" init zeros : tensor<4x16xf32>
    %y = train.matmul %x, %w acc(%c) {name = "fc"}
        : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// bf16 operands with an f32 result (what fp8-chunk-loss builds after autodiff) have no
// VJP: the product's gradient GEMMs would mix f32 and bf16 operands.
module @matmul_acc_mixed {
  func.func @forward(%x: tensor<4x8xbf16> {train.name = "x"},
                     %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "w" init normal std 2.000000e-02 : tensor<8x16xf32>
    %c = train.param "c" init zeros : tensor<4x16xf32>
    %wb = train.convert %w : tensor<8x16xf32> -> tensor<8x16xbf16>
    // expected-error @+1 {{'train.matmul' op has no VJP with a 'f32' result of 'bf16' operands}}
    %y = train.matmul %x, %wb acc(%c) {name = "fc"}
        : (tensor<4x8xbf16>, tensor<8x16xbf16>, tensor<4x16xf32>) -> tensor<4x16xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
