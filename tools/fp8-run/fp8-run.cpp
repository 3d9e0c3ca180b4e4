//===- fp8-run.cpp - Train a compiled program -----------------------------===//
//
// A thin main over fp8rt (Trainer.h): flags, then loadProgram, a backend and
// train(). It links fp8rt only, never MLIR or LLVM, so the arguments are
// parsed by hand. Exit codes: 0 success, 1 error, 2 usage.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/HfExport.h"
#include "fp8rt/Program.h"
#include "fp8rt/data/TokenData.h"
#include "fp8rt/Trainer.h"
#ifdef FP8RUN_HAVE_CUDA_EMULATOR
#include "fp8rt/cuda/HostEmulator.h"
#endif
#ifdef FP8RUN_HAVE_CUDA
#include "fp8rt/cuda/CudaBackend.h"
#endif

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2;

const char *kUsage = R"(usage: fp8-run PROGRAM [options]          train a compiled program (fp8c MODEL -o PROGRAM)
       fp8-run --describe PROGRAM          print what a program file holds
       fp8-run --prepare TEXT -o FILE.bin  byte-level tokens (vocabulary 256) of a text file
       fp8-run [PROGRAM] --export-hf CKPT -o DIR
                                           a checkpoint as a Hugging Face model (config.json,
                                           model.safetensors; docs/hf-interop.md)
       fp8-run --help

Training options:
  --backend=auto|cpu|cuda|cuda-emu
                            where to run (auto: CUDA when usable, else the CPU backend;
                            cuda-emu: the CUDA backend's generated kernels compiled for
                            and run on the CPU, GEMMs on the CPU backend: slow, for
                            checking the generated code without a GPU)
  --fast-accum=as-compiled|on|off
                            cuBLASLt fast accumulation of the FP8 GEMMs on the CUDA
                            backend: as the program says (default; forward on, dgrad
                            and wgrad off), or forced on / off for all. The CPU
                            backend accumulates exactly in any case: no change there
  --data=FILE.bin           nanoGPT-style token file (uint16; uint32 when vocab_size > 65536)
  --val-data=FILE.bin       held-out tokens for --eval-every (default: the last 10% of --data)
  --synthetic               seeded Markov corpus with a known entropy rate (the loss floor)
  --steps=N                 train up to optimizer step N (default: the program's total_steps)
  --seed=S                  seed of the batch sampler (default 1)
  --log=FILE.jsonl          one JSON record of metrics per step
  --log-interval=N          a progress line every N steps (default 1)
  --eval-every=N            held-out loss every N steps and at the end
  --eval-batches=N          batches per evaluation (default 8)
  --save=CKPT               write a checkpoint (safetensors) at the end
  --save-every=N            ... and every N steps
  --resume=CKPT             continue a run exactly from a checkpoint
  --init-from=CKPT          load the parameters only (fine-tuning); also a Hugging Face
                            model.safetensors, model.safetensors.index.json or their directory
  --dump=STEP:FILE          write step STEP's batch, parameters, gradients and loss

Exactly one of --data and --synthetic. Flags take their value after '=' or as the
next argument. docs/runtime.md describes the checkpoint and metrics formats.
)";

/// A usage error: message, then a pointer to --help.
int usageError(const std::string &message) {
  std::fprintf(stderr, "fp8-run: error: %s\n(fp8-run --help lists the options)\n",
               message.c_str());
  return kExitUsage;
}

int error(const std::string &message) {
  std::fprintf(stderr, "fp8-run: error: %s\n", message.c_str());
  return kExitError;
}

bool parseInt(std::string_view text, int64_t &out) {
  if (text.empty())
    return false;
  const char *end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parseUint(std::string_view text, uint64_t &out) {
  if (text.empty() || text[0] == '-')
    return false;
  const char *end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

struct Args {
  enum class Mode { Train, Describe, Prepare, ExportHf, Help } mode = Mode::Train;
  std::string program, prepareInput, prepareOutput, exportCheckpoint, exportDir;
  std::string backend = "auto";
  std::string fastAccum = "as-compiled"; ///< --fast-accum, checked by parseArgs
  fp8rt::TrainOptions train;
};

/// What the command line holds besides Args: the operands and the mode flags.
struct CommandLine {
  std::vector<std::string> positional;
  bool describe = false, prepare = false, output = false, exportHf = false;
  std::string outputPath; ///< -o
};

/// A flag's effect on `args` / `line`; returns a usage message, or "" when
/// the value is accepted.
using FlagAction = std::string (*)(const std::string &value, Args &args,
                                   CommandLine &line);

/// One row per flag of kUsage: a flag sets a path or a positive count of the
/// training options, or runs its action.
struct Flag {
  const char *name;
  std::string fp8rt::TrainOptions::*path = nullptr;
  int64_t fp8rt::TrainOptions::*count = nullptr;
  FlagAction action = nullptr;
  bool takesValue = true;
};

std::string setBackend(const std::string &value, Args &args, CommandLine &) {
  if (value != "auto" && value != "cpu" && value != "cuda" && value != "cuda-emu")
    return "--backend=" + value + ": expected auto, cpu, cuda or cuda-emu";
  args.backend = value;
  return "";
}

std::string setFastAccum(const std::string &value, Args &args, CommandLine &) {
  if (value != "as-compiled" && value != "on" && value != "off")
    return "--fast-accum=" + value + ": expected as-compiled, on or off";
  args.fastAccum = value;
  return "";
}

std::string setSeed(const std::string &value, Args &args, CommandLine &) {
  if (!parseUint(value, args.train.seed))
    return "--seed=" + value + ": expected an unsigned 64-bit integer";
  return "";
}

std::string setDump(const std::string &value, Args &args, CommandLine &) {
  size_t colon = value.find(':');
  int64_t step = 0;
  if (colon == std::string::npos || colon + 1 == value.size() ||
      !parseInt(std::string_view(value).substr(0, colon), step) || step <= 0)
    return "--dump=" + value + ": expected STEP:FILE with a positive step";
  args.train.dumpStep = step;
  args.train.dumpPath = value.substr(colon + 1);
  return "";
}

std::string setSynthetic(const std::string &, Args &args, CommandLine &) {
  args.train.synthetic = true;
  return "";
}

std::string setDescribe(const std::string &, Args &, CommandLine &line) {
  line.describe = true;
  return "";
}

std::string setPrepare(const std::string &value, Args &args, CommandLine &line) {
  line.prepare = true;
  args.prepareInput = value;
  return "";
}

std::string setExportHf(const std::string &value, Args &args, CommandLine &line) {
  line.exportHf = true;
  args.exportCheckpoint = value;
  return "";
}

std::string setOutput(const std::string &value, Args &, CommandLine &line) {
  line.output = true;
  line.outputPath = value;
  return "";
}

using fp8rt::TrainOptions;
const Flag kFlags[] = {
    {"--synthetic", nullptr, nullptr, setSynthetic, /*takesValue=*/false},
    {"--describe", nullptr, nullptr, setDescribe, /*takesValue=*/false},
    {"--backend", nullptr, nullptr, setBackend},
    {"--fast-accum", nullptr, nullptr, setFastAccum},
    {"--data", &TrainOptions::dataPath},
    {"--val-data", &TrainOptions::valDataPath},
    {"--steps", nullptr, &TrainOptions::steps},
    {"--seed", nullptr, nullptr, setSeed},
    {"--log", &TrainOptions::logPath},
    {"--log-interval", nullptr, &TrainOptions::logInterval},
    {"--eval-every", nullptr, &TrainOptions::evalEvery},
    {"--eval-batches", nullptr, &TrainOptions::evalBatches},
    {"--save", &TrainOptions::savePath},
    {"--save-every", nullptr, &TrainOptions::saveEvery},
    {"--resume", &TrainOptions::resumePath},
    {"--init-from", &TrainOptions::initFromPath},
    {"--dump", nullptr, nullptr, setDump},
    {"--prepare", nullptr, nullptr, setPrepare},
    {"--export-hf", nullptr, nullptr, setExportHf},
    {"-o", nullptr, nullptr, setOutput},
};

/// Applies `flag` with `value`; returns a usage message, or "".
std::string applyFlag(const Flag &flag, const std::string &value, Args &args,
                      CommandLine &line) {
  if (flag.path) {
    args.train.*flag.path = value;
    return "";
  }
  if (flag.count) {
    int64_t &out = args.train.*flag.count;
    if (parseInt(value, out) && out > 0)
      return "";
    return std::string(flag.name) + "=" + value + ": expected a positive integer";
  }
  return flag.action(value, args, line);
}

const Flag *findFlag(const std::string &name) {
  for (const Flag &flag : kFlags)
    if (name == flag.name)
      return &flag;
  return nullptr;
}

/// The mode the flags select and the checks that span several flags; returns
/// an exit code (kExitUsage) and prints the message on error, -1 on success.
int selectMode(const CommandLine &line, Args &args) {
  if (line.describe && line.prepare)
    return usageError("--describe and --prepare exclude each other");
  if (line.prepare) {
    args.mode = Args::Mode::Prepare;
    if (!line.output)
      return usageError("--prepare needs -o FILE.bin");
    if (!line.positional.empty())
      return usageError("--prepare takes no program ('" + line.positional[0] + "')");
    args.prepareOutput = line.outputPath;
    return -1;
  }
  if (line.exportHf) {
    args.mode = Args::Mode::ExportHf;
    if (line.describe || line.prepare)
      return usageError("--export-hf excludes --describe and --prepare");
    if (!line.output)
      return usageError("--export-hf needs -o DIR");
    if (line.positional.size() > 1)
      return usageError("--export-hf takes at most one program ('" + line.positional[1] + "')");
    args.exportDir = line.outputPath;
    args.program = line.positional.empty() ? "" : line.positional[0];
    return -1;
  }
  if (line.output)
    return usageError("-o is only used with --prepare and --export-hf");
  if (line.positional.empty())
    return usageError("no program file given");
  if (line.positional.size() > 1)
    return usageError("one program file expected, got '" + line.positional[0] +
                      "' and '" + line.positional[1] + "'");
  args.program = line.positional[0];
  if (line.describe) {
    args.mode = Args::Mode::Describe;
    return -1;
  }
  const fp8rt::TrainOptions &train = args.train;
  if (train.synthetic && !train.dataPath.empty())
    return usageError("--data and --synthetic exclude each other");
  if (!train.synthetic && train.dataPath.empty())
    return usageError("no data: give --data=FILE.bin or --synthetic");
  if (!train.valDataPath.empty() && train.dataPath.empty())
    return usageError("--val-data needs --data");
  if (!train.resumePath.empty() && !train.initFromPath.empty())
    return usageError("--resume and --init-from exclude each other");
  if (train.saveEvery > 0 && train.savePath.empty())
    return usageError("--save-every needs --save=CKPT");
  return -1;
}

/// Parses argv into `args`; returns an exit code (kExitUsage) and prints the
/// message on error, -1 on success.
int parseArgs(int argc, char **argv, Args &args) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i)
        line.positional.push_back(argv[i]);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      line.positional.push_back(arg);
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      args.mode = Args::Mode::Help;
      return -1;
    }
    std::string name = arg, value;
    bool hasValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    const Flag *flag = findFlag(name);
    if (!flag)
      return usageError("unknown option '" + name + "'");
    if (!flag->takesValue && hasValue)
      return usageError(name + " takes no value");
    if (flag->takesValue && !hasValue) {
      if (i + 1 >= argc)
        return usageError(name + " needs a value");
      value = argv[++i];
    }
    if (flag->takesValue && value.empty())
      return usageError(name + " needs a non-empty value");
    if (std::string message = applyFlag(*flag, value, args, line); !message.empty())
      return usageError(message);
  }
  return selectMode(line, args);
}

/// --backend: auto takes the GPU when one is usable, else the CPU; cuda
/// insists. Prints one line naming the backend and why it was chosen.
int selectBackend(const Args &args, const fp8rt::Program &program,
                  std::unique_ptr<fp8rt::Backend> &backend) {
  const std::string &choice = args.backend;
  std::string why = "--backend=cpu";
  if (choice == "cuda-emu") {
#ifdef FP8RUN_HAVE_CUDA_EMULATOR
    backend = fp8rt::cuda::createCudaEmulatorBackend();
    std::cout << "backend: cuda-emu (--backend=cuda-emu): " << backend->description() << "\n";
    if (args.fastAccum != "as-compiled")
      std::cout << "note: --fast-accum=" << args.fastAccum
                << " changes nothing on cuda-emu (its GEMMs are the CPU backend's)\n";
    return kExitOk;
#else
    return error("--backend=cuda-emu: this fp8-run was built without the CUDA host emulator");
#endif
  }
  if (choice != "cpu") {
#ifdef FP8RUN_HAVE_CUDA
    fp8rt::StatusOr<fp8rt::cuda::CudaDeviceInfo> device = fp8rt::cuda::probeCudaDevice();
    if (device.ok()) {
      // A GPU too old for FP8 refuses an FP8 program in both modes: falling
      // back to the CPU on a GPU machine would only be slow.
      if (fp8rt::Status s = fp8rt::cuda::checkDeviceFor(program, *device); !s.ok())
        return error("--backend=" + choice + ": " + s.message());
      fp8rt::cuda::CudaBackendOptions options;
      options.fastAccum = args.fastAccum == "on"    ? fp8rt::cuda::FastAccum::On
                          : args.fastAccum == "off" ? fp8rt::cuda::FastAccum::Off
                                                    : fp8rt::cuda::FastAccum::AsCompiled;
      fp8rt::StatusOr<std::unique_ptr<fp8rt::Backend>> cuda =
          fp8rt::cuda::createCudaBackend(options);
      if (!cuda.ok())
        return error("--backend=" + choice + ": " + cuda.status().message());
      backend = std::move(*cuda);
      std::cout << "backend: cuda (" << (choice == "auto" ? "auto: " : "--backend=cuda: ")
                << device->name << ", compute capability " << device->major << "."
                << device->minor << "): " << backend->description() << "\n";
      return kExitOk;
    }
    if (choice == "cuda")
      return error("--backend=cuda: " + device.status().message());
    why = device.status().message();
#else
    (void)program;
    if (choice == "cuda")
      return error("--backend=cuda: this fp8-run was built without the CUDA toolkit; use "
                   "--backend=cpu or auto");
    why = "this fp8-run was built without the CUDA toolkit";
#endif
  }
  backend = fp8rt::createCpuBackend();
  std::cout << "backend: cpu (" << why << "): " << backend->description() << "\n";
  if (args.fastAccum != "as-compiled")
    std::cout << "note: --fast-accum=" << args.fastAccum
              << " changes nothing on the CPU backend (its FP8 GEMMs accumulate exactly)\n";
  return kExitOk;
}

} // namespace

int main(int argc, char **argv) {
  Args args;
  if (int code = parseArgs(argc, argv, args); code >= 0)
    return code;

  switch (args.mode) {
  case Args::Mode::Help:
    std::fputs(kUsage, stdout);
    return kExitOk;
  case Args::Mode::Prepare: {
    fp8rt::StatusOr<int64_t> n =
        fp8rt::prepareByteTokens(args.prepareInput, args.prepareOutput);
    if (!n.ok())
      return error(n.status().message());
    std::printf("wrote %lld uint16 tokens (byte-level, vocabulary 256) to %s\n",
                (long long)*n, args.prepareOutput.c_str());
    return kExitOk;
  }
  case Args::Mode::ExportHf: {
    fp8rt::StatusOr<fp8rt::Program> program = fp8rt::Program();
    if (!args.program.empty())
      program = fp8rt::loadProgram(args.program);
    if (!program.ok())
      return error(program.status().message());
    fp8rt::Status s = fp8rt::exportHuggingFace(args.exportCheckpoint,
                                               args.program.empty() ? nullptr : &*program,
                                               args.exportDir, std::cout);
    return s.ok() ? kExitOk : error(s.message());
  }
  case Args::Mode::Describe:
  case Args::Mode::Train:
    break;
  }

  fp8rt::StatusOr<fp8rt::Program> program = fp8rt::loadProgram(args.program);
  if (!program.ok())
    return error(program.status().message());
  if (args.mode == Args::Mode::Describe) {
    fp8rt::describeProgram(*program, std::cout);
    return kExitOk;
  }

  std::unique_ptr<fp8rt::Backend> backend;
  if (int code = selectBackend(args, *program, backend); code != kExitOk)
    return code;

  fp8rt::StatusOr<fp8rt::TrainSummary> summary =
      fp8rt::train(*program, *backend, args.train, std::cout);
  std::cout.flush();
  if (!summary.ok())
    return error(summary.status().message());
  return kExitOk;
}
