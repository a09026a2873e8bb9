#include <trimtab/agent/control_server_stats.hpp>

#include <string_view>

namespace trimtab {

std::string to_prometheus(const ControlServerStats& stats) {
  std::string out;
  const auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  };
  const auto sample = [&](std::string_view name, std::uint64_t value) {
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
  };
  family("trimtab_control_requests_total", "counter", "Requests the control server answered, by route and status code.");
  for (const auto& [key, count] : stats.requests) {
    out.append("trimtab_control_requests_total{route=\"").append(key.first).append("\",code=\"");
    out.append(std::to_string(key.second)).append("\"} ").append(std::to_string(count)).append("\n");
  }
  family("trimtab_control_auth_failures_total", "counter", "Control commands refused for a missing or wrong token.");
  sample("trimtab_control_auth_failures_total", stats.auth_failures);
  family("trimtab_control_rate_limited_total", "counter", "Control commands refused by the rate limit.");
  sample("trimtab_control_rate_limited_total", stats.rate_limited);
  family("trimtab_control_connections_total", "counter", "Connections the control server accepted.");
  sample("trimtab_control_connections_total", stats.connections_accepted);
  family("trimtab_control_connections_refused_total", "counter",
         "Connections closed at once because too many were open.");
  sample("trimtab_control_connections_refused_total", stats.connections_refused);
  family("trimtab_control_connections", "gauge", "Connections open to the control server.");
  sample("trimtab_control_connections", stats.connections_open);
  return out;
}

} // namespace trimtab
