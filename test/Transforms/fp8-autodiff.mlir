// RUN: fp8-opt %s -split-input-file --fp8-autodiff | FileCheck %s
// RUN: fp8-opt %S/Inputs/fp8-autodiff-errors.mlir -split-input-file --fp8-autodiff -verify-diagnostics
// RUN: fp8-opt %S/Inputs/fp8-autodiff-tiny.mlir --fp8-autodiff="optimizer=sgd lr=0.1 weight-decay=0.01 grad-clip=0 lr-schedule=cosine warmup-steps=10 total-steps=100 min-lr=0.01" | FileCheck %s --check-prefix=OPTIONS
// RUN: fp8-opt %examples/mlp.mlir --fp8-autodiff | FileCheck %s --check-prefix=MLP

// fp8-autodiff replaces @forward by @train_step, @eval_step and @logits_step. One module per
// case: the gradient structure of each op family on a tiny graph, then the
// optimizer section.

// A linear layer with a bias over a 3-D input: the weight gradient contracts the
// flattened leading dimensions, the bias gradient sums over them; the input is
// not a parameter, so its gradient is not built. Default optimizer: AdamW with
// clipping at 1.0, constant learning rate, weight decay for the matrix only.

// CHECK-LABEL: module @linear_bias
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "fc.weight"},
// CHECK-SAME:    %[[B:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fc.bias"},
// CHECK-SAME:    %[[MW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg.fc.weight"},
// CHECK-SAME:    %[[VW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg_sq.fc.weight"},
// CHECK-SAME:    %[[MB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg.fc.bias"},
// CHECK-SAME:    %[[VB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "optimizer.exp_avg_sq.fc.bias"},
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x4x8xf32> {train.name = "x"},
// CHECK-SAME:    %[[T:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "targets"},
// CHECK-SAME:    %[[STEP:[a-z0-9_]+]]: tensor<i64> {train.name = "step"})
// CHECK-SAME:    -> (tensor<f32> {train.name = "loss"}, tensor<f32> {train.name = "grad_norm"}, tensor<f32> {train.name = "lr"},
// CHECK-SAME:        tensor<16x8xf32> {train.name = "fc.weight"}, tensor<16xf32> {train.name = "fc.bias"},
// CHECK-SAME:        tensor<16x8xf32> {train.name = "optimizer.exp_avg.fc.weight"}, tensor<16x8xf32> {train.name = "optimizer.exp_avg_sq.fc.weight"},
// CHECK-SAME:        tensor<16xf32> {train.name = "optimizer.exp_avg.fc.bias"}, tensor<16xf32> {train.name = "optimizer.exp_avg_sq.fc.bias"})
// CHECK:         %[[Y:.*]] = train.linear %[[X]], %[[W]], %[[B]] {name = "fc"}
// CHECK:         %[[LOSS:.*]] = train.softmax_cross_entropy %[[Y]], %[[T]]
// CHECK:         %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[DY:.*]] = train.softmax_cross_entropy_grad %[[Y]], %[[T]], %[[ONE]] : (tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xf32>
// CHECK-DAG:     %[[X2:.*]] = train.reshape %[[X]] : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-DAG:     %[[DY2:.*]] = train.reshape %[[DY]] : tensor<2x4x16xf32> -> tensor<8x16xf32>
// CHECK-NOT:     fc.dgrad
// CHECK:         %[[DW:.*]] = train.matmul %[[DY2]], %[[X2]] {name = "fc.wgrad", transpose_lhs} : (tensor<8x16xf32>, tensor<8x8xf32>) -> tensor<16x8xf32>
// CHECK:         %[[DB:.*]] = train.reduce_sum %[[DY]] : tensor<2x4x16xf32> -> tensor<16xf32>
// CHECK:         %[[NORM:.*]] = train.global_norm %[[DW]], %[[DB]] : (tensor<16x8xf32>, tensor<16xf32>) -> tensor<f32>
// CHECK:         %[[COEF:.*]] = train.clip_coef %[[NORM]] {max_norm = 1.000000e+00 : f64} : tensor<f32>
// CHECK:         %[[CW:.*]] = train.mul_scalar %[[DW]], %[[COEF]] : tensor<16x8xf32>, tensor<f32>
// CHECK:         %[[CB:.*]] = train.mul_scalar %[[DB]], %[[COEF]] : tensor<16xf32>, tensor<f32>
// CHECK:         %[[LR:.*]] = train.lr_schedule %[[STEP]] constant {lr = 6.000000e-04 : f64} : tensor<i64> -> tensor<f32>
// CHECK:         %[[PW:[a-z0-9_]+]], %[[NMW:[a-z0-9_]+]], %[[NVW:[a-z0-9_]+]] = train.adamw_update %[[W]], %[[CW]], %[[MW]], %[[VW]], %[[LR]], %[[STEP]]
// CHECK-SAME:      {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64}
// CHECK:         %[[PB:[a-z0-9_]+]], %[[NMB:[a-z0-9_]+]], %[[NVB:[a-z0-9_]+]] = train.adamw_update %[[B]], %[[CB]], %[[MB]], %[[VB]], %[[LR]], %[[STEP]]
// CHECK-SAME:      weight_decay = 0.000000e+00 : f64
// CHECK:         return %[[LOSS]], %[[NORM]], %[[LR]], %[[PW]], %[[PB]], %[[NMW]], %[[NVW]], %[[NMB]], %[[NVB]] :
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:    %[[EW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "fc.weight"},
// CHECK-SAME:    %[[EB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fc.bias"},
// CHECK-SAME:    %[[EX:[a-z0-9_]+]]: tensor<2x4x8xf32> {train.name = "x"},
// CHECK-SAME:    %[[ET:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "targets"})
// CHECK-SAME:    -> (tensor<f32> {train.name = "loss"})
// CHECK-NEXT:    %[[EY:.*]] = train.linear %[[EX]], %[[EW]], %[[EB]] {name = "fc"}
// CHECK-NEXT:    %[[ELOSS:.*]] = train.softmax_cross_entropy %[[EY]], %[[ET]]
// CHECK-NEXT:    return %[[ELOSS]] : tensor<f32>
// @logits_step: eval_step without the loss, returning the logits of the rows
// it is asked for (one per sequence: the head on the gathered rows of its
// input, fp8-autodiff-logits-step.mlir); the targets argument goes.
// CHECK-LABEL: func.func @logits_step(
// CHECK-SAME:    %[[LW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "fc.weight"},
// CHECK-SAME:    %[[LB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "fc.bias"},
// CHECK-SAME:    %[[LX:[a-z0-9_]+]]: tensor<2x4x8xf32> {train.name = "x"},
// CHECK-SAME:    %[[LROWS:[a-z0-9_]+]]: tensor<2xi32> {train.name = "rows"})
// CHECK-SAME:    -> (tensor<2x16xf32> {train.name = "logits"})
// CHECK-NEXT:    %[[LFLAT:.*]] = train.reshape %[[LX]] : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT:    %[[LXR:.*]] = train.embedding %[[LFLAT]][%[[LROWS]]] : tensor<8x8xf32>, tensor<2xi32> -> tensor<2x8xf32>
// CHECK-NEXT:    %[[LY:.*]] = train.linear %[[LXR]], %[[LW]], %[[LB]] {name = "fc"}
// CHECK-NEXT:    return %[[LY]] : tensor<2x16xf32>
// CHECK-NOT:   func.func @forward
module @linear_bias {
  func.func @forward(%x: tensor<2x4x8xf32> {train.name = "x"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "fc.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %b = train.param "fc.bias" init zeros : tensor<16xf32>
    %y = train.linear %x, %w, %b {name = "fc"}
        : (tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Embedding: the table gradient is a scatter-add of the rows; the ids get none.
// Tokens declared with train.input become an argument after the forward's own.
// ignore_index carries over to the loss gradient.

// CHECK-LABEL: module @embedding
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<16x16xf32> {{[^}]*}}train.name = "wte"}
// CHECK-SAME:    %[[T:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "targets"},
// CHECK-SAME:    %[[TOK:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "tokens"},
// CHECK-SAME:    %{{.*}}: tensor<i64> {train.name = "step"})
// CHECK:         %[[H:.*]] = train.embedding %[[WTE]][%[[TOK]]]
// CHECK:         %[[DH:.*]] = train.softmax_cross_entropy_grad %[[H]], %[[T]], %{{.*}} {ignore_index = -1 : i64}
// CHECK:         %[[DWTE:.*]] = train.embedding_grad %[[DH]][%[[TOK]]] : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<16x16xf32>
// CHECK:         train.global_norm %[[DWTE]] :
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME:    tensor<16x16xf32> {{[^}]*}}train.name = "wte"}, %{{.*}}: tensor<2x4xi32> {train.name = "targets"}, %{{.*}}: tensor<2x4xi32> {train.name = "tokens"})
module @embedding {
  func.func @forward(%targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %tokens = train.input "tokens" : tensor<2x4xi32>
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %h, %targets {ignore_index = -1 : i64}
        : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Tied embeddings: the table is the embedding and the output projection; its
// gradient is the sum of the two uses' gradients.

// CHECK-LABEL: module @tied
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "wte"}
// CHECK-SAME:    %[[TOK:[a-z0-9_]+]]: tensor<2x4xi32> {train.name = "tokens"}
// CHECK:         %[[H:.*]] = train.embedding %[[WTE]][%[[TOK]]]
// CHECK:         %[[LOGITS:.*]] = train.linear %[[H]], %[[WTE]] {name = "lm_head"}
// CHECK:         %[[DL:.*]] = train.softmax_cross_entropy_grad %[[LOGITS]]
// CHECK-DAG:     %[[H2:.*]] = train.reshape %[[H]] : tensor<2x4x8xf32> -> tensor<8x8xf32>
// CHECK-DAG:     %[[DL2:.*]] = train.reshape %[[DL]] : tensor<2x4x16xf32> -> tensor<8x16xf32>
// CHECK:         %[[DH2:.*]] = train.matmul %[[DL2]], %[[WTE]] {name = "lm_head.dgrad"} : (tensor<8x16xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
// CHECK:         %[[DH:.*]] = train.reshape %[[DH2]] : tensor<8x8xf32> -> tensor<2x4x8xf32>
// CHECK:         %[[DHEAD:.*]] = train.matmul %[[DL2]], %[[H2]] {name = "lm_head.wgrad", transpose_lhs}
// CHECK:         %[[DEMB:.*]] = train.embedding_grad %[[DH]][%[[TOK]]]
// CHECK:         %[[DWTE:.*]] = train.add %[[DHEAD]], %[[DEMB]] : tensor<16x8xf32>
// CHECK:         train.global_norm %[[DWTE]] :
// CHECK-LABEL: func.func @eval_step(
module @tied {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x8xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
    %logits = train.linear %h, %wte {name = "lm_head"}
        : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %logits, %targets
        : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Residual: x feeds both the branch and the sum, so its gradient is the sum's
// gradient plus the branch's.

// CHECK-LABEL: module @residual
// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[E:.*]] = train.embedding
// CHECK:         %[[G:.*]] = train.gelu %[[E]]
// CHECK:         %[[R:.*]] = train.add %[[E]], %[[G]]
// CHECK:         %[[DR:.*]] = train.softmax_cross_entropy_grad %[[R]]
// CHECK:         %[[DG:.*]] = train.gelu_grad %[[DR]], %[[E]] : tensor<2x4x16xf32>
// CHECK:         %[[DE:.*]] = train.add %[[DR]], %[[DG]] : tensor<2x4x16xf32>
// CHECK:         train.embedding_grad %[[DE]]
// CHECK-LABEL: func.func @eval_step(
module @residual {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %e = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %g = train.gelu %e : tensor<2x4x16xf32>
    %r = train.add %e, %g : tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %r, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// LayerNorm: one op gives the input, weight and bias gradients.

// CHECK-LABEL: module @layer_norm
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<16x16xf32> {{[^}]*}}train.name = "wte"},
// CHECK-SAME:    %[[G:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init ones>, train.name = "ln_f.weight"},
// CHECK-SAME:    %[[B:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "ln_f.bias"},
// CHECK:         %[[E:.*]] = train.embedding %[[WTE]]
// CHECK:         %[[N:.*]] = train.layer_norm %[[E]], %[[G]], %[[B]] {eps = 1.000000e-05 : f64}
// CHECK:         %[[DN:.*]] = train.softmax_cross_entropy_grad %[[N]]
// CHECK:         %[[DX:[a-z0-9_]+]], %[[DG:[a-z0-9_]+]], %[[DB:[a-z0-9_]+]] = train.layer_norm_grad %[[DN]], %[[E]], %[[G]] {eps = 1.000000e-05 : f64}
// CHECK:         %[[DWTE:.*]] = train.embedding_grad %[[DX]]
// CHECK:         train.global_norm %[[DWTE]], %[[DG]], %[[DB]] :
// CHECK-LABEL: func.func @eval_step(
module @layer_norm {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %g = train.param "ln_f.weight" init ones : tensor<16xf32>
    %b = train.param "ln_f.bias" init zeros : tensor<16xf32>
    %e = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %n = train.layer_norm %e, %g, %b {eps = 1.000000e-05 : f64}
        : (tensor<2x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %n, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Self-attention over one tensor: query, key and value gradients all flow into
// it and are summed.

// CHECK-LABEL: module @attention
// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[E:.*]] = train.embedding
// CHECK:         %[[A:.*]] = train.attention %[[E]], %[[E]], %[[E]] {causal, n_heads = 2 : i64, n_kv_heads = 2 : i64}
// CHECK:         %[[DA:.*]] = train.softmax_cross_entropy_grad %[[A]]
// CHECK:         %[[DQ:[a-z0-9_]+]], %[[DK:[a-z0-9_]+]], %[[DV:[a-z0-9_]+]] = train.attention_grad %[[DA]], %[[E]], %[[E]], %[[E]] {causal, n_heads = 2 : i64, n_kv_heads = 2 : i64}
// CHECK:         %[[S1:.*]] = train.add %[[DQ]], %[[DK]]
// CHECK:         %[[S2:.*]] = train.add %[[S1]], %[[DV]]
// CHECK:         train.embedding_grad %[[S2]]
// CHECK-LABEL: func.func @eval_step(
module @attention {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %e = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %a = train.attention %e, %e, %e {n_heads = 2 : i64, n_kv_heads = 2 : i64, causal}
        : (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %a, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Every other differentiable op in one bf16 graph over f32 master weights:
// RMSNorm, grouped-query attention with RoPE, SwiGLU, relu2, silu, mul,
// transpose, batch_matmul, matmul with a transposed operand. The VJPs of the
// converts turn the bf16 parameter gradients back into f32.

// CHECK-LABEL: module @llama
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<32x16xf32> {{[^}]*}}train.name = "embed.weight"},
// CHECK-SAME:    %[[LN:[a-z0-9_]+]]: tensor<16xf32> {{[^}]*}}train.name = "norm.weight"},
// CHECK:         %[[LNB:.*]] = train.convert %[[LN]] : tensor<16xf32> -> tensor<16xbf16>
// CHECK:         %[[HEADB:.*]] = train.convert %{{.*}} : tensor<32x16xf32> -> tensor<32x16xbf16>
// CHECK:         %[[X:.*]] = train.embedding
// CHECK:         %[[Q:.*]] = train.linear
// CHECK:         %[[KV:.*]] = train.linear
// CHECK:         %[[G:.*]] = train.linear %[[R:.*]], %{{.*}} : (tensor<2x4x16xbf16>, tensor<24x16xbf16>)
// CHECK:         %[[U:.*]] = train.linear %[[R]], %{{.*}} : (tensor<2x4x16xbf16>, tensor<24x16xbf16>)
// CHECK:         %[[S:.*]] = train.swiglu %[[G]], %[[U]]
// CHECK:         %[[S2:.*]] = train.relu2 %[[S]]
// CHECK:         %[[S3:.*]] = train.silu %[[S2]]
// CHECK:         %[[SC:.*]] = train.batch_matmul %[[T2:.*]], %[[T2]] {transpose_rhs}
// CHECK:         %[[CTX:.*]] = train.batch_matmul %[[SC]], %[[T2]] :
// CHECK:         %[[HF:.*]] = train.reshape %[[CTX]]
// CHECK:         %[[LOGITS:.*]] = train.matmul %[[HF]], %[[HEADB]] {name = "lm_head", transpose_rhs}
// lm_head: C = A·Bᵀ gives dA = dC·B and dB = dCᵀ·A.
// CHECK:         %[[DL:.*]] = train.reshape %{{.*}} : tensor<2x4x32xbf16> -> tensor<8x32xbf16>
// CHECK:         %[[DHF:.*]] = train.matmul %[[DL]], %[[HEADB]] {name = "lm_head.dgrad"} : (tensor<8x32xbf16>, tensor<32x16xbf16>) -> tensor<8x16xbf16>
// CHECK:         %[[DHEADB:.*]] = train.matmul %[[DL]], %[[HF]] {name = "lm_head.wgrad", transpose_lhs} : (tensor<8x32xbf16>, tensor<8x16xbf16>) -> tensor<32x16xbf16>
// ctx = sc·t2 and sc = t2·t2ᵀ: t2 collects three gradients.
// CHECK:         %[[DCTX:.*]] = train.reshape %[[DHF]] : tensor<8x16xbf16> -> tensor<2x4x16xbf16>
// CHECK:         %[[DSC:.*]] = train.batch_matmul %[[DCTX]], %[[T2]] {transpose_rhs}
// CHECK:         %[[DT2A:.*]] = train.batch_matmul %[[SC]], %[[DCTX]] {transpose_lhs}
// CHECK:         %[[DT2B:.*]] = train.batch_matmul %[[DSC]], %[[T2]] :
// CHECK:         %[[DT2C:.*]] = train.batch_matmul %[[DSC]], %[[T2]] {transpose_lhs}
// CHECK:         %[[ACC:.*]] = train.add %[[DT2A]], %[[DT2B]]
// CHECK:         %[[DT2:.*]] = train.add %[[ACC]], %[[DT2C]]
// CHECK:         %[[DT:.*]] = train.transpose %[[DT2]] [1, 0, 2] : tensor<2x4x16xbf16> -> tensor<4x2x16xbf16>
// CHECK:         %[[DR2:.*]] = train.transpose %[[DT]] [1, 0, 2] : tensor<4x2x16xbf16> -> tensor<2x4x16xbf16>
// s4 = s3·s: ds3 = d·s, ds = d·s3 + relu2'(s)·silu'(s2)·ds3.
// CHECK:         %[[DS4:.*]] = train.reshape %{{.*}} : tensor<8x24xbf16> -> tensor<2x4x24xbf16>
// CHECK:         %[[DS3:.*]] = train.mul %[[DS4]], %[[S]]
// CHECK:         %[[DSA:.*]] = train.mul %[[DS4]], %[[S3]]
// CHECK:         %[[DS2:.*]] = train.silu_grad %[[DS3]], %[[S2]]
// CHECK:         %[[DSB:.*]] = train.relu2_grad %[[DS2]], %[[S]]
// CHECK:         %[[DS:.*]] = train.add %[[DSA]], %[[DSB]]
// CHECK:         %[[DG:[a-z0-9_]+]], %[[DU:[a-z0-9_]+]] = train.swiglu_grad %[[DS]], %[[G]], %[[U]] : tensor<2x4x24xbf16>
// The residual stream r gets the gradients of r2 = r + d and of both MLP inputs.
// CHECK:         %[[DR1:.*]] = train.add %[[DR2]], %{{.*}} : tensor<2x4x16xbf16>
// CHECK:         %[[DRES:.*]] = train.add %[[DR1]], %{{.*}} : tensor<2x4x16xbf16>
// CHECK:         %[[DQ:[a-z0-9_]+]], %[[DK:[a-z0-9_]+]], %[[DV:[a-z0-9_]+]] = train.attention_grad %[[DRES]], %[[Q]], %[[KV]], %[[KV]] {causal, n_heads = 4 : i64, n_kv_heads = 2 : i64, rope_theta = 1.000000e+04 : f64}
// CHECK:         train.add %[[DK]], %[[DV]] : tensor<2x4x8xbf16>
// CHECK:         %[[DH:.*]] = train.add %{{.*}}, %{{.*}} : tensor<2x4x16xbf16>
// CHECK:         %[[DX:[a-z0-9_]+]], %[[DLN:[a-z0-9_]+]] = train.rms_norm_grad %[[DH]], %[[X]], %[[LNB]] {eps = 1.000000e-05 : f64}
// CHECK:         %[[DXALL:.*]] = train.add %[[DRES]], %[[DX]]
// CHECK:         %[[DWTEB:.*]] = train.embedding_grad %[[DXALL]]
// CHECK-DAG:     %[[DHEAD:.*]] = train.convert %[[DHEADB]] : tensor<32x16xbf16> -> tensor<32x16xf32>
// CHECK-DAG:     %[[DLNF:.*]] = train.convert %[[DLN]] : tensor<16xbf16> -> tensor<16xf32>
// CHECK-DAG:     %[[DWTE:.*]] = train.convert %[[DWTEB]] : tensor<32x16xbf16> -> tensor<32x16xf32>
// CHECK:         train.global_norm %[[DWTE]], %[[DLNF]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[DHEAD]] :
// CHECK-LABEL: func.func @eval_step(
module @llama {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "embed.weight" init normal std 2.000000e-02 : tensor<32x16xf32>
    %ln = train.param "norm.weight" init ones : tensor<16xf32>
    %wq = train.param "q.weight" init normal std 2.000000e-02 : tensor<16x16xf32>
    %wkv = train.param "kv.weight" init normal std 2.000000e-02 : tensor<8x16xf32>
    %wg = train.param "gate.weight" init normal std 2.000000e-02 : tensor<24x16xf32>
    %wu = train.param "up.weight" init normal std 2.000000e-02 : tensor<24x16xf32>
    %wd = train.param "down.weight" init normal std 2.000000e-02 : tensor<16x24xf32>
    %head = train.param "lm_head.weight" init normal std 2.000000e-02 : tensor<32x16xf32>
    %wteb = train.convert %wte : tensor<32x16xf32> -> tensor<32x16xbf16>
    %lnb = train.convert %ln : tensor<16xf32> -> tensor<16xbf16>
    %wqb = train.convert %wq : tensor<16x16xf32> -> tensor<16x16xbf16>
    %wkvb = train.convert %wkv : tensor<8x16xf32> -> tensor<8x16xbf16>
    %wgb = train.convert %wg : tensor<24x16xf32> -> tensor<24x16xbf16>
    %wub = train.convert %wu : tensor<24x16xf32> -> tensor<24x16xbf16>
    %wdb = train.convert %wd : tensor<16x24xf32> -> tensor<16x24xbf16>
    %headb = train.convert %head : tensor<32x16xf32> -> tensor<32x16xbf16>
    %x = train.embedding %wteb[%tokens] : tensor<32x16xbf16>, tensor<2x4xi32> -> tensor<2x4x16xbf16>
    %h = train.rms_norm %x, %lnb {eps = 1.000000e-05 : f64}
        : (tensor<2x4x16xbf16>, tensor<16xbf16>) -> tensor<2x4x16xbf16>
    %q = train.linear %h, %wqb : (tensor<2x4x16xbf16>, tensor<16x16xbf16>) -> tensor<2x4x16xbf16>
    %kv = train.linear %h, %wkvb : (tensor<2x4x16xbf16>, tensor<8x16xbf16>) -> tensor<2x4x8xbf16>
    %a = train.attention %q, %kv, %kv {n_heads = 4 : i64, n_kv_heads = 2 : i64, causal,
                                       rope_theta = 1.000000e+04 : f64}
        : (tensor<2x4x16xbf16>, tensor<2x4x8xbf16>, tensor<2x4x8xbf16>) -> tensor<2x4x16xbf16>
    %r = train.add %x, %a : tensor<2x4x16xbf16>
    %g = train.linear %r, %wgb : (tensor<2x4x16xbf16>, tensor<24x16xbf16>) -> tensor<2x4x24xbf16>
    %u = train.linear %r, %wub : (tensor<2x4x16xbf16>, tensor<24x16xbf16>) -> tensor<2x4x24xbf16>
    %s = train.swiglu %g, %u : tensor<2x4x24xbf16>
    %s2 = train.relu2 %s : tensor<2x4x24xbf16>
    %s3 = train.silu %s2 : tensor<2x4x24xbf16>
    %s4 = train.mul %s3, %s : tensor<2x4x24xbf16>
    %d = train.linear %s4, %wdb : (tensor<2x4x24xbf16>, tensor<16x24xbf16>) -> tensor<2x4x16xbf16>
    %r2 = train.add %r, %d : tensor<2x4x16xbf16>
    %t = train.transpose %r2 [1, 0, 2] : tensor<2x4x16xbf16> -> tensor<4x2x16xbf16>
    %t2 = train.transpose %t [1, 0, 2] : tensor<4x2x16xbf16> -> tensor<2x4x16xbf16>
    %sc = train.batch_matmul %t2, %t2 {transpose_rhs}
        : (tensor<2x4x16xbf16>, tensor<2x4x16xbf16>) -> tensor<2x4x4xbf16>
    %ctx = train.batch_matmul %sc, %t2 : (tensor<2x4x4xbf16>, tensor<2x4x16xbf16>) -> tensor<2x4x16xbf16>
    %hf = train.reshape %ctx : tensor<2x4x16xbf16> -> tensor<8x16xbf16>
    %logits = train.matmul %hf, %headb {transpose_rhs, name = "lm_head"}
        : (tensor<8x16xbf16>, tensor<32x16xbf16>) -> tensor<8x32xbf16>
    %l3 = train.reshape %logits : tensor<8x32xbf16> -> tensor<2x4x32xbf16>
    %loss = train.softmax_cross_entropy %l3, %targets : (tensor<2x4x32xbf16>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Optimizer settings from train.config: SGD with momentum (one buffer per
// parameter), no clipping, warmup + cosine schedule; the other keys keep the
// pass defaults.

// CHECK-LABEL: module @sgd_config
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "fc.weight"},
// CHECK-SAME:    %[[B:[a-z0-9_]+]]: tensor<16xf32> {{[^}]*}}train.name = "fc.bias"},
// CHECK-SAME:    %[[BW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init zeros>, train.name = "optimizer.momentum_buffer.fc.weight"},
// CHECK-SAME:    %[[BB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "optimizer.momentum_buffer.fc.bias"},
// CHECK-SAME:    %[[STEP:[a-z0-9_]+]]: tensor<i64> {train.name = "step"})
// CHECK-SAME:    tensor<16x8xf32> {train.name = "optimizer.momentum_buffer.fc.weight"}, tensor<16xf32> {train.name = "optimizer.momentum_buffer.fc.bias"})
// CHECK:         %[[DW:.*]] = train.matmul
// CHECK:         %[[DB:.*]] = train.reduce_sum
// CHECK:         %[[NORM:.*]] = train.global_norm %[[DW]], %[[DB]]
// CHECK-NOT:     train.clip_coef
// CHECK:         %[[LR:.*]] = train.lr_schedule %[[STEP]] cosine {lr = 1.000000e-01 : f64, min_lr = 1.000000e-03 : f64, total_steps = 1000 : i64, warmup_steps = 100 : i64}
// CHECK:         %[[PW:[a-z0-9_]+]], %[[NBW:[a-z0-9_]+]] = train.sgd_update %[[W]], %[[DW]], %[[LR]], %[[BW]] {momentum = 9.000000e-01 : f64, weight_decay = 1.000000e-01 : f64}
// CHECK:         %[[PB:[a-z0-9_]+]], %[[NBB:[a-z0-9_]+]] = train.sgd_update %[[B]], %[[DB]], %[[LR]], %[[BB]] {momentum = 9.000000e-01 : f64, weight_decay = 0.000000e+00 : f64}
// CHECK:         return %{{.*}}, %[[NORM]], %[[LR]], %[[PW]], %[[PB]], %[[NBW]], %[[NBB]] :
// CHECK-LABEL: func.func @eval_step(
module @sgd_config attributes {
    train.config = {optimizer = {name = "sgd", lr = 0.1, momentum = 0.9, grad_clip = 0.0},
                    lr_schedule = {kind = "cosine", warmup_steps = 100, total_steps = 1000,
                                   min_lr = 1.0e-03},
                    fp8 = {enabled = true}}} {
  func.func @forward(%x: tensor<4x8xf32> {train.name = "x"},
                     %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "fc.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %b = train.param "fc.bias" init zeros : tensor<16xf32>
    %y = train.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Slices of a fused projection: each slice's gradient is placed into zeros of
// the fused shape, and the three are summed.

// CHECK-LABEL: module @slice
// CHECK-LABEL: func.func @train_step(
// CHECK:         %[[QKV:.*]] = train.linear
// CHECK:         %[[Q:.*]] = train.slice %[[QKV]] dim 1 offset 0 size 8
// CHECK:         %[[K:.*]] = train.slice %[[QKV]] dim 1 offset 8 size 8
// CHECK:         %[[V:.*]] = train.slice %[[QKV]] dim 1 offset 16 size 8
// CHECK:         %[[S:.*]] = train.mul %[[Q]], %[[K]]
// CHECK:         %[[DY:.*]] = train.softmax_cross_entropy_grad
// CHECK:         %[[DS:.*]] = train.mul %[[DY]], %[[V]] : tensor<4x8xf32>
// CHECK:         %[[DV:.*]] = train.mul %[[DY]], %[[S]] : tensor<4x8xf32>
// CHECK:         %[[DQ:.*]] = train.mul %[[DS]], %[[K]]
// CHECK:         %[[DK:.*]] = train.mul %[[DS]], %[[Q]]
// CHECK:         %[[DVF:.*]] = train.slice_grad %[[DV]] dim 1 offset 16 : tensor<4x8xf32> -> tensor<4x24xf32>
// CHECK:         %[[DKF:.*]] = train.slice_grad %[[DK]] dim 1 offset 8 : tensor<4x8xf32> -> tensor<4x24xf32>
// CHECK:         %[[ACC:.*]] = train.add %[[DVF]], %[[DKF]] : tensor<4x24xf32>
// CHECK:         %[[DQF:.*]] = train.slice_grad %[[DQ]] dim 1 offset 0 : tensor<4x8xf32> -> tensor<4x24xf32>
// CHECK:         %[[DQKV:.*]] = train.add %[[ACC]], %[[DQF]] : tensor<4x24xf32>
// CHECK:         train.matmul %[[DQKV]], %{{.*}} {name = "c_attn.wgrad", transpose_lhs}
// CHECK-LABEL: func.func @eval_step(
module @slice {
  func.func @forward(%x: tensor<4x8xf32> {train.name = "x"},
                     %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "c_attn.weight" init normal std 2.000000e-02 : tensor<24x8xf32>
    %qkv = train.linear %x, %w {name = "c_attn"} : (tensor<4x8xf32>, tensor<24x8xf32>) -> tensor<4x24xf32>
    %q = train.slice %qkv dim 1 offset 0 size 8 : tensor<4x24xf32> -> tensor<4x8xf32>
    %k = train.slice %qkv dim 1 offset 8 size 8 : tensor<4x24xf32> -> tensor<4x8xf32>
    %v = train.slice %qkv dim 1 offset 16 size 8 : tensor<4x24xf32> -> tensor<4x8xf32>
    %s = train.mul %q, %k : tensor<4x8xf32>
    %y = train.mul %s, %v : tensor<4x8xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x8xf32>, tensor<4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// grad_accum_steps > 1: accumulate_step adds one micro-batch's gradients to the
// accumulators; train_step adds the last one, takes the mean, then clips and
// updates as usual. Each add (and in train_step the 1/4 scale) follows its
// gradient's producer at once, so the micro-batch gradient dies there rather
// than at the end of backward.

// CHECK-LABEL: module @grad_accum
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {{[{][^}]*}}train.name = "fc.weight"},
// CHECK-SAME:    %[[B:[a-z0-9_]+]]: tensor<16xf32> {{[{][^}]*}}train.name = "fc.bias"},
// CHECK-SAME:    train.name = "optimizer.exp_avg_sq.fc.bias"},
// CHECK-SAME:    %[[AW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init zeros>, train.name = "grad_accum.fc.weight"},
// CHECK-SAME:    %[[AB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "grad_accum.fc.bias"},
// CHECK-SAME:    %{{.*}}: tensor<4x8xf32> {train.name = "x"}, %{{.*}}: tensor<4xi32> {train.name = "targets"}, %{{.*}}: tensor<i64> {train.name = "step"})
// CHECK-SAME:    -> (tensor<f32> {train.name = "loss"}, tensor<f32> {train.name = "grad_norm"}, tensor<f32> {train.name = "lr"}, tensor<16x8xf32> {train.name = "fc.weight"}, tensor<16xf32> {train.name = "fc.bias"},
// CHECK-SAME:    tensor<16xf32> {train.name = "optimizer.exp_avg_sq.fc.bias"}) {
// CHECK:         %[[INV:.*]] = arith.constant dense<2.500000e-01> : tensor<f32>
// CHECK:         %[[DW:.*]] = train.matmul
// CHECK-NEXT:    %[[SW:.*]] = train.add %[[AW]], %[[DW]] : tensor<16x8xf32>
// CHECK-NEXT:    %[[MW:.*]] = train.mul_scalar %[[SW]], %[[INV]]
// CHECK-NEXT:    %[[DB:.*]] = train.reduce_sum
// CHECK-NEXT:    %[[SB:.*]] = train.add %[[AB]], %[[DB]] : tensor<16xf32>
// CHECK-NEXT:    %[[MB:.*]] = train.mul_scalar %[[SB]], %[[INV]]
// CHECK:         train.global_norm %[[MW]], %[[MB]]
// CHECK:         train.adamw_update %[[W]]
// CHECK:         train.adamw_update %[[B]]
// CHECK-LABEL: func.func @accumulate_step(
// CHECK-SAME:    %{{.*}}: tensor<16x8xf32> {{[{][^}]*}}train.name = "fc.weight"},
// CHECK-SAME:    %{{.*}}: tensor<16xf32> {{[{][^}]*}}train.name = "fc.bias"},
// CHECK-SAME:    %[[AW:[a-z0-9_]+]]: tensor<16x8xf32> {train.init = #train<init zeros>, train.name = "grad_accum.fc.weight"},
// CHECK-SAME:    %[[AB:[a-z0-9_]+]]: tensor<16xf32> {train.init = #train<init zeros>, train.name = "grad_accum.fc.bias"},
// CHECK-SAME:    %{{.*}}: tensor<4x8xf32> {train.name = "x"}, %{{.*}}: tensor<4xi32> {train.name = "targets"})
// CHECK-SAME:    -> (tensor<f32> {train.name = "loss"}, tensor<16x8xf32> {train.name = "grad_accum.fc.weight"}, tensor<16xf32> {train.name = "grad_accum.fc.bias"})
// CHECK:         %[[LOSS:.*]] = train.softmax_cross_entropy
// CHECK:         %[[DW:.*]] = train.matmul
// CHECK-NEXT:    %[[SW:.*]] = train.add %[[AW]], %[[DW]]
// CHECK-NEXT:    %[[DB:.*]] = train.reduce_sum
// CHECK-NEXT:    %[[SB:.*]] = train.add %[[AB]], %[[DB]]
// CHECK-NEXT:    return %[[LOSS]], %[[SW]], %[[SB]] :
// CHECK-LABEL: func.func @eval_step(
module @grad_accum attributes {train.config = {grad_accum_steps = 4 : i64}} {
  func.func @forward(%x: tensor<4x8xf32> {train.name = "x"},
                     %targets: tensor<4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "fc.weight" init normal std 2.000000e-02 : tensor<16x8xf32>
    %b = train.param "fc.bias" init zeros : tensor<16xf32>
    %y = train.linear %x, %w, %b : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    %loss = train.softmax_cross_entropy %y, %targets : (tensor<4x16xf32>, tensor<4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// Pass options alone: plain SGD (no state), no clipping, cosine schedule.

// OPTIONS-LABEL: func.func @train_step(
// OPTIONS-SAME:    %[[W:[a-z0-9_]+]]: tensor<16x8xf32> {{[^}]*}}train.name = "fc.weight"},
// OPTIONS-SAME:    %[[B:[a-z0-9_]+]]: tensor<16xf32> {{[^}]*}}train.name = "fc.bias"},
// OPTIONS-SAME:    %{{.*}}: tensor<4x8xf32> {train.name = "x"}, %{{.*}}: tensor<4xi32> {train.name = "targets"},
// OPTIONS-SAME:    %[[STEP:[a-z0-9_]+]]: tensor<i64> {train.name = "step"})
// OPTIONS-SAME:    -> (tensor<f32> {train.name = "loss"}, tensor<f32> {train.name = "grad_norm"}, tensor<f32> {train.name = "lr"}, tensor<16x8xf32> {train.name = "fc.weight"}, tensor<16xf32> {train.name = "fc.bias"})
// OPTIONS-NOT:     train.clip_coef
// OPTIONS:         %[[LR:.*]] = train.lr_schedule %[[STEP]] cosine {lr = 1.000000e-01 : f64, min_lr = 1.000000e-02 : f64, total_steps = 100 : i64, warmup_steps = 10 : i64}
// OPTIONS:         %[[PW:.*]] = train.sgd_update %[[W]], %{{.*}}, %[[LR]] {momentum = 0.000000e+00 : f64, weight_decay = 1.000000e-02 : f64} : (tensor<16x8xf32>, tensor<16x8xf32>, tensor<f32>) -> tensor<16x8xf32>
// OPTIONS:         %[[PB:.*]] = train.sgd_update %[[B]], %{{.*}}, %[[LR]] {momentum = 0.000000e+00 : f64, weight_decay = 0.000000e+00 : f64}
// OPTIONS:         return %{{.*}}, %{{.*}}, %[[PW]], %[[PB]] :
// OPTIONS-LABEL: func.func @eval_step(

// The MLP example: bf16 activations over f32 master weights. Every parameter
// gets an f32 gradient through its convert, then one AdamW update.

// MLP-LABEL: func.func @train_step(
// MLP-SAME:    %[[WTE:[a-z0-9_]+]]: tensor<256x128xf32> {train.init = #train<init normal>, train.init_std = 2.000000e-02 : f64, train.name = "embed.weight"}
// MLP-SAME:    %[[TOK:[a-z0-9_]+]]: tensor<16x32xi32> {train.name = "tokens"}
// MLP:         %[[WTEB:.*]] = train.convert %[[WTE]] : tensor<256x128xf32> -> tensor<256x128xbf16>
// MLP:         train.softmax_cross_entropy_grad
// MLP:         train.matmul {{.*}} {name = "mlp.2.dgrad"}
// MLP:         train.matmul {{.*}} {name = "mlp.2.wgrad", transpose_lhs}
// MLP:         train.gelu_grad
// MLP:         train.matmul {{.*}} {name = "mlp.0.wgrad", transpose_lhs}
// MLP:         train.reduce_sum {{.*}} : tensor<512x512xbf16> -> tensor<512xbf16>
// MLP:         %[[DEMB:.*]] = train.embedding_grad %{{.*}}[%[[TOK]]] : tensor<16x32x128xbf16>, tensor<16x32xi32> -> tensor<256x128xbf16>
// MLP:         %[[DWTE:.*]] = train.convert %[[DEMB]] : tensor<256x128xbf16> -> tensor<256x128xf32>
// MLP:         %[[NORM:.*]] = train.global_norm %[[DWTE]], %{{.*}}, %{{.*}}, %{{.*}} : (tensor<256x128xf32>, tensor<512x128xf32>, tensor<512xf32>, tensor<256x512xf32>) -> tensor<f32>
// MLP-COUNT-4: train.adamw_update
// MLP:         return
// MLP-LABEL: func.func @eval_step(
// MLP-NOT:   func.func @forward
