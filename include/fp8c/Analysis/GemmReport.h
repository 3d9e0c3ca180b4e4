//===- GemmReport.h - `fp8c --fp8-report` ------------------------*- C++ -*-===//
//
// The FP8 GEMM report: one row per GEMM of `train_step` (name, kind, M/K/N,
// predicted bf16 and fp8 times, speedup, decision, reason) and the totals, read
// from the `fp8.gemm` dictionaries that `fp8-select-gemms` leaves on the GEMMs.
// Printed as a text table or as JSON (docs/fp8-passes.md shows both).
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_GEMMREPORT_H
#define FP8C_ANALYSIS_GEMMREPORT_H

#include "fp8c/Analysis/GemmAnnotation.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace fp8c::fp8 {

enum class GemmReportFormat { Text, JSON };

struct GemmReport {
  /// The settings the decisions were made with (`train.config.fp8`).
  bool enabled = false;
  std::string device, recipe;
  bool autoFilterRoofline = true;
  double threshold = 1.0;
  int64_t gradAccumSteps = 1;

  /// `train_step`'s GEMMs in program order.
  std::vector<GemmAnnotation> rows;
  unsigned numFP8 = 0, numBF16 = 0;
  /// Predicted GEMM time of one `train_step` call: every GEMM in bf16, and
  /// with the decisions (fp8 GEMMs at their fp8 time including casts).
  double totalBF16Us = 0, totalChosenUs = 0;
  /// Other functions with GEMMs, not listed (they repeat train_step's).
  llvm::SmallVector<std::string> otherFunctions;
};

/// Reads the report from a module after `fp8-select-gemms`. Errors (no
/// `train_step`, a GEMM without or with a malformed `fp8.gemm`) are located.
mlir::FailureOr<GemmReport> collectGemmReport(mlir::ModuleOp module);

void printGemmReport(const GemmReport &report, GemmReportFormat format, llvm::raw_ostream &os);

/// collectGemmReport + printGemmReport.
mlir::LogicalResult printGemmReport(mlir::ModuleOp module, GemmReportFormat format,
                                    llvm::raw_ostream &os);

} // namespace fp8c::fp8

#endif // FP8C_ANALYSIS_GEMMREPORT_H
