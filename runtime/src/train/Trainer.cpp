//===- Trainer.cpp - The training loop ------------------------------------===//
//
// One optimizer step (docs/autodiff.md, "Gradient accumulation"): with
// grad_accum_steps = N > 1 the grad_accum buffers are zeroed, accumulate_step
// runs on N - 1 micro-batches and train_step on the last; the step's loss is
// the mean of the N losses. `step` (i64, 1-based) is written before every
// call of a function that takes it.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Trainer.h"

#include "fp8rt/Numerics.h"
#include "fp8rt/Synthetic.h"
#include "fp8rt/TokenData.h"
#include "fp8rt/cpu/OptimizerKernels.h"
#include "train/Checkpoint.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>

namespace fp8rt {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string format(const char *fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// A JSON value for a number: finite values with `digits` significant
/// digits, non-finite ones as the strings "nan", "inf", "-inf" (JSON has no
/// literal for them).
std::string jsonNumber(double v, int digits = 9) {
  if (std::isnan(v))
    return "\"nan\"";
  if (std::isinf(v))
    return v > 0 ? "\"inf\"" : "\"-inf\"";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string durationText(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7)
    return "?";
  int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600),
                  (long long)(s / 60 % 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60),
                  (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llds", (long long)s);
  return buf;
}

std::string typeText(const Buffer &b) { return b.type.str(); }

//===----------------------------------------------------------------------===//
// Functions and their host-visible buffers
//===----------------------------------------------------------------------===//

/// A function with the buffers the trainer writes before and reads after it.
struct BoundFunction {
  const Function *fn = nullptr;
  int64_t tokens = -1, targets = -1, step = -1; // inputs
  int64_t loss = -1, gradNorm = -1;             // outputs
  std::vector<uint32_t> metrics, grads;         // written by the function
};

Status bindFunction(const Program &program, const Function &fn, int64_t batch,
                    int64_t seqLen, BoundFunction &out) {
  out.fn = &fn;
  for (uint32_t index : fn.inputs) {
    const Buffer &b = program.buffers[index];
    const std::string where = fn.name + ": input '" + b.name + "' is " + typeText(b);
    if (b.name == "tokens" || b.name == "targets") {
      TensorType want{DType::I32, {batch, seqLen}};
      if (b.type != want)
        return invalidArgumentError(where + ", expected " + want.str() +
                                    " (batch_size x seq_len of the program info)");
      (b.name == "tokens" ? out.tokens : out.targets) = index;
    } else if (b.name == "step") {
      if (b.type != TensorType{DType::I64, {}})
        return invalidArgumentError(where + ", expected i64[]");
      out.step = index;
    } else {
      return unimplementedError(where + ": fp8-run feeds only 'tokens', "
                                "'targets' and 'step'");
    }
  }
  if (out.tokens < 0 || out.targets < 0)
    return invalidArgumentError(fn.name + ": expected inputs 'tokens' and "
                                "'targets', i32[" + std::to_string(batch) + "," +
                                std::to_string(seqLen) + "]");
  for (uint32_t index : fn.outputs) {
    const Buffer &b = program.buffers[index];
    if (b.name != "loss" && b.name != "grad_norm")
      continue;
    if (b.type != TensorType{DType::F32, {}})
      return invalidArgumentError(fn.name + ": output '" + b.name + "' is " +
                                  typeText(b) + ", expected f32[]");
    (b.name == "loss" ? out.loss : out.gradNorm) = index;
  }
  if (out.loss < 0)
    return invalidArgumentError(fn.name + ": no output named 'loss'");

  // The metric and grad buffers this function writes (other functions may
  // have their own, which this call leaves stale).
  std::set<uint32_t> written;
  for (const Instruction &inst : fn.instructions) {
    switch (inst.kind) {
    case Instruction::Kind::Kernel:
      written.insert(inst.kernel.outputs.begin(), inst.kernel.outputs.end());
      break;
    case Instruction::Kind::Gemm:
      written.insert(inst.gemm.d);
      if (inst.gemm.amaxD != Gemm::kNone)
        written.insert(inst.gemm.amaxD);
      break;
    case Instruction::Kind::Copy:
      written.insert(inst.copy.target);
      break;
    }
  }
  for (uint32_t index : written) {
    const BufferRole role = program.buffers[index].role;
    if (role == BufferRole::Metric)
      out.metrics.push_back(index);
    else if (role == BufferRole::Grad)
      out.grads.push_back(index);
  }
  return Status::success();
}

/// Buffer values as doubles (floating-point dtypes only).
Status readAsDoubles(const Program &program, Backend &backend, uint32_t index,
                     std::vector<double> &out) {
  const Buffer &b = program.buffers[index];
  std::vector<uint8_t> bytes(b.bytes());
  FP8RT_RETURN_IF_ERROR(backend.read(index, bytes.data(), bytes.size()));
  const int64_t n = b.type.numElements();
  out.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t *p = bytes.data() + size_t(i) * dtypeSize(b.type.dtype);
    switch (b.type.dtype) {
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      out[size_t(i)] = f;
      break;
    }
    case DType::BF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      out[size_t(i)] = bf16ToFloat(h);
      break;
    }
    case DType::F8E4M3:
      out[size_t(i)] = e4m3ToFloat(*p);
      break;
    case DType::F8E5M2:
      out[size_t(i)] = e5m2ToFloat(*p);
      break;
    default:
      return unimplementedError("buffer '" + b.name + "' is " + typeText(b) +
                                ": expected a floating-point metric");
    }
  }
  return Status::success();
}

StatusOr<float> readScalar(Backend &backend, uint32_t index) {
  float v = 0;
  FP8RT_RETURN_IF_ERROR(backend.read(index, &v, sizeof v));
  return v;
}

/// The learning rate of a step, when train_step computes it with a
/// train.lr_schedule op (its attributes are the schedule).
std::optional<cpu::LRSchedule> findLRSchedule(const Function &fn) {
  for (const Instruction &inst : fn.instructions) {
    if (inst.kind != Instruction::Kind::Kernel)
      continue;
    for (const KernelOp &op : inst.kernel.ops) {
      if (op.op != "train.lr_schedule")
        continue;
      cpu::LRSchedule s;
      const Attr *kind = op.attr("kind");
      const Attr *lr = op.attr("lr");
      if (!kind || !lr)
        return std::nullopt;
      if (kind->s == "cosine")
        s.kind = cpu::LRScheduleKind::Cosine;
      else if (kind->s != "constant")
        return std::nullopt;
      s.lr = lr->f;
      if (const Attr *a = op.attr("warmup_steps"))
        s.warmupSteps = a->i;
      if (const Attr *a = op.attr("total_steps"))
        s.totalSteps = a->i;
      if (const Attr *a = op.attr("min_lr"))
        s.minLr = a->f;
      if (!cpu::validateLRSchedule(s).ok())
        return std::nullopt;
      return s;
    }
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Data
//===----------------------------------------------------------------------===//

/// Training batches (nanoGPT's get_batch over the training part of a token
/// file, or the synthetic corpus) and held-out evaluation batches.
class DataSource {
public:
  static StatusOr<DataSource> open(const TrainOptions &options, int64_t vocab,
                                   int64_t batch, int64_t seqLen);

  /// The next training batch (advances rng()).
  Status trainBatch(Batch &out);
  /// How many held-out batches exist (a large number for synthetic data).
  int64_t numEvalBatches() const;
  /// Held-out batch `i`; the same batches at every evaluation.
  Status evalBatch(int64_t i, Batch &out);
  /// Starts an evaluation pass (synthetic: restarts the held-out stream).
  void beginEval() { evalRng_.reseed(~seed_); }

  Rng &rng() { return rng_; }
  const std::string &description() const { return description_; }
  double lossFloor() const {
    return markov_ ? markov_->lossFloor(seqLen_) : -1.0;
  }

private:
  DataSource() = default;

  int64_t batch_ = 0, seqLen_ = 0;
  uint64_t seed_ = 0;
  Rng rng_, evalRng_;
  std::optional<TokenFile> file_, valFile_;
  int64_t trainTokens_ = 0;   // windows are drawn from file_[0, trainTokens_)
  int64_t heldOutBegin_ = -1; // the held-out tail of file_, or -1
  std::optional<MarkovSource> markov_;
  std::string description_;
};

StatusOr<DataSource> DataSource::open(const TrainOptions &options, int64_t vocab,
                                      int64_t batch, int64_t seqLen) {
  DataSource d;
  d.batch_ = batch;
  d.seqLen_ = seqLen;
  d.seed_ = options.seed;
  d.rng_.reseed(options.seed);
  if (options.synthetic) {
    SyntheticConfig config;
    config.vocabSize = vocab;
    FP8RT_ASSIGN_OR_RETURN(MarkovSource m, MarkovSource::synthetic(config));
    d.description_ = "synthetic: " + m.describe() + "; loss floor for seq_len " +
                     std::to_string(seqLen) + ": " +
                     format("%.6f", m.lossFloor(seqLen)) + " nats/token";
    d.markov_ = std::move(m);
    return d;
  }
  const TokenWidth width = defaultTokenWidth(vocab);
  FP8RT_ASSIGN_OR_RETURN(TokenFile file,
                         TokenFile::open(options.dataPath, width, vocab, seqLen));
  const int64_t n = file.numTokens();
  d.trainTokens_ = n;
  d.description_ = "data: " + options.dataPath + " (" + std::to_string(n) + " " +
                   tokenWidthName(width) + " tokens)";
  if (!options.valDataPath.empty()) {
    FP8RT_ASSIGN_OR_RETURN(TokenFile val, TokenFile::open(options.valDataPath, width,
                                                         vocab, seqLen));
    d.description_ += ", held-out: " + options.valDataPath + " (" +
                      std::to_string(val.numTokens()) + " tokens)";
    d.valFile_ = std::move(val);
  } else {
    // Hold out the last 10 % when both parts keep at least one sequence.
    const int64_t held = n / 10;
    if (held >= seqLen + 1 && n - held >= seqLen + 1) {
      d.trainTokens_ = n - held;
      d.heldOutBegin_ = n - held;
      d.description_ += ", training on the first " + std::to_string(n - held) +
                        ", held out the last " + std::to_string(held);
    } else {
      d.description_ += ", too short to hold out 10 % for evaluation";
    }
  }
  d.file_ = std::move(file);
  return d;
}

Status DataSource::trainBatch(Batch &out) {
  if (markov_)
    return markov_->getBatch(rng_, batch_, seqLen_, out);
  // nanoGPT's get_batch restricted to [0, trainTokens_): the same draws as
  // TokenFile::getBatch, which covers the whole file.
  out.resize(batch_, seqLen_);
  for (int64_t r = 0; r < batch_; ++r) {
    const int64_t start = int64_t(rng_.uniform(uint64_t(trainTokens_ - seqLen_)));
    for (int64_t t = 0; t < seqLen_; ++t) {
      out.tokens[size_t(r * seqLen_ + t)] = int32_t(file_->token(start + t));
      out.targets[size_t(r * seqLen_ + t)] = int32_t(file_->token(start + t + 1));
    }
  }
  return Status::success();
}

int64_t DataSource::numEvalBatches() const {
  if (markov_)
    return INT64_MAX;
  if (valFile_)
    return valFile_->numSequentialBatches(batch_, seqLen_);
  if (heldOutBegin_ < 0)
    return 0;
  const int64_t windows = (file_->numTokens() - heldOutBegin_ - 1) / seqLen_;
  return windows / batch_;
}

Status DataSource::evalBatch(int64_t i, Batch &out) {
  if (markov_)
    return markov_->getBatch(evalRng_, batch_, seqLen_, out);
  if (valFile_)
    return valFile_->getSequentialBatch(i, batch_, seqLen_, out);
  out.resize(batch_, seqLen_);
  for (int64_t r = 0; r < batch_; ++r) {
    const int64_t start = heldOutBegin_ + (i * batch_ + r) * seqLen_;
    for (int64_t t = 0; t < seqLen_; ++t) {
      out.tokens[size_t(r * seqLen_ + t)] = int32_t(file_->token(start + t));
      out.targets[size_t(r * seqLen_ + t)] = int32_t(file_->token(start + t + 1));
    }
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// The loop
//===----------------------------------------------------------------------===//

class Run {
public:
  Run(const Program &program, Backend &backend, const TrainOptions &options,
      std::ostream &out)
      : program_(program), backend_(backend), options_(options), out_(out) {}

  StatusOr<TrainSummary> run();

private:
  Status setUp();
  Status initialise();
  Status feed(const BoundFunction &f, const Batch &batch, int64_t step);
  Status evaluate(int64_t step, double &valLoss);
  Status save(const std::string &path, int64_t step);
  Status dump(int64_t step, const std::vector<Batch> &batches,
              std::vector<trainer::TensorRecord> paramsBefore, float loss,
              float gradNorm);
  trainer::Metadata metadata(int64_t step) const;

  const Program &program_;
  Backend &backend_;
  const TrainOptions &options_;
  std::ostream &out_;

  int64_t batch_ = 0, seqLen_ = 0, accum_ = 1, totalSteps_ = 0;
  BoundFunction train_, eval_, accumulate_;
  bool haveEval_ = false;
  std::vector<uint32_t> gradAccum_;
  std::optional<cpu::LRSchedule> schedule_;
  std::optional<DataSource> data_;
  int64_t startStep_ = 0; // steps completed before this session
  std::ofstream log_;
};

Status Run::setUp() {
  const ProgramInfo &info = program_.info;
  accum_ = info.gradAccumSteps;
  if (accum_ < 1)
    return invalidArgumentError("program info: grad_accum_steps is " +
                                std::to_string(accum_) + ", expected >= 1");
  totalSteps_ = options_.steps > 0 ? options_.steps : info.totalSteps;
  if (totalSteps_ <= 0)
    return invalidArgumentError("no step count: the program's total_steps is " +
                                std::to_string(info.totalSteps) +
                                "; give --steps=N");
  if (options_.synthetic == !options_.dataPath.empty())
    return invalidArgumentError(
        "give exactly one data source: a token file or the synthetic corpus");
  if (info.vocabSize <= 0)
    return invalidArgumentError("program info: vocab_size is " +
                                std::to_string(info.vocabSize) +
                                ": fp8-run trains models that take tokens");
  if (options_.logInterval < 1 || options_.evalBatches < 1 ||
      options_.evalEvery < 0 || options_.saveEvery < 0 || options_.dumpStep < 0)
    return invalidArgumentError("log interval and evaluation batches must be "
                                "positive; eval, save and dump steps not negative");
  if (options_.dumpStep > 0 && options_.dumpPath.empty())
    return invalidArgumentError("a dump step needs a dump file");
  if (!options_.resumePath.empty() && !options_.initFromPath.empty())
    return invalidArgumentError("--resume and --init-from exclude each other: "
                                "resuming already loads the parameters");

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
                                " and seq_len " + std::to_string(seqLen_) +
                                " must be positive");
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
    for (uint32_t i = 0; i < program_.buffers.size(); ++i)
      if (program_.buffers[i].role == BufferRole::GradAccum)
        gradAccum_.push_back(i);
  }
  schedule_ = findLRSchedule(*trainFn);
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

Status Run::feed(const BoundFunction &f, const Batch &batch, int64_t step) {
  FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.tokens), batch.tokens.data(),
                                       batch.tokens.size() * sizeof(int32_t)));
  FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.targets), batch.targets.data(),
                                       batch.targets.size() * sizeof(int32_t)));
  if (f.step >= 0)
    FP8RT_RETURN_IF_ERROR(backend_.write(uint32_t(f.step), &step, sizeof step));
  return Status::success();
}

Status Run::evaluate(int64_t step, double &valLoss) {
  const int64_t available = data_->numEvalBatches();
  if (available <= 0)
    return invalidArgumentError(
        "no held-out data for --eval-every: the data file is too short to hold "
        "out a whole batch of " + std::to_string(batch_) + " x " +
        std::to_string(seqLen_) + " tokens in its last 10 %; give --val-data");
  const int64_t n = std::min(available, options_.evalBatches);
  data_->beginEval();
  Batch batch;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    FP8RT_RETURN_IF_ERROR(data_->evalBatch(i, batch));
    FP8RT_RETURN_IF_ERROR(feed(eval_, batch, step));
    FP8RT_RETURN_IF_ERROR(backend_.run(*eval_.fn));
    FP8RT_ASSIGN_OR_RETURN(float loss, readScalar(backend_, uint32_t(eval_.loss)));
    sum += loss;
  }
  valLoss = sum / double(n);
  return Status::success();
}

trainer::Metadata Run::metadata(int64_t step) const {
  // Deterministic (no time stamps), so equal states give equal files.
  return {{"format", "fp8c-checkpoint"},
          {"format_version", "1"},
          {"family", program_.info.family},
          {"step", std::to_string(step)},
          {"data_seed", std::to_string(options_.seed)}};
}

Status Run::save(const std::string &path, int64_t step) {
  trainer::TrainerState state;
  state.step = step;
  state.dataRng = data_->rng().state();
  FP8RT_RETURN_IF_ERROR(
      trainer::saveCheckpoint(path, program_, backend_, state, metadata(step)));
  out_ << "saved checkpoint " << path << " (step " << step << ")\n";
  return Status::success();
}

Status Run::dump(int64_t step, const std::vector<Batch> &batches,
                 std::vector<trainer::TensorRecord> paramsBefore, float loss,
                 float gradNorm) {
  std::vector<trainer::TensorRecord> records = std::move(paramsBefore);
  std::vector<uint64_t> shape = {uint64_t(batch_), uint64_t(seqLen_)};
  if (batches.size() > 1)
    shape.insert(shape.begin(), uint64_t(batches.size()));
  trainer::TensorRecord tokens{"batch.tokens", "I32", shape, {}};
  trainer::TensorRecord targets{"batch.targets", "I32", shape, {}};
  for (const Batch &b : batches) {
    const uint8_t *t = reinterpret_cast<const uint8_t *>(b.tokens.data());
    const uint8_t *y = reinterpret_cast<const uint8_t *>(b.targets.data());
    tokens.bytes.insert(tokens.bytes.end(), t, t + b.tokens.size() * 4);
    targets.bytes.insert(targets.bytes.end(), y, y + b.targets.size() * 4);
  }
  records.push_back(std::move(tokens));
  records.push_back(std::move(targets));
  for (uint32_t index : train_.grads) {
    FP8RT_ASSIGN_OR_RETURN(trainer::TensorRecord r,
                           trainer::readBufferRecord(program_, backend_, index));
    records.push_back(std::move(r));
  }
  trainer::TensorRecord lossRecord{"loss", "F32", {}, std::vector<uint8_t>(4)};
  std::memcpy(lossRecord.bytes.data(), &loss, 4);
  records.push_back(std::move(lossRecord));
  if (train_.gradNorm >= 0) {
    trainer::TensorRecord g{"grad_norm", "F32", {}, std::vector<uint8_t>(4)};
    std::memcpy(g.bytes.data(), &gradNorm, 4);
    records.push_back(std::move(g));
  }
  FP8RT_RETURN_IF_ERROR(
      trainer::writeTensorFile(options_.dumpPath, records, metadata(step)));
  out_ << "dumped step " << step << " to " << options_.dumpPath << "\n";
  return Status::success();
}

StatusOr<TrainSummary> Run::run() {
  const Clock::time_point wallStart = Clock::now();
  FP8RT_RETURN_IF_ERROR(setUp());
  FP8RT_ASSIGN_OR_RETURN(DataSource data, DataSource::open(options_,
                                                           program_.info.vocabSize,
                                                           batch_, seqLen_));
  data_ = std::move(data);
  FP8RT_RETURN_IF_ERROR(backend_.load(program_));

  // State: fresh, fine-tuned from parameters, or resumed.
  FP8RT_RETURN_IF_ERROR(initialise());
  if (!options_.resumePath.empty()) {
    trainer::TrainerState state;
    FP8RT_RETURN_IF_ERROR(trainer::loadCheckpoint(options_.resumePath, program_,
                                                backend_, false, &state));
    startStep_ = state.step;
    data_->rng().setState(state.dataRng);
    out_ << "resumed from " << options_.resumePath << " at step " << startStep_
         << "\n";
  } else if (!options_.initFromPath.empty()) {
    FP8RT_RETURN_IF_ERROR(trainer::loadCheckpoint(options_.initFromPath, program_,
                                                backend_, true, nullptr));
    out_ << "parameters from " << options_.initFromPath << "\n";
  }
  if (options_.dumpStep > 0 &&
      (options_.dumpStep <= startStep_ || options_.dumpStep > totalSteps_))
    return invalidArgumentError(
        "dump step " + std::to_string(options_.dumpStep) +
        " is not run: this run covers steps " + std::to_string(startStep_ + 1) +
        " to " + std::to_string(totalSteps_));

  out_ << data_->description() << "\n";
  const int64_t tokensPerStep = accum_ * batch_ * seqLen_;
  out_ << "training steps " << startStep_ + 1 << " to " << totalSteps_ << ": "
       << accum_ << " x " << batch_ << " x " << seqLen_ << " = " << tokensPerStep
       << " tokens per step\n";

  if (!options_.logPath.empty()) {
    // A resumed run continues its log; a fresh one starts it.
    log_.open(options_.logPath, options_.resumePath.empty()
                                    ? std::ios::out | std::ios::trunc
                                    : std::ios::out | std::ios::app);
    if (!log_)
      return ioError("log file " + options_.logPath + ": cannot open: " +
                     std::strerror(errno));
  }

  TrainSummary summary;
  summary.firstStep = startStep_ + 1;
  summary.lastStep = startStep_;
  summary.lossFloor = data_->lossFloor();
  std::vector<double> losses;
  double trainSeconds = 0;
  int64_t stepsRun = 0;
  std::string lastSaved;
  int64_t lastSavedStep = 0;
  std::vector<uint8_t> zeros;
  std::vector<Batch> batches(static_cast<size_t>(accum_));

  for (int64_t step = startStep_ + 1; step <= totalSteps_; ++step) {
    const bool dumping = step == options_.dumpStep;
    std::vector<trainer::TensorRecord> paramsBefore;
    if (dumping)
      for (uint32_t i = 0; i < program_.buffers.size(); ++i)
        if (program_.buffers[i].role == BufferRole::Param) {
          FP8RT_ASSIGN_OR_RETURN(trainer::TensorRecord r,
                                 trainer::readBufferRecord(program_, backend_, i));
          paramsBefore.push_back(std::move(r));
        }

    const Clock::time_point t0 = Clock::now();
    for (uint32_t index : gradAccum_) {
      zeros.assign(program_.buffers[index].bytes(), 0);
      FP8RT_RETURN_IF_ERROR(backend_.write(index, zeros.data(), zeros.size()));
    }
    double lossSum = 0;
    std::string badLoss;
    for (int64_t micro = 0; micro < accum_; ++micro) {
      const BoundFunction &f = micro + 1 < accum_ ? accumulate_ : train_;
      Batch &batch = batches[size_t(micro)];
      FP8RT_RETURN_IF_ERROR(data_->trainBatch(batch));
      FP8RT_RETURN_IF_ERROR(feed(f, batch, step));
      FP8RT_RETURN_IF_ERROR(backend_.run(*f.fn).withContext("step " + std::to_string(step)));
      FP8RT_ASSIGN_OR_RETURN(float loss, readScalar(backend_, uint32_t(f.loss)));
      if (!std::isfinite(loss) && badLoss.empty())
        badLoss = format("%g", loss) +
                  (accum_ > 1 ? " (micro-batch " + std::to_string(micro + 1) +
                                    " of " + std::to_string(accum_) + ")"
                              : std::string());
      lossSum += loss;
    }
    const double loss = lossSum / double(accum_);
    float gradNorm = NAN;
    if (train_.gradNorm >= 0) {
      FP8RT_ASSIGN_OR_RETURN(gradNorm, readScalar(backend_, uint32_t(train_.gradNorm)));
    }
    const double stepSeconds = secondsSince(t0);
    trainSeconds += stepSeconds;
    ++stepsRun;

    // Metrics of the step (train_step's: the last micro-batch).
    std::string metricsJson;
    int64_t nonfiniteMetrics = 0;
    std::string badMetric;
    std::vector<double> values;
    for (uint32_t index : train_.metrics) {
      const Buffer &b = program_.buffers[index];
      FP8RT_RETURN_IF_ERROR(readAsDoubles(program_, backend_, index, values));
      double lo = INFINITY, hi = -INFINITY;
      bool nonfinite = false;
      for (double v : values) {
        if (!std::isfinite(v)) {
          nonfinite = true;
          ++nonfiniteMetrics;
          // An amax is the first place an overflow shows; a scale cannot
          // become non-finite by itself (compute_scale keeps the previous one),
          // so any non-finite metric means the state is bad.
          if (badMetric.empty())
            badMetric = b.name + " is " + format("%g", v);
        }
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      metricsJson += metricsJson.empty() ? "" : ",";
      metricsJson += jsonString(b.name) + ":";
      if (values.size() == 1)
        metricsJson += jsonNumber(values[0]);
      else if (nonfinite)
        metricsJson += "{\"min\":\"nan\",\"max\":\"nan\"}";
      else
        metricsJson += "{\"min\":" + jsonNumber(lo) + ",\"max\":" + jsonNumber(hi) + "}";
    }
    int64_t nonfiniteGrads = -1;
    if (dumping) {
      nonfiniteGrads = 0;
      for (uint32_t index : train_.grads) {
        FP8RT_RETURN_IF_ERROR(readAsDoubles(program_, backend_, index, values));
        for (double v : values)
          nonfiniteGrads += !std::isfinite(v);
      }
    }

    const double tokensPerSecond =
        double(stepsRun * tokensPerStep) / std::max(trainSeconds, 1e-9);
    std::optional<double> lr;
    if (schedule_)
      lr = cpu::lrSchedule(*schedule_, step);

    std::optional<double> valLoss;
    const bool stopping = !badLoss.empty() || !badMetric.empty();
    if (!stopping && options_.evalEvery > 0 &&
        (step % options_.evalEvery == 0 || step == totalSteps_)) {
      double v = 0;
      FP8RT_RETURN_IF_ERROR(evaluate(step, v));
      valLoss = v;
      summary.lastValLoss = v;
      if (summary.bestValLoss < 0 || v < summary.bestValLoss)
        summary.bestValLoss = v;
    }

    if (log_.is_open()) {
      std::string line = "{\"step\":" + std::to_string(step) +
                         ",\"loss\":" + jsonNumber(loss) +
                         ",\"grad_norm\":" +
                         (train_.gradNorm >= 0 ? jsonNumber(gradNorm) : "null");
      if (lr)
        line += ",\"lr\":" + jsonNumber(*lr);
      if (valLoss)
        line += ",\"val_loss\":" + jsonNumber(*valLoss);
      line += ",\"tokens\":" + std::to_string(tokensPerStep) +
              ",\"tokens_per_s\":" + jsonNumber(tokensPerSecond, 6) +
              ",\"step_time_ms\":" + jsonNumber(stepSeconds * 1e3, 6) +
              ",\"metrics\":{" + metricsJson + "}" +
              ",\"nonfinite\":{\"loss\":" + std::to_string(std::isfinite(loss) ? 0 : 1) +
              ",\"grad_norm\":" +
              std::to_string(train_.gradNorm >= 0 && !std::isfinite(gradNorm) ? 1 : 0) +
              ",\"metrics\":" + std::to_string(nonfiniteMetrics);
      if (nonfiniteGrads >= 0)
        line += ",\"grads\":" + std::to_string(nonfiniteGrads);
      line += "}}\n";
      log_ << line;
      log_.flush();
      if (!log_)
        return ioError("log file " + options_.logPath + ": write failed");
    }

    if (dumping)
      FP8RT_RETURN_IF_ERROR(dump(step, batches, std::move(paramsBefore),
                                 float(loss), gradNorm));

    if (stopping) {
      std::string m = "step " + std::to_string(step) + ": " +
                      (!badLoss.empty() ? "loss is " + badLoss : badMetric) +
                      "; training stopped, nothing saved";
      if (!lastSaved.empty())
        m += " (the last checkpoint, " + lastSaved + " at step " +
             std::to_string(lastSavedStep) + ", is kept)";
      else if (!options_.savePath.empty())
        m += " (" + options_.savePath + " not written)";
      return invalidArgumentError(m);
    }

    losses.push_back(loss);
    summary.lastStep = step;
    summary.finalLoss = loss;

    if (step == startStep_ + 1 || step % options_.logInterval == 0 ||
        step == totalSteps_ || valLoss) {
      const double eta = trainSeconds / double(stepsRun) * double(totalSteps_ - step);
      char line[256];
      std::snprintf(line, sizeof line, "step %*lld/%lld  loss %.4f",
                    int(std::to_string(totalSteps_).size()), (long long)step,
                    (long long)totalSteps_, loss);
      out_ << line;
      if (lr)
        out_ << "  lr " << format("%.3e", *lr);
      if (train_.gradNorm >= 0)
        out_ << "  grad_norm " << format("%.4f", gradNorm);
      out_ << "  " << format("%.0f", tokensPerSecond) << " tok/s  ETA "
           << durationText(eta);
      if (valLoss)
        out_ << "  val_loss " << format("%.4f", *valLoss);
      out_ << "\n";
      out_.flush();
    }

    if (!options_.savePath.empty() && options_.saveEvery > 0 &&
        step % options_.saveEvery == 0 && step != totalSteps_) {
      FP8RT_RETURN_IF_ERROR(save(options_.savePath, step));
      lastSaved = options_.savePath;
      lastSavedStep = step;
    }
  }

  if (!options_.savePath.empty())
    FP8RT_RETURN_IF_ERROR(save(options_.savePath, summary.lastStep));

  const size_t k = std::min<size_t>(losses.size(), 10);
  double tail = 0;
  for (size_t i = losses.size() - k; i < losses.size(); ++i)
    tail += losses[i];
  summary.meanLast10 = k ? tail / double(k) : 0;
  summary.tokensPerSecond = double(stepsRun * tokensPerStep) / std::max(trainSeconds, 1e-9);
  summary.wallSeconds = secondsSince(wallStart);

  if (stepsRun == 0) {
    out_ << "nothing to train: the checkpoint is at step " << startStep_
         << ", the last step is " << totalSteps_ << "\n";
    return summary;
  }
  out_ << "done: steps " << summary.firstStep << "-" << summary.lastStep << " in "
       << format("%.1f", summary.wallSeconds) << " s, "
       << format("%.0f", summary.tokensPerSecond) << " tok/s; final loss "
       << format("%.4f", summary.finalLoss) << ", mean of last " << k << " "
       << format("%.4f", summary.meanLast10);
  if (summary.bestValLoss >= 0)
    out_ << ", best val loss " << format("%.4f", summary.bestValLoss);
  out_ << "\n";
  if (summary.lossFloor >= 0)
    out_ << "loss floor (entropy of the synthetic corpus) "
         << format("%.4f", summary.lossFloor) << ": mean of last " << k
         << " is " << format("%.4f", std::fabs(summary.meanLast10 - summary.lossFloor))
         << " nats " << (summary.meanLast10 >= summary.lossFloor ? "above" : "below")
         << " it\n";
  return summary;
}

} // namespace

StatusOr<TrainSummary> train(const Program &program, Backend &backend,
                             const TrainOptions &options, std::ostream &out) {
  Run run(program, backend, options, out);
  return run.run();
}

} // namespace fp8rt
