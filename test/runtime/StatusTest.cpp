//===- StatusTest.cpp - fp8rt::Status, StatusOr and their macros ----------===//

#include "fp8rt/Status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

using namespace fp8rt;

namespace {

Status failIf(bool fail) {
  if (fail)
    return dataLossError("f.bin: bad");
  return Status::success();
}

StatusOr<int> half(int x) {
  if (x % 2)
    return invalidArgumentError("x: " + std::to_string(x) + " is odd");
  return x / 2;
}

Status chain(bool fail, int &calls) {
  FP8RT_RETURN_IF_ERROR(failIf(fail));
  ++calls;
  return Status::success();
}

StatusOr<int> quarter(int x) {
  FP8RT_ASSIGN_OR_RETURN(int h, half(x));
  FP8RT_RETURN_IF_ERROR(half(h)); // a StatusOr works too
  FP8RT_ASSIGN_OR_RETURN(h, half(h)); // assigning an existing variable
  return h;
}

StatusOr<std::unique_ptr<int>> makeBox(bool fail) {
  if (fail)
    return notFoundError("box");
  return std::make_unique<int>(7); // a move-only value
}

TEST(Status, SuccessAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.toString(), "ok");
  Status e = ioError("a.bin: cannot open: Permission denied");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.code(), StatusCode::kIoError);
  EXPECT_EQ(e.toString(), "I/O error: a.bin: cannot open: Permission denied");
  EXPECT_EQ(e.withContext("loading x").message(),
            "loading x: a.bin: cannot open: Permission denied");
  EXPECT_TRUE(ok.withContext("ignored").ok());
  // An "error" with code kOk is a bug: it becomes kInternal, never success.
  EXPECT_EQ(Status(StatusCode::kOk, "m").code(), StatusCode::kInternal);
}

TEST(Status, Macros) {
  int calls = 0;
  EXPECT_TRUE(chain(false, calls).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(chain(true, calls).message(), "f.bin: bad");
  EXPECT_EQ(calls, 1);

  EXPECT_EQ(*quarter(12), 3);
  EXPECT_EQ(quarter(7).status().message(), "x: 7 is odd");
  EXPECT_EQ(quarter(6).status().message(), "x: 3 is odd");
  EXPECT_EQ(quarter(6).status().code(), StatusCode::kInvalidArgument);
}

TEST(Status, StatusOrHoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> b = makeBox(false);
  ASSERT_TRUE(b.ok());
  std::unique_ptr<int> p = std::move(b).value();
  EXPECT_EQ(*p, 7);
  EXPECT_EQ(makeBox(true).status().code(), StatusCode::kNotFound);
  // A success Status without a value is a bug, reported as kInternal.
  StatusOr<int> bad{Status::success()};
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
}

TEST(StatusDeathTest, ValueOfAnErrorAborts) {
  EXPECT_DEATH((void)*half(3), "value of a failed StatusOr accessed: invalid "
                               "argument: x: 3 is odd");
}

} // namespace
