// A one-layer model without train.config: fp8-autodiff.mlir runs the pass over it
// with pass options only.
func.func @forward(%x: tensor<4x8xf32> {train.name = "x"},
                   %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
  %w = train.param "fc.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
  %b = train.param "fc.bias" init zeros : tensor<16xf32>
  %y = train.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
