#include <boost/test/unit_test.hpp>

#include <cmath>

#include <trimtab/core/evaluation.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(evaluation)

BOOST_AUTO_TEST_CASE(measurements_pool_into_a_mean_a_spread_and_a_standard_error) {
  Evaluation e;
  e.add(Observation{1.0, {-1.0}, false, 0.2}, 0);
  e.add(Observation::failure(), 4);
  e.add(Observation{3.0, {1.0}, false, 0.2}, 7);
  BOOST_TEST(e.measurements == 3u);
  BOOST_TEST(e.failures == 1u);
  BOOST_TEST(e.first_told == 0u);
  BOOST_TEST(e.last_told == 7u);
  const auto summary = e.summary();
  BOOST_TEST(summary.count == 2u);
  BOOST_TEST(summary.mean == 2.0);
  BOOST_TEST(summary.variance == 2.0);
  BOOST_TEST(e.value() == 2.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(*e.sem() == 0.2 / std::sqrt(2.0), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.constraint(0) == 0.0);
  BOOST_TEST(e.constraint(1) == 0.0); // never reported: holds
  BOOST_TEST(!e.feasible());          // it failed once
}

BOOST_AUTO_TEST_CASE(the_pooled_value_weighs_precise_measurements_more) {
  Evaluation e;
  e.add(Observation{1.0, {}, false, 0.1}, 0);
  e.add(Observation{4.0, {}, false, 0.2}, 1);
  // Weights 100 and 25.
  BOOST_TEST(e.value() == (100.0 * 1.0 + 25.0 * 4.0) / 125.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.summary().mean == 2.5);
  BOOST_TEST(*e.sem() == std::sqrt(1.0 / 125.0), boost::test_tools::tolerance(1e-12));
  // One measurement without a standard error: the plain mean, and no standard error to state.
  e.add(Observation{4.0, {}, false}, 2);
  BOOST_TEST(e.value() == 3.0);
  BOOST_TEST(!e.sem().has_value());
  BOOST_TEST(e.feasible());
}

BOOST_AUTO_TEST_CASE(merging_two_pools_equals_adding_one_by_one) {
  const std::vector<Observation> first{{2.0, {-1.0}, false, 0.1}, {2.6, {0.5}, false, 0.3}};
  const std::vector<Observation> second{{1.1, {-2.0}, false, 0.2}, Observation::failure(), {9.5, {-0.1}, false, 0.1}};
  Evaluation all, a, b;
  std::size_t ordinal = 0;
  for (const auto& o : first) {
    all.add(o, ordinal);
    a.add(o, ordinal++);
  }
  for (std::size_t i = 0; i < second.size(); ++i) {
    all.add(second[i], ordinal + i);
    b.add(second[i], i);
  }
  a.merge(b, ordinal);
  BOOST_TEST(a.measurements == all.measurements);
  BOOST_TEST(a.failures == all.failures);
  BOOST_TEST(a.first_told == all.first_told);
  BOOST_TEST(a.last_told == all.last_told);
  BOOST_TEST(a.summary().mean == all.summary().mean, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(a.summary().variance == all.summary().variance, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(a.value() == all.value(), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(*a.sem() == *all.sem(), boost::test_tools::tolerance(1e-12));
  BOOST_TEST(a.constraint(0) == all.constraint(0), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_history_keeps_one_evaluation_per_configuration_in_first_told_order) {
  EvaluationHistory history;
  const Point a{{Value{std::int64_t{1}}}}, b{{Value{std::int64_t{2}}}};
  BOOST_TEST(history.add(b, Observation{1.0, {}, false}) == 0u);
  BOOST_TEST(history.add(a, Observation{2.0, {}, false}) == 1u);
  BOOST_TEST(history.add(b, Observation{3.0, {}, false}) == 0u);
  BOOST_TEST(history.size() == 2u);
  BOOST_TEST(history.measurements() == 3u);
  BOOST_REQUIRE(history.find(b) != nullptr);
  BOOST_TEST(history.find(b)->value() == 2.0);
  BOOST_TEST(history.find(b)->last_told == 2u);
  BOOST_TEST(history.find(Point{{Value{std::int64_t{3}}}}) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
