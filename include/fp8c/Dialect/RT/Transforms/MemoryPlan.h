//===- MemoryPlan.h - first-fit placement of live ranges in one arena -*- C++ -*-===//
//
// The static memory plan of fp8-lower-to-rt (docs/memory-plan.md): blocks of
// bytes with a live range over the instructions of one function, placed at
// 256-byte-aligned offsets so that no two blocks live at the same time share a
// byte. Knows nothing about MLIR, so it is tested on its own.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_DIALECT_RT_TRANSFORMS_MEMORYPLAN_H
#define FP8C_DIALECT_RT_TRANSFORMS_MEMORYPLAN_H

#include <cstdint>
#include <vector>

namespace fp8c::rt {

/// `bytes` rounded up to the buffer alignment (256).
int64_t alignToBuffer(int64_t bytes);

/// Places blocks live over inclusive instruction ranges [start, end]. A block
/// freed at instruction i (end == i) is reusable by blocks that start at
/// i + 1 or later: an instruction never writes over its own inputs.
class ArenaPlanner {
public:
  /// Blocks are placed at or above `base` (the end of the persistent state).
  explicit ArenaPlanner(int64_t base) : base(alignToBuffer(base)) {}

  struct Range {
    int64_t offset, bytes;
  };

  /// Places a block at the lowest aligned offset >= base where it overlaps no
  /// placed block whose live range meets [start, end], nor any of `avoid`
  /// (ranges reserved for all time). Returns the offset.
  int64_t place(int64_t bytes, int64_t start, int64_t end,
                const std::vector<Range> &avoid = {});

  /// Records a block at a fixed offset (a buffer the host sees at the same
  /// place in every function). The caller guarantees it overlaps nothing live.
  void placeAt(int64_t offset, int64_t bytes, int64_t start, int64_t end);

  /// One past the highest byte any placed block uses (at least base).
  int64_t highWater() const { return top; }

private:
  struct Block {
    int64_t offset, bytes, start, end;
  };
  int64_t base;
  int64_t top = 0;
  std::vector<Block> blocks;
};

} // namespace fp8c::rt

#endif // FP8C_DIALECT_RT_TRANSFORMS_MEMORYPLAN_H
