//===- KernelOpTable.cpp - Names and checks of the kernel ops -------------===//
//
// The table's own columns (fp8rt/ops/KernelOpTable.h): each row's name and
// check, built from KernelOps.def. The checks are CheckTrain.cpp,
// CheckFP8.cpp and CheckArith.cpp.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/ops/KernelOpTable.h"

#include "OpContext.h"

namespace fp8rt::ops {
namespace {

using CheckFn = Status (*)(const OpContext &);

struct Row {
  const char *name;
  CheckFn check;
};

const Row kRows[] = {
#define KERNEL_OP(Id, Name) {Name, check##Id},
#include "fp8rt/ops/KernelOps.def"
};
static_assert(sizeof(kRows) / sizeof(kRows[0]) == kNumOps);

} // namespace

const char *opName(OpId id) { return index(id) < kNumOps ? kRows[index(id)].name : "?"; }

OpId findOp(std::string_view name) {
  for (size_t i = 0; i < kNumOps; ++i)
    if (name == kRows[i].name)
      return OpId(i);
  return kUnresolvedOp;
}

bool hasCheck(OpId id) { return index(id) < kNumOps && kRows[index(id)].check != nullptr; }

Status runCheck(OpId id, const OpContext &ctx) { return kRows[index(id)].check(ctx); }

Status checkKernelOp(const KernelOp &op, const std::vector<TensorType> &operandTypes) {
  const OpId id = idOf(op);
  if (id == kUnresolvedOp)
    return unimplementedError("unsupported kernel op '" + op.op + "'");
  for (size_t i = 0; i < operandTypes.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        checkTypeBounds(operandTypes[i], op.op + ": operand " + std::to_string(i)));
  for (size_t i = 0; i < op.results.size(); ++i)
    FP8RT_RETURN_IF_ERROR(checkTypeBounds(op.results[i], op.op + ": result " + std::to_string(i)));
  return runCheck(id, OpContext(op, operandTypes));
}

} // namespace fp8rt::ops
