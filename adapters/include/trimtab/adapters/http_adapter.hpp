#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {

struct HttpAdapterOptions {
  /// Where an apply sends the settings (required): http://host[:port]/path.
  std::string url{};
  /// How an apply sends them: PUT, POST or PATCH.
  std::string method = "PUT";
  /// Where a read of the current settings GETs them; empty means `url`.
  std::string current_url{};
  /// Bounds each apply and each read as a whole (connect, send, answer).
  std::chrono::milliseconds timeout{5000};
  /// Further headers sent with every request (an Authorization token, say).
  std::vector<std::pair<std::string, std::string>> headers{};
};

/// An adapter for a service with an HTTP admin endpoint that takes its settings as JSON.
///
/// An apply sends the owned parameters as one JSON object, {"pool_size": 20, "timeout_ms": 1200.5,
/// "policy": "lru"} (ints as integers, floats as numbers, labels as strings), with
/// options.method to options.url; a 2xx answer is a success, anything else a failure whose
/// message holds the status and the start of the body ("adapter 'app': PUT http://…: HTTP 400:
/// pool_size must be <= 64"). A read GETs options.current_url and takes each owned parameter from
/// the JSON object it answers with (other keys are ignored; a missing one is a failure naming it):
/// whole JSON integers as std::int64_t, other numbers as double, strings as strings.
///
/// Each request opens its own connection and is bounded by options.timeout; it completes on the
/// adapter's executor, which must be single-threaded (an io_context run by one thread, or a strand).
/// Destroying the adapter does not cancel requests in flight: they complete on their own.
class HttpAdapter final : public AdapterBase {
public:
  /// Throws std::invalid_argument naming the adapter for an empty name, a bad URL (https is not
  /// supported), a method other than PUT, POST or PATCH, or a timeout that is not positive.
  HttpAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
              HttpAdapterOptions options);

  /// The options of an `adapters:` entry of kind http, from its keys as written: `url` (required),
  /// `method` (PUT, POST or PATCH, in any case; default PUT), `current_url` (default: url) and
  /// `timeout` (a duration such as 5s or 500ms; default 5s). Throws std::invalid_argument naming
  /// the adapter and the key for an unknown key, a missing url or a bad value.
  [[nodiscard]] static HttpAdapterOptions from_options(const std::string& name,
                                                       const std::map<std::string, std::string>& options);

  /// The options in effect, with current_url filled in.
  [[nodiscard]] const HttpAdapterOptions& options() const noexcept;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  struct State;

  // Shared with the requests in flight, which may outlive the adapter.
  std::shared_ptr<const State> state_;
};

} // namespace trimtab
