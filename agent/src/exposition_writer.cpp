#include <trimtab/agent/exposition_writer.hpp>

#include <string>

#include <trimtab/core/number_text.hpp>

namespace trimtab {

namespace {

void append_escaped(std::string& out, std::string_view label_value) {
  for (const char c : label_value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
}

} // namespace

std::string_view metric_type_name(MetricType type) noexcept {
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

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text_.append("# TYPE ").append(name).append(" ").append(metric_type_name(type)).append("\n");
}

void ExpositionWriter::sample(std::string_view name, std::uint64_t value) { sample(name, {}, value); }

void ExpositionWriter::sample(std::string_view name, double value) { sample(name, {}, value); }

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value) {
  sample_line(name, labels, std::to_string(value));
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  sample_line(name, labels, number_text(value, 6));
}

void ExpositionWriter::sample_line(std::string_view name, std::initializer_list<Label> labels,
                                   std::string_view value) {
  text_.append(name);
  if (labels.size() != 0) {
    char separator = '{';
    for (const auto& label : labels) {
      text_ += separator;
      text_.append(label.name).append("=\"");
      append_escaped(text_, label.value);
      text_ += '"';
      separator = ',';
    }
    text_ += '}';
  }
  text_.append(" ").append(value).append("\n");
}

} // namespace trimtab
