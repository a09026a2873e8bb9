#include <boost/test/unit_test.hpp>

#include <trimtab/core/duration_text.hpp>

using namespace trimtab;
using namespace std::chrono_literals;

namespace {

std::string duration_error(std::string_view text) {
  const auto result = parse_duration(text);
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(duration_text)

BOOST_AUTO_TEST_CASE(durations_in_every_unit_and_compound) {
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("250ms")) == 250ms));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("30s")) == 30s));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("5m")) == 5min));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("1h")) == 1h));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("1.5s")) == 1500ms));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("1m30s")) == 90s));
  BOOST_TEST((std::get<std::chrono::milliseconds>(parse_duration("1h2m3s4ms")) == 3723004ms));
}

BOOST_AUTO_TEST_CASE(durations_that_could_be_misread_are_refused) {
  BOOST_TEST(duration_error("30") == "'30' has no unit: write 30s or 30ms (a bare number could mean either)");
  BOOST_TEST(duration_error("30sec") == "'30sec': unknown unit 'sec' (use h, m, s or ms)");
  BOOST_TEST(duration_error("30s1m") == "'30s1m': units must go from largest to smallest, as in 1m30s");
  BOOST_TEST(duration_error("1s1s") == "'1s1s': units must go from largest to smallest, as in 1m30s");
  BOOST_TEST(duration_error("-5s") == "'-5s' is not a duration such as 30s, 5m or 250ms");
  BOOST_TEST(duration_error("s") == "'s' is not a duration such as 30s, 5m or 250ms");
  BOOST_TEST(duration_error("") == "a duration is empty; write it like 30s, 5m or 250ms");
  BOOST_TEST(duration_error("99999999999999h") == "'99999999999999h' is too long a duration");
}

BOOST_AUTO_TEST_SUITE_END()
