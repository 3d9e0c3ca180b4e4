//===- ShardingReport.h - per-rank lines of --memory-report ------*- C++ -*-===//
//
// A data-parallel program's arena is one rank's: with zero1 and fsdp it holds
// this rank's shards (docs/distributed.md). --memory-report says so in its
// heading and lists the sharded state, the reduce-scattered gradients and the
// all-gather buffers; a one-process program's report is unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_SHARDINGREPORT_H
#define FP8C_ANALYSIS_SHARDINGREPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace fp8c::rt {

/// ", per rank (world size 8, strategy fsdp)", or "" without a distributed
/// section of world size > 1.
std::string perRankHeading(mlir::ModuleOp lowered);

/// For a zero1 or fsdp program: each sharded role's bytes on this rank and in
/// full, the gradients' reduce-scatters and the all-gather buffers of each
/// function. Nothing otherwise.
void printShardingReport(mlir::ModuleOp lowered, llvm::raw_ostream &os);

} // namespace fp8c::rt

#endif // FP8C_ANALYSIS_SHARDINGREPORT_H
