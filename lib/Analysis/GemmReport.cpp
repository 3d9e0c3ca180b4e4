//===- GemmReport.cpp - `fp8c --fp8-report` -------------------------------===//

#include "fp8c/Analysis/GemmReport.h"

#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace fp8c;
using namespace fp8c::fp8;

namespace {

bool isGemm(Operation *op) {
  return isa<train::LinearOp, train::MatmulOp, train::BatchMatmulOp>(op);
}

double ratio(double num, double den) { return den > 0 ? num / den : 0; }

std::string settingsLine(const GemmReport &r) {
  if (!r.enabled)
    return "fp8 disabled";
  std::string line = llvm::formatv("device {0}, recipe {1}, auto_filter {2}", r.device, r.recipe,
                                   r.autoFilterRoofline ? "roofline" : "none")
                         .str();
  if (r.autoFilterRoofline)
    line += llvm::formatv(", threshold {0:f2}", r.threshold).str();
  return line;
}

/// Lines after the totals: what the rows leave out.
SmallVector<std::string> footnotes(const GemmReport &r) {
  SmallVector<std::string> notes;
  notes.push_back("Times are per train_step call (one micro-batch); the fp8 time includes the "
                  "GEMM's share of its operand casts.");
  if (!r.otherFunctions.empty())
    notes.push_back("Not listed: " + llvm::join(r.otherFunctions, ", ") +
                    " (they repeat train_step's GEMMs, forward only for eval_step, with the same "
                    "decisions).");
  if (r.gradAccumSteps > 1)
    notes.push_back(llvm::formatv("An optimizer step runs {0} micro-batches ({1} accumulate_step "
                                  "+ 1 train_step): about {0}x these totals.",
                                  r.gradAccumSteps, r.gradAccumSteps - 1)
                        .str());
  return notes;
}

void printText(const GemmReport &r, llvm::raw_ostream &os) {
  os << "FP8 GEMM report of @train_step: " << settingsLine(r) << "\n\n";
  size_t nameWidth = 4;
  for (const GemmAnnotation &row : r.rows)
    nameWidth = std::max(nameWidth, row.name.size());
  os << llvm::formatv("{0} {1,-7} {2,6} {3,6} {4,6} {5,9} {6,9} {7,8}  {8,-8}  {9}\n",
                      llvm::left_justify("name", nameWidth), "kind", "M", "K", "N", "bf16 us",
                      "fp8 us", "speedup", "decision", "reason");
  for (const GemmAnnotation &row : r.rows)
    os << llvm::formatv("{0} {1,-7} {2,6} {3,6} {4,6} {5,9:f2} {6,9:f2} {7,7:f2}x  {8,-8}  {9}\n",
                        llvm::left_justify(row.name, nameWidth), row.kind, row.m, row.k, row.n,
                        row.tBF16Us, row.tFP8Us, row.speedup, row.fp8 ? "fp8" : "bf16", row.reason);
  os << "\n"
     << llvm::formatv("total: {0} GEMMs, {1} fp8, {2} bf16\n", r.rows.size(), r.numFP8, r.numBF16)
     << llvm::formatv("predicted GEMM time per train_step: all-bf16 {0:f2} us, chosen {1:f2} us "
                      "({2:f2}x)\n",
                      r.totalBF16Us, r.totalChosenUs, ratio(r.totalBF16Us, r.totalChosenUs));
  for (const std::string &note : footnotes(r))
    os << note << "\n";
}

void printJSON(const GemmReport &r, llvm::raw_ostream &os) {
  llvm::json::OStream j(os, 2);
  // Times with a fixed number of decimals, not 17 significant digits.
  auto number = [&](StringRef key, double value, unsigned decimals) {
    if (!std::isfinite(value)) {
      j.attribute(key, nullptr);
      return;
    }
    j.attributeBegin(key);
    j.rawValue([&](llvm::raw_ostream &out) { out << llvm::format("%.*f", int(decimals), value); });
    j.attributeEnd();
  };
  j.object([&] {
    j.attribute("function", train::TrainDialect::getTrainStepFuncName());
    j.attributeObject("settings", [&] {
      j.attribute("enabled", r.enabled);
      j.attribute("device", r.device);
      j.attribute("recipe", r.recipe);
      j.attribute("auto_filter", r.autoFilterRoofline ? "roofline" : "none");
      j.attributeBegin("threshold");
      j.rawValue([&](llvm::raw_ostream &out) { out << llvm::format("%.6g", r.threshold); });
      j.attributeEnd();
      j.attribute("grad_accum_steps", r.gradAccumSteps);
    });
    j.attributeArray("gemms", [&] {
      for (const GemmAnnotation &row : r.rows)
        j.object([&] {
          j.attribute("name", row.name);
          j.attribute("kind", row.kind);
          j.attribute("m", row.m);
          j.attribute("k", row.k);
          j.attribute("n", row.n);
          number("t_bf16_us", row.tBF16Us, 3);
          number("t_fp8_us", row.tFP8Us, 3);
          number("speedup", row.speedup, 3);
          j.attribute("decision", row.fp8 ? "fp8" : "bf16");
          j.attribute("reason", row.reason);
        });
    });
    j.attributeObject("totals", [&] {
      j.attribute("gemms", int64_t(r.rows.size()));
      j.attribute("fp8", int64_t(r.numFP8));
      j.attribute("bf16", int64_t(r.numBF16));
      number("t_all_bf16_us", r.totalBF16Us, 3);
      number("t_chosen_us", r.totalChosenUs, 3);
      number("speedup", ratio(r.totalBF16Us, r.totalChosenUs), 3);
    });
    j.attributeArray("not_listed", [&] {
      for (const std::string &f : r.otherFunctions)
        j.value(f);
    });
    j.attributeArray("notes", [&] {
      for (const std::string &note : footnotes(r))
        j.value(note);
    });
  });
  os << "\n";
}

} // namespace

FailureOr<GemmReport> fp8c::fp8::collectGemmReport(ModuleOp module) {
  auto trainStep = module.lookupSymbol<func::FuncOp>(train::TrainDialect::getTrainStepFuncName());
  if (!trainStep)
    return module.emitError()
           << "fp8 GEMM report: the module has no @train_step (the report describes the "
              "training step built by fp8-autodiff)";
  FailureOr<FP8Settings> settings = readFP8Settings(module);
  if (failed(settings))
    return failure();

  GemmReport report;
  report.enabled = settings->enabled;
  report.device = settings->device;
  report.recipe = stringifyRecipe(settings->recipe).str();
  report.autoFilterRoofline = settings->autoFilterRoofline;
  report.threshold = settings->threshold;
  if (auto config = module->getAttrOfType<DictionaryAttr>(train::TrainDialect::getConfigAttrName()))
    if (auto steps = config.getAs<IntegerAttr>("grad_accum_steps"))
      report.gradAccumSteps = steps.getInt();

  bool ok = true;
  trainStep.walk([&](Operation *op) {
    FailureOr<std::optional<GemmAnnotation>> annotation = GemmAnnotation::read(op);
    if (failed(annotation)) {
      ok = false;
      return;
    }
    if (!*annotation) {
      if (isGemm(op)) {
        op->emitError() << "fp8 GEMM report: GEMM without an '" << kGemmAttrName
                        << "' attribute (run fp8-select-gemms first)";
        ok = false;
      }
      return;
    }
    const GemmAnnotation &row = **annotation;
    report.totalBF16Us += row.tBF16Us;
    report.totalChosenUs += row.fp8 ? row.tFP8Us : row.tBF16Us;
    ++(row.fp8 ? report.numFP8 : report.numBF16);
    report.rows.push_back(row);
  });
  if (!ok)
    return failure();

  for (auto func : module.getOps<func::FuncOp>()) {
    if (func == trainStep)
      continue;
    bool hasGemm = false;
    func.walk([&](Operation *op) {
      if (isGemm(op) || op->hasAttr(kGemmAttrName)) {
        hasGemm = true;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (hasGemm)
      report.otherFunctions.push_back(func.getSymName().str());
  }
  return report;
}

void fp8c::fp8::printGemmReport(const GemmReport &report, GemmReportFormat format,
                                llvm::raw_ostream &os) {
  if (format == GemmReportFormat::JSON)
    printJSON(report, os);
  else
    printText(report, os);
}

LogicalResult fp8c::fp8::printGemmReport(ModuleOp module, GemmReportFormat format,
                                         llvm::raw_ostream &os) {
  FailureOr<GemmReport> report = collectGemmReport(module);
  if (failed(report))
    return failure();
  printGemmReport(*report, format, os);
  return success();
}
