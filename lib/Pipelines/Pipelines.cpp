//===- Pipelines.cpp - fp8c's named compilation pipeline ------------------===//

#include "fp8c/Pipelines/Pipelines.h"

#include "fp8c/Analysis/GemmAnnotation.h"
#include "fp8c/Conversion/Passes.h"
#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/FP8/Transforms/Passes.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Dialect/RT/Transforms/Passes.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"
#include "fp8c/Dialect/Train/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace {

/// The forward graph as the user wrote it, with dead code and duplicates removed.
void addForwardCleanup(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void addNothing(OpPassManager &) {}

/// Forward, backward and optimizer step in one train_step (and an eval_step),
/// cleaned up like the forward graph.
void addTrainStep(OpPassManager &pm) {
  pm.addPass(fp8c::train::createAutodiff());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

bool hasTrainStep(ModuleOp module) {
  return module.lookupSymbol(fp8c::train::TrainDialect::getTrainStepFuncName()) != nullptr;
}

/// Every GEMM decided fp8 or bf16 (with its reason), the fp8 ones rewritten into
/// quantize / scaled_matmul per recipe, then the scaling work fused.
/// docs/fp8-passes.md describes each pass.
void addFP8(OpPassManager &pm) {
  pm.addPass(fp8c::fp8::createSelectGemms());
  pm.addPass(fp8c::fp8::createInsertCasts());
  // Function passes from here on (docs/fp8-passes.md, "Module passes and
  // function passes"): each function on its own, in parallel.
  OpPassManager &perFunction = pm.nest<func::FuncOp>();
  perFunction.addPass(fp8c::fp8::createFuseScaling());
  perFunction.addPass(createCanonicalizerPass());
  perFunction.addPass(createCSEPass());
  // The loss over chunks of tokens once the lm_head's GEMMs are decided
  // (docs/memory-plan.md, "Chunked loss").
  pm.addPass(fp8c::train::createChunkLoss());
  // After the casts and every cleanup, so casts can be recomputed and no CSE
  // merges the clones back: a no-op without a budget or a recompute mode.
  pm.addPass(fp8c::train::createRecompute());
  // Data-parallel collectives last, after every cleanup: a no-op without a
  // distributed section (docs/distributed.md).
  pm.addPass(fp8c::train::createInsertCollectives());
  pm.addPass(fp8c::train::createBucketGradients());
}

/// fp8-select-gemms has run: a GEMM carries its decision, or fp8 ops exist.
bool hasFP8Decisions(ModuleOp module) {
  return module
      .walk([](Operation *op) {
        if (op->hasAttr(fp8c::fp8::kGemmAttrName) || isa<fp8c::fp8::FP8Dialect>(op->getDialect()))
          return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// Pointwise and reduction chains grouped into future kernels
/// (docs/kernel-fusion.md), function by function.
void addKernels(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(fp8c::rt::createFuseKernels());
}

bool hasFusions(ModuleOp module) {
  return module.walk([](fp8c::rt::FusionOp) { return WalkResult::interrupt(); }).wasInterrupted();
}

/// The arena planned and the step lowered to kernels, GEMMs and copies
/// (docs/memory-plan.md): what the program file is written from.
void addLowerToRT(OpPassManager &pm) { pm.addPass(fp8c::createLowerToRT()); }

bool isLoweredToRT(ModuleOp module) {
  return module.walk([](fp8c::rt::ArenaOp) { return WalkResult::interrupt(); }).wasInterrupted();
}

// The program file is written from the last stage (fp8c --emit=program,
// lib/Target/ProgramFile.cpp).
const fp8c::Stage stages[] = {
    {"input", "the parsed and verified input, no pass run", addNothing, nullptr},
    {"forward", "the forward graph, canonicalized and CSE'd", addForwardCleanup, nullptr},
    {"train", "forward, backward and optimizer step in one train_step", addTrainStep, hasTrainStep},
    {"fp8", "every GEMM decided, FP8 casts inserted and fused", addFP8, hasFP8Decisions},
    {"kernels", "pointwise and reduction chains grouped into rt.fusion ops", addKernels,
     hasFusions},
    {"rt", "one arena planned; the step as kernels, GEMMs and copies over buffers", addLowerToRT,
     isLoweredToRT},
};

} // namespace

void fp8c::registerAllDialects(DialectRegistry &registry) {
  registry.insert<train::TrainDialect, fp8::FP8Dialect, rt::RTDialect, arith::ArithDialect,
                  func::FuncDialect, tensor::TensorDialect, memref::MemRefDialect>();
}

ArrayRef<fp8c::Stage> fp8c::getStages() { return stages; }

const fp8c::Stage *fp8c::findStage(StringRef name) {
  const Stage *it = llvm::find_if(stages, [&](const Stage &s) { return s.name == name; });
  return it == std::end(stages) ? nullptr : it;
}

const fp8c::Stage &fp8c::detectStage(ModuleOp module) {
  for (const Stage &stage : llvm::reverse(stages))
    if (stage.isReachedBy && stage.isReachedBy(module))
      return stage;
  return stages[0];
}

void fp8c::buildPipeline(OpPassManager &pm, const Stage &from, const Stage &to) {
  for (const Stage *stage = &from + 1; stage <= &to; ++stage)
    stage->addPasses(pm);
}

void fp8c::buildPipelineUpTo(OpPassManager &pm, const Stage &last) {
  buildPipeline(pm, stages[0], last);
}

void fp8c::buildGemmReportPipeline(OpPassManager &pm, const Stage &from) {
  const Stage *train = findStage("train");
  if (&from < train)
    buildPipeline(pm, from, *train);
  if (&from <= train)
    pm.addPass(fp8::createSelectGemms());
}

void fp8c::registerAllPasses() {
  registerTransformsPasses();
  train::registerTrainPasses();
  fp8::registerFP8Passes();
  rt::registerRTPasses();
  registerConversionPasses();
  PassPipelineRegistration<>("fp8c-pipeline",
                             "fp8c's whole pipeline, up to its last implemented stage",
                             [](OpPassManager &pm) { buildPipelineUpTo(pm, getStages().back()); });
}
