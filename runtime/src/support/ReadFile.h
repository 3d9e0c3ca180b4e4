//===- ReadFile.h - Read a whole regular file --------------------*- C++ -*-===//
//
// Private to the runtime: the one way its readers (safetensors checkpoints,
// program files) load a file into memory, with the same messages.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SRC_SUPPORT_READFILE_H
#define FP8RT_SRC_SUPPORT_READFILE_H

#include "fp8rt/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fp8rt {

/// The bytes of the regular file `path`. Errors: "<path>: cannot open: ..."
/// (kNotFound when it does not exist, else kIoError), "<path>: not a regular
/// file" (kInvalidArgument), "<path>: cannot stat / read failed: ...",
/// "<path>: file shrank while being read (N of M bytes)" (kIoError).
StatusOr<std::vector<uint8_t>> readRegularFile(const std::string &path);

} // namespace fp8rt

#endif // FP8RT_SRC_SUPPORT_READFILE_H
