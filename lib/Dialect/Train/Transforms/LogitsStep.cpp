//===- LogitsStep.cpp - logits_step from eval_step ------------------------===//
//
// Generation (fp8-run --generate) needs the next-token distribution, which
// eval_step folds into its loss. logits_step is eval_step stopped one op
// earlier: the whole [batch, seq_len, vocab] logits tensor, in the forward's
// dtype. The whole tensor rather than one position: the forward computes every
// position anyway (causal attention over a fixed window), the program stays
// free of dynamic indexing, and the runtime picks the row it needs.
//
//===----------------------------------------------------------------------===//

#include "LogitsStep.h"

#include "fp8c/Dialect/Train/IR/TrainDialect.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"

using namespace mlir;

namespace fp8c::train {

bool buildLogitsStep(func::FuncOp evalStep) {
  auto ret = cast<func::ReturnOp>(evalStep.front().getTerminator());
  auto loss = ret.getNumOperands() == 1 ? ret.getOperand(0).getDefiningOp<SoftmaxCrossEntropyOp>()
                                        : SoftmaxCrossEntropyOp();
  if (!loss)
    return false;

  OpBuilder builder(evalStep);
  builder.setInsertionPointAfter(evalStep);
  auto func = cast<func::FuncOp>(builder.clone(*evalStep));
  func.setSymName(TrainDialect::getLogitsStepFuncName());

  Block &entry = func.front();
  auto newRet = cast<func::ReturnOp>(entry.getTerminator());
  Operation *newLoss = newRet.getOperand(0).getDefiningOp();
  Value logits = cast<SoftmaxCrossEntropyOp>(newLoss).getLogits();
  newRet->setOperands(logits);
  newLoss->erase();
  // What only the loss needed goes.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(entry)))
    if (isOpTriviallyDead(&op))
      op.erase();

  // Arguments nothing reads any more (the targets); parameters stay, even an
  // unused one, so that every step function names the same parameters.
  llvm::BitVector unused(func.getNumArguments());
  for (BlockArgument arg : entry.getArguments()) {
    auto init = func.getArgAttr(arg.getArgNumber(), TrainDialect::getInitAttrName());
    if (arg.use_empty() && !init)
      unused.set(arg.getArgNumber());
  }
  if (failed(func.eraseArguments(unused)))
    return false;

  func.setFunctionType(
      builder.getFunctionType(func.getArgumentTypes(), TypeRange{logits.getType()}));
  NamedAttribute name(builder.getStringAttr(TrainDialect::getNameAttrName()),
                      builder.getStringAttr("logits"));
  func.setAllResultAttrs(ArrayRef<DictionaryAttr>{builder.getDictionaryAttr(name)});
  return true;
}

} // namespace fp8c::train
