//===- KernelOps.cpp - Checks and CPU semantics of kernel ops -------------===//

#include "fp8rt/cpu/KernelOps.h"

namespace fp8rt {

Status checkKernelOp(const KernelOp &op, const std::vector<TensorType> &operandTypes) {
  (void)operandTypes;
  return unimplementedError("kernel op '" + op.op + "' is not implemented yet");
}

namespace cpu {

Status runKernelOp(const KernelOp &op, const std::vector<const Value *> &operands,
                   std::vector<Value> &results) {
  (void)operands;
  results.clear();
  return unimplementedError("kernel op '" + op.op + "' is not implemented yet");
}

Value loadValue(const TensorType &type, const uint8_t *bytes) {
  (void)bytes;
  Value v;
  v.type = type;
  return v;
}

void storeValue(const Value &value, uint8_t *bytes) {
  (void)value;
  (void)bytes;
}

} // namespace cpu
} // namespace fp8rt
