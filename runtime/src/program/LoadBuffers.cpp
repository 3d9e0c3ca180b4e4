//===- LoadBuffers.cpp - The buffers of a program file -------------------===//
//
// Each buffer (name, role, dtype, shape, offset, init, constant data), then
// the checks across buffers: unique names, persistent buffers that do not
// overlap.
//
//===----------------------------------------------------------------------===//

#include "Loader.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <string_view>

namespace fp8rt::loader {

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// Version 5: a persistent buffer that holds this rank's shard of a tensor of
/// the full shape `v`: a 1-D buffer of ceil(n / world_size) elements.
Status Loader::readShardOf(const json::Value &v, const JsonPath &p, Buffer &b) const {
  if (!isPersistent(b.role) || b.role == BufferRole::Constant)
    return fail(p, "only param, optimizer, fp8_state and grad_accum buffers are shards, "
                   "this one is " +
                       std::string(roleName(b.role)));
  FP8RT_RETURN_IF_ERROR(readShape(v, p, b.type.dtype, b.shardOf));
  const int64_t n = TensorType{b.type.dtype, b.shardOf}.numElements();
  const int64_t c = shardElements(n, program_.info.worldSize);
  if (b.type.shape != std::vector<int64_t>{c})
    return fail(p, "the shard of a tensor of " + num(uint64_t(n)) + " elements over " +
                       num(uint64_t(program_.info.worldSize)) + " ranks (info.world_size) is [" +
                       num(uint64_t(c)) + "], but the buffer is " + b.type.str());
  return Status::success();
}

Status Loader::readBuffer(const json::Value &v, const JsonPath &p, Buffer &b) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p,
                                  {"a buffer",
                                   {"name", "role", "dtype", "shape", "offset"},
                                   {"init", "init_std", "data", "shard_of"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "name", b.name));
  std::string role;
  FP8RT_RETURN_IF_ERROR(readString(v, p, "role", role));
  if (!parseRole(role, b.role))
    return fail(p.key("role"), "unknown role " + json::quote(role) +
                                   " (expected param, optimizer, fp8_state, "
                                   "grad_accum, constant, input, output, metric, "
                                   "grad or scratch)");
  FP8RT_RETURN_IF_ERROR(readDTypeAndShape(v, p, b.type));

  // The view lies inside the arena: offset + bytes <= arena_bytes, computed
  // without forming a sum that could overflow.
  FP8RT_RETURN_IF_ERROR(readUint(v, p, "offset", 0, UINT64_MAX, b.offset));
  if (b.offset % Program::kAlignment != 0)
    return fail(p.key("offset"),
                num(b.offset) + " is not a multiple of " + num(Program::kAlignment));
  const uint64_t bytes = b.bytes();
  if (bytes > program_.arenaBytes || b.offset > program_.arenaBytes - bytes)
    return fail(p.key("offset"), "the buffer's " + num(bytes) + " bytes at offset " +
                                     num(b.offset) +
                                     " run past the end of the arena (arena_bytes " +
                                     num(program_.arenaBytes) + ")");

  // Initialisation: the trainer initialises these roles, the loader fills
  // constants, nothing else keeps its bytes between calls.
  const bool initialised = b.role == BufferRole::Param || b.role == BufferRole::Optimizer ||
                           b.role == BufferRole::FP8State || b.role == BufferRole::GradAccum;
  if (v.find("init")) {
    if (!initialised)
      return fail(p.key("init"), "only param, optimizer, fp8_state and grad_accum "
                                 "buffers are initialised, this one is " +
                                     std::string(roleName(b.role)));
    int kind = 0;
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "init", {"zeros", "ones", "normal"}, kind));
    b.init = static_cast<InitKind>(kind + 1);
  } else if (initialised) {
    return fail(p, "missing key \"init\" (a " + std::string(roleName(b.role)) +
                       " buffer needs zeros, ones or normal)");
  }
  if (const json::Value *std = v.find("init_std")) {
    if (b.init != InitKind::Normal)
      return fail(p.key("init_std"), "only a buffer with init \"normal\" has a "
                                     "standard deviation");
    FP8RT_RETURN_IF_ERROR(readFiniteNumber(*std, p.key("init_std"), b.initStd));
    if (!(b.initStd > 0))
      return expected(p.key("init_std"), "a positive number", *std);
  } else if (b.init == InitKind::Normal) {
    return fail(p, "missing key \"init_std\" (init \"normal\" needs it)");
  }

  if (const json::Value *full = v.find("shard_of"))
    FP8RT_RETURN_IF_ERROR(readShardOf(*full, p.key("shard_of"), b));

  if (const json::Value *data = v.find("data")) {
    if (b.role != BufferRole::Constant)
      return fail(p.key("data"),
                  "only constant buffers have data, this one is " + std::string(roleName(b.role)));
    return readConstantData(*data, p.key("data"), b);
  }
  if (b.role == BufferRole::Constant)
    return fail(p, "missing key \"data\" (a constant buffer needs its elements)");
  return Status::success();
}

Status Loader::readConstantData(const json::Value &v, const JsonPath &p, Buffer &b) const {
  const uint64_t count = uint64_t(b.type.numElements());
  if (v.kind != json::Kind::Array)
    return expected(p, "an array of " + num(count) + " numbers", v);
  if (v.items.size() != count)
    return fail(p, "expected " + num(count) + " elements (shape " + shapeString(b.type.shape) +
                       "), found " + num(v.items.size()));
  b.data.resize(v.items.size());
  // The backend converts these to the dtype; keep them in its range so that
  // the conversion is defined (integers exactly, floats through f32).
  double lo = -FLT_MAX, hi = FLT_MAX;
  switch (b.type.dtype) {
  case DType::I8:
    lo = -128, hi = 127;
    break;
  case DType::I32:
    lo = -2147483648.0, hi = 2147483647.0;
    break;
  case DType::I64:
    lo = -kMaxExactInteger, hi = kMaxExactInteger;
    break;
  default:
    break;
  }
  const bool integer = !isFloat(b.type.dtype);
  for (size_t i = 0; i < v.items.size(); ++i) {
    double x = 0;
    FP8RT_RETURN_IF_ERROR(readFiniteNumber(v.items[i], p.index(i), x));
    if ((integer && std::floor(x) != x) || x < lo || x > hi)
      return expected(p.index(i),
                      std::string(integer ? "an integer" : "a number") + " in [" +
                          (integer ? std::to_string(int64_t(lo)) : "-FLT_MAX") + ", " +
                          (integer ? std::to_string(int64_t(hi)) : "FLT_MAX") + "] for a " +
                          dtypeName(b.type.dtype) + " constant",
                      v.items[i]);
    b.data[i] = x;
  }
  return Status::success();
}

Status Loader::checkBufferNames() const {
  // Persistent and host-visible buffers are found by name (checkpoints,
  // inputs, metrics): one name, one buffer.
  std::vector<std::pair<std::string_view, size_t>> named;
  for (size_t i = 0; i < program_.buffers.size(); ++i) {
    const Buffer &b = program_.buffers[i];
    if (b.role == BufferRole::Scratch)
      continue;
    if (b.name.empty())
      return fail(JsonPath().key("buffers").index(i).key("name"),
                  "a " + std::string(roleName(b.role)) + " buffer needs a name");
    named.emplace_back(b.name, i);
  }
  std::sort(named.begin(), named.end());
  for (size_t k = 1; k < named.size(); ++k)
    if (named[k].first == named[k - 1].first)
      return fail(JsonPath().key("buffers").index(named[k].second).key("name"),
                  "duplicate name " + json::quote(named[k].first) + " (also buffers[" +
                      num(named[k - 1].second) +
                      "]); persistent, input, output, metric and grad buffers "
                      "have unique names");
  return Status::success();
}

/// The grad buffers "grad.X" that coincide exactly (same offset, same bytes)
/// with their parameter's accumulator "grad_accum.X": train_step's spent
/// accumulator holds the gradient the host reads after the call. A grad
/// buffer that overlaps its accumulator in part is an error.
StatusOr<std::vector<bool>> Loader::gradsInAccumulators() const {
  const std::vector<Buffer> &buffers = program_.buffers;
  std::map<std::string_view, size_t> accumulators;
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].role == BufferRole::GradAccum)
      accumulators.emplace(buffers[i].name, i);
  std::vector<bool> inAccumulator(buffers.size(), false);
  const std::string_view gradPrefix = "grad.";
  for (size_t i = 0; i < buffers.size(); ++i) {
    const Buffer &g = buffers[i];
    if (g.role != BufferRole::Grad || g.name.compare(0, gradPrefix.size(), gradPrefix) != 0)
      continue;
    auto it = accumulators.find("grad_accum." + g.name.substr(gradPrefix.size()));
    if (it == accumulators.end())
      continue;
    const Buffer &a = buffers[it->second];
    if (g.offset == a.offset && g.bytes() == a.bytes()) {
      inAccumulator[i] = true;
    } else if (g.offset < a.offset + a.bytes() && a.offset < g.offset + g.bytes()) {
      auto range = [](const Buffer &b) {
        return "bytes [" + num(b.offset) + ", " + num(b.offset + b.bytes()) + ")";
      };
      return fail(JsonPath().key("buffers").index(i),
                  "grad buffer " + json::quote(g.name) + " (" + range(g) +
                      ") overlaps its accumulator " + json::quote(a.name) + " of buffers[" +
                      num(it->second) + "] (" + range(a) +
                      ") in part; a grad buffer shares all of its accumulator's bytes (the same "
                      "offset and size) or none of them");
    }
  }
  return inAccumulator;
}

Status Loader::checkBufferOverlaps() const {
  // Sweep the buffers in offset order. A pair overlaps when the later one
  // starts before the earlier one ends; it is an error when either is
  // persistent, so it is enough to remember the furthest end of all buffers
  // and of persistent ones seen so far.
  const std::vector<Buffer> &buffers = program_.buffers;
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].offset != buffers[b].offset ? buffers[a].offset < buffers[b].offset : a < b;
  });
  auto end = [&](size_t i) { return buffers[i].offset + buffers[i].bytes(); };
  auto range = [&](size_t k) {
    return "bytes [" + num(buffers[k].offset) + ", " + num(end(k)) + ")";
  };
  FP8RT_ASSIGN_OR_RETURN(std::vector<bool> inAccumulator, gradsInAccumulators());
  const size_t none = SIZE_MAX;
  size_t furthest = none, furthestPersistent = none;
  for (size_t i : order) {
    const Buffer &b = buffers[i];
    // Its accumulator's bytes: whatever overlaps it overlaps the accumulator.
    if (inAccumulator[i])
      continue;
    size_t other = none;
    if (isPersistent(b.role) && furthest != none && b.offset < end(furthest))
      other = furthest;
    else if (furthestPersistent != none && b.offset < end(furthestPersistent))
      other = furthestPersistent;
    if (other != none) {
      const size_t later = std::max(i, other), earlier = std::min(i, other);
      const bool gradOnAccumulator = (buffers[later].role == BufferRole::Grad &&
                                      buffers[earlier].role == BufferRole::GradAccum) ||
                                     (buffers[earlier].role == BufferRole::Grad &&
                                      buffers[later].role == BufferRole::GradAccum);
      return fail(JsonPath().key("buffers").index(later),
                  std::string(roleName(buffers[later].role)) + " buffer " +
                      json::quote(buffers[later].name) + " (" + range(later) + ") overlaps " +
                      roleName(buffers[earlier].role) + " buffer " +
                      json::quote(buffers[earlier].name) + " of buffers[" + num(earlier) + "] (" +
                      range(earlier) +
                      "); persistent buffers share their bytes with no other buffer" +
                      (gradOnAccumulator ? " (a grad buffer \"grad.X\" may only coincide "
                                           "exactly with \"grad_accum.X\", its own parameter's "
                                           "accumulator)"
                                         : ""));
    }
    if (furthest == none || end(i) > end(furthest))
      furthest = i;
    if (isPersistent(b.role) && (furthestPersistent == none || end(i) > end(furthestPersistent)))
      furthestPersistent = i;
  }
  return Status::success();
}

} // namespace fp8rt::loader
