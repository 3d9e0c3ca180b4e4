//===- FP8Settings.h - the `train.config.fp8` dictionary --------*- C++ -*-===//
//
// The FP8 passes read the user's settings from one place: the `fp8` entry of the
// module's `train.config` dictionary, which the YAML front end writes
// (docs/model-description.md). Hand-written modules may leave keys out; missing
// keys take the defaults below, and a missing dictionary means FP8 disabled.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_FP8SETTINGS_H
#define FP8C_ANALYSIS_FP8SETTINGS_H

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <vector>

namespace fp8c::fp8 {

/// One `overrides` entry: GEMMs whose name contains `match` get the given
/// precision per kind (true = fp8, false = bf16, unset = no opinion).
struct GemmOverride {
  std::string match;
  std::optional<bool> forward, dgrad, wgrad;
};

struct FP8Settings {
  bool enabled = false;
  Recipe recipe = Recipe::tensorwise;
  Format format = Format::hybrid;
  int64_t margin = 0;
  bool powerOf2Scales = false;
  // Delayed scaling only.
  int64_t amaxHistoryLen = 16;
  AmaxComputeAlgo amaxComputeAlgo = AmaxComputeAlgo::max;
  int64_t interval = 1;
  // GEMM selection.
  std::vector<std::string> filterFQNs;
  bool firstLayerBF16 = false;
  bool lastLayerBF16 = false;
  bool autoFilterRoofline = true;
  std::string device = "h100-sxm";
  double threshold = 1.0;
  std::vector<GemmOverride> overrides;
};

/// Reads `train.config.fp8` of `module`. Bad entries are reported on the module
/// with the key path (`train.config.fp8.recipe: expected one of ...`).
mlir::FailureOr<FP8Settings> readFP8Settings(mlir::ModuleOp module);

} // namespace fp8c::fp8

#endif // FP8C_ANALYSIS_FP8SETTINGS_H
