#include <trimtab/core/window.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace trimtab {
namespace {

// The series a scrape holds for the signal's metric from its source, or none.
template <typename Map>
[[nodiscard]] const typename Map::mapped_type* series_of(const Map& by_metric, const SignalSpec& spec) {
  const auto found = spec.metrics_source.empty() ? by_metric.find(spec.metric)
                                                 : by_metric.find(scrape_key(spec.metrics_source, spec.metric));
  return found == by_metric.end() ? nullptr : &found->second;
}

// Sum over the matching series of their increase from `before` to `after`.
[[nodiscard]] double counter_increase(const Scrape& before, const Scrape& after, const SignalSpec& spec) {
  const auto* now = series_of(after.values, spec);
  const auto* then = series_of(before.values, spec);
  if (now == nullptr || then == nullptr) return 0.0;
  double total = 0.0;
  for (const auto& [labels, value] : *now) {
    if (!spec.matches(labels)) continue;
    const auto previous = then->find(labels);
    if (previous == then->end()) continue; // first appearance: a baseline
    total += value >= previous->second ? value - previous->second : value;
  }
  return total;
}

// Bucket deltas from `before` to `after`, summed across the matching series per bound.
[[nodiscard]] BucketCounts bucket_deltas(const Scrape& before, const Scrape& after, const SignalSpec& spec) {
  BucketCounts total;
  const auto* now = series_of(after.histograms, spec);
  const auto* then = series_of(before.histograms, spec);
  if (now == nullptr || then == nullptr) return total;
  std::vector<std::pair<double, std::pair<double, double>>> common; // bound → (before, after)
  for (const auto& [labels, buckets] : *now) {
    if (!spec.matches(labels)) continue;
    const auto previous = then->find(labels);
    if (previous == then->end()) continue;
    common.clear();
    bool reset = false;
    for (const auto& [bound, count] : buckets) {
      const auto old = previous->second.find(bound);
      if (old == previous->second.end()) continue;
      common.push_back({bound, {old->second, count}});
      reset = reset || count < old->second;
    }
    for (const auto& [bound, counts] : common) total[bound] += reset ? counts.second : counts.second - counts.first;
  }
  return total;
}

// Prometheus' histogram_quantile over cumulative counts (see Window's comment).
[[nodiscard]] std::optional<double> histogram_quantile(double q, const BucketCounts& cumulative) {
  if (cumulative.size() < 2 || !std::isinf(cumulative.rbegin()->first)) return std::nullopt;
  std::vector<std::pair<double, double>> buckets(cumulative.begin(), cumulative.end());
  // Summing buckets scraped at slightly different moments, or across series, can leave a higher
  // bound with a smaller count; Prometheus carries the larger count up, and so does this.
  for (std::size_t i = 1; i < buckets.size(); ++i) buckets[i].second = std::max(buckets[i].second, buckets[i - 1].second);
  const double observations = buckets.back().second;
  if (!(observations > 0.0)) return std::nullopt;
  double rank = q * observations;
  const auto holder = std::find_if(buckets.begin(), buckets.end(), [&](const auto& b) { return b.second >= rank; });
  const auto b = static_cast<std::size_t>(holder - buckets.begin());
  if (b == buckets.size() - 1) return buckets[b - 1].first; // the +Inf bucket has no width to interpolate in
  if (b == 0 && buckets[0].first <= 0.0) return buckets[0].first;
  double start = 0.0;
  double count = buckets[b].second;
  if (b > 0) {
    start = buckets[b - 1].first;
    count -= buckets[b - 1].second;
    rank -= buckets[b - 1].second;
  }
  return start + (buckets[b].first - start) * (rank / count);
}

// Sum of the matching series' values in one scrape; none when no series matched.
[[nodiscard]] std::optional<double> gauge_at(const Scrape& scrape, const SignalSpec& spec) {
  const auto* series = series_of(scrape.values, spec);
  if (series == nullptr) return std::nullopt;
  std::optional<double> total;
  for (const auto& [labels, value] : *series)
    if (spec.matches(labels)) total = total.value_or(0.0) + value;
  return total;
}

// The largest of the matching series' values at the signal's quantile in one scrape; none when no
// series has one. The largest, because replicas' quantiles do not add or average into the quantile
// of all their observations together, but the largest bounds that quantile from above.
[[nodiscard]] std::optional<double> summary_quantile_at(const Scrape& scrape, const SignalSpec& spec) {
  const auto* series = series_of(scrape.summaries, spec);
  if (series == nullptr) return std::nullopt;
  std::optional<double> largest;
  for (const auto& [labels, quantiles] : *series) {
    if (!spec.matches(labels)) continue;
    for (const auto& [q, value] : quantiles) {
      if (!spec.matches_quantile(q) || std::isnan(value)) continue; // NaN: no observations yet
      largest = largest ? std::max(*largest, value) : value;
    }
  }
  return largest;
}

} // namespace

Window::Window(std::vector<SignalSpec> specs) : specs_(std::move(specs)) {
  validate_signal_specs(specs_);
  for (std::size_t i = 0; i < specs_.size(); ++i) index_.emplace(specs_[i].name, i);
}

void Window::add(Scrape scrape) {
  // Rates divide by elapsed time: equal or reversed times would divide by zero or go negative.
  if (!scrapes_.empty() && !(scrape.time_seconds > scrapes_.back().time_seconds))
    throw std::invalid_argument("scrape at " + std::to_string(scrape.time_seconds) + " s is not after the last one, at " +
                                std::to_string(scrapes_.back().time_seconds) + " s");
  scrapes_.push_back(std::move(scrape));
}

const SignalSpec& Window::spec(std::string_view signal) const {
  const auto found = index_.find(signal);
  if (found == index_.end()) throw std::invalid_argument("unknown signal '" + std::string(signal) + "'");
  return specs_[found->second];
}

std::optional<double> Window::value(std::string_view signal) const { return value_of(spec(signal)); }

std::vector<double> Window::samples(std::string_view signal) const {
  std::vector<double> out;
  for (const auto& value : track_of(spec(signal)).values)
    if (value) out.push_back(*value);
  return out;
}

std::optional<double> Window::value_of(const SignalSpec& spec) const {
  switch (spec.kind) {
  case SignalKind::rate: {
    if (scrapes_.size() < 2) return std::nullopt;
    double increase = 0.0;
    for (std::size_t i = 1; i < scrapes_.size(); ++i) increase += counter_increase(scrapes_[i - 1], scrapes_[i], spec);
    return spec.scale * increase / (scrapes_.back().time_seconds - scrapes_.front().time_seconds);
  }
  case SignalKind::quantile: {
    if (spec.source == QuantileSource::summary) {
      // Each value already covers the client's own sliding window, so there are no deltas to take.
      double sum = 0.0;
      std::size_t count = 0;
      for (const auto& scrape : scrapes_) {
        const auto value = summary_quantile_at(scrape, spec);
        if (!value) continue;
        sum += *value;
        ++count;
      }
      if (count == 0) return std::nullopt;
      return spec.scale * sum / static_cast<double>(count);
    }
    if (scrapes_.size() < 2) return std::nullopt;
    BucketCounts total;
    bool first = true;
    for (std::size_t i = 1; i < scrapes_.size(); ++i) {
      const BucketCounts deltas = bucket_deltas(scrapes_[i - 1], scrapes_[i], spec);
      if (deltas.empty()) continue; // no series in both scrapes: says nothing about the layout
      if (first) {
        total = deltas;
        first = false;
        continue;
      }
      // Keep only the bounds this interval has too (see the class comment).
      for (auto it = total.begin(); it != total.end();) {
        const auto delta = deltas.find(it->first);
        if (delta == deltas.end()) {
          it = total.erase(it);
        } else {
          it->second += delta->second;
          ++it;
        }
      }
    }
    const auto quantile = histogram_quantile(spec.q, total);
    if (!quantile) return std::nullopt;
    return spec.scale * *quantile;
  }
  case SignalKind::gauge: {
    std::optional<double> reduced;
    std::size_t count = 0;
    for (const auto& scrape : scrapes_) {
      const auto value = gauge_at(scrape, spec);
      if (!value) continue;
      ++count;
      switch (spec.reduce) {
      case GaugeReduce::mean:
        reduced = reduced.value_or(0.0) + *value;
        break;
      case GaugeReduce::max:
        reduced = reduced ? std::max(*reduced, *value) : *value;
        break;
      case GaugeReduce::last:
        reduced = *value;
        break;
      }
    }
    if (!reduced) return std::nullopt;
    if (spec.reduce == GaugeReduce::mean) *reduced /= static_cast<double>(count);
    return spec.scale * *reduced;
  }
  case SignalKind::ratio: {
    const auto numerator = value_of(this->spec(spec.numerator));
    const auto denominator = value_of(this->spec(spec.denominator));
    if (!numerator || !denominator || *denominator == 0.0) return std::nullopt;
    return spec.scale * *numerator / *denominator;
  }
  }
  return std::nullopt;
}

Window::Track Window::track_of(const SignalSpec& spec) const {
  Track track;
  switch (spec.kind) {
  case SignalKind::rate:
    for (std::size_t i = 1; i < scrapes_.size(); ++i) {
      const double elapsed = scrapes_[i].time_seconds - scrapes_[i - 1].time_seconds;
      track.values.emplace_back(spec.scale * counter_increase(scrapes_[i - 1], scrapes_[i], spec) / elapsed);
    }
    break;
  case SignalKind::quantile:
    if (spec.source == QuantileSource::summary) {
      track.per_scrape = true;
      for (const auto& scrape : scrapes_) {
        const auto value = summary_quantile_at(scrape, spec);
        track.values.push_back(value ? std::optional<double>(spec.scale * *value) : std::nullopt);
      }
      break;
    }
    for (std::size_t i = 1; i < scrapes_.size(); ++i) {
      const auto quantile = histogram_quantile(spec.q, bucket_deltas(scrapes_[i - 1], scrapes_[i], spec));
      track.values.push_back(quantile ? std::optional<double>(spec.scale * *quantile) : std::nullopt);
    }
    break;
  case SignalKind::gauge:
    track.per_scrape = true;
    for (const auto& scrape : scrapes_) {
      const auto value = gauge_at(scrape, spec);
      track.values.push_back(value ? std::optional<double>(spec.scale * *value) : std::nullopt);
    }
    break;
  case SignalKind::ratio: {
    Track numerator = track_of(this->spec(spec.numerator));
    Track denominator = track_of(this->spec(spec.denominator));
    // Pair an interval with the scrape that ends it: drop the per-scrape side's first scrape.
    if (numerator.per_scrape != denominator.per_scrape) {
      auto& per_scrape = numerator.per_scrape ? numerator.values : denominator.values;
      if (!per_scrape.empty()) per_scrape.erase(per_scrape.begin());
    }
    track.per_scrape = numerator.per_scrape && denominator.per_scrape;
    const std::size_t n = std::min(numerator.values.size(), denominator.values.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto& num = numerator.values[i];
      const auto& den = denominator.values[i];
      track.values.push_back(num && den && *den != 0.0 ? std::optional<double>(spec.scale * *num / *den)
                                                       : std::nullopt);
    }
    break;
  }
  }
  return track;
}

} // namespace trimtab
