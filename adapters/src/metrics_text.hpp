#pragma once

// Prometheus text 0.0.4 as the built-in metrics sources write it: families in the order first
// seen, each with its HELP and TYPE, its samples together. Internal to trimtab_adapters.

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trimtab::metrics_text {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Writer {
public:
  /// Adds one sample of family `name` ("counter", "gauge" or "summary" as `type`).
  void add(std::string_view name, std::string_view type, std::string_view help, const Labels& labels, double value) {
    Family* family = nullptr;
    for (auto& f : families_)
      if (f.name == name) family = &f;
    if (family == nullptr) {
      families_.push_back({std::string(name), "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " +
                                                  std::string(name) + " " + std::string(type) + "\n"});
      family = &families_.back();
    }
    std::string& out = family->text;
    out += name;
    if (!labels.empty()) {
      out += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) out += ',';
        out += labels[i].first;
        out += "=\"";
        for (const char c : labels[i].second) {
          if (c == '\\' || c == '"') out += '\\';
          if (c == '\n') {
            out += "\\n";
            continue;
          }
          out += c;
        }
        out += '"';
      }
      out += '}';
    }
    out += ' ';
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, ec == std::errc{} ? end : buffer);
    out += '\n';
  }

  /// A comment line at the end ("# pg_stat_statements: …"), for what could not be read.
  void note(std::string_view comment) { notes_ += "# " + std::string(comment) + "\n"; }

  [[nodiscard]] std::string text() const {
    std::string out;
    for (const auto& family : families_) out += family.text;
    return out + notes_;
  }

private:
  struct Family {
    std::string name;
    std::string text;
  };
  std::vector<Family> families_;
  std::string notes_;
};

/// A number as the servers write one in their statistics ("123", "0.5"); nothing for anything else.
[[nodiscard]] inline std::optional<double> number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

} // namespace trimtab::metrics_text
