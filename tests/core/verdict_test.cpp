#include <trimtab/core/verdict.hpp>

#include <cmath>

#include <boost/test/unit_test.hpp>

using namespace trimtab;

namespace {

// `windows` windows of one configuration, each with this value, standard error and slack.
PooledEvidence evidence(double value, double sem, std::vector<double> constraints = {}, std::size_t windows = 1) {
  std::vector<WindowEvidence> list;
  for (std::size_t i = 0; i < windows; ++i) list.push_back(WindowEvidence{value, sem, 10, constraints, false});
  return pool(list);
}

VerdictRules rules_for(Direction direction) {
  VerdictRules rules;
  rules.direction = direction;
  rules.required_improvement = Amount{5.0, true};
  rules.regression_threshold = Amount{5.0, true};
  rules.constraint_texts = {"p99_ms <= 100", "errors <= 0.01"};
  rules.constraint_scales = {100.0, 0.01};
  rules.max_candidate_windows = 3;
  return rules;
}

} // namespace

BOOST_AUTO_TEST_SUITE(verdict)

BOOST_AUTO_TEST_CASE(a_feasible_candidate_beats_an_infeasible_incumbent_whatever_the_objective) {
  const auto rules = rules_for(Direction::minimize);
  // The incumbent is far better on the objective but breaks p99 by 20 ms.
  const auto incumbent = evidence(8.0, 0.1, {20.0, -0.01});
  const auto candidate = evidence(20.0, 0.1, {-10.0, -0.01});
  const auto verdict = judge(rules, incumbent, candidate);
  BOOST_TEST((verdict.kind == VerdictKind::promote));
  BOOST_TEST(verdict.reason.find("meets every constraint") != std::string::npos);
  BOOST_TEST(preferred(rules, candidate, incumbent));
  BOOST_TEST(!preferred(rules, incumbent, candidate));
}

BOOST_AUTO_TEST_CASE(a_candidate_that_breaks_a_constraint_is_rolled_back_from_a_feasible_incumbent) {
  const auto rules = rules_for(Direction::maximize);
  const auto verdict = judge(rules, evidence(100.0, 1.0, {-5.0, -0.01}), evidence(500.0, 1.0, {1.0, -0.01}));
  BOOST_TEST((verdict.kind == VerdictKind::rollback));
  BOOST_TEST(!verdict.uncounted);
  BOOST_TEST(verdict.reason.find("'p99_ms <= 100' (by 1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(between_two_infeasible_the_smaller_relative_violation_wins) {
  const auto rules = rules_for(Direction::maximize);
  // 30 ms over a 100 ms limit (0.3) against 0.002 over a 0.01 error limit (0.2): the second is less.
  const auto p99_over = evidence(100.0, 1.0, {30.0, -0.01});
  const auto errors_over = evidence(50.0, 1.0, {-10.0, 0.002});
  BOOST_TEST(p99_over.violation(rules.constraint_scales) == 0.3, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(errors_over.violation(rules.constraint_scales) == 0.2, boost::test_tools::tolerance(1e-12));
  auto verdict = judge(rules, p99_over, errors_over);
  BOOST_TEST((verdict.kind == VerdictKind::promote));
  verdict = judge(rules, errors_over, p99_over);
  BOOST_TEST((verdict.kind == VerdictKind::rollback));
  BOOST_TEST(verdict.uncounted); // leaving an infeasible incumbent is not a regression to count
}

BOOST_AUTO_TEST_CASE(between_two_feasible_the_objective_decides_on_pooled_evidence) {
  const auto rules = rules_for(Direction::maximize);
  const auto incumbent = evidence(100.0, 1.0, {-1.0, -0.01});
  // 10 % better with small errors: promoted.
  auto verdict = judge(rules, incumbent, evidence(110.0, 1.0, {-1.0, -0.01}));
  BOOST_TEST((verdict.kind == VerdictKind::promote));
  BOOST_REQUIRE(verdict.effect);
  BOOST_TEST(*verdict.effect == 0.1, boost::test_tools::tolerance(1e-9));
  // 10 % worse: rolled back.
  verdict = judge(rules, incumbent, evidence(90.0, 1.0, {-1.0, -0.01}));
  BOOST_TEST((verdict.kind == VerdictKind::rollback));
  // 2 % better: not the required 5 %, and it cannot reach it: kept out.
  verdict = judge(rules, incumbent, evidence(102.0, 0.5, {-1.0, -0.01}));
  BOOST_TEST((verdict.kind == VerdictKind::keep));
}

BOOST_AUTO_TEST_CASE(a_close_call_earns_another_window_until_the_limit) {
  const auto rules = rules_for(Direction::maximize);
  const auto incumbent = evidence(100.0, 6.0, {-1.0, -0.01}, 2);
  // 6 % better, but with errors of 6 a window that is not significant: measure again.
  auto verdict = judge(rules, incumbent, evidence(106.0, 6.0, {-1.0, -0.01}, 1));
  BOOST_TEST((verdict.kind == VerdictKind::extend));
  BOOST_TEST(verdict.reason.find("a close call") != std::string::npos);
  // With three windows behind it the candidate has had its chance.
  verdict = judge(rules, incumbent, evidence(106.0, 6.0, {-1.0, -0.01}, 3));
  BOOST_TEST((verdict.kind == VerdictKind::keep));
}

BOOST_AUTO_TEST_CASE(a_gain_unlikely_to_reach_the_required_improvement_is_no_close_call) {
  const auto rules = rules_for(Direction::maximize);
  const auto incumbent = evidence(100.0, 2.0, {-1.0, -0.01}, 2);
  const auto candidate = evidence(102.0, 2.0, {-1.0, -0.01}, 1);
  // 2 % better: the interval still reaches the required 5 %, but the chance of 5 % is about one in
  // eight, and close calls that unlikely are almost never promoted: kept, not measured again.
  const auto test = gain_test(rules.direction, incumbent, candidate, rules.confidence);
  BOOST_TEST(test.high >= 5.0);
  BOOST_TEST(test.chance_of_at_least(5.0) < rules.close_call_chance);
  BOOST_TEST(test.chance_of_at_least(test.gain) == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST((judge(rules, incumbent, candidate).kind == VerdictKind::keep));
  // With a lower bar the same gain is a close call.
  auto lenient = rules;
  lenient.close_call_chance = 0.05;
  auto verdict = judge(lenient, incumbent, candidate);
  BOOST_TEST((verdict.kind == VerdictKind::extend));
  BOOST_TEST(verdict.reason.find("chance of 5%") != std::string::npos);
  // Against an incumbent known only by the window that promoted it (lucky on average), reaching the
  // bar within the interval is enough: the incumbent's next window removes that luck.
  auto lucky = incumbent;
  lucky.selected_only = true;
  verdict = judge(rules, lucky, candidate);
  BOOST_TEST((verdict.kind == VerdictKind::extend));
}

BOOST_AUTO_TEST_CASE(pooling_takes_the_larger_of_the_windows_errors_and_their_spread) {
  // Two windows, each precise (sem 1) but 20 apart: the drift between them is the real error.
  const std::vector<WindowEvidence> drifting{{100.0, 1.0, 10, {}, false}, {120.0, 1.0, 10, {}, false}};
  const auto pooled = pool(drifting);
  BOOST_TEST(pooled.mean == 110.0);
  BOOST_TEST(pooled.sem == 10.0, boost::test_tools::tolerance(1e-12)); // sqrt(200 / 2)
  BOOST_TEST(pooled.degrees_of_freedom == 1.0);
  // Two windows that agree: their own errors, halved in variance.
  const std::vector<WindowEvidence> agreeing{{100.0, 2.0, 10, {}, false}, {100.0, 2.0, 10, {}, false}};
  BOOST_TEST(pool(agreeing).sem == std::sqrt(2.0), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(the_selecting_window_is_left_out_of_the_unselected_estimate) {
  EvidenceLedger ledger(4);
  const Point point{{Value{std::int64_t{1}}}};
  ledger.add(point, WindowEvidence{130.0, 1.0, 10, {}, false}); // the lucky window that promoted it
  ledger.mark_selected(point);
  BOOST_TEST(ledger.unselected(point).mean == 130.0); // nothing else to go on yet
  BOOST_TEST(ledger.unselected(point).selected_only);
  ledger.add(point, WindowEvidence{100.0, 1.0, 10, {}, false});
  BOOST_TEST(!ledger.unselected(point).selected_only);
  ledger.add(point, WindowEvidence{102.0, 1.0, 10, {}, false});
  BOOST_TEST(ledger.pooled(point).mean == 332.0 / 3.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ledger.unselected(point).mean == 101.0, boost::test_tools::tolerance(1e-12));
  // Only the most recent windows are kept.
  for (int i = 0; i < 4; ++i) ledger.add(point, WindowEvidence{90.0, 1.0, 10, {}, false});
  BOOST_TEST(ledger.windows(point).size() == 4u);
  BOOST_TEST(ledger.pooled(point).mean == 90.0);
}

BOOST_AUTO_TEST_CASE(the_ledger_forgets_the_least_recently_measured_configuration_but_spares_some) {
  EvidenceLedger ledger(2, 3);
  const auto at = [](std::int64_t pool) { return Point{{Value{pool}}}; };
  const auto window = [](double value) { return WindowEvidence{value, 1.0, 10, {}, false}; };
  const std::vector<Point> spare{at(1)}; // the incumbent, measured first and never since
  ledger.add(at(1), window(100.0), spare);
  ledger.add(at(2), window(90.0), spare);
  ledger.add(at(3), window(80.0), spare);
  ledger.add(at(2), window(91.0), spare); // 2 is now more recent than 3
  ledger.add(at(4), window(70.0), spare);
  BOOST_TEST(ledger.configurations() == 3u);
  BOOST_TEST(ledger.windows(at(1)).size() == 1u); // spared, though the oldest
  BOOST_TEST(ledger.windows(at(3)).empty());      // the least recently measured of the rest
  BOOST_TEST(ledger.windows(at(2)).size() == 2u);
  BOOST_TEST(ledger.windows(at(4)).size() == 1u);
  // Without a spare the oldest goes, whoever it is.
  ledger.add(at(5), window(60.0));
  BOOST_TEST(ledger.windows(at(1)).empty());
  BOOST_TEST(ledger.configurations() == 3u);
  // A configuration measured again after it was forgotten starts afresh.
  ledger.add(at(3), window(85.0));
  BOOST_TEST(ledger.windows(at(3)).size() == 1u);
  BOOST_TEST(ledger.pooled(at(3)).mean == 85.0);
}

BOOST_AUTO_TEST_CASE(the_study_window_noise_lends_its_degrees_of_freedom_to_two_windows_each) {
  // Windows of one configuration stray more than their own errors say (100 and 108 with sem 1).
  // Judged on their own, two windows against two have about one degree of freedom, and a 12 %
  // gain is no verdict; ten other configurations measured twice show how far windows stray in this
  // study (2 %), and with their degrees of freedom the same gain promotes.
  EvidenceLedger ledger(6);
  const auto at = [](std::int64_t pool) { return Point{{Value{pool}}}; };
  const auto window = [](double value) { return WindowEvidence{value, 1.0, 7, {}, false}; };
  ledger.add(at(1), window(100.0));
  ledger.add(at(1), window(108.0));
  ledger.add(at(2), window(90.0));
  ledger.add(at(2), window(94.0));
  const auto rules = rules_for(Direction::minimize);
  const auto alone = judge(rules, pool(ledger.windows(at(1))), pool(ledger.windows(at(2))));
  BOOST_TEST((alone.kind != VerdictKind::promote));
  BOOST_TEST(ledger.window_noise().degrees_of_freedom == 2.0);

  for (std::int64_t other = 10; other < 20; ++other) {
    const double level = 50.0 + static_cast<double>(other);
    ledger.add(at(other), window(level * 0.98));
    ledger.add(at(other), window(level * 1.02));
  }
  const auto noise = ledger.window_noise();
  BOOST_TEST(noise.degrees_of_freedom == 12.0);
  // (10 x 2 x 0.02^2 + 2 x (4/104)^2 + 2 x (2/92)^2) / 12
  const double expected = (10 * 2 * 0.0004 + 2 * std::pow(4.0 / 104.0, 2) + 2 * std::pow(2.0 / 92.0, 2)) / 12.0;
  BOOST_TEST(noise.relative_variance == expected, boost::test_tools::tolerance(1e-12));
  const auto incumbent = ledger.pooled(at(1));
  BOOST_TEST(incumbent.degrees_of_freedom == 12.0);
  BOOST_TEST(incumbent.sem == std::sqrt(expected * 104.0 * 104.0 / 2.0), boost::test_tools::tolerance(1e-12));
  const auto verdict = judge(rules, incumbent, ledger.pooled(at(2)));
  BOOST_TEST((verdict.kind == VerdictKind::promote), verdict.reason);
  // A single window takes the study's spread when its own error is smaller.
  ledger.add(at(3), window(200.0));
  BOOST_TEST(ledger.pooled(at(3)).sem == std::sqrt(noise.relative_variance) * 200.0, boost::test_tools::tolerance(1e-9));
  // A load shift clears the ledger, and the study's noise with it: a window stands alone again.
  ledger.clear();
  BOOST_TEST(ledger.window_noise().degrees_of_freedom == 0.0);
  ledger.add(at(3), window(200.0));
  BOOST_TEST(ledger.pooled(at(3)).sem == 1.0);
}

BOOST_AUTO_TEST_CASE(the_gain_interval_covers_the_difference_and_shrinks_with_evidence) {
  const auto a = evidence(100.0, 2.0), b = evidence(110.0, 2.0);
  const auto test = gain_test(Direction::maximize, a, b, 0.95);
  BOOST_TEST(test.gain == 10.0);
  BOOST_TEST(test.low < 10.0);
  BOOST_TEST(test.high > 10.0);
  BOOST_TEST(test.p_better < 0.05);
  const auto tighter = gain_test(Direction::maximize, evidence(100.0, 0.5), evidence(110.0, 0.5), 0.95);
  BOOST_TEST(tighter.high - tighter.low < test.high - test.low);
  // Minimising flips the sign of the gain.
  BOOST_TEST(gain_test(Direction::minimize, a, b, 0.95).gain == -10.0);
}

BOOST_AUTO_TEST_CASE(the_mixture_ratio_follows_its_closed_form) {
  // Known variance sigma^2 / n with sigma = 1, n = 25, mixing scale 0.5, observed difference 0.6.
  const double v = 1.0 / 25.0, tau = 0.5, d = 0.6;
  const double expected = std::sqrt(v / (v + tau * tau)) * std::exp(tau * tau * d * d / (2 * v * (v + tau * tau)));
  BOOST_TEST(mixture_likelihood_ratio(d, v, tau) == expected, boost::test_tools::tolerance(1e-12));
  // No difference: the ratio falls below 1 as evidence grows, so noise alone never stops a window.
  BOOST_TEST(mixture_likelihood_ratio(0.0, 1.0 / 100.0, tau) < mixture_likelihood_ratio(0.0, 1.0 / 10.0, tau));
  BOOST_TEST(mixture_likelihood_ratio(0.0, 1.0 / 10.0, tau) < 1.0);
  // A larger difference is stronger evidence, in either direction.
  BOOST_TEST(mixture_likelihood_ratio(-1.0, v, tau) > mixture_likelihood_ratio(-0.5, v, tau));
}

BOOST_AUTO_TEST_SUITE_END()
