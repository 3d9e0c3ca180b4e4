//===- KernelCodegenImpl.h - Private to runtime/src/cuda/KernelCodegen*.cpp ===//

#ifndef FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H
#define FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H

namespace fp8rt::cuda::detail {
/// The device code every generated translation unit starts with (Prelude.cpp).
const char *preludeSource();
} // namespace fp8rt::cuda::detail

#endif // FP8RT_SRC_CUDA_KERNELCODEGENIMPL_H
