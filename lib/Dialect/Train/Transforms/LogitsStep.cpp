//===- LogitsStep.cpp - logits_step from eval_step ------------------------===//
//
// Generation (fp8-run --generate) needs the next-token distribution, which
// eval_step folds into its loss. logits_step is eval_step stopped one op
// earlier, for one position per sequence: the host names, in the input `rows`,
// the flat position b * seq_len + t of each sequence b whose logits it wants,
// the forward runs over the whole window (causal attention over a fixed
// window: no dynamic shapes), and the head runs on the gathered rows only, so
// the [batch, seq_len, vocab] logits (2 GiB for llama-1b) are never made.
//
//===----------------------------------------------------------------------===//

#include "LogitsStep.h"

#include "fp8c/Dialect/Train/IR/TrainDialect.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/BitVector.h"

using namespace mlir;

namespace fp8c::train {

namespace {

/// `value` [..., dim] as the [rows, dim] matrix its leading dimensions flatten to.
Value flattenRows(OpBuilder &builder, Location loc, Value value, int64_t rows) {
  auto type = cast<RankedTensorType>(value.getType());
  auto flat = RankedTensorType::get({rows, type.getShape().back()}, type.getElementType());
  if (type == flat)
    return value;
  return ReshapeOp::create(builder, loc, flat, value);
}

/// Rows `rows` of `value` [..., dim] ([batch x seq_len] rows): train.embedding
/// with the activation as its table, [batch, dim].
Value gatherRows(OpBuilder &builder, Location loc, Value value, Value rows, int64_t flatRows) {
  Value table = flattenRows(builder, loc, value, flatRows);
  auto tableType = cast<RankedTensorType>(table.getType());
  auto batch = cast<RankedTensorType>(rows.getType()).getShape()[0];
  auto type = RankedTensorType::get({batch, tableType.getShape()[1]}, tableType.getElementType());
  return EmbeddingOp::create(builder, loc, type, table, rows);
}

/// The head: the train.linear computing `logits` (seen through reshapes) row
/// by row, one row of its input per row of `logits` ([flatRows, vocab] when
/// flattened); null when the logits are computed any other way.
LinearOp rowwiseHead(Value logits, int64_t flatRows) {
  auto head = stripReshapes(logits).getDefiningOp<LinearOp>();
  if (!head)
    return nullptr;
  auto input = cast<ShapedType>(head.getInput().getType());
  auto result = cast<ShapedType>(head.getResult().getType());
  auto logitsType = cast<ShapedType>(logits.getType());
  if (input.getNumElements() != flatRows * input.getShape().back() ||
      result.getShape().back() != logitsType.getShape().back())
    return nullptr;
  return head;
}

/// The selected logits [batch, vocab]: the head on the gathered rows of its
/// input, as the same op with the same name; any other head on the gathered
/// rows of the logits themselves.
Value selectedLogits(OpBuilder &builder, Value logits, Value rows, int64_t flatRows) {
  LinearOp head = rowwiseHead(logits, flatRows);
  if (!head) {
    builder.setInsertionPointAfterValue(logits);
    return gatherRows(builder, logits.getLoc(), logits, rows, flatRows);
  }
  builder.setInsertionPoint(head);
  Value hidden = gatherRows(builder, head.getLoc(), head.getInput(), rows, flatRows);
  auto weightType = cast<RankedTensorType>(head.getWeight().getType());
  auto type = RankedTensorType::get(
      {cast<RankedTensorType>(hidden.getType()).getShape()[0], weightType.getShape()[0]},
      cast<RankedTensorType>(head.getResult().getType()).getElementType());
  auto linear = cast<LinearOp>(builder.clone(*head));
  linear->setOperand(0, hidden);
  linear.getResult().setType(type);
  return linear.getResult();
}

} // namespace

bool buildLogitsStep(func::FuncOp evalStep) {
  auto ret = cast<func::ReturnOp>(evalStep.front().getTerminator());
  auto loss = ret.getNumOperands() == 1 ? ret.getOperand(0).getDefiningOp<SoftmaxCrossEntropyOp>()
                                        : SoftmaxCrossEntropyOp();
  if (!loss)
    return false;
  // The targets are [batch, positions...]: one row of logits per target.
  auto targetsType = cast<RankedTensorType>(loss.getTargets().getType());
  if (targetsType.getRank() < 1 || !targetsType.hasStaticShape())
    return false;
  const int64_t batch = targetsType.getShape()[0], flatRows = targetsType.getNumElements();

  OpBuilder builder(evalStep);
  builder.setInsertionPointAfter(evalStep);
  auto func = cast<func::FuncOp>(builder.clone(*evalStep));
  func.setSymName(TrainDialect::getLogitsStepFuncName());

  Block &entry = func.front();
  auto newRet = cast<func::ReturnOp>(entry.getTerminator());
  auto newLoss = cast<SoftmaxCrossEntropyOp>(newRet.getOperand(0).getDefiningOp());
  NamedAttribute rowsName(builder.getStringAttr(TrainDialect::getNameAttrName()),
                          builder.getStringAttr("rows"));
  const unsigned rowsIndex = func.getNumArguments();
  if (failed(func.insertArgument(rowsIndex, RankedTensorType::get({batch}, builder.getI32Type()),
                                 builder.getDictionaryAttr(rowsName), func.getLoc())))
    return false;
  Value logits =
      selectedLogits(builder, newLoss.getLogits(), func.getArgument(rowsIndex), flatRows);
  newRet->setOperands(logits);
  newLoss->erase();
  // What only the loss and the whole-window head needed goes.
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
