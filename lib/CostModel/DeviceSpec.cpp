//===- DeviceSpec.cpp - the device table and calibration files ------------===//
//
// Peaks are NVIDIA datasheet values for dense (non-sparse) tensor-core math;
// efficiencies are the defaults explained in docs/cost-model.md.
//
//===----------------------------------------------------------------------===//

#include "fp8c/CostModel/DeviceSpec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace fp8c::cost {

StringRef stringifyRecipe(Recipe recipe) {
  switch (recipe) {
  case Recipe::Tensorwise:
    return "tensorwise";
  case Recipe::Delayed:
    return "delayed";
  case Recipe::Rowwise:
    return "rowwise";
  case Recipe::Blockwise:
    return "blockwise";
  }
  llvm_unreachable("unknown recipe");
}

std::optional<Recipe> parseRecipe(StringRef name) {
  for (Recipe r : {Recipe::Tensorwise, Recipe::Delayed, Recipe::Rowwise, Recipe::Blockwise})
    if (name == stringifyRecipe(r))
      return r;
  return std::nullopt;
}

bool DeviceSpec::supports(Recipe recipe) const {
  switch (recipe) {
  case Recipe::Tensorwise:
  case Recipe::Delayed:
    return tensorwise;
  case Recipe::Rowwise:
    return rowwise;
  case Recipe::Blockwise:
    return blockwise;
  }
  llvm_unreachable("unknown recipe");
}

namespace {

DeviceSpec makeDevice(StringRef name, StringRef product, StringRef arch, double bf16, double fp8,
                      double gbps, bool tensorwise, bool rowwise, bool blockwise, double floorUs,
                      Efficiencies eff) {
  DeviceSpec d;
  d.name = name.str();
  d.product = product.str();
  d.arch = arch.str();
  d.peakBF16TFlops = bf16;
  d.peakFP8TFlops = fp8;
  d.memoryGBps = gbps;
  d.tensorwise = tensorwise;
  d.rowwise = rowwise;
  d.blockwise = blockwise;
  d.launchFloorUs = floorUs;
  d.eff = eff;
  return d;
}

/// Hopper: cuBLAS reaches ~0.75 of the bf16 peak and ~0.65 of the fp8 peak on
/// large GEMMs (fp8 runs closer to the power limit); elementwise kernels reach
/// ~0.8 of HBM bandwidth.
constexpr Efficiencies hopperEff{0.75, 0.65, 0.80, 0.80, 0.80};
/// Ada (L40S): a 350 W PCIe part; fp8 throttles harder than bf16.
constexpr Efficiencies adaEff{0.70, 0.60, 0.80, 0.80, 0.80};
/// Blackwell: early-library figures, to be replaced by calibration.
constexpr Efficiencies blackwellEff{0.70, 0.65, 0.80, 0.80, 0.80};

/// Latency of one ring step (NCCL 2.x src/graph/tuning.cc, hwLat, Ring/Simple):
/// NVLink 3.4 us, PCIe 5.7 us, network 9.6 us.
constexpr double nvlinkLatencyUs = 3.4, pcieLatencyUs = 5.7, networkLatencyUs = 9.6;
/// One 400 Gb/s NIC (ConnectX-7 NDR InfiniBand) per GPU, as in DGX/HGX H100,
/// H200 and B200 systems: 50 GB/s per direction.
constexpr double networkGBps = 50;

/// The links of a device: `gbps` per direction inside a node over `link`.
DeviceSpec withLinks(DeviceSpec d, StringRef link, double gbps) {
  d.intraNodeLink = link.str();
  d.intraNodeGBps = gbps;
  d.intraNodeLatencyUs = link == "NVLink" ? nvlinkLatencyUs : pcieLatencyUs;
  d.interNodeGBps = networkGBps;
  d.interNodeLatencyUs = networkLatencyUs;
  return d;
}

const std::vector<DeviceSpec> &builtinTable() {
  static const std::vector<DeviceSpec> table = {
      // H100 SXM5: 989.4 / 1978.9 dense TFLOP/s, 3.35 TB/s HBM3; NVLink 4:
      // 900 GB/s total, 450 GB/s per direction.
      withLinks(makeDevice("h100-sxm", "NVIDIA H100 SXM5 80GB", "sm_90", 989.4, 1978.9, 3350, true,
                           true, true, 3.0, hopperEff),
                "NVLink", 450),
      // H100 PCIe: 756 / 1513 dense TFLOP/s, 2.0 TB/s HBM2e; PCIe Gen5 x16:
      // 64 GB/s per direction raw, ~50 GB/s achieved (no NVLink bridge).
      withLinks(makeDevice("h100-pcie", "NVIDIA H100 PCIe 80GB", "sm_90", 756.0, 1513.0, 2000, true,
                           true, true, 3.0, hopperEff),
                "PCIe", 50),
      // H200 SXM: H100 compute, 4.8 TB/s HBM3e; NVLink 4 as H100 SXM.
      withLinks(makeDevice("h200", "NVIDIA H200 SXM 141GB", "sm_90", 989.4, 1978.9, 4800, true,
                           true, true, 3.0, hopperEff),
                "NVLink", 450),
      // L40S: 362 / 733 dense TFLOP/s, 864 GB/s GDDR6; no blockwise FP8 GEMM;
      // PCIe Gen4 x16: 32 GB/s per direction raw, ~25 GB/s achieved.
      withLinks(makeDevice("l40s", "NVIDIA L40S 48GB", "sm_89", 362.05, 733.0, 864, true, true,
                           false, 3.0, adaEff),
                "PCIe", 25),
      // B200 (HGX): 2250 / 4500 dense TFLOP/s, 8 TB/s HBM3e. Blackwell block
      // scaling is MXFP8 (1x32), not the 1x128 / 128x128 blockwise recipe.
      // NVLink 5: 1.8 TB/s total, 900 GB/s per direction.
      withLinks(makeDevice("b200", "NVIDIA B200 180GB", "sm_100", 2250.0, 4500.0, 8000, true, true,
                           false, 3.0, blackwellEff),
                "NVLink", 900),
  };
  return table;
}

const DeviceSpec *findIn(ArrayRef<DeviceSpec> table, StringRef name) {
  for (const DeviceSpec &d : table)
    if (d.name == name)
      return &d;
  return nullptr;
}

Error unknownDevice(StringRef name) {
  return createStringError(inconvertibleErrorCode(), "unknown device '%s'; valid devices: %s",
                           name.str().c_str(), validDeviceNames().c_str());
}

//===----------------------------------------------------------------------===//
// Calibration files
//===----------------------------------------------------------------------===//

/// The overridable fields of one device.
struct Override {
  std::optional<double> computeBF16, computeFP8, memoryBF16, memoryFP8, memoryCast, floorUs;
  std::optional<double> intraNodeGBps, interNodeGBps, intraNodeLatencyUs, interNodeLatencyUs;
};

/// The range of a calibrated value.
enum class FieldRange { Efficiency, Microseconds, Bandwidth };

struct FieldInfo {
  StringRef key;
  std::optional<double> Override::*field;
  FieldRange range;
};

const FieldInfo fields[] = {
    {"eff_compute_bf16", &Override::computeBF16, FieldRange::Efficiency},
    {"eff_compute_fp8", &Override::computeFP8, FieldRange::Efficiency},
    {"eff_memory_bf16", &Override::memoryBF16, FieldRange::Efficiency},
    {"eff_memory_fp8", &Override::memoryFP8, FieldRange::Efficiency},
    {"eff_memory_cast", &Override::memoryCast, FieldRange::Efficiency},
    {"launch_floor_us", &Override::floorUs, FieldRange::Microseconds},
    {"intra_node_gbps", &Override::intraNodeGBps, FieldRange::Bandwidth},
    {"inter_node_gbps", &Override::interNodeGBps, FieldRange::Bandwidth},
    {"intra_node_latency_us", &Override::intraNodeLatencyUs, FieldRange::Microseconds},
    {"inter_node_latency_us", &Override::interNodeLatencyUs, FieldRange::Microseconds},
};

std::string fieldNames() {
  std::string s;
  for (const FieldInfo &f : fields)
    s += (s.empty() ? "" : ", ") + f.key.str();
  return s;
}

class CalibrationParser {
public:
  CalibrationParser(SourceMgr &sm, const std::vector<DeviceSpec> &table) : sm(sm), table(table) {}

  /// Fills `overrides`; returns false when any error was reported.
  bool parse(MemoryBufferRef buffer) {
    yaml::Stream stream(buffer, sm, /*ShowColors=*/false);
    auto doc = stream.begin();
    if (doc == stream.end() || !doc->getRoot()) {
      error(SMLoc::getFromPointer(buffer.getBufferStart()), "",
            "expected a mapping with the key 'devices'");
      return false;
    }
    yaml::Node *root = doc->getRoot();
    parseRoot(root, SMLoc::getFromPointer(buffer.getBufferStart()));
    if (++doc != stream.end())
      error(doc->getRoot() ? start(doc->getRoot()) : SMLoc(), "",
            "expected one YAML document, found more");
    if (stream.failed())
      failed = true; // syntax errors were printed by the scanner
    return !failed;
  }

  std::vector<std::pair<std::string, Override>> overrides;

private:
  static SMLoc start(yaml::Node *node) { return node->getSourceRange().Start; }

  void error(SMLoc loc, StringRef path, const Twine &message) {
    failed = true;
    sm.PrintMessage(loc, SourceMgr::DK_Error,
                    path.empty() ? message.str() : (path + ": " + message).str());
  }

  static std::string describe(yaml::Node *node) {
    if (!node || isa<yaml::NullNode>(node))
      return "nothing";
    if (auto *scalar = dyn_cast<yaml::ScalarNode>(node)) {
      SmallString<32> storage;
      return "'" + scalar->getValue(storage).str() + "'";
    }
    if (isa<yaml::MappingNode>(node))
      return "a mapping";
    if (isa<yaml::SequenceNode>(node))
      return "a sequence";
    return "an unsupported node";
  }

  /// Iterates a mapping's entries with string keys; reports non-scalar and
  /// duplicate keys. `fn(key, keyLoc, value)`.
  template <typename Fn> void forEachEntry(yaml::MappingNode *map, StringRef path, Fn fn) {
    StringMap<bool> seen;
    for (yaml::KeyValueNode &kv : *map) {
      auto *keyNode = dyn_cast_or_null<yaml::ScalarNode>(kv.getKey());
      yaml::Node *value = kv.getValue();
      if (!keyNode) {
        if (kv.getKey())
          error(start(kv.getKey()), path, "expected a string key");
        if (value)
          value->skip();
        continue;
      }
      SmallString<32> storage;
      std::string key = keyNode->getValue(storage).str();
      std::string keyPath = path.empty() ? key : (path + "." + key).str();
      if (!seen.try_emplace(key, true).second) {
        error(start(keyNode), keyPath, "duplicate key");
        if (value)
          value->skip();
        continue;
      }
      fn(key, start(keyNode), keyPath, value);
    }
  }

  void parseRoot(yaml::Node *root, SMLoc bufferStart) {
    auto *map = dyn_cast<yaml::MappingNode>(root);
    if (!map) {
      error(isa<yaml::NullNode>(root) ? bufferStart : start(root), "",
            "expected a mapping with the key 'devices', got " + describe(root));
      return;
    }
    bool sawDevices = false;
    forEachEntry(map, "", [&](StringRef key, SMLoc keyLoc, StringRef path, yaml::Node *value) {
      if (key != "devices") {
        error(keyLoc, path, "unknown key; expected 'devices'");
        if (value)
          value->skip();
        return;
      }
      sawDevices = true;
      parseDevices(value, keyLoc, path);
    });
    if (!sawDevices && !failed)
      error(start(root), "", "missing required key 'devices'");
  }

  void parseDevices(yaml::Node *node, SMLoc keyLoc, StringRef path) {
    auto *map = dyn_cast_or_null<yaml::MappingNode>(node);
    if (!map) {
      error(node && !isa<yaml::NullNode>(node) ? start(node) : keyLoc, path,
            "expected a mapping from device name to overrides, got " + describe(node));
      return;
    }
    forEachEntry(
        map, path, [&](StringRef name, SMLoc nameLoc, StringRef devPath, yaml::Node *value) {
          if (!findIn(table, name)) {
            error(nameLoc, devPath, "unknown device; valid devices: " + validDeviceNames());
            if (value)
              value->skip();
            return;
          }
          Override o;
          if (parseOverride(value, nameLoc, devPath, o))
            overrides.emplace_back(name.str(), o);
        });
  }

  bool parseOverride(yaml::Node *node, SMLoc keyLoc, StringRef path, Override &o) {
    auto *map = dyn_cast_or_null<yaml::MappingNode>(node);
    if (!map) {
      error(node && !isa<yaml::NullNode>(node) ? start(node) : keyLoc, path,
            "expected a mapping of overrides (" + fieldNames() + "), got " + describe(node));
      return false;
    }
    bool ok = true;
    forEachEntry(
        map, path, [&](StringRef key, SMLoc fieldLoc, StringRef fieldPath, yaml::Node *value) {
          const FieldInfo *info = nullptr;
          for (const FieldInfo &f : fields)
            if (f.key == key)
              info = &f;
          if (!info) {
            error(fieldLoc, fieldPath, "unknown key; expected one of " + fieldNames());
            if (value)
              value->skip();
            ok = false;
            return;
          }
          StringRef range = info->range == FieldRange::Efficiency     ? "a number in (0, 1]"
                            : info->range == FieldRange::Microseconds ? "a number in [0, 1000]"
                                                                      : "a number in (0, 100000]";
          auto *scalar = dyn_cast_or_null<yaml::ScalarNode>(value);
          double v = 0;
          SmallString<32> storage;
          bool parsed =
              scalar && !scalar->getValue(storage).trim().getAsDouble(v) && std::isfinite(v);
          bool inRange = info->range == FieldRange::Efficiency     ? v > 0 && v <= 1
                         : info->range == FieldRange::Microseconds ? v >= 0 && v <= 1000
                                                                   : v > 0 && v <= 100000;
          if (!parsed || !inRange) {
            if (value && !scalar)
              value->skip();
            error(value && !isa<yaml::NullNode>(value) ? start(value) : fieldLoc, fieldPath,
                  "expected " + range + ", got " + describe(value));
            ok = false;
            return;
          }
          o.*(info->field) = v;
        });
    return ok;
  }

  SourceMgr &sm;
  const std::vector<DeviceSpec> &table;
  bool failed = false;
};

} // namespace

ArrayRef<DeviceSpec> builtinDevices() { return builtinTable(); }

std::string validDeviceNames() {
  std::string s;
  for (const DeviceSpec &d : builtinTable())
    s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

Expected<DeviceSpec> lookupDevice(StringRef name) {
  if (const DeviceSpec *d = findIn(builtinTable(), name))
    return *d;
  return unknownDevice(name);
}

DeviceTable::DeviceTable() : table(builtinTable()) {}

Expected<const DeviceSpec &> DeviceTable::lookup(StringRef name) const {
  if (const DeviceSpec *d = findIn(table, name))
    return *d;
  return unknownDevice(name);
}

Error DeviceTable::applyCalibration(MemoryBufferRef buffer) {
  std::string messages;
  raw_string_ostream os(messages);
  SourceMgr sm;
  sm.setDiagHandler(
      [](const SMDiagnostic &diag, void *ctx) {
        diag.print(/*ProgName=*/nullptr, *static_cast<raw_ostream *>(ctx), /*ShowColors=*/false);
      },
      &os);
  CalibrationParser parser(sm, table);
  if (!parser.parse(buffer)) {
    if (messages.empty()) // defensive: never an error without text
      messages = (buffer.getBufferIdentifier() + ": error: invalid calibration file\n").str();
    StringRef text = StringRef(messages).rtrim('\n');
    return createStringError(inconvertibleErrorCode(), text);
  }
  for (auto &[name, o] : parser.overrides) {
    auto it = llvm::find_if(table, [&](const DeviceSpec &d) { return d.name == name; });
    assert(it != table.end() && "the parser checked the name");
    DeviceSpec &d = *it;
    if (o.computeBF16)
      d.eff.computeBF16 = *o.computeBF16;
    if (o.computeFP8)
      d.eff.computeFP8 = *o.computeFP8;
    if (o.memoryBF16)
      d.eff.memoryBF16 = *o.memoryBF16;
    if (o.memoryFP8)
      d.eff.memoryFP8 = *o.memoryFP8;
    if (o.memoryCast)
      d.eff.memoryCast = *o.memoryCast;
    if (o.floorUs)
      d.launchFloorUs = *o.floorUs;
    for (auto [value, field] : {std::pair{o.intraNodeGBps, &DeviceSpec::intraNodeGBps},
                                std::pair{o.interNodeGBps, &DeviceSpec::interNodeGBps},
                                std::pair{o.intraNodeLatencyUs, &DeviceSpec::intraNodeLatencyUs},
                                std::pair{o.interNodeLatencyUs, &DeviceSpec::interNodeLatencyUs}})
      if (value)
        d.*field = *value;
  }
  return Error::success();
}

Error DeviceTable::applyCalibrationFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer = MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return createStringError(buffer.getError(), "cannot read calibration file '%s': %s",
                             path.str().c_str(), buffer.getError().message().c_str());
  return applyCalibration((*buffer)->getMemBufferRef());
}

void printDeviceTableMarkdown(ArrayRef<DeviceSpec> devices, raw_ostream &os) {
  os << "| device | product | arch | bf16 TFLOP/s | fp8 TFLOP/s | memory GB/s "
        "| tensorwise | rowwise | blockwise | launch floor us | eff_compute bf16 / fp8 "
        "| eff_memory bf16 / fp8 / cast | intra-node GB/s | inter-node GB/s |\n";
  os << "| --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- | --- | ---: "
        "| ---: |\n";
  auto yesNo = [](bool b) { return b ? "yes" : "no"; };
  for (const DeviceSpec &d : devices) {
    os << "| `" << d.name << "` | " << d.product << " | " << d.arch << " | "
       << format("%.1f", d.peakBF16TFlops) << " | " << format("%.1f", d.peakFP8TFlops) << " | "
       << format("%.0f", d.memoryGBps) << " | " << yesNo(d.tensorwise) << " | " << yesNo(d.rowwise)
       << " | " << yesNo(d.blockwise) << " | " << format("%.1f", d.launchFloorUs) << " | "
       << format("%.2f / %.2f", d.eff.computeBF16, d.eff.computeFP8) << " | "
       << format("%.2f / %.2f / %.2f", d.eff.memoryBF16, d.eff.memoryFP8, d.eff.memoryCast) << " | "
       << format("%.0f", d.intraNodeGBps) << " (" << d.intraNodeLink << ", "
       << format("%.1f", d.intraNodeLatencyUs) << " us) | " << format("%.0f", d.interNodeGBps)
       << " (" << format("%.1f", d.interNodeLatencyUs) << " us) |\n";
  }
}

} // namespace fp8c::cost
