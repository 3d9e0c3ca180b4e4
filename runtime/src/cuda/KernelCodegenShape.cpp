//===- KernelCodegenShape.cpp - CUDA for kernel ops of their own phase ----===//
//
// The CUDA column of the kernel-op table for slice and transpose:
// each op one or more launches calling the prelude's templates
// (KernelCodegenImpl.h, docs/cuda-backend.md).
//
//===----------------------------------------------------------------------===//

#include "KernelCodegenImpl.h"

#include <cinttypes>

namespace fp8rt::cuda::detail {
namespace {

using ops::OpId;

/// train.slice, train.slice_grad, train.transpose: one thread per result element.
Status sliceOrTranspose(const KernelEmit &e) {
  const vector<int64_t> &inShape = e.types[e.op.operands[0]].shape,
                        &outShape = e.op.results[0].shape;
  const bool isInt = isInteger(e.op.results[0].dtype);
  const int64_t n = e.op.results[0].numElements();
  string index; // the source index of output element i, or -1
  if (e.id == OpId::TrainTranspose) {
    const Attr *perm = e.op.attr("permutation");
    const size_t rank = inShape.size();
    vector<int64_t> inStride(rank, 1);
    for (size_t d = rank; d-- > 1;)
      inStride[d - 1] = inStride[d] * inShape[d];
    index = "    i64 rest = i, src = 0;\n";
    for (size_t d = rank; d-- > 0;) {
      const int64_t p = perm ? int64_t(perm->array[d]) : int64_t(d);
      index += fmt(
          "    src += (rest %% %s) * %s; rest /= %s; // result dim %zu = input dim %" PRId64 "\n",
          num(outShape[d]).c_str(), num(inStride[size_t(p)]).c_str(), num(outShape[d]).c_str(), d,
          p);
    }
  } else {
    const size_t dim = size_t(attrI(e.op, "dim"));
    const int64_t offset = attrI(e.op, "offset");
    const vector<int64_t> &full = e.id == OpId::TrainSlice ? inShape : outShape;
    const vector<int64_t> &part = e.id == OpId::TrainSlice ? outShape : inShape;
    int64_t inner = 1;
    for (size_t d = dim + 1; d < full.size(); ++d)
      inner *= full[d];
    if (e.id == OpId::TrainSlice)
      index =
          fmt("    const i64 outer = i / %s, k = (i / %s) %% %s, in = i %% %s;\n"
              "    const i64 src = (outer * %s + %s + k) * %s + in;\n",
              num(part[dim] * inner).c_str(), num(inner).c_str(), num(part[dim]).c_str(),
              num(inner).c_str(), num(full[dim]).c_str(), num(offset).c_str(), num(inner).c_str());
    else
      index = fmt("    const i64 outer = i / %s, k = (i / %s) %% %s - %s, in = i %% %s;\n"
                  "    const i64 src = (k >= 0 && k < %s) ? (outer * %s + k) * %s + in : -1;\n",
                  num(full[dim] * inner).c_str(), num(inner).c_str(), num(full[dim]).c_str(),
                  num(offset).c_str(), num(inner).c_str(), num(part[dim]).c_str(),
                  num(part[dim]).c_str(), num(inner).c_str());
  }
  string code = fmt("  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < %s; "
                    "i += (i64)gridDim.x * blockDim.x) {\n",
                    num(n).c_str()) +
                index;
  if (isInt)
    code += fmt("    sti<%s>(%s, i, src < 0 ? 0 : ldi<%s>(%s, src));\n", e.outDt(0),
                e.out(0).c_str(), e.inDt(0), e.in(0).c_str());
  else
    code += fmt("    put<%s>(%s, i, src < 0 ? 0.0f : ldf<%s>(%s, src));\n", e.outDt(0),
                e.out(0).c_str(), e.inDt(0), e.in(0).c_str());
  code += "  }\n";
  e.addEntry(e.what + ": one thread per result element", code, gridFor(uint64_t(n), kBlock),
             kBlock);
  return Status::success();
}

} // namespace

const OpEmitter emitTrainSlice{nullptr, sliceOrTranspose};
const OpEmitter emitTrainSliceGrad{nullptr, sliceOrTranspose};
const OpEmitter emitTrainTranspose{nullptr, sliceOrTranspose};

} // namespace fp8rt::cuda::detail
