#include <boost/test/unit_test.hpp>

#include <chrono>
#include <vector>

#include <trimtab/core/backoff.hpp>

using namespace trimtab;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_max_and_resets) {
  Backoff backoff(100ms, 1000ms);
  BOOST_CHECK_EQUAL(backoff.ceiling().count(), 0);
  std::vector<long> waits;
  for (int i = 0; i < 6; ++i) waits.push_back(static_cast<long>(backoff.failure().count()));
  const std::vector<long> expected{100, 200, 400, 800, 1000, 1000};
  BOOST_CHECK_EQUAL_COLLECTIONS(waits.begin(), waits.end(), expected.begin(), expected.end());
  BOOST_CHECK_EQUAL(backoff.failures(), 6U);
  backoff.reset();
  BOOST_CHECK_EQUAL(backoff.failures(), 0U);
  BOOST_CHECK_EQUAL(backoff.failure().count(), 100);
}

BOOST_AUTO_TEST_CASE(backoff_never_overflows) {
  Backoff backoff(std::chrono::milliseconds(std::chrono::milliseconds::max().count() / 4), std::chrono::milliseconds::max());
  for (int i = 0; i < 200; ++i) {
    const auto wait = backoff.failure();
    BOOST_REQUIRE(wait > 0ms);
    BOOST_REQUIRE(wait <= std::chrono::milliseconds::max());
  }
  BOOST_CHECK(backoff.ceiling() == std::chrono::milliseconds::max());

  Backoff small(1ms, 30s);
  for (int i = 0; i < 100; ++i) (void)small.failure();
  BOOST_CHECK_EQUAL(small.ceiling().count(), 30000);
}

BOOST_AUTO_TEST_CASE(backoff_jitter_is_full_and_deterministic) {
  Backoff a(100ms, 10s, 42), b(100ms, 10s, 42), c(100ms, 10s, 43);
  std::vector<long> from_a, from_b, from_c;
  for (int i = 0; i < 12; ++i) {
    const auto wait = a.failure();
    BOOST_CHECK(wait >= 0ms);
    BOOST_CHECK(wait <= a.ceiling());
    from_a.push_back(static_cast<long>(wait.count()));
    from_b.push_back(static_cast<long>(b.failure().count()));
    from_c.push_back(static_cast<long>(c.failure().count()));
  }
  BOOST_CHECK_EQUAL_COLLECTIONS(from_a.begin(), from_a.end(), from_b.begin(), from_b.end());
  BOOST_CHECK(from_a != from_c);

  // Over many draws at the cap the delays spread over [0, max]: mean near max / 2.
  Backoff spread(1000ms, 1000ms, 7);
  double sum = 0;
  long low = 1000, high = 0;
  for (int i = 0; i < 4000; ++i) {
    const long wait = static_cast<long>(spread.failure().count());
    sum += static_cast<double>(wait);
    low = std::min(low, wait);
    high = std::max(high, wait);
  }
  BOOST_CHECK_CLOSE(sum / 4000, 500.0, 5.0);
  BOOST_CHECK(low < 20);
  BOOST_CHECK(high > 980);
  BOOST_CHECK(high <= 1000);
}

BOOST_AUTO_TEST_CASE(backoff_rejects_bad_bounds) {
  BOOST_CHECK_THROW(Backoff(0ms, 1s), std::invalid_argument);
  BOOST_CHECK_THROW(Backoff(2s, 1s), std::invalid_argument);
  BOOST_CHECK_NO_THROW(Backoff(1s, 1s));
}

BOOST_AUTO_TEST_SUITE_END()
