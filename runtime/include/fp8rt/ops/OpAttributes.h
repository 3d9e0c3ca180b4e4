//===- OpAttributes.h - Attributes of the kernel ops that need a struct -*- C++ -*-===//
//
// The attributes (and, for attention, the shape) of the kernel ops whose
// parameters travel as a struct from the op table's check to every backend's
// implementation, with the rules a program must satisfy. Backend-neutral:
// the loader validates through them (ops/), the CPU kernels (cpu/) and the
// CUDA emitters (cuda/) take them.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_OPS_OPATTRIBUTES_H
#define FP8RT_OPS_OPATTRIBUTES_H

#include "fp8rt/Status.h"

#include <cstdint>
#include <optional>

namespace fp8rt::ops {

/// Shape and attributes of `train.attention` / `train.attention_grad`.
/// q and the output are [batch, seqLen, nHeads·headDim]; k and v are
/// [batch, seqLen, nKvHeads·headDim]; head h uses key/value head
/// h / (nHeads / nKvHeads). `ropeTheta` present: rotary embeddings
/// (Hugging Face rotate-half) at positions 0 … seqLen-1 of each sequence.
struct AttentionConfig {
  int64_t batch = 0;
  int64_t seqLen = 0;
  int64_t nHeads = 0;
  int64_t nKvHeads = 0;
  int64_t headDim = 0;
  bool causal = true;
  std::optional<double> ropeTheta;
};

/// Checks an AttentionConfig: positive sizes, nKvHeads dividing nHeads, an
/// even headDim and a positive finite theta with RoPE.
Status verifyAttentionConfig(const AttentionConfig &config);

/// A dimension handed to a GEMM library (OpenBLAS, cuBLASLt), which take int:
/// kOutOfRange "<what> is N, beyond the BLAS limit 2147483647" above INT_MAX.
Status checkBlasInt(const char *what, int64_t v);

enum class LRScheduleKind : uint8_t { Constant, Cosine };

/// The attributes of train.lr_schedule.
struct LRSchedule {
  LRScheduleKind kind = LRScheduleKind::Constant;
  double lr = 0;
  int64_t warmupSteps = 0;
  int64_t totalSteps = 0;
  double minLr = 0;
};

/// The op verifier's rules, for a schedule read from a program file: lr > 0
/// (finite), warmupSteps ≥ 0; cosine: totalSteps > warmupSteps and
/// 0 ≤ minLr ≤ lr; constant: totalSteps == 0 and minLr == 0.
Status validateLRSchedule(const LRSchedule &schedule);

/// The attributes of train.adamw_update.
struct AdamWConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0.01;
};

/// The attributes of train.sgd_update.
struct SGDConfig {
  double momentum = 0;
  double weightDecay = 0;
};

} // namespace fp8rt::ops

#endif // FP8RT_OPS_OPATTRIBUTES_H
