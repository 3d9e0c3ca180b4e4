//===- EmuAbi.h - What emulated kernels and the emulator share --*- C++ -*-===//
//
// The one structure through which host-compiled CUDA code (HostShim.cpp's
// shim + a program's generated kernels) reaches the emulator's scheduler:
// CUDA's built-in variables, dynamic shared memory, and the calls that need
// the other threads of the block (__syncthreads, warp shuffles, static
// __shared__ arrays, and the warp-wide gather under the tensor-core
// instructions: every lane's `bytes` from `mine`, in lane order, into each
// lane's `all`). Declared once as a macro so that the emulator compiles
// it and the shim embeds the same text (FP8EMU_ABI_TEXT).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_EMU_EMUABI_H
#define FP8RT_CUDA_EMU_EMUABI_H

#define FP8EMU_ABI_DECLARATIONS                                                                    \
  struct Fp8EmuDim3 {                                                                              \
    unsigned x, y, z;                                                                              \
  };                                                                                               \
  struct Fp8EmuState {                                                                             \
    Fp8EmuDim3 threadIdx, blockIdx, blockDim, gridDim;                                             \
    unsigned char *dynamicShared;                                                                  \
    void *scheduler;                                                                               \
    void (*syncthreads)(void *scheduler);                                                          \
    void (*shflXor)(void *scheduler, void *value, unsigned bytes, int laneMask, unsigned mask);    \
    unsigned char *(*sharedArray)(void *scheduler, int site, unsigned long long bytes);            \
    void (*warpGather)(void *scheduler, const void *mine, void *all, unsigned bytes);              \
  };

#define FP8EMU_STRINGIFY_(...) #__VA_ARGS__
#define FP8EMU_STRINGIFY(...) FP8EMU_STRINGIFY_(__VA_ARGS__)
#define FP8EMU_ABI_TEXT FP8EMU_STRINGIFY(FP8EMU_ABI_DECLARATIONS)

FP8EMU_ABI_DECLARATIONS

#endif // FP8RT_CUDA_EMU_EMUABI_H
