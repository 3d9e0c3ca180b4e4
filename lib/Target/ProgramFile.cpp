//===- ProgramFile.cpp - rt module -> .fp8prog program file ---------------===//
//
// A straight walk over the lowered module: the buffer table is every distinct
// rt.buffer view (a persistent buffer seen in several functions is one entry),
// each function is its rt.kernel / rt.gemm / rt.copy ops in order, and a kernel
// body is written op by op with the ODS operand order and attribute names. The
// format is docs/program-format.md; fp8rt::parseProgram is its reader.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Target/ProgramFile.h"

#include "fp8c/CostModel/DeviceSpec.h"
#include "fp8c/Dialect/RT/IR/RTOps.h"
#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <map>
#include <tuple>

using namespace mlir;
namespace json = llvm::json;

namespace {

/// Attributes that name or annotate an op but do not change what it computes:
/// the program file leaves them out (docs/program-format.md).
const llvm::StringSet<> &droppedAttributes() {
  static const llvm::StringSet<> names = {"fp8.gemm", "name", "fused_into_producer"};
  return names;
}

/// "f32", "bf16", ..., or "" for a type the format has no dtype for. i1 is
/// written as i8 (a 0/1 byte), as the format has no boolean dtype.
std::string dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  if (isa<Float8E4M3FNType>(t))
    return "f8e4m3";
  if (isa<Float8E5M2Type>(t))
    return "f8e5m2";
  if (t.isInteger(32))
    return "i32";
  if (t.isInteger(64))
    return "i64";
  if (t.isInteger(8) || t.isInteger(1))
    return "i8";
  return "";
}

/// The spelling of a string or enum attribute: "param" for "param" or
/// #rt<role param>, "tensorwise" for #fp8<recipe tensorwise>.
std::optional<std::string> spelling(Attribute attr) {
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.str();
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  StringRef t(text);
  if (!t.starts_with("#") || !t.ends_with(">"))
    return std::nullopt;
  t = t.drop_back().rsplit('<').second;
  StringRef value = t.rsplit(' ').second;
  if (value.empty())
    value = t;
  if (value.empty() || value.contains_insensitive("<"))
    return std::nullopt;
  return value.str();
}

/// The rank-0 / dense elements of a constant as JSON numbers (a splat as one
/// number when `splatAsNumber`).
FailureOr<json::Value> elementsToJSON(Operation *op, ElementsAttr attr, bool splatAsNumber) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return op->emitError("cannot write a non-dense constant to the program file"), failure();
  json::Array values;
  Type elt = dense.getElementType();
  if (isa<FloatType>(elt)) {
    for (APFloat v : dense.getValues<APFloat>()) {
      double d = v.convertToDouble();
      if (!std::isfinite(d))
        return op->emitError("constant element ") << d << " is not finite: JSON cannot carry it",
               failure();
      values.push_back(d);
      if (dense.isSplat() && splatAsNumber)
        break;
    }
  } else if (isa<IntegerType>(elt)) {
    bool isBool = elt.isInteger(1);
    for (APInt v : dense.getValues<APInt>()) {
      values.push_back(isBool ? int64_t(v.getZExtValue()) : v.getSExtValue());
      if (dense.isSplat() && splatAsNumber)
        break;
    }
  } else {
    return op->emitError("cannot write constant elements of type ") << elt, failure();
  }
  if (dense.isSplat() && splatAsNumber)
    return json::Value(std::move(values.front()));
  return json::Value(std::move(values));
}

/// A kernel op attribute as JSON (docs/program-format.md, "Attribute values").
FailureOr<json::Value> attrToJSON(Operation *op, StringRef name, Attribute attr) {
  if (auto b = dyn_cast<BoolAttr>(attr))
    return json::Value(b.getValue());
  if (isa<UnitAttr>(attr))
    return json::Value(true);
  if (auto i = dyn_cast<IntegerAttr>(attr)) {
    // CmpIPredicateAttr's classof accepts any small i64 IntegerAttr: ask the op.
    if (auto cmp = dyn_cast<arith::CmpIOp>(op); cmp && name == "predicate")
      return json::Value(arith::stringifyCmpIPredicate(cmp.getPredicate()).str());
    return json::Value(i.getValue().getSExtValue());
  }
  if (auto f = dyn_cast<FloatAttr>(attr)) {
    double d = f.getValueAsDouble();
    if (!std::isfinite(d))
      return op->emitError("attribute '") << name << "' is not finite: JSON cannot carry it",
             failure();
    return json::Value(d);
  }
  if (auto t = dyn_cast<TypeAttr>(attr)) {
    std::string dtype = dtypeName(t.getValue());
    if (dtype.empty())
      return op->emitError("attribute '")
                 << name << "': type " << t.getValue() << " has no program-file dtype",
             failure();
    return json::Value(dtype);
  }
  if (auto e = dyn_cast<ElementsAttr>(attr))
    return elementsToJSON(op, e, /*splatAsNumber=*/true);
  if (auto a = dyn_cast<DenseI32ArrayAttr>(attr))
    return json::Value(json::Array(a.asArrayRef()));
  if (auto a = dyn_cast<DenseI64ArrayAttr>(attr))
    return json::Value(json::Array(a.asArrayRef()));
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    json::Array out;
    for (Attribute e : a) {
      FailureOr<json::Value> v = attrToJSON(op, name, e);
      if (failed(v))
        return failure();
      out.push_back(std::move(*v));
    }
    return json::Value(std::move(out));
  }
  if (std::optional<std::string> s = spelling(attr))
    return json::Value(*s);
  return op->emitError("attribute '") << name << "' (" << attr << ") has no program-file form",
         failure();
}

/// Generic DictionaryAttr -> JSON for the informational "config" object.
json::Value configToJSON(Attribute attr) {
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    json::Object o;
    for (NamedAttribute n : d)
      o[n.getName().str()] = configToJSON(n.getValue());
    return o;
  }
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    json::Array out;
    for (Attribute e : a)
      out.push_back(configToJSON(e));
    return out;
  }
  if (auto b = dyn_cast<BoolAttr>(attr))
    return b.getValue();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getValue().getSExtValue();
  if (auto f = dyn_cast<FloatAttr>(attr)) {
    double d = f.getValueAsDouble();
    return std::isfinite(d) ? json::Value(d) : json::Value(nullptr);
  }
  if (std::optional<std::string> s = spelling(attr))
    return *s;
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return text;
}

json::Value typeJSON(ShapedType type) {
  return json::Object{{"dtype", dtypeName(type.getElementType())},
                      {"shape", json::Array(type.getShape())}};
}

/// The model's dimensions as train.config spells them (0 / "" when absent).
struct ModelShape {
  std::string family;
  int64_t dModel, nLayers, nHeads, nKvHeads, ffnDim, vocabSize, seqLen;
};

/// Training FLOPs per token (docs/program-format.md, "info"): 6 N for the
/// forward and backward of the N weights that multiply activations (the
/// blocks' linear layers and the output head, tied or not; not the embedding
/// lookups, norms or biases), plus nanoGPT's 12 L d T for attention's two
/// T x T products (not halved for the causal mask). 0: not a model fp8c knows.
int64_t modelFlopsPerToken(const ModelShape &m) {
  const int64_t d = m.dModel, ffn = m.ffnDim, head = m.vocabSize * d;
  if (m.family == "mlp") {
    if (m.nLayers <= 0)
      return 6 * head;
    const int64_t n = d * ffn + (m.nLayers - 1) * ffn * ffn + ffn * m.vocabSize;
    return 6 * n;
  }
  int64_t perLayer = 0;
  if (m.family == "gpt") {
    perLayer = 4 * d * d + 2 * d * ffn; // c_attn (3 d^2), c_proj, c_fc, mlp.c_proj
  } else if (m.family == "llama") {
    if (m.nHeads <= 0)
      return 0;
    const int64_t kv = m.nKvHeads * (d / m.nHeads);  // k_proj and v_proj outputs
    perLayer = 2 * d * d + 2 * d * kv + 3 * d * ffn; // q, o, k, v; gate, up, down
  } else {
    return 0;
  }
  const int64_t n = m.nLayers * perLayer + head;
  return 6 * n + 12 * m.nLayers * d * m.seqLen;
}

class ProgramWriter {
public:
  explicit ProgramWriter(ModuleOp module) : module(module) {}

  LogicalResult write(llvm::raw_ostream &os) {
    json::Array functions;
    size_t views = 0;
    module.walk([&](fp8c::rt::BufferOp) { ++views; });
    buffers.reserve(views);
    functions.reserve(llvm::range_size(module.getOps<func::FuncOp>()));
    for (auto func : module.getOps<func::FuncOp>()) {
      FailureOr<json::Value> f = writeFunction(func);
      if (failed(f))
        return failure();
      functions.push_back(std::move(*f));
    }
    if (functions.empty())
      return module.emitError("no function to write: run fp8-lower-to-rt first");
    json::Object top;
    top["format"] = "fp8c-program";
    top["version"] = fp8c::kProgramFormatVersion;
    top["producer"] = "fp8c 0.1.0";
    top["info"] = info();
    top["config"] = config ? configToJSON(config) : json::Object{};
    top["arena_bytes"] = arenaBytes;
    top["buffers"] = std::move(buffers);
    top["functions"] = std::move(functions);
    os << llvm::formatv("{0:1}", json::Value(std::move(top))) << "\n";
    return success();
  }

private:
  /// What the trainer needs, from the module's train.config (YAML models) or
  /// the `tokens` input (.mlir models without one).
  json::Value info() {
    auto get = [&](std::initializer_list<StringRef> path) -> Attribute {
      Attribute a = config;
      for (StringRef key : path) {
        auto d = dyn_cast_or_null<DictionaryAttr>(a);
        a = d ? d.get(key) : nullptr;
      }
      return a;
    };
    auto integer = [&](std::initializer_list<StringRef> path, int64_t fallback) {
      auto i = dyn_cast_or_null<IntegerAttr>(get(path));
      return i ? i.getInt() : fallback;
    };
    auto string = [&](std::initializer_list<StringRef> path, StringRef fallback) {
      auto s = dyn_cast_or_null<StringAttr>(get(path));
      return s ? s.str() : fallback.str();
    };
    bool fp8 = false;
    if (auto b = dyn_cast_or_null<BoolAttr>(get({"fp8", "enabled"})))
      fp8 = b.getValue();
    ModelShape shape{string({"model", "family"}, ""),     integer({"model", "d_model"}, 0),
                     integer({"model", "n_layers"}, 0),   integer({"model", "n_heads"}, 0),
                     integer({"model", "n_kv_heads"}, 0), integer({"model", "ffn_dim"}, 0),
                     integer({"model", "vocab_size"}, 0), integer({"model", "seq_len"}, 0)};
    std::string device = string({"fp8", "device"}, "");
    double peakBF16 = 0, peakFP8 = 0;
    if (llvm::Expected<fp8c::cost::DeviceSpec> spec = fp8c::cost::lookupDevice(device)) {
      peakBF16 = spec->peakBF16TFlops;
      peakFP8 = spec->peakFP8TFlops;
    } else {
      llvm::consumeError(spec.takeError());
      device.clear();
    }
    return json::Object{
        {"model_flops_per_token", modelFlopsPerToken(shape)},
        {"device", device},
        {"peak_bf16_tflops", peakBF16},
        {"peak_fp8_tflops", peakFP8},
        {"family", string({"model", "family"}, "custom")},
        {"batch_size", integer({"batch_size"}, tokensShape.empty() ? 0 : tokensShape[0])},
        {"seq_len", integer({"model", "seq_len"}, tokensShape.size() > 1 ? tokensShape[1] : 0)},
        {"vocab_size", integer({"model", "vocab_size"}, 0)},
        {"grad_accum_steps", integer({"grad_accum_steps"}, 1)},
        {"total_steps", integer({"lr_schedule", "total_steps"}, 0)},
        {"init_seed", integer({"init", "seed"}, 0)},
        {"fp8_recipe", fp8 ? string({"fp8", "recipe"}, "tensorwise") : "none"},
        {"fp8_format", string({"fp8", "format"}, "hybrid")},
        {"world_size", integer({"distributed", "world_size"}, 1)},
    };
  }

  /// The buffer table index of a view, adding it on first sight. A persistent
  /// buffer of several functions (same name, role, offset, type) is one entry.
  FailureOr<int64_t> bufferIndex(Value v, Operation *user) {
    auto op = v.getDefiningOp<fp8c::rt::BufferOp>();
    if (!op)
      return user->emitError("operand is not an rt.buffer view: run fp8-lower-to-rt first"),
             failure();
    if (auto it = indexOfView.find(op); it != indexOfView.end())
      return it->second;
    FailureOr<int64_t> index = addBuffer(op);
    if (succeeded(index))
      indexOfView[op] = *index;
    return index;
  }

  FailureOr<int64_t> addBuffer(fp8c::rt::BufferOp op) {
    auto type = cast<MemRefType>(op.getType());
    std::string name, role = "scratch";
    if (auto n = op->getAttrOfType<StringAttr>("name"))
      name = n.str();
    if (Attribute r = op->getAttr("role")) {
      std::optional<std::string> s = spelling(r);
      if (!s)
        return op.emitError("cannot read the role attribute ") << r, failure();
      role = *s;
    }
    std::string typeKey;
    llvm::raw_string_ostream(typeKey) << type;
    auto key = std::make_tuple(op.getOffsetAttr().getInt(), typeKey, name, role);
    auto [it, inserted] = bufferIndices.try_emplace(key, buffers.size());
    if (!inserted)
      return it->second;

    std::string dtype = dtypeName(type.getElementType());
    if (dtype.empty())
      return op.emitError("element type ") << type.getElementType() << " has no program-file dtype",
             failure();
    json::Object b{{"name", name},
                   {"role", role},
                   {"dtype", dtype},
                   {"shape", json::Array(type.getShape())},
                   {"offset", op.getOffsetAttr().getInt()}};
    if (Attribute init = op->getAttr("init")) {
      std::optional<std::string> s = spelling(init);
      if (!s)
        return op.emitError("cannot read the init attribute ") << init, failure();
      b["init"] = *s;
    }
    if (auto std = op->getAttrOfType<FloatAttr>("init_std"))
      b["init_std"] = std.getValueAsDouble();
    if (auto full = op->getAttrOfType<DenseI64ArrayAttr>("shard_of"))
      b["shard_of"] = json::Array(full.asArrayRef());
    if (auto data = op->getAttrOfType<ElementsAttr>("data")) {
      FailureOr<json::Value> values = elementsToJSON(op, data, /*splatAsNumber=*/false);
      if (failed(values))
        return failure();
      // A splat DenseElementsAttr iterates once per element: write them all.
      b["data"] = std::move(*values);
    }
    if (role == "input" && name == "tokens")
      tokensShape.assign(type.getShape().begin(), type.getShape().end());
    buffers.push_back(std::move(b));
    return it->second;
  }

  FailureOr<json::Value> writeFunction(func::FuncOp func) {
    if (func.getNumArguments() != 0 || func.getNumResults() != 0)
      return func.emitError("function @")
                 << func.getSymName()
                 << " still takes or returns tensors: run fp8-lower-to-rt first",
             failure();
    json::Array instructions;
    // json::Value copies, not moves, when an array grows: reserve the big ones.
    instructions.reserve(func.getBody().front().getOperations().size());
    std::vector<int64_t> inputs, outputs;
    auto note = [&](int64_t index) {
      const json::Object *b = buffers[index].getAsObject();
      std::optional<StringRef> role = b->getString("role");
      auto &list = role == "input" ? inputs : outputs;
      if ((role == "input" || role == "output") && !llvm::is_contained(list, index))
        list.push_back(index);
    };
    for (Operation &op : func.getBody().front()) {
      if (auto arena = dyn_cast<fp8c::rt::ArenaOp>(op)) {
        arenaBytes = std::max<int64_t>(arenaBytes, arena.getSize());
        continue;
      }
      if (isa<fp8c::rt::BufferOp, func::ReturnOp>(op))
        continue;
      FailureOr<json::Value> inst = failure();
      if (auto kernel = dyn_cast<fp8c::rt::KernelOp>(op))
        inst = writeKernel(kernel);
      else if (auto gemm = dyn_cast<fp8c::rt::GemmOp>(op))
        inst = writeGemm(gemm);
      else if (auto copy = dyn_cast<fp8c::rt::CopyOp>(op))
        inst = writeCopy(copy);
      else if (isa<fp8c::rt::AllReduceOp, fp8c::rt::ReduceScatterOp, fp8c::rt::AllGatherOp,
                   fp8c::rt::ShardOp>(op))
        inst = writeCollective(&op);
      else
        return op.emitError("cannot write '")
                   << op.getName() << "' to the program file: run fp8-lower-to-rt first",
               failure();
      if (failed(inst))
        return failure();
      for (Value operand : op.getOperands())
        if (auto buffer = operand.getDefiningOp<fp8c::rt::BufferOp>())
          note(*bufferIndex(operand, &op));
      instructions.push_back(std::move(*inst));
    }
    return json::Value(json::Object{{"name", func.getSymName()},
                                    {"inputs", json::Array(inputs)},
                                    {"outputs", json::Array(outputs)},
                                    {"instructions", std::move(instructions)}});
  }

  FailureOr<json::Value> writeKernel(fp8c::rt::KernelOp kernel) {
    json::Array ins, outs, ops, yields;
    for (Value v : kernel.getInputs()) {
      FailureOr<int64_t> i = bufferIndex(v, kernel);
      if (failed(i))
        return failure();
      ins.push_back(*i);
    }
    for (Value v : kernel.getOutputs()) {
      FailureOr<int64_t> i = bufferIndex(v, kernel);
      if (failed(i))
        return failure();
      outs.push_back(*i);
    }
    Block &body = kernel.getBody().front();
    ops.reserve(body.getOperations().size());
    llvm::DenseMap<Value, int64_t> numbers;
    for (BlockArgument arg : body.getArguments())
      numbers[arg] = numbers.size();
    for (Operation &op : body) {
      if (auto yield = dyn_cast<fp8c::rt::YieldOp>(op)) {
        for (Value v : yield.getValues())
          yields.push_back(numbers.lookup(v));
        continue;
      }
      json::Array operands, results;
      for (Value v : op.getOperands()) {
        auto it = numbers.find(v);
        if (it == numbers.end())
          return op.emitError("operand defined outside the kernel body"), failure();
        operands.push_back(it->second);
      }
      if (op.getNumRegions() != 0)
        return op.emitError("ops with regions cannot be written into a kernel"), failure();
      for (Value r : op.getResults()) {
        auto type = dyn_cast<RankedTensorType>(r.getType());
        if (!type || dtypeName(type.getElementType()).empty())
          return op.emitError("result type ") << r.getType() << " has no program-file form",
                 failure();
        results.push_back(typeJSON(type));
        numbers[r] = numbers.size();
      }
      json::Object attrs;
      for (NamedAttribute a : op.getAttrs()) {
        if (droppedAttributes().contains(a.getName().strref()))
          continue;
        FailureOr<json::Value> v = attrToJSON(&op, a.getName().strref(), a.getValue());
        if (failed(v))
          return failure();
        attrs[a.getName().str()] = std::move(*v);
      }
      ops.push_back(json::Object{{"op", op.getName().getStringRef()},
                                 {"operands", std::move(operands)},
                                 {"results", std::move(results)},
                                 {"attrs", std::move(attrs)}});
    }
    return json::Value(json::Object{{"kind", "kernel"},
                                    {"name", kernel.getName()},
                                    {"inputs", std::move(ins)},
                                    {"outputs", std::move(outs)},
                                    {"ops", std::move(ops)},
                                    {"yield", std::move(yields)}});
  }

  FailureOr<json::Value> writeGemm(fp8c::rt::GemmOp gemm) {
    json::Object g{{"kind", "gemm"}};
    auto a = cast<MemRefType>(gemm.getA().getType());
    auto d = cast<MemRefType>(gemm.getD().getType());
    int64_t k = gemm.getTransposeA() ? a.getDimSize(0) : a.getDimSize(1);
    g["name"] = "";
    if (auto n = gemm->getAttrOfType<StringAttr>("name"))
      g["name"] = n.str();
    g["m"] = d.getDimSize(0);
    g["n"] = d.getDimSize(1);
    g["k"] = k;
    for (auto [key, v] : {std::pair<StringRef, Value>{"a", gemm.getA()},
                          {"b", gemm.getB()},
                          {"d", gemm.getD()},
                          {"bias", gemm.getBias()},
                          {"a_scale", gemm.getAScale()},
                          {"b_scale", gemm.getBScale()},
                          {"d_scale", gemm.getDScale()},
                          {"amax_d", gemm.getAmaxD()}}) {
      if (!v)
        continue;
      FailureOr<int64_t> i = bufferIndex(v, gemm);
      if (failed(i))
        return failure();
      g[key] = *i;
    }
    g["transpose_a"] = gemm.getTransposeA();
    g["transpose_b"] = gemm.getTransposeB();
    g["fast_accum"] = gemm.getFastAccum();
    g["epilogue"] = fp8c::rt::stringifyEpilogue(gemm.getEpilogue()).str();
    // Version 6: D = op(A) · op(B) + D; written only when set.
    if (gemm.getAccumulate())
      g["accumulate"] = true;
    for (StringRef mode : {"a_scale_mode", "b_scale_mode"})
      if (Attribute m = gemm->getAttr(mode)) {
        std::optional<std::string> s = spelling(m);
        if (!s)
          return gemm.emitError("cannot read ") << mode << " " << m, failure();
        g[mode] = *s;
      }
    return json::Value(std::move(g));
  }

  FailureOr<json::Value> writeCopy(fp8c::rt::CopyOp copy) {
    FailureOr<int64_t> s = bufferIndex(copy.getSource(), copy);
    FailureOr<int64_t> t = bufferIndex(copy.getTarget(), copy);
    if (failed(s) || failed(t))
      return failure();
    return json::Value(json::Object{{"kind", "copy"}, {"source", *s}, {"target", *t}});
  }

  /// all_reduce, reduce_scatter (with a reduction), all_gather and shard:
  /// source and target buffers.
  FailureOr<json::Value> writeCollective(Operation *op) {
    FailureOr<int64_t> s = bufferIndex(op->getOperand(0), op);
    FailureOr<int64_t> t = bufferIndex(op->getOperand(1), op);
    if (failed(s) || failed(t))
      return failure();
    json::Object inst{{"kind", op->getName().stripDialect().str()}, {"source", *s}, {"target", *t}};
    if (auto reduction = op->getAttrOfType<fp8c::rt::ReductionAttr>("reduction"))
      inst["reduction"] = fp8c::rt::stringifyReduction(reduction.getValue());
    // Version 5: the gradient bucket (a grouping hint for the backend).
    if (auto allReduce = dyn_cast<fp8c::rt::AllReduceOp>(op))
      if (std::optional<uint64_t> bucket = allReduce.getBucket())
        inst["bucket"] = int64_t(*bucket);
    return json::Value(std::move(inst));
  }

  ModuleOp module;
  DictionaryAttr config =
      module->getAttrOfType<DictionaryAttr>(fp8c::train::TrainDialect::getConfigAttrName());
  json::Array buffers;
  std::map<std::tuple<int64_t, std::string, std::string, std::string>, int64_t> bufferIndices;
  llvm::DenseMap<Operation *, int64_t> indexOfView; // each view is looked at once
  std::vector<int64_t> tokensShape;
  int64_t arenaBytes = 0;
};

} // namespace

LogicalResult fp8c::writeProgramFile(ModuleOp module, llvm::raw_ostream &os) {
  return ProgramWriter(module).write(os);
}
