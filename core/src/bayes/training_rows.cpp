#include "training_rows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>
#include <utility>

#include <trimtab/core/evidence.hpp>
#include <trimtab/core/statistics.hpp>

namespace trimtab::detail {
namespace {

// Per constraint, the standard deviation of the configurations' mean slacks (1 where they do not
// vary): the scales of constraint_violation(). The solver knows no limits, so this is what makes
// slacks in milliseconds and in ratios comparable.
std::vector<double> slack_scales(std::span<const Evaluation> history) {
  std::vector<std::vector<double>> slacks;
  for (const auto& evaluation : history) {
    if (evaluation.successes() == 0) continue;
    slacks.resize(std::max(slacks.size(), evaluation.constraint_sums.size()));
    for (std::size_t j = 0; j < evaluation.constraint_sums.size(); ++j) slacks[j].push_back(evaluation.constraint(j));
  }
  std::vector<double> scales;
  for (const auto& values : slacks) {
    const double sd = std::sqrt(summarize(values).variance);
    scales.push_back(sd > 0.0 && std::isfinite(sd) ? sd : 1.0);
  }
  return scales;
}

// `keys` with its first `wanted` in ascending order, the rest cut off.
template <typename Key> std::vector<Key>& first_in_order(std::vector<Key>& keys, std::size_t wanted) {
  const auto end = keys.begin() + static_cast<std::ptrdiff_t>(std::min(wanted, keys.size()));
  std::partial_sort(keys.begin(), end, keys.end());
  keys.erase(end, keys.end());
  return keys;
}

} // namespace

std::vector<std::size_t> training_rows(std::span<const Evaluation> history, Direction direction,
                                       std::optional<std::size_t> keep, std::size_t limit) {
  std::vector<std::size_t> all(history.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  if (history.size() <= limit) return all;

  std::vector<bool> chosen(history.size(), false);
  std::size_t count = 0;
  const auto choose = [&](std::size_t index) {
    if (count < limit && !chosen[index]) {
      chosen[index] = true;
      ++count;
    }
  };
  if (keep && *keep < history.size()) choose(*keep);

  // Feasible first by loss, then the rest measured successfully by violation; the index last, so
  // ties keep history order whatever the sort. Only the first half-plus-one can be taken (`keep`
  // may be among them), so a partial sort keeps a tell at O(n log limit) past thousands of
  // evaluations.
  const auto scales = slack_scales(history);
  std::vector<std::tuple<int, double, std::size_t>> by_rank;
  for (std::size_t index : all) {
    const auto& evaluation = history[index];
    if (evaluation.successes() == 0) continue;
    if (evaluation.feasible())
      by_rank.emplace_back(0, direction == Direction::maximize ? -evaluation.value() : evaluation.value(), index);
    else
      by_rank.emplace_back(1, constraint_violation(evaluation.constraints(), scales), index);
  }
  for (const auto& key : first_in_order(by_rank, count + limit / 2))
    if (count < limit / 2) choose(std::get<2>(key));

  // Newest first. At most `count` of the first `recent_target` are already chosen.
  std::vector<std::pair<std::size_t, std::size_t>> by_recency;
  for (std::size_t index : all) by_recency.emplace_back(std::numeric_limits<std::size_t>::max() - history[index].last_told, index);
  const std::size_t recent_target = std::min(limit, count + limit / 4);
  for (const auto& key : first_in_order(by_recency, recent_target))
    if (count < recent_target) choose(key.second);

  std::vector<std::size_t> rest;
  for (std::size_t index : all)
    if (!chosen[index]) rest.push_back(index);
  const std::size_t spread = limit - count;
  // Evenly spaced over `rest`, first and last included when there is room for both.
  for (std::size_t k = 0; k < spread && !rest.empty(); ++k) {
    const std::size_t position = spread == 1 ? 0 : k * (rest.size() - 1) / (spread - 1);
    choose(rest[position]);
  }

  std::vector<std::size_t> rows;
  for (std::size_t index : all)
    if (chosen[index]) rows.push_back(index);
  return rows;
}

} // namespace trimtab::detail
