#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <set>
#include <string>

#include <trimtab/core/point_set.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(point_set)

BOOST_AUTO_TEST_CASE(answers_membership_as_a_set_of_points_does) {
  PointSet set;
  const Point a{{std::int64_t{8}, 0.5, std::string("lru")}};
  const Point b{{std::int64_t{8}, 0.5, std::string("lfu")}};
  BOOST_TEST(set.insert(a));
  BOOST_TEST(!set.insert(Point{a}));
  BOOST_TEST(set.contains(a));
  BOOST_TEST(!set.contains(b));
  BOOST_TEST(set.insert(b));
  BOOST_TEST(set.size() == 2u);
  set.erase(a);
  BOOST_TEST(!set.contains(a));
  BOOST_TEST(set.contains(b));
  BOOST_TEST(set.size() == 1u);
}

BOOST_AUTO_TEST_CASE(points_that_compare_equal_share_a_fingerprint_and_others_do_not) {
  // -0.0 == 0.0 for Point's ==, so both are one configuration.
  BOOST_TEST(PointSet::fingerprint(Point{{0.0}}) == PointSet::fingerprint(Point{{-0.0}}));
  // The alternative is part of the value: the int 1 and the double 1.0 differ, as for Point.
  BOOST_TEST(PointSet::fingerprint(Point{{std::int64_t{1}}}) != PointSet::fingerprint(Point{{1.0}}));
  // Order and length matter.
  BOOST_TEST(PointSet::fingerprint(Point{{std::int64_t{1}, std::int64_t{2}}}) !=
             PointSet::fingerprint(Point{{std::int64_t{2}, std::int64_t{1}}}));
  BOOST_TEST(PointSet::fingerprint(Point{{std::int64_t{0}}}) != PointSet::fingerprint(Point{{std::int64_t{0}, std::int64_t{0}}}));
  BOOST_TEST(PointSet::fingerprint(Point{{std::string("ab"), std::string("c")}}) !=
             PointSet::fingerprint(Point{{std::string("a"), std::string("bc")}}));
}

BOOST_AUTO_TEST_CASE(a_dense_grid_of_neighbouring_points_has_no_two_alike) {
  // Solvers walk grids of small integers and nearby floats: the inputs a weak hash collides on.
  std::set<std::uint64_t> seen;
  std::size_t points = 0;
  for (std::int64_t i = 0; i < 40; ++i)
    for (std::int64_t j = 0; j < 40; ++j)
      for (int k = 0; k < 40; ++k, ++points) seen.insert(PointSet::fingerprint(Point{{i, j, 0.1 * k}}));
  BOOST_TEST(seen.size() == points);
}

BOOST_AUTO_TEST_SUITE_END()
