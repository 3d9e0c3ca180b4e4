//===- DistributedSettings.cpp - `train.config.distributed` ---------------===//

#include "fp8c/Analysis/DistributedSettings.h"

#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace fp8c;

namespace {
DictionaryAttr configOf(ModuleOp module) {
  return module->getAttrOfType<DictionaryAttr>(train::TrainDialect::getConfigAttrName());
}
} // namespace

FailureOr<DistributedSettings> fp8c::readDistributedSettings(ModuleOp module) {
  DistributedSettings s;
  DictionaryAttr config = configOf(module);
  auto d = config ? config.getAs<DictionaryAttr>("distributed") : nullptr;
  if (!d)
    return s;
  s.present = true;
  auto fail = [&](const Twine &message) -> FailureOr<DistributedSettings> {
    // On the location only: the module itself is no help in the message.
    emitError(module.getLoc()) << train::TrainDialect::getConfigAttrName() << ": distributed."
                               << message;
    return failure();
  };
  if (auto strategy = d.getAs<StringAttr>("strategy"))
    s.strategy = strategy.getValue().str();
  auto worldSize = d.getAs<IntegerAttr>("world_size");
  if (worldSize)
    s.worldSize = worldSize.getInt();
  if (!worldSize || s.worldSize < 1)
    return fail("world_size must be an integer >= 1");
  s.gpusPerNode = s.worldSize;
  auto nodes = d.getAs<IntegerAttr>("nodes");
  auto gpus = d.getAs<IntegerAttr>("gpus_per_node");
  if (nodes || gpus) {
    s.nodes = nodes ? nodes.getInt() : 0;
    s.gpusPerNode = gpus ? gpus.getInt() : 0;
    if (s.nodes < 1 || s.gpusPerNode < 1 || s.nodes * s.gpusPerNode != s.worldSize)
      return fail("nodes (" + Twine(s.nodes) + ") x gpus_per_node (" + Twine(s.gpusPerNode) +
                  ") must be world_size (" + Twine(s.worldSize) + ")");
  }
  if (auto bucket = d.get("bucket_mb")) {
    if (auto f = dyn_cast<FloatAttr>(bucket))
      s.bucketMB = f.getValueAsDouble();
    else if (auto i = dyn_cast<IntegerAttr>(bucket))
      s.bucketMB = double(i.getInt());
    if (!(s.bucketMB > 0))
      return fail("bucket_mb must be a number > 0");
  }
  if (auto fp8 = d.getAs<StringAttr>("fp8_all_gather"))
    s.fp8AllGather = fp8.getValue().str();
  if (auto reshard = d.getAs<BoolAttr>("reshard_after_forward"))
    s.reshardAfterForward = reshard.getValue();
  return s;
}

llvm::Error fp8c::overrideWorldSize(ModuleOp module, int64_t worldSize) {
  auto error = [&](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--world-size=" + Twine(worldSize) + ": " + message);
  };
  if (worldSize < 1 || worldSize > 65536)
    return error("expected an integer in [1, 65536]");
  DictionaryAttr config = configOf(module);
  if (!config)
    return error("the input has no " + train::TrainDialect::getConfigAttrName() +
                 " to set it in (give a model description)");
  auto d = config.getAs<DictionaryAttr>("distributed");
  if (!d && worldSize == 1)
    return llvm::Error::success();
  Builder b(module.getContext());
  NamedAttrList distributed(d ? d.getValue() : ArrayRef<NamedAttribute>{});
  if (!d)
    distributed.set("strategy", b.getStringAttr("ddp"));
  distributed.set("world_size", b.getI64IntegerAttr(worldSize));
  if (auto nodes = d ? d.getAs<IntegerAttr>("nodes") : nullptr) {
    if (worldSize % nodes.getInt() != 0)
      return error("not a multiple of distributed.nodes " + Twine(nodes.getInt()) +
                   " (every node runs the same number of ranks)");
    distributed.set("gpus_per_node", b.getI64IntegerAttr(worldSize / nodes.getInt()));
  }
  NamedAttrList top(config.getValue());
  top.set("distributed", distributed.getDictionary(module.getContext()));
  module->setAttr(train::TrainDialect::getConfigAttrName(), top.getDictionary(module.getContext()));
  return llvm::Error::success();
}
