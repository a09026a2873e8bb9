// Throughput of ExpositionParser on generated Prometheus expositions of 1k, 10k and 100k series,
// and the agent's CPU cost per scrape of each: parse into a ScrapeCollector configured with the
// example tuning config's signals, plus the Window work at window end, amortised over a 60-scrape
// window. Prints two markdown tables and writes both as CSV (default
// bench/parse/results/parse.csv, or argv[1]). With `--exposition SERIES FILE` it only writes one
// generated exposition of SERIES series to FILE.
//
// The expositions look like what a service's /metrics returns: the service's own metrics that the
// signals read (http_requests_total, http_request_duration_seconds, process_resident_memory_bytes),
// then counters with 2-4 labels, gauges, and histograms with 10 buckets (+Inf, _sum, _count), with
// HELP and TYPE lines. The content is deterministic (a fixed-seed generator), so runs compare.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/window.hpp>

namespace {

using trimtab::ExpositionFormat;
using trimtab::ExpositionParser;
using trimtab::ExpositionVisitor;
using trimtab::GaugeReduce;
using trimtab::LabelMatcher;
using trimtab::MetricType;
using trimtab::Sample;
using trimtab::Scrape;
using trimtab::ScrapeCollector;
using trimtab::SignalSpec;
using trimtab::Window;

constexpr const char* const methods[] = {"GET", "POST", "PUT", "DELETE"};
constexpr const char* const codes[] = {"200", "201", "304", "404", "500", "503"};
constexpr const char* const buckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"};
constexpr const char* const handlers[] = {"/api/v1/items", "/api/v1/items/{id}", "/api/v1/orders", "/api/v1/users",
                                          "/healthz"};

class Lcg {
public:
  [[nodiscard]] std::uint64_t next() noexcept {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_ >> 33;
  }
  [[nodiscard]] std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }

private:
  std::uint64_t state_ = 42;
};

void append_double(std::string& out, double value) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.17g", value);
  out.append(buffer, static_cast<std::size_t>(n));
}

// The signals of config/examples/tuning.yaml, as the agent builds them from it.
std::vector<SignalSpec> tuning_signals() {
  using Op = LabelMatcher::Op;
  return {
      SignalSpec::rate("rps", "http_requests_total"),
      SignalSpec::rate("errors", "http_requests_total", {LabelMatcher("code", Op::regex, "5..")}),
      SignalSpec::rate("ok_gets", "http_requests_total",
                       {LabelMatcher("method", Op::equal, "GET"), LabelMatcher("code", Op::not_regex, "5..")}),
      SignalSpec::quantile("p99_ms", "http_request_duration_seconds", 0.99, {}, 1000.0),
      SignalSpec::gauge("rss_mb", "process_resident_memory_bytes", GaugeReduce::max, {}, 1.0e-6),
      SignalSpec::ratio("error_ratio", "errors", "rps"),
  };
}

// The service's own metrics, which the signals read: http_requests_total by method, code and
// handler (4 x 6 x 5 = 120 series), http_request_duration_seconds by method and handler (20
// histograms of 13 lines), process_resident_memory_bytes (1). 381 sample lines. `tick` is the
// scrape's number: counters and buckets grow by a fixed amount per series per tick, so a window of
// ticks has traffic, errors and observations to compute signals from.
constexpr std::size_t service_lines = 4 * 6 * 5 + 4 * 5 * 13 + 1;

std::string service_metrics(std::uint64_t tick) {
  std::string out;
  out += "# HELP http_requests_total Total HTTP requests handled, by method, code and handler.\n";
  out += "# TYPE http_requests_total counter\n";
  std::uint64_t n = 0;
  for (const char* method : methods)
    for (const char* code : codes)
      for (const char* handler : handlers) {
        const std::uint64_t per_tick = code[0] == '5' ? 1 + n % 3 : 20 + (n * 37) % 200;
        out += "http_requests_total{method=\"";
        out += method;
        out += "\",code=\"";
        out += code;
        out += "\",handler=\"";
        out += handler;
        out += "\"} ";
        out += std::to_string(1'000'000 + n * 7919 + tick * per_tick);
        out += '\n';
        ++n;
      }
  out += "# HELP http_request_duration_seconds Request latency in seconds.\n";
  out += "# TYPE http_request_duration_seconds histogram\n";
  n = 0;
  for (const char* method : methods)
    for (const char* handler : handlers) {
      const std::string labels = std::string("method=\"") + method + "\",handler=\"" + handler + "\"";
      std::uint64_t count = 0;
      std::size_t b = 0;
      for (const char* le : buckets) {
        // Cumulative: every bucket adds its own base and per-tick share, so counts never decrease.
        // Few new observations above 1 s and none above 5 s, so p99 lands inside a finite bucket.
        const std::uint64_t per_tick = b < 8 ? 1 + (n + b * 5) % 17 : b < 10 ? n % 2 : 0;
        count += 100 + n * 3 + b * 11 + tick * per_tick;
        out += "http_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(count) + "\n";
        ++b;
      }
      out += "http_request_duration_seconds_sum{" + labels + "} ";
      append_double(out, static_cast<double>(count) * 0.0371);
      out += "\nhttp_request_duration_seconds_count{" + labels + "} " + std::to_string(count) + "\n";
      ++n;
    }
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  out += "process_resident_memory_bytes " + std::to_string(300'000'000 + (tick % 7) * 1'048'576) + "\n";
  return out;
}

// One sample line per series, as Prometheus counts series: the service's metrics, then filler
// families up to `series` (at least service_lines).
std::string make_exposition(std::size_t series) {
  Lcg random;
  std::string out;
  out.reserve(series * 110);
  out += service_metrics(0);
  std::size_t emitted = service_lines;
  for (std::size_t family = 0; emitted < series; ++family) {
    const std::string index = std::to_string(family);
    switch (family % 3) {
    case 0: { // counter, 2-4 labels
      const std::string name = "service_http_requests_total_" + index;
      out += "# HELP " + name + " Total HTTP requests handled, by method, code and handler.\n";
      out += "# TYPE " + name + " counter\n";
      for (int i = 0; i < 40 && emitted < series; ++i, ++emitted) {
        out += name;
        out += "{method=\"";
        out += methods[random.below(4)];
        out += "\",code=\"";
        out += codes[random.below(6)];
        out += '"';
        if (i % 2 == 0) out += ",handler=\"/api/v1/items/" + std::to_string(i) + "\"";
        if (i % 4 == 0) out += ",instance=\"10.0.3." + std::to_string(random.below(250)) + ":8080\"";
        out += "} ";
        out += std::to_string(random.below(10'000'000));
        out += '\n';
      }
      break;
    }
    case 1: { // gauge
      const std::string name = "service_pool_in_use_bytes_" + index;
      out += "# HELP " + name + " Bytes currently held by the pool.\n";
      out += "# TYPE " + name + " gauge\n";
      for (int i = 0; i < 30 && emitted < series; ++i, ++emitted) {
        out += name + "{pool=\"p" + std::to_string(i) + "\",zone=\"eu-west-1a\"} ";
        append_double(out, static_cast<double>(random.below(1'000'000'000)) / 7.0);
        out += '\n';
      }
      break;
    }
    default: { // histogram with 10 buckets
      const std::string name = "service_request_duration_seconds_" + index;
      out += "# HELP " + name + " Request latency in seconds.\n";
      out += "# TYPE " + name + " histogram\n";
      for (int h = 0; h < 3 && emitted < series; ++h) {
        const std::string labels = "handler=\"/api/v1/items\",method=\"" + std::string(methods[h]) + "\"";
        std::uint64_t count = 0;
        for (const char* le : buckets) {
          if (emitted == series) break;
          count += random.below(1000);
          out += name + "_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(count) + "\n";
          ++emitted;
        }
        if (emitted < series) {
          out += name + "_sum{" + labels + "} ";
          append_double(out, static_cast<double>(count) * 0.0371);
          out += '\n';
          ++emitted;
        }
        if (emitted < series) {
          out += name + "_count{" + labels + "} " + std::to_string(count) + "\n";
          ++emitted;
        }
      }
    }
    }
  }
  return out;
}

// Touches what it is given, so the work cannot be optimised away.
class Sink : public ExpositionVisitor {
public:
  void on_family(std::string_view name, MetricType, std::string_view help, std::string_view) override {
    checksum_ += name.size() + help.size();
  }
  void on_sample(const Sample& sample) override {
    checksum_ += sample.labels.size() + sample.name.size();
    sum_ += sample.value;
  }
  [[nodiscard]] double checksum() const noexcept { return sum_ + static_cast<double>(checksum_); }

private:
  std::size_t checksum_ = 0;
  double sum_ = 0.0;
};

struct Row {
  std::size_t series;
  std::size_t bytes;
  double mb_per_s;     // wall time
  double mb_per_s_cpu; // CPU time of the bench's thread: what a shared machine's load changes least
  double series_per_s;
  double ns_per_sample;
  double reference_mb_per_s; // wall time of reference_scan over the same text, right after the parse
  std::size_t kept_series; // series the collector keeps from one scrape
  // The agent's CPU time per scrape (seconds), at window_scrapes scrapes a window.
  double collect;  // parse into the ScrapeCollector, finish(), drop the Scrape
  double window;   // the 60-scrape Window's add() and value() of every signal, per scrape
  double pairs;    // the 59 two-scrape Windows score_window builds for the significance test, per scrape
  // Share of one core at one scrape a second: seconds per scrape / 1 s, in percent.
  [[nodiscard]] double cpu_percent() const noexcept { return (collect + window + pairs) / 1.0 * 100.0; }
};

constexpr std::size_t window_scrapes = 60;

// Seconds per call of `work`, over at least 0.5 s of calls on this thread: wall time (steady_clock)
// and CPU time (std::clock; the process has one thread). On an idle machine they agree; on a busy
// one wall time also counts the time other processes held the core.
struct PerCall {
  double wall;
  double cpu;
};

template <typename Work>
PerCall seconds_per_call(Work&& work) {
  using clock = std::chrono::steady_clock;
  std::size_t iterations = 0;
  const std::clock_t cpu_start = std::clock();
  const auto start = clock::now();
  auto elapsed = clock::duration::zero();
  while (elapsed < std::chrono::milliseconds(500)) {
    work();
    ++iterations;
    elapsed = clock::now() - start;
  }
  const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  const double n = static_cast<double>(iterations);
  return PerCall{std::chrono::duration<double>(elapsed).count() / n, cpu / n};
}

// A yardstick for the machine rather than the parser: one table lookup per byte, summed, over the
// same text. A virtual CPU can run at half speed for seconds at a time while another tenant holds
// its core's sibling thread; timed right after each parse, this scan shows whether a slow parse
// was a slow parser or a slow CPU. (A latency-bound loop does not show those spells: they take
// execution ports and cache, not cycles.)
[[nodiscard]] std::uint64_t reference_scan(std::string_view text) noexcept {
  static constexpr auto weights = [] {
    std::array<std::uint8_t, 256> table{};
    for (std::size_t c = 0; c < table.size(); ++c) table[c] = static_cast<std::uint8_t>((c * 37u) >> 3);
    return table;
  }();
  std::uint64_t sum = 0;
  for (const char c : text) sum += weights[static_cast<unsigned char>(c)];
  return sum;
}

[[nodiscard]] std::size_t kept_series(const Scrape& scrape) {
  std::size_t n = 0;
  for (const auto& [name, series] : scrape.values) n += series.size();
  for (const auto& [name, series] : scrape.histograms) n += series.size();
  for (const auto& [name, series] : scrape.summaries) n += series.size();
  return n;
}

} // namespace

int main(int argc, char** argv) try {
  // `--exposition SERIES FILE`: only write a generated exposition, for compare_expfmt.sh.
  if (argc == 4 && std::string_view(argv[1]) == "--exposition") {
    const std::string text = make_exposition(std::stoul(argv[2]));
    std::ofstream out(argv[3], std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::fprintf(stderr, "cannot write %s\n", argv[3]);
      return 1;
    }
    return 0;
  }
  const std::filesystem::path csv_path = argc > 1 ? argv[1] : "bench/parse/results/parse.csv";
  const std::vector<SignalSpec> signals = tuning_signals();
  std::vector<Row> rows;
  double checksum = 0.0;

  // The scrapes of one window, as the agent's collector keeps them. They hold only the series the
  // signals select, which are the same in every exposition size, so one set serves all sizes.
  std::vector<Scrape> scrapes;
  {
    ExpositionParser parser(ExpositionFormat::prometheus);
    ScrapeCollector collector(signals);
    for (std::uint64_t tick = 0; tick < window_scrapes; ++tick) {
      collector.start(1'000.0 + static_cast<double>(tick));
      const auto report = parser.parse(service_metrics(tick), collector);
      if (!report.ok()) {
        std::fprintf(stderr, "the service metrics did not parse cleanly\n");
        return 1;
      }
      scrapes.push_back(collector.finish());
    }
    Window window(signals);
    for (const auto& scrape : scrapes) window.add(scrape);
    std::fprintf(stderr, "signals over the %zu-scrape window:", window_scrapes);
    for (const auto& spec : signals) {
      const auto value = window.value(spec.name);
      if (!value || !(*value > 0.0)) { // a signal without a value would make the window's work trivial
        std::fprintf(stderr, "\nsignal %s has no positive value over the generated window\n", spec.name.c_str());
        return 1;
      }
      std::fprintf(stderr, " %s=%.6g", spec.name.c_str(), *value);
    }
    std::fprintf(stderr, "\n");
  }

  // What TuningLoop::score_window does with the Window at window end, split in two: the window's
  // signals, then one two-scrape window per interval for the per-interval objective values.
  const double window_seconds = seconds_per_call([&] {
    Window window(signals);
    for (const auto& scrape : scrapes) window.add(scrape);
    for (const auto& spec : signals) checksum += window.value(spec.name).value_or(0.0);
  }).cpu / static_cast<double>(window_scrapes);
  const double pairs_seconds = seconds_per_call([&] {
    for (std::size_t i = 1; i < scrapes.size(); ++i) {
      Window pair(signals);
      pair.add(scrapes[i - 1]);
      pair.add(scrapes[i]);
      for (const auto& spec : signals) checksum += pair.value(spec.name).value_or(0.0);
    }
  }).cpu / static_cast<double>(window_scrapes);

  for (const std::size_t series : {std::size_t{1'000}, std::size_t{10'000}, std::size_t{100'000}}) {
    const std::string text = make_exposition(series);
    ExpositionParser parser(ExpositionFormat::prometheus);
    Sink sink;

    const auto warm = parser.parse(text, sink); // grows the scratch buffers, checks the text
    if (!warm.ok() || warm.samples != series) {
      std::fprintf(stderr, "generated exposition of %zu series did not parse cleanly (%zu samples, %zu errors)\n",
                   series, warm.samples, warm.errors.size());
      return 1;
    }

    const PerCall parse_time = seconds_per_call([&] {
      const auto report = parser.parse(text, sink);
      checksum += static_cast<double>(report.samples);
    });
    const double per_parse = parse_time.wall;
    checksum += sink.checksum();
    const double per_reference = seconds_per_call([&] {
      checksum += static_cast<double>(reference_scan(text));
    }).wall;

    // The agent's scrape: one collector and parser kept across scrapes, a Scrape per scrape
    // (dropped here; the agent keeps it until the window ends, and frees it then).
    ScrapeCollector collector(signals);
    collector.start(0.0);
    (void)parser.parse(text, collector);
    const std::size_t kept = kept_series(collector.finish());
    if (kept != 4 * 6 * 5 + 4 * 5 + 1) {
      std::fprintf(stderr, "the collector kept %zu series of the %zu-series exposition, not 141\n", kept, series);
      return 1;
    }
    double time = 1.0;
    const double per_collect = seconds_per_call([&] {
      collector.start(time);
      time += 1.0;
      const auto report = parser.parse(text, collector);
      const Scrape scrape = collector.finish();
      checksum += static_cast<double>(report.samples + scrape.values.size());
    }).cpu;

    rows.push_back(Row{series, text.size(), static_cast<double>(text.size()) / per_parse / 1e6,
                       static_cast<double>(text.size()) / parse_time.cpu / 1e6,
                       static_cast<double>(series) / per_parse, per_parse * 1e9 / static_cast<double>(series),
                       static_cast<double>(text.size()) / per_reference / 1e6, kept,
                       per_collect, window_seconds, pairs_seconds});
  }

  std::printf("| series | bytes | MB/s | MB/s (CPU time) | series/s | ns/sample | reference scan MB/s |\n");
  std::printf("|-------:|------:|-----:|----------------:|---------:|----------:|--------------------:|\n");
  for (const Row& r : rows)
    std::printf("| %zu | %zu | %.0f | %.0f | %.3g | %.1f | %.0f |\n", r.series, r.bytes, r.mb_per_s, r.mb_per_s_cpu,
                r.series_per_s, r.ns_per_sample, r.reference_mb_per_s);

  std::printf("\nAgent CPU time per scrape (6 signals, %zu-scrape window; HTTP fetch not included):\n\n",
              window_scrapes);
  std::printf("| series | kept series | parse+collect µs | window µs/scrape | interval windows µs/scrape | CPU at 1 Hz |\n");
  std::printf("|-------:|------------:|-----------------:|-----------------:|---------------------------:|------------:|\n");
  for (const Row& r : rows)
    std::printf("| %zu | %zu | %.1f | %.1f | %.1f | %.3f %% |\n", r.series, r.kept_series, r.collect * 1e6,
                r.window * 1e6, r.pairs * 1e6, r.cpu_percent());

  std::error_code ec;
  if (csv_path.has_parent_path()) std::filesystem::create_directories(csv_path.parent_path(), ec);
  if (std::FILE* csv = std::fopen(csv_path.c_str(), "w")) {
    std::fprintf(csv, "series,bytes,mb_per_s,mb_per_s_cpu,series_per_s,ns_per_sample,kept_series,collect_us,window_us,"
                      "interval_windows_us,cpu_percent_1hz,reference_mb_per_s\n");
    for (const Row& r : rows)
      std::fprintf(csv, "%zu,%zu,%.1f,%.1f,%.0f,%.2f,%zu,%.1f,%.1f,%.1f,%.4f,%.1f\n", r.series, r.bytes, r.mb_per_s,
                   r.mb_per_s_cpu, r.series_per_s, r.ns_per_sample, r.kept_series, r.collect * 1e6, r.window * 1e6, r.pairs * 1e6,
                   r.cpu_percent(), r.reference_mb_per_s);
    std::fclose(csv);
  } else {
    std::fprintf(stderr, "cannot write %s\n", csv_path.c_str());
    return 1;
  }
  std::fprintf(stderr, "(checksum %g)\n", checksum); // keeps the sink's work observable
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "parse_bench: %s\n", e.what());
  return 1;
}
