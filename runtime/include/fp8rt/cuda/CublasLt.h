//===- CublasLt.h - A program GEMM as a cuBLASLt matmul ---------*- C++ -*-===//
//
// The host side of the CUDA backend's GEMMs: how one `gemm` instruction
// (docs/program-format.md) maps onto a cuBLASLt matmul, in the project's own
// types. The descriptors themselves (LtMatmul) are private to runtime/src/cuda
// (CublasLtMatmul.h), so no public header includes a CUDA header. None of
// this needs a GPU, so the CI test (test/unit/CublasLtHostTest.cpp) builds the
// exact descriptors the backend uses for every GEMM of every example.
//
// Row-major to column-major: the program's D[m, n] = op(A)[m, k] op(B)[k, n]
// is cuBLASLt's column-major D'[n, m] = op(B') op(A') with cuBLASLt's A the
// program's B and cuBLASLt's B the program's A (no copies, only the roles
// swap). An FP8 GEMM (TN in the program) stays TN for cuBLASLt.
//
// Scales: the fp8 dialect divides each code by its scale, cuBLASLt multiplies,
// so the backend stages reciprocals on the device (a small kernel before each
// FP8 GEMM) in the layout cuBLASLt reads (ScaleStaging).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_CUBLASLT_H
#define FP8RT_CUDA_CUBLASLT_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <cstdint>
#include <string>

namespace fp8rt::cuda {

/// Whether each GEMM's `fast_accum` flag is used as compiled or overridden.
enum class FastAccum : uint8_t { AsCompiled, On, Off };

/// The layout in which one operand's reciprocal scales are staged for
/// cuBLASLt. The source is the program's scale buffer (its `*_scale_mode`
/// layout, docs/program-format.md); the target is what cuBLASLt reads:
///   Scalar: one float;
///   OuterVector (OUTER_VEC_32F): one float per row of the operand;
///   Vec128 (VEC128_32F, 1x128 blocks along K): [K/128][ld] with
///     ld = rows rounded up to 4 (rows contiguous, "GEMM ready" as
///     Transformer Engine calls it);
///   Block128 (BLK128x128_32F): [rows/128][ld], ld = K/128 rounded up to 4.
/// A coarser source is broadcast into a finer target (a tensorwise scale into
/// a vector, a 128x128 block scale into 1x128 blocks): the products do not
/// change, and cuBLASLt needs both operands in compatible modes (it runs
/// neither tensorwise x rowwise nor 128x128 x 128x128).
enum class StagedScale : uint8_t { Scalar, OuterVector, Vec128, Block128 };

struct ScaleStaging {
  GemmScaleMode source = GemmScaleMode::Tensorwise;
  StagedScale target = StagedScale::Scalar;
  int64_t rows = 0, cols = 0; ///< the operand as stored (cols is K)
  int64_t ld = 1;             ///< leading dimension of the staged layout
  int64_t count = 1;          ///< floats staged (padding included)
};

/// The staging of a GEMM's two scale operands (an FP8 GEMM only). Errors:
/// shapes a block mode does not divide (K, or rows of a 128x128 operand).
struct GemmScaleStaging {
  ScaleStaging a, b; ///< the program's A and B
};
StatusOr<GemmScaleStaging> planScaleStaging(const Program &program, const Gemm &gemm);

/// Device addresses of one GEMM's operands (the program's roles). The scale
/// pointers are the staged reciprocals, not the program's buffers.
struct GemmAddresses {
  const void *a = nullptr, *b = nullptr;
  void *d = nullptr;
  const void *bias = nullptr;
  const float *aScaleInverse = nullptr, *bScaleInverse = nullptr;
  const float *dScale = nullptr;
  float *amaxD = nullptr;
};

} // namespace fp8rt::cuda

#endif // FP8RT_CUDA_CUBLASLT_H
