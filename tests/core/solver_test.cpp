#include <boost/test/unit_test.hpp>

#include <cmath>

#include <trimtab/core/grid_solver.hpp>
#include <trimtab/core/make_solver.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

Point point_with_a(std::int64_t a) {
  return Point{{Value{a}, Value{1.0}, Value{std::string("x")}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(solver)

BOOST_AUTO_TEST_CASE(best_follows_the_direction) {
  for (auto direction : {Direction::minimize, Direction::maximize}) {
    auto solver = make_solver("grid", test::small_discrete_space(), {direction, 0});
    solver->tell(point_with_a(1), Observation{5.0, {}, false});
    solver->tell(point_with_a(2), Observation{3.0, {}, false});
    solver->tell(point_with_a(3), Observation{4.0, {}, false});
    const auto expected = direction == Direction::minimize ? 2 : 1;
    BOOST_TEST(std::get<std::int64_t>(solver->best()->point.values[0]) == expected);
  }
}

BOOST_AUTO_TEST_CASE(failed_and_infeasible_trials_are_never_best) {
  auto solver = make_solver("random", test::small_discrete_space(), {Direction::minimize, 0});
  solver->tell(point_with_a(1), Observation::failure());
  BOOST_TEST(solver->best() == nullptr);
  solver->tell(point_with_a(2), Observation{-100.0, {0.5}, false}); // constraint broken
  BOOST_TEST(solver->best() == nullptr);
  solver->tell(point_with_a(3), Observation{10.0, {-1.0, 0.0}, false}); // on the boundary holds
  BOOST_TEST(solver->best()->value() == 10.0);
  BOOST_TEST(solver->history().size() == 3u);
  // A configuration that failed once is not deployed, however well it measured otherwise.
  solver->tell(point_with_a(1), Observation{1.0, {-1.0, -1.0}, false});
  BOOST_TEST((solver->best()->point == point_with_a(3)));
}

BOOST_AUTO_TEST_CASE(tell_rejects_what_it_cannot_learn_from) {
  auto solver = make_solver("grid", test::small_discrete_space(), {});
  BOOST_CHECK_THROW(solver->tell(point_with_a(9), Observation{1.0, {}, false}), std::invalid_argument);
  BOOST_CHECK_THROW(solver->tell(point_with_a(1), Observation{NAN, {}, false}), std::invalid_argument);
  BOOST_CHECK_THROW(solver->tell(point_with_a(1), Observation{1.0, {INFINITY}, false}), std::invalid_argument);
  BOOST_CHECK_THROW(solver->tell(point_with_a(1), Observation{1.0, {}, false, -0.1}), std::invalid_argument);
  BOOST_CHECK_THROW(solver->tell(point_with_a(1), Observation{1.0, {}, false, INFINITY}), std::invalid_argument);
  BOOST_CHECK_THROW(solver->tell(point_with_a(1), Observation{1.0, {}, false, NAN}), std::invalid_argument);
  solver->tell(point_with_a(1), Observation{NAN, {}, true}); // a failure has no value to check
  solver->tell(point_with_a(1), Observation{1.0, {}, false, 0.0}); // 0: exact
  BOOST_TEST(solver->measurements() == 2u);
  BOOST_REQUIRE(solver->history().size() == 1u);
  BOOST_TEST(solver->history()[0].failures == 1u);
}

BOOST_AUTO_TEST_CASE(best_is_the_best_pooled_value_not_the_luckiest_measurement) {
  auto solver = make_solver("random", test::small_discrete_space(), {Direction::minimize, 0});
  solver->tell(point_with_a(1), Observation{1.0, {}, false});
  solver->tell(point_with_a(2), Observation{3.0, {}, false});
  BOOST_TEST((solver->best()->point == point_with_a(1)));
  // Measured again, the first was lucky: 5 on average.
  solver->tell(point_with_a(1), Observation{9.0, {}, false});
  BOOST_TEST((solver->best()->point == point_with_a(2)));
  BOOST_TEST(solver->history()[0].value() == 5.0);
  // A re-measurement can also break a configuration's constraint on average.
  solver->tell(point_with_a(3), Observation{2.0, {-1.0}, false});
  BOOST_TEST((solver->best()->point == point_with_a(3)));
  solver->tell(point_with_a(3), Observation{2.0, {3.0}, false});
  BOOST_TEST((solver->best()->point == point_with_a(2)));
}

BOOST_AUTO_TEST_CASE(seed_is_all_or_nothing) {
  auto solver = make_solver("grid", test::small_discrete_space(), {});
  const std::vector<Trial> history{Trial{point_with_a(1), Observation{1.0, {}, false}},
                                   Trial{point_with_a(7), Observation{2.0, {}, false}}};
  try {
    solver->seed(history);
    BOOST_FAIL("a bad record was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("history record 2") != std::string::npos);
  }
  BOOST_TEST(solver->history().empty());
  BOOST_TEST(solver->measurements() == 0u);
}

BOOST_AUTO_TEST_CASE(seeding_pooled_measurements_records_what_telling_them_records) {
  const std::vector<Trial> trials{Trial{point_with_a(1), Observation{1.0, {-1.0}, false, 0.2}},
                                  Trial{point_with_a(2), Observation::failure()},
                                  Trial{point_with_a(1), Observation{0.5, {-2.0}, false, 0.1}},
                                  Trial{point_with_a(3), Observation{0.7, {-0.5}, false, 0.1}}};
  // Both solvers were told one window before; the seeded ones count after it.
  auto told = make_solver("random", test::small_discrete_space(), {});
  auto seeded = make_solver("random", test::small_discrete_space(), {});
  for (auto* solver : {told.get(), seeded.get()}) solver->tell(point_with_a(3), Observation{0.9, {-0.5}, false, 0.1});
  EvaluationHistory pooled;
  for (const auto& trial : trials) {
    told->tell(trial.point, trial.observation);
    pooled.add(trial.point, trial.observation);
  }
  seeded->seed(pooled);
  BOOST_TEST(seeded->measurements() == told->measurements());
  BOOST_REQUIRE(seeded->history().size() == told->history().size());
  for (std::size_t i = 0; i < told->history().size(); ++i) {
    const auto& a = told->history()[i];
    const auto& b = seeded->history()[i];
    BOOST_TEST((a.point == b.point));
    BOOST_TEST(a.measurements == b.measurements);
    BOOST_TEST(a.failures == b.failures);
    BOOST_TEST(a.first_told == b.first_told);
    BOOST_TEST(a.last_told == b.last_told);
    BOOST_TEST(a.value() == b.value(), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(a.summary().variance == b.summary().variance, boost::test_tools::tolerance(1e-12));
    BOOST_TEST((a.sem() == b.sem()));
    BOOST_TEST(a.constraints() == b.constraints());
  }
  BOOST_TEST((seeded->best()->point == told->best()->point));
  BOOST_TEST((seeded->best()->point == point_with_a(1))); // 0.6 pooled, against 0.8 and a failure
}

BOOST_AUTO_TEST_CASE(seeding_pooled_measurements_is_all_or_nothing) {
  auto solver = make_solver("grid", test::small_discrete_space(), {});
  EvaluationHistory pooled;
  pooled.add(point_with_a(1), Observation{1.0, {}, false});
  pooled.add(point_with_a(7), Observation{2.0, {}, false}); // a = 7 is not in the space
  BOOST_CHECK_THROW(solver->seed(pooled), std::invalid_argument);
  BOOST_TEST(solver->history().empty());
  BOOST_TEST(solver->measurements() == 0u);
}

BOOST_AUTO_TEST_CASE(make_solver_names_the_known_kinds) {
  try {
    (void)make_solver("annealing", test::small_discrete_space(), {});
    BOOST_FAIL("an unknown kind was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "unknown solver 'annealing' (known: bayes, grid or random)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
