//===- OpAttributes.cpp - The rules of the op attribute structs ----------===//

#include "fp8rt/ops/OpAttributes.h"

#include <climits>
#include <cmath>
#include <string>

namespace fp8rt::ops {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

} // namespace

Status checkBlasInt(const char *what, int64_t v) {
  if (v > INT_MAX)
    return outOfRangeError(std::string(what) + " is " + str(v) + ", beyond the BLAS limit " +
                           str(INT_MAX));
  return Status::success();
}

Status verifyAttentionConfig(const AttentionConfig &c) {
  if (c.batch < 0 || c.seqLen < 0)
    return invalidArgumentError("attention: batch " + str(c.batch) + " and sequence length " +
                                str(c.seqLen) + " must be >= 0");
  if (c.nHeads <= 0 || c.nKvHeads <= 0 || c.headDim <= 0)
    return invalidArgumentError("attention: n_heads " + str(c.nHeads) + ", n_kv_heads " +
                                str(c.nKvHeads) + ", head_dim " + str(c.headDim) +
                                " must be positive");
  if (c.nHeads % c.nKvHeads != 0)
    return invalidArgumentError("attention: n_kv_heads " + str(c.nKvHeads) +
                                " does not divide n_heads " + str(c.nHeads));
  if (c.ropeTheta) {
    if (!(*c.ropeTheta > 0.0) || !std::isfinite(*c.ropeTheta))
      return invalidArgumentError("attention: rope_theta " + std::to_string(*c.ropeTheta) +
                                  " must be positive and finite");
    if (c.headDim % 2 != 0)
      return invalidArgumentError("attention: RoPE needs an even head_dim, got " + str(c.headDim));
  }
  for (int64_t v : {c.seqLen, c.nHeads * c.headDim})
    FP8RT_RETURN_IF_ERROR(checkBlasInt("attention: dimension", v));
  return Status::success();
}

Status validateLRSchedule(const LRSchedule &s) {
  if (!(s.lr > 0) || !std::isfinite(s.lr))
    return invalidArgumentError("lr_schedule: lr is " + std::to_string(s.lr) +
                                ", expected a positive finite value");
  if (s.warmupSteps < 0)
    return invalidArgumentError("lr_schedule: warmup_steps is " + std::to_string(s.warmupSteps) +
                                ", expected >= 0");
  if (s.kind == LRScheduleKind::Constant) {
    if (s.totalSteps != 0 || s.minLr != 0)
      return invalidArgumentError("lr_schedule: constant schedule with total_steps " +
                                  std::to_string(s.totalSteps) + " and min_lr " +
                                  std::to_string(s.minLr) + ", expected neither");
    return Status::success();
  }
  if (s.totalSteps <= s.warmupSteps)
    return invalidArgumentError("lr_schedule: cosine schedule with total_steps " +
                                std::to_string(s.totalSteps) + ", expected > warmup_steps " +
                                std::to_string(s.warmupSteps));
  if (!(s.minLr >= 0 && s.minLr <= s.lr))
    return invalidArgumentError("lr_schedule: min_lr is " + std::to_string(s.minLr) +
                                ", expected 0 <= min_lr <= lr " + std::to_string(s.lr));
  return Status::success();
}

} // namespace fp8rt::ops
