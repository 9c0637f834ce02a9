#include "core/status.h"

#include <gtest/gtest.h>

namespace vigil {

TEST(Status, OkByDefaultAndPrefixKeepsCode) {
  EXPECT_TRUE(Status().ok());
  Status st = InvalidArgument("bad").WithPrefix("file.yaml");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "file.yaml: bad");
}

TEST(Result, HoldsValueOrError) {
  Result<int> v = 3;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 3);
  Result<int> e = NotFound("x");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

}  // namespace vigil
