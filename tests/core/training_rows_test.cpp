#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "bayes/bayes_models.hpp"
#include "bayes/training_rows.hpp"

using namespace trimtab;

namespace {

bool contains(const std::vector<std::size_t>& rows, std::size_t index) {
  return std::find(rows.begin(), rows.end(), index) != rows.end();
}

// `count` configurations on a line, measured in order, valued by `value(i)`; every one meets its
// constraint unless `breaks(i)`.
template <typename Value, typename Breaks>
EvaluationHistory line_history(std::size_t count, Value value, Breaks breaks) {
  EvaluationHistory history;
  for (std::size_t i = 0; i < count; ++i)
    history.add(Point{{static_cast<double>(i) / static_cast<double>(count)}},
                Observation{value(i), {breaks(i) ? 1.0 : -1.0}, false});
  return history;
}

} // namespace

BOOST_AUTO_TEST_SUITE(training_rows)

BOOST_AUTO_TEST_CASE(every_configuration_is_modelled_up_to_the_limit) {
  const auto history = line_history(10, [](std::size_t i) { return double(i); }, [](std::size_t) { return false; });
  const auto rows = detail::training_rows(history.all(), Direction::minimize, std::nullopt, 10);
  BOOST_TEST(rows == (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(beyond_the_limit_the_best_half_the_latest_quarter_and_a_spread_of_the_rest) {
  // 400 configurations; the best values sit in the middle of the history (200 to 219 are the
  // lowest) and the last incumbent is 300, so the best half, the latest and the spread are told
  // apart.
  const auto value = [](std::size_t i) { return i >= 200 && i < 220 ? double(i) - 1000.0 : double(i % 37); };
  const auto history = line_history(400, value, [](std::size_t) { return false; });
  const std::size_t limit = 40;
  const auto rows = detail::training_rows(history.all(), Direction::minimize, std::size_t{300}, limit);
  BOOST_TEST(rows.size() == limit);
  BOOST_TEST(std::is_sorted(rows.begin(), rows.end()));
  BOOST_TEST(std::set<std::size_t>(rows.begin(), rows.end()).size() == limit);
  BOOST_TEST(contains(rows, 300)); // the last incumbent
  for (std::size_t i = 200; i < 219; ++i) BOOST_TEST(contains(rows, i), "best " << i);
  for (std::size_t i = 390; i < 400; ++i) BOOST_TEST(contains(rows, i), "recent " << i);
  BOOST_TEST(contains(rows, 0)); // the spread starts at the first configuration measured
  // ... and covers the rest of the history: no stretch of 100 configurations is left out.
  for (std::size_t start = 0; start + 100 <= 400; start += 50)
    BOOST_TEST(std::any_of(rows.begin(), rows.end(), [&](std::size_t r) { return r >= start && r < start + 100; }),
               "from " << start);
}

BOOST_AUTO_TEST_CASE(the_best_half_puts_feasible_configurations_first_and_follows_the_direction) {
  // The even configurations break their constraint and score best; the odd ones meet it. Maximised,
  // the best feasible ones are the highest odd indexes; the latest quarter is told apart by
  // measuring configuration 1 again last.
  const auto value = [](std::size_t i) { return i % 2 == 0 ? 1e6 : double(i); };
  auto history = line_history(200, value, [](std::size_t i) { return i % 2 == 0; });
  const auto rows = detail::training_rows(history.all(), Direction::maximize, std::nullopt, 40);
  for (std::size_t i = 199; i > 199 - 2 * 20; i -= 2) BOOST_TEST(contains(rows, i), "best feasible " << i);

  const auto minimised = detail::training_rows(history.all(), Direction::minimize, std::nullopt, 40);
  for (std::size_t i = 1; i < 1 + 2 * 20; i += 2) BOOST_TEST(contains(minimised, i), "best feasible " << i);
  BOOST_TEST(!contains(minimised, 100)); // infeasible, however well it scores, and not latest
}

BOOST_AUTO_TEST_CASE(violations_are_compared_in_units_of_each_constraints_spread) {
  // Nothing is feasible. A latency constraint's slacks spread over hundreds of milliseconds and an
  // error ratio's over hundredths. The first 20 configurations break the latency one by 2 ms (a
  // hundredth of its spread) and the error ratio not at all: nearly feasible. The next 20 break the
  // ratio by 0.05 (five times its spread), a smaller raw number. The best half (10 of 20) must come
  // from the nearly feasible ones; the 160 behind them all break both by far.
  EvaluationHistory history;
  std::mt19937_64 draw(3);
  std::uniform_real_distribution<double> latency(50.0, 800.0), ratio(0.0, 0.03);
  for (std::size_t i = 0; i < 200; ++i) {
    const double latency_slack = i < 20 ? 2.0 : i < 40 ? -100.0 : latency(draw);
    const double ratio_slack = i < 20 ? -0.01 : i < 40 ? 0.05 : ratio(draw);
    history.add(Point{{static_cast<double>(i) / 200.0}}, Observation{1.0, {latency_slack, ratio_slack}, false});
  }
  const auto rows = detail::training_rows(history.all(), Direction::minimize, std::nullopt, 20);
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(contains(rows, i), "nearly feasible " << i);
}

BOOST_AUTO_TEST_CASE(a_reading_again_makes_a_configuration_recent) {
  auto history = line_history(100, [](std::size_t i) { return double(i); }, [](std::size_t) { return false; });
  const std::size_t limit = 20;
  BOOST_TEST(!contains(detail::training_rows(history.all(), Direction::maximize, std::nullopt, limit), 50));
  history.add(history[50].point, Observation{50.0, {-1.0}, false});
  BOOST_TEST(contains(detail::training_rows(history.all(), Direction::maximize, std::nullopt, limit), 50));
}

BOOST_AUTO_TEST_CASE(the_models_of_a_long_study_hold_a_bounded_number_of_configurations) {
  // 300 configurations of a bowl in two dimensions: the objective model holds max_training_rows of
  // them, and its incumbent is still the best configuration measured.
  const Space space({Param{"x", FloatRange{0.0, 1.0}, {}, {}}, Param{"y", FloatRange{0.0, 1.0}, {}, {}}});
  EvaluationHistory history;
  std::mt19937_64 draw(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::size_t best = 0;
  double lowest = 1e9;
  for (std::size_t i = 0; i < 300; ++i) {
    const double x = unit(draw), y = unit(draw);
    const double value = (x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6);
    if (value < lowest) {
      lowest = value;
      best = i;
    }
    history.add(Point{{x, y}}, Observation{value, {}, false});
  }
  std::mt19937_64 rng(1);
  detail::BayesModels models(space);
  models.update(history.all(), history.measurements(), Direction::minimize, rng);
  BOOST_REQUIRE(models.usable());
  BOOST_TEST(static_cast<std::size_t>(models.objective().inputs().cols()) == detail::max_training_rows);
  BOOST_REQUIRE(models.incumbent_evaluation().has_value());
  BOOST_TEST(*models.incumbent_evaluation() == best);
}

BOOST_AUTO_TEST_SUITE_END()
