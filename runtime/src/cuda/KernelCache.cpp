//===- KernelCache.cpp - On-disk cache of NVRTC cubins --------------------===//

#include "KernelCache.h"

#include "fp8rt/support/AtomicFile.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

namespace fp8rt::cuda {

namespace {

/// FNV-1a 64 from a given offset basis; two bases make a 128-bit key, enough
/// that distinct sources never meet in one cache directory.
uint64_t fnv1a(const std::string &text, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
  return buf;
}

std::string env(const char *name) {
  const char *v = std::getenv(name);
  return v ? v : "";
}

Status makeDirectories(const std::string &dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/')
      continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return ioError(prefix +
                     ": cannot create the kernel cache directory: " + std::strerror(errno));
  }
  return Status::success();
}

} // namespace

std::string defaultKernelCacheDir() {
  if (std::string d = env("FP8C_CACHE_DIR"); !d.empty())
    return d;
  if (std::string d = env("XDG_CACHE_HOME"); !d.empty())
    return d + "/fp8c";
  if (std::string d = env("HOME"); !d.empty())
    return d + "/.cache/fp8c";
  return "";
}

std::string kernelCacheFileName(const std::string &source, const std::string &arch,
                                const std::string &nvrtcVersion) {
  return hex(fnv1a(source, 0xcbf29ce484222325ULL)) +
         hex(fnv1a(source, 0x84222325cbf29ce4ULL) ^ uint64_t(source.size())) + "-" + arch +
         "-nvrtc" + nvrtcVersion + ".cubin";
}

bool readCachedKernel(const std::string &dir, const std::string &fileName, std::string &out) {
  if (dir.empty())
    return false;
  std::ifstream in(dir + "/" + fileName, std::ios::binary);
  if (!in)
    return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad() && !out.empty();
}

Status writeCachedKernel(const std::string &dir, const std::string &fileName,
                         const std::string &cubin) {
  FP8RT_RETURN_IF_ERROR(makeDirectories(dir));
  AtomicFile file;
  FP8RT_RETURN_IF_ERROR(AtomicFile::open(dir + "/" + fileName, file));
  FP8RT_RETURN_IF_ERROR(file.write(cubin.data(), cubin.size()));
  return file.commit();
}

} // namespace fp8rt::cuda
