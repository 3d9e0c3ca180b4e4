// The arena planner (first fit over live ranges) and the memory report of a
// small lowered module, both checked against byte counts worked out by hand.

#include "fp8c/Dialect/RT/IR/RTDialect.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Analysis/MemoryPlan.h"
#include "fp8c/Analysis/MemoryReport.h"
#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace fp8c::rt;

TEST(MemoryPlan, AlignsTo256Bytes) {
  EXPECT_EQ(alignToBuffer(0), 0);
  EXPECT_EQ(alignToBuffer(1), 256);
  EXPECT_EQ(alignToBuffer(256), 256);
  EXPECT_EQ(alignToBuffer(257), 512);
}

TEST(MemoryPlan, FirstFitReusesFreedRanges) {
  ArenaPlanner planner(/*base=*/1000); // rounded up to 1024
  EXPECT_EQ(planner.place(4096, 0, 2), 1024);
  EXPECT_EQ(planner.place(100, 1, 3), 1024 + 4096);
  // Freed after instruction 2: a block defined at 3 reuses its bytes...
  EXPECT_EQ(planner.place(2048, 3, 5), 1024);
  // ...but not one defined at 2, where the first block is still read.
  EXPECT_EQ(planner.place(256, 2, 2), 1024 + 4096 + 256);
  // The gap left at [1024 + 2048, 1024 + 4096) fits a later 2048-byte block.
  EXPECT_EQ(planner.place(2048, 4, 4), 1024 + 2048);
  EXPECT_EQ(planner.highWater(), 1024 + 4096 + 512);
}

TEST(MemoryPlan, AvoidsReservedRanges) {
  ArenaPlanner planner(0);
  std::vector<ArenaPlanner::Range> avoid = {{0, 256}, {512, 256}};
  EXPECT_EQ(planner.place(256, 0, 0, avoid), 256);
  EXPECT_EQ(planner.place(512, 0, 0, avoid), 768);
  planner.placeAt(4096, 10, 1, 1);
  EXPECT_EQ(planner.highWater(), 4096 + 256);
  EXPECT_EQ(planner.place(256, 1, 1), 0);
}

TEST(MemoryReport, SplitsPersistentAndPeak) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<RTDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::memref::MemRefDialect, fp8c::train::TrainDialect>();
  // 64 f32 param (256 B), 64 f32 optimizer state (256 B), one f32 fp8 scale,
  // a 1024-byte bf16 activation and a 512-byte FP8 copy live together at the
  // second kernel, and an output.
  const char *source = R"mlir(
    func.func @train_step() {
      %a = rt.arena size 4096 : !rt.arena
      %w = rt.buffer %a[0] {name = "w", role = #rt<role param>, init = #rt<init zeros>} : memref<64xf32>
      %m = rt.buffer %a[256] {name = "optimizer.m.w", role = #rt<role optimizer>, init = #rt<init zeros>} : memref<64xf32>
      %s = rt.buffer %a[512] {name = "fp8.scale.w", role = #rt<role fp8_state>, init = #rt<init ones>} : memref<f32>
      %x = rt.buffer %a[768] : memref<512xbf16>
      %q = rt.buffer %a[1792] : memref<512xf8E4M3FN>
      %l = rt.buffer %a[2304] {name = "loss", role = #rt<role output>} : memref<f32>
      rt.kernel "k0" ins(%w : memref<64xf32>) outs(%x : memref<512xbf16>) {
      ^bb0(%t: tensor<64xf32>):
        %c = arith.constant dense<1.0> : tensor<512xbf16>
        rt.yield %c : tensor<512xbf16>
      }
      rt.kernel "k1" ins(%x : memref<512xbf16>) outs(%q : memref<512xf8E4M3FN>) {
      ^bb0(%t: tensor<512xbf16>):
        %c = arith.constant dense<1.0> : tensor<512xf8E4M3FN>
        rt.yield %c : tensor<512xf8E4M3FN>
      }
      rt.kernel "k2" ins(%q : memref<512xf8E4M3FN>) outs(%l : memref<f32>) {
      ^bb0(%t: tensor<512xf8E4M3FN>):
        %c = arith.constant dense<1.0> : tensor<f32>
        rt.yield %c : tensor<f32>
      }
      return
    }
  )mlir";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &ctx);
  ASSERT_TRUE(module);
  MemoryReport report = computeMemoryReport(*module);
  ASSERT_EQ(report.functions.size(), 1u);
  const FunctionMemory &m = report.functions[0];
  EXPECT_EQ(m.arenaBytes, 4096);
  EXPECT_EQ(m.parameters, 256);
  EXPECT_EQ(m.optimizerState, 256);
  EXPECT_EQ(m.fp8State, 4);
  EXPECT_EQ(m.peakInstruction, 1);
  EXPECT_EQ(m.peakInstructionName, "k1");
  EXPECT_EQ(m.activations, 1024);
  EXPECT_EQ(m.fp8Copies, 512);
  EXPECT_EQ(m.hostVisible, 0); // loss is written by k2, after the peak
  EXPECT_EQ(report.workspaceBytes, 32 << 20);

  std::string text;
  llvm::raw_string_ostream os(text);
  printMemoryReport(*module, os);
  EXPECT_NE(text.find("@train_step: peak at instruction 1 (k1)"), std::string::npos) << text;
  EXPECT_NE(text.find("(1024 bytes)"), std::string::npos) << text;
  EXPECT_NE(text.find("cuBLASLt workspace"), std::string::npos) << text;
}

TEST(MemoryReport, FollowsValuesThroughViewsOfOneStorage) {
  mlir::MLIRContext ctx;
  ctx.loadDialect<RTDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::memref::MemRefDialect, fp8c::train::TrainDialect>();
  // k0 writes %y ([4x128] bf16, 1024 B) and k3 reads it back as [512] (%yv,
  // another rt.buffer at the same offset, as the lowering emits a reshape), so
  // %y's bytes hold a value from k0 to k3: at k1 and k2 too. %t (2048 B at
  // 2048) lives only at k1..k2; k4 writes a new value into %y's bytes, which
  // starts a new interval rather than extending the first one.
  const char *source = R"mlir(
    func.func @train_step() {
      %a = rt.arena size 8192 : !rt.arena
      %y = rt.buffer %a[0] : memref<4x128xbf16>
      %yv = rt.buffer %a[0] : memref<512xbf16>
      %t = rt.buffer %a[2048] : memref<1024xbf16>
      %u = rt.buffer %a[4096] : memref<512xbf16>
      %l = rt.buffer %a[6144] {name = "loss", role = #rt<role output>} : memref<f32>
      %w = rt.buffer %a[7168] {name = "w", role = #rt<role param>, init = #rt<init zeros>} : memref<f32>
      rt.kernel "k0" ins(%w : memref<f32>) outs(%y : memref<4x128xbf16>) {
      ^bb0(%p: tensor<f32>):
        %c = arith.constant dense<1.0> : tensor<4x128xbf16>
        rt.yield %c : tensor<4x128xbf16>
      }
      rt.kernel "k1" ins(%w : memref<f32>) outs(%t : memref<1024xbf16>) {
      ^bb0(%p: tensor<f32>):
        %c = arith.constant dense<1.0> : tensor<1024xbf16>
        rt.yield %c : tensor<1024xbf16>
      }
      rt.kernel "k2" ins(%t : memref<1024xbf16>) outs(%u : memref<512xbf16>) {
      ^bb0(%x: tensor<1024xbf16>):
        %c = arith.constant dense<1.0> : tensor<512xbf16>
        rt.yield %c : tensor<512xbf16>
      }
      rt.kernel "k3" ins(%yv, %u : memref<512xbf16>, memref<512xbf16>) outs(%l : memref<f32>) {
      ^bb0(%x: tensor<512xbf16>, %z: tensor<512xbf16>):
        %c = arith.constant dense<1.0> : tensor<f32>
        rt.yield %c : tensor<f32>
      }
      rt.kernel "k4" ins(%w : memref<f32>) outs(%yv : memref<512xbf16>) {
      ^bb0(%p: tensor<f32>):
        %c = arith.constant dense<1.0> : tensor<512xbf16>
        rt.yield %c : tensor<512xbf16>
      }
      return
    }
  )mlir";
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &ctx);
  ASSERT_TRUE(module);
  MemoryReport report = computeMemoryReport(*module);
  ASSERT_EQ(report.functions.size(), 1u);
  const FunctionMemory &m = report.functions[0];
  // At k2: %y's value (1024), %t (2048) and %u (1024).
  EXPECT_EQ(m.peakInstructionName, "k2");
  EXPECT_EQ(m.activations, 1024 + 2048 + 1024);
  EXPECT_EQ(m.hostVisible, 0); // loss is written by k3, after the peak
}
