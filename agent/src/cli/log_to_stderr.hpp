#pragma once

#include <trimtab/agent/agent.hpp>

namespace trimtab::cli {

/// Log lines as "2026-11-24T03:41:07Z info  applied {...}", one per line on stderr, from `minimum`.
[[nodiscard]] LogSink log_to_stderr(LogLevel minimum);

} // namespace trimtab::cli
