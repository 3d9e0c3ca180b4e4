// One Llama decoder block (RMSNorm, grouped-query attention with RoPE, SwiGLU
// MLP) in the `train` dialect, in bf16 over f32 master weights. Parameter names
// follow Hugging Face's LlamaForCausalLM.
//
//   fp8c examples/llama-block.mlir --mlir-print-ir-after=cse
func.func @forward(%x: tensor<4x64x256xbf16> {train.name = "hidden_states"}) -> tensor<4x64x256xbf16> {
  %ln1 = train.param "model.layers.0.input_layernorm.weight" init ones : tensor<256xf32>
  %wq = train.param "model.layers.0.self_attn.q_proj.weight" init normal std 2.000000e-02 : tensor<256x256xf32>
  %wk = train.param "model.layers.0.self_attn.k_proj.weight" init normal std 2.000000e-02 : tensor<64x256xf32>
  %wv = train.param "model.layers.0.self_attn.v_proj.weight" init normal std 2.000000e-02 : tensor<64x256xf32>
  %wo = train.param "model.layers.0.self_attn.o_proj.weight" init normal std 2.000000e-02 : tensor<256x256xf32>
  %ln2 = train.param "model.layers.0.post_attention_layernorm.weight" init ones : tensor<256xf32>
  %wg = train.param "model.layers.0.mlp.gate_proj.weight" init normal std 2.000000e-02 : tensor<768x256xf32>
  %wu = train.param "model.layers.0.mlp.up_proj.weight" init normal std 2.000000e-02 : tensor<768x256xf32>
  %wd = train.param "model.layers.0.mlp.down_proj.weight" init normal std 2.000000e-02 : tensor<256x768xf32>

  %ln1b = train.convert %ln1 : tensor<256xf32> -> tensor<256xbf16>
  %wqb = train.convert %wq : tensor<256x256xf32> -> tensor<256x256xbf16>
  %wkb = train.convert %wk : tensor<64x256xf32> -> tensor<64x256xbf16>
  %wvb = train.convert %wv : tensor<64x256xf32> -> tensor<64x256xbf16>
  %wob = train.convert %wo : tensor<256x256xf32> -> tensor<256x256xbf16>
  %ln2b = train.convert %ln2 : tensor<256xf32> -> tensor<256xbf16>
  %wgb = train.convert %wg : tensor<768x256xf32> -> tensor<768x256xbf16>
  %wub = train.convert %wu : tensor<768x256xf32> -> tensor<768x256xbf16>
  %wdb = train.convert %wd : tensor<256x768xf32> -> tensor<256x768xbf16>

  // Attention: 8 query heads share 2 key/value heads of width 32.
  %h = train.rms_norm %x, %ln1b {eps = 1.000000e-05 : f64}
      : (tensor<4x64x256xbf16>, tensor<256xbf16>) -> tensor<4x64x256xbf16>
  %q = train.linear %h, %wqb {name = "model.layers.0.self_attn.q_proj"}
      : (tensor<4x64x256xbf16>, tensor<256x256xbf16>) -> tensor<4x64x256xbf16>
  %k = train.linear %h, %wkb {name = "model.layers.0.self_attn.k_proj"}
      : (tensor<4x64x256xbf16>, tensor<64x256xbf16>) -> tensor<4x64x64xbf16>
  %v = train.linear %h, %wvb {name = "model.layers.0.self_attn.v_proj"}
      : (tensor<4x64x256xbf16>, tensor<64x256xbf16>) -> tensor<4x64x64xbf16>
  %att = train.attention %q, %k, %v {n_heads = 8 : i64, n_kv_heads = 2 : i64, causal,
                                     rope_theta = 1.000000e+04 : f64}
      : (tensor<4x64x256xbf16>, tensor<4x64x64xbf16>, tensor<4x64x64xbf16>) -> tensor<4x64x256xbf16>
  %o = train.linear %att, %wob {name = "model.layers.0.self_attn.o_proj"}
      : (tensor<4x64x256xbf16>, tensor<256x256xbf16>) -> tensor<4x64x256xbf16>
  %r1 = train.add %x, %o : tensor<4x64x256xbf16>

  // SwiGLU MLP.
  %h2 = train.rms_norm %r1, %ln2b {eps = 1.000000e-05 : f64}
      : (tensor<4x64x256xbf16>, tensor<256xbf16>) -> tensor<4x64x256xbf16>
  %g = train.linear %h2, %wgb {name = "model.layers.0.mlp.gate_proj"}
      : (tensor<4x64x256xbf16>, tensor<768x256xbf16>) -> tensor<4x64x768xbf16>
  %u = train.linear %h2, %wub {name = "model.layers.0.mlp.up_proj"}
      : (tensor<4x64x256xbf16>, tensor<768x256xbf16>) -> tensor<4x64x768xbf16>
  %s = train.swiglu %g, %u : tensor<4x64x768xbf16>
  %d = train.linear %s, %wdb {name = "model.layers.0.mlp.down_proj"}
      : (tensor<4x64x768xbf16>, tensor<256x768xbf16>) -> tensor<4x64x256xbf16>
  %r2 = train.add %r1, %d : tensor<4x64x256xbf16>
  return %r2 : tensor<4x64x256xbf16>
}
