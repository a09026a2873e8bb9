#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>

#include <trimtab/core/space.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

// The SpaceError a single-parameter space raises, or a failed check when it builds.
SpaceError error_of(Param param) {
  try {
    Space space({std::move(param)});
  } catch (const SpaceError& e) {
    return e;
  }
  BOOST_FAIL("the space was accepted");
  throw; // unreachable
}

} // namespace

BOOST_AUTO_TEST_SUITE(space)

BOOST_AUTO_TEST_CASE(rejects_min_above_max) {
  const auto e = error_of(Param{"pool", IntRange{10, 5}, {}, {}});
  BOOST_TEST(e.param() == "pool");
  BOOST_TEST(e.field() == "min");
  BOOST_TEST(std::string(e.what()).find("param 'pool': min (10) must be below max (5)") != std::string::npos);
  BOOST_TEST(error_of(Param{"t", FloatRange{2.0, 1.0}, {}, {}}).field() == "min");
  BOOST_TEST(error_of(Param{"t", FloatRange{1.0, 1.0}, {}, {}}).field() == "min");
}

BOOST_AUTO_TEST_CASE(rejects_log_without_positive_min) {
  const auto e = error_of(Param{"t", FloatRange{0.0, 10.0, true}, {}, {}});
  BOOST_TEST(e.field() == "log");
  BOOST_TEST(std::string(e.what()).find("log needs min > 0") != std::string::npos);
  BOOST_TEST(error_of(Param{"n", IntRange{0, 10, 1, true}, {}, {}}).field() == "log");
  BOOST_TEST(error_of(Param{"n", IntRange{1, 9, 2, true}, {}, {}}).field() == "log");
}

BOOST_AUTO_TEST_CASE(rejects_default_outside_the_domain) {
  BOOST_TEST(error_of(Param{"p", IntRange{5, 100}, Value{std::int64_t{101}}, {}}).field() == "default");
  BOOST_TEST(error_of(Param{"p", IntRange{0, 100, 10}, Value{std::int64_t{15}}, {}}).field() == "default");
  BOOST_TEST(error_of(Param{"p", IntRange{5, 100}, Value{20.0}, {}}).field() == "default"); // not an int
  BOOST_TEST(error_of(Param{"t", FloatRange{1.0, 2.0}, Value{2.5}, {}}).field() == "default");
  BOOST_TEST(error_of(Param{"b", OrdinalChoices{{4, 8}}, Value{6.0}, {}}).field() == "default");
  const auto e = error_of(Param{"c", CategoricalChoices{{"lru", "lfu"}}, Value{std::string("fifo")}, {}});
  BOOST_TEST(e.field() == "default");
  BOOST_TEST(std::string(e.what()).find("'fifo' is not one of the choices") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rejects_bad_choices_and_steps) {
  BOOST_TEST(error_of(Param{"b", OrdinalChoices{{8, 4}}, {}, {}}).field() == "choices");
  BOOST_TEST(error_of(Param{"b", OrdinalChoices{{4}}, {}, {}}).field() == "choices");
  BOOST_TEST(error_of(Param{"b", OrdinalChoices{{4, NAN}}, {}, {}}).field() == "choices");
  BOOST_TEST(error_of(Param{"c", CategoricalChoices{{"a", "a"}}, {}, {}}).field() == "choices");
  BOOST_TEST(error_of(Param{"c", CategoricalChoices{{"a", ""}}, {}, {}}).field() == "choices");
  const auto e = error_of(Param{"p", IntRange{5, 100, 10}, {}, {}});
  BOOST_TEST(e.field() == "max");
  BOOST_TEST(std::string(e.what()).find("use 95 or 105") != std::string::npos);
  BOOST_TEST(error_of(Param{"p", IntRange{0, 10, 0}, {}, {}}).field() == "step");
  BOOST_TEST(error_of(Param{"b", OrdinalChoices{{4, 8}}, {}, std::size_t{3}}).field() == "grid_points");
}

BOOST_AUTO_TEST_CASE(rejects_duplicate_names_and_empty_spaces) {
  BOOST_CHECK_THROW(Space({Param{"a", IntRange{1, 2}, {}, {}}, Param{"a", IntRange{1, 3}, {}, {}}}), SpaceError);
  BOOST_CHECK_THROW(Space(std::vector<Param>{}), SpaceError);
}

BOOST_AUTO_TEST_CASE(dimensions_count_one_hot_labels) {
  const auto s = test::service_space();
  BOOST_TEST(s.size() == 4u);
  BOOST_TEST(s.dimensions() == 6u); // 1 + 1 + 1 + 3 labels
  BOOST_TEST(s.offset(3) == 3u);
  BOOST_TEST(*s.find("batch") == 2u);
  BOOST_TEST(!s.find("nope"));
  BOOST_TEST(!s.cardinality()); // a float range
  BOOST_TEST(*test::small_discrete_space().cardinality() == 24u);
}

BOOST_AUTO_TEST_CASE(implied_defaults_sit_in_the_middle) {
  const auto s = test::service_space();
  const auto& d = s.default_point();
  BOOST_TEST(std::get<std::int64_t>(d.values[0]) == 20); // written
  BOOST_TEST(std::get<double>(d.values[1]) == std::sqrt(100.0 * 5000.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(std::get<double>(d.values[2]) == 8.0);
  BOOST_TEST(std::get<std::string>(d.values[3]) == "lru");
}

BOOST_AUTO_TEST_CASE(every_discrete_value_round_trips) {
  const std::vector<Param> params{
      Param{"i", IntRange{5, 100}, {}, {}},         Param{"s", IntRange{-30, 30, 6}, {}, {}},
      Param{"l", IntRange{1, 1000, 1, true}, {}, {}}, Param{"o", OrdinalChoices{{0.5, 1, 2, 64}}, {}, {}},
      Param{"c", CategoricalChoices{{"lru", "lfu", "random"}}, {}, {}}};
  for (const auto& param : params) {
    for (const auto& value : all_values(param)) {
      std::vector<double> unit(encoded_width(param));
      Space::encode_value(param, value, unit);
      for (double u : unit) BOOST_TEST((u >= 0.0 && u <= 1.0));
      BOOST_TEST(format_value(Space::decode_value(param, unit)) == format_value(value), param.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(floats_round_trip_linear_and_log) {
  const auto s = test::service_space();
  for (double v : {100.0, 123.456, 999.0, 4999.999, 5000.0}) {
    Point p = s.default_point();
    p.values[1] = v;
    const auto back = s.decode(s.encode(p));
    BOOST_TEST(std::get<double>(back.values[1]) == v, boost::test_tools::tolerance(1e-12));
  }
  const Param linear{"x", FloatRange{-1.0, 3.0}, {}, {}};
  std::vector<double> unit(1);
  Space::encode_value(linear, Value{0.0}, unit);
  BOOST_TEST(unit[0] == 0.25);
}

BOOST_AUTO_TEST_CASE(each_int_value_owns_an_equal_slice) {
  // Uniform samples of [0, 1] must pick every value equally often: no half-width end values.
  const Param p{"i", IntRange{0, 3}, {}, {}};
  std::map<std::int64_t, int> hits;
  for (int k = 0; k < 400; ++k) {
    const double u = (k + 0.5) / 400.0;
    ++hits[std::get<std::int64_t>(Space::decode_value(p, std::span<const double>(&u, 1)))];
  }
  BOOST_TEST(hits.size() == 4u);
  for (const auto& [value, count] : hits) BOOST_TEST(count == 100, "value " << value);
}

BOOST_AUTO_TEST_CASE(log_ints_spread_over_orders_of_magnitude) {
  const Param p{"pool", IntRange{1, 1000, 1, true}, {}, {}};
  const double half = 0.5;
  const auto middle = std::get<std::int64_t>(Space::decode_value(p, std::span<const double>(&half, 1)));
  BOOST_TEST((middle >= 30 && middle <= 33)); // sqrt(1001) ~ 31.6, not 500
}

BOOST_AUTO_TEST_CASE(categoricals_decode_by_largest_coordinate) {
  const Param p{"c", CategoricalChoices{{"a", "b", "c"}}, {}, {}};
  const std::vector<double> unit{0.2, 0.9, 0.4};
  BOOST_TEST(std::get<std::string>(Space::decode_value(p, unit)) == "b");
  const std::vector<double> tie{0.7, 0.7, 0.1};
  BOOST_TEST(std::get<std::string>(Space::decode_value(p, tie)) == "a");
}

BOOST_AUTO_TEST_CASE(decode_clamps_and_checks_sizes) {
  const auto s = test::service_space();
  const std::vector<double> outside{-3.0, 7.0, NAN, 2.0, 0.0, 0.0};
  const auto p = s.decode(outside);
  BOOST_TEST(!s.check(p));
  BOOST_TEST(std::get<std::int64_t>(p.values[0]) == 5);
  BOOST_TEST(std::get<double>(p.values[1]) == 5000.0);
  BOOST_TEST(std::get<double>(p.values[2]) == 4.0);
  BOOST_CHECK_THROW((void)s.decode(std::vector<double>(5, 0.5)), std::invalid_argument);
  Point wrong = s.default_point();
  wrong.values[0] = std::int64_t{500};
  BOOST_TEST(*s.check(wrong) == "param 'pool_size': 500 is outside [5, 100]");
  BOOST_CHECK_THROW((void)s.encode(wrong), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
