//===- Passes.td - rt.fusion: kernels of the FP8 training step -*- tablegen -*-===//

#ifndef FP8C_DIALECT_RT_TRANSFORMS_PASSES_TD
#define FP8C_DIALECT_RT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseKernels : Pass<"fp8-fuse-kernels", "::mlir::func::FuncOp"> {
  let summary = "groups pointwise and reduction chains into rt.fusion ops (future kernels)";
  let description = [{
    Groups the ops of a function (the pass is nested on `func.func`; fusion
    names are numbered per function) that the runtime runs as generated kernels
    (everything but GEMMs, reshapes and constants) into `rt.fusion` ops, one
    per future kernel: a producer with the pointwise ops that consume it, an
    amax marked `fused_into_producer` with its producer, a quantize with the
    scale it uses. Values the host or a later pass must see stay results of a
    fusion: every `fp8.amax` and `fp8.compute_scale` result (metrics) and every
    gradient operand of an optimizer update (`--dump`). The rules are in
    docs/kernel-fusion.md.
  }];
  let dependentDialects = ["::fp8c::rt::RTDialect"];
}

#endif // FP8C_DIALECT_RT_TRANSFORMS_PASSES_TD
