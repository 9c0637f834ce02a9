#include "core/strings.h"

#include <gtest/gtest.h>

namespace vigil {

TEST(Strings, ClosestMatchSuggestsTypoFix) {
  EXPECT_EQ(ClosestMatch("bakend", {"backend", "inputs", "outputs"}), "backend");
  EXPECT_EQ(ClosestMatch("zzzzzzzz", {"backend", "inputs"}), "");
}

TEST(Strings, SplitAndTrimDropsEmpty) {
  auto v = SplitAndTrim(" a, b ,,c ", ',');
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "a");
  EXPECT_EQ(v[1], "b");
  EXPECT_EQ(v[2], "c");
}

TEST(Strings, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
}

TEST(Strings, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace vigil
