#include <trimtab/core/json_text.hpp>

#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

namespace trimtab {
namespace {

void append(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
  case boost::json::kind::double_: {
    const double d = value.get_double();
    if (!std::isfinite(d)) { // JSON has no NaN or infinity
      out += "null";
      return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
    out.append(buffer, result.ptr);
    return;
  }
  case boost::json::kind::array: {
    out += '[';
    bool first = true;
    for (const auto& element : value.get_array()) {
      if (!first) out += ',';
      first = false;
      append(out, element);
    }
    out += ']';
    return;
  }
  case boost::json::kind::object: {
    out += '{';
    bool first = true;
    for (const auto& entry : value.get_object()) {
      if (!first) out += ',';
      first = false;
      out += boost::json::serialize(boost::json::string_view(entry.key()));
      out += ':';
      append(out, entry.value());
    }
    out += '}';
    return;
  }
  default: // null, bool, integers and strings: serialize already writes them plainly
    out += boost::json::serialize(value);
  }
}

} // namespace

std::string to_json_text(const boost::json::value& value) {
  std::string out;
  append(out, value);
  return out;
}

} // namespace trimtab
