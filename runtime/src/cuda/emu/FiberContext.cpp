//===- FiberContext.cpp - Cooperative threads on one OS thread ------------===//

#include "FiberContext.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__)

// fp8emu_switch(void **saveSp, void *loadSp): pushes the System V
// callee-saved registers and the MXCSR / x87 control words on the running
// stack, stores the stack pointer in *saveSp, and pops the same from loadSp.
// A new context's stack is laid out as if it had been switched away from
// just before fp8emu_start, which calls r13(r12).
asm(R"(
  .text
  .p2align 4
  .globl fp8emu_switch
  .hidden fp8emu_switch
  .type fp8emu_switch, @function
fp8emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size fp8emu_switch, .-fp8emu_switch

  .p2align 4
  .globl fp8emu_start
  .hidden fp8emu_start
  .type fp8emu_start, @function
fp8emu_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size fp8emu_start, .-fp8emu_start
)");

extern "C" void fp8emu_switch(void **saveSp, void *loadSp);
extern "C" void fp8emu_start();

namespace fp8rt::cuda::emu {

void makeFiberContext(FiberContext &context, void *stack, size_t bytes, void (*entry)(void *),
                      void *argument) {
  // The top 16-aligned; fp8emu_start is entered with rsp = top - 16, so the
  // call into `entry` sees the ABI's rsp % 16 == 8.
  const uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + bytes) & ~uintptr_t(15);
  uint64_t *sp = reinterpret_cast<uint64_t *>(top - 16 - 64);
  uint32_t mxcsr;
  uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  uint64_t controls = 0;
  std::memcpy(&controls, &mxcsr, 4);
  std::memcpy(reinterpret_cast<char *>(&controls) + 4, &fpcw, 2);
  sp[0] = controls;
  sp[1] = 0;                                         // r15
  sp[2] = 0;                                         // r14
  sp[3] = reinterpret_cast<uint64_t>(entry);         // r13
  sp[4] = reinterpret_cast<uint64_t>(argument);      // r12
  sp[5] = 0;                                         // rbx
  sp[6] = 0;                                         // rbp
  sp[7] = reinterpret_cast<uint64_t>(&fp8emu_start); // return address
  context.stackPointer = sp;
}

void switchFiberContext(FiberContext &from, FiberContext &to) {
  fp8emu_switch(&from.stackPointer, to.stackPointer);
}

} // namespace fp8rt::cuda::emu

#else

namespace fp8rt::cuda::emu {

namespace {
struct Start {
  void (*entry)(void *);
  void *argument;
};
// makecontext passes int arguments only: the pointer travels in two halves.
void startTrampoline(unsigned hi, unsigned lo) {
  const uintptr_t p = (uintptr_t(hi) << 32) | uintptr_t(lo);
  Start *start = reinterpret_cast<Start *>(p);
  start->entry(start->argument);
}
} // namespace

void makeFiberContext(FiberContext &context, void *stack, size_t bytes, void (*entry)(void *),
                      void *argument) {
  getcontext(&context.context);
  // The start record lives at the bottom of the fiber's own stack.
  Start *start = static_cast<Start *>(stack);
  start->entry = entry;
  start->argument = argument;
  context.context.uc_stack.ss_sp = static_cast<char *>(stack) + 64;
  context.context.uc_stack.ss_size = bytes - 64;
  context.context.uc_link = nullptr;
  const uintptr_t p = reinterpret_cast<uintptr_t>(start);
  makecontext(&context.context, reinterpret_cast<void (*)()>(&startTrampoline), 2,
              unsigned(p >> 32), unsigned(p & 0xFFFFFFFFu));
}

void switchFiberContext(FiberContext &from, FiberContext &to) {
  swapcontext(&from.context, &to.context);
}

} // namespace fp8rt::cuda::emu

#endif
