#include <boost/test/unit_test.hpp>

#include <boost/json.hpp>

#include <trimtab/core/json_path.hpp>

using namespace trimtab;

namespace {

const auto document = boost::json::parse(R"({
  "stats": {"pool": {"busy": 7, "idle": 3.5, "name": "db"}, "up": true},
  "workers": [{"queue": 4}, {"queue": 9}],
  "caches": {"l1.hits": 1200}
})");

std::string read_error(std::string_view path) {
  const auto result = JsonPath(path).read(document);
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "read";
}

std::size_t parse_error_column(std::string_view path) {
  try {
    JsonPath{path};
  } catch (const JsonPathError& e) {
    return e.column();
  }
  return 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_path)

BOOST_AUTO_TEST_CASE(reads_numbers_by_key_index_and_quoted_key) {
  BOOST_TEST(std::get<double>(JsonPath("stats.pool.busy").read(document)) == 7.0);
  BOOST_TEST(std::get<double>(JsonPath("stats.pool.idle").read(document)) == 3.5);
  BOOST_TEST(std::get<double>(JsonPath("workers[1].queue").read(document)) == 9.0);
  BOOST_TEST(std::get<double>(JsonPath("caches[\"l1.hits\"]").read(document)) == 1200.0);
  BOOST_TEST(std::get<double>(JsonPath("stats.up").read(document)) == 1.0);
}

BOOST_AUTO_TEST_CASE(names_the_step_that_failed) {
  BOOST_TEST(read_error("stats.pools.busy") == "'pools' is not in the object at 'stats'");
  BOOST_TEST(read_error("stats.pool.name") == "'stats.pool.name' is a string, not a number");
  BOOST_TEST(read_error("stats.pool") == "'stats.pool' is an object, not a number");
  BOOST_TEST(read_error("workers[2].queue") == "index 2 is past the end of the array at 'workers' (2 elements)");
  BOOST_TEST(read_error("stats[0]") == "expected an array at 'stats'");
  BOOST_TEST(read_error("workers.queue") == "expected an object at 'workers'");
  BOOST_TEST(read_error("missing") == "'missing' is not in the object at the top");
}

BOOST_AUTO_TEST_CASE(malformed_paths_point_at_the_column) {
  BOOST_TEST(parse_error_column("") == 1u);
  BOOST_TEST(parse_error_column("stats..busy") == 7u);
  BOOST_TEST(parse_error_column(".stats") == 1u);
  BOOST_TEST(parse_error_column("stats.") == 6u);
  BOOST_TEST(parse_error_column("workers[0") == 8u);
  BOOST_TEST(parse_error_column("workers[x]") == 9u);
  BOOST_TEST(parse_error_column("workers[0]queue") == 11u);
  BOOST_TEST(parse_error_column("workers[]") == 9u);
}

BOOST_AUTO_TEST_SUITE_END()
