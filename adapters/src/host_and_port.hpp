#pragma once

// "host[:port]" and "[IPv6][:port]", as an http:// URL and a Redis address write them. Internal to
// trimtab_adapters.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace trimtab::detail {

struct HostAndPort {
  std::string host;                     ///< without the brackets of an IPv6 address
  bool bracketed = false;               ///< the host was an [IPv6] address, checked as one
  std::optional<std::string_view> port; ///< the text after the ':', unchecked; nothing without a ':'
};

/// Splits `text` (not empty) at the port's ':'. A bracketed host is checked here, since only an
/// IPv6 address may stand in brackets; a plain host and the port are the caller's to check, in
/// its own words and order. Returns why the brackets are wrong otherwise.
[[nodiscard]] std::variant<HostAndPort, std::string> split_host_and_port(std::string_view text);

/// A port number from 1 to 65535, or why `text` is not one.
[[nodiscard]] std::variant<std::uint16_t, std::string> parse_port(std::string_view text);

} // namespace trimtab::detail
