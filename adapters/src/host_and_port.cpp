#include "host_and_port.hpp"

#include <boost/asio/ip/address_v6.hpp>
#include <boost/system/error_code.hpp>

#include <trimtab/core/ascii.hpp>

namespace trimtab::detail {

std::variant<HostAndPort, std::string> split_host_and_port(std::string_view text) {
  HostAndPort split;
  if (text.front() != '[') {
    const std::size_t colon = text.find(':');
    split.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) split.port = text.substr(colon + 1);
    return split;
  }
  const std::size_t close = text.find(']');
  if (close == std::string_view::npos) return std::string("an IPv6 address needs its closing ']'");
  split.host = std::string(text.substr(1, close - 1));
  split.bracketed = true;
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address_v6(split.host, ec);
  if (ec) return "'" + split.host + "' is not an IPv6 address";
  const std::string_view after = text.substr(close + 1);
  if (!after.empty()) {
    if (after.front() != ':') return std::string("expected ':port' after ']'");
    split.port = after.substr(1);
  }
  return split;
}

std::variant<std::uint16_t, std::string> parse_port(std::string_view text) {
  const auto not_a_port = std::string("the port must be a number from 1 to 65535");
  unsigned value = 0;
  for (const char c : text) {
    if (!ascii::is_digit(c) || value > 65535) return not_a_port;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (text.empty() || value == 0 || value > 65535) return not_a_port;
  return static_cast<std::uint16_t>(value);
}

} // namespace trimtab::detail
