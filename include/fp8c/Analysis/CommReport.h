//===- CommReport.h - `fp8c --comm-report` ----------------------*- C++ -*-===//
//
// The communication report of a data-parallel program: one row per collective
// of `train_step` in program order (kind, tensor, bytes, bucket, predicted
// time, how much backward GEMM time after it can hide it), the messages a
// backend sends (a gradient bucket is one message), and the totals per step:
// bytes, predicted communication time, and the part not hidden by backward.
// Collectives are read through train::CollectiveOpInterface, GEMM times from
// the `fp8.gemm` attributes, link figures from the cost model's device table.
// docs/distributed.md, "The communication report", shows both formats.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_ANALYSIS_COMMREPORT_H
#define FP8C_ANALYSIS_COMMREPORT_H

#include "fp8c/Analysis/DistributedSettings.h"

#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace fp8c::comm {

enum class CommReportFormat { Text, JSON };

struct CollectiveRow {
  std::string kind, reduction;
  /// The parameter a gradient collective belongs to, or the returned value.
  std::string tensor;
  int64_t bytes = 0;
  std::optional<int64_t> bucket;
  /// Predicted time of the collective on its own.
  double us = 0;
  /// GEMM time of the step before it (its issue time on the compute clock).
  double issueUs = 0;
  /// GEMM time after it until the optimizer starts: compute that can hide it.
  double hideableUs = 0;
  /// fsdp with fp8_all_gather auto: the cost model's decision for the weight
  /// gathered here (the gather's `fp8_all_gather` attribute), else empty.
  std::string fp8Decision;
};

/// What a backend sends: a bucket's collectives as one message, any other
/// collective alone. Messages run one after another on a communication stream
/// beside the compute: each starts when issued and the previous one ended.
struct MessageRow {
  std::optional<int64_t> bucket;
  /// Rows [first, first + count).
  unsigned first = 0, count = 0;
  int64_t bytes = 0;
  double us = 0, issueUs = 0, startUs = 0, endUs = 0;
  /// The part of `us` that runs after the backward GEMMs ended.
  double exposedUs = 0;
};

struct CommReport {
  DistributedSettings settings;
  /// The link the ring is limited by ("NVLink", "PCIe", or "network" for a
  /// job over several nodes), and the ring-step latencies inside a node and
  /// across nodes.
  std::string device, link;
  double linkGBps = 0, latencyUs = 0, interLatencyUs = 0;
  int64_t gradAccumSteps = 1;
  std::vector<CollectiveRow> rows;
  std::vector<MessageRow> messages;
  /// GEMM time of the whole train_step, and up to the optimizer.
  double gemmUs = 0, backwardEndUs = 0;
  int64_t totalBytes = 0;
  double totalUs = 0, exposedUs = 0;
};

/// Reads the report from a module after the fp8 stage (collectives placed and
/// bucketed, GEMMs annotated). Errors are located.
mlir::FailureOr<CommReport> collectCommReport(mlir::ModuleOp module);

void printCommReport(const CommReport &report, CommReportFormat format, llvm::raw_ostream &os);

/// collectCommReport + printCommReport.
mlir::LogicalResult printCommReport(mlir::ModuleOp module, CommReportFormat format,
                                    llvm::raw_ostream &os);

} // namespace fp8c::comm

#endif // FP8C_ANALYSIS_COMMREPORT_H
