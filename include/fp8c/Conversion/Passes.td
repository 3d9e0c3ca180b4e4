//===- Passes.td - conversions between fp8c's levels ------*- tablegen -*-===//
//
// Passes that take the program from one level to the next, where MLIR
// projects keep them: the tensor step (train, fp8, arith, rt.fusion) to the rt
// program over one arena.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_CONVERSION_PASSES_TD
#define FP8C_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

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

#endif // FP8C_CONVERSION_PASSES_TD
