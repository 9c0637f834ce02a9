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

TEST(Strings, QueryValuesArePercentDecoded) {
  EXPECT_EQ(QueryValue("a=1&description=MLP%20v2+big&x", "description"), "MLP v2 big");
  EXPECT_EQ(QueryValue("a=1&x", "x"), "");
  EXPECT_FALSE(QueryValue("a=1", "b").has_value());
  EXPECT_FALSE(QueryValue("a=%4", "a").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
}

TEST(Strings, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace vigil
