#include <boost/test/unit_test.hpp>

#include <chrono>

#include <trimtab/agent/token_bucket.hpp>

using namespace trimtab;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(token_bucket)

BOOST_AUTO_TEST_CASE(refills_at_its_rate_up_to_its_burst) {
  TokenBucket bucket(2.0, 3.0);
  const TokenBucket::clock::time_point t0{};
  BOOST_TEST(bucket.try_take(t0));
  BOOST_TEST(bucket.try_take(t0));
  BOOST_TEST(bucket.try_take(t0));
  BOOST_TEST(!bucket.try_take(t0));
  BOOST_TEST(bucket.wait_time(t0).count() == 0.5, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(!bucket.try_take(t0 + 400ms));
  BOOST_TEST(bucket.try_take(t0 + 500ms));
  BOOST_TEST(!bucket.try_take(t0 + 500ms));
  // A long pause refills only up to the burst.
  const auto later = t0 + 1h;
  BOOST_TEST(bucket.wait_time(later).count() == 0.0);
  for (int i = 0; i < 3; ++i) BOOST_TEST(bucket.try_take(later));
  BOOST_TEST(!bucket.try_take(later));
}

BOOST_AUTO_TEST_SUITE_END()
