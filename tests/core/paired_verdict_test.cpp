#include <trimtab/core/paired_verdict.hpp>

#include <cmath>

#include <boost/test/unit_test.hpp>

using namespace trimtab;

namespace {

VerdictRules rules_for(Direction direction) {
  VerdictRules rules;
  rules.direction = direction;
  rules.required_improvement = Amount{5.0, true};
  rules.confidence = 0.95;
  return rules;
}

PairedEvidence pairs_of(std::vector<double> incumbent, std::vector<double> candidate) {
  PairedEvidence pairs;
  pairs.incumbent = std::move(incumbent);
  pairs.candidate = std::move(candidate);
  return pairs;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

BOOST_AUTO_TEST_SUITE(paired_verdict)

// --- the pairs themselves ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(differences_are_signed_so_that_positive_is_better_and_skip_a_half_pair) {
  // The incumbent's window of a third pair is in, the candidate's not yet.
  const auto pairs = pairs_of({100, 100, 100}, {110, 90});
  BOOST_TEST(pairs.pairs() == 2u);
  const auto up = pairs.differences(Direction::maximize);
  BOOST_TEST(up == (std::vector<double>{10, -10}), boost::test_tools::per_element());
  const auto down = pairs.differences(Direction::minimize);
  BOOST_TEST(down == (std::vector<double>{-10, 10}), boost::test_tools::per_element());
}

// --- a candidate confirmed against the incumbent ----------------------------------------------

BOOST_AUTO_TEST_CASE(a_large_and_consistent_gain_promotes) {
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({100, 101, 99}, {110, 112, 109}));
  BOOST_TEST((verdict.kind == VerdictKind::promote));
  BOOST_TEST(*verdict.effect == (110.0 + 112 + 109 - 300) / 3 / 100, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(*verdict.p_value < 0.05);
  BOOST_TEST(verdict.reason.starts_with("better by "));
  BOOST_TEST(has(verdict.reason, "over 3 switchback pairs (paired p="));
}

BOOST_AUTO_TEST_CASE(a_significant_gain_below_the_required_improvement_keeps) {
  // 3 % better every time: certain, but the policy asks for 5 %.
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({100, 100, 100}, {103, 103.1, 102.9}));
  BOOST_TEST((verdict.kind == VerdictKind::keep));
  BOOST_TEST(*verdict.p_value < 0.01);
  BOOST_TEST(verdict.reason.starts_with("not confirmed by 3 switchback pairs: 3%"));
}

BOOST_AUTO_TEST_CASE(a_large_gain_that_the_pairs_do_not_agree_on_keeps) {
  // +8 on average, but one pair says -20: a drift the pairs did not cancel.
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({100, 100, 100}, {130, 80, 115}));
  BOOST_TEST((verdict.kind == VerdictKind::keep));
  BOOST_TEST(*verdict.effect > 0.05);
  BOOST_TEST(*verdict.p_value > 0.05);
}

BOOST_AUTO_TEST_CASE(a_confidence_of_0_9_promotes_what_0_95_keeps) {
  // Differences 10, 2, 9: p is between 0.05 and 0.1 (t = 2.6 on 2 degrees of freedom).
  const auto pairs = pairs_of({100, 100, 100}, {110, 102, 109});
  auto rules = rules_for(Direction::maximize);
  const auto strict = judge_pairs(rules, pairs);
  BOOST_TEST((strict.kind == VerdictKind::keep));
  rules.confidence = 0.9;
  const auto lenient = judge_pairs(rules, pairs);
  BOOST_TEST((lenient.kind == VerdictKind::promote));
  BOOST_TEST(*strict.p_value == *lenient.p_value);
  BOOST_TEST(*strict.p_value > 0.05);
  BOOST_TEST(*strict.p_value < 0.1);
}

BOOST_AUTO_TEST_CASE(lower_is_better_when_minimizing) {
  const auto rules = rules_for(Direction::minimize);
  const auto faster = judge_pairs(rules, pairs_of({100, 100, 100}, {80, 81, 79}));
  BOOST_TEST((faster.kind == VerdictKind::promote));
  BOOST_TEST(*faster.effect == 0.2, boost::test_tools::tolerance(1e-12));
  const auto slower = judge_pairs(rules, pairs_of({100, 100, 100}, {120, 121, 119}));
  BOOST_TEST((slower.kind == VerdictKind::keep));
  BOOST_TEST(*slower.effect == -0.2, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(an_absolute_required_improvement_is_in_the_objectives_units) {
  auto rules = rules_for(Direction::maximize);
  rules.required_improvement = Amount{15.0, false};
  const auto verdict = judge_pairs(rules, pairs_of({100, 101, 99}, {110, 112, 109}));
  BOOST_TEST((verdict.kind == VerdictKind::keep)); // 10.3 better, 15 asked
  rules.required_improvement = Amount{10.0, false};
  BOOST_TEST((judge_pairs(rules, pairs_of({100, 101, 99}, {110, 112, 109})).kind == VerdictKind::promote));
}

BOOST_AUTO_TEST_CASE(identical_gains_in_every_pair_are_certain) {
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({100, 90}, {110, 100}));
  BOOST_TEST((verdict.kind == VerdictKind::promote));
  BOOST_TEST(*verdict.p_value == 0.0);
}

BOOST_AUTO_TEST_CASE(one_pair_has_no_spread_to_test_and_keeps) {
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({100}, {150}));
  BOOST_TEST((verdict.kind == VerdictKind::keep));
  BOOST_TEST(*verdict.p_value == 1.0);
}

BOOST_AUTO_TEST_CASE(an_incumbent_of_zero_gives_the_absolute_effect) {
  const auto verdict = judge_pairs(rules_for(Direction::maximize), pairs_of({0, 0, 0}, {2, 3, 2.5}));
  BOOST_TEST(*verdict.effect == 2.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST((verdict.kind == VerdictKind::promote)); // 5 % of 0 is 0: any significant gain
}

// --- the guard's check: the best against the baseline -------------------------------------------

BOOST_AUTO_TEST_CASE(a_baseline_that_breaks_what_the_best_meets_loses_at_once) {
  auto pairs = pairs_of({100}, {200});
  pairs.candidate_broke = true;
  const auto verdict = judge_guard_check(rules_for(Direction::maximize), pairs, 3);
  BOOST_TEST((verdict.kind == GuardCheckKind::baseline_broke));
  BOOST_TEST(!verdict.p_value);
}

BOOST_AUTO_TEST_CASE(a_best_that_breaks_what_the_baseline_meets_loses_at_once) {
  // One pair of three, and the baseline is worse on the objective: safety first.
  auto pairs = pairs_of({100}, {50});
  pairs.incumbent_broke = true;
  const auto verdict = judge_guard_check(rules_for(Direction::maximize), pairs, 3);
  BOOST_TEST((verdict.kind == GuardCheckKind::back_to_baseline));
  BOOST_TEST(!verdict.p_value);
  BOOST_TEST(verdict.reason == "the baseline is better than the best over 1 switchback pairs (the best broke a constraint, "
                               "the baseline did not)");
}

BOOST_AUTO_TEST_CASE(fewer_pairs_than_wanted_measure_more_even_when_both_broke) {
  auto pairs = pairs_of({100, 100}, {150, 150});
  BOOST_TEST((judge_guard_check(rules_for(Direction::maximize), pairs, 3).kind == GuardCheckKind::measure_more));
  pairs.incumbent_broke = pairs.candidate_broke = true;
  BOOST_TEST((judge_guard_check(rules_for(Direction::maximize), pairs, 3).kind == GuardCheckKind::measure_more));
}

BOOST_AUTO_TEST_CASE(a_baseline_no_better_leaves_the_best) {
  const auto verdict = judge_guard_check(rules_for(Direction::maximize), pairs_of({100, 100, 100}, {99, 100.5, 99.5}), 3);
  BOOST_TEST((verdict.kind == GuardCheckKind::best_stays));
  BOOST_TEST(verdict.best_mean == 100.0);
  BOOST_TEST(verdict.effect < 0.0);
  BOOST_TEST(verdict.reason.starts_with("the baseline is no better than the best over 3 switchback pairs ("));
}

BOOST_AUTO_TEST_CASE(a_significantly_better_baseline_wins_however_small_the_gain) {
  // Half a percent: the guard asks no required improvement of the baseline, only significance.
  const auto verdict =
      judge_guard_check(rules_for(Direction::maximize), pairs_of({100, 100, 100}, {100.5, 100.6, 100.4}), 3);
  BOOST_TEST((verdict.kind == GuardCheckKind::back_to_baseline));
  BOOST_TEST(verdict.effect == 0.005, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(*verdict.p_value < 0.05);
  BOOST_TEST(has(verdict.reason, "(by 0.5%, paired p="));
}

BOOST_AUTO_TEST_CASE(a_better_baseline_the_pairs_do_not_agree_on_leaves_the_best) {
  const auto verdict = judge_guard_check(rules_for(Direction::maximize), pairs_of({100, 100, 100}, {130, 80, 115}), 3);
  BOOST_TEST((verdict.kind == GuardCheckKind::best_stays));
  BOOST_TEST(verdict.effect > 0.0);
  BOOST_TEST(*verdict.p_value > 0.05);
}

BOOST_AUTO_TEST_CASE(the_guard_check_minimizes_too) {
  const auto rules = rules_for(Direction::minimize);
  const auto faster = judge_guard_check(rules, pairs_of({100, 100, 100}, {80, 81, 79}), 3);
  BOOST_TEST((faster.kind == GuardCheckKind::back_to_baseline));
  BOOST_TEST(faster.effect == 0.2, boost::test_tools::tolerance(1e-12));
  BOOST_TEST((judge_guard_check(rules, pairs_of({100, 100, 100}, {120, 121, 119}), 3).kind == GuardCheckKind::best_stays));
}

BOOST_AUTO_TEST_SUITE_END()
