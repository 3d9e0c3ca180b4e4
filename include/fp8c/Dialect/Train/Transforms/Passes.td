//===- Passes.td - passes over the train dialect ------------*- tablegen -*-===//

#ifndef FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_TD
#define FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def Autodiff : Pass<"fp8-autodiff", "::mlir::ModuleOp"> {
  let summary = "forward graph → one train_step (forward, backward, optimizer) and an eval_step";
  let description = [{
    Replaces `func.func @forward(...) -> tensor<f32>` (the loss; parameters declared
    with `train.param`, inputs as arguments named by `train.name`) with:

    ```
    func.func @train_step(params..., optimizer state..., inputs..., %step: tensor<i64>)
        -> (loss, grad_norm, lr, new params..., new optimizer state...)
    func.func @eval_step(params..., inputs...) -> loss
    ```

    The backward pass is reverse mode over `DifferentiableOpInterface`: each op
    builds its own VJP, gradients of values used more than once are summed with
    `train.add`. An op on the gradient path without the interface is an error.
    Then the global gradient norm, clipping (when `grad_clip > 0`), the learning
    rate from `train.lr_schedule` and one `train.adamw_update` / `train.sgd_update`
    per parameter. Weight decay applies to parameters of rank >= 2 only.

    Optimizer settings come from the module's `train.config` dictionary (keys
    `optimizer` and `lr_schedule`, see docs/autodiff.md); the options below are
    the defaults for every key it leaves out.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::fp8c::train::TrainDialect"
  ];
  let options = [
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "optimizer: adamw or sgd">,
    Option<"lr", "lr", "double", /*default=*/"6e-4", "peak learning rate">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.95", "AdamW beta2">,
    Option<"eps", "eps", "double", /*default=*/"1e-8", "AdamW epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.1",
           "decoupled (AdamW) or L2 (SGD) weight decay of parameters of rank >= 2">,
    Option<"gradClip", "grad-clip", "double", /*default=*/"1.0",
           "clip the global gradient norm to this value; 0 disables clipping">,
    Option<"momentum", "momentum", "double", /*default=*/"0.0", "SGD momentum">,
    Option<"lrSchedule", "lr-schedule", "std::string", /*default=*/"\"constant\"",
           "learning-rate schedule: constant or cosine">,
    Option<"warmupSteps", "warmup-steps", "int64_t", /*default=*/"0",
           "linear warmup steps">,
    Option<"totalSteps", "total-steps", "int64_t", /*default=*/"0",
           "step at which the cosine schedule reaches min-lr">,
    Option<"minLr", "min-lr", "double", /*default=*/"0.0",
           "final learning rate of the cosine schedule">,
    Option<"gradAccumSteps", "grad-accum-steps", "int64_t", /*default=*/"1",
           "micro-batches per optimizer step; > 1 adds an accumulate_step function">
  ];
}

def ChunkLoss : Pass<"fp8-chunk-loss", "::mlir::ModuleOp"> {
  let summary = "lm_head, cross-entropy and its gradient over chunks of tokens";
  let description = [{
    In every function with a backward pass (`@train_step`, `@accumulate_step`),
    rewrites

    ```
    logits = train.linear h, W            (bf16 GEMMs: lm_head filtered from FP8)
    loss   = train.softmax_cross_entropy logits, targets
    dlogits = train.softmax_cross_entropy_grad logits, targets, dloss
    dh = train.matmul dlogits, W ;  dW = train.matmul dlogitsᵀ, h
    ```

    into one forward-and-backward group per chunk of `C` tokens (as Liger-Kernel's
    fused linear cross-entropy), so that the `[tokens, vocab]` logits and their
    gradient never exist whole: chunk c slices `h` and `targets`, computes its
    logits, its mean loss and its logits gradient with `dloss / chunks`
    (so the chunks' sum is the mean over all tokens), then `dh_c` and its
    `dW_c`, accumulated in f32 (the GEMM's own accumulator type) and rounded to
    the old wgrad's type once at the end. The chunks' GEMMs keep the lm_head
    GEMMs' `fp8.gemm` decisions, with M (or K) set to the chunk.

    `C` comes from `train.config`'s `loss_chunk_tokens`: absent (`auto`), the
    loss stays whole when its logits take at most 64 MiB, otherwise `C` is the
    largest divisor of the token count whose logits take at most 256 MiB; `0`
    leaves it whole; `N` must divide the token count. Not chunked, with the
    reason left on the function for `--memory-report`: FP8 lm_head GEMMs (a
    tensorwise or rowwise gradient scale needs the whole logits gradient), an
    `ignore_index` (the mean's divisor counts all chunks' targets).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::fp8c::train::TrainDialect"];
}

def InsertCollectives : Pass<"fp8-insert-collectives", "::mlir::ModuleOp"> {
  let summary = "data-parallel (ddp) training: gradients and the loss averaged across ranks";
  let description = [{
    When `train.config` holds `distributed = {strategy = "ddp", world_size = N}`
    with N > 1: in `@train_step`, one `train.all_reduce avg` per gradient (the
    operands of `train.global_norm`), placed right after the gradient is
    produced, so they run in the order backward produces them; every use of the
    gradient (the norm, clipping, the update) reads the average. The gradient
    norm is then computed from averaged gradients and is the same on every
    rank without a collective of its own. The returned `loss` of `@train_step`
    and `@accumulate_step` is averaged too, so every rank reports the job's
    loss. With delayed scaling, every amax that `fp8.amax_history_update`
    pushes is first reduced with `train.all_reduce max`, so every rank keeps
    the same histories and scales (as Transformer Engine does); the push into
    gradient accumulation's `fp8.amax_pending.*` gets none (its max is reduced
    before the real push).
    `strategy = "zero1"`: gradients reduce-scattered instead, the norm from
    the shards, each update on this rank's shards (optimizer state arguments
    become shards, `train.shard_of`), the new parameter all-gathered.
    `strategy = "fsdp"`: zero1 with the parameters sharded too in every
    function, each all-gathered in bf16 before its first use (and again
    before backward), the optimizer updating the shard.
    Without the section, or with world_size 1, the module is unchanged.
    Runs after the fp8 stage (docs/distributed.md).
  }];
  let dependentDialects = ["::fp8c::train::TrainDialect"];
}

def Recompute : Pass<"fp8-recompute", "::mlir::ModuleOp"> {
  let summary = "recompute forward values in backward instead of keeping them (memory budget)";
  let description = [{
    In every step function with a backward pass (`train_step`, `accumulate_step`),
    chooses forward values that backward reads ("saved" values) and recomputes
    them right before their first backward use, by cloning the same ops from
    values that stay alive (parameters, kept activations), so the forward value
    dies at its last forward use. Only ops without state or side effects are
    cloned (no `fp8.amax_history_update`, no collective, nothing that writes);
    scales and amaxes are never recomputed (the clone quantises with the
    forward's own scale, so the codes are the same).

    - `selective`: values whose producer chain is cheap (casts, norms,
      activations, pointwise, reshapes, transposes, slices, embedding lookups)
      from kept values; any other op (GEMMs, attention, the loss, an op this
      pass does not know) is cloned only by full recompute.
    - `full`: per transformer block (the layer index in op names), everything
      but the block's input, the block's forward (GEMMs and attention included)
      cloned once before the block's backward, as Megatron's full recompute.
    - `auto`: candidates ordered by recompute FLOPs per byte saved (the
      selective ones, one per storage with its saved views, then whole blocks
      from the first), the shortest prefix whose estimated peak (the module's
      arguments, each name once, plus a liveness sweep over the function's
      ops) fits the budget; all of them if none does. Without a budget,
      nothing.

    Mode and budget come from `train.config` (`recompute`, `memory_budget`);
    the options override them, and the module attribute
    `fp8c.recompute_target` (bytes; set by fp8c while it searches for the
    plan that fits, docs/memory-plan.md) overrides the budget for auto. The choice is recorded per function in the
    module attribute `fp8c.recompute` (read by `fp8c --memory-report`).
    docs/memory-plan.md, "Recompute under a budget".
  }];
  let dependentDialects = ["::fp8c::train::TrainDialect"];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"\"",
           "none, selective, full or auto (default: train.config's recompute, else auto)">,
    Option<"budget", "budget", "std::string", /*default=*/"\"\"",
           "memory budget for auto, e.g. 24GiB (default: train.config's memory_budget)">
  ];
}

def BucketGradients : Pass<"fp8-bucket-gradients", "::mlir::ModuleOp"> {
  let summary = "ddp: gradient all-reduces grouped into buckets of bucket_mb";
  let description = [{
    After `fp8-insert-collectives`: in `@train_step`, the gradient all-reduces
    (those before `train.global_norm`, found through `CollectiveOpInterface`;
    zero1's reduce-scatters are left in place: no backend packs them, see
    BucketGradients.cpp) are grouped, in the order backward produces them, into buckets of at
    least `distributed.bucket_mb` MiB (default 25, as PyTorch DDP; the last
    bucket may be smaller). Each gets `bucket = k`, and a bucket's collectives
    are moved together to just before its last one, right after the producer
    of its last gradient: adjacent, so a backend can send them as one message
    (one NCCL group, one MPI call over a packed buffer). Values are unchanged;
    only the order of the collectives and the lifetimes of the gradients they
    read change. fsdp, world_size 1 and a module already bucketed are left
    unchanged (docs/distributed.md, "Buckets").
  }];
  let options = [
    Option<"bucketMB", "bucket-mb", "double", /*default=*/"0",
           "bucket size in MiB; 0: distributed.bucket_mb of train.config (default 25)">
  ];
  let dependentDialects = ["::fp8c::train::TrainDialect"];
}

#endif // FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_TD
