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
  BOOST_TEST(solver->best()->observation.value == 10.0);
  BOOST_TEST(solver->history().size() == 3u);
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
  BOOST_TEST(solver->history().size() == 2u);
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
}

BOOST_AUTO_TEST_CASE(seed_taking_the_trials_over_records_what_a_copy_records) {
  const std::vector<Trial> history{Trial{point_with_a(1), Observation{1.0, {-1.0}, false}},
                                   Trial{point_with_a(2), Observation::failure()},
                                   Trial{point_with_a(1), Observation{0.5, {-2.0}, false, 0.1}}};
  auto copied = make_solver("random", test::small_discrete_space(), {});
  copied->seed(history);
  auto moved = make_solver("random", test::small_discrete_space(), {});
  auto handed_over = history;
  moved->seed(std::move(handed_over));
  BOOST_REQUIRE(moved->history().size() == copied->history().size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    BOOST_TEST((moved->history()[i].point == history[i].point));
    BOOST_TEST(moved->history()[i].observation.value == history[i].observation.value);
    BOOST_TEST(moved->history()[i].observation.failed == history[i].observation.failed);
    BOOST_TEST(moved->history()[i].observation.constraints == history[i].observation.constraints);
    BOOST_TEST((moved->history()[i].observation.sem == history[i].observation.sem));
  }
  BOOST_TEST(moved->best() == &moved->history()[2]);
  BOOST_TEST(copied->best() == &copied->history()[2]);
}

BOOST_AUTO_TEST_CASE(seed_taking_the_trials_over_is_all_or_nothing_and_leaves_them_when_it_refuses) {
  auto solver = make_solver("grid", test::small_discrete_space(), {});
  std::vector<Trial> history{Trial{point_with_a(1), Observation{1.0, {}, false}},
                             Trial{point_with_a(7), Observation{2.0, {}, false}}};
  try {
    solver->seed(std::move(history));
    BOOST_FAIL("a bad record was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("history record 2") != std::string::npos);
  }
  BOOST_TEST(solver->history().empty());
  BOOST_REQUIRE(history.size() == 2u); // NOLINT(bugprone-use-after-move): refused, so nothing was taken
  BOOST_TEST((history[0].point == point_with_a(1)));
}

BOOST_AUTO_TEST_CASE(make_solver_names_the_known_kinds) {
  try {
    (void)make_solver("annealing", test::small_discrete_space(), {});
    BOOST_FAIL("an unknown kind was accepted");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "unknown solver 'annealing' (known: bayes, grid, random)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
