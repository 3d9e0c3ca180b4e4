//===- AtomicFile.h - files that are either complete or untouched -*- C++ -*-===//
//
// Checkpoints and token files are never left half-written: data goes to a
// temporary beside the destination (same directory, so rename is atomic), which
// is fsync'ed, renamed over the destination, and the directory fsync'ed.
//
// A temporary is `<path>.tmp.<pid>`. It is removed on every failure, by a
// signal handler that ends the process (removeOpenTemporaries), and, when a
// killed process left one behind, by removeStaleTemporaries at the next write
// to the same path.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_SUPPORT_ATOMICFILE_H
#define FP8RT_SUPPORT_ATOMICFILE_H

#include "fp8rt/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

  /// Unlinks the temporary of every AtomicFile open in this process. Only
  /// async-signal-safe calls: for a signal handler that then calls _exit.
  static void removeOpenTemporaries();

private:
  void discard();
  void track();
  void untrack();

  std::string path_, tmp_;
  int fd_ = -1;
  int slot_ = -1; // in the table removeOpenTemporaries reads
};

/// A temporary of an earlier process that is gone: `<path>.tmp.<pid>`.
struct StaleTemporary {
  std::string path;
  int64_t pid = 0;
  uint64_t bytes = 0;
};

/// Removes the temporaries `<path>.tmp.<pid>` whose process no longer runs
/// (left by a run that was killed while writing `path`) and returns what it
/// removed. One that cannot be removed is an error naming it.
StatusOr<std::vector<StaleTemporary>> removeStaleTemporaries(const std::string &path);

/// Whether `path` can be written before any work is done: its directory
/// exists and takes a new file (a probe temporary is created and removed at
/// once, so nothing is left behind), and `path` itself, when it exists, is a
/// regular file; `inPlace` (opened for writing, not replaced by rename) also
/// requires that an existing file opens for writing. The message says what
/// is wrong ("directory D does not exist", "it is a directory", ...) without
/// the path, for the caller to name the flag and the path.
Status checkWritable(const std::string &path, bool inPlace = false);

} // namespace fp8rt

#endif // FP8RT_SUPPORT_ATOMICFILE_H
