//===- CompileModel.h - a model description to a program, in-process -*- C++ -*-===//
//
// What `fp8c MODEL.yaml -o FILE` does, as one call: the front end, every stage
// of the pipeline, the program file writer. For programs that compile models
// themselves (tests, benchmarks); fp8c keeps its own flags around the same
// pieces.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_COMPILER_COMPILEMODEL_H
#define FP8C_COMPILER_COMPILEMODEL_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace fp8c {

/// The program file (docs/program-format.md) of the YAML model description
/// `yaml`, or nullopt after printing the located diagnostics (under
/// `bufferName`) to stderr.
std::optional<std::string> compileModelToProgram(llvm::StringRef yaml, llvm::StringRef bufferName);

} // namespace fp8c

#endif // FP8C_COMPILER_COMPILEMODEL_H
