//===- CublasLtHostTest.cpp - every example GEMM as a cuBLASLt matmul -----===//
//
// No GPU needed: cublasLtMatmulDescCreate / cublasLtMatrixLayoutCreate and
// the attribute setters work without one. Compiles every example (and
// gpt-tiny under every FP8 recipe) in-process, builds the CUDA backend's
// descriptor and layouts for every GEMM of every function (LtMatmul::create,
// with made-up device addresses), and reads each attribute back to check it
// against what the program says, derived here independently of CublasLt.cpp:
// transposes of the row-major -> column-major swap, types, leading
// dimensions, scale pointers and modes, fast accumulation, epilogue and bias.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Compiler/CompileModel.h"

#include "fp8rt/Program.h"
#include "fp8rt/cuda/CublasLt.h"
// LtMatmul is private to runtime/src/cuda (its members are cuBLASLt handles);
// this test reads the descriptors back, so it includes the private header.
#include "cuda/CublasLtMatmul.h"

#include <cublasLt.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace {

using fp8rt::Buffer;
using fp8rt::DType;
using fp8rt::Gemm;
using fp8rt::GemmScaleMode;
using fp8rt::Program;
namespace cuda = fp8rt::cuda;

std::string compile(const std::string &yaml, const std::string &name) {
  return fp8c::compileModelToProgram(yaml, name).value_or("");
}

std::string readExample(const std::string &file) {
  std::ifstream in(std::string(FP8C_SOURCE_DIR) + "/examples/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// An example file, or gpt-tiny with another recipe.
struct Case {
  std::string label, file, recipe; ///< recipe "": as written
};

std::ostream &operator<<(std::ostream &os, const Case &c) { return os << c.label; }

std::string yamlOf(const Case &c) {
  std::string yaml = readExample(c.file);
  if (!c.recipe.empty()) {
    const std::string from = "recipe: tensorwise";
    size_t at = yaml.find(from);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos)
      yaml.replace(at, from.size(), "recipe: " + c.recipe);
  }
  return yaml;
}

/// A fake device address: the arena at 1 TiB, staged scales elsewhere (the
/// descriptor only stores pointers).
const uint8_t *kArena = reinterpret_cast<const uint8_t *>(uintptr_t(1) << 40);
const float *kStagedA = reinterpret_cast<const float *>(uintptr_t(3) << 40);
const float *kStagedB = reinterpret_cast<const float *>(uintptr_t(5) << 40);

const void *addressOf(const Program &p, uint32_t buffer) {
  return buffer == Gemm::kNone ? nullptr : kArena + p.buffers[buffer].offset;
}

template <typename T>
T descAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute) {
  T value{};
  size_t written = 0;
  cublasStatus_t s = cublasLtMatmulDescGetAttribute(desc, attribute, &value, sizeof value, &written);
  EXPECT_EQ(s, CUBLAS_STATUS_SUCCESS) << "attribute " << int(attribute);
  return value;
}

struct LayoutInfo {
  uint32_t type = 0;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
};

LayoutInfo layoutOf(cublasLtMatrixLayout_t l) {
  LayoutInfo info;
  size_t written = 0;
  EXPECT_EQ(cublasLtMatrixLayoutGetAttribute(l, CUBLASLT_MATRIX_LAYOUT_TYPE, &info.type,
                                             sizeof info.type, &written),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtMatrixLayoutGetAttribute(l, CUBLASLT_MATRIX_LAYOUT_ROWS, &info.rows,
                                             sizeof info.rows, &written),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtMatrixLayoutGetAttribute(l, CUBLASLT_MATRIX_LAYOUT_COLS, &info.cols,
                                             sizeof info.cols, &written),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtMatrixLayoutGetAttribute(l, CUBLASLT_MATRIX_LAYOUT_LD, &info.ld,
                                             sizeof info.ld, &written),
            CUBLAS_STATUS_SUCCESS);
  return info;
}

uint32_t cudaTypeOf(DType t) {
  switch (t) {
  case DType::F32:
    return CUDA_R_32F;
  case DType::BF16:
    return CUDA_R_16BF;
  case DType::F16:
    return CUDA_R_16F;
  case DType::F8E4M3:
    return CUDA_R_8F_E4M3;
  case DType::F8E5M2:
    return CUDA_R_8F_E5M2;
  default:
    return 0xffffffffu;
  }
}


/// Expected cuBLASLt scale modes (the program's A, B): the coarser operand
/// broadcast to the finer one, two 128x128 operands -> A as 1x128.
void expectedModes(GemmScaleMode a, GemmScaleMode b, int32_t &ltA, int32_t &ltB) {
  auto block = [](GemmScaleMode m) {
    return m == GemmScaleMode::Block1x128 || m == GemmScaleMode::Block128x128;
  };
  int32_t modeA = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F,
          modeB = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F;
  if (block(a) || block(b)) {
    modeA = modeB = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
    if (b == GemmScaleMode::Block128x128)
      modeB = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
    else if (a == GemmScaleMode::Block128x128)
      modeA = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
  } else if (a == GemmScaleMode::Rowwise || b == GemmScaleMode::Rowwise) {
    modeA = modeB = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
  }
  // cuBLASLt's A is the program's B.
  ltA = modeB;
  ltB = modeA;
}

class CublasLtHostTest : public ::testing::TestWithParam<Case> {};

TEST_P(CublasLtHostTest, EveryGemmHasItsDescriptorAndLayouts) {
  const Case &c = GetParam();
  const std::string text = compile(yamlOf(c), c.file);
  ASSERT_FALSE(text.empty()) << "fp8c failed on " << c.label;
  fp8rt::StatusOr<Program> parsed = fp8rt::parseProgram(text, c.label + ".fp8prog");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const Program &p = *parsed;

  int gemms = 0, fp8Gemms = 0;
  for (const fp8rt::Function &f : p.functions)
    for (const fp8rt::Instruction &inst : f.instructions) {
      if (inst.kind != fp8rt::Instruction::Kind::Gemm)
        continue;
      const Gemm &g = inst.gemm;
      SCOPED_TRACE(f.name + ": gemm " + g.name);
      const Buffer &a = p.buffers[g.a], &b = p.buffers[g.b], &d = p.buffers[g.d];
      const bool fp8 = isFp8(a.type.dtype);
      cuda::GemmAddresses addr;
      addr.a = addressOf(p, g.a);
      addr.b = addressOf(p, g.b);
      addr.d = const_cast<void *>(addressOf(p, g.d));
      addr.bias = addressOf(p, g.bias);
      addr.dScale = static_cast<const float *>(addressOf(p, g.dScale));
      addr.amaxD = static_cast<float *>(const_cast<void *>(addressOf(p, g.amaxD)));
      if (fp8) {
        addr.aScaleInverse = kStagedA;
        addr.bScaleInverse = kStagedB;
      }
      fp8rt::StatusOr<cuda::LtMatmul> mm =
          cuda::LtMatmul::create(p, g, addr, cuda::FastAccum::AsCompiled);
      ASSERT_TRUE(mm.ok()) << mm.status().message();
      ++gemms;
      fp8Gemms += fp8;

      // Types of the computation.
      EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE),
                CUBLAS_COMPUTE_32F);
      EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_SCALE_TYPE), CUDA_R_32F);
      // Row-major D = op(A) op(B) is column-major D' = op(B') op(A'):
      // cuBLASLt transposes the program's B when the program does.
      EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_TRANSA),
                g.transposeB ? CUBLAS_OP_T : CUBLAS_OP_N);
      EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_TRANSB),
                g.transposeA ? CUBLAS_OP_T : CUBLAS_OP_N);
      EXPECT_EQ(mm->ltA, addr.b);
      EXPECT_EQ(mm->ltB, addr.a);
      EXPECT_EQ(mm->ltD, addr.d);

      // Layouts: the stored row-major matrices read column-major.
      const LayoutInfo la = layoutOf(mm->aLayout), lb = layoutOf(mm->bLayout),
                       lc = layoutOf(mm->cLayout), ld = layoutOf(mm->dLayout);
      EXPECT_EQ(la.type, cudaTypeOf(b.type.dtype));
      EXPECT_EQ(lb.type, cudaTypeOf(a.type.dtype));
      EXPECT_EQ(ld.type, cudaTypeOf(d.type.dtype));
      EXPECT_EQ(lc.type, isFp8(d.type.dtype) ? uint32_t(CUDA_R_16BF) : ld.type);
      // B' (program B) is op'd into n x k: stored k x n (N) or n x k (T).
      EXPECT_EQ(la.rows, uint64_t(g.transposeB ? g.k : g.n));
      EXPECT_EQ(la.cols, uint64_t(g.transposeB ? g.n : g.k));
      EXPECT_EQ(la.ld, int64_t(la.rows));
      EXPECT_EQ(lb.rows, uint64_t(g.transposeA ? g.m : g.k));
      EXPECT_EQ(lb.cols, uint64_t(g.transposeA ? g.k : g.m));
      EXPECT_EQ(lb.ld, int64_t(lb.rows));
      EXPECT_EQ(ld.rows, uint64_t(g.n));
      EXPECT_EQ(ld.cols, uint64_t(g.m));
      EXPECT_EQ(ld.ld, g.n);
      EXPECT_EQ(lc.rows, ld.rows);
      EXPECT_EQ(lc.cols, ld.cols);
      // accumulate (fp8-chunk-loss's lm_head wgrad chain): beta = 1 reads C = D, f32.
      EXPECT_EQ(mm->accumulate, g.accumulate);
      if (g.accumulate) {
        EXPECT_EQ(lc.type, uint32_t(CUDA_R_32F));
        EXPECT_EQ(lc.ld, ld.ld);
      }

      if (fp8) {
        // FP8 needs TN for cuBLASLt too, and reciprocal scales staged.
        EXPECT_TRUE(g.transposeB && !g.transposeA);
        EXPECT_EQ(descAttribute<const void *>(mm->desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER),
                  static_cast<const void *>(kStagedB));
        EXPECT_EQ(descAttribute<const void *>(mm->desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER),
                  static_cast<const void *>(kStagedA));
        int32_t wantA = 0, wantB = 0;
        expectedModes(g.aScaleMode, g.bScaleMode, wantA, wantB);
        EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE), wantA);
        EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE), wantB);
        const bool blocks = wantA == CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F ||
                            wantA == CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
        EXPECT_EQ(descAttribute<int8_t>(mm->desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM),
                  int8_t(g.fastAccum && !blocks));
        if (isFp8(d.type.dtype)) {
          EXPECT_EQ(descAttribute<const void *>(mm->desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER),
                    addressOf(p, g.dScale));
        }
      }
      if (g.amaxD != Gemm::kNone) {
        EXPECT_EQ(descAttribute<void *>(mm->desc, CUBLASLT_MATMUL_DESC_AMAX_D_POINTER),
                  addressOf(p, g.amaxD));
      }
      const uint32_t epilogue = descAttribute<uint32_t>(mm->desc, CUBLASLT_MATMUL_DESC_EPILOGUE);
      if (g.epilogue == fp8rt::GemmEpilogue::Bias) {
        EXPECT_EQ(epilogue, uint32_t(CUBLASLT_EPILOGUE_BIAS));
        EXPECT_EQ(descAttribute<const void *>(mm->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER),
                  addressOf(p, g.bias));
        EXPECT_EQ(descAttribute<int32_t>(mm->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE),
                  int32_t(cudaTypeOf(p.buffers[g.bias].type.dtype)));
      } else {
        EXPECT_EQ(epilogue, uint32_t(CUBLASLT_EPILOGUE_DEFAULT));
      }

      // The staging sizes cover what the program's scale buffers hold.
      if (fp8) {
        fp8rt::StatusOr<cuda::GemmScaleStaging> st = cuda::planScaleStaging(p, g);
        ASSERT_TRUE(st.ok()) << st.status().message();
        EXPECT_GE(st->a.count, p.buffers[g.aScale].type.numElements());
        EXPECT_GE(st->b.count, p.buffers[g.bScale].type.numElements());
      }
    }
  EXPECT_GT(gemms, 0);
  if (c.label != "mlp") {
    EXPECT_GT(fp8Gemms, 0) << c.label << " has no FP8 GEMM";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Examples, CublasLtHostTest,
    ::testing::Values(Case{"mlp", "mlp.yaml", ""}, Case{"gpt_tiny", "gpt-tiny.yaml", ""},
                      Case{"gpt2_small", "gpt2-small.yaml", ""},
                      Case{"llama_1b", "llama-1b.yaml", ""},
                      Case{"gpt_tiny_rowwise", "gpt-tiny.yaml", "rowwise"},
                      Case{"gpt_tiny_blockwise", "gpt-tiny.yaml", "blockwise"},
                      Case{"gpt_tiny_delayed", "gpt-tiny.yaml", "delayed"}),
    [](const ::testing::TestParamInfo<Case> &info) { return info.param.label; });

//===----------------------------------------------------------------------===//
// Scale staging on hand-made GEMMs: sizes and the modes cuBLASLt accepts.
//===----------------------------------------------------------------------===//

/// A program with an FP8 GEMM a [m, k] x b [n, k] and scale buffers of the
/// given modes.
Program fp8GemmProgram(int64_t m, int64_t n, int64_t k, GemmScaleMode aMode,
                       GemmScaleMode bMode) {
  Program p;
  auto add = [&](const char *name, DType t, std::vector<int64_t> shape) {
    Buffer b;
    b.name = name;
    b.type.dtype = t;
    b.type.shape = std::move(shape);
    b.offset = p.arenaBytes;
    p.arenaBytes += (b.bytes() + 255) / 256 * 256;
    p.buffers.push_back(b);
    return uint32_t(p.buffers.size() - 1);
  };
  auto scaleShape = [](GemmScaleMode mode, int64_t rows, int64_t cols) -> std::vector<int64_t> {
    switch (mode) {
    case GemmScaleMode::Rowwise:
      return {rows, 1};
    case GemmScaleMode::Block1x128:
      return {rows, cols / 128};
    case GemmScaleMode::Block128x128:
      return {rows / 128, cols / 128};
    default:
      return {};
    }
  };
  Gemm g;
  g.name = "g";
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = add("a", DType::F8E4M3, {m, k});
  g.b = add("b", DType::F8E4M3, {n, k});
  g.d = add("d", DType::BF16, {m, n});
  g.aScale = add("a.scale", DType::F32, scaleShape(aMode, m, k));
  g.bScale = add("b.scale", DType::F32, scaleShape(bMode, n, k));
  g.transposeB = true;
  g.aScaleMode = aMode;
  g.bScaleMode = bMode;
  fp8rt::Function f;
  f.name = "f";
  fp8rt::Instruction inst;
  inst.kind = fp8rt::Instruction::Kind::Gemm;
  inst.gemm = g;
  f.instructions.push_back(inst);
  p.functions.push_back(f);
  return p;
}

TEST(CublasLtScaleStaging, BlockLayoutsArePaddedAndTransposed) {
  // 1x128 activations [200, 512] x 128x128 weights [384, 512].
  Program p = fp8GemmProgram(200, 384, 512, GemmScaleMode::Block1x128,
                             GemmScaleMode::Block128x128);
  fp8rt::StatusOr<cuda::GemmScaleStaging> s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->a.target, cuda::StagedScale::Vec128);
  EXPECT_EQ(s->a.ld, 200);                // rows, already a multiple of 4
  EXPECT_EQ(s->a.count, 200 * 4);         // [K/128 = 4][ld]
  EXPECT_EQ(s->b.target, cuda::StagedScale::Block128);
  EXPECT_EQ(s->b.ld, 4);                  // K/128 = 4, rounded up to 4
  EXPECT_EQ(s->b.count, 3 * 4);           // [384/128][ld]

  // Rows not a multiple of 4 are padded; K/128 = 2 pads to 4.
  p = fp8GemmProgram(130, 256, 256, GemmScaleMode::Block1x128, GemmScaleMode::Block128x128);
  s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->a.ld, 132);
  EXPECT_EQ(s->a.count, 132 * 2);
  EXPECT_EQ(s->b.ld, 4);
  EXPECT_EQ(s->b.count, 2 * 4);
}

TEST(CublasLtScaleStaging, CoarserOperandsAreBroadcast) {
  // Two 128x128 operands: cuBLASLt has no 2D x 2D kernel, A goes 1x128.
  Program p = fp8GemmProgram(256, 256, 256, GemmScaleMode::Block128x128,
                             GemmScaleMode::Block128x128);
  fp8rt::StatusOr<cuda::GemmScaleStaging> s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->a.source, GemmScaleMode::Block128x128);
  EXPECT_EQ(s->a.target, cuda::StagedScale::Vec128);
  EXPECT_EQ(s->b.target, cuda::StagedScale::Block128);

  // Tensorwise x rowwise: both as vectors.
  p = fp8GemmProgram(64, 32, 128, GemmScaleMode::Tensorwise, GemmScaleMode::Rowwise);
  s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->a.target, cuda::StagedScale::OuterVector);
  EXPECT_EQ(s->a.count, 64);
  EXPECT_EQ(s->b.target, cuda::StagedScale::OuterVector);
  EXPECT_EQ(s->b.count, 32);

  // Tensorwise x tensorwise: one float each.
  p = fp8GemmProgram(64, 32, 128, GemmScaleMode::Tensorwise, GemmScaleMode::Tensorwise);
  s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->a.count, 1);
  EXPECT_EQ(s->b.count, 1);
}

TEST(CublasLtScaleStaging, BlocksThatDoNotDivideAreRefused) {
  Program p = fp8GemmProgram(128, 128, 192, GemmScaleMode::Block1x128,
                             GemmScaleMode::Block1x128);
  fp8rt::StatusOr<cuda::GemmScaleStaging> s = cuda::planScaleStaging(p, p.functions[0].instructions[0].gemm);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("K = 192 is not a multiple of 128"), std::string::npos)
      << s.status().message();
}

TEST(CublasLtMatmul, GeluEpilogueIsRefusedWithTheReason) {
  Program p = fp8GemmProgram(64, 32, 128, GemmScaleMode::Tensorwise, GemmScaleMode::Tensorwise);
  Gemm &g = p.functions[0].instructions[0].gemm;
  g.epilogue = fp8rt::GemmEpilogue::Gelu;
  fp8rt::StatusOr<cuda::LtMatmul> mm =
      cuda::LtMatmul::create(p, g, cuda::GemmAddresses(), cuda::FastAccum::AsCompiled);
  ASSERT_FALSE(mm.ok());
  EXPECT_NE(mm.status().message().find("tanh approximation"), std::string::npos)
      << mm.status().message();
}

TEST(CublasLtMatmul, AccumulateReadsAnF32D) {
  Program p = fp8GemmProgram(64, 32, 128, GemmScaleMode::Tensorwise, GemmScaleMode::Tensorwise);
  Gemm &g = p.functions[0].instructions[0].gemm;
  g.accumulate = true;
  // A bf16 D: refused (the loader refuses it first, with the program's field).
  fp8rt::StatusOr<cuda::LtMatmul> mm =
      cuda::LtMatmul::create(p, g, cuda::GemmAddresses(), cuda::FastAccum::AsCompiled);
  ASSERT_FALSE(mm.ok());
  EXPECT_NE(mm.status().message().find("accumulate needs an f32 D"), std::string::npos)
      << mm.status().message();
  p.buffers[g.d].type.dtype = DType::F32;
  mm = cuda::LtMatmul::create(p, g, cuda::GemmAddresses(), cuda::FastAccum::AsCompiled);
  ASSERT_TRUE(mm.ok()) << mm.status().message();
  EXPECT_TRUE(mm->accumulate);
  const LayoutInfo lc = layoutOf(mm->cLayout), ld = layoutOf(mm->dLayout);
  EXPECT_EQ(lc.type, uint32_t(CUDA_R_32F));
  EXPECT_EQ(ld.type, uint32_t(CUDA_R_32F));
  EXPECT_EQ(lc.rows, ld.rows);
  EXPECT_EQ(lc.cols, ld.cols);
  EXPECT_EQ(lc.ld, ld.ld);
}

TEST(CublasLtMatmul, FastAccumulationCanBeForced) {
  Program p = fp8GemmProgram(64, 32, 128, GemmScaleMode::Tensorwise, GemmScaleMode::Tensorwise);
  const Gemm &g = p.functions[0].instructions[0].gemm; // fastAccum false as compiled
  for (auto [mode, want] : {std::pair{cuda::FastAccum::AsCompiled, 0},
                            std::pair{cuda::FastAccum::On, 1}, std::pair{cuda::FastAccum::Off, 0}}) {
    fp8rt::StatusOr<cuda::LtMatmul> mm = cuda::LtMatmul::create(p, g, cuda::GemmAddresses(), mode);
    ASSERT_TRUE(mm.ok()) << mm.status().message();
    EXPECT_EQ(descAttribute<int8_t>(mm->desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM), want);
  }
}

} // namespace
