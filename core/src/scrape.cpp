#include <trimtab/core/scrape.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace trimtab {
namespace {

// An `le` or `quantile` label's value: a float, or +Inf spelled as the exposition formats allow.
[[nodiscard]] std::optional<double> parse_number(std::string_view text) {
  if (text == "+Inf" || text == "Inf" || text == "+inf" || text == "inf")
    return std::numeric_limits<double>::infinity();
  // from_chars takes no leading '+', which some exporters write before finite bounds too.
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || std::isnan(value)) return std::nullopt;
  return value;
}

// Fills `key` with a sample's labels but `special` (a histogram's `le`, a summary's `quantile`),
// unsorted, and returns that label's value as a number, if it has one.
[[nodiscard]] std::optional<double> split_off(std::span<const Label> labels, std::string_view special,
                                              SeriesLabels& key) {
  std::optional<double> number;
  key.clear();
  for (const auto& label : labels) {
    if (label.name == special)
      number = parse_number(label.value);
    else
      key.emplace_back(label.name, label.value);
  }
  return number;
}

[[nodiscard]] bool any_matches(const std::vector<const SignalSpec*>& specs, std::span<const Label> labels) {
  return std::any_of(specs.begin(), specs.end(), [&](const SignalSpec* spec) { return spec->matches(labels); });
}

} // namespace

std::string scrape_key(std::string_view source, std::string_view metric) {
  if (source.empty()) return std::string(metric);
  std::string key;
  key.reserve(source.size() + 1 + metric.size());
  key.append(source).append(1, '\x1f').append(metric);
  return key;
}

void merge_scrapes(Scrape& into, Scrape&& part) {
  for (auto& [key, series] : part.values) into.values.insert_or_assign(key, std::move(series));
  for (auto& [key, series] : part.histograms) into.histograms.insert_or_assign(key, std::move(series));
  for (auto& [key, series] : part.summaries) into.summaries.insert_or_assign(key, std::move(series));
}

ScrapeCollector::ScrapeCollector(std::span<const SignalSpec> specs, std::string source)
    : specs_(specs.begin(), specs.end()) {
  validate_signal_specs(specs_);
  // Pointers into specs_ stay valid: it is never resized after this.
  for (const auto& spec : specs_) {
    if (spec.metrics_source != source) continue;
    switch (spec.kind) {
    case SignalKind::rate:
    case SignalKind::gauge:
      needs_[spec.metric].plain.push_back(&spec);
      break;
    case SignalKind::quantile: {
      if (spec.source == QuantileSource::summary) {
        needs_[spec.metric].summary.push_back(&spec);
        break;
      }
      auto& need = needs_[spec.metric + "_bucket"];
      need.histogram.push_back(&spec);
      need.histogram_name = spec.metric;
      need.histogram_key = scrape_key(source, spec.metric);
      break;
    }
    case SignalKind::ratio:
      break;
    }
  }
  for (auto& [name, need] : needs_) need.key = scrape_key(source, name);
}

void ScrapeCollector::start(double time_seconds) {
  scrape_ = Scrape{};
  scrape_.time_seconds = time_seconds;
}

Scrape ScrapeCollector::finish() {
  Scrape done = std::move(scrape_);
  scrape_ = Scrape{};
  return done;
}

void ScrapeCollector::on_family(std::string_view, MetricType, std::string_view, std::string_view) {}

void ScrapeCollector::on_sample(const Sample& sample) {
  const auto found = needs_.find(sample.name);
  if (found == needs_.end()) return;
  const Need& need = found->second;

  if (!need.plain.empty() && any_matches(need.plain, sample.labels)) {
    key_.clear();
    for (const auto& label : sample.labels) key_.emplace_back(label.name, label.value);
    std::sort(key_.begin(), key_.end());
    scrape_.values[need.key][key_] = sample.value;
  }

  if (!need.histogram.empty() && any_matches(need.histogram, sample.labels)) {
    const auto bound = split_off(sample.labels, "le", key_);
    if (bound) { // a bucket without a usable upper bound cannot be placed
      std::sort(key_.begin(), key_.end());
      scrape_.histograms[need.histogram_key][key_][*bound] = sample.value;
    }
  }

  if (!need.summary.empty()) {
    const auto quantile = split_off(sample.labels, "quantile", key_);
    if (!quantile) return; // not a quantile series, or one whose quantile is not a number
    const bool wanted = std::any_of(need.summary.begin(), need.summary.end(), [&](const SignalSpec* spec) {
      return spec->matches_quantile(*quantile) && spec->matches(sample.labels);
    });
    if (!wanted) return;
    std::sort(key_.begin(), key_.end());
    scrape_.summaries[need.key][key_][*quantile] = sample.value;
  }
}

} // namespace trimtab
