//===- CublasLtMatmul.h - One program GEMM's cuBLASLt handles ---*- C++ -*-===//
//
// Private to runtime/src/cuda (and the host test, which inspects the
// descriptors): the cuBLASLt matmul descriptor and matrix layouts of one
// `gemm` instruction, built from the plan of fp8rt/cuda/CublasLt.h. Row-major
// to column-major and the scale mapping are described there.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CUDA_CUBLASLTMATMUL_H
#define FP8RT_SRC_CUDA_CUBLASLTMATMUL_H

#include "fp8rt/cuda/CublasLt.h"

#include <cublasLt.h>

#include <string>

namespace fp8rt::cuda {

/// One program GEMM as a cuBLASLt matmul: the descriptor with every attribute
/// set, and the A, B, C and D layouts (cuBLASLt's roles). Owns the handles.
class LtMatmul {
public:
  /// Builds the descriptor and the layouts. Errors name the GEMM and the
  /// cuBLASLt call, or say what the program asks that cuBLASLt cannot do
  /// (GELU: cuBLASLt's epilogue is the tanh approximation, the program's
  /// gelu is exact).
  static StatusOr<LtMatmul> create(const Program &program, const Gemm &gemm,
                                   const GemmAddresses &addresses, FastAccum fastAccum);

  LtMatmul() = default;
  LtMatmul(LtMatmul &&other) noexcept { *this = static_cast<LtMatmul &&>(other); }
  LtMatmul &operator=(LtMatmul &&other) noexcept;
  LtMatmul(const LtMatmul &) = delete;
  LtMatmul &operator=(const LtMatmul &) = delete;
  ~LtMatmul();

  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t aLayout = nullptr, bLayout = nullptr, cLayout = nullptr, dLayout = nullptr;
  /// cuBLASLt's operands (A' = the program's B, B' = the program's A).
  const void *ltA = nullptr, *ltB = nullptr;
  void *ltD = nullptr;
  bool fp8 = false;
  bool fastAccum = false; ///< as set on the descriptor
  /// D = op(A) · op(B) + D: beta = 1 with C = D (same layout); else beta = 0.
  bool accumulate = false;
  /// "transformer.h.0.attn.c_attn.forward: 512x2304x768 f8e4m3 x f8e4m3 -> bf16"
  std::string summary;

private:
  void destroy();
};

} // namespace fp8rt::cuda

#endif // FP8RT_SRC_CUDA_CUBLASLTMATMUL_H
