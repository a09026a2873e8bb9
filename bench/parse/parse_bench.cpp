// Throughput of ExpositionParser on generated Prometheus expositions of 1k, 10k and 100k series.
// Prints a markdown table and writes it as CSV (default bench/parse/results/parse.csv, or argv[1]).
//
// The expositions look like what a service's /metrics returns: counters with 2-4 labels, gauges,
// and histograms with 10 buckets (+Inf, _sum, _count), with HELP and TYPE lines. The content is
// deterministic (a fixed-seed generator), so runs compare.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>

namespace {

using trimtab::ExpositionFormat;
using trimtab::ExpositionParser;
using trimtab::ExpositionVisitor;
using trimtab::MetricType;
using trimtab::Sample;

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

// One sample line per series, as Prometheus counts series.
std::string make_exposition(std::size_t series) {
  static const char* const methods[] = {"GET", "POST", "PUT", "DELETE"};
  static const char* const codes[] = {"200", "201", "304", "404", "500", "503"};
  static const char* const buckets[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"};
  Lcg random;
  std::string out;
  out.reserve(series * 110);
  std::size_t emitted = 0;
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
  double mb_per_s;
  double series_per_s;
  double ns_per_sample;
};

} // namespace

int main(int argc, char** argv) {
  const std::filesystem::path csv_path = argc > 1 ? argv[1] : "bench/parse/results/parse.csv";
  std::vector<Row> rows;
  double checksum = 0.0;

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

    using clock = std::chrono::steady_clock;
    std::size_t iterations = 0;
    const auto start = clock::now();
    auto elapsed = clock::duration::zero();
    while (elapsed < std::chrono::milliseconds(500)) {
      const auto report = parser.parse(text, sink);
      checksum += static_cast<double>(report.samples);
      ++iterations;
      elapsed = clock::now() - start;
    }
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const double per_parse = seconds / static_cast<double>(iterations);
    rows.push_back(Row{series, text.size(), static_cast<double>(text.size()) / per_parse / 1e6,
                       static_cast<double>(series) / per_parse, per_parse * 1e9 / static_cast<double>(series)});
    checksum += sink.checksum();
  }

  std::printf("| series | bytes | MB/s | series/s | ns/sample |\n");
  std::printf("|-------:|------:|-----:|---------:|----------:|\n");
  for (const Row& r : rows)
    std::printf("| %zu | %zu | %.0f | %.3g | %.1f |\n", r.series, r.bytes, r.mb_per_s, r.series_per_s, r.ns_per_sample);

  std::error_code ec;
  if (csv_path.has_parent_path()) std::filesystem::create_directories(csv_path.parent_path(), ec);
  if (std::FILE* csv = std::fopen(csv_path.c_str(), "w")) {
    std::fprintf(csv, "series,bytes,mb_per_s,series_per_s,ns_per_sample\n");
    for (const Row& r : rows)
      std::fprintf(csv, "%zu,%zu,%.1f,%.0f,%.2f\n", r.series, r.bytes, r.mb_per_s, r.series_per_s, r.ns_per_sample);
    std::fclose(csv);
  } else {
    std::fprintf(stderr, "cannot write %s\n", csv_path.c_str());
    return 1;
  }
  std::fprintf(stderr, "(checksum %g)\n", checksum); // keeps the sink's work observable
  return 0;
}
