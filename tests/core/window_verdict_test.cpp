#include <trimtab/core/window_verdict.hpp>

#include <boost/test/unit_test.hpp>

using namespace trimtab;

namespace {

VerdictRules rules_for(Direction direction) {
  VerdictRules rules;
  rules.direction = direction;
  rules.confidence = 0.95;
  rules.rollback_on_regression = true;
  rules.regression_threshold = Amount{5.0, true};
  rules.constraint_texts = {"p99_ms <= 100", "errors <= 0.01"};
  rules.constraint_scales = {100.0, 0.01};
  return rules;
}

// Three windows of the incumbent at `value`, meeting both constraints unless told otherwise.
PooledEvidence incumbent_at(double value, std::vector<double> constraints = {-10.0, -0.005}) {
  std::vector<WindowEvidence> windows(3, WindowEvidence{value, 0.5, 10, constraints, false});
  return pool(windows);
}

const std::vector<std::vector<double>> constraints_met{{-20, -21, -19, -20, -20}, {-0.005, -0.005, -0.004, -0.006, -0.005}};

} // namespace

BOOST_AUTO_TEST_SUITE(window_verdict)

// --- ending a candidate's window early -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_clearly_worse_candidate_ends_its_window) {
  const std::vector<double> samples{80, 81, 79, 80, 80};
  BOOST_TEST(end_window_early(rules_for(Direction::maximize), incumbent_at(100), samples, constraints_met) ==
             "clearly worse than the incumbent (mSPRT)");
}

BOOST_AUTO_TEST_CASE(a_loss_within_the_regression_threshold_measures_on) {
  // 3 % worse, certainly: but the policy rolls back only beyond 5 %.
  const std::vector<double> samples{97, 97.1, 96.9, 97, 97};
  BOOST_TEST(end_window_early(rules_for(Direction::maximize), incumbent_at(100), samples, constraints_met).empty());
}

BOOST_AUTO_TEST_CASE(lower_is_worse_only_when_maximizing) {
  const std::vector<double> samples{80, 81, 79, 80, 80};
  BOOST_TEST(end_window_early(rules_for(Direction::minimize), incumbent_at(100), samples, constraints_met).empty());
  const std::vector<double> slower{120, 121, 119, 120, 120};
  BOOST_TEST(!end_window_early(rules_for(Direction::minimize), incumbent_at(100), slower, constraints_met).empty());
}

BOOST_AUTO_TEST_CASE(no_regression_check_when_the_policy_does_not_roll_back_regressions) {
  auto rules = rules_for(Direction::maximize);
  rules.rollback_on_regression = false;
  const std::vector<double> samples{80, 81, 79, 80, 80};
  BOOST_TEST(end_window_early(rules, incumbent_at(100), samples, constraints_met).empty());
}

BOOST_AUTO_TEST_CASE(an_infeasible_incumbent_or_none_is_no_yardstick) {
  const std::vector<double> samples{80, 81, 79, 80, 80};
  const auto rules = rules_for(Direction::maximize);
  BOOST_TEST(end_window_early(rules, incumbent_at(100, {30.0, -0.005}), samples, constraints_met).empty());
  BOOST_TEST(end_window_early(rules, PooledEvidence{}, samples, constraints_met).empty());
}

BOOST_AUTO_TEST_CASE(a_clearly_broken_constraint_ends_the_window_whatever_the_objective) {
  const std::vector<double> better{120, 121, 119, 120, 120};
  const std::vector<std::vector<double>> constraints{{50, 52, 49, 51, 50}, constraints_met[1]};
  BOOST_TEST(end_window_early(rules_for(Direction::maximize), incumbent_at(100), better, constraints) ==
             "'p99_ms <= 100' broken by a clear margin (mSPRT)");
  // Even with no incumbent to compare with.
  BOOST_TEST(!end_window_early(rules_for(Direction::maximize), PooledEvidence{}, better, constraints).empty());
}

BOOST_AUTO_TEST_CASE(one_interval_is_not_enough_to_end_a_window) {
  const std::vector<double> samples{50};
  const std::vector<std::vector<double>> constraints{{50}, {}};
  BOOST_TEST(end_window_early(rules_for(Direction::maximize), incumbent_at(100), samples, constraints).empty());
}

// --- constraints broken by a clear margin ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_constraint_broken_beyond_a_tenth_of_its_limit_is_clearly_broken) {
  const std::vector<double> slack{30, -0.005};
  const std::vector<std::vector<double>> samples{{30, 30.5, 29.5}, {-0.005, -0.005}};
  BOOST_TEST(clearly_broken(rules_for(Direction::maximize), slack, samples) == "'p99_ms <= 100' (by 30)");
}

BOOST_AUTO_TEST_CASE(a_constraint_broken_within_a_tenth_of_its_limit_is_not) {
  const std::vector<double> slack{5, -0.005};
  const std::vector<std::vector<double>> samples{{5, 5, 5}, {-0.005, -0.005}};
  BOOST_TEST(clearly_broken(rules_for(Direction::maximize), slack, samples).empty());
}

BOOST_AUTO_TEST_CASE(a_break_within_two_standard_errors_is_noise) {
  // Broken by 15 on average, but the intervals' standard error is 10: 2 of them exceed 15.
  const std::vector<double> slack{15, -0.005};
  const std::vector<std::vector<double>> noisy{{-10, 40, 15, -5, 35}, {-0.005, -0.005}};
  BOOST_TEST(clearly_broken(rules_for(Direction::maximize), slack, noisy).empty());
  const std::vector<std::vector<double>> steady{{14, 16, 15, 15, 15}, {-0.005, -0.005}};
  BOOST_TEST(clearly_broken(rules_for(Direction::maximize), slack, steady) == "'p99_ms <= 100' (by 15)");
}

BOOST_AUTO_TEST_CASE(every_clearly_broken_constraint_is_named) {
  const std::vector<double> slack{30, 0.01};
  const std::vector<std::vector<double>> samples{{30, 30}, {0.01, 0.01}};
  BOOST_TEST(clearly_broken(rules_for(Direction::maximize), slack, samples) ==
             "'p99_ms <= 100' (by 30), 'errors <= 0.01' (by 0.01)");
}

BOOST_AUTO_TEST_SUITE_END()
