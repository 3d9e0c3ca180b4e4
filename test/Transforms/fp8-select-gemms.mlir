// RUN: fp8-opt %s --fp8-select-gemms -split-input-file | FileCheck %s
// RUN: fp8-opt %s --fp8-select-gemms="calibration=%S/Inputs/fp8-select-gemms-calibration.yaml" \
// RUN:   -split-input-file | FileCheck %s --check-prefix=CALIB

// fp8-select-gemms gives every GEMM an `fp8.gemm` dictionary (name, kind, M/K/N,
// decision, reason, predicted times). Rules, first match wins: fp8 disabled,
// overrides, filter_fqns, first/last layer, batched GEMMs, hard rules, then the
// roofline cost model (or fp8 with auto_filter none). Operands that are function
// arguments have no producer to fuse their amax into: their casts are full
// kernels (docs/fp8-passes.md).

// No fp8 section: FP8 is off, every GEMM says so and still gets its shape and
// predicted times. A linear's M counts every leading dimension (4 x 128).

// CHECK-LABEL: func.func @disabled(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x128x256xbf16>, %[[W:[a-z0-9]+]]: tensor<512x256xbf16>
// CHECK: %[[Y:.*]] = train.linear %[[X]], %[[W]] {fp8.gemm = {decision = "bf16", k = 256 : i64, kind = "forward", m = 512 : i64, n = 512 : i64, name = "layers.0", reason = "fp8 disabled", speedup = 2.000000e-01 : f64, t_bf16_us = 3.000000e+00 : f64, t_fp8_us = 1.500000e+01 : f64}, name = "layers.0"}
// CHECK: return %[[Y]]
// A calibration file with a 1 us launch floor: the same kernels, 1 us each.
// CALIB-LABEL: func.func @disabled(
// CALIB: train.linear {{.*}}speedup = 2.000000e-01 : f64, t_bf16_us = 1.000000e+00 : f64, t_fp8_us = 5.000000e+00 : f64}
func.func @disabled(%x: tensor<4x128x256xbf16>, %w: tensor<512x256xbf16>) -> tensor<4x128x512xbf16> {
  %y = train.linear %x, %w {name = "layers.0"} : (tensor<4x128x256xbf16>, tensor<512x256xbf16>) -> tensor<4x128x512xbf16>
  return %y : tensor<4x128x512xbf16>
}

// -----

// `enabled = false` turns the rest of the section off, an unknown device included.

// CHECK-LABEL: func.func @disabled_explicitly(
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "bf16", {{.*}}reason = "fp8 disabled"
module attributes {train.config = {fp8 = {enabled = false, device = "a100"}}} {
  func.func @disabled_explicitly(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %c = train.matmul %a, %b : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %c : tensor<64x64xbf16>
  }
}

// -----

// Kinds, names and dims. `<layer>.dgrad` / `<layer>.wgrad` matmuls are the
// backward GEMMs of `<layer>` (the suffix leaves the name); M, K, N follow the
// transposes. An unnamed GEMM is `gemm.<its index among the function's GEMMs>`.
// auto_filter none: every eligible GEMM is fp8, the prediction only informs.
// Times: every GEMM and every cast kernel of these small shapes sits on the 3 us
// launch floor. The weight %W feeds forward (as stored) and dgrad (transposed):
// one cast_transpose shared by the two (3 us each); %DY likewise between dgrad
// and wgrad; %X and %X2 are read by one GEMM each: amax + cast, 6 us.

// CHECK-LABEL: func.func @kinds(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x128x256xbf16>, %[[W:[a-z0-9]+]]: tensor<512x256xbf16>, %[[DY:[a-z0-9]+]]: tensor<512x512xbf16>, %[[X2:[a-z0-9]+]]: tensor<512x256xbf16>, %[[P:[a-z0-9]+]]: tensor<64x32xbf16>, %[[Q:[a-z0-9]+]]: tensor<64x48xbf16>
// CHECK: train.linear %[[X]], %[[W]] {fp8.gemm = {decision = "fp8", k = 256 : i64, kind = "forward", m = 512 : i64, n = 512 : i64, name = "transformer.h.0.mlp.c_fc", reason = "auto_filter none (predicted 0.25x)", speedup = 2.500000e-01 : f64, t_bf16_us = 3.000000e+00 : f64, t_fp8_us = 1.200000e+01 : f64}, name = "transformer.h.0.mlp.c_fc"}
// CHECK: train.matmul %[[DY]], %[[W]] {fp8.gemm = {decision = "fp8", k = 512 : i64, kind = "dgrad", m = 512 : i64, n = 256 : i64, name = "transformer.h.0.mlp.c_fc", reason = "auto_filter none (predicted 0.33x)", speedup = 3.333000e-01 : f64, t_bf16_us = 3.000000e+00 : f64, t_fp8_us = 9.000000e+00 : f64}, name = "transformer.h.0.mlp.c_fc.dgrad"}
// CHECK: train.matmul %[[DY]], %[[X2]] {fp8.gemm = {decision = "fp8", k = 512 : i64, kind = "wgrad", m = 512 : i64, n = 256 : i64, name = "transformer.h.0.mlp.c_fc", reason = "auto_filter none (predicted 0.25x)", {{.*}}t_fp8_us = 1.200000e+01 : f64}, name = "transformer.h.0.mlp.c_fc.wgrad", transpose_lhs}
// CHECK: train.matmul %[[P]], %[[Q]] {fp8.gemm = {decision = "fp8", k = 64 : i64, kind = "forward", m = 32 : i64, n = 48 : i64, name = "gemm.3", {{.*}}t_fp8_us = 1.500000e+01 : f64}, transpose_lhs}
module attributes {train.config = {fp8 = {enabled = true, auto_filter = "none"}}} {
  func.func @kinds(%x: tensor<4x128x256xbf16>, %w: tensor<512x256xbf16>, %dy: tensor<512x512xbf16>,
                   %x2: tensor<512x256xbf16>, %p: tensor<64x32xbf16>, %q: tensor<64x48xbf16>)
      -> (tensor<4x128x512xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<32x48xbf16>) {
    %y = train.linear %x, %w {name = "transformer.h.0.mlp.c_fc"} : (tensor<4x128x256xbf16>, tensor<512x256xbf16>) -> tensor<4x128x512xbf16>
    %dx = train.matmul %dy, %w {name = "transformer.h.0.mlp.c_fc.dgrad"} : (tensor<512x512xbf16>, tensor<512x256xbf16>) -> tensor<512x256xbf16>
    %dw = train.matmul %dy, %x2 {name = "transformer.h.0.mlp.c_fc.wgrad", transpose_lhs} : (tensor<512x512xbf16>, tensor<512x256xbf16>) -> tensor<512x256xbf16>
    %u = train.matmul %p, %q {transpose_lhs} : (tensor<64x32xbf16>, tensor<64x48xbf16>) -> tensor<32x48xbf16>
    return %y, %dx, %dw, %u : tensor<4x128x512xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<32x48xbf16>
  }
}

// -----

// Overrides win over filter_fqns and the cost model; the last matching entry
// with an opinion for the kind wins. lm_head's forward is forced to fp8, its
// dgrad has no override opinion and is filtered; c_fc's dgrad is bf16 except in
// block 0, which a later entry sets back to fp8. The rest goes to the roofline:
// these shapes are launch-bound, "too small".

// CHECK-LABEL: func.func @overrides(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<512x256xbf16>, %[[W:[a-z0-9]+]]: tensor<256x256xbf16>
// CHECK: train.linear %[[X]], %[[W]] {fp8.gemm = {decision = "fp8", {{.*}}kind = "forward", {{.*}}name = "lm_head", reason = "override 'lm_head' (overrides[0]): forward fp8"
// CHECK: train.matmul %[[X]], %[[W]] {fp8.gemm = {decision = "bf16", {{.*}}kind = "dgrad", {{.*}}name = "lm_head", reason = "filtered by filter_fqns 'lm_head'"
// CHECK: train.matmul %[[X]], %[[W]] {fp8.gemm = {decision = "fp8", {{.*}}kind = "dgrad", {{.*}}name = "transformer.h.0.mlp.c_fc", reason = "override 'h.0.mlp.c_fc' (overrides[2]): dgrad fp8"
// CHECK: train.matmul %[[X]], %[[W]] {fp8.gemm = {decision = "bf16", {{.*}}kind = "dgrad", {{.*}}name = "transformer.h.1.mlp.c_fc", reason = "override 'c_fc' (overrides[1]): dgrad bf16"
// CHECK: train.linear %[[X]], %[[W]] {fp8.gemm = {decision = "bf16", {{.*}}kind = "forward", {{.*}}name = "transformer.h.1.mlp.c_fc", reason = "too small: the bf16 GEMM is launch-bound
module attributes {train.config = {fp8 = {enabled = true, filter_fqns = ["lm_head"],
    overrides = [{match = "lm_head", forward = "fp8"},
                 {match = "c_fc", dgrad = "bf16"},
                 {match = "h.0.mlp.c_fc", dgrad = "fp8"}]}}} {
  func.func @overrides(%x: tensor<512x256xbf16>, %w: tensor<256x256xbf16>)
      -> (tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>) {
    %0 = train.linear %x, %w {name = "lm_head"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %1 = train.matmul %x, %w {name = "lm_head.dgrad"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %2 = train.matmul %x, %w {name = "transformer.h.0.mlp.c_fc.dgrad"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %3 = train.matmul %x, %w {name = "transformer.h.1.mlp.c_fc.dgrad"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %4 = train.linear %x, %w {name = "transformer.h.1.mlp.c_fc"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    return %0, %1, %2, %3, %4 : tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>
  }
}

// -----

// First/last layer: the blocks are the indices of `transformer.h.N` (also
// `model.layers.N`, `layers.N`); lm_head is no block and is left alone.

// CHECK-LABEL: func.func @blocks(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", {{.*}}name = "transformer.h.0.attn.c_attn", reason = "first layer kept bf16 (first_layer_bf16; block 0)"
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}name = "transformer.h.1.attn.c_attn", reason = "auto_filter none
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "forward", {{.*}}name = "transformer.h.2.attn.c_attn", reason = "last layer kept bf16 (last_layer_bf16; block 2)"
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "dgrad", {{.*}}name = "transformer.h.2.attn.c_attn", reason = "last layer kept bf16 (last_layer_bf16; block 2)"
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}name = "lm_head", reason = "auto_filter none
module attributes {train.config = {fp8 = {enabled = true, auto_filter = "none", first_layer_bf16 = true, last_layer_bf16 = true}}} {
  func.func @blocks(%x: tensor<512x256xbf16>, %w: tensor<256x256xbf16>)
      -> (tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>) {
    %0 = train.linear %x, %w {name = "transformer.h.0.attn.c_attn"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %1 = train.linear %x, %w {name = "transformer.h.1.attn.c_attn"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %2 = train.linear %x, %w {name = "transformer.h.2.attn.c_attn"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %3 = train.matmul %x, %w {name = "transformer.h.2.attn.c_attn.dgrad"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %4 = train.linear %x, %w {name = "lm_head"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    return %0, %1, %2, %3, %4 : tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>
  }
}

// -----

// Llama names: model.layers.N.

// CHECK-LABEL: func.func @llama_blocks(
// CHECK: fp8.gemm = {decision = "bf16", {{.*}}name = "model.layers.0.mlp.up_proj", reason = "first layer kept bf16 (first_layer_bf16; block 0)"
// CHECK: fp8.gemm = {decision = "fp8", {{.*}}name = "model.layers.1.mlp.up_proj", reason = "auto_filter none
// CHECK: fp8.gemm = {decision = "fp8", {{.*}}name = "model.layers.10.mlp.up_proj", reason = "auto_filter none
module attributes {train.config = {fp8 = {enabled = true, auto_filter = "none", first_layer_bf16 = true}}} {
  func.func @llama_blocks(%x: tensor<512x256xbf16>, %w: tensor<256x256xbf16>)
      -> (tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>) {
    %0 = train.linear %x, %w {name = "model.layers.0.mlp.up_proj"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %1 = train.linear %x, %w {name = "model.layers.1.mlp.up_proj"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %2 = train.linear %x, %w {name = "model.layers.10.mlp.up_proj"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    return %0, %1, %2 : tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>
  }
}

// -----

// No name has a block index: the first and last train.linear are the first and
// last layers, with their backward GEMMs.

// CHECK-LABEL: func.func @no_blocks(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", {{.*}}name = "encoder", reason = "first layer kept bf16 (first_layer_bf16; first linear 'encoder')"
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}name = "hidden", reason = "auto_filter none
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", {{.*}}name = "decoder", reason = "last layer kept bf16 (last_layer_bf16; last linear 'decoder')"
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "wgrad", {{.*}}name = "encoder", reason = "first layer kept bf16
module attributes {train.config = {fp8 = {enabled = true, auto_filter = "none", first_layer_bf16 = true, last_layer_bf16 = true}}} {
  func.func @no_blocks(%x: tensor<512x256xbf16>, %w: tensor<256x256xbf16>, %dy: tensor<512x256xbf16>)
      -> (tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<256x256xbf16>) {
    %0 = train.linear %x, %w {name = "encoder"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %1 = train.linear %x, %w {name = "hidden"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %2 = train.linear %x, %w {name = "decoder"} : (tensor<512x256xbf16>, tensor<256x256xbf16>) -> tensor<512x256xbf16>
    %3 = train.matmul %dy, %x {name = "encoder.wgrad", transpose_lhs} : (tensor<512x256xbf16>, tensor<512x256xbf16>) -> tensor<256x256xbf16>
    return %0, %1, %2, %3 : tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<512x256xbf16>, tensor<256x256xbf16>
  }
}

// -----

// Hard rules: FP8 GEMMs need every dim a multiple of 16; batched GEMMs stay bf16.

// CHECK-LABEL: func.func @hard_rules(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", k = 100 : i64, {{.*}}reason = "dims not multiples of 16 (K=100)"
// CHECK: train.batch_matmul {{.*}}fp8.gemm = {decision = "bf16", k = 64 : i64, kind = "forward", m = 1024 : i64, n = 128 : i64, name = "gemm.1", reason = "batched GEMM: fp8 selection covers train.linear and train.matmul only"
module attributes {train.config = {fp8 = {enabled = true, auto_filter = "none"}}} {
  func.func @hard_rules(%x: tensor<512x100xbf16>, %w: tensor<256x100xbf16>,
                        %q: tensor<8x128x64xbf16>, %k: tensor<8x128x64xbf16>)
      -> (tensor<512x256xbf16>, tensor<8x128x128xbf16>) {
    %0 = train.linear %x, %w {name = "odd"} : (tensor<512x100xbf16>, tensor<256x100xbf16>) -> tensor<512x256xbf16>
    %1 = train.batch_matmul %q, %k {transpose_rhs} : (tensor<8x128x64xbf16>, tensor<8x128x64xbf16>) -> tensor<8x128x128xbf16>
    return %0, %1 : tensor<512x256xbf16>, tensor<8x128x128xbf16>
  }
}

// -----

// Blockwise scaling needs multiples of 128.

// CHECK-LABEL: func.func @blockwise_dims(
// CHECK: fp8.gemm = {decision = "bf16", {{.*}}reason = "dims not multiples of 128 (N=208)"
module attributes {train.config = {fp8 = {enabled = true, recipe = "blockwise", auto_filter = "none"}}} {
  func.func @blockwise_dims(%x: tensor<512x256xbf16>, %w: tensor<208x256xbf16>) -> tensor<512x208xbf16> {
    %0 = train.linear %x, %w {name = "proj"} : (tensor<512x256xbf16>, tensor<208x256xbf16>) -> tensor<512x208xbf16>
    return %0 : tensor<512x208xbf16>
  }
}

// -----

// The roofline on h100-sxm, tensorwise, operands cast by their own amax + cast
// kernels (no producer, no sharing): docs/cost-model.md's table. 4096x8192x16384
// pays (1.27x), 1024x2048x1024 does not (casts), 512x128x512 is launch-bound,
// and a GEMM with K = 16 is memory-bound.

// CHECK-LABEL: func.func @roofline(
// CHECK: fp8.gemm = {decision = "fp8", k = 8192 : i64, kind = "forward", m = 4096 : i64, n = 16384 : i64, name = "big", reason = "predicted 1.27x >= threshold 1.00 (bf16 1481.7 us vs fp8 854.8 us + casts 313.0 us; bf16 GEMM compute-bound)", speedup = 1.268{{[0-9]*}}e+00 : f64, t_bf16_us = 1481.{{[0-9]+}} : f64, t_fp8_us = 1167.{{[0-9]+}} : f64}
// CHECK: fp8.gemm = {decision = "bf16", k = 2048 : i64, {{.*}}name = "medium", reason = "cast overhead exceeds the GEMM saving: predicted 0.38x < threshold 1.00
// CHECK: fp8.gemm = {decision = "bf16", k = 128 : i64, {{.*}}name = "small", reason = "too small: the bf16 GEMM is launch-bound
// CHECK: fp8.gemm = {decision = "bf16", k = 16 : i64, {{.*}}name = "thin", reason = "memory-bound: fp8 halves only the operand bytes; predicted
module attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", device = "h100-sxm"}}} {
  func.func @roofline(%a: tensor<4096x8192xbf16>, %wa: tensor<16384x8192xbf16>,
                      %b: tensor<1024x2048xbf16>, %wb: tensor<1024x2048xbf16>,
                      %c: tensor<512x128xbf16>, %wc: tensor<512x128xbf16>,
                      %d: tensor<65536x16xbf16>, %wd: tensor<8192x16xbf16>)
      -> (tensor<4096x16384xbf16>, tensor<1024x1024xbf16>, tensor<512x512xbf16>, tensor<65536x8192xbf16>) {
    %0 = train.linear %a, %wa {name = "big"} : (tensor<4096x8192xbf16>, tensor<16384x8192xbf16>) -> tensor<4096x16384xbf16>
    %1 = train.linear %b, %wb {name = "medium"} : (tensor<1024x2048xbf16>, tensor<1024x2048xbf16>) -> tensor<1024x1024xbf16>
    %2 = train.linear %c, %wc {name = "small"} : (tensor<512x128xbf16>, tensor<512x128xbf16>) -> tensor<512x512xbf16>
    %3 = train.linear %d, %wd {name = "thin"} : (tensor<65536x16xbf16>, tensor<8192x16xbf16>) -> tensor<65536x8192xbf16>
    return %0, %1, %2, %3 : tensor<4096x16384xbf16>, tensor<1024x1024xbf16>, tensor<512x512xbf16>, tensor<65536x8192xbf16>
  }
}

// -----

// The threshold moves the same GEMM to bf16.

// CHECK-LABEL: func.func @threshold(
// CHECK: fp8.gemm = {decision = "bf16", {{.*}}name = "big", reason = "cast overhead exceeds the GEMM saving: predicted 1.27x < threshold 1.30
module attributes {train.config = {fp8 = {enabled = true, threshold = 1.3}}} {
  func.func @threshold(%a: tensor<4096x8192xbf16>, %wa: tensor<16384x8192xbf16>) -> tensor<4096x16384xbf16> {
    %0 = train.linear %a, %wa {name = "big"} : (tensor<4096x8192xbf16>, tensor<16384x8192xbf16>) -> tensor<4096x16384xbf16>
    return %0 : tensor<4096x16384xbf16>
  }
}

// -----

// Fusions change the answer: the same 1024x2048x1024 GEMM with delayed scaling,
// its input produced by a gelu and its weight by a conversion, has both casts
// fused into those producers (only the fp8 copies are written): fp8.

// CHECK-LABEL: func.func @fused_casts(
// CHECK: %[[G:.*]] = train.gelu
// CHECK: %[[W:.*]] = train.convert
// CHECK: train.linear %[[G]], %[[W]] {fp8.gemm = {decision = "fp8", {{.*}}name = "medium", reason = "predicted 1.18x >= threshold 1.00 (bf16 5.8 us vs fp8 3.3 us + casts 1.6 us
module attributes {train.config = {fp8 = {enabled = true, recipe = "delayed"}}} {
  func.func @fused_casts(%b0: tensor<1024x2048xbf16>, %w32: tensor<1024x2048xf32>) -> tensor<1024x1024xbf16> {
    %b = train.gelu %b0 : tensor<1024x2048xbf16>
    %wb = train.convert %w32 : tensor<1024x2048xf32> -> tensor<1024x2048xbf16>
    %1 = train.linear %b, %wb {name = "medium"} : (tensor<1024x2048xbf16>, tensor<1024x2048xbf16>) -> tensor<1024x1024xbf16>
    return %1 : tensor<1024x1024xbf16>
  }
}

// -----

// Shared casts. In train_step the weight's cast_transpose feeds forward and
// dgrad, the gelu output's feeds forward and wgrad (through a reshape), the
// output gradient's dgrad and wgrad: each GEMM pays half of each (6.3 us of
// casts for the forward). eval_step repeats the forward GEMM and takes
// train_step's decision as is; `solo`, decided alone, pays its casts in full
// (9.4 us).

// CHECK-LABEL: func.func @train_step(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}kind = "forward", {{.*}}name = "proj", reason = "predicted 1.40x >= threshold 1.00 (bf16 46.3 us vs fp8 26.7 us + casts 6.3 us; bf16 GEMM compute-bound)"
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "fp8", {{.*}}kind = "dgrad", {{.*}}name = "proj", reason = "predicted 1.09x >= threshold 1.00 (bf16 46.3 us vs fp8 26.7 us + casts 15.7 us
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "fp8", {{.*}}kind = "wgrad", {{.*}}name = "proj", reason = "predicted 1.09x >= threshold 1.00 (bf16 46.3 us vs fp8 26.7 us + casts 15.7 us
// CHECK-LABEL: func.func @eval_step(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}kind = "forward", {{.*}}name = "proj", reason = "predicted 1.40x >= threshold 1.00 (bf16 46.3 us vs fp8 26.7 us + casts 6.3 us
// CHECK-LABEL: func.func @solo(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "fp8", {{.*}}name = "solo", reason = "predicted 1.28x >= threshold 1.00 (bf16 46.3 us vs fp8 26.7 us + casts 9.4 us
module attributes {train.config = {fp8 = {enabled = true}}} {
  func.func @train_step(%x0: tensor<4x1024x1024xbf16>, %w32: tensor<4096x1024xf32>, %dy0: tensor<4096x4096xbf16>)
      -> (tensor<4x1024x4096xbf16>, tensor<4096x1024xbf16>, tensor<4096x1024xbf16>) {
    %x = train.gelu %x0 : tensor<4x1024x1024xbf16>
    %w = train.convert %w32 : tensor<4096x1024xf32> -> tensor<4096x1024xbf16>
    %y = train.linear %x, %w {name = "proj"} : (tensor<4x1024x1024xbf16>, tensor<4096x1024xbf16>) -> tensor<4x1024x4096xbf16>
    %dy = train.gelu %dy0 : tensor<4096x4096xbf16>
    %dx = train.matmul %dy, %w {name = "proj.dgrad"} : (tensor<4096x4096xbf16>, tensor<4096x1024xbf16>) -> tensor<4096x1024xbf16>
    %x2 = train.reshape %x : tensor<4x1024x1024xbf16> -> tensor<4096x1024xbf16>
    %dw = train.matmul %dy, %x2 {name = "proj.wgrad", transpose_lhs} : (tensor<4096x4096xbf16>, tensor<4096x1024xbf16>) -> tensor<4096x1024xbf16>
    return %y, %dx, %dw : tensor<4x1024x4096xbf16>, tensor<4096x1024xbf16>, tensor<4096x1024xbf16>
  }
  func.func @eval_step(%x0: tensor<4x1024x1024xbf16>, %w32: tensor<4096x1024xf32>) -> tensor<4x1024x4096xbf16> {
    %x = train.gelu %x0 : tensor<4x1024x1024xbf16>
    %w = train.convert %w32 : tensor<4096x1024xf32> -> tensor<4096x1024xbf16>
    %y = train.linear %x, %w {name = "proj"} : (tensor<4x1024x1024xbf16>, tensor<4096x1024xbf16>) -> tensor<4x1024x4096xbf16>
    return %y : tensor<4x1024x4096xbf16>
  }
  func.func @solo(%x0: tensor<4x1024x1024xbf16>, %w32: tensor<4096x1024xf32>) -> tensor<4x1024x4096xbf16> {
    %x = train.gelu %x0 : tensor<4x1024x1024xbf16>
    %w = train.convert %w32 : tensor<4096x1024xf32> -> tensor<4096x1024xbf16>
    %y = train.linear %x, %w {name = "solo"} : (tensor<4x1024x1024xbf16>, tensor<4096x1024xbf16>) -> tensor<4x1024x4096xbf16>
    return %y : tensor<4x1024x4096xbf16>
  }
}

// -----

// Sharing only counts between fp8 GEMMs, so the decisions are a fixpoint. At
// threshold 1.35 the forward GEMM first passes with its shared casts (1.40x),
// but dgrad and wgrad (1.09x) do not; without them the forward pays its casts
// alone (1.28x) and is dropped in the next round.

// CHECK-LABEL: func.func @fixpoint(
// CHECK: train.linear {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "forward", {{.*}}reason = "cast overhead exceeds the GEMM saving: predicted 1.28x < threshold 1.35 (bf16 46.3 us vs fp8 26.7 us + casts 9.4 us)"
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "dgrad", {{.*}}reason = "cast overhead exceeds the GEMM saving: predicted 1.09x < threshold 1.35
// CHECK: train.matmul {{.*}}fp8.gemm = {decision = "bf16", {{.*}}kind = "wgrad", {{.*}}reason = "cast overhead exceeds the GEMM saving: predicted 1.09x < threshold 1.35
module attributes {train.config = {fp8 = {enabled = true, threshold = 1.35}}} {
  func.func @fixpoint(%x0: tensor<4096x1024xbf16>, %w32: tensor<4096x1024xf32>, %dy0: tensor<4096x4096xbf16>)
      -> (tensor<4096x4096xbf16>, tensor<4096x1024xbf16>, tensor<4096x1024xbf16>) {
    %x = train.gelu %x0 : tensor<4096x1024xbf16>
    %w = train.convert %w32 : tensor<4096x1024xf32> -> tensor<4096x1024xbf16>
    %y = train.linear %x, %w {name = "proj"} : (tensor<4096x1024xbf16>, tensor<4096x1024xbf16>) -> tensor<4096x4096xbf16>
    %dy = train.gelu %dy0 : tensor<4096x4096xbf16>
    %dx = train.matmul %dy, %w {name = "proj.dgrad"} : (tensor<4096x4096xbf16>, tensor<4096x1024xbf16>) -> tensor<4096x1024xbf16>
    %dw = train.matmul %dy, %x {name = "proj.wgrad", transpose_lhs} : (tensor<4096x4096xbf16>, tensor<4096x1024xbf16>) -> tensor<4096x1024xbf16>
    return %y, %dx, %dw : tensor<4096x4096xbf16>, tensor<4096x1024xbf16>, tensor<4096x1024xbf16>
  }
}
