#include <boost/test/unit_test.hpp>

#include <trimtab/core/running_config.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

using Kind = AdapterReading::Kind;

// The service space split as two adapters own it: "app" (pool_size, whose default is 20, and
// timeout_ms, which has none) and "cache" (batch and policy, neither with a default).
AdapterReading app(Settings settings) { return {{"pool_size", "timeout_ms"}, Kind::settings, std::move(settings), {}}; }
AdapterReading cache(Settings settings) { return {{"batch", "policy"}, Kind::settings, std::move(settings), {}}; }

const Settings app_runs{{"pool_size", std::int64_t{30}}, {"timeout_ms", 250.0}};
const Settings cache_runs{{"batch", 16.0}, {"policy", std::string("lfu")}};

} // namespace

BOOST_AUTO_TEST_SUITE(running_config)

BOOST_AUTO_TEST_CASE(every_adapter_read_back) {
  const auto space = test::service_space();
  const std::vector<AdapterReading> readings{app(app_runs), cache(cache_runs)};
  const auto running = running_config_from(space, readings);
  BOOST_TEST_REQUIRE(running.point.has_value(), running.error);
  BOOST_TEST(running.error.empty());
  BOOST_TEST(running.notes.empty());
  BOOST_TEST((*running.point == Point{{std::int64_t{30}, 250.0, 16.0, std::string("lfu")}}));
}

BOOST_AUTO_TEST_CASE(the_defaults_stand_in_for_an_adapter_that_cannot_read_back) {
  const auto space = Space({
      Param{"pool_size", IntRange{5, 100}, Value{std::int64_t{20}}, {}},
      Param{"timeout_ms", FloatRange{100.0, 5000.0, true}, Value{500.0}, {}},
      Param{"batch", OrdinalChoices{{4, 8, 16}}, {}, {}},
      Param{"policy", CategoricalChoices{{"lru", "lfu", "random"}}, {}, {}},
  });
  const std::vector<AdapterReading> readings{
      {{"pool_size", "timeout_ms"}, Kind::cannot_read, {}, "adapter 'app': no current command to read the running values with"},
      cache(cache_runs)};
  const auto running = running_config_from(space, readings);
  BOOST_TEST_REQUIRE(running.point.has_value(), running.error);
  BOOST_TEST((*running.point == Point{{std::int64_t{20}, 500.0, 16.0, std::string("lfu")}}));
  BOOST_TEST_REQUIRE(running.notes.size() == 1u);
  BOOST_TEST(running.notes[0] == "adapter 'app': no current command to read the running values with; taking the "
                                 "params' defaults as the running values");
}

BOOST_AUTO_TEST_CASE(a_param_without_a_default_behind_an_adapter_that_cannot_read_back_is_an_error) {
  const std::vector<AdapterReading> readings{
      {{"pool_size", "timeout_ms"}, Kind::cannot_read, {}, "adapter 'app': no current command to read the running values with"},
      cache(cache_runs)};
  const auto running = running_config_from(test::service_space(), readings);
  BOOST_TEST(!running.point.has_value());
  BOOST_TEST(running.error == "cannot read the running configuration: adapter 'app': no current command to read the "
                              "running values with; give param 'timeout_ms' a default, the value the service starts with");
}

BOOST_AUTO_TEST_CASE(a_failed_read_is_an_error_in_the_adapters_words) {
  const std::vector<AdapterReading> readings{app(app_runs),
                                             {{"batch", "policy"}, Kind::failed, {}, "adapter 'cache': connect: refused"}};
  const auto running = running_config_from(test::service_space(), readings);
  BOOST_TEST(!running.point.has_value());
  BOOST_TEST(running.error == "cannot read the running configuration: adapter 'cache': connect: refused");
}

BOOST_AUTO_TEST_CASE(values_that_are_no_configuration_of_the_space_are_an_error) {
  const auto space = test::service_space();
  const auto misfit = [&](Settings cache_says) {
    const std::vector<AdapterReading> readings{app(app_runs), cache(std::move(cache_says))};
    const auto running = running_config_from(space, readings);
    BOOST_TEST(!running.point.has_value());
    return running.error;
  };
  const std::string prefix = "the running configuration the adapters report does not fit the params: ";
  BOOST_TEST(misfit({{"batch", 12.0}, {"policy", std::string("lfu")}}) ==
             prefix + "param 'batch': '12' is not one of the choices");
  BOOST_TEST(misfit({{"batch", 16.0}}) == prefix + "param 'policy' is missing");
  BOOST_TEST(misfit({{"batch", 16.0}, {"policy", std::string("lfu")}, {"depth", std::int64_t{3}}}) ==
             prefix + "unknown parameter 'depth'");
}

BOOST_AUTO_TEST_SUITE_END()
