// RUN: fp8-opt %s --fp8-insert-casts -split-input-file -verify-diagnostics

// fp8.scaled_matmul has no addend: a GEMM that accumulates into acc (fp8-chunk-loss
// builds them for bf16 GEMMs only, after this pass) is refused with an FP8 decision
// rather than cast with its acc dropped.
module attributes {train.config = {fp8 = {enabled = true, recipe = "tensorwise", format = "hybrid"}}} {
  func.func @acc_fp8(%dy: tensor<16x32xbf16>, %x: tensor<16x32xbf16>, %c: tensor<32x32xf32>) -> tensor<32x32xf32> {
    // expected-error @+1 {{an FP8 'fp8.gemm' decision on a train.matmul with acc: FP8 GEMMs do not accumulate into an operand; decide it "bf16"}}
    %dw = train.matmul %dy, %x acc(%c) {fp8.gemm = {decision = "fp8", kind = "wgrad", name = "head"}, transpose_lhs} : (tensor<16x32xbf16>, tensor<16x32xbf16>, tensor<32x32xf32>) -> tensor<32x32xf32>
    return %dw : tensor<32x32xf32>
  }
}
