//===- MemoryPlan.cpp - first-fit placement of live ranges in one arena ---===//

#include "fp8c/Analysis/MemoryPlan.h"

#include "fp8c/Dialect/RT/IR/RTDialect.h"

#include <algorithm>
#include <initializer_list>

using namespace fp8c::rt;

int64_t fp8c::rt::alignToBuffer(int64_t bytes) {
  constexpr int64_t a = RTDialect::kBufferAlignment;
  return (bytes + a - 1) / a * a;
}

//===----------------------------------------------------------------------===//
// RangeSet
//===----------------------------------------------------------------------===//

RangeSet::RangeSet(const std::vector<Range> &ranges) {
  for (const Range &r : ranges)
    insert(r);
}

/// By offset; equal offsets by insertion.
bool RangeSet::less(int a, int b) const {
  return std::make_pair(nodes[a].offset, a) < std::make_pair(nodes[b].offset, b);
}

void RangeSet::update(int n) {
  Node &x = nodes[n];
  x.minOffset = x.offset;
  x.widestGap = INT64_MIN;
  int64_t endBefore = x.end; // the highest end up to and including x
  if (x.left >= 0) {
    const Node &l = nodes[x.left];
    x.minOffset = l.minOffset;
    x.widestGap = std::max(l.widestGap, x.offset - l.maxEnd);
    endBefore = std::max(l.maxEnd, x.end);
  }
  x.maxEnd = endBefore;
  if (x.right >= 0) {
    const Node &r = nodes[x.right];
    x.widestGap = std::max({x.widestGap, r.widestGap, r.minOffset - endBefore});
    x.maxEnd = std::max(endBefore, r.maxEnd);
  }
}

int RangeSet::merge(int a, int b) {
  if (a < 0)
    return b;
  if (b < 0)
    return a;
  if (nodes[a].priority > nodes[b].priority) {
    nodes[a].right = merge(nodes[a].right, b);
    update(a);
    return a;
  }
  nodes[b].left = merge(a, nodes[b].left);
  update(b);
  return b;
}

std::pair<int, int> RangeSet::split(int n, int key) {
  if (n < 0)
    return {-1, -1};
  if (less(n, key)) {
    auto [l, r] = split(nodes[n].right, key);
    nodes[n].right = l;
    update(n);
    return {n, r};
  }
  auto [l, r] = split(nodes[n].left, key);
  nodes[n].left = r;
  update(n);
  return {l, n};
}

unsigned RangeSet::insert(Range range) {
  int n = nodes.size();
  // A fixed hash of the index: the treap's shape, not the result, depends on it.
  uint64_t h = (uint64_t(n) + 1) * 0x9E3779B97F4A7C15ull;
  h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ull;
  nodes.push_back({range.offset, alignToBuffer(range.offset + range.bytes), unsigned(h >> 32), -1,
                   -1, 0, 0, 0});
  update(n);
  auto [before, after] = split(root, n);
  root = merge(merge(before, n), after);
  return n;
}

void RangeSet::erase(unsigned handle) { root = erase(root, handle); }

int RangeSet::erase(int n, int key) {
  if (n == key)
    return merge(nodes[n].left, nodes[n].right);
  if (less(key, n))
    nodes[n].left = erase(nodes[n].left, key);
  else
    nodes[n].right = erase(nodes[n].right, key);
  update(n);
  return n;
}

/// Walks the subtree `n` by offset as the first-fit scan does: stops (true)
/// at the first range that starts `size` bytes or more above `offset`, else
/// moves `offset` past each range's end. A subtree without a gap that wide,
/// or wholly below `offset`, is passed in one step.
bool RangeSet::fitIn(int n, int64_t &offset, int64_t size) const {
  if (n < 0)
    return false;
  const Node &x = nodes[n];
  if (x.minOffset >= offset + size)
    return true;
  if (x.widestGap < size || (size > 0 && x.maxEnd <= offset)) {
    offset = std::max(offset, x.maxEnd);
    return false;
  }
  if (fitIn(x.left, offset, size))
    return true;
  if (x.offset >= offset + size)
    return true;
  offset = std::max(offset, x.end);
  return fitIn(x.right, offset, size);
}

int64_t RangeSet::firstFit(int64_t from, int64_t bytes) const {
  int64_t offset = from;
  fitIn(root, offset, alignToBuffer(bytes));
  return offset;
}

//===----------------------------------------------------------------------===//
// ArenaPlanner
//===----------------------------------------------------------------------===//

namespace {
/// The lowest offset >= `from` that is a first fit in every set: each set's
/// fit moves it up until none does.
int64_t firstFitInAll(std::initializer_list<const RangeSet *> sets, int64_t from, int64_t bytes) {
  int64_t offset = from;
  for (bool moved = true; moved;) {
    moved = false;
    for (const RangeSet *set : sets) {
      int64_t fit = set->firstFit(offset, bytes);
      moved |= fit != offset;
      offset = fit;
    }
  }
  return offset;
}
} // namespace

int64_t ArenaPlanner::place(int64_t bytes, int64_t start, int64_t end, const RangeSet &avoid) {
  int64_t offset;
  if (start < now) {
    offset = placeLookingAtAll(bytes, start, end, avoid);
  } else {
    advanceTo(start);
    // Fixed placements that start after `start` are not live yet, but meet
    // [start, end] when they start by `end`.
    RangeSet later;
    for (auto it = pending.begin(); it != pending.end() && it->first <= end; ++it)
      later.insert({blocks[it->second].offset, blocks[it->second].bytes});
    offset = firstFitInAll({&live, &later, &avoid}, base, bytes);
  }
  placeAt(offset, bytes, start, end);
  return offset;
}

int64_t ArenaPlanner::placeLookingAtAll(int64_t bytes, int64_t start, int64_t end,
                                        const RangeSet &avoid) const {
  RangeSet meeting;
  for (const Block &b : blocks)
    if (b.start <= end && start <= b.end)
      meeting.insert({b.offset, b.bytes});
  return firstFitInAll({&meeting, &avoid}, base, bytes);
}

void ArenaPlanner::placeAt(int64_t offset, int64_t bytes, int64_t start, int64_t end) {
  unsigned index = blocks.size();
  blocks.push_back({offset, alignToBuffer(bytes), start, end});
  liveHandle.push_back(0);
  top = std::max({top, base, offset + alignToBuffer(bytes)});
  if (start > now)
    pending.insert({start, index});
  else
    makeLive(index);
}

void ArenaPlanner::makeLive(unsigned index) {
  const Block &b = blocks[index];
  if (b.end < now)
    return; // over before the sweep got here
  liveHandle[index] = live.insert({b.offset, b.bytes});
  ending.push({b.end, index});
}

void ArenaPlanner::advanceTo(int64_t at) {
  now = at;
  while (!pending.empty() && pending.begin()->first <= now) {
    unsigned index = pending.begin()->second;
    pending.erase(pending.begin());
    makeLive(index);
  }
  while (!ending.empty() && ending.top().first < now) {
    live.erase(liveHandle[ending.top().second]);
    ending.pop();
  }
}
