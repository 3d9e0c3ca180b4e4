// RUN: fp8-opt %s --fp8-fuse-kernels -split-input-file -verify-diagnostics

// A cast marked fused_into_producer must run in its producer's kernel. Here it
// cannot: the GEMM reads the GELU's output before the cast, and the cast's scale
// is computed after the GELU. fp8-fuse-scaling never marks such a cast (the
// scale is not known before the producer runs); the pass says so rather than
// silently running the cast as a kernel the cost model did not charge.
func.func @marked_cast_cannot_join(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>,
                                   %h: tensor<16xf32>)
    -> (tensor<64x64xbf16>, tensor<64x64xf8E4M3FN>) {
  // expected-note@+1 {{producer}}
  %y = train.gelu %x approximate none : tensor<64x64xbf16>
  %z = train.matmul %y, %w : (tensor<64x64xbf16>, tensor<64x64xbf16>) -> tensor<64x64xbf16>
  %a = fp8.amax_from_history %h algo max : tensor<16xf32> -> tensor<f32>
  %s = fp8.compute_scale %a for f8E4M3FN : tensor<f32>
  // expected-error@+1 {{marked fused_into_producer, but cannot be fused into the kernel that produces its input}}
  %q = fp8.quantize %y, %s recipe delayed {fused_into_producer}
      : tensor<64x64xbf16>, tensor<f32> -> tensor<64x64xf8E4M3FN>
  return %z, %q : tensor<64x64xbf16>, tensor<64x64xf8E4M3FN>
}
