//===- AtomicFile.cpp - files that are either complete or untouched -------===//

#include "fp8rt/support/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace fp8rt {

namespace {

std::string parentDir(const std::string &path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

Status AtomicFile::open(const std::string &path, AtomicFile &out) {
  out.discard();
  out.path_ = path;
  out.tmp_ = path + ".tmp." + std::to_string(long(::getpid()));
  out.fd_ = ::open(out.tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd_ < 0)
    return ioError(path + ": cannot create " + out.tmp_ + ": " + std::strerror(errno));
  return Status::success();
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (fd_ < 0)
    return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
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
    return ioError(path_ + ": close of " + tmp_ + " failed: " + std::strerror(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    return ioError(path_ + ": cannot rename " + tmp_ + " to it: " + std::strerror(err));
  }
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

} // namespace fp8rt
