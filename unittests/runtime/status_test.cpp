#include "smepilot_rt/status.h"

#include <gtest/gtest.h>

using smepilot::rt::result;
using smepilot::rt::status;

namespace {
status fail_if(bool fail) { return fail ? status::error("boom") : status::ok(); }
status chain(bool fail) {
  SMEPILOT_RT_RETURN_IF_ERROR(fail_if(fail));
  return status::error("reached the end");
}
result<int> parse(bool fail) {
  if (fail)
    return status::error("not a number");
  return 42;
}
} // namespace

TEST(Status, OkAndError) {
  EXPECT_TRUE(status::ok().is_ok());
  status s = status::error("bad magic");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.message(), "bad magic");
}

TEST(Status, ReturnIfErrorPropagates) {
  EXPECT_EQ(chain(true).message(), "boom");
  EXPECT_EQ(chain(false).message(), "reached the end");
}

TEST(Result, ValueOrError) {
  result<int> a = parse(false);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(*a, 42);
  result<int> b = parse(true);
  ASSERT_FALSE(b.is_ok());
  EXPECT_EQ(b.error().message(), "not a number");
}
