#pragma once

// What every adapter does the same way with its configuration: refuse it naming the adapter, and
// read its `timeout` option. Internal to trimtab_adapters.

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace trimtab::adapter_detail {

/// Throws std::invalid_argument("adapter 'NAME': WHAT"): a configuration the adapter refuses.
[[noreturn]] void throw_invalid(const std::string& adapter, const std::string& what);

/// Reads the `timeout` key of `options` into `timeout` when it is there. Returns the problem
/// ("option 'timeout': …") for a value that is not a positive duration, for the caller to report
/// with its adapter's name.
[[nodiscard]] std::optional<std::string> read_timeout_option(const std::map<std::string, std::string>& options,
                                                             std::chrono::milliseconds& timeout);

} // namespace trimtab::adapter_detail
