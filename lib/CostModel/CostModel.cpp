//===- CostModel.cpp - roofline FP8-vs-bf16 decision per GEMM -------------===//
//
// Formulas and their justification: docs/cost-model.md.
//
//===----------------------------------------------------------------------===//

#include "fp8c/CostModel/CostModel.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace fp8c::cost {

StringRef stringifyGemmKind(GemmKind kind) {
  switch (kind) {
  case GemmKind::Forward:
    return "fwd";
  case GemmKind::DGrad:
    return "dgrad";
  case GemmKind::WGrad:
    return "wgrad";
  }
  llvm_unreachable("unknown GEMM kind");
}

StringRef stringifyGemmPrecision(GemmPrecision precision) {
  return precision == GemmPrecision::FP8 ? "fp8" : "bf16";
}

StringRef stringifyBound(Bound bound) {
  switch (bound) {
  case Bound::Compute:
    return "compute-bound";
  case Bound::Memory:
    return "memory-bound";
  case Bound::Launch:
    return "launch-bound";
  }
  llvm_unreachable("unknown bound");
}

namespace {
/// Bytes per element.
constexpr double bf16Bytes = 2, fp8Bytes = 1, scaleBytes = 4;
/// Blockwise scaling: one fp32 scale per 128 elements (1x128 activation and
/// gradient blocks; 128x128 weight blocks have fewer, counted as 1x128 here).
constexpr double blockElems = 128;

std::string blockwiseReason(const DeviceSpec &device) {
  return formatv("blockwise FP8 GEMMs need sm_90 and cuBLASLt 12.9+; {0} is {1}", device.name,
                 device.arch)
      .str();
}
} // namespace

std::optional<std::string> checkHardRules(const DeviceSpec &device, Recipe recipe, int64_t m,
                                          int64_t k, int64_t n) {
  if (m <= 0 || k <= 0 || n <= 0)
    return formatv("empty GEMM (M={0}, K={1}, N={2})", m, k, n).str();
  if (!device.supports(recipe)) {
    if (recipe == Recipe::Blockwise)
      return "device cannot run blockwise: " + blockwiseReason(device);
    return formatv("device {0} ({1}) cannot run {2} FP8 GEMMs", device.name, device.arch,
                   stringifyRecipe(recipe))
        .str();
  }
  int64_t multiple = recipe == Recipe::Blockwise ? 128 : 16;
  std::string bad;
  for (auto [name, dim] : {std::pair<const char *, int64_t>{"M", m}, {"K", k}, {"N", n}})
    if (dim % multiple != 0)
      bad += formatv("{0}{1}={2}", bad.empty() ? "" : ", ", name, dim).str();
  if (!bad.empty())
    return formatv("dims not multiples of {0} ({1})", multiple, bad).str();
  return std::nullopt;
}

Error checkRecipeSupported(const DeviceSpec &device, Recipe recipe) {
  if (device.supports(recipe))
    return Error::success();
  std::string why = recipe == Recipe::Blockwise
                        ? blockwiseReason(device)
                        : formatv("the device has no {0} FP8 GEMM", stringifyRecipe(recipe)).str();
  return createStringError(
      inconvertibleErrorCode(), "fp8.recipe: %s is not supported on fp8.device %s (%s): %s",
      stringifyRecipe(recipe).str().c_str(), device.name.c_str(), device.arch.c_str(), why.c_str());
}

RooflineTime CostModel::gemmTime(int64_t m, int64_t k, int64_t n, GemmPrecision precision) const {
  double dm = double(m), dk = double(k), dn = double(n);
  bool fp8 = precision == GemmPrecision::FP8;
  double flops = 2 * dm * dk * dn;
  double operandBytes = fp8 ? fp8Bytes : bf16Bytes;
  double bytes = operandBytes * (dm * dk + dk * dn) + bf16Bytes * dm * dn;
  double peakTFlops = fp8 ? device.peakFP8TFlops : device.peakBF16TFlops;
  double effCompute = fp8 ? device.eff.computeFP8 : device.eff.computeBF16;
  double effMemory = fp8 ? device.eff.memoryFP8 : device.eff.memoryBF16;

  RooflineTime t;
  // TFLOP/s * 1e6 = flop/us; GB/s * 1e3 = byte/us.
  t.computeUs = flops / (peakTFlops * effCompute * 1e6);
  t.memoryUs = bytes / (device.memoryGBps * effMemory * 1e3);
  t.us = std::max({t.computeUs, t.memoryUs, device.launchFloorUs});
  if (t.us == device.launchFloorUs && device.launchFloorUs >= t.computeUs &&
      device.launchFloorUs >= t.memoryUs)
    t.bound = Bound::Launch;
  else
    t.bound = t.computeUs >= t.memoryUs ? Bound::Compute : Bound::Memory;
  return t;
}

double CostModel::memoryKernelUs(double bytes) const {
  return std::max(bytes / (device.memoryGBps * device.eff.memoryCast * 1e3), device.launchFloorUs);
}

CastCost CostModel::castCost(int64_t rows, int64_t cols, Recipe recipe,
                             const OperandCast &cast) const {
  CastCost cost;
  if (!cast.needsCast || rows <= 0 || cols <= 0)
    return cost;
  double elems = double(rows) * double(cols);
  double layouts = cast.castTranspose ? 2 : 1;
  double writeBytes = layouts * fp8Bytes * elems;
  double scaleWrites = 0;
  switch (recipe) {
  case Recipe::Tensorwise:
  case Recipe::Delayed:
    break; // one scalar
  case Recipe::Rowwise:
    // One scale per row of each layout written.
    scaleWrites = scaleBytes * (double(rows) + (cast.castTranspose ? double(cols) : 0));
    break;
  case Recipe::Blockwise:
    scaleWrites = layouts * scaleBytes * std::ceil(elems / blockElems);
    break;
  }

  double bytes = 0, us = 0;
  unsigned kernels = 0;
  auto kernel = [&](double kernelBytes) {
    bytes += kernelBytes;
    us += memoryKernelUs(kernelBytes);
    ++kernels;
  };

  // Current tensorwise scaling needs the whole tensor's amax before any
  // element can be cast, so its cast cannot be fused into the producer.
  bool castFused = cast.castFused && recipe != Recipe::Tensorwise;
  if (castFused) {
    // The producer writes the fp8 copy (and its scales) as it goes.
    bytes = writeBytes + scaleWrites;
    us = bytes / (device.memoryGBps * device.eff.memoryCast * 1e3);
  } else {
    if (recipe == Recipe::Tensorwise && !cast.amaxFused)
      kernel(bf16Bytes * elems); // amax pass: one bf16 read
    // The cast (or cast_transpose): one bf16 read, fp8 writes. Delayed scaling
    // records the amax here; rowwise/blockwise compute it here.
    kernel(bf16Bytes * elems + writeBytes + scaleWrites);
  }
  unsigned sharedBy = std::max(1u, cast.sharedBy);
  cost.bytes = int64_t(std::llround(bytes));
  cost.kernels = kernels;
  cost.us = us / sharedBy;
  return cost;
}

GemmEstimate CostModel::estimate(const GemmDesc &gemm) const {
  GemmEstimate e;
  std::optional<std::string> rule = checkHardRules(device, gemm.recipe, gemm.m, gemm.k, gemm.n);
  if (gemm.m <= 0 || gemm.k <= 0 || gemm.n <= 0) {
    e.reason = *rule;
    return e;
  }
  e.bf16 = gemmTime(gemm.m, gemm.k, gemm.n, GemmPrecision::BF16);
  e.fp8Gemm = gemmTime(gemm.m, gemm.k, gemm.n, GemmPrecision::FP8);
  e.castA = castCost(gemm.m, gemm.k, gemm.recipe, gemm.a);
  e.castB = castCost(gemm.k, gemm.n, gemm.recipe, gemm.b);
  e.tBF16Us = e.bf16.us;
  e.tFP8GemmUs = e.fp8Gemm.us;
  e.tCastUs = e.castA.us + e.castB.us;
  e.speedup = e.tBF16Us / (e.tFP8GemmUs + e.tCastUs);

  if (rule) {
    e.reason = *rule;
    return e;
  }
  std::string times = formatv("bf16 {0:f1} us vs fp8 {1:f1} us + casts {2:f1} us", e.tBF16Us,
                              e.tFP8GemmUs, e.tCastUs)
                          .str();
  if (e.speedup >= threshold) {
    e.decision = GemmPrecision::FP8;
    e.reason = formatv("predicted {0:f2}x >= threshold {1:f2} ({2}; bf16 GEMM {3})", e.speedup,
                       threshold, times, stringifyBound(e.bf16.bound))
                   .str();
    return e;
  }
  std::string below =
      formatv("predicted {0:f2}x < threshold {1:f2} ({2})", e.speedup, threshold, times).str();
  if (e.bf16.bound == Bound::Launch)
    e.reason = formatv("too small: the bf16 GEMM is launch-bound (compute {0:f2} us, memory "
                       "{1:f2} us, floor {2:f1} us); {3}",
                       e.bf16.computeUs, e.bf16.memoryUs, device.launchFloorUs, below)
                   .str();
  else if (e.bf16.bound == Bound::Memory)
    e.reason = "memory-bound: fp8 halves only the operand bytes; " + below;
  else
    e.reason = "cast overhead exceeds the GEMM saving: " + below;
  return e;
}

} // namespace fp8c::cost
