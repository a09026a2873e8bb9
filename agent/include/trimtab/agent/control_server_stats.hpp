#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace trimtab {

/// What the control server has done since start(), for the agent's /metrics.
struct ControlServerStats {
  /// Requests answered, by route and status code. The route is the path for known routes
  /// ("/", "/metrics", "/status", "/pause", "/resume", "/rollback") and "other" for anything else,
  /// including requests too malformed to have a path.
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests;
  std::uint64_t auth_failures = 0;         ///< POSTs answered 401 (missing or wrong token)
  std::uint64_t rate_limited = 0;          ///< POSTs answered 429
  std::uint64_t connections_accepted = 0;  ///< connections served (not counting refused ones)
  std::uint64_t connections_refused = 0;   ///< connections closed because max_connections were open
  std::uint64_t connections_open = 0;      ///< connections open now
};

/// `stats` as Prometheus 0.0.4 text: trimtab_control_requests_total{route,code},
/// trimtab_control_auth_failures_total, trimtab_control_rate_limited_total,
/// trimtab_control_connections_total, trimtab_control_connections_refused_total and
/// trimtab_control_connections (gauge), each with its # HELP and # TYPE lines.
[[nodiscard]] std::string to_prometheus(const ControlServerStats& stats);

} // namespace trimtab
