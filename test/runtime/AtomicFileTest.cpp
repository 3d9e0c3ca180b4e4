//===- AtomicFileTest.cpp - temporaries of interrupted writes -------------===//
//
// AtomicFile's temporaries never outlive a write: removeOpenTemporaries (what
// fp8-run's second Ctrl-C calls), removeStaleTemporaries (those of killed
// processes), and checkWritable, which probes without leaving a file.
//
//===----------------------------------------------------------------------===//

#include "fp8rt/support/AtomicFile.h"

#include "TempDir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using fp8rt::AtomicFile;
using fp8rt::test::TempDir;

void writeFile(const std::string &path, const std::string &text) {
  std::FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

TEST(SafetensorsAtomicFile, RemoveOpenTemporariesUnlinksWhatIsBeingWritten) {
  TempDir dir;
  const std::string path = dir.path() + "/ckpt.safetensors";
  AtomicFile file;
  ASSERT_TRUE(AtomicFile::open(path, file).ok());
  ASSERT_TRUE(file.write("abc", 3).ok());
  const std::string tmp = "ckpt.safetensors.tmp." + std::to_string(long(::getpid()));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{tmp});
  AtomicFile::removeOpenTemporaries();
  EXPECT_TRUE(dir.entries().empty());
}

TEST(SafetensorsAtomicFile, CommittedFilesAreNoLongerTracked) {
  TempDir dir;
  const std::string path = dir.path() + "/done.bin";
  {
    AtomicFile file;
    ASSERT_TRUE(AtomicFile::open(path, file).ok());
    ASSERT_TRUE(file.write("xyz", 3).ok());
    ASSERT_TRUE(file.commit().ok());
  }
  // A later temporary of the same name must survive: nothing stale is tracked.
  writeFile(path + ".tmp." + std::to_string(long(::getpid())), "keep");
  AtomicFile::removeOpenTemporaries();
  EXPECT_EQ(dir.entries().size(), 2u);
}

TEST(SafetensorsAtomicFile, StaleTemporariesOfDeadProcessesAreRemoved) {
  TempDir dir;
  const std::string path = dir.path() + "/ckpt";
  // A child writes and dies without cleaning up, as a killed run does.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    static AtomicFile file; // never destroyed: _exit skips destructors
    if (!AtomicFile::open(path, file).ok() || !file.write("0123456789", 10).ok())
      ::_exit(1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string stale = "ckpt.tmp." + std::to_string(long(child));
  const std::string mine = "ckpt.tmp." + std::to_string(long(::getpid()));
  writeFile(dir.path() + "/" + mine, "live");       // this process: alive
  writeFile(dir.path() + "/ckpt.tmp.x1", "other");  // not a pid
  writeFile(dir.path() + "/ckpt2.tmp.1", "other");  // another destination
  ASSERT_EQ(dir.entries().size(), 4u);

  fp8rt::StatusOr<std::vector<fp8rt::StaleTemporary>> removed =
      fp8rt::removeStaleTemporaries(path);
  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_EQ((*removed)[0].path, dir.path() + "/" + stale);
  EXPECT_EQ((*removed)[0].pid, int64_t(child));
  EXPECT_EQ((*removed)[0].bytes, 10u);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"ckpt.tmp." + std::to_string(long(::getpid())),
                                                  "ckpt.tmp.x1", "ckpt2.tmp.1"}));
}

TEST(SafetensorsAtomicFile, CheckWritableNamesTheProblemAndLeavesNothing) {
  TempDir dir;
  EXPECT_TRUE(fp8rt::checkWritable(dir.path() + "/new.ckpt").ok());
  EXPECT_TRUE(fp8rt::checkWritable(dir.path() + "/new.jsonl", /*inPlace=*/true).ok());
  EXPECT_TRUE(dir.entries().empty());

  fp8rt::Status missing = fp8rt::checkWritable(dir.path() + "/no/x.ckpt");
  EXPECT_EQ(missing.message(), "directory " + dir.path() + "/no does not exist");
  fp8rt::Status isDir = fp8rt::checkWritable(dir.path());
  EXPECT_EQ(isDir.message(), "it is a directory");
  writeFile(dir.path() + "/file", "x");
  fp8rt::Status under = fp8rt::checkWritable(dir.path() + "/file/x.ckpt");
  EXPECT_EQ(under.message(), dir.path() + "/file is not a directory");
  EXPECT_TRUE(fp8rt::checkWritable(dir.path() + "/file", /*inPlace=*/true).ok());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"file"});
}

} // namespace
