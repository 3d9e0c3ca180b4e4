//===- TempDir.h - A scratch directory for the runtime's tests --*- C++ -*-===//
//
// A fresh directory under GoogleTest's temp dir, removed with its files when
// the test ends; its entries are listed to check that a writer left nothing
// behind (temporary files of atomic writes).
//
//===----------------------------------------------------------------------===//

#ifndef FP8C_TEST_RUNTIME_TEMPDIR_H
#define FP8C_TEST_RUNTIME_TEMPDIR_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <dirent.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace fp8rt::test {

class TempDir {
public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "fp8rt-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char *made = ::mkdtemp(buf.data());
    path_ = made ? made : "";
  }
  ~TempDir() {
    for (const std::string &name : entries())
      ::unlink(file(name).c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  /// Names in the directory (no "." / ".."), sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR *d = ::opendir(path_.c_str())) {
      while (dirent *e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
          names.push_back(e->d_name);
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string path_;
};

} // namespace fp8rt::test

#endif // FP8C_TEST_RUNTIME_TEMPDIR_H
