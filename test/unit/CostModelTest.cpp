//===- CostModelTest.cpp - the roofline cost model against measurements ---===//
//
// Pins the model on H100 SXM against public torchao measurements of FP8
// (tensorwise, current scaling) linear layers, and checks the device table,
// the hard rules and calibration files.
//
//===----------------------------------------------------------------------===//

#include "fp8c/CostModel/CostModel.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

using namespace fp8c::cost;

namespace {

DeviceSpec device(llvm::StringRef name) {
  llvm::Expected<DeviceSpec> d = lookupDevice(name);
  EXPECT_TRUE(bool(d)) << llvm::toString(d.takeError());
  return d ? *d : DeviceSpec();
}

/// A forward GEMM with both operands cast by tensorwise current scaling, no
/// fusion, no sharing: the torchao float8 baseline.
GemmDesc unfusedForward(int64_t m, int64_t k, int64_t n) {
  GemmDesc g;
  g.m = m;
  g.k = k;
  g.n = n;
  g.kind = GemmKind::Forward;
  g.recipe = Recipe::Tensorwise;
  return g;
}

std::string errorText(llvm::Error err) {
  EXPECT_TRUE(bool(err));
  return llvm::toString(std::move(err));
}

TEST(CostModel, SmallGemmStaysBF16OnH100) {
  // torchao measured 0.80x for (1024, 2048, 1024).
  CostModel model(device("h100-sxm"));
  GemmEstimate e = model.estimate(unfusedForward(1024, 2048, 1024));
  EXPECT_LT(e.speedup, 1.0);
  EXPECT_EQ(e.decision, GemmPrecision::BF16) << e.reason;
  EXPECT_NE(e.reason.find("cast overhead"), std::string::npos) << e.reason;
}

TEST(CostModel, LargeGemmGoesFP8OnH100) {
  // torchao measured 1.39x for (4096, 8192, 16384).
  CostModel model(device("h100-sxm"));
  GemmEstimate e = model.estimate(unfusedForward(4096, 8192, 16384));
  EXPECT_GT(e.speedup, 1.1);
  EXPECT_LT(e.speedup, 1.7);
  EXPECT_EQ(e.decision, GemmPrecision::FP8) << e.reason;
  EXPECT_EQ(e.bf16.bound, Bound::Compute);
  EXPECT_NE(e.reason.find("predicted"), std::string::npos) << e.reason;
  // Two kernels per operand (amax pass, cast), 5 bytes per element each.
  EXPECT_EQ(e.castA.kernels, 2u);
  EXPECT_EQ(e.castA.bytes, 5 * 4096 * 8192);
  EXPECT_EQ(e.castB.bytes, int64_t(5) * 8192 * 16384);
}

TEST(CostModel, GemmOnlySpeedup8192Cubed) {
  CostModel model(device("h100-sxm"));
  double bf16 = model.gemmTime(8192, 8192, 8192, GemmPrecision::BF16).us;
  double fp8 = model.gemmTime(8192, 8192, 8192, GemmPrecision::FP8).us;
  EXPECT_GT(bf16 / fp8, 1.6);
  EXPECT_LT(bf16 / fp8, 2.0);
  // No casts at all: the same through estimate().
  GemmDesc g = unfusedForward(8192, 8192, 8192);
  g.a.needsCast = g.b.needsCast = false;
  GemmEstimate e = model.estimate(g);
  EXPECT_EQ(e.tCastUs, 0.0);
  EXPECT_DOUBLE_EQ(e.speedup, bf16 / fp8);
}

TEST(CostModel, TinyGemmsAreTooSmall) {
  // gpt-tiny: 512 tokens, d_model 128, MLP 512, vocab 256; every GEMM of the
  // step, each operand cast.
  CostModel model(device("h100-sxm"));
  const int64_t shapes[][3] = {{512, 128, 512}, {512, 512, 128}, {512, 128, 384},
                               {512, 128, 256}, {128, 512, 512}, {512, 512, 128}};
  for (auto &s : shapes) {
    for (GemmKind kind : {GemmKind::Forward, GemmKind::DGrad, GemmKind::WGrad}) {
      GemmDesc g = unfusedForward(s[0], s[1], s[2]);
      g.kind = kind;
      GemmEstimate e = model.estimate(g);
      EXPECT_EQ(e.decision, GemmPrecision::BF16);
      EXPECT_EQ(e.bf16.bound, Bound::Launch);
      EXPECT_EQ(e.reason.rfind("too small", 0), 0u) << e.reason;
    }
  }
}

TEST(CostModel, ThresholdIsSettable) {
  GemmDesc g = unfusedForward(4096, 8192, 16384);
  EXPECT_EQ(CostModel(device("h100-sxm"), 1.0).estimate(g).decision, GemmPrecision::FP8);
  EXPECT_EQ(CostModel(device("h100-sxm"), 2.0).estimate(g).decision, GemmPrecision::BF16);
}

TEST(CostModel, CastBytesFollowRecipeAndFusion) {
  CostModel model(device("h100-sxm"));
  const int64_t r = 4096, c = 4096, n = r * c;
  OperandCast plain;
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, plain).bytes, 5 * n);
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, plain).kernels, 2u);
  EXPECT_EQ(model.castCost(r, c, Recipe::Delayed, plain).bytes, 3 * n);
  EXPECT_EQ(model.castCost(r, c, Recipe::Delayed, plain).kernels, 1u);
  EXPECT_EQ(model.castCost(r, c, Recipe::Rowwise, plain).bytes, 3 * n + 4 * r);
  EXPECT_EQ(model.castCost(r, c, Recipe::Blockwise, plain).bytes, 3 * n + 4 * n / 128);

  OperandCast amaxFused;
  amaxFused.amaxFused = true;
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, amaxFused).bytes, 3 * n);

  OperandCast transposed;
  transposed.castTranspose = true;
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, transposed).bytes, 6 * n);

  OperandCast fused;
  fused.castFused = true;
  CastCost delayedFused = model.castCost(r, c, Recipe::Delayed, fused);
  EXPECT_EQ(delayedFused.bytes, n);
  EXPECT_EQ(delayedFused.kernels, 0u);
  // Current scaling cannot fuse the cast into the producer.
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, fused).bytes, 5 * n);

  OperandCast shared;
  shared.sharedBy = 2;
  EXPECT_DOUBLE_EQ(model.castCost(r, c, Recipe::Tensorwise, shared).us * 2,
                   model.castCost(r, c, Recipe::Tensorwise, plain).us);

  OperandCast none;
  none.needsCast = false;
  EXPECT_EQ(model.castCost(r, c, Recipe::Tensorwise, none).us, 0.0);
}

TEST(CostModel, FusionRaisesSpeedup) {
  CostModel model(device("h100-sxm"));
  GemmDesc g = unfusedForward(4096, 8192, 16384);
  double unfused = model.estimate(g).speedup;
  g.a.amaxFused = true;  // activation amax from the producer's epilogue
  g.b.sharedBy = 2;      // weight cast once per step, shared with dgrad
  double fused = model.estimate(g).speedup;
  EXPECT_GT(fused, unfused);
}

TEST(CostModel, HardRules) {
  DeviceSpec h100 = device("h100-sxm");
  EXPECT_FALSE(checkHardRules(h100, Recipe::Tensorwise, 64, 128, 256));
  std::optional<std::string> r = checkHardRules(h100, Recipe::Tensorwise, 64, 100, 256);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "dims not multiples of 16 (K=100)");
  r = checkHardRules(h100, Recipe::Blockwise, 64, 128, 256);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "dims not multiples of 128 (M=64)");
  EXPECT_FALSE(checkHardRules(h100, Recipe::Blockwise, 128, 128, 256));
  EXPECT_TRUE(checkHardRules(h100, Recipe::Tensorwise, 0, 128, 256));

  // A large GEMM that would pay still stays bf16 when a dim is not % 16.
  CostModel model(h100);
  GemmEstimate e = model.estimate(unfusedForward(4096, 8192, 16385));
  EXPECT_EQ(e.decision, GemmPrecision::BF16);
  EXPECT_EQ(e.reason, "dims not multiples of 16 (N=16385)");
  EXPECT_EQ(model.estimate(unfusedForward(0, 16, 16)).decision, GemmPrecision::BF16);
}

TEST(CostModel, BlockwiseRejectedOnL40S) {
  DeviceSpec l40s = device("l40s");
  EXPECT_FALSE(l40s.supports(Recipe::Blockwise));
  EXPECT_TRUE(l40s.supports(Recipe::Tensorwise));
  std::string text = errorText(checkRecipeSupported(l40s, Recipe::Blockwise));
  EXPECT_EQ(text, "fp8.recipe: blockwise is not supported on fp8.device l40s (sm_89): "
                  "blockwise FP8 GEMMs need sm_90 and cuBLASLt 12.9+; l40s is sm_89");
  EXPECT_FALSE(bool(checkRecipeSupported(device("h100-sxm"), Recipe::Blockwise)));

  CostModel model(l40s);
  GemmDesc g = unfusedForward(4096, 8192, 16384);
  g.recipe = Recipe::Blockwise;
  GemmEstimate e = model.estimate(g);
  EXPECT_EQ(e.decision, GemmPrecision::BF16);
  EXPECT_NE(e.reason.find("cannot run blockwise"), std::string::npos) << e.reason;
}

TEST(DeviceSpec, TableAndLookup) {
  std::vector<std::string> names;
  for (const DeviceSpec &d : builtinDevices()) {
    names.push_back(d.name);
    EXPECT_GT(d.peakFP8TFlops, d.peakBF16TFlops);
    EXPECT_TRUE(d.tensorwise);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"h100-sxm", "h100-pcie", "h200", "l40s", "b200"}));
  EXPECT_EQ(device("h200").memoryGBps, 4800);
  EXPECT_EQ(parseRecipe("blockwise"), Recipe::Blockwise);
  EXPECT_FALSE(parseRecipe("mxfp8"));
}

TEST(DeviceSpec, UnknownDevice) {
  llvm::Expected<DeviceSpec> d = lookupDevice("a100");
  ASSERT_FALSE(bool(d));
  EXPECT_EQ(llvm::toString(d.takeError()),
            "unknown device 'a100'; valid devices: h100-sxm, h100-pcie, h200, l40s, b200");
  DeviceTable table;
  llvm::Expected<const DeviceSpec &> t = table.lookup("h100");
  ASSERT_FALSE(bool(t));
  EXPECT_NE(llvm::toString(t.takeError()).find("unknown device 'h100'"), std::string::npos);
}

llvm::Error calibrate(DeviceTable &table, llvm::StringRef text) {
  return table.applyCalibration(llvm::MemoryBufferRef(text, "calib.yaml"));
}

TEST(Calibration, OverrideChangesPrediction) {
  DeviceTable table;
  GemmDesc g = unfusedForward(4096, 8192, 16384);
  double before = CostModel(*table.lookup("h100-sxm")).estimate(g).speedup;
  ASSERT_FALSE(bool(calibrate(table, "# measured on an H100 SXM\n"
                                     "devices:\n"
                                     "  h100-sxm:\n"
                                     "    eff_compute_fp8: 0.5\n"
                                     "    launch_floor_us: 4\n")));
  const DeviceSpec &h100 = *table.lookup("h100-sxm");
  EXPECT_EQ(h100.eff.computeFP8, 0.5);
  EXPECT_EQ(h100.launchFloorUs, 4.0);
  EXPECT_EQ(h100.eff.computeBF16, 0.75); // untouched
  double after = CostModel(h100).estimate(g).speedup;
  EXPECT_LT(after, before);
  // Built-in table unchanged, other devices unchanged.
  EXPECT_EQ(device("h100-sxm").eff.computeFP8, 0.65);
  EXPECT_EQ(table.lookup("h200")->eff.computeFP8, 0.65);

  // JSON is YAML too.
  ASSERT_FALSE(bool(calibrate(table, R"({"devices": {"l40s": {"eff_memory_cast": 0.9}}})")));
  EXPECT_EQ(table.lookup("l40s")->eff.memoryCast, 0.9);
}

TEST(Calibration, BadFileGivesLocatedErrors) {
  DeviceTable table;
  std::string text = errorText(calibrate(table, "devices:\n"
                                                "  h100-sxm:\n"
                                                "    eff_compute_fp8: 1.5\n"
                                                "    eff_compute_bf16: 0.7\n"
                                                "    eff_compute: 0.7\n"
                                                "  a100:\n"
                                                "    eff_compute_fp8: 0.5\n"));
  EXPECT_NE(text.find("calib.yaml:3:22: error: devices.h100-sxm.eff_compute_fp8: expected a "
                      "number in (0, 1], got '1.5'"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("calib.yaml:5:5: error: devices.h100-sxm.eff_compute: unknown key"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("calib.yaml:6:3: error: devices.a100: unknown device; valid devices: "
                      "h100-sxm"),
            std::string::npos)
      << text;
  // Nothing applied, not even the valid override next to the bad one.
  EXPECT_EQ(table.lookup("h100-sxm")->eff.computeBF16, 0.75);

  text = errorText(calibrate(table, "devices:\n  h200:\n    launch_floor_us: fast\n"));
  EXPECT_NE(text.find("calib.yaml:3:22: error: devices.h200.launch_floor_us: expected a number "
                      "in [0, 1000], got 'fast'"),
            std::string::npos)
      << text;
  text = errorText(calibrate(table, "gpus: {}\n"));
  EXPECT_NE(text.find("calib.yaml:1:1: error: gpus: unknown key; expected 'devices'"),
            std::string::npos)
      << text;
}

TEST(Calibration, MalformedInputNeverCrashes) {
  const char *inputs[] = {"",
                          "devices",
                          "devices: [1, 2]\n",
                          "devices:\n  h100-sxm: 3\n",
                          "devices:\n  h100-sxm:\n    eff_compute_fp8: [0.5]\n",
                          "devices:\n  h100-sxm:\n    eff_compute_fp8:\n",
                          "devices:\n  h100-sxm:\n    eff_compute_fp8: nan\n",
                          "devices:\n  h100-sxm: {eff_compute_fp8: 0.5, eff_compute_fp8: 0.6}\n",
                          "devices: {h100-sxm: {eff_compute_fp8: 0.5\n",
                          "{[}: ]\n\t'\"",
                          "devices: *alias\n",
                          "---\ndevices: {}\n---\ndevices: {}\n",
                          "? [a]\n: b\n"};
  for (const char *input : inputs) {
    DeviceTable table;
    llvm::Error err = calibrate(table, input);
    ASSERT_TRUE(bool(err)) << "accepted: " << input;
    std::string text = llvm::toString(std::move(err));
    EXPECT_EQ(text.rfind("calib.yaml:", 0), 0u) << text;
    EXPECT_EQ(table.lookup("h100-sxm")->eff.computeFP8, 0.65);
  }
  DeviceTable table;
  std::string text = errorText(table.applyCalibrationFile("/nonexistent/calib.yaml"));
  EXPECT_NE(text.find("cannot read calibration file '/nonexistent/calib.yaml'"),
            std::string::npos);
}

TEST(CostModelDocs, DeviceTableIsCurrent) {
  std::string table;
  llvm::raw_string_ostream os(table);
  printDeviceTableMarkdown(builtinDevices(), os);
  auto doc = llvm::MemoryBuffer::getFile(FP8C_SOURCE_DIR "/docs/cost-model.md");
  ASSERT_TRUE(bool(doc));
  EXPECT_NE((*doc)->getBuffer().find(table), llvm::StringRef::npos)
      << "docs/cost-model.md is stale; its device table must be:\n"
      << table;
}

} // namespace
