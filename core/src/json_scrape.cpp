#include <trimtab/core/json_scrape.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <variant>

#include <boost/json/parser.hpp>

namespace trimtab {
namespace {

// "line 3, column 7 (offset 41)", 1-based and in bytes, as editors count them.
[[nodiscard]] std::string location_of(std::string_view text, std::size_t offset) {
  const auto before = text.substr(0, offset);
  const auto line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const auto line_start = before.rfind('\n');
  const auto column = 1 + offset - (line_start == std::string_view::npos ? 0 : line_start + 1);
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (offset " +
         std::to_string(offset) + ")";
}

} // namespace

JsonScrapeReader::JsonScrapeReader(std::span<const SignalSpec> specs, const std::string& source) {
  validate_signal_specs(specs);
  for (const auto& spec : specs) {
    if (spec.kind != SignalKind::ratio && spec.metrics_source != source) continue;
    switch (spec.kind) {
    case SignalKind::ratio:
      continue; // reads its two signals, which are checked on their own
    case SignalKind::quantile:
      throw std::invalid_argument("signal '" + spec.name +
                                  "': quantile signals read histograms or summaries, which JSON metrics do not have");
    case SignalKind::rate:
    case SignalKind::gauge:
      break;
    }
    if (!spec.matchers.empty())
      throw std::invalid_argument("signal '" + spec.name + "': a JSON value has no labels for 'match' to select by");
    const auto existing = std::find_if(readings_.begin(), readings_.end(),
                                       [&](const Reading& reading) { return reading.path.text() == spec.metric; });
    if (existing != readings_.end()) {
      existing->signals.push_back(spec.name);
      continue;
    }
    try {
      readings_.push_back({JsonPath(spec.metric), {spec.name}, scrape_key(source, spec.metric)});
    } catch (const JsonPathError& e) {
      throw std::invalid_argument("signal '" + spec.name + "': '" + spec.metric + "' is not a JSON path, at " +
                                  e.what());
    }
  }
}

JsonScrapeResult JsonScrapeReader::read(std::string_view json_text, double time_seconds) const {
  JsonScrapeResult result;
  result.scrape.time_seconds = time_seconds;

  boost::json::parser parser;
  boost::system::error_code ec;
  // On failure write() returns where the parser stopped, which is where the text goes wrong.
  const std::size_t consumed = parser.write(json_text.data(), json_text.size(), ec);
  if (ec) {
    result.error = "malformed JSON at " + location_of(json_text, consumed) + ": " + ec.message();
    return result;
  }
  const boost::json::value document = parser.release();

  for (const auto& reading : readings_) {
    auto number = reading.path.read(document);
    if (const auto* value = std::get_if<double>(&number)) {
      result.scrape.values[reading.key][SeriesLabels{}] = *value;
      continue;
    }
    for (const auto& signal : reading.signals)
      result.problems.push_back("signal '" + signal + "' (" + reading.path.text() + "): " + std::get<std::string>(number));
  }
  return result;
}

} // namespace trimtab
