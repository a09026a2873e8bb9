#include "training_rows.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace trimtab::detail {
namespace {

// How far a configuration breaks its constraints: the sum of its positive mean slacks.
double violation(const Evaluation& evaluation) {
  double total = 0.0;
  for (std::size_t j = 0; j < evaluation.constraint_sums.size(); ++j) total += std::max(0.0, evaluation.constraint(j));
  return total;
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

  // Feasible first by loss, then measured ones by violation; never measured successfully: last.
  const auto rank = [&](std::size_t index) {
    const auto& evaluation = history[index];
    if (evaluation.successes() == 0) return std::tuple{2, 0.0};
    if (evaluation.feasible())
      return std::tuple{0, direction == Direction::maximize ? -evaluation.value() : evaluation.value()};
    return std::tuple{1, violation(evaluation)};
  };
  std::vector<std::size_t> ranked;
  for (std::size_t index : all)
    if (history[index].successes() > 0) ranked.push_back(index);
  std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
  for (std::size_t i = 0; i < ranked.size() && count < limit / 2; ++i) choose(ranked[i]);

  std::vector<std::size_t> recent = all;
  std::stable_sort(recent.begin(), recent.end(),
                   [&](std::size_t a, std::size_t b) { return history[a].last_told > history[b].last_told; });
  const std::size_t recent_target = std::min(limit, count + limit / 4);
  for (std::size_t i = 0; i < recent.size() && count < recent_target; ++i) choose(recent[i]);

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
