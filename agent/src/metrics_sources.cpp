#include <trimtab/agent/metrics_sources.hpp>

#include <chrono>
#include <stdexcept>
#include <utility>

#include <trimtab/adapters/adapter_error.hpp>

namespace trimtab {
namespace {

namespace asio = boost::asio;

} // namespace

MetricsSource::MetricsSource(MetricsSourceConfig config) : config_(std::move(config)) {
  if (is_built_in(config_.format))
    built_in_ = make_service_metrics(config_.format, config_.name, config_.options, config_.timeout);
}

std::string MetricsSource::where() const {
  switch (config_.format) {
  case MetricsFormat::pgbouncer: return "pgbouncer admin console";
  case MetricsFormat::postgres: return "postgres statistics views";
  case MetricsFormat::redis: {
    const auto address = config_.options.find("address");
    return "redis INFO at " + (address == config_.options.end() ? std::string("127.0.0.1:6379") : address->second);
  }
  default: break;
  }
  return config_.url;
}

asio::awaitable<FetchResult> MetricsSource::fetch(asio::any_io_executor executor, std::string accept) const {
  const std::string prefix = "source '" + config_.name + "': ";
  FetchResult result;
  if (built_in_) {
    const auto start = std::chrono::steady_clock::now();
    auto reading = co_await built_in_->read(executor);
    result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    result.error = reading.error;
    // The reader's message names it as "metrics source 'NAME': …" already.
    if (reading.error) result.message = reading.message.starts_with("metrics ") ? reading.message.substr(8) : prefix + reading.message;
    result.body = std::move(reading.text);
    result.content_type = "text/plain; version=0.0.4";
    co_return result;
  }
  FetchOptions options;
  options.timeout = config_.timeout;
  if (!accept.empty()) options.accept = std::move(accept);
  std::string url = config_.url;
  result = co_await fetch_metrics(executor, std::move(url), std::move(options));
  if (result.error) result.message = prefix + result.message;
  co_return result;
}

ExpositionFormat exposition_format(const std::string& content_type, MetricsFormat configured) {
  if (content_type.starts_with("application/openmetrics-text")) return ExpositionFormat::openmetrics;
  if (content_type.starts_with("text/plain")) return ExpositionFormat::prometheus;
  return configured == MetricsFormat::openmetrics ? ExpositionFormat::openmetrics : ExpositionFormat::prometheus;
}

// How one source's body becomes its part of the Scrape.
struct MetricsSources::Reader {
  Reader(const MetricsSourceConfig& config, const std::vector<SignalSpec>& signals, const std::string& key)
      : format(config.format) {
    if (format == MetricsFormat::json) json.emplace(signals, key);
    else collector = std::make_unique<ScrapeCollector>(signals, key);
  }

  MetricsFormat format;
  std::optional<JsonScrapeReader> json;
  std::unique_ptr<ScrapeCollector> collector;
};

MetricsSources::MetricsSources(const TargetConfig& target, const std::vector<SignalSpec>& signals) {
  if (target.sources.empty()) throw std::invalid_argument("target.metrics has no source");
  for (std::size_t i = 0; i < target.sources.size(); ++i) {
    const auto& config = target.sources[i];
    sources_.emplace_back(config);
    // The first source's series are keyed by their own names (SignalSpec::metrics_source is empty).
    const std::string key = i == 0 ? std::string() : config.name;
    try {
      readers_.push_back(std::make_unique<Reader>(config, signals, key));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("source '" + config.name + "' (format " + metrics_format_name(config.format) +
                                  "): " + e.what());
    }
  }
}

MetricsSources::~MetricsSources() = default;

void MetricsSources::set_first_source(std::function<std::string()> body) { first_body_ = std::move(body); }

asio::awaitable<SourcesScrape> MetricsSources::scrape(asio::any_io_executor executor, std::function<double()> clock) {
  SourcesScrape out;
  std::vector<FetchResult> fetched;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    if (i == 0 && first_body_) {
      FetchResult result;
      try {
        result.body = first_body_();
      } catch (const std::exception& e) {
        result.error = make_error_code(AdapterError::bad_response);
        result.message = "source '" + sources_[0].config().name + "': metrics source: " + e.what();
      }
      fetched.push_back(std::move(result));
    } else {
      fetched.push_back(co_await sources_[i].fetch(executor));
    }
    if (fetched.back().error) {
      out.error = std::move(fetched.back().message);
      out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      co_return out;
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double time = clock();
  Scrape scrape;
  scrape.time_seconds = time;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    auto& reader = *readers_[i];
    const auto& name = sources_[i].config().name;
    if (reader.json) {
      auto result = reader.json->read(fetched[i].body, time);
      if (!result.error.empty()) {
        ++out.malformed;
        out.error = "source '" + name + "': " + result.error;
        co_return out; // not JSON at all: nothing of it can be read
      }
      if (!result.problems.empty() && out.error.empty()) out.error = "source '" + name + "': " + result.problems.front();
      merge_scrapes(scrape, std::move(result.scrape));
      continue;
    }
    ExpositionParser parser(exposition_format(fetched[i].content_type, reader.format));
    reader.collector->start(time);
    const auto report = parser.parse(fetched[i].body, *reader.collector);
    if (!report.ok()) {
      // The parser keeps what it could read; the first error is worth a look, not a lost window.
      ++out.malformed;
      const auto& e = report.errors.front();
      if (out.error.empty())
        out.error = "source '" + name + "': line " + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
    }
    merge_scrapes(scrape, reader.collector->finish());
  }
  out.scrape = std::move(scrape);
  co_return out;
}

} // namespace trimtab
