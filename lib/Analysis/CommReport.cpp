//===- CommReport.cpp - `fp8c --comm-report` ------------------------------===//
//
// The overlap model (docs/distributed.md, "The communication report"): the
// compute clock advances by the predicted time of each GEMM of train_step
// (its fp8.gemm decision); a collective is issued at the clock of its
// position; messages run one at a time on a communication stream; what runs
// past the optimizer's start (the end of backward) is exposed. Only GEMMs
// count as compute, so the hideable time is a lower bound.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/CommReport.h"

#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Analysis/GemmAnnotation.h"
#include "fp8c/CostModel/CommModel.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace fp8c;
using namespace fp8c::comm;

namespace {

/// The parameter of a gradient collective (fp8-insert-collectives gives it the
/// gradient's location, named after the parameter), or the name of the
/// returned value it feeds.
std::string tensorName(Operation *op, func::FuncOp func) {
  for (OpOperand &use : op->getResult(0).getUses())
    if (isa<func::ReturnOp>(use.getOwner()))
      if (auto name = func.getResultAttrOfType<StringAttr>(use.getOperandNumber(),
                                                           train::TrainDialect::getNameAttrName()))
        return name.getValue().str();
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location inner : fused.getLocations())
      if (isa<NameLoc>(inner))
        loc = inner;
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "?";
}

/// GEMM time of `op` (and ops nested in it) with the decisions taken.
FailureOr<double> gemmUs(Operation *op) {
  double us = 0;
  bool ok = true;
  op->walk([&](Operation *inner) {
    FailureOr<std::optional<fp8::GemmAnnotation>> gemm = fp8::GemmAnnotation::read(inner);
    if (failed(gemm))
      ok = false;
    else if (*gemm)
      us += (*gemm)->fp8 ? (*gemm)->tFP8Us : (*gemm)->tBF16Us;
  });
  if (!ok)
    return failure();
  return us;
}

/// Groups rows into messages and runs them on the communication stream.
void scheduleMessages(CommReport &r, const cost::DeviceSpec &device,
                      const cost::Topology &topology) {
  for (unsigned i = 0; i < r.rows.size();) {
    MessageRow m;
    m.first = i;
    m.bucket = r.rows[i].bucket;
    std::string kind = r.rows[i].kind;
    do {
      m.bytes += r.rows[i].bytes;
      m.issueUs = r.rows[i].issueUs; // a bucket is sent when its last tensor is ready
      ++i;
    } while (m.bucket && i < r.rows.size() && r.rows[i].bucket == m.bucket &&
             r.rows[i].kind == kind);
    m.count = i - m.first;
    m.us = cost::collectiveTime(device, topology, *cost::parseCollectiveKind(kind), m.bytes).us;
    double previousEnd = r.messages.empty() ? 0 : r.messages.back().endUs;
    m.startUs = std::max(m.issueUs, previousEnd);
    m.endUs = m.startUs + m.us;
    m.exposedUs = std::clamp(m.endUs - std::max(r.backwardEndUs, m.startUs), 0.0, m.us);
    r.totalUs += m.us;
    r.exposedUs += m.exposedUs;
    r.messages.push_back(m);
  }
}

std::string settingsLine(const CommReport &r) {
  const DistributedSettings &s = r.settings;
  std::string line =
      llvm::formatv("{0}, world_size {1} ({2} node{3} x {4} GPU{5}), device {6}: ", s.strategy,
                    s.worldSize, s.nodes, s.nodes == 1 ? "" : "s", s.gpusPerNode,
                    s.gpusPerNode == 1 ? "" : "s", r.device)
          .str();
  if (s.nodes > 1)
    line += llvm::formatv("network {0:f0} GB/s per GPU and direction, ring steps {1:f1} us "
                          "across nodes and {2:f1} us inside",
                          r.linkGBps, r.interLatencyUs, r.latencyUs)
                .str();
  else
    line += llvm::formatv("{0} {1:f0} GB/s per direction, {2:f1} us per ring step", r.link,
                          r.linkGBps, r.latencyUs)
                .str();
  if (s.strategy == "fsdp" && !s.reshardAfterForward)
    line += "; reshard_after_forward false";
  return line + llvm::formatv("; bucket_mb {0}", llvm::format("%g", s.bucketMB)).str();
}

std::vector<std::string> footnotes(const CommReport &r) {
  std::vector<std::string> notes = {
      "Times are per train_step call (one optimizer step). hideable: GEMM time after the "
      "collective until the optimizer; only GEMMs count as compute, so it is a lower bound.",
      "Messages run one at a time beside the compute; exposed: the part after backward's last "
      "GEMM."};
  if (r.gradAccumSteps > 1)
    notes.push_back(llvm::formatv("With grad_accum_steps {0}, each of the {1} accumulate_step "
                                  "calls also averages its loss (one small all-reduce).",
                                  r.gradAccumSteps, r.gradAccumSteps - 1)
                        .str());
  return notes;
}

std::string bucketText(std::optional<int64_t> bucket) {
  return bucket ? std::to_string(*bucket) : "-";
}

void printText(const CommReport &r, llvm::raw_ostream &os) {
  os << "Communication report of @train_step: ";
  if (r.rows.empty()) {
    os << "world_size " << r.settings.worldSize << ": no collectives\n";
    return;
  }
  os << settingsLine(r) << "\n\n";
  size_t width = 6;
  for (const CollectiveRow &row : r.rows)
    width = std::max(width, row.tensor.size());
  os << llvm::formatv("{0,3}  {1,-14} {2} {3,12} {4,6} {5,10} {6,12}\n", "#", "kind",
                      llvm::left_justify("tensor", width), "bytes", "bucket", "time us",
                      "hideable us");
  for (auto [i, row] : llvm::enumerate(r.rows))
    os << llvm::formatv("{0,3}  {1,-14} {2} {3,12} {4,6} {5,10:f2} {6,12:f2}\n", i, row.kind,
                        llvm::left_justify(row.tensor, width), row.bytes, bucketText(row.bucket),
                        row.us, row.hideableUs);
  if (llvm::any_of(r.rows, [](const CollectiveRow &row) { return !row.fp8Decision.empty(); })) {
    os << "\nfp8_all_gather decisions (cost model, per weight gather):\n";
    for (auto [i, row] : llvm::enumerate(r.rows))
      if (!row.fp8Decision.empty())
        os << llvm::formatv("{0,3}  {1}: {2}\n", i, row.tensor, row.fp8Decision);
  }
  os << "\nmessages (a bucket is one message, sent when its last gradient is ready):\n"
     << llvm::formatv("{0,6} {1,6} {2,12} {3,10} {4,10} {5,10} {6,10}\n", "bucket", "rows", "bytes",
                      "issued us", "start us", "time us", "exposed us");
  for (const MessageRow &m : r.messages)
    os << llvm::formatv(
        "{0,6} {1,6} {2,12} {3,10:f2} {4,10:f2} {5,10:f2} {6,10:f2}\n", bucketText(m.bucket),
        m.count == 1 ? std::to_string(m.first)
                     : llvm::formatv("{0}-{1}", m.first, m.first + m.count - 1).str(),
        m.bytes, m.issueUs, m.startUs, m.us, m.exposedUs);
  os << "\n"
     << llvm::formatv("total per step: {0} collectives in {1} messages, {2} bytes, predicted "
                      "communication {3:f2} us, exposed {4:f2} us (GEMMs: {5:f2} us, backward "
                      "ends at {6:f2} us)\n",
                      r.rows.size(), r.messages.size(), r.totalBytes, r.totalUs, r.exposedUs,
                      r.gemmUs, r.backwardEndUs);
  for (const std::string &note : footnotes(r))
    os << note << "\n";
}

void printJSON(const CommReport &r, llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 2);
  auto number = [&](StringRef key, double value) {
    j.attributeBegin(key);
    j.rawValue([&](llvm::raw_ostream &out) { out << llvm::format("%.3f", value); });
    j.attributeEnd();
  };
  auto bucket = [&](std::optional<int64_t> b) {
    if (b)
      j.attribute("bucket", *b);
    else
      j.attribute("bucket", nullptr);
  };
  j.object([&] {
    j.attribute("function", train::TrainDialect::getTrainStepFuncName());
    j.attributeObject("settings", [&] {
      j.attribute("strategy", r.settings.strategy);
      j.attribute("world_size", r.settings.worldSize);
      j.attribute("nodes", r.settings.nodes);
      j.attribute("gpus_per_node", r.settings.gpusPerNode);
      number("bucket_mb", r.settings.bucketMB);
      j.attribute("device", r.device);
      j.attribute("link", r.link);
      number("link_gbps", r.linkGBps);
      number("latency_us", r.latencyUs);
      number("inter_node_latency_us", r.interLatencyUs);
    });
    j.attributeArray("collectives", [&] {
      for (const CollectiveRow &row : r.rows)
        j.object([&] {
          j.attribute("kind", row.kind);
          j.attribute("reduction", row.reduction);
          j.attribute("tensor", row.tensor);
          j.attribute("bytes", row.bytes);
          bucket(row.bucket);
          number("time_us", row.us);
          number("issued_us", row.issueUs);
          number("hideable_us", row.hideableUs);
          if (!row.fp8Decision.empty())
            j.attribute("fp8_all_gather", row.fp8Decision);
        });
    });
    j.attributeArray("messages", [&] {
      for (const MessageRow &m : r.messages)
        j.object([&] {
          bucket(m.bucket);
          j.attribute("first", int64_t(m.first));
          j.attribute("count", int64_t(m.count));
          j.attribute("bytes", m.bytes);
          number("issued_us", m.issueUs);
          number("start_us", m.startUs);
          number("time_us", m.us);
          number("exposed_us", m.exposedUs);
        });
    });
    j.attributeObject("totals", [&] {
      j.attribute("collectives", int64_t(r.rows.size()));
      j.attribute("messages", int64_t(r.messages.size()));
      j.attribute("bytes", r.totalBytes);
      number("time_us", r.totalUs);
      number("exposed_us", r.exposedUs);
      number("gemm_us", r.gemmUs);
      number("backward_end_us", r.backwardEndUs);
    });
    j.attributeArray("notes", [&] {
      for (const std::string &note : footnotes(r))
        j.value(note);
    });
  });
  os << "\n";
}

} // namespace

FailureOr<CommReport> fp8c::comm::collectCommReport(ModuleOp module) {
  auto trainStep = module.lookupSymbol<func::FuncOp>(train::TrainDialect::getTrainStepFuncName());
  if (!trainStep)
    return module.emitError() << "communication report: the module has no @train_step";
  FailureOr<DistributedSettings> settings = readDistributedSettings(module);
  FailureOr<fp8::FP8Settings> fp8Settings = fp8::readFP8Settings(module);
  if (failed(settings) || failed(fp8Settings))
    return failure();
  llvm::Expected<cost::DeviceSpec> device = cost::lookupDevice(fp8Settings->device);
  if (!device)
    return module.emitError() << "communication report: fp8.device: "
                              << llvm::toString(device.takeError());
  cost::Topology topology{settings->nodes, settings->gpusPerNode};

  CommReport r;
  r.settings = *settings;
  r.device = device->name;
  r.link = topology.spansNodes() ? "network" : device->intraNodeLink;
  r.linkGBps = topology.spansNodes() ? device->interNodeGBps : device->intraNodeGBps;
  r.latencyUs = device->intraNodeLatencyUs;
  r.interLatencyUs = device->interNodeLatencyUs;
  if (auto config = module->getAttrOfType<DictionaryAttr>(train::TrainDialect::getConfigAttrName()))
    if (auto steps = config.getAs<IntegerAttr>("grad_accum_steps"))
      r.gradAccumSteps = steps.getInt();

  bool optimizerStarted = false;
  for (Operation &op : trainStep.getBody().front()) {
    if (isa<train::GlobalNormOp>(op) && !optimizerStarted) {
      optimizerStarted = true;
      r.backwardEndUs = r.gemmUs;
    }
    if (auto collective = dyn_cast<train::CollectiveOpInterface>(op)) {
      std::optional<cost::CollectiveKind> kind =
          cost::parseCollectiveKind(collective.getCollectiveKind());
      if (!kind)
        return op.emitError() << "communication report: unknown collective kind '"
                              << collective.getCollectiveKind() << "'";
      CollectiveRow row;
      row.kind = collective.getCollectiveKind().str();
      row.reduction = collective.getReductionName().str();
      row.tensor = tensorName(&op, trainStep);
      row.bytes = collective.getCollectiveBytes();
      row.bucket = collective.getBucketIndex();
      if (auto decision = op.getAttrOfType<StringAttr>("fp8_all_gather"))
        row.fp8Decision = decision.str();
      row.us = cost::collectiveTime(*device, topology, *kind, double(row.bytes)).us;
      row.issueUs = r.gemmUs;
      r.totalBytes += row.bytes;
      r.rows.push_back(row);
      continue;
    }
    FailureOr<double> us = gemmUs(&op);
    if (failed(us))
      return failure();
    r.gemmUs += *us;
  }
  if (!optimizerStarted)
    r.backwardEndUs = r.gemmUs;
  for (CollectiveRow &row : r.rows)
    row.hideableUs = std::max(0.0, r.backwardEndUs - row.issueUs);
  scheduleMessages(r, *device, topology);
  return r;
}

void fp8c::comm::printCommReport(const CommReport &report, CommReportFormat format,
                                 llvm::raw_ostream &os) {
  if (format == CommReportFormat::JSON)
    printJSON(report, os);
  else
    printText(report, os);
}

LogicalResult fp8c::comm::printCommReport(ModuleOp module, CommReportFormat format,
                                          llvm::raw_ostream &os) {
  FailureOr<CommReport> report = collectCommReport(module);
  if (failed(report))
    return failure();
  printCommReport(*report, format, os);
  return success();
}
