//===- Trainer.cpp - The training loop ------------------------------------===//
//
// One optimizer step (docs/autodiff.md, "Gradient accumulation"): with
// grad_accum_steps = N > 1 the grad_accum buffers are zeroed, accumulate_step
// runs on N - 1 micro-batches and train_step on the last; the step's loss is
// the mean of the N losses. `step` (i64, 1-based) is written before every
// call of a function that takes it. The learning rate and grad_norm are what
// train_step returns.
//
// The parts: data (fp8rt/data/BatchSource.h), the functions' buffers
// (StepFunctions.h), metrics and the JSONL record (Metrics.h), the terminal
// lines (Progress.h), checkpoints (Checkpoint.h), dumps (Dump.h).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Trainer.h"

#include "fp8rt/comm/Communicator.h"
#include "fp8rt/data/BatchSource.h"
#include "fp8rt/support/AtomicFile.h"
#include "train/Checkpoint.h"
#include "train/Dump.h"
#include "train/Metrics.h"
#include "train/Progress.h"
#include "train/StepFunctions.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>

namespace fp8rt {

namespace {

using Clock = std::chrono::steady_clock;
using trainer::BoundFunction;
using trainer::StepRecord;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

class Run {
public:
  Run(const Program &program, Backend &backend, const TrainOptions &options, std::ostream &out)
      : program_(program), backend_(backend), options_(options), out_(out) {}

  /// The algorithm: prepare, then for every step train, evaluate when due,
  /// log, stop on a non-finite value, report, checkpoint; then finish.
  StatusOr<TrainSummary> run() {
    const Clock::time_point wallStart = Clock::now();
    FP8RT_RETURN_IF_ERROR(prepare());
    for (int64_t step = startStep_ + 1; step <= totalSteps_; ++step) {
      if (stopRequested())
        break;
      StepRecord record;
      if (options_.onStepBegin)
        options_.onStepBegin(step);
      FP8RT_RETURN_IF_ERROR(trainStep(step, record));
      if (!record.stopping() && evaluationDue(step))
        FP8RT_RETURN_IF_ERROR(evaluate(step, record));
      FP8RT_RETURN_IF_ERROR(log(record));
      if (step == options_.dumpStep)
        FP8RT_RETURN_IF_ERROR(dump(record));
      if (record.stopping())
        return stoppedError(record);
      report(record);
      FP8RT_RETURN_IF_ERROR(checkpoint(step));
    }
    return finish(wallStart);
  }

private:
  // Preparation, before the first step.
  Status prepare();
  Status checkSettings();
  Status checkOutputPaths() const;
  Status bindFunctions();
  Status initialise();
  Status restore();
  Status openLog();
  void printPlan();

  // One step.
  Status trainStep(int64_t step, StepRecord &record);
  Status runMicroBatches(int64_t step, StepRecord &record);
  Status feed(const BoundFunction &f, const Batch &batch, int64_t step);
  bool evaluationDue(int64_t step) const;
  Status evaluate(int64_t step, StepRecord &record);
  Status log(const StepRecord &record);
  Status dump(const StepRecord &record);
  Status stoppedError(const StepRecord &record) const;
  void report(const StepRecord &record);
  Status checkpoint(int64_t step);
  bool stopRequested();

  Status save(const std::string &path, int64_t step);
  Status cleanStaleTemporaries(const std::string &path);
  trainer::Metadata metadata(int64_t step) const;
  StatusOr<TrainSummary> finish(Clock::time_point wallStart);
  void reportStop();

  const Program &program_;
  Backend &backend_;
  const TrainOptions &options_;
  std::ostream &out_;

  int64_t batch_ = 0, seqLen_ = 0, accum_ = 1, totalSteps_ = 0;
  BoundFunction train_, eval_, accumulate_;
  bool haveEval_ = false;
  std::vector<uint32_t> gradAccum_;
  std::unique_ptr<BatchSource> data_;
  int64_t startStep_ = 0; // steps completed before this session
  std::ofstream log_;

  // The session so far.
  TrainSummary summary_;
  std::vector<double> losses_;
  double trainSeconds_ = 0;
  int64_t stepsRun_ = 0;
  std::string lastSaved_;
  int64_t lastSavedStep_ = 0;
  int stopSignal_ = 0;                              // the signal that stops the run after this step
  std::vector<Batch> batches_;                      // the micro-batches of the current step
  std::vector<trainer::TensorRecord> paramsBefore_; // of a dumped step
};

//===----------------------------------------------------------------------===//
// Preparation
//===----------------------------------------------------------------------===//

Status Run::prepare() {
  FP8RT_RETURN_IF_ERROR(checkSettings());
  FP8RT_RETURN_IF_ERROR(checkOutputPaths());
  FP8RT_RETURN_IF_ERROR(bindFunctions());
  DataOptions data;
  data.dataPath = options_.dataPath;
  data.valDataPath = options_.valDataPath;
  data.synthetic = options_.synthetic;
  data.seed = options_.seed;
  FP8RT_ASSIGN_OR_RETURN(data_, BatchSource::open(data, program_.info.vocabSize, batch_, seqLen_));
  FP8RT_RETURN_IF_ERROR(backend_.load(program_));

  // State: fresh, fine-tuned from parameters, or resumed.
  FP8RT_RETURN_IF_ERROR(initialise());
  FP8RT_RETURN_IF_ERROR(restore());
  if (options_.dumpStep > 0 && (options_.dumpStep <= startStep_ || options_.dumpStep > totalSteps_))
    return invalidArgumentError(
        "dump step " + std::to_string(options_.dumpStep) + " is not run: this run covers steps " +
        std::to_string(startStep_ + 1) + " to " + std::to_string(totalSteps_));

  printPlan();
  FP8RT_RETURN_IF_ERROR(openLog());

  summary_.firstStep = startStep_ + 1;
  summary_.lastStep = startStep_;
  summary_.lossFloor = data_->lossFloor();
  batches_.resize(static_cast<size_t>(accum_));
  return Status::success();
}

/// The step counts of the program and the options, and the options that
/// must agree with each other.
Status Run::checkSettings() {
  const ProgramInfo &info = program_.info;
  accum_ = info.gradAccumSteps;
  if (accum_ < 1)
    return invalidArgumentError("program info: grad_accum_steps is " + std::to_string(accum_) +
                                ", expected >= 1");
  totalSteps_ = options_.steps > 0 ? options_.steps : info.totalSteps;
  if (totalSteps_ <= 0)
    return invalidArgumentError("no step count: the program's total_steps is " +
                                std::to_string(info.totalSteps) + "; give --steps=N");
  if (options_.synthetic == !options_.dataPath.empty())
    return invalidArgumentError(
        "give exactly one data source: a token file or the synthetic corpus");
  const int ranks = comm::processCommunicator().size();
  if (info.worldSize != ranks)
    return invalidArgumentError(
        "the program was compiled for " + std::to_string(info.worldSize) + " rank" +
        (info.worldSize == 1 ? "" : "s") + " (distributed.world_size) but runs on " +
        std::to_string(ranks) + " process" + (ranks == 1 ? "" : "es") +
        (info.worldSize > 1
             ? "; start it with mpirun -np " + std::to_string(info.worldSize)
             : "; compile it with distributed.world_size: " + std::to_string(ranks)));
  if (info.vocabSize <= 0)
    return invalidArgumentError("program info: vocab_size is " + std::to_string(info.vocabSize) +
                                ": fp8-run trains models that take tokens");
  if (options_.logInterval < 1 || options_.evalBatches < 1 || options_.evalEvery < 0 ||
      options_.saveEvery < 0 || options_.dumpStep < 0)
    return invalidArgumentError("log interval and evaluation batches must be "
                                "positive; eval, save and dump steps not negative");
  if (options_.dumpStep > 0 && options_.dumpPath.empty())
    return invalidArgumentError("a dump step needs a dump file");
  if (!options_.resumePath.empty() && !options_.initFromPath.empty())
    return invalidArgumentError("--resume and --init-from exclude each other: "
                                "resuming already loads the parameters");
  return Status::success();
}

/// Every file the run writes, checked before anything is read or loaded, so
/// that a typo in a path does not surface only after the whole run.
Status Run::checkOutputPaths() const {
  struct Output {
    std::string what;
    const std::string &path;
    bool inPlace; // opened for writing (the log), not replaced by a rename
  };
  const Output outputs[] = {{"--log=" + options_.logPath, options_.logPath, true},
                            {"--save=" + options_.savePath, options_.savePath, false},
                            {"--dump file " + options_.dumpPath, options_.dumpPath, false}};
  // Data parallel: rank 0 writes every file (docs/distributed.md).
  if (comm::processCommunicator().rank() != 0)
    return Status::success();
  for (const Output &o : outputs)
    if (!o.path.empty())
      if (Status s = checkWritable(o.path, o.inPlace); !s.ok())
        return Status(s.code(), o.what + ": cannot be written: " + s.message());
  return Status::success();
}

Status Run::bindFunctions() {
  const ProgramInfo &info = program_.info;
  const Function *trainFn = program_.function("train_step");
  if (!trainFn)
    return invalidArgumentError("the program has no train_step function");
  // The tokens input's shape is the batch; info must agree with it.
  batch_ = info.batchSize;
  seqLen_ = info.seqLen;
  for (uint32_t index : trainFn->inputs)
    if (program_.buffers[index].name == "tokens" &&
        program_.buffers[index].type.shape.size() == 2 && seqLen_ == 0) {
      seqLen_ = program_.buffers[index].type.shape[1]; // mlp: info seq_len 0
    }
  if (batch_ <= 0 || seqLen_ <= 0)
    return invalidArgumentError("program info: batch_size " + std::to_string(batch_) +
                                " and seq_len " + std::to_string(seqLen_) + " must be positive");
  FP8RT_RETURN_IF_ERROR(bindFunction(program_, *trainFn, batch_, seqLen_, train_));
  if (train_.step < 0)
    return invalidArgumentError("train_step: no input named 'step'");
  if (const Function *f = program_.function("eval_step")) {
    FP8RT_RETURN_IF_ERROR(bindFunction(program_, *f, batch_, seqLen_, eval_));
    haveEval_ = true;
  }
  if (options_.evalEvery > 0 && !haveEval_)
    return invalidArgumentError("--eval-every needs an eval_step function, "
                                "which this program does not have");
  if (accum_ > 1) {
    const Function *f = program_.function("accumulate_step");
    if (!f)
      return invalidArgumentError("grad_accum_steps is " + std::to_string(accum_) +
                                  " but the program has no accumulate_step");
    FP8RT_RETURN_IF_ERROR(bindFunction(program_, *f, batch_, seqLen_, accumulate_));
  }
  // Zeroed before every optimizer step, whatever grad_accum_steps says:
  // train_step may leave any values in them (docs/program-format.md, roles).
  for (uint32_t i = 0; i < program_.buffers.size(); ++i)
    if (program_.buffers[i].role == BufferRole::GradAccum)
      gradAccum_.push_back(i);
  return Status::success();
}

Status Run::initialise() {
  for (const Buffer &b : program_.buffers) {
    if (!isPersistent(b.role) || b.role == BufferRole::Constant)
      continue;
    std::vector<uint8_t> bytes = initialBufferBytes(program_, b);
    const uint32_t index = uint32_t(&b - program_.buffers.data());
    FP8RT_RETURN_IF_ERROR(backend_.write(index, bytes.data(), bytes.size()));
  }
  return Status::success();
}

Status Run::restore() {
  if (!options_.resumePath.empty()) {
    trainer::TrainerState state;
    FP8RT_RETURN_IF_ERROR(
        trainer::loadCheckpoint(options_.resumePath, program_, backend_, false, &state));
    startStep_ = state.step;
    data_->rng().setState(state.dataRng);
    out_ << "resumed from " << options_.resumePath << " at step " << startStep_ << "\n";
  } else if (!options_.initFromPath.empty()) {
    FP8RT_RETURN_IF_ERROR(
        trainer::loadCheckpoint(options_.initFromPath, program_, backend_, true, nullptr));
    out_ << "parameters from " << options_.initFromPath << "\n";
  }
  return Status::success();
}

/// What this session trains, or why it trains nothing, and the settings that
/// would otherwise surprise: steps past the lr schedule, fewer held-out
/// batches than asked.
void Run::printPlan() {
  out_ << data_->description() << "\n";
  if (startStep_ >= totalSteps_) {
    if (options_.steps > 0)
      out_ << "nothing to train: the checkpoint " << options_.resumePath << " is at step "
           << startStep_ << ", and --steps=" << options_.steps << " is not past it\n";
    else
      out_ << "the run in " << options_.resumePath << " is finished: it is at step " << startStep_
           << ", the program's total_steps; to train further, give --steps=N "
           << "with N > " << startStep_ << "\n";
    return;
  }
  const int ranks = comm::processCommunicator().size();
  out_ << "training steps " << startStep_ + 1 << " to " << totalSteps_ << ": "
       << (ranks > 1 ? std::to_string(ranks) + " ranks x " : "") << accum_ << " x " << batch_
       << " x " << seqLen_ << " = " << ranks * accum_ * batch_ * seqLen_ << " tokens per step\n";
  const int64_t scheduleEnd = program_.info.totalSteps;
  if (scheduleEnd > 0 && totalSteps_ > scheduleEnd)
    out_ << "warning: training to step " << totalSteps_
         << " goes past the lr schedule's total_steps " << scheduleEnd << ": steps "
         << std::max(scheduleEnd, startStep_) + 1 << " to " << totalSteps_
         << " run at its final rate (min_lr)\n";
  const int64_t heldOut = options_.evalEvery > 0 ? data_->numEvalBatches() : 0;
  if (heldOut > 0 && heldOut < options_.evalBatches)
    out_ << "warning: --eval-batches=" << options_.evalBatches << ": the held-out data holds "
         << heldOut << " batch" << (heldOut == 1 ? "" : "es") << " of " << batch_ << " x "
         << seqLen_ << " tokens; every evaluation uses " << (heldOut == 1 ? "it" : "those") << "\n";
}

Status Run::openLog() {
  if (options_.logPath.empty())
    return Status::success();
  // A resumed run continues its log; a fresh one starts it.
  log_.open(options_.logPath, options_.resumePath.empty() ? std::ios::out | std::ios::trunc
                                                          : std::ios::out | std::ios::app);
  if (!log_)
    return ioError("log file " + options_.logPath + ": cannot open: " + std::strerror(errno));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// One step
//===----------------------------------------------------------------------===//

/// Runs optimizer step `step` and reads what the trainer reports of it.
Status Run::trainStep(int64_t step, StepRecord &record) {
  const bool dumping = step == options_.dumpStep;
  if (dumping) {
    FP8RT_ASSIGN_OR_RETURN(paramsBefore_, trainer::readParams(program_, backend_));
  }

  record.step = step;
  const Clock::time_point t0 = Clock::now();
  FP8RT_RETURN_IF_ERROR(runMicroBatches(step, record));
  if (train_.gradNorm >= 0) {
    FP8RT_ASSIGN_OR_RETURN(record.gradNorm,
                           trainer::readScalar(backend_, uint32_t(train_.gradNorm)));
  }
  record.stepSeconds = secondsSince(t0);
  trainSeconds_ += record.stepSeconds;
  ++stepsRun_;
  if (train_.lr >= 0) {
    FP8RT_ASSIGN_OR_RETURN(record.lr, trainer::readScalar(backend_, uint32_t(train_.lr)));
  }

  // Metrics of the step (train_step's: the last micro-batch).
  FP8RT_RETURN_IF_ERROR(trainer::readMetrics(program_, backend_, train_.metrics, record.metrics));
  if (dumping) {
    FP8RT_ASSIGN_OR_RETURN(record.metrics.nonfiniteGrads,
                           trainer::countNonfinite(program_, backend_, train_.grads));
  }
  record.tokens = accum_ * batch_ * seqLen_;
  record.ranks = comm::processCommunicator().size();
  record.tokensPerSecond = double(stepsRun_ * record.tokens) / std::max(trainSeconds_, 1e-9);
  record.throughput = trainer::stepThroughput(program_, backend_, record.tokensPerSecond);
  record.lossFloor = data_->lossFloor();
  return Status::success();
}

/// Zeroes the accumulators, runs accumulate_step on all micro-batches but the
/// last and train_step on the last; the record's loss is their mean.
Status Run::runMicroBatches(int64_t step, StepRecord &record) {
  for (uint32_t index : gradAccum_)
    FP8RT_RETURN_IF_ERROR(backend_.zero(index, program_.buffers[index].bytes()));
  double lossSum = 0;
  // Data parallel (docs/distributed.md): every rank draws the job's whole
  // stream of ranks x accum micro-batches per step and trains on its share,
  // rank r on micro-batches r*accum ... r*accum + accum-1, so that N ranks
  // see what one process with N x accum micro-batches would.
  const comm::Communicator &ranks = comm::processCommunicator();
  Batch skipped;
  auto skip = [&](int64_t count) -> Status {
    for (int64_t i = 0; i < count; ++i)
      FP8RT_RETURN_IF_ERROR(data_->trainBatch(skipped));
    return Status::success();
  };
  FP8RT_RETURN_IF_ERROR(skip(ranks.rank() * accum_));
  for (int64_t micro = 0; micro < accum_; ++micro) {
    const BoundFunction &f = micro + 1 < accum_ ? accumulate_ : train_;
    Batch &batch = batches_[size_t(micro)];
    FP8RT_RETURN_IF_ERROR(data_->trainBatch(batch));
    FP8RT_RETURN_IF_ERROR(feed(f, batch, step));
    FP8RT_RETURN_IF_ERROR(backend_.run(*f.fn).withContext("step " + std::to_string(step)));
    FP8RT_ASSIGN_OR_RETURN(float loss, trainer::readScalar(backend_, uint32_t(f.loss)));
    if (!std::isfinite(loss) && record.badLoss.empty())
      record.badLoss = trainer::formatNumber("%g", loss) +
                       (accum_ > 1 ? " (micro-batch " + std::to_string(micro + 1) + " of " +
                                         std::to_string(accum_) + ")"
                                   : std::string());
    lossSum += loss;
  }
  record.loss = lossSum / double(accum_);
  return skip((ranks.size() - 1 - ranks.rank()) * accum_);
}

Status Run::feed(const BoundFunction &f, const Batch &batch, int64_t step) {
  FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.tokens), batch.tokens.data(),
                                       batch.tokens.size() * sizeof(int32_t)));
  FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.targets), batch.targets.data(),
                                       batch.targets.size() * sizeof(int32_t)));
  if (f.step >= 0)
    FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.step), &step, sizeof step));
  return Status::success();
}

bool Run::evaluationDue(int64_t step) const {
  return options_.evalEvery > 0 && (step % options_.evalEvery == 0 || step == totalSteps_);
}

/// The mean eval_step loss over the held-out batches, into the record and the
/// summary.
Status Run::evaluate(int64_t step, StepRecord &record) {
  const int64_t available = data_->numEvalBatches();
  if (available <= 0)
    return invalidArgumentError(
        "no held-out data for --eval-every: the data file is too short to hold "
        "out a whole batch of " +
        std::to_string(batch_) + " x " + std::to_string(seqLen_) +
        " tokens in its last 10 %; give --val-data");
  const int64_t n = std::min(available, options_.evalBatches);
  data_->beginEval();
  Batch batch;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    FP8RT_RETURN_IF_ERROR(data_->evalBatch(i, batch));
    FP8RT_RETURN_IF_ERROR(feed(eval_, batch, step));
    FP8RT_RETURN_IF_ERROR(backend_.run(*eval_.fn));
    FP8RT_ASSIGN_OR_RETURN(float loss, trainer::readScalar(backend_, uint32_t(eval_.loss)));
    sum += loss;
  }
  const double valLoss = sum / double(n);
  record.valLoss = valLoss;
  summary_.lastValLoss = valLoss;
  if (summary_.bestValLoss < 0 || valLoss < summary_.bestValLoss)
    summary_.bestValLoss = valLoss;
  return Status::success();
}

Status Run::log(const StepRecord &record) {
  if (options_.onRecord) {
    std::string text = trainer::jsonlRecord(record);
    text.pop_back(); // the newline
    options_.onRecord(text);
  }
  if (!log_.is_open())
    return Status::success();
  log_ << trainer::jsonlRecord(record);
  log_.flush();
  if (!log_)
    return ioError("log file " + options_.logPath + ": write failed");
  return Status::success();
}

Status Run::dump(const StepRecord &record) {
  trainer::DumpedStep dumped{std::move(paramsBefore_), &batches_, float(record.loss),
                             record.gradNorm};
  FP8RT_RETURN_IF_ERROR(trainer::writeDump(options_.dumpPath, program_, backend_, std::move(dumped),
                                           train_.grads, metadata(record.step)));
  out_ << "dumped step " << record.step << " to " << options_.dumpPath << "\n";
  return Status::success();
}

Status Run::stoppedError(const StepRecord &record) const {
  std::string m =
      "step " + std::to_string(record.step) + ": " +
      (!record.badLoss.empty() ? "loss is " + record.badLoss : record.metrics.firstNonfinite) +
      "; training stopped, nothing saved";
  if (!lastSaved_.empty())
    m += " (the last checkpoint, " + lastSaved_ + " at step " + std::to_string(lastSavedStep_) +
         ", is kept)";
  else if (!options_.savePath.empty())
    m += " (" + options_.savePath + " not written)";
  return invalidArgumentError(m);
}

/// Counts a completed step and prints its progress line when due.
void Run::report(const StepRecord &record) {
  const int64_t step = record.step;
  losses_.push_back(record.loss);
  summary_.lastStep = step;
  summary_.finalLoss = record.loss;
  if (step == startStep_ + 1 || step % options_.logInterval == 0 || step == totalSteps_ ||
      record.valLoss) {
    const double eta = trainSeconds_ / double(stepsRun_) * double(totalSteps_ - step);
    trainer::printProgress(out_, record, totalSteps_, eta);
    out_.flush(); // a pipe sees each line as it is printed
  }
}

Status Run::checkpoint(int64_t step) {
  if (options_.savePath.empty() || options_.saveEvery <= 0 || step % options_.saveEvery != 0 ||
      step == totalSteps_)
    return Status::success();
  FP8RT_RETURN_IF_ERROR(save(options_.savePath, step));
  lastSaved_ = options_.savePath;
  lastSavedStep_ = step;
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Checkpoints and the end of the run
//===----------------------------------------------------------------------===//

bool Run::stopRequested() {
  if (stopSignal_ == 0 && options_.stopSignal)
    stopSignal_ = int(*options_.stopSignal);
  return stopSignal_ != 0;
}

trainer::Metadata Run::metadata(int64_t step) const {
  // Deterministic (no time stamps), so equal states give equal files.
  return {{"format", "fp8c-checkpoint"},
          {"format_version", "1"},
          {"family", program_.info.family},
          {"step", std::to_string(step)},
          {"data_seed", std::to_string(options_.seed)},
          // The model description, so that --export-hf needs no program.
          {"config", program_.configJson}};
}

/// The temporaries of earlier runs killed while saving to `path`: removed,
/// and reported in one line.
Status Run::cleanStaleTemporaries(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<StaleTemporary> removed, fp8rt::removeStaleTemporaries(path));
  if (removed.empty())
    return Status::success();
  out_ << "removed " << removed.size() << " temporary file" << (removed.size() == 1 ? "" : "s")
       << " left by killed runs:";
  for (const StaleTemporary &t : removed)
    out_ << " " << t.path << " (process " << t.pid << ", " << t.bytes << " bytes)";
  out_ << "\n";
  return Status::success();
}

Status Run::save(const std::string &path, int64_t step) {
  // Data parallel: every rank has finished the step; all take part in
  // gathering sharded state (zero1, fsdp), then rank 0 writes.
  comm::Communicator &ranks = comm::processCommunicator();
  FP8RT_RETURN_IF_ERROR(ranks.barrier());
  trainer::TrainerState state;
  state.step = step;
  state.dataRng = data_->rng().state();
  FP8RT_ASSIGN_OR_RETURN(std::vector<trainer::TensorRecord> records,
                         trainer::checkpointRecords(program_, backend_, state));
  if (ranks.rank() != 0)
    return Status::success();
  FP8RT_RETURN_IF_ERROR(cleanStaleTemporaries(path));
  FP8RT_RETURN_IF_ERROR(trainer::writeTensorFile(path, records, metadata(step)));
  out_ << "saved checkpoint " << path << " (step " << step << ")\n";
  return Status::success();
}

/// The final checkpoint and the summary.
StatusOr<TrainSummary> Run::finish(Clock::time_point wallStart) {
  if (stopRequested())
    reportStop();
  // Not again when the last step's periodic checkpoint is this one; not a
  // stopped run's step 0.
  const bool saved = !lastSaved_.empty() && lastSavedStep_ == summary_.lastStep;
  if (!options_.savePath.empty() && !saved && !(stopSignal_ && stepsRun_ == 0))
    FP8RT_RETURN_IF_ERROR(save(options_.savePath, summary_.lastStep));

  const size_t k = std::min<size_t>(losses_.size(), 10);
  double tail = 0;
  for (size_t i = losses_.size() - k; i < losses_.size(); ++i)
    tail += losses_[i];
  summary_.meanLast10 = k ? tail / double(k) : 0;
  summary_.tokensPerSecond =
      double(stepsRun_ * accum_ * batch_ * seqLen_) / std::max(trainSeconds_, 1e-9);
  summary_.wallSeconds = secondsSince(wallStart);
  summary_.ranks = comm::processCommunicator().size();

  if (stepsRun_ == 0) // printPlan said why, or reportStop
    return summary_;
  trainer::printSummary(out_, summary_, k);
  return summary_;
}

/// The line of a run that a signal stops: which signal, after which step,
/// and whether a checkpoint follows.
void Run::reportStop() {
  summary_.stoppedBySignal = stopSignal_;
  const std::string name = stopSignal_ == SIGINT    ? "SIGINT"
                           : stopSignal_ == SIGTERM ? "SIGTERM"
                                                    : "signal " + std::to_string(stopSignal_);
  out_ << "stopped by " << name << " after step " << summary_.lastStep << " of " << totalSteps_;
  if (options_.savePath.empty())
    out_ << "; nothing saved (no --save)\n";
  else if (stepsRun_ == 0)
    out_ << ", before training; " << options_.savePath << " not written\n";
  else
    out_ << "; writing the checkpoint (continue with --resume=" << options_.savePath << ")\n";
}

} // namespace

StatusOr<TrainSummary> train(const Program &program, Backend &backend, const TrainOptions &options,
                             std::ostream &out) {
  Run run(program, backend, options, out);
  return run.run();
}

} // namespace fp8rt
