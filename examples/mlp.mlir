// A two-layer MLP classifier over token embeddings, written directly in the
// `train` dialect: the forward graph up to the loss. The YAML front end builds
// graphs like this one from a model description.
//
//   fp8c examples/mlp.mlir --mlir-print-ir-after-all
func.func @forward(%tokens: tensor<16x32xi32> {train.name = "tokens"},
                   %targets: tensor<16x32xi32> {train.name = "targets"}) -> tensor<f32> {
  %wte = train.param "embed.weight" init normal std 2.000000e-02 : tensor<256x128xf32>
  %w1 = train.param "mlp.0.weight" init normal std 2.000000e-02 : tensor<512x128xf32>
  %b1 = train.param "mlp.0.bias" init zeros : tensor<512xf32>
  %w2 = train.param "mlp.2.weight" init normal std 2.000000e-02 : tensor<256x512xf32>

  // bf16 activations over f32 master weights: the conversions are explicit.
  %wte16 = train.convert %wte : tensor<256x128xf32> -> tensor<256x128xbf16>
  %w116 = train.convert %w1 : tensor<512x128xf32> -> tensor<512x128xbf16>
  %b116 = train.convert %b1 : tensor<512xf32> -> tensor<512xbf16>
  %w216 = train.convert %w2 : tensor<256x512xf32> -> tensor<256x512xbf16>

  %x = train.embedding %wte16[%tokens] : tensor<256x128xbf16>, tensor<16x32xi32> -> tensor<16x32x128xbf16>
  %x2 = train.reshape %x : tensor<16x32x128xbf16> -> tensor<512x128xbf16>
  %h = train.linear %x2, %w116, %b116 {name = "mlp.0"}
      : (tensor<512x128xbf16>, tensor<512x128xbf16>, tensor<512xbf16>) -> tensor<512x512xbf16>
  %a = train.gelu %h : tensor<512x512xbf16>
  %logits = train.linear %a, %w216 {name = "mlp.2"}
      : (tensor<512x512xbf16>, tensor<256x512xbf16>) -> tensor<512x256xbf16>
  %l3 = train.reshape %logits : tensor<512x256xbf16> -> tensor<16x32x256xbf16>
  %loss = train.softmax_cross_entropy %l3, %targets
      : (tensor<16x32x256xbf16>, tensor<16x32xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
