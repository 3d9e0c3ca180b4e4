//===- Passes.td - FP8 passes over the training step ---------*- tablegen -*-===//

#ifndef FP8C_DIALECT_FP8_TRANSFORMS_PASSES_TD
#define FP8C_DIALECT_FP8_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def SelectGemms : Pass<"fp8-select-gemms", "::mlir::ModuleOp"> {
  let summary = "decides, per GEMM of the step, whether it runs in FP8 or BF16, and why";
  let description = [{
    Annotates every GEMM (`train.linear`, `train.matmul`, `train.batch_matmul`)
    of every function (`train_step`, `eval_step`, `accumulate_step`, ...) with an
    `fp8.gemm` dictionary: its layer name, kind (forward, dgrad, wgrad), M/K/N,
    the decision (`fp8` or `bf16`), the reason, and the predicted bf16 and fp8
    times (the fp8 time includes the GEMM's share of its operand casts). Rules,
    first match wins: FP8 disabled; user overrides; `filter_fqns`; first/last
    layer rule; hard rules (dims % 16, recipe support on the device); the
    roofline cost model against the threshold (or fp8 with `auto_filter: none`).
    Settings come from the module's `train.config.fp8` dictionary; the key
    contract and the cast-sharing model are in docs/fp8-passes.md.
  }];
  let dependentDialects = ["::fp8c::train::TrainDialect"];
  let options = [
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "calibration file overriding the device table's efficiencies (docs/cost-model.md)">
  ];
}

def InsertCasts : Pass<"fp8-insert-casts", "::mlir::ModuleOp"> {
  let summary = "quantizes the operands of every GEMM selected for FP8 with the recipe";
  let description = [{
    Replaces each GEMM whose `fp8.gemm` decision is `fp8` by `fp8` dialect ops:
    amax, compute_scale, quantize (or cast_transpose where the K-major "TN" layout
    needs a transposed operand) and `fp8.scaled_matmul`. Formats follow
    `train.config.fp8.format`: hybrid (E4M3 activations and weights, E5M2
    gradients) or e4m3. Delayed scaling threads an amax history per quantized
    tensor through `train_step` as state (docs/fp8-passes.md); with
    grad_accum_steps > 1, `accumulate_step` keeps its micro-batches' amaxes in
    `fp8.amax_pending.*` and `train_step` pushes the max over all of them.
  }];
  let dependentDialects = ["::fp8c::fp8::FP8Dialect", "::fp8c::train::TrainDialect",
                           "::mlir::arith::ArithDialect"];
}

def FuseScaling : Pass<"fp8-fuse-scaling", "::mlir::func::FuncOp"> {
  let summary = "fuses scaling work: amax into producers, casts with transposes, shared weight casts";
  let description = [{
    Runs after `fp8-insert-casts`, on one function (nested on `func.func`:
    nothing it does looks past the function):

    1. merges identical fp8 ops (per block), so that every tensor has one amax
       and one scale per FP8 type;
    2. applies the fp8 folds and canonicalization patterns and takes the amax
       of a `scaled_matmul` result from the GEMM's own `amax` result
       (cuBLASLt's amax-D epilogue), rebuilding the GEMM with it;
    3. marks `fused_into_producer` on amax reductions whose input a fusible
       kernel writes (norms, activations, residual adds, conversions, the
       embedding gather, pointwise and norm gradients; through reshapes), and
       on casts of such tensors whose scales are known before that kernel runs
       (delayed scaling);
    4. merges each `quantize(X, s)` into a `cast_transpose(X, s)` with the
       same recipe, block and FP8 type, so that one op feeds both GEMMs that
       read X (a weight: forward and dgrad; an activation: forward and wgrad;
       an output gradient: dgrad and wgrad).

    No rewrite changes a computed value. Train ops are left untouched.
    docs/fp8-passes.md has the details.
  }];
  let dependentDialects = ["::fp8c::fp8::FP8Dialect", "::fp8c::train::TrainDialect"];
}

#endif // FP8C_DIALECT_FP8_TRANSFORMS_PASSES_TD
