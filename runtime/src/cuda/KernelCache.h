//===- KernelCache.h - On-disk cache of NVRTC cubins ------------*- C++ -*-===//
//
// Compiling every kernel of gpt2-small with NVRTC takes long enough to matter
// at each start, and the sources only change with the program. A cubin is
// stored under a key made of the source's hash, the architecture and the
// NVRTC version, so a new compiler or GPU never reuses a stale binary.
// Files are written atomically (AtomicFile.h); a file that fails to load is
// recompiled and replaced by the caller.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_CUDA_KERNELCACHE_H
#define FP8RT_SRC_CUDA_KERNELCACHE_H

#include "fp8rt/Status.h"

#include <string>

namespace fp8rt::cuda {

/// $FP8C_CACHE_DIR, else $XDG_CACHE_HOME/fp8c, else $HOME/.cache/fp8c, else ""
/// (no cache).
std::string defaultKernelCacheDir();

/// "<128-bit source hash>-<arch>-nvrtc<version>.cubin".
std::string kernelCacheFileName(const std::string &source, const std::string &arch,
                                const std::string &nvrtcVersion);

/// Reads `dir/fileName` into `out`; false when it is absent or unreadable.
bool readCachedKernel(const std::string &dir, const std::string &fileName, std::string &out);

/// Creates `dir` (and its parents) and writes the cubin atomically.
Status writeCachedKernel(const std::string &dir, const std::string &fileName,
                         const std::string &cubin);

} // namespace fp8rt::cuda

#endif // FP8RT_SRC_CUDA_KERNELCACHE_H
