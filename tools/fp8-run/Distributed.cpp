//===- Distributed.cpp - fp8-run as one rank of a data-parallel job -------===//

#include "Distributed.h"

#ifdef FP8RUN_HAVE_MPI
#include "fp8rt/comm/MpiCommunicator.h"
#endif

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace fp8run {

namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull, kFnvPrime = 0x100000001b3ull;

/// FNV-1a-64 of a file's bytes; 0 when it cannot be read.
uint64_t hashFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t h = kFnvOffset;
  for (std::istreambuf_iterator<char> it(in), end; it != end; ++it)
    h = (h ^ uint8_t(*it)) * kFnvPrime;
  return in.bad() ? 0 : h;
}

/// A data file's size and an FNV-1a-64 of 16 blocks of 4 KiB spread over it
/// (the whole file when it is smaller than those): reading a token file of
/// gigabytes on every rank at start would take longer than the check is
/// worth, and a different file differs in its size or its samples. {0, 0}:
/// no file given, or it cannot be read (the trainer says so).
struct FileDigest {
  uint64_t size = 0, hash = 0;
};
FileDigest digestDataFile(const std::string &path) {
  if (path.empty())
    return {};
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return {};
  const uint64_t size = uint64_t(in.tellg());
  constexpr uint64_t kBlock = 4096, kBlocks = 16;
  std::vector<char> block(kBlock);
  uint64_t h = kFnvOffset;
  for (uint64_t i = 0; i < kBlocks; ++i) {
    const uint64_t offset =
        size <= kBlock * kBlocks ? i * kBlock : i * ((size - kBlock) / (kBlocks - 1));
    if (offset >= size)
      break;
    in.seekg(std::streamoff(offset));
    in.read(block.data(), std::streamsize(std::min(kBlock, size - offset)));
    for (std::streamsize j = 0; j < in.gcount(); ++j)
      h = (h ^ uint8_t(block[size_t(j)])) * kFnvPrime;
  }
  return {size, h};
}

/// What every rank must agree on, broadcast from rank 0.
struct Inputs {
  uint64_t program = 0;
  FileDigest data, valData;
  uint64_t seed = 0, synthetic = 0, steps = 0;
};

/// signalNote's text: two buffers, so that the one the handler may read is
/// never the one being written.
char signalNotes[2][160];
std::atomic<const char *> currentSignalNote{nullptr};

/// Swallows what rank > 0 would print.
class NullBuffer : public std::streambuf {
protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
};
NullBuffer nullBuffer;

std::string describeFile(const std::string &flag, const std::string &path, FileDigest d) {
  return flag + "=" + path + " (" + std::to_string(d.size) + " bytes)";
}

} // namespace

const char *signalNote() { return currentSignalNote.load(); }

Ranks::~Ranks() {
  currentSignalNote = nullptr;
  if (savedCout_)
    std::cout.rdbuf(savedCout_);
  fp8rt::comm::setProcessCommunicator(nullptr);
#ifdef FP8RUN_HAVE_NCCL
  nccl_.reset();
#endif
  watched_.reset();
  watchdog_.reset(); // before MPI is finalized
}

std::string Ranks::start(int *argc, char ***argv, double collectiveTimeout) {
#ifdef FP8RUN_HAVE_MPI
  if (!fp8rt::comm::launchedByMpi())
    return "";
  fp8rt::StatusOr<std::unique_ptr<fp8rt::comm::Communicator>> mpi =
      fp8rt::comm::createMpiCommunicator(argc, argv);
  if (!mpi.ok())
    return mpi.status().message();
  communicator_ = std::move(*mpi);
  collectiveTimeout_ = collectiveTimeout;
  // A collective that does not return (a peer died, or hangs) ends the job.
  watchdog_ = std::make_unique<fp8rt::comm::Watchdog>(
      communicator_->rank(), collectiveTimeout, [](const std::string &message) {
        std::cout.flush();
        std::fprintf(stderr, "fp8-run: %s; ending the job\n", message.c_str());
        std::fflush(stderr);
        fp8rt::comm::abortMpiJob(1);
      });
  watched_ = std::make_unique<fp8rt::comm::WatchedCommunicator>(*communicator_, *watchdog_);
  fp8rt::comm::setProcessCommunicator(watched_.get());
#else
  (void)argc;
  (void)argv;
  (void)collectiveTimeout;
  // Started by mpirun without MPI support: each rank would train alone.
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char *size = std::getenv(name); size && std::string(size) != "1")
      return std::string("started by an MPI launcher (") + name + "=" + size +
             ") but this fp8-run was built without MPI (install libopenmpi-dev and rebuild)";
#endif
  return "";
}

std::string Ranks::checkSameInputs(const std::string &programPath,
                                   const fp8rt::TrainOptions &train) {
  fp8rt::comm::Communicator &c = *watched_;
  Inputs mine;
  mine.program = hashFile(programPath);
  mine.data = digestDataFile(train.dataPath);
  mine.valData = digestDataFile(train.valDataPath);
  mine.seed = train.seed;
  mine.synthetic = train.synthetic;
  mine.steps = uint64_t(train.steps);
  Inputs root = mine;
  if (fp8rt::Status s = c.broadcast(&root, sizeof root, 0); !s.ok())
    return s.message();
  const std::string me = "rank " + std::to_string(c.rank()) + " of " + std::to_string(c.size());
  if (mine.program != root.program)
    return me + ": " + programPath +
           " differs from rank 0's program file; every rank must run the same program";
  if (mine.synthetic != root.synthetic)
    return me + ": --synthetic on one rank, --data on another; every rank must read the "
                "same data";
  auto sameFile = [&](const char *flag, const std::string &path, FileDigest m, FileDigest r) {
    if (m.size == r.size && m.hash == r.hash)
      return std::string();
    if (m.size == 0 && m.hash == 0)
      return std::string(); // not readable here: the trainer says so, and the job ends
    return me + ": " + describeFile(flag, path, m) + " differs from rank 0's (" +
           std::to_string(r.size) + " bytes" + (m.size == r.size ? ", other contents" : "") +
           "); every rank must read the same data (a copy of the file at its path)";
  };
  if (std::string m = sameFile("--data", train.dataPath, mine.data, root.data); !m.empty())
    return m;
  if (std::string m = sameFile("--val-data", train.valDataPath, mine.valData, root.valData);
      !m.empty())
    return m;
  if (mine.seed != root.seed || mine.steps != root.steps)
    return me + ": --seed and --steps must be the same on every rank (rank 0: --seed=" +
           std::to_string(root.seed) + " --steps=" + std::to_string(root.steps) +
           "; here --seed=" + std::to_string(mine.seed) + " --steps=" + std::to_string(mine.steps) +
           ")";
  return "";
}

std::string Ranks::prepare(const std::string &programPath, fp8rt::TrainOptions &train,
                           std::string &plotPath) {
  if (!communicator_)
    return "";
  if (std::string message = checkSameInputs(programPath, train); !message.empty())
    return message;
  fp8rt::comm::Communicator &c = *communicator_;
  train.onStepBegin = [this, rank = c.rank(), size = c.size()](int64_t step) {
    step_ = step;
    watchdog_->setStep(step);
    char *note = signalNotes[step % 2];
    std::snprintf(note, sizeof signalNotes[0],
                  "fp8-run: rank %d of %d: signal during step %lld (under mpirun: the launcher "
                  "may be ending the job because another rank failed)\n",
                  rank, size, (long long)step);
    currentSignalNote = note;
  };
  if (c.rank() == 0) {
    std::cout << "ranks: " << c.size() << " (" << c.name()
              << "); progress, log and checkpoint from rank 0; collective timeout "
              << watchdog_->timeoutSeconds() << " s\n";
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

#ifdef FP8RUN_HAVE_CUDA
std::string Ranks::setUpCuda(fp8rt::cuda::CudaBackendOptions &options) {
  if (!communicator_)
    return "";
#ifdef FP8RUN_HAVE_NCCL
  options.device = fp8rt::comm::localRankFromEnvironment();
  fp8rt::StatusOr<std::unique_ptr<fp8rt::comm::NcclCommunicator>> nccl =
      fp8rt::comm::createNcclCommunicator(*watched_, options.device, collectiveTimeout_);
  if (!nccl.ok())
    return "rank " + std::to_string(communicator_->rank()) + ": NCCL: " + nccl.status().message();
  nccl_ = std::move(*nccl);
  options.collectives = nccl_.get();
  if (communicator_->rank() == 0)
    std::cout << "collectives: " << nccl_->name() << "\n";
#else
  options.device = 0; // the backend refuses the collectives: no NCCL here
#endif
  return "";
}
#endif

int Ranks::finish(int code) {
#ifdef FP8RUN_HAVE_MPI
  if (communicator_ && code != 0 && communicator_->size() > 1) {
    std::cout.flush();
    const int64_t step = step_;
    // A rank stopped by a signal (128 + it) said so in the handler.
    if (code < 128)
      std::fprintf(stderr, "fp8-run: rank %d of %d failed %s; ending the job\n",
                   communicator_->rank(), communicator_->size(),
                   step > 0 ? ("at step " + std::to_string(step)).c_str()
                            : "before the first step");
    std::fflush(stderr);
    fp8rt::comm::abortMpiJob(code);
  }
#endif
  return code;
}

} // namespace fp8run
