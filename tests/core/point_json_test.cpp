#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include <trimtab/core/json_text.hpp>
#include <trimtab/core/point_json.hpp>

#include "test_spaces.hpp"

using namespace trimtab;
namespace json = boost::json;

namespace {

std::string error_of(const Space& space, std::string_view text) {
  try {
    (void)point_from_json(space, json::parse(text));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(point_json)

BOOST_AUTO_TEST_CASE(writes_params_in_space_order_with_natural_types) {
  const auto space = test::service_space();
  Point p = space.default_point();
  p.values[1] = 250.5;
  BOOST_TEST(to_json_text(point_to_json(space, p)) ==
             R"({"pool_size":20,"timeout_ms":250.5,"batch":8,"policy":"lru"})");
}

BOOST_AUTO_TEST_CASE(reads_back_what_it_writes) {
  const auto space = test::service_space();
  Point p = space.default_point();
  p.values[1] = 1234.5678;
  p.values[3] = std::string("random");
  BOOST_TEST((point_from_json(space, point_to_json(space, p)) == p));
}

BOOST_AUTO_TEST_CASE(converts_numbers_only_where_nothing_is_lost) {
  const auto space = test::service_space();
  const auto p = point_from_json(space, json::parse(R"({"pool_size":30.0,"timeout_ms":200,"batch":16,"policy":"lfu"})"));
  BOOST_TEST(std::get<std::int64_t>(p.values[0]) == 30);
  BOOST_TEST(std::get<double>(p.values[1]) == 200.0);
  BOOST_TEST(std::get<double>(p.values[2]) == 16.0);
  BOOST_TEST(error_of(space, R"({"pool_size":30.5,"timeout_ms":200,"batch":16,"policy":"lfu"})") ==
             "param 'pool_size': expected a whole number");
}

BOOST_AUTO_TEST_CASE(names_the_parameter_at_fault) {
  const auto space = test::service_space();
  BOOST_TEST(error_of(space, R"({"pool_size":30,"timeout_ms":200,"batch":16})") == "param 'policy' is missing");
  BOOST_TEST(error_of(space, R"({"pool_size":30,"timeout_ms":200,"batch":16,"policy":"lfu","x":1})") ==
             "unknown parameter 'x'");
  BOOST_TEST(error_of(space, R"({"pool_size":30,"timeout_ms":200,"batch":12,"policy":"lfu"})") ==
             "param 'batch': '12' is not one of the choices");
  BOOST_TEST(error_of(space, R"({"pool_size":30,"timeout_ms":"fast","batch":16,"policy":"lfu"})") ==
             "param 'timeout_ms': expected a number");
  BOOST_TEST(error_of(space, "[1,2]") == "params must be a JSON object");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(writes_numbers_as_people_do) {
  const auto value = json::parse(R"({"a":[0.001,1e21,5.0,-2.5,7],"s":"q\"uote","n":null,"t":true})");
  BOOST_TEST(to_json_text(value) == R"({"a":[0.001,1e+21,5,-2.5,7],"s":"q\"uote","n":null,"t":true})");
  BOOST_TEST(json::parse(to_json_text(json::value(0.1))).as_double() == 0.1);
  BOOST_TEST(to_json_text(json::value(std::nan(""))) == "null");
}

BOOST_AUTO_TEST_SUITE_END()
