//===- NcclHostTest.cpp - fp8rt_nccl on a machine with or without a GPU ---===//
//
// What of the NCCL communicator runs anywhere (CI has no GPU): the rank's GPU
// from the launcher's environment, and creating a communicator where there is
// no GPU failing with a Status that says so (no crash, no abort). The GPU
// cases are NcclGpuTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/comm/NcclCommunicator.h"
#include "fp8rt/cuda/CudaBackend.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

namespace {

using namespace fp8rt;

const char *const kLocalRankVariables[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID",
                                           "MPI_LOCALRANKID", "LOCAL_RANK"};

TEST(NcclHost, LocalRankComesFromTheLauncher) {
  for (const char *name : kLocalRankVariables)
    unsetenv(name);
  EXPECT_EQ(comm::localRankFromEnvironment(), 0);
  setenv("LOCAL_RANK", "5", 1);
  EXPECT_EQ(comm::localRankFromEnvironment(), 5);
  setenv("SLURM_LOCALID", "3", 1); // Slurm's before torchrun's
  EXPECT_EQ(comm::localRankFromEnvironment(), 3);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "2", 1); // Open MPI's first
  EXPECT_EQ(comm::localRankFromEnvironment(), 2);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", "two", 1); // not a number: the next one
  EXPECT_EQ(comm::localRankFromEnvironment(), 3);
  for (const char *name : kLocalRankVariables)
    unsetenv(name);
}

TEST(NcclHost, TheLibraryIsLoadedWhenNeeded) {
  // Not linked: fp8-run starts without it; here it is installed (CUDA 13's
  // toolkit), elsewhere the message says what to do.
  StatusOr<int> version = comm::ncclVersion();
  if (version.ok()) {
    std::printf("  NCCL %d\n", *version);
    EXPECT_GE(*version, 21000); // ncclAvg: 2.10
  } else {
    EXPECT_EQ(version.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(version.status().message().find("cannot load NCCL ("), std::string::npos)
        << version.status().message();
  }
}

TEST(NcclHost, WithoutAGpuCreatingACommunicatorFailsWithAStatus) {
  if (cuda::probeCudaDevice().ok())
    GTEST_SKIP() << "this machine has a GPU (NcclGpuTest.cpp covers it)";
  comm::SingleProcessCommunicator bootstrap;
  StatusOr<std::unique_ptr<comm::NcclCommunicator>> nccl =
      comm::createNcclCommunicator(bootstrap, 0, 60);
  ASSERT_FALSE(nccl.ok());
  EXPECT_EQ(nccl.status().code(), StatusCode::kUnavailable) << nccl.status().toString();
  EXPECT_NE(nccl.status().message().find("cudaGetDeviceCount failed: "), std::string::npos)
      << nccl.status().message();
}

} // namespace
