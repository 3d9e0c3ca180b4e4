//===- fp8-run.cpp - Train a compiled program -----------------------------===//
//
// A thin main over fp8rt (Trainer.h): flags, then loadProgram, a backend and
// train(). It links fp8rt only, never MLIR or LLVM, so the arguments are
// parsed by hand. Exit codes: 0 success, 1 error, 2 usage, 128 + the signal
// when SIGINT (130) or SIGTERM (143) stopped a run.
//
//===----------------------------------------------------------------------===//

#include "Distributed.h"

#include "fp8rt/Backend.h"
#include "fp8rt/HfExport.h"
#include "fp8rt/Program.h"
#include "fp8rt/Trainer.h"
#include "fp8rt/data/TokenData.h"
#include "fp8rt/generate/Generate.h"
#include "fp8rt/plot/Plot.h"
#include "fp8rt/support/AtomicFile.h"
#ifdef FP8RUN_HAVE_CUDA_EMULATOR
#include "fp8rt/cuda/HostEmulator.h"
#endif
#ifdef FP8RUN_HAVE_CUDA
#include "fp8rt/cuda/CudaBackend.h"
#endif

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace {

constexpr int kExitOk = 0, kExitError = 1, kExitUsage = 2;

const char *kUsage =
    R"(usage: fp8-run PROGRAM [options]          train a compiled program (fp8c MODEL -o PROGRAM)
       fp8-run PROGRAM --generate --init-from=CKPT --prompt=TEXT [options]
                                           sample from a trained program
       fp8-run --describe PROGRAM          print what a program file holds
       fp8-run --prepare TEXT -o FILE.bin  byte-level tokens (vocabulary 256) of a text file
       fp8-run --plot-log LOG.jsonl -o FILE.svg
                                           plot the metrics of a --log file
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
  --save=CKPT               write a checkpoint (safetensors) at the end, or when
                            SIGINT (Ctrl-C) or SIGTERM stops the run after a step
  --save-every=N            ... and every N steps
  --resume=CKPT             continue a run exactly from a checkpoint
  --init-from=CKPT          load the parameters only (fine-tuning); also a Hugging Face
                            model.safetensors, model.safetensors.index.json or their directory
  --dump=STEP:FILE          write step STEP's batch, parameters, gradients and loss
  --collective-timeout=S    under mpirun: end the job when one collective waits longer
                            than S seconds (a rank died or hangs; default 600)
  --plot=FILE.svg           after training, an SVG of loss, lr, grad norm and the FP8
                            amax/scale of every tensor (of the whole --log when given)

Generation options (docs/runtime.md, "Generation"):
  --generate                sample from the model of --init-from=CKPT (required) with the
                            program's logits_step, over a window of its seq_len
  --prompt=TEXT             the prompt, for byte-level vocabularies (vocab_size <= 256)
  --prompt-ids=I,J,...      the prompt as token ids (any vocabulary)
  --max-new-tokens=N        tokens to append (default 200)
  --temperature=T           logits / T before the softmax (default 1; 0: greedy, argmax)
  --top-k=K                 sample among the K largest logits only (default: all)
  --seed=S                  seed of the draws (default 1)

Exactly one of --data and --synthetic when training. Flags take their value after '=' or as the
next argument. Output paths are checked before the first step. Ctrl-C (SIGINT) or
SIGTERM ends the current step, saves (--save) and exits 130 / 143; a second one
stops at once. docs/runtime.md describes the checkpoint and metrics formats.
)";

/// A usage error: message, then a pointer to --help.
int usageError(const std::string &message) {
  std::fprintf(stderr, "fp8-run: error: %s\n(fp8-run --help lists the options)\n", message.c_str());
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
  enum class Mode {
    Train,
    Describe,
    Prepare,
    PlotLog,
    Generate,
    ExportHf,
    Help
  } mode = Mode::Train;
  std::string program, prepareInput, prepareOutput, exportCheckpoint, exportDir;
  std::string plotPath;            ///< --plot
  std::string plotLog, plotOutput; ///< --plot-log and its -o
  std::string backend = "auto";
  std::string fastAccum = "as-compiled"; ///< --fast-accum, checked by parseArgs
  double collectiveTimeout = 600;        ///< --collective-timeout, seconds
  fp8rt::TrainOptions train;
  fp8rt::GenerateOptions generate; ///< --init-from and --seed are taken from `train`
};

/// What the command line holds besides Args: the operands and the mode flags.
struct CommandLine {
  std::vector<std::string> positional;
  bool describe = false, prepare = false, output = false, plotLog = false, generate = false;
  bool exportHf = false;
  bool prompt = false;    ///< --prompt or --prompt-ids given
  std::string outputPath; ///< -o
};

/// A flag's effect on `args` / `line`; returns a usage message, or "" when
/// the value is accepted.
using FlagAction = std::string (*)(const std::string &value, Args &args, CommandLine &line);

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

std::string setCollectiveTimeout(const std::string &value, Args &args, CommandLine &) {
  char *end = nullptr;
  const double t = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() || !(t > 0) || !std::isfinite(t))
    return "--collective-timeout=" + value + ": expected a positive number of seconds";
  args.collectiveTimeout = t;
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

std::string setPlot(const std::string &value, Args &args, CommandLine &) {
  args.plotPath = value;
  return "";
}

std::string setPlotLog(const std::string &value, Args &args, CommandLine &line) {
  line.plotLog = true;
  args.plotLog = value;
  return "";
}

std::string setGenerate(const std::string &, Args &, CommandLine &line) {
  line.generate = true;
  return "";
}

std::string setPrompt(const std::string &value, Args &args, CommandLine &line) {
  if (line.prompt)
    return "give the prompt once: --prompt or --prompt-ids";
  line.prompt = true;
  args.generate.promptText = value;
  return "";
}

std::string setPromptIds(const std::string &value, Args &args, CommandLine &line) {
  if (line.prompt)
    return "give the prompt once: --prompt or --prompt-ids";
  line.prompt = true;
  args.generate.promptIsIds = true;
  size_t begin = 0;
  while (begin <= value.size()) {
    size_t end = std::min(value.find(',', begin), value.size());
    int64_t id = 0;
    if (!parseInt(std::string_view(value).substr(begin, end - begin), id) || id < 0)
      return "--prompt-ids=" + value + ": expected token ids separated by commas";
    args.generate.promptIds.push_back(id);
    begin = end + 1;
  }
  return "";
}

std::string setMaxNewTokens(const std::string &value, Args &args, CommandLine &) {
  if (!parseInt(value, args.generate.maxNewTokens) || args.generate.maxNewTokens < 0)
    return "--max-new-tokens=" + value + ": expected an integer >= 0";
  return "";
}

std::string setTemperature(const std::string &value, Args &args, CommandLine &) {
  char *end = nullptr;
  double t = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() || !(t >= 0.0) || !std::isfinite(t))
    return "--temperature=" + value + ": expected a number >= 0 (0: greedy)";
  args.generate.sampler.temperature = t;
  return "";
}

std::string setTopK(const std::string &value, Args &args, CommandLine &) {
  if (!parseInt(value, args.generate.sampler.topK) || args.generate.sampler.topK < 1)
    return "--top-k=" + value + ": expected a positive integer";
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
    {"--collective-timeout", nullptr, nullptr, setCollectiveTimeout},
    {"--prepare", nullptr, nullptr, setPrepare},
    {"--plot", nullptr, nullptr, setPlot},
    {"--plot-log", nullptr, nullptr, setPlotLog},
    {"--export-hf", nullptr, nullptr, setExportHf},
    {"-o", nullptr, nullptr, setOutput},
    {"--generate", nullptr, nullptr, setGenerate, /*takesValue=*/false},
    {"--prompt", nullptr, nullptr, setPrompt},
    {"--prompt-ids", nullptr, nullptr, setPromptIds},
    {"--max-new-tokens", nullptr, nullptr, setMaxNewTokens},
    {"--temperature", nullptr, nullptr, setTemperature},
    {"--top-k", nullptr, nullptr, setTopK},
};

/// Applies `flag` with `value`; returns a usage message, or "".
std::string applyFlag(const Flag &flag, const std::string &value, Args &args, CommandLine &line) {
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

/// --plot-log LOG -o SVG: no program, no training flags.
int selectPlotLog(const CommandLine &line, Args &args) {
  args.mode = Args::Mode::PlotLog;
  if (line.describe || line.prepare)
    return usageError("--plot-log excludes --describe and --prepare");
  if (line.generate || line.exportHf)
    return usageError(std::string("--plot-log excludes ") +
                      (line.generate ? "--generate" : "--export-hf"));
  if (!line.output)
    return usageError("--plot-log needs -o FILE.svg");
  if (!line.positional.empty())
    return usageError("--plot-log takes no program ('" + line.positional[0] + "')");
  if (!args.plotPath.empty())
    return usageError("--plot-log writes -o FILE.svg; --plot is for training");
  args.plotOutput = line.outputPath;
  return -1;
}

/// --generate: the checks between its flags.
int selectGenerate(const CommandLine &line, Args &args) {
  args.mode = Args::Mode::Generate;
  const fp8rt::TrainOptions &train = args.train;
  if (train.initFromPath.empty())
    return usageError("--generate needs --init-from=CKPT (the trained parameters)");
  if (!line.prompt)
    return usageError("--generate needs --prompt=TEXT or --prompt-ids=I,J,...");
  if (train.synthetic || !train.dataPath.empty() || !train.valDataPath.empty() ||
      !train.resumePath.empty() || !train.savePath.empty() || train.saveEvery > 0 ||
      !train.logPath.empty() || train.steps > 0 || train.evalEvery > 0 || train.dumpStep > 0)
    return usageError("--generate trains nothing: it takes none of --data, --val-data, "
                      "--synthetic, --steps, --eval-every, --save, --save-every, --resume, "
                      "--log or --dump");
  if (!args.plotPath.empty())
    return usageError("--generate trains nothing to plot: --plot is for training runs");
  args.generate.initFromPath = train.initFromPath;
  args.generate.seed = train.seed;
  return -1;
}

/// The mode the flags select and the checks that span several flags; returns
/// an exit code (kExitUsage) and prints the message on error, -1 on success.
int selectMode(const CommandLine &line, Args &args) {
  if (line.describe && line.prepare)
    return usageError("--describe and --prepare exclude each other");
  if (line.plotLog)
    return selectPlotLog(line, args);
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
    if (line.generate)
      return usageError("--export-hf excludes --generate");
    if (!line.output)
      return usageError("--export-hf needs -o DIR");
    if (line.positional.size() > 1)
      return usageError("--export-hf takes at most one program ('" + line.positional[1] + "')");
    args.exportDir = line.outputPath;
    args.program = line.positional.empty() ? "" : line.positional[0];
    return -1;
  }
  if (line.output)
    return usageError("-o is only used with --prepare, --plot-log and --export-hf");
  if (line.positional.empty())
    return usageError("no program file given");
  if (line.positional.size() > 1)
    return usageError("one program file expected, got '" + line.positional[0] + "' and '" +
                      line.positional[1] + "'");
  args.program = line.positional[0];
  if (line.describe) {
    args.mode = Args::Mode::Describe;
    return -1;
  }
  if (line.generate)
    return selectGenerate(line, args);
  if (line.prompt)
    return usageError("--prompt and --prompt-ids are only used with --generate");
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
int selectBackend(const Args &args, const fp8rt::Program &program, fp8run::Ranks &ranks,
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
      if (std::string message = ranks.setUpCuda(options); !message.empty())
        return error(message);
      fp8rt::StatusOr<std::unique_ptr<fp8rt::Backend>> cuda =
          fp8rt::cuda::createCudaBackend(options);
      if (!cuda.ok())
        return error("--backend=" + choice + ": " + cuda.status().message());
      backend = std::move(*cuda);
      std::cout << "backend: cuda (" << (choice == "auto" ? "auto: " : "--backend=cuda: ")
                << device->name << ", compute capability " << device->major << "." << device->minor
                << "): " << backend->description() << "\n";
      return kExitOk;
    }
    if (choice == "cuda")
      return error("--backend=cuda: " + device.status().message());
    why = device.status().message() + "; using the CPU backend";
#else
    (void)program;
    (void)ranks;
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

//===----------------------------------------------------------------------===//
// Inputs of the wrong kind
//===----------------------------------------------------------------------===//

/// What a file that failed to load as a program is instead, by its name or
/// first bytes: "yaml", "mlir", "checkpoint", or "" when it is none of them.
std::string guessKind(const std::string &path) {
  const size_t dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot);
  if (ext == ".yaml" || ext == ".yml")
    return "yaml";
  if (ext == ".mlir")
    return "mlir";
  std::ifstream in(path, std::ios::binary);
  char head[512] = {};
  in.read(head, sizeof head);
  const std::string text(head, size_t(in.gcount()));
  if (text.size() > 8 && text[8] == '{' && text.find("\"dtype\"") != std::string::npos)
    return "checkpoint"; // safetensors: a length, then the JSON header
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos)
    return "";
  const std::string_view body = std::string_view(text).substr(start);
  if (body.rfind("module", 0) == 0 || body.rfind("func.func", 0) == 0 || body.rfind("//", 0) == 0)
    return "mlir";
  if (body.rfind("model:", 0) == 0 || text.find("\nmodel:") != std::string::npos ||
      body.rfind("#", 0) == 0)
    return "yaml";
  return "";
}

/// The message for a program that does not load: what the file is and what
/// to do with it when that is clear, else the loader's message.
std::string programError(const std::string &path, const std::string &loaderMessage) {
  const std::string kind = guessKind(path);
  if (kind == "yaml" || kind == "mlir") {
    const size_t dot = path.rfind('.');
    const size_t slash = path.rfind('/');
    const std::string stem = dot == std::string::npos || (slash != std::string::npos && dot < slash)
                                 ? path
                                 : path.substr(0, dot);
    return path + " is " + (kind == "yaml" ? "a model description" : "MLIR") +
           ", not a program: compile it with fp8c first: fp8c " + path + " -o " + stem + ".fp8prog";
  }
  if (kind == "checkpoint")
    return path + " is a checkpoint, not a program: give the program (fp8c's output) "
                  "first and the checkpoint as --resume= or --init-from=";
  return loaderMessage;
}

//===----------------------------------------------------------------------===//
// Signals
//===----------------------------------------------------------------------===//

/// The signal that asks the run to stop after its current step (0: none).
volatile std::sig_atomic_t stopSignal = 0;
/// --prepare has no step to finish: the first signal stops it.
volatile std::sig_atomic_t stopAtOnce = 0;

/// First SIGINT/SIGTERM: note it (the trainer stops after the step and
/// saves). Second, or in --prepare: remove the temporaries of unfinished
/// writes and exit now. Async-signal-safe calls only.
extern "C" void onStopSignal(int signal) {
  if (stopAtOnce || stopSignal != 0) {
    fp8rt::AtomicFile::removeOpenTemporaries();
    static const char message[] = "\nfp8-run: stopped at once\n";
    (void)!::write(2, message, sizeof message - 1);
    ::_exit(128 + signal);
  }
  stopSignal = signal;
  static const char message[] =
      "\nfp8-run: stopping after the current step (press Ctrl-C again to stop at once)\n";
  (void)!::write(2, message, sizeof message - 1);
  if (const char *note = fp8run::signalNote()) // rank and step of a job of several
    (void)!::write(2, note, std::strlen(note));
}

/// Catches SIGINT and SIGTERM, except a SIGINT the shell ignores for a
/// background job.
void installStopHandlers(bool atOnce) {
  stopAtOnce = atOnce;
  struct sigaction action = {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : {SIGINT, SIGTERM}) {
    struct sigaction old = {};
    if (::sigaction(signal, nullptr, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    ::sigaction(signal, &action, nullptr);
  }
}

/// Writes --plot after training; nothing when this session recorded no step
/// (then a --log file may still hold an older run's).
fp8rt::Status writeRunPlot(const Args &args, const fp8rt::plot::RunHistory &session,
                           const fp8rt::Status &sessionStatus) {
  FP8RT_RETURN_IF_ERROR(sessionStatus);
  if (session.records() == 0)
    return fp8rt::Status::success();
  if (!args.train.logPath.empty()) {
    fp8rt::StatusOr<fp8rt::plot::RunHistory> log = fp8rt::plot::readRunLog(args.train.logPath);
    if (!log.ok())
      return log.status();
    FP8RT_RETURN_IF_ERROR(fp8rt::plot::writePlot(args.plotPath, *log, args.program));
  } else {
    FP8RT_RETURN_IF_ERROR(fp8rt::plot::writePlot(args.plotPath, session, args.program));
  }
  std::cout << "wrote plot " << args.plotPath << "\n";
  return fp8rt::Status::success();
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
    installStopHandlers(/*atOnce=*/true);
    if (fp8rt::Status s = fp8rt::checkWritable(args.prepareOutput); !s.ok())
      return error("-o " + args.prepareOutput + ": cannot be written: " + s.message());
    fp8rt::StatusOr<int64_t> n = fp8rt::prepareByteTokens(args.prepareInput, args.prepareOutput);
    if (!n.ok())
      return error(n.status().message());
    std::printf("wrote %lld uint16 tokens (byte-level, vocabulary 256) to %s\n", (long long)*n,
                args.prepareOutput.c_str());
    return kExitOk;
  }
  case Args::Mode::PlotLog:
    if (fp8rt::Status s = fp8rt::checkWritable(args.plotOutput); !s.ok())
      return error("-o " + args.plotOutput + ": cannot be written: " + s.message());
    if (fp8rt::Status s = fp8rt::plot::plotLogFile(args.plotLog, args.plotOutput, std::cout);
        !s.ok())
      return error(s.message());
    return kExitOk;
  case Args::Mode::ExportHf: {
    fp8rt::StatusOr<fp8rt::Program> program = fp8rt::Program();
    if (!args.program.empty())
      program = fp8rt::loadProgram(args.program);
    if (!program.ok())
      return error(program.status().message());
    fp8rt::Status s =
        fp8rt::exportHuggingFace(args.exportCheckpoint, args.program.empty() ? nullptr : &*program,
                                 args.exportDir, std::cout);
    return s.ok() ? kExitOk : error(s.message());
  }
  case Args::Mode::Describe:
  case Args::Mode::Train:
  case Args::Mode::Generate:
    break;
  }

  // Under mpirun: this process is one rank of a data-parallel job.
  fp8run::Ranks ranks;
  if (args.mode == Args::Mode::Train)
    if (std::string message = ranks.start(&argc, &argv, args.collectiveTimeout); !message.empty())
      return error(message);
  if (std::string message = ranks.prepare(args.program, args.train, args.plotPath);
      !message.empty())
    return ranks.finish(error(message));
  // Before anything is loaded, as the trainer does for --save, --log and --dump.
  if (!args.plotPath.empty())
    if (fp8rt::Status s = fp8rt::checkWritable(args.plotPath); !s.ok())
      return error("--plot=" + args.plotPath + ": cannot be written: " + s.message());
  fp8rt::StatusOr<fp8rt::Program> program = fp8rt::loadProgram(args.program);
  if (!program.ok())
    return ranks.finish(error(programError(args.program, program.status().message())));
  if (args.mode == Args::Mode::Describe) {
    fp8rt::describeProgram(*program, std::cout);
    return kExitOk;
  }

  std::unique_ptr<fp8rt::Backend> backend;
  if (args.mode == Args::Mode::Generate) {
    // stdout is the generated text's: the backend line goes to stderr.
    std::streambuf *text = std::cout.rdbuf(std::cerr.rdbuf());
    int code = selectBackend(args, *program, ranks, backend);
    std::cout.rdbuf(text);
    if (code != kExitOk)
      return code;
    fp8rt::StatusOr<std::vector<int64_t>> tokens =
        fp8rt::generate(*program, *backend, args.generate, std::cout, std::cerr);
    std::cout.flush();
    return tokens.ok() ? kExitOk : error(tokens.status().message());
  }
  if (int code = selectBackend(args, *program, ranks, backend); code != kExitOk)
    return ranks.finish(code);

  installStopHandlers(/*atOnce=*/false);
  args.train.stopSignal = &stopSignal;
  // --plot: the session's records, or the whole --log (a resumed run's too).
  fp8rt::plot::RunHistory history;
  fp8rt::Status historyStatus;
  if (!args.plotPath.empty())
    args.train.onRecord = [&](const std::string &record) {
      if (historyStatus.ok())
        historyStatus = history.addRecord(record, "step record");
    };
  fp8rt::StatusOr<fp8rt::TrainSummary> summary =
      fp8rt::train(*program, *backend, args.train, std::cout);
  std::cout.flush();
  // A run stopped by a non-finite value is plotted too: that is when it helps.
  if (!args.plotPath.empty())
    if (fp8rt::Status s = writeRunPlot(args, history, historyStatus); !s.ok() && summary.ok())
      return ranks.finish(error(s.message()));
  if (!summary.ok())
    return ranks.finish(error(summary.status().message()));
  return ranks.finish(summary->stoppedBySignal ? 128 + summary->stoppedBySignal : kExitOk);
}
