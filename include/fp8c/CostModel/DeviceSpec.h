//===- DeviceSpec.h - the GPUs the cost model describes ---------*- C++ -*-===//
//
// One table of devices (docs/cost-model.md): datasheet peaks (dense, no
// sparsity), HBM bandwidth, the FP8 scaling modes the GEMM library runs on the
// device, a launch floor and the efficiencies that turn peaks into predicted
// times. Efficiencies and the launch floor can be overridden by a calibration
// file measured on a real GPU. No MLIR here: LLVMSupport only.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_COSTMODEL_DEVICESPEC_H
#define FP8C_COSTMODEL_DEVICESPEC_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBufferRef.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace fp8c::cost {

/// FP8 scaling recipe; spelled as the `fp8.recipe` key of a model description.
/// Delayed scaling uses the tensorwise GEMM (one scale per tensor).
enum class Recipe { Tensorwise, Delayed, Rowwise, Blockwise };

llvm::StringRef stringifyRecipe(Recipe recipe);
std::optional<Recipe> parseRecipe(llvm::StringRef name);

/// Fractions of the datasheet peaks that kernels reach (all in (0, 1]).
struct Efficiencies {
  /// Dense tensor-core throughput of large bf16 / fp8 GEMMs.
  double computeBF16 = 0.75;
  double computeFP8 = 0.65;
  /// HBM bandwidth reached by bf16 / fp8 GEMMs when memory-bound.
  double memoryBF16 = 0.80;
  double memoryFP8 = 0.80;
  /// HBM bandwidth reached by cast, amax and cast_transpose kernels.
  double memoryCast = 0.80;
};

struct DeviceSpec {
  /// Key used by `fp8.device` and calibration files, e.g. "h100-sxm".
  std::string name;
  /// Human-readable product, e.g. "NVIDIA H100 SXM5 80GB".
  std::string product;
  /// CUDA architecture, e.g. "sm_90".
  std::string arch;
  /// Dense (no sparsity) tensor-core peaks in TFLOP/s.
  double peakBF16TFlops = 0;
  double peakFP8TFlops = 0;
  /// HBM (or GDDR) bandwidth in GB/s (10^9 bytes per second).
  double memoryGBps = 0;
  /// FP8 GEMM scaling modes the device runs: tensorwise (also used by delayed
  /// scaling), rowwise (outer-vector), blockwise (1x128 / 128x128 blocks).
  bool tensorwise = false;
  bool rowwise = false;
  bool blockwise = false;
  /// No kernel takes less than this (launch + ramp-up + tail), microseconds.
  double launchFloorUs = 3.0;
  Efficiencies eff;
  /// Collectives (CommModel.h): bandwidth per direction of one GPU's link to
  /// the others of its node (NVLink, or PCIe) and to other nodes (its share of
  /// the network), GB/s; the latency of one ring step over each (NCCL's
  /// Ring/Simple figures).
  double intraNodeGBps = 0, interNodeGBps = 50;
  double intraNodeLatencyUs = 3.4, interNodeLatencyUs = 9.6;
  /// "NVLink" or "PCIe": how the report names the intra-node link.
  std::string intraNodeLink;

  bool supports(Recipe recipe) const;
};

/// The built-in table, in documentation order.
llvm::ArrayRef<DeviceSpec> builtinDevices();

/// "h100-sxm, h100-pcie, h200, l40s, b200".
std::string validDeviceNames();

/// A built-in device by name. Error: "unknown device 'x'; valid devices: ...".
llvm::Expected<DeviceSpec> lookupDevice(llvm::StringRef name);

/// The device table a compilation uses: the built-in devices with the
/// overrides of any calibration files applied.
class DeviceTable {
public:
  DeviceTable();

  /// Same error as `lookupDevice` for an unknown name.
  llvm::Expected<const DeviceSpec &> lookup(llvm::StringRef name) const;
  llvm::ArrayRef<DeviceSpec> devices() const { return table; }

  /// Applies a calibration file (YAML, format in docs/cost-model.md). Errors
  /// are `FILE:LINE:COL: error: <key path>: <expected>` lines, every one of
  /// them, joined into one llvm::Error; the table is unchanged when there is
  /// any. The buffer identifier is the file name in the messages.
  llvm::Error applyCalibration(llvm::MemoryBufferRef buffer);
  /// Reads `path` and applies it; an unreadable file is an error naming it.
  llvm::Error applyCalibrationFile(llvm::StringRef path);

private:
  std::vector<DeviceSpec> table;
};

/// The device table as a Markdown table (docs/cost-model.md embeds it).
void printDeviceTableMarkdown(llvm::ArrayRef<DeviceSpec> devices, llvm::raw_ostream &os);

} // namespace fp8c::cost

#endif // FP8C_COSTMODEL_DEVICESPEC_H
