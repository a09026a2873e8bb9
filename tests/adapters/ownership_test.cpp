#include <boost/test/unit_test.hpp>

#include <trimtab/adapters/ownership.hpp>

#include "../core/test_spaces.hpp"

using namespace trimtab;

namespace {

std::string error_of(const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& owned) {
  try {
    Ownership(test::service_space(), names, owned);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(ownership)

BOOST_AUTO_TEST_CASE(splits_a_configuration_between_adapters) {
  const auto space = test::service_space();
  const std::vector<std::string> names{"app", "cache"};
  const std::vector<std::vector<std::string>> owned{{"batch", "pool_size", "timeout_ms"}, {"policy"}};
  const Ownership ownership(space, names, owned);
  const auto app = ownership.settings_for(0, space, space.default_point());
  BOOST_TEST(app.size() == 3u);
  BOOST_TEST(app[0].first == "batch"); // the adapter's own order
  BOOST_TEST(std::get<double>(app[0].second) == 8.0);
  const auto cache = ownership.settings_for(1, space, space.default_point());
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(std::get<std::string>(cache[0].second) == "lru");
}

BOOST_AUTO_TEST_CASE(every_parameter_has_exactly_one_owner) {
  BOOST_TEST(error_of({"app"}, {{"pool_size", "timeout_ms", "batch"}}) == "parameter 'policy' is set by no adapter");
  BOOST_TEST(error_of({"app", "db"}, {{"pool_size", "timeout_ms", "batch", "policy"}, {"pool_size"}}) ==
             "adapter 'db': parameter 'pool_size' is already set by adapter 'app'");
  BOOST_TEST(error_of({"app"}, {{"pool", "timeout_ms", "batch", "policy"}}) == "adapter 'app': unknown parameter 'pool'");
}

BOOST_AUTO_TEST_SUITE_END()
