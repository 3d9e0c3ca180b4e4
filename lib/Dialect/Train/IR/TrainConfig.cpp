//===- TrainConfig.cpp - the `train.config` module attribute --------------===//
//
// The front end attaches every resolved training setting to the module as the
// `train.config` dictionary (docs/model-description.md gives its shape); the
// passes and the program writer read it. The dialect checks its structure: a
// dictionary on a module, known keys only, each of the kind its readers expect
// (an integer, a number, a string, a flag, a section, a list). Values (ranges,
// choices such as the recipe or the device) are checked by the passes that use
// them, where the message can say what the value means.
//
//===----------------------------------------------------------------------===//

#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace fp8c::train;

namespace {

enum class Kind { Integer, Number, String, Flag, StringList, Section, SectionList };

struct KeySpec;

/// One dictionary of the configuration: its keys in documentation order (the
/// order unknown-key messages list them in).
using SectionSpec = ArrayRef<KeySpec>;

struct KeySpec {
  StringRef name;
  Kind kind;
  /// The keys of a Section or of each SectionList entry.
  SectionSpec keys = {};
};

const KeySpec modelKeys[] = {
    {"family", Kind::String},   {"vocab_size", Kind::Integer},  {"seq_len", Kind::Integer},
    {"d_model", Kind::Integer}, {"n_layers", Kind::Integer},    {"ffn_dim", Kind::Integer},
    {"n_heads", Kind::Integer}, {"n_kv_heads", Kind::Integer},  {"norm_eps", Kind::Number},
    {"bias", Kind::Flag},       {"tie_embeddings", Kind::Flag}, {"rope_theta", Kind::Number},
    {"gelu", Kind::String}};

const KeySpec optimizerKeys[] = {{"name", Kind::String},      {"lr", Kind::Number},
                                 {"beta1", Kind::Number},     {"beta2", Kind::Number},
                                 {"eps", Kind::Number},       {"weight_decay", Kind::Number},
                                 {"grad_clip", Kind::Number}, {"momentum", Kind::Number}};

const KeySpec lrScheduleKeys[] = {{"kind", Kind::String},
                                  {"warmup_steps", Kind::Integer},
                                  {"total_steps", Kind::Integer},
                                  {"min_lr", Kind::Number}};

const KeySpec initKeys[] = {{"std", Kind::Number}, {"seed", Kind::Integer}};

const KeySpec overrideKeys[] = {{"match", Kind::String},
                                {"forward", Kind::String},
                                {"dgrad", Kind::String},
                                {"wgrad", Kind::String}};

const KeySpec fp8Keys[] = {{"enabled", Kind::Flag},
                           {"recipe", Kind::String},
                           {"format", Kind::String},
                           {"margin", Kind::Integer},
                           {"amax_history_len", Kind::Integer},
                           {"amax_compute_algo", Kind::String},
                           {"interval", Kind::Integer},
                           {"power_of_2_scales", Kind::Flag},
                           {"filter_fqns", Kind::StringList},
                           {"first_layer_bf16", Kind::Flag},
                           {"last_layer_bf16", Kind::Flag},
                           {"auto_filter", Kind::String},
                           {"device", Kind::String},
                           {"threshold", Kind::Number},
                           {"overrides", Kind::SectionList, overrideKeys}};

const KeySpec distributedKeys[] = {{"strategy", Kind::String},
                                   {"world_size", Kind::Integer},
                                   {"nodes", Kind::Integer},
                                   {"gpus_per_node", Kind::Integer},
                                   {"bucket_mb", Kind::Number},
                                   {"fp8_all_gather", Kind::String},
                                   {"reshard_after_forward", Kind::Flag}};

const KeySpec configKeys[] = {{"model", Kind::Section, modelKeys},
                              {"batch_size", Kind::Integer},
                              {"grad_accum_steps", Kind::Integer},
                              {"precision", Kind::String},
                              {"optimizer", Kind::Section, optimizerKeys},
                              {"lr_schedule", Kind::Section, lrScheduleKeys},
                              {"init", Kind::Section, initKeys},
                              {"fp8", Kind::Section, fp8Keys},
                              {"distributed", Kind::Section, distributedKeys},
                              {"loss_chunk_tokens", Kind::Integer},

                              {"memory_budget", Kind::Integer},
                              {"recompute", Kind::String}};

StringRef describe(Kind kind) {
  switch (kind) {
  case Kind::Integer:
    return "an integer";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Flag:
    return "a boolean";
  case Kind::StringList:
    return "a list of strings";
  case Kind::Section:
    return "a dictionary";
  case Kind::SectionList:
    return "a list of dictionaries";
  }
  llvm_unreachable("unknown kind");
}

/// An integer is any IntegerAttr but a flag (i1); a number is an integer or a float.
bool isInteger(Attribute a) {
  auto i = dyn_cast<IntegerAttr>(a);
  return i && !i.getType().isInteger(1);
}

/// Checks `dict` against `keys`; `path` names it in messages ("" for the top).
LogicalResult verifySection(Operation *op, DictionaryAttr dict, SectionSpec keys, StringRef path);

LogicalResult verifyValue(Operation *op, Attribute value, const KeySpec &spec, StringRef path) {
  auto error = [&]() {
    return op->emitError() << TrainDialect::getConfigAttrName() << ": '" << path << "' must be "
                           << describe(spec.kind) << ", got " << value;
  };
  if (spec.kind == Kind::Section) {
    auto dict = dyn_cast<DictionaryAttr>(value);
    return dict ? verifySection(op, dict, spec.keys, path) : error();
  }
  if (spec.kind == Kind::SectionList) {
    auto list = dyn_cast<ArrayAttr>(value);
    if (!list || !llvm::all_of(list, llvm::IsaPred<DictionaryAttr>))
      return error();
    for (auto [index, entry] : llvm::enumerate(list))
      if (failed(verifySection(op, cast<DictionaryAttr>(entry), spec.keys,
                               (path + "[" + Twine(index) + "]").str())))
        return failure();
    return success();
  }
  bool ok = false;
  switch (spec.kind) {
  case Kind::Integer:
    ok = isInteger(value);
    break;
  case Kind::Number:
    ok = isInteger(value) || isa<FloatAttr>(value);
    break;
  case Kind::String:
    ok = isa<StringAttr>(value);
    break;
  case Kind::Flag:
    ok = isa<BoolAttr>(value);
    break;
  case Kind::StringList: {
    auto list = dyn_cast<ArrayAttr>(value);
    ok = list && llvm::all_of(list, llvm::IsaPred<StringAttr>);
    break;
  }
  case Kind::Section:
  case Kind::SectionList:
    break;
  }
  if (!ok)
    return error();
  return success();
}

LogicalResult verifySection(Operation *op, DictionaryAttr dict, SectionSpec keys, StringRef path) {
  for (NamedAttribute entry : dict) {
    StringRef name = entry.getName().getValue();
    std::string keyPath = path.empty() ? name.str() : (path + "." + name).str();
    const KeySpec *spec = llvm::find_if(keys, [&](const KeySpec &k) { return k.name == name; });
    if (spec == keys.end())
      return op->emitError() << TrainDialect::getConfigAttrName() << ": '" << keyPath
                             << "' is not a known key; expected one of: "
                             << llvm::join(
                                    llvm::map_range(keys, [](const KeySpec &k) { return k.name; }),
                                    ", ");
    if (failed(verifyValue(op, entry.getValue(), *spec, keyPath)))
      return failure();
  }
  return success();
}

} // namespace

// The only discardable `train.*` attribute is the module's `train.config`
// (argument attributes are verified by verifyRegionArgAttribute).
LogicalResult TrainDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  if (attr.getName() != getConfigAttrName())
    return op->emitError() << "unknown train dialect attribute '" << attr.getName().getValue()
                           << "'";
  if (!isa<ModuleOp>(op))
    return op->emitError() << "'" << getConfigAttrName() << "' is a module attribute, found on '"
                           << op->getName() << "'";
  auto config = dyn_cast<DictionaryAttr>(attr.getValue());
  if (!config)
    return op->emitError() << getConfigAttrName() << " must be a dictionary, got "
                           << attr.getValue();
  return verifySection(op, config, configKeys, "");
}
