#include <boost/test/unit_test.hpp>

#include <trimtab/core/box.hpp>
#include <trimtab/core/grid_solver.hpp>
#include <trimtab/core/random_solver.hpp>

#include "test_spaces.hpp"

using namespace trimtab;

namespace {

// A box around pool_size 20 +- 5, timeout_ms in [200, 400], batch 8 or 16, policy held at lfu.
Box service_box() { return Box{{ParamLimit{15, 25, {}}, ParamLimit{200, 400, {}}, ParamLimit{8, 16, {}}, ParamLimit{{}, {}, "lfu"}}}; }

} // namespace

BOOST_AUTO_TEST_SUITE(box)

BOOST_AUTO_TEST_CASE(every_cube_point_of_the_unit_box_decodes_inside_the_box) {
  const auto space = test::service_space();
  const auto box = service_box();
  const auto unit = to_unit_box(space, box);
  SobolSequence sobol(space.dimensions(), 1);
  for (int i = 0; i < 2000; ++i) {
    auto u = sobol.next();
    unit.place(u);
    auto p = space.decode(u);
    clamp_into(space, box, p); // only rounding at the faces may need it
    BOOST_TEST(box_contains(space, box, p));
  }
  // The faces themselves decode to the limits.
  auto low = space.decode(unit.lower), high = space.decode(unit.upper);
  BOOST_TEST(std::get<std::int64_t>(low.values[0]) == 15);
  BOOST_TEST(std::get<std::int64_t>(high.values[0]) == 25);
  BOOST_TEST(std::get<double>(low.values[2]) == 8.0);
  BOOST_TEST(std::get<double>(high.values[2]) == 16.0);
  BOOST_TEST(std::get<std::string>(high.values[3]) == "lfu");
}

BOOST_AUTO_TEST_CASE(clamping_moves_values_to_the_nearest_allowed) {
  const auto space = test::service_space();
  Point p{{Value{std::int64_t{90}}, Value{4000.0}, Value{4.0}, Value{std::string("lru")}}};
  clamp_into(space, service_box(), p);
  BOOST_TEST(std::get<std::int64_t>(p.values[0]) == 25);
  BOOST_TEST(std::get<double>(p.values[1]) == 400.0);
  BOOST_TEST(std::get<double>(p.values[2]) == 8.0);
  BOOST_TEST(std::get<std::string>(p.values[3]) == "lfu");
}

BOOST_AUTO_TEST_CASE(bad_boxes_are_named) {
  const auto space = test::service_space();
  BOOST_CHECK_THROW((void)to_unit_box(space, Box{{ParamLimit{}}}), std::invalid_argument);
  auto box = service_box();
  box.limits[2] = ParamLimit{9, 15, {}}; // no batch choice in between
  BOOST_CHECK_THROW((void)to_unit_box(space, box), std::invalid_argument);
  box = service_box();
  box.limits[3].hold = "fifo";
  BOOST_CHECK_THROW((void)to_unit_box(space, box), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(grid_and_random_solvers_ask_within_a_box) {
  const auto space = test::service_space();
  const auto box = service_box();
  GridSolver grid(space, {});
  RandomSolver random(space, {Direction::minimize, 3});
  for (int i = 0; i < 20; ++i) {
    const auto g = grid.ask(box);
    if (g) BOOST_TEST(box_contains(space, box, *g));
    BOOST_TEST(box_contains(space, box, *random.ask(box)));
  }
  // Grid points skipped for lying outside a box are still proposed later.
  GridSolver small(test::small_discrete_space(), {});
  const Box only_a1{{ParamLimit{1, 1, {}}, ParamLimit{}, ParamLimit{}}};
  int inside = 0;
  while (small.ask(only_a1)) ++inside;
  BOOST_TEST(inside == 8);
  int rest = 0;
  while (small.ask()) ++rest;
  BOOST_TEST(rest == 16);
}

BOOST_AUTO_TEST_SUITE_END()
