#pragma once

#include <span>
#include <string>
#include <vector>

#include <trimtab/core/evidence.hpp>
#include <trimtab/core/verdict.hpp>

namespace trimtab {

/// Why a candidate's window may end before its time, or nothing to measure it to the end. It ends
/// when the mixture SPRT (mixture_likelihood_ratio, at rules.confidence) finds, over the window's
/// per-interval values so far, that a constraint is broken (the mixture's scale a tenth of the
/// limit), or, when rules.rollback_on_regression is set and the incumbent has feasible windows,
/// that the candidate is worse than `incumbent` by more than rules.regression_threshold. The test
/// stays valid however often it is asked, so the loop asks after every scrape.
[[nodiscard]] std::string end_window_early(const VerdictRules& rules, const PooledEvidence& incumbent,
                                           std::span<const double> objective_samples,
                                           std::span<const std::vector<double>> constraint_samples);

/// The constraints a window breaks by a clear margin, as "'p99_ms <= 250' (by 30)", comma
/// separated; empty when none. `constraints` is the window's slack of each (> 0: broken) and
/// `constraint_samples` each one's slack per interval; the margin is a tenth of the limit's scale
/// or two of the window's standard errors, whichever is larger, so that noise around the limit does
/// not count.
[[nodiscard]] std::string clearly_broken(const VerdictRules& rules, std::span<const double> constraints,
                                         std::span<const std::vector<double>> constraint_samples);

} // namespace trimtab
