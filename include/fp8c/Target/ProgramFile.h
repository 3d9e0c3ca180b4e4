//===- ProgramFile.h - rt module -> .fp8prog program file -------*- C++ -*-===//
//
// The last step of fp8c: writes a module that fp8-lower-to-rt has produced as
// the JSON program file of docs/program-format.md, which fp8-run loads without
// MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_TARGET_PROGRAMFILE_H
#define FP8C_TARGET_PROGRAMFILE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace fp8c {

/// The program file format version this compiler writes.
constexpr int64_t kProgramFormatVersion = 6;

/// Writes `module` (lowered to rt) as a program file. Anything the format
/// cannot express (a tensor outside a kernel, an attribute with no JSON form,
/// a non-finite constant) is a located error and nothing useful is written.
mlir::LogicalResult writeProgramFile(mlir::ModuleOp module, llvm::raw_ostream &os);

} // namespace fp8c

#endif // FP8C_TARGET_PROGRAMFILE_H
