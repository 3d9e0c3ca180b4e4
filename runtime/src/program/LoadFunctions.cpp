//===- LoadFunctions.cpp - Functions and instructions of a program file --===//
//
// Functions, their instructions, kernels (value numbers, yields) and kernel
// ops: each op's name resolved to its row of the kernel-op table once, and
// checked with the row's check (fp8rt/ops/KernelOpTable.h); copies.
//
//===----------------------------------------------------------------------===//

#include "Loader.h"
#include "fp8rt/ops/KernelOpTable.h"

#include <climits>
#include <optional>

namespace fp8rt::loader {

//===----------------------------------------------------------------------===//
// Functions and instructions
//===----------------------------------------------------------------------===//

Status Loader::readFunction(const json::Value &v, const JsonPath &p, Function &f) const {
  FP8RT_RETURN_IF_ERROR(
      checkKeys(v, p, {"a function", {"name", "inputs", "outputs", "instructions"}}));
  int which = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(
      v, p, "name", {kFunctionNames[0], kFunctionNames[1], kFunctionNames[2], kFunctionNames[3]},
      which));
  f.name = kFunctionNames[which];
  FP8RT_RETURN_IF_ERROR(readFunctionBuffers(v, p, "inputs", BufferRole::Input, f.inputs));
  FP8RT_RETURN_IF_ERROR(readFunctionBuffers(v, p, "outputs", BufferRole::Output, f.outputs));
  const json::Value &instructions = *v.find("instructions");
  if (instructions.kind != json::Kind::Array)
    return expected(p.key("instructions"), "an array of instructions", instructions);
  f.instructions.resize(instructions.items.size());
  for (size_t i = 0; i < instructions.items.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        readInstruction(instructions.items[i], p.key("instructions").index(i), f.instructions[i]));
  return Status::success();
}

Status Loader::readFunctionBuffers(const json::Value &obj, const JsonPath &p, const char *key,
                                   BufferRole role, std::vector<uint32_t> &out) const {
  std::vector<const json::Value *> items;
  FP8RT_RETURN_IF_ERROR(readIndexArray(obj, p, key, items));
  for (size_t i = 0; i < items.size(); ++i) {
    uint32_t index = 0;
    const JsonPath ip = p.key(key).index(i);
    FP8RT_RETURN_IF_ERROR(readBufferIndex(*items[i], ip, index));
    if (program_.buffers[index].role != role)
      return fail(ip, bufferDescription(index) + " has role " +
                          roleName(program_.buffers[index].role) + ", expected " + roleName(role));
    out.push_back(index);
  }
  return Status::success();
}

Status Loader::readInstruction(const json::Value &v, const JsonPath &p, Instruction &out) const {
  if (v.kind != json::Kind::Object)
    return expected(p, "an instruction (an object)", v);
  if (!v.find("kind"))
    return fail(p, "missing key \"kind\" (kernel, gemm, copy, all_reduce, reduce_scatter, "
                   "all_gather or shard)");
  int kind = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(
      v, p, "kind",
      {"kernel", "gemm", "copy", "all_reduce", "reduce_scatter", "all_gather", "shard"}, kind));
  out.kind = static_cast<Instruction::Kind>(kind);
  switch (out.kind) {
  case Instruction::Kind::Kernel:
    return readKernel(v, p, out.kernel);
  case Instruction::Kind::Gemm:
    return readGemm(v, p, out.gemm);
  case Instruction::Kind::Copy:
    return readCopy(v, p, out.copy);
  case Instruction::Kind::AllReduce:
    return readAllReduce(v, p, out);
  case Instruction::Kind::ReduceScatter:
  case Instruction::Kind::AllGather:
  case Instruction::Kind::Shard:
    return readShardInstruction(v, p, out);
  }
  return Status::success();
}

Status Loader::readKernel(const json::Value &v, const JsonPath &p, Kernel &k) const {
  FP8RT_RETURN_IF_ERROR(
      checkKeys(v, p, {"a kernel", {"kind", "name", "inputs", "outputs", "ops", "yield"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "name", k.name));
  // Value numbers: the inputs, typed as their buffers, then each op's results.
  std::vector<TensorType> values;
  std::vector<const json::Value *> items;
  FP8RT_RETURN_IF_ERROR(readIndexArray(v, p, "inputs", items));
  for (size_t i = 0; i < items.size(); ++i) {
    uint32_t index = 0;
    FP8RT_RETURN_IF_ERROR(readBufferIndex(*items[i], p.key("inputs").index(i), index));
    k.inputs.push_back(index);
    values.push_back(program_.buffers[index].type);
  }
  FP8RT_RETURN_IF_ERROR(readIndexArray(v, p, "outputs", items));
  for (size_t i = 0; i < items.size(); ++i) {
    uint32_t index = 0;
    FP8RT_RETURN_IF_ERROR(readBufferIndex(*items[i], p.key("outputs").index(i), index));
    k.outputs.push_back(index);
  }

  const json::Value &ops = *v.find("ops");
  if (ops.kind != json::Kind::Array)
    return expected(p.key("ops"), "an array of ops", ops);
  k.ops.resize(ops.items.size());
  for (size_t i = 0; i < ops.items.size(); ++i)
    FP8RT_RETURN_IF_ERROR(readKernelOp(ops.items[i], p.key("ops").index(i), values, k.ops[i]));

  FP8RT_RETURN_IF_ERROR(readIndexArray(v, p, "yield", items));
  if (items.size() != k.outputs.size())
    return fail(p.key("yield"), "yields " + num(items.size()) +
                                    " values, expected one per output (" + num(k.outputs.size()) +
                                    ")");
  for (size_t i = 0; i < items.size(); ++i) {
    const JsonPath yp = p.key("yield").index(i);
    std::optional<uint64_t> value = items[i]->asUint64();
    if (!value)
      return expected(yp, "a value number", *items[i]);
    if (*value >= values.size())
      return fail(yp, "value " + num(*value) + " is not defined in this kernel (it has " +
                          num(values.size()) + " values)");
    const TensorType &want = program_.buffers[k.outputs[i]].type;
    if (values[*value] != want)
      return fail(yp, "value " + num(*value) + " is " + values[*value].str() + ", but output " +
                          bufferDescription(k.outputs[i]) + " is " + want.str());
    k.yields.push_back(uint32_t(*value));
  }
  return Status::success();
}

Status Loader::readKernelOp(const json::Value &v, const JsonPath &p,
                            std::vector<TensorType> &values, KernelOp &op) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p, {"a kernel op", {"op", "operands", "results"}, {"attrs"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "op", op.op));

  std::vector<const json::Value *> items;
  FP8RT_RETURN_IF_ERROR(readIndexArray(v, p, "operands", items));
  std::vector<TensorType> operandTypes;
  for (size_t i = 0; i < items.size(); ++i) {
    const JsonPath ip = p.key("operands").index(i);
    std::optional<uint64_t> value = items[i]->asUint64();
    if (!value)
      return expected(ip, "a value number", *items[i]);
    if (*value >= values.size())
      return fail(ip, "value " + num(*value) + " is not defined before this op (values 0 to " +
                          std::to_string(int64_t(values.size()) - 1) + " are)");
    op.operands.push_back(uint32_t(*value));
    operandTypes.push_back(values[*value]);
  }

  const json::Value &results = *v.find("results");
  if (results.kind != json::Kind::Array)
    return expected(p.key("results"), "an array of result types", results);
  for (size_t i = 0; i < results.items.size(); ++i) {
    TensorType t;
    FP8RT_RETURN_IF_ERROR(readTensorType(results.items[i], p.key("results").index(i), t));
    op.results.push_back(std::move(t));
  }

  if (const json::Value *attrs = v.find("attrs")) {
    if (attrs->kind != json::Kind::Object)
      return expected(p.key("attrs"), "an object of attributes", *attrs);
    for (size_t i = 0; i < attrs->keys.size(); ++i) {
      Attr a;
      FP8RT_RETURN_IF_ERROR(readAttr(attrs->items[i], p.key("attrs").key(attrs->keys[i]), a));
      op.attrs.emplace_back(attrs->keys[i], std::move(a));
    }
  }

  // The name is looked up once, here: backends dispatch on the id.
  op.id = ops::findOp(op.op);
  Status checked = ops::checkKernelOp(op, operandTypes);
  if (!checked.ok())
    return fail(p, checked.message(),
                checked.code() == StatusCode::kUnimplemented ? StatusCode::kUnimplemented
                                                             : StatusCode::kDataLoss);
  for (const TensorType &t : op.results)
    values.push_back(t);
  return Status::success();
}

Status Loader::readAttr(const json::Value &v, const JsonPath &p, Attr &a) const {
  switch (v.kind) {
  case json::Kind::Number:
    if (v.isInteger()) {
      a.kind = Attr::Kind::Int;
      FP8RT_RETURN_IF_ERROR(readInt(v, p, a.i));
      a.f = double(a.i);
      return Status::success();
    }
    a.kind = Attr::Kind::Float;
    FP8RT_RETURN_IF_ERROR(readFiniteNumber(v, p, a.f));
    // Truncated for an op that reads it as an integer; clamped, as a double
    // beyond the int64 range has no truncation.
    a.i = a.f >= 9.2e18 ? INT64_MAX : a.f <= -9.2e18 ? INT64_MIN : int64_t(a.f);
    return Status::success();
  case json::Kind::Bool:
    a.kind = Attr::Kind::Bool;
    a.b = v.boolean;
    return Status::success();
  case json::Kind::String:
    a.kind = Attr::Kind::String;
    a.s = v.text;
    return Status::success();
  case json::Kind::Array:
    a.kind = Attr::Kind::Array;
    for (size_t i = 0; i < v.items.size(); ++i) {
      double x = 0;
      FP8RT_RETURN_IF_ERROR(readFiniteNumber(v.items[i], p.index(i), x));
      a.array.push_back(x);
    }
    return Status::success();
  default:
    return expected(p,
                    "an attribute value (a number, true, a string or an array of "
                    "numbers)",
                    v);
  }
}

Status Loader::readCopy(const json::Value &v, const JsonPath &p, Copy &c) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p, {"a copy", {"kind", "source", "target"}}));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("source"), p.key("source"), c.source));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("target"), p.key("target"), c.target));
  const Buffer &s = program_.buffers[c.source], &t = program_.buffers[c.target];
  if (s.bytes() != t.bytes())
    return fail(p.key("target"), bufferDescription(c.target) + " holds " + num(t.bytes()) +
                                     " bytes, the source " + bufferDescription(c.source) + " " +
                                     num(s.bytes()) + ": a copy needs the same size");
  return Status::success();
}

/// Version 4 (docs/distributed.md): an all-reduce of an f32 buffer into one of
/// the same shape (or itself).
Status Loader::readAllReduce(const json::Value &v, const JsonPath &p, Instruction &out) const {
  FP8RT_RETURN_IF_ERROR(
      checkKeys(v, p, {"an all_reduce", {"kind", "reduction", "source", "target"}, {"bucket"}}));
  int reduction = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "reduction", {"sum", "avg", "max"}, reduction));
  out.reduction = static_cast<Reduction>(reduction);
  // Version 5, optional: the gradient bucket.
  if (v.find("bucket")) {
    uint64_t bucket = 0;
    FP8RT_RETURN_IF_ERROR(readUint(v, p, "bucket", 0, uint64_t(INT32_MAX), bucket));
    out.bucket = int64_t(bucket);
  }
  Copy &c = out.copy;
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("source"), p.key("source"), c.source));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("target"), p.key("target"), c.target));
  const Buffer &s = program_.buffers[c.source], &t = program_.buffers[c.target];
  if (s.type.dtype != DType::F32 || s.type != t.type)
    return fail(p.key("target"), bufferDescription(c.target) + " and the source " +
                                     bufferDescription(c.source) +
                                     ": an all_reduce needs two f32 buffers of one shape");
  return Status::success();
}

/// Version 5 (docs/distributed.md "The shard rule"): reduce_scatter (f32 full
/// source, reduction, shard target), all_gather (shard source, full target)
/// and shard (full source, shard target); the shard is 1-D, ceil(n /
/// info.world_size) elements of the full tensor's dtype.
Status Loader::readShardInstruction(const json::Value &v, const JsonPath &p,
                                    Instruction &out) const {
  const bool scatter = out.kind == Instruction::Kind::ReduceScatter;
  const bool gather = out.kind == Instruction::Kind::AllGather;
  const char *what = scatter ? "a reduce_scatter" : gather ? "an all_gather" : "a shard";
  if (scatter) {
    FP8RT_RETURN_IF_ERROR(checkKeys(v, p, {what, {"kind", "reduction", "source", "target"}}));
    int reduction = 0;
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "reduction", {"sum", "avg", "max"}, reduction));
    out.reduction = static_cast<Reduction>(reduction);
  } else {
    FP8RT_RETURN_IF_ERROR(checkKeys(v, p, {what, {"kind", "source", "target"}}));
  }
  Copy &c = out.copy;
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("source"), p.key("source"), c.source));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("target"), p.key("target"), c.target));
  const uint32_t fullIndex = gather ? c.target : c.source;
  const uint32_t shardIndex = gather ? c.source : c.target;
  const Buffer &full = program_.buffers[fullIndex], &shard = program_.buffers[shardIndex];
  const int64_t worldSize = program_.info.worldSize;
  const int64_t c1 = shardElements(full.type.numElements(), worldSize);
  const JsonPath shardPath = p.key(gather ? "source" : "target");
  if (scatter && full.type.dtype != DType::F32)
    return fail(p.key("source"), bufferDescription(fullIndex) + ": a reduce_scatter reduces f32");
  if (worldSize < 2)
    return fail(p, std::string(what) + " needs info.world_size >= 2, the program has " +
                       num(uint64_t(worldSize)));
  if (shard.type != TensorType{full.type.dtype, {c1}})
    return fail(shardPath, bufferDescription(shardIndex) + ": the shard of " +
                               bufferDescription(fullIndex) + " over " + num(uint64_t(worldSize)) +
                               " ranks is " + TensorType{full.type.dtype, {c1}}.str());
  return Status::success();
}

} // namespace fp8rt::loader
