#include "http/auth.h"

#include <gtest/gtest.h>

namespace vigil::http {

TEST(ApiKeyAuth, AcceptsAnyConfiguredBearerKey) {
  ApiKeyAuth auth({"k1", "k2"});
  EXPECT_TRUE(auth.enabled());
  EXPECT_TRUE(auth.Check("Bearer k1"));
  EXPECT_TRUE(auth.Check("Bearer k2"));
  EXPECT_FALSE(auth.Check("Bearer k3"));
  EXPECT_FALSE(auth.Check("k1"));
  EXPECT_FALSE(auth.Check("Basic k1"));
  EXPECT_FALSE(auth.Check("Bearer "));
  EXPECT_FALSE(ApiKeyAuth({}).enabled());
}

}  // namespace vigil::http
