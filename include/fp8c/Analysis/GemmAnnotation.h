//===- GemmAnnotation.h - the `fp8.gemm` attribute of a GEMM ----*- C++ -*-===//
//
// `fp8-select-gemms` records its decision on every GEMM (`train.linear`,
// `train.matmul`, `train.batch_matmul`) as a dictionary attribute named
// `fp8.gemm`; `fp8-insert-casts` and the GEMM report read it back. The keys
// are a contract between those passes (docs/fp8-passes.md):
//
//   fp8.gemm = {name = "transformer.h.0.mlp.c_fc",   // layer FQN ("gemm.<i>" if unnamed)
//               kind = "forward" | "dgrad" | "wgrad",
//               m = 512 : i64, k = 768 : i64, n = 3072 : i64,   // C[M,N] = A[M,K] B[K,N]
//               decision = "fp8" | "bf16",
//               reason = "...",                     // one line, for reports
//               t_bf16_us = 5.8 : f64,              // predicted bf16 GEMM time
//               t_fp8_us = 4.1 : f64,               // fp8 GEMM + its share of the casts
//               speedup = 1.41 : f64}               // t_bf16_us / t_fp8_us
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_GEMMANNOTATION_H
#define FP8C_ANALYSIS_GEMMANNOTATION_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>

namespace fp8c::fp8 {

/// Name of the attribute `fp8-select-gemms` sets on every GEMM.
inline constexpr llvm::StringLiteral kGemmAttrName = "fp8.gemm";

/// The contents of one `fp8.gemm` dictionary.
struct GemmAnnotation {
  std::string name;
  std::string kind; // "forward", "dgrad" or "wgrad"
  int64_t m = 0, k = 0, n = 0;
  bool fp8 = false; // decision: "fp8" (true) or "bf16"
  std::string reason;
  double tBF16Us = 0, tFP8Us = 0, speedup = 0;

  /// The dictionary, keys as documented above.
  mlir::DictionaryAttr toAttr(mlir::MLIRContext *context) const;

  /// Reads `op`'s `fp8.gemm`; nullopt when it has none. A malformed dictionary
  /// (missing key, wrong type, unknown kind or decision) is reported on `op`
  /// and gives failure.
  static mlir::FailureOr<std::optional<GemmAnnotation>> read(mlir::Operation *op);
};

} // namespace fp8c::fp8

#endif // FP8C_ANALYSIS_GEMMANNOTATION_H
