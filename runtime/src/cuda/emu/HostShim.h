//===- HostShim.h - CUDA C++ as host C++ ------------------------*- C++ -*-===//
//
// What makes a generated CUDA translation unit (KernelCodegen.h) compile
// with the host's C++ compiler: a shim defining the CUDA keywords,
// intrinsics and built-in variables the generator uses, over EmuAbi.h's
// state, and a rewrite of the `__shared__` declarations (static and extern)
// into per-block storage the emulator provides.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_CUDA_EMU_HOSTSHIM_H
#define FP8RT_CUDA_EMU_HOSTSHIM_H

#include <string>

namespace fp8rt::cuda::emu {

/// Host C++ to put before the rewritten CUDA source. Defines
/// `extern "C" void fp8emu_bind(Fp8EmuState *)`, which the emulator calls
/// once per loaded module.
std::string hostShim();

/// `source` with every `__shared__ T name[N]...;` (in code: comments and
/// literals are left alone) turned into a reference to
/// per-block storage of the emulator (one site number per declaration) and
/// every `extern __shared__ T name[];` into a pointer to the launch's dynamic
/// shared memory. Returns false (with `error` naming the line) on a
/// declaration it cannot parse.
bool rewriteSharedDeclarations(const std::string &source, std::string &rewritten,
                               std::string &error);

} // namespace fp8rt::cuda::emu

#endif // FP8RT_CUDA_EMU_HOSTSHIM_H
