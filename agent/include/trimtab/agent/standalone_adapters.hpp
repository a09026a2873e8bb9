#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter.hpp>
#include <trimtab/config/tuning_config.hpp>

namespace trimtab {

/// The adapter a standalone agent uses for one `adapters:` entry. Throws ConfigError located at the
/// entry for options the adapter rejects, for `callback` (which needs a host server to call into)
/// and for kinds this build cannot drive.
[[nodiscard]] std::unique_ptr<Adapter> make_standalone_adapter(boost::asio::any_io_executor executor,
                                                               const AdapterConfig& entry, const std::string& config_file);

} // namespace trimtab
