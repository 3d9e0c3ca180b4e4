//===- Backend.h - What executes a loaded program ---------------*- C++ -*-===//
//
// A backend owns the arena of one program and runs its functions. The trainer
// (Trainer.h) only talks to this interface, so the CPU backend (the reference)
// and the CUDA backend are interchangeable under it.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_BACKEND_H
#define FP8RT_BACKEND_H

#include "fp8rt/Program.h"
#include "fp8rt/Status.h"

#include <memory>
#include <string>

namespace fp8rt {

class Backend {
public:
  virtual ~Backend() = default;
  /// "cpu" or "cuda".
  virtual const char *name() const = 0;
  /// One line for the user: "CPU backend (OpenBLAS, 2 threads)".
  virtual std::string description() const = 0;
  /// Allocates the arena of `program` (zeroed) and writes its constants. The
  /// program must outlive the backend. Persistent buffers are not initialised
  /// here: the trainer does that (it knows the seed) or loads a checkpoint.
  virtual Status load(const Program &program) = 0;
  /// Copies `bytes` bytes (exactly the buffer's size) into / out of a buffer.
  virtual Status write(uint32_t buffer, const void *data, size_t bytes) = 0;
  virtual Status read(uint32_t buffer, void *data, size_t bytes) = 0;
  /// Sets the `bytes` bytes (exactly the buffer's size) of a buffer to zero: the
  /// trainer's gradient accumulators before every optimizer step. The CPU and
  /// CUDA backends clear them in place (memset, cudaMemsetAsync) instead of
  /// copying a host buffer of zeros; the default writes one through write().
  virtual Status zero(uint32_t buffer, size_t bytes);
  /// Runs one function of the loaded program. Errors name the instruction
  /// ("train_step: instruction 12 (kernel k12_embedding): token id 300 is
  /// outside [0, 256)").
  virtual Status run(const Function &function) = 0;
};

/// The check of every backend's write() and read(): a program is loaded,
/// `buffer` exists and `bytes` is its size. Messages start with `backend` and
/// `what`: "cpu backend: write of buffer 3 ("loss", f32[]): 8 bytes given, the
/// buffer holds 4".
Status checkBufferAccess(const Program *program, uint32_t buffer, size_t bytes, const char *backend,
                         const char *what);

/// The reference backend: host memory, OpenBLAS GEMMs, exact FP8 emulation.
std::unique_ptr<Backend> createCpuBackend();

/// Runs the kernel instructions of a program on host memory some other way
/// than the CPU backend's interpreter (the CUDA host emulator,
/// cuda/HostEmulator.h), under a CPU backend that keeps the arena, the GEMMs
/// and the copies.
class KernelExecutor {
public:
  virtual ~KernelExecutor() = default;
  /// The backend's name ("cuda-emu") and its line for the user.
  virtual const char *name() const = 0;
  virtual std::string description() const = 0;
  /// Prepares every kernel of `program` (which outlives the executor).
  virtual Status load(const Program &program) = 0;
  /// Runs `kernel`, an instruction of the loaded program, on `arena`.
  virtual Status run(const Kernel &kernel, uint8_t *arena) = 0;
};

/// The CPU backend with its kernel instructions run by `kernels`.
std::unique_ptr<Backend> createCpuBackend(std::unique_ptr<KernelExecutor> kernels);

} // namespace fp8rt

#endif // FP8RT_BACKEND_H
