//===- GenerateTest.cpp - logits_step's rows and signature ----------------===//
//
// fp8rt/generate/Generate.h: the rows the generator asks logits_step for
// (b x seq_len + position), the check of a rows vector (each element a row of
// its own sequence), and the refusal of a logits_step of another shape (one of
// format version 5: only 'tokens', every position's logits) before anything is
// loaded.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/generate/Generate.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace fp8rt {
namespace {

TEST(Generate, LogitsRows) {
  EXPECT_EQ(logitsRows(3, 8, 0), (std::vector<int32_t>{0, 8, 16}));
  EXPECT_EQ(logitsRows(3, 8, 7), (std::vector<int32_t>{7, 15, 23}));
  EXPECT_EQ(logitsRows(1, 2048, 2047), (std::vector<int32_t>{2047}));
  for (int64_t position = 0; position < 8; ++position)
    EXPECT_TRUE(checkLogitsRows(logitsRows(4, 8, position), 8).ok()) << position;
}

TEST(Generate, RowsOutsideTheirSequence) {
  // Sequence 1's rows are [8, 16): 16 is sequence 2's first, 7 sequence 0's last.
  Status s = checkLogitsRows({7, 16, 23}, 8);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "logits_step: input 'rows', element 1: 16 is not a row of sequence 1: "
                         "expected 1 x seq_len + position, in [8, 16) (seq_len 8)");
  s = checkLogitsRows({-1, 8}, 8);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "logits_step: input 'rows', element 0: -1 is not a row of sequence 0: "
                         "expected 0 x seq_len + position, in [0, 8) (seq_len 8)");
}

/// A program with only logits_step's signature: batch 2, seq_len 4, vocab 5.
Program signatureOnly(std::vector<std::pair<std::string, TensorType>> inputs,
                      TensorType logits) {
  Program p;
  p.info.batchSize = 2;
  p.info.seqLen = 4;
  p.info.vocabSize = 5;
  Function f;
  f.name = "logits_step";
  for (auto &[name, type] : inputs) {
    f.inputs.push_back(uint32_t(p.buffers.size()));
    p.buffers.emplace_back();
    p.buffers.back().name = name;
    p.buffers.back().role = BufferRole::Input;
    p.buffers.back().type = type;
  }
  f.outputs.push_back(uint32_t(p.buffers.size()));
  p.buffers.emplace_back();
  p.buffers.back().name = "logits";
  p.buffers.back().role = BufferRole::Output;
  p.buffers.back().type = logits;
  p.functions.push_back(f);
  return p;
}

std::string generateError(const Program &p) {
  GenerateOptions options;
  options.promptIds = {1, 2};
  options.promptIsIds = true;
  options.initFromPath = "unused.ckpt";
  std::unique_ptr<Backend> cpu = createCpuBackend();
  std::ostringstream text, log;
  StatusOr<std::vector<int64_t>> out = generate(p, *cpu, options, text, log);
  EXPECT_FALSE(out.ok());
  return out.ok() ? "" : out.status().message();
}

TEST(Generate, LogitsStepSignature) {
  const TensorType tokens{DType::I32, {2, 4}}, rows{DType::I32, {2}};
  // logits_step as it was before format version 6.
  EXPECT_EQ(generateError(signatureOnly({{"tokens", tokens}}, {DType::BF16, {2, 4, 5}})),
            "logits_step: its one input is 'tokens': the program was compiled before "
            "logits_step took 'rows' (the one position per sequence it returns logits for; "
            "format version 6) and returns every position's logits; compile the model again "
            "with this fp8c");
  const std::string inputs = "logits_step: expected two inputs, 'tokens' i32[2,4] and 'rows' "
                             "i32[2] (batch_size and seq_len of the program info)";
  EXPECT_EQ(generateError(signatureOnly({{"tokens", tokens}, {"rows", {DType::I64, {2}}}},
                                        {DType::BF16, {2, 5}})),
            inputs);
  EXPECT_EQ(generateError(signatureOnly({{"rows", rows}, {"tokens", tokens}},
                                        {DType::BF16, {2, 5}})),
            inputs);
  // Every position's logits, with rows.
  EXPECT_EQ(generateError(
                signatureOnly({{"tokens", tokens}, {"rows", rows}}, {DType::BF16, {2, 4, 5}})),
            "logits_step: output 'logits' is bf16[2,4,5], expected f32 or bf16 [batch_size, "
            "vocab_size] = [2, 5]: one row per sequence");
  // The right signature gets past the check, as far as the checkpoint.
  EXPECT_EQ(
      generateError(signatureOnly({{"tokens", tokens}, {"rows", rows}}, {DType::F32, {2, 5}})),
      "unused.ckpt: cannot open: No such file or directory");
}

} // namespace
} // namespace fp8rt
