//===- FP8DialectTest.cpp - fp8 dialect helpers and verifiers; rt effects -===//

#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Pipelines/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/APFloat.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace fp8c::fp8;

namespace {

// APFloat's own FP8 semantics are the independent reference for the limits.
TEST(FP8Max, MatchesAPFloatLargest) {
  MLIRContext ctx;
  Builder b(&ctx);
  EXPECT_EQ(getFP8Max(b.getType<Float8E4M3FNType>()),
            llvm::APFloat::getLargest(llvm::APFloat::Float8E4M3FN()).convertToDouble());
  EXPECT_EQ(getFP8Max(b.getType<Float8E5M2Type>()),
            llvm::APFloat::getLargest(llvm::APFloat::Float8E5M2()).convertToDouble());
  EXPECT_EQ(*getFP8Max(b.getType<Float8E4M3FNType>()), 448.0);
  EXPECT_EQ(*getFP8Max(b.getType<Float8E5M2Type>()), 57344.0);
  EXPECT_FALSE(getFP8Max(b.getBF16Type()).has_value());
}

SmallVector<int64_t> scaleShape(Recipe recipe, std::optional<ArrayRef<int64_t>> block,
                                ArrayRef<int64_t> shape, std::string *errorOut = nullptr) {
  SmallVector<int64_t> out;
  std::string error;
  if (failed(getScaleShape(recipe, block, shape, out, error))) {
    if (errorOut)
      *errorOut = error;
    return {-1};
  }
  return out;
}

TEST(ScaleShape, PerRecipe) {
  EXPECT_EQ(scaleShape(Recipe::tensorwise, std::nullopt, {512, 768}), SmallVector<int64_t>{});
  EXPECT_EQ(scaleShape(Recipe::delayed, std::nullopt, {8, 64, 768}), SmallVector<int64_t>{});
  EXPECT_EQ(scaleShape(Recipe::rowwise, std::nullopt, {512, 768}),
            (SmallVector<int64_t>{512, 1}));
  int64_t act[] = {1, 128}, weight[] = {128, 128};
  EXPECT_EQ(scaleShape(Recipe::blockwise, ArrayRef<int64_t>(act), {512, 768}),
            (SmallVector<int64_t>{512, 6}));
  EXPECT_EQ(scaleShape(Recipe::blockwise, ArrayRef<int64_t>(weight), {3072, 768}),
            (SmallVector<int64_t>{24, 6}));
}

TEST(ScaleShape, RejectsWithReason) {
  std::string error;
  int64_t act[] = {1, 128}, odd[] = {64, 64};
  EXPECT_EQ(scaleShape(Recipe::blockwise, ArrayRef<int64_t>(act), {512, 100}, &error),
            SmallVector<int64_t>{-1});
  EXPECT_EQ(error, "blockwise scaling with block [1, 128] needs dimension 1 (size 100) to be "
                   "a multiple of 128");
  EXPECT_EQ(scaleShape(Recipe::blockwise, ArrayRef<int64_t>(odd), {512, 512}, &error),
            SmallVector<int64_t>{-1});
  EXPECT_EQ(error, "block [64, 64] is not supported; use [1, 128] or [128, 128]");
  EXPECT_EQ(scaleShape(Recipe::rowwise, std::nullopt, {8, 64, 768}, &error),
            SmallVector<int64_t>{-1});
  EXPECT_EQ(error, "rowwise scaling needs a 2-D operand, got shape [8, 64, 768]");
  EXPECT_EQ(scaleShape(Recipe::tensorwise, ArrayRef<int64_t>(act), {512, 768}, &error),
            SmallVector<int64_t>{-1});
  EXPECT_EQ(error, "a block is only meaningful with blockwise scaling, not tensorwise");
}

// Ops built through the C++ API go through the same verifier as parsed IR.
TEST(ScaledMatmul, BuilderVerifierRejectsE5M2TimesE5M2) {
  DialectRegistry registry;
  fp8c::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  std::string diagnostic;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    diagnostic = d.str();
    return success();
  });
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto e5m2 = RankedTensorType::get({32, 64}, b.getType<Float8E5M2Type>());
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  auto result = RankedTensorType::get({32, 32}, b.getBF16Type());
  OperationState state(loc, ScaledMatmulOp::getOperationName());
  Block block;
  Value lhs = block.addArgument(e5m2, loc), rhs = block.addArgument(e5m2, loc);
  Value ls = block.addArgument(scalar, loc), rs = block.addArgument(scalar, loc);
  ScaledMatmulOp::build(b, state, result, /*amax=*/Type(), lhs, rhs, ls, rs,
                        /*result_scale=*/Value(), /*bias=*/Value(), Recipe::tensorwise,
                        Format::hybrid, nullptr, nullptr,
                        false, nullptr);
  Operation *op = Operation::create(state);
  EXPECT_TRUE(failed(verify(op)));
  EXPECT_EQ(diagnostic, "'fp8.scaled_matmul' op f8E5M2 x f8E5M2 GEMMs are not supported by "
                        "cuBLASLt; one operand must be f8E4M3FN");
  op->destroy();
}

// rt ops read their input buffers and write their output buffers, nothing
// else; "r"/"w" per operand, in operand order, "-" for none.
std::string effectsOf(Operation *op) {
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!iface)
    return "unknown";
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  std::string out;
  for (Value operand : op->getOperands()) {
    std::string mark;
    for (const MemoryEffects::EffectInstance &e : effects) {
      if (e.getValue() != operand)
        continue;
      if (isa<MemoryEffects::Read>(e.getEffect()))
        mark += "r";
      else if (isa<MemoryEffects::Write>(e.getEffect()))
        mark += "w";
      else
        mark += "?";
    }
    out += (out.empty() ? "" : " ") + (mark.empty() ? std::string("-") : mark);
  }
  // Effects on anything but an operand (the whole arena, a resource) would show here.
  for (const MemoryEffects::EffectInstance &e : effects)
    if (!e.getValue())
      out += " +global";
  return out;
}

TEST(RTMemoryEffects, ReadInputsWriteOutputs) {
  DialectRegistry registry;
  fp8c::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  const char *source = R"mlir(
    func.func @f(%a: memref<64x64xf8E4M3FN>, %b: memref<64x64xf8E4M3FN>, %x: memref<64x64xbf16>,
                 %y: memref<64x64xbf16>, %bias: memref<64xbf16>, %sa: memref<f32>,
                 %sb: memref<f32>, %sd: memref<f32>, %amax: memref<f32>,
                 %z: memref<64x64xf32>) {
      rt.kernel "cast" ins(%x, %sa : memref<64x64xbf16>, memref<f32>)
          outs(%a, %amax : memref<64x64xf8E4M3FN>, memref<f32>) {
      ^bb0(%v: tensor<64x64xbf16>, %s: tensor<f32>):
        %q = fp8.quantize %v, %s recipe tensorwise : tensor<64x64xbf16>, tensor<f32> -> tensor<64x64xf8E4M3FN>
        %m = fp8.amax %v recipe tensorwise : tensor<64x64xbf16> -> tensor<f32>
        rt.yield %q, %m : tensor<64x64xf8E4M3FN>, tensor<f32>
      }
      rt.gemm %a, %b -> %a a_scale(%sa) b_scale(%sb) d_scale(%sd) amax_d(%amax) {transpose_b}
          : memref<64x64xf8E4M3FN>, memref<64x64xf8E4M3FN>, memref<64x64xf8E4M3FN>,
            memref<f32>, memref<f32>, memref<f32>, memref<f32>
      rt.gemm %x, %y -> %y bias(%bias) {transpose_b, epilogue = #rt<epilogue bias>}
          : memref<64x64xbf16>, memref<64x64xbf16>, memref<64x64xbf16>, memref<64xbf16>
      rt.copy %sa, %sb : memref<f32>, memref<f32>
      rt.gemm %x, %y -> %z {accumulate, transpose_b}
          : memref<64x64xbf16>, memref<64x64xbf16>, memref<64x64xf32>
      return
    }
  )mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  ASSERT_TRUE(module);
  std::vector<std::string> effects;
  module->walk([&](Operation *op) {
    if (isa<fp8c::rt::KernelOp, fp8c::rt::GemmOp, fp8c::rt::CopyOp>(op))
      effects.push_back(effectsOf(op));
  });
  // kernel: ins (x, sa) read, outs (a, amax) written. gemm: a, b, the scales
  // and bias read, d and amax_d written; an operand passed twice shows both
  // (D is never read: a GEMM in place of an operand reads it as A or B).
  // copy: source read, target written. An accumulating gemm reads D, then writes it.
  EXPECT_EQ(effects, (std::vector<std::string>{"r r w w", "rw r rw r r r w", "r rw rw r", "r w",
                                               "r r rw"}));
}

} // namespace
