//===- HfConfig.h - models from Hugging Face config.json --------*- C++ -*-===//
//
// A Hugging Face config.json (GPT2Config; LlamaConfig and the Mistral configs
// that fit it) read into fp8c's model section: `fp8c config.json` compiles it
// with the default train and fp8 sections, and a YAML description takes it as
// `model: {hf_config: PATH}`. Fields fp8c does not compute are refused with
// the key's location. docs/hf-interop.md lists what is honoured.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_FRONTEND_HFCONFIG_H
#define FP8C_FRONTEND_HFCONFIG_H

#include "fp8c/Frontend/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace fp8c {

/// Parses the config.json in `sourceMgr`'s main buffer into a ModelConfig
/// (train and fp8 at their defaults) and builds its forward graph; errors
/// are reported through `sourceMgr` at the JSON key at fault. Returns null on
/// any error.
mlir::OwningOpRef<mlir::ModuleOp> importHfConfig(llvm::SourceMgr &sourceMgr,
                                                 mlir::MLIRContext *context);

} // namespace fp8c

#endif // FP8C_FRONTEND_HFCONFIG_H
