//===- TokenBounds.h - Which buffers hold token ids, and their range -*- C++ -*-===//
//
// The CPU backend reports an embedding id or a cross-entropy target outside
// [0, vocab) from inside the kernel op (KernelOpsTrain.cpp). A backend whose
// kernels cannot report errors (the generated CUDA code writes NaN instead)
// checks the host data instead, when it is written: findTokenBounds lists
// every buffer that a kernel reads as ids or targets, with the range the op
// accepts, and checkTokenIds checks data against it with the CPU backend's
// message. Plain C++: unit-tested without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_TOKENBOUNDS_H
#define FP8RT_TOKENBOUNDS_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fp8rt {

/// A buffer some kernel reads as token ids: the `indices` operand of
/// train.embedding / train.embedding_grad or the `targets` operand of
/// train.softmax_cross_entropy / train.softmax_cross_entropy_grad, as a
/// kernel input (or a train.reshape of one inside the kernel).
struct TokenBound {
  uint32_t buffer = 0;
  /// The first op in program order that reads it with this range
  /// ("train.embedding"): the messages name it, as the CPU backend's do.
  std::string op;
  bool target = false; ///< a cross-entropy target ("target 300 ..."), else "id 300 ..."
  int64_t limit = 0;   ///< values must lie in [0, limit)
  std::optional<int64_t> ignoreIndex; ///< a target equal to it is accepted
  bool operator==(const TokenBound &o) const {
    return buffer == o.buffer && op == o.op && target == o.target && limit == o.limit &&
           ignoreIndex == o.ignoreIndex;
  }
};

/// Every bound of every function, in program order of first use. A buffer
/// read by several ops has one entry per distinct (kind, limit, ignore index):
/// tokens read by train.embedding and train.embedding_grad of the same table
/// is one entry, named after train.embedding.
std::vector<TokenBound> findTokenBounds(const Program &program);

/// Checks the elements of `bound.buffer` in `data` (the buffer's bytes, i32
/// or i64, any alignment). The message names the buffer and mirrors the CPU
/// backend's: `<backend>: write of buffer 4 ("tokens", i32[8,64]):
/// train.embedding: id 300 at position 5 is outside [0, 256)`.
Status checkTokenIds(const Program &program, const TokenBound &bound, const void *data,
                     const char *backend);

/// checkTokenIds for every entry of `bounds` on `buffer` (none: success).
Status checkTokenWrite(const Program &program, const std::vector<TokenBound> &bounds,
                       uint32_t buffer, const void *data, const char *backend);

} // namespace fp8rt

#endif // FP8RT_TOKENBOUNDS_H
