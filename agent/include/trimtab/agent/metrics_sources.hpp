#pragma once

// The sources of `target.metrics`, scraped together: one fetch per source (an HTTP GET, a file, or
// a built-in reader of PgBouncer, Redis or PostgreSQL), and one Scrape of them all per interval.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <trimtab/adapters/service_metrics.hpp>
#include <trimtab/agent/metrics_fetcher.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/json_scrape.hpp>
#include <trimtab/core/scrape.hpp>

namespace trimtab {

/// One source: where its document comes from.
class MetricsSource {
public:
  /// Builds the built-in reader of a pgbouncer, redis or postgres source (its options checked and
  /// its password read; nothing connected). Throws std::invalid_argument naming the source.
  explicit MetricsSource(MetricsSourceConfig config);

  [[nodiscard]] const MetricsSourceConfig& config() const noexcept { return config_; }
  /// What the source is, for people: its URL, or "pgbouncer admin console" (never a dsn).
  [[nodiscard]] std::string where() const;

  /// Fetches one document: the body as served (http, file), or the built-in reader's series as
  /// Prometheus text. A failure's message starts with "source 'NAME': ". `accept` overrides the
  /// Accept header of an HTTP fetch when not empty.
  [[nodiscard]] boost::asio::awaitable<FetchResult> fetch(boost::asio::any_io_executor executor,
                                                          std::string accept = {}) const;

private:
  MetricsSourceConfig config_;
  std::unique_ptr<ServiceMetrics> built_in_;
};

/// The text format a source's body is parsed in: what its Content-Type names, else its format's.
[[nodiscard]] ExpositionFormat exposition_format(const std::string& content_type, MetricsFormat configured);

/// What one scrape of every source gave.
struct SourcesScrape {
  /// Every source's series at one time; nothing when a source failed (a window is never scored
  /// from some sources' series and not others').
  std::optional<Scrape> scrape;
  /// "source 'db': GET http://…: connect: Connection refused" for the first failed source, or a
  /// source's first malformed line ("source 'app': line 3:1: …") when the scrape is still kept.
  std::string error;
  /// Sources whose document held malformed lines (the rest was used).
  std::size_t malformed = 0;
  /// How long fetching every source took.
  double seconds = 0;
};

/// Every source of a config, with its reader (a ScrapeCollector per text source, a
/// JsonScrapeReader per JSON source), each keeping the series of the signals that read it.
class MetricsSources {
public:
  /// Throws std::invalid_argument naming the source or the signal: options a built-in reader
  /// refuses, or a signal a JSON source cannot give (a quantile, a match).
  MetricsSources(const TargetConfig& target, const std::vector<SignalSpec>& signals);
  ~MetricsSources();

  /// Reads the first source from the host instead (embedded): `body` returns its document.
  void set_first_source(std::function<std::string()> body);

  [[nodiscard]] const std::vector<MetricsSource>& sources() const noexcept { return sources_; }

  /// Fetches every source in turn, then reads them as one Scrape at `clock()` (the time after the
  /// last fetch, in seconds).
  [[nodiscard]] boost::asio::awaitable<SourcesScrape> scrape(boost::asio::any_io_executor executor,
                                                             std::function<double()> clock);

private:
  struct Reader;
  std::vector<MetricsSource> sources_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::function<std::string()> first_body_;
};

} // namespace trimtab
