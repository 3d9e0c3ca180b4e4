//===- CudaCollectives.cpp - Collective instructions through NCCL ---------===//
//
// The CUDA backend's collective instructions (docs/distributed.md, "NCCL"):
// each one is enqueued on the backend's stream through the job's
// NcclCommunicator (CudaBackendOptions::collectives), so it is captured into
// the function's CUDA graph with the kernels around it; run() then waits
// through the communicator, with its timeout. One row of kCollectiveKinds per
// instruction kind: reduce_scatter and all_gather (format version 5) are a
// row each, plus their case labels in CudaBackendGraph.cpp's two switches.
//
//===----------------------------------------------------------------------===//

#include "CudaBackendImpl.h"

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

// reduce_scatter (format v5) would be a row with
//   nccl.reduceScatter(source, target, c.targetElements, c.reduction, stream)
// and all_gather one with nccl.allGather(source, target, c.sourceBytes, stream).
const CollectiveKind kCollectiveKinds[] = {
    {Instruction::Kind::AllReduce, "all_reduce", enqueueAllReduce},
};

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
  step.index = collectives_.size();
  step.label = std::string(kind->name) + " " + source.name + " -> " + target.name;
  collectives_.push_back(c);
  return Status::success();
}

Status CudaBackend::enqueueCollective(const CollectivePlan &c) {
  const CollectiveKind *kind = findCollectiveKind(c.kind);
  if (!kind || !options_.collectives)
    return internalError("a collective instruction that load() did not plan");
  return kind->enqueue(*options_.collectives, c, stream_);
}

} // namespace fp8rt::cuda
