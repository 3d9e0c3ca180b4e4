//===- CudaBackendGraph.cpp - Running a function as a CUDA graph ----------===//
//
// Each function's instructions become steps at load; the first run() of a
// function captures them into a CUDA graph, every run() replays it, copies
// the function's outputs and metrics into pinned host memory and
// synchronises once (FP8RT_CUDA_SYNC=1: one instruction at a time instead).
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

namespace fp8rt::cuda {

Status CudaBackend::planFunctions(const Program &program) {
  copies_.clear();
  collectives_.clear();
  FP8RT_RETURN_IF_ERROR(allocateCollectiveScratch(program)); // CudaCollectives.cpp
  functions_.clear();
  size_t kernel = 0, gemm = 0;
  for (const Function &f : program.functions) {
    FunctionPlan plan;
    plan.function = &f;
    std::vector<bool> readback(program.buffers.size(), false);
    auto mark = [&](uint32_t b) {
      if (b != Gemm::kNone && mirrorOffset_[b] != UINT64_MAX)
        readback[b] = true;
    };
    for (size_t i = 0; i < f.instructions.size(); ++i) {
      const Instruction &inst = f.instructions[i];
      Step step;
      step.kind = inst.kind;
      switch (inst.kind) {
      case Instruction::Kind::Kernel:
        step.index = kernel++;
        step.label = "kernel " + inst.kernel.name;
        for (uint32_t b : inst.kernel.outputs)
          mark(b);
        break;
      case Instruction::Kind::Gemm:
        step.index = gemm++;
        step.label = "gemm " + inst.gemm.name;
        mark(inst.gemm.d);
        mark(inst.gemm.amaxD);
        break;
      case Instruction::Kind::Copy: {
        CopyPlan c;
        const Buffer &src = program.buffers[inst.copy.source],
                     &dst = program.buffers[inst.copy.target];
        c.source = at(inst.copy.source);
        c.target = at(inst.copy.target);
        c.bytes = src.bytes();
        c.overlaps = src.offset < dst.offset + dst.bytes() && dst.offset < src.offset + src.bytes();
        step.index = copies_.size();
        copies_.push_back(c);
        step.label = "copy " + src.name + " -> " + dst.name;
        mark(inst.copy.target);
        break;
      }
      case Instruction::Kind::AllReduce: // CudaCollectives.cpp
      case Instruction::Kind::ReduceScatter:
      case Instruction::Kind::AllGather:
      case Instruction::Kind::Shard:
        FP8RT_RETURN_IF_ERROR(planCollective(program, f, i, step));
        plan.collectives = true;
        mark(inst.copy.target);
        break;
      }
      step.label = "instruction " + std::to_string(i) + " (" + step.label + ")";
      plan.steps.push_back(std::move(step));
    }
    for (uint32_t b : f.outputs)
      mark(b);
    for (uint32_t b = 0; b < readback.size(); ++b)
      if (readback[b])
        plan.readback.push_back(b);
    functions_.push_back(std::move(plan));
  }
  return Status::success();
}

Status CudaBackend::enqueueCopy(const CopyPlan &c) {
  if (c.overlaps) {
    // cudaMemcpy has no memmove semantics: go through a staging buffer.
    FP8RT_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(copyStaging_, c.source, c.bytes, cudaMemcpyDeviceToDevice, stream_));
    FP8RT_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(c.target, copyStaging_, c.bytes, cudaMemcpyDeviceToDevice, stream_));
    return Status::success();
  }
  FP8RT_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(c.target, c.source, c.bytes, cudaMemcpyDeviceToDevice, stream_));
  return Status::success();
}

Status CudaBackend::enqueue(const FunctionPlan &plan, bool syncEach) {
  for (const Step &step : plan.steps) {
    Status s;
    switch (step.kind) {
    case Instruction::Kind::Kernel:
      s = enqueueKernel(kernels_[step.index]);
      break;
    case Instruction::Kind::Gemm:
      s = enqueueGemm(gemms_[step.index]);
      break;
    case Instruction::Kind::Copy:
      s = enqueueCopy(copies_[step.index]);
      break;
    case Instruction::Kind::AllReduce: // CudaCollectives.cpp
    case Instruction::Kind::ReduceScatter:
    case Instruction::Kind::AllGather:
    case Instruction::Kind::Shard:
      s = enqueueCollective(collectives_[step.index]);
      break;
    }
    if (s.ok() && syncEach)
      s = cudaStatus(cudaStreamSynchronize(stream_), "after the instruction");
    if (!s.ok())
      return s.withContext(plan.function->name + ": " + step.label);
  }
  return Status::success();
}

Status CudaBackend::run(const Function &function) {
  FunctionPlan *plan = nullptr;
  for (FunctionPlan &p : functions_)
    if (p.function == &function)
      plan = &p;
  if (!plan)
    return invalidArgumentError("cuda backend: function " + function.name +
                                " is not one of the loaded program's");
  const bool debugSync = options_.debugSync;
  if (debugSync) {
    FP8RT_RETURN_IF_ERROR(enqueue(*plan, true));
  } else {
    if (!plan->graph) {
      FP8RT_CUDA_RETURN_IF_ERROR(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      Status s = enqueue(*plan, false);
      cudaGraph_t graph = nullptr;
      cudaError_t e = cudaStreamEndCapture(stream_, &graph);
      FP8RT_RETURN_IF_ERROR(s);
      FP8RT_RETURN_IF_ERROR(cudaStatus(e, function.name + ": capturing the CUDA graph"));
      e = cudaGraphInstantiate(&plan->graph, graph, 0);
      (void)cudaGraphDestroy(graph);
      FP8RT_RETURN_IF_ERROR(cudaStatus(e, function.name + ": instantiating the CUDA graph"));
    }
    FP8RT_RETURN_IF_ERROR(
        cudaStatus(cudaGraphLaunch(plan->graph, stream_), function.name + ": cudaGraphLaunch"));
  }
  uint8_t *mirror = static_cast<uint8_t *>(mirrorAllocation_.get());
  for (uint32_t b : plan->readback)
    FP8RT_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(mirror + mirrorOffset_[b], at(b),
                                               program_->buffers[b].bytes(), cudaMemcpyDeviceToHost,
                                               stream_));
  // Collectives wait for the other ranks: with a timeout (NcclCommunicator.h).
  if (plan->collectives)
    FP8RT_RETURN_IF_ERROR(options_.collectives->synchronize(stream_).withContext(function.name));
  cudaError_t e = cudaStreamSynchronize(stream_);
  if (e != cudaSuccess)
    return cudaStatus(e, function.name + " failed on the GPU (run with FP8RT_CUDA_SYNC=1 to "
                                         "find the instruction)");
  for (uint32_t b : plan->readback)
    mirrorValid_[b] = true;
  return Status::success();
}

} // namespace fp8rt::cuda
