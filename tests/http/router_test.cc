#include "http/router.h"

#include <gtest/gtest.h>

namespace vigil::http {

using boost::beast::http::verb;

TEST(Router, MatchesPatternsAndCapturesParameters) {
  Router<int> r;
  r.Add(verb::post, "/v2/models/{model}/infer", 1);
  r.Add(verb::post, "/v2/models/{model}/versions/{version}/infer", 2);
  r.Add(verb::get, "/health", 3);
  const int* fn = nullptr;
  PathParams p;
  ASSERT_EQ(r.Match(verb::post, "/v2/models/iris/versions/2/infer", fn, p),
            Router<int>::Outcome::kFound);
  EXPECT_EQ(*fn, 2);
  EXPECT_EQ(p.Get("model"), "iris");
  EXPECT_EQ(p.Get("version"), "2");
  EXPECT_EQ(r.Match(verb::get, "/v2/models/iris/infer", fn, p),
            Router<int>::Outcome::kMethodNotAllowed);
  EXPECT_EQ(r.Match(verb::get, "/nope", fn, p), Router<int>::Outcome::kNotFound);
  ASSERT_EQ(r.Match(verb::get, "/health/", fn, p), Router<int>::Outcome::kFound);
  EXPECT_EQ(*fn, 3);
}

}  // namespace vigil::http
