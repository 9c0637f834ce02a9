#include "core/duration.h"

#include <gtest/gtest.h>

namespace vigil {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsUnits) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("15m"), milliseconds(900'000));
  EXPECT_EQ(*ParseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1'500));
}

TEST(ParseDuration, BareNumberUsesGivenUnit) {
  EXPECT_EQ(*ParseDuration("30", milliseconds(1000)), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("30"), milliseconds(30));
}

TEST(ParseDuration, RejectsGarbageWithMessage) {
  auto r = ParseDuration("5 parsecs");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown duration unit"), std::string::npos);
  EXPECT_FALSE(ParseDuration("-3s").ok());
  EXPECT_FALSE(ParseDuration("").ok());
}

}  // namespace vigil
