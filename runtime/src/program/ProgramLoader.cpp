//===- ProgramLoader.cpp - Parse and validate a program file ---------------===//
//
// parseProgram reads the JSON of an `.fp8prog` file (docs/program-format.md)
// with the runtime's strict parser and validates all of it before anything is
// handed to a backend: keys and their kinds, names, shapes, arena bounds,
// overlaps of persistent buffers, buffer indices, kernel value numbers, every
// kernel op (ops::checkKernelOp) and every GEMM's shapes, dtypes and scales. A
// backend may then index the arena with the program's numbers unchecked.
//
// Every error reads "<file>: <json path>: <what was expected, what was found>"
// (kDataLoss; kUnimplemented for a different format version or an op this
// runtime does not know).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Program.h"

#include "Loader.h"
#include "support/ReadFile.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace fp8rt {
namespace loader {
namespace {

/// The compact serialisation of a parsed value (numbers as written).
void serialize(const json::Value &v, std::string &out) {
  switch (v.kind) {
  case json::Kind::Null:
    out += "null";
    return;
  case json::Kind::Bool:
    out += v.boolean ? "true" : "false";
    return;
  case json::Kind::Number:
    out += v.text;
    return;
  case json::Kind::String:
    out += json::quote(v.text);
    return;
  case json::Kind::Array:
    out += '[';
    for (size_t i = 0; i < v.items.size(); ++i) {
      if (i)
        out += ',';
      serialize(v.items[i], out);
    }
    out += ']';
    return;
  case json::Kind::Object:
    out += '{';
    for (size_t i = 0; i < v.items.size(); ++i) {
      if (i)
        out += ',';
      out += json::quote(v.keys[i]);
      out += ':';
      serialize(v.items[i], out);
    }
    out += '}';
    return;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Typed reads
//===----------------------------------------------------------------------===//

Status Loader::checkKeys(const json::Value &obj, const JsonPath &p, const KeySet &keys) const {
  if (obj.kind != json::Kind::Object)
    return expected(p, keys.what + std::string(" (an object)"), obj);
  for (const std::string &key : obj.keys) {
    bool known = false;
    for (auto list : {keys.required, keys.optional})
      for (const char *k : list)
        known = known || key == k;
    if (!known) {
      std::string all;
      for (auto list : {keys.required, keys.optional})
        for (const char *k : list)
          all += (all.empty() ? "" : ", ") + std::string(k);
      return fail(p, "unknown key " + json::quote(key) + " (" + keys.what + " has the keys " + all +
                         ")");
    }
  }
  for (const char *k : keys.required)
    if (!obj.find(k))
      return fail(p, "missing key " + json::quote(k) + " (" + keys.what + " needs it)");
  return Status::success();
}

Status Loader::readString(const json::Value &obj, const JsonPath &p, const char *key,
                          std::string &out) const {
  const json::Value &v = *obj.find(key);
  if (v.kind != json::Kind::String)
    return expected(p.key(key), "a string", v);
  out = v.text;
  return Status::success();
}

Status Loader::readChoice(const json::Value &obj, const JsonPath &p, const char *key,
                          std::initializer_list<const char *> choices, int &out) const {
  const json::Value &v = *obj.find(key);
  if (v.kind == json::Kind::String) {
    int i = 0;
    for (const char *c : choices) {
      if (v.text == c) {
        out = i;
        return Status::success();
      }
      ++i;
    }
  }
  return expected(p.key(key), choiceList(choices), v);
}

Status Loader::readBool(const json::Value &obj, const JsonPath &p, const char *key,
                        bool &out) const {
  const json::Value &v = *obj.find(key);
  if (v.kind != json::Kind::Bool)
    return expected(p.key(key), "true or false", v);
  out = v.boolean;
  return Status::success();
}

Status Loader::readUint(const json::Value &obj, const JsonPath &p, const char *key, uint64_t min,
                        uint64_t max, uint64_t &out) const {
  const json::Value &v = *obj.find(key);
  std::optional<uint64_t> u = v.asUint64();
  if (!u || *u < min || *u > max)
    return expected(p.key(key), "an integer in [" + num(min) + ", " + num(max) + "]", v);
  out = *u;
  return Status::success();
}

Status Loader::readInt(const json::Value &v, const JsonPath &p, int64_t &out) const {
  if (v.kind == json::Kind::Number && v.isInteger()) {
    const char *end = v.text.data() + v.text.size();
    auto [ptr, ec] = std::from_chars(v.text.data(), end, out);
    if (ec == std::errc() && ptr == end)
      return Status::success();
  }
  return expected(p, "a 64-bit integer", v);
}

Status Loader::readFiniteNumber(const json::Value &v, const JsonPath &p, double &out) const {
  if (v.kind != json::Kind::Number)
    return expected(p, "a number", v);
  out = std::strtod(v.text.c_str(), nullptr);
  if (!std::isfinite(out))
    return expected(p, "a number within the range of a double", v);
  return Status::success();
}

Status Loader::readBufferIndex(const json::Value &v, const JsonPath &p, uint32_t &out) const {
  std::optional<uint64_t> u = v.asUint64();
  if (!u)
    return expected(p, "a buffer index", v);
  if (*u >= program_.buffers.size())
    return fail(p, "buffer index " + num(*u) + " is out of range (the program has " +
                       num(program_.buffers.size()) + " buffers)");
  out = uint32_t(*u);
  return Status::success();
}

Status Loader::readOptionalBufferIndex(const json::Value &obj, const JsonPath &p, const char *key,
                                       uint32_t &out) const {
  out = Gemm::kNone;
  const json::Value *v = obj.find(key);
  return v ? readBufferIndex(*v, p.key(key), out) : Status::success();
}

Status Loader::readIndexArray(const json::Value &obj, const JsonPath &p, const char *key,
                              std::vector<const json::Value *> &out) const {
  const json::Value &v = *obj.find(key);
  if (v.kind != json::Kind::Array)
    return expected(p.key(key), "an array of indices", v);
  out.clear();
  for (const json::Value &item : v.items)
    out.push_back(&item);
  return Status::success();
}

Status Loader::readShape(const json::Value &v, const JsonPath &p, DType dtype,
                         std::vector<int64_t> &out) const {
  if (v.kind != json::Kind::Array)
    return expected(p, "an array of dimensions", v);
  if (v.items.size() > kMaxRank)
    return fail(p, "a tensor has at most " + num(kMaxRank) + " dimensions, found " +
                       num(v.items.size()));
  out.clear();
  // Elements that fit in kMaxArenaBytes; checked before each product, so it
  // never overflows.
  const uint64_t maxElements = kMaxArenaBytes / dtypeSize(dtype);
  uint64_t elements = 1;
  for (size_t i = 0; i < v.items.size(); ++i) {
    std::optional<uint64_t> d = v.items[i].asUint64();
    if (!d || *d < 1)
      return expected(p.index(i), "a dimension (an integer >= 1)", v.items[i]);
    if (*d > maxElements / elements) {
      std::string written;
      for (const json::Value &item : v.items)
        written += (written.empty() ? "" : ", ") + item.text;
      return fail(p, "[" + written + "] of " + dtypeName(dtype) + " would exceed " +
                         num(kMaxArenaBytes) + " bytes");
    }
    elements *= *d;
    out.push_back(int64_t(*d));
  }
  return Status::success();
}

Status Loader::readTensorType(const json::Value &obj, const JsonPath &p, TensorType &out) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(obj, p, {"a tensor type", {"dtype", "shape"}}));
  return readDTypeAndShape(obj, p, out);
}

Status Loader::readDTypeAndShape(const json::Value &obj, const JsonPath &p, TensorType &out) const {
  std::string dtype;
  FP8RT_RETURN_IF_ERROR(readString(obj, p, "dtype", dtype));
  if (!parseDType(dtype, out.dtype))
    return fail(p.key("dtype"), "unknown dtype " + json::quote(dtype) +
                                    " (expected f32, bf16, f16, f8e4m3, f8e5m2, "
                                    "i32, i64 or i8)");
  return readShape(*obj.find("shape"), p.key("shape"), out.dtype, out.shape);
}

//===----------------------------------------------------------------------===//
// Top level
//===----------------------------------------------------------------------===//

StatusOr<Program> Loader::load(std::string_view text) {
  StatusOr<json::Value> parsed = json::parse(text);
  if (!parsed.ok())
    return fail(JsonPath(), "not a valid JSON document: " + parsed.status().message());
  const json::Value &root = *parsed;
  const JsonPath top;
  FP8RT_RETURN_IF_ERROR(readHeader(root));

  const json::Value &buffers = *root.find("buffers");
  if (buffers.kind != json::Kind::Array)
    return expected(top.key("buffers"), "an array of buffers", buffers);
  program_.buffers.resize(buffers.items.size());
  for (size_t i = 0; i < buffers.items.size(); ++i)
    FP8RT_RETURN_IF_ERROR(
        readBuffer(buffers.items[i], top.key("buffers").index(i), program_.buffers[i]));
  FP8RT_RETURN_IF_ERROR(checkBufferNames());
  FP8RT_RETURN_IF_ERROR(checkBufferOverlaps());

  const json::Value &functions = *root.find("functions");
  if (functions.kind != json::Kind::Array)
    return expected(top.key("functions"), "an array of functions", functions);
  program_.functions.resize(functions.items.size());
  for (size_t i = 0; i < functions.items.size(); ++i) {
    const JsonPath p = top.key("functions").index(i);
    Function &f = program_.functions[i];
    FP8RT_RETURN_IF_ERROR(readFunction(functions.items[i], p, f));
    for (size_t j = 0; j < i; ++j)
      if (program_.functions[j].name == f.name)
        return fail(p.key("name"), "function " + json::quote(f.name) +
                                       " is defined twice (also functions[" + num(j) + "])");
  }
  return std::move(program_);
}

Status Loader::readHeader(const json::Value &root) {
  const JsonPath top;
  if (root.kind != json::Kind::Object)
    return expected(top, "a program (a JSON object)", root);
  // Format and version first: a file of another version may have other keys,
  // and its reader's message should be about the version.
  const json::Value *format = root.find("format");
  if (!format)
    return fail(top, "missing key \"format\" (not an fp8c program file?)");
  if (format->kind != json::Kind::String || format->text != "fp8c-program")
    return expected(top.key("format"), "\"fp8c-program\"", *format);
  const json::Value *version = root.find("version");
  if (!version)
    return fail(top, "missing key \"version\"");
  FP8RT_RETURN_IF_ERROR(readInt(*version, top.key("version"), program_.version));
  if (program_.version != Program::kVersion)
    return fail(top.key("version"),
                "program format version " + std::to_string(program_.version) +
                    " is not supported by this fp8-run (it reads version " +
                    std::to_string(Program::kVersion) + "); recompile the model with this fp8c",
                StatusCode::kUnimplemented);

  FP8RT_RETURN_IF_ERROR(checkKeys(root, top,
                                  {"a program",
                                   {"format", "version", "producer", "info", "config",
                                    "arena_bytes", "buffers", "functions"}}));
  FP8RT_RETURN_IF_ERROR(readString(root, top, "producer", program_.producer));
  FP8RT_RETURN_IF_ERROR(readInfo(*root.find("info"), top.key("info")));
  const json::Value &config = *root.find("config");
  if (config.kind != json::Kind::Object)
    return expected(top.key("config"), "an object", config);
  program_.configJson.clear();
  serialize(config, program_.configJson);
  FP8RT_RETURN_IF_ERROR(readUint(root, top, "arena_bytes", 0, kMaxArenaBytes, program_.arenaBytes));
  if (program_.arenaBytes % Program::kAlignment != 0)
    return fail(top.key("arena_bytes"),
                num(program_.arenaBytes) + " is not a multiple of " + num(Program::kAlignment));
  return Status::success();
}

Status Loader::readInfo(const json::Value &v, const JsonPath &p) {
  FP8RT_RETURN_IF_ERROR(checkKeys(
      v, p,
      {"info",
       {"family", "batch_size", "seq_len", "vocab_size", "grad_accum_steps", "total_steps",
        "init_seed", "fp8_recipe", "fp8_format"},
       {"model_flops_per_token", "device", "peak_bf16_tflops", "peak_fp8_tflops", "world_size"}}));
  ProgramInfo &info = program_.info;
  const auto families = {"gpt", "llama", "mlp", "custom"};
  const auto recipes = {"none", "tensorwise", "delayed", "rowwise", "blockwise"};
  const auto formats = {"hybrid", "e4m3"};
  int choice = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "family", families, choice));
  info.family = families.begin()[choice];
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "fp8_recipe", recipes, choice));
  info.fp8Recipe = recipes.begin()[choice];
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "fp8_format", formats, choice));
  info.fp8Format = formats.begin()[choice];
  const uint64_t maxInt = uint64_t(INT64_MAX);
  const struct {
    const char *key;
    uint64_t min;
    int64_t *out;
  } counts[] = {{"batch_size", 0, &info.batchSize},
                {"seq_len", 0, &info.seqLen},
                {"vocab_size", 0, &info.vocabSize},
                {"grad_accum_steps", 1, &info.gradAccumSteps},
                {"total_steps", 0, &info.totalSteps}};
  for (const auto &c : counts) {
    uint64_t u = 0;
    FP8RT_RETURN_IF_ERROR(readUint(v, p, c.key, c.min, maxInt, u));
    *c.out = int64_t(u);
  }
  FP8RT_RETURN_IF_ERROR(readInt(*v.find("init_seed"), p.key("init_seed"), info.initSeed));
  return readThroughputInfo(v, p);
}

/// The version 3 keys, optional (absent: unknown): FLOPs per token and the
/// compiled-for device's peaks, for the trainer's MFU.
Status Loader::readThroughputInfo(const json::Value &v, const JsonPath &p) {
  ProgramInfo &info = program_.info;
  if (v.find("model_flops_per_token")) {
    uint64_t flops = 0;
    FP8RT_RETURN_IF_ERROR(readUint(v, p, "model_flops_per_token", 0, uint64_t(INT64_MAX), flops));
    info.modelFlopsPerToken = int64_t(flops);
  }
  if (v.find("device"))
    FP8RT_RETURN_IF_ERROR(readString(v, p, "device", info.device));
  // Version 4, optional (absent: one process).
  if (v.find("world_size")) {
    uint64_t worldSize = 1;
    FP8RT_RETURN_IF_ERROR(readUint(v, p, "world_size", 1, 65536, worldSize));
    info.worldSize = int64_t(worldSize);
  }
  for (auto [key, out] : {std::pair{"peak_bf16_tflops", &info.peakBF16TFlops},
                          std::pair{"peak_fp8_tflops", &info.peakFP8TFlops}})
    if (const json::Value *peak = v.find(key)) {
      FP8RT_RETURN_IF_ERROR(readFiniteNumber(*peak, p.key(key), *out));
      if (*out < 0)
        return fail(p.key(key), "a peak cannot be negative");
    }
  return Status::success();
}

} // namespace loader

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

StatusOr<Program> parseProgram(std::string_view text, std::string_view fileName) {
  return loader::Loader(fileName).load(text);
}

StatusOr<Program> loadProgram(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readRegularFile(path));
  return parseProgram(std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()),
                      path);
}

} // namespace fp8rt
