// RUN: fp8-opt %s -split-input-file --fp8-autodiff | FileCheck %s

// fp8-autodiff's @logits_step (LogitsStep.cpp, docs/autodiff.md "logits_step"):
// eval_step without the loss, taking one more input, `rows` (i32 [batch]: the
// flat row b x seq_len + t of each sequence b), and returning the logits of
// those rows only, [batch, vocab]: the head (the train.linear that computes the
// loss's logits, seen through reshapes) runs, under its own name, on the rows
// that train.embedding gathers from its input flattened to [batch x seq_len, d].

// The head's input already flat, its [8, 16] result reshaped to [2, 4, 16] for
// the loss: the gather reads the flat input as it is, and the reshape goes.
// CHECK-LABEL: module @flat_head
// CHECK-LABEL: func.func @logits_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "embed.weight"},
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "head.weight"},
// CHECK-SAME:    %[[TOK:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "tokens"},
// CHECK-SAME:    %[[ROWS:[a-z0-9_]+]]: tensor<2xi32> {train.name = "rows"})
// CHECK-SAME:    -> (tensor<2x16xf32> {train.name = "logits"})
// CHECK-NEXT:    %[[X:.*]] = train.embedding %[[WTE]][%[[TOK]]] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
// CHECK-NEXT:    %[[FLAT:.*]] = train.reshape %[[X]] : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[H:.*]] = train.gelu %[[FLAT]]
// CHECK-NEXT:    %[[HR:.*]] = train.embedding %[[H]][%[[ROWS]]] : tensor<8x8xf32>, tensor<2xi32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[Y:.*]] = train.linear %[[HR]], %[[W]] {name = "head"} : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
// CHECK-NEXT:    return %[[Y]] : tensor<2x16xf32>
// CHECK-NEXT:  }
module @flat_head {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "embed.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %w = train.param "head.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %x = train.embedding %wte[%tokens] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
    %x2 = train.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
    %h = train.gelu %x2 : tensor<8x8xf32>
    %y = train.linear %h, %w {name = "head"} : (tensor<8x8xf32>, tensor<16x8xf32>) -> tensor<8x16xf32>
    %l3 = train.reshape %y : tensor<8x16xf32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %l3, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A tied head ([2, 4, 8] hidden states, the embedding table as its weight, bf16
// as the YAML models): the hidden states are flattened for the gather; the head
// keeps its weight, its name and its dtype.
// CHECK-LABEL: module @tied_head
// CHECK-LABEL: func.func @logits_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "wte"},
// CHECK-SAME:    %[[TOK:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "tokens"},
// CHECK-SAME:    %[[ROWS:[a-z0-9_]+]]: tensor<2xi32> {train.name = "rows"})
// CHECK-SAME:    -> (tensor<2x16xbf16> {train.name = "logits"})
// CHECK-NEXT:    %[[WB:.*]] = train.convert %[[WTE]] : tensor<16x8xf32> -> tensor<16x8xbf16>
// CHECK-NEXT:    %[[X:.*]] = train.embedding %[[WB]][%[[TOK]]] : tensor<16x8xbf16>, tensor<2x4xi32> -> tensor<2x4x8xbf16>
// CHECK-NEXT:    %[[N:.*]] = train.gelu %[[X]]
// CHECK-NEXT:    %[[FLAT:.*]] = train.reshape %[[N]] : tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK-NEXT:    %[[NR:.*]] = train.embedding %[[FLAT]][%[[ROWS]]] : tensor<8x8xbf16>, tensor<2xi32> -> tensor<2x8xbf16>
// CHECK-NEXT:    %[[Y:.*]] = train.linear %[[NR]], %[[WB]] {name = "lm_head"} : (tensor<2x8xbf16>, tensor<16x8xbf16>) -> tensor<2x16xbf16>
// CHECK-NEXT:    return %[[Y]] : tensor<2x16xbf16>
// CHECK-NEXT:  }
module @tied_head {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x8xf32>
    %wb = train.convert %wte : tensor<16x8xf32> -> tensor<16x8xbf16>
    %x = train.embedding %wb[%tokens] : tensor<16x8xbf16>, tensor<2x4xi32> -> tensor<2x4x8xbf16>
    %n = train.gelu %x : tensor<2x4x8xbf16>
    %y = train.linear %n, %wb {name = "lm_head"} : (tensor<2x4x8xbf16>, tensor<16x8xbf16>) -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A head that is not a train.linear (the logits are a sum after it): the rows
// are gathered from the whole logits, which the forward still computes.
// CHECK-LABEL: module @other_head
// CHECK-LABEL: func.func @logits_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "head.weight"},
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x4x8xf32> {train.name = "x"},
// CHECK-SAME:    %[[ROWS:[a-z0-9_]+]]: tensor<2xi32> {train.name = "rows"})
// CHECK-SAME:    -> (tensor<2x16xf32> {train.name = "logits"})
// CHECK-NEXT:    %[[Y:.*]] = train.linear %[[X]], %[[W]] {name = "head"} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT:    %[[S:.*]] = train.add %[[Y]], %[[Y]] : tensor<2x4x16xf32>
// CHECK-NEXT:    %[[FLAT:.*]] = train.reshape %[[S]] : tensor<2x4x16xf32> -> tensor<8x16xf32>
// CHECK-NEXT:    %[[SR:.*]] = train.embedding %[[FLAT]][%[[ROWS]]] : tensor<8x16xf32>, tensor<2xi32> -> tensor<2x16xf32>
// CHECK-NEXT:    return %[[SR]] : tensor<2x16xf32>
// CHECK-NEXT:  }
module @other_head {
  func.func @forward(%x: tensor<2x4x8xf32> {train.name = "x"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "head.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %y = train.linear %x, %w {name = "head"} : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
    %s = train.add %y, %y : tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %s, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
