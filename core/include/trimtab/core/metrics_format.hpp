#pragma once

// How a metrics source (`target.metrics.format`) is read, and the words users write for it: the
// one list of them, which config/ reads tuning.yaml by and the agent and adapters/ name sources by.

#include <optional>
#include <span>
#include <string_view>

namespace trimtab {

/// A document fetched from a URL, in one of three formats (core reads them: ExpositionParser for
/// the two text formats, JsonScrapeReader for json), or one of the systems trimtab has built-in
/// readers for (adapters/service_metrics.hpp), which yield Prometheus text, so no exporter is needed.
enum class MetricsFormat { prometheus, openmetrics, json, pgbouncer, redis, postgres };

/// Every format's word as written in YAML ("prometheus", "pgbouncer"), in the enum's order.
[[nodiscard]] std::span<const std::string_view> metrics_format_names() noexcept;
/// The format's word.
[[nodiscard]] const char* metrics_format_name(MetricsFormat format) noexcept;
/// The format metrics_format_name() calls `name`, or nothing.
[[nodiscard]] std::optional<MetricsFormat> metrics_format_from_name(std::string_view name) noexcept;

/// True for pgbouncer, redis and postgres: read by trimtab itself over the system's own protocol.
[[nodiscard]] bool is_built_in(MetricsFormat format) noexcept;

} // namespace trimtab
