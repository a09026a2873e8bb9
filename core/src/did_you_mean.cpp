#include <trimtab/core/did_you_mean.hpp>

#include <algorithm>
#include <vector>

#include <trimtab/core/ascii.hpp>

namespace trimtab {
namespace {

using ascii::lower;

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring letters each cost one, since "tiemout" is as likely a typo as "timeot".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

} // namespace

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  // One slip in a short word, about a third of a longer one: "foo" is not a misspelt "log".
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::string_view best;
  std::size_t best_distance = limit + 1;
  for (auto candidate : candidates) {
    const auto distance = edit_distance(word, candidate);
    if (distance <= limit && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string{} : " (did you mean '" + std::string(best) + "'?)";
}

} // namespace trimtab
