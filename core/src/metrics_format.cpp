#include <trimtab/core/metrics_format.hpp>

#include <array>
#include <cstddef>

namespace trimtab {
namespace {

constexpr std::array<std::string_view, 6> names{"prometheus", "openmetrics", "json", "pgbouncer", "redis", "postgres"};
static_assert(names.size() == static_cast<std::size_t>(MetricsFormat::postgres) + 1);

} // namespace

std::span<const std::string_view> metrics_format_names() noexcept { return names; }

const char* metrics_format_name(MetricsFormat format) noexcept { return names[static_cast<std::size_t>(format)].data(); }

std::optional<MetricsFormat> metrics_format_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<MetricsFormat>(i);
  return std::nullopt;
}

bool is_built_in(MetricsFormat format) noexcept {
  return format == MetricsFormat::pgbouncer || format == MetricsFormat::redis || format == MetricsFormat::postgres;
}

} // namespace trimtab
