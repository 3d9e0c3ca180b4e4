//===- LowerToRT.cpp - (in progress) ---------------------------------------------===//

#include "fp8c/Dialect/RT/Transforms/Passes.h"

namespace fp8c::rt {
#define GEN_PASS_DEF_LOWERTORT
#include "fp8c/Dialect/RT/Transforms/Passes.h.inc"
} // namespace fp8c::rt

namespace {
struct LowerToRTPass : fp8c::rt::impl::LowerToRTBase<LowerToRTPass> {
  void runOnOperation() override {
    getOperation().emitError("LowerToRT is being written in this session");
    signalPassFailure();
  }
};
} // namespace
