//===- BackendComparison.h - One backend against the CPU backend -*- C++ -*-===//
//
// The checks shared by the GPU test (test/gpu, the CUDA backend) and the
// host emulator test (test/unit/CudaEmulatorTest.cpp, the generated CUDA
// kernels run on the CPU): the same program on the CPU backend (the
// reference) and on the backend under test.
//
// 1. Instruction by instruction: every instruction of train_step becomes a
//    one-instruction function of the same program, loaded on both backends.
//    The CPU runs them in order; before each, the other backend receives the
//    CPU's current bytes of the instruction's inputs, so both compute from
//    the same operands, and their outputs are compared:
//      - kernels made only of exactly rounded ops (casts, amax, scales,
//        quantize, transposes, add/mul chains): bit for bit;
//      - kernels with reductions or transcendental functions, and GEMMs:
//        |other - cpu| <= rtol * |cpu| + atol per element, rtol from the
//        output dtype (two ulps of f32/bf16, one FP8 step), atol = rtol *
//        max|cpu|; GEMMs: 1e-2 * (|cpu| + rms(cpu)) (FP8 fast accumulation
//        included).
// 2. A model trains N steps on both backends (synthetic corpus): every
//    step's loss within 2% of the CPU's, and the mean of the last 10 within 1%.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_TEST_COMMON_BACKENDCOMPARISON_H
#define FP8C_TEST_COMMON_BACKENDCOMPARISON_H

#include "fp8rt/Backend.h"
#include "fp8rt/Program.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fp8c::testing {

using BackendFactory = std::function<std::unique_ptr<fp8rt::Backend>()>;

/// A program file, loaded (a failure is a test failure and an empty program).
fp8rt::Program loadProgramForTest(const std::string &path);

/// Writes every persistent buffer's initial value, step = 1 and random
/// token ids into each backend.
void initialiseBuffers(const fp8rt::Program &p, const std::vector<fp8rt::Backend *> &backends,
                       uint64_t seed);

/// Part 1 on one program: every instruction of `function` (train_step, or
/// accumulate_step with gradient accumulation) on the CPU backend and on
/// `other` (which reports as `label`, "gpu" or "emulator").
void compareInstructions(const fp8rt::Program &compiled, const BackendFactory &other,
                         const std::string &label,
                         const std::string &function = "train_step");

/// Part 2: `steps` (>= 10) steps of training on both, losses compared.
void compareTraining(const fp8rt::Program &p, const BackendFactory &other, int steps,
                     const std::string &label);

} // namespace fp8c::testing

#endif // FP8C_TEST_COMMON_BACKENDCOMPARISON_H
