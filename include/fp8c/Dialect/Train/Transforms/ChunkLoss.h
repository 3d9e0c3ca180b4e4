//===- ChunkLoss.h - what fp8-chunk-loss decided, for the reports -*- C++ -*-===//
//
// fp8-chunk-loss (Passes.td, docs/memory-plan.md "Chunked loss") leaves its
// decision on each function it looked at as a dictionary attribute, which
// survives the lowering to rt and is read by `fp8c --memory-report`. The
// constants are inline: the front end checks `train.loss_chunk_tokens` with
// the same rule.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_TRAIN_TRANSFORMS_CHUNKLOSS_H
#define FP8C_DIALECT_TRAIN_TRANSFORMS_CHUNKLOSS_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace fp8c::train {

/// The function attribute: {chunks, chunk_tokens, tokens, chunk_logits_bytes,
/// logits_bytes} when the loss was chunked, {reason} when it was not and a
/// user would want to know why (never for a small loss left whole by `auto`).
inline constexpr llvm::StringLiteral kLossChunkingAttrName = "loss_chunking";

/// `auto` leaves the loss whole up to this many bytes of logits...
inline constexpr int64_t kAutoWholeLogitsBytes = int64_t(64) << 20;
/// ...and otherwise picks the largest chunk (a divisor of the token count)
/// whose logits stay within this bound.
inline constexpr int64_t kAutoChunkLogitsBytes = int64_t(256) << 20;
/// ...or this one when train.config has a memory_budget (--memory-budget).
inline constexpr int64_t kBudgetChunkLogitsBytes = int64_t(64) << 20;

/// "1, 2, 4, ..., 512": the chunk sizes `tokens` allows.
inline std::string describeDivisors(int64_t tokens) {
  std::string list;
  for (int64_t d = 1; d <= tokens; ++d)
    if (tokens % d == 0)
      list += (list.empty() ? "" : ", ") + std::to_string(d);
  return list;
}

/// Sets `train.config`'s `loss_chunk_tokens` from `value` (auto, 0 or N; auto
/// removes the key), as `fp8c --loss-chunk-tokens` does; an error message when
/// `value` is none of these or the module has no train.config. Defined in
/// ChunkLoss.cpp.
std::string setLossChunkTokens(mlir::ModuleOp module, llvm::StringRef value);

} // namespace fp8c::train

#endif // FP8C_DIALECT_TRAIN_TRANSFORMS_CHUNKLOSS_H
