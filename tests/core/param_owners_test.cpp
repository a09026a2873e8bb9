#include <boost/test/unit_test.hpp>

#include <trimtab/core/param_owners.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

std::string error_of(const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& owned) {
  try {
    ParamOwners(test::service_space(), names, owned);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(param_owners)

BOOST_AUTO_TEST_CASE(splits_a_configuration_between_adapters) {
  const auto space = test::service_space();
  const std::vector<std::string> names{"app", "cache"};
  const std::vector<std::vector<std::string>> owned{{"batch", "pool_size", "timeout_ms"}, {"policy"}};
  const ParamOwners owners(space, names, owned);
  const auto app = owners.settings_for(0, space, space.default_point());
  BOOST_TEST(app.size() == 3u);
  BOOST_TEST(app[0].first == "batch"); // the adapter's own order
  BOOST_TEST(std::get<double>(app[0].second) == 8.0);
  const auto cache = owners.settings_for(1, space, space.default_point());
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(std::get<std::string>(cache[0].second) == "lru");
}

BOOST_AUTO_TEST_CASE(every_parameter_has_exactly_one_owner) {
  BOOST_TEST(error_of({"app"}, {{"pool_size", "timeout_ms", "batch"}}) == "parameter 'policy' is set by no adapter");
  BOOST_TEST(error_of({"app", "db"}, {{"pool_size", "timeout_ms", "batch", "policy"}, {"pool_size"}}) ==
             "adapter 'db': parameter 'pool_size' is already set by adapter 'app'");
  BOOST_TEST(error_of({"app"}, {{"pool", "timeout_ms", "batch", "policy"}}) == "adapter 'app': unknown parameter 'pool'");
}

BOOST_AUTO_TEST_CASE(the_check_reports_every_break_adapter_by_adapter) {
  OwnershipCheck check({"pool", "batch", "policy"});
  const std::vector<std::string> first{"pool", "nope", "pool"};
  const auto breaks = check.add(first);
  BOOST_REQUIRE(breaks.size() == 2u);
  BOOST_TEST((breaks[0].kind == OwnershipBreak::Kind::unknown));
  BOOST_TEST(breaks[0].param == "nope");
  BOOST_TEST(breaks[0].position == 1u);
  BOOST_TEST((breaks[1].kind == OwnershipBreak::Kind::owned_twice)); // listed twice by the same adapter
  BOOST_TEST(breaks[1].first_owner == 0u);
  BOOST_TEST(breaks[1].position == 2u);

  const std::vector<std::string> second{"batch", "pool"};
  const auto more = check.add(second);
  BOOST_REQUIRE(more.size() == 1u);
  BOOST_TEST((more[0].kind == OwnershipBreak::Kind::owned_twice));
  BOOST_TEST(more[0].adapter == 1u);
  BOOST_TEST(more[0].first_owner == 0u);

  const auto unowned = check.unowned();
  BOOST_REQUIRE(unowned.size() == 1u);
  BOOST_TEST(unowned[0].param == "policy");
  BOOST_TEST(check.owners()[1].value_or(9) == 1u); // batch: the second adapter's
}

BOOST_AUTO_TEST_SUITE_END()
