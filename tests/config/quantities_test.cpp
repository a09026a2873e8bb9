#include <boost/test/unit_test.hpp>

#include <trimtab/config/quantities.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(quantities)

BOOST_AUTO_TEST_CASE(amounts_absolute_and_relative) {
  const auto ten = std::get<Amount>(parse_amount("10"));
  BOOST_TEST(!ten.percent);
  BOOST_TEST(ten.around(500) == 10.0);
  const auto fifth = std::get<Amount>(parse_amount("20%"));
  BOOST_TEST(fifth.percent);
  BOOST_TEST(fifth.around(1200) == 240.0);
  BOOST_TEST(fifth.around(-50) == 10.0);
  BOOST_TEST(std::get<Amount>(parse_amount("2.5")).value == 2.5);
  BOOST_TEST(std::get<std::string>(parse_amount("20 %")) == "'20 %' is not an amount such as 10 or 20%");
  BOOST_TEST(std::get<std::string>(parse_amount("-3")) == "'-3' is negative; a change limit is a size");
  BOOST_TEST(std::get<std::string>(parse_amount("lots")) == "'lots' is not an amount such as 10 or 20%");
  BOOST_TEST(std::get<std::string>(parse_amount("%")) == "'%' is not an amount such as 10 or 20%");
}

BOOST_AUTO_TEST_SUITE_END()
