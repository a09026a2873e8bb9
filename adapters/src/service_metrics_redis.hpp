#pragma once

// The redis kind of make_service_metrics(). Internal to trimtab_adapters.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <trimtab/adapters/service_metrics.hpp>

namespace trimtab {

[[nodiscard]] std::unique_ptr<ServiceMetrics> make_redis_metrics(const std::string& name,
                                                                 const std::map<std::string, std::string>& options,
                                                                 std::chrono::milliseconds timeout);

/// INFO's text as Prometheus text (the series make_service_metrics() lists for redis). Pure, for tests.
[[nodiscard]] std::string redis_info_to_prometheus(std::string_view info);

} // namespace trimtab
