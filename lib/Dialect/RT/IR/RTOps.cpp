//===- RTOps.cpp - verifiers of the rt dialect ----------------------------===//
//
// These checks are the compiler-side half of the runtime's promise never to write
// out of bounds: a buffer outside the arena or a GEMM whose shapes disagree is
// refused here, and the program loader checks the same again.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/RT/IR/RTOps.h"

#include "fp8c/Support/ShapeString.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <optional>

using namespace mlir;
using fp8c::shapeString;
using namespace fp8c::rt;

#define GET_OP_CLASSES
#include "fp8c/Dialect/RT/IR/RTOps.cpp.inc"

namespace {

MemRefType memrefType(Value v) { return cast<MemRefType>(v.getType()); }

/// Bytes a static memref covers, or nullopt when that does not fit in int64_t.
std::optional<int64_t> checkedByteSize(MemRefType type) {
  int64_t bytes = (type.getElementTypeBitWidth() + 7) / 8;
  for (int64_t dim : type.getShape())
    if (llvm::MulOverflow(bytes, dim, bytes))
      return std::nullopt;
  return bytes;
}

/// Bytes a memref that passed verifyDense covers.
int64_t byteSize(MemRefType type) { return *checkedByteSize(type); }

bool isFP8(Type t) { return isa<Float8E4M3FNType, Float8E5M2Type>(t); }

LogicalResult verifyDense(Operation *op, StringRef what, MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity())
    return op->emitOpError() << what << " must be a static, dense row-major memref, got " << type;
  // A wrapped-around size would let a huge view pass the arena bounds check.
  if (!checkedByteSize(type))
    return op->emitOpError() << what << " " << type << " spans more than 2^63 - 1 bytes";
  return success();
}

} // namespace

LogicalResult ArenaOp::verify() {
  if (getSizeAttr().getInt() < 0)
    return emitOpError() << "arena size must be >= 0, got " << getSizeAttr().getInt();
  return success();
}

int64_t BufferOp::getSizeInBytes() { return byteSize(getResult().getType()); }

LogicalResult BufferOp::verify() {
  if (failed(verifyDense(*this, "buffer", getResult().getType())))
    return failure();
  int64_t offset = getOffsetAttr().getInt();
  if (offset < 0 || offset % RTDialect::kBufferAlignment != 0)
    return emitOpError() << "offset " << offset << " is not a non-negative multiple of "
                         << RTDialect::kBufferAlignment << " bytes";
  if (auto arena = getArena().getDefiningOp<ArenaOp>()) {
    int64_t bytes = getSizeInBytes();
    int64_t size = arena.getSizeAttr().getInt();
    // Compared without forming offset + bytes, which may overflow int64_t; the
    // end printed below cannot overflow uint64_t (both terms are < 2^63).
    if (offset > size || bytes > size - offset)
      return emitOpError() << "buffer [" << offset << ", "
                           << static_cast<uint64_t>(offset) + static_cast<uint64_t>(bytes)
                           << ") lies outside the arena of " << size << " bytes";
  }
  return verifyBufferAttributes();
}

/// The program file's buffer-table rules (docs/program-format.md): the loader
/// initialises persistent state from `init`, and constants from `data`.
LogicalResult BufferOp::verifyBufferAttributes() {
  Role role = getRoleOrScratch();
  bool initializable = role == Role::param || role == Role::optimizer || role == Role::fp8_state ||
                       role == Role::grad_accum;
  if (std::optional<Init> init = getInit()) {
    if (!initializable)
      return emitOpError() << "'init' is only for the roles param, optimizer, fp8_state and "
                              "grad_accum, not "
                           << stringifyRole(role);
    if (*init == Init::normal && !getInitStd())
      return emitOpError() << "init normal needs 'init_std'";
  }
  if (FloatAttr std = getInitStdAttr()) {
    if (getInit() != Init::normal)
      return emitOpError() << "'init_std' is only used with init normal";
    double value = std.getValueAsDouble();
    if (!(value >= 0) || std::isinf(value))
      return emitOpError() << "init_std must be finite and >= 0, got " << value;
  }
  ElementsAttr data = getDataAttr();
  if (role == Role::constant && !data)
    return emitOpError() << "role constant needs 'data'";
  if (data) {
    if (role != Role::constant)
      return emitOpError() << "'data' is only for role constant, not " << stringifyRole(role);
    MemRefType type = getResult().getType();
    auto expected = RankedTensorType::get(type.getShape(), type.getElementType());
    if (data.getType() != expected)
      return emitOpError() << "data has type " << data.getType() << ", expected " << expected;
  }
  return success();
}

/// The kernel name rule of rt.kernel and rt.fusion: it becomes a CUDA symbol.
static bool isCIdentifier(StringRef name) {
  return !name.empty() && (llvm::isAlpha(name.front()) || name.front() == '_') &&
         llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// A body block whose arguments have `argTypes` and whose rt.yield gives
/// `yieldTypes` (the terminator itself is guaranteed by the traits).
static LogicalResult verifyBody(Operation *op, Block &body, TypeRange argTypes,
                                TypeRange yieldTypes, StringRef argWhat, StringRef yieldWhat) {
  if (body.getNumArguments() != argTypes.size())
    return op->emitOpError() << "body has " << body.getNumArguments()
                             << " arguments, expected one per " << argWhat << " ("
                             << argTypes.size() << ")";
  for (auto [i, arg, type] : llvm::enumerate(body.getArguments(), argTypes))
    if (arg.getType() != type)
      return op->emitOpError() << "body argument #" << i << " has type " << arg.getType()
                               << ", expected " << type;
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return op->emitOpError() << "body must end in rt.yield";
  if (yield.getValues().size() != yieldTypes.size())
    return op->emitOpError() << "rt.yield gives " << yield.getValues().size()
                             << " values, expected one per " << yieldWhat << " ("
                             << yieldTypes.size() << ")";
  for (auto [i, value, type] : llvm::enumerate(yield.getValues(), yieldTypes))
    if (value.getType() != type)
      return op->emitOpError() << "rt.yield value #" << i << " has type " << value.getType()
                               << ", expected " << type;
  return success();
}

/// The tensor a kernel body sees for a buffer.
static Type tensorOf(Value buffer) {
  MemRefType t = memrefType(buffer);
  return RankedTensorType::get(t.getShape(), t.getElementType());
}

LogicalResult KernelOp::verify() {
  if (!isCIdentifier(getName()))
    return emitOpError() << "kernel name '" << getName() << "' is not a C identifier";
  if (getOutputs().empty())
    return emitOpError() << "a kernel must write at least one output buffer";
  for (Value v : llvm::concat<Value>(getInputs(), getOutputs()))
    if (failed(verifyDense(*this, "kernel operand", memrefType(v))))
      return failure();
  SmallVector<Type> inputs = llvm::map_to_vector(getInputs(), tensorOf);
  SmallVector<Type> outputs = llvm::map_to_vector(getOutputs(), tensorOf);
  return verifyBody(*this, getBody().front(), inputs, outputs, "input buffer", "output buffer");
}

LogicalResult FusionOp::verify() {
  if (!isCIdentifier(getName()))
    return emitOpError() << "fusion name '" << getName() << "' is not a C identifier";
  if (getResults().empty())
    return emitOpError() << "a fusion must produce at least one result";
  return verifyBody(*this, getBody().front(), getInputs().getTypes(), getResultTypes(), "operand",
                    "result");
}

LogicalResult GemmOp::verify() {
  MemRefType a = memrefType(getA()), b = memrefType(getB()), d = memrefType(getD());
  for (auto [what, t] : {std::pair<StringRef, MemRefType>{"A", a}, {"B", b}, {"D", d}}) {
    if (t.getRank() != 2)
      return emitOpError() << what << " must be 2-D, got " << shapeString(t.getShape());
    if (failed(verifyDense(*this, what, t)))
      return failure();
  }
  for (auto [what, v] : {std::pair<StringRef, Value>{"bias", getBias()},
                         {"a_scale", getAScale()},
                         {"b_scale", getBScale()},
                         {"d_scale", getDScale()},
                         {"amax_d", getAmaxD()}})
    if (v && failed(verifyDense(*this, what, memrefType(v))))
      return failure();
  int64_t m = getTransposeA() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = getTransposeA() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = getTransposeB() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransposeB() ? b.getDimSize(0) : b.getDimSize(1);
  if (ka != kb)
    return emitOpError() << "A gives K = " << ka << ", B gives K = " << kb;
  if (d.getShape() != ArrayRef<int64_t>{m, n})
    return emitOpError() << "D has shape " << shapeString(d.getShape()) << ", expected [" << m
                         << ", " << n << "]";
  Type at = a.getElementType(), bt = b.getElementType();
  if (isFP8(at) != isFP8(bt))
    return emitOpError() << "A and B must both be FP8 or both not, got " << at << " and " << bt;
  if (isa<Float8E5M2Type>(at) && isa<Float8E5M2Type>(bt))
    return emitOpError() << "f8E5M2 x f8E5M2 GEMMs are not supported by cuBLASLt";
  bool fp8 = isFP8(at);
  if (fp8 != static_cast<bool>(getAScale()) || fp8 != static_cast<bool>(getBScale()))
    return emitOpError() << (fp8 ? "FP8 operands need a_scale and b_scale"
                                 : "a_scale and b_scale are only used with FP8 operands");
  if (isFP8(d.getElementType()) != static_cast<bool>(getDScale()))
    return emitOpError() << (getDScale() ? "d_scale is only used with an FP8 D"
                                         : "an FP8 D needs d_scale");
  bool wantsBias = getEpilogue() == Epilogue::bias || getEpilogue() == Epilogue::bias_gelu;
  if (wantsBias != static_cast<bool>(getBias()))
    return emitOpError() << "epilogue " << stringifyEpilogue(getEpilogue())
                         << (wantsBias ? " needs a bias buffer" : " takes no bias buffer");
  if (Value bias = getBias(); bias && memrefType(bias).getShape() != ArrayRef<int64_t>{n})
    return emitOpError() << "bias has shape " << shapeString(memrefType(bias).getShape())
                         << ", expected [" << n << "]";
  if (getAccumulate()) {
    // cuBLASLt reads C = D in D's type; the CPU backend adds in f32.
    if (!d.getElementType().isF32())
      return emitOpError() << "accumulate needs an f32 D, got " << d.getElementType();
    if (getEpilogue() != Epilogue::none)
      return emitOpError() << "accumulate takes no epilogue, got "
                           << stringifyEpilogue(getEpilogue());
  }
  if (failed(verifyScale("a_scale", getAScale(), getAScaleModeAttr(), "A", a)) ||
      failed(verifyScale("b_scale", getBScale(), getBScaleModeAttr(), "B", b)))
    return failure();
  if (fp8) {
    // Hopper's FP8 tensor cores read both operands K-major.
    if (getTransposeA() || !getTransposeB())
      return emitOpError() << "FP8 GEMMs must be TN (transpose_b, not transpose_a)";
    if (m % 16 != 0 || n % 16 != 0 || ka % 16 != 0)
      return emitOpError() << "FP8 GEMM dimensions must be multiples of 16, got M = " << m
                           << ", N = " << n << ", K = " << ka;
  }
  return success();
}

void GemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>> &effects) {
  auto add = [&](MemoryEffects::Effect *effect, OpOperand &operand) {
    effects.emplace_back(effect, &operand, 0, false, SideEffects::DefaultResource::get());
  };
  // In operand order; an operand passed twice (D over A) shows both uses.
  OpOperand *d = &getDMutable();
  MutableOperandRange amax = getAmaxDMutable();
  OpOperand *amaxD = amax.empty() ? nullptr : &amax[0];
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    bool written = &operand == d || &operand == amaxD;
    if (!written || (&operand == d && getAccumulate()))
      add(MemoryEffects::Read::get(), operand);
    if (written)
      add(MemoryEffects::Write::get(), operand);
  }
}

/// The scale of an FP8 operand stored as `[rows, cols]`, shaped per its mode
/// (tensorwise when the mode is absent).
LogicalResult GemmOp::verifyScale(StringRef what, Value scale, ScaleModeAttr modeAttr,
                                  StringRef operand, MemRefType stored) {
  if (!scale) {
    if (modeAttr)
      return emitOpError() << what << "_mode is set but there is no " << what;
    return success();
  }
  ScaleMode mode = modeAttr ? modeAttr.getValue() : ScaleMode::tensorwise;
  int64_t rows = stored.getDimSize(0), cols = stored.getDimSize(1);
  SmallVector<int64_t, 2> expected;
  switch (mode) {
  case ScaleMode::tensorwise:
    break;
  case ScaleMode::rowwise:
    expected = {rows, 1};
    break;
  case ScaleMode::block_1x128:
  case ScaleMode::block_128x128: {
    bool square = mode == ScaleMode::block_128x128;
    if (cols % 128 != 0 || (square && rows % 128 != 0))
      return emitOpError() << stringifyScaleMode(mode) << " scales need " << operand << "'s "
                           << (square ? "rows and columns" : "columns")
                           << " to be multiples of 128, got " << shapeString(stored.getShape());
    expected = {square ? rows / 128 : rows, cols / 128};
    break;
  }
  }
  ArrayRef<int64_t> actual = memrefType(scale).getShape();
  if (actual != ArrayRef<int64_t>(expected))
    return emitOpError() << what << " has shape " << shapeString(actual) << ", expected "
                         << shapeString(expected) << " for " << stringifyScaleMode(mode)
                         << " scales of " << operand << " " << shapeString(stored.getShape());
  return success();
}

LogicalResult CopyOp::verify() {
  MemRefType s = memrefType(getSource()), t = memrefType(getTarget());
  if (failed(verifyDense(*this, "source", s)) || failed(verifyDense(*this, "target", t)))
    return failure();
  if (byteSize(s) != byteSize(t))
    return emitOpError() << "source has " << byteSize(s) << " bytes, target " << byteSize(t);
  return success();
}

LogicalResult AllReduceOp::verify() {
  MemRefType s = memrefType(getSource()), t = memrefType(getTarget());
  if (failed(verifyDense(*this, "source", s)) || failed(verifyDense(*this, "target", t)))
    return failure();
  if (s.getShape() != t.getShape())
    return emitOpError() << "source and target must have the same shape, got " << s << " and " << t;
  if (getWorldSize() < 2)
    return emitOpError() << "world_size must be at least 2, got " << getWorldSize();
  return success();
}

/// `shard` is the 1-D shard of `full` over `worldSize` ranks: c = ceil(n /
/// worldSize) elements of the same element type.
static LogicalResult verifyShardOf(Operation *op, int64_t worldSize, MemRefType full,
                                   MemRefType shard) {
  if (worldSize < 2)
    return op->emitOpError() << "world_size must be at least 2, got " << worldSize;
  if (failed(verifyDense(op, "source", full)) || failed(verifyDense(op, "target", shard)))
    return failure();
  int64_t n = full.getNumElements(), c = (n + worldSize - 1) / worldSize;
  if (full.getElementType() != shard.getElementType() || shard.getRank() != 1 ||
      shard.getDimSize(0) != c)
    return op->emitOpError() << "the shard of " << full << " over " << worldSize << " ranks is "
                             << MemRefType::get({c}, full.getElementType()) << ", got " << shard;
  return success();
}

LogicalResult ReduceScatterOp::verify() {
  return verifyShardOf(*this, getWorldSize(), memrefType(getSource()), memrefType(getTarget()));
}

LogicalResult AllGatherOp::verify() {
  return verifyShardOf(*this, getWorldSize(), memrefType(getTarget()), memrefType(getSource()));
}

LogicalResult ShardOp::verify() {
  return verifyShardOf(*this, getWorldSize(), memrefType(getSource()), memrefType(getTarget()));
}
