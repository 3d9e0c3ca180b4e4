//===- Generate.cpp - Sampling text from a trained program ----------------===//

#include "fp8rt/generate/Generate.h"

#include "fp8rt/Numerics.h"
#include "fp8rt/Trainer.h"
#include "train/Checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace fp8rt {

namespace {

constexpr const char *kLogitsStep = "logits_step";

std::string hexByte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

std::string numberText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// logits_step with its two inputs and one output, checked.
struct LogitsStep {
  const Function *fn = nullptr;
  uint32_t tokens = 0, rows = 0, logits = 0;
  int64_t batch = 0, seqLen = 0, vocab = 0;
};

StatusOr<LogitsStep> bindLogitsStep(const Program &program) {
  LogitsStep step;
  step.fn = program.function(kLogitsStep);
  if (!step.fn)
    return invalidArgumentError(
        "the program has no logits_step function (its loss is not a softmax "
        "cross-entropy): nothing to sample from");
  step.batch = program.info.batchSize;
  step.seqLen = program.info.seqLen;
  step.vocab = program.info.vocabSize;
  const std::vector<uint32_t> &inputs = step.fn->inputs;
  auto inputIs = [&](size_t i, const char *name, const TensorType &type) {
    return inputs.size() > i && program.buffers[inputs[i]].name == name &&
           program.buffers[inputs[i]].type == type;
  };
  const TensorType tokensType{DType::I32, {step.batch, step.seqLen}};
  const TensorType rowsType{DType::I32, {step.batch}};
  if (inputs.size() == 1 && inputIs(0, "tokens", tokensType))
    return invalidArgumentError(
        "logits_step: its one input is 'tokens': the program was compiled before logits_step "
        "took 'rows' (the one position per sequence it returns logits for; format version 6) "
        "and returns every position's logits; compile the model again with this fp8c");
  if (inputs.size() != 2 || !inputIs(0, "tokens", tokensType) || !inputIs(1, "rows", rowsType))
    return invalidArgumentError("logits_step: expected two inputs, 'tokens' " + tokensType.str() +
                                " and 'rows' " + rowsType.str() +
                                " (batch_size and seq_len of the program info)");
  step.tokens = inputs[0];
  step.rows = inputs[1];
  if (step.fn->outputs.size() != 1 || program.buffers[step.fn->outputs[0]].name != "logits")
    return invalidArgumentError("logits_step: expected one output 'logits'");
  step.logits = step.fn->outputs[0];
  const TensorType &type = program.buffers[step.logits].type;
  if ((type.dtype != DType::F32 && type.dtype != DType::BF16) ||
      type.shape != std::vector<int64_t>{step.batch, step.vocab})
    return invalidArgumentError("logits_step: output 'logits' is " + type.str() +
                                ", expected f32 or bf16 [batch_size, vocab_size] = [" +
                                std::to_string(step.batch) + ", " + std::to_string(step.vocab) +
                                "]: one row per sequence");
  return step;
}

/// Loads the parameters, and the delayed-scaling state (fp8.*) when the
/// program has some: without it the FP8 casts would use their initial scales.
Status loadWeights(const Program &program, Backend &backend, const std::string &path,
                   std::ostream &log) {
  bool hasFP8State = false;
  for (const Buffer &b : program.buffers) {
    hasFP8State = hasFP8State || b.role == BufferRole::FP8State;
    if (!isPersistent(b.role) || b.role == BufferRole::Constant || b.role == BufferRole::Param)
      continue;
    std::vector<uint8_t> bytes = initialBufferBytes(program, b);
    FP8RT_RETURN_IF_ERROR(
        backend.write(uint32_t(&b - program.buffers.data()), bytes.data(), bytes.size()));
  }
  if (hasFP8State) {
    trainer::TrainerState state;
    if (trainer::loadCheckpoint(path, program, backend, false, &state).ok()) {
      log << "parameters and delayed-scaling state from " << path << "\n";
      return Status::success();
    }
  }
  FP8RT_RETURN_IF_ERROR(trainer::loadCheckpoint(path, program, backend, true, nullptr));
  log << "parameters from " << path << "\n";
  if (hasFP8State)
    log << "note: " << path << " holds no delayed-scaling state (a checkpoint of --save "
        << "does): the FP8 scales keep their initial values\n";
  return Status::success();
}

/// Row `row` of the logits buffer's bytes as floats; false if one is not finite.
bool logitsRow(const std::vector<uint8_t> &bytes, DType dtype, int64_t row, int64_t vocab,
               std::vector<float> &out) {
  out.resize(size_t(vocab));
  for (int64_t i = 0; i < vocab; ++i) {
    const size_t element = size_t(row * vocab + i);
    if (dtype == DType::F32) {
      std::memcpy(&out[size_t(i)], bytes.data() + 4 * element, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * element, 2);
      out[size_t(i)] = bf16ToFloat(h);
    }
    if (!std::isfinite(out[size_t(i)]))
      return false;
  }
  return true;
}

void printToken(std::ostream &text, bool byteLevel, int64_t token, bool first) {
  if (byteLevel)
    text.put(char(static_cast<unsigned char>(token)));
  else
    text << (first ? "" : " ") << token;
}

} // namespace

std::vector<int32_t> logitsRows(int64_t batch, int64_t seqLen, int64_t position) {
  std::vector<int32_t> rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b)
    rows[size_t(b)] = int32_t(b * seqLen + position);
  return rows;
}

Status checkLogitsRows(const std::vector<int32_t> &rows, int64_t seqLen) {
  for (size_t b = 0; b < rows.size(); ++b) {
    const int64_t first = int64_t(b) * seqLen, end = first + seqLen;
    if (rows[b] < first || rows[b] >= end)
      return invalidArgumentError("logits_step: input 'rows', element " + std::to_string(b) + ": " +
                                  std::to_string(rows[b]) + " is not a row of sequence " +
                                  std::to_string(b) + ": expected " + std::to_string(b) +
                                  " x seq_len + position, in [" + std::to_string(first) + ", " +
                                  std::to_string(end) + ") (seq_len " + std::to_string(seqLen) +
                                  ")");
  }
  return Status::success();
}

bool isByteLevel(const Program &program) {
  return program.info.vocabSize > 0 && program.info.vocabSize <= 256;
}

StatusOr<std::vector<int64_t>> checkGenerateOptions(const Program &program,
                                                    const GenerateOptions &options) {
  const int64_t vocab = program.info.vocabSize;
  if (vocab <= 0)
    return invalidArgumentError("program info: vocab_size is " + std::to_string(vocab) +
                                ": fp8-run generates only for models that take tokens");
  const SamplerSettings &s = options.sampler;
  if (!(s.temperature >= 0.0) || !std::isfinite(s.temperature))
    return invalidArgumentError("--temperature=" + numberText(s.temperature) +
                                ": expected a finite number >= 0 (0: greedy)");
  if (s.topK < 0 || s.topK > vocab)
    return invalidArgumentError("--top-k=" + std::to_string(s.topK) +
                                ": expected at most the vocabulary size, " + std::to_string(vocab));
  if (options.maxNewTokens < 0)
    return invalidArgumentError("--max-new-tokens=" + std::to_string(options.maxNewTokens) +
                                ": expected an integer >= 0");
  std::vector<int64_t> ids;
  if (options.promptIsIds) {
    for (size_t i = 0; i < options.promptIds.size(); ++i)
      if (options.promptIds[i] < 0 || options.promptIds[i] >= vocab)
        return invalidArgumentError(
            "--prompt-ids: token " + std::to_string(options.promptIds[i]) + " (position " +
            std::to_string(i) + ") is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    ids = options.promptIds;
  } else {
    if (!isByteLevel(program))
      return invalidArgumentError("--prompt: the vocabulary (" + std::to_string(vocab) +
                                  " tokens) is not byte-level; give token ids with "
                                  "--prompt-ids=I,J,...");
    for (size_t i = 0; i < options.promptText.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(options.promptText[i]);
      if (c >= vocab)
        return invalidArgumentError("--prompt: byte " + hexByte(c) + " at offset " +
                                    std::to_string(i) + " is outside the vocabulary (" +
                                    std::to_string(vocab) + " byte-level tokens)");
      ids.push_back(c);
    }
  }
  if (ids.empty())
    return invalidArgumentError("the prompt is empty: give at least one token");
  return ids;
}

StatusOr<std::vector<int64_t>> generate(const Program &program, Backend &backend,
                                        const GenerateOptions &options, std::ostream &text,
                                        std::ostream &log) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<int64_t> sequence, checkGenerateOptions(program, options));
  FP8RT_ASSIGN_OR_RETURN(LogitsStep step, bindLogitsStep(program));
  if (options.initFromPath.empty())
    return invalidArgumentError("generation needs the trained parameters: --init-from=CKPT");
  FP8RT_RETURN_IF_ERROR(backend.load(program));
  FP8RT_RETURN_IF_ERROR(loadWeights(program, backend, options.initFromPath, log));

  const int64_t T = step.seqLen;
  if (int64_t(sequence.size()) > T)
    log << "note: the prompt has " << sequence.size() << " tokens; the model sees the last " << T
        << " (its seq_len), and each new token slides that window\n";
  const bool byteLevel = isByteLevel(program);
  for (size_t i = 0; i < sequence.size(); ++i)
    printToken(text, byteLevel, sequence[i], i == 0);
  text.flush();

  Rng rng(options.seed);
  const Buffer &logitsBuffer = program.buffers[step.logits];
  std::vector<uint8_t> logitsBytes(logitsBuffer.bytes());
  std::vector<int32_t> tokens(size_t(step.batch * T), 0);
  std::vector<float> row;
  for (int64_t n = 0; n < options.maxNewTokens; ++n) {
    // The window: the last T tokens, left-aligned (causal attention: the
    // padding after them changes no earlier position), in every row so that
    // a per-tensor FP8 scale sees this sequence only.
    const int64_t context = std::min<int64_t>(int64_t(sequence.size()), T);
    for (int64_t b = 0; b < step.batch; ++b)
      for (int64_t t = 0; t < T; ++t)
        tokens[size_t(b * T + t)] =
            t < context ? int32_t(sequence[sequence.size() - size_t(context - t)]) : 0;
    // The logits of the last real position of every sequence.
    const std::vector<int32_t> rows = logitsRows(step.batch, T, context - 1);
    FP8RT_RETURN_IF_ERROR(checkLogitsRows(rows, T));
    FP8RT_RETURN_IF_ERROR(
        backend.write(step.tokens, tokens.data(), tokens.size() * sizeof(int32_t)));
    FP8RT_RETURN_IF_ERROR(backend.write(step.rows, rows.data(), rows.size() * sizeof(int32_t)));
    FP8RT_RETURN_IF_ERROR(backend.run(*step.fn));
    FP8RT_RETURN_IF_ERROR(backend.read(step.logits, logitsBytes.data(), logitsBytes.size()));
    // Every sequence is the same: sequence 0's row.
    if (!logitsRow(logitsBytes, logitsBuffer.type.dtype, 0, step.vocab, row))
      return dataLossError("logits_step: a non-finite logit at new token " + std::to_string(n + 1) +
                           " (position " + std::to_string(context - 1) + " of the window)");
    const int64_t next = sampleNextToken(row, options.sampler, rng);
    sequence.push_back(next);
    printToken(text, byteLevel, next, false);
    text.flush();
  }
  text << "\n";
  return sequence;
}

} // namespace fp8rt
