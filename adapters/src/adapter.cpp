#include <trimtab/adapters/adapter.hpp>

#include <algorithm>

#include <boost/asio/post.hpp>

namespace trimtab {
namespace {

class AdapterCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "trimtab.adapter"; }

  std::string message(int value) const override {
    switch (static_cast<AdapterError>(value)) {
    case AdapterError::callback_failed: return "the host's callback failed";
    case AdapterError::http_status: return "HTTP status outside 2xx";
    case AdapterError::bad_response: return "unreadable response";
    case AdapterError::missing_param: return "a parameter is missing from the response";
    case AdapterError::bad_settings: return "settings do not match the adapter's parameters";
    case AdapterError::cannot_read: return "the adapter cannot read the running values";
    case AdapterError::refused: return "the service refuses this setting";
    case AdapterError::server_error: return "the service answered with an error";
    case AdapterError::process_failed: return "the command failed";
    case AdapterError::connection_failed: return "no connection to the service";
    }
    return "unknown adapter error";
  }
};

} // namespace

const boost::system::error_category& adapter_category() noexcept {
  static const AdapterCategory category;
  return category;
}

boost::system::error_code make_error_code(AdapterError error) noexcept {
  return {static_cast<int>(error), adapter_category()};
}

void Adapter::async_in_effect(Settings, in_effect_handler handler) {
  boost::asio::post(get_executor(), [handler = std::move(handler)] { handler(AdapterResult{}, InEffect{}); });
}

AdapterResult check_settings(const std::string& adapter, const std::vector<std::string>& params,
                             const Settings& settings) {
  const auto fail = [&](const std::string& what) {
    return AdapterResult{AdapterError::bad_settings, "adapter '" + adapter + "': " + what};
  };
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const auto& name = settings[i].first;
    if (std::find(params.begin(), params.end(), name) == params.end())
      return fail("parameter '" + name + "' is not one of its own");
    for (std::size_t j = 0; j < i; ++j)
      if (settings[j].first == name) return fail("two values for parameter '" + name + "'");
  }
  for (const auto& param : params)
    if (std::none_of(settings.begin(), settings.end(), [&](const auto& setting) { return setting.first == param; }))
      return fail("no value for parameter '" + param + "'");
  return {};
}

} // namespace trimtab
