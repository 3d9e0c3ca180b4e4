//===- CudaCollectives.cpp - Collective instructions through NCCL ---------===//
//
// The CUDA backend's collective instructions (docs/distributed.md, "NCCL"):
// each one is enqueued on the backend's stream through the job's
// NcclCommunicator (CudaBackendOptions::collectives), so it is captured into
// the function's CUDA graph with the kernels around it; run() then waits
// through the communicator, with its timeout. One row of kCollectiveKinds per
// instruction kind, plus its case labels in CudaBackendGraph.cpp's two
// switches. reduce_scatter, all_gather and shard (zero1, fsdp) follow the
// shard rule through the host-planned steps of fp8rt/comm/Shard.h: padding
// is done on the device, in a scratch buffer of W * c elements, and shard is
// a device copy of this rank's slice, zero-padded. Not yet run on a GPU.
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

#include <algorithm>

namespace fp8rt::cuda {

namespace {

struct CollectiveKind {
  Instruction::Kind kind;
  const char *name; ///< as in the program file
  Status (*enqueue)(comm::NcclCommunicator &nccl, const CollectivePlan &c, void *stream);
};

/// f32 in, f32 out, the source's element count (the loader checked one shape).
Status enqueueAllReduce(comm::NcclCommunicator &nccl, const CollectivePlan &c, void *stream) {
  return nccl.allReduce(static_cast<const float *>(c.source), static_cast<float *>(c.target),
                        c.sourceElements, c.reduction, stream);
}

/// reduce_scatter, all_gather, shard: the planned steps (fp8rt/comm/Shard.h)
/// on the stream. A reduce-scatter reduces f32 (ncclReduceScatter, `avg` as
/// ncclAvg); an all-gather moves bytes (ncclUint8), so FP8 codes and bf16 alike.
Status enqueueSharded(comm::NcclCommunicator &nccl, const CollectivePlan &c, void *stream) {
  using Step = comm::ShardStep;
  auto at = [&](Step::Buffer b, size_t offset) {
    uint8_t *base = b == Step::Buffer::Source ? static_cast<uint8_t *>(const_cast<void *>(c.source))
                    : b == Step::Buffer::Target ? static_cast<uint8_t *>(c.target)
                                                : static_cast<uint8_t *>(c.scratch);
    return base + offset;
  };
  auto s = static_cast<cudaStream_t>(stream);
  for (const Step &step : c.shard.steps) {
    switch (step.kind) {
    case Step::Kind::Copy:
      FP8RT_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(at(step.to, step.toOffset),
                                                 at(step.from, step.fromOffset), step.bytes,
                                                 cudaMemcpyDeviceToDevice, s));
      break;
    case Step::Kind::Zero:
      FP8RT_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(at(step.to, step.toOffset), 0, step.bytes, s));
      break;
    case Step::Kind::ReduceScatter:
      FP8RT_RETURN_IF_ERROR(nccl.reduceScatter(
          reinterpret_cast<const float *>(at(step.from, step.fromOffset)),
          reinterpret_cast<float *>(at(step.to, step.toOffset)), step.count, c.reduction, stream));
      break;
    case Step::Kind::AllGather:
      FP8RT_RETURN_IF_ERROR(nccl.allGather(at(step.from, step.fromOffset),
                                           at(step.to, step.toOffset), step.bytes, stream));
      break;
    }
  }
  return Status::success();
}

const CollectiveKind kCollectiveKinds[] = {
    {Instruction::Kind::AllReduce, "all_reduce", enqueueAllReduce},
    {Instruction::Kind::ReduceScatter, "reduce_scatter", enqueueSharded},
    {Instruction::Kind::AllGather, "all_gather", enqueueSharded},
    {Instruction::Kind::Shard, "shard", enqueueSharded},
};

/// The steps of a sharded instruction: the full tensor is the source of a
/// reduce_scatter or shard, the target of an all_gather.
comm::ShardPlan planSharded(const Program &program, const Instruction &inst, int rank) {
  const Buffer &source = program.buffers[inst.copy.source];
  const Buffer &target = program.buffers[inst.copy.target];
  const Buffer &full = inst.kind == Instruction::Kind::AllGather ? target : source;
  const uint64_t n = uint64_t(full.type.numElements());
  const size_t elementBytes = n ? size_t(full.bytes() / n) : 1;
  const comm::ShardInstruction which =
      inst.kind == Instruction::Kind::ReduceScatter ? comm::ShardInstruction::ReduceScatter
      : inst.kind == Instruction::Kind::AllGather   ? comm::ShardInstruction::AllGather
                                                    : comm::ShardInstruction::Shard;
  return comm::planShardInstruction(which, size_t(n), elementBytes, rank,
                                    int(program.info.worldSize));
}

const CollectiveKind *findCollectiveKind(Instruction::Kind kind) {
  for (const CollectiveKind &k : kCollectiveKinds)
    if (k.kind == kind)
      return &k;
  return nullptr;
}

} // namespace

Status CudaBackend::planCollective(const Program &program, const Function &f, size_t i,
                                   Step &step) {
  const Instruction &inst = f.instructions[i];
  const std::string where = f.name + ": instruction " + std::to_string(i);
  const CollectiveKind *kind = findCollectiveKind(inst.kind);
  if (!kind)
    return unimplementedError(where + ": the CUDA backend runs no collective of this kind yet; "
                                      "use --backend=cpu");
  comm::NcclCommunicator *nccl = options_.collectives;
  if (!nccl)
    return unimplementedError(
        where + " (" + kind->name +
        "): the CUDA backend runs collectives through NCCL and has no NCCL communicator: "
        "fp8-run creates one per rank when it runs under mpirun and was built with NCCL "
        "(docs/distributed.md, \"NCCL\"); else use --backend=cpu");
  if (nccl->size() != program.info.worldSize)
    return invalidArgumentError(where + " (" + kind->name + "): the program is for world_size " +
                                std::to_string(program.info.worldSize) +
                                " but the NCCL communicator has " + std::to_string(nccl->size()) +
                                " rank" + (nccl->size() == 1 ? "" : "s"));
  if (nccl->device() != device_.device)
    return invalidArgumentError(where + ": the NCCL communicator is on GPU " +
                                std::to_string(nccl->device()) + ", the backend on GPU " +
                                std::to_string(device_.device));
  const Buffer &source = program.buffers[inst.copy.source];
  const Buffer &target = program.buffers[inst.copy.target];
  CollectivePlan c;
  c.kind = inst.kind;
  c.source = at(inst.copy.source);
  c.target = at(inst.copy.target);
  c.sourceElements = uint64_t(source.type.numElements());
  c.targetElements = uint64_t(target.type.numElements());
  c.sourceBytes = source.bytes();
  c.reduction = inst.reduction;
  if (inst.kind != Instruction::Kind::AllReduce) {
    c.shard = planSharded(program, inst, nccl->rank());
    c.scratch = collectiveScratchAllocation_.get(); // allocated by planFunctions
  }
  step.index = collectives_.size();
  step.label = std::string(kind->name) + " " + source.name + " -> " + target.name;
  collectives_.push_back(c);
  return Status::success();
}

Status CudaBackend::allocateCollectiveScratch(const Program &program) {
  collectiveScratchAllocation_.reset();
  // One buffer for the whole program, sized by its largest padded collective.
  size_t bytes = 0;
  for (const Function &f : program.functions)
    for (const Instruction &inst : f.instructions)
      if (inst.kind == Instruction::Kind::ReduceScatter ||
          inst.kind == Instruction::Kind::AllGather)
        bytes = std::max(bytes, planSharded(program, inst, 0).scratchBytes);
  if (bytes == 0)
    return Status::success();
  void *p = nullptr;
  if (cudaError_t err = cudaMalloc(&p, bytes); err != cudaSuccess) {
    (void)cudaGetLastError();
    return outOfRangeError("cuda backend: cannot allocate the collectives' padding buffer (" +
                           std::to_string(bytes) + " bytes): " + cudaGetErrorName(err));
  }
  collectiveScratchAllocation_.reset(p);
  stats_.extraDeviceBytes += bytes;
  return Status::success();
}

Status CudaBackend::enqueueCollective(const CollectivePlan &c) {
  const CollectiveKind *kind = findCollectiveKind(c.kind);
  if (!kind || !options_.collectives)
    return internalError("a collective instruction that load() did not plan");
  return kind->enqueue(*options_.collectives, c, stream_);
}

} // namespace fp8rt::cuda
