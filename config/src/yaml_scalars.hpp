#pragma once

// The scalar readers tuning.yaml's reader and the params' reader share (internal to config/): one
// spelling of each check and its message, reported through the reader's own fail(), which says
// where in the file.

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace trimtab::detail {

/// A reader derives from YamlScalars<itself> and has `[[noreturn]] void fail(const YAML::Mark&,
/// const std::string&) const`.
template <class Reader>
class YamlScalars {
public:
  std::string scalar(const YAML::Node& node, std::string_view what) const {
    if (!node.IsScalar()) self().fail(node.Mark(), std::string(what) + " must be a single value");
    return node.Scalar();
  }

  double number(const YAML::Node& node, std::string_view what) const {
    const auto text = scalar(node, what);
    double value = 0;
    if (!YAML::convert<double>::decode(node, value) || !std::isfinite(value))
      self().fail(node.Mark(), std::string(what) + " must be a finite number, not '" + text + "'");
    return value;
  }

  std::int64_t whole_number(const YAML::Node& node, std::string_view what) const {
    const auto text = scalar(node, what);
    std::int64_t value = 0;
    if (!YAML::convert<std::int64_t>::decode(node, value))
      self().fail(node.Mark(), std::string(what) + " must be a whole number, not '" + text + "'");
    return value;
  }

  bool boolean(const YAML::Node& node, std::string_view what) const {
    const auto text = scalar(node, what);
    bool value = false;
    if (!YAML::convert<bool>::decode(node, value))
      self().fail(node.Mark(), std::string(what) + " must be true or false, not '" + text + "'");
    return value;
  }

private:
  const Reader& self() const { return static_cast<const Reader&>(*this); }
};

} // namespace trimtab::detail
