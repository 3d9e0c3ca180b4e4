//===- Distributed.cpp - fp8-run as one rank of a data-parallel job -------===//

#include "Distributed.h"

#ifdef FP8RUN_HAVE_MPI
#include "fp8rt/comm/MpiCommunicator.h"
#endif

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>

namespace fp8run {

namespace {

/// FNV-1a-64 of a file's bytes; 0 when it cannot be read.
uint64_t hashFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t h = 0xcbf29ce484222325ull;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it)
    h = (h ^ uint8_t(*it)) * 0x100000001b3ull;
  return in.bad() ? 0 : h;
}

/// Swallows what rank > 0 would print.
class NullBuffer : public std::streambuf {
protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
};
NullBuffer nullBuffer;

} // namespace

Ranks::~Ranks() {
  if (savedCout_)
    std::cout.rdbuf(savedCout_);
  fp8rt::comm::setProcessCommunicator(nullptr);
}

std::string Ranks::start(int *argc, char ***argv) {
#ifdef FP8RUN_HAVE_MPI
  if (!fp8rt::comm::launchedByMpi())
    return "";
  fp8rt::StatusOr<std::unique_ptr<fp8rt::comm::Communicator>> mpi =
      fp8rt::comm::createMpiCommunicator(argc, argv);
  if (!mpi.ok())
    return mpi.status().message();
  communicator_ = std::move(*mpi);
  fp8rt::comm::setProcessCommunicator(communicator_.get());
#else
  (void)argc;
  (void)argv;
  // Started by mpirun without MPI support: each rank would train alone.
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *size = std::getenv(name); size && std::string(size) != "1")
      return std::string("started by an MPI launcher (") + name + "=" + size +
             ") but this fp8-run was built without MPI (install libopenmpi-dev and rebuild)";
#endif
  return "";
}

std::string Ranks::prepare(const std::string &programPath, fp8rt::TrainOptions &train,
                           std::string &plotPath) {
  if (!communicator_)
    return "";
  fp8rt::comm::Communicator &c = *communicator_;
  uint64_t mine = hashFile(programPath), root = mine;
  if (fp8rt::Status s = c.broadcast(&root, sizeof root, 0); !s.ok())
    return s.message();
  if (mine != root)
    return "rank " + std::to_string(c.rank()) + " of " + std::to_string(c.size()) + ": " +
           programPath +
           " differs from rank 0's program file; every rank must run "
           "the same program";
  if (c.rank() == 0) {
    std::cout << "ranks: " << c.size() << " (" << c.name()
              << "); progress, log and checkpoint from rank 0\n";
    return "";
  }
  train.logPath.clear();
  train.dumpPath.clear();
  train.dumpStep = 0;
  train.onRecord = nullptr;
  plotPath.clear();
  savedCout_ = std::cout.rdbuf(&nullBuffer);
  return "";
}

int Ranks::finish(int code) {
#ifdef FP8RUN_HAVE_MPI
  if (communicator_ && code != 0 && communicator_->size() > 1) {
    std::cout.flush();
    std::cerr.flush();
    fp8rt::comm::abortMpiJob(code);
  }
#endif
  return code;
}

} // namespace fp8run
