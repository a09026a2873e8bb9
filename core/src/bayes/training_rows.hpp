#pragma once

// Internal: which evaluated configurations the Bayesian models learn from.

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include <trimtab/core/evaluation.hpp>
#include <trimtab/core/observation.hpp>

namespace trimtab::detail {

/// The most configurations the models learn from. A Gaussian process's memory grows with the square
/// of its data and its fit with the cube, so a study that tunes for days (hundreds of windows a
/// day) needs a bound: unbounded, the agent grew 7 MiB in a 600 s soak of 294 windows. 128 is above
/// every benchmark's budget (bench/solvers: 100 evaluations, bench/live: 24 windows), so within it
/// nothing changes.
inline constexpr std::size_t max_training_rows = 128;

/// Indexes in `history`, ascending, of the configurations to model: every one while there are at
/// most `limit`; beyond that, `limit` of them:
/// - `keep` (the models' last incumbent), so the incumbent cannot drop out by accident;
/// - the best half: feasible configurations by pooled value, then the rest measured successfully
///   by how far they break their constraints (the sum of the positive mean slacks, each over the
///   standard deviation of its constraint's slacks across the history, so that a constraint in
///   milliseconds does not drown one in ratios), so the region worth polishing stays sharp;
/// - the most recently measured quarter, so the local region's latest steps are judged (see
///   BayesSolver::refresh_models) and a service that drifts is followed;
/// - the rest spread evenly over the remaining history in the order it was measured, which keeps
///   the initial space-filling design and the regions found bad, so global asks do not return
///   to them.
/// Tried and not kept: a quarter of the best replaced by the incumbent's nearest neighbours (to set
/// unbiased evidence beside the luckiest draws). On bench/solvers' long study, 10 seeds, the pick's
/// median regret after 1000 evaluations went from 0.011 to 0.054, and two seeds' to 0.60 and 1.2.
[[nodiscard]] std::vector<std::size_t> training_rows(std::span<const Evaluation> history, Direction direction,
                                                     std::optional<std::size_t> keep,
                                                     std::size_t limit = max_training_rows);

} // namespace trimtab::detail
