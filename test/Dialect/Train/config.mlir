// RUN: fp8-opt %s -split-input-file | FileCheck %s

// `train.config` (docs/model-description.md) as the front end writes it
// verifies; values are checked by the passes that read them, not here (an
// unknown recipe or device is a string: the dialect accepts it).

// CHECK-LABEL: module attributes {train.config = {batch_size = 8 : i64,
// CHECK-SAME:    fp8 = {amax_compute_algo = "max", amax_history_len = 16 : i64, auto_filter = "none", device = "h100-sxm", enabled = true, filter_fqns = ["lm_head"], first_layer_bf16 = false, format = "hybrid", interval = 1 : i64, last_layer_bf16 = false, margin = 0 : i64, overrides = [{match = "mlp.down_proj", wgrad = "bf16"}], power_of_2_scales = false, recipe = "delayed", threshold = 1.000000e+00 : f64},
// CHECK-SAME:    grad_accum_steps = 1 : i64, init = {seed = 1337 : i64, std = 2.000000e-02 : f64},
// CHECK-SAME:    lr_schedule = {kind = "cosine", min_lr = 1.000000e-04 : f64, total_steps = 500 : i64, warmup_steps = 20 : i64},
// CHECK-SAME:    model = {bias = true, d_model = 128 : i64, family = "gpt", ffn_dim = 512 : i64, n_heads = 4 : i64, n_kv_heads = 4 : i64, n_layers = 2 : i64, norm_eps = 1.000000e-05 : f64, seq_len = 64 : i64, tie_embeddings = true, vocab_size = 256 : i64},
// CHECK-SAME:    optimizer = {beta1 = 9.000000e-01 : f64, beta2 = 8.750000e-01 : f64, eps = 1.000000e-08 : f64, grad_clip = 1.000000e+00 : f64, lr = 1.000000e-03 : f64, name = "adamw", weight_decay = 1.000000e-01 : f64},
// CHECK-SAME:    precision = "bf16"}}
module attributes {train.config = {
  model = {family = "gpt", vocab_size = 256 : i64, seq_len = 64 : i64, d_model = 128 : i64,
           n_layers = 2 : i64, ffn_dim = 512 : i64, n_heads = 4 : i64, n_kv_heads = 4 : i64,
           norm_eps = 1.0e-05 : f64, bias = true, tie_embeddings = true},
  batch_size = 8 : i64, grad_accum_steps = 1 : i64, precision = "bf16",
  optimizer = {name = "adamw", lr = 1.0e-03 : f64, beta1 = 0.9 : f64, beta2 = 0.875 : f64,
               eps = 1.0e-08 : f64, weight_decay = 0.1 : f64, grad_clip = 1.0 : f64},
  lr_schedule = {kind = "cosine", warmup_steps = 20 : i64, total_steps = 500 : i64,
                 min_lr = 1.0e-04 : f64},
  init = {std = 2.0e-02 : f64, seed = 1337 : i64},
  fp8 = {enabled = true, recipe = "delayed", format = "hybrid", margin = 0 : i64,
         amax_history_len = 16 : i64, amax_compute_algo = "max", interval = 1 : i64,
         power_of_2_scales = false, filter_fqns = ["lm_head"], first_layer_bf16 = false,
         last_layer_bf16 = false, auto_filter = "none", device = "h100-sxm",
         threshold = 1.0 : f64, overrides = [{match = "mlp.down_proj", wgrad = "bf16"}]}
}} {
}

// -----

// Partial settings (the passes fill in their defaults), integers where numbers
// are expected, and values no pass accepts still verify.
// CHECK-LABEL: module attributes {train.config = {fp8 = {device = "a100", recipe = "bogus"}, lr_schedule = {kind = "linear"}, model = {rope_theta = 10000 : i64}, optimizer = {lr = 1 : i64}}}
module attributes {train.config = {optimizer = {lr = 1}, lr_schedule = {kind = "linear"},
                                   model = {rope_theta = 10000},
                                   fp8 = {recipe = "bogus", device = "a100"}}} {
}
