#include <boost/test/unit_test.hpp>

#include <set>

#include <trimtab/core/random_solver.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(random_solver)

BOOST_AUTO_TEST_CASE(same_seed_same_proposals) {
  RandomSolver a(test::service_space(), {Direction::minimize, 7});
  RandomSolver b(test::service_space(), {Direction::minimize, 7});
  RandomSolver c(test::service_space(), {Direction::minimize, 8});
  int differing = 0;
  for (int i = 0; i < 50; ++i) {
    const auto pa = *a.ask(), pb = *b.ask(), pc = *c.ask();
    BOOST_TEST((pa == pb));
    differing += pa == pc ? 0 : 1;
  }
  BOOST_TEST(differing > 40);
}

BOOST_AUTO_TEST_CASE(first_n_proposals_cover_every_value_of_an_n_valued_int) {
  // Low discrepancy, not luck: 16 uniform draws would miss about 6 of 16 values.
  Space space({Param{"n", IntRange{0, 15}, {}, {}}});
  for (std::uint64_t seed : {1, 2, 3}) {
    RandomSolver solver(space, {Direction::minimize, seed});
    std::set<std::int64_t> seen;
    for (int i = 0; i < 16; ++i) seen.insert(std::get<std::int64_t>(solver.ask()->values[0]));
    BOOST_TEST(seen.size() == 16u);
  }
}

BOOST_AUTO_TEST_CASE(first_64_points_fill_an_8_by_8_grid) {
  Space space({Param{"x", FloatRange{0.0, 1.0}, {}, {}}, Param{"y", FloatRange{0.0, 1.0}, {}, {}}});
  RandomSolver solver(space, {Direction::minimize, 42});
  std::set<std::pair<int, int>> cells;
  for (int i = 0; i < 64; ++i) {
    const auto p = *solver.ask();
    cells.emplace(int(std::get<double>(p.values[0]) * 8), int(std::get<double>(p.values[1]) * 8));
  }
  BOOST_TEST(cells.size() == 64u);
}

BOOST_AUTO_TEST_CASE(exhausts_a_finite_space_without_repeats) {
  RandomSolver solver(test::small_discrete_space(), {Direction::minimize, 3});
  std::set<Point> seen;
  for (int i = 0; i < 24; ++i) {
    const auto p = solver.ask();
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(seen.insert(*p).second);
  }
  BOOST_TEST(!solver.ask());
}

BOOST_AUTO_TEST_CASE(never_proposes_a_told_configuration) {
  RandomSolver solver(test::small_discrete_space(), {Direction::minimize, 5});
  std::vector<Trial> history;
  RandomSolver other(test::small_discrete_space(), {Direction::minimize, 5});
  for (int i = 0; i < 20; ++i) history.push_back(Trial{*other.ask(), Observation::failure()});
  solver.seed(history);
  std::set<Point> told;
  for (const auto& t : history) told.insert(t.point);
  int asked = 0;
  while (auto p = solver.ask()) {
    BOOST_TEST(!told.contains(*p));
    ++asked;
  }
  BOOST_TEST(asked == 4);
}

BOOST_AUTO_TEST_CASE(proposals_are_configurations_of_the_space) {
  RandomSolver solver(test::service_space(), {Direction::minimize, 11});
  for (int i = 0; i < 200; ++i) BOOST_TEST(!solver.space().check(*solver.ask()));
}

BOOST_AUTO_TEST_SUITE_END()
