//===- CudaBackendBuffers.cpp - The CUDA backend's device memory ----------===//
//
// One cudaMalloc for the arena, one each for the kernel scratch, the offset
// table, the cuBLASLt workspace and the two staging areas (all instructions
// run in order on one stream, so they can share), and a pinned mirror of the
// output and metric buffers that run() refreshes and read() serves.
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

#include "fp8rt/cpu/KernelOps.h"

#include <algorithm>
#include <cstring>

namespace fp8rt::cuda {

Status CudaBackend::allocate(const Program &program) {
  void *p = nullptr;
  cudaError_t e = cudaMalloc(&p, program.arenaBytes ? program.arenaBytes : 256);
  if (e != cudaSuccess) {
    (void)cudaGetLastError(); // clear the sticky-free allocation error
    size_t freeBytes = 0, totalBytes = 0;
    (void)cudaMemGetInfo(&freeBytes, &totalBytes);
    return outOfRangeError("cuda backend: cannot allocate the arena: the program's planned "
                           "peak is " +
                           std::to_string(program.arenaBytes) + " bytes (" +
                           gib(program.arenaBytes) + "), " + device_.name + " has " +
                           gib(freeBytes) + " free of " + gib(totalBytes) + " (" +
                           cudaGetErrorName(e) +
                           "); compile a smaller batch or more grad_accum_steps "
                           "(fp8c --memory-report shows the plan)");
  }
  arenaAllocation_.reset(p);
  arena_ = static_cast<uint8_t *>(p);
  FP8RT_CUDA_RETURN_IF_ERROR(cudaMemset(arena_, 0, program.arenaBytes));

  auto extra = [&](DevicePtr &owner, uint64_t bytes, const char *what) -> Status {
    if (bytes == 0)
      return Status::success();
    void *q = nullptr;
    cudaError_t err = cudaMalloc(&q, bytes);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return outOfRangeError(std::string("cuda backend: cannot allocate ") + what + " (" +
                             gib(bytes) + ") beside the arena of " + gib(program.arenaBytes) +
                             ": " + cudaGetErrorName(err));
    }
    owner.reset(q);
    stats_.extraDeviceBytes += bytes;
    return Status::success();
  };
  uint64_t scratchBytes = 0;
  for (const GeneratedKernel &k : generated_)
    scratchBytes = std::max(scratchBytes, k.scratchBytes);
  FP8RT_RETURN_IF_ERROR(extra(scratchAllocation_, scratchBytes, "the kernel scratch"));
  scratch_ = scratchAllocation_.get();
  // The kernels' buffer offsets (their `off` argument), one table for all.
  std::vector<int64_t> offsets;
  std::vector<size_t> offsetsStart;
  for (const GeneratedKernel &k : generated_) {
    offsetsStart.push_back(offsets.size());
    offsets.insert(offsets.end(), k.offsets.begin(), k.offsets.end());
  }
  FP8RT_RETURN_IF_ERROR(
      extra(offsetsAllocation_, offsets.size() * sizeof(int64_t), "the kernel offset table"));
  if (!offsets.empty())
    FP8RT_CUDA_RETURN_IF_ERROR(cudaMemcpy(offsetsAllocation_.get(), offsets.data(),
                                          offsets.size() * sizeof(int64_t),
                                          cudaMemcpyHostToDevice));
  for (size_t i = 0; i < kernels_.size(); ++i)
    kernels_[i].offsets = static_cast<const int64_t *>(offsetsAllocation_.get()) + offsetsStart[i];
  FP8RT_RETURN_IF_ERROR(extra(workspaceAllocation_, kWorkspaceBytes, "the cuBLASLt workspace"));
  workspace_ = workspaceAllocation_.get();

  // Scale staging: the largest FP8 GEMM's two operands; copy staging: the
  // largest copy between overlapping views.
  uint64_t stagingFloats = 0, copyBytes = 0;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions) {
      if (inst.kind == Instruction::Kind::Gemm && isFp8(program.buffers[inst.gemm.a].type.dtype)) {
        StatusOr<GemmScaleStaging> s = planScaleStaging(program, inst.gemm);
        if (!s.ok())
          return s.status().withContext(f.name + ": gemm " + inst.gemm.name);
        stagingFloats = std::max(
            stagingFloats, uint64_t(align256(uint64_t(s->a.count) * 4) / 4 + uint64_t(s->b.count)));
      }
      if (inst.kind == Instruction::Kind::Copy) {
        const Buffer &src = program.buffers[inst.copy.source],
                     &dst = program.buffers[inst.copy.target];
        if (src.offset < dst.offset + dst.bytes() && dst.offset < src.offset + src.bytes())
          copyBytes = std::max(copyBytes, src.bytes());
      }
    }
  FP8RT_RETURN_IF_ERROR(extra(stagingAllocation_, stagingFloats * 4, "the FP8 scale staging"));
  staging_ = static_cast<float *>(stagingAllocation_.get());
  FP8RT_RETURN_IF_ERROR(extra(copyAllocation_, copyBytes, "the copy staging"));
  copyStaging_ = copyAllocation_.get();

  // Pinned mirror of every output and metric buffer.
  mirrorOffset_.assign(program.buffers.size(), UINT64_MAX);
  mirrorValid_.assign(program.buffers.size(), false);
  uint64_t mirrorBytes = 0;
  for (size_t i = 0; i < program.buffers.size(); ++i) {
    const BufferRole r = program.buffers[i].role;
    if (r == BufferRole::Output || r == BufferRole::Metric) {
      mirrorOffset_[i] = mirrorBytes;
      mirrorBytes += align256(program.buffers[i].bytes());
    }
  }
  if (mirrorBytes) {
    void *h = nullptr;
    FP8RT_CUDA_RETURN_IF_ERROR(cudaMallocHost(&h, mirrorBytes));
    mirrorAllocation_.reset(h);
  }
  return Status::success();
}

Status CudaBackend::writeConstants(const Program &program) {
  for (uint32_t i = 0; i < program.buffers.size(); ++i) {
    const Buffer &b = program.buffers[i];
    if (b.role != BufferRole::Constant)
      continue;
    std::vector<uint8_t> bytes(b.bytes());
    cpu::storeConstant(b, bytes.data());
    // Constant ids (gpt's position ids) are checked like written ones.
    FP8RT_RETURN_IF_ERROR(
        checkTokenWrite(program, tokenBounds_, i, bytes.data(), "cuda backend: program constant"));
    FP8RT_CUDA_RETURN_IF_ERROR(
        cudaMemcpy(at(i), bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
  }
  return Status::success();
}

Status CudaBackend::write(uint32_t buffer, const void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cuda backend", "write"));
  FP8RT_RETURN_IF_ERROR(checkTokenWrite(*program_, tokenBounds_, buffer, data, "cuda backend"));
  mirrorValid_[buffer] = false;
  const uint8_t *p = static_cast<const uint8_t *>(data);
  const bool zeros = std::all_of(p, p + bytes, [](uint8_t c) { return c == 0; });
  if (zeros)
    return cudaStatus(cudaMemsetAsync(at(buffer), 0, bytes, stream_), "write: cudaMemsetAsync");
  // From pageable memory the driver stages the bytes before returning, so
  // the caller may reuse `data` at once.
  return cudaStatus(cudaMemcpyAsync(at(buffer), data, bytes, cudaMemcpyHostToDevice, stream_),
                    "write: cudaMemcpyAsync");
}

Status CudaBackend::zero(uint32_t buffer, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cuda backend", "zero"));
  mirrorValid_[buffer] = false;
  return cudaStatus(cudaMemsetAsync(at(buffer), 0, bytes, stream_), "zero: cudaMemsetAsync");
}

Status CudaBackend::read(uint32_t buffer, void *data, size_t bytes) {
  FP8RT_RETURN_IF_ERROR(checkBufferAccess(program_, buffer, bytes, "cuda backend", "read"));
  if (mirrorValid_[buffer]) {
    std::memcpy(data, static_cast<uint8_t *>(mirrorAllocation_.get()) + mirrorOffset_[buffer],
                bytes);
    return Status::success();
  }
  FP8RT_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(data, at(buffer), bytes, cudaMemcpyDeviceToHost, stream_));
  return cudaStatus(cudaStreamSynchronize(stream_), "read: cudaStreamSynchronize");
}

} // namespace fp8rt::cuda
