#include <trimtab/agent/standalone_adapters.hpp>

#include <stdexcept>

#include <trimtab/adapters/http_adapter.hpp>
#include <trimtab/config/config_error.hpp>

namespace trimtab {

std::unique_ptr<Adapter> make_standalone_adapter(boost::asio::any_io_executor executor, const AdapterConfig& entry,
                                                 const std::string& config_file) {
  auto fail = [&](const std::string& message) -> ConfigError {
    return ConfigError(config_file, entry.line, entry.column, "adapter '" + entry.name + "': " + message);
  };
  try {
    switch (entry.kind) {
    case AdapterKind::http:
      return std::make_unique<HttpAdapter>(std::move(executor), entry.name, entry.params,
                                           HttpAdapter::from_options(entry.name, entry.options));
    case AdapterKind::callback:
      throw fail("kind callback calls into a host server; a standalone agent has none (embed trimtab, or use http)");
    default:
      throw fail("this kind is not available in this build yet");
    }
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }
}

} // namespace trimtab
