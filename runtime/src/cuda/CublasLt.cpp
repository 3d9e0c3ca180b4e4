//===- CublasLt.cpp - A program GEMM as a cuBLASLt matmul -----------------===//
//
// The scale staging plan (CublasLt.h) and the descriptor and layouts of one
// `gemm` instruction (CublasLtMatmul.h). Host only: nothing here touches a
// device.
//
//===----------------------------------------------------------------------===//

#include "CublasLtMatmul.h"

#include "CudaStatus.h"

#include <utility>

namespace fp8rt::cuda {

namespace {

StatusOr<cudaDataType_t> cudaType(DType t) {
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
  case DType::I32:
  case DType::I64:
  case DType::I8:
  case DType::U8:
    break;
  }
  return unimplementedError(std::string("cuBLASLt GEMMs of ") + dtypeName(t) +
                            " are not supported (floating-point operands only)");
}

int64_t roundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/// Rows and columns of a buffer read as a matrix: leading dimensions
/// flattened, as the CPU backend reads it.
void matrixShape(const TensorType &t, int64_t &rows, int64_t &cols) {
  cols = t.shape.empty() ? 1 : t.shape.back();
  rows = cols == 0 ? 0 : t.numElements() / cols;
}

template <typename T>
Status setAttribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute,
                    const T &value, const char *attributeName) {
  cublasStatus_t s = cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof value);
  if (s == CUBLAS_STATUS_SUCCESS)
    return Status::success();
  return unimplementedError(std::string("cublasLtMatmulDescSetAttribute(") + attributeName +
                            ") failed: " + cublasStatusName(s) +
                            " (this cuBLASLt does not support it)");
}

cublasLtMatmulMatrixScale_t ltScaleMode(StagedScale s) {
  switch (s) {
  case StagedScale::Scalar:
    break;
  case StagedScale::OuterVector:
    return CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
  case StagedScale::Vec128:
    return CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
  case StagedScale::Block128:
    return CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
  }
  return CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F;
}

bool isBlock(GemmScaleMode m) {
  return m == GemmScaleMode::Block1x128 || m == GemmScaleMode::Block128x128;
}

/// Fills ld and count for a target layout; checks that blocks divide.
Status sizeStaging(ScaleStaging &s, const char *operand) {
  const bool blocks = s.target == StagedScale::Vec128 || s.target == StagedScale::Block128;
  if (blocks && s.cols % 128 != 0)
    return invalidArgumentError(std::string("operand ") + operand +
                                ": K = " + std::to_string(s.cols) +
                                " is not a multiple of 128 (block scales)");
  switch (s.target) {
  case StagedScale::Scalar:
    s.ld = 1;
    s.count = 1;
    break;
  case StagedScale::OuterVector:
    s.ld = s.rows;
    s.count = s.rows;
    break;
  case StagedScale::Vec128:
    s.ld = roundUp(s.rows, 4);
    s.count = s.ld * (s.cols / 128);
    break;
  case StagedScale::Block128:
    if (s.rows % 128 != 0)
      return invalidArgumentError(std::string("operand ") + operand + ": " +
                                  std::to_string(s.rows) +
                                  " rows are not a multiple of 128 (128x128 block scales)");
    s.ld = roundUp(s.cols / 128, 4);
    s.count = s.ld * (s.rows / 128);
    break;
  }
  return Status::success();
}

} // namespace

StatusOr<GemmScaleStaging> planScaleStaging(const Program &program, const Gemm &g) {
  GemmScaleStaging plan;
  auto norm = [](GemmScaleMode m) {
    return m == GemmScaleMode::None ? GemmScaleMode::Tensorwise : m;
  };
  plan.a.source = norm(g.aScaleMode);
  plan.b.source = norm(g.bScaleMode);
  matrixShape(program.buffers[g.a].type, plan.a.rows, plan.a.cols);
  matrixShape(program.buffers[g.b].type, plan.b.rows, plan.b.cols);

  const GemmScaleMode ma = plan.a.source, mb = plan.b.source;
  if (isBlock(ma) || isBlock(mb)) {
    // Block scaling: 1x128 x 1x128, 1x128 x 128x128 or 128x128 x 1x128.
    // Two 128x128 operands: the program's A (the activation side) goes
    // 1x128, each block scale repeated over its 128 rows.
    plan.a.target = StagedScale::Vec128;
    plan.b.target = StagedScale::Vec128;
    if (mb == GemmScaleMode::Block128x128)
      plan.b.target = StagedScale::Block128;
    else if (ma == GemmScaleMode::Block128x128)
      plan.a.target = StagedScale::Block128;
  } else if (ma == GemmScaleMode::Rowwise || mb == GemmScaleMode::Rowwise) {
    plan.a.target = plan.b.target = StagedScale::OuterVector;
  } else {
    plan.a.target = plan.b.target = StagedScale::Scalar;
  }
  FP8RT_RETURN_IF_ERROR(sizeStaging(plan.a, "a"));
  FP8RT_RETURN_IF_ERROR(sizeStaging(plan.b, "b"));
  return plan;
}

LtMatmul &LtMatmul::operator=(LtMatmul &&o) noexcept {
  if (this != &o) {
    destroy();
    desc = std::exchange(o.desc, nullptr);
    aLayout = std::exchange(o.aLayout, nullptr);
    bLayout = std::exchange(o.bLayout, nullptr);
    cLayout = std::exchange(o.cLayout, nullptr);
    dLayout = std::exchange(o.dLayout, nullptr);
    ltA = o.ltA;
    ltB = o.ltB;
    ltD = o.ltD;
    fp8 = o.fp8;
    fastAccum = o.fastAccum;
    accumulate = o.accumulate;
    summary = std::move(o.summary);
  }
  return *this;
}

LtMatmul::~LtMatmul() { destroy(); }

void LtMatmul::destroy() {
  // Destroy calls only fail on invalid handles; nothing to report then.
  for (cublasLtMatrixLayout_t *l : {&aLayout, &bLayout, &cLayout, &dLayout})
    if (*l) {
      (void)cublasLtMatrixLayoutDestroy(*l);
      *l = nullptr;
    }
  if (desc) {
    (void)cublasLtMatmulDescDestroy(desc);
    desc = nullptr;
  }
}

StatusOr<LtMatmul> LtMatmul::create(const Program &program, const Gemm &g,
                                    const GemmAddresses &addr, FastAccum fastAccumMode) {
  const std::vector<Buffer> &buffers = program.buffers;
  const TensorType &aType = buffers[g.a].type, &bType = buffers[g.b].type,
                   &dType = buffers[g.d].type;
  LtMatmul mm;
  mm.fp8 = isFp8(aType.dtype);
  mm.summary = g.name + ": " + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" +
               std::to_string(g.k) + " " + dtypeName(aType.dtype) + " x " + dtypeName(bType.dtype) +
               " -> " + dtypeName(dType.dtype);
  auto fail = [&](const Status &s) { return s.withContext("gemm " + mm.summary); };

  StatusOr<cudaDataType_t> aCuda = cudaType(aType.dtype), bCuda = cudaType(bType.dtype),
                           dCuda = cudaType(dType.dtype);
  for (const StatusOr<cudaDataType_t> *t : {&aCuda, &bCuda, &dCuda})
    if (!t->ok())
      return fail(t->status());
  if (mm.fp8 != isFp8(bType.dtype))
    return fail(invalidArgumentError("one FP8 operand and one of another type"));
  if (!mm.fp8 && aType.dtype != bType.dtype)
    return fail(invalidArgumentError("operands of different types"));
  mm.accumulate = g.accumulate;
  if (g.accumulate && (dType.dtype != DType::F32 || g.epilogue != GemmEpilogue::None))
    return fail(invalidArgumentError("accumulate needs an f32 D and no epilogue"));
  if (g.epilogue == GemmEpilogue::Gelu || g.epilogue == GemmEpilogue::BiasGelu)
    return fail(unimplementedError(
        "a GELU epilogue: cuBLASLt's is the tanh approximation and the program's "
        "gelu is exact (erf); compile without fusing gelu into the GEMM"));

  Status s = cublasStatus(cublasLtMatmulDescCreate(&mm.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                          "cublasLtMatmulDescCreate");
  if (!s.ok())
    return fail(s);

  // cuBLASLt's A is the program's B (see the header).
  const cublasOperation_t transA = g.transposeB ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t transB = g.transposeA ? CUBLAS_OP_T : CUBLAS_OP_N;
  s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_TRANSA, transA, "TRANSA");
  if (s.ok())
    s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_TRANSB, transB, "TRANSB");

  if (s.ok() && mm.fp8) {
    FP8RT_ASSIGN_OR_RETURN(GemmScaleStaging staging, planScaleStaging(program, g));
    const int32_t ltAMode = ltScaleMode(staging.b.target), ltBMode = ltScaleMode(staging.a.target);
    const void *ltAScale = addr.bScaleInverse, *ltBScale = addr.aScaleInverse;
    s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, ltAScale, "A_SCALE_POINTER");
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, ltBScale, "B_SCALE_POINTER");
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, ltAMode, "A_SCALE_MODE");
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, ltBMode, "B_SCALE_MODE");
    // Block-scaled FP8 GEMMs accumulate in full precision only (cuBLASLt
    // has no fast-accumulation kernels for them).
    const bool blocks =
        staging.a.target == StagedScale::Vec128 || staging.a.target == StagedScale::Block128;
    mm.fastAccum =
        fastAccumMode == FastAccum::AsCompiled ? g.fastAccum : fastAccumMode == FastAccum::On;
    if (blocks)
      mm.fastAccum = false;
    const int8_t fast = mm.fastAccum ? 1 : 0;
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_FAST_ACCUM, fast, "FAST_ACCUM");
    if (s.ok() && isFp8(dType.dtype)) {
      if (!addr.dScale && g.dScale != Gemm::kNone)
        return fail(internalError("no device address for d_scale"));
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_D_SCALE_POINTER,
                       static_cast<const void *>(addr.dScale), "D_SCALE_POINTER");
    }
  }
  if (s.ok() && g.amaxD != Gemm::kNone)
    s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_AMAX_D_POINTER, static_cast<void *>(addr.amaxD),
                     "AMAX_D_POINTER");
  if (s.ok() && g.epilogue == GemmEpilogue::Bias) {
    FP8RT_ASSIGN_OR_RETURN(cudaDataType_t biasType, cudaType(buffers[g.bias].type.dtype));
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    const int32_t biasTypeValue = biasType;
    s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue, "EPILOGUE");
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, addr.bias, "BIAS_POINTER");
    if (s.ok())
      s = setAttribute(mm.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, biasTypeValue,
                       "BIAS_DATA_TYPE");
  }
  if (!s.ok())
    return fail(s);

  // Layouts of the stored matrices (column-major view of row-major data:
  // rows and columns swap, the leading dimension is the stored row length).
  int64_t aRows, aCols, bRows, bCols;
  matrixShape(aType, aRows, aCols);
  matrixShape(bType, bRows, bCols);
  // cuBLASLt's A = program B, stored [bRows, bCols] row-major = column-major
  // bCols x bRows with ld bCols.
  s = cublasStatus(
      cublasLtMatrixLayoutCreate(&mm.aLayout, *bCuda, uint64_t(bCols), uint64_t(bRows), bCols),
      "cublasLtMatrixLayoutCreate(A)");
  if (s.ok())
    s = cublasStatus(
        cublasLtMatrixLayoutCreate(&mm.bLayout, *aCuda, uint64_t(aCols), uint64_t(aRows), aCols),
        "cublasLtMatrixLayoutCreate(B)");
  // D' is n x m column-major (ld n): the program's row-major [m, n].
  if (s.ok())
    s = cublasStatus(
        cublasLtMatrixLayoutCreate(&mm.dLayout, *dCuda, uint64_t(g.n), uint64_t(g.m), g.n),
        "cublasLtMatrixLayoutCreate(D)");
  // C is D itself (same pointer and layout): read with beta = 1 when the GEMM
  // accumulates, else never read (beta = 0), but it needs a type cuBLASLt
  // accepts with this D: an FP8 D takes a 16-bit C.
  const cudaDataType_t cType = isFp8(dType.dtype) ? CUDA_R_16BF : *dCuda;
  if (s.ok())
    s = cublasStatus(
        cublasLtMatrixLayoutCreate(&mm.cLayout, cType, uint64_t(g.n), uint64_t(g.m), g.n),
        "cublasLtMatrixLayoutCreate(C)");
  if (!s.ok())
    return fail(s);

  // The stored shapes must be what op() needs (the loader checked the GEMM
  // against its buffers; this guards the mapping above).
  const int64_t wantA = g.transposeA ? g.m : g.k, wantB = g.transposeB ? g.k : g.n;
  if (aCols != wantA || bCols != wantB)
    return fail(internalError("stored operand shapes do not match m, n, k"));

  mm.ltA = addr.b;
  mm.ltB = addr.a;
  mm.ltD = addr.d;
  return mm;
}

} // namespace fp8rt::cuda
