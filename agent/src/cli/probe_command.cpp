#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include <boost/program_options.hpp>

#include <trimtab/core/exposition_parser.hpp>

#include "commands.hpp"

namespace trimtab::cli {
namespace {

namespace po = boost::program_options;

std::string_view type_name(MetricType type) {
  switch (type) {
  case MetricType::counter: return "counter";
  case MetricType::gauge: return "gauge";
  case MetricType::histogram: return "histogram";
  case MetricType::summary: return "summary";
  case MetricType::gaugehistogram: return "gaugehistogram";
  case MetricType::info: return "info";
  case MetricType::stateset: return "stateset";
  case MetricType::unknown: return "unknown";
  case MetricType::untyped: break;
  }
  return "untyped";
}

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

} // namespace

int probe_command(const std::vector<std::string>& args) {
  po::options_description options(R"(usage: trimtab probe --file FILE [--format prometheus|openmetrics]

Reads a metrics exposition and prints each family with its type and sample count, so an operator
can check what a service exposes. Malformed lines are listed on stderr as FILE:line:column and end
the run with exit code 2.

Options)");
  std::string file, format = "prometheus";
  options.add_options()
      ("help,h", "show this help")
      ("file", po::value(&file)->value_name("FILE"), "an exposition saved from a /metrics endpoint")
      ("format", po::value(&format)->value_name("FORMAT")->default_value(format), "prometheus or openmetrics");
  po::variables_map vm;
  if (const auto done = parse_options("probe", args, options, vm)) return *done;
  if (file.empty()) {
    std::cerr << "trimtab probe: --file FILE is required (probing a live target comes with the full config)\n";
    return 1;
  }
  if (format != "prometheus" && format != "openmetrics") {
    std::cerr << "trimtab probe: unknown format '" << format << "' (prometheus or openmetrics)\n";
    return 1;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "trimtab probe: " << file << ": cannot read the file\n";
    return 1;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  ExpositionParser parser(format == "openmetrics" ? ExpositionFormat::openmetrics : ExpositionFormat::prometheus);
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
    std::cout << type_name(family.type) << family.samples << '\n';
  }
  std::cout << counter.families().size() << " families, " << report.samples << " samples, " << text.size()
            << " bytes\n";
  for (const auto& error : report.errors)
    std::cerr << file << ':' << error.line << ':' << error.column << ": " << error.message << '\n';
  if (report.truncated) std::cerr << file << ": more errors not shown\n";
  return report.ok() ? 0 : 2;
}

} // namespace trimtab::cli
