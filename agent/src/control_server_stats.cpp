#include <trimtab/agent/control_server_stats.hpp>

#include <trimtab/agent/exposition_writer.hpp>

namespace trimtab {

std::string to_prometheus(const ControlServerStats& stats) {
  ExpositionWriter out;
  out.family("trimtab_control_requests_total", MetricType::counter,
             "Requests the control server answered, by route and status code.");
  for (const auto& [key, count] : stats.requests)
    out.sample("trimtab_control_requests_total", {{"route", key.first}, {"code", std::to_string(key.second)}}, count);
  out.metric("trimtab_control_auth_failures_total", MetricType::counter, "Control commands refused for a missing or wrong token.",
             stats.auth_failures);
  out.metric("trimtab_control_rate_limited_total", MetricType::counter, "Control commands refused by the rate limit.",
             stats.rate_limited);
  out.metric("trimtab_control_connections_total", MetricType::counter, "Connections the control server accepted.",
             stats.connections_accepted);
  out.metric("trimtab_control_connections_refused_total", MetricType::counter, "Connections closed at once because too many were open.",
             stats.connections_refused);
  out.metric("trimtab_control_connections", MetricType::gauge, "Connections open to the control server.",
             stats.connections_open);
  return std::move(out).take();
}

} // namespace trimtab
