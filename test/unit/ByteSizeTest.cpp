//===- ByteSizeTest.cpp - sizes as users write them ("24GiB") -------------===//

#include "fp8c/Analysis/ByteSize.h"

#include <gtest/gtest.h>

using fp8c::formatByteSize;
using fp8c::parseByteSize;

TEST(ByteSize, UnitsArePowersOf1024) {
  EXPECT_EQ(parseByteSize("24GiB"), 24ll << 30);
  EXPECT_EQ(parseByteSize("1536MiB"), 1536ll << 20);
  EXPECT_EQ(parseByteSize("64KiB"), 64ll << 10);
  EXPECT_EQ(parseByteSize("4096B"), 4096);
  EXPECT_EQ(parseByteSize("1.5 GiB"), 3ll << 29);
  EXPECT_EQ(parseByteSize(" 10MiB "), 10ll << 20);
}

TEST(ByteSize, AnythingElseIsRefused) {
  for (const char *text : {"24", "24GB", "24gib", "GiB", "", "-1GiB", "0MiB", "0.1B", "1e3MiB",
                           "24 GiB extra", "1.2.3GiB", "10000000000GiB"})
    EXPECT_EQ(parseByteSize(text), std::nullopt) << text;
}

TEST(ByteSize, FormatsInGiBMiBOrBytes) {
  EXPECT_EQ(formatByteSize(24ll << 30), "24.00 GiB");
  EXPECT_EQ(formatByteSize((1ll << 30) - 1), "1024.00 MiB");
  EXPECT_EQ(formatByteSize(10 << 20), "10.00 MiB");
  EXPECT_EQ(formatByteSize(1024), "1024 bytes");
}
