//===- fp8c.cpp - the fp8c compiler driver --------------------------------===//
//
// A thin layer over the pipeline library: parse the input, run the pipeline up to
// the requested stage, print the result. Everything the compiler does lives in
// lib/; everything here is flags and files.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Analysis/ByteSize.h"
#include "fp8c/Analysis/CommReport.h"
#include "fp8c/Analysis/DistributedSettings.h"
#include "fp8c/Analysis/GemmReport.h"
#include "fp8c/Analysis/LossChunkReport.h"
#include "fp8c/Analysis/MemoryReport.h"
#include "fp8c/Compiler/MemoryBudget.h"
#include "fp8c/Dialect/Train/Transforms/ChunkLoss.h"
#include "fp8c/Frontend/BuildForwardGraph.h"
#include "fp8c/Frontend/HfConfig.h"
#include "fp8c/Pipelines/Pipelines.h"
#include "fp8c/Target/ProgramFile.h"
#ifdef FP8C_HAVE_CUDA_CODEGEN
#include "fp8rt/Program.h"
#include "fp8rt/cuda/KernelCodegen.h"
#endif

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "llvm/Support/WithColor.h"
#include <map>

using namespace mlir;
namespace cl = llvm::cl;

static cl::OptionCategory fp8cCategory("fp8c options");
static cl::OptionCategory inspectCategory("IR inspection options (from MLIR)");

/// MLIR's own flags that fp8c documents; --help hides the hundreds of others
/// that linking LLVM registers.
static void exposeInspectionOptions() {
  auto &options = cl::getRegisteredOptions();
  for (StringRef name :
       {"mlir-print-ir-after-all", "mlir-print-ir-after", "mlir-print-ir-before-all",
        "mlir-print-ir-before", "mlir-print-ir-after-change", "mlir-print-ir-after-failure",
        "mlir-print-ir-tree-dir", "mlir-print-op-generic", "mlir-print-debuginfo",
        "mlir-elide-elementsattrs-if-larger", "mlir-timing", "mlir-timing-display",
        "mlir-disable-threading"})
    if (cl::Option *option = options.lookup(name)) {
      option->addCategory(inspectCategory);
      option->setHiddenFlag(cl::NotHidden);
    }
  cl::HideUnrelatedOptions({&fp8cCategory, &inspectCategory});
}

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<model.yaml|config.json|model.mlir>"),
                                          cl::Required, cl::cat(fp8cCategory));

static cl::opt<std::string> outputFilename(
    "o",
    cl::desc("Output file ('-' for stdout; default: the program file MODEL.fp8prog beside\n"
             "the input, and stdout for --emit=<stage>, --emit=cuda and the reports)"),
    cl::value_desc("file"), cl::init("-"), cl::cat(fp8cCategory));

// cl::desc keeps a StringRef: the text must outlive option parsing.
static const std::string &stageHelp() {
  static std::string help;
  if (!help.empty())
    return help;
  help = "Stop after this stage and print its IR, or write the program file\n"
         "(default: program):";
  for (const fp8c::Stage &stage : fp8c::getStages())
    help += "\n  " + stage.name.str() + ": " + stage.description.str();
  help += "\n  program: the last stage written as a program file for fp8-run\n"
          "           (docs/program-format.md)"
          "\n  cuda: the CUDA C++ that fp8-run's CUDA backend compiles for every kernel\n"
          "        (docs/cuda-backend.md)";
  return help;
}

static cl::opt<std::string> emitStage("emit", cl::desc(stageHelp()), cl::value_desc("stage"),
                                      cl::cat(fp8cCategory));

static cl::opt<std::string> fp8Report(
    "fp8-report",
    cl::desc("Print the FP8 GEMM report instead of IR: per GEMM of train_step its M/K/N,\n"
             "predicted bf16 and fp8 times, decision and reason, then totals\n"
             "(--fp8-report or --fp8-report=text; --fp8-report=json)"),
    cl::value_desc("format"), cl::ValueOptional, cl::cat(fp8cCategory));

static cl::opt<bool> memoryReport(
    "memory-report",
    cl::desc("Print the planned arena instead of a program: per function, the peak bytes\n"
             "split into parameters, optimizer state, FP8 scaling state, activations,\n"
             "FP8 copies, and the cuBLASLt workspace (docs/memory-plan.md)"),
    cl::cat(fp8cCategory));

static cl::opt<std::string> commReport(
    "comm-report",
    cl::desc("Print the communication report instead of a program: per collective of\n"
             "train_step its kind, tensor, bytes, bucket, predicted time and the backward\n"
             "GEMM time that can hide it, then the messages and totals per step\n"
             "(--comm-report or --comm-report=text; --comm-report=json; docs/distributed.md)"),
    cl::value_desc("format"), cl::ValueOptional, cl::cat(fp8cCategory));

static cl::opt<int64_t> worldSizeOverride(
    "world-size",
    cl::desc("Compile for N ranks: overrides distributed.world_size (a description\n"
             "without a distributed section gets ddp; docs/distributed.md)"),
    cl::value_desc("N"), cl::cat(fp8cCategory));

static cl::opt<std::string> lossChunkTokens(
    "loss-chunk-tokens",
    cl::desc("Tokens per chunk of lm_head and the loss: auto, 0 (off) or a divisor of\n"
             "batch_size x seq_len; overrides train.loss_chunk_tokens (docs/memory-plan.md)"),
    cl::value_desc("auto|0|N"), cl::cat(fp8cCategory));

/// --loss-chunk-tokens into train.config, before the pipeline. An error
/// message, or "".
static std::string applyLossChunkTokens(ModuleOp module) {
  if (lossChunkTokens.getNumOccurrences())
    if (std::string error = fp8c::train::setLossChunkTokens(module, lossChunkTokens);
        !error.empty())
      return "--loss-chunk-tokens: " + error;
  return "";
}

static cl::opt<std::string> memoryBudgetFlag(
    "memory-budget",
    cl::desc("The planned arena must fit in SIZE (e.g. 24GiB; overrides train.memory_budget):\n"
             "forward values are recomputed in backward until it does (docs/memory-plan.md)"),
    cl::value_desc("size"), cl::cat(fp8cCategory));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "fp8c") << message << "\n";
  return 1;
}

static fp8c::fp8::GemmReportFormat gemmFormat() {
  return fp8Report == "json" ? fp8c::fp8::GemmReportFormat::JSON
                             : fp8c::fp8::GemmReportFormat::Text;
}

static fp8c::comm::CommReportFormat commFormat() {
  return commReport == "json" ? fp8c::comm::CommReportFormat::JSON
                              : fp8c::comm::CommReportFormat::Text;
}

/// The report flags' values and combinations; "" or the error.
static std::string checkReportFlags() {
  bool wantReport = fp8Report.getNumOccurrences() > 0;
  bool wantComm = commReport.getNumOccurrences() > 0;
  if (wantReport && !fp8Report.empty() && fp8Report != "text" && fp8Report != "json")
    return "--fp8-report: unknown format '" + fp8Report + "'; expected text or json";
  if (wantComm && !commReport.empty() && commReport != "text" && commReport != "json")
    return "--comm-report: unknown format '" + commReport + "'; expected text or json";
  if (wantReport && wantComm)
    return "--fp8-report and --comm-report are two reports: ask for one at a time";
  if ((wantReport || wantComm) && !emitStage.empty())
    return std::string(wantReport ? "--fp8-report" : "--comm-report") +
           " prints a report, not the IR of a stage: drop --emit";
  if (memoryReport && (wantReport || wantComm || !emitStage.empty()))
    return "--memory-report prints a report of the whole compilation: drop " +
           std::string(wantReport ? "--fp8-report"
                       : wantComm ? "--comm-report"
                                  : "--emit");
  return "";
}

/// The passes of fp8c's pipeline by stage, "stage: pass, pass", from its
/// textual form "builtin.module(a,func.func(b{opt=1}),c)" (a name directly
/// before '(' anchors a nested pipeline and is no pass).
static std::string pipelinePassNames() {
  std::string lines;
  llvm::ArrayRef<fp8c::Stage> stages = fp8c::getStages();
  for (size_t i = 1; i < stages.size(); ++i) {
    OpPassManager pm("builtin.module");
    fp8c::buildPipeline(pm, stages[i - 1], stages[i]);
    std::string text;
    llvm::raw_string_ostream os(text);
    pm.printAsTextualPipeline(os);
    SmallVector<std::string> names;
    std::string name;
    int braces = 0;
    for (char c : text + ",") {
      if (c == '{' || c == '}') {
        braces += c == '{' ? 1 : -1;
        continue;
      }
      if (braces > 0)
        continue;
      if (c == ',' || c == '(' || c == ')') {
        if (c != '(' && !name.empty() && !llvm::is_contained(names, name))
          names.push_back(name);
        name.clear();
        continue;
      }
      if (!llvm::isSpace(c))
        name += c;
    }
    lines += "\n  " + stages[i].name.str() + ": " + llvm::join(names, ", ");
  }
  return lines;
}

/// --mlir-print-ir-after/before=<pass> with a name no pass has: MLIR's parser
/// would say only "Cannot find option named"; this lists the passes. Returns
/// the flag and the name at fault, or an empty pair.
static std::pair<std::string, std::string> unknownPrintIRPass(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    StringRef arg = StringRef(argv[i]);
    if (!arg.consume_front("-"))
      continue;
    arg.consume_front("-");
    for (StringRef flag : {"mlir-print-ir-after", "mlir-print-ir-before"}) {
      StringRef rest = arg, value;
      if (!rest.consume_front(flag))
        continue;
      if (rest.consume_front("="))
        value = rest;
      else if (rest.empty() && i + 1 < argc)
        value = argv[i + 1];
      else
        continue; // --mlir-print-ir-after-all and the like
      SmallVector<StringRef> names;
      value.split(names, ',');
      for (StringRef name : names)
        if (!PassInfo::lookup(name))
          return {"--" + flag.str(), name.str()};
    }
  }
  return {};
}

/// Where the program file goes without -o: MODEL.fp8prog beside the input.
static std::string defaultProgramPath(StringRef input) {
  SmallString<128> path(input);
  llvm::sys::path::replace_extension(path, ".fp8prog");
  return path.str().str();
}

/// --emit=cuda: the program file, read back as fp8-run reads it, and the CUDA
/// C++ its CUDA backend generates from it (the one generator, in the runtime).
/// Returns "" or the error.
static std::string printCudaSources(ModuleOp module, llvm::raw_ostream &os) {
#ifdef FP8C_HAVE_CUDA_CODEGEN
  std::string text;
  llvm::raw_string_ostream programText(text);
  if (failed(fp8c::writeProgramFile(module, programText)))
    return "--emit=cuda: the program file could not be written";
  fp8rt::StatusOr<fp8rt::Program> program = fp8rt::parseProgram(text, "<fp8c>");
  if (!program.ok())
    return "--emit=cuda: the program does not load: " + program.status().message();
  fp8rt::StatusOr<std::vector<fp8rt::cuda::GeneratedKernel>> kernels =
      fp8rt::cuda::generateAllKernels(*program);
  if (!kernels.ok())
    return "--emit=cuda: " + kernels.status().message();
  os << "// CUDA C++ of " << kernels->size()
     << " kernels (docs/cuda-backend.md). The prelude every kernel includes:\n\n"
     << fp8rt::cuda::cudaPrelude() << "\n";
  // Kernels over other buffers with the same code (each layer's) print it once.
  std::map<std::string, std::string> firstWithBody;
  for (const fp8rt::cuda::GeneratedKernel &kernel : *kernels) {
    os << "\n// ===== kernel " << kernel.name << ": " << kernel.launches.size() << " launch(es), "
       << kernel.scratchBytes << " bytes of scratch\n";
    for (const fp8rt::cuda::Launch &l : kernel.launches)
      os << "//   " << l.entry << " <<<(" << l.grid[0] << "," << l.grid[1] << "," << l.grid[2]
         << "), (" << l.block[0] << "," << l.block[1] << "," << l.block[2] << "), " << l.sharedBytes
         << ">>>\n";
    for (size_t k = 0; k < kernel.offsets.size(); ++k) {
      const fp8rt::Buffer &b = program->buffers[kernel.offsetBuffers[k]];
      os << "//   off[" << k << "] = " << kernel.offsets[k] << ": buffer "
         << kernel.offsetBuffers[k] << (b.name.empty() ? "" : " '" + b.name + "'") << ", "
         << b.type.str() << "\n";
    }
    auto [first, inserted] = firstWithBody.emplace(kernel.body, kernel.name);
    if (inserted)
      os << kernel.body << "\n";
    else
      os << "// the code of kernel " << first->second << ", above\n";
  }
  return "";
#else
  (void)module, (void)os;
  return "--emit=cuda: this fp8c was built without the CUDA code generator";
#endif
}

/// After the whole pipeline: the real plan against the budget, recompiling
/// with more recompute when the estimate fell short; located error when even
/// recomputing everything does not fit (at the flag, or train.memory_budget).
static LogicalResult fitMemoryBudget(ModuleOp input, const fp8c::Stage &from,
                                     OwningOpRef<ModuleOp> &module, int64_t budget,
                                     llvm::SourceMgr &sourceMgr) {
  fp8c::BudgetFit fit = fp8c::fitMemoryBudget(input, from, module, budget);
  if (fit.fits)
    return success();
  std::string message =
      "the plan does not fit in " + fp8c::formatByteSize(budget) +
      ": with every forward value recomputed that can be, the planned arena is " +
      fp8c::formatByteSize(fit.smallest) + ", " + fp8c::formatByteSize(fit.persistent) +
      " of it parameters, optimizer state and gradient accumulators; raise the budget to at "
      "least " +
      fp8c::formatByteSize(fit.smallest) + ", or lower train.batch_size";
  if (memoryBudgetFlag.getNumOccurrences())
    return fail("--memory-budget=" + memoryBudgetFlag + ": " + message), failure();
  // The key in the YAML: the first line that starts with it (not a comment).
  StringRef text = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
  for (StringRef rest = text; !rest.empty();) {
    auto [line, next] = rest.split('\n');
    StringRef key = line.ltrim(" ");
    if (key.starts_with("memory_budget:")) {
      sourceMgr.PrintMessage(llvm::errs(), llvm::SMLoc::getFromPointer(key.data()),
                             llvm::SourceMgr::DK_Error, "train.memory_budget: " + message);
      return failure();
    }
    rest = next;
  }
  return input.emitError() << "train.config memory_budget: " << message, failure();
}

/// Runs the pipeline, then holds the real plan against the memory budget (the
/// flag, else train.memory_budget). When the pipeline reaches the program,
/// `beforePipeline` keeps the input, to recompile it with another recompute
/// setting.
static LogicalResult runPipeline(PassManager &pm, OwningOpRef<ModuleOp> &module,
                                 const fp8c::Stage &from, bool toProgram,
                                 llvm::SourceMgr &sourceMgr,
                                 OwningOpRef<ModuleOp> &beforePipeline) {
  if (memoryBudgetFlag.getNumOccurrences()) {
    std::optional<int64_t> bytes = fp8c::parseByteSize(memoryBudgetFlag);
    if (!bytes)
      return fail("--memory-budget=" + memoryBudgetFlag + ": expected " + fp8c::kByteSizeSyntax),
             failure();
    fp8c::setMemoryBudget(*module, *bytes);
  }
  int64_t budget = fp8c::memoryBudgetOf(*module);
  if (toProgram && (budget > 0 || memoryReport))
    beforePipeline = module->clone();
  if (failed(pm.run(*module)))
    return failure();
  if (beforePipeline && budget > 0)
    return fitMemoryBudget(*beforePipeline, from, module, budget, sourceMgr);
  return success();
}

/// --memory-report: the plan (after recompute, with the plan without it: the
/// peak before), then the loss chunking, whose peak before chunking comes from
/// compiling the input again with the loss whole.
static LogicalResult printMemoryReports(ModuleOp module, ModuleOp beforePipeline,
                                        const fp8c::Stage &from, const fp8c::Stage &to,
                                        llvm::raw_ostream &os) {
  std::optional<fp8c::rt::MemoryReport> withoutRecompute;
  if (beforePipeline && module->hasAttr("fp8c.recompute"))
    if (OwningOpRef<ModuleOp> plain = fp8c::recompile(beforePipeline, from, std::nullopt, true))
      withoutRecompute = fp8c::rt::computeMemoryReport(*plain);
  fp8c::rt::printMemoryReport(module, os, withoutRecompute ? &*withoutRecompute : nullptr);
  // A clone: beforePipeline stays the input for any later recompile.
  auto compileWhole = [&]() -> OwningOpRef<ModuleOp> {
    OwningOpRef<ModuleOp> whole = beforePipeline ? beforePipeline.clone() : nullptr;
    if (!whole)
      return nullptr;
    fp8c::train::setLossChunkTokens(*whole, "0");
    PassManager again(whole->getContext());
    fp8c::buildPipeline(again, from, to);
    return succeeded(again.run(*whole)) ? std::move(whole) : nullptr;
  };
  return fp8c::rt::printLossChunkReport(module, compileWhole, os);
}

/// The stage --emit names; null, after the error, when it names none.
static const fp8c::Stage *findEmitStage() {
  if (const fp8c::Stage *stage = fp8c::findStage(emitStage))
    return stage;
  SmallVector<StringRef> names;
  for (const fp8c::Stage &s : fp8c::getStages())
    names.push_back(s.name);
  names.push_back("program");
  names.push_back("cuda");
  fail("--emit: unknown stage '" + emitStage + "'; expected one of: " + llvm::join(names, ", "));
  return nullptr;
}

/// Writes what the flags ask for: a report, CUDA, the program file or IR.
static int writeOutput(ModuleOp module, bool wantProgram, bool wantCuda, ModuleOp beforePipeline,
                       const fp8c::Stage &from, const fp8c::Stage &to) {
  bool wantReport = fp8Report.getNumOccurrences() > 0;
  bool wantComm = commReport.getNumOccurrences() > 0;
  std::string errorMessage;
  // A program file goes beside the input unless -o says where; what is read
  // (IR, CUDA, reports) goes to the terminal.
  std::string outputPath = outputFilename;
  if (outputFilename.getNumOccurrences() == 0)
    outputPath =
        emitStage.empty() && !wantReport && !wantComm && !memoryReport && inputFilename != "-"
            ? defaultProgramPath(inputFilename)
            : "-";
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputPath, &errorMessage);
  if (!output)
    return fail(errorMessage);
  if (wantReport || wantComm) {
    if (wantComm ? failed(fp8c::comm::printCommReport(module, commFormat(), output->os()))
                 : failed(fp8c::fp8::printGemmReport(module, gemmFormat(), output->os())))
      return 1;
    output->keep();
    return 0;
  }
  if (memoryReport) {
    bool printed = succeeded(printMemoryReports(module, beforePipeline, from, to, output->os()));
    output->keep();
    return printed ? 0 : 1;
  }
  if (wantCuda) {
    if (std::string error = printCudaSources(module, output->os()); !error.empty())
      return fail(error);
    output->keep();
    return 0;
  }
  if (wantProgram) {
    if (failed(fp8c::writeProgramFile(module, output->os())))
      return 1;
    output->keep();
    if (outputFilename.getNumOccurrences() == 0 && outputPath != "-")
      llvm::errs() << "fp8c: wrote " << outputPath << "\n";
    return 0;
  }
  module.print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Passes first: --mlir-print-ir-after=<pass> takes its choices from the registry.
  fp8c::registerAllPasses();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  exposeInspectionOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) { os << "fp8c 0.1.0\n"; });
  if (auto [flag, name] = unknownPrintIRPass(argc, argv); !flag.empty())
    return fail(flag + "=" + name + ": no pass is called '" + name +
                "'; the passes of fp8c's pipeline, by stage:" + pipelinePassNames());
  cl::ParseCommandLineOptions(
      argc, argv,
      "fp8c: compiles a model description into an FP8 training program\n\n"
      "  fp8c MODEL.yaml                                 compile MODEL.fp8prog for fp8-run\n"
      "  fp8c MODEL.yaml -o FILE.fp8prog                 ... to another file ('-': stdout)\n"
      "  fp8c MODEL.yaml --emit=forward                  print the forward graph\n"
      "  fp8c config.json -o MODEL.fp8prog               a Hugging Face config "
      "(docs/hf-interop.md)\n"
      "  fp8c MODEL.mlir --mlir-print-ir-after-all        print the IR after every pass\n"
      "  fp8c MODEL.mlir --mlir-print-ir-after=cse        print the IR after one pass\n"
      "  fp8c MODEL.yaml --fp8-report                     which GEMMs run in FP8, and why\n"
      "  fp8c MODEL.yaml --memory-report                  the planned arena, by role\n"
      "  fp8c MODEL.yaml --world-size=8 --comm-report     collectives and their predicted "
      "times\n");

  const fp8c::Stage *stage = &fp8c::getStages().back();
  bool wantCuda = emitStage == "cuda";
  bool wantProgram = emitStage.empty() || emitStage == "program" || wantCuda;
  if (!wantProgram && !(stage = findEmitStage()))
    return 1;

  bool wantReport = fp8Report.getNumOccurrences() > 0;
  bool wantComm = commReport.getNumOccurrences() > 0;
  if (std::string error = checkReportFlags(); !error.empty())
    return fail(error);
  if (memoryReport || wantComm)
    wantProgram = false;

  // A model description goes through the front end; `-` (stdin) is MLIR.
  StringRef extension = llvm::sys::path::extension(inputFilename);
  bool isYAML = extension == ".yaml" || extension == ".yml";
  bool isHfConfig = extension == ".json";
  if (!isYAML && !isHfConfig && extension != ".mlir" && inputFilename != "-")
    return fail("'" + inputFilename + "': expected a .yaml, .yml, .json or .mlir file (got '" +
                extension + "')");

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFilename, &errorMessage);
  if (!input)
    return fail(errorMessage);

  DialectRegistry registry;
  fp8c::registerAllDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  OwningOpRef<ModuleOp> module = isYAML       ? fp8c::importModelDescription(sourceMgr, &context)
                                 : isHfConfig ? fp8c::importHfConfig(sourceMgr, &context)
                                              : parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;
  if (std::string error = applyLossChunkTokens(*module); !error.empty())
    return fail(error);

  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope timingScope = timing.getRootScope();
  pm.enableTiming(timingScope);
  // fp8c takes its own output back: start after the stage the input has reached.
  const fp8c::Stage &from = fp8c::detectStage(*module);
  if (stage < &from && stage != &fp8c::getStages().front())
    return fail("--emit=" + stage->name + ": the input is already at the later stage '" +
                from.name + "'");
  // Collectives are placed (and bucketed) in the fp8 stage and lowered after it.
  const fp8c::Stage &fp8Stage = *fp8c::findStage("fp8");
  if ((wantComm || worldSizeOverride.getNumOccurrences()) && &from > &fp8Stage)
    return fail(std::string(wantComm ? "--comm-report" : "--world-size") +
                ": the input is already at the stage '" + from.name +
                "', past the fp8 stage that places the collectives");
  if (worldSizeOverride.getNumOccurrences()) {
    if (&from == &fp8Stage)
      return fail("--world-size: the input already has its collectives (stage 'fp8'); give "
                  "the model description");
    if (llvm::Error error = fp8c::overrideWorldSize(*module, worldSizeOverride))
      return fail(llvm::toString(std::move(error)));
  }
  if (wantReport)
    fp8c::buildGemmReportPipeline(pm, from);
  else if (wantComm)
    fp8c::buildPipeline(pm, from, fp8Stage);
  else
    fp8c::buildPipeline(pm, from, *stage);
  OwningOpRef<ModuleOp> beforePipeline;
  bool toProgram = stage == &fp8c::getStages().back() && !wantReport && !wantComm;
  if (failed(runPipeline(pm, module, from, toProgram, sourceMgr, beforePipeline)))
    return 1;

  return writeOutput(*module, wantProgram, wantCuda, beforePipeline.get(), from, *stage);
}
