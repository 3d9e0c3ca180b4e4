//===- CudaBackendGemms.cpp - Program GEMMs as cuBLASLt matmuls -----------===//
//
// One cuBLASLt descriptor per GEMM (CublasLtMatmul.h) with its heuristic
// algorithm, chosen at load; before each FP8 GEMM a small kernel stages the
// reciprocal scales in the layout cuBLASLt reads.
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

#include <algorithm>

namespace fp8rt::cuda {

/// One launch per FP8 GEMM, blockIdx.y picks the operand. Plain IEEE
/// division (NVRTC without fast math).
const char *const kStageScalesSource = R"(
struct ScaleOperand {
  const float *src;
  float *dst;
  int source;  // 0 tensorwise, 1 rowwise, 2 1x128, 3 128x128
  int target;  // 0 scalar, 1 outer vector, 2 vec128, 3 block128
  long long rows, kBlocks, ld, count;
};
extern "C" __global__ void fp8rt_stage_scales(ScaleOperand a, ScaleOperand b) {
  const ScaleOperand &o = blockIdx.y == 0 ? a : b;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= o.count)
    return;
  long long r = 0, kb = 0;
  if (o.target == 1) {
    r = i;
  } else if (o.target == 2) {
    kb = i / o.ld;
    r = i % o.ld;
    if (r >= o.rows) { o.dst[i] = 1.0f; return; }
  } else if (o.target == 3) {
    r = (i / o.ld) * 128;
    kb = i % o.ld;
    if (kb >= o.kBlocks) { o.dst[i] = 1.0f; return; }
  }
  long long s = 0;
  if (o.source == 1) s = r;
  else if (o.source == 2) s = r * o.kBlocks + kb;
  else if (o.source == 3) s = (r / 128) * o.kBlocks + kb;
  o.dst[i] = 1.0f / o.src[s];
}
)";

namespace {

int sourceCode(GemmScaleMode m) {
  switch (m) {
  case GemmScaleMode::Rowwise:
    return 1;
  case GemmScaleMode::Block1x128:
    return 2;
  case GemmScaleMode::Block128x128:
    return 3;
  case GemmScaleMode::None:
  case GemmScaleMode::Tensorwise:
    break;
  }
  return 0;
}

} // namespace

Status CudaBackend::planGemms(const Program &program) {
  gemms_.clear();
  cublasLtMatmulPreference_t preference = nullptr;
  FP8RT_CUBLASLT_RETURN_IF_ERROR(cublasLtMatmulPreferenceCreate, &preference);
  struct PreferenceGuard {
    cublasLtMatmulPreference_t p;
    ~PreferenceGuard() { (void)cublasLtMatmulPreferenceDestroy(p); }
  } guard{preference};
  const uint64_t workspace = kWorkspaceBytes;
  FP8RT_CUBLASLT_RETURN_IF_ERROR(cublasLtMatmulPreferenceSetAttribute, preference,
                                 CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                 sizeof workspace);

  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions) {
      if (inst.kind != Instruction::Kind::Gemm)
        continue;
      const Gemm &g = inst.gemm;
      GemmPlan plan;
      GemmAddresses addr;
      addr.a = at(g.a);
      addr.b = at(g.b);
      addr.d = at(g.d);
      if (g.bias != Gemm::kNone)
        addr.bias = at(g.bias);
      if (g.dScale != Gemm::kNone)
        addr.dScale = reinterpret_cast<const float *>(at(g.dScale));
      if (g.amaxD != Gemm::kNone)
        addr.amaxD = reinterpret_cast<float *>(at(g.amaxD));
      const bool fp8 = isFp8(program.buffers[g.a].type.dtype);
      if (fp8) {
        FP8RT_ASSIGN_OR_RETURN(GemmScaleStaging s, planScaleStaging(program, g));
        float *aDst = staging_, *bDst = staging_ + align256(uint64_t(s.a.count) * 4) / 4;
        addr.aScaleInverse = aDst;
        addr.bScaleInverse = bDst;
        auto arg = [&](const ScaleStaging &st, uint32_t buffer, float *dst) {
          ScaleOperandArg a;
          a.src = reinterpret_cast<const float *>(at(buffer));
          a.dst = dst;
          a.source = sourceCode(st.source);
          a.target = int32_t(st.target);
          a.rows = st.rows;
          a.kBlocks = st.cols / 128;
          a.ld = st.ld;
          a.count = st.count;
          return a;
        };
        plan.scaleA = arg(s.a, g.aScale, aDst);
        plan.scaleB = arg(s.b, g.bScale, bDst);
        plan.gridX = (uint64_t(std::max(s.a.count, s.b.count)) + kStageThreads - 1) / kStageThreads;
      }
      StatusOr<LtMatmul> mm = LtMatmul::create(program, g, addr, options_.fastAccum);
      if (!mm.ok())
        return mm.status().withContext(f.name);
      plan.matmul = std::move(*mm);
      cublasLtMatmulHeuristicResult_t result{};
      int found = 0;
      cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic(
          lt_, plan.matmul.desc, plan.matmul.aLayout, plan.matmul.bLayout, plan.matmul.cLayout,
          plan.matmul.dLayout, preference, 1, &result, &found);
      if (s != CUBLAS_STATUS_SUCCESS || found == 0)
        return unimplementedError(
            f.name + ": gemm " + plan.matmul.summary + ": cuBLASLt has no algorithm for it on " +
            device_.name + " (" + cublasStatusName(s) +
            (fp8 ? "; FP8 scale modes a=" + std::to_string(plan.scaleA.target) +
                       " b=" + std::to_string(plan.scaleB.target) + ", fast_accum " +
                       (plan.matmul.fastAccum ? "on" : "off")
                 : std::string()) +
            ")");
      plan.algo = result.algo;
      gemms_.push_back(std::move(plan));
    }
  return Status::success();
}

Status CudaBackend::enqueueGemm(const GemmPlan &g) {
  const LtMatmul &mm = g.matmul;
  if (mm.fp8) {
    ScaleOperandArg a = g.scaleA, b = g.scaleB;
    void *args[] = {&a, &b};
    FP8RT_CUDA_RETURN_IF_ERROR(cudaLaunchKernel(reinterpret_cast<const void *>(stageScales_),
                                                dim3(unsigned(g.gridX), 2, 1),
                                                dim3(kStageThreads, 1, 1), args, 0, stream_));
  }
  // beta = 1 adds the old D (C = D) to the product: accumulate.
  const float one = 1.0f, zero = 0.0f;
  return cublasStatus(cublasLtMatmul(lt_, mm.desc, &one, mm.ltA, mm.aLayout, mm.ltB, mm.bLayout,
                                     mm.accumulate ? &one : &zero, mm.ltD, mm.cLayout, mm.ltD,
                                     mm.dLayout, &g.algo, workspace_, kWorkspaceBytes, stream_),
                      "cublasLtMatmul");
}

} // namespace fp8rt::cuda
