//===- MemoryPlan.cpp - first-fit placement of live ranges in one arena ---===//

#include "fp8c/Dialect/RT/Transforms/MemoryPlan.h"

#include "fp8c/Dialect/RT/IR/RTDialect.h"

#include <algorithm>

using namespace fp8c::rt;

int64_t fp8c::rt::alignToBuffer(int64_t bytes) {
  constexpr int64_t a = RTDialect::kBufferAlignment;
  return (bytes + a - 1) / a * a;
}

int64_t ArenaPlanner::place(int64_t bytes, int64_t start, int64_t end,
                            const std::vector<Range> &avoid) {
  // Everything this block must not overlap, by offset; the lowest gap that
  // fits is the first fit.
  std::vector<Range> taken = avoid;
  for (const Block &b : blocks)
    if (b.start <= end && start <= b.end)
      taken.push_back({b.offset, b.bytes});
  std::sort(taken.begin(), taken.end(),
            [](const Range &x, const Range &y) { return x.offset < y.offset; });
  int64_t size = alignToBuffer(bytes);
  int64_t offset = base;
  for (const Range &r : taken) {
    if (r.offset >= offset + size)
      break;
    offset = std::max(offset, alignToBuffer(r.offset + r.bytes));
  }
  placeAt(offset, bytes, start, end);
  return offset;
}

void ArenaPlanner::placeAt(int64_t offset, int64_t bytes, int64_t start, int64_t end) {
  blocks.push_back({offset, alignToBuffer(bytes), start, end});
  top = std::max({top, base, offset + alignToBuffer(bytes)});
}
