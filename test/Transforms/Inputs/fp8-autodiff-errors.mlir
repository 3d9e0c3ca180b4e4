// Inputs of fp8-autodiff that it must refuse, each with one located error, and
// one that it accepts with a warning. Run by fp8-autodiff.mlir with
// -split-input-file -verify-diagnostics.

// expected-error@+1 {{fp8-autodiff needs a 'func.func @forward' that returns the loss}}
module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

module {
  // expected-error@+1 {{@forward must return the loss as one tensor<f32>, got '(tensor<2x4xi32>) -> tensor<2x4x16xf32>'}}
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"}) -> tensor<2x4x16xf32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    return %h : tensor<2x4x16xf32>
  }
}

// -----

module {
  // expected-error@+1 {{@forward must have a body of one block}}
  func.func private @forward(tensor<2x4xi32>) -> tensor<f32>
}

// -----

module {
  // expected-error@+1 {{argument 1 of @forward has no 'train.name'}}
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"}, %targets: tensor<2x4xi32>) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %h, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    // expected-error@+1 {{parameter 'wte' is 'bf16': master weights are f32 (declare it f32 and train.convert it)}}
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xbf16>
    %h = train.embedding %wte[%tokens] : tensor<16x16xbf16>, tensor<2x4xi32> -> tensor<2x4x16xbf16>
    %loss = train.softmax_cross_entropy %h, %targets : (tensor<2x4x16xbf16>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  // expected-error@+1 {{@forward declares no train.param: nothing to train}}
  func.func @forward(%logits: tensor<2x4x16xf32> {train.name = "logits"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %loss = train.softmax_cross_entropy %logits, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  // expected-error@+1 {{the loss does not depend on any parameter}}
  func.func @forward(%logits: tensor<2x4x16xf32> {train.name = "logits"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %w = train.param "unused.weight" init zeros : tensor<16x16xf32>
    %loss = train.softmax_cross_entropy %logits, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    // expected-error@+1 {{'arith.addf' op is on the gradient path but has no VJP (it does not implement DifferentiableOpInterface)}}
    %s = arith.addf %h, %h : tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %s, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A region that uses an active value puts its op on the gradient path.
module {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    // expected-error@+1 {{'tensor.generate' op is on the gradient path but has no VJP (it does not implement DifferentiableOpInterface)}}
    %s = tensor.generate {
    ^bb0(%i: index, %j: index, %k: index):
      %e = tensor.extract %h[%i, %j, %k] : tensor<2x4x16xf32>
      tensor.yield %e : f32
    } : tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %s, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  // expected-error@+1 {{two arguments of @train_step would be named 'step' (a parameter or input takes a name that the step functions reserve: step, optimizer.*, grad_accum.*)}}
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "step"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %h, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

module {
  // expected-error@+1 {{@train_step already exists; fp8-autodiff creates it from @forward}}
  func.func @train_step() {
    return
  }
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %h, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// A parameter that does not reach the loss is left alone, with a warning.
module {
  func.func @forward(%tokens: tensor<2x4xi32> {train.name = "tokens"},
                     %targets: tensor<2x4xi32> {train.name = "targets"}) -> tensor<f32> {
    %wte = train.param "wte" init normal std 2.000000e-02 : tensor<16x16xf32>
    // expected-warning@+1 {{parameter 'extra.bias' does not affect the loss: it gets no gradient and train_step leaves it unchanged}}
    %b = train.param "extra.bias" init zeros : tensor<16xf32>
    %h = train.embedding %wte[%tokens] : tensor<16x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
    %loss = train.softmax_cross_entropy %h, %targets : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// -----

// Optimizer settings in train.config: every key is checked and named.

// expected-error@+1 {{train.config must be a dictionary, got "adamw"}}
module attributes {train.config = "adamw"} {
}

// -----

// expected-error@+1 {{train.config: 'optimizer' must be a dictionary, got "sgd"}}
module attributes {train.config = {optimizer = "sgd"}} {
}

// -----

// expected-error@+1 {{train.config: 'optimizer.betas' is not a known key; expected one of: name, lr, beta1, beta2, eps, weight_decay, grad_clip, momentum}}
module attributes {train.config = {optimizer = {betas = [0.9, 0.95]}}} {
}

// -----

// expected-error@+1 {{train.config: 'optimizer.lr' must be a number, got "fast"}}
module attributes {train.config = {optimizer = {lr = "fast"}}} {
}

// -----

// expected-error@+1 {{train.config: 'optimizer.name' must be a string, got 3 : i64}}
module attributes {train.config = {optimizer = {name = 3}}} {
}

// -----

// expected-error@+1 {{train.config: 'lr_schedule.warmup_steps' must be an integer, got 1.000000e+01 : f64}}
module attributes {train.config = {lr_schedule = {kind = "cosine", warmup_steps = 10.0}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.name' must be one of: adamw, sgd; got 'lion'}}
module attributes {train.config = {optimizer = {name = "lion"}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.lr' must be positive, got -1}}
module attributes {train.config = {optimizer = {lr = -1.0}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.beta2' must be in [0, 1), got 1}}
module attributes {train.config = {optimizer = {beta2 = 1.0}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.eps' must be positive, got 0}}
module attributes {train.config = {optimizer = {eps = 0.0}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.weight_decay' must be >= 0, got -1.000000e-01}}
module attributes {train.config = {optimizer = {weight_decay = -0.1}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.grad_clip' must be >= 0 (0 disables clipping), got -1}}
module attributes {train.config = {optimizer = {grad_clip = -1.0}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'optimizer.momentum' must be in [0, 1), got 1.5}}
module attributes {train.config = {optimizer = {name = "sgd", momentum = 1.5}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'lr_schedule.kind' must be one of: constant, cosine; got 'linear'}}
module attributes {train.config = {lr_schedule = {kind = "linear"}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'lr_schedule.warmup_steps' must be >= 0, got -1}}
module attributes {train.config = {lr_schedule = {warmup_steps = -1}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'lr_schedule.total_steps' must be greater than warmup_steps (100) for the cosine schedule, got 50}}
module attributes {train.config = {lr_schedule = {kind = "cosine", warmup_steps = 100, total_steps = 50}}} {
}

// -----

// expected-error@+1 {{optimizer setting 'lr_schedule.min_lr' must be in [0, lr] = [0, 6.000000e-04], got 1.000000e-01}}
module attributes {train.config = {lr_schedule = {kind = "cosine", total_steps = 50, min_lr = 0.1}}} {
}

// -----

// expected-error@+1 {{train.config: 'grad_accum_steps' must be an integer, got "4"}}
module attributes {train.config = {grad_accum_steps = "4"}} {
}

// -----

// expected-error@+1 {{optimizer setting 'grad_accum_steps' must be >= 1, got 0}}
module attributes {train.config = {grad_accum_steps = 0}} {
}
