#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

#include <boost/json.hpp>

#include <trimtab/core/json_text.hpp>
#include <trimtab/core/settings.hpp>

using namespace trimtab;
namespace json = boost::json;

namespace {

Space pool_timeout_mode() {
  return Space({Param{"pool", IntRange{1, 64}, {}, {}}, Param{"timeout_ms", FloatRange{0.1, 50.0}, {}, {}},
                Param{"mode", CategoricalChoices{{"lifo", "fifo"}}, {}, {}}});
}

std::string reason_of(const Space& space, const Settings& settings) {
  try {
    (void)point_of(space, settings);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(settings)

// A whole float is held as the integer the journal writes, so settings from the loop and settings
// read back from its journal compare equal, and the point they name is the same.
BOOST_AUTO_TEST_CASE(settings_read_back_from_json_equal_those_written) {
  const auto space = pool_timeout_mode();
  for (const Point& point : {Point{{Value{std::int64_t{8}}, Value{5.0}, Value{std::string("fifo")}}},
                             Point{{Value{std::int64_t{1}}, Value{0.339}, Value{std::string("lifo")}}}}) {
    const auto settings = settings_of(space, point);
    const auto text = to_json_text(settings_to_json(settings));
    const auto again = settings_from_json(json::parse(text));
    BOOST_CHECK(again == settings);
    BOOST_CHECK(point_of(space, again) == point);
  }
  const auto whole = settings_of(space, Point{{Value{std::int64_t{8}}, Value{5.0}, Value{std::string("fifo")}}});
  BOOST_CHECK(std::holds_alternative<std::int64_t>(whole[1].second));
  BOOST_CHECK_EQUAL(to_json_text(settings_to_json(whole)), R"({"pool":8,"timeout_ms":5,"mode":"fifo"})");
}

BOOST_AUTO_TEST_CASE(settings_that_do_not_fit_the_space_are_named) {
  const auto space = pool_timeout_mode();
  BOOST_CHECK_EQUAL(reason_of(space, {{"pool", Value{std::int64_t{8}}}, {"timeout_ms", Value{5.0}}}), "param 'mode' is missing");
  BOOST_CHECK_EQUAL(reason_of(space, {{"pool", Value{std::int64_t{8}}},
                                      {"timeout_ms", Value{5.0}},
                                      {"mode", Value{std::string("fifo")}},
                                      {"depth", Value{std::int64_t{2}}}}),
                    "unknown parameter 'depth'");
  BOOST_CHECK_NE(reason_of(space, {{"pool", Value{std::int64_t{99}}}, {"timeout_ms", Value{5.0}}, {"mode", Value{std::string("fifo")}}})
                     .find("pool"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(reason_of(space, {{"pool", Value{2.5}}, {"timeout_ms", Value{5.0}}, {"mode", Value{std::string("fifo")}}}),
                    "param 'pool': expected a whole number");
}

BOOST_AUTO_TEST_CASE(only_numbers_and_strings_read) {
  BOOST_CHECK_THROW((void)settings_from_json(json::parse("[1, 2]")), std::invalid_argument);
  try {
    (void)settings_from_json(json::parse(R"({"pool": 8, "mode": null})"));
    BOOST_FAIL("no error");
  } catch (const std::invalid_argument& e) {
    BOOST_CHECK_EQUAL(std::string(e.what()), "param 'mode': expected a number or a string");
  }
}

BOOST_AUTO_TEST_SUITE_END()
