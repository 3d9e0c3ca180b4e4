//===- AtomicFile.h - files that are either complete or untouched -*- C++ -*-===//
//
// Checkpoints and token files are never left half-written: data goes to a
// temporary beside the destination (same directory, so rename is atomic), which
// is fsync'ed, renamed over the destination, and the directory fsync'ed.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SUPPORT_ATOMICFILE_H
#define FP8RT_SUPPORT_ATOMICFILE_H

#include "fp8rt/Status.h"

#include <cstddef>
#include <string>

namespace fp8rt {

class AtomicFile {
public:
  /// Creates the temporary `<path>.tmp.<pid>` for `path`.
  static Status open(const std::string &path, AtomicFile &out);

  AtomicFile() = default;
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;
  /// Removes the temporary unless commit() succeeded.
  ~AtomicFile();

  /// Appends `n` bytes; retries short writes and EINTR.
  Status write(const void *data, size_t n);

  /// fsync, close, rename over the destination, fsync the directory. After a
  /// failure the destination is untouched and the temporary removed.
  Status commit();

private:
  void discard();

  std::string path_, tmp_;
  int fd_ = -1;
};

} // namespace fp8rt

#endif // FP8RT_SUPPORT_ATOMICFILE_H
