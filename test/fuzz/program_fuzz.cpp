//===- program_fuzz.cpp - libFuzzer target for the program loader --------===//
//
// Any input must give either an error that names the file, or a program whose
// every buffer view lies inside the arena; such a program then runs each of
// its functions once on the CPU backend over a zero arena, which must not
// crash (errors are fine: a zero scale or an out-of-range id is data, not a
// bug). Built with scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,
// undefined).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// Bounds on the work of one input, so that the fuzzer explores instead of
// multiplying large matrices.
constexpr uint64_t kMaxArenaBytes = uint64_t(16) << 20;
constexpr uint64_t kMaxKernelElements = 1000000;
constexpr uint64_t kMaxGemmFlops = 100000000;

bool cheapToRun(const fp8rt::Program &p) {
  if (p.arenaBytes > kMaxArenaBytes)
    return false;
  uint64_t elements = 0, flops = 0;
  for (const fp8rt::Function &f : p.functions)
    for (const fp8rt::Instruction &inst : f.instructions) {
      if (inst.kind == fp8rt::Instruction::Kind::Gemm) {
        // D is [m, n] inside an arena of at most 16 MiB: m·n cannot overflow.
        const uint64_t mn = uint64_t(inst.gemm.m) * uint64_t(inst.gemm.n);
        if (mn > kMaxGemmFlops || uint64_t(inst.gemm.k) > kMaxGemmFlops / mn)
          return false;
        flops += mn * uint64_t(inst.gemm.k);
      }
      if (inst.kind == fp8rt::Instruction::Kind::Kernel)
        for (const fp8rt::KernelOp &op : inst.kernel.ops)
          for (const fp8rt::TensorType &t : op.results) {
            elements += uint64_t(t.numElements());
            if (elements > kMaxKernelElements)
              return false;
          }
      if (flops > kMaxGemmFlops)
        return false;
    }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  fp8rt::StatusOr<fp8rt::Program> p = fp8rt::parseProgram(text, "fuzz.fp8prog");
  if (!p.ok()) {
    if (p.status().message().rfind("fuzz.fp8prog: ", 0) != 0)
      std::abort(); // every error names the file
    return 0;
  }
  // The loader's promises about the arena.
  for (const fp8rt::Buffer &b : p->buffers)
    if (b.offset % fp8rt::Program::kAlignment != 0 || b.bytes() > p->arenaBytes ||
        b.offset > p->arenaBytes - b.bytes())
      std::abort();
  if (!cheapToRun(*p))
    return 0;
  std::unique_ptr<fp8rt::Backend> backend = fp8rt::createCpuBackend();
  if (!backend->load(*p).ok())
    return 0;
  for (const fp8rt::Function &f : p->functions)
    backend->run(f).ignoreError();
  return 0;
}
