// Two blocks of a step function after autodiff, cut down: blk.N.fc → gelu → blk.N.proj
// with a residual add, then backward (blk.1, then blk.0). Backward reads: %a0 and %a1
// (fc outputs, for gelu_grad: GEMM results), %g0 and %g1 (gelu outputs, for the proj
// wgrads: cheap to recompute from %a0 / %a1) and %r0 (blk.0's output, blk.1's input).
// Only the first GEMM of backward carries its fp8.gemm kind: that is where backward starts.
func.func @train_step(%x: tensor<128x128xbf16>, %w0: tensor<128x128xbf16>,
                      %v0: tensor<128x128xbf16>, %w1: tensor<128x128xbf16>,
                      %v1: tensor<128x128xbf16>, %dy: tensor<128x128xbf16>)
    -> (tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>) {
  %a0 = train.linear %x, %w0 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16> loc("blk.0.fc")
  %g0 = train.gelu %a0 approximate none : tensor<128x128xbf16> loc("blk.0.gelu")
  %p0 = train.linear %g0, %v0 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16> loc("blk.0.proj")
  %r0 = train.add %x, %p0 : tensor<128x128xbf16> loc("blk.0")
  %a1 = train.linear %r0, %w1 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16> loc("blk.1.fc")
  %g1 = train.gelu %a1 approximate none : tensor<128x128xbf16> loc("blk.1.gelu")
  %p1 = train.linear %g1, %v1 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16> loc("blk.1.proj")
  %r1 = train.add %r0, %p1 : tensor<128x128xbf16> loc("blk.1")
  // backward of blk.1: starts at the first dgrad/wgrad GEMM or *_grad op
  %dv1 = train.matmul %dy, %g1 {fp8.gemm = {kind = "wgrad"}, transpose_lhs} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %dg1 = train.matmul %dy, %v1 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %da1 = train.gelu_grad %dg1, %a1 approximate none : tensor<128x128xbf16>
  %dw1 = train.matmul %da1, %r0 {transpose_lhs} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %dx1 = train.matmul %da1, %w1 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %dr0 = train.add %dy, %dx1 : tensor<128x128xbf16>
  // backward of blk.0
  %dv0 = train.matmul %dr0, %g0 {transpose_lhs} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %dg0 = train.matmul %dr0, %v0 : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  %da0 = train.gelu_grad %dg0, %a0 approximate none : tensor<128x128xbf16>
  %dw0 = train.matmul %da0, %x {transpose_lhs} : (tensor<128x128xbf16>, tensor<128x128xbf16>) -> tensor<128x128xbf16>
  return %dv1, %dw1, %dv0, %dw0 : tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>, tensor<128x128xbf16>
}
