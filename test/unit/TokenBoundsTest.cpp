//===- TokenBoundsTest.cpp - Token id buffers and their ranges -------------===//
//
// findTokenBounds on gpt-tiny compiled in-process (as `fp8c MODEL -o FILE`
// does): the buffers and ranges it finds are compared with what follows from
// the program's info and buffer names (tokens and targets in
// [0, vocab_size), the position ids in [0, rows of transformer.wpe.weight),
// logits_step's rows in [0, batch_size x seq_len): it gathers rows of the
// final hidden states with train.embedding).
// checkTokenWrite's messages are compared with the CPU backend's own report
// of the same bad data, which runs the kernels themselves.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"
#include "fp8rt/TokenBounds.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using fp8rt::BufferRole;
using fp8rt::DType;
using fp8rt::Program;
using fp8rt::TokenBound;

Program compileGptTiny() {
  std::ifstream in(std::string(FP8C_SOURCE_DIR) + "/examples/gpt-tiny.yaml");
  std::stringstream yaml;
  yaml << in.rdbuf();
  const std::string text = fp8c::compileModelToProgram(yaml.str(), "gpt-tiny.yaml").value_or("");
  EXPECT_FALSE(text.empty()) << "fp8c failed on gpt-tiny";
  fp8rt::StatusOr<Program> program = fp8rt::parseProgram(text, "gpt-tiny");
  EXPECT_TRUE(program.ok()) << program.status().toString();
  return program.ok() ? std::move(*program) : Program();
}

const Program &gptTiny() {
  static const Program program = compileGptTiny();
  return program;
}

uint32_t bufferIndex(const Program &p, const std::string &name, BufferRole role) {
  const int64_t i = p.findBuffer(name, role);
  EXPECT_GE(i, 0) << "no " << fp8rt::roleName(role) << " buffer '" << name << "'";
  return uint32_t(std::max<int64_t>(i, 0));
}

TokenBound bound(uint32_t buffer, const char *op, bool target, int64_t limit) {
  TokenBound b;
  b.buffer = buffer;
  b.op = op;
  b.target = target;
  b.limit = limit;
  return b;
}

std::string describe(const Program &p, const TokenBound &b) {
  return p.buffers[b.buffer].name + " (" + std::to_string(b.buffer) + "): " + b.op +
         (b.target ? " target" : " id") + " in [0, " + std::to_string(b.limit) + ")" +
         (b.ignoreIndex ? " ignoring " + std::to_string(*b.ignoreIndex) : "");
}

std::vector<std::string> describeAll(const Program &p, std::vector<TokenBound> bounds) {
  std::sort(bounds.begin(), bounds.end(),
            [](const TokenBound &a, const TokenBound &b) { return a.buffer < b.buffer; });
  std::vector<std::string> out;
  for (const TokenBound &b : bounds)
    out.push_back(describe(p, b));
  return out;
}

/// The error of running `function` on the CPU backend with `tokens` and
/// `targets` written to their buffers.
std::string cpuError(const Program &p, const char *function, const std::vector<int32_t> &tokens,
                     const std::vector<int32_t> &targets) {
  std::unique_ptr<fp8rt::Backend> cpu = fp8rt::createCpuBackend();
  EXPECT_TRUE(cpu->load(p).ok());
  EXPECT_TRUE(cpu->write(bufferIndex(p, "tokens", BufferRole::Input), tokens.data(),
                         tokens.size() * 4)
                  .ok());
  EXPECT_TRUE(cpu->write(bufferIndex(p, "targets", BufferRole::Input), targets.data(),
                         targets.size() * 4)
                  .ok());
  const int64_t step = 1;
  EXPECT_TRUE(cpu->write(bufferIndex(p, "step", BufferRole::Input), &step, 8).ok());
  fp8rt::Status s = cpu->run(*p.function(function));
  EXPECT_FALSE(s.ok()) << function << " accepted the data on the CPU backend";
  return s.message();
}

/// The part of a message after the last "): " (the kernel op's own words).
std::string opPart(const std::string &message) {
  const size_t at = message.rfind("): ");
  return at == std::string::npos ? message : message.substr(at + 3);
}

TEST(TokenBounds, GptTinyTokensTargetsAndPositions) {
  const Program &p = gptTiny();
  ASSERT_FALSE(p.functions.empty());
  const int64_t vocab = p.info.vocabSize;
  ASSERT_GT(vocab, 0);
  const uint32_t wte = bufferIndex(p, "transformer.wte.weight", BufferRole::Param);
  const uint32_t wpe = bufferIndex(p, "transformer.wpe.weight", BufferRole::Param);
  EXPECT_EQ(p.buffers[wte].type.shape.at(0), vocab);
  const int64_t positions = p.buffers[wpe].type.shape.at(0);

  std::vector<TokenBound> expected = {
      bound(bufferIndex(p, "tokens", BufferRole::Input), "train.embedding", false, vocab),
      bound(bufferIndex(p, "targets", BufferRole::Input), "train.softmax_cross_entropy", true,
            vocab),
      bound(bufferIndex(p, "rows", BufferRole::Input), "train.embedding", false,
            p.info.batchSize * p.info.seqLen)};
  // The position ids: gpt-tiny's only i32 constant.
  for (uint32_t i = 0; i < p.buffers.size(); ++i)
    if (p.buffers[i].role == BufferRole::Constant && p.buffers[i].type.dtype == DType::I32)
      expected.push_back(bound(i, "train.embedding", false, positions));
  ASSERT_EQ(expected.size(), 4u) << "gpt-tiny should have one i32 constant (position ids)";

  EXPECT_EQ(describeAll(p, fp8rt::findTokenBounds(p)), describeAll(p, expected));
}

TEST(TokenBounds, CheckMirrorsTheCpuBackend) {
  const Program &p = gptTiny();
  ASSERT_FALSE(p.functions.empty());
  const std::vector<TokenBound> bounds = fp8rt::findTokenBounds(p);
  const uint32_t tokensBuffer = bufferIndex(p, "tokens", BufferRole::Input);
  const uint32_t targetsBuffer = bufferIndex(p, "targets", BufferRole::Input);
  const int64_t vocab = p.info.vocabSize;
  const size_t n = size_t(p.buffers[tokensBuffer].type.numElements());

  // Valid data, both ends of the range included.
  std::vector<int32_t> tokens(n), targets(n);
  for (size_t i = 0; i < n; ++i) {
    tokens[i] = int32_t((i * 7) % size_t(vocab));
    targets[i] = int32_t(vocab - 1 - int64_t(i % size_t(vocab)));
  }
  EXPECT_TRUE(fp8rt::checkTokenWrite(p, bounds, tokensBuffer, tokens.data(), "cuda backend").ok());
  EXPECT_TRUE(
      fp8rt::checkTokenWrite(p, bounds, targetsBuffer, targets.data(), "cuda backend").ok());

  // A token id of vocab_size at position 5.
  std::vector<int32_t> badTokens = tokens;
  badTokens[5] = int32_t(vocab);
  fp8rt::Status s =
      fp8rt::checkTokenWrite(p, bounds, tokensBuffer, badTokens.data(), "cuda backend");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cuda backend: write of buffer " + std::to_string(tokensBuffer) +
                             " (\"tokens\", i32[" + std::to_string(p.info.batchSize) + "," +
                             std::to_string(p.info.seqLen) +
                             "]): train.embedding: id " + std::to_string(vocab) +
                             " at position 5 is outside [0, " + std::to_string(vocab) + ")");
  EXPECT_EQ(opPart(s.message()), opPart(cpuError(p, "train_step", badTokens, targets)));

  // A negative target at the last position, in memory that is not 4-byte aligned.
  std::vector<int32_t> badTargets = targets;
  badTargets[n - 1] = -1;
  std::vector<unsigned char> unaligned(n * 4 + 1);
  std::memcpy(unaligned.data() + 1, badTargets.data(), n * 4);
  s = fp8rt::checkTokenWrite(p, bounds, targetsBuffer, unaligned.data() + 1, "cuda backend");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(opPart(s.message()), "train.softmax_cross_entropy: target -1 at position " +
                                     std::to_string(n - 1) + " is outside [0, " +
                                     std::to_string(vocab) + ")");
  EXPECT_EQ(opPart(s.message()), opPart(cpuError(p, "eval_step", tokens, badTargets)));

  // A buffer that holds no token ids is not checked.
  const uint32_t step = bufferIndex(p, "step", BufferRole::Input);
  const int64_t anything = -5;
  EXPECT_TRUE(fp8rt::checkTokenWrite(p, bounds, step, &anything, "cuda backend").ok());
}

// logits_step's rows index the [batch_size x seq_len, d_model] hidden states:
// a row past them is refused on write, as the CPU backend refuses it when it
// runs the gather.
TEST(TokenBounds, LogitsStepRows) {
  const Program &p = gptTiny();
  ASSERT_FALSE(p.functions.empty());
  const std::vector<TokenBound> bounds = fp8rt::findTokenBounds(p);
  const uint32_t rowsBuffer = bufferIndex(p, "rows", BufferRole::Input);
  const int64_t batch = p.info.batchSize, seqLen = p.info.seqLen, flat = batch * seqLen;
  std::vector<int32_t> rows(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b)
    rows[size_t(b)] = int32_t(b * seqLen + seqLen - 1);
  EXPECT_TRUE(fp8rt::checkTokenWrite(p, bounds, rowsBuffer, rows.data(), "cuda backend").ok());

  rows.back() = int32_t(flat);
  fp8rt::Status s = fp8rt::checkTokenWrite(p, bounds, rowsBuffer, rows.data(), "cuda backend");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(opPart(s.message()), "train.embedding: id " + std::to_string(flat) +
                                     " at position " + std::to_string(batch - 1) +
                                     " is outside [0, " + std::to_string(flat) + ")");

  std::unique_ptr<fp8rt::Backend> cpu = fp8rt::createCpuBackend();
  ASSERT_TRUE(cpu->load(p).ok());
  std::vector<int32_t> tokens(size_t(flat), 1);
  ASSERT_TRUE(cpu->write(bufferIndex(p, "tokens", BufferRole::Input), tokens.data(),
                         tokens.size() * 4)
                  .ok());
  ASSERT_TRUE(cpu->write(rowsBuffer, rows.data(), rows.size() * 4).ok());
  fp8rt::Status run = cpu->run(*p.function("logits_step"));
  ASSERT_FALSE(run.ok()) << "logits_step accepted row " << flat << " on the CPU backend";
  EXPECT_EQ(opPart(s.message()), opPart(run.message()));
}

TEST(TokenBounds, IgnoreIndexAndI64Ids) {
  // gpt-tiny with ignore_index -100 on both cross-entropy ops.
  Program p = gptTiny();
  ASSERT_FALSE(p.functions.empty());
  fp8rt::Attr ignore;
  ignore.kind = fp8rt::Attr::Kind::Int;
  ignore.i = -100;
  ignore.f = -100.0;
  int changed = 0;
  for (fp8rt::Function &f : p.functions)
    for (fp8rt::Instruction &inst : f.instructions)
      for (fp8rt::KernelOp &op : inst.kernel.ops)
        if (op.op.rfind("train.softmax_cross_entropy", 0) == 0) {
          op.attrs.push_back({"ignore_index", ignore});
          ++changed;
        }
  ASSERT_GT(changed, 0);
  const std::vector<TokenBound> bounds = fp8rt::findTokenBounds(p);
  const uint32_t targetsBuffer = bufferIndex(p, "targets", BufferRole::Input);
  int targetBounds = 0;
  for (const TokenBound &b : bounds)
    if (b.buffer == targetsBuffer) {
      ++targetBounds;
      EXPECT_EQ(b.ignoreIndex.value_or(0), -100) << describe(p, b);
    }
  EXPECT_EQ(targetBounds, 1);
  std::vector<int32_t> targets(size_t(p.buffers[targetsBuffer].type.numElements()), 3);
  targets[2] = -100;
  EXPECT_TRUE(fp8rt::checkTokenWrite(p, bounds, targetsBuffer, targets.data(), "cuda").ok());
  targets[3] = -99;
  fp8rt::Status s = fp8rt::checkTokenWrite(p, bounds, targetsBuffer, targets.data(), "cuda");
  EXPECT_EQ(opPart(s.message()), "train.softmax_cross_entropy: target -99 at position 3 is "
                                 "outside [0, " + std::to_string(p.info.vocabSize) + ")");

  // A hand-made kernel: i64 ids, reshaped inside the kernel before the lookup.
  Program small;
  small.buffers.resize(3);
  small.buffers[0].name = "ids";
  small.buffers[0].role = BufferRole::Input;
  small.buffers[0].type = {DType::I64, {2, 2}};
  small.buffers[1].name = "table";
  small.buffers[1].role = BufferRole::Param;
  small.buffers[1].type = {DType::F32, {10, 3}};
  small.buffers[2].name = "rows";
  small.buffers[2].type = {DType::F32, {4, 3}};
  fp8rt::Instruction inst;
  inst.kernel.name = "k0";
  inst.kernel.inputs = {1, 0};
  inst.kernel.outputs = {2};
  inst.kernel.ops.push_back({"train.reshape", {1}, {{DType::I64, {4}}}, {}});
  inst.kernel.ops.push_back({"train.embedding", {0, 2}, {{DType::F32, {4, 3}}}, {}});
  inst.kernel.yields = {3};
  small.functions.push_back({"train_step", {0}, {}, {inst}});
  const std::vector<TokenBound> smallBounds = fp8rt::findTokenBounds(small);
  ASSERT_EQ(smallBounds.size(), 1u);
  EXPECT_EQ(describe(small, smallBounds[0]), "ids (0): train.embedding id in [0, 10)");
  std::vector<int64_t> ids = {0, 9, 4, 1};
  EXPECT_TRUE(fp8rt::checkTokenWrite(small, smallBounds, 0, ids.data(), "cuda").ok());
  ids[2] = int64_t(1) << 40;
  s = fp8rt::checkTokenWrite(small, smallBounds, 0, ids.data(), "cuda");
  EXPECT_EQ(s.message(), "cuda: write of buffer 0 (\"ids\", i64[2,2]): train.embedding: id " +
                             std::to_string(int64_t(1) << 40) +
                             " at position 2 is outside [0, 10)");
}

} // namespace
