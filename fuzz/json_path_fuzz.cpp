// libFuzzer target for JsonPath: the path comes from an operator's tuning.yaml and the document
// from whatever the service serves, so neither may crash the agent. The input is a path, a '\n',
// then a JSON document (no '\n': the path alone, read against an empty object). Checked:
// - constructing the path ends in a JsonPath or a JsonPathError whose column lies in 1..size+1,
//   so a config loader's caret lands on the path;
// - a path that parses parses again from its text() (what a config dump would write back);
// - read() of any document boost::json accepts returns a number or a non-empty message, never a
//   crash, a read out of bounds (ASan) or undefined behaviour (UBSan).
//
//   scripts/fuzz.sh builds it (build-fuzz/fuzz/json_path_fuzz) and runs it on fuzz/corpus/json_path/.

#include <trimtab/core/json_path.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

using Reading = std::variant<double, std::string>;

Reading check_read(const trimtab::JsonPath& path, const boost::json::value& document) {
  auto result = path.read(document);
  // A message names what failed; an empty one would leave the operator guessing.
  if (const auto* why = std::get_if<std::string>(&result); why != nullptr && why->empty()) std::abort();
  return result;
}

// Equal readings; NaN equals NaN here (boost::json does not produce one today, but a later
// parse_options might).
bool same(const Reading& a, const Reading& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    return *x == y || (std::isnan(*x) && std::isnan(y));
  }
  return a == b;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const auto path_text = input.substr(0, newline);
  const auto document_text = newline == std::string_view::npos ? std::string_view("{}") : input.substr(newline + 1);

  std::optional<trimtab::JsonPath> path;
  try {
    path.emplace(path_text);
  } catch (const trimtab::JsonPathError& error) {
    if (error.column() < 1 || error.column() > path_text.size() + 1) std::abort();
    return 0;
  }

  // What text() keeps must parse again, to the same path.
  std::optional<trimtab::JsonPath> again;
  try {
    again.emplace(path->text());
  } catch (const trimtab::JsonPathError&) {
    std::abort();
  }
  if (again->text() != path->text()) std::abort();

  boost::json::error_code ec;
  const auto document = boost::json::parse(document_text, ec);
  if (ec) return 0;
  const auto first = check_read(*path, document);
  // The same document must read the same way through the re-parsed path.
  if (!same(first, check_read(*again, document))) std::abort();
  return 0;
}
