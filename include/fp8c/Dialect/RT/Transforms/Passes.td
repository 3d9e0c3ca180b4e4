//===- Passes.td - from the FP8 training step to the rt program -*- tablegen -*-===//

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

def LowerToRT : Pass<"fp8-lower-to-rt", "::mlir::ModuleOp"> {
  let summary = "plans the arena and lowers the step to rt kernels, GEMMs and copies";
  let description = [{
    Replaces every function's tensors by `rt.buffer` views of one arena: the
    persistent state (parameters, optimizer and FP8 scaling state, gradient
    accumulators, constants) first, laid out identically for every function,
    then a liveness-based plan of the temporaries (first fit, 256-byte
    alignment; a reshape is a view of its operand's bytes). Each `rt.fusion`
    and each remaining op becomes an `rt.kernel` whose body is that op list;
    GEMMs become `rt.gemm` with cuBLASLt-level parameters; new state is written
    in place where that is safe and copied back otherwise. Buffers carry their
    role and name (docs/program-format.md). The result has no tensors outside
    kernel bodies.
  }];
  let dependentDialects = ["::fp8c::rt::RTDialect", "::mlir::memref::MemRefDialect"];
}

#endif // FP8C_DIALECT_RT_TRANSFORMS_PASSES_TD
