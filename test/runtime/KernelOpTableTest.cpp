//===- KernelOpTableTest.cpp - Every kernel op has every column -----------===//
//
// The kernel-op table (fp8rt/ops/KernelOpTable.h) is one list, KernelOps.def;
// every backend builds its column from it. These tests check that every row
// has a name that resolves back to it, a check, a CPU implementation and a
// CUDA emitter, and that docs/program-format.md lists exactly the table's ops.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/cpu/KernelOps.h"
#include "fp8rt/cuda/KernelCodegen.h"
#include "fp8rt/ops/KernelOpTable.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace fp8rt;

namespace {

std::vector<std::string> tableNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i < ops::kNumOps; ++i)
    names.push_back(ops::opName(ops::OpId(i)));
  return names;
}

/// The ops docs/program-format.md lists in its `kernel` section, written as
/// `train.{embedding, embedding_grad, ...}` groups, in order.
std::vector<std::string> documentedNames() {
  std::ifstream in(std::string(FP8C_SOURCE_DIR) + "/docs/program-format.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  const size_t begin = doc.find("### `kernel`"), end = doc.find("### `gemm`");
  if (begin == std::string::npos || end == std::string::npos)
    return {};
  const std::string section = doc.substr(begin, end - begin);
  std::vector<std::string> names;
  const std::regex group("`(train|fp8|arith)\\.\\{([^}]*)\\}`");
  for (auto it = std::sregex_iterator(section.begin(), section.end(), group);
       it != std::sregex_iterator(); ++it) {
    std::stringstream list((*it)[2].str());
    std::string item;
    while (std::getline(list, item, ',')) {
      const size_t a = item.find_first_not_of(" \n"), b = item.find_last_not_of(" \n");
      names.push_back((*it)[1].str() + "." + item.substr(a, b - a + 1));
    }
  }
  return names;
}

TEST(KernelOpTable, EveryRowHasEveryColumn) {
  ASSERT_GT(ops::kNumOps, 0u);
  for (size_t i = 0; i < ops::kNumOps; ++i) {
    const ops::OpId id = ops::OpId(i);
    const std::string name = ops::opName(id);
    SCOPED_TRACE(name);
    EXPECT_EQ(ops::findOp(name), id);
    EXPECT_TRUE(ops::hasCheck(id));
    EXPECT_TRUE(cpu::hasImplementation(id));
    EXPECT_TRUE(cuda::hasEmitter(id));
  }
}

TEST(KernelOpTable, NamesAreUnique) {
  const std::vector<std::string> names = tableNames();
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = i + 1; j < names.size(); ++j)
      EXPECT_NE(names[i], names[j]);
}

TEST(KernelOpTable, UnknownNamesAreUnresolved) {
  EXPECT_EQ(ops::findOp("train.frobnicate"), ops::kUnresolvedOp);
  EXPECT_EQ(ops::findOp(""), ops::kUnresolvedOp);
  EXPECT_FALSE(ops::hasCheck(ops::kUnresolvedOp));
  EXPECT_FALSE(cpu::hasImplementation(ops::kUnresolvedOp));
  EXPECT_FALSE(cuda::hasEmitter(ops::kUnresolvedOp));
}

TEST(KernelOpTable, ProgramFormatListsTheTable) {
  EXPECT_EQ(documentedNames(), tableNames())
      << "docs/program-format.md (section `kernel`) must list the ops of "
         "runtime/include/fp8rt/ops/KernelOps.def, in its order";
}

TEST(KernelOpTable, LoaderResolvesIds) {
  // A one-op program: the loaded op carries its id.
  const std::string text = R"({"format": "fp8c-program", "version": )" +
                           std::to_string(fp8rt::Program::kVersion) + R"(, "producer": "test",
    "info": {"family": "custom", "batch_size": 0, "seq_len": 0, "vocab_size": 0,
             "grad_accum_steps": 1, "total_steps": 0, "init_seed": 0,
             "fp8_recipe": "none", "fp8_format": "hybrid"},
    "config": {}, "arena_bytes": 512,
    "buffers": [{"name": "x", "role": "input", "dtype": "f32", "shape": [4], "offset": 0},
                {"name": "y", "role": "output", "dtype": "f32", "shape": [4], "offset": 256}],
    "functions": [{"name": "train_step", "inputs": [0], "outputs": [1], "instructions": [
      {"kind": "kernel", "name": "k0_silu", "inputs": [0], "outputs": [1],
       "ops": [{"op": "train.silu", "operands": [0],
                "results": [{"dtype": "f32", "shape": [4]}]}], "yield": [1]}]}]})";
  StatusOr<Program> program = parseProgram(text, "test.fp8prog");
  ASSERT_TRUE(program.ok()) << program.status().message();
  const KernelOp &op = program->functions[0].instructions[0].kernel.ops[0];
  EXPECT_EQ(op.id, ops::OpId::TrainSilu);
}

} // namespace
