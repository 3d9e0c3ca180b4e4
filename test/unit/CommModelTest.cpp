//===- CommModelTest.cpp - ring collectives and the FP8 all-gather choice -===//
//
// Hand-computed figures for the communication cost model (CommModel.h,
// docs/distributed.md): ring traffic over the link, latency per ring step.
//
//===----------------------------------------------------------------------===//

#include "fp8c/CostModel/CommModel.h"

#include "llvm/Support/MemoryBufferRef.h"

#include "gtest/gtest.h"

using namespace fp8c::cost;

namespace {

DeviceSpec h100() {
  llvm::Expected<DeviceSpec> d = lookupDevice("h100-sxm");
  EXPECT_TRUE(bool(d)) << llvm::toString(d.takeError());
  return d ? *d : DeviceSpec();
}

const Topology oneNode8{1, 8}, twoNodes4{2, 4};

TEST(CommModel, DeviceLinks) {
  DeviceSpec d = h100();
  EXPECT_EQ(d.intraNodeLink, "NVLink");
  EXPECT_EQ(d.intraNodeGBps, 450);
  EXPECT_EQ(d.interNodeGBps, 50); // 400 Gb/s per GPU
  EXPECT_EQ(lookupDevice("h200")->intraNodeGBps, 450);
  EXPECT_EQ(lookupDevice("h100-pcie")->intraNodeLink, "PCIe");
  EXPECT_EQ(lookupDevice("h100-pcie")->intraNodeGBps, 50);
}

TEST(CommModel, AllReduceOneNode) {
  // 100 MB over 8 ranks: 2 * 7/8 * 1e8 = 1.75e8 bytes at 450e3 bytes/us =
  // 388.889 us, plus 14 steps * 3.4 us = 47.6 us.
  CommTime t = collectiveTime(h100(), oneNode8, CollectiveKind::AllReduce, 1e8);
  EXPECT_DOUBLE_EQ(t.wireBytes, 1.75e8);
  EXPECT_EQ(t.steps, 14);
  EXPECT_FALSE(t.interNode);
  EXPECT_NEAR(t.bandwidthUs, 388.8889, 1e-4);
  EXPECT_NEAR(t.latencyTotalUs, 47.6, 1e-9);
  EXPECT_NEAR(t.us, 436.4889, 1e-4);
}

TEST(CommModel, AllReduceTwoNodes) {
  // The network limits the ring: 1.75e8 / 50e3 = 3500 us; of the 14 steps, 2
  // cross nodes (9.6 us each), 12 stay inside (3.4 us): 60 us.
  CommTime t = collectiveTime(h100(), twoNodes4, CollectiveKind::AllReduce, 1e8);
  EXPECT_TRUE(t.interNode);
  EXPECT_EQ(t.linkGBps, 50);
  EXPECT_NEAR(t.bandwidthUs, 3500, 1e-9);
  EXPECT_NEAR(t.latencyTotalUs, 60, 1e-9);
  EXPECT_NEAR(t.us, 3560, 1e-9);
}

TEST(CommModel, ReduceScatterAndAllGather) {
  // Half an all-reduce: 7/8 * 1e8 / 450e3 = 194.444 us + 7 * 3.4 = 23.8 us.
  CommTime rs = collectiveTime(h100(), oneNode8, CollectiveKind::ReduceScatter, 1e8);
  EXPECT_EQ(rs.steps, 7);
  EXPECT_NEAR(rs.us, 218.2444, 1e-4);
  // 2 x 4: 0.875e8 / 50e3 = 1750 us + 6 * 3.4 + 1 * 9.6 = 30 us.
  CommTime ag = collectiveTime(h100(), twoNodes4, CollectiveKind::AllGather, 1e8);
  EXPECT_NEAR(ag.us, 1780, 1e-9);
}

TEST(CommModel, OneRankCostsNothing) {
  CommTime t = collectiveTime(h100(), Topology{1, 1}, CollectiveKind::AllReduce, 1e8);
  EXPECT_EQ(t.us, 0);
  EXPECT_EQ(t.steps, 0);
}

TEST(CommModel, KindNames) {
  EXPECT_EQ(parseCollectiveKind("reduce_scatter"), CollectiveKind::ReduceScatter);
  EXPECT_EQ(stringifyCollectiveKind(CollectiveKind::AllGather), "all_gather");
  EXPECT_FALSE(parseCollectiveKind("broadcast"));
}

TEST(CommModel, FP8AllGatherPaysAcrossNodesOnly) {
  // A 4096 x 4096 weight. One node: bf16 gather of 2 * 16777216 bytes =
  // 29360128 wire bytes / 450e3 = 65.245 + 23.8 = 89.045 us; fp8 gather 32.622 +
  // 23.8 = 56.422 us, plus amax and cast kernels at the 3 us launch floor (a
  // 2097152-element shard moves 4 and 6 MB at 2.68 MB/us: 1.6 and 2.3 us) and
  // the amax all-reduce, 14 latency steps = 47.6 us: 110.022 us > 89.045.
  int64_t elements = int64_t(4096) * 4096;
  FP8AllGatherEstimate one = estimateFP8AllGather(h100(), oneNode8, elements);
  EXPECT_NEAR(one.bf16Us, 89.0447, 1e-4);
  EXPECT_NEAR(one.fp8GatherUs, 56.4224, 1e-4);
  EXPECT_EQ(one.amaxUs, 3.0);
  EXPECT_EQ(one.castUs, 3.0);
  EXPECT_NEAR(one.amaxAllReduceUs, 47.6, 1e-3);
  EXPECT_NEAR(one.fp8Us, 110.0224, 1e-3);
  EXPECT_FALSE(one.useFP8) << one.reason;
  // Two nodes: bf16 587.203 + 30 = 617.203 us; fp8 293.601 + 30 + 3 + 60 + 3 =
  // 389.601 us: FP8.
  FP8AllGatherEstimate two = estimateFP8AllGather(h100(), twoNodes4, elements);
  EXPECT_NEAR(two.bf16Us, 617.2026, 1e-4);
  EXPECT_NEAR(two.fp8Us, 389.6013, 1e-3);
  EXPECT_TRUE(two.useFP8) << two.reason;
  EXPECT_EQ(two.reason.rfind("fp8: bf16 all-gather 617.2 us vs fp8 389.6 us", 0), 0u) << two.reason;
  // One rank gathers nothing.
  EXPECT_FALSE(estimateFP8AllGather(h100(), Topology{1, 1}, elements).useFP8);
}

TEST(CommModel, CalibratedLinks) {
  // Measured links replace the table's: 360 GB/s and 4 us per step make the
  // 100 MB all-reduce on one node 1.75e8 / 360e3 = 486.111 + 14 * 4 = 542.111 us.
  DeviceTable table;
  const char *text = "devices:\n  h100-sxm:\n    intra_node_gbps: 360\n"
                     "    intra_node_latency_us: 4\n    inter_node_gbps: 45\n"
                     "    inter_node_latency_us: 12\n";
  llvm::Error err = table.applyCalibration(llvm::MemoryBufferRef(text, "calib.yaml"));
  ASSERT_FALSE(bool(err)) << llvm::toString(std::move(err));
  const DeviceSpec &d = *table.lookup("h100-sxm");
  EXPECT_EQ(d.interNodeGBps, 45);
  EXPECT_EQ(d.interNodeLatencyUs, 12);
  EXPECT_NEAR(collectiveTime(d, oneNode8, CollectiveKind::AllReduce, 1e8).us, 542.1111, 1e-4);
  // Out of range: refused with the range.
  llvm::Error bad = table.applyCalibration(llvm::MemoryBufferRef(
      "devices:\n  h100-sxm:\n    inter_node_gbps: 0\n", "calib.yaml"));
  ASSERT_TRUE(bool(bad));
  EXPECT_NE(llvm::toString(std::move(bad))
                .find("devices.h100-sxm.inter_node_gbps: expected a number in (0, 100000], got '0'"),
            std::string::npos);
}

} // namespace
