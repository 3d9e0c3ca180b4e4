//===- MemoryPlan.h - first-fit placement of live ranges in one arena -*- C++ -*-===//
//
// The static memory plan of fp8-lower-to-rt (docs/memory-plan.md): blocks of
// bytes with a live range over the instructions of one function, placed at
// 256-byte-aligned offsets so that no two blocks live at the same time share a
// byte. Knows nothing about MLIR, so it is tested on its own.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_MEMORYPLAN_H
#define FP8C_ANALYSIS_MEMORYPLAN_H

#include <cstdint>
#include <map>
#include <queue>
#include <utility>
#include <vector>

namespace fp8c::rt {

/// `bytes` rounded up to the buffer alignment (256).
int64_t alignToBuffer(int64_t bytes);

/// Byte ranges of the arena, ordered by offset, that a placement must not
/// overlap. A treap whose nodes know their subtree's lowest offset, highest end
/// and widest gap, so that the first fit is found in O(log n) rather than by a
/// walk over every range.
class RangeSet {
public:
  struct Range {
    int64_t offset, bytes;
  };

  RangeSet() = default;
  explicit RangeSet(const std::vector<Range> &ranges);

  /// Adds a range; the handle erases it.
  unsigned insert(Range range);
  void erase(unsigned handle);

  /// The lowest offset o >= `from` where `bytes` (rounded up to the alignment)
  /// overlap no range, a range's end rounded up to the alignment too: what a
  /// walk over the ranges by offset finds, moving past each range the block
  /// would overlap. `from` is aligned.
  int64_t firstFit(int64_t from, int64_t bytes) const;

private:
  struct Node {
    int64_t offset, end; // end: offset + bytes rounded up to the alignment
    unsigned priority;
    int left = -1, right = -1;
    // Of the subtree: the lowest offset, the highest end, and the widest gap
    // between a range and the highest end of the ranges before it.
    int64_t minOffset, maxEnd, widestGap;
  };
  bool less(int a, int b) const;
  void update(int n);
  int merge(int a, int b);
  /// Splits `n` into the nodes ordered before `key` and the rest.
  std::pair<int, int> split(int n, int key);
  int erase(int n, int key);
  bool fitIn(int n, int64_t &offset, int64_t size) const;

  std::vector<Node> nodes;
  int root = -1;
};

/// Places blocks live over inclusive instruction ranges [start, end]. A block
/// freed at instruction i (end == i) is reusable by blocks that start at
/// i + 1 or later: an instruction never writes over its own inputs.
///
/// Placements in order of start (as fp8-lower-to-rt makes them) sweep over
/// the instructions and only look at the blocks live at `start`; an earlier
/// start falls back to looking at every block, with the same result.
class ArenaPlanner {
public:
  /// Blocks are placed at or above `base` (the end of the persistent state).
  explicit ArenaPlanner(int64_t base) : base(alignToBuffer(base)) {}

  using Range = RangeSet::Range;

  /// Places a block at the lowest aligned offset >= base where it overlaps no
  /// placed block whose live range meets [start, end], nor any of `avoid`
  /// (ranges reserved for all time). Returns the offset.
  int64_t place(int64_t bytes, int64_t start, int64_t end, const RangeSet &avoid);
  int64_t place(int64_t bytes, int64_t start, int64_t end) {
    return place(bytes, start, end, RangeSet());
  }
  int64_t place(int64_t bytes, int64_t start, int64_t end, const std::vector<Range> &avoid) {
    return place(bytes, start, end, RangeSet(avoid));
  }

  /// Records a block at a fixed offset (a buffer the host sees at the same
  /// place in every function). The caller guarantees it overlaps nothing live.
  void placeAt(int64_t offset, int64_t bytes, int64_t start, int64_t end);

  /// One past the highest byte any placed block uses (at least base).
  int64_t highWater() const { return top; }

private:
  struct Block {
    int64_t offset, bytes, start, end;
  };
  /// Moves the sweep to instruction `at`: blocks that start by then become
  /// live, blocks that ended before it leave.
  void advanceTo(int64_t at);
  /// Adds block `index` to the live set unless it ended before the sweep.
  void makeLive(unsigned index);
  /// Where [start, end] fits, looking at every block (start before the sweep).
  int64_t placeLookingAtAll(int64_t size, int64_t start, int64_t end, const RangeSet &avoid) const;

  int64_t base;
  int64_t top = 0;
  std::vector<Block> blocks;

  // The sweep: `live` holds the blocks live at instruction `now`, by offset;
  // `pending` those that start later (fixed placements), by start; `ending`
  // the live ones, by end.
  int64_t now = INT64_MIN;
  RangeSet live;
  std::vector<unsigned> liveHandle; // per block, its handle in `live`
  std::multimap<int64_t, unsigned> pending;
  using EndAndBlock = std::pair<int64_t, unsigned>;
  std::priority_queue<EndAndBlock, std::vector<EndAndBlock>, std::greater<>> ending;
};

} // namespace fp8c::rt

#endif // FP8C_ANALYSIS_MEMORYPLAN_H
