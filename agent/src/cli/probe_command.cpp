#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/program_options.hpp>

#include <trimtab/agent/exposition_writer.hpp>
#include <trimtab/agent/metrics_fetcher.hpp>
#include <trimtab/agent/metrics_sources.hpp>
#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>
#include <trimtab/core/did_you_mean.hpp>
#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/expression.hpp>
#include <trimtab/core/json_scrape.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/window.hpp>

#include "commands.hpp"

namespace trimtab::cli {
namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

// Exit codes of `trimtab probe` (1 is a usage error, as for every command).
constexpr int exit_ok = 0;
constexpr int exit_config = 2; // also: malformed lines in --file
constexpr int exit_unreachable = 3;
constexpr int exit_no_value = 4;

// Families in order of appearance with their sample counts. A sample belongs to the family just
// declared when its name extends the family's (x_bucket, x_sum and x_count belong to x);
// otherwise it is a family of its own, untyped.
class FamilyCounter final : public ExpositionVisitor {
public:
  struct Family {
    std::string name;
    MetricType type = MetricType::untyped;
    std::size_t samples = 0;
  };

  void on_family(std::string_view name, MetricType type, std::string_view, std::string_view) override {
    families_.push_back(Family{std::string(name), type, 0});
  }

  void on_sample(const Sample& sample) override {
    if (families_.empty() || !sample.name.starts_with(families_.back().name))
      families_.push_back(Family{std::string(sample.name), MetricType::untyped, 0});
    ++families_.back().samples;
  }

  [[nodiscard]] const std::vector<Family>& families() const noexcept { return families_; }

private:
  std::vector<Family> families_;
};

// A file's bytes: mapped when it can be, since an exposition can be tens of megabytes and reading
// it into memory took longer than parsing it; read when it cannot be mapped (a pipe, an empty file).
class FileText {
public:
  FileText(const std::string& path, std::ifstream& in) {
    namespace ipc = boost::interprocess;
    try {
      mapping_ = ipc::file_mapping(path.c_str(), ipc::read_only);
      region_ = ipc::mapped_region(mapping_, ipc::read_only);
      region_.advise(ipc::mapped_region::advice_sequential);
      text_ = {static_cast<const char*>(region_.get_address()), region_.get_size()};
      return;
    } catch (const ipc::interprocess_exception&) {
    }
    std::ostringstream contents;
    contents << in.rdbuf();
    copy_ = std::move(contents).str();
    text_ = copy_;
  }

  [[nodiscard]] std::string_view text() const noexcept { return text_; }

private:
  boost::interprocess::file_mapping mapping_;
  boost::interprocess::mapped_region region_;
  std::string copy_;
  std::string_view text_;
};

int probe_file(const std::string& file, const std::string& format_name) {
  const auto format = metrics_format_from_name(format_name);
  if (format != MetricsFormat::prometheus && format != MetricsFormat::openmetrics) {
    std::cerr << "trimtab probe: unknown format '" << format_name << "' (prometheus or openmetrics)\n";
    return 1;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "trimtab probe: " << file << ": cannot read the file\n";
    return 1;
  }
  const FileText contents(file, in);
  const std::string_view text = contents.text();

  ExpositionParser parser(exposition_format({}, *format));
  FamilyCounter counter;
  const auto report = parser.parse(text, counter);

  std::size_t width = 6;
  for (const auto& family : counter.families()) width = std::max(width, family.name.size());
  std::cout << std::left;
  std::cout.width(static_cast<std::streamsize>(width + 2));
  std::cout << "family" << "type            samples\n";
  for (const auto& family : counter.families()) {
    std::cout.width(static_cast<std::streamsize>(width + 2));
    std::cout << family.name;
    std::cout.width(16);
    std::cout << metric_type_name(family.type) << family.samples << '\n';
  }
  std::cout << counter.families().size() << " families, " << report.samples << " samples, " << text.size()
            << " bytes\n";
  for (const auto& error : report.errors)
    std::cerr << file << ':' << error.line << ':' << error.column << ": " << error.message << '\n';
  if (report.truncated) std::cerr << file << ": more errors not shown\n";
  return report.ok() ? 0 : 2;
}

// ---- probing a live target -------------------------------------------------------------------

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

std::string format_fixed(double value, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string_view kind_name(SignalKind kind) {
  switch (kind) {
  case SignalKind::rate: return "rate";
  case SignalKind::quantile: return "quantile";
  case SignalKind::gauge: return "gauge";
  case SignalKind::ratio: break;
  }
  return "ratio";
}

std::string_view op_text(LabelMatcher::Op op) {
  switch (op) {
  case LabelMatcher::Op::equal: return "=";
  case LabelMatcher::Op::not_equal: return "!=";
  case LabelMatcher::Op::regex: return "=~";
  case LabelMatcher::Op::not_regex: break;
  }
  return "!~";
}

// `name{code=~"5.."}`, as PromQL writes a selector; `extra` adds a label condition first.
std::string selector(const std::string& name, const std::vector<LabelMatcher>& matchers,
                     const std::string& extra = {}) {
  std::string text = name;
  if (matchers.empty() && extra.empty()) return text;
  text += '{';
  text += extra;
  for (const auto& matcher : matchers) {
    if (text.back() != '{') text += ',';
    text += matcher.label();
    text += op_text(matcher.op());
    text += '"' + matcher.value() + '"';
  }
  return text + '}';
}

// What to ask the target for: the configured format first.
std::string accept_for(MetricsFormat format) {
  switch (format) {
  case MetricsFormat::prometheus: return "text/plain;version=0.0.4,*/*;q=0.1";
  case MetricsFormat::json: return "application/json,*/*;q=0.1";
  default: break;
  }
  return FetchOptions{}.accept;
}

// Hands samples to the collector and notes every family and sample name seen, so a signal that
// found nothing can say whether its metric is absent or only its labels matched nothing.
class NotingVisitor final : public ExpositionVisitor {
public:
  NotingVisitor(ScrapeCollector& collector, std::set<std::string, std::less<>>& names)
      : collector_(collector), names_(names) {}

  void on_family(std::string_view name, MetricType type, std::string_view help, std::string_view unit) override {
    note(name);
    collector_.on_family(name, type, help, unit);
  }

  void on_sample(const Sample& sample) override {
    note(sample.name);
    collector_.on_sample(sample);
  }

private:
  void note(std::string_view name) {
    if (names_.find(name) == names_.end()) names_.emplace(name);
  }

  ScrapeCollector& collector_;
  std::set<std::string, std::less<>>& names_;
};

struct SignalRow {
  std::optional<double> value;
  std::string why; // when there is no value
};

// Scrapes the sources of a tuning config a few times and reports what the agent would see.
class LiveProbe {
public:
  LiveProbe(const TuningConfig& config, int scrapes) : config_(config), scrapes_(scrapes), window_(config.policy.signals) {
    for (std::size_t i = 0; i < config.target.sources.size(); ++i) {
      const auto& source = config.target.sources[i];
      auto probe = std::make_unique<SourceProbe>(source, i == 0 ? std::string() : source.name);
      try {
        if (source.format == MetricsFormat::json) probe->json.emplace(config.policy.signals, probe->key); // throws for unreadable signals
        else probe->collector = std::make_unique<ScrapeCollector>(config.policy.signals, probe->key);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("source '" + source.name + "' (" + metrics_format_name(source.format) + "): " + e.what());
      }
      sources_.push_back(std::move(probe));
    }
  }

  // The exit code.
  asio::awaitable<int> run(asio::any_io_executor executor) {
    const auto& target = config_.target;
    const bool several = sources_.size() > 1;
    std::cout << "probing ";
    if (several) std::cout << sources_.size() << " sources (";
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      const auto& source = sources_[i]->source;
      std::cout << (i > 0 ? ", " : "") << (several ? source.config().name + ": " : "") << source.where() << " ("
                << metrics_format_name(source.config().format) << ")";
    }
    std::cout << (several ? ")" : "") << ": " << scrapes_ << " scrapes, " << target.interval.count()
              << " ms apart, timeout " << target.sources.front().timeout.count() << " ms\n";
    asio::steady_timer timer(executor);
    const Clock::time_point origin = Clock::now();
    double last_time = -1.0;
    for (int i = 0; i < scrapes_; ++i) {
      if (i > 0) {
        timer.expires_at(origin + i * target.interval);
        co_await timer.async_wait(asio::use_awaitable);
      }
      const Clock::time_point start = Clock::now();
      std::vector<FetchResult> results;
      for (const auto& probe : sources_) {
        results.push_back(co_await probe->source.fetch(executor, accept_for(probe->source.config().format)));
        if (!results.back().ok()) {
          std::cout.flush();
          std::cerr << "trimtab probe: cannot scrape " << (several ? "a source" : "the target") << ": "
                    << results.back().message << '\n';
          co_return exit_unreachable;
        }
      }
      // The documents describe some moment during the requests: take their middle.
      double time = std::chrono::duration<double>(start - origin).count() +
                    std::chrono::duration<double>(Clock::now() - start).count() / 2;
      if (time <= last_time) time = last_time + 1e-6;
      last_time = time;

      std::cout << "scrape " << i + 1 << '/' << scrapes_ << ": at " << format_fixed(time, 3) << " s";
      Scrape scrape;
      scrape.time_seconds = time;
      for (std::size_t s = 0; s < sources_.size(); ++s) {
        if (several) std::cout << "\n  " << sources_[s]->source.config().name << ':';
        std::cout << (several ? " took " : ", took ")
                  << format_fixed(static_cast<double>(results[s].elapsed.count()) / 1000.0, 1) << " ms, "
                  << results[s].body.size() << " bytes";
        if (!add(*sources_[s], results[s], time, scrape)) co_return exit_unreachable;
      }
      keep(std::move(scrape));
      std::cout << '\n' << std::flush;
    }
    co_return report();
  }

private:
  // One source: where it is read from, and its reader.
  struct SourceProbe {
    SourceProbe(const MetricsSourceConfig& config, std::string key_in) : source(config), key(std::move(key_in)) {}
    MetricsSource source;
    std::string key; // SignalSpec::metrics_source of the signals that read it
    std::unique_ptr<ScrapeCollector> collector;
    std::optional<JsonScrapeReader> json;
    std::set<std::string, std::less<>> names; // every family and sample name seen
    bool warned_malformed = false;
  };

  // Parses one body into `scrape`; false when it cannot be read at all (not JSON).
  bool add(SourceProbe& probe, const FetchResult& result, double time, Scrape& scrape) {
    const auto where = probe.source.where();
    if (probe.json) {
      auto read = probe.json->read(result.body, time);
      if (!read.ok()) {
        std::cout << '\n' << std::flush;
        std::cerr << "trimtab probe: " << where << ": the body is not JSON: " << read.error << '\n';
        return false;
      }
      for (const auto& spec : config_.policy.signals) {
        const std::string prefix = "signal '" + spec.name + "' ";
        for (const auto& problem : read.problems)
          if (problem.starts_with(prefix)) json_problems_[spec.name] = problem.substr(prefix.size());
      }
      merge_scrapes(scrape, std::move(read.scrape));
      return true;
    }
    const ExpositionFormat format = exposition_format(result.content_type, probe.source.config().format);
    ExpositionParser parser(format);
    NotingVisitor visitor(*probe.collector, probe.names);
    probe.collector->start(time);
    const ParseReport report = parser.parse(result.body, visitor);
    merge_scrapes(scrape, probe.collector->finish());
    if (format == ExpositionFormat::openmetrics) std::cout << " (openmetrics)";
    if (!report.ok()) {
      std::cout << ", " << report.errors.size() << (report.truncated ? "+" : "") << " malformed lines";
      if (!probe.warned_malformed) {
        probe.warned_malformed = true;
        const auto& first = report.errors.front();
        std::cerr << where << ':' << first.line << ':' << first.column << ": " << first.message
                  << " (the line is skipped; the first malformed line is shown)\n";
      }
    }
    return true;
  }

  [[nodiscard]] const SourceProbe& source_of(const SignalSpec& spec) const {
    for (const auto& probe : sources_)
      if (probe->key == spec.metrics_source) return *probe;
    return *sources_.front();
  }

  void keep(Scrape scrape) {
    scrapes_seen_.push_back(scrape);
    window_.add(std::move(scrape));
  }

  [[nodiscard]] bool name_seen(const SignalSpec& spec, const std::string& name) const {
    const auto& names = source_of(spec).names;
    if (names.contains(name)) return true;
    // OpenMetrics names a counter's family without its _total.
    return name.ends_with("_total") && names.contains(std::string_view(name).substr(0, name.size() - 6));
  }

  [[nodiscard]] std::string absent(const SignalSpec& spec, const std::string& name) const {
    const auto& source = source_of(spec);
    std::vector<std::string_view> candidates(source.names.begin(), source.names.end());
    return "no series named " + name + " in " + std::to_string(scrapes_seen_.size()) + " scrapes" +
           (sources_.size() > 1 ? " of source '" + source.source.config().name + "'" : std::string()) +
           did_you_mean(name, candidates);
  }

  // Whether any scrape held a series of `table[metric]` passing the signal's matchers and `also`.
  template <typename Table, typename Also>
  [[nodiscard]] bool any_series(const SignalSpec& spec, Table Scrape::*table, Also also) const {
    return std::any_of(scrapes_seen_.begin(), scrapes_seen_.end(), [&](const Scrape& scrape) {
      const auto found = (scrape.*table).find(scrape_key(spec.metrics_source, spec.metric));
      if (found == (scrape.*table).end()) return false;
      return std::any_of(found->second.begin(), found->second.end(),
                         [&](const auto& series) { return spec.matches(series.first) && also(series.second); });
    });
  }

  // Why a signal has no value; empty when it has one.
  [[nodiscard]] std::string why_not(const SignalSpec& spec, const std::optional<double>& value) const {
    const auto always = [](const auto&) { return true; };
    if (source_of(spec).json) {
      // Ratios never get here; a rate whose path never led to a number is missing, not 0.
      if (value && any_series(spec, &Scrape::values, always)) return {};
      const auto problem = json_problems_.find(spec.name);
      return problem != json_problems_.end() ? problem->second : "no value";
    }
    switch (spec.kind) {
    case SignalKind::rate:
    case SignalKind::gauge:
      // A rate over no series is 0 to the window; here it is reported as missing.
      if (any_series(spec, &Scrape::values, always)) return value ? "" : "no value";
      if (!name_seen(spec, spec.metric)) return absent(spec, spec.metric);
      return "no series matched " + selector(spec.metric, spec.matchers);
    case SignalKind::quantile:
      if (value) return {};
      if (spec.source == QuantileSource::summary) {
        const auto has_q = [&](const SummaryQuantiles& quantiles) {
          return std::any_of(quantiles.begin(), quantiles.end(),
                             [&](const auto& entry) { return spec.matches_quantile(entry.first); });
        };
        if (any_series(spec, &Scrape::summaries, has_q))
          return "the summary has had no observations (its quantile is NaN)";
        if (!name_seen(spec, spec.metric)) return absent(spec, spec.metric);
        return "no series matched " + selector(spec.metric, spec.matchers, "quantile=\"" + format_number(spec.q) + "\"");
      }
      if (!any_series(spec, &Scrape::histograms, always)) {
        const std::string buckets = spec.metric + "_bucket";
        if (!name_seen(spec, buckets) && !name_seen(spec, spec.metric)) return absent(spec, buckets);
        return "no series matched " + selector(buckets, spec.matchers);
      }
      if (!any_series(spec, &Scrape::histograms,
                      [](const BucketCounts& buckets) { return buckets.contains(std::numeric_limits<double>::infinity()); }))
        return "the histogram has no +Inf bucket";
      return "no observations during the probe (the buckets did not grow)";
    case SignalKind::ratio:
      break;
    }
    return value ? "" : "no value";
  }

  // The row of a signal; ratios from the rows of their parts, so a part without a value here
  // leaves the ratio without one too.
  const SignalRow& row(const std::string& name) {
    if (const auto found = rows_.find(name); found != rows_.end()) return found->second;
    const auto spec = std::find_if(config_.policy.signals.begin(), config_.policy.signals.end(),
                                   [&](const SignalSpec& s) { return s.name == name; });
    SignalRow row;
    if (spec->kind == SignalKind::ratio) {
      const SignalRow numerator = this->row(spec->numerator);
      const SignalRow denominator = this->row(spec->denominator);
      if (!numerator.value)
        row.why = "its numerator '" + spec->numerator + "' has no value";
      else if (!denominator.value)
        row.why = "its denominator '" + spec->denominator + "' has no value";
      else if ((row.value = window_.value(name)); !row.value)
        row.why = "its denominator '" + spec->denominator + "' is 0";
    } else {
      row.value = window_.value(name);
      row.why = why_not(*spec, row.value);
      if (!row.why.empty()) row.value.reset();
    }
    return rows_.emplace(name, std::move(row)).first->second;
  }

  // Values of `variables`, or the first one without a value.
  std::optional<std::vector<double>> values_of(const std::vector<std::string>& variables, std::string& missing) {
    std::vector<double> values;
    for (const auto& variable : variables) {
      const auto& row = this->row(variable);
      if (!row.value) {
        missing = variable;
        return std::nullopt;
      }
      values.push_back(*row.value);
    }
    return values;
  }

  int report() {
    std::size_t width = std::string_view("constraint").size();
    for (const auto& spec : config_.policy.signals) width = std::max(width, spec.name.size());
    const auto cell = [&](std::string_view text, std::size_t cell_width) {
      std::cout << text << std::string(cell_width > text.size() ? cell_width - text.size() : 1, ' ');
    };

    std::cout << '\n';
    cell("signal", width + 2);
    cell("kind", 10);
    std::cout << "value\n";
    bool all_values = true;
    for (const auto& spec : config_.policy.signals) {
      const auto& row = this->row(spec.name);
      cell(spec.name, width + 2);
      cell(kind_name(spec.kind), 10);
      if (row.value)
        std::cout << format_number(*row.value) << '\n';
      else
        std::cout << "no value: " << row.why << '\n';
      all_values = all_values && row.value.has_value();
    }

    std::cout << '\n';
    const auto& objective = config_.policy.objective;
    cell("objective", width + 2);
    std::cout << (config_.policy.direction == Direction::maximize ? "maximize " : "minimize ") << objective.text();
    std::string missing;
    if (const auto values = values_of(objective.variables(), missing)) {
      const double value = objective.evaluate(*values);
      std::cout << " = " << format_number(value) << (std::isfinite(value) ? "" : " (cannot be scored)") << '\n';
    } else {
      std::cout << ": cannot evaluate (" << missing << " has no value)\n";
    }
    for (const auto& constraint : config_.policy.constraints) {
      cell("constraint", width + 2);
      std::cout << constraint.text << ": ";
      const auto values = values_of(constraint.variables(), missing);
      if (!values) {
        std::cout << "cannot evaluate (" << missing << " has no value)\n";
        continue;
      }
      const double left = constraint.left.evaluate(*values), right = constraint.right.evaluate(*values);
      const double slack = constraint.slack(*values);
      if (!std::isfinite(left) || !std::isfinite(right)) {
        // A ratio over no traffic (0 / 0) has no value; printing "-nan >= 0.7" says nothing.
        std::cout << "cannot be judged yet: " << (std::isfinite(left) ? "its right side" : "its left side")
                  << " has no value (no traffic between the two scrapes?)\n";
        continue;
      }
      std::cout << format_number(left) << ' ' << relation_text(constraint.relation) << ' ' << format_number(right)
                << ", " << (!std::isfinite(slack) ? "cannot be judged" : slack <= 0 ? "holds" : "violated") << '\n';
    }
    if (!all_values) {
      std::cout.flush();
      std::cerr << "trimtab probe: some signals have no value (see the table)\n";
    }
    return all_values ? exit_ok : exit_no_value;
  }

  const TuningConfig& config_;
  int scrapes_;
  std::vector<std::unique_ptr<SourceProbe>> sources_;
  Window window_;
  std::vector<Scrape> scrapes_seen_;
  std::map<std::string, std::string> json_problems_; // the latest problem of each JSON signal
  std::map<std::string, SignalRow> rows_;
};

int probe_live(const std::string& config_path, int scrapes) {
  std::optional<TuningConfig> config;
  try {
    config.emplace(load_tuning_config(config_path));
  } catch (const ConfigErrors& e) {
    std::cerr << e.what() << '\n' << e.errors().size() << " mistakes in " << config_path << '\n';
    return exit_config;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return exit_config;
  }

  std::optional<LiveProbe> probe;
  try {
    probe.emplace(*config, scrapes);
  } catch (const std::invalid_argument& e) {
    std::cerr << config_path << ": " << e.what() << '\n';
    return exit_config;
  }

  asio::io_context io;
  int code = 1;
  std::exception_ptr failure;
  asio::co_spawn(io, probe->run(io.get_executor()), [&](std::exception_ptr error, int exit_code) {
    failure = error;
    code = exit_code;
  });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::cerr << "trimtab probe: " << e.what() << '\n';
      return 1;
    }
  }
  return code;
}

} // namespace

int probe_command(const std::vector<std::string>& args) {
  po::options_description options(R"(usage: trimtab probe TUNING.yaml [--scrapes N]
       trimtab probe --file FILE [--format prometheus|openmetrics]

With a tuning config, scrapes its target (every source of target.metrics) N times, the
interval apart, and prints each scrape's time and each source's size, then each signal's value
over the probe, or why it has none (a rate or gauge no series matched has none here, though the
agent would count such a rate as 0), the objective's value and whether each constraint holds.
Exit codes: 0 every signal has a value, 2 the config has a mistake, 3 the target could not be
scraped, 4 some signal has no value.

With --file, reads a metrics exposition and prints each family with its type and sample count, so
an operator can check what a service exposes. Malformed lines are listed on stderr as
FILE:line:column and end the run with exit code 2.

Options)");
  std::string config_path, file, format = "prometheus";
  int scrapes = 3;
  options.add_options()
      ("help,h", "show this help")
      ("scrapes", po::value(&scrapes)->value_name("N")->default_value(scrapes), "scrapes of the target, at least 2")
      ("file", po::value(&file)->value_name("FILE"), "an exposition saved from a /metrics endpoint")
      ("format", po::value(&format)->value_name("FORMAT")->default_value(format), "for --file: prometheus or openmetrics");
  po::variables_map vm;
  if (auto done = parse_options("probe", args, options, vm, "config")) return *done;
  if (vm.count("config")) config_path = vm["config"].as<std::string>();

  if (!config_path.empty()) {
    if (!file.empty()) {
      std::cerr << "trimtab probe: give a tuning config or --file, not both\n";
      return 1;
    }
    if (!vm["format"].defaulted()) {
      std::cerr << "trimtab probe: --format is for --file; a tuning config's target.metrics.format says it\n";
      return 1;
    }
    if (scrapes < 2) {
      std::cerr << "trimtab probe: --scrapes must be at least 2 (a rate needs two scrapes)\n";
      return 1;
    }
    return probe_live(config_path, scrapes);
  }
  if (file.empty()) {
    std::cerr << "trimtab probe: expected a tuning config or --file FILE (see trimtab probe --help)\n";
    return 1;
  }
  if (!vm["scrapes"].defaulted()) {
    std::cerr << "trimtab probe: --scrapes is for a tuning config's live target\n";
    return 1;
  }
  return probe_file(file, format);
}

} // namespace trimtab::cli
