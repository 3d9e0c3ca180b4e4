// RUN: fp8-opt %s --fp8-select-gemms -split-input-file -verify-diagnostics
// RUN: not fp8-opt %s --fp8-select-gemms="calibration=%S/does-not-exist.yaml" -split-input-file 2>&1 | FileCheck %s --check-prefix=CALIB

// Bad `train.config.fp8` settings: errors and warnings on the module, naming
// the key; a GEMM the user's override cannot put in fp8: a warning on the GEMM.

// expected-error@+1 {{train.config.fp8.device: unknown device 'a100'; valid devices: h100-sxm, h100-pcie, h200, l40s, b200}}
module attributes {train.config = {fp8 = {enabled = true, device = "a100"}}} {
  func.func @unknown_device(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %c = train.matmul %a, %b : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %c : tensor<64x64xbf16>
  }
}

// -----

// expected-error@+1 {{train.config.fp8.recipe: blockwise is not supported on fp8.device l40s (sm_89): blockwise FP8 GEMMs need sm_90 and cuBLASLt 12.9+; l40s is sm_89}}
module attributes {train.config = {fp8 = {enabled = true, recipe = "blockwise", device = "l40s"}}} {
  func.func @blockwise_on_l40s(%a: tensor<128x128xbf16>, %b: tensor<128x128xbf16>) -> tensor<128x128xbf16> {
    %c = train.matmul %a, %b : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
    return %c : tensor<128x128xbf16>
  }
}

// -----

// Malformed settings are reported by the settings reader, with the key.
// expected-error@+1 {{train.config.fp8.recipe: expected one of tensorwise, delayed, rowwise, blockwise, got 'bogus'}}
module attributes {train.config = {fp8 = {enabled = true, recipe = "bogus"}}} {
  func.func @bad_recipe(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %c = train.matmul %a, %b : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %c : tensor<64x64xbf16>
  }
}

// -----

// A filter or an override that matches no GEMM name is probably a typo: warnings.
// expected-warning@+2 {{train.config.fp8.filter_fqns: 'lm_haed' matches no GEMM (a substring of a layer name such as 'lm_head')}}
// expected-warning@+1 {{train.config.fp8.overrides[1].match: 'mlp.c_fcc' matches no GEMM (a substring of a layer name such as 'lm_head')}}
module attributes {train.config = {fp8 = {enabled = true, filter_fqns = ["lm_head", "lm_haed"],
    overrides = [{match = "head", forward = "bf16"}, {match = "mlp.c_fcc", forward = "fp8"}]}}} {
  func.func @unmatched(%a: tensor<64x64xbf16>, %b: tensor<64x64xbf16>) -> tensor<64x64xbf16> {
    %c = train.linear %a, %b {name = "lm_head"} : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
    return %c : tensor<64x64xbf16>
  }
}

// -----

// An override asking fp8 for a GEMM that cannot run in fp8 is not applied.
module attributes {train.config = {fp8 = {enabled = true, overrides = [{match = "odd", forward = "fp8"}]}}} {
  func.func @override_breaks_hard_rule(%x: tensor<512x100xbf16>, %w: tensor<256x100xbf16>) -> tensor<512x256xbf16> {
    // expected-warning@+1 {{train.config.fp8.overrides: override 'odd' (overrides[0]): forward fp8 cannot apply to 'odd': dims not multiples of 16 (K=100); kept bf16}}
    %0 = train.linear %x, %w {name = "odd"} : (tensor<512x100xbf16>, tensor<256x100xbf16>) -> tensor<512x256xbf16>
    return %0 : tensor<512x256xbf16>
  }
}

// CALIB: error: fp8-select-gemms: calibration: {{.*}}does-not-exist.yaml
