//===- KernelGrouping.h - which ops share a generated kernel ----*- C++ -*-===//
//
// The analysis half of `fp8-fuse-kernels`: decides, for one block, which ops
// become one `rt.fusion` and where it goes, without changing the IR. The rules
// are in docs/kernel-fusion.md; FuseKernels.cpp builds the fusions.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_DIALECT_RT_TRANSFORMS_KERNELGROUPING_H
#define FP8C_LIB_DIALECT_RT_TRANSFORMS_KERNELGROUPING_H

#include "mlir/IR/Block.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

namespace fp8c::rt {

/// How an op takes part in grouping.
enum class FusionRole {
  /// Never inside a fusion: GEMMs, reshapes (free views, cloned where needed),
  /// constants (splats cloned where needed), terminators, ops with side
  /// effects or regions, and ops this pass does not know.
  Outside,
  /// Elementwise over its first result: joins the group of a producer of an
  /// operand with as many elements as that result.
  Pointwise,
  /// A heavy op (norm, attention, gather, reduction, slice, transpose, ...):
  /// at most one per group. Heads a group, or joins an anchor-less group of a
  /// producer of an operand with as many elements as its first result.
  Anchor,
  /// Work its producer's kernel does as it writes the tensor: an `fp8.amax`
  /// whose producer can absorb it (ProducerFusion.h), and the casts that
  /// `fp8-fuse-scaling` marked `fused_into_producer`. Joins that producer's
  /// group, whatever its anchor.
  ProducerEpilogue,
  /// A small reduction of a member's output (`fp8.amax_from_history`): joins
  /// its operand's group whatever the element counts.
  FollowerReduction,
};

FusionRole getFusionRole(mlir::Operation *op);

/// Ops that become one `rt.fusion`.
struct KernelGroup {
  /// In program order, which is a valid order for the fusion body.
  llvm::SmallVector<mlir::Operation *> members;
  /// The member in front of which the fusion is built: every operand from
  /// outside the group is defined before it, every user outside the group
  /// comes after it.
  mlir::Operation *position = nullptr;
  /// The group's anchor, if any.
  mlir::Operation *anchor = nullptr;
};

/// Groups the ops of `block`. Only groups of two or more ops are returned, in
/// no particular order. Fails with a diagnostic when an op marked
/// `fused_into_producer` cannot join its producer's group.
mlir::FailureOr<llvm::SmallVector<KernelGroup>> groupKernels(mlir::Block &block);

/// True for an `arith.constant` splat that a fusion may clone.
bool isClonableConstant(mlir::Value value);

} // namespace fp8c::rt

#endif // FP8C_LIB_DIALECT_RT_TRANSFORMS_KERNELGROUPING_H
