// RUN: fp8-opt %s --fp8-chunk-loss -split-input-file -verify-diagnostics

// A chunk size must divide the micro-batch's tokens (here 2 x 4 = 8); the message lists
// the ones that do. (fp8c's YAML front end reports it first, at the key's line:
// test/fp8c/errors.test.)
module attributes {train.config = {loss_chunk_tokens = 3 : i64}} {
  // expected-error @below {{train.loss_chunk_tokens (--loss-chunk-tokens) = 3 must divide the 8 tokens of a micro-batch (batch_size x seq_len): one of 1, 2, 4, 8, or 0 (off) or auto}}
  func.func @train_step(%logits: tensor<2x4x16xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> tensor<2x4x16xbf16> {
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    return %dl : tensor<2x4x16xbf16>
  }
}
