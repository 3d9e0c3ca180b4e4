//===- Progress.cpp - The trainer's lines on the terminal -----------------===//

#include "train/Progress.h"

#include <cmath>
#include <cstdio>

namespace fp8rt {
namespace trainer {

std::string formatNumber(const char *format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string durationText(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7)
    return "?";
  int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  return buf;
}

void printProgress(std::ostream &out, const StepRecord &r, int64_t totalSteps, double etaSeconds) {
  char line[256];
  std::snprintf(line, sizeof line, "step %*lld/%lld  loss %.4f",
                int(std::to_string(totalSteps).size()), (long long)r.step, (long long)totalSteps,
                r.loss);
  out << line;
  if (r.lr)
    out << "  lr " << formatNumber("%.3e", *r.lr);
  if (r.gradNorm)
    out << "  grad_norm " << formatNumber("%.4f", *r.gradNorm);
  if (r.ranks > 1) // the job's, then each rank's (docs/distributed.md, "Throughput")
    out << "  " << formatNumber("%.0f", r.tokensPerSecond * double(r.ranks)) << " tok/s ("
        << formatNumber("%.0f", r.tokensPerSecond) << " per rank)";
  else
    out << "  " << formatNumber("%.0f", r.tokensPerSecond) << " tok/s";
  if (const Throughput &t = r.throughput; t.flopsPerToken > 0) {
    out << "  " << formatNumber("%.3g", double(t.flopsPerToken) / 1e6) << " MFLOP/tok  "
        << formatNumber("%.3g", t.achievedTFlops) << " TFLOP/s";
    if (t.mfu)
      out << "  MFU " << formatNumber("%.1f", *t.mfu * 100) << "% of " << t.peak;
  }
  out << "  ETA " << durationText(etaSeconds);
  if (r.valLoss)
    out << "  val_loss " << formatNumber("%.4f", *r.valLoss);
  out << "\n";
  out.flush();
}

void printSummary(std::ostream &out, const TrainSummary &summary, size_t lastN) {
  out << "done: steps " << summary.firstStep << "-" << summary.lastStep << " in "
      << formatNumber("%.1f", summary.wallSeconds) << " s, "
      << formatNumber("%.0f", summary.tokensPerSecond * double(summary.ranks)) << " tok/s";
  if (summary.ranks > 1)
    out << " (" << formatNumber("%.0f", summary.tokensPerSecond) << " per rank, " << summary.ranks
        << " ranks)";
  out << "; final loss " << formatNumber("%.4f", summary.finalLoss) << ", mean of last " << lastN
      << " " << formatNumber("%.4f", summary.meanLast10);
  if (summary.bestValLoss >= 0)
    out << ", best val loss " << formatNumber("%.4f", summary.bestValLoss);
  out << "\n";
  if (summary.lossFloor < 0)
    return;
  const double gap = summary.meanLast10 - summary.lossFloor;
  out << "loss floor (entropy of the synthetic corpus) " << formatNumber("%.4f", summary.lossFloor)
      << ": mean of last " << lastN << " is " << formatNumber("%.4f", std::fabs(gap)) << " nats "
      << (summary.meanLast10 >= summary.lossFloor ? "above" : "below") << " it\n";
}

} // namespace trainer
} // namespace fp8rt
