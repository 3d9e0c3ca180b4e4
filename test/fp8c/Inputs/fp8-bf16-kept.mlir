// FP8 linears whose activations backward needs differently: mlp.0's input
// (the embedding) is quantised and then freed; mlp.2's input %a is also an
// operand of the mul after it, whose gradient reads %a again in backward, so
// its bf16 copy stays live beside the FP8 one; head's input %p is computed
// inside the kernel that quantises it and never stored in bf16.
module attributes {train.config = {batch_size = 16 : i64, fp8 = {auto_filter = "none", device = "h100-sxm", enabled = true, filter_fqns = [], first_layer_bf16 = false, format = "hybrid", last_layer_bf16 = false, margin = 0 : i64, overrides = [], power_of_2_scales = false, recipe = "tensorwise"}, grad_accum_steps = 1 : i64, optimizer = {grad_clip = 0.000000e+00 : f64, lr = 1.000000e-02 : f64, name = "sgd", weight_decay = 0.000000e+00 : f64}, precision = "bf16"}} {
func.func @forward(%tokens: tensor<16x32xi32> {train.name = "tokens"},
                   %targets: tensor<16x32xi32> {train.name = "targets"}) -> tensor<f32> {
  %wte = train.param "embed.weight" init normal std 2.000000e-02 : tensor<256x128xf32>
  %w1 = train.param "mlp.0.weight" init normal std 2.000000e-02 : tensor<128x128xf32>
  %w2 = train.param "mlp.2.weight" init normal std 2.000000e-02 : tensor<128x128xf32>
  %w3 = train.param "head.weight" init normal std 2.000000e-02 : tensor<256x128xf32>
  %wte16 = train.convert %wte : tensor<256x128xf32> -> tensor<256x128xbf16>
  %w116 = train.convert %w1 : tensor<128x128xf32> -> tensor<128x128xbf16>
  %w216 = train.convert %w2 : tensor<128x128xf32> -> tensor<128x128xbf16>
  %w316 = train.convert %w3 : tensor<256x128xf32> -> tensor<256x128xbf16>
  %x = train.embedding %wte16[%tokens] : tensor<256x128xbf16>, tensor<16x32xi32> -> tensor<16x32x128xbf16>
  %x2 = train.reshape %x : tensor<16x32x128xbf16> -> tensor<512x128xbf16>
  %h = train.linear %x2, %w116 {name = "mlp.0"}
      : (tensor<512x128xbf16>, tensor<128x128xbf16>) -> tensor<512x128xbf16>
  %a = train.gelu %h : tensor<512x128xbf16>
  %o = train.linear %a, %w216 {name = "mlp.2"}
      : (tensor<512x128xbf16>, tensor<128x128xbf16>) -> tensor<512x128xbf16>
  %p = train.mul %o, %a : tensor<512x128xbf16>
  %logits = train.linear %p, %w316 {name = "head"}
      : (tensor<512x128xbf16>, tensor<256x128xbf16>) -> tensor<512x256xbf16>
  %l3 = train.reshape %logits : tensor<512x256xbf16> -> tensor<16x32x256xbf16>
  %loss = train.softmax_cross_entropy %l3, %targets
      : (tensor<16x32x256xbf16>, tensor<16x32xi32>) -> tensor<f32>
  return %loss : tensor<f32>
}
}
