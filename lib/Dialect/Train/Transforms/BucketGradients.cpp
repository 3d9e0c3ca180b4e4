//===- BucketGradients.cpp - ddp/zero1: gradient buckets ------------------===//
//
// fp8-bucket-gradients (Passes.td, docs/distributed.md "Buckets"). As PyTorch
// DDP's Reducer, gradients are communicated in buckets of about bucket_mb:
// one message per bucket instead of one per tensor pays the ring latency once
// per bucket, while the first buckets still overlap the rest of backward. The
// pass works on CollectiveOpInterface, not on op names. It buckets
// all-reduces only: zero1's reduce-scatters are left where backward produces
// their gradients, because no backend packs a bucket of reduce-scatters (that
// needs the shard layout: each rank's shards of all tensors contiguous), and
// without packing a bucket only delays them and keeps the full gradients
// alive longer.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/DistributedSettings.h"
#include "fp8c/Dialect/Train/Transforms/Passes.h"

namespace fp8c::train {
#define GEN_PASS_DEF_BUCKETGRADIENTS
#include "fp8c/Dialect/Train/Transforms/Passes.h.inc"
} // namespace fp8c::train

using namespace mlir;
using namespace fp8c::train;

namespace {

using Bucket = SmallVector<CollectiveOpInterface>;

/// The gradient all-reduces of `trainStep` in program order: those before the
/// optimizer (train.global_norm). Reduce-scatters are excluded (see above).
SmallVector<CollectiveOpInterface> gradientCollectives(func::FuncOp trainStep) {
  SmallVector<CollectiveOpInterface> grads;
  for (Operation &op : trainStep.getBody().front()) {
    if (isa<GlobalNormOp>(op))
      break;
    auto collective = dyn_cast<CollectiveOpInterface>(op);
    if (collective && collective.getCollectiveKind() == "all_reduce")
      grads.push_back(collective);
  }
  return grads;
}

/// Consecutive collectives of one kind until a bucket holds `limit` bytes.
SmallVector<Bucket> formBuckets(ArrayRef<CollectiveOpInterface> grads, int64_t limit) {
  SmallVector<Bucket> buckets;
  int64_t bytes = 0;
  for (CollectiveOpInterface grad : grads) {
    if (buckets.empty() || bytes >= limit ||
        buckets.back().front().getCollectiveKind() != grad.getCollectiveKind()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(grad);
    bytes += grad.getCollectiveBytes();
  }
  return buckets;
}

struct BucketGradientsPass : fp8c::train::impl::BucketGradientsBase<BucketGradientsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<fp8c::DistributedSettings> settings = fp8c::readDistributedSettings(module);
    if (failed(settings))
      return signalPassFailure();
    if (settings->worldSize == 1 || settings->strategy == "fsdp")
      return;
    auto trainStep = module.lookupSymbol<func::FuncOp>(TrainDialect::getTrainStepFuncName());
    if (!trainStep)
      return;
    SmallVector<CollectiveOpInterface> grads = gradientCollectives(trainStep);
    // Already bucketed (a module run through the pass before): nothing to do.
    if (llvm::any_of(grads, [](CollectiveOpInterface c) { return c.getBucketIndex(); }))
      return;
    double mb = bucketMB > 0 ? double(bucketMB) : settings->bucketMB;
    int64_t limit = std::max<int64_t>(1, int64_t(mb * 1024 * 1024));
    for (auto [index, bucket] : llvm::enumerate(formBuckets(grads, limit))) {
      Operation *last = bucket.back();
      for (CollectiveOpInterface grad : bucket) {
        grad.setBucketIndex(int64_t(index));
        if (grad == bucket.back())
          continue;
        // Delaying a collective is sound only while nothing before the new
        // position reads its result (the averages feed the optimizer).
        for (Operation *user : grad->getUsers())
          if (user->getBlock() == last->getBlock() && user->isBeforeInBlock(last)) {
            InFlightDiagnostic diag = grad->emitError()
                                      << "fp8-bucket-gradients: cannot delay this collective to "
                                         "the end of its bucket: it is read before";
            diag.attachNote(user->getLoc()) << "read here";
            return signalPassFailure();
          }
        grad->moveBefore(last);
      }
    }
  }
};

} // namespace
