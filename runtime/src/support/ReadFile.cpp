//===- ReadFile.cpp - Read a whole regular file ---------------------------===//

#include "support/ReadFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fp8rt {

StatusOr<std::vector<uint8_t>> readRegularFile(const std::string &path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string m = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? notFoundError(std::move(m)) : ioError(std::move(m));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0)
    return ioError(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return invalidArgumentError(path + ": not a regular file");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t chunk = std::min<size_t>(bytes.size() - done, size_t(1) << 30);
    const ssize_t r = ::read(fd, bytes.data() + done, chunk);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return ioError(path + ": read failed: " + std::strerror(errno));
    }
    if (r == 0)
      return ioError(path + ": file shrank while being read (" + std::to_string(done) + " of " +
                     std::to_string(bytes.size()) + " bytes)");
    done += static_cast<size_t>(r);
  }
  return bytes;
}

} // namespace fp8rt
