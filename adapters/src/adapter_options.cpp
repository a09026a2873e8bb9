#include "adapter_options.hpp"

#include <stdexcept>
#include <variant>

#include <trimtab/core/duration_text.hpp>

namespace trimtab::adapter_detail {

void throw_invalid(const std::string& adapter, const std::string& what) {
  throw std::invalid_argument("adapter '" + adapter + "': " + what);
}

std::optional<std::string> read_timeout_option(const std::map<std::string, std::string>& options,
                                               std::chrono::milliseconds& timeout) {
  const auto option = options.find("timeout");
  if (option == options.end()) return std::nullopt;
  auto parsed = parse_duration(option->second);
  if (const auto* problem = std::get_if<std::string>(&parsed)) return "option 'timeout': " + *problem;
  const auto value = std::get<std::chrono::milliseconds>(parsed);
  if (value.count() <= 0) return "option 'timeout': must be longer than 0 ms";
  timeout = value;
  return std::nullopt;
}

} // namespace trimtab::adapter_detail
