//===- ProgramLoader.cpp - Parse and validate a program file ---------------===//
//
// parseProgram reads the JSON of an `.fp8prog` file (docs/program-format.md)
// with the runtime's strict parser and validates all of it before anything is
// handed to a backend: keys and their kinds, names, shapes, arena bounds,
// overlaps of persistent buffers, buffer indices, kernel value numbers, every
// kernel op (checkKernelOp) and every GEMM's shapes, dtypes and scales. A
// backend may then index the arena with the program's numbers unchecked.
//
// Every error reads "<file>: <json path>: <what was expected, what was found>"
// (kDataLoss; kUnimplemented for a different format version or an op this
// runtime does not know).
//
//===----------------------------------------------------------------------===//

#include "fp8rt/Program.h"
#include "fp8rt/cpu/KernelOps.h"

#include "checkpoint/Json.h"
#include "checkpoint/ReadFile.h"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace fp8rt {

namespace {

/// No arena (and hence no tensor) may exceed 1 TiB: far beyond any real
/// model, and small enough that sizes and offsets below it never overflow.
constexpr uint64_t kMaxArenaBytes = uint64_t(1) << 40;
constexpr size_t kMaxRank = 8;
/// Largest magnitude an integer constant may have: `Buffer::data` holds
/// doubles, which represent every integer up to 2^53 exactly.
constexpr double kMaxExactInteger = 9007199254740992.0;

const char *const kFunctionNames[] = {"train_step", "eval_step", "accumulate_step"};

std::string num(uint64_t v) { return std::to_string(v); }

/// "a, b or c".
std::string choiceList(std::initializer_list<const char *> choices) {
  std::string s;
  size_t i = 0;
  for (const char *c : choices) {
    if (i)
      s += i + 1 == choices.size() ? " or " : ", ";
    s += c;
    ++i;
  }
  return s;
}

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

/// A location in the document, "functions[0].instructions[3].ops[1]".
class JsonPath {
public:
  JsonPath() = default;
  JsonPath key(std::string_view k) const {
    JsonPath p;
    p.text_ = text_.empty() ? std::string(k) : text_ + "." + std::string(k);
    return p;
  }
  JsonPath index(size_t i) const {
    JsonPath p;
    p.text_ = text_ + "[" + num(i) + "]";
    return p;
  }
  const std::string &str() const { return text_; }

private:
  std::string text_;
};

/// The keys an object may have, for checkKeys.
struct KeySet {
  const char *what; ///< "a buffer", in messages
  std::initializer_list<const char *> required;
  std::initializer_list<const char *> optional = {};
};

class Loader {
public:
  explicit Loader(std::string_view fileName) : file_(fileName) {}

  StatusOr<Program> load(std::string_view text);

private:
  // Messages.
  Status fail(const JsonPath &p, const std::string &message,
              StatusCode code = StatusCode::kDataLoss) const {
    std::string m = file_ + ": ";
    if (!p.str().empty())
      m += p.str() + ": ";
    return Status(code, m + message);
  }
  Status expected(const JsonPath &p, const std::string &what,
                  const json::Value &found) const {
    return fail(p, "expected " + what + ", found " + describe(found));
  }

  // Typed reads. `obj` is an object that has passed checkKeys, `p` its path.
  Status checkKeys(const json::Value &obj, const JsonPath &p, const KeySet &keys) const;
  Status readString(const json::Value &obj, const JsonPath &p, const char *key,
                    std::string &out) const;
  Status readChoice(const json::Value &obj, const JsonPath &p, const char *key,
                    std::initializer_list<const char *> choices, int &out) const;
  Status readBool(const json::Value &obj, const JsonPath &p, const char *key,
                  bool &out) const;
  Status readUint(const json::Value &obj, const JsonPath &p, const char *key,
                  uint64_t min, uint64_t max, uint64_t &out) const;
  Status readInt(const json::Value &v, const JsonPath &p, int64_t &out) const;
  Status readFiniteNumber(const json::Value &v, const JsonPath &p, double &out) const;
  Status readBufferIndex(const json::Value &v, const JsonPath &p, uint32_t &out) const;
  /// A buffer index under `key`, or Gemm::kNone when the key is absent.
  Status readOptionalBufferIndex(const json::Value &obj, const JsonPath &p,
                                 const char *key, uint32_t &out) const;
  Status readIndexArray(const json::Value &obj, const JsonPath &p, const char *key,
                        std::vector<const json::Value *> &out) const;
  Status readShape(const json::Value &v, const JsonPath &p, DType dtype,
                   std::vector<int64_t> &out) const;
  /// {"dtype", "shape"}, and no other key.
  Status readTensorType(const json::Value &obj, const JsonPath &p, TensorType &out) const;
  /// The "dtype" and "shape" keys of a checked object.
  Status readDTypeAndShape(const json::Value &obj, const JsonPath &p, TensorType &out) const;

  // Sections.
  Status readHeader(const json::Value &root);
  Status readInfo(const json::Value &v, const JsonPath &p);
  Status readThroughputInfo(const json::Value &v, const JsonPath &p);
  Status readBuffer(const json::Value &v, const JsonPath &p, Buffer &out) const;
  Status readConstantData(const json::Value &v, const JsonPath &p, Buffer &b) const;
  Status checkBufferNames() const;
  Status checkBufferOverlaps() const;
  Status readFunction(const json::Value &v, const JsonPath &p, Function &out) const;
  Status readFunctionBuffers(const json::Value &obj, const JsonPath &p, const char *key,
                             BufferRole role, std::vector<uint32_t> &out) const;
  Status readInstruction(const json::Value &v, const JsonPath &p, Instruction &out) const;
  Status readKernel(const json::Value &v, const JsonPath &p, Kernel &out) const;
  Status readKernelOp(const json::Value &v, const JsonPath &p,
                      std::vector<TensorType> &values, KernelOp &out) const;
  Status readAttr(const json::Value &v, const JsonPath &p, Attr &out) const;
  Status readGemm(const json::Value &v, const JsonPath &p, Gemm &out) const;
  Status checkGemmOperands(const Gemm &g, const JsonPath &p) const;
  Status checkGemmScale(const Gemm &g, const JsonPath &p, bool isA) const;
  Status readCopy(const json::Value &v, const JsonPath &p, Copy &out) const;

  /// "buffer 3 (\"w\", f32[4,8])", for messages about a buffer's type.
  std::string bufferDescription(uint32_t index) const {
    const Buffer &b = program_.buffers[index];
    std::string s = "buffer " + num(index) + " (";
    if (!b.name.empty())
      s += json::quote(b.name) + ", ";
    return s + b.type.str() + ")";
  }

  std::string file_;
  Program program_;
};

//===----------------------------------------------------------------------===//
// Typed reads
//===----------------------------------------------------------------------===//

Status Loader::checkKeys(const json::Value &obj, const JsonPath &p,
                         const KeySet &keys) const {
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
      return fail(p, "unknown key " + json::quote(key) + " (" + keys.what +
                         " has the keys " + all + ")");
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

Status Loader::readUint(const json::Value &obj, const JsonPath &p, const char *key,
                        uint64_t min, uint64_t max, uint64_t &out) const {
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

Status Loader::readFiniteNumber(const json::Value &v, const JsonPath &p,
                                double &out) const {
  if (v.kind != json::Kind::Number)
    return expected(p, "a number", v);
  out = std::strtod(v.text.c_str(), nullptr);
  if (!std::isfinite(out))
    return expected(p, "a number within the range of a double", v);
  return Status::success();
}

Status Loader::readBufferIndex(const json::Value &v, const JsonPath &p,
                               uint32_t &out) const {
  std::optional<uint64_t> u = v.asUint64();
  if (!u)
    return expected(p, "a buffer index", v);
  if (*u >= program_.buffers.size())
    return fail(p, "buffer index " + num(*u) + " is out of range (the program has " +
                       num(program_.buffers.size()) + " buffers)");
  out = uint32_t(*u);
  return Status::success();
}

Status Loader::readOptionalBufferIndex(const json::Value &obj, const JsonPath &p,
                                       const char *key, uint32_t &out) const {
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

Status Loader::readTensorType(const json::Value &obj, const JsonPath &p,
                              TensorType &out) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(obj, p, {"a tensor type", {"dtype", "shape"}}));
  return readDTypeAndShape(obj, p, out);
}

Status Loader::readDTypeAndShape(const json::Value &obj, const JsonPath &p,
                                 TensorType &out) const {
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
    FP8RT_RETURN_IF_ERROR(readBuffer(buffers.items[i], top.key("buffers").index(i),
                                     program_.buffers[i]));
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
                                       " is defined twice (also functions[" + num(j) +
                                       "])");
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
                    std::to_string(Program::kVersion) +
                    "); recompile the model with this fp8c",
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
  FP8RT_RETURN_IF_ERROR(
      readUint(root, top, "arena_bytes", 0, kMaxArenaBytes, program_.arenaBytes));
  if (program_.arenaBytes % Program::kAlignment != 0)
    return fail(top.key("arena_bytes"), num(program_.arenaBytes) +
                                            " is not a multiple of " +
                                            num(Program::kAlignment));
  return Status::success();
}

Status Loader::readInfo(const json::Value &v, const JsonPath &p) {
  FP8RT_RETURN_IF_ERROR(checkKeys(
      v, p,
      {"info", {"family", "batch_size", "seq_len", "vocab_size", "grad_accum_steps",
                "total_steps", "init_seed", "fp8_recipe", "fp8_format"},
       {"model_flops_per_token", "device", "peak_bf16_tflops", "peak_fp8_tflops"}}));
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
    FP8RT_RETURN_IF_ERROR(
        readUint(v, p, "model_flops_per_token", 0, uint64_t(INT64_MAX), flops));
    info.modelFlopsPerToken = int64_t(flops);
  }
  if (v.find("device"))
    FP8RT_RETURN_IF_ERROR(readString(v, p, "device", info.device));
  for (auto [key, out] : {std::pair{"peak_bf16_tflops", &info.peakBF16TFlops},
                          std::pair{"peak_fp8_tflops", &info.peakFP8TFlops}})
    if (const json::Value *peak = v.find(key)) {
      FP8RT_RETURN_IF_ERROR(readFiniteNumber(*peak, p.key(key), *out));
      if (*out < 0)
        return fail(p.key(key), "a peak cannot be negative");
    }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

Status Loader::readBuffer(const json::Value &v, const JsonPath &p, Buffer &b) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p,
                                  {"a buffer",
                                   {"name", "role", "dtype", "shape", "offset"},
                                   {"init", "init_std", "data"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "name", b.name));
  std::string role;
  FP8RT_RETURN_IF_ERROR(readString(v, p, "role", role));
  if (!parseRole(role, b.role))
    return fail(p.key("role"), "unknown role " + json::quote(role) +
                                   " (expected param, optimizer, fp8_state, "
                                   "grad_accum, constant, input, output, metric, "
                                   "grad or scratch)");
  FP8RT_RETURN_IF_ERROR(readDTypeAndShape(v, p, b.type));

  // The view lies inside the arena: offset + bytes <= arena_bytes, computed
  // without forming a sum that could overflow.
  FP8RT_RETURN_IF_ERROR(readUint(v, p, "offset", 0, UINT64_MAX, b.offset));
  if (b.offset % Program::kAlignment != 0)
    return fail(p.key("offset"), num(b.offset) + " is not a multiple of " +
                                     num(Program::kAlignment));
  const uint64_t bytes = b.bytes();
  if (bytes > program_.arenaBytes || b.offset > program_.arenaBytes - bytes)
    return fail(p.key("offset"), "the buffer's " + num(bytes) + " bytes at offset " +
                                     num(b.offset) +
                                     " run past the end of the arena (arena_bytes " +
                                     num(program_.arenaBytes) + ")");

  // Initialisation: the trainer initialises these roles, the loader fills
  // constants, nothing else keeps its bytes between calls.
  const bool initialised = b.role == BufferRole::Param || b.role == BufferRole::Optimizer ||
                           b.role == BufferRole::FP8State ||
                           b.role == BufferRole::GradAccum;
  if (v.find("init")) {
    if (!initialised)
      return fail(p.key("init"), "only param, optimizer, fp8_state and grad_accum "
                                 "buffers are initialised, this one is " +
                                     std::string(roleName(b.role)));
    int kind = 0;
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "init", {"zeros", "ones", "normal"}, kind));
    b.init = static_cast<InitKind>(kind + 1);
  } else if (initialised) {
    return fail(p, "missing key \"init\" (a " + std::string(roleName(b.role)) +
                       " buffer needs zeros, ones or normal)");
  }
  if (const json::Value *std = v.find("init_std")) {
    if (b.init != InitKind::Normal)
      return fail(p.key("init_std"), "only a buffer with init \"normal\" has a "
                                     "standard deviation");
    FP8RT_RETURN_IF_ERROR(readFiniteNumber(*std, p.key("init_std"), b.initStd));
    if (!(b.initStd > 0))
      return expected(p.key("init_std"), "a positive number", *std);
  } else if (b.init == InitKind::Normal) {
    return fail(p, "missing key \"init_std\" (init \"normal\" needs it)");
  }

  if (const json::Value *data = v.find("data")) {
    if (b.role != BufferRole::Constant)
      return fail(p.key("data"), "only constant buffers have data, this one is " +
                                     std::string(roleName(b.role)));
    return readConstantData(*data, p.key("data"), b);
  }
  if (b.role == BufferRole::Constant)
    return fail(p, "missing key \"data\" (a constant buffer needs its elements)");
  return Status::success();
}

Status Loader::readConstantData(const json::Value &v, const JsonPath &p,
                                Buffer &b) const {
  const uint64_t count = uint64_t(b.type.numElements());
  if (v.kind != json::Kind::Array)
    return expected(p, "an array of " + num(count) + " numbers", v);
  if (v.items.size() != count)
    return fail(p, "expected " + num(count) + " elements (shape " +
                       shapeString(b.type.shape) + "), found " + num(v.items.size()));
  b.data.resize(v.items.size());
  // The backend converts these to the dtype; keep them in its range so that
  // the conversion is defined (integers exactly, floats through f32).
  double lo = -FLT_MAX, hi = FLT_MAX;
  switch (b.type.dtype) {
  case DType::I8:
    lo = -128, hi = 127;
    break;
  case DType::I32:
    lo = -2147483648.0, hi = 2147483647.0;
    break;
  case DType::I64:
    lo = -kMaxExactInteger, hi = kMaxExactInteger;
    break;
  default:
    break;
  }
  const bool integer = !isFloat(b.type.dtype);
  for (size_t i = 0; i < v.items.size(); ++i) {
    double x = 0;
    FP8RT_RETURN_IF_ERROR(readFiniteNumber(v.items[i], p.index(i), x));
    if ((integer && std::floor(x) != x) || x < lo || x > hi)
      return expected(p.index(i),
                      std::string(integer ? "an integer" : "a number") + " in [" +
                          (integer ? std::to_string(int64_t(lo)) : "-FLT_MAX") + ", " +
                          (integer ? std::to_string(int64_t(hi)) : "FLT_MAX") +
                          "] for a " + dtypeName(b.type.dtype) + " constant",
                      v.items[i]);
    b.data[i] = x;
  }
  return Status::success();
}

Status Loader::checkBufferNames() const {
  // Persistent and host-visible buffers are found by name (checkpoints,
  // inputs, metrics): one name, one buffer.
  std::vector<std::pair<std::string_view, size_t>> named;
  for (size_t i = 0; i < program_.buffers.size(); ++i) {
    const Buffer &b = program_.buffers[i];
    if (b.role == BufferRole::Scratch)
      continue;
    if (b.name.empty())
      return fail(JsonPath().key("buffers").index(i).key("name"),
                  "a " + std::string(roleName(b.role)) + " buffer needs a name");
    named.emplace_back(b.name, i);
  }
  std::sort(named.begin(), named.end());
  for (size_t k = 1; k < named.size(); ++k)
    if (named[k].first == named[k - 1].first)
      return fail(JsonPath().key("buffers").index(named[k].second).key("name"),
                  "duplicate name " + json::quote(named[k].first) +
                      " (also buffers[" + num(named[k - 1].second) +
                      "]); persistent, input, output, metric and grad buffers "
                      "have unique names");
  return Status::success();
}

Status Loader::checkBufferOverlaps() const {
  // Sweep the buffers in offset order. A pair overlaps when the later one
  // starts before the earlier one ends; it is an error when either is
  // persistent, so it is enough to remember the furthest end of all buffers
  // and of persistent ones seen so far.
  const std::vector<Buffer> &buffers = program_.buffers;
  std::vector<size_t> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return buffers[a].offset != buffers[b].offset ? buffers[a].offset < buffers[b].offset
                                                  : a < b;
  });
  auto end = [&](size_t i) { return buffers[i].offset + buffers[i].bytes(); };
  const size_t none = SIZE_MAX;
  size_t furthest = none, furthestPersistent = none;
  for (size_t i : order) {
    const Buffer &b = buffers[i];
    size_t other = none;
    if (isPersistent(b.role) && furthest != none && b.offset < end(furthest))
      other = furthest;
    else if (furthestPersistent != none && b.offset < end(furthestPersistent))
      other = furthestPersistent;
    if (other != none) {
      const size_t later = std::max(i, other), earlier = std::min(i, other);
      auto range = [&](size_t k) {
        return "bytes [" + num(buffers[k].offset) + ", " + num(end(k)) + ")";
      };
      return fail(JsonPath().key("buffers").index(later),
                  std::string(roleName(buffers[later].role)) + " buffer " +
                      json::quote(buffers[later].name) + " (" + range(later) +
                      ") overlaps " + roleName(buffers[earlier].role) + " buffer " +
                      json::quote(buffers[earlier].name) + " of buffers[" +
                      num(earlier) + "] (" + range(earlier) +
                      "); persistent buffers share their bytes with no other buffer");
    }
    if (furthest == none || end(i) > end(furthest))
      furthest = i;
    if (isPersistent(b.role) &&
        (furthestPersistent == none || end(i) > end(furthestPersistent)))
      furthestPersistent = i;
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Functions and instructions
//===----------------------------------------------------------------------===//

Status Loader::readFunction(const json::Value &v, const JsonPath &p, Function &f) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(
      v, p, {"a function", {"name", "inputs", "outputs", "instructions"}}));
  int which = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(
      v, p, "name", {kFunctionNames[0], kFunctionNames[1], kFunctionNames[2]}, which));
  f.name = kFunctionNames[which];
  FP8RT_RETURN_IF_ERROR(readFunctionBuffers(v, p, "inputs", BufferRole::Input, f.inputs));
  FP8RT_RETURN_IF_ERROR(
      readFunctionBuffers(v, p, "outputs", BufferRole::Output, f.outputs));
  const json::Value &instructions = *v.find("instructions");
  if (instructions.kind != json::Kind::Array)
    return expected(p.key("instructions"), "an array of instructions", instructions);
  f.instructions.resize(instructions.items.size());
  for (size_t i = 0; i < instructions.items.size(); ++i)
    FP8RT_RETURN_IF_ERROR(readInstruction(instructions.items[i],
                                          p.key("instructions").index(i),
                                          f.instructions[i]));
  return Status::success();
}

Status Loader::readFunctionBuffers(const json::Value &obj, const JsonPath &p,
                                   const char *key, BufferRole role,
                                   std::vector<uint32_t> &out) const {
  std::vector<const json::Value *> items;
  FP8RT_RETURN_IF_ERROR(readIndexArray(obj, p, key, items));
  for (size_t i = 0; i < items.size(); ++i) {
    uint32_t index = 0;
    const JsonPath ip = p.key(key).index(i);
    FP8RT_RETURN_IF_ERROR(readBufferIndex(*items[i], ip, index));
    if (program_.buffers[index].role != role)
      return fail(ip, bufferDescription(index) + " has role " +
                          roleName(program_.buffers[index].role) + ", expected " +
                          roleName(role));
    out.push_back(index);
  }
  return Status::success();
}

Status Loader::readInstruction(const json::Value &v, const JsonPath &p,
                               Instruction &out) const {
  if (v.kind != json::Kind::Object)
    return expected(p, "an instruction (an object)", v);
  if (!v.find("kind"))
    return fail(p, "missing key \"kind\" (kernel, gemm or copy)");
  int kind = 0;
  FP8RT_RETURN_IF_ERROR(readChoice(v, p, "kind", {"kernel", "gemm", "copy"}, kind));
  out.kind = static_cast<Instruction::Kind>(kind);
  switch (out.kind) {
  case Instruction::Kind::Kernel:
    return readKernel(v, p, out.kernel);
  case Instruction::Kind::Gemm:
    return readGemm(v, p, out.gemm);
  case Instruction::Kind::Copy:
    return readCopy(v, p, out.copy);
  }
  return Status::success();
}

Status Loader::readKernel(const json::Value &v, const JsonPath &p, Kernel &k) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(
      v, p, {"a kernel", {"kind", "name", "inputs", "outputs", "ops", "yield"}}));
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
                                    " values, expected one per output (" +
                                    num(k.outputs.size()) + ")");
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
      return fail(yp, "value " + num(*value) + " is " + values[*value].str() +
                          ", but output " + bufferDescription(k.outputs[i]) +
                          " is " + want.str());
    k.yields.push_back(uint32_t(*value));
  }
  return Status::success();
}

Status Loader::readKernelOp(const json::Value &v, const JsonPath &p,
                            std::vector<TensorType> &values, KernelOp &op) const {
  FP8RT_RETURN_IF_ERROR(
      checkKeys(v, p, {"a kernel op", {"op", "operands", "results"}, {"attrs"}}));
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
      return fail(ip, "value " + num(*value) +
                          " is not defined before this op (values 0 to " +
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

  Status checked = checkKernelOp(op, operandTypes);
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
    return expected(p, "an attribute value (a number, true, a string or an array of "
                       "numbers)",
                    v);
  }
}

//===----------------------------------------------------------------------===//
// GEMMs
//===----------------------------------------------------------------------===//

/// A GEMM operand's buffer as the matrix it is read as: leading dimensions
/// flattened into rows.
struct Matrix {
  int64_t rows = 0, cols = 0;
};
Matrix asMatrix(const TensorType &t) {
  Matrix m{1, t.shape.back()};
  for (size_t i = 0; i + 1 < t.shape.size(); ++i)
    m.rows *= t.shape[i];
  return m;
}

bool isFp8(DType t) { return t == DType::F8E4M3 || t == DType::F8E5M2; }
bool isWideFloat(DType t) { return t == DType::F32 || t == DType::BF16 || t == DType::F16; }

Status Loader::readGemm(const json::Value &v, const JsonPath &p, Gemm &g) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(
      v, p,
      {"a gemm",
       {"kind", "name", "m", "n", "k", "a", "b", "d", "transpose_a", "transpose_b",
        "fast_accum", "epilogue"},
       {"bias", "a_scale", "b_scale", "d_scale", "amax_d", "a_scale_mode",
        "b_scale_mode"}}));
  FP8RT_RETURN_IF_ERROR(readString(v, p, "name", g.name));
  uint64_t dims[3];
  const char *dimKeys[3] = {"m", "n", "k"};
  for (int i = 0; i < 3; ++i)
    FP8RT_RETURN_IF_ERROR(readUint(v, p, dimKeys[i], 1, kMaxArenaBytes, dims[i]));
  g.m = int64_t(dims[0]), g.n = int64_t(dims[1]), g.k = int64_t(dims[2]);
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("a"), p.key("a"), g.a));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("b"), p.key("b"), g.b));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("d"), p.key("d"), g.d));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "bias", g.bias));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "a_scale", g.aScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "b_scale", g.bScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "d_scale", g.dScale));
  FP8RT_RETURN_IF_ERROR(readOptionalBufferIndex(v, p, "amax_d", g.amaxD));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "transpose_a", g.transposeA));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "transpose_b", g.transposeB));
  FP8RT_RETURN_IF_ERROR(readBool(v, p, "fast_accum", g.fastAccum));
  int choice = 0;
  FP8RT_RETURN_IF_ERROR(
      readChoice(v, p, "epilogue", {"none", "bias", "gelu", "bias_gelu"}, choice));
  g.epilogue = static_cast<GemmEpilogue>(choice);
  const auto modes = {"tensorwise", "rowwise", "block_1x128", "block_128x128"};
  if (v.find("a_scale_mode")) {
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "a_scale_mode", modes, choice));
    g.aScaleMode = static_cast<GemmScaleMode>(choice + 1);
  }
  if (v.find("b_scale_mode")) {
    FP8RT_RETURN_IF_ERROR(readChoice(v, p, "b_scale_mode", modes, choice));
    g.bScaleMode = static_cast<GemmScaleMode>(choice + 1);
  }
  FP8RT_RETURN_IF_ERROR(checkGemmOperands(g, p));
  FP8RT_RETURN_IF_ERROR(checkGemmScale(g, p, /*isA=*/true));
  FP8RT_RETURN_IF_ERROR(checkGemmScale(g, p, /*isA=*/false));

  // The output side: bias, amax and the FP8 output scale.
  const bool hasBiasEpilogue =
      g.epilogue == GemmEpilogue::Bias || g.epilogue == GemmEpilogue::BiasGelu;
  if (hasBiasEpilogue && g.bias == Gemm::kNone)
    return fail(p, "missing key \"bias\" (epilogue \"" +
                       std::string(g.epilogue == GemmEpilogue::Bias ? "bias" : "bias_gelu") +
                       "\" adds one)");
  if (!hasBiasEpilogue && g.bias != Gemm::kNone)
    return fail(p.key("bias"), "a bias needs the epilogue \"bias\" or \"bias_gelu\"");
  const std::vector<Buffer> &buffers = program_.buffers;
  if (g.bias != Gemm::kNone) {
    const TensorType &t = buffers[g.bias].type;
    if (!isWideFloat(t.dtype) || t.shape != std::vector<int64_t>{g.n})
      return fail(p.key("bias"), bufferDescription(g.bias) +
                                     " is not a bias of the GEMM: expected f32, bf16 "
                                     "or f16 of shape [n] = [" +
                                     num(uint64_t(g.n)) + "]");
  }
  const TensorType f32Scalar{DType::F32, {}};
  if (g.amaxD != Gemm::kNone && buffers[g.amaxD].type != f32Scalar)
    return fail(p.key("amax_d"), bufferDescription(g.amaxD) + " is not an f32 scalar");
  const bool fp8D = isFp8(buffers[g.d].type.dtype);
  if (fp8D && g.dScale == Gemm::kNone)
    return fail(p, "missing key \"d_scale\" (D is " +
                       std::string(dtypeName(buffers[g.d].type.dtype)) +
                       ", an FP8 D needs a scale)");
  if (!fp8D && g.dScale != Gemm::kNone)
    return fail(p.key("d_scale"), "only an FP8 D has a scale, D is " +
                                      std::string(dtypeName(buffers[g.d].type.dtype)));
  if (g.dScale != Gemm::kNone && buffers[g.dScale].type != f32Scalar)
    return fail(p.key("d_scale"), bufferDescription(g.dScale) + " is not an f32 scalar");
  return Status::success();
}

Status Loader::checkGemmOperands(const Gemm &g, const JsonPath &p) const {
  const std::vector<Buffer> &buffers = program_.buffers;
  struct Operand {
    const char *key;
    uint32_t buffer;
    int64_t rows, cols;  ///< expected, as stored
    const char *layout;  ///< "[m, k]", for messages
  };
  const Operand operands[] = {
      {"a", g.a, g.transposeA ? g.k : g.m, g.transposeA ? g.m : g.k,
       g.transposeA ? "[k, m] (transpose_a)" : "[m, k]"},
      {"b", g.b, g.transposeB ? g.n : g.k, g.transposeB ? g.k : g.n,
       g.transposeB ? "[n, k] (transpose_b)" : "[k, n]"},
      {"d", g.d, g.m, g.n, "[m, n]"},
  };
  for (const Operand &o : operands) {
    const TensorType &t = buffers[o.buffer].type;
    const JsonPath op = p.key(o.key);
    if (t.shape.size() < 2)
      return fail(op, bufferDescription(o.buffer) +
                          " is not a matrix (a buffer of rank 2 or more)");
    if (!isWideFloat(t.dtype) && !isFp8(t.dtype))
      return fail(op, bufferDescription(o.buffer) + " is not a float buffer (f32, bf16, "
                                                    "f16, f8e4m3 or f8e5m2)");
    const Matrix m = asMatrix(t);
    if (m.rows != o.rows || m.cols != o.cols)
      return fail(op, bufferDescription(o.buffer) + " is read as a [" +
                          std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                          "] matrix, expected " + o.layout + " = [" +
                          std::to_string(o.rows) + ", " + std::to_string(o.cols) + "]");
  }
  const DType a = buffers[g.a].type.dtype, b = buffers[g.b].type.dtype;
  if (isFp8(a) != isFp8(b))
    return fail(p.key("b"), std::string("A is ") + dtypeName(a) + " and B is " +
                                dtypeName(b) +
                                ": the operands of a GEMM are both FP8 or neither");
  if (isFp8(a)) {
    if (a == DType::F8E5M2 && b == DType::F8E5M2)
      return fail(p.key("b"), "A and B are both f8e5m2: at most one operand of an FP8 "
                              "GEMM is E5M2");
    if (g.transposeA || !g.transposeB)
      return fail(p.key(g.transposeA ? "transpose_a" : "transpose_b"),
                  std::string("FP8 GEMMs are TN (transpose_a false, transpose_b "
                              "true), found transpose_a ") +
                      (g.transposeA ? "true" : "false") + ", transpose_b " +
                      (g.transposeB ? "true" : "false"));
  }
  return Status::success();
}

Status Loader::checkGemmScale(const Gemm &g, const JsonPath &p, bool isA) const {
  const std::vector<Buffer> &buffers = program_.buffers;
  const uint32_t operand = isA ? g.a : g.b;
  const uint32_t scale = isA ? g.aScale : g.bScale;
  const GemmScaleMode mode = isA ? g.aScaleMode : g.bScaleMode;
  const std::string scaleKey = isA ? "a_scale" : "b_scale";
  const std::string modeKey = scaleKey + "_mode";
  const TensorType &t = buffers[operand].type;
  if (!isFp8(t.dtype)) {
    if (scale != Gemm::kNone)
      return fail(p.key(scaleKey), "only FP8 operands have scales, " +
                                       bufferDescription(operand) + " is not FP8");
    if (mode != GemmScaleMode::None)
      return fail(p.key(modeKey), "only FP8 operands have a scale mode, " +
                                      bufferDescription(operand) + " is not FP8");
    return Status::success();
  }
  if (scale == Gemm::kNone)
    return fail(p, "missing key \"" + scaleKey + "\" (" + bufferDescription(operand) +
                       " is FP8 and needs its scales)");
  if (mode == GemmScaleMode::None)
    return fail(p, "missing key \"" + modeKey + "\" (" + bufferDescription(operand) +
                       " is FP8 and needs a scale mode)");
  const Matrix m = asMatrix(t);
  std::vector<int64_t> want;
  const char *modeName = "tensorwise";
  switch (mode) {
  case GemmScaleMode::None:
  case GemmScaleMode::Tensorwise:
    break;
  case GemmScaleMode::Rowwise:
    modeName = "rowwise";
    want = {m.rows, 1};
    break;
  case GemmScaleMode::Block1x128:
  case GemmScaleMode::Block128x128: {
    const bool square = mode == GemmScaleMode::Block128x128;
    modeName = square ? "block_128x128" : "block_1x128";
    const int64_t blockRows = square ? 128 : 1;
    if (m.rows % blockRows != 0 || m.cols % 128 != 0)
      return fail(p.key(modeKey), std::string(modeName) + " scaling needs an operand "
                                                        "whose stored shape is a "
                                                        "multiple of the block, found [" +
                                      std::to_string(m.rows) + ", " +
                                      std::to_string(m.cols) + "]");
    want = {m.rows / blockRows, m.cols / 128};
    break;
  }
  }
  const TensorType expectedType{DType::F32, want};
  if (buffers[scale].type != expectedType)
    return fail(p.key(scaleKey), bufferDescription(scale) + " does not fit " + modeName +
                                     " scaling of a [" + std::to_string(m.rows) + ", " +
                                     std::to_string(m.cols) + "] operand: expected " +
                                     expectedType.str());
  return Status::success();
}

Status Loader::readCopy(const json::Value &v, const JsonPath &p, Copy &c) const {
  FP8RT_RETURN_IF_ERROR(checkKeys(v, p, {"a copy", {"kind", "source", "target"}}));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("source"), p.key("source"), c.source));
  FP8RT_RETURN_IF_ERROR(readBufferIndex(*v.find("target"), p.key("target"), c.target));
  const Buffer &s = program_.buffers[c.source], &t = program_.buffers[c.target];
  if (s.bytes() != t.bytes())
    return fail(p.key("target"), bufferDescription(c.target) + " holds " + num(t.bytes()) +
                                     " bytes, the source " +
                                     bufferDescription(c.source) + " " + num(s.bytes()) +
                                     ": a copy needs the same size");
  return Status::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

StatusOr<Program> parseProgram(std::string_view text, std::string_view fileName) {
  return Loader(fileName).load(text);
}

StatusOr<Program> loadProgram(const std::string &path) {
  FP8RT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, readRegularFile(path));
  return parseProgram(std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()),
                      path);
}

} // namespace fp8rt
