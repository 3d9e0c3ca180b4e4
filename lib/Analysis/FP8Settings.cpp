//===- FP8Settings.cpp - the `train.config.fp8` dictionary ----------------===//

#include "fp8c/Analysis/FP8Settings.h"
#include "fp8c/Dialect/Train/IR/TrainDialect.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace fp8c::fp8;

namespace {

/// Reads one dictionary, reporting every problem with its key path.
class Reader {
public:
  Reader(ModuleOp module, DictionaryAttr dict, StringRef path)
      : module(module), dict(dict), path(path.str()) {}

  InFlightDiagnostic error(StringRef key) {
    failed = true;
    return module.emitError() << path << "." << key << ": ";
  }

  template <typename AttrT> AttrT get(StringRef key, StringRef expected) {
    Attribute a = dict.get(key);
    if (!a)
      return {};
    auto typed = dyn_cast<AttrT>(a);
    if (!typed)
      error(key) << "expected " << expected << ", got " << a;
    return typed;
  }

  void readBool(StringRef key, bool &out) {
    if (auto a = get<BoolAttr>(key, "a boolean"))
      out = a.getValue();
  }

  void readInt(StringRef key, int64_t &out, int64_t lo, int64_t hi) {
    auto a = get<IntegerAttr>(key, "an integer");
    if (!a)
      return;
    int64_t v = a.getInt();
    if (v < lo || v > hi) {
      error(key) << "expected an integer in [" << lo << ", " << hi << "], got " << v;
      return;
    }
    out = v;
  }

  void readDouble(StringRef key, double &out) {
    if (auto a = get<FloatAttr>(key, "a float"))
      out = a.getValueAsDouble();
  }

  void readString(StringRef key, std::string &out) {
    if (auto a = get<StringAttr>(key, "a string"))
      out = a.getValue().str();
  }

  /// Reads a string that must be one of an enum's spellings.
  template <typename EnumT>
  void readEnum(StringRef key, EnumT &out, std::optional<EnumT> (*symbolize)(StringRef),
                StringRef choices) {
    auto a = get<StringAttr>(key, "a string");
    if (!a)
      return;
    if (std::optional<EnumT> v = symbolize(a.getValue()))
      out = *v;
    else
      error(key) << "expected one of " << choices << ", got '" << a.getValue() << "'";
  }

  void checkKnownKeys(ArrayRef<StringRef> known) {
    for (NamedAttribute entry : dict)
      if (!llvm::is_contained(known, entry.getName().getValue()))
        error(entry.getName().getValue()) << "unknown key; valid keys: " << llvm::join(known, ", ");
  }

  ModuleOp module;
  DictionaryAttr dict;
  std::string path;
  bool failed = false;
};

std::optional<bool> symbolizePrecision(StringRef s) {
  if (s == "fp8")
    return true;
  if (s == "bf16")
    return false;
  return std::nullopt;
}

} // namespace

FailureOr<FP8Settings> fp8c::fp8::readFP8Settings(ModuleOp module) {
  FP8Settings settings;
  auto config =
      module->getAttrOfType<DictionaryAttr>(fp8c::train::TrainDialect::getConfigAttrName());
  if (!config)
    return settings;
  Attribute fp8Attr = config.get("fp8");
  if (!fp8Attr)
    return settings;
  auto dict = dyn_cast<DictionaryAttr>(fp8Attr);
  if (!dict)
    return module.emitError() << "train.config.fp8: expected a dictionary, got " << fp8Attr;

  Reader r(module, dict, "train.config.fp8");
  r.checkKnownKeys({"enabled", "recipe", "format", "margin", "power_of_2_scales",
                    "amax_history_len", "amax_compute_algo", "interval", "filter_fqns",
                    "first_layer_bf16", "last_layer_bf16", "auto_filter", "device", "threshold",
                    "overrides"});
  r.readBool("enabled", settings.enabled);
  r.readEnum("recipe", settings.recipe, symbolizeRecipe, "tensorwise, delayed, rowwise, blockwise");
  r.readEnum("format", settings.format, symbolizeFormat, "hybrid, e4m3");
  r.readInt("margin", settings.margin, 0, 32);
  r.readBool("power_of_2_scales", settings.powerOf2Scales);
  r.readInt("amax_history_len", settings.amaxHistoryLen, 1, 65536);
  r.readEnum("amax_compute_algo", settings.amaxComputeAlgo, symbolizeAmaxComputeAlgo,
             "max, most_recent");
  r.readInt("interval", settings.interval, 1, 1 << 20);
  r.readBool("first_layer_bf16", settings.firstLayerBF16);
  r.readBool("last_layer_bf16", settings.lastLayerBF16);
  std::string autoFilter = "roofline";
  r.readString("auto_filter", autoFilter);
  if (autoFilter != "roofline" && autoFilter != "none")
    r.error("auto_filter") << "expected one of roofline, none, got '" << autoFilter << "'";
  settings.autoFilterRoofline = autoFilter == "roofline";
  r.readString("device", settings.device);
  r.readDouble("threshold", settings.threshold);
  if (!(settings.threshold > 0.0))
    r.error("threshold") << "expected a positive number, got " << settings.threshold;

  if (auto filters = r.get<ArrayAttr>("filter_fqns", "a list of strings")) {
    for (Attribute f : filters) {
      if (auto s = dyn_cast<StringAttr>(f))
        settings.filterFQNs.push_back(s.getValue().str());
      else
        r.error("filter_fqns") << "expected a list of strings, got " << filters;
    }
  }

  if (auto overrides = r.get<ArrayAttr>("overrides", "a list of dictionaries")) {
    for (auto [index, entry] : llvm::enumerate(overrides)) {
      auto entryDict = dyn_cast<DictionaryAttr>(entry);
      std::string entryPath = "train.config.fp8.overrides[" + std::to_string(index) + "]";
      if (!entryDict) {
        r.failed = true;
        module.emitError() << entryPath << ": expected a dictionary, got " << entry;
        continue;
      }
      Reader e(module, entryDict, entryPath);
      e.checkKnownKeys({"match", "forward", "dgrad", "wgrad"});
      GemmOverride ov;
      e.readString("match", ov.match);
      if (ov.match.empty())
        e.error("match") << "expected a non-empty layer-name substring";
      for (auto [key, slot] : {std::pair<StringRef, std::optional<bool> *>{"forward", &ov.forward},
                               {"dgrad", &ov.dgrad},
                               {"wgrad", &ov.wgrad}}) {
        bool value = false;
        if (!entryDict.get(key))
          continue;
        e.readEnum(key, value, symbolizePrecision, "fp8, bf16");
        *slot = value;
      }
      r.failed |= e.failed;
      settings.overrides.push_back(std::move(ov));
    }
  }
  if (r.failed)
    return failure();
  return settings;
}
