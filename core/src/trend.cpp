#include <trimtab/core/trend.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/normal.hpp>

namespace trimtab {

namespace {

/// The median of `values` (reordered); NaN when empty.
double median(std::vector<double>& values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return lower + (upper - lower) / 2;
}

int sign(double x) noexcept { return (x > 0) - (x < 0); }

} // namespace

std::optional<TrendResult> analyse_trend(std::span<const double> values, double alpha) {
  std::vector<double> x; // window positions of the finite values
  std::vector<double> y;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    x.push_back(static_cast<double>(i));
    y.push_back(values[i]);
  }
  const std::size_t n = y.size();
  if (n < 4) return std::nullopt;

  TrendResult result;
  result.count = n;
  std::vector<double> slopes;
  slopes.reserve(n * (n - 1) / 2);
  long long s = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double dy = y[j] - y[i];
      s += sign(dy);
      const double slope = dy / (x[j] - x[i]);
      if (std::isfinite(slope)) slopes.push_back(slope); // a difference of two huge values overflows
    }
  }
  result.mann_kendall_s = static_cast<double>(s);
  result.slope = slopes.empty() ? 0.0 : median(slopes);

  // Var(S) with ties: each group of t equal values removes t(t-1)(2t+5) from n(n-1)(2n+5).
  std::vector<double> sorted = y;
  std::sort(sorted.begin(), sorted.end());
  const auto term = [](double t) { return t * (t - 1) * (2 * t + 5); };
  double variance = term(static_cast<double>(n));
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && sorted[j] == sorted[i]) ++j;
    variance -= term(static_cast<double>(j - i));
    i = j;
  }
  variance /= 18;
  if (variance > 0 && s != 0) {
    // Continuity correction: S moves in steps of 2, so |S| - 1 is the midpoint below it.
    const double z = (std::abs(result.mann_kendall_s) - 1) / std::sqrt(variance);
    const boost::math::normal standard;
    result.p_value = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(standard, z)));
  } else {
    result.p_value = 1.0;
  }
  if (result.p_value < alpha && result.slope != 0) result.direction = sign(result.slope);
  return result;
}

const char* trend_label(int direction, Goodness goodness) noexcept {
  if (direction == 0) return "stable";
  switch (goodness) {
  case Goodness::higher_better: return direction > 0 ? "improving" : "degrading";
  case Goodness::lower_better: return direction > 0 ? "degrading" : "improving";
  case Goodness::unknown: break;
  }
  return direction > 0 ? "rising" : "falling";
}

std::vector<bool> flag_anomalies(std::span<const double> values, std::size_t lookback, double threshold) {
  constexpr std::size_t min_history = 5;
  constexpr double normal_consistency = 1.4826; // 1 / Φ⁻¹(3/4): MAD → standard deviation
  constexpr double relative_floor = 0.01;

  std::vector<bool> flags(values.size(), false);
  std::vector<double> recent;
  std::vector<double> deviations;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    recent.clear();
    for (std::size_t k = i > lookback ? i - lookback : 0; k < i; ++k)
      if (std::isfinite(values[k])) recent.push_back(values[k]);
    if (recent.size() < min_history) continue;
    const double centre = median(recent);
    deviations.clear();
    for (const double v : recent) deviations.push_back(std::abs(v - centre));
    const double mad = median(deviations);
    const double scale = std::max({normal_consistency * mad, relative_floor * std::abs(centre),
                                   std::numeric_limits<double>::min()});
    flags[i] = std::abs(values[i] - centre) / scale > threshold;
  }
  return flags;
}

} // namespace trimtab
