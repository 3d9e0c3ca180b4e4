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
    the same histories and scales (as Transformer Engine does).
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

#endif // FP8C_DIALECT_TRAIN_TRANSFORMS_PASSES_TD
