//===- Communicator.cpp - the single-process communicator -----------------===//

#include "fp8rt/comm/Communicator.h"

#include <cstring>

namespace fp8rt::comm {

Status SingleProcessCommunicator::allReduce(const float *in, float *out, size_t count, Reduction) {
  // Sum, average and maximum over one rank are the value itself.
  if (in != out)
    std::memmove(out, in, count * sizeof(float));
  return Status::success();
}

Status SingleProcessCommunicator::reduceScatter(const float *in, float *out, size_t shardCount,
                                                Reduction reduction) {
  return allReduce(in, out, shardCount, reduction);
}

Status SingleProcessCommunicator::allGather(const void *in, void *out, size_t shardBytes) {
  if (in != out)
    std::memmove(out, in, shardBytes);
  return Status::success();
}

Status SingleProcessCommunicator::broadcast(void *, size_t, int root) {
  if (root != 0)
    return invalidArgumentError("broadcast from rank " + std::to_string(root) +
                                " in a job of one process");
  return Status::success();
}

namespace {
SingleProcessCommunicator singleProcess;
Communicator *installed = nullptr;
} // namespace

Communicator &processCommunicator() { return installed ? *installed : singleProcess; }

void setProcessCommunicator(Communicator *communicator) { installed = communicator; }

} // namespace fp8rt::comm
