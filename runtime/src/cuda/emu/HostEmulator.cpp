//===- HostEmulator.cpp - Generated CUDA kernels run on the CPU -----------===//
//
// Three parts: compiling the generated sources for the host (shim, shared
// declarations rewritten, parallel compiler processes, dlopen), the block
// scheduler (threads as fibers, barriers, shuffles, per-block shared
// memory), and the "cuda-emu" backend over the CPU backend.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cuda/HostEmulator.h"

#include "EmuAbi.h"
#include "FiberContext.h"
#include "HostShim.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef FP8RT_HOST_CXX
#define FP8RT_HOST_CXX "c++"
#endif

namespace fp8rt::cuda {
namespace {

using EntryFn = void (*)(uint8_t *arena, uint8_t *scratch, const int64_t *offsets);
using BindFn = void (*)(Fp8EmuState *);

constexpr size_t kStackBytes = 256 * 1024;
constexpr uint32_t kMaxThreads = 1024;
constexpr uint32_t kWarp = 32;
// The most dynamic shared memory a block may have on both targets (sm_89:
// 99 KiB; sm_90: 227 KiB).
constexpr uint32_t kMaxDynamicShared = 99 * 1024;
constexpr uint8_t kUnwritten = 0xFF;

std::string dim3String(const Fp8EmuDim3 &d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// ---- crash reports --------------------------------------------------------
//
// A fault inside an emulated kernel (an out-of-bounds or misaligned access,
// a fiber stack overflow into its guard page) names the launch, block and
// thread before the process dies as it would have anyway.

// Set at every switch (plain stores; formatted only after a fault).
const char *volatile gCrashEntry = "";
Fp8EmuDim3 gCrashBlock{}, gCrashThread{};
volatile sig_atomic_t gInKernel = 0;
struct sigaction gPreviousSegv, gPreviousBus;

// Async-signal-safe appends.
void appendText(char *buffer, size_t &used, size_t size, const char *text) {
  for (; *text && used + 1 < size; ++text)
    buffer[used++] = *text;
}
void appendNumber(char *buffer, size_t &used, size_t size, unsigned value) {
  char digits[12];
  int n = 0;
  do {
    digits[n++] = char('0' + value % 10);
    value /= 10;
  } while (value && n < 12);
  while (n > 0 && used + 1 < size)
    buffer[used++] = digits[--n];
}
void appendDim3(char *buffer, size_t &used, size_t size, const Fp8EmuDim3 &d) {
  appendText(buffer, used, size, "(");
  appendNumber(buffer, used, size, d.x);
  appendText(buffer, used, size, ",");
  appendNumber(buffer, used, size, d.y);
  appendText(buffer, used, size, ",");
  appendNumber(buffer, used, size, d.z);
  appendText(buffer, used, size, ")");
}

void crashHandler(int signal) {
  if (gInKernel) {
    char line[512];
    size_t used = 0;
    appendText(line, used, sizeof line, "fp8rt cuda emulator: ");
    appendText(line, used, sizeof line, signal == SIGBUS ? "SIGBUS" : "SIGSEGV");
    appendText(line, used, sizeof line, " in ");
    appendText(line, used, sizeof line, gCrashEntry);
    appendText(line, used, sizeof line, ", block ");
    appendDim3(line, used, sizeof line, gCrashBlock);
    appendText(line, used, sizeof line, " thread ");
    appendDim3(line, used, sizeof line, gCrashThread);
    appendText(line, used, sizeof line,
               " (an out-of-bounds or misaligned access, or a thread's stack overflowing)\n");
    (void)!write(2, line, used);
  }
  // Back to what was there before, and the fault happens again.
  sigaction(SIGSEGV, &gPreviousSegv, nullptr);
  sigaction(SIGBUS, &gPreviousBus, nullptr);
}

void installCrashHandler() {
  static bool installed = false;
  if (installed)
    return;
  installed = true;
  static std::vector<char> altStack(1 << 16);
  stack_t ss{};
  ss.ss_sp = altStack.data();
  ss.ss_size = altStack.size();
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = &crashHandler;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &gPreviousSegv);
  sigaction(SIGBUS, &sa, &gPreviousBus);
}

// ---- the block scheduler ---------------------------------------------------

enum class ThreadState { Runnable, AtSyncthreads, AtShuffle, AtGather, Done };

struct EmulatedThread {
  emu::FiberContext context;
  uint8_t *stack = nullptr; ///< kStackBytes, a guard page below
  Fp8EmuDim3 index{};
  ThreadState state = ThreadState::Runnable;
  uint64_t shuffleValue = 0, shuffleResult = 0;
  unsigned shuffleBytes = 0, shuffleMask = 0;
  int laneMask = 0;
  const void *gatherIn = nullptr; ///< at a warp gather: this lane's bytes (shuffleBytes)
  void *gatherOut = nullptr;      ///< and where all 32 lanes' go
};

class BlockScheduler {
public:
  BlockScheduler() {
    state_.scheduler = this;
    state_.syncthreads = &BlockScheduler::syncthreadsHook;
    state_.shflXor = &BlockScheduler::shuffleHook;
    state_.sharedArray = &BlockScheduler::sharedArrayHook;
    state_.warpGather = &BlockScheduler::gatherHook;
    threads_.resize(kMaxThreads);
  }
  ~BlockScheduler() {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    for (EmulatedThread &t : threads_)
      if (t.stack)
        munmap(t.stack - page, kStackBytes + page);
  }

  Fp8EmuState *state() { return &state_; }

  Status runLaunch(EntryFn entry, const Launch &launch, uint8_t *arena, uint8_t *scratch,
                   const int64_t *offsets, uint64_t seed, HostEmulatorStats &stats);

private:
  static void threadMain(void *self);
  static void syncthreadsHook(void *self);
  static void shuffleHook(void *self, void *value, unsigned bytes, int laneMask, unsigned mask);
  static unsigned char *sharedArrayHook(void *self, int site, unsigned long long bytes);
  static void gatherHook(void *self, const void *mine, void *all, unsigned bytes);

  Status runBlock(uint32_t count, std::mt19937_64 *rng, HostEmulatorStats &stats);
  Status releaseShuffles(uint32_t count, bool &released);
  Status releaseGather(uint32_t base, uint32_t count);
  std::string where(const EmulatedThread &t) const {
    return "block " + dim3String(state_.blockIdx) + " thread " + dim3String(t.index);
  }
  Status ensureStack(EmulatedThread &t);

  Fp8EmuState state_{};
  emu::FiberContext schedulerContext_;
  std::vector<EmulatedThread> threads_;
  EmulatedThread *current_ = nullptr;
  EntryFn entry_ = nullptr;
  uint8_t *arena_ = nullptr, *scratch_ = nullptr;
  const int64_t *offsets_ = nullptr;
  std::string entryName_;
  std::vector<uint8_t> dynamicShared_;
  std::vector<std::vector<uint8_t>> sharedSites_;
  std::vector<uint64_t> siteEpoch_;
  uint64_t blockEpoch_ = 0;
  std::vector<uint32_t> order_;
};

void BlockScheduler::threadMain(void *self) {
  BlockScheduler *s = static_cast<BlockScheduler *>(self);
  s->entry_(s->arena_, s->scratch_, s->offsets_);
  s->current_->state = ThreadState::Done;
  emu::switchFiberContext(s->current_->context, s->schedulerContext_);
  __builtin_unreachable(); // a finished thread is never resumed
}

void BlockScheduler::syncthreadsHook(void *self) {
  BlockScheduler *s = static_cast<BlockScheduler *>(self);
  EmulatedThread *t = s->current_;
  t->state = ThreadState::AtSyncthreads;
  emu::switchFiberContext(t->context, s->schedulerContext_);
}

void BlockScheduler::shuffleHook(void *self, void *value, unsigned bytes, int laneMask,
                                 unsigned mask) {
  BlockScheduler *s = static_cast<BlockScheduler *>(self);
  EmulatedThread *t = s->current_;
  t->shuffleValue = 0;
  std::memcpy(&t->shuffleValue, value, bytes);
  t->shuffleBytes = bytes;
  t->laneMask = laneMask;
  t->shuffleMask = mask;
  t->state = ThreadState::AtShuffle;
  emu::switchFiberContext(t->context, s->schedulerContext_);
  std::memcpy(value, &t->shuffleResult, bytes);
}

void BlockScheduler::gatherHook(void *self, const void *mine, void *all, unsigned bytes) {
  BlockScheduler *s = static_cast<BlockScheduler *>(self);
  EmulatedThread *t = s->current_;
  t->gatherIn = mine;
  t->gatherOut = all;
  t->shuffleBytes = bytes;
  t->state = ThreadState::AtGather;
  emu::switchFiberContext(t->context, s->schedulerContext_);
}

unsigned char *BlockScheduler::sharedArrayHook(void *self, int site, unsigned long long bytes) {
  BlockScheduler *s = static_cast<BlockScheduler *>(self);
  const size_t i = size_t(site);
  if (i >= s->sharedSites_.size()) {
    s->sharedSites_.resize(i + 1);
    s->siteEpoch_.resize(i + 1, 0);
  }
  // The first thread of a block to reach the declaration gets fresh
  // (unwritten) storage; the others of the block share it.
  if (s->siteEpoch_[i] != s->blockEpoch_) {
    s->sharedSites_[i].assign(size_t(bytes), kUnwritten);
    s->siteEpoch_[i] = s->blockEpoch_;
  }
  return s->sharedSites_[i].data();
}

Status BlockScheduler::ensureStack(EmulatedThread &t) {
  if (t.stack)
    return Status::success();
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  void *p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return outOfRangeError("cuda emulator: cannot map a thread stack");
  mprotect(p, page, PROT_NONE); // the guard page below the stack
  t.stack = static_cast<uint8_t *>(p) + page;
  return Status::success();
}

Status BlockScheduler::releaseShuffles(uint32_t count, bool &released) {
  for (uint32_t base = 0; base < count; base += kWarp) {
    const uint32_t end = std::min(count, base + kWarp);
    bool waiting = false, complete = true, gathering = false;
    for (uint32_t i = base; i < end; ++i) {
      const ThreadState st = threads_[i].state;
      waiting = waiting || st == ThreadState::AtShuffle || st == ThreadState::AtGather;
      gathering = gathering || st == ThreadState::AtGather;
      complete = complete && (st == ThreadState::AtShuffle || st == ThreadState::AtGather ||
                              st == ThreadState::Done);
    }
    if (!waiting || !complete)
      continue;
    released = true;
    if (gathering) {
      FP8RT_RETURN_IF_ERROR(releaseGather(base, count));
      continue;
    }
    for (uint32_t i = base; i < end; ++i) {
      EmulatedThread &t = threads_[i];
      if (t.state != ThreadState::AtShuffle)
        continue;
      const uint32_t lane = i - base, source = lane ^ uint32_t(t.laneMask);
      if (source >= kWarp || base + source >= count ||
          threads_[base + source].state != ThreadState::AtShuffle)
        return internalError(
            "cuda emulator: " + entryName_ + ", " + where(t) + ": __shfl_xor_sync reads lane " +
            std::to_string(source) + ", which " +
            (base + source >= count ? "does not exist in the block" : "has exited"));
      if (((t.shuffleMask >> lane) & 1u) == 0 || ((t.shuffleMask >> source) & 1u) == 0)
        return internalError("cuda emulator: " + entryName_ + ", " + where(t) +
                             ": __shfl_xor_sync mask does not name lanes " + std::to_string(lane) +
                             " and " + std::to_string(source));
      const EmulatedThread &from = threads_[base + source];
      if (from.shuffleBytes != t.shuffleBytes)
        return internalError("cuda emulator: " + entryName_ + ", " + where(t) +
                             ": lanes shuffle values of different sizes");
      t.shuffleResult = from.shuffleValue;
    }
    for (uint32_t i = base; i < end; ++i)
      if (threads_[i].state == ThreadState::AtShuffle)
        threads_[i].state = ThreadState::Runnable;
  }
  return Status::success();
}

// A tensor-core instruction (mma.sync, ldmatrix) is .aligned: all 32 lanes of
// the warp execute it together, so every lane must be there, none exited,
// none at a shuffle.
Status BlockScheduler::releaseGather(uint32_t base, uint32_t count) {
  if (base + kWarp > count)
    return internalError("cuda emulator: " + entryName_ + ", block " + dim3String(state_.blockIdx) +
                         ": a warp-wide tensor-core instruction in a warp of " +
                         std::to_string(count - base) + " threads (all 32 must take part)");
  const unsigned bytes = threads_[base].shuffleBytes;
  for (uint32_t i = base; i < base + kWarp; ++i) {
    const EmulatedThread &t = threads_[i];
    if (t.state != ThreadState::AtGather || t.shuffleBytes != bytes)
      return internalError(
          "cuda emulator: " + entryName_ + ", " + where(t) + ": lane " + std::to_string(i - base) +
          (t.state == ThreadState::Done        ? " has exited"
           : t.state == ThreadState::AtShuffle ? " waits at __shfl_xor_sync"
                                               : " gathers a different fragment size") +
          " while its warp executes a tensor-core instruction");
  }
  for (uint32_t i = base; i < base + kWarp; ++i) {
    uint8_t *out = static_cast<uint8_t *>(threads_[i].gatherOut);
    for (uint32_t l = 0; l < kWarp; ++l)
      std::memcpy(out + size_t(l) * bytes, threads_[base + l].gatherIn, bytes);
    threads_[i].state = ThreadState::Runnable;
  }
  return Status::success();
}

Status BlockScheduler::runBlock(uint32_t count, std::mt19937_64 *rng, HostEmulatorStats &stats) {
  const Fp8EmuDim3 dim = state_.blockDim;
  for (uint32_t i = 0; i < count; ++i) {
    EmulatedThread &t = threads_[i];
    FP8RT_RETURN_IF_ERROR(ensureStack(t));
    emu::makeFiberContext(t.context, t.stack, kStackBytes, &BlockScheduler::threadMain, this);
    t.index = {i % dim.x, (i / dim.x) % dim.y, i / (dim.x * dim.y)};
    t.state = ThreadState::Runnable;
  }
  ++blockEpoch_;
  std::fill(dynamicShared_.begin(), dynamicShared_.end(), kUnwritten);
  order_.resize(count);
  for (uint32_t i = 0; i < count; ++i)
    order_[i] = i;
  stats.threads += count;
  for (;;) {
    if (rng)
      std::shuffle(order_.begin(), order_.end(), *rng);
    for (uint32_t i : order_) {
      EmulatedThread &t = threads_[i];
      if (t.state != ThreadState::Runnable)
        continue;
      current_ = &t;
      state_.threadIdx = t.index;
      gCrashBlock = state_.blockIdx;
      gCrashThread = t.index;
      emu::switchFiberContext(schedulerContext_, t.context);
    }
    uint32_t done = 0, atSync = 0;
    for (uint32_t i = 0; i < count; ++i) {
      done += threads_[i].state == ThreadState::Done;
      atSync += threads_[i].state == ThreadState::AtSyncthreads;
    }
    if (done == count)
      return Status::success();
    bool released = false;
    FP8RT_RETURN_IF_ERROR(releaseShuffles(count, released));
    // Threads that have returned count as arrived, as on the GPU.
    if (!released && atSync > 0 && atSync + done == count) {
      for (uint32_t i = 0; i < count; ++i)
        if (threads_[i].state == ThreadState::AtSyncthreads)
          threads_[i].state = ThreadState::Runnable;
      released = true;
    }
    if (!released) {
      // Some wait at __syncthreads while others of the block wait at a
      // shuffle whose warp has lanes at __syncthreads: never released.
      std::string atShuffle, atBarrier;
      for (uint32_t i = 0; i < count; ++i) {
        std::string &list = threads_[i].state == ThreadState::AtShuffle ||
                                    threads_[i].state == ThreadState::AtGather
                                ? atShuffle
                                : atBarrier;
        if (threads_[i].state != ThreadState::Done && list.size() < 60)
          list += (list.empty() ? "" : " ") + std::to_string(i);
      }
      return internalError("cuda emulator: " + entryName_ + ", block " +
                           dim3String(state_.blockIdx) + ": divergent barrier: threads [" +
                           atBarrier + "...] wait at __syncthreads while threads [" + atShuffle +
                           "...] wait at __shfl_xor_sync");
    }
    ++stats.barriers;
  }
}

Status BlockScheduler::runLaunch(EntryFn entry, const Launch &launch, uint8_t *arena,
                                 uint8_t *scratch, const int64_t *offsets, uint64_t seed,
                                 HostEmulatorStats &stats) {
  const uint64_t count = uint64_t(launch.block[0]) * launch.block[1] * launch.block[2];
  // What cudaLaunchKernel would refuse on sm_89 and sm_90.
  if (count == 0 || count > kMaxThreads || launch.block[2] > 64 || launch.grid[0] == 0 ||
      launch.grid[1] == 0 || launch.grid[2] == 0 || launch.grid[1] > 65535 ||
      launch.grid[2] > 65535 || launch.grid[0] > 0x7FFFFFFFu)
    return internalError("cuda emulator: " + launch.entry + ": grid (" +
                         std::to_string(launch.grid[0]) + "," + std::to_string(launch.grid[1]) +
                         "," + std::to_string(launch.grid[2]) + ") of blocks (" +
                         std::to_string(launch.block[0]) + "," + std::to_string(launch.block[1]) +
                         "," + std::to_string(launch.block[2]) + ") is not a valid launch");
  if (launch.sharedBytes > kMaxDynamicShared)
    return internalError("cuda emulator: " + launch.entry + ": " +
                         std::to_string(launch.sharedBytes) +
                         " bytes of dynamic shared memory; sm_89 allows 99 KiB per block");
  entry_ = entry;
  arena_ = arena;
  scratch_ = scratch;
  offsets_ = offsets;
  entryName_ = launch.entry;
  gCrashEntry = entryName_.c_str();
  dynamicShared_.assign(launch.sharedBytes, kUnwritten);
  state_.dynamicShared = dynamicShared_.empty() ? nullptr : dynamicShared_.data();
  state_.blockDim = {launch.block[0], launch.block[1], launch.block[2]};
  state_.gridDim = {launch.grid[0], launch.grid[1], launch.grid[2]};
  ++stats.launches;

  std::vector<Fp8EmuDim3> blocks;
  blocks.reserve(size_t(launch.grid[0]) * launch.grid[1] * launch.grid[2]);
  for (uint32_t z = 0; z < launch.grid[2]; ++z)
    for (uint32_t y = 0; y < launch.grid[1]; ++y)
      for (uint32_t x = 0; x < launch.grid[0]; ++x)
        blocks.push_back({x, y, z});
  std::mt19937_64 rng(seed);
  if (seed != 0)
    std::shuffle(blocks.begin(), blocks.end(), rng);
  for (const Fp8EmuDim3 &b : blocks) {
    state_.blockIdx = b;
    ++stats.blocks;
    FP8RT_RETURN_IF_ERROR(runBlock(uint32_t(count), seed != 0 ? &rng : nullptr, stats));
  }
  return Status::success();
}

// ---- compiling for the host ------------------------------------------------

std::string compilerCommand(const HostEmulatorOptions &options) {
  if (!options.compiler.empty())
    return options.compiler;
  if (const char *env = std::getenv("FP8C_HOST_CXX"); env && *env)
    return env;
  return FP8RT_HOST_CXX;
}

/// Spawns `argv` with stdout and stderr into `logPath`; returns the pid or -1.
pid_t spawnLogged(const std::vector<std::string> &argv, const std::string &logPath) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

std::string firstLines(const std::string &path, int lines) {
  std::ifstream in(path);
  std::string out, line;
  for (int i = 0; i < lines && std::getline(in, line); ++i)
    out += "\n  " + line;
  return out;
}

void removeTree(const std::string &dir, const std::vector<std::string> &files) {
  for (const std::string &f : files)
    unlink((dir + "/" + f).c_str());
  rmdir(dir.c_str());
}

} // namespace

struct HostKernelModule::Impl {
  HostEmulatorOptions options;
  HostEmulatorStats stats;
  std::vector<void *> libraries;
  std::map<std::string, EntryFn> entries;
  BlockScheduler scheduler;

  ~Impl() {
    for (void *l : libraries)
      dlclose(l);
  }
};

HostKernelModule::HostKernelModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HostKernelModule::~HostKernelModule() = default;

const HostEmulatorStats &HostKernelModule::stats() const { return impl_->stats; }

StatusOr<std::unique_ptr<HostKernelModule>>
HostKernelModule::compile(const std::vector<GeneratedKernel> &kernels,
                          const HostEmulatorOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const auto started = std::chrono::steady_clock::now();

  // Distinct bodies, split into parts of similar size.
  std::vector<const GeneratedKernel *> distinct;
  std::set<std::string> seen;
  size_t totalBytes = 0;
  for (const GeneratedKernel &k : kernels)
    if (seen.insert(k.body).second) {
      distinct.push_back(&k);
      totalBytes += k.body.size();
    }
  unsigned jobs = options.jobs > 0 ? unsigned(options.jobs) : std::thread::hardware_concurrency();
  jobs = std::max(1u, std::min<unsigned>(jobs, unsigned(std::max<size_t>(distinct.size(), 1))));
  std::vector<std::string> parts(jobs);
  {
    size_t part = 0, bytes = 0;
    for (const GeneratedKernel *k : distinct) {
      if (bytes > (part + 1) * totalBytes / jobs && part + 1 < jobs)
        ++part;
      parts[part] += k->body;
      bytes += k->body.size();
    }
  }

  const char *tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/fp8rt-cudaemu-XXXXXX";
  std::vector<char> dirBuffer(pattern.begin(), pattern.end());
  dirBuffer.push_back('\0');
  if (!mkdtemp(dirBuffer.data()))
    return unavailableError("cuda emulator: cannot create a directory like " + pattern + ": " +
                            std::strerror(errno));
  const std::string dir = dirBuffer.data();
  std::vector<std::string> files;

  const std::string shim = emu::hostShim(), prelude = cudaPrelude(),
                    compiler = compilerCommand(options);
  std::vector<pid_t> pids;
  std::vector<std::string> bases; ///< dir + "/partN" of each spawned compile
  // Before any compile has failed: the compilers already started are waited
  // for and the directory goes.
  auto abandon = [&](Status s) {
    for (pid_t pid : pids)
      waitpid(pid, nullptr, 0);
    removeTree(dir, files);
    return s;
  };
  for (unsigned p = 0; p < jobs; ++p) {
    if (parts[p].empty())
      continue;
    std::string rewritten, error;
    if (!emu::rewriteSharedDeclarations(prelude + parts[p], rewritten, error))
      return abandon(
          internalError("cuda emulator: part " + std::to_string(p) + " of the sources: " + error));
    const std::string name = "part" + std::to_string(p), base = dir + "/" + name;
    files.push_back(name + ".cpp");
    files.push_back(name + ".so");
    files.push_back(name + ".log");
    {
      std::ofstream out(base + ".cpp");
      out << shim << rewritten;
      if (!out)
        return abandon(unavailableError("cuda emulator: cannot write " + base + ".cpp"));
    }
    // Exactly rounded float arithmetic, as NVRTC with --fmad=false; the
    // prelude reinterprets bytes of the arena, so no strict aliasing.
    const std::vector<std::string> argv = {compiler,
                                           "-std=c++17",
                                           "-O1",
                                           "-fPIC",
                                           "-shared",
                                           "-ffp-contract=off",
                                           "-fno-strict-aliasing",
                                           "-fno-math-errno",
                                           "-w",
                                           "-o",
                                           base + ".so",
                                           base + ".cpp"};
    const pid_t pid = spawnLogged(argv, base + ".log");
    if (pid < 0)
      return abandon(unavailableError("cuda emulator: cannot run the C++ compiler '" + compiler +
                                      "' (set FP8C_HOST_CXX)"));
    pids.push_back(pid);
    bases.push_back(base);
  }
  std::string failures;
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failures += "\n" + compiler + " failed on " + bases[i] +
                  ".cpp (kept):" + firstLines(bases[i] + ".log", 20);
  }
  if (!failures.empty())
    return internalError("cuda emulator: the generated kernels do not compile for the host:" +
                         failures);

  // Loaded libraries stay mapped after their files are removed.
  Status loaded = Status::success();
  for (const std::string &base : bases) {
    const std::string path = base + ".so";
    void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      loaded = internalError(std::string("cuda emulator: dlopen: ") + dlerror());
      break;
    }
    impl->libraries.push_back(library);
    BindFn bind = reinterpret_cast<BindFn>(dlsym(library, "fp8emu_bind"));
    if (!bind) {
      loaded = internalError("cuda emulator: " + path + " has no fp8emu_bind");
      break;
    }
    bind(impl->scheduler.state());
  }
  removeTree(dir, files);
  FP8RT_RETURN_IF_ERROR(loaded);

  for (const GeneratedKernel &k : kernels)
    for (const Launch &l : k.launches) {
      if (impl->entries.count(l.entry))
        continue;
      void *symbol = nullptr;
      for (void *library : impl->libraries)
        if ((symbol = dlsym(library, l.entry.c_str())))
          break;
      if (!symbol)
        return internalError("cuda emulator: kernel '" + k.name + "': no entry " + l.entry +
                             " in the compiled code");
      impl->entries[l.entry] = reinterpret_cast<EntryFn>(symbol);
    }
  impl->stats.sources = int(distinct.size());
  impl->stats.chunks = int(pids.size());
  impl->stats.compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return std::unique_ptr<HostKernelModule>(new HostKernelModule(std::move(impl)));
}

Status HostKernelModule::run(const GeneratedKernel &kernel, uint8_t *arena, uint8_t *scratch) {
  installCrashHandler();
  for (const Launch &l : kernel.launches) {
    auto it = impl_->entries.find(l.entry);
    if (it == impl_->entries.end())
      return invalidArgumentError("cuda emulator: kernel '" + kernel.name +
                                  "' was not compiled into this module");
    gInKernel = 1;
    Status s = impl_->scheduler.runLaunch(it->second, l, arena, scratch, kernel.offsets.data(),
                                          impl_->options.schedulingSeed, impl_->stats);
    gInKernel = 0;
    if (!s.ok())
      return s.withContext("kernel " + kernel.name);
  }
  return Status::success();
}

// ---- the cuda-emu backend --------------------------------------------------

namespace {

class EmulatedKernels final : public KernelExecutor {
public:
  explicit EmulatedKernels(const HostEmulatorOptions &options) : options_(options) {}
  ~EmulatedKernels() override {
    if (scratch_)
      munmap(scratch_, scratchMapped_);
  }
  const char *name() const override { return "cuda-emu"; }
  std::string description() const override {
    return "CUDA host emulator (the CUDA backend's generated kernels compiled for the CPU at "
           "load, GEMMs on the CPU backend; slow, for checking the kernels)";
  }

  Status load(const Program &program) override {
    StatusOr<std::vector<GeneratedKernel>> generated = generateAllKernels(program);
    if (!generated.ok())
      return generated.status();
    generated_ = std::move(*generated);
    byKernel_.clear();
    size_t next = 0;
    for (const Function &f : program.functions)
      for (const Instruction &inst : f.instructions)
        if (inst.kind == Instruction::Kind::Kernel) {
          if (next >= generated_.size())
            return internalError("cuda emulator: fewer generated kernels than kernel instructions");
          byKernel_[&inst.kernel] = &generated_[next++];
        }
    StatusOr<std::unique_ptr<HostKernelModule>> module =
        HostKernelModule::compile(generated_, options_);
    if (!module.ok())
      return module.status();
    module_ = std::move(*module);
    // One scratch area, its end against an inaccessible page: each kernel's
    // scratch is the last scratchBytes of it, so running past it faults.
    uint64_t most = 0;
    for (const GeneratedKernel &k : generated_)
      most = std::max(most, k.scratchBytes);
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    if (scratch_)
      munmap(scratch_, scratchMapped_);
    scratchUsable_ = (size_t(most) + page - 1) / page * page;
    scratchMapped_ = scratchUsable_ + page;
    void *p =
        mmap(nullptr, scratchMapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return outOfRangeError("cuda emulator: cannot map " + std::to_string(most) +
                             " bytes of scratch");
    scratch_ = static_cast<uint8_t *>(p);
    mprotect(scratch_ + scratchUsable_, page, PROT_NONE);
    return Status::success();
  }

  Status run(const Kernel &kernel, uint8_t *arena) override {
    auto it = byKernel_.find(&kernel);
    if (it == byKernel_.end())
      return invalidArgumentError("cuda emulator: kernel '" + kernel.name +
                                  "' is not an instruction of the loaded program");
    const GeneratedKernel &k = *it->second;
    uint8_t *scratch = scratch_ + scratchUsable_ - k.scratchBytes;
    // Nothing a kernel reads from scratch may come from an earlier kernel.
    std::memset(scratch, kUnwritten, size_t(k.scratchBytes));
    return module_->run(k, arena, k.scratchBytes ? scratch : nullptr);
  }

  const HostKernelModule *module() const { return module_.get(); }

private:
  HostEmulatorOptions options_;
  std::vector<GeneratedKernel> generated_;
  std::map<const Kernel *, const GeneratedKernel *> byKernel_;
  std::unique_ptr<HostKernelModule> module_;
  uint8_t *scratch_ = nullptr;
  size_t scratchUsable_ = 0, scratchMapped_ = 0;
};

} // namespace

std::unique_ptr<Backend> createCudaEmulatorBackend(const HostEmulatorOptions &options) {
  return createCpuBackend(std::make_unique<EmulatedKernels>(options));
}

} // namespace fp8rt::cuda
