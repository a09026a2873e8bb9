#include <trimtab/adapters/callback_adapter.hpp>

#include <algorithm>
#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

#include "adapter_operation.hpp"
#include "adapter_options.hpp"

namespace trimtab {

struct CallbackAdapter::State : adapter_detail::AdapterIdentity {
  apply_function apply;
  current_function current;

  // What the apply callback answered: an answer without an error code is callback_failed, and
  // one without a message says what its code means.
  [[nodiscard]] AdapterResult host_failure(boost::system::error_code error, const std::string& what) const {
    if (!error) error = AdapterError::callback_failed;
    return failure(error, what.empty() ? error.message() : what);
  }

  [[nodiscard]] AdapterResult thrown(const char* operation) const {
    try {
      throw;
    } catch (const std::exception& e) {
      return failure(AdapterError::callback_failed, std::string(operation) + " threw: " + e.what());
    } catch (...) {
      return failure(AdapterError::callback_failed, std::string(operation) + " threw an exception");
    }
  }
};

CallbackAdapter::CallbackAdapter(boost::asio::any_io_executor executor, std::string name,
                                 std::vector<std::string> params, apply_function apply, current_function current,
                                 std::chrono::milliseconds timeout)
    : AdapterBase(std::move(executor), name, params, timeout, "a callback adapter") {
  if (!apply) adapter_detail::throw_invalid(name, "no apply callback");
  if (!current) adapter_detail::throw_invalid(name, "no current callback");
  if (timeout.count() <= 0) adapter_detail::throw_invalid(name, "the timeout must be positive");
  state_ = std::make_shared<const State>(State{{std::move(name), std::move(params)}, std::move(apply), std::move(current)});
}

void CallbackAdapter::async_apply(Settings settings, apply_handler handler) {
  boost::asio::post(get_executor(), [state = state_, settings = std::move(settings), handler = std::move(handler)]() mutable {
    auto result = check_settings(state->name, state->params, settings);
    if (result) {
      // The host sees its parameters in its own order, whatever order the caller used.
      Settings ordered;
      ordered.reserve(settings.size());
      for (const auto& param : state->params)
        for (auto& setting : settings)
          if (setting.first == param) ordered.push_back(std::move(setting));
      try {
        // A message without an error code is a failure too: successes carry no message.
        if (auto answer = state->apply(ordered); answer.error || !answer.message.empty())
          result = state->host_failure(answer.error, answer.message);
      } catch (...) {
        result = state->thrown("apply");
      }
    }
    handler(std::move(result));
  });
}

void CallbackAdapter::async_current(current_handler handler) {
  boost::asio::post(get_executor(), [state = state_, handler = std::move(handler)]() mutable {
    AdapterResult result;
    Settings current;
    try {
      auto reported = state->current();
      current.reserve(state->params.size());
      for (const auto& param : state->params) {
        auto found = std::find_if(reported.begin(), reported.end(), [&](const auto& setting) { return setting.first == param; });
        if (found == reported.end()) {
          result = state->failure(AdapterError::missing_param, "current did not report parameter '" + param + "'");
          current.clear();
          break;
        }
        current.emplace_back(param, std::move(found->second));
      }
    } catch (...) {
      result = state->thrown("current");
      current.clear();
    }
    handler(std::move(result), std::move(current));
  });
}

} // namespace trimtab
