#include <trimtab/agent/standalone_adapters.hpp>

#include <filesystem>
#include <stdexcept>

#include <trimtab/adapters/command_adapter.hpp>
#include <trimtab/adapters/file_adapter.hpp>
#include <trimtab/adapters/http_adapter.hpp>
#include <trimtab/adapters/pgbouncer_adapter.hpp>
#include <trimtab/adapters/postgres_adapter.hpp>
#include <trimtab/adapters/redis_adapter.hpp>
#include <trimtab/config/config_error.hpp>

namespace trimtab {

std::unique_ptr<Adapter> make_standalone_adapter(boost::asio::any_io_executor executor, const AdapterConfig& entry,
                                                 const std::string& config_file) {
  // The adapters' own messages already start with "adapter 'name': "; others get it here.
  const std::string prefix = "adapter '" + entry.name + "': ";
  auto fail = [&](const std::string& message) -> ConfigError {
    return ConfigError(config_file, entry.line, entry.column, message.starts_with(prefix) ? message : prefix + message);
  };
  // Relative paths in an entry (a file, a program, a password file) count from the config's directory.
  const auto base_dir = std::filesystem::absolute(config_file).parent_path();
  const bool takes_lists = entry.kind == AdapterKind::file || entry.kind == AdapterKind::command;
  if (!takes_lists && !entry.lists.empty())
    throw fail("option '" + entry.lists.begin()->first + "' takes one value, not a list");
  try {
    switch (entry.kind) {
    case AdapterKind::http:
      return std::make_unique<HttpAdapter>(std::move(executor), entry.name, entry.params,
                                           HttpAdapter::from_options(entry.name, entry.options));
    case AdapterKind::redis:
      return std::make_unique<RedisAdapter>(std::move(executor), entry.name, entry.params,
                                            RedisAdapter::from_options(entry.name, entry.options));
    case AdapterKind::file:
      return std::make_unique<FileAdapter>(std::move(executor), entry.name, entry.params,
                                           FileAdapter::from_options(entry.name, entry.options, entry.lists, base_dir));
    case AdapterKind::command:
      return std::make_unique<CommandAdapter>(std::move(executor), entry.name, entry.params,
                                              CommandAdapter::from_options(entry.name, entry.options, entry.lists, base_dir));
    case AdapterKind::postgres: {
      auto options = PostgresAdapter::from_options(entry.name, entry.options);
      if (!options.password_file.empty()) options.password_file = (base_dir / options.password_file).string();
      return std::make_unique<PostgresAdapter>(std::move(executor), entry.name, entry.params, std::move(options));
    }
    case AdapterKind::pgbouncer: {
      auto options = PgBouncerAdapter::from_options(entry.name, entry.options);
      if (!options.password_file.empty()) options.password_file = (base_dir / options.password_file).string();
      return std::make_unique<PgBouncerAdapter>(std::move(executor), entry.name, entry.params, std::move(options));
    }
    case AdapterKind::callback:
      throw fail("kind callback calls into a host server; a standalone agent has none (embed trimtab, or use http)");
    }
    throw fail("this kind is not available in this build");
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }
}

} // namespace trimtab
