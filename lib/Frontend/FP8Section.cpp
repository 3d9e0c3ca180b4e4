//===- FP8Section.cpp - the `fp8` section: recipe, filters, overrides -----===//
//
// Keys of another recipe (delayed scaling's history) or filter mode (the
// roofline threshold) are rejected with the reason.
//
//===----------------------------------------------------------------------===//

#include "ConfigSection.h"

using namespace fp8c;
using namespace fp8c::frontend;

void ConfigParser::parseFP8(const YNode &node, SMLoc keyLoc) {
  Section s(diags, node, "fp8", keyLoc);
  if (!s.isMapping())
    return;
  FP8Section &f = config.fp8;
  // Writing an fp8 section asks for FP8; `enabled: false` keeps it for later.
  f.enabled = true;
  bool recipeValid = !s.has("recipe") || s.readEnum<FP8Recipe>("recipe", recipeChoices, f.recipe);
  bool filterValid = !s.has("auto_filter") ||
                     s.readEnum<AutoFilter>("auto_filter", autoFilterChoices, f.autoFilter);
  if (!recipeValid || !filterValid)
    return;
  bool delayed = f.recipe == FP8Recipe::Delayed;
  bool roofline = f.autoFilter == AutoFilter::Roofline;
  llvm::SmallVector<StringRef> keys = {"enabled", "recipe", "format", "margin"};
  if (delayed)
    keys.append({"amax_history_len", "amax_compute_algo", "interval"});
  keys.append({"power_of_2_scales", "filter_fqns", "first_layer_bf16", "last_layer_bf16",
               "auto_filter", "device"});
  if (roofline)
    keys.push_back("threshold");
  keys.push_back("overrides");
  StringRef recipe = stringifyFP8Recipe(f.recipe);
  s.checkKeys(keys, [&](StringRef key) -> std::string {
    if (llvm::is_contained({"amax_history_len", "amax_compute_algo", "interval"}, key))
      return ("only used by recipe delayed, not '" + recipe + "'").str();
    if (key == "threshold")
      return "only used with auto_filter roofline, not 'none'";
    return "";
  });
  s.readBool("enabled", f.enabled);
  s.readEnum<FP8Format>("format", formatChoices, f.format);
  s.readInt("margin", 0, 32, f.margin);
  if (delayed) {
    s.readInt("amax_history_len", 1, 65536, f.amaxHistoryLen);
    s.readEnum<AmaxComputeAlgo>("amax_compute_algo", amaxAlgoChoices, f.amaxComputeAlgo);
    s.readInt("interval", 1, 1000000, f.interval);
  }
  s.readBool("power_of_2_scales", f.powerOf2Scales);
  if (const YNode *filters = s.get("filter_fqns")) {
    std::string path = s.pathOf("filter_fqns");
    if (filters->kind != YNode::Kind::Sequence)
      diags.error(filters->loc, path,
                  "expected a sequence of name substrings, got " + filters->describe());
    else
      for (auto [i, item] : llvm::enumerate(filters->items))
        if (auto name = parseName(diags, *item, itemPath(path, i)))
          f.filterFQNs.push_back(*name);
  }
  s.readBool("first_layer_bf16", f.firstLayerBF16);
  s.readBool("last_layer_bf16", f.lastLayerBF16);
  s.readEnum<Device>("device", deviceChoices, f.device);
  if (roofline)
    s.readNumber("threshold", Range::between(0, 100, true, false), f.threshold);
  if (const YNode *overrides = s.get("overrides")) {
    std::string path = s.pathOf("overrides");
    if (overrides->kind != YNode::Kind::Sequence)
      diags.error(overrides->loc, path,
                  "expected a sequence of {match, forward, dgrad, wgrad} mappings, got " +
                      overrides->describe());
    else
      for (auto [i, item] : llvm::enumerate(overrides->items))
        parseOverride(*item, itemPath(path, i));
  }
}

void ConfigParser::parseOverride(const YNode &node, StringRef path) {
  Section s(diags, node, path.str(), node.loc);
  if (!s.isMapping())
    return;
  s.checkKeys({"match", "forward", "dgrad", "wgrad"});
  FP8Override o;
  if (const YNode *match = s.get("match")) {
    if (auto name = parseName(diags, *match, s.pathOf("match")))
      o.match = *name;
  } else {
    s.missing("match", "a substring of the layer names it applies to");
  }
  std::optional<GemmPrecision> *fields[] = {&o.forward, &o.dgrad, &o.wgrad};
  StringRef names[] = {"forward", "dgrad", "wgrad"};
  bool any = false;
  for (auto [field, name] : llvm::zip(fields, names)) {
    GemmPrecision value;
    if (s.readEnum<GemmPrecision>(name, gemmPrecisionChoices, value))
      *field = value;
    any |= s.has(name);
  }
  if (!any)
    diags.error(node.loc, path, "expected at least one of forward, dgrad, wgrad (fp8 or bf16)");
  config.fp8.overrides.push_back(std::move(o));
}
