#include <boost/test/unit_test.hpp>

#include <set>

#include <trimtab/core/grid_solver.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

std::vector<Point> drain(Solver& solver) {
  std::vector<Point> points;
  while (auto p = solver.ask()) points.push_back(*p);
  return points;
}

} // namespace

BOOST_AUTO_TEST_SUITE(grid_solver)

BOOST_AUTO_TEST_CASE(starts_with_the_default_configuration) {
  GridSolver solver(test::service_space(), {});
  BOOST_TEST((*solver.ask() == solver.space().default_point()));
}

BOOST_AUTO_TEST_CASE(walks_every_point_once_then_finishes) {
  GridSolver solver(test::small_discrete_space(), {});
  BOOST_TEST(solver.grid_size() == 24u);
  const auto points = drain(solver);
  BOOST_TEST(points.size() == 24u);
  BOOST_TEST(std::set<Point>(points.begin(), points.end()).size() == 24u);
  BOOST_TEST(!solver.ask()); // stays finished
}

BOOST_AUTO_TEST_CASE(values_are_ordered_by_distance_from_the_default) {
  GridSolver solver(test::service_space(), {});
  // pool_size 5..100 on 5 grid points: 5, 29, 53, 76, 100, nearest to the default 20 first.
  std::vector<std::int64_t> pools;
  for (const auto& v : solver.grid_values(0)) pools.push_back(std::get<std::int64_t>(v));
  BOOST_TEST(pools == (std::vector<std::int64_t>{29, 5, 53, 76, 100}), boost::test_tools::per_element());
  // The default batch 8 first, then its neighbours.
  BOOST_TEST(std::get<double>(solver.grid_values(2).front()) == 8.0);
  BOOST_TEST(std::get<std::string>(solver.grid_values(3).front()) == "lru");
  // The second proposal differs from the default in one parameter only: the nearest grid value.
  (void)solver.ask();
  const auto second = *solver.ask();
  BOOST_TEST(std::get<std::int64_t>(second.values[0]) == 29);
  BOOST_TEST((second.values[2] == solver.space().default_point().values[2]));
}

BOOST_AUTO_TEST_CASE(off_grid_default_comes_on_top_of_the_grid) {
  GridSolver solver(test::service_space(), {});
  BOOST_TEST(solver.grid_size() == 5u * 5u * 3u * 3u);
  BOOST_TEST(drain(solver).size() == solver.grid_size() + 1); // pool_size 20 is not a grid value
}

BOOST_AUTO_TEST_CASE(float_grid_points_include_both_ends_on_a_log_scale) {
  Space space({Param{"t", FloatRange{1.0, 10000.0, true}, {}, std::size_t{5}}});
  GridSolver solver(space, {});
  std::set<double> values;
  for (const auto& v : solver.grid_values(0)) values.insert(std::get<double>(v));
  const std::set<double> expected{1.0, 10.0, 100.0, 1000.0, 10000.0};
  BOOST_TEST(values.size() == 5u);
  auto e = expected.begin();
  for (double v : values) BOOST_TEST(v == *e++, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(one_grid_point_holds_a_parameter_at_its_default) {
  Space space({Param{"t", FloatRange{0.0, 1.0}, Value{0.3}, std::size_t{1}}, Param{"c", CategoricalChoices{{"a", "b"}}, {}, {}}});
  GridSolver solver(space, {});
  const auto points = drain(solver);
  BOOST_TEST(points.size() == 2u);
  for (const auto& p : points) BOOST_TEST(std::get<double>(p.values[0]) == 0.3);
}

BOOST_AUTO_TEST_CASE(skips_configurations_told_from_elsewhere) {
  GridSolver solver(test::small_discrete_space(), {});
  GridSolver reference(test::small_discrete_space(), {});
  std::vector<Trial> history;
  for (int i = 0; i < 5; ++i) history.push_back(Trial{*reference.ask(), Observation{double(i), {}, false}});
  solver.seed(history);
  const auto rest = drain(solver);
  BOOST_TEST(rest.size() == 19u);
  for (const auto& trial : history) BOOST_TEST((std::find(rest.begin(), rest.end(), trial.point) == rest.end()));
}

BOOST_AUTO_TEST_CASE(refuses_a_grid_too_large_to_count) {
  std::vector<Param> params;
  for (int i = 0; i < 40; ++i) params.push_back(Param{"p" + std::to_string(i), FloatRange{0.0, 1.0}, {}, {}});
  BOOST_CHECK_THROW(GridSolver(Space(params), {}), std::invalid_argument);
  // A large grid that fits is fine, and lazy: nothing is materialised.
  params.resize(20);
  GridSolver big(Space(params), {});
  BOOST_TEST(big.grid_size() == 95367431640625u); // 5^20
  BOOST_TEST(big.ask().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
