//===- Emission.cpp - one function's rt ops over the planned arena --------===//
//
// Step 4 of fp8-lower-to-rt (LowerToRT.cpp): each op becomes an rt.kernel,
// an rt.gemm or nothing (views), in order, over rt.buffer views of the arena.
//
//===----------------------------------------------------------------------===//

#include "FunctionLowering.h"

#include "fp8c/Analysis/GemmAnnotation.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>

using namespace mlir;
using namespace fp8c;
using namespace fp8c::lower_to_rt;

namespace {

/// `[d0, ..., dn-1, k]` read as the 2-D `[d0 * ... * dn-1, k]` a GEMM takes.
MemRefType flattenTo2D(MemRefType t) {
  if (t.getRank() == 2)
    return t;
  int64_t rows = 1;
  for (int64_t d : t.getShape().drop_back())
    rows *= d;
  int64_t cols = t.getRank() == 0 ? 1 : t.getShape().back();
  return MemRefType::get({rows, cols}, t.getElementType());
}

rt::ScaleMode scaleMode(fp8::Recipe recipe, std::optional<ArrayRef<int64_t>> block) {
  switch (recipe) {
  case fp8::Recipe::tensorwise:
  case fp8::Recipe::delayed:
    return rt::ScaleMode::tensorwise;
  case fp8::Recipe::rowwise:
    return rt::ScaleMode::rowwise;
  case fp8::Recipe::blockwise:
    break;
  }
  return block && (*block)[0] == 128 ? rt::ScaleMode::block_128x128 : rt::ScaleMode::block_1x128;
}

} // namespace

Value FunctionLowering::viewOfStorage(unsigned index, MemRefType type) {
  auto key = std::make_pair(index, Type(type));
  if (Value v = views[key])
    return v;
  const Storage &s = storages[index];
  OpBuilder b(ctx);
  b.setInsertionPoint(firstInstruction ? firstInstruction : firstOld);
  StringAttr name;
  rt::RoleAttr role;
  rt::InitAttr init;
  FloatAttr initStd;
  ElementsAttr data;
  DenseI64ArrayAttr shardOf;
  // Every view of a named buffer carries its identity, so that a reshaped or
  // 2-D view of an input or a parameter is still known as that buffer (same
  // offset, same bytes); anonymous scratch views carry nothing.
  if (!s.name.empty())
    name = StringAttr::get(ctx, s.name);
  if (s.role != Role::scratch)
    role = rt::RoleAttr::get(ctx, s.role);
  if (s.persistent) {
    const PersistentBuffer &p = layout.persistent[*s.persistent];
    if (p.init)
      init = rt::InitAttr::get(ctx, *p.init);
    if (p.initStd)
      initStd = b.getF64FloatAttr(*p.initStd);
    shardOf = p.shardOf;
    if (p.data)
      data = type == s.type ? p.data
                            : cast<DenseElementsAttr>(p.data).reshape(
                                  RankedTensorType::get(type.getShape(), type.getElementType()));
  }
  Value v = rt::BufferOp::create(b, func.getLoc(), type, arena, b.getI64IntegerAttr(s.offset), name,
                                 role, init, initStd, data, shardOf);
  views[key] = v;
  return v;
}

Value FunctionLowering::view(Value tensor) {
  return viewOfStorage(*storageOf(tensor), memrefOf(tensor.getType()));
}

void FunctionLowering::emitKernel(Operation *op, StringRef name) {
  OpBuilder b(ctx);
  b.setInsertionPoint(firstOld);
  llvm::SetVector<Value> inputs;
  for (Value operand : op->getOperands())
    if (!clonedConstants.contains(operand))
      inputs.insert(operand);
  SmallVector<Value> inBuffers, outBuffers;
  for (Value v : inputs)
    inBuffers.push_back(view(v));
  SmallVector<unsigned> yielded;
  for (Value r : op->getResults())
    if (isKept(r)) {
      yielded.push_back(cast<OpResult>(r).getResultNumber());
      outBuffers.push_back(view(r));
    }
  auto kernel = rt::KernelOp::create(b, op->getLoc(), name, inBuffers, outBuffers);
  if (!firstInstruction)
    firstInstruction = kernel;
  Block *block = new Block();
  kernel.getBody().push_back(block);
  IRMapping mapping;
  for (Value v : inputs)
    mapping.map(v, block->addArgument(v.getType(), v.getLoc()));
  OpBuilder bb = OpBuilder::atBlockEnd(block);
  for (Value operand : op->getOperands())
    if (clonedConstants.contains(operand) && !mapping.contains(operand))
      mapping.map(operand, bb.clone(*operand.getDefiningOp())->getResult(0));
  SmallVector<Value> results;
  if (auto fusion = dyn_cast<rt::FusionOp>(op)) {
    Block &inner = fusion.getBody().front();
    for (auto [arg, operand] : llvm::zip(inner.getArguments(), fusion.getInputs()))
      mapping.map(arg, mapping.lookup(operand));
    for (Operation &innerOp : inner.without_terminator())
      bb.clone(innerOp, mapping);
    for (unsigned i : yielded)
      results.push_back(mapping.lookup(inner.getTerminator()->getOperand(i)));
  } else {
    Operation *clone = bb.clone(*op, mapping);
    for (unsigned i : yielded)
      results.push_back(clone->getResult(i));
  }
  rt::YieldOp::create(bb, op->getLoc(), results);
  ++instructionCount;
}

void FunctionLowering::emitGemm(Operation *op) {
  OpBuilder b(ctx);
  b.setInsertionPoint(firstOld);
  auto view2D = [&](Value v) {
    return viewOfStorage(*storageOf(v), flattenTo2D(memrefOf(v.getType())));
  };
  StringAttr name;
  if (std::string n = gemmName(op); !n.empty())
    name = b.getStringAttr(n);
  rt::GemmOp gemm;
  auto epilogue = [&](Value bias) {
    return rt::EpilogueAttr::get(ctx, bias ? rt::Epilogue::bias : rt::Epilogue::none);
  };
  if (auto linear = dyn_cast<train::LinearOp>(op)) {
    Value bias = linear.getBias() ? view(linear.getBias()) : Value();
    gemm = rt::GemmOp::create(b, op->getLoc(), view2D(linear.getInput()), view(linear.getWeight()),
                              view2D(linear.getResult()), bias, Value(), Value(), Value(), Value(),
                              nullptr, b.getUnitAttr(), nullptr, epilogue(bias), name, nullptr,
                              nullptr, nullptr);
  } else if (auto matmul = dyn_cast<train::MatmulOp>(op)) {
    gemm = rt::GemmOp::create(b, op->getLoc(), view(matmul.getLhs()), view(matmul.getRhs()),
                              view(matmul.getResult()), Value(), Value(), Value(), Value(), Value(),
                              matmul.getTransposeLhs() ? b.getUnitAttr() : nullptr,
                              matmul.getTransposeRhs() ? b.getUnitAttr() : nullptr, nullptr,
                              epilogue(Value()), name, nullptr, nullptr,
                              matmul.getAcc() ? b.getUnitAttr() : nullptr);
  } else {
    auto scaled = cast<fp8::ScaledMatmulOp>(op);
    Value bias = scaled.getBias() ? view(scaled.getBias()) : Value();
    Value dScale = scaled.getResultScale() ? view(scaled.getResultScale()) : Value();
    Value amax =
        scaled.getAmax() && !scaled.getAmax().use_empty() ? view(scaled.getAmax()) : Value();
    auto mode = [&](std::optional<ArrayRef<int64_t>> block) {
      return rt::ScaleModeAttr::get(ctx, scaleMode(scaled.getRecipe(), block));
    };
    gemm = rt::GemmOp::create(
        b, op->getLoc(), view(scaled.getLhs()), view(scaled.getRhs()), view(scaled.getResult()),
        bias, view(scaled.getLhsScale()), view(scaled.getRhsScale()), dScale, amax, nullptr,
        b.getUnitAttr(), scaled.getFastAccum() ? b.getUnitAttr() : nullptr, epilogue(bias), name,
        mode(scaled.getLhsBlock()), mode(scaled.getRhsBlock()), nullptr);
  }
  if (!firstInstruction)
    firstInstruction = gemm;
  ++instructionCount;
}

void FunctionLowering::emitCollective(Operation *op) {
  // A collective (or the rank-dependent shard), not a kernel: its own instruction kind.
  OpBuilder b(ctx);
  b.setInsertionPoint(firstOld);
  Value source = view(op->getOperand(0)), target = view(op->getResult(0));
  Operation *inst;
  if (auto allReduce = dyn_cast<train::AllReduceOp>(op))
    inst = rt::AllReduceOp::create(b, op->getLoc(), source, target,
                                   static_cast<rt::Reduction>(allReduce.getReduction()),
                                   allReduce.getWorldSize(), allReduce.getBucketAttr());
  else if (auto scatter = dyn_cast<train::ReduceScatterOp>(op))
    inst = rt::ReduceScatterOp::create(b, op->getLoc(), source, target,
                                       static_cast<rt::Reduction>(scatter.getReduction()),
                                       scatter.getWorldSize());
  else if (auto gather = dyn_cast<train::AllGatherOp>(op))
    inst = rt::AllGatherOp::create(b, op->getLoc(), source, target, gather.getWorldSize());
  else
    inst = rt::ShardOp::create(b, op->getLoc(), source, target,
                               cast<train::ShardOp>(op).getWorldSize());
  if (!firstInstruction)
    firstInstruction = inst;
  ++instructionCount;
}

void FunctionLowering::emit() {
  firstOld = &body.front();
  OpBuilder b(ctx);
  b.setInsertionPoint(firstOld);
  // The size is fixed once every function is planned.
  arena = rt::ArenaOp::create(b, func.getLoc(), rt::ArenaType::get(ctx), b.getI64IntegerAttr(0));

  auto emitCopies = [&](ArrayRef<Copy> copies) {
    for (const Copy &c : copies) {
      Value source = viewOfStorage(c.source, c.sourceType);
      Value target = viewOfStorage(c.target, storages[c.target].type);
      OpBuilder cb(ctx);
      cb.setInsertionPoint(firstOld);
      auto copy = rt::CopyOp::create(cb, func.getLoc(), source, target);
      if (!firstInstruction)
        firstInstruction = copy;
      ++instructionCount;
    }
  };
  if (auto it = copiesAfter.find(-1); it != copiesAfter.end())
    emitCopies(it->second);
  for (Operation *op : ops) {
    if (isInstruction(op)) {
      if (isGemm(op)) {
        emitGemm(op);
      } else if (isa<train::AllReduceOp, train::ReduceScatterOp, train::AllGatherOp,
                     train::ShardOp>(op)) {
        emitCollective(op);
      } else if (auto fusion = dyn_cast<rt::FusionOp>(op)) {
        emitKernel(op, fusion.getName());
      } else {
        std::string name =
            "k" + std::to_string(instructionCount) + "_" + op->getName().stripDialect().str();
        std::replace(name.begin(), name.end(), '.', '_');
        emitKernel(op, name);
      }
    }
    if (auto it = copiesAfter.find(position[op]); it != copiesAfter.end())
      emitCopies(it->second);
  }
  emitCopies(endCopies);
  emitCopies(lateCopies);

  // Drop the tensor program and its signature.
  for (Operation *op : llvm::reverse(ops))
    op->erase();
  body.eraseArguments(0, body.getNumArguments());
  OpBuilder end = OpBuilder::atBlockEnd(&body);
  func::ReturnOp::create(end, func.getLoc());
  func.setFunctionType(FunctionType::get(ctx, {}, {}));
  func.removeArgAttrsAttr();
  func.removeResAttrsAttr();
}
