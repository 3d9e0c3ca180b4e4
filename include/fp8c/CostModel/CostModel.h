//===- CostModel.h - roofline FP8-vs-bf16 decision per GEMM -----*- C++ -*-===//
//
// time = max(flops / (peak * eff_compute), bytes / (bandwidth * eff_memory),
//            launch floor)
// for each GEMM (bf16, or fp8 with bf16 output) and each cast kernel the FP8
// version needs; a GEMM goes fp8 when it passes the hard rules and
//   speedup = t_bf16 / (t_fp8_gemm + t_cast) >= threshold.
// Formulas and defaults: docs/cost-model.md.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_COSTMODEL_COSTMODEL_H
#define FP8C_COSTMODEL_COSTMODEL_H

#include "fp8c/CostModel/DeviceSpec.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fp8c::cost {

/// Which GEMM of a linear layer: forward, gradient of the input, of the weight.
enum class GemmKind { Forward, DGrad, WGrad };
llvm::StringRef stringifyGemmKind(GemmKind kind);

enum class GemmPrecision { BF16, FP8 };
llvm::StringRef stringifyGemmPrecision(GemmPrecision precision);

/// What limits a roofline time.
enum class Bound { Compute, Memory, Launch };
llvm::StringRef stringifyBound(Bound bound);

/// How one bf16 operand of a GEMM becomes fp8.
struct OperandCast {
  /// False: the operand already exists in fp8 (nothing to pay here).
  bool needsCast = true;
  /// Tensorwise current scaling: the amax is computed in the producer's
  /// epilogue, so there is no separate amax pass (saves one bf16 read). Other
  /// recipes compute the amax inside the cast kernel anyway.
  bool amaxFused = false;
  /// Delayed scaling: the cast itself is fused into the producer, which writes
  /// the fp8 copy: no launch and no bf16 read, only the 1-byte write.
  bool castFused = false;
  /// The cast kernel is a cast_transpose: one read, both layouts written
  /// (one more 1-byte write); the other layout feeds another GEMM.
  bool castTranspose = false;
  /// Number of GEMMs of the step that use this cast's output (a weight cast
  /// once per step feeds forward and dgrad: 2; times k accumulation
  /// micro-batches: 2k; cast_transpose of an activation: forward and wgrad).
  /// The cast's time is split evenly, so summed over the step it counts once.
  unsigned sharedBy = 1;
};

/// One GEMM C[M,N] = A[M,K] * B[K,N] (K the contraction), bf16 output.
struct GemmDesc {
  int64_t m = 0, k = 0, n = 0;
  GemmKind kind = GemmKind::Forward;
  Recipe recipe = Recipe::Tensorwise;
  /// A is M x K, B is K x N.
  OperandCast a, b;
};

struct RooflineTime {
  double us = 0;
  double computeUs = 0, memoryUs = 0;
  Bound bound = Bound::Launch;
};

struct CastCost {
  /// HBM bytes moved by the cast work of this operand (before sharing).
  int64_t bytes = 0;
  /// Kernels launched (each at least the launch floor).
  unsigned kernels = 0;
  /// Time of this operand's cast work divided by `sharedBy`.
  double us = 0;
};

struct GemmEstimate {
  RooflineTime bf16, fp8Gemm;
  CastCost castA, castB;
  double tBF16Us = 0, tFP8GemmUs = 0, tCastUs = 0;
  /// t_bf16 / (t_fp8_gemm + t_cast).
  double speedup = 0;
  GemmPrecision decision = GemmPrecision::BF16;
  /// One line, e.g. "too small: launch-bound (...)", "hard rule: ...",
  /// "predicted 1.27x >= threshold 1.00".
  std::string reason;
};

/// Why `recipe` cannot run the GEMM (M, K, N) in fp8 on `device`, or nothing:
/// non-positive dims, dims not multiples of 16 (of 128 for blockwise), a
/// recipe the device lacks.
std::optional<std::string> checkHardRules(const DeviceSpec &device, Recipe recipe, int64_t m,
                                          int64_t k, int64_t n);

/// Error naming the setting when the device cannot run the recipe at all, e.g.
/// "fp8.recipe: blockwise is not supported on l40s (sm_89): ...".
llvm::Error checkRecipeSupported(const DeviceSpec &device, Recipe recipe);

class CostModel {
public:
  explicit CostModel(DeviceSpec device, double threshold = 1.0)
      : device(std::move(device)), threshold(threshold) {}

  const DeviceSpec &getDevice() const { return device; }
  double getThreshold() const { return threshold; }

  /// Roofline of one GEMM: 2MKN flops; operands 2 (bf16) or 1 (fp8) bytes per
  /// element, output bf16.
  RooflineTime gemmTime(int64_t m, int64_t k, int64_t n, GemmPrecision precision) const;
  /// The cast work of one rows x cols bf16 operand under `recipe`.
  CastCost castCost(int64_t rows, int64_t cols, Recipe recipe, const OperandCast &cast) const;
  /// A memory-only kernel moving `bytes`: max(bytes / (bw * eff_cast), floor).
  double memoryKernelUs(double bytes) const;

  /// Hard rules, then the roofline decision.
  GemmEstimate estimate(const GemmDesc &gemm) const;

private:
  DeviceSpec device;
  double threshold;
};

} // namespace fp8c::cost

#endif // FP8C_COSTMODEL_COSTMODEL_H
