//===- FiberContext.h - Cooperative threads on one OS thread ----*- C++ -*-===//
//
// The emulator runs the threads of a CUDA block as fibers: each has its own
// stack and gives the CPU back only at a synchronisation point
// (__syncthreads, a warp shuffle) or when it ends. A switch saves and
// restores the callee-saved registers and the floating-point control words,
// nothing else (x86-64: a dozen instructions, where ucontext's swapcontext
// makes a system call; other architectures use ucontext).
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_EMU_FIBERCONTEXT_H
#define FP8RT_CUDA_EMU_FIBERCONTEXT_H

#include <cstddef>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace fp8rt::cuda::emu {

struct FiberContext {
#if defined(__x86_64__)
  void *stackPointer = nullptr;
#else
  ucontext_t context;
#endif
};

/// Makes `context` start `entry(argument)` on the stack [stack, stack + bytes)
/// at its first switchContext. `entry` must never return: it switches away
/// for the last time instead.
void makeFiberContext(FiberContext &context, void *stack, size_t bytes, void (*entry)(void *),
                      void *argument);

/// Saves the running context into `from` and resumes `to`.
void switchFiberContext(FiberContext &from, FiberContext &to);

} // namespace fp8rt::cuda::emu

#endif // FP8RT_CUDA_EMU_FIBERCONTEXT_H
