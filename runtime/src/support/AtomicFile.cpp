//===- AtomicFile.cpp - files that are either complete or untouched -------===//

#include "fp8rt/support/AtomicFile.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fp8rt {

namespace {

std::string parentDir(const std::string &path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseName(const std::string &path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string temporaryOf(const std::string &path, long pid) {
  return path + ".tmp." + std::to_string(pid);
}

/// The temporaries open in this process, for removeOpenTemporaries: a fixed
/// table of lock-free pointers (a signal handler can neither lock nor
/// allocate). A file that finds no free slot is simply not tracked.
constexpr int kMaxTracked = 32;
std::atomic<const char *> openTemporaries[kMaxTracked];
static_assert(std::atomic<const char *>::is_always_lock_free,
              "removeOpenTemporaries reads the table in a signal handler");

} // namespace

Status AtomicFile::open(const std::string &path, AtomicFile &out) {
  out.discard();
  out.path_ = path;
  out.tmp_ = temporaryOf(path, long(::getpid()));
  out.fd_ = ::open(out.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd_ < 0)
    return ioError(path + ": cannot create " + out.tmp_ + ": " + std::strerror(errno));
  out.track();
  return Status::success();
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::track() {
  for (int i = 0; i < kMaxTracked; ++i) {
    const char *expected = nullptr;
    if (openTemporaries[i].compare_exchange_strong(expected, tmp_.c_str())) {
      slot_ = i;
      return;
    }
  }
}

void AtomicFile::untrack() {
  if (slot_ >= 0)
    openTemporaries[slot_].store(nullptr);
  slot_ = -1;
}

void AtomicFile::removeOpenTemporaries() {
  for (std::atomic<const char *> &slot : openTemporaries)
    if (const char *tmp = slot.load())
      ::unlink(tmp);
}

void AtomicFile::discard() {
  if (fd_ < 0)
    return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
  untrack();
  fd_ = -1;
}

Status AtomicFile::write(const void *data, size_t n) {
  const auto *p = static_cast<const unsigned char *>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, std::min<size_t>(n, size_t(1) << 30));
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return ioError(path_ + ": write to " + tmp_ + " failed: " + std::strerror(errno));
    }
    p += w;
    n -= size_t(w);
  }
  return Status::success();
}

Status AtomicFile::commit() {
  if (::fsync(fd_) != 0) {
    Status s = ioError(path_ + ": fsync of " + tmp_ + " failed: " + std::strerror(errno));
    discard();
    return s;
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    untrack();
    return ioError(path_ + ": close of " + tmp_ + " failed: " + std::strerror(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    untrack();
    return ioError(path_ + ": cannot rename " + tmp_ + " to it: " + std::strerror(err));
  }
  untrack();
  // Make the rename durable; some file systems cannot fsync a directory
  // (EINVAL), and the file is complete either way.
  const std::string dir = parentDir(path_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (rc != 0 && err != EINVAL)
      return ioError(path_ + ": written, but fsync of directory " + dir +
                     " failed: " + std::strerror(err));
  }
  return Status::success();
}

StatusOr<std::vector<StaleTemporary>> removeStaleTemporaries(const std::string &path) {
  const std::string dir = parentDir(path);
  const std::string prefix = baseName(path) + ".tmp.";
  std::vector<StaleTemporary> removed;
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return removed; // nothing to clean where nothing can be listed
  std::vector<std::pair<std::string, long>> candidates;
  while (const dirent *entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
      continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    candidates.push_back({name, std::stol(digits)});
  }
  ::closedir(d);
  for (const auto &[name, pid] : candidates) {
    // Alive (or another user's: EPERM) processes keep their temporaries.
    if (pid <= 0 || pid == long(::getpid()) || ::kill(pid_t(pid), 0) == 0 || errno != ESRCH)
      continue;
    const std::string full = dir == "." && path.find('/') == std::string::npos
                                 ? name
                                 : dir + (dir == "/" ? "" : "/") + name;
    struct stat st;
    StaleTemporary stale{full, pid, 0};
    if (::stat(full.c_str(), &st) == 0)
      stale.bytes = uint64_t(st.st_size);
    if (::unlink(full.c_str()) != 0 && errno != ENOENT)
      return ioError(full + ": a temporary of process " + std::to_string(pid) +
                     ", which is gone, cannot be removed: " + std::strerror(errno));
    removed.push_back(std::move(stale));
  }
  return removed;
}

Status checkWritable(const std::string &path, bool inPlace) {
  const std::string dir = parentDir(path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return errno == ENOENT ? notFoundError("directory " + dir + " does not exist")
                           : ioError("directory " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return invalidArgumentError(dir + " is not a directory");
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    return invalidArgumentError("it is a directory");
  if (exists && !S_ISREG(st.st_mode))
    return invalidArgumentError("it is not a regular file");
  // The probe has the name of this process's own temporary, created only if
  // absent and removed at once.
  const std::string probe = temporaryOf(path, long(::getpid()));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
  } else if (errno != EEXIST) {
    return ioError("cannot create a file in " + dir + ": " + std::strerror(errno));
  }
  if (inPlace && exists) {
    const int out = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (out < 0)
      return ioError("cannot open it for writing: " + std::string(std::strerror(errno)));
    ::close(out);
  }
  return Status::success();
}

} // namespace fp8rt
