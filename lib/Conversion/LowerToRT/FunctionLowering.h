//===- FunctionLowering.h - fp8-lower-to-rt's state, shared by its files -===//
//
// The module-wide persistent layout and one function's storages, live ranges
// and plan (LowerToRT.cpp), and the emission of rt ops (Emission.cpp). Private
// to lib/Conversion/LowerToRT.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_LIB_CONVERSION_LOWERTORT_FUNCTIONLOWERING_H
#define FP8C_LIB_CONVERSION_LOWERTORT_FUNCTIONLOWERING_H

#include "fp8c/Analysis/MemoryPlan.h"
#include "fp8c/Dialect/FP8/IR/FP8Ops.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Dialect/Train/IR/TrainOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/StringMap.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fp8c::lower_to_rt {

using namespace mlir;
using rt::alignToBuffer;
using rt::Role;

/// Roles the host reads or writes around a call: they keep one offset and
/// one name across functions and stay untouched until the end of a call.
inline bool isHostVisible(Role role) {
  return role == Role::input || role == Role::output || role == Role::metric || role == Role::grad;
}

/// Element types a buffer can hold; i1 (a predicate passed between kernels,
/// e.g. delayed scaling's "update on this step") takes one byte.
inline bool isBufferElementType(Type t) {
  return t.isF32() || t.isBF16() || t.isF16() || isa<Float8E4M3FNType, Float8E5M2Type>(t) ||
         t.isSignlessInteger(32) || t.isSignlessInteger(64) || t.isSignlessInteger(8) ||
         t.isSignlessInteger(1);
}

inline MemRefType memrefOf(Type tensor) {
  auto t = cast<RankedTensorType>(tensor);
  return MemRefType::get(t.getShape(), t.getElementType());
}

inline int64_t byteSize(MemRefType t) {
  int64_t bytes = (t.getElementTypeBitWidth() + 7) / 8;
  for (int64_t d : t.getShape())
    bytes *= d;
  return bytes;
}

inline bool isGemm(Operation *op) {
  return isa<train::LinearOp, train::MatmulOp, fp8::ScaledMatmulOp>(op);
}

/// A splat constant that only kernels read is cloned into their bodies; any
/// other constant (non-splat, or read by a GEMM, a reshape or the return) is a
/// `constant` buffer that the loader fills from its `data`.
bool constantNeedsBuffer(arith::ConstantOp op);

/// `<layer>.<kind>` from the GEMM's fp8.gemm annotation, else its `name`.
std::string gemmName(Operation *op);

//===----------------------------------------------------------------------===//
// Module-wide state: the persistent layout and the host-visible offsets
//===----------------------------------------------------------------------===//

struct PersistentBuffer {
  std::string name;
  Role role;
  MemRefType type;
  std::optional<rt::Init> init;
  std::optional<double> initStd;
  ElementsAttr data;
  int64_t offset = 0;
  /// zero1/fsdp: the full shape this buffer is this rank's shard of.
  DenseI64ArrayAttr shardOf = {};
};

struct PinnedBuffer {
  int64_t offset;
  MemRefType type;
};

struct ModuleLayout {
  std::vector<PersistentBuffer> persistent;
  llvm::StringMap<unsigned> persistentByName;
  llvm::DenseMap<Attribute, unsigned> constantByValue;
  int64_t persistentEnd = 0;
  /// Host-visible buffers by name, at the offset the first function that has
  /// them gave them.
  llvm::StringMap<PinnedBuffer> pinned;
  /// The functions (by index) that have a host-visible buffer of this name:
  /// two names must not share bytes when one function has both.
  llvm::StringMap<llvm::SmallBitVector> hostFunctions;
  int64_t arenaSize = 0;

  bool shareAFunction(StringRef a, StringRef b) const {
    auto x = hostFunctions.find(a), y = hostFunctions.find(b);
    return x != hostFunctions.end() && y != hostFunctions.end() && x->second.anyCommon(y->second);
  }

  /// Adds (or finds) a persistent buffer; a name seen with another type or
  /// role is an error on `loc`.
  FailureOr<unsigned> addPersistent(Location loc, PersistentBuffer buffer) {
    auto [it, inserted] = persistentByName.try_emplace(buffer.name, persistent.size());
    if (!inserted) {
      const PersistentBuffer &seen = persistent[it->second];
      if (seen.type != buffer.type || seen.role != buffer.role)
        return emitError(loc) << "'" << buffer.name << "' is " << buffer.type << " ("
                              << rt::stringifyRole(buffer.role) << ") here but " << seen.type
                              << " (" << rt::stringifyRole(seen.role) << ") in an earlier function",
               failure();
      return it->second;
    }
    buffer.offset = persistentEnd;
    persistentEnd += alignToBuffer(byteSize(buffer.type));
    persistent.push_back(std::move(buffer));
    return it->second;
  }
};

/// The index of argument `i`'s persistent buffer, or -1 for an input.
FailureOr<int64_t> collectArgument(func::FuncOp func, unsigned i, ModuleLayout &layout);

/// The `constant` buffer of a constant that needs one (same data, one buffer).
FailureOr<unsigned> collectConstant(arith::ConstantOp op, ModuleLayout &layout);

//===----------------------------------------------------------------------===//
// One function
//===----------------------------------------------------------------------===//

/// Bytes that hold one or more values over a live range.
struct Storage {
  MemRefType type; // the type of the value that defines it
  Role role = Role::scratch;
  std::string name;
  int64_t start = 0, end = 0; // inclusive, in op positions
  int64_t offset = -1;
  std::optional<unsigned> persistent; // index into ModuleLayout::persistent
  /// A grad.X placed in the bytes of the spent accumulator grad_accum.X (this
  /// storage index): docs/memory-plan.md, "Gradients in the accumulators' bytes".
  std::optional<unsigned> inAccumulator;
};

class FunctionLowering {
public:
  FunctionLowering(func::FuncOp func, ModuleLayout &layout)
      : func(func), layout(layout), ctx(func.getContext()), body(func.front()) {}

  LogicalResult analyze();
  /// Notes the names of this function's host-visible buffers, as function
  /// `index` of `count` (after analyze, before any function's plan).
  void recordHostNames(unsigned index, unsigned count);
  LogicalResult plan();
  void emit();

private:
  unsigned newStorage(MemRefType type, Role role, StringRef name, int64_t start) {
    storages.push_back({type, role, name.str(), start, start, -1, std::nullopt, std::nullopt});
    return storages.size() - 1;
  }
  /// The value a reshape chain views.
  Value rootOf(Value v) const { return train::stripReshapes(v); }
  std::optional<unsigned> storageOf(Value v) const {
    auto it = home.find(rootOf(v));
    if (it == home.end())
      return std::nullopt;
    return it->second;
  }
  int64_t positionOf(Value v) const {
    Operation *def = v.getDefiningOp();
    return def ? position.lookup(def) : -1;
  }
  /// A result that needs a buffer: something reads it, or the host does (a
  /// metric, or the gradient an optimizer update read inside the same fusion).
  bool isKept(Value r) const {
    return !r.use_empty() || metricNames.count(r) || gradNames.count(r);
  }
  /// An op that runs as an instruction of its own (kernel or GEMM).
  bool isInstruction(Operation *op) const {
    return !isa<train::ReshapeOp, arith::ConstantOp, func::ReturnOp>(op) &&
           llvm::any_of(op->getResults(), [&](Value r) { return isKept(r); });
  }
  /// Gives `v` the storage `target` if `v` has none yet and is written by an
  /// instruction; else schedules a copy into it, after `v` is defined or at
  /// the end of the function.
  void bindOrCopy(Value v, unsigned target, bool atEnd);
  void computeLiveRanges();
  bool canWriteInPlace(Operation *producer, Value result, Value arg) const;
  /// The storage of an operand of `producer` that dies there and that
  /// `result` may overwrite element by element (docs/memory-plan.md, "Writing
  /// over dying operands"); none of `taken` (other results' storages).
  std::optional<unsigned> dyingOperandStorage(Operation *producer, Value result,
                                              ArrayRef<unsigned> taken) const;
  /// Some op after position `at` reads `root`, through any view (reshapes).
  bool readAfter(Value root, int64_t at) const;
  /// Storage `s` is a gradient accumulator of `type` that train_step reads and
  /// does not write back: the trainer zeroes it before the next step reads it.
  bool isSpentAccumulator(unsigned s, MemRefType type) const;
  /// The storage of `matmul`'s acc when the GEMM may accumulate in it: scratch,
  /// or a spent or written-back gradient accumulator, whose value dies at the
  /// GEMM (docs/memory-plan.md, "Accumulating GEMMs").
  std::optional<unsigned> dyingAccStorage(train::MatmulOp matmul) const;
  LogicalResult checkSupported(Operation *op);
  void nameMetricsAndGrads();
  /// The storage of train_step's spent accumulator whose bytes the grad.X
  /// storage `grad` may take, if that is safe; else none.
  std::optional<unsigned> accumulatorForGrad(unsigned grad) const;

  // Emission helpers.
  Value view(Value tensor);
  Value viewOfStorage(unsigned s, MemRefType type);
  void emitKernel(Operation *op, StringRef name);
  void emitGemm(Operation *op);
  void emitCollective(Operation *op);

  func::FuncOp func;
  ModuleLayout &layout;
  MLIRContext *ctx;
  Block &body;

  SmallVector<Operation *> ops; // top-level ops, return included
  DenseMap<Operation *, int64_t> position;
  int64_t endPosition = 0;

  std::vector<Storage> storages;
  DenseMap<Value, unsigned> home; // root value -> storage
  /// Persistent storages that receive a result of the function (new state).
  DenseSet<unsigned> returnedState;
  // Of those, the ones returned unchanged (the argument itself).
  DenseSet<unsigned> unchangedState;
  DenseSet<Value> clonedConstants;
  llvm::MapVector<Value, std::string> metricNames, gradNames;
  /// rt.copy of `source` viewed as `sourceType` into `target`.
  struct Copy {
    unsigned source;
    MemRefType sourceType;
    unsigned target;
  };
  /// A copy of `v`, which has a storage (bindOrCopy binds a view's root first).
  Copy copyOf(Value v, unsigned target) const {
    std::optional<unsigned> source = storageOf(v);
    assert(source && "a copy from a value without storage");
    return {*source, memrefOf(v.getType()), target};
  }
  std::map<int64_t, SmallVector<Copy>> copiesAfter; // by op position; -1: at entry
  SmallVector<Copy> endCopies, lateCopies;          // at the end, in this order

  // Emission state.
  Value arena;
  Operation *firstOld = nullptr, *firstInstruction = nullptr;
  DenseMap<std::pair<unsigned, Type>, Value> views;
  int64_t instructionCount = 0;
};

} // namespace fp8c::lower_to_rt

#endif // FP8C_LIB_CONVERSION_LOWERTORT_FUNCTIONLOWERING_H
