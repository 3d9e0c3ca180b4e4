// RUN: fp8-opt %s --fp8-chunk-loss -split-input-file | FileCheck %s

// What fp8-autodiff and the fp8 stage leave for a bf16 lm_head: h [2, 4, 8] (8 tokens
// of width 8), W [16, 8] (vocabulary 16), targets [2, 4]. loss_chunk_tokens = 4: two
// chunks, each sliced from h and the targets, its own logits, loss, gradient (with
// dloss / 2), dgrad and f32 wgrad, next to each other; dh joined by slice_grad + add,
// dW summed in f32 by each chunk's wgrad GEMM accumulating into the previous chunk's
// (acc), rounded once; the GEMMs keep their decisions with M (K) = 4.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<2x4x8xbf16>, %[[W:[a-z0-9_]+]]: tensor<16x8xbf16>, %[[T:[a-z0-9_]+]]: tensor<2x4xi32>, %[[DLOSS:[a-z0-9_]+]]: tensor<f32>)
// CHECK-SAME:    attributes {loss_chunking = {chunk_logits_bytes = 128 : i64, chunk_tokens = 4 : i64, chunks = 2 : i64, logits_bytes = 256 : i64, tokens = 8 : i64}}
// CHECK:         %[[HF:.*]] = train.reshape %[[H]] : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK:         %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK:         %[[DL:.*]] = train.mul_scalar %[[DLOSS]], %[[HALF]]
// Chunk 0: tokens 0-3 (row 0 of the targets).
// CHECK:         %[[H0:.*]] = train.slice %[[HF]] dim 0 offset 0 size 4 : tensor<8x8xbf16> -> tensor<4x8xbf16>
// CHECK:         %[[TR0:.*]] = train.slice %[[T]] dim 0 offset 0 size 1 : tensor<2x4xi32> -> tensor<1x4xi32>
// CHECK:         %[[T0:.*]] = train.reshape %[[TR0]] : tensor<1x4xi32> -> tensor<4xi32>
// CHECK:         %[[L0:.*]] = train.linear %[[H0]], %[[W]] {fp8.gemm = {decision = "bf16", k = 8 : i64, kind = "forward", m = 4 : i64, n = 16 : i64, name = "lm_head"}, name = "lm_head"} : (tensor<4x8xbf16>, tensor<16x8xbf16>) -> tensor<4x16xbf16>
// CHECK:         %[[LOSS0:.*]] = train.softmax_cross_entropy %[[L0]], %[[T0]]
// CHECK:         %[[DL0:.*]] = train.softmax_cross_entropy_grad %[[L0]], %[[T0]], %[[DL]]
// CHECK:         %[[DH0:.*]] = train.matmul %[[DL0]], %[[W]] {fp8.gemm = {decision = "bf16", k = 16 : i64, kind = "dgrad", m = 4 : i64, n = 8 : i64, name = "lm_head"}, name = "lm_head.dgrad"} : (tensor<4x16xbf16>, tensor<16x8xbf16>) -> tensor<4x8xbf16>
// CHECK:         %[[DW0:.*]] = train.matmul %[[DL0]], %[[H0]] {fp8.gemm = {decision = "bf16", k = 4 : i64, kind = "wgrad", m = 16 : i64, n = 8 : i64, name = "lm_head"}, name = "lm_head.wgrad", transpose_lhs} : (tensor<4x16xbf16>, tensor<4x8xbf16>) -> tensor<16x8xf32>
// CHECK:         %[[P0:.*]] = train.slice_grad %[[DH0]] dim 0 offset 0 : tensor<4x8xbf16> -> tensor<8x8xbf16>
// Chunk 1: tokens 4-7.
// CHECK:         %[[H1:.*]] = train.slice %[[HF]] dim 0 offset 4 size 4
// CHECK:         %[[TR1:.*]] = train.slice %[[T]] dim 0 offset 1 size 1
// CHECK:         %[[T1:.*]] = train.reshape %[[TR1]]
// CHECK:         %[[L1:.*]] = train.linear %[[H1]], %[[W]]
// CHECK:         %[[LOSS1:.*]] = train.softmax_cross_entropy %[[L1]], %[[T1]]
// CHECK:         %[[DL1:.*]] = train.softmax_cross_entropy_grad %[[L1]], %[[T1]], %[[DL]]
// CHECK:         %[[DH1:.*]] = train.matmul %[[DL1]], %[[W]]
// CHECK:         %[[DW:.*]] = train.matmul %[[DL1]], %[[H1]] acc(%[[DW0]]) {fp8.gemm = {decision = "bf16", k = 4 : i64, kind = "wgrad", m = 16 : i64, n = 8 : i64, name = "lm_head"}, name = "lm_head.wgrad", transpose_lhs} : (tensor<4x16xbf16>, tensor<4x8xbf16>, tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK:         %[[P1:.*]] = train.slice_grad %[[DH1]] dim 0 offset 4
// CHECK:         %[[LOSSES:.*]] = train.add %[[LOSS0]], %[[LOSS1]] : tensor<f32>
// CHECK:         %[[DH:.*]] = train.add %[[P0]], %[[P1]] : tensor<8x8xbf16>
// CHECK:         %[[LOSS:.*]] = train.mul_scalar %[[LOSSES]], %[[HALF]]
// CHECK:         %[[DWB:.*]] = train.convert %[[DW]] : tensor<16x8xf32> -> tensor<16x8xbf16>
// CHECK:         %[[DH3:.*]] = train.reshape %[[DH]] : tensor<8x8xbf16> -> tensor<2x4x8xbf16>
// CHECK-NOT:     train.softmax_cross_entropy
// CHECK:         return %[[LOSS]], %[[DH3]], %[[DWB]]
// The key is consumed: the module's config no longer holds it.
// CHECK-NOT:     loss_chunk_tokens
module attributes {train.config = {loss_chunk_tokens = 4 : i64}} {
  func.func @train_step(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> (tensor<f32>, tensor<2x4x8xbf16>, tensor<16x8xbf16>) {
    %logits = train.linear %h, %w {fp8.gemm = {decision = "bf16", k = 8 : i64, kind = "forward", m = 8 : i64, n = 16 : i64, name = "lm_head"}, name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {fp8.gemm = {decision = "bf16", k = 16 : i64, kind = "dgrad", m = 8 : i64, n = 8 : i64, name = "lm_head"}, name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dh3 = train.reshape %dh : tensor<8x8xbf16> -> tensor<2x4x8xbf16>
    %dw = train.matmul %dl2, %h2 {fp8.gemm = {decision = "bf16", k = 8 : i64, kind = "wgrad", m = 16 : i64, n = 8 : i64, name = "lm_head"}, name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    return %loss, %dh3, %dw : tensor<f32>, tensor<2x4x8xbf16>, tensor<16x8xbf16>
  }
}

// -----

// One chunk of all 8 tokens: the function is left as it was, with no decision to report.
// CHECK-LABEL: func.func @one_chunk(
// CHECK-NOT:     loss_chunking
// CHECK:         train.linear %{{.*}}, %{{.*}} {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
// CHECK-NEXT:    train.softmax_cross_entropy
// CHECK-NEXT:    train.softmax_cross_entropy_grad
module attributes {train.config = {loss_chunk_tokens = 8 : i64}} {
  func.func @one_chunk(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> (tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>) {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dw = train.matmul %dl2, %h2 {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    return %loss, %dh, %dw : tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>
  }
}

// -----

// An ignore_index makes the mean's divisor the count of kept targets over all chunks:
// not chunked, and the function says why.
// CHECK-LABEL: func.func @ignore_index(
// CHECK-SAME:    attributes {loss_chunking = {reason = "ignore_index: the mean's divisor counts the targets of every chunk"}}
// CHECK:         train.softmax_cross_entropy_grad %{{.*}} {ignore_index = -1 : i64} : (tensor<2x4x16xbf16>
module attributes {train.config = {loss_chunk_tokens = 4 : i64}} {
  func.func @ignore_index(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> (tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>) {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t {ignore_index = -1 : i64} : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss {ignore_index = -1 : i64} : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dw = train.matmul %dl2, %h2 {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    return %loss, %dh, %dw : tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>
  }
}

// -----

// Logits that no train.linear computes (here an argument; in fp8c, an FP8 lm_head's
// scaled_matmul, see test/fp8c/memory-report-chunk-loss.test): not chunked.
// CHECK-LABEL: func.func @not_linear(
// CHECK-SAME:    attributes {loss_chunking = {reason = "the logits are not the result of a train.linear"}}
module attributes {train.config = {loss_chunk_tokens = 4 : i64}} {
  func.func @not_linear(%logits: tensor<2x4x16xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> (tensor<f32>, tensor<2x4x16xbf16>) {
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    return %loss, %dl : tensor<f32>, tensor<2x4x16xbf16>
  }
}

// -----

// auto (no key) leaves a small loss whole and says nothing: 8 tokens x 16 x 2 bytes.
// CHECK-LABEL: func.func @auto_small(
// CHECK-NOT:     loss_chunking
// CHECK:         train.softmax_cross_entropy_grad
module {
  func.func @auto_small(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>)
      -> (tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>) {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dw = train.matmul %dl2, %h2 {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    return %loss, %dh, %dw : tensor<f32>, tensor<8x8xbf16>, tensor<16x8xbf16>
  }
}

// -----

// A loss without a gradient (eval_step): two chunks of 4 tokens, each with its own
// logits and mean loss, the means weighted by 1/2 and summed; the whole logits are gone.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:    %[[H:[a-z0-9_]+]]: tensor<2x4x8xbf16>, %[[W:[a-z0-9_]+]]: tensor<16x8xbf16>, %[[T:[a-z0-9_]+]]: tensor<2x4xi32>)
// CHECK-SAME:    attributes {loss_chunking = {chunk_logits_bytes = 128 : i64, chunk_tokens = 4 : i64, chunks = 2 : i64, logits_bytes = 256 : i64, tokens = 8 : i64}}
// CHECK:         %[[HF:.*]] = train.reshape %[[H]] : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK:         %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK:         %[[H0:.*]] = train.slice %[[HF]] dim 0 offset 0 size 4
// CHECK:         %[[L0:.*]] = train.linear %[[H0]], %[[W]] {{.*}} -> tensor<4x16xbf16>
// CHECK:         %[[LOSS0:.*]] = train.softmax_cross_entropy %[[L0]]
// CHECK:         %[[H1:.*]] = train.slice %[[HF]] dim 0 offset 4 size 4
// CHECK:         %[[L1:.*]] = train.linear %[[H1]], %[[W]] {{.*}} -> tensor<4x16xbf16>
// CHECK:         %[[LOSS1:.*]] = train.softmax_cross_entropy %[[L1]]
// CHECK:         %[[SUM:.*]] = train.add %[[LOSS0]], %[[LOSS1]]
// CHECK:         %[[LOSS:.*]] = train.mul_scalar %[[SUM]], %[[HALF]]
// CHECK-NOT:     tensor<2x4x16xbf16>
// CHECK:         return %[[LOSS]]
module attributes {train.config = {loss_chunk_tokens = 4 : i64}} {
  func.func @eval_step(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>) -> tensor<f32> {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Under a memory budget, where fp8-autodiff adds the head's gradient to its accumulator
// (grad_accum_steps > 1), the chunks' wgrad GEMMs accumulate straight into it: the first
// chunk's acc is the accumulator argument, the add and its convert are gone, and the
// function returns the chain's last value (no bf16 rounding of the head's gradient).
// CHECK-LABEL: func.func @accumulate_step(
// CHECK-SAME:    %[[ACC:[a-z0-9_]+]]: tensor<16x8xf32> {train.name = "grad_accum.lm_head.weight"}
// CHECK-SAME:    wgrad_into_accumulator
// CHECK:         %[[DW0:.*]] = train.matmul %{{.*}}, %{{.*}} acc(%[[ACC]]) {{.*}}name = "lm_head.wgrad", transpose_lhs} : (tensor<4x16xbf16>, tensor<4x8xbf16>, tensor<16x8xf32>) -> tensor<16x8xf32>
// CHECK:         %[[DW1:.*]] = train.matmul %{{.*}}, %{{.*}} acc(%[[DW0]]) {{.*}}name = "lm_head.wgrad", transpose_lhs}
// CHECK-NOT:     train.convert
// CHECK:         return %{{.*}}, %[[DW1]]
module attributes {train.config = {loss_chunk_tokens = 4 : i64, memory_budget = 1073741824 : i64}} {
  func.func @accumulate_step(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>,
                             %acc: tensor<16x8xf32> {train.name = "grad_accum.lm_head.weight"})
      -> (tensor<8x8xbf16>, tensor<16x8xf32>) {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dw = train.matmul %dl2, %h2 {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    %dw32 = train.convert %dw : tensor<16x8xbf16> -> tensor<16x8xf32>
    %sum = train.add %acc, %dw32 : tensor<16x8xf32>
    return %dh, %sum : tensor<8x8xbf16>, tensor<16x8xf32>
  }
}

// -----

// Without a budget the same function keeps the bf16 rounding of the whole loss: the
// chunks sum into an f32 buffer of their own, rounded to bf16, then added.
// CHECK-LABEL: func.func @accumulate_no_budget(
// CHECK-NOT:     wgrad_into_accumulator
// CHECK:         %[[DW0:.*]] = train.matmul %{{.*}}, %{{.*}} {{.*}}name = "lm_head.wgrad", transpose_lhs} : (tensor<4x16xbf16>, tensor<4x8xbf16>) -> tensor<16x8xf32>
// CHECK:         %[[DW1:.*]] = train.matmul %{{.*}}, %{{.*}} acc(%[[DW0]])
// CHECK:         %[[R:.*]] = train.convert %[[DW1]] : tensor<16x8xf32> -> tensor<16x8xbf16>
// CHECK:         %[[F:.*]] = train.convert %[[R]] : tensor<16x8xbf16> -> tensor<16x8xf32>
// CHECK:         %[[SUM:.*]] = train.add %{{.*}}, %[[F]]
// CHECK:         return %{{.*}}, %[[SUM]]
module attributes {train.config = {loss_chunk_tokens = 4 : i64}} {
  func.func @accumulate_no_budget(%h: tensor<2x4x8xbf16>, %w: tensor<16x8xbf16>, %t: tensor<2x4xi32>, %dloss: tensor<f32>,
                                  %acc: tensor<16x8xf32> {train.name = "grad_accum.lm_head.weight"})
      -> (tensor<8x8xbf16>, tensor<16x8xf32>) {
    %logits = train.linear %h, %w {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %logits, %t : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    %dl = train.softmax_cross_entropy_grad %logits, %t, %dloss : (tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xbf16>
    %h2 = train.reshape %h : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
    %dl2 = train.reshape %dl : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %dh = train.matmul %dl2, %w {name = "lm_head.dgrad"} : (tensor<8x16xbf16>, tensor<16x8xbf16>) -> tensor<8x8xbf16>
    %dw = train.matmul %dl2, %h2 {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x16xbf16>, tensor<8x8xbf16>) -> tensor<16x8xbf16>
    %dw32 = train.convert %dw : tensor<16x8xbf16> -> tensor<16x8xf32>
    %sum = train.add %acc, %dw32 : tensor<16x8xf32>
    return %dh, %sum : tensor<8x8xbf16>, tensor<16x8xf32>
  }
}
